//! Sparse facts about paths (a file's mode, a directory's ignore patterns) kept through
//! history, so a copy from any earlier revision brings the facts of its source along.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Span<T> {
    from: u64,
    until: Option<u64>,
    value: T,
}

/// For each path, the values it had and the revisions it had them in. Only paths with a
/// fact are stored, so the index stays as small as the facts are rare.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathFacts<T> {
    entries: BTreeMap<String, Vec<Span<T>>>,
}

impl<T> Default for PathFacts<T> {
    fn default() -> Self {
        PathFacts {
            entries: BTreeMap::new(),
        }
    }
}

/// Whether `path` is `prefix` or below it (`""` holds everything).
pub(super) fn is_under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// The entries of a path-keyed map at or below `prefix`, found by a range scan.
pub(super) fn under<'m, V>(
    map: &'m BTreeMap<String, V>,
    prefix: &'m str,
) -> impl Iterator<Item = (&'m String, &'m V)> + 'm {
    map.range(prefix.to_owned()..)
        .take_while(move |(path, _)| path.starts_with(prefix))
        .filter(move |(path, _)| is_under(path, prefix))
}

impl<T: Clone> PathFacts<T> {
    /// The value `path` has now.
    pub fn current(&self, path: &str) -> Option<&T> {
        let last = self.entries.get(path)?.last()?;
        last.until.is_none().then_some(&last.value)
    }

    /// The value `path` had at the end of revision `revision`.
    pub fn at(&self, path: &str, revision: u64) -> Option<&T> {
        self.entries
            .get(path)?
            .iter()
            .rev()
            .find(|s| s.from <= revision && s.until.is_none_or(|u| u > revision))
            .map(|s| &s.value)
    }

    /// Gives `path` a new value (or none) from revision `revision` on.
    pub fn set(&mut self, path: &str, revision: u64, value: Option<T>) {
        let spans = self.entries.entry(path.to_owned()).or_default();
        if let Some(last) = spans.last_mut() {
            if last.until.is_none() {
                if last.from == revision {
                    spans.pop();
                } else {
                    last.until = Some(revision);
                }
            }
        }
        if let Some(value) = value {
            spans.push(Span {
                from: revision,
                until: None,
                value,
            });
        }
        if spans.is_empty() {
            self.entries.remove(path);
        }
    }

    fn paths_under(&self, prefix: &str) -> Vec<String> {
        under(&self.entries, prefix)
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// Ends every fact at or below `prefix` (a deletion).
    pub fn clear_under(&mut self, prefix: &str, revision: u64) {
        for path in self.paths_under(prefix) {
            if self.current(&path).is_some() {
                self.set(&path, revision, None);
            }
        }
    }

    /// Gives everything below `dest` the facts `src` had below it at `src_revision` (a copy).
    pub fn copy_under(&mut self, src: &str, src_revision: u64, dest: &str, revision: u64) {
        let copied: Vec<(String, T)> = self
            .paths_under(src)
            .into_iter()
            .filter_map(|path| {
                let value = self.at(&path, src_revision)?.clone();
                let rest = &path[src.len()..];
                let target = if dest.is_empty() {
                    rest.trim_start_matches('/').to_owned()
                } else if src.is_empty() && !rest.is_empty() {
                    format!("{dest}/{rest}")
                } else {
                    format!("{dest}{rest}")
                };
                Some((target, value))
            })
            .collect();
        for (path, value) in copied {
            self.set(&path, revision, Some(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_revisions_and_copies() {
        let mut facts = PathFacts::default();
        facts.set("trunk/run.sh", 2, Some(0o100755));
        facts.set("trunk/runner", 3, Some(0o100755));
        facts.set("trunk/run.sh", 5, None);
        assert_eq!(facts.current("trunk/run.sh"), None);
        assert_eq!(facts.at("trunk/run.sh", 4), Some(&0o100755));
        assert_eq!(facts.at("trunk/run.sh", 5), None);
        assert_eq!(facts.at("trunk/run.sh", 1), None);

        facts.copy_under("trunk", 4, "branches/b", 6);
        assert_eq!(facts.current("branches/b/run.sh"), Some(&0o100755));
        assert_eq!(facts.current("branches/b/runner"), Some(&0o100755));
        assert_eq!(facts.current("trunkx"), None);

        facts.clear_under("branches/b", 7);
        assert_eq!(facts.current("branches/b/runner"), None);
        assert_eq!(facts.at("branches/b/runner", 6), Some(&0o100755));
    }

    #[test]
    fn setting_twice_in_one_revision_keeps_the_last() {
        let mut facts = PathFacts::default();
        facts.set("a", 1, Some(1));
        facts.set("a", 2, Some(2));
        facts.set("a", 2, Some(3));
        assert_eq!(facts.at("a", 1), Some(&1));
        assert_eq!(facts.at("a", 2), Some(&3));
        facts.copy_under("", 2, "copy", 3);
        assert_eq!(facts.current("copy/a"), Some(&3));
    }
}
