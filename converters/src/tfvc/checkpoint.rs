//! What a TFVC conversion keeps between runs so a sync reads and converts only the
//! changesets after the last one converted: the converter's state, the object ids of the
//! marks it refers to, and the notes commit to go on from. Versioned; one made with other
//! settings, unreadable or out of date is ignored (a full conversion follows).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::convert::{ConvertOptions, ConverterState};
use super::reader::BranchInfo;

/// Bumped whenever the converter's output or this format changes.
const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    version: u32,
    /// The collection's URL: another collection's project of the same name is another
    /// history.
    collection: String,
    project: String,
    main_branch: String,
    large_file_threshold: u64,
    pub state: ConverterState,
    /// `(mark, object id)` of every mark the state refers to.
    pub marks: Vec<(u64, String)>,
    /// The notes commit holding every note the state no longer holds.
    pub notes_base: Option<String>,
}

impl Checkpoint {
    pub fn new(
        collection: &str,
        options: &ConvertOptions,
        state: ConverterState,
        marks: Vec<(u64, String)>,
        notes_base: Option<String>,
    ) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            collection: collection.to_owned(),
            project: options.project.clone(),
            main_branch: options.main_branch.clone(),
            large_file_threshold: options.large_file_threshold,
            state,
            marks,
            notes_base,
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

    /// Whether a conversion of `collection` with `options` and the `branches` listed can
    /// go on from here: same source and settings, and the branches fit the state (the
    /// caller checks that the last changeset converted is still in the history).
    pub fn continues(
        &self,
        collection: &str,
        options: &ConvertOptions,
        branches: &[BranchInfo],
    ) -> bool {
        self.collection == collection
            && self.project == options.project
            && self.main_branch == options.main_branch
            && self.large_file_threshold == options.large_file_threshold
            && self.state.continues_with(&options.project, branches)
    }
}
