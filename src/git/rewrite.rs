//! Scanning a raw import's identities and rewriting its history under an author map.
//!
//! Only commit and tag objects are rewritten: trees and blobs are reused as they are, so a
//! remap costs one pass over the commits. The same input and map give the same ids.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use srcimport_converters::{git::RAW_NAMESPACE, Cancel};

use super::id_map::IdMap;
use super::ident::IdentLine;
use super::objects::{hex, CommitWalk, ObjectReader, RawObject};
use super::pack::PackWriter;
use super::refs::{set_listed_refs, typed_refs_under};
use super::rewrite_resume;
use super::tree_rewrite::{object_id, parse_tree, LargeFiles, TreeRewriter};
use super::{for_each_record, GitError, MAPPED_NAMESPACE, RAW_NOTES_NAMESPACE};

/// Raw identity (`Name <email>` as stored, read as UTF-8 with invalid bytes replaced, as
/// the authors table holds it) to the identity to write instead.
#[derive(Clone, Debug, Default)]
pub struct AuthorMap(HashMap<String, Vec<u8>>);

impl AuthorMap {
    pub fn insert(&mut self, raw: &str, replacement: String) {
        if raw != replacement {
            self.0.insert(raw.to_owned(), replacement.into_bytes());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries, sorted by raw identity.
    pub fn sorted(&self) -> Vec<(&str, &[u8])> {
        let mut entries: Vec<(&str, &[u8])> = self
            .0
            .iter()
            .map(|(raw, new)| (raw.as_str(), new.as_slice()))
            .collect();
        entries.sort_unstable();
        entries
    }

    /// The identity line with its identity replaced, if the map has it.
    fn map_line(&self, line: &[u8]) -> Option<Vec<u8>> {
        let ident = IdentLine::parse(line)?;
        let replacement = self
            .0
            .get(String::from_utf8_lossy(ident.identity).as_ref())?;
        Some([replacement.as_slice(), ident.when].concat())
    }
}

/// Every distinct identity of a raw import, with how many commits and tags carry it.
pub struct IdentityScan {
    pub identities: BTreeMap<String, u64>,
    pub commits: u64,
}

const RAW_GLOB: &str = "--glob=refs/srcimport/raw/*";

/// Walks every raw commit (and annotated tag) and collects author, committer and tagger
/// identities. `on_commit` sees the running commit count.
pub fn scan_identities(
    git_dir: &Path,
    cancel: &Cancel,
    mut on_commit: impl FnMut(u64),
) -> Result<IdentityScan, GitError> {
    let mut identities = BTreeMap::new();
    let mut commits = 0u64;
    // `rev-list --header` prints each commit's raw object after its id, NUL-terminated:
    // one process, no per-object lookups.
    for_each_record(
        git_dir,
        &["rev-list", "--header", RAW_GLOB],
        0,
        cancel,
        |record| {
            let body = record
                .iter()
                .position(|&b| b == b'\n')
                .map_or(&record[..0], |nl| &record[nl + 1..]);
            // Each identity counts once per commit, whether author, committer or both.
            let mut seen_here: Vec<&[u8]> = Vec::with_capacity(2);
            for (key, value) in headers(body) {
                if key == b"author" || key == b"committer" {
                    let identity = IdentLine::parse(value).map_or(value, |i| i.identity);
                    if !seen_here.contains(&identity) {
                        seen_here.push(identity);
                        count_identity(&mut identities, value);
                    }
                }
            }
            commits += 1;
            if commits % 512 == 0 {
                on_commit(commits);
            }
            true
        },
    )?;
    on_commit(commits);
    let mut reader = ObjectReader::start(git_dir)?;
    for (oid, kind, _) in typed_refs_under(git_dir, &[RAW_NAMESPACE], cancel)? {
        if kind == "tag" {
            for tag in tag_chain(&oid, &mut reader)? {
                for (key, value) in headers(&tag.body) {
                    if key == b"tagger" {
                        count_identity(&mut identities, value);
                    }
                }
            }
        }
    }
    Ok(IdentityScan {
        identities,
        commits,
    })
}

fn count_identity(identities: &mut BTreeMap<String, u64>, line: &[u8]) {
    if let Some(ident) = IdentLine::parse(line) {
        let key = String::from_utf8_lossy(ident.identity).into_owned();
        *identities.entry(key).or_default() += 1;
    }
}

/// Header lines of a commit or tag as (key, value), continuation lines folded into value.
fn headers(body: &[u8]) -> Vec<(&[u8], &[u8])> {
    let header_end = find_blank_line(body).unwrap_or(body.len());
    let mut out: Vec<(&[u8], &[u8])> = Vec::new();
    let mut start = 0;
    while start < header_end {
        let mut end = start;
        // A header runs to a newline not followed by a space (continuation).
        loop {
            match body[end..header_end].iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    end += nl + 1;
                    if end < header_end && body[end] == b' ' {
                        continue;
                    }
                }
                None => end = header_end,
            }
            break;
        }
        let line = &body[start..end];
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let (key, value) = match line.iter().position(|&b| b == b' ') {
            Some(sp) => (&line[..sp], &line[sp + 1..]),
            None => (line, &line[line.len()..]),
        };
        out.push((key, value));
        start = end;
    }
    out
}

