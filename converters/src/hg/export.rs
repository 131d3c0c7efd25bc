//! Mercurial history as a `git fast-import` stream: every changeset a commit (closed
//! branches and extra heads included), named branches and bookmarks as branches, `.hgtags`
//! as annotated tags, and each commit's changeset id as a note.

use std::collections::BTreeMap;
use std::io::Write;

use super::checkpoint::Checkpoint;
use super::error::{Result, RevlogError};
use super::manifest::{FileFlag, Manifest};
use super::repo::Repository;
use super::{Node, Streamed};
use crate::refnames;
use crate::{Cancel, SourceError};

/// Where the stream puts things.
pub struct ExportOptions {
    /// Prefix of the branch and tag refs written, e.g. `refs/srcimport/raw/`.
    pub ref_prefix: String,
    /// The ref that receives the changeset-id notes.
    pub notes_ref: String,
    /// The Git name of Mercurial's `default` branch.
    pub default_branch: String,
    /// A scratch ref commits are written through (deleted by the caller afterwards).
    pub scratch_ref: String,
    /// Files larger than this many bytes are listed in [`ExportSummary::large_blobs`].
    pub large_file_threshold: u64,
}

pub use crate::fast_export::TagToWrite;

/// What the export did that a user should know about.
#[derive(Debug, Default)]
pub struct ExportSummary {
    /// Changesets in the history (converted now or before).
    pub changesets: u64,
    /// Changesets this export wrote (the others were in the checkpoint it resumed).
    pub written: u64,
    /// The Git identity written for each Mercurial user string (`user` as stored, read as
    /// UTF-8 with invalid bytes replaced), so authors can be listed by their raw user.
    pub users: BTreeMap<String, String>,
    /// Every Git identity written, with the number of commits and tags carrying it: what
    /// a scan of the written history counts (author and committer count once per commit).
    pub identities: BTreeMap<String, u64>,
    /// The Git blob id and size of every file content over the large-file threshold.
    pub large_blobs: BTreeMap<String, u64>,
    pub tags: Vec<TagToWrite>,
    /// `(what, original name, Git name)` for every name that had to change.
    pub renames: Vec<(String, String, String)>,
    /// Things that cannot be represented: subrepositories, largefiles, unknown tag nodes.
    pub notices: Vec<String>,
    /// Every changeset's node, branch and Git identity, by revision number (for the next
    /// run's checkpoint).
    pub nodes: Vec<Node>,
    pub branch_of: Vec<String>,
    pub identity_of: Vec<String>,
    /// The notices the changesets themselves gave (the start of `notices`, before the
    /// refs': what a checkpoint keeps).
    pub changeset_notices: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Revlog(#[from] RevlogError),
    #[error("writing the fast-import stream: {0}")]
    Write(#[from] std::io::Error),
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// The mark of revision `rev`.
fn mark(rev: u32) -> u64 {
    u64::from(rev) + 1
}

/// A Git identity for a Mercurial user string, as bytes: `Name <email>` is kept byte for
/// byte (non-UTF-8 names included); anything else (`bob`, `Dave <dave at example dot com>`)
/// becomes a valid placeholder `name <local@hg.invalid>`.
pub fn git_identity_bytes(user: &[u8]) -> Vec<u8> {
    let forbidden = |b: &u8| matches!(b, b'<' | b'>' | b'\n' | 0);
    let trim = |s: &[u8]| -> Vec<u8> {
        let kept: Vec<u8> = s.iter().copied().filter(|b| !forbidden(b)).collect();
        trim_ascii(&kept).to_vec()
    };
    if let (Some(open), Some(close)) = (
        user.iter().position(|&b| b == b'<'),
        user.iter().rposition(|&b| b == b'>'),
    ) {
        let email = trim_ascii(&user[open + 1..close]);
        let valid = open < close
            && email.contains(&b'@')
            && !email
                .iter()
                .any(|b| b.is_ascii_whitespace() || forbidden(b));
        if valid {
            let mut out = trim(&user[..open]);
            out.extend_from_slice(b" <");
            out.extend_from_slice(email);
            out.push(b'>');
            return out;
        }
    }
    let name = trim(user);
    let local: String = String::from_utf8_lossy(&name)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    let mut out = name;
    out.extend_from_slice(format!(" <{}@hg.invalid>", local.trim_matches('.')).as_bytes());
    out
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end.max(start)]
}

/// [`git_identity_bytes`] as text (invalid UTF-8 replaced): how the authors table keys it.
pub fn git_identity(user: &[u8]) -> String {
    String::from_utf8_lossy(&git_identity_bytes(user)).into_owned()
}

/// Texts longer than this are streamed from the revlog, never held whole.
const STREAM_ABOVE: u64 = 1 << 20;

/// Writes the `data` command of a file revision's content; returns its Git blob id and
/// size when it is larger than `threshold`. Large texts are streamed.
fn write_content(
    out: &mut impl Write,
    filelog: &super::Filelog,
    node: &Node,
    threshold: u64,
) -> std::result::Result<Option<(String, u64)>, ExportError> {
    if filelog.stored_len(node)? <= STREAM_ABOVE {
        let content = filelog.file_revision(node)?;
        data(out, &content.data)?;
        let size = content.data.len() as u64;
        return Ok((size > threshold).then(|| {
            let mut id = BlobId::new(size);
            id.update(&content.data);
            (id.finish(), size)
        }));
    }
    let mut size = 0;
    let mut id = None;
    filelog.stream_content(node, |piece| -> std::result::Result<(), ExportError> {
        match piece {
            Streamed::Length(length) => {
                size = length;
                id = (length > threshold).then(|| BlobId::new(length));
                writeln!(out, "data {length}")?;
            }
            Streamed::Bytes(bytes) => {
                if let Some(id) = id.as_mut() {
                    id.update(bytes);
                }
                out.write_all(bytes)?;
            }
        }
        Ok(())
    })?;
    out.write_all(b"\n")?;
    Ok(id.map(|id| (id.finish(), size)))
}

/// A Git blob id, computed as the content goes by.
struct BlobId(super::sha1::Sha1);

impl BlobId {
    fn new(size: u64) -> Self {
        let mut hasher = super::sha1::Sha1::new();
        hasher.update(format!("blob {size}\0").as_bytes());
        BlobId(hasher)
    }

    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(self) -> String {
        self.0.finish().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Git's `+hhmm` for Mercurial's seconds west of UTC.
fn git_timezone(offset_west: i32) -> String {
    let east = -offset_west;
    let sign = if east < 0 { '-' } else { '+' };
    let minutes = east.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

/// A path as fast-import reads it: C-quoted.
fn quote(path: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in path {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x20..=0x7e | 0x80..=0xff => out.push(b),
            other => out.extend_from_slice(format!("\\{other:03o}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

fn data(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    writeln!(out, "data {}", bytes.len())?;
    out.write_all(bytes)?;
    out.write_all(b"\n")
}

/// Writes the history of `repo` to `out`. `on_changeset` sees the running count.
///
/// With a checkpoint `resumed` (that [`Checkpoint::continues_in`] `repo`), its changesets
/// are not written again: their marks must be known to fast-import (imported), and only
/// their changelog entries are read (branches, heads, identities), so the refs, tags,
/// notes and summary are those of the whole history, as a full export gives them.
pub fn export(
    repo: &Repository,
    out: &mut impl Write,
    options: &ExportOptions,
    resumed: Option<&Checkpoint>,
    cancel: &Cancel,
    mut on_changeset: impl FnMut(u64),
) -> std::result::Result<ExportSummary, ExportError> {
    let changelog = repo.changelog();
    let count = u32::try_from(changelog.len()).unwrap_or(u32::MAX);
    let mut summary = ExportSummary::default();
    if let Some(checkpoint) = resumed {
        summary.large_blobs = checkpoint.large_blobs.clone();
        summary.notices = checkpoint.notices.clone();
        summary.users = checkpoint.users.clone();
    }
    let mut previous: Option<(u32, Manifest)> = None;
    // Whether a changeset has a child on its own branch (so is not that branch's head).
    let mut is_parent = vec![false; count as usize];
    let mut branch_of = Vec::with_capacity(count as usize);
    let mut filelogs = FilelogCache::default();
    let mut identity_of = Vec::with_capacity(count as usize);
    let mut nodes = Vec::with_capacity(count as usize);
    for rev in 0..count {
        cancel.check()?;
        // A converted changeset: the index and the checkpoint say all that is needed.
        if let Some(known) = resumed.and_then(|c| c.revision(rev)) {
            let info = changelog.revlog().info(rev)?;
            note_branch_heads(&info.parents, known.branch, &branch_of, &mut is_parent);
            *summary
                .identities
                .entry(known.identity.to_owned())
                .or_default() += 1;
            branch_of.push(known.branch.to_owned());
            identity_of.push(known.identity.to_owned());
            nodes.push(info.node);
            summary.changesets += 1;
            continue;
        }
        let changeset = changelog.changeset(rev)?;
        let branch = String::from_utf8_lossy(changeset.branch()).into_owned();
        let manifest = repo.manifest_log().manifest(&changeset.manifest_node)?;
        let base = match changeset.parents[0] {
            Some(p1) => match previous.take() {
                Some((prev_rev, prev_manifest)) if prev_rev == p1 => prev_manifest,
                _ => repo
                    .manifest_log()
                    .manifest(&changelog.changeset(p1)?.manifest_node)?,
            },
            None => Manifest::default(),
        };
        note_branch_heads(&changeset.parents, &branch, &branch_of, &mut is_parent);
        write_commit(
            repo,
            out,
            options,
            &changeset,
            &base,
            &manifest,
            &mut filelogs,
            &mut summary.large_blobs,
        )?;
        let identity = git_identity(&changeset.user);
        *summary.identities.entry(identity.clone()).or_default() += 1;
        summary
            .users
            .entry(identity.clone())
            .or_insert_with(|| String::from_utf8_lossy(&changeset.user).into_owned());
        let touches_subrepos = rev == 0 || changeset.files.iter().any(|f| f == b".hgsub");
        if touches_subrepos && manifest.get(b".hgsub").is_some() {
            {
                summary.notices.push(format!(
                    "r{rev}: .hgsub declares subrepositories; they are kept as the .hgsub and .hgsubstate files, not converted"
                ));
            }
        }
        if !summary.notices.iter().any(|n| n.contains("largefiles")) && uses_largefiles(&manifest) {
            summary.notices.push(format!(
                "r{rev}: the repository uses the largefiles extension; its .hglf/ standins are kept, the large files are not fetched"
            ));
        }
        branch_of.push(branch);
        identity_of.push(identity);
        nodes.push(changeset.node);
        previous = Some((rev, manifest));
        summary.changesets += 1;
        summary.written += 1;
        if summary.changesets % 256 == 0 {
            on_changeset(summary.changesets);
        }
    }
    on_changeset(summary.changesets);
    summary.changeset_notices = summary.notices.len();
    write_refs(
        repo,
        out,
        options,
        &is_parent,
        &branch_of,
        &nodes,
        &mut summary,
    )?;
    write_notes(out, options, &nodes)?;
    summary.nodes = nodes;
    summary.branch_of = branch_of;
    summary.identity_of = identity_of;
    Ok(summary)
}

/// Branch heads, as Mercurial has them: a changeset stops being its branch's head only
/// when a child on the same branch appears. (A child on another branch alone would
/// otherwise move the branch's ref to an older head when a sync sees it.)
fn note_branch_heads(
    parents: &[Option<u32>; 2],
    branch: &str,
    branch_of: &[String],
    is_parent: &mut [bool],
) {
    for parent in parents.iter().flatten() {
        let same_branch = branch_of
            .get(*parent as usize)
            .is_some_and(|b: &String| b == branch);
        if let (true, Some(flag)) = (same_branch, is_parent.get_mut(*parent as usize)) {
            *flag = true;
        }
    }
}

/// Whether a manifest holds largefiles standins (`.hglf/…`): found by binary search, as
/// the entries are sorted by path.
fn uses_largefiles(manifest: &Manifest) -> bool {
    let prefix: &[u8] = b".hglf/";
    let first = manifest
        .entries
        .partition_point(|e| e.path.as_slice() < prefix);
    manifest
        .entries
        .get(first)
        .is_some_and(|e| e.path.starts_with(prefix))
}

#[allow(clippy::too_many_arguments)]
fn write_commit(
    repo: &Repository,
    out: &mut impl Write,
    options: &ExportOptions,
    changeset: &super::Changeset,
    base: &Manifest,
    manifest: &Manifest,
    filelogs: &mut FilelogCache,
    large_blobs: &mut BTreeMap<String, u64>,
) -> std::result::Result<(), ExportError> {
    let identity = git_identity_bytes(&changeset.user);
    let when = format!(
        "{} {}",
        changeset.timestamp,
        git_timezone(changeset.tz_offset)
    );
    if changeset.parents[0].is_none() {
        // A root: start the scratch ref afresh so fast-import does not parent it.
        writeln!(out, "reset {}", options.scratch_ref)?;
    }
    write!(
        out,
        "commit {}\nmark :{}\n",
        options.scratch_ref,
        mark(changeset.revision)
    )?;
    for role in ["author", "committer"] {
        write!(out, "{role} ")?;
        out.write_all(&identity)?;
        writeln!(out, " {when}")?;
    }
    data(out, &changeset.description)?;
    if let Some(p1) = changeset.parents[0] {
        writeln!(out, "from :{}", mark(p1))?;
    }
    if let Some(p2) = changeset.parents[1] {
        writeln!(out, "merge :{}", mark(p2))?;
    }
    // Both manifests are sorted by path: one walk finds what went and what changed.
    let mut changed: Vec<&super::ManifestEntry> = Vec::new();
    let (mut old, mut new) = (
        base.entries.iter().peekable(),
        manifest.entries.iter().peekable(),
    );
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(o), Some(n)) => o.path.cmp(&n.path),
        };
        match order {
            std::cmp::Ordering::Less => {
                if let Some(gone) = old.next() {
                    out.write_all(b"D ")?;
                    out.write_all(&quote(&gone.path))?;
                    out.write_all(b"\n")?;
                }
            }
            std::cmp::Ordering::Greater => changed.extend(new.next()),
            std::cmp::Ordering::Equal => {
                if let (Some(o), Some(n)) = (old.next(), new.next()) {
                    if o.node != n.node || o.flag != n.flag {
                        changed.push(n);
                    }
                }
            }
        }
    }
    for entry in changed {
        let mode = match entry.flag {
            FileFlag::Regular => "100644",
            FileFlag::Executable => "100755",
            FileFlag::Symlink => "120000",
        };
        write!(out, "M {mode} inline ")?;
        out.write_all(&quote(&entry.path))?;
        out.write_all(b"\n")?;
        let filelog = filelogs.get(repo, &entry.path)?;
        if let Some((id, size)) =
            write_content(out, filelog, &entry.node, options.large_file_threshold)?
        {
            large_blobs.insert(id, size);
        }
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// Open filelogs, so a file changed in many changesets is not re-opened (and its index
/// re-read) each time; bounded, it starts over when full.
#[derive(Default)]
struct FilelogCache(std::collections::HashMap<Vec<u8>, super::Filelog>);

impl FilelogCache {
    const CAPACITY: usize = 512;

    fn get(&mut self, repo: &Repository, path: &[u8]) -> Result<&super::Filelog> {
        if !self.0.contains_key(path) {
            if self.0.len() >= Self::CAPACITY {
                self.0.clear();
            }
            self.0.insert(path.to_vec(), repo.filelog(path)?);
        }
        self.0.get(path).ok_or_else(|| RevlogError::Io {
            path: repo.root().to_path_buf(),
            source: std::io::Error::other("filelog cache"),
        })
    }
}

/// Branches (one ref per branch head: a changeset with no child on its own branch; extra
/// heads get `@<short node>`), bookmarks, and tags.
fn write_refs(
    repo: &Repository,
    out: &mut impl Write,
    options: &ExportOptions,
    is_parent: &[bool],
    branch_of: &[String],
    nodes: &[Node],
    summary: &mut ExportSummary,
) -> std::result::Result<(), ExportError> {
    let rev_of: BTreeMap<Node, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i as u32))
        .collect();
    // Heads per branch, newest first: the newest head gets the branch name.
    let mut heads: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (rev, parent) in is_parent.iter().enumerate().rev() {
        if !parent {
            heads
                .entry(branch_of[rev].as_str())
                .or_default()
                .push(rev as u32);
        }
    }
    let mut wanted: Vec<(String, u32)> = Vec::new();
    for (branch, revs) in &heads {
        let name = if *branch == "default" {
            options.default_branch.clone()
        } else {
            (*branch).to_owned()
        };
        for (i, rev) in revs.iter().enumerate() {
            let ref_name = if i == 0 {
                name.clone()
            } else {
                format!("{name}@{}", &nodes[*rev as usize].to_hex()[..12])
            };
            wanted.push((ref_name, *rev));
        }
    }
    // A bookmark named like a branch ref (`main`, when default is `main`) must not replace
    // that branch's head: at the same commit one ref is enough, elsewhere it is renamed.
    let branch_refs: BTreeMap<String, u32> = wanted.iter().cloned().collect();
    for (name, node) in read_bookmarks(repo) {
        let Some(&rev) = rev_of.get(&node) else {
            continue;
        };
        match branch_refs.get(&name) {
            Some(&head) if head == rev => {}
            Some(_) => {
                let renamed = format!("{name}@bookmark");
                summary
                    .renames
                    .push(("bookmark".to_owned(), name, renamed.clone()));
                wanted.push((renamed, rev));
            }
            None => wanted.push((name, rev)),
        }
    }
    let names: Vec<String> = wanted.iter().map(|(n, _)| n.clone()).collect();
    let (assigned, renames) = refnames::assign(&names);
    summary.renames.extend(
        renames
            .into_iter()
            .map(|(from, to)| ("branch".to_owned(), from, to)),
    );
    for (name, rev) in &wanted {
        if let Some(git_name) = assigned.get(name) {
            write!(
                out,
                "reset {}heads/{git_name}\nfrom :{}\n\n",
                options.ref_prefix,
                mark(*rev)
            )?;
        }
    }
    let tags = read_tags(repo, &heads, &rev_of, summary)?;
    let tag_names: Vec<String> = tags.keys().cloned().collect();
    let (assigned, renames) = refnames::assign(&tag_names);
    summary.renames.extend(
        renames
            .into_iter()
            .map(|(from, to)| ("tag".to_owned(), from, to)),
    );
    for (name, rev) in &tags {
        let Some(git_name) = assigned.get(name) else {
            continue;
        };
        let changeset = repo.changelog().changeset(*rev)?;
        let when = format!(
            "{} {}",
            changeset.timestamp,
            git_timezone(changeset.tz_offset)
        );
        let tagger = git_identity(&changeset.user);
        *summary.identities.entry(tagger.clone()).or_default() += 1;
        summary.tags.push(TagToWrite {
            git_name: git_name.clone(),
            mark: mark(*rev),
            tagger: format!("{tagger} {when}"),
            message: format!("Mercurial tag {name}\n"),
        });
    }
    Ok(())
}

/// `.hg/bookmarks`: `hex-node name` lines.
fn read_bookmarks(repo: &Repository) -> Vec<(String, Node)> {
    let path = repo.root().join(".hg/bookmarks");
    let text = std::fs::read(&path).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|line| {
            let (hex, name) = line.split_once(' ')?;
            Some((name.to_owned(), Node::from_hex(hex.as_bytes())?))
        })
        .collect()
}

/// `.hgtags` of every head, oldest head first so newer entries win; `0000…` removes a tag.
fn read_tags(
    repo: &Repository,
    heads: &BTreeMap<&str, Vec<u32>>,
    rev_of: &BTreeMap<Node, u32>,
    summary: &mut ExportSummary,
) -> Result<BTreeMap<String, u32>> {
    let mut head_revs: Vec<u32> = heads.values().flatten().copied().collect();
    head_revs.sort_unstable();
    let mut tags = BTreeMap::new();
    for head in head_revs {
        let changeset = repo.changelog().changeset(head)?;
        let manifest = repo.manifest_log().manifest(&changeset.manifest_node)?;
        let Some(entry) = manifest.get(b".hgtags") else {
            continue;
        };
        let content = repo.filelog(b".hgtags")?.file_revision(&entry.node)?;
        for line in String::from_utf8_lossy(&content.data).lines() {
            let Some((hex, name)) = line.trim().split_once(' ') else {
                continue;
            };
            let Some(node) = Node::from_hex(hex.as_bytes()) else {
                continue;
            };
            let name = name.trim().to_owned();
            if node.is_null() {
                tags.remove(&name);
            } else if let Some(rev) = rev_of.get(&node) {
                tags.insert(name, *rev);
            } else {
                summary.notices.push(format!(
                    "tag {name} names unknown changeset {hex}; left out"
                ));
            }
        }
    }
    Ok(tags)
}

/// One notes commit: each converted commit annotated with its changeset id.
fn write_notes(
    out: &mut impl Write,
    options: &ExportOptions,
    nodes: &[Node],
) -> std::io::Result<()> {
    if nodes.is_empty() {
        return Ok(());
    }
    writeln!(out, "commit {}", options.notes_ref)?;
    writeln!(out, "committer srcimport <srcimport@localhost> 0 +0000")?;
    data(out, b"Mercurial changeset ids\n")?;
    for (rev, node) in nodes.iter().enumerate() {
        writeln!(out, "N inline :{}", mark(rev as u32))?;
        data(out, format!("{}\n", node.to_hex()).as_bytes())?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_always_valid() {
        assert_eq!(
            git_identity(b"Alice <alice@example.com>"),
            "Alice <alice@example.com>"
        );
        assert_eq!(git_identity(b"bob"), "bob <bob@hg.invalid>");
        assert_eq!(
            git_identity(b"Dave <dave at example dot com>"),
            "Dave dave at example dot com <Dave.dave.at.example.dot.com@hg.invalid>"
        );
        assert_eq!(
            git_identity_bytes(b"Jos\xe9 <j@x>"),
            b"Jos\xe9 <j@x>".to_vec(),
            "bytes kept"
        );
        assert_eq!(git_timezone(-3600), "+0100");
        assert_eq!(git_timezone(18000), "-0500");
        assert_eq!(quote(b"a \"b\"\n"), b"\"a \\\"b\\\"\\n\"".to_vec());
    }
}
