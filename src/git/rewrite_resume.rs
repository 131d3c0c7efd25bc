//! What a rewrite leaves for the next one, so a sync's mapping rewrites only the commits
//! that came since: the old → new ids, the raw refs' objects it covered, and a fingerprint
//! of its inputs (the author map and the large-file choice). Other inputs (a remap, an LFS
//! choice) find no match and rewrite everything. Kept in the hosted repository as a small
//! binary file, written atomically.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use srcimport_converters::Cancel;

use super::id_map::IdMap;
use super::objects::hex;
use super::rewrite::AuthorMap;
use super::tree_rewrite::{object_id, LargeFiles};
use super::{run_git, GitError};

const FILE: &str = "srcimport-mapping";
const MAGIC: &[u8; 8] = b"SIMAP01\n";

fn path(git_dir: &Path) -> PathBuf {
    git_dir.join(FILE)
}

/// A hash of everything besides the raw history that decides a rewrite's result.
pub fn fingerprint(map: &AuthorMap, large: &LargeFiles<'_>) -> [u8; 20] {
    let mut hash = Sha1::new();
    for (raw, replacement) in map.sorted() {
        hash.update(raw.as_bytes());
        hash.update([0]);
        hash.update(replacement);
        hash.update([0]);
    }
    let (kind, blobs) = large.fingerprint_parts();
    hash.update(kind.as_bytes());
    for blob in blobs {
        hash.update(blob.as_bytes());
    }
    hash.finalize().into()
}

/// The last rewrite's ids and the raw objects it covered, if it had these inputs and
/// every one of those objects is still there. Read as a stream: the ids go straight into
/// the map, sorted as they were saved.
pub fn load(
    git_dir: &Path,
    inputs: &[u8; 20],
    cancel: &Cancel,
) -> Result<Option<(IdMap, Vec<String>)>, GitError> {
    let Ok(file) = std::fs::File::open(path(git_dir)) else {
        return Ok(None);
    };
    let length = file.metadata().map_or(0, |m| m.len());
    let mut input = std::io::BufReader::new(file);
    let mut header = [0u8; 8 + 20 + 4];
    if input.read_exact(&mut header).is_err() || &header[..8] != MAGIC || &header[8..28] != inputs {
        return Ok(None);
    }
    let tips = u32::from_be_bytes(header[28..].try_into().unwrap_or_default()) as u64;
    let Some(pairs) = length
        .checked_sub(header.len() as u64 + tips * 20)
        .filter(|bytes| bytes % 40 == 0)
        .map(|bytes| bytes / 40)
    else {
        return Ok(None);
    };
    let mut id = [0u8; 20];
    let mut tip_ids = Vec::new();
    for _ in 0..tips {
        if input.read_exact(&mut id).is_err() {
            return Ok(None);
        }
        tip_ids.push(hex(&id));
    }
    // `rev-list --not` on a missing object would end the walk early: all must exist.
    let mut query = tip_ids.join("\n").into_bytes();
    query.push(b'\n');
    let found = run_git(
        git_dir,
        &["cat-file", "--batch-check=%(objectname)"],
        Some(query),
        cancel,
    )?;
    if String::from_utf8_lossy(&found).contains("missing") {
        return Ok(None);
    }
    let mut ids = Vec::with_capacity(usize::try_from(pairs).unwrap_or(0));
    let mut pair = [0u8; 40];
    for _ in 0..pairs {
        if input.read_exact(&mut pair).is_err() {
            return Ok(None);
        }
        let (old, new) = pair.split_at(20);
        ids.push((
            old.try_into().unwrap_or_default(),
            new.try_into().unwrap_or_default(),
        ));
    }
    Ok(Some((IdMap::from_pairs(ids), tip_ids)))
}

