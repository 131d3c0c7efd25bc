//! The last text written at each recently changed path, so the next delta against it needs
//! no round trip to fast-import (an `ls` and a `cat-blob` each, which make fast-import map
//! its pack back in). Bounded in bytes, least recently used out first.

use std::collections::BTreeMap;

/// Texts larger than this are not kept.
pub const LARGEST_TEXT: usize = 256 << 10;
/// All texts together stay under this many bytes.
const CAPACITY: usize = 8 << 20;

#[derive(Debug, Default, Clone)]
pub struct TextCache {
    texts: BTreeMap<String, (Vec<u8>, u64)>,
    /// Use stamp → path, oldest first.
    by_age: BTreeMap<u64, String>,
    bytes: usize,
    clock: u64,
}

impl TextCache {
    /// Remembers `text` as the content of `path` now (or forgets it if it is too large).
    pub fn put(&mut self, path: &str, text: Vec<u8>) {
        self.forget(path);
        if text.len() > LARGEST_TEXT {
            return;
        }
        self.clock += 1;
        self.bytes += text.len();
        self.by_age.insert(self.clock, path.to_owned());
        self.texts.insert(path.to_owned(), (text, self.clock));
        while self.bytes > CAPACITY {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            if let Some((text, _)) = self.texts.remove(&oldest) {
                self.bytes -= text.len();
            }
        }
    }

    /// The content of `path`, if it is known.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.texts.get(path).map(|(text, _)| text.as_slice())
    }

    fn forget(&mut self, path: &str) {
        if let Some((text, stamp)) = self.texts.remove(path) {
            self.bytes -= text.len();
            self.by_age.remove(&stamp);
        }
    }

    /// Forgets `prefix` and everything below it (deleted or copied over).
    pub fn forget_under(&mut self, prefix: &str) {
        let below: Vec<String> = super::history::under(&self.texts, prefix)
            .map(|(path, _)| path.clone())
            .collect();
        for path in below {
            self.forget(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_bounded_and_forgotten_by_prefix() {
        let mut cache = TextCache::default();
        cache.put("trunk/a", b"one".to_vec());
        cache.put("trunk/b/c", b"two".to_vec());
        cache.put("trunkx", b"three".to_vec());
        cache.forget_under("trunk");
        assert_eq!(cache.get("trunk/a"), None);
        assert_eq!(cache.get("trunk/b/c"), None);
        assert_eq!(cache.get("trunkx"), Some(&b"three"[..]));
        cache.put("big", vec![0; LARGEST_TEXT + 1]);
        assert_eq!(cache.get("big"), None);
        for n in 0..(CAPACITY / LARGEST_TEXT + 2) {
            cache.put(&format!("f{n}"), vec![1; LARGEST_TEXT]);
        }
        assert!(cache.bytes <= CAPACITY);
        assert_eq!(cache.get("f0"), None, "the oldest went first");
        assert!(cache
            .get(&format!("f{}", CAPACITY / LARGEST_TEXT + 1))
            .is_some());
    }
}
