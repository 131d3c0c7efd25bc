//! The converter's state after its last revision, kept so a sync converts only the revisions
//! that came after it: saved as versioned JSON (written atomically) with what identifies the
//! source and the options, and the object ids of every fast-import mark the state names (a
//! session that carries on names those objects by id: see [`MarkIds`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::fast_export::MarkIds;

use super::entities::Entity;
use super::history::PathFacts;
use super::properties::Ignores;
use super::revprops::RevisionInfo;
use super::text_cache::TextCache;
use super::{ConvertOptions, ConvertSummary, Key};

/// The checkpoint format; a file of another version is ignored (a full conversion follows).
pub const CHECKPOINT_VERSION: u32 = 1;

/// What the converter carries from one revision to the next (everything but caches, the
/// text cache in memory only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub(super) entities: BTreeMap<String, Entity>,
    pub(super) outside: Entity,
    pub(super) modes: PathFacts<u32>,
    pub(super) eols: PathFacts<Vec<u8>>,
    pub(super) ignores: PathFacts<Ignores>,
    pub(super) mergeinfo: PathFacts<String>,
    pub(super) next_work_ref: u64,
    pub(super) next_mark: u64,
    pub(super) large: Vec<(String, u64, u64)>,
    /// Commits still waiting for their note (a batch not yet full).
    pub(super) notes: Vec<(u64, u64, Key)>,
    /// The notes commit that closed the last full batch: the next batch's parent.
    pub(super) notes_base: Option<u64>,
    pub(super) last_time: i64,
    pub(super) reported: HashSet<(String, String)>,
    pub(super) report_counts: BTreeMap<String, usize>,
    /// The running totals (revisions, commits, users, the report so far).
    pub(super) summary: ConvertSummary,
    /// The last revision converted and the fingerprint of its revision properties.
    pub(super) revision: Option<u64>,
    pub(super) fingerprint: Option<String>,
    /// The text cache, in memory only: a run resumed in the same process finds its delta
    /// bases without asking fast-import; one resumed from the file starts without.
    #[serde(skip)]
    pub(super) texts: TextCache,
}

impl State {
    /// Every fast-import mark the state names (commits, and large blobs).
    fn marks(&self) -> BTreeSet<u64> {
        let mut marks = BTreeSet::new();
        for entity in self.entities.values().chain([&self.outside]) {
            for life in &entity.lives {
                marks.extend(life.origin);
                marks.extend(life.commits.iter().map(|(_, mark)| *mark));
            }
        }
        marks.extend(self.large.iter().map(|(_, mark, _)| *mark));
        marks.extend(self.notes.iter().map(|(mark, _, _)| *mark));
        marks.extend(self.notes_base);
        marks
    }

    /// The last revision converted.
    pub fn revision(&self) -> Option<u64> {
        self.revision
    }

    /// The fingerprint of the last revision converted.
    pub fn fingerprint(&self) -> Option<String> {
        self.fingerprint.clone()
    }
}

/// A conversion's end, as a later sync resumes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// The source URL as the import names it.
    pub source: String,
    pub options: ConvertOptions,
    pub state: State,
    /// What the conversion gave (the totals for the whole history), for a sync that finds
    /// nothing new.
    pub summary: ConvertSummary,
    /// Object ids of the marks the state and the summary name.
    pub marks: MarkIds,
}

/// Why a checkpoint cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    Version,
    Source,
    Options,
    /// The source's youngest revision is older than the checkpoint's.
    Shrunk,
    /// The checkpoint's last revision now has other revision properties.
    Rewritten,
    Empty,
    /// The refs the conversion ended with are no longer there (the caller checks).
    RefsMoved,
}

impl Checkpoint {
    /// Builds a checkpoint from a finished conversion: the ids of the marks it needs come
    /// from `earlier` (the checkpoint it resumed from, reused), or else from `id_of` (the
    /// marks file fast-import wrote). `None` when a mark the state needs has no id.
    pub fn new(
        source: &str,
        options: ConvertOptions,
        state: State,
        summary: ConvertSummary,
        earlier: MarkIds,
        id_of: impl Fn(u64) -> Option<String>,
    ) -> Option<Checkpoint> {
        let needed = Self::marks_needed(&state, &summary);
        let mut marks = earlier;
        marks.retain(|mark| needed.binary_search(&mark).is_ok());
        for &mark in &needed {
            if !marks.contains(mark) && !marks.insert(mark, &id_of(mark)?) {
                return None;
            }
        }
        Some(Checkpoint {
            version: CHECKPOINT_VERSION,
            source: source.to_owned(),
            options,
            state,
            summary,
            marks,
        })
    }

    /// Every mark a checkpoint of `state` and `summary` needs an id for, in order.
    pub fn marks_needed(state: &State, summary: &ConvertSummary) -> Vec<u64> {
        let mut wanted = state.marks();
        wanted.extend(summary.large_blobs.iter().map(|b| b.mark));
        wanted.extend(summary.tags.iter().map(|t| t.mark));
        wanted.extend(summary.refs.values());
        wanted.into_iter().collect()
    }

    /// Whether a conversion of `source` with `options` whose youngest revision is `youngest`
    /// can resume from here; `fingerprint` gives the source's fingerprint of a revision.
    pub fn check(
        &self,
        source: &str,
        options: &ConvertOptions,
        youngest: u64,
        fingerprint: impl FnOnce(u64) -> Option<String>,
    ) -> Result<(), Mismatch> {
        if self.version != CHECKPOINT_VERSION {
            return Err(Mismatch::Version);
        }
        if self.source != source {
            return Err(Mismatch::Source);
        }
        if &self.options != options {
            return Err(Mismatch::Options);
        }
        let Some(revision) = self.state.revision else {
            return Err(Mismatch::Empty);
        };
        if youngest < revision {
            return Err(Mismatch::Shrunk);
        }
        if fingerprint(revision) != self.state.fingerprint {
            return Err(Mismatch::Rewritten);
        }
        Ok(())
    }

    /// Reads a checkpoint; `None` when there is none or it cannot be read (a full
    /// conversion follows either way).
    pub fn load(path: &Path) -> Option<Checkpoint> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes the checkpoint to `path` atomically (a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut out = io::BufWriter::new(file.as_file_mut());
            serde_json::to_writer(&mut out, self).map_err(io::Error::other)?;
            out.flush()?;
        }
        file.as_file().sync_all()?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// What identifies a revision's content to a later sync: a hash of its author, date and log.
pub fn fingerprint(info: &RevisionInfo) -> String {
    let mut hash = Sha1::new();
    hash.update(info.user.as_bytes());
    hash.update([0]);
    hash.update(info.time.to_string().as_bytes());
    hash.update([0]);
    hash.update(&info.message);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
