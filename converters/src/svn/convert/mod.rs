//! Subversion history into a `git fast-import` stream: one commit per revision and root
//! touched, branches and tags from the layout, copies followed to their sources, properties
//! turned into modes, symlinks and `.gitignore` files, `svn:mergeinfo` into merge parents,
//! and each commit's revision recorded as a note.

mod entities;
mod history;
pub mod layout;
mod mergeinfo;
pub mod revprops;
mod spool;
mod stream;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, BufRead, Read, Seek, Write};
use std::path::PathBuf;

use crate::fast_export::TagToWrite;
use crate::svn::dump::{apply_svndiff, DumpError, NodeAction, NodeKind};
use crate::svn::events::{NodeChange, PropChange, RevisionSink, TextForm};
use crate::{refnames, Cancel, SourceError};

use entities::{Entity, EntityKind, Life};
use history::PathFacts;
use layout::{join, parent, Layout, Location, RootKind};
use revprops::RevisionInfo;
use spool::Spool;
pub use stream::FastImport;
use stream::{quote, Entry};

const MODE_FILE: u32 = 0o100644;
const MODE_EXEC: u32 = 0o100755;
const MODE_LINK: u32 = 0o120000;
const MODE_TREE: u32 = 0o040000;
/// The file that keeps an empty directory in Git.
pub const PLACEHOLDER: &str = ".gitkeep";
/// Notes are committed in batches of this many.
const NOTES_BATCH: usize = 1000;
/// At most this many report entries per kind; the rest are counted.
const REPORT_CAP: usize = 200;

/// How to convert.
#[derive(Debug, Clone)]
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
    /// Where large texts are spooled.
    pub spool_dir: PathBuf,
}

/// Something the conversion could not represent, or repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportItem {
    pub kind: String,
    pub revision: Option<u64>,
    pub path: Option<String>,
    pub detail: String,
}

/// What a conversion did.
#[derive(Debug, Default)]
pub struct ConvertSummary {
    pub revisions: u64,
    pub commits: u64,
    /// Git identity → `remote_id` (`user@UUID`).
    pub users: BTreeMap<String, String>,
    /// Annotated tags for the caller to write once the commits exist.
    pub tags: Vec<TagToWrite>,
    pub report: Vec<ReportItem>,
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
}

/// Which tracked directory a change belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Root(String),
    Outside,
}

/// A file operation inside one commit.
#[derive(Debug)]
enum Op {
    Modify {
        mode: u32,
        dataref: String,
        path: String,
    },
    Delete(String),
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

/// How much of a branch a mergeinfo change merged.
enum Merged {
    /// The branch has no commits of its own in the range.
    Nothing,
    /// All of it, up to this commit.
    Whole(u64),
    Part,
}

/// `svn:ignore` and `svn:global-ignores` of one directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ignores {
    ignore: Option<Vec<u8>>,
    global: Option<Vec<u8>>,
}

impl Ignores {
    fn is_empty(&self) -> bool {
        self.ignore.is_none() && self.global.is_none()
    }