/// Offset of the newline that ends the header block (the first `\n\n`), if any.
fn find_blank_line(body: &[u8]) -> Option<usize> {
    if body.first() == Some(&b'\n') {
        return Some(0);
    }
    body.windows(2).position(|w| w == b"\n\n").map(|p| p + 1)
}

/// Every raw notes ref (`(oid, refname)`, listed) with its mapped target: the same notes
/// commit when no annotated commit changed id, else a new notes commit (no parent) keyed by
/// the new ids.
fn rewrite_notes(
    notes_refs: &[(String, String)],
    new_ids: &IdMap,
    reader: &mut ObjectReader,
    writer: &mut PackWriter,
) -> Result<Vec<(String, String)>, GitError> {
    let mut out = Vec::new();
    for (oid, refname) in notes_refs {
        if new_ids.is_empty() {
            out.push((refname.clone(), oid.clone()));
            continue;
        }
        let tree = reader.read(oid).and_then(|commit| {
            commit_tree(&commit.body).ok_or_else(|| GitError::Malformed {
                kind: "commit",
                oid: oid.clone(),
                detail: "no tree header".into(),
            })
        })?;
        // Binary ids (40 bytes an entry): a 30,000-commit history's notes stay small.
        let mut entries: Vec<([u8; 20], [u8; 20])> = Vec::new();
        for_each_note(reader, &tree, |annotated, blob| {
            let target = new_ids.get(annotated);
            entries.push((object_id(target.as_deref().unwrap_or(annotated))?, blob));
            Ok(())
        })?;
        entries.sort_unstable();
        let tree_id = write_notes_tree(&entries, writer)?;
        let commit = format!(
            "tree {tree_id}\nauthor srcimport <srcimport@localhost> 0 +0000\ncommitter srcimport <srcimport@localhost> 0 +0000\n\nNotes for the rewritten history\n"
        );
        out.push((refname.clone(), writer.write("commit", commit.as_bytes())?));
    }
    Ok(out)
}

/// Calls `each` with every note of the notes tree `tree`: (annotated id, note blob id).
/// Notes trees fan out as `ab/cdef…`: a note's path without its slashes is the annotated id
/// (longer paths are not notes of a commit, and refused).
fn for_each_note(
    reader: &mut ObjectReader,
    tree: &str,
    mut each: impl FnMut(&str, [u8; 20]) -> Result<(), GitError>,
) -> Result<(), GitError> {
    let mut pending = vec![(tree.to_owned(), String::new())];
    while let Some((tree, prefix)) = pending.pop() {
        for entry in parse_tree(&reader.read(&tree)?.body, &tree)? {
            let path = format!("{prefix}{}", String::from_utf8_lossy(&entry.name));
            if path.len() > 40 {
                return Err(GitError::Malformed {
                    kind: "tree",
                    oid: tree.clone(),
                    detail: format!("{path} names no commit"),
                });
            }
            match entry.is_tree() {
                true => pending.push((hex(&entry.oid), path)),
                false => each(&path, entry.oid)?,
            }
        }
    }
    Ok(())
}

/// More notes than this fan out one level (`ab/cdef…`), as git's own notes trees do: no
/// tree (nor the buffer it is built in) grows with the history.
const NOTES_PER_TREE: usize = 256;

