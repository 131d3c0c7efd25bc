//! TFVC changesets into a `git fast-import` stream: one commit per changeset and branch
//! touched, branches started from their source at the branch point, whole-branch merges as
//! merge parents, labels as annotated tags, and each commit's changeset as a note.
//!
//! Refs: the root branch (no parent) is `main` (configurable); every other branch is
//! `heads/<path below the project>`; content outside every branch is `tfvc/unbranched`
//! (when the project has no branch at all, the whole project is `main`); deleted branches
//! are `tfvc/deleted/<name>`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::identity;
use super::model::{Change, ChangeType};
use super::reader::{tree_copies, BranchInfo, Label, Planned, Stream};
use super::TfvcError;
use crate::fast_export::stream::{FastImport, Op};
use crate::fast_export::{LargeBlob, ReportItem, TagToWrite};
use crate::{refnames, Cancel};

const MODE_FILE: u32 = 0o100644;
const MODE_TREE: u32 = 0o040000;
/// Notes are committed in batches of this many (each notes commit rewrites the fan-out).
const NOTES_BATCH: usize = 10_000;
/// At most this many report entries per kind; the rest are counted.
const REPORT_CAP: usize = 200;
/// The ref of content outside every branch, below the ref prefix.
pub const UNBRANCHED_REF: &str = "tfvc/unbranched";
/// Where deleted branches go, below the ref prefix.
pub const DELETED_PREFIX: &str = "tfvc/deleted/";

/// How to convert.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// The team project's name (`$/name`).
    pub project: String,
    /// The Git name of the root branch.
    pub main_branch: String,
    /// Prefix of the refs written, e.g. `refs/srcimport/raw/`.
    pub ref_prefix: String,
    /// Prefix of the refs commits are written through (deleted by the caller afterwards).
    pub work_ref_prefix: String,
    /// The ref that receives the changeset notes.
    pub notes_ref: String,
    /// Blobs larger than this many bytes are listed in [`ConvertSummary::large_blobs`].
    pub large_file_threshold: u64,
}

/// What a conversion did.
#[derive(Debug, Default)]
pub struct ConvertSummary {
    pub changesets: u64,
    pub commits: u64,
    /// Git identity → (`remote_id` = `uniqueName`, display name).
    pub users: BTreeMap<String, (String, String)>,
    pub tags: Vec<TagToWrite>,
    pub report: Vec<ReportItem>,
    pub large_blobs: Vec<LargeBlob>,
}

/// One Git branch being written.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    /// The server path, as first spelled.
    path: String,
    /// `true` for the project root standing for everything outside the branches.
    pseudo: bool,
    /// `(changeset, mark)` of each commit, in order.
    commits: Vec<(u64, u64)>,
    deleted: bool,
    /// The branches API listed it (or a folder branch from a branch made it one).
    has_parent: bool,
    work_ref: String,
    /// The branch and changeset it was branched from.
    origin: Option<(String, u64)>,
    /// Paths (inside the branch) each changeset touched, for telling whole-branch merges
    /// from cherry-picks and consistent labels from mixed ones.
    touched: Vec<(u64, Vec<String>)>,
}

impl Line {
    fn tip(&self) -> Option<u64> {
        self.commits.last().map(|(_, mark)| *mark)
    }

    /// The newest changeset up to `changeset` that touched `rel` or a folder above it.
    fn last_touch(&self, rel: &str, changeset: u64) -> u64 {
        self.touched
            .iter()
            .rev()
            .filter(|(c, _)| *c <= changeset)
            .find(|(_, paths)| paths.iter().any(|p| covers_path(p, rel)))
            .map_or(0, |(c, _)| *c)
    }

    /// The commit showing the branch as of `changeset`.
    fn at(&self, changeset: u64) -> Option<u64> {
        let i = self.commits.partition_point(|(c, _)| *c <= changeset);
        i.checked_sub(1).map(|i| self.commits[i].1)
    }
}

/// A merge source: its branch, the newest changeset merged (0 for a renaming source),
/// and its path inside that branch (lowercased).
type MergeFrom = (Option<String>, u64, String);

/// What one changeset does to one branch.
#[derive(Debug, Default)]
struct Group {
    /// The first commit of a new branch: its parent and the tree to start from.
    start: Option<(u64, Option<String>)>,
    ops: Vec<Op>,
    /// Every merge source.
    merges: Vec<MergeFrom>,
    ends_life: bool,
    revives: bool,
}

