//! Old → new commit ids of a rewrite, held as 20-byte binary ids in a sorted array (40 bytes
//! a commit) with a small hash table for the latest: a 30,000-commit history costs about
//! 1.4 MiB this way, against 2.7 MiB in one hash table and 9 MiB as pairs of hex strings.

use std::collections::HashMap;

use super::objects::hex;
use super::tree_rewrite::object_id;
use super::GitError;

/// The latest ids stay in the hash table until there are this many, or an eighth of the
/// settled ones: merging them in costs a pass over the array, so it happens less often as
/// the array grows.
const RECENT_AT_LEAST: usize = 4096;

#[derive(Debug, Default)]
pub struct IdMap {
    /// `(old, new)`, sorted by old id, each old id once.
    settled: Vec<([u8; 20], [u8; 20])>,
    recent: HashMap<[u8; 20], [u8; 20]>,
}

impl IdMap {
    /// A map of `pairs` (`(old, new)`, in any order; a later pair for the same old id wins).
    pub fn from_pairs(mut pairs: Vec<([u8; 20], [u8; 20])>) -> IdMap {
        if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
            pairs.reverse();
            pairs.sort_by_key(|pair| pair.0);
            pairs.dedup_by_key(|pair| pair.0);
        }
        pairs.shrink_to_fit();
        IdMap {
            settled: pairs,
            recent: HashMap::new(),
        }
    }

    /// Records that `old` became `new` (both 40 hex digits).
    pub fn insert(&mut self, old: &str, new: &str) -> Result<(), GitError> {
        self.insert_ids(object_id(old)?, object_id(new)?);
        Ok(())
    }

    /// Records that binary id `old` became `new`.
    pub fn insert_ids(&mut self, old: [u8; 20], new: [u8; 20]) {
        if let Ok(at) = self.settled.binary_search_by_key(&old, |pair| pair.0) {
            self.settled[at].1 = new;
            return;
        }
        self.recent.insert(old, new);
        if self.recent.len() >= RECENT_AT_LEAST.max(self.settled.len() / 8) {
            self.settle();
        }
    }

    /// Merges the recent ids into the sorted array, in place from its end.
    fn settle(&mut self) {
        let mut recent: Vec<([u8; 20], [u8; 20])> = self.recent.drain().collect();
        self.recent.shrink_to(RECENT_AT_LEAST);
        recent.sort_unstable_by_key(|pair| pair.0);
        let old_len = self.settled.len();
        self.settled.reserve_exact(recent.len());
        self.settled
            .resize(old_len + recent.len(), ([0; 20], [0; 20]));
        let (mut from_settled, mut from_recent) = (old_len, recent.len());
        for slot in (0..self.settled.len()).rev() {
            let take_recent = from_recent > 0
                && (from_settled == 0
                    || recent[from_recent - 1].0 > self.settled[from_settled - 1].0);
            self.settled[slot] = if take_recent {
                from_recent -= 1;
                recent[from_recent]
            } else {
                from_settled -= 1;
                self.settled[from_settled]
            };
        }
    }

    /// The new id of binary id `old`, when it changed.
    fn get_id(&self, old: &[u8; 20]) -> Option<&[u8; 20]> {
        self.recent.get(old).or_else(|| {
            self.settled
                .binary_search_by_key(old, |pair| pair.0)
                .ok()
                .map(|at| &self.settled[at].1)
        })
    }

    /// The new id of `old`, in hex, when it changed. Anything that is not an object id
    /// maps to nothing.
    pub fn get(&self, old: &str) -> Option<String> {
        let old = object_id(old).ok()?;
        self.get_id(&old).map(|new| hex(new))
    }

    /// [`IdMap::get`] for an id given as bytes (as in an object's headers).
    pub fn get_bytes(&self, old: &[u8]) -> Option<String> {
        self.get(std::str::from_utf8(old).ok()?)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        self.settled.len() + self.recent.len()
    }

    /// Every `(old, new)` pair, sorted by old id (the map settles first).
    pub fn sorted(&mut self) -> &[([u8; 20], [u8; 20])] {
        self.settle();
        &self.settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_hex_ids_both_ways() {
        let old = "0123456789abcdef0123456789abcdef01234567";
        let new = "89abcdef0123456789abcdef0123456789abcdef";
        let mut map = IdMap::default();
        assert!(map.is_empty());
        map.insert(old, new).expect("valid ids");
        assert_eq!(map.get(old).as_deref(), Some(new));
        assert_eq!(map.get_bytes(old.as_bytes()).as_deref(), Some(new));
        assert_eq!(map.get(new), None);
        assert_eq!(map.get("not an id"), None);
        assert!(map.insert("short", new).is_err());
    }

    /// An id made from a number, spread over the whole range as real ids are.
    fn id(n: u32) -> [u8; 20] {
        let mut id = [0u8; 20];
        id[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
        id[4..8].copy_from_slice(&n.to_be_bytes());
        id
    }

    #[test]
    fn many_ids_settle_sorted_and_all_stay_found() {
        let count = 3 * RECENT_AT_LEAST as u32 + 17;
        let mut map = IdMap::default();
        for n in 0..count {
            map.insert_ids(id(n), id(n + 1_000_000));
        }
        assert!(
            map.settled.len() >= 2 * RECENT_AT_LEAST,
            "merged more than once"
        );
        assert_eq!(map.len(), count as usize);
        for n in 0..count {
            assert_eq!(map.get_id(&id(n)), Some(&id(n + 1_000_000)), "id {n}");
        }
        assert_eq!(map.get_id(&id(count)), None);
        // A later insert for a settled id replaces it, without a second entry.
        map.insert_ids(id(5), id(7));
        assert_eq!(map.get_id(&id(5)), Some(&id(7)));
        let sorted = map.sorted().to_vec();
        assert_eq!(sorted.len(), count as usize);
        assert!(sorted.is_sorted_by(|a, b| a.0 < b.0));
        // Read back from pairs in any order, the map is the same.
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        assert_eq!(IdMap::from_pairs(shuffled).sorted(), sorted);
    }
}
