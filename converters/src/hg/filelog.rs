//! Filelogs: the revisions of one tracked file, with copy metadata.
//!
//! A file revision whose text starts with `\x01\n` carries a metadata block
//! of `key: value` lines up to the next `\x01\n` (`copy` and `copyrev` for
//! copies and renames); the file content follows it.

use std::collections::BTreeMap;

use super::error::{Result, RevlogError};
use super::node::Node;
use super::revlog::{Revision, Revlog};

const METADATA_MARKER: &[u8] = b"\x01\n";

/// Where a copied or renamed file came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopySource {
    pub path: Vec<u8>,
    /// The source's filelog node.
    pub node: Node,
}

/// One file revision: content with the metadata block removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRevision {
    pub data: Vec<u8>,
    /// Every metadata key, including `copy` and `copyrev`.
    pub metadata: BTreeMap<Vec<u8>, Vec<u8>>,
    pub copy_source: Option<CopySource>,
}

/// The filelog of one tracked path.
#[derive(Debug)]
pub struct Filelog {
    tracked_path: Vec<u8>,
    revlog: Revlog,
}

impl Filelog {
    pub(crate) fn new(tracked_path: Vec<u8>, revlog: Revlog) -> Filelog {
        Filelog {
            tracked_path,
            revlog,
        }
    }

    /// The tracked path this filelog stores.
    pub fn tracked_path(&self) -> &[u8] {
        &self.tracked_path
    }

    /// The underlying revlog.
    pub fn revlog(&self) -> &Revlog {
        &self.revlog
    }

    /// The file revision named by `node`.
    pub fn file_revision(&self, node: &Node) -> Result<FileRevision> {
        self.file_revision_at(self.revlog.revision_of(node)?)
    }

    /// The file revision at filelog revision `revision`.
    pub fn file_revision_at(&self, revision: Revision) -> Result<FileRevision> {
        let text = self.revlog.revision_text(revision)?;
        split_metadata(text).map_err(|reason| RevlogError::CorruptFileMetadata {
            path: self.revlog.index_path().to_path_buf(),
            revision,
            reason,
        })
    }
}

fn split_metadata(mut text: Vec<u8>) -> std::result::Result<FileRevision, String> {
    if !text.starts_with(METADATA_MARKER) {
        return Ok(FileRevision {
            data: text,
            metadata: BTreeMap::new(),
            copy_source: None,
        });
    }
    let block_len = text[2..]
        .windows(2)
        .position(|window| window == METADATA_MARKER)
        .ok_or("metadata block is not closed")?;
    let mut metadata = BTreeMap::new();
    for line in text[2..2 + block_len].split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let separator = line
            .windows(2)
            .position(|window| window == b": ")
            .ok_or("metadata line without \": \"")?;
        metadata.insert(line[..separator].to_vec(), line[separator + 2..].to_vec());
    }
    let copy_source = match (
        metadata.get(b"copy".as_slice()),
        metadata.get(b"copyrev".as_slice()),
    ) {
        (None, None) => None,
        (Some(path), Some(node)) => Some(CopySource {
            path: path.clone(),
            node: Node::from_hex(node).ok_or("copyrev is not a 40-digit hex node")?,
        }),
        _ => return Err("copy and copyrev must appear together".to_owned()),
    };
    text.drain(..2 + block_len + 2);
    Ok(FileRevision {
        data: text,
        metadata,
        copy_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_copy_metadata() {
        let text = b"\x01\ncopy: src/a.c\ncopyrev: 0123456789abcdef0123456789abcdef01234567\n\x01\ncontent\n";
        let revision = split_metadata(text.to_vec()).expect("valid metadata");
        assert_eq!(revision.data, b"content\n");
        let source = revision.copy_source.expect("copy source");
        assert_eq!(source.path, b"src/a.c");
        assert_eq!(
            source.node.to_hex(),
            "0123456789abcdef0123456789abcdef01234567"
        );
    }

    #[test]
    fn empty_block_protects_content_starting_with_marker() {
        let revision = split_metadata(b"\x01\n\x01\n\x01\nraw".to_vec()).expect("valid");
        assert_eq!(revision.data, b"\x01\nraw");
        assert!(revision.copy_source.is_none());
        let plain = split_metadata(b"plain".to_vec()).expect("valid");
        assert_eq!(plain.data, b"plain");
    }

    #[test]
    fn rejects_bad_metadata() {
        assert!(split_metadata(b"\x01\ncopy: a\n".to_vec()).is_err());
        assert!(split_metadata(b"\x01\ncopy: a\n\x01\n".to_vec()).is_err());
        assert!(split_metadata(b"\x01\nnocolon\n\x01\n".to_vec()).is_err());
        assert!(split_metadata(b"\x01\ncopy: a\ncopyrev: zz\n\x01\n".to_vec()).is_err());
    }
}
