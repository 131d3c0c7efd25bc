//! Writing new objects as one packfile (indexed by `git index-pack`) instead of thousands
//! of loose files: a rewrite of a long history costs one file and one index.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::{write::ZlibEncoder, Compression};
use sha1::{Digest, Sha1};
use srcimport_converters::Cancel;

use super::objects::{hash_object, hex};
use super::{run_git, GitError};

/// Git's pack type numbers.
fn type_code(kind: &str) -> Option<u8> {
    match kind {
        "commit" => Some(1),
        "tree" => Some(2),
        "blob" => Some(3),
        "tag" => Some(4),
        _ => None,
    }
}

/// An open packfile being filled with whole (undeltified) objects.
pub struct PackWriter {
    git_dir: PathBuf,
    path: PathBuf,
    /// `None` once finished.
    file: Option<BufWriter<File>>,
    count: u32,
}

impl PackWriter {
    pub fn create(git_dir: &Path) -> Result<PackWriter, GitError> {
        let dir = git_dir.join("objects/pack");
        fs::create_dir_all(&dir).map_err(|e| GitError::io(&dir, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = dir.join(format!("tmp_srcimport_{}_{nanos}.pack", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| GitError::io(&path, e))?;
        let mut file = BufWriter::with_capacity(1 << 20, file);
        file.write_all(b"PACK\0\0\0\x02\0\0\0\0")
            .map_err(|e| GitError::io(&path, e))?;
        Ok(PackWriter {
            git_dir: git_dir.to_owned(),
            path,
            file: Some(file),
            count: 0,
        })
    }

    /// Appends one object and returns its id.
    pub fn write(&mut self, kind: &str, body: &[u8]) -> Result<String, GitError> {
        let code = type_code(kind).ok_or_else(|| GitError::Malformed {
            kind: "pack",
            oid: String::new(),
            detail: format!("unknown object type {kind}"),
        })?;
        let oid = hash_object(kind, body);
        let mut header = Vec::with_capacity(10);
        let mut size = body.len();
        let mut byte = (code << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            header.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        header.push(byte);
        let io = |e| GitError::io(&self.path, e);
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io(std::io::ErrorKind::BrokenPipe.into()))?;
        file.write_all(&header).map_err(io)?;
        let mut encoder = ZlibEncoder::new(file, Compression::fast());
        encoder.write_all(body).map_err(io)?;
        encoder.finish().map_err(io)?;
        self.count += 1;
        Ok(oid)
    }

    /// Seals the pack (count, trailer checksum), names it `pack-<sum>.pack` and indexes it.
    /// An empty pack is simply removed.
    pub fn finish(mut self, cancel: &Cancel) -> Result<(), GitError> {
        let path = self.path.clone();
        let io = |e| GitError::io(&path, e);
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let mut file = file.into_inner().map_err(|e| io(e.into_error()))?;
        if self.count == 0 {
            drop(file);
            return fs::remove_file(&path).map_err(io);
        }
        file.seek(SeekFrom::Start(8)).map_err(io)?;
        file.write_all(&self.count.to_be_bytes()).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut hasher = Sha1::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let sum = hasher.finalize();
        file.write_all(&sum).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        let final_path = path.with_file_name(format!("pack-{}.pack", hex(&sum)));
        fs::rename(&path, &final_path).map_err(|e| GitError::io(&final_path, e))?;
        let pack = final_path.to_string_lossy().into_owned();
        run_git(&self.git_dir, &["index-pack", &pack], None, cancel)?;
        Ok(())
    }
}

impl Drop for PackWriter {
    fn drop(&mut self) {
        // A pack dropped before `finish` is incomplete: remove it.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::objects::ObjectReader;

    #[test]
    fn packed_objects_are_readable_by_git() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let mut pack = PackWriter::create(&repo).expect("creates");
        let small = pack.write("blob", b"hello\n").expect("writes");
        let big_body = vec![b'x'; 100_000];
        let big = pack.write("blob", &big_body).expect("writes");
        pack.finish(&Cancel::new()).expect("finishes");
        assert_eq!(small, "ce013625030ba8dba906f756967f9e9ca394464a");
        let mut reader = ObjectReader::start(&repo).expect("reader");
        assert_eq!(reader.read(&big).expect("reads").body, big_body);
        let leftovers: Vec<_> = fs::read_dir(repo.join("objects/pack"))
            .expect("pack dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("tmp_"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