/// The converter.
pub struct Converter<'c, W: Write, R: BufRead> {
    fi: FastImport<W, R>,
    options: ConvertOptions,
    cancel: &'c Cancel,
    /// Branches by lowercased server path.
    lines: BTreeMap<String, Line>,
    /// The pseudo-branch's key (the project root).
    root_key: String,
    /// `true` when the project root is `main` (no branch at all).
    root_is_main: bool,
    /// Deleted paths (lowercased) → the commit that still held them.
    deleted: HashMap<String, (String, u64)>,
    /// Downloaded blobs by the server's `hashValue`: `(mark, size)`.
    blobs: HashMap<String, (u64, u64)>,
    /// `(target, source)` branch keys → the newest source changeset merged.
    merged: HashMap<(String, String), u64>,
    /// Paths each branch touched in the changeset being converted.
    touching: BTreeMap<String, Vec<String>>,
    large: Vec<(String, String, u64, u64)>,
    notes: Vec<(u64, u64, String)>,
    last_time: i64,
    report_counts: BTreeMap<String, usize>,
    summary: ConvertSummary,
    next_work_ref: u64,
    /// The newest changeset converted.
    last_changeset: u64,
    on_changeset: Box<dyn FnMut(u64) + 'c>,
}

/// Everything the converter knows after a changeset, so a later run can go on from there
/// ([`Converter::state`], [`Converter::resume`]). Marks stand for objects: the ones it
/// holds ([`ConverterState::marks`]) must be imported into the next fast-import.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConverterState {
    lines: BTreeMap<String, Line>,
    root_is_main: bool,
    deleted: Vec<(String, (String, u64))>,
    blobs: Vec<(String, (u64, u64))>,
    merged: Vec<((String, String), u64)>,
    large: Vec<(String, String, u64, u64)>,
    notes: Vec<(u64, u64, String)>,
    last_time: i64,
    report_counts: BTreeMap<String, usize>,
    changesets: u64,
    commits: u64,
    users: BTreeMap<String, (String, String)>,
    /// `(kind, changeset, path, detail)`.
    report: Vec<(String, Option<u64>, Option<String>, String)>,
    next_work_ref: u64,
    next_mark: u64,
    /// The newest changeset converted.
    pub last_changeset: u64,
}

impl ConverterState {
    /// Every mark the state refers to: commits, blobs to reuse, deletions to restore,
    /// large blobs, notes not yet written.
    pub fn marks(&self) -> BTreeSet<u64> {
        let mut marks: BTreeSet<u64> = self
            .lines
            .values()
            .flat_map(|l| l.commits.iter().map(|(_, mark)| *mark))
            .collect();
        marks.extend(self.deleted.iter().map(|(_, (_, mark))| *mark));
        marks.extend(self.blobs.iter().map(|(_, (mark, _))| *mark));
        marks.extend(self.large.iter().map(|(_, _, mark, _)| *mark));
        marks.extend(self.notes.iter().map(|(mark, _, _)| *mark));
        marks
    }

    /// The `hashValue`s of the contents the converter holds as blobs (no need to
    /// download them again).
    pub fn blob_hashes(&self) -> std::collections::HashSet<String> {
        self.blobs.iter().map(|(hash, _)| hash.clone()).collect()
    }

    /// How many changesets were converted.
    pub fn changesets(&self) -> u64 {
        self.changesets
    }

    /// Whether notes are waiting for the next notes commit (the last run's final notes
    /// commit then holds them, on top of the notes written before).
    pub fn notes_pending(&self) -> bool {
        !self.notes.is_empty()
    }

    /// Whether a conversion with `branches` listed can go on from this state and give
    /// what a full conversion gives: the project root plays the same part, and every
    /// branch new to the list is a path no converted changeset touched (a branch made
    /// since, not an old folder that became a branch).
    pub fn continues_with(&self, project: &str, branches: &[BranchInfo]) -> bool {
        let root_key = format!("$/{project}").to_lowercase();
        let root_is_main =
            branches.is_empty() || branches.iter().any(|b| b.path.to_lowercase() == root_key);
        root_is_main == self.root_is_main
            && branches
                .iter()
                .map(|b| b.path.to_lowercase())
                .filter(|key| *key != root_key && !self.lines.contains_key(key))
                .all(|key| {
                    !self.lines.iter().any(|(line_key, line)| {
                        line.touched.iter().flat_map(|(_, paths)| paths).any(|rel| {
                            let full = if rel.is_empty() {
                                line_key.clone()
                            } else {
                                format!("{line_key}/{rel}")
                            };
                            covers_path(&key, &full)
                        })
                    })
                })
    }
}

impl<'c, W: Write, R: BufRead> Converter<'c, W, R> {
    /// A converter for a project whose branches API listed `branches`.
    pub fn new(
        fi: FastImport<W, R>,
        options: ConvertOptions,
        branches: &[BranchInfo],
        cancel: &'c Cancel,
        on_changeset: impl FnMut(u64) + 'c,
    ) -> Self {
        let root_path = format!("$/{}", options.project);
        let root_key = root_path.to_lowercase();
        let mut converter = Converter {
            fi,
            cancel,
            lines: BTreeMap::new(),
            root_is_main: branches.is_empty(),
            root_key: root_key.clone(),
            deleted: HashMap::new(),
            blobs: HashMap::new(),
            merged: HashMap::new(),
            touching: BTreeMap::new(),
            large: Vec::new(),
            notes: Vec::new(),
            last_time: 0,
            report_counts: BTreeMap::new(),
            summary: ConvertSummary::default(),
            next_work_ref: 0,
            last_changeset: 0,
            on_changeset: Box::new(on_changeset),
            options,
        };
        converter.add_line(&root_path, true, false);
        for branch in branches {
            if branch.path.to_lowercase() == root_key {
                converter.root_is_main = true;
                continue;
            }
            converter.add_line(&branch.path, false, branch.parent.is_some());
        }
        converter
    }

