//! The object ids of marks an earlier fast-import session wrote. A session that carries on
//! names those objects by id instead of importing the marks (`--import-marks`), so
//! fast-import holds only its own session's objects, however long the history.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hex;

/// Mark → object id, kept as 20 bytes (saved as 40 hex digits).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MarkIds(BTreeMap<u64, [u8; 20]>);

impl MarkIds {
    /// Records `mark`'s id (40 hex digits); `false` (and nothing recorded) for anything else.
    pub fn insert(&mut self, mark: u64, id: &str) -> bool {
        match hex::decode_id(id.as_bytes()) {
            Some(id) => {
                self.0.insert(mark, id);
                true
            }
            None => false,
        }
    }

    /// The id (hex) of `mark`, if known.
    pub fn get(&self, mark: u64) -> Option<String> {
        self.0.get(&mark).map(|id| hex::encode(id))
    }

    pub fn contains(&self, mark: u64) -> bool {
        self.0.contains_key(&mark)
    }

    /// Keeps only the marks `keep` says.
    pub fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        self.0.retain(|mark, _| keep(*mark));
    }

    /// `(mark, id)` pairs, by mark.
    pub fn iter(&self) -> impl Iterator<Item = (u64, String)> + '_ {
        self.0.iter().map(|(mark, id)| (*mark, hex::encode(id)))
    }
}

impl fmt::Debug for MarkIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for MarkIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for MarkIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = BTreeMap::<u64, String>::deserialize(deserializer)?;
        let mut ids = MarkIds::default();
        for (mark, id) in text {
            if !ids.insert(mark, &id) {
                return Err(D::Error::custom(format!(
                    "mark {mark}: {id:?} is not an object id"
                )));
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn saved_as_hex_by_mark_and_read_back() {
        let mut ids = MarkIds::default();
        assert!(ids.insert(7, ID));
        assert!(!ids.insert(8, "not an id"));
        assert_eq!(ids.get(7).as_deref(), Some(ID));
        assert_eq!(ids.get(8), None);
        let json = serde_json::to_string(&ids).expect("serializes");
        assert_eq!(json, format!("{{\"7\":\"{ID}\"}}"));
        assert_eq!(serde_json::from_str::<MarkIds>(&json).expect("reads"), ids);
        assert!(serde_json::from_str::<MarkIds>("{\"1\":\"xyz\"}").is_err());
    }
}
