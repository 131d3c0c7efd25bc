//! The Git LFS object store of a hosted repository: content-addressed by sha256 under
//! `{repo}.git/lfs/objects/aa/bb/<oid>`, written atomically (temp file, fsync, rename),
//! and filled from Git blobs by streaming, never holding a file in memory.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use sha2::{Digest, Sha256};
use srcimport_converters::{git as git_source, process, Cancel, SourceError};

use super::objects::hex;
use super::GitError;

/// The pointer file Git stores in place of a large file.
pub fn pointer(oid: &str, size: u64) -> String {
    format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n")
}

/// True for a well-formed sha256 object id (64 lowercase hex digits).
pub fn valid_oid(oid: &str) -> bool {
    oid.len() == 64 && oid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub struct LfsStore {
    root: PathBuf,
}

impl LfsStore {
    /// The store inside a hosted repository's directory.
    pub fn for_repo(git_dir: &Path) -> LfsStore {
        LfsStore {
            root: git_dir.join("lfs"),
        }
    }

    /// Where the object `oid` lives (whether or not it exists yet).
    pub fn object_path(&self, oid: &str) -> PathBuf {
        self.root
            .join("objects")
            .join(&oid[..2])
            .join(&oid[2..4])
            .join(oid)
    }

    /// Whether the store holds any object (a source on LFS, or an `opt_in` conversion).
    pub fn has_objects(&self) -> bool {
        std::fs::read_dir(self.root.join("objects"))
            .is_ok_and(|mut entries| entries.next().is_some())
    }

    pub fn contains(&self, oid: &str) -> bool {
        valid_oid(oid) && self.object_path(oid).is_file()
    }

    /// A fresh temporary path inside the store, on the same filesystem as the objects.
    pub fn temp_path(&self) -> Result<PathBuf, GitError> {
        let dir = self.root.join("tmp");
        fs::create_dir_all(&dir).map_err(|e| GitError::io(&dir, e))?;
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random)
            .map_err(|e| GitError::io(&dir, std::io::Error::other(e.to_string())))?;
        Ok(dir.join(hex(&random)))
    }

    /// Moves a verified temporary file into place as object `oid`.
    pub fn commit_temp(&self, temp: &Path, oid: &str) -> Result<(), GitError> {
        let target = self.object_path(oid);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| GitError::io(parent, e))?;
        }
        fs::rename(temp, &target).map_err(|e| GitError::io(&target, e))
    }

    /// Stores Git blob `blob_oid` as an LFS object and returns `(sha256, size)`. A blob
    /// stored before is recognised by its Git id without being read again.
    pub fn store_blob(
        &self,
        git_dir: &Path,
        blob_oid: &str,
        cancel: &Cancel,
    ) -> Result<(String, u64), GitError> {
        let known = self.root.join("by-git-oid").join(blob_oid);
        if let Ok(text) = fs::read_to_string(&known) {
            if let Some((oid, size)) = text.trim().split_once(' ') {
                if let Ok(size) = size.parse() {
                    if self.contains(oid) {
                        return Ok((oid.to_owned(), size));
                    }
                }
            }
        }
        let temp = self.temp_path()?;
        let result = self.stream_blob(git_dir, blob_oid, &temp, cancel);
        let (oid, size) = match result {
            Ok(done) => done,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        };
        if self.contains(&oid) {
            let _ = fs::remove_file(&temp);
        } else {
            self.commit_temp(&temp, &oid)?;
        }
        let dir = self.root.join("by-git-oid");
        fs::create_dir_all(&dir).map_err(|e| GitError::io(&dir, e))?;
        let staged = self.temp_path()?;
        fs::write(&staged, format!("{oid} {size}\n")).map_err(|e| GitError::io(&staged, e))?;
        fs::rename(&staged, &known).map_err(|e| GitError::io(&known, e))?;
        Ok((oid, size))
    }

    fn stream_blob(
        &self,
        git_dir: &Path,
        blob_oid: &str,
        temp: &Path,
        cancel: &Cancel,
    ) -> Result<(String, u64), GitError> {
        let mut cmd = git_source::command(Some(git_dir));
        cmd.args(["cat-file", "blob", blob_oid])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        process::contain(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| GitError::io("git cat-file", e))?;
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| GitError::io("git cat-file", std::io::ErrorKind::BrokenPipe.into()))?;
        let mut file = File::create(temp).map_err(|e| GitError::io(temp, e))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            if cancel.is_cancelled() {
                process::kill_group(&mut child);
                let _ = child.wait();
                return Err(SourceError::Cancelled.into());
            }
            let n = stdout.read(&mut buf).map_err(|e| GitError::io(temp, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])
                .map_err(|e| GitError::io(temp, e))?;
            size += n as u64;
        }
        let status = child.wait().map_err(|e| GitError::io("git cat-file", e))?;
        if !status.success() {
            return Err(SourceError::Command {
                command: "git cat-file".into(),
                detail: format!("cannot read blob {blob_oid}"),
            }
            .into());
        }
        file.sync_all().map_err(|e| GitError::io(temp, e))?;
        Ok((hex(&hasher.finalize()), size))
    }
}