    fn add_line(&mut self, path: &str, pseudo: bool, has_parent: bool) {
        let work_ref = format!(
            "{}tfvc/{}",
            self.options.work_ref_prefix, self.next_work_ref
        );
        self.next_work_ref += 1;
        self.lines.entry(path.to_lowercase()).or_insert(Line {
            path: path.to_owned(),
            pseudo,
            commits: Vec::new(),
            deleted: false,
            has_parent,
            work_ref,
            origin: None,
            touched: Vec::new(),
        });
    }

    /// A converter going on from `state` (which [`ConverterState::continues_with`]
    /// `branches`), its marks imported into fast-import; the notes written so far are in
    /// `notes_base`, a commit the next notes commit follows.
    pub fn resume(
        fi: FastImport<W, R>,
        options: ConvertOptions,
        branches: &[BranchInfo],
        state: ConverterState,
        notes_base: Option<&str>,
        cancel: &'c Cancel,
        on_changeset: impl FnMut(u64) + 'c,
    ) -> Result<Self, TfvcError> {
        let mut converter = Converter::new(fi, options, &[], cancel, on_changeset);
        converter.fi.continue_marks_from(state.next_mark);
        converter.lines = state.lines;
        converter.root_is_main = state.root_is_main;
        converter.deleted = state.deleted.into_iter().collect();
        converter.blobs = state.blobs.into_iter().collect();
        converter.merged = state.merged.into_iter().collect();
        converter.large = state.large;
        converter.notes = state.notes;
        converter.last_time = state.last_time;
        converter.report_counts = state.report_counts;
        converter.summary.changesets = state.changesets;
        converter.summary.commits = state.commits;
        converter.summary.users = state.users;
        converter.summary.report = state
            .report
            .into_iter()
            .map(|(kind, revision, path, detail)| ReportItem {
                kind,
                revision,
                path,
                detail,
            })
            .collect();
        converter.next_work_ref = state.next_work_ref;
        converter.last_changeset = state.last_changeset;
        for branch in branches {
            let key = branch.path.to_lowercase();
            if key == converter.root_key {
                continue;
            }
            match converter.lines.get_mut(&key) {
                Some(line) => line.has_parent = branch.parent.is_some(),
                None => converter.add_line(&branch.path, false, branch.parent.is_some()),
            }
        }
        // Fast-import starts without refs: each branch goes on from its tip, the notes
        // from the commit holding them.
        let tips: Vec<(String, u64)> = converter
            .lines
            .values()
            .filter_map(|l| Some((l.work_ref.clone(), l.tip()?)))
            .collect();
        let notes_ref = converter.options.notes_ref.clone();
        let out = converter.fi.out();
        for (work_ref, tip) in tips {
            writeln!(out, "reset {work_ref}\nfrom :{tip}\n")?;
        }
        if let Some(base) = notes_base {
            writeln!(out, "reset {notes_ref}\nfrom {base}\n")?;
        }
        Ok(converter)
    }

    /// What the converter knows now (call it after the last changeset, before
    /// [`Converter::finish`]).
    pub fn state(&mut self) -> ConverterState {
        ConverterState {
            lines: self.lines.clone(),
            root_is_main: self.root_is_main,
            deleted: self
                .deleted
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            blobs: self.blobs.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            merged: self.merged.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            large: self.large.clone(),
            notes: self.notes.clone(),
            last_time: self.last_time,
            report_counts: self.report_counts.clone(),
            changesets: self.summary.changesets,
            commits: self.summary.commits,
            users: self.summary.users.clone(),
            report: self
                .summary
                .report
                .iter()
                .map(|r| (r.kind.clone(), r.revision, r.path.clone(), r.detail.clone()))
                .collect(),
            next_work_ref: self.next_work_ref,
            next_mark: self.fi.next_mark(),
            last_changeset: self.last_changeset,
        }
    }

    /// The branch holding `path` (the deepest one) and the path inside it.
    fn locate(&self, path: &str) -> Option<(String, String)> {
        let lower = path.to_lowercase();
        let mut best: Option<&String> = None;
        for key in self.lines.keys() {
            let inside = lower == *key
                || (lower.starts_with(key.as_str())
                    && lower.as_bytes().get(key.len()) == Some(&b'/'));
            if inside && best.is_none_or(|b| key.len() > b.len()) {
                best = Some(key);
            }
        }
        let key = best?.clone();
        let rel = if path.len() > key.len() {
            path[key.len() + 1..].to_owned()
        } else {
            String::new()
        };
        Some((key, git_path(&rel)))
    }

