//! Reading objects through `git cat-file --batch` and writing loose objects directly.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use sha1::{Digest, Sha1};
use srcimport_converters::{git, process};

use super::GitError;

/// One object as `cat-file --batch` returns it.
pub struct RawObject {
    pub oid: String,
    pub kind: String,
    pub body: Vec<u8>,
}

/// Kills the wrapped children when dropped, so an abandoned walk leaves no process behind.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if matches!(child.try_wait(), Ok(None)) {
                process::kill_group(child);
            }
            let _ = child.wait();
        }
    }
}

fn spawn_err(what: &str, e: std::io::Error) -> GitError {
    GitError::Io {
        path: PathBuf::from(what),
        source: e,
    }
}

/// Reads one `cat-file --batch` record from `out`; `None` at end of stream.
fn read_record(out: &mut impl BufRead) -> Result<Option<RawObject>, GitError> {
    let mut header = String::new();
    let n = out
        .read_line(&mut header)
        .map_err(|e| spawn_err("git cat-file", e))?;
    if n == 0 {
        return Ok(None);
    }
    let mut fields = header.split_whitespace();
    let oid = fields.next().unwrap_or_default().to_owned();
    let kind = fields.next().unwrap_or_default().to_owned();
    let size: usize = match fields.next().and_then(|s| s.parse().ok()) {
        Some(size) => size,
        None => {
            return Err(GitError::Malformed {
                kind: "batch",
                oid,
                detail: format!("unexpected cat-file header {:?}", header.trim_end()),
            })
        }
    };
    let mut body = vec![0u8; size];
    out.read_exact(&mut body)
        .map_err(|e| spawn_err("git cat-file", e))?;
    let mut newline = [0u8; 1];
    out.read_exact(&mut newline)
        .map_err(|e| spawn_err("git cat-file", e))?;
    Ok(Some(RawObject { oid, kind, body }))
}

/// Every commit reachable from the given rev-list arguments (add `--reverse --topo-order`
/// for parents before children), streamed from `git rev-list | git cat-file --batch` with
/// nothing held but the current one.
pub struct CommitWalk {
    output: BufReader<ChildStdout>,
    _children: Children,
}

impl CommitWalk {
    pub fn start(git_dir: &Path, rev_args: &[&str]) -> Result<CommitWalk, GitError> {
        let mut rev_list = git::command(Some(git_dir));
        rev_list
            .arg("rev-list")
            .args(rev_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        process::group(&mut rev_list);
        let mut rev_list = rev_list.spawn().map_err(|e| spawn_err("git rev-list", e))?;
        let oids = rev_list
            .stdout
            .take()
            .map(Stdio::from)
            .unwrap_or_else(Stdio::null);
        let mut cat_file = git::command(Some(git_dir));
        cat_file
            .args(["cat-file", "--batch"])
            .stdin(oids)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        process::group(&mut cat_file);
        let mut cat_file = cat_file.spawn().map_err(|e| spawn_err("git cat-file", e))?;
        let output = cat_file
            .stdout
            .take()
            .map(|out| BufReader::with_capacity(1 << 16, out))
            .ok_or_else(|| spawn_err("git cat-file", std::io::ErrorKind::BrokenPipe.into()))?;
        Ok(CommitWalk {
            output,
            _children: Children(vec![rev_list, cat_file]),
        })
    }

    pub fn next_commit(&mut self) -> Result<Option<RawObject>, GitError> {
        read_record(&mut self.output)
    }
}

/// Random access to objects through one long-lived `git cat-file --batch`.
pub struct ObjectReader {
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    _children: Children,
}

impl ObjectReader {
    pub fn start(git_dir: &Path) -> Result<ObjectReader, GitError> {
        let mut cmd = git::command(Some(git_dir));
        cmd.args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        process::group(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| spawn_err("git cat-file", e))?;
        let broken = || spawn_err("git cat-file", std::io::ErrorKind::BrokenPipe.into());
        let input = child.stdin.take().ok_or_else(broken)?;
        let output = child.stdout.take().map(BufReader::new).ok_or_else(broken)?;
        Ok(ObjectReader {
            input,
            output,
            _children: Children(vec![child]),
        })
    }

    pub fn read(&mut self, oid: &str) -> Result<RawObject, GitError> {
        writeln!(self.input, "{oid}").map_err(|e| spawn_err("git cat-file", e))?;
        self.input
            .flush()
            .map_err(|e| spawn_err("git cat-file", e))?;
        read_record(&mut self.output)?.ok_or_else(|| GitError::Malformed {
            kind: "batch",
            oid: oid.to_owned(),
            detail: "cat-file ended early".into(),
        })
    }
}

/// The object id `body` has as a `kind` object (new objects are written by
/// [`super::pack::PackWriter`]).
pub fn hash_object(kind: &str, body: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("{kind} {}\0", body.len()).as_bytes());
    hasher.update(body);
    hex(&hasher.finalize())
}

/// Lowercase hexadecimal of an object id.
pub use srcimport_converters::hex::encode as hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_reads_match_git() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let cancel = srcimport_converters::Cancel::new();
        let written = crate::git::run_git(
            &repo,
            &["hash-object", "-w", "--stdin"],
            Some(b"hello\n".to_vec()),
            &cancel,
        )
        .expect("git hash-object");
        let oid = hash_object("blob", b"hello\n");
        assert_eq!(oid, "ce013625030ba8dba906f756967f9e9ca394464a");
        assert_eq!(String::from_utf8_lossy(&written).trim(), oid);
        let mut reader = ObjectReader::start(&repo).expect("starts");
        let object = reader.read(&oid).expect("reads");
        assert_eq!(
            (object.kind.as_str(), object.body.as_slice()),
            ("blob", &b"hello\n"[..])
        );
    }
}
