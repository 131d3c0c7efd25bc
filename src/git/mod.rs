//! Git plumbing for the hosted repositories: layout, object reading and writing, history
//! rewriting, publishing refs and serving them over smart HTTP.

pub mod fast_import;
pub mod http_backend;
pub mod id_map;
pub mod ident;
pub mod large_files;
pub mod lfs;
pub mod maintenance;
pub mod objects;
pub mod pack;
pub mod publish;
pub mod push_size;
pub mod refs;
pub mod rewrite;
pub mod rewrite_resume;
pub mod tree_rewrite;

use std::io::Write;
use std::path::{Path, PathBuf};

use srcimport_converters::{git, process, Cancel, SourceError};

/// Inside a hosted repository: the Mercurial source's local copy.
pub const HG_CACHE_DIR: &str = "srcimport-hg";

/// The Subversion converter's checkpoint, inside the hosted repository (see
/// `svn::convert::checkpoint`).
pub const SVN_CHECKPOINT: &str = "srcimport-svn/checkpoint";

/// Inside a hosted repository: where a first import clones to before its packs move in.
pub const STAGING_DIR: &str = "srcimport-staging";

/// Raw notes (e.g. `hg` changeset ids), kept apart from the raw history they annotate.
pub const RAW_NOTES_NAMESPACE: &str = "refs/srcimport/notes/";

/// srcimport's own refs (raw and mapped history, notes): never shown to clients over
/// smart HTTP, never pushed to.
pub const HIDDEN_NAMESPACE: &str = "refs/srcimport";

/// Mapped (rewritten) refs wait here between mapping and pushing.
pub const MAPPED_NAMESPACE: &str = "refs/srcimport/mapped/";

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("malformed {kind} object {oid}: {detail}")]
    Malformed {
        kind: &'static str,
        oid: String,
        detail: String,
    },
}

impl GitError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GitError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Runs a local git command in `git_dir` to completion and returns its stdout.
pub fn run_git(
    git_dir: &Path,
    args: &[&str],
    stdin: Option<Vec<u8>>,
    cancel: &Cancel,
) -> Result<Vec<u8>, GitError> {
    let mut cmd = git::command(Some(git_dir));
    cmd.args(args);
    let what = format!("git {}", args.first().copied().unwrap_or_default());
    Ok(process::run_pipe_bound(cmd, stdin, cancel, |_| {})?
        .success_or(&what)?
        .stdout)
}

/// Creates the bare repository for a hosted repo, configured to hide srcimport's own refs
/// from clients and to refuse pushes over HTTP (the API enables them per request). Safe
/// to race: the repository is built beside its final path and renamed into place, so it
/// appears complete or not at all.
pub fn init_hosted(path: &Path) -> Result<(), GitError> {
    if path.join("HEAD").exists() {
        return Ok(());
    }
    let parent = path.parent().unwrap_or(path);
    std::fs::create_dir_all(parent).map_err(|e| GitError::io(parent, e))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let staging = parent.join(format!(
        ".init-{}-{}-{nanos}",
        std::process::id(),
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let built = build_hosted(&staging);
    let placed = built.and_then(|()| match std::fs::rename(&staging, path) {
        Ok(()) => Ok(()),
        Err(_) if path.join("HEAD").exists() => Ok(()),
        Err(e) => Err(GitError::io(path, e)),
    });
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    placed
}

fn build_hosted(path: &Path) -> Result<(), GitError> {
    let cancel = Cancel::new();
    let mut cmd = git::command(None);
    cmd.args(["init", "--bare", "--quiet", "--initial-branch=main"])
        .arg(path);
    process::run_pipe_bound(cmd, None, &cancel, |_| {})?.success_or("git init")?;
    // Appended in one write rather than one `git config` process per key.
    let config = path.join("config");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .map_err(|e| GitError::io(&config, e))?;
    file.write_all(HOSTED_CONFIG.as_bytes())
        .map_err(|e| GitError::io(&config, e))
}

/// Settings of every hosted repository: working refs hidden from clients (fetches and
/// pushes; pushes also get `receive.hideRefs` per request, for repositories created before
/// this setting), no pushes unless a request enables them, no automatic gc; large blobs streamed (cat-file, pack-objects) rather than held in memory,
/// and packs mapped in small windows, so reading a large blob stays bounded.
const HOSTED_CONFIG: &str = "[transfer]
	hideRefs = refs/srcimport
[http]
	receivepack = false
[gc]
	auto = 0
[core]
	bigFileThreshold = 32m
	packedGitWindowSize = 16m
	packedGitLimit = 64m
	logAllRefUpdates = false
";

/// Removes srcimport's working refs (raw and mapped history) from a hosted repository,
/// and what the Subversion converter and the mapping kept to resume from them; what was
/// published stays.
pub fn drop_work_refs(path: &Path) -> Result<(), GitError> {
    if !path.join("HEAD").exists() {
        return Ok(());
    }
    clear_stale_locks(path);
    let _ = std::fs::remove_dir_all(path.join(STAGING_DIR));
    let _ = std::fs::remove_file(path.join(SVN_CHECKPOINT));
    rewrite_resume::forget(path)?;
    refs::delete_refs(path, &["refs/srcimport/"], &Cancel::new())
}

/// Removes lock files a killed git process left behind (`refs/**/*.lock`,
/// `packed-refs.lock`). Safe because at most one run touches a repository at a time.
pub fn clear_stale_locks(path: &Path) {
    let _ = std::fs::remove_file(path.join("packed-refs.lock"));
    let mut dirs = vec![path.join("refs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let entry_path = entry.path();
            if entry_path.is_dir() {
                dirs.push(entry_path);
            } else if entry_path.extension().is_some_and(|e| e == "lock") {
                let _ = std::fs::remove_file(&entry_path);
            }
        }
    }
}

/// Streams a git command's stdout record by record (split at `delimiter`) into `each`,
/// without holding it all; `each` returns false to stop early.
pub fn for_each_record(
    git_dir: &Path,
    args: &[&str],
    delimiter: u8,
    cancel: &Cancel,
    mut each: impl FnMut(&[u8]) -> bool,
) -> Result<(), GitError> {
    use std::io::{BufRead, BufReader};
    let mut cmd = git::command(Some(git_dir));
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    process::group(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| GitError::io("git", e))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| GitError::io("git", std::io::ErrorKind::BrokenPipe.into()))?;
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut record = Vec::new();
    let mut stopped_early = false;
    loop {
        record.clear();
        let n = reader
            .read_until(delimiter, &mut record)
            .map_err(|e| GitError::io("git", e))?;
        if n == 0 {
            break;
        }
        if cancel.is_cancelled() {
            process::kill_group(&mut child);
            let _ = child.wait();
            return Err(SourceError::Cancelled.into());
        }
        let body = record.strip_suffix(&[delimiter]).unwrap_or(&record);
        if !each(body) {
            stopped_early = true;
            break;
        }
    }
    if stopped_early {
        process::kill_group(&mut child);
    }
    let status = child.wait().map_err(|e| GitError::io("git", e))?;
    if !status.success() && !stopped_early {
        return Err(SourceError::Command {
            command: format!("git {}", args.first().copied().unwrap_or_default()),
            detail: status.to_string(),
        }
        .into());
    }
    Ok(())
}

/// [`for_each_record`] by lines, as text.
pub fn for_each_line(
    git_dir: &Path,
    args: &[&str],
    cancel: &Cancel,
    mut each: impl FnMut(&str) -> bool,
) -> Result<(), GitError> {
    for_each_record(git_dir, args, b'\n', cancel, |line| {
        each(&String::from_utf8_lossy(line))
    })
}