/// Writes the notes tree for `entries` (annotated id, note blob id), sorted by annotated id;
/// returns its id.
fn write_notes_tree(
    entries: &[([u8; 20], [u8; 20])],
    writer: &mut PackWriter,
) -> Result<String, GitError> {
    let leaves = |entries: &[([u8; 20], [u8; 20])], skip: usize| {
        let mut tree = Vec::with_capacity(entries.len() * (48 + 20));
        for (name, blob) in entries {
            tree.extend_from_slice(format!("100644 {}\0", &hex(name)[skip..]).as_bytes());
            tree.extend_from_slice(blob);
        }
        tree
    };
    if entries.len() <= NOTES_PER_TREE {
        return writer.write("tree", &leaves(entries, 0));
    }
    let mut root = Vec::with_capacity(256 * (9 + 20));
    for group in entries.chunk_by(|a, b| a.0[0] == b.0[0]) {
        let subtree = writer.write("tree", &leaves(group, 2))?;
        root.extend_from_slice(format!("40000 {:02x}\0", group[0].0[0]).as_bytes());
        root.extend_from_slice(&object_id(&subtree)?);
    }
    writer.write("tree", &root)
}

/// The tree id a commit body names.
fn commit_tree(body: &[u8]) -> Option<String> {
    let first = body.split(|&b| b == b'\n').next()?;
    let tree = first.strip_prefix(b"tree ")?;
    Some(String::from_utf8_lossy(tree).into_owned())
}

/// Counts from a rewrite, for progress and the conversion report.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RewriteSummary {
    pub commits: u64,
    pub rewritten: u64,
}

/// Rewrites every raw commit and annotated tag under `map` and points
/// `refs/srcimport/mapped/*` at the results (stale mapped refs are deleted). When the last
/// rewrite had the same map and large-file choice, the commits it covered keep its result
/// and only the ones since are rewritten (see [`rewrite_resume`]).
pub fn rewrite(
    git_dir: &Path,
    map: &AuthorMap,
    large: &LargeFiles<'_>,
    cancel: &Cancel,
    mut on_commit: impl FnMut(u64),
) -> Result<RewriteSummary, GitError> {
    let mut writer = PackWriter::create(git_dir)?;
    let mut new_ids = IdMap::default();
    let mut summary = RewriteSummary::default();
    // One listing: the raw refs, the raw notes and the mapped refs this replaces.
    let mut raw = Vec::new();
    let mut raw_notes = Vec::new();
    let mut mapped = Vec::new();
    for (oid, kind, name) in typed_refs_under(
        git_dir,
        &[RAW_NAMESPACE, RAW_NOTES_NAMESPACE, MAPPED_NAMESPACE],
        cancel,
    )? {
        if name.starts_with(RAW_NAMESPACE) {
            raw.push((oid, kind, name));
        } else if name.starts_with(RAW_NOTES_NAMESPACE) {
            raw_notes.push((oid, name));
        } else {
            mapped.push((oid, name));
        }
    }
    let inputs = rewrite_resume::fingerprint(map, large);
    let active = !map.is_empty() || large.is_active();
    let resumed = match active {
        true => rewrite_resume::load(git_dir, &inputs, cancel)?,
        false => None,
    };
    rewrite_resume::forget(git_dir)?;
    if active {
        let mut trees = if large.is_active() {
            Some(TreeRewriter::new(git_dir, large, cancel)?)
        } else {
            None
        };
        let mut args = vec!["--reverse", "--topo-order", RAW_GLOB];
        let (ids, covered) = resumed.unwrap_or_default();
        new_ids = ids;
        if !covered.is_empty() {
            args.push("--not");
            args.extend(covered.iter().map(String::as_str));
        }
        let mut walk = CommitWalk::start(git_dir, &args)?;
        while let Some(commit) = walk.next_commit()? {
            cancel.check()?;
            let new_tree = match trees.as_mut() {
                Some(trees) => {
                    let tree = commit_tree(&commit.body).ok_or_else(|| GitError::Malformed {
                        kind: "commit",
                        oid: commit.oid.clone(),
                        detail: "no tree header".into(),
                    })?;
                    Some(trees.root(&mut writer, &tree)?).filter(|new| *new != tree)
                }
                None => None,
            };
            if let Some(body) = rewrite_commit(
                &commit.body,
                map,
                &new_ids,
                &commit.oid,
                new_tree.as_deref(),
            )? {
                let new_oid = writer.write("commit", &body)?;
                new_ids.insert(&commit.oid, &new_oid)?;
                summary.rewritten += 1;
            }
            summary.commits += 1;
            if summary.commits % 512 == 0 {
                on_commit(summary.commits);
            }
        }
    }
    on_commit(summary.commits);
    let mut reader = ObjectReader::start(git_dir)?;
    let mut wanted = Vec::new();
    let covered: Vec<String> = raw.iter().map(|(oid, _, _)| oid.clone()).collect();
    for (oid, kind, refname) in raw {
        let target = match kind.as_str() {
            "commit" => new_ids.get(&oid).unwrap_or(oid),
            "tag" => rewrite_tag_chain(&oid, map, &new_ids, &mut reader, &mut writer)?,
            _ => oid,
        };
        let mapped = format!("{MAPPED_NAMESPACE}{}", &refname[RAW_NAMESPACE.len()..]);
        wanted.push((mapped, target));
    }
    for (notes_ref, target) in rewrite_notes(&raw_notes, &new_ids, &mut reader, &mut writer)? {
        let mapped = format!(
            "{MAPPED_NAMESPACE}notes/{}",
            &notes_ref[RAW_NOTES_NAMESPACE.len()..]
        );
        wanted.push((mapped, target));
    }
    writer.finish(cancel)?;
    // Stale mapped refs go; refs already right are not touched.
    set_listed_refs(git_dir, &mapped, &wanted, |_| true, cancel)?;
    if active {
        rewrite_resume::save(git_dir, &inputs, &covered, &mut new_ids)?;
    }
    Ok(summary)
}

