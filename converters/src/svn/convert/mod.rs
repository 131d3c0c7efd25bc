//! Subversion history into a `git fast-import` stream: one commit per revision and root
//! touched, branches and tags from the layout, copies followed to their sources, properties
//! turned into modes, symlinks and `.gitignore` files, `svn:mergeinfo` into merge parents,
//! and each commit's revision recorded as a note.

pub mod checkpoint;
mod entities;
mod files;
mod history;
pub mod layout;
mod mergeinfo;
mod output;
mod properties;
pub mod revprops;
mod text_cache;
mod tree_changes;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, BufRead, Read, Write};

use crate::fast_export::TagToWrite;
use crate::svn::dump::{apply_svndiff, DumpError, NodeAction, NodeKind};
use crate::svn::events::{NodeChange, PropChange, RevisionSink, TextForm};
use crate::{refnames, Cancel, SourceError};

pub use crate::fast_export::stream::FastImport;
use crate::fast_export::stream::{quote, Entry, Op};
pub use crate::fast_export::{LargeBlob, ReportItem};
use crate::spool::Spool;
use entities::{Entity, EntityKind, Life};
use history::PathFacts;
use layout::{join, parent, CompiledLayout, Layout, Location, RootKind};
use properties::Ignores;
use revprops::RevisionInfo;

const MODE_FILE: u32 = 0o100644;
const MODE_EXEC: u32 = 0o100755;
const MODE_LINK: u32 = 0o120000;
const MODE_TREE: u32 = 0o040000;
/// The file that keeps an empty directory in Git.
pub const PLACEHOLDER: &str = ".gitkeep";
/// Notes are committed in batches of this many: each notes commit rewrites the notes
/// tree's fan-out, so small batches cost fast-import dearly (1,000 made a 30,000-revision
/// import 25% slower); the batch bounds the memory they take.
const NOTES_BATCH: usize = 10_000;
/// At most this many report entries per kind; the rest are counted.
const REPORT_CAP: usize = 200;

/// How to convert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConvertOptions {
    pub layout: Layout,
    /// The repository UUID, for author placeholders and notes.
    pub uuid: String,
    /// The Git name of trunk.
    pub trunk_branch: String,
    /// Prefix of the refs written, e.g. `refs/srcimport/raw/`.
    pub ref_prefix: String,
    /// Prefix of the refs commits are written through (deleted by the caller afterwards).
    pub work_ref_prefix: String,
    /// The ref that receives the revision notes.
    pub notes_ref: String,
    /// Keep empty directories with a [`PLACEHOLDER`] file.
    pub empty_dirs: bool,
    /// Blobs larger than this many bytes are listed in [`ConvertSummary::large_blobs`].
    pub large_file_threshold: u64,
}

/// What a conversion did.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct ConvertSummary {
    pub revisions: u64,
    pub commits: u64,
    /// Git identity → `remote_id` (`user@UUID`).
    pub users: BTreeMap<String, String>,
    /// Annotated tags for the caller to write once the commits exist.
    pub tags: Vec<TagToWrite>,
    pub report: Vec<ReportItem>,
    /// Every blob over the large-file threshold, by the ref that shows it last.
    pub large_blobs: Vec<LargeBlob>,
    /// Every branch-like ref the conversion ends with (full name → mark of its commit).
    #[serde(default)]
    pub refs: BTreeMap<String, u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("r{revision} /{path}: {message}")]
    Invalid {
        revision: u64,
        path: String,
        message: String,
    },
    #[error("r{revision} /{path}: {source}")]
    Text {
        revision: u64,
        path: String,
        source: DumpError,
    },
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error("writing to git fast-import: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A final history ([`Converter::writing_final_history`]) met a large blob, which only
    /// a rewrite can leave out or turn into a Git LFS pointer.
    #[error("r{revision} /{path}: {size} bytes, over the large-file threshold")]
    LargeBlob {
        revision: u64,
        path: String,
        size: u64,
    },
}

/// Which tracked directory a change belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
enum Key {
    Root(String),
    Outside,
}

/// What one revision did to one tracked directory.
#[derive(Debug, Default)]
struct Pending {
    ops: Vec<Op>,
    /// Directories (relative to the root) a deletion may have emptied.
    emptied: BTreeSet<String>,
    /// Paths (relative to the root) deleted and not added again.
    gone: Vec<String>,
    merges: Vec<u64>,
    /// A life began in this revision.
    new_life: bool,
    /// A node changed something here, even if only what Git cannot show (a property).
    touched: bool,
}

