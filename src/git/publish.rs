//! The pushing stage for hosted repositories: one ref transaction that makes the mapped
//! history visible to clients, and HEAD pointing at the default branch.

use std::path::Path;

use srcimport_converters::Cancel;

use super::{run_git, GitError, MAPPED_NAMESPACE};

fn refs_under(
    git_dir: &Path,
    prefixes: &[&str],
    cancel: &Cancel,
) -> Result<Vec<(String, String)>, GitError> {
    let mut args = vec!["for-each-ref", "--format=%(objectname) %(refname)"];
    args.extend_from_slice(prefixes);
    let out = run_git(git_dir, &args, None, cancel)?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(oid, name)| (oid.to_owned(), name.to_owned()))
        .collect())
}

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
    let mapped = refs_under(git_dir, &[MAPPED_NAMESPACE], cancel)?;
    let visible = refs_under(git_dir, &PUBLISHED_NAMESPACES, cancel)?;
    let mut updates = String::from("start\n");
    let mut published = Vec::new();
    for (oid, name) in &mapped {
        let target = format!("refs/{}", &name[MAPPED_NAMESPACE.len()..]);
        updates.push_str(&format!("update {target} {oid}\n"));
        published.push(target);
    }
    for (_, name) in &visible {
        if !published.contains(name) {
            updates.push_str(&format!("delete {name}\n"));
        }
    }
    updates.push_str("commit\n");
    run_git(
        git_dir,
        &["update-ref", "--stdin"],
        Some(updates.into_bytes()),
        cancel,
    )?;
    let branches: Vec<&str> = published
        .iter()
        .filter_map(|r| r.strip_prefix("refs/heads/"))
        .collect();
    let default = preferred
        .into_iter()
        .chain(["main", "master"])
        .find(|b| branches.contains(b))
        .or_else(|| branches.first().copied())
        .map(str::to_owned);
    if let Some(branch) = &default {
        run_git(
            git_dir,
            &["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")],
            None,
            cancel,
        )?;
    }
    Ok(default)
}