/// The rewritten commit body, or `None` when neither parents nor identities change.
fn rewrite_commit(
    body: &[u8],
    map: &AuthorMap,
    new_ids: &IdMap,
    oid: &str,
    new_tree: Option<&str>,
) -> Result<Option<Vec<u8>>, GitError> {
    let header_end = find_blank_line(body).ok_or_else(|| GitError::Malformed {
        kind: "commit",
        oid: oid.to_owned(),
        detail: "no blank line after the headers".into(),
    })?;
    let mut changed = false;
    let mut out = Vec::with_capacity(body.len());
    let mut signatures = Vec::new();
    for (key, value) in headers(body) {
        let replaced = match key {
            b"parent" => new_ids.get_bytes(value).map(String::into_bytes),
            b"author" | b"committer" => map.map_line(value),
            b"tree" => new_tree.map(|t| t.as_bytes().to_vec()),
            _ => None,
        };
        if matches!(key, b"gpgsig" | b"gpgsig-sha256" | b"mergetag") {
            signatures.push((key, value));
            continue;
        }
        changed |= replaced.is_some();
        out.extend_from_slice(key);
        out.push(b' ');
        out.extend_from_slice(replaced.as_deref().unwrap_or(value));
        out.push(b'\n');
    }
    if !changed {
        return Ok(None);
    }
    // Signatures cannot survive a rewrite; a changed commit drops them (as filter-repo does).
    let _dropped = signatures;
    out.extend_from_slice(&body[header_end..]);
    Ok(Some(out))
}

/// Tags pointing at tags deeper than this are refused (a hostile source could nest
/// thousands).
const MAX_TAG_CHAIN: usize = 1000;

/// The annotated tag `oid` and every tag it points at through `type tag`, outermost first.
fn tag_chain(oid: &str, reader: &mut ObjectReader) -> Result<Vec<RawObject>, GitError> {
    let mut chain = Vec::new();
    let mut next = Some(oid.to_owned());
    while let Some(current) = next.take() {
        if chain.len() >= MAX_TAG_CHAIN {
            return Err(GitError::Malformed {
                kind: "tag",
                oid: oid.to_owned(),
                detail: format!("tags nested more than {MAX_TAG_CHAIN} deep"),
            });
        }
        let tag = reader.read(&current)?;
        let fields = headers(&tag.body);
        let points_at_tag = fields.iter().any(|(k, v)| *k == b"type" && *v == b"tag");
        if points_at_tag {
            next = fields
                .iter()
                .find(|(k, _)| *k == b"object")
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        }
        chain.push(tag);
    }
    Ok(chain)
}

