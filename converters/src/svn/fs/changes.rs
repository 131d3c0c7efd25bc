//! A revision's changed paths (`svn_fs_paths_changed3`), owned and in the order libsvn's
//! replay drives them: sorted by path component by component, so a parent comes before
//! its children.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use super::repos::{Repository, Root};
use crate::svn::events::{CopyFrom, NodeKind};
use crate::svn::libsvn::ffi;
use crate::svn::libsvn::pool::Pool;
use crate::SourceError;

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChangeKind {
    Modify,
    Add,
    Delete,
    Replace,
}

/// One changed path of a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Change {
    /// Repository path without a leading slash.
    pub(super) path: String,
    pub(super) change: ChangeKind,
    /// `None` when the filesystem does not say (the reader looks it up when it needs it).
    pub(super) kind: Option<NodeKind>,
    pub(super) text_mod: bool,
    pub(super) prop_mod: bool,
    /// The copy source of an add or replace.
    pub(super) copy_from: Option<CopyFrom>,
}

/// A path from libsvn (`/trunk/a`) as the events carry it (`trunk/a`).
pub(super) fn relpath(path: &[u8]) -> String {
    String::from_utf8_lossy(path).trim_matches('/').to_owned()
}

/// The node kind libsvn reports, `None` for none or unknown.
pub(super) fn node_kind(kind: ffi::svn_node_kind_t) -> Option<NodeKind> {
    match kind {
        ffi::svn_node_file => Some(NodeKind::File),
        ffi::svn_node_dir => Some(NodeKind::Dir),
        _ => None,
    }
}

/// A copy source as libsvn gives it: null or a negative revision for none.
///
/// # Safety
/// `path` is null or a live C string.
unsafe fn copy_source(path: *const c_char, revision: ffi::svn_revnum_t) -> Option<CopyFrom> {
    if path.is_null() || revision < 0 {
        return None;
    }
    // SAFETY: forwarded from the caller.
    let path = unsafe { CStr::from_ptr(path) }.to_bytes();
    Some(CopyFrom {
        revision: revision as u64,
        path: relpath(path),
    })
}

/// The changes of the revision `root` is the root of, sorted as the replay drives them.
/// Allocations go to `pool`; what is returned is owned.
pub(super) fn paths_changed(
    repository: &Repository,
    root: Root,
    pool: &Pool,
) -> Result<Vec<Change>, SourceError> {
    let mut changes = Vec::new();
    let mut unknown = Vec::new();
    // SAFETY: a live root; the iterator and each change it returns live in `pool` and are
    // copied out before the next call; every error is taken and cleared.
    unsafe {
        let mut iterator: *mut ffi::svn_fs_path_change_iterator_t = ptr::null_mut();
        let error = ffi::svn_fs_paths_changed3(&mut iterator, root.0, pool.as_ptr(), pool.as_ptr());
        repository.check(error, "svn_fs_paths_changed3")?;
        loop {
            let mut change: *mut ffi::svn_fs_path_change3_t = ptr::null_mut();
            let error = ffi::svn_fs_path_change_get(&mut change, iterator);
            repository.check(error, "svn_fs_path_change_get")?;
            if change.is_null() {
                break;
            }
            let change = &*change;
            let path = if change.path.data.is_null() {
                &[][..]
            } else {
                std::slice::from_raw_parts(change.path.data.cast::<u8>(), change.path.len)
            };
            let kind = match change.change_kind {
                ffi::svn_fs_path_change_modify => ChangeKind::Modify,
                ffi::svn_fs_path_change_add => ChangeKind::Add,
                ffi::svn_fs_path_change_delete => ChangeKind::Delete,
                ffi::svn_fs_path_change_replace => ChangeKind::Replace,
                // `reset` only appears in transactions, never in a revision.
                _ => continue,
            };
            changes.push(Change {
                path: relpath(path),
                change: kind,
                kind: node_kind(change.node_kind),
                text_mod: change.text_mod != 0,
                prop_mod: change.prop_mod != 0,
                copy_from: match change.copyfrom_known != 0 {
                    true => copy_source(change.copyfrom_path, change.copyfrom_rev),
                    false => None,
                },
            });
            // Older filesystems may not record copy sources with their changes.
            let added = matches!(kind, ChangeKind::Add | ChangeKind::Replace);
            if added && change.copyfrom_known == 0 {
                unknown.push(changes.len() - 1);
            }
        }
    }
    for index in unknown {
        let path = format!("/{}", changes[index].path);
        changes[index].copy_from = copied_from(repository, root, &path, pool)?;
    }
    sort(&mut changes);
    Ok(changes)
}

/// Where the node at `path` of `root` was copied from, if it was copied there.
fn copied_from(
    repository: &Repository,
    root: Root,
    path: &str,
    pool: &Pool,
) -> Result<Option<CopyFrom>, SourceError> {
    let path = CString::new(path).map_err(|_| SourceError::Command {
        command: "libsvn svn_fs_copied_from".into(),
        detail: format!("{}: a path contains a NUL byte", repository.url()),
    })?;
    let mut revision: ffi::svn_revnum_t = -1;
    let mut source: *const c_char = ptr::null();
    // SAFETY: a live root and path, out pointers and a live pool; the source path is read
    // before the pool is cleared.
    unsafe {
        let error = ffi::svn_fs_copied_from(
            &mut revision,
            &mut source,
            root.0,
            path.as_ptr(),
            pool.as_ptr(),
        );
        repository.check(error, "svn_fs_copied_from")?;
        Ok(copy_source(source, revision))
    }
}

/// Sorts changes by path, component by component (`a/b` before `a-b`), as libsvn's path
/// driver orders them.
pub(super) fn sort(changes: &mut [Change]) {
    changes.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str) -> Change {
        Change {
            path: path.into(),
            change: ChangeKind::Modify,
            kind: None,
            text_mod: false,
            prop_mod: false,
            copy_from: None,
        }
    }

    #[test]
    fn parents_come_before_their_children() {
        let mut changes: Vec<Change> = ["a-b", "a/b/c", "", "a", "a/b", "a.txt", "b"]
            .into_iter()
            .map(change)
            .collect();
        sort(&mut changes);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["", "a", "a/b", "a/b/c", "a-b", "a.txt", "b"]);
    }

    #[test]
    fn paths_lose_their_slashes() {
        assert_eq!(relpath(b"/trunk/a b.txt"), "trunk/a b.txt");
        assert_eq!(relpath(b"/"), "");
    }
}