    fn report(&mut self, kind: &str, changeset: Option<u64>, path: Option<&str>, detail: String) {
        let count = self.report_counts.entry(kind.to_owned()).or_insert(0);
        *count += 1;
        if *count <= REPORT_CAP {
            self.summary.report.push(ReportItem {
                kind: kind.to_owned(),
                revision: changeset,
                path: path.map(str::to_owned),
                detail,
            });
        }
    }

    /// Converts every changeset of `stream`.
    pub fn run(&mut self, stream: &mut Stream) -> Result<(), TfvcError> {
        while let Some(planned) = stream.next_changeset() {
            self.cancel.check()?;
            self.changeset(planned?, stream)?;
        }
        Ok(())
    }

    /// Converts one changeset; its downloads are taken from `stream` in change order.
    pub fn changeset(&mut self, planned: Planned, stream: &mut Stream) -> Result<(), TfvcError> {
        let Planned {
            changeset,
            download,
            reuse,
        } = planned;
        let id = changeset.info.changeset_id;
        // Folder branches from a branch's root make new branches.
        for change in &changeset.changes {
            let kind = change.kind();
            if !(change.item.is_folder && kind.has(ChangeType::BRANCH))
                || kind.has(ChangeType::DELETE)
            {
                continue;
            }
            let Some((source, _)) = change.branch_source(id) else {
                continue;
            };
            let source_is_root = self
                .lines
                .get(&source.to_lowercase())
                .is_some_and(|l| !l.pseudo);
            if source_is_root && !self.lines.contains_key(&change.item.path.to_lowercase()) {
                self.add_line(&change.item.path, false, true);
            }
        }
        let copies = tree_copies(&changeset);
        self.touching.clear();
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for ((change, wanted), reused) in changeset.changes.iter().zip(download).zip(reuse) {
            let blob = if wanted {
                let mut spool = stream.content()?;
                let size = spool.len();
                let mark = self.fi.blob(size, &mut spool.reader()?)?;
                if let Some(hash) = change.item.hash_value.clone().filter(|h| !h.is_empty()) {
                    self.blobs.insert(hash, (mark, size));
                }
                Some((mark, size))
            } else if let Some(hash) = reused {
                let blob = self.blobs.get(&hash).copied();
                Some(blob.ok_or_else(|| TfvcError::Invalid {
                    changeset: id,
                    path: change.item.path.clone(),
                    message: "content planned for reuse was never downloaded".into(),
                })?)
            } else {
                None
            };
            self.change(id, change, blob, &copies, &mut groups)?;
        }
        self.commit(&changeset.info, groups)?;
        self.summary.changesets += 1;
        self.last_changeset = id;
        (self.on_changeset)(self.summary.changesets);
        if self.notes.len() >= NOTES_BATCH {
            self.flush_notes()?;
        }
        Ok(())
    }