/// Rewrites an annotated tag (and any tag it points at) whose target or tagger changed,
/// innermost first, without recursion.
fn rewrite_tag_chain(
    oid: &str,
    map: &AuthorMap,
    new_ids: &IdMap,
    reader: &mut ObjectReader,
    writer: &mut PackWriter,
) -> Result<String, GitError> {
    let chain = tag_chain(oid, reader)?;
    // The new id of the object the current tag points at, when that object changed.
    let mut inner_replacement: Option<String> = None;
    for tag in chain.iter().rev() {
        let header_end = find_blank_line(&tag.body).unwrap_or(tag.body.len());
        let fields = headers(&tag.body);
        let target_is_commit = fields.iter().any(|(k, v)| *k == b"type" && *v == b"commit");
        let mut out = Vec::with_capacity(tag.body.len());
        let mut changed = false;
        for (key, value) in fields {
            let replaced = match key {
                b"object" if target_is_commit => new_ids.get_bytes(value).map(String::into_bytes),
                b"object" => inner_replacement.take().map(String::into_bytes),
                b"tagger" => map.map_line(value),
                _ => None,
            };
            changed |= replaced.is_some();
            out.extend_from_slice(key);
            out.push(b' ');
            out.extend_from_slice(replaced.as_deref().unwrap_or(value));
            out.push(b'\n');
        }
        inner_replacement = if changed {
            out.extend_from_slice(&tag.body[header_end..]);
            Some(writer.write("tag", &out)?)
        } else {
            None
        };
    }
    Ok(inner_replacement.unwrap_or_else(|| oid.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::run_git;

    #[test]
    fn headers_fold_continuations() {
        let body =
            b"tree t\nparent p\ngpgsig -----BEGIN\n line\n -----END\nauthor A <a> 1 +0000\n\nmsg\n";
        let keys: Vec<_> = headers(body).into_iter().map(|(k, _)| k.to_vec()).collect();
        assert_eq!(
            keys,
            [
                b"tree".to_vec(),
                b"parent".to_vec(),
                b"gpgsig".to_vec(),
                b"author".to_vec()
            ]
        );
    }

    #[test]
    fn many_notes_fan_out_and_follow_their_rewritten_commits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let commits = NOTES_PER_TREE + 44;
        let mut stream = String::new();
        for n in 1..=commits {
            let message = format!("commit {n}");
            stream.push_str(&format!(
                "commit {RAW_NAMESPACE}heads/main\nmark :{n}\n\
                 author Old <old@example.com> {n} +0000\ncommitter Old <old@example.com> {n} +0000\n\
                 data {}\n{message}\n",
                message.len()
            ));
        }
        stream.push_str(&format!(
            "commit {RAW_NOTES_NAMESPACE}svn\ncommitter N <n> 0 +0000\ndata 0\n"
        ));
        for n in 1..=commits {
            let note = format!("r{n}");
            stream.push_str(&format!("N inline :{n}\ndata {}\n{note}\n", note.len()));
        }
        let git = |args: &[&str], input: Option<String>| {
            let out =
                run_git(&repo, args, input.map(String::into_bytes), &Cancel::new()).expect("git");
            String::from_utf8_lossy(&out).trim().to_owned()
        };
        git(&["fast-import", "--quiet"], Some(stream));
        let mut map = AuthorMap::default();
        map.insert("Old <old@example.com>", "New <new@example.com>".into());
        let summary =
            rewrite(&repo, &map, &LargeFiles::Keep, &Cancel::new(), |_| {}).expect("rewrites");
        assert_eq!(summary.rewritten, commits as u64);

        let notes = format!("{MAPPED_NAMESPACE}notes/svn");
        let root = git(&["ls-tree", &notes], None);
        assert!(root.lines().count() > 1, "{root}");
        assert!(
            root.lines().all(|l| l.starts_with("040000 tree ")),
            "{root}"
        );
        // `git notes` reads notes under refs/notes/ only.
        git(&["update-ref", "refs/notes/svn", &notes], None);
        let listed = git(&["notes", "--ref", "svn", "list"], None);
        assert_eq!(listed.lines().count(), commits);
        let tip = format!("{MAPPED_NAMESPACE}heads/main");
        assert_eq!(
            git(&["log", "-1", "--format=%an", &tip], None),
            "New",
            "the tip was rewritten"
        );
        for (rev, spec) in [
            (commits, tip.clone()),
            (1, format!("{tip}~{}", commits - 1)),
        ] {
            let shown = git(&["notes", "--ref", "svn", "show", &spec], None);
            assert_eq!(shown, format!("r{rev}"));
        }
    }

    #[test]
    fn unchanged_commits_keep_their_bytes() {
        let body = b"tree t\nauthor A <a> 1 +0000\ncommitter A <a> 1 +0000\n\nmsg\n";
        let map = AuthorMap::default();
        assert_eq!(
            rewrite_commit(body, &map, &IdMap::default(), "x", None).expect("ok"),
            None
        );
        let mut map = AuthorMap::default();
        map.insert("A <a>", "B <b>".into());
        let out = rewrite_commit(body, &map, &IdMap::default(), "x", None)
            .expect("ok")
            .expect("changed");
        assert_eq!(
            out,
            b"tree t\nauthor B <b> 1 +0000\ncommitter B <b> 1 +0000\n\nmsg\n"
        );
    }
}
