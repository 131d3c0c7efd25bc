//! Repository requirements: which store formats this reader understands.

use std::path::Path;

use super::error::{Result, RevlogError};
use super::store_path::StoreLayout;

/// Requirements that define a store format this reader implements.
const STORE_FORMAT_REQUIREMENTS: &[&str] = &[
    "revlogv1",
    "store",
    "fncache",
    "dotencode",
    "generaldelta",
    "sparserevlog",
    "share-safe",
    "revlog-compression-zstd",
    // The persistent nodemap is a cache of node -> revision; it is ignored.
    "persistent-nodemap",
];

/// Requirements that concern only the working copy, phases, bookmarks or
/// how the store is shared, not the revlogs read here.
const NON_STORE_REQUIREMENTS: &[&str] = &[
    "dirstate-v2",
    "dirstate-tracked-key-v1",
    "bookmarksinstore",
    "internal-phase",
    "internal-phase-2",
    "shared",
    "relshared",
];

/// The parsed requirements of a repository.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requirements {
    names: Vec<String>,
}

impl Requirements {
    /// Parses the contents of a `requires` file (one name per line).
    pub fn parse(path: &Path, contents: &[u8]) -> Result<Requirements> {
        let mut names = Vec::new();
        for line in contents.split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let name = String::from_utf8_lossy(line).into_owned();
            if !STORE_FORMAT_REQUIREMENTS.contains(&name.as_str())
                && !NON_STORE_REQUIREMENTS.contains(&name.as_str())
            {
                return Err(RevlogError::UnsupportedRequirement {
                    path: path.to_path_buf(),
                    requirement: name,
                });
            }
            names.push(name);
        }
        Ok(Requirements { names })
    }

    /// Adds the requirements of another file (`.hg/store/requires`).
    pub(crate) fn extend(&mut self, other: Requirements) {
        for name in other.names {
            if !self.contains(&name) {
                self.names.push(name);
            }
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|known| known == name)
    }

    /// All requirement names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How filelogs are named in the store.
    pub fn store_layout(&self) -> StoreLayout {
        if !self.contains("store") {
            StoreLayout::Basic
        } else if !self.contains("fncache") {
            StoreLayout::Encoded
        } else {
            StoreLayout::Fncache {
                dotencode: self.contains("dotencode"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_and_rejects_unknown() {
        let path = Path::new("requires");
        let requirements =
            Requirements::parse(path, b"dotencode\nfncache\nstore\nrevlogv1\ndirstate-v2\n")
                .expect("supported requirements");
        assert_eq!(
            requirements.store_layout(),
            StoreLayout::Fncache { dotencode: true }
        );
        for unsupported in [
            "treemanifest",
            "revlogv2",
            "changelogv2",
            "exp-sparse",
            "lfs",
        ] {
            let error = Requirements::parse(path, format!("store\n{unsupported}\n").as_bytes())
                .expect_err("unsupported requirement");
            assert!(error.to_string().contains(unsupported), "{error}");
        }
    }

    #[test]
    fn layouts() {
        let path = Path::new("requires");
        let basic = Requirements::parse(path, b"revlogv1\n").expect("basic");
        assert_eq!(basic.store_layout(), StoreLayout::Basic);
        let encoded = Requirements::parse(path, b"revlogv1\nstore\n").expect("encoded");
        assert_eq!(encoded.store_layout(), StoreLayout::Encoded);
    }
}