/// Forgets the last rewrite (before the mapped refs change).
pub fn forget(git_dir: &Path) -> Result<(), GitError> {
    match std::fs::remove_file(path(git_dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(GitError::io(path(git_dir), e)),
        _ => Ok(()),
    }
}

/// Records a rewrite with `inputs` that covered `tips` (raw object ids) and gave `ids`.
pub fn save(
    git_dir: &Path,
    inputs: &[u8; 20],
    tips: &[String],
    ids: &mut IdMap,
) -> Result<(), GitError> {
    let io = |e| GitError::io(path(git_dir), e);
    let temporary = git_dir.join(format!("{FILE}.tmp"));
    // Streamed: the ids are the largest thing a rewrite holds.
    let mut out = std::io::BufWriter::new(std::fs::File::create(&temporary).map_err(io)?);
    out.write_all(MAGIC).map_err(io)?;
    out.write_all(inputs).map_err(io)?;
    out.write_all(&(tips.len() as u32).to_be_bytes())
        .map_err(io)?;
    for tip in tips {
        out.write_all(&object_id(tip)?).map_err(io)?;
    }
    for (old, new) in ids.sorted() {
        out.write_all(old).map_err(io)?;
        out.write_all(new).map_err(io)?;
    }
    out.into_inner().map_err(|e| io(e.into_error()))?;
    std::fs::rename(&temporary, path(git_dir)).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::super::rewrite::{rewrite, AuthorMap};
    use super::super::tree_rewrite::LargeFiles;
    use super::*;

    fn git(dir: &Path, args: &[&str], input: Option<&str>) -> String {
        let out = run_git(
            dir,
            args,
            input.map(|i| i.as_bytes().to_vec()),
            &Cancel::new(),
        )
        .expect("git");
        String::from_utf8_lossy(&out).trim().to_owned()
    }

    /// Adds a commit by `who` on raw branch `branch` (on top of `parent`); returns its id.
    fn commit(dir: &Path, branch: &str, parent: Option<&str>, who: &str, n: u32) -> String {
        let tree = git(dir, &["mktree"], Some(""));
        let parent = parent.map(|p| format!("parent {p}\n")).unwrap_or_default();
        let body = format!(
            "tree {tree}\n{parent}author {who} {n} +0000\ncommitter {who} {n} +0000\n\nc{n}\n"
        );
        let id = git(
            dir,
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            Some(&body),
        );
        git(
            dir,
            &[
                "update-ref",
                &format!("refs/srcimport/raw/heads/{branch}"),
                &id,
            ],
            None,
        );
        id
    }

    fn mapped(dir: &Path) -> String {
        git(
            dir,
            &[
                "for-each-ref",
                "--format=%(objectname) %(refname)",
                "refs/srcimport/mapped/",
            ],
            None,
        )
    }

    /// A mapping after new raw commits, resumed from the last one, equals a mapping of the
    /// whole history; other inputs rewrite everything.
    #[test]
    fn a_resumed_mapping_equals_a_whole_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let mut map = AuthorMap::default();
        map.insert("Old <old@x>", "New <new@x>".into());
        let cancel = Cancel::new();
        let mut tip = commit(&repo, "main", None, "Old <old@x>", 1);
        tip = commit(&repo, "main", Some(&tip), "Other <o@x>", 2);
        commit(&repo, "side", Some(&tip), "Old <old@x>", 3);
        let first = rewrite(&repo, &map, &LargeFiles::Keep, &cancel, |_| {}).expect("rewrite");
        assert_eq!(first.commits, 3);
        tip = commit(&repo, "main", Some(&tip), "Old <old@x>", 4);
        commit(&repo, "main", Some(&tip), "Other <o@x>", 5);
        let resumed = rewrite(&repo, &map, &LargeFiles::Keep, &cancel, |_| {}).expect("rewrite");
        assert_eq!(resumed.commits, 2, "only the new commits are walked");
        let after_resume = mapped(&repo);
        forget(&repo).expect("forget");
        let whole = rewrite(&repo, &map, &LargeFiles::Keep, &cancel, |_| {}).expect("rewrite");
        assert_eq!(whole.commits, 5);
        assert_eq!(mapped(&repo), after_resume);
        // Another map is another result: everything is walked again.
        map.insert("Other <o@x>", "Someone <s@x>".into());
        let remapped = rewrite(&repo, &map, &LargeFiles::Keep, &cancel, |_| {}).expect("rewrite");
        assert_eq!(remapped.commits, 5);
        assert_ne!(mapped(&repo), after_resume);
        // A state file that does not parse is no state.
        std::fs::write(path(&repo), b"SIMAP01\nshort").expect("write");
        let again = rewrite(&repo, &map, &LargeFiles::Keep, &cancel, |_| {}).expect("rewrite");
        assert_eq!(again.commits, 5);
    }
}