/// The revision being converted.
struct Current {
    number: u64,
    info: RevisionInfo,
    pending: BTreeMap<Key, Pending>,
    /// `(destination, source path, source revision)` of this revision's copies.
    copies: Vec<(String, String, u64)>,
}

/// The identity a final history writes for a revision's author.
type AuthorOf<'c> = dyn Fn(&RevisionInfo) -> String + 'c;

/// Converts a history, fed through [`RevisionSink`], into a fast-import stream.
pub struct Converter<'c, W: Write, R: BufRead> {
    fi: FastImport<W, R>,
    options: ConvertOptions,
    layout: CompiledLayout,
    cancel: &'c Cancel,
    entities: BTreeMap<String, Entity>,
    outside: Entity,
    modes: PathFacts<u32>,
    /// The latest texts of recently changed files: delta bases without a round trip.
    texts: text_cache::TextCache,
    /// `svn:eol-style` of files that have one.
    eols: PathFacts<Vec<u8>>,
    ignores: PathFacts<Ignores>,
    mergeinfo: PathFacts<String>,
    current: Option<Current>,
    next_work_ref: u64,
    empty_blob: Option<u64>,
    /// Blobs over the threshold: `(repository path, mark, size)`.
    large: Vec<(String, u64, u64)>,
    /// Commits waiting for their note: `(mark, revision, root)`.
    notes: Vec<(u64, u64, Key)>,
    /// The notes commit that closed the last full batch (maybe an earlier session's).
    notes_base: Option<u64>,
    /// Whether this session wrote a notes commit yet (the first one names its parent).
    notes_written: bool,
    /// Work refs this session committed to; an earlier session's need their tip named.
    session_refs: HashSet<String>,
    /// The refs an earlier session ended with: those that stay are not written again.
    previous_refs: BTreeMap<String, u64>,
    /// The last revision converted, and the fingerprint of its revision properties.
    last_revision: Option<u64>,
    fingerprint: Option<String>,
    /// The newest date of a revision that made a commit: the notes commits' date.
    last_time: i64,
    reported: HashSet<(String, String)>,
    report_counts: BTreeMap<String, usize>,
    summary: ConvertSummary,
    on_revision: Box<dyn FnMut(u64) + 'c>,
    /// Set for a final history ([`Converter::writing_final_history`]): how it writes each
    /// revision's author in place of the `user <user@UUID>` placeholder. `None` while the
    /// history is raw.
    final_history: Option<Box<AuthorOf<'c>>>,
}

impl<'c, W: Write, R: BufRead> Converter<'c, W, R> {
    pub fn new(
        fi: FastImport<W, R>,
        options: ConvertOptions,
        cancel: &'c Cancel,
        on_revision: impl FnMut(u64) + 'c,
    ) -> Self {
        Converter {
            fi,
            layout: options.layout.compile(),
            options,
            cancel,
            entities: BTreeMap::new(),
            outside: Entity::new(EntityKind::Outside, ""),
            modes: PathFacts::default(),
            eols: PathFacts::default(),
            texts: text_cache::TextCache::default(),
            ignores: PathFacts::default(),
            mergeinfo: PathFacts::default(),
            current: None,
            next_work_ref: 0,
            empty_blob: None,
            notes: Vec::new(),
            notes_base: None,
            notes_written: false,
            session_refs: HashSet::new(),
            previous_refs: BTreeMap::new(),
            last_revision: None,
            fingerprint: None,
            large: Vec::new(),
            last_time: 0,
            reported: HashSet::new(),
            report_counts: BTreeMap::new(),
            summary: ConvertSummary::default(),
            on_revision: Box::new(on_revision),
            final_history: None,
        }
    }

    /// Makes this a converter of a final history, written once into the repository that
    /// keeps it, which nothing rewrites afterwards: each revision's author (and tagger) is
    /// written as `author` gives it, and the first blob over the large-file threshold stops
    /// the conversion with [`ConvertError::LargeBlob`].
    pub fn writing_final_history(mut self, author: impl Fn(&RevisionInfo) -> String + 'c) -> Self {
        self.final_history = Some(Box::new(author));
        self
    }

    /// `identity seconds +0000` for a revision's commits and tags.
    fn signature(&self, info: &RevisionInfo) -> String {
        match &self.final_history {
            Some(author) => info.signature_as(&author(info)),
            None => info.signature(),
        }
    }

