//! What an export converted, kept between runs so a sync exports only new changesets: the
//! node and Git commit of every converted revision, and the totals only a full read of
//! the manifests and files would give again (large blobs, notices). Versioned; anything
//! unreadable or out of date is ignored (a full export follows).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::repo::Repository;
use super::Node;

/// Bumped whenever the export's output or this format changes: an older checkpoint is then
/// ignored, and the next run converts everything again.
const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    version: u32,
    /// The large-file threshold the large blobs were collected with.
    pub large_file_threshold: u64,
    /// `(changeset node, Git commit, branch, Git identity)` by revision number, the node
    /// and commit in hex, the branch and identity as indexes into `branches` and
    /// `identities`.
    converted: Vec<(String, String, u32, u32)>,
    branches: Vec<String>,
    identities: Vec<String>,
    /// Git identity → the user string it was first written for.
    pub users: BTreeMap<String, String>,
    /// Git blob id → size, of every converted file content over the threshold.
    pub large_blobs: BTreeMap<String, u64>,
    /// The notices the converted changesets gave (subrepositories, largefiles).
    pub notices: Vec<String>,
}

/// What a checkpoint knows of one converted changeset.
pub struct Converted<'a> {
    pub branch: &'a str,
    pub identity: &'a str,
}

/// What an export found, for [`Checkpoint::new`]: each revision's node, branch and
/// identity, the users, large blobs and notices.
pub struct Exported<'a> {
    pub nodes: &'a [Node],
    pub branch_of: &'a [String],
    pub identity_of: &'a [String],
    pub users: &'a BTreeMap<String, String>,
    pub large_blobs: &'a BTreeMap<String, u64>,
    pub notices: &'a [String],
}

impl Checkpoint {
    /// The checkpoint of an export, with `commit_of(revision)` the Git commit of each.
    pub fn new(
        large_file_threshold: u64,
        exported: Exported<'_>,
        mut commit_of: impl FnMut(usize) -> Option<String>,
    ) -> Option<Checkpoint> {
        let mut branches = Interned::default();
        let mut identities = Interned::default();
        let mut converted = Vec::with_capacity(exported.nodes.len());
        for (rev, node) in exported.nodes.iter().enumerate() {
            converted.push((
                node.to_hex(),
                commit_of(rev)?,
                branches.index(exported.branch_of.get(rev)?),
                identities.index(exported.identity_of.get(rev)?),
            ));
        }
        Some(Checkpoint {
            version: VERSION,
            large_file_threshold,
            converted,
            branches: branches.names,
            identities: identities.names,
            users: exported.users.clone(),
            large_blobs: exported.large_blobs.clone(),
            notices: exported.notices.to_vec(),
        })
    }

    /// `(revision + 1, commit)`: the fast-import marks of the converted changesets.
    pub fn marks(&self) -> impl Iterator<Item = (u64, &str)> {
        self.converted
            .iter()
            .enumerate()
            .map(|(rev, (_, commit, _, _))| (rev as u64 + 1, commit.as_str()))
    }

    /// What the checkpoint knows of `revision`, if it was converted.
    pub fn revision(&self, revision: u32) -> Option<Converted<'_>> {
        let (_, _, branch, identity) = self.converted.get(revision as usize)?;
        Some(Converted {
            branch: self.branches.get(*branch as usize)?,
            identity: self.identities.get(*identity as usize)?,
        })
    }

    /// How many changesets were converted.
    pub fn len(&self) -> usize {
        self.converted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.converted.is_empty()
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
            && self.converted.iter().enumerate().all(|(rev, (node, ..))| {
                u32::try_from(rev)
                    .ok()
                    .and_then(|rev| changelog.node(rev).ok())
                    .is_some_and(|n| n.to_hex() == *node)
            })
    }
}

/// Names stored once, referred to by index.
#[derive(Default)]
struct Interned {
    names: Vec<String>,
    index_of: std::collections::HashMap<String, u32>,
}

impl Interned {
    fn index(&mut self, name: &str) -> u32 {
        if let Some(index) = self.index_of.get(name) {
            return *index;
        }
        let index = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index_of.insert(name.to_owned(), index);
        index
    }
}
