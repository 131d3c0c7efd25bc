//! Listing refs, and ref transactions that touch only the refs that change: every ref an
//! `update-ref` transaction names costs a lock file, even when its value stays (0.3 s for
//! the 360 raw refs of a 30,000-revision Subversion import under load), so a sync that
//! moves one branch writes one ref.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use srcimport_converters::Cancel;

use super::{run_git, GitError};

/// `(object id, ref name)` of every ref under `prefixes`.
pub fn refs_under(
    git_dir: &Path,
    prefixes: &[&str],
    cancel: &Cancel,
) -> Result<Vec<(String, String)>, GitError> {
    let listed = list(git_dir, "%(objectname) %(refname)", prefixes, cancel)?;
    Ok(listed
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(oid, name)| (oid.to_owned(), name.to_owned()))
        .collect())
}

/// `(object id, object type, ref name)` of every ref under `prefixes`.
pub fn typed_refs_under(
    git_dir: &Path,
    prefixes: &[&str],
    cancel: &Cancel,
) -> Result<Vec<(String, String, String)>, GitError> {
    let listed = list(
        git_dir,
        "%(objectname) %(objecttype) %(refname)",
        prefixes,
        cancel,
    )?;
    Ok(listed
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            Some((
                parts.next()?.to_owned(),
                parts.next()?.to_owned(),
                parts.next()?.to_owned(),
            ))
        })
        .collect())
}

/// `git for-each-ref` of the refs under `prefixes`, a line each in `format`.
fn list(
    git_dir: &Path,
    format: &str,
    prefixes: &[&str],
    cancel: &Cancel,
) -> Result<String, GitError> {
    let format = format!("--format={format}");
    let mut args = vec!["for-each-ref", format.as_str()];
    args.extend_from_slice(prefixes);
    let out = run_git(git_dir, &args, None, cancel)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Deletes every ref under `prefixes`, in one transaction.
pub fn delete_refs(git_dir: &Path, prefixes: &[&str], cancel: &Cancel) -> Result<(), GitError> {
    let stale = refs_under(git_dir, prefixes, cancel)?;
    set_listed_refs(git_dir, &stale, &[], |_| true, cancel)
}

/// Points each ref of `wanted` (name, object id) at its object and deletes every other ref
/// of `existing` (`(object id, ref name)`, as [`refs_under`] lists them) that `prune` says
/// goes, in one transaction. Refs already right are left out of it; nothing runs when
/// nothing changes. A `wanted` ref missing from `existing` is written; only listed refs are
/// pruned.
pub fn set_listed_refs(
    git_dir: &Path,
    existing: &[(String, String)],
    wanted: &[(String, String)],
    prune: impl Fn(&str) -> bool,
    cancel: &Cancel,
) -> Result<(), GitError> {
    let existing: BTreeMap<&str, &str> = existing
        .iter()
        .map(|(oid, name)| (name.as_str(), oid.as_str()))
        .collect();
    let mut updates = String::new();
    for (name, oid) in wanted {
        if existing.get(name.as_str()) != Some(&oid.as_str()) {
            updates.push_str(&format!("update {name} {oid}\n"));
        }
    }
    let wanted: HashSet<&str> = wanted.iter().map(|(name, _)| name.as_str()).collect();
    for name in existing.keys() {
        if !wanted.contains(name) && prune(name) {
            updates.push_str(&format!("delete {name}\n"));
        }
    }
    if updates.is_empty() {
        return Ok(());
    }
    let transaction = format!("start\n{updates}commit\n");
    run_git(
        git_dir,
        &["update-ref", "--stdin"],
        Some(transaction.into_bytes()),
        cancel,
    )?;
    Ok(())
}
