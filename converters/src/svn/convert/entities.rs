//! Branches, tags and the rest of the repository as the converter tracks them: each one's
//! lives (created, maybe deleted, maybe created again) and the commits made in each.

use serde::{Deserialize, Serialize};

use super::layout::RootKind;
use super::revprops::RevisionInfo;

/// What a tracked directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityKind {
    Root(RootKind),
    /// Everything outside the layout's roots, kept on a hidden ref so copies from there work.
    Outside,
}

/// One stretch of time in which a root existed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Life {
    /// The fast-import ref this life's commits are written to.
    pub work_ref: String,
    pub created: u64,
    pub deleted: Option<u64>,
    /// The commit it was copied from, if it began as a copy.
    pub origin: Option<u64>,
    /// `(revision, mark)` of every commit made on it, in order.
    pub commits: Vec<(u64, u64)>,
    /// The revision that created it (a tag's tagger and message).
    pub creation: RevisionInfo,
    /// Per merge source root, the revision up to which its history is already an ancestor
    /// (through the copy this life began with, or an earlier merge).
    pub merged_upto: std::collections::BTreeMap<String, u64>,
}

impl Life {
    /// The commit this life shows at the end of `revision`.
    pub fn at(&self, revision: u64) -> Option<u64> {
        self.commits
            .iter()
            .rev()
            .find(|(r, _)| *r <= revision)
            .map(|(_, m)| *m)
            .or(self.origin)
    }

    /// The newest commit.
    pub fn tip(&self) -> Option<u64> {
        self.commits.last().map(|(_, m)| *m).or(self.origin)
    }

    /// Where a tag points: the commit made when it was created, or the commit it copied.
    pub fn root(&self) -> Option<u64> {
        match self.commits.first() {
            Some((r, m)) if *r == self.created => Some(*m),
            _ => self.origin,
        }
    }

    /// Committed to after the revision that created it.
    pub fn changed_after_creation(&self) -> bool {
        self.commits.iter().any(|(r, _)| *r > self.created)
    }

    pub fn alive_at(&self, revision: u64) -> bool {
        self.created <= revision && self.deleted.is_none_or(|d| d > revision)
    }
}

/// A root (or the outside) and its lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entity {
    pub kind: EntityKind,
    /// The Git-side name before sanitising (`""` for trunk and the outside).
    pub name: String,
    pub lives: Vec<Life>,
}

impl Entity {
    pub fn new(kind: EntityKind, name: &str) -> Entity {
        Entity {
            kind,
            name: name.to_owned(),
            lives: Vec::new(),
        }
    }

    /// The life that existed at the end of `revision`.
    pub fn life_at(&self, revision: u64) -> Option<&Life> {
        self.lives.iter().rev().find(|l| l.alive_at(revision))
    }

    /// The life that exists now.
    pub fn alive(&self) -> Option<&Life> {
        self.lives.last().filter(|l| l.deleted.is_none())
    }

    pub fn alive_mut(&mut self) -> Option<&mut Life> {
        self.lives.last_mut().filter(|l| l.deleted.is_none())
    }
}
