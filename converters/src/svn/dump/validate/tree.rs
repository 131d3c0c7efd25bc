//! The history of a repository's tree: which paths existed in which revisions.
//!
//! Only paths a dump names explicitly are stored. A copied directory keeps a
//! link to its source instead of copies of its children, so tagging a large
//! tree costs one entry, not one per file: a path under a copy exists if its
//! counterpart existed in the copy source and nothing deleted it since.

use std::collections::BTreeMap;

use super::parent_of;
use crate::svn::dump::record::NodeKind;

/// One span of revisions during which a path existed.
#[derive(Debug, Clone)]
struct Lifetime {
    /// Revision that created it.
    added: u64,
    /// Revision that removed it; `u64::MAX` while it exists. A lifetime with
    /// `removed == added` is a tombstone: it records the deletion of a path
    /// that only existed through a copied parent.
    removed: u64,
    kind: Option<NodeKind>,
    /// For a copy: the source path and revision.
    copied_from: Option<(String, u64)>,
}

impl Lifetime {
    fn contains(&self, revision: u64) -> bool {
        self.added <= revision && revision < self.removed
    }
}

/// Every path the dump named, with the spans of revisions it existed in.
#[derive(Debug, Default)]
pub(super) struct TreeHistory {
    paths: BTreeMap<String, Vec<Lifetime>>,
}

impl TreeHistory {
    /// `Some(kind)` if `path` exists at the end of `revision` (for the
    /// revision being read: as far as it has been read), `None` otherwise.
    pub(super) fn kind_at(&self, path: &str, revision: u64) -> Option<Option<NodeKind>> {
        let mut path = path.to_string();
        let mut revision = revision;
        // Each step follows a copy to a strictly earlier revision, so this ends.
        loop {
            if path.is_empty() {
                return Some(Some(NodeKind::Dir));
            }
            if let Some(lifetime) = self.lifetime_at(&path, revision) {
                return Some(lifetime.kind);
            }
            let (ancestor, copy) = self.nearest_existing_ancestor(&path, revision)?;
            let (source, source_revision) = copy.copied_from.as_ref()?;
            if self.deleted_below(ancestor, &path, copy.added, revision) {
                return None;
            }
            let relative = path[ancestor.len()..].trim_start_matches('/');
            path = if source.is_empty() {
                relative.to_string()
            } else {
                format!("{source}/{relative}")
            };
            revision = *source_revision;
        }
    }

    /// The lifetime of `path` that covers `revision`, if any.
    fn lifetime_at(&self, path: &str, revision: u64) -> Option<&Lifetime> {
        self.paths
            .get(path)?
            .iter()
            .rev()
            .find(|lifetime| lifetime.contains(revision))
    }

