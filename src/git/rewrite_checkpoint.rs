//! What the last rewrite did, kept in the hosted repository so the next one (a sync) rewrites
//! only the commits that are new: a fingerprint of its inputs (the author map and the large
//! files' treatment), the raw tips it covered, and its old → new commit ids. A checkpoint
//! that is missing, damaged or made under other inputs is ignored: the rewrite starts over.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::id_map::IdMap;
use super::objects::hex;
use super::rewrite::AuthorMap;
use super::tree_rewrite::LargeFiles;
use super::GitError;

const FILE: &str = "srcimport-rewrite";
const VERSION: u32 = 1;

/// The header line; the old → new ids follow it as 40-byte records.
#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
    fingerprint: String,
    raw_tips: Vec<String>,
}

/// A finished rewrite's inputs, coverage and results.
#[derive(Debug, Default)]
pub struct RewriteCheckpoint {
    pub fingerprint: String,
    /// Every raw ref's target when the rewrite ran.
    pub raw_tips: Vec<String>,
    pub ids: IdMap,
}

fn path(git_dir: &Path) -> PathBuf {
    git_dir.join(FILE)
}

/// What decides a rewrite's output besides the history: the author map and what happens
/// to which large blobs.
pub fn fingerprint(map: &AuthorMap, large: &LargeFiles<'_>) -> String {
    let mut hasher = Sha256::new();
    for (raw, replacement) in map.sorted_entries() {
        hasher.update(raw.as_bytes());
        hasher.update([0]);
        hasher.update(replacement);
        hasher.update([0]);
    }
    let (mode, blobs) = large.fingerprint_parts();
    hasher.update(mode.as_bytes());
    for blob in blobs {
        hasher.update(blob.as_bytes());
    }
    hex(&hasher.finalize())
}

impl RewriteCheckpoint {
    /// The checkpoint the last rewrite left, if it is there and readable.
    pub fn load(git_dir: &Path) -> Option<RewriteCheckpoint> {
        let mut input = BufReader::new(std::fs::File::open(path(git_dir)).ok()?);
        let mut line = String::new();
        input.read_line(&mut line).ok()?;
        let header: Header = serde_json::from_str(&line).ok()?;
        if header.version != VERSION {
            return None;
        }
        let mut records = Vec::new();
        input.read_to_end(&mut records).ok()?;
        if records.len() % 40 != 0 {
            return None;
        }
        let mut ids = IdMap::default();
        for record in records.chunks_exact(40) {
            let (old, new) = record.split_at(20);
            ids.insert_binary(old.try_into().ok()?, new.try_into().ok()?);
        }
        Some(RewriteCheckpoint {
            fingerprint: header.fingerprint,
            raw_tips: header.raw_tips,
            ids,
        })
    }

    /// Writes the checkpoint (atomically: a reader sees the old one or the new one).
    pub fn save(&self, git_dir: &Path) -> Result<(), GitError> {
        let header = Header {
            version: VERSION,
            fingerprint: self.fingerprint.clone(),
            raw_tips: self.raw_tips.clone(),
        };
        let target = path(git_dir);
        let staged = git_dir.join(format!("{FILE}.{}.tmp", std::process::id()));
        let io = |e: std::io::Error| GitError::io(&target, e);
        {
            let file = std::fs::File::create(&staged).map_err(io)?;
            let mut out = std::io::BufWriter::new(file);
            serde_json::to_writer(&mut out, &header).map_err(|e| io(std::io::Error::other(e)))?;
            out.write_all(b"\n").map_err(io)?;
            for (old, new) in self.ids.entries() {
                out.write_all(old).map_err(io)?;
                out.write_all(new).map_err(io)?;
            }
            out.flush().map_err(io)?;
        }
        std::fs::rename(&staged, &target).map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_checkpoint_reads_back_and_a_damaged_one_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(RewriteCheckpoint::load(dir.path()).is_none());
        let mut ids = IdMap::default();
        ids.insert(&"a".repeat(40), &"b".repeat(40)).expect("ids");
        let saved = RewriteCheckpoint {
            fingerprint: "f".into(),
            raw_tips: vec!["c".repeat(40)],
            ids,
        };
        saved.save(dir.path()).expect("saves");
        let loaded = RewriteCheckpoint::load(dir.path()).expect("loads");
        assert_eq!(loaded.fingerprint, "f");
        assert_eq!(loaded.raw_tips, saved.raw_tips);
        assert_eq!(loaded.ids.get(&"a".repeat(40)), Some("b".repeat(40)));
        // A torn record: the whole checkpoint is ignored.
        let mut bytes = std::fs::read(path(dir.path())).expect("reads");
        bytes.push(7);
        std::fs::write(path(dir.path()), &bytes).expect("writes");
        assert!(RewriteCheckpoint::load(dir.path()).is_none());
        std::fs::write(path(dir.path()), "not json\n").expect("writes");
        assert!(RewriteCheckpoint::load(dir.path()).is_none());
    }

    #[test]
    fn fingerprints_follow_the_author_map_and_the_large_files() {
        let empty = AuthorMap::default();
        let mut mapped = AuthorMap::default();
        mapped.insert("a <a@x>", "A <a@example.com>".into());
        let blobs: HashSet<String> = ["d".repeat(40)].into_iter().collect();
        let keep = fingerprint(&empty, &LargeFiles::Keep);
        assert_eq!(keep, fingerprint(&AuthorMap::default(), &LargeFiles::Keep));
        assert_ne!(keep, fingerprint(&mapped, &LargeFiles::Keep));
        assert_ne!(keep, fingerprint(&empty, &LargeFiles::Drop(blobs.clone())));
        assert_ne!(
            fingerprint(&empty, &LargeFiles::Drop(blobs)),
            fingerprint(&empty, &LargeFiles::Drop(HashSet::new()))
        );
    }
}
