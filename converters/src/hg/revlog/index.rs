//! The revlog index: a version header and one 64-byte entry per revision.
//!
//! Entry layout (big-endian):
//! - 6 bytes data offset and 2 bytes revision flags (for revision 0 the
//!   first 4 bytes hold the version header instead of the offset);
//! - 4 bytes compressed length, 4 bytes uncompressed (full text) length;
//! - 4 bytes base revision (delta parent with generaldelta, chain start
//!   without), 4 bytes linked changelog revision;
//! - 4 bytes each for the two parent revisions (-1 for null);
//! - 32 bytes node field holding the 20-byte SHA-1.
//!
//! In an inline revlog, each entry is followed by its chunk in the `.i`
//! file; otherwise chunks live in the `.d` file at the entry's offset.

use super::super::node::Node;

pub(crate) const ENTRY_LEN: usize = 64;
const FLAG_INLINE_DATA: u32 = 1 << 16;
const FLAG_GENERAL_DELTA: u32 = 1 << 17;
const REVLOG_V1: u32 = 1;

/// The format facts read from the first four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexHeader {
    pub(crate) inline: bool,
    pub(crate) general_delta: bool,
}

/// Why the header or an entry could not be read.
#[derive(Debug)]
pub(crate) enum IndexError {
    UnsupportedHeader(u32),
    Corrupt { offset: u64, reason: String },
}

impl IndexHeader {
    pub(crate) fn parse(header: u32) -> Result<IndexHeader, IndexError> {
        let version = header & 0xffff;
        let flags = header & !0xffff;
        if version != REVLOG_V1 || flags & !(FLAG_INLINE_DATA | FLAG_GENERAL_DELTA) != 0 {
            return Err(IndexError::UnsupportedHeader(header));
        }
        Ok(IndexHeader {
            inline: flags & FLAG_INLINE_DATA != 0,
            general_delta: flags & FLAG_GENERAL_DELTA != 0,
        })
    }
}

/// One revision's index entry, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// Where the chunk starts: in the `.d` file, or in the `.i` file for
    /// inline revlogs (already adjusted past the interleaved entries).
    pub(crate) chunk_offset: u64,
    pub(crate) flags: u16,
    pub(crate) compressed_len: u32,
    pub(crate) uncompressed_len: u32,
    pub(crate) base: i32,
    pub(crate) link_rev: i32,
    pub(crate) p1: i32,
    pub(crate) p2: i32,
    pub(crate) node: Node,
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn be_i32(bytes: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn decode_entry(raw: &[u8], is_first: bool) -> IndexEntry {
    let offset_and_flags = u64::from_be_bytes([
        raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
    ]);
    let mut node = [0u8; 20];
    node.copy_from_slice(&raw[32..52]);
    IndexEntry {
        chunk_offset: if is_first { 0 } else { offset_and_flags >> 16 },
        flags: (offset_and_flags & 0xffff) as u16,
        compressed_len: be_u32(raw, 8),
        uncompressed_len: be_u32(raw, 12),
        base: be_i32(raw, 16),
        link_rev: be_i32(raw, 20),
        p1: be_i32(raw, 24),
        p2: be_i32(raw, 28),
        node: Node(node),
    }
}

/// Parses a whole `.i` file. For inline revlogs the chunk offsets are
/// rewritten to point into the `.i` file itself.
pub(crate) fn parse_index(bytes: &[u8]) -> Result<(IndexHeader, Vec<IndexEntry>), IndexError> {
    if bytes.is_empty() {
        return Ok((
            IndexHeader {
                inline: false,
                general_delta: false,
            },
            Vec::new(),
        ));
    }
    if bytes.len() < 4 {
        return Err(IndexError::Corrupt {
            offset: 0,
            reason: format!("{}-byte file is too short for a header", bytes.len()),
        });
    }
    let header = IndexHeader::parse(be_u32(bytes, 0))?;
    let mut entries = Vec::new();
    if header.inline {
        let mut position = 0usize;
        while position < bytes.len() {
            let Some(raw) = bytes.get(position..position + ENTRY_LEN) else {
                return Err(IndexError::Corrupt {
                    offset: position as u64,
                    reason: "truncated index entry".to_owned(),
                });
            };
            let mut entry = decode_entry(raw, entries.is_empty());
            let chunk_start = position + ENTRY_LEN;
            let chunk_end = chunk_start + entry.compressed_len as usize;
            if chunk_end > bytes.len() {
                return Err(IndexError::Corrupt {
                    offset: position as u64,
                    reason: format!(
                        "chunk of {} bytes runs past the end of the file",
                        entry.compressed_len
                    ),
                });
            }
            entry.chunk_offset = chunk_start as u64;
            entries.push(entry);
            position = chunk_end;
        }
    } else {
        if bytes.len() % ENTRY_LEN != 0 {
            return Err(IndexError::Corrupt {
                offset: (bytes.len() - bytes.len() % ENTRY_LEN) as u64,
                reason: format!(
                    "file length {} is not a multiple of {ENTRY_LEN}",
                    bytes.len()
                ),
            });
        }
        entries.reserve(bytes.len() / ENTRY_LEN);
        for raw in bytes.chunks_exact(ENTRY_LEN) {
            let entry = decode_entry(raw, entries.is_empty());
            entries.push(entry);
        }
    }
    Ok((header, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_flags() {
        assert_eq!(
            IndexHeader::parse(0x0003_0001).expect("v1 inline generaldelta"),
            IndexHeader {
                inline: true,
                general_delta: true
            }
        );
        assert!(matches!(
            IndexHeader::parse(0),
            Err(IndexError::UnsupportedHeader(0))
        ));
        assert!(IndexHeader::parse(0x0000_0002).is_err());
        assert!(IndexHeader::parse(0x0004_0001).is_err());
    }

    #[test]
    fn empty_and_short_files() {
        let (_, entries) = parse_index(b"").expect("empty revlog");
        assert!(entries.is_empty());
        assert!(parse_index(b"\0\0").is_err());
        assert!(parse_index(&[0, 1, 0, 1, 0, 0]).is_err());
        let mut split = vec![0u8; ENTRY_LEN + 1];
        split[3] = 1;
        assert!(parse_index(&split).is_err());
    }
}