    fn change(
        &mut self,
        id: u64,
        change: &Change,
        blob: Option<(u64, u64)>,
        copies: &[super::reader::TreeCopy],
        groups: &mut BTreeMap<String, Group>,
    ) -> Result<(), TfvcError> {
        let kind = change.kind();
        let path = change.item.path.as_str();
        let Some((key, rel)) = self.locate(path) else {
            self.report(
                "outside_project",
                Some(id),
                Some(path),
                "a change outside the project's path is not converted".into(),
            );
            return Ok(());
        };
        if kind.has(ChangeType::MERGE) {
            let mut sources: Vec<MergeFrom> = Vec::new();
            for m in &change.merge_sources {
                let located = self.locate(&m.server_item);
                let version = m.version_to.unwrap_or(id.saturating_sub(1));
                // A renaming source names the path merged, not a change of its own.
                if m.is_rename {
                    if let Some((k, r)) = located {
                        sources.push((Some(k), 0, r.to_lowercase()));
                    }
                    continue;
                }
                let (k, r) = located.map_or((None, String::new()), |(k, r)| (Some(k), r));
                sources.push((k, version, r.to_lowercase()));
            }
            if sources.is_empty() {
                if let Some(source) = change.source_server_item.as_deref() {
                    let (k, r) = self
                        .locate(source)
                        .map_or((None, String::new()), |(k, r)| (Some(k), r));
                    sources.push((k, id.saturating_sub(1), r.to_lowercase()));
                }
            }
            groups
                .entry(key.clone())
                .or_default()
                .merges
                .extend(sources);
        }
        let folder = change.item.is_folder;
        self.touching
            .entry(key.clone())
            .or_default()
            .push(rel.to_lowercase());
        if kind.has(ChangeType::DELETE)
            || (kind.has(ChangeType::SOURCE_RENAME)
                && !kind.has(ChangeType::RENAME)
                && blob.is_none())
        {
            let tip = self.lines[&key].tip();
            if let Some(tip) = tip {
                self.deleted.insert(path.to_lowercase(), (key.clone(), tip));
            }
            let group = groups.entry(key.clone()).or_default();
            if rel.is_empty() && !self.lines[&key].pseudo {
                group.ends_life = true;
            } else {
                group.ops.push(Op::Delete(rel));
            }
            return Ok(());
        }
        groups.entry(key.clone()).or_default();
        if kind.has(ChangeType::RENAME) {
            if let Some(old) = change.rename_source() {
                if let Some((old_key, old_rel)) = self.locate(old) {
                    if old_rel.is_empty() && !self.lines[&old_key].pseudo {
                        self.report(
                            "branch_root_renamed",
                            Some(id),
                            Some(path),
                            format!(
                                "branch {old} was renamed to {path}; the Git branch keeps its name"
                            ),
                        );
                    } else {
                        if folder {
                            let tip = self.lines[&old_key].tip();
                            if let Some(entry) = self.ls(tip, &old_rel)? {
                                groups.entry(key.clone()).or_default().ops.push(Op::Modify {
                                    mode: entry.0,
                                    dataref: entry.1,
                                    path: rel.clone(),
                                });
                            }
                        }
                        let old_group = groups.entry(old_key).or_default();
                        old_group.ops.insert(0, Op::Delete(old_rel));
                    }
                }
            }
        }
        if kind.has(ChangeType::UNDELETE) {
            if rel.is_empty() && !self.lines[&key].pseudo {
                groups.entry(key.clone()).or_default().revives = true;
            } else if folder {
                match self.deleted.get(&path.to_lowercase()).cloned() {
                    Some((old_key, mark)) => {
                        let old_rel = self
                            .locate(path)
                            .filter(|(k, _)| *k == old_key)
                            .map(|(_, r)| r)
                            .unwrap_or(rel.clone());
                        if let Some(entry) = self.ls(Some(mark), &old_rel)? {
                            groups.entry(key.clone()).or_default().ops.push(Op::Modify {
                                mode: entry.0,
                                dataref: entry.1,
                                path: rel.clone(),
                            });
                        }
                    }
                    None => self.report(
                        "undelete_without_deletion",
                        Some(id),
                        Some(path),
                        "an undeleted folder whose deletion is not in the history".into(),
                    ),
                }
            }
        }
        if folder && kind.has(ChangeType::BRANCH) {
            self.folder_branch(id, change, &key, &rel, copies, groups)?;
        }
        if let Some((mark, size)) = blob {
            if size > self.options.large_file_threshold {
                self.large.push((key.clone(), rel.clone(), mark, size));
            }
            groups.entry(key.clone()).or_default().ops.push(Op::Modify {
                mode: MODE_FILE,
                dataref: format!(":{mark}"),
                path: rel.clone(),
            });
        }
        Ok(())
    }

    /// A folder branched here: a new branch starts from its source, or a folder inside a
    /// branch gets the source's tree.
    fn folder_branch(
        &mut self,
        id: u64,
        change: &Change,
        key: &str,
        rel: &str,
        copies: &[super::reader::TreeCopy],
        groups: &mut BTreeMap<String, Group>,
    ) -> Result<(), TfvcError> {
        let path = change.item.path.to_lowercase();
        if !copies.iter().any(|c| c.0 == path) {
            return Ok(()); // inside a bigger copy of the same changeset
        }
        let Some((source, version)) = change.branch_source(id) else {
            return Ok(());
        };
        let Some((source_key, source_rel)) = self.locate(source) else {
            self.report(
                "branch_from_outside",
                Some(id),
                Some(&change.item.path),
                format!(
                    "branched from {source}, outside the project: its files are taken as added"
                ),
            );
            return Ok(());
        };
        let source_commit = self.lines[&source_key].at(version);
        let new_branch =
            rel.is_empty() && self.lines[key].commits.is_empty() && !self.lines[key].pseudo;
        if new_branch {
            let Some(commit) = source_commit else {
                self.report(
                    "branch_source_missing",
                    Some(id),
                    Some(&change.item.path),
                    format!("branched from {source} at changeset {version}, which has no commit: the branch starts empty"),
                );
                return Ok(());
            };
            let tree = if source_rel.is_empty() {
                None
            } else {
                self.ls(Some(commit), &source_rel)?.map(|(_, oid)| oid)
            };
            groups.entry(key.to_owned()).or_default().start = Some((commit, tree));
            return Ok(());
        }
        let Some(entry) = self.ls(source_commit, &source_rel)? else {
            self.report(
                "branch_source_missing",
                Some(id),
                Some(&change.item.path),
                format!("branched from {source} at changeset {version}, which the history does not hold"),
            );
            return Ok(());
        };
        {
            let group = groups.entry(key.to_owned()).or_default();
            if rel.is_empty() {
                group.ops.push(Op::Delete(String::new()));
            }
            group.ops.push(Op::Modify {
                mode: entry.0,
                dataref: entry.1,
                path: rel.to_owned(),
            });
        }
        Ok(())
    }

    /// `ls` of `path` in commit `mark`: `(mode, oid)`.
    fn ls(&mut self, mark: Option<u64>, path: &str) -> Result<Option<(u32, String)>, TfvcError> {
        let Some(mark) = mark else { return Ok(None) };
        if path.is_empty() {
            // The root tree of a commit: `ls` needs a path, the commit's tree is `mark^{tree}`.
            return Ok(self
                .fi
                .ls(Some(&format!(":{mark}")), "")?
                .map(|e| (MODE_TREE, e.oid)));
        }
        Ok(self
            .fi
            .ls(Some(&format!(":{mark}")), path)?
            .map(|e| (e.mode, e.oid)))
    }