    /// A converter that carries on after `state`: the revisions it is fed follow the last
    /// one `state` saw, and `fi` names the objects of the marks `state` names
    /// ([`FastImport::naming_earlier`]). The session
    /// that saved `state` ended with `previous_refs`, which are still there.
    pub fn resume(
        mut fi: FastImport<W, R>,
        options: ConvertOptions,
        state: checkpoint::State,
        previous_refs: BTreeMap<String, u64>,
        cancel: &'c Cancel,
        on_revision: impl FnMut(u64) + 'c,
    ) -> Self {
        fi.continue_marks_from(state.next_mark);
        let mut converter = Converter::new(fi, options, cancel, on_revision);
        converter.entities = state.entities;
        converter.outside = state.outside;
        converter.modes = state.modes;
        converter.eols = state.eols;
        converter.ignores = state.ignores;
        converter.mergeinfo = state.mergeinfo;
        converter.next_work_ref = state.next_work_ref;
        converter.large = state.large;
        converter.notes = state.notes;
        converter.notes_base = state.notes_base;
        converter.last_time = state.last_time;
        converter.reported = state.reported;
        converter.report_counts = state.report_counts;
        converter.summary = state.summary;
        converter.last_revision = state.revision;
        converter.fingerprint = state.fingerprint;
        converter.texts = state.texts;
        converter.previous_refs = previous_refs;
        converter
    }

    /// What a later session needs to carry on from here.
    fn state(&self) -> checkpoint::State {
        checkpoint::State {
            entities: self.entities.clone(),
            outside: self.outside.clone(),
            modes: self.modes.clone(),
            eols: self.eols.clone(),
            ignores: self.ignores.clone(),
            mergeinfo: self.mergeinfo.clone(),
            next_work_ref: self.next_work_ref,
            next_mark: self.fi.next_mark(),
            large: self.large.clone(),
            notes: self.notes.clone(),
            notes_base: self.notes_base,
            last_time: self.last_time,
            reported: self.reported.clone(),
            report_counts: self.report_counts.clone(),
            summary: self.summary.clone(),
            revision: self.last_revision,
            fingerprint: self.fingerprint.clone(),
            texts: text_cache::TextCache::default(),
        }
    }

    fn revision(&self) -> u64 {
        self.current.as_ref().map_or(0, |c| c.number)
    }

    fn invalid(&self, path: &str, message: impl Into<String>) -> ConvertError {
        ConvertError::Invalid {
            revision: self.revision(),
            path: path.to_owned(),
            message: message.into(),
        }
    }

    fn report(&mut self, kind: &str, path: Option<&str>, detail: String) {
        let count = self.report_counts.entry(kind.to_owned()).or_default();
        *count += 1;
        if *count > REPORT_CAP {
            return;
        }
        let revision = self.revision();
        self.summary.report.push(ReportItem {
            kind: kind.to_owned(),
            revision: Some(revision),
            path: path.map(|p| format!("/{p}")),
            detail,
        });
    }

    fn pending(&mut self, key: &Key) -> &mut Pending {
        let current = self.current.as_mut().expect("inside a revision");
        current.pending.entry(key.clone()).or_default()
    }

    fn entity(&self, key: &Key) -> Option<&Entity> {
        match key {
            Key::Root(root) => self.entities.get(root),
            Key::Outside => Some(&self.outside),
        }
    }

    fn entity_mut(&mut self, key: &Key) -> Option<&mut Entity> {
        match key {
            Key::Root(root) => self.entities.get_mut(root),
            Key::Outside => Some(&mut self.outside),
        }
    }

    fn new_work_ref(&mut self) -> String {
        self.next_work_ref += 1;
        format!("{}{}", self.options.work_ref_prefix, self.next_work_ref)
    }

    /// Makes sure the outside has a life (it has one from its first change on).
    fn ensure_outside(&mut self) {
        if self.outside.alive().is_none() {
            let work_ref = self.new_work_ref();
            let current = self.current.as_ref().expect("inside a revision");
            self.outside.lives.push(Life {
                work_ref,
                created: current.number,
                deleted: None,
                origin: None,
                commits: Vec::new(),
                creation: current.info.clone(),
                merged_upto: BTreeMap::new(),
            });
        }
    }

    /// Which tracked directory `path` belongs to, and where in it.
    fn place(
        &mut self,
        path: &str,
        kind: Option<NodeKind>,
    ) -> Result<Option<(Key, String)>, ConvertError> {
        Ok(match self.layout.locate(path) {
            Location::Root { root, sub, .. } => {
                // The repository root exists from revision 0 on, without ever being added.
                if root.is_empty() && self.entities.get(&root).and_then(Entity::alive).is_none() {
                    self.start_life("", None)?;
                }
                let is_root_file = sub.is_empty()
                    && (kind == Some(NodeKind::File)
                        || (kind.is_none()
                            && self.entities.get(&root).and_then(Entity::alive).is_none()));
                if is_root_file {
                    self.ensure_outside();
                    Some((Key::Outside, path.to_owned()))
                } else {
                    Some((Key::Root(root), sub))
                }
            }
            Location::Container => None,
            Location::Outside => {
                self.ensure_outside();
                Some((Key::Outside, path.to_owned()))
            }
        })
    }

