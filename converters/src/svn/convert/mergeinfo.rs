//! `svn:mergeinfo`: which revisions of which paths have been merged into a directory.

use std::collections::BTreeMap;

/// Merged revision ranges (inclusive) of one source path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranges {
    pub ranges: Vec<(u64, u64)>,
    /// Some range was recorded non-inheritable (`*`): only part of the tree was merged.
    pub partial: bool,
}

impl Ranges {
    pub fn contains(&self, revision: u64) -> bool {
        self.ranges
            .iter()
            .any(|&(start, end)| (start..=end).contains(&revision))
    }

    pub fn max(&self) -> Option<u64> {
        self.ranges.iter().map(|&(_, end)| end).max()
    }
}

/// Parses mergeinfo text: `/path:1-5,7,9-10*` lines. Lines that do not parse are skipped.
pub fn parse(text: &str) -> BTreeMap<String, Ranges> {
    let mut merged = BTreeMap::new();
    for line in text.lines() {
        let Some((path, list)) = line.trim().rsplit_once(':') else {
            continue;
        };
        let mut ranges = Ranges::default();
        for item in list.split(',') {
            let item = item.trim();
            let (item, partial) = match item.strip_suffix('*') {
                Some(rest) => (rest, true),
                None => (item, false),
            };
            let parsed = match item.split_once('-') {
                Some((a, b)) => a.parse().ok().zip(b.parse().ok()),
                None => item.parse().ok().map(|r| (r, r)),
            };
            if let Some(range) = parsed {
                ranges.ranges.push(range);
                ranges.partial |= partial;
            }
        }
        if !ranges.ranges.is_empty() {
            merged.insert(path.trim_start_matches('/').to_owned(), ranges);
        }
    }
    merged
}

/// The sources whose merged ranges grew from `old` to `new`, with their new ranges.
pub fn grown(old: &str, new: &str) -> Vec<(String, Ranges)> {
    let old = parse(old);
    parse(new)
        .into_iter()
        .filter(|(path, ranges)| old.get(path) != Some(ranges))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mergeinfo_parses_and_compares() {
        let info = parse("/branches/feature:4-6,8\n/branches/other:10*\nbroken\n");
        assert_eq!(info["branches/feature"].ranges, vec![(4, 6), (8, 8)]);
        assert!(info["branches/feature"].contains(5));
        assert!(!info["branches/feature"].contains(7));
        assert_eq!(info["branches/feature"].max(), Some(8));
        assert!(info["branches/other"].partial);
        let grown = grown(
            "/branches/feature:4-6",
            "/branches/feature:4-8\n/branches/x:3",
        );
        assert_eq!(grown.len(), 2);
        assert!(super::grown("/a:1", "/a:1").is_empty());
    }
}