    /// The closest proper ancestor of `path` with a lifetime covering
    /// `revision` (the root has none: it is never stored).
    fn nearest_existing_ancestor<'p>(
        &self,
        path: &'p str,
        revision: u64,
    ) -> Option<(&'p str, &Lifetime)> {
        let mut ancestor = parent_of(path);
        while !ancestor.is_empty() {
            if let Some(lifetime) = self.lifetime_at(ancestor, revision) {
                return Some((ancestor, lifetime));
            }
            ancestor = parent_of(ancestor);
        }
        None
    }

    /// Whether `path` or a directory between it and `ancestor` was created
    /// (and so, not existing now, later removed) after `since` and by `revision`.
    fn deleted_below(&self, ancestor: &str, path: &str, since: u64, revision: u64) -> bool {
        let mut node = path;
        while node.len() > ancestor.len() {
            let touched = self.paths.get(node).is_some_and(|lifetimes| {
                lifetimes
                    .iter()
                    .any(|lifetime| lifetime.added >= since && lifetime.added <= revision)
            });
            if touched {
                return true;
            }
            node = parent_of(node);
        }
        false
    }

    /// Records that `path` was added in `revision`.
    pub(super) fn add(&mut self, path: &str, kind: Option<NodeKind>, revision: u64) {
        self.push(
            path,
            Lifetime {
                added: revision,
                removed: u64::MAX,
                kind,
                copied_from: None,
            },
        );
    }

    /// Records that `path` was copied from `source`@`source_revision` in
    /// `revision`; `source_revision` must be earlier than `revision`.
    pub(super) fn add_copy(
        &mut self,
        path: &str,
        kind: Option<NodeKind>,
        revision: u64,
        source: &str,
        source_revision: u64,
    ) {
        let kind = kind.or_else(|| self.kind_at(source, source_revision).flatten());
        self.push(
            path,
            Lifetime {
                added: revision,
                removed: u64::MAX,
                kind,
                copied_from: Some((source.to_string(), source_revision)),
            },
        );
    }

    /// Records that `path`, which exists, and everything below it were
    /// removed in `revision`.
    pub(super) fn remove_subtree(&mut self, path: &str, revision: u64) {
        let prefix = format!("{path}/");
        let stored: Vec<String> = self
            .paths
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(key, _)| key.clone())
            .chain(std::iter::once(path.to_string()))
            .collect();
        let mut removed_explicitly = false;
        for key in stored {
            let Some(lifetime) = self.paths.get_mut(&key).and_then(|all| all.last_mut()) else {
                continue;
            };
            if lifetime.removed == u64::MAX {
                lifetime.removed = revision;
                removed_explicitly |= key == path;
            }
        }
        if !removed_explicitly {
            // The path only existed through a copied parent: leave a tombstone.
            self.push(
                path,
                Lifetime {
                    added: revision,
                    removed: revision,
                    kind: None,
                    copied_from: None,
                },
            );
        }
    }

    fn push(&mut self, path: &str, lifetime: Lifetime) {
        self.paths
            .entry(path.to_string())
            .or_default()
            .push(lifetime);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: Option<NodeKind> = Some(NodeKind::Dir);
    const FILE: Option<NodeKind> = Some(NodeKind::File);

    fn exists(tree: &TreeHistory, path: &str, revision: u64) -> bool {
        tree.kind_at(path, revision).is_some()
    }

    #[test]
    fn copies_are_followed_without_copying_children() {
        let mut tree = TreeHistory::default();
        tree.add("trunk", DIR, 1);
        tree.add("trunk/src", DIR, 1);
        tree.add("trunk/src/main.c", FILE, 1);
        tree.add("tags", DIR, 1);
        tree.add_copy("tags/v1", None, 2, "trunk", 1);
        tree.add_copy("tags/v2", None, 3, "tags/v1", 2);
        assert_eq!(tree.paths.len(), 6, "children of copies are not stored");
        assert_eq!(tree.kind_at("tags/v2/src/main.c", 3), Some(FILE));
        assert_eq!(tree.kind_at("tags/v2", 3), Some(DIR));
        assert!(!exists(&tree, "tags/v2/src/other.c", 3));
        assert!(!exists(&tree, "tags/v2", 2));
    }

    #[test]
    fn deletions_under_copies_are_remembered() {
        let mut tree = TreeHistory::default();
        tree.add("trunk", DIR, 1);
        tree.add("trunk/a", DIR, 1);
        tree.add("trunk/a/f", FILE, 1);
        tree.add_copy("branch", None, 2, "trunk", 1);
        tree.remove_subtree("branch/a", 2);
        assert!(!exists(&tree, "branch/a", 2));
        assert!(!exists(&tree, "branch/a/f", 2));
        assert!(exists(&tree, "trunk/a/f", 2));
        tree.add("branch/a", DIR, 3);
        assert!(exists(&tree, "branch/a", 3));
        assert!(!exists(&tree, "branch/a/f", 3), "re-added empty");
        tree.remove_subtree("trunk", 4);
        assert!(!exists(&tree, "trunk/a/f", 4));
        assert!(exists(&tree, "trunk/a/f", 3), "history is kept");
        tree.add_copy("old", None, 5, "trunk", 3);
        assert!(exists(&tree, "old/a/f", 5));
    }

    #[test]
    fn replacing_a_copied_directory_hides_its_old_children() {
        let mut tree = TreeHistory::default();
        tree.add("a", DIR, 1);
        tree.add("a/x", FILE, 1);
        tree.add("b", DIR, 1);
        tree.add("b/y", FILE, 1);
        tree.add_copy("c", None, 2, "a", 1);
        tree.remove_subtree("c", 3);
        tree.add_copy("c", None, 3, "b", 1);
        assert!(exists(&tree, "c/y", 3));
        assert!(!exists(&tree, "c/x", 3));
        assert!(exists(&tree, "c/x", 2));
    }
}