    /// The commit showing repository path `path` at `revision`, and the path inside it.
    fn source(&self, path: &str, revision: u64) -> Option<(u64, String)> {
        match self.layout.locate(path) {
            Location::Root { root, sub, .. } => {
                if let Some(mark) = self
                    .entities
                    .get(&root)
                    .and_then(|e| e.life_at(revision))
                    .and_then(|l| l.at(revision))
                {
                    return Some((mark, sub));
                }
                let mark = self.outside.life_at(revision)?.at(revision)?;
                Some((mark, path.to_owned()))
            }
            // What a container holds besides its roots (a `branches/README`) is outside.
            Location::Container | Location::Outside => {
                let mark = self.outside.life_at(revision)?.at(revision)?;
                Some((mark, path.to_owned()))
            }
        }
    }

    /// The roots strictly below `path` that existed at `revision`: `(path below it, tree)`.
    /// A copy of a directory holding roots takes their trees along.
    fn roots_below(
        &mut self,
        path: &str,
        revision: u64,
    ) -> Result<Vec<(String, String)>, ConvertError> {
        let marks: Vec<(String, u64)> = history::under(&self.entities, path)
            .filter(|(root, _)| root.as_str() != path)
            .filter_map(|(root, entity)| {
                let mark = entity.life_at(revision)?.at(revision)?;
                let below = layout::strip_dir(root, path)?.to_owned();
                Some((below, mark))
            })
            .collect();
        let mut trees = Vec::new();
        for (below, mark) in marks {
            if let Some(entry) = self.fi.ls(Some(&self.fi.dataref(mark)), "")? {
                trees.push((below, entry.oid));
            }
        }
        Ok(trees)
    }

    /// The Git entry of `path` as it was at the end of `revision`.
    fn entry_at(&mut self, path: &str, revision: u64) -> Result<Option<Entry>, ConvertError> {
        let Some((mark, sub)) = self.source(path, revision) else {
            return Ok(None);
        };
        Ok(self.fi.ls(Some(&self.fi.dataref(mark)), &sub)?)
    }

    /// The Git entry `path` has now, before this revision's change to it: through a copy
    /// made earlier in this revision, or from the previous state of its root.
    fn entry_now(&mut self, path: &str) -> Result<Option<Entry>, ConvertError> {
        let current = self.current.as_ref().expect("inside a revision");
        let copied = current.copies.iter().rev().find_map(|(dest, src, rev)| {
            layout::strip_dir(path, dest).map(|rest| (join(src, rest), *rev))
        });
        if let Some((src, rev)) = copied {
            return self.entry_at(&src, rev);
        }
        let previous = self.revision().saturating_sub(1);
        self.entry_at(path, previous)
    }

    fn empty_blob(&mut self) -> Result<String, ConvertError> {
        let mark = match self.empty_blob {
            Some(mark) => mark,
            None => {
                let mark = self.fi.blob_bytes(b"")?;
                self.empty_blob = Some(mark);
                mark
            }
        };
        Ok(format!(":{mark}"))
    }
}

/// What a `.git`-like path component gets appended: Git will not check such a name out
/// (on any file system), and hosts refuse to receive one.
const DOT_GIT_SUFFIX: &str = "-from-svn";

/// Whether Git treats a path component as `.git` somewhere: any case, trailing dots or
/// spaces (NTFS), the 8.3 short name `git~1`, or characters HFS+ ignores.
fn is_dot_git_like(component: &str) -> bool {
    let ignorable = |c: &char| matches!(*c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x206A..=0x206F | 0xFEFF);
    let visible: String = component.chars().filter(|c| !ignorable(c)).collect();
    let trimmed = visible.trim_end_matches(['.', ' ']);
    trimmed.eq_ignore_ascii_case(".git") || trimmed.eq_ignore_ascii_case("git~1")
}

/// A repository path made canonical and safe for Git: no leading, trailing or doubled
/// `/`; `.git`-like components get [`DOT_GIT_SUFFIX`] (each keeps its own spelling, so
/// two never meet). `Err` for `.` or `..` components, which Subversion itself refuses.
fn git_safe_path(path: &str) -> Result<String, String> {
    let mut safe = Vec::new();
    for component in path.split('/').filter(|c| !c.is_empty()) {
        match component {
            "." | ".." => return Err(format!("path /{path} has a `{component}` component")),
            c if is_dot_git_like(c) => safe.push(format!("{c}{DOT_GIT_SUFFIX}")),
            c => safe.push(c.to_owned()),
        }
    }
    Ok(safe.join("/"))
}

