//! The pushing stage for hosted repositories: one ref transaction that makes the mapped
//! history visible to clients, and HEAD pointing at the default branch.

use std::path::Path;

use srcimport_converters::Cancel;

use super::refs::{refs_under, set_listed_refs};
use super::{run_git, GitError, MAPPED_NAMESPACE};

/// The namespaces a hosted repository shows: branches, tags, notes (revision maps) and
/// Subversion's and TFVC's extras (deleted branches, paths outside the branches).
pub const PUBLISHED_NAMESPACES: [&str; 5] = [
    "refs/heads/",
    "refs/tags/",
    "refs/notes/",
    "refs/svn/",
    "refs/tfvc/",
];

/// Replaces the visible `refs/heads/*` and `refs/tags/*` with the mapped ones and points
/// HEAD at `preferred` (if it exists), else `main`, `master` or the first branch.
/// Returns the default branch, if the repository has any branch.
pub fn publish(
    git_dir: &Path,
    preferred: Option<&str>,
    cancel: &Cancel,
) -> Result<Option<String>, GitError> {
    // One listing for both: the mapped refs and what is published now.
    let mut namespaces = vec![MAPPED_NAMESPACE];
    namespaces.extend(PUBLISHED_NAMESPACES);
    let (mapped, existing): (Vec<_>, Vec<_>) = refs_under(git_dir, &namespaces, cancel)?
        .into_iter()
        .partition(|(_, name)| name.starts_with(MAPPED_NAMESPACE));
    let published: Vec<(String, String)> = mapped
        .into_iter()
        .map(|(oid, name)| (format!("refs/{}", &name[MAPPED_NAMESPACE.len()..]), oid))
        .collect();
    set_listed_refs(git_dir, &existing, &published, |_| true, cancel)?;
    let branches: Vec<&str> = published
        .iter()
        .filter_map(|(r, _)| r.strip_prefix("refs/heads/"))
        .collect();
    point_head(git_dir, &branches, preferred, cancel)
}

/// Points HEAD at `preferred` if it is one of `branches`, else `main`, `master` or the
/// first; returns the branch chosen (none without branches).
pub(crate) fn point_head(
    git_dir: &Path,
    branches: &[&str],
    preferred: Option<&str>,
    cancel: &Cancel,
) -> Result<Option<String>, GitError> {
    let default = preferred
        .into_iter()
        .chain(["main", "master"])
        .find(|b| branches.contains(b))
        .or_else(|| branches.first().copied())
        .map(str::to_owned);
    if let Some(branch) = default.as_ref().filter(|b| !head_names(git_dir, b)) {
        run_git(
            git_dir,
            &["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")],
            None,
            cancel,
        )?;
    }
    Ok(default)
}

/// Whether HEAD's file already points at `branch`. Anything else in it (another branch, a
/// detached HEAD, a differently stored one) just means HEAD is set again.
fn head_names(git_dir: &Path, branch: &str) -> bool {
    std::fs::read(git_dir.join("HEAD"))
        .is_ok_and(|content| content == format!("ref: refs/heads/{branch}\n").as_bytes())
}

/// After a push into a hosted repository: HEAD keeps its branch if that exists, else
/// points at `main`, `master` or the first branch (a first push into an empty repository
/// names its default branch, as on GitHub). Returns the default branch, if any.
pub fn settle_head(git_dir: &Path, cancel: &Cancel) -> Result<Option<String>, GitError> {
    let head = run_git(git_dir, &["symbolic-ref", "--short", "HEAD"], None, cancel)?;
    let head = String::from_utf8_lossy(&head).trim().to_owned();
    let branches: Vec<String> = refs_under(git_dir, &["refs/heads/"], cancel)?
        .into_iter()
        .filter_map(|(_, name)| name.strip_prefix("refs/heads/").map(str::to_owned))
        .collect();
    let branches: Vec<&str> = branches.iter().map(String::as_str).collect();
    point_head(git_dir, &branches, Some(&head), cancel)
}

/// The published namespaces a sync keeps moving forward: branches (and Subversion's
/// extras) must fast-forward, tags must stay. Notes are left out: they are a map from
/// commit ids to revisions, rewritten as a whole whenever commits are added.
const CHECKED_NAMESPACES: [&str; 3] = ["refs/heads/", "refs/tags/", "refs/svn/"];

/// For a sync: the first published ref that publishing the mapped refs would not move
/// forward (a branch whose old commit is not an ancestor of its new one, a tag that
/// points elsewhere), if any. Refs the mapped history no longer has are deletions, which
/// publishing propagates, and new refs are additions; neither is a rewrite.
pub fn first_rewritten_ref(git_dir: &Path, cancel: &Cancel) -> Result<Option<String>, GitError> {
    let mapped: std::collections::HashMap<String, String> =
        refs_under(git_dir, &[MAPPED_NAMESPACE], cancel)?
            .into_iter()
            .map(|(oid, name)| (format!("refs/{}", &name[MAPPED_NAMESPACE.len()..]), oid))
            .collect();
    for (old, name) in refs_under(git_dir, &CHECKED_NAMESPACES, cancel)? {
        let Some(new) = mapped.get(&name) else {
            continue;
        };
        if *new == old {
            continue;
        }
        if name.starts_with("refs/tags/") {
            return Ok(Some(name));
        }
        // Nothing reachable from the old commit but not from the new one: an ancestor.
        let range = format!("{old}^{{commit}}");
        let not_new = format!("^{new}");
        let ahead = run_git(
            git_dir,
            &["rev-list", "--max-count=1", &range, &not_new, "--"],
            None,
            cancel,
        )?;
        if !ahead.is_empty() {
            return Ok(Some(name));
        }
    }
    Ok(None)
}
