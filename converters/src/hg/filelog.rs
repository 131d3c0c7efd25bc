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
/// The longest metadata block a streamed revision may start with.
const METADATA_LIMIT: usize = 1 << 20;

/// What [`Filelog::stream_content`] gives, in order: the content's length once, then its
/// bytes in pieces.
#[derive(Debug, PartialEq, Eq)]
pub enum Streamed<'a> {
    Length(u64),
    Bytes(&'a [u8]),
}

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

    /// The length of the stored text of the revision named by `node`, metadata block
    /// included: an upper bound of its content's length, known without reading it.
    pub fn stored_len(&self, node: &Node) -> Result<u64> {
        self.revlog.text_len(self.revlog.revision_of(node)?)
    }

    /// Streams the content of the revision named by `node` (metadata block removed) to
    /// `sink`, never holding it whole (see [`Revlog::stream_text`]): for files too large to
    /// read into memory. On an error, what `sink` was given is void.
    pub fn stream_content<E: From<RevlogError>>(
        &self,
        node: &Node,
        mut sink: impl FnMut(Streamed<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let revision = self.revlog.revision_of(node)?;
        let stored_len = self.revlog.text_len(revision)?;
        let corrupt = |reason: String| RevlogError::CorruptFileMetadata {
            path: self.revlog.index_path().to_path_buf(),
            revision,
            reason,
        };
        // The start of the text, held until the metadata block (if any) has gone by.
        let mut head: Option<Vec<u8>> = Some(Vec::new());
        let begin =
            |head: &[u8], sink: &mut dyn FnMut(Streamed<'_>) -> std::result::Result<(), E>| {
                let metadata_len = metadata_len(head).map_err(|e| E::from(corrupt(e)))?;
                sink(Streamed::Length(stored_len - metadata_len as u64))?;
                sink(Streamed::Bytes(&head[metadata_len..]))
            };
        self.revlog.stream_text(revision, |piece| {
            let Some(held) = head.as_mut() else {
                return sink(Streamed::Bytes(piece));
            };
            held.extend_from_slice(piece);
            let decided = !held.starts_with(&METADATA_MARKER[..held.len().min(2)])
                || (held.len() >= 4 && held[2..].windows(2).any(|w| w == METADATA_MARKER));
            if decided || held.len() > METADATA_LIMIT {
                let held = head.take().unwrap_or_default();
                begin(&held, &mut sink)?;
            }
            Ok(())
        })?;
        if let Some(held) = head {
            begin(&held, &mut sink)?;
        }
        Ok(())
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

/// The length of the metadata block `text` starts with (0 without one), checked.
fn metadata_len(text: &[u8]) -> std::result::Result<usize, String> {
    Ok(parse_metadata(text)?.map_or(0, |(len, _)| len))
}

/// The metadata block `text` starts with, if any: its length and its entries.
#[allow(clippy::type_complexity)]
fn parse_metadata(
    text: &[u8],
) -> std::result::Result<Option<(usize, BTreeMap<Vec<u8>, Vec<u8>>)>, String> {
    if !text.starts_with(METADATA_MARKER) {
        return Ok(None);
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
    copy_source(&metadata)?;
    Ok(Some((2 + block_len + 2, metadata)))
}

fn copy_source(
    metadata: &BTreeMap<Vec<u8>, Vec<u8>>,
) -> std::result::Result<Option<CopySource>, String> {
    match (
        metadata.get(b"copy".as_slice()),
        metadata.get(b"copyrev".as_slice()),
    ) {
        (None, None) => Ok(None),
        (Some(path), Some(node)) => Ok(Some(CopySource {
            path: path.clone(),
            node: Node::from_hex(node).ok_or("copyrev is not a 40-digit hex node")?,
        })),
        _ => Err("copy and copyrev must appear together".to_owned()),
    }
}

fn split_metadata(mut text: Vec<u8>) -> std::result::Result<FileRevision, String> {
    let Some((len, metadata)) = parse_metadata(&text)? else {
        return Ok(FileRevision {
            data: text,
            metadata: BTreeMap::new(),
            copy_source: None,
        });
    };
    let copy_source = copy_source(&metadata)?;
    text.drain(..len);
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