/// The node with its path and copy source made canonical and safe for Git (see
/// [`git_safe_path`]); `None` when nothing changes.
fn git_safe_node(node: &NodeChange) -> Result<Option<NodeChange>, String> {
    let path = git_safe_path(&node.path)?;
    let source = match &node.copy_from {
        Some(copy) => Some(git_safe_path(&copy.path)?),
        None => None,
    };
    let source_changed = matches!((&node.copy_from, &source), (Some(c), Some(s)) if &c.path != s);
    if path == node.path && !source_changed {
        return Ok(None);
    }
    let mut safe = node.clone();
    safe.path = path;
    if let (Some(copy), Some(source)) = (safe.copy_from.as_mut(), source) {
        copy.path = source;
    }
    Ok(Some(safe))
}

/// The changes a node makes to the named properties: a full list also removes those it
/// does not name.
fn prop_changes(props: &PropChange, names: &[&[u8]]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    match props {
        PropChange::Unchanged => Vec::new(),
        PropChange::Delta(list) => list
            .iter()
            .filter(|(n, _)| names.contains(&n.as_slice()))
            .cloned()
            .collect(),
        PropChange::Replace(list) => names
            .iter()
            .map(|name| {
                let value = list
                    .iter()
                    .rev()
                    .find(|(n, _)| n.as_slice() == *name)
                    .and_then(|(_, v)| v.clone());
                (name.to_vec(), value)
            })
            .collect(),
    }
}

impl<W: Write, R: BufRead> RevisionSink for Converter<'_, W, R> {
    type Error = ConvertError;

    fn begin_revision(
        &mut self,
        number: u64,
        properties: &crate::svn::dump::Properties,
    ) -> Result<(), ConvertError> {
        self.cancel.check()?;
        let info = RevisionInfo::from_properties(properties, &self.options.uuid);
        self.current = Some(Current {
            number,
            info,
            pending: BTreeMap::new(),
            copies: Vec::new(),
        });
        Ok(())
    }

    fn node(&mut self, node: &NodeChange, text: Option<&mut dyn Read>) -> Result<(), ConvertError> {
        if self.current.is_none() {
            return Err(self.invalid(&node.path, "node outside any revision"));
        }
        // A revision can hold many nodes: a DELETE must not wait for its end.
        self.cancel.check()?;
        let renamed = git_safe_node(node).map_err(|message| self.invalid(&node.path, message))?;
        if let Some(safe) = &renamed {
            let only_slashes = safe.path == node.path.trim_matches('/').replace("//", "/");
            if node.action != NodeAction::Delete && !only_slashes {
                self.report(
                    "path_renamed",
                    Some(&node.path),
                    format!("Git refuses `.git` in a path: stored as /{}", safe.path),
                );
            }
        }
        let node = renamed.as_ref().unwrap_or(node);
        match node.action {
            NodeAction::Delete => self.delete(&node.path),
            NodeAction::Add => self.add(node, text),
            NodeAction::Replace => {
                self.delete(&node.path)?;
                self.add(node, text)
            }
            NodeAction::Change => self.change(node, text),
        }
    }

    fn end_revision(&mut self) -> Result<(), ConvertError> {
        self.commit_pending()?;
        let number = self.revision();
        if let Some(current) = self.current.take() {
            self.fingerprint = Some(checkpoint::fingerprint(&current.info));
        }
        self.last_revision = Some(number);
        self.summary.revisions += 1;
        (self.on_revision)(number);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_canonical_and_safe_for_git() {
        let safe = |p: &str| git_safe_path(p).unwrap();
        assert_eq!(safe("trunk/src/a.c"), "trunk/src/a.c");
        assert_eq!(safe("/trunk//src/"), "trunk/src");
        assert_eq!(
            safe("trunk/vendor/.GIT/config"),
            "trunk/vendor/.GIT-from-svn/config"
        );
        assert_eq!(safe(".git"), ".git-from-svn");
        assert_eq!(safe("a/git~1/b"), "a/git~1-from-svn/b");
        assert_eq!(safe("a/.git. /b"), "a/.git. -from-svn/b");
        assert_eq!(safe("a/.g\u{200c}it"), "a/.g\u{200c}it-from-svn");
        assert_eq!(safe("trunk/.gitignore"), "trunk/.gitignore");
        assert!(git_safe_path("trunk/../x").is_err());
        assert!(git_safe_path("./x").is_err());
    }
}
