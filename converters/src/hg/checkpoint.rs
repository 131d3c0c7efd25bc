//! What an export converted, kept between runs so a sync exports only new changesets: the
//! node and Git commit of every converted revision, and the totals only a full read of
//! the manifests and files would give again (large blobs, notices). Versioned; anything
//! unreadable or out of date is ignored (a full export follows).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::repo::Repository;

/// Bumped whenever the export's output or this format changes: an older checkpoint is then
/// ignored, and the next run converts everything again.
const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    version: u32,
    /// The large-file threshold the large blobs were collected with.
    pub large_file_threshold: u64,
    /// `(changeset node, Git commit)` in hex, by revision number.
    pub converted: Vec<(String, String)>,
    /// Git blob id → size, of every converted file content over the threshold.
    pub large_blobs: BTreeMap<String, u64>,
    /// The notices the converted changesets gave (subrepositories, largefiles).
    pub notices: Vec<String>,
}

impl Checkpoint {
    pub fn new(
        large_file_threshold: u64,
        converted: Vec<(String, String)>,
        large_blobs: BTreeMap<String, u64>,
        notices: Vec<String>,
    ) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            large_file_threshold,
            converted,
            large_blobs,
            notices,
        }
    }

    /// The checkpoint at `path`, if there is one of this version that parses.
    pub fn load(path: &Path) -> Option<Checkpoint> {
        crate::checkpoint::load::<Checkpoint>(path).filter(|c| c.version == VERSION)
    }

    /// Writes the checkpoint to `path` atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        crate::checkpoint::save(self, path)
    }

    /// Whether `repo` still starts with every converted changeset, in the same order,
    /// and the export would use the same threshold: then only what follows is new.
    pub fn continues_in(&self, repo: &Repository, large_file_threshold: u64) -> bool {
        let changelog = repo.changelog().revlog();
        self.large_file_threshold == large_file_threshold
            && changelog.len() >= self.converted.len()
            && self.converted.iter().enumerate().all(|(rev, (node, _))| {
                u32::try_from(rev)
                    .ok()
                    .and_then(|rev| changelog.node(rev).ok())
                    .is_some_and(|n| n.to_hex() == *node)
            })
    }
}