    fn commit(
        &mut self,
        info: &super::model::ChangesetRef,
        groups: BTreeMap<String, Group>,
    ) -> Result<(), TfvcError> {
        let id = info.changeset_id;
        let remote_id = identity::remote_id(info.author.as_ref());
        let identity = identity::git_identity(&remote_id);
        let display = info
            .author
            .as_ref()
            .and_then(|a| a.display_name.clone())
            .unwrap_or_else(|| remote_id.clone());
        let time = info
            .created_date
            .as_deref()
            .and_then(identity::parse_date)
            .unwrap_or(0);
        let signature = format!("{identity} {time} +0000");
        let message = info.comment.clone().unwrap_or_default();
        // Which branch and changeset each mark is, for recording branch origins.
        let origin_of: HashMap<u64, (String, u64)> = groups
            .values()
            .filter_map(|g| g.start.as_ref().map(|(parent, _)| *parent))
            .filter_map(|parent| {
                self.lines.iter().find_map(|(k, l)| {
                    l.commits
                        .iter()
                        .find(|(_, m)| *m == parent)
                        .map(|(c, _)| (parent, (k.clone(), *c)))
                })
            })
            .collect();
        for (key, group) in groups {
            let line = &self.lines[&key];
            let first = line.commits.is_empty();
            if line.pseudo && group.ops.is_empty() && first {
                continue; // nothing outside the branches yet: no empty commit
            }
            if group.ends_life && group.ops.is_empty() && group.merges.is_empty() {
                // A deleted branch keeps its last tree; its ref moves aside at the end.
                if let Some(line) = self.lines.get_mut(&key) {
                    line.deleted = true;
                }
                continue;
            }
            let tip = line.tip();
            let merges: Vec<u64> = self
                .merge_parent(id, &key, &group.merges, tip)?
                .into_iter()
                .collect();
            let line = &self.lines[&key];
            let work_ref = line.work_ref.clone();
            let mark = self.fi.mark();
            let out = self.fi.out();
            if first && group.start.is_none() {
                writeln!(out, "reset {work_ref}")?;
            }
            write!(
                out,
                "commit {work_ref}\nmark :{mark}\nauthor {signature}\ncommitter {signature}\ndata {}\n{message}\n",
                message.len()
            )?;
            if first {
                if let Some((parent, _)) = &group.start {
                    writeln!(out, "from :{parent}")?;
                }
            }
            for merge in &merges {
                writeln!(out, "merge :{merge}")?;
            }
            if let Some((_, Some(tree))) = &group.start {
                writeln!(out, "deleteall\nM 040000 {tree} \"\"")?;
            }
            for op in &group.ops {
                op.write_to(out)?;
            }
            out.write_all(b"\n")?;
            let touched = self.touching.remove(&key).unwrap_or_default();
            let line = self.lines.get_mut(&key).expect("the group's branch exists");
            line.commits.push((id, mark));
            line.touched.push((id, touched));
            if first {
                if let Some((parent, _)) = &group.start {
                    line.origin = origin_of.get(parent).cloned();
                }
            }
            if group.ends_life {
                line.deleted = true;
            }
            if group.revives {
                line.deleted = false;
            }
            let path = line.path.clone();
            self.notes.push((mark, id, path));
            self.summary.commits += 1;
            self.last_time = self.last_time.max(time);
            self.summary
                .users
                .entry(identity.clone())
                .or_insert_with(|| (remote_id.clone(), display.clone()));
        }
        Ok(())
    }