    /// The `.gitignore` text: global patterns as written (they apply at any depth), then
    /// `svn:ignore` patterns anchored with `/` (they apply to the directory itself only).
    fn render(&self) -> Vec<u8> {
        let mut text = Vec::new();
        let lines = |value: &Option<Vec<u8>>| -> Vec<Vec<u8>> {
            value
                .as_deref()
                .unwrap_or_default()
                .split(|&b| b == b'\n')
                .map(|l| l.trim_ascii().to_vec())
                .filter(|l| !l.is_empty())
                .collect()
        };
        for line in lines(&self.global) {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        for line in lines(&self.ignore) {
            text.push(b'/');
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        text
    }
}

/// The revision being converted.
struct Current {
    number: u64,
    info: RevisionInfo,
    pending: BTreeMap<Key, Pending>,
    /// `(destination, source path, source revision)` of this revision's copies.
    copies: Vec<(String, String, u64)>,
}

/// Converts a history, fed through [`RevisionSink`], into a fast-import stream.
pub struct Converter<'c, W: Write, R: BufRead> {
    fi: FastImport<W, R>,
    options: ConvertOptions,
    cancel: &'c Cancel,
    entities: BTreeMap<String, Entity>,
    outside: Entity,
    modes: PathFacts<u32>,
    /// `svn:eol-style` of files that have one.
    eols: PathFacts<Vec<u8>>,
    ignores: PathFacts<Ignores>,
    mergeinfo: PathFacts<String>,
    current: Option<Current>,
    next_work_ref: u64,
    empty_blob: Option<u64>,
    notes: Vec<(u64, String)>,
    last_time: i64,
    reported: HashSet<(String, String)>,
    report_counts: BTreeMap<String, usize>,
    summary: ConvertSummary,
    on_revision: Box<dyn FnMut(u64) + 'c>,
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
            options,
            cancel,
            entities: BTreeMap::new(),
            outside: Entity::new(EntityKind::Outside, ""),
            modes: PathFacts::default(),
            eols: PathFacts::default(),
            ignores: PathFacts::default(),
            mergeinfo: PathFacts::default(),
            current: None,
            next_work_ref: 0,
            empty_blob: None,
            notes: Vec::new(),
            last_time: 0,
            reported: HashSet::new(),
            report_counts: BTreeMap::new(),
            summary: ConvertSummary::default(),
            on_revision: Box::new(on_revision),
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
        Ok(match self.options.layout.locate(path) {
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
        match self.options.layout.locate(path) {
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
            Location::Container => None,
            Location::Outside => {
                let mark = self.outside.life_at(revision)?.at(revision)?;
                Some((mark, path.to_owned()))
            }
        }
    }

    /// The Git entry of `path` as it was at the end of `revision`.
    fn entry_at(&mut self, path: &str, revision: u64) -> Result<Option<Entry>, ConvertError> {
        let Some((mark, sub)) = self.source(path, revision) else {
            return Ok(None);
        };
        Ok(self.fi.ls(Some(&format!(":{mark}")), &sub)?)
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

    // ---- deletions ----------------------------------------------------------------------

    fn delete(&mut self, path: &str) -> Result<(), ConvertError> {
        let revision = self.revision();
        // Roots at or below the path end their lives.
        let ended: Vec<String> = self
            .entities
            .iter()
            .filter(|(root, e)| history_is_under(root, path) && e.alive().is_some())
            .map(|(root, _)| root.clone())
            .collect();
        for root in &ended {
            if let Some(life) = self.entities.get_mut(root).and_then(Entity::alive_mut) {
                life.deleted = Some(revision);
            }
            let pending = self.pending(&Key::Root(root.clone()));
            pending.ops.clear();
            pending.merges.clear();
        }
        self.modes.clear_under(path, revision);
        self.eols.clear_under(path, revision);
        self.ignores.clear_under(path, revision);
        self.mergeinfo.clear_under(path, revision);
        if ended.iter().any(|root| root == path) {
            return Ok(());
        }
        let Some((key, sub)) = self.place(path, None)? else {
            // A container: whatever the outside held below it goes too.
            if self.outside.alive().is_some() {
                let pending = self.pending(&Key::Outside);
                pending.ops.push(Op::Delete(path.to_owned()));
                pending.gone.push(path.to_owned());
            }
            return Ok(());
        };
        if self.entity(&key).and_then(Entity::alive).is_none() {
            return Err(self.invalid(path, "deleted, but its branch does not exist"));
        }
        let pending = self.pending(&key);
        pending.ops.push(Op::Delete(sub.clone()));
        pending.emptied.insert(parent(&sub).to_owned());
        pending.gone.push(sub);
        Ok(())
    }

    // ---- additions and changes ----------------------------------------------------------

    fn add(&mut self, node: &NodeChange, text: Option<&mut dyn Read>) -> Result<(), ConvertError> {
        let kind = node
            .kind
            .ok_or_else(|| self.invalid(&node.path, "added without a node kind"))?;
        let Some((key, sub)) = self.place(&node.path, Some(kind))? else {
            if let Some(copy) = &node.copy_from {
                self.copy_container(&copy.path, copy.revision, &node.path)?;
            }
            return Ok(());
        };
        if let (Key::Root(root), true) = (&key, sub.is_empty()) {
            let copy = node
                .copy_from
                .as_ref()
                .map(|c| (c.path.as_str(), c.revision));
            self.start_life(root, copy)?;
            return self.dir_props(&node.path, &key, &sub, &node.props);
        }
        if self.entity(&key).and_then(Entity::alive).is_none() {
            return Err(self.invalid(&node.path, "added inside a branch that does not exist"));
        }
        let revision = self.revision();
        let mut source = None;
        if let Some(copy) = &node.copy_from {
            source = self.entry_at(&copy.path, copy.revision)?;
            if source.is_none() {
                self.report(
                    "copy_source_missing",
                    Some(&node.path),
                    format!(
                        "copied from /{}@{}, which the conversion does not hold",
                        copy.path, copy.revision
                    ),
                );
            }
            self.modes
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            self.eols
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            self.ignores
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            self.mergeinfo
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            let current = self.current.as_mut().expect("inside a revision");
            current
                .copies
                .push((node.path.clone(), copy.path.clone(), copy.revision));
        }
        let keep = join(parent(&sub), PLACEHOLDER);
        let pending = self.pending(&key);
        pending.gone.retain(|g| g != &sub);
        pending.ops.push(Op::Delete(keep));
        match kind {
            NodeKind::Dir => {
                match source.filter(Entry::is_tree) {
                    Some(entry) => self.pending(&key).ops.push(Op::Modify {
                        mode: MODE_TREE,
                        dataref: entry.oid,
                        path: sub.clone(),
                    }),
                    None if self.options.empty_dirs => {
                        let dataref = self.empty_blob()?;
                        self.pending(&key).ops.push(Op::Modify {
                            mode: MODE_FILE,
                            dataref,
                            path: join(&sub, PLACEHOLDER),
                        });
                    }
                    None => {}
                }
                self.dir_props(&node.path, &key, &sub, &node.props)
            }
            NodeKind::File => self.file(node, &key, &sub, source, text),
        }
    }

    fn change(
        &mut self,
        node: &NodeChange,
        text: Option<&mut dyn Read>,
    ) -> Result<(), ConvertError> {
        let Some((key, sub)) = self.place(&node.path, node.kind)? else {
            self.report_props(&node.path, &node.props, &[]);
            return Ok(());
        };
        self.pending(&key).touched = true;
        if self.entity(&key).and_then(Entity::alive).is_none() {
            return Err(self.invalid(&node.path, "changed, but its branch does not exist"));
        }
        let is_file = node.kind == Some(NodeKind::File) || node.text.is_some();
        if is_file {
            self.file(node, &key, &sub, None, text)
        } else {
            self.dir_props(&node.path, &key, &sub, &node.props)
        }
    }

    /// A file added, copied or changed: its mode from its properties, its text from the node
    /// (applying a delta to its base) or from its source.
    fn file(
        &mut self,
        node: &NodeChange,
        key: &Key,
        sub: &str,
        source: Option<Entry>,
        text: Option<&mut dyn Read>,
    ) -> Result<(), ConvertError> {
        let path = node.path.as_str();
        let revision = self.revision();
        let is_add = matches!(node.action, NodeAction::Add | NodeAction::Replace);
        let old_mode = match (&source, is_add) {
            (Some(entry), _) => entry.mode,
            (None, true) => MODE_FILE,
            (None, false) => self.modes.current(path).copied().unwrap_or(MODE_FILE),
        };
        let (mut exec, mut special) = (old_mode == MODE_EXEC, old_mode == MODE_LINK);
        const HANDLED: [&[u8]; 3] = [b"svn:executable", b"svn:special", b"svn:eol-style"];
        let changes = prop_changes(&node.props, &HANDLED);
        for (name, value) in &changes {
            match name.as_slice() {
                b"svn:executable" => exec = value.is_some(),
                b"svn:special" => special = value.is_some(),
                _ => self.eol_style(path, value.as_deref()),
            }
        }
        self.report_props(path, &node.props, &HANDLED);
        let mut mode = if special {
            MODE_LINK
        } else if exec {
            MODE_EXEC
        } else {
            MODE_FILE
        };
        let dataref = match node.text {
            Some(form) => {
                let text = text.ok_or_else(|| self.invalid(path, "text announced but missing"))?;
                let base = match (form, is_add, source.clone()) {
                    (TextForm::Full { .. }, _, _) => None,
                    (TextForm::Delta, _, Some(entry)) => Some(entry),
                    (TextForm::Delta, true, None) => None,
                    (TextForm::Delta, false, None) => self.entry_now(path)?,
                };
                let (dataref, kept_link) = self.text(path, form, base, text, special)?;
                if special && !kept_link {
                    mode = if exec { MODE_EXEC } else { MODE_FILE };
                }
                dataref
            }
            None => {
                let current = match source {
                    Some(entry) => Some(entry),
                    None if mode != old_mode => self.entry_now(path)?,
                    None => None,
                };
                let Some(entry) = current else {
                    self.modes
                        .set(path, revision, (mode != MODE_FILE).then_some(mode));
                    return Ok(());
                };
                if (old_mode == MODE_LINK) != (mode == MODE_LINK) {
                    // The stored text changes form: a symlink's blob is its target, svn's
                    // text is `link TARGET`.
                    let (dataref, kept_link) = self.reencode(path, &entry, old_mode, special)?;
                    if special && !kept_link {
                        mode = if exec { MODE_EXEC } else { MODE_FILE };
                    }
                    dataref
                } else {
                    entry.oid
                }
            }
        };
        self.modes
            .set(path, revision, (mode != MODE_FILE).then_some(mode));
        self.pending(key).ops.push(Op::Modify {
            mode,
            dataref,
            path: sub.to_owned(),
        });
        Ok(())
    }

    /// Writes a node's text as a blob. Returns its dataref, and whether it was stored as a
    /// symlink target (a special file whose text is not `link ...` stays a plain file).
    fn text(
        &mut self,
        path: &str,
        form: TextForm,
        base: Option<Entry>,
        text: &mut dyn Read,
        special: bool,
    ) -> Result<(String, bool), ConvertError> {
        let revision = self.revision();
        let text_error = |source: DumpError| ConvertError::Text {
            revision,
            path: path.to_owned(),
            source,
        };
        if let (TextForm::Full { length }, false) = (form, special) {
            let mut watched = CarriageReturns::watch(text);
            let mark = self.fi.blob(length, &mut watched)?;
            let seen = watched.seen;
            self.check_line_endings(path, seen);
            return Ok((format!(":{mark}"), false));
        }
        let mut full = Spool::new(&self.options.spool_dir);
        match form {
            TextForm::Full { .. } => {
                io::copy(text, &mut full)?;
            }
            TextForm::Delta => {
                let mut base_text = Spool::new(&self.options.spool_dir);
                if let Some(entry) = &base {
                    if entry.mode == MODE_LINK {
                        base_text.write_all(b"link ")?;
                    }
                    self.fi.cat_blob(&entry.oid, &mut base_text)?;
                }
                let reader = base_text.reader()?;
                apply_svndiff(io::BufReader::new(text), reader, &mut full).map_err(text_error)?;
            }
        }
        self.store_text(path, &mut full, special)
    }

    /// Stores a full svn text: a symlink's blob is its target.
    fn store_text(
        &mut self,
        path: &str,
        full: &mut Spool,
        special: bool,
    ) -> Result<(String, bool), ConvertError> {
        let length = full.len();
        let mut reader = full.reader()?;
        if special {
            let mut prefix = [0u8; 5];
            let is_link = length >= 5 && {
                reader.read_exact(&mut prefix)?;
                &prefix == b"link "
            };
            if is_link {
                let mark = self.fi.blob(length - 5, &mut reader)?;
                return Ok((format!(":{mark}"), true));
            }
            self.report(
                "svn_special",
                Some(path),
                "svn:special file whose text is not a symlink; kept as a regular file".into(),
            );
            reader.seek(io::SeekFrom::Start(0))?;
        }
        let mut watched = CarriageReturns::watch(&mut reader);
        let mark = self.fi.blob(length, &mut watched)?;
        let seen = watched.seen;
        self.check_line_endings(path, seen);
        Ok((format!(":{mark}"), false))
    }

    /// Rewrites a blob when a file turns into a symlink or back.
    fn reencode(
        &mut self,
        path: &str,
        entry: &Entry,
        old_mode: u32,
        special: bool,
    ) -> Result<(String, bool), ConvertError> {
        let mut full = Spool::new(&self.options.spool_dir);
        if old_mode == MODE_LINK {
            full.write_all(b"link ")?;
        }
        self.fi.cat_blob(&entry.oid, &mut full)?;
        self.store_text(path, &mut full, special)
    }

    /// Directory properties: ignores become `.gitignore`, mergeinfo on a root may become
    /// merge parents, the rest is reported.
    fn dir_props(
        &mut self,
        path: &str,
        key: &Key,
        sub: &str,
        props: &PropChange,
    ) -> Result<(), ConvertError> {
        const HANDLED: [&[u8]; 3] = [b"svn:ignore", b"svn:global-ignores", b"svn:mergeinfo"];
        let revision = self.revision();
        let changes = prop_changes(props, &HANDLED);
        self.report_props(path, props, &HANDLED);
        let mut ignores = self.ignores.current(path).cloned().unwrap_or_default();
        let before = ignores.clone();
        for (name, value) in changes {
            match name.as_slice() {
                b"svn:ignore" => ignores.ignore = value,
                b"svn:global-ignores" => ignores.global = value,
                b"svn:mergeinfo" => {
                    let old = self.mergeinfo.current(path).cloned().unwrap_or_default();
                    let new = value
                        .map(|v| String::from_utf8_lossy(&v).into_owned())
                        .unwrap_or_default();
                    if let (Key::Root(root), true) = (key, sub.is_empty()) {
                        self.merges(root, &old, &new);
                    } else if !new.is_empty() && new != old {
                        self.report(
                            "partial_merge",
                            Some(path),
                            format!("merge recorded below a branch root: {}", new.trim()),
                        );
                    }
                    self.mergeinfo
                        .set(path, revision, (!new.is_empty()).then_some(new));
                }
                _ => {}
            }
        }
        if ignores != before {
            self.ignores.set(
                path,
                revision,
                (!ignores.is_empty()).then(|| ignores.clone()),
            );
            let file = join(sub, ".gitignore");
            let op = if ignores.is_empty() {
                Op::Delete(file)
            } else {
                let text = ignores.render();
                let mark = self.fi.blob_bytes(&text)?;
                Op::Modify {
                    mode: MODE_FILE,
                    dataref: format!(":{mark}"),
                    path: file,
                }
            };
            self.pending(key).ops.push(op);
        }
        Ok(())
    }

    /// Records a file's `svn:eol-style`. Texts are kept as stored; a style that makes
    /// `svn export` rewrite line endings is reported.
    fn eol_style(&mut self, path: &str, value: Option<&[u8]>) {
        let revision = self.revision();
        self.eols.set(path, revision, value.map(<[u8]>::to_vec));
        if let Some(style) = value.filter(|v| !is_lf_style(v)) {
            let style = String::from_utf8_lossy(style).into_owned();
            self.report(
                "svn_eol_style",
                Some(path),
                format!("svn:eol-style {style}: kept with the line endings stored in Subversion"),
            );
        }
    }

    /// A text with carriage returns in a file whose eol style says LF.
    fn check_line_endings(&mut self, path: &str, carriage_returns: bool) {
        let lf_style = self.eols.current(path).is_some_and(|v| is_lf_style(v));
        if carriage_returns && lf_style {
            self.report(
                "svn_eol_style",
                Some(path),
                "text holds CR line endings although svn:eol-style asks for LF; kept as stored"
                    .into(),
            );
        }
    }

    /// Reports properties Git cannot hold.
    fn report_props(&mut self, path: &str, props: &PropChange, handled: &[&[u8]]) {
        const SILENT: [&[u8]; 2] = [b"svn:mime-type", b"svn:entry:committed-rev"];
        let list = match props {
            PropChange::Unchanged => return,
            PropChange::Replace(list) | PropChange::Delta(list) => list,
        };
        for (name, value) in list {
            let Some(value) = value else { continue };
            if handled.contains(&name.as_slice()) || SILENT.contains(&name.as_slice()) {
                continue;
            }
            let name = String::from_utf8_lossy(name).into_owned();
            if !self.reported.insert((name.clone(), path.to_owned())) {
                continue;
            }
            let kind = if name == "svn:externals" {
                "svn_externals"
            } else {
                "svn_property"
            };
            let value = String::from_utf8_lossy(value);
            let value = value.trim();
            self.report(kind, Some(path), format!("{name} = {value}"));
        }
    }

    /// Turns grown mergeinfo on `root` into merge parents where a branch was merged whole.
    fn merges(&mut self, root: &str, old: &str, new: &str) {
        let revision = self.revision();
        let born_now = self
            .entities
            .get(root)
            .and_then(Entity::alive)
            .is_some_and(|life| life.created == revision);
        if born_now {
            // A new branch inherits its source's mergeinfo; that merges nothing.
            return;
        }
        for (source, ranges) in mergeinfo::grown(old, new) {
            let Some(max) = ranges.max() else { continue };
            let merged_root = match self.options.layout.locate(&source) {
                Location::Root { root: src, sub, .. } if sub.is_empty() && src != root => Some(src),
                _ => None,
            };
            let upto = merged_root.as_ref().and_then(|src| {
                let life = self.entities.get(root)?.alive()?;
                life.merged_upto.get(src).copied()
            });
            let candidate = merged_root.as_ref().and_then(|src| {
                let life = self
                    .entities
                    .get(src)?
                    .life_at(max.min(revision.saturating_sub(1)))?;
                let after = upto.unwrap_or(life.created).max(life.created);
                let own: Vec<u64> = life
                    .commits
                    .iter()
                    .map(|(r, _)| *r)
                    .filter(|r| *r > after && *r <= max)
                    .collect();
                if own.is_empty() {
                    return Some(Merged::Nothing);
                }
                let whole = !ranges.partial && own.iter().all(|r| ranges.contains(*r));
                match (whole, life.at(max)) {
                    (true, Some(mark)) => Some(Merged::Whole(mark)),
                    _ => Some(Merged::Part),
                }
            });
            match (merged_root, candidate) {
                (Some(_), Some(Merged::Nothing)) => {}
                (Some(src), Some(Merged::Whole(mark))) => {
                    let life = self.entities.get_mut(root).and_then(Entity::alive_mut);
                    let Some(life) = life else { continue };
                    if life.tip() == Some(mark) {
                        continue;
                    }
                    life.merged_upto.insert(src, max);
                    self.pending(&Key::Root(root.to_owned())).merges.push(mark);
                }
                _ => self.report(
                    "partial_merge",
                    Some(root),
                    format!(
                        "merged part of /{source} (r{}); not recorded as a merge parent",
                        ranges
                            .ranges
                            .iter()
                            .map(|(a, b)| if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            })
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                ),
            }
        }
    }

    /// A root begins a life: empty, or as a copy of another root or a directory.
    fn start_life(&mut self, root: &str, copy: Option<(&str, u64)>) -> Result<(), ConvertError> {
        let revision = self.revision();
        let Location::Root { kind, name, .. } = self.options.layout.locate(root) else {
            return Err(self.invalid(root, "not a branch root"));
        };
        if self.entities.get(root).and_then(Entity::alive).is_some() {
            return Err(self.invalid(root, "added, but it already exists"));
        }
        let mut origin = None;
        let mut tree = None;
        let mut merged_upto = BTreeMap::new();
        if let Some((src, src_rev)) = copy {
            let from_root = match self.options.layout.locate(src) {
                Location::Root { root: src_root, .. } => self
                    .entities
                    .get(&src_root)
                    .and_then(|e| e.life_at(src_rev))
                    .is_some(),
                _ => false,
            };
            match self.source(src, src_rev) {
                Some((mark, sub)) => {
                    if from_root {
                        origin = Some(mark);
                        if let Location::Root { root: src_root, .. } =
                            self.options.layout.locate(src)
                        {
                            merged_upto.insert(src_root, src_rev);
                        }
                    }
                    if !(from_root && sub.is_empty()) {
                        match self.fi.ls(Some(&format!(":{mark}")), &sub)? {
                            Some(entry) if entry.is_tree() => tree = Some(entry.oid),
                            _ => self.report(
                                "copy_source_missing",
                                Some(root),
                                format!("copied from /{src}@{src_rev}, which is not a directory"),
                            ),
                        }
                    }
                }
                None => self.report(
                    "copy_source_missing",
                    Some(root),
                    format!("copied from /{src}@{src_rev}, which the conversion does not hold"),
                ),
            }
            self.modes.copy_under(src, src_rev, root, revision);
            self.eols.copy_under(src, src_rev, root, revision);
            self.ignores.copy_under(src, src_rev, root, revision);
            self.mergeinfo.copy_under(src, src_rev, root, revision);
            let current = self.current.as_mut().expect("inside a revision");
            current
                .copies
                .push((root.to_owned(), src.to_owned(), src_rev));
        }
        let work_ref = self.new_work_ref();
        let creation = self
            .current
            .as_ref()
            .expect("inside a revision")
            .info
            .clone();
        let entity = self
            .entities
            .entry(root.to_owned())
            .or_insert_with(|| Entity::new(EntityKind::Root(kind), &name));
        entity.lives.push(Life {
            work_ref,
            created: revision,
            deleted: None,
            origin,
            commits: Vec::new(),
            creation,
            merged_upto,
        });
        let pending = self.pending(&Key::Root(root.to_owned()));
        pending.new_life = true;
        if let Some(oid) = tree {
            pending.ops.push(Op::Modify {
                mode: MODE_TREE,
                dataref: oid,
                path: String::new(),
            });
        }
        Ok(())
    }

    /// A directory holding roots was copied: each root below it starts a life at the copy.
    fn copy_container(&mut self, src: &str, src_rev: u64, dest: &str) -> Result<(), ConvertError> {
        let roots: Vec<String> = self
            .entities
            .iter()
            .filter(|(root, e)| history_is_under(root, src) && e.life_at(src_rev).is_some())
            .map(|(root, _)| root.clone())
            .collect();
        for root in roots {
            let target = join(dest, layout::strip_dir(&root, src).unwrap_or_default());
            match self.options.layout.locate(&target) {
                Location::Root { sub, .. } if sub.is_empty() => {
                    self.start_life(&target, Some((&root, src_rev)))?;
                }
                _ => self.report(
                    "copy_outside_layout",
                    Some(&target),
                    format!("copy of /{root}@{src_rev} lands outside the branch layout"),
                ),
            }
        }
        Ok(())
    }

    // ---- revisions ----------------------------------------------------------------------

    fn commit_pending(&mut self) -> Result<(), ConvertError> {
        let current = self.current.as_mut().expect("inside a revision");
        let (number, info) = (current.number, current.info.clone());
        let pending = std::mem::take(&mut current.pending);
        for (key, work) in pending {
            let Some(life) = self.entity(&key).and_then(Entity::alive) else {
                continue;
            };
            let is_tag = matches!(
                self.entity(&key).map(|e| e.kind),
                Some(EntityKind::Root(RootKind::Tag))
            );
            let clean_copy = work.new_life && work.ops.is_empty() && work.merges.is_empty();
            if clean_copy && is_tag && life.origin.is_some() {
                continue;
            }
            if !work.new_life && !work.touched && work.ops.is_empty() && work.merges.is_empty() {
                continue;
            }
            let work_ref = life.work_ref.clone();
            let first = life.commits.is_empty();
            let origin = life.origin;
            let root_path = match &key {
                Key::Root(root) => root.clone(),
                Key::Outside => String::new(),
            };
            let mark = self.fi.mark();
            let signature = info.signature();
            let out = self.fi.out();
            if first && origin.is_none() {
                writeln!(out, "reset {work_ref}")?;
            }
            write!(
                out,
                "commit {work_ref}\nmark :{mark}\nauthor {signature}\ncommitter {signature}\ndata {}\n",
                info.message.len()
            )?;
            out.write_all(&info.message)?;
            out.write_all(b"\n")?;
            if first {
                if let Some(origin) = origin {
                    writeln!(out, "from :{origin}")?;
                }
            }
            for merge in &work.merges {
                writeln!(out, "merge :{merge}")?;
            }
            for op in &work.ops {
                match op {
                    Op::Modify {
                        mode,
                        dataref,
                        path,
                    } => writeln!(out, "M {mode:06o} {dataref} {}", quote(path))?,
                    Op::Delete(path) if path.is_empty() => writeln!(out, "deleteall")?,
                    Op::Delete(path) => writeln!(out, "D {}", quote(path))?,
                }
            }
            if self.options.empty_dirs {
                for dir in &work.emptied {
                    let deleted = work.gone.iter().any(|g| history_is_under(dir, g));
                    if dir.is_empty() || deleted {
                        continue;
                    }
                    if self.fi.ls(None, dir)?.is_none() {
                        let keep = self.empty_blob()?;
                        writeln!(
                            self.fi.out(),
                            "M 100644 {keep} {}",
                            quote(&join(dir, PLACEHOLDER))
                        )?;
                    }
                }
            }
            self.fi.out().write_all(b"\n")?;
            if let Some(life) = self.entity_mut(&key).and_then(Entity::alive_mut) {
                life.commits.push((number, mark));
            }
            self.summary.commits += 1;
            self.notes.push((
                mark,
                format!(
                    "svn-revision: {number}\nsvn-path: /{root_path}\nsvn-uuid: {}\n{}",
                    self.options.uuid,
                    if key == Key::Outside {
                        "svn-scope: outside the branch layout\n"
                    } else {
                        ""
                    }
                ),
            ));
            self.summary
                .users
                .entry(info.identity.clone())
                .or_insert_with(|| revprops::remote_id(&info.user, &self.options.uuid));
        }
        if self.notes.len() >= NOTES_BATCH {
            self.flush_notes()?;
        }
        Ok(())
    }

    fn flush_notes(&mut self) -> Result<(), ConvertError> {
        if self.notes.is_empty() {
            return Ok(());
        }
        let message = b"Subversion revisions\n";
        let out = self.fi.out();
        write!(
            out,
            "commit {}\ncommitter srcimport <srcimport@localhost> {} +0000\ndata {}\n",
            self.options.notes_ref,
            self.last_time,
            message.len()
        )?;
        out.write_all(message)?;
        for (mark, text) in std::mem::take(&mut self.notes) {
            let out = self.fi.out();
            write!(out, "N inline :{mark}\ndata {}\n{text}\n", text.len())?;
        }
        self.fi.out().write_all(b"\n")?;
        Ok(())
    }

    /// Ends the stream: the final notes, and every branch ref. Returns what was done; the
    /// annotated tags are the caller's to write.
    pub fn finish(mut self) -> Result<(ConvertSummary, W), ConvertError> {
        self.flush_notes()?;
        let prefix = self.options.ref_prefix.clone();
        let mut heads: Vec<(String, u64)> = Vec::new();
        let mut tags: Vec<(String, u64, RevisionInfo)> = Vec::new();
        let mut hidden: Vec<(String, u64)> = Vec::new();
        for entity in self.entities.values() {
            let EntityKind::Root(kind) = entity.kind else {
                continue;
            };
            for life in &entity.lives {
                let Some(tip) = life.tip() else { continue };
                let name = match kind {
                    RootKind::Trunk => self.options.trunk_branch.clone(),
                    _ => entity.name.clone(),
                };
                match (kind, life.deleted) {
                    (RootKind::Tag, None) => {
                        if let Some(root) = life.root() {
                            tags.push((name.clone(), root, life.creation.clone()));
                        }
                        if life.changed_after_creation() {
                            heads.push((format!("tags/{name}"), tip));
                        }
                    }
                    (RootKind::Tag, Some(deleted)) => hidden.push((
                        format!(
                            "svn/deleted/tags/{}@{}",
                            refnames::sanitize(&name),
                            deleted - 1
                        ),
                        tip,
                    )),
                    (_, None) => heads.push((name, tip)),
                    (_, Some(deleted)) => hidden.push((
                        format!(
                            "svn/deleted/branches/{}@{}",
                            refnames::sanitize(&name),
                            deleted - 1
                        ),
                        tip,
                    )),
                }
            }
        }
        if let Some(tip) = self.outside.lives.last().and_then(Life::tip) {
            hidden.push(("svn/unbranched".into(), tip));
        }
        let (head_names, head_renames) =
            refnames::assign(&heads.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        let (tag_names, tag_renames) =
            refnames::assign(&tags.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>());
        for (from, to) in head_renames {
            self.report_final(
                "branch_renamed",
                format!("branch {from:?} is {to:?} in Git"),
            );
        }
        for (from, to) in tag_renames {
            self.report_final("tag_renamed", format!("tag {from:?} is {to:?} in Git"));
        }
        let out = self.fi.out();
        for (name, mark) in &heads {
            writeln!(
                out,
                "reset {prefix}heads/{}\nfrom :{mark}\n",
                head_names[name]
            )?;
        }
        for (name, mark) in &hidden {
            writeln!(out, "reset {prefix}{name}\nfrom :{mark}\n")?;
        }
        for (name, mark, info) in tags {
            self.summary.tags.push(TagToWrite {
                git_name: tag_names[&name].clone(),
                mark,
                tagger: info.signature(),
                message: String::from_utf8_lossy(&info.message).into_owned(),
            });
        }
        for (kind, count) in &self.report_counts {
            if *count > REPORT_CAP {
                self.summary.report.push(ReportItem {
                    kind: kind.clone(),
                    revision: None,
                    path: None,
                    detail: format!("{} more not listed", count - REPORT_CAP),
                });
            }
        }
        Ok((self.summary, self.fi.into_inner()))
    }

    fn report_final(&mut self, kind: &str, detail: String) {
        self.summary.report.push(ReportItem {
            kind: kind.to_owned(),
            revision: None,
            path: None,
            detail,
        });
    }
}

fn history_is_under(path: &str, prefix: &str) -> bool {
    prefix.is_empty() || layout::strip_dir(path, prefix).is_some()
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

/// `native` and `LF` ask for LF line endings (on this platform).
fn is_lf_style(style: &[u8]) -> bool {
    matches!(style.trim_ascii(), b"native" | b"LF")
}

/// Passes a text through, noting whether it holds a carriage return.
struct CarriageReturns<'r, R: ?Sized> {
    inner: &'r mut R,
    seen: bool,
}

impl<'r, R: Read + ?Sized> CarriageReturns<'r, R> {
    fn watch(inner: &'r mut R) -> Self {
        CarriageReturns { inner, seen: false }
    }
}

impl<R: Read + ?Sized> Read for CarriageReturns<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen |= buf[..n].contains(&b'\r');
        Ok(n)
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
        self.last_time = self.last_time.max(info.time);
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
        self.current = None;
        self.summary.revisions += 1;
        (self.on_revision)(number);
        Ok(())
    }
}