    /// The merge parent a changeset's merges into `key` give: the source branch's commit at
    /// the newest version merged, when every source is in that one other branch and every
    /// path it changed since the last merge was merged (a whole-branch merge). Anything
    /// else (a cherry-pick, several sources) is reported and gets no merge parent.
    fn merge_parent(
        &mut self,
        id: u64,
        key: &str,
        merges: &[MergeFrom],
        tip: Option<u64>,
    ) -> Result<Option<u64>, TfvcError> {
        if merges.is_empty() {
            return Ok(None);
        }
        let keys: BTreeSet<&Option<String>> = merges.iter().map(|(k, _, _)| k).collect();
        let source = match keys.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(source)] if source != key => source.clone(),
            [Some(_)] => return Ok(None),
            _ => {
                let path = self.lines[key].path.clone();
                self.report(
                    "merge_not_whole_branch",
                    Some(id),
                    Some(&path),
                    "merged from several branches (or from outside them): no merge parent".into(),
                );
                return Ok(None);
            }
        };
        let version = merges.iter().map(|(_, v, _)| *v).max().unwrap_or(0);
        let target = &self.lines[key];
        let from = &self.lines[&source];
        // Changes of the source already in the target: an earlier merge, or the branch point.
        let mut base = self
            .merged
            .get(&(key.to_owned(), source.clone()))
            .copied()
            .unwrap_or(0);
        if let Some((origin, at)) = &target.origin {
            if *origin == source {
                base = base.max(*at);
            }
        }
        let creation = from
            .origin
            .as_ref()
            .filter(|(origin, _)| origin == key)
            .and(from.touched.first().map(|(c, _)| *c));
        let merged_paths: Vec<String> = merges.iter().map(|(_, _, p)| p.clone()).collect();
        let uncovered: BTreeSet<String> = from
            .touched
            .iter()
            .filter(|(c, _)| *c > base && *c <= version && Some(*c) != creation)
            .flat_map(|(_, paths)| paths)
            .filter(|p| !merged_paths.iter().any(|m| covers_path(m, p)))
            .cloned()
            .collect();
        // A path the merge does not name needs no merging when it ends as it began (added
        // then deleted, say), or when the target already holds it as the source does
        // (gone from both).
        let before = from.at(base.max(creation.unwrap_or(0)));
        let after = from.at(version);
        let mut unmerged: Option<String> = None;
        for path in &uncovered {
            let source_now = self.ls(after, path)?;
            let settled = !path.is_empty()
                && (self.ls(before, path)? == source_now || self.ls(tip, path)? == source_now);
            if !settled {
                unmerged = Some(path.clone());
                break;
            }
        }
        let from = &self.lines[&source];
        let target = &self.lines[key];
        let mark = from.at(version);
        let path = target.path.clone();
        if let Some(unmerged) = unmerged {
            self.report(
                "partial_merge",
                Some(id),
                Some(&path),
                format!(
                    "merged only part of {}'s changes up to changeset {version} ({unmerged:?} is not merged): a cherry-pick, no merge parent",
                    from.path
                ),
            );
            return Ok(None);
        }
        self.merged.insert((key.to_owned(), source), version);
        Ok(mark.filter(|m| Some(*m) != tip))
    }

    fn flush_notes(&mut self) -> Result<(), TfvcError> {
        if self.notes.is_empty() {
            return Ok(());
        }
        let notes = std::mem::take(&mut self.notes)
            .into_iter()
            .map(|(mark, changeset, path)| {
                (
                    mark,
                    format!("tfvc-changeset: {changeset}\ntfvc-path: {path}\n"),
                )
            });
        self.fi.notes_commit(
            &self.options.notes_ref,
            None,
            self.last_time,
            "TFVC changesets\n",
            notes,
        )?;
        Ok(())
    }

    /// The Git name wanted for a branch, before clashes are resolved.
    fn wanted_name(&self, key: &str, line: &Line, main: Option<&str>) -> String {
        if line.pseudo {
            return if self.root_is_main {
                self.options.main_branch.clone()
            } else {
                UNBRANCHED_REF.to_owned()
            };
        }
        if Some(key) == main {
            return self.options.main_branch.clone();
        }
        let below = line
            .path
            .get(self.root_key.len() + 1..)
            .filter(|_| key.starts_with(&format!("{}/", self.root_key)))
            .unwrap_or(line.path.trim_start_matches("$/"));
        below.to_owned()
    }

    /// Ends the stream: tags from `labels`, the notes, every branch ref. Returns what was
    /// done; the annotated tags are the caller's to write.
    pub fn finish(mut self, labels: &[Label]) -> Result<(ConvertSummary, W), TfvcError> {
        self.flush_notes()?;
        // The root branch: the first-made branch without a parent (when the root is not the
        // whole project).
        let main: Option<String> = if self.root_is_main {
            None
        } else {
            self.lines
                .iter()
                .filter(|(_, l)| !l.pseudo && !l.has_parent && !l.commits.is_empty() && !l.deleted)
                .min_by_key(|(_, l)| l.commits.first().map(|c| c.0))
                .map(|(k, _)| k.clone())
        };
        let mut heads: Vec<(String, String, u64)> = Vec::new();
        let mut hidden: Vec<(String, String, u64)> = Vec::new();
        for (key, line) in &self.lines {
            let Some(tip) = line.tip() else { continue };
            let name = self.wanted_name(key, line, main.as_deref());
            if line.pseudo && !self.root_is_main {
                hidden.push((key.clone(), name, tip));
            } else if line.deleted {
                hidden.push((key.clone(), format!("{DELETED_PREFIX}{name}"), tip));
            } else {
                heads.push((key.clone(), name, tip));
            }
        }
        let (head_names, head_renames) =
            refnames::assign(&heads.iter().map(|(_, n, _)| n.clone()).collect::<Vec<_>>());
        for (from, to) in head_renames {
            if from != to {
                self.report(
                    "branch_renamed",
                    None,
                    None,
                    format!("branch {from:?} is {to:?} in Git"),
                );
            }
        }
        let mut ref_of: HashMap<String, String> = HashMap::new();
        let prefix = self.options.ref_prefix.clone();
        for (key, name, tip) in &heads {
            let name = &head_names[name];
            writeln!(self.fi.out(), "reset {prefix}heads/{name}\nfrom :{tip}\n")?;
            ref_of.insert(key.clone(), format!("refs/heads/{name}"));
        }
        for (key, name, tip) in &hidden {
            let name = format!(
                "{}{}",
                if name.starts_with(DELETED_PREFIX) {
                    DELETED_PREFIX
                } else {
                    ""
                },
                refnames::sanitize(name.trim_start_matches(DELETED_PREFIX))
            );
            writeln!(self.fi.out(), "reset {prefix}{name}\nfrom :{tip}\n")?;
            ref_of.insert(key.clone(), format!("refs/{name}"));
        }
        for (key, path, mark, size) in std::mem::take(&mut self.large) {
            if let Some(ref_name) = ref_of.get(&key) {
                self.summary.large_blobs.push(LargeBlob {
                    ref_name: ref_name.clone(),
                    path,
                    mark,
                    size,
                });
            }
        }
        self.tags(labels);
        for (kind, count) in self.report_counts.clone() {
            if count > REPORT_CAP {
                self.summary.report.push(ReportItem {
                    kind,
                    revision: None,
                    path: None,
                    detail: format!("{} more not listed", count - REPORT_CAP),
                });
            }
        }
        Ok((self.summary, self.fi.into_inner()))
    }

    /// Labels → annotated tags on the commit of the label's branch at its newest item.
    fn tags(&mut self, labels: &[Label]) {
        let mut wanted: Vec<(String, u64, String, String)> = Vec::new();
        for label in labels {
            let name = label.label.name.clone();
            let mut by_branch: BTreeMap<String, (usize, u64)> = BTreeMap::new();
            let mut files: Vec<(String, String, u64)> = Vec::new();
            for item in &label.items {
                let Some((key, rel)) = self.locate(&item.path) else {
                    continue;
                };
                let version = item.version.unwrap_or(0);
                if !item.is_folder {
                    files.push((key.clone(), rel.to_lowercase(), version));
                }
                let entry = by_branch.entry(key).or_default();
                entry.0 += 1;
                entry.1 = entry.1.max(version);
            }
            let Some((key, (_, version))) = by_branch
                .iter()
                .max_by_key(|(k, (count, _))| (*count, std::cmp::Reverse((*k).clone())))
                .map(|(k, v)| (k.clone(), *v))
            else {
                self.report(
                    "label_empty",
                    None,
                    None,
                    format!("label {name:?} holds no item of the project: no tag"),
                );
                continue;
            };
            if by_branch.len() > 1 {
                self.report(
                    "label_spans_branches",
                    None,
                    None,
                    format!(
                        "label {name:?} spans {} branches; the tag is on {}",
                        by_branch.len(),
                        self.lines[&key].path
                    ),
                );
            }
            let mixed = files
                .iter()
                .filter(|(k, rel, v)| *k != key || self.lines[&key].last_touch(rel, version) != *v)
                .count();
            if mixed > 0 {
                self.report(
                    "label_mixed_versions",
                    None,
                    None,
                    format!(
                        "label {name:?}: {mixed} file(s) labelled at another version than the tag's (changeset {version} of {})",
                        self.lines[&key].path
                    ),
                );
            }
            let Some(mark) = self.lines[&key].at(version) else {
                self.report(
                    "label_without_commit",
                    Some(version),
                    None,
                    format!("label {name:?}: its branch has no commit at changeset {version}"),
                );
                continue;
            };
            let owner = identity::remote_id(label.label.owner.as_ref());
            let time = label
                .label
                .modified_date
                .as_deref()
                .and_then(identity::parse_date)
                .unwrap_or(self.last_time);
            let tagger = format!("{} {time} +0000", identity::git_identity(&owner));
            let message = label
                .label
                .description
                .clone()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| format!("TFVC label {name}"));
            wanted.push((name, mark, tagger, message));
        }
        let (names, renames) =
            refnames::assign(&wanted.iter().map(|(n, ..)| n.clone()).collect::<Vec<_>>());
        for (from, to) in renames {
            self.report(
                "tag_renamed",
                None,
                None,
                format!("label {from:?} is tag {to:?} in Git"),
            );
        }
        let mut seen = BTreeSet::new();
        for (name, mark, tagger, message) in wanted {
            let git_name = names[&name].clone();
            if !seen.insert(git_name.clone()) {
                self.report(
                    "label_duplicate",
                    None,
                    None,
                    format!("label {name:?} appears twice; the first is kept"),
                );
                continue;
            }
            self.summary.tags.push(TagToWrite {
                git_name,
                mark,
                tagger,
                message,
            });
        }
    }
}

/// Is `path` at or below `dir` (both inside one branch, lowercased)?
fn covers_path(dir: &str, path: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// A server path component made safe for Git: `.git` (any case) becomes `_git`.
fn git_path(rel: &str) -> String {
    rel.split('/')
        .map(|c| {
            if c.eq_ignore_ascii_case(".git") {
                "_git"
            } else {
                c
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
