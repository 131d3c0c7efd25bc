//! A read-only revlog: index, chunk storage, delta chains and hash checks.

mod chunk;
mod index;
mod mpatch;

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::error::{Result, RevlogError};
use super::node::Node;
use super::sha1::Sha1;
use index::{IndexEntry, IndexError, IndexHeader};

/// A revision number: the position of an entry in its revlog.
pub type Revision = u32;

/// Revision flag: the content was censored and replaced by a tombstone.
pub const FLAG_CENSORED: u16 = 1 << 15;

/// The index facts of one revision, without its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionInfo {
    pub node: Node,
    /// Parent revisions; `None` stands for the null revision.
    pub parents: [Option<Revision>; 2],
    /// The changelog revision that introduced this revision.
    pub link_revision: Revision,
    /// Revision flags (censored, ellipsis, external storage...); the reader
    /// only produces text for revisions with no flags.
    pub flags: u16,
}

/// One revlog opened for reading. The index is held in memory; chunks are
/// read from disk one delta chain at a time.
#[derive(Debug)]
pub struct Revlog {
    index_path: PathBuf,
    data_path: PathBuf,
    header: IndexHeader,
    entries: Vec<IndexEntry>,
    /// The whole `.i` file when chunks are interleaved with the index.
    inline_bytes: Option<Vec<u8>>,
    revision_by_node: HashMap<Node, Revision>,
    /// The last text rebuilt: reading revisions in order then applies one delta each,
    /// not the whole chain from its snapshot.
    last_text: std::sync::Mutex<Option<(Revision, Vec<u8>)>>,
}

impl Revlog {
    /// Opens the revlog whose index is `index_path` (the `.d` file next to
    /// it is read only when needed). A missing index is an error.
    pub fn open(index_path: impl AsRef<Path>) -> Result<Revlog> {
        let index_path = index_path.as_ref();
        let bytes =
            std::fs::read(index_path).map_err(|error| RevlogError::io(index_path, error))?;
        let mut data_path = index_path.as_os_str().to_owned();
        if let Some(stem) = index_path.to_str().and_then(|text| text.strip_suffix(".i")) {
            data_path = format!("{stem}.d").into();
        } else {
            data_path.push(".d");
        }
        Self::from_index_bytes(index_path.to_path_buf(), PathBuf::from(data_path), bytes)
    }

    /// Like [`Revlog::open`], but a missing index is an empty revlog (the
    /// changelog and manifest of an empty repository do not exist yet).
    pub fn open_or_empty(index_path: impl AsRef<Path>) -> Result<Revlog> {
        let index_path = index_path.as_ref();
        if index_path.exists() {
            Self::open(index_path)
        } else {
            Self::from_index_bytes(
                index_path.to_path_buf(),
                index_path.with_extension("d"),
                Vec::new(),
            )
        }
    }

    /// Opens a revlog given its index and data paths explicitly (filelogs
    /// whose hashed store names differ between `.i` and `.d`).
    pub fn open_with_data_path(
        index_path: impl AsRef<Path>,
        data_path: impl AsRef<Path>,
    ) -> Result<Revlog> {
        let index_path = index_path.as_ref();
        let bytes =
            std::fs::read(index_path).map_err(|error| RevlogError::io(index_path, error))?;
        Self::from_index_bytes(
            index_path.to_path_buf(),
            data_path.as_ref().to_path_buf(),
            bytes,
        )
    }

    fn from_index_bytes(index_path: PathBuf, data_path: PathBuf, bytes: Vec<u8>) -> Result<Revlog> {
        let (header, entries) = index::parse_index(&bytes).map_err(|error| match error {
            IndexError::UnsupportedHeader(header) => RevlogError::UnsupportedRevlogHeader {
                path: index_path.clone(),
                header,
            },
            IndexError::Corrupt { offset, reason } => RevlogError::CorruptIndex {
                path: index_path.clone(),
                offset,
                reason,
            },
        })?;
        if entries.len() > i32::MAX as usize {
            return Err(RevlogError::CorruptIndex {
                path: index_path,
                offset: 0,
                reason: "too many revisions".to_owned(),
            });
        }
        let mut revision_by_node = HashMap::with_capacity(entries.len());
        for (revision, entry) in entries.iter().enumerate() {
            revision_by_node
                .entry(entry.node)
                .or_insert(revision as Revision);
        }
        let inline_bytes = header.inline.then_some(bytes);
        Ok(Revlog {
            index_path,
            data_path,
            header,
            entries,
            inline_bytes,
            revision_by_node,
            last_text: std::sync::Mutex::new(None),
        })
    }

    /// The `.i` file this revlog was read from.
    pub fn index_path(&self) -> &Path {
        &self.index_path
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether chunks are interleaved with the index in the `.i` file.
    pub fn is_inline(&self) -> bool {
        self.header.inline
    }

    /// Whether the base field names the delta parent (generaldelta).
    pub fn uses_general_delta(&self) -> bool {
        self.header.general_delta
    }

    fn entry(&self, revision: Revision) -> Result<&IndexEntry> {
        self.entries
            .get(revision as usize)
            .ok_or_else(|| RevlogError::RevisionOutOfRange {
                path: self.index_path.clone(),
                revision: i64::from(revision),
                count: self.entries.len(),
            })
    }

    /// Converts a stored parent/base field (-1 for null) to a revision,
    /// checking that it exists.
    fn stored_revision(&self, stored: i32) -> Result<Option<Revision>> {
        if stored == -1 {
            return Ok(None);
        }
        if stored < 0 || stored as usize >= self.entries.len() {
            return Err(RevlogError::RevisionOutOfRange {
                path: self.index_path.clone(),
                revision: i64::from(stored),
                count: self.entries.len(),
            });
        }
        Ok(Some(stored as Revision))
    }

    /// The node id of `revision`.
    pub fn node(&self, revision: Revision) -> Result<Node> {
        Ok(self.entry(revision)?.node)
    }

    /// Index facts of `revision`: node, parents, link revision, flags.
    pub fn info(&self, revision: Revision) -> Result<RevisionInfo> {
        let entry = self.entry(revision)?;
        let link_revision =
            u32::try_from(entry.link_rev).map_err(|_| RevlogError::CorruptIndex {
                path: self.index_path.clone(),
                offset: revision as u64 * index::ENTRY_LEN as u64,
                reason: format!("negative link revision {}", entry.link_rev),
            })?;
        Ok(RevisionInfo {
            node: entry.node,
            parents: [
                self.stored_revision(entry.p1)?,
                self.stored_revision(entry.p2)?,
            ],
            link_revision,
            flags: entry.flags,
        })
    }

    /// The node ids of both parents of `revision` (null for none).
    pub fn parent_nodes(&self, revision: Revision) -> Result<[Node; 2]> {
        let info = self.info(revision)?;
        let node_of = |parent: Option<Revision>| match parent {
            Some(parent) => self.node(parent),
            None => Ok(Node::NULL),
        };
        Ok([node_of(info.parents[0])?, node_of(info.parents[1])?])
    }

    /// The revision whose node is `node`.
    pub fn revision_of(&self, node: &Node) -> Result<Revision> {
        self.revision_by_node
            .get(node)
            .copied()
            .ok_or_else(|| RevlogError::UnknownNode {
                path: self.index_path.clone(),
                node: *node,
            })
    }

    /// Whether `node` names a revision of this revlog.
    pub fn contains(&self, node: &Node) -> bool {
        self.revision_by_node.contains_key(node)
    }

    /// The full text of `revision`, rebuilt from its delta chain and checked
    /// against its node id.
    pub fn revision_text(&self, revision: Revision) -> Result<Vec<u8>> {
        let entry = self.entry(revision)?;
        if entry.flags != 0 {
            return Err(RevlogError::UnsupportedRevisionFlags {
                path: self.index_path.clone(),
                revision,
                flags: entry.flags,
            });
        }
        let (mut chain, starts_from_empty) = self.delta_chain(revision)?;
        let mut text: Vec<u8> = Vec::new();
        let mut from_cache = false;
        {
            let cached = self.last_text.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((cached_revision, cached_text)) = cached.as_ref() {
                if let Some(position) = chain.iter().position(|r| r == cached_revision) {
                    chain.truncate(position);
                    text = cached_text.clone();
                    from_cache = true;
                }
            }
        }
        if from_cache && chain.is_empty() {
            return Ok(text);
        }
        let mut reader = ChunkReader::new(self)?;
        for (position, &chain_revision) in chain.iter().rev().enumerate() {
            let chain_entry = self.entry(chain_revision)?;
            let expected_len = chain_entry.uncompressed_len as usize;
            let chunk = reader.read(chain_revision, chain_entry)?;
            let is_snapshot = !from_cache && position == 0 && !starts_from_empty;
            let output_limit = if is_snapshot {
                expected_len
            } else {
                max_delta_len(text.len(), expected_len)
            };
            let decompressed = chunk::decompress_chunk(&chunk, output_limit).map_err(|error| {
                RevlogError::CorruptChunk {
                    path: self.index_path.clone(),
                    revision: chain_revision,
                    offset: chain_entry.chunk_offset,
                    reason: error.0,
                }
            })?;
            drop(chunk);
            text = if is_snapshot {
                decompressed
            } else {
                mpatch::apply_delta(&text, &decompressed).map_err(|error| {
                    RevlogError::CorruptDelta {
                        path: self.index_path.clone(),
                        revision: chain_revision,
                        reason: error.0,
                    }
                })?
            };
            if text.len() != expected_len {
                return Err(RevlogError::CorruptDelta {
                    path: self.index_path.clone(),
                    revision: chain_revision,
                    reason: format!("text is {} bytes, index says {expected_len}", text.len()),
                });
            }
        }
        self.verify_hash(revision, &text)?;
        *self.last_text.lock().unwrap_or_else(|p| p.into_inner()) = Some((revision, text.clone()));
        Ok(text)
    }

    /// The revisions whose chunks rebuild `revision`, from `revision` back
    /// to the snapshot, and whether the oldest one is a delta against the
    /// empty text rather than a full snapshot.
    fn delta_chain(&self, revision: Revision) -> Result<(Vec<Revision>, bool)> {
        let mut chain = Vec::new();
        let mut current = revision;
        loop {
            chain.push(current);
            let base = self.entry(current)?.base;
            if base == current as i32 {
                return Ok((chain, false));
            }
            let chain_error = |reason: String| RevlogError::CorruptDeltaChain {
                path: self.index_path.clone(),
                revision,
                reason,
            };
            if self.header.general_delta {
                if base == -1 {
                    return Ok((chain, true));
                }
                if base < 0 || base as Revision >= current {
                    return Err(chain_error(format!(
                        "revision {current} has delta base {base}, which is not an earlier revision"
                    )));
                }
                current = base as Revision;
            } else {
                if current == 0 {
                    return Err(chain_error(format!(
                        "revision 0 has chain base {base} instead of itself"
                    )));
                }
                current -= 1;
            }
        }
    }

    fn verify_hash(&self, revision: Revision, text: &[u8]) -> Result<()> {
        let expected = self.entry(revision)?.node;
        let [p1, p2] = self.parent_nodes(revision)?;
        let (first, second) = if p1 <= p2 { (p1, p2) } else { (p2, p1) };
        let mut hasher = Sha1::new();
        hasher.update(&first.0);
        hasher.update(&second.0);
        hasher.update(text);
        let actual = Node(hasher.finish());
        if actual != expected {
            return Err(RevlogError::HashMismatch {
                path: self.index_path.clone(),
                revision,
                expected,
                actual,
            });
        }
        Ok(())
    }
}

/// The largest delta that can turn a `source_len`-byte text into a
/// `target_len`-byte one: every hunk removes or inserts at least one byte.
fn max_delta_len(source_len: usize, target_len: usize) -> usize {
    source_len
        .saturating_add(target_len)
        .saturating_add(1)
        .saturating_mul(12)
        .saturating_add(target_len)
}

/// Reads raw chunks from the inline `.i` bytes or from the `.d` file.
struct ChunkReader<'a> {
    revlog: &'a Revlog,
    data_file: Option<(File, u64)>,
}

impl<'a> ChunkReader<'a> {
    fn new(revlog: &'a Revlog) -> Result<Self> {
        Ok(ChunkReader {
            revlog,
            data_file: None,
        })
    }

    fn read(&mut self, revision: Revision, entry: &IndexEntry) -> Result<Vec<u8>> {
        let length = u64::from(entry.compressed_len);
        let out_of_bounds = |file_len: u64, path: &Path| RevlogError::CorruptChunk {
            path: path.to_path_buf(),
            revision,
            offset: entry.chunk_offset,
            reason: format!("{length}-byte chunk runs past the end of the {file_len}-byte file"),
        };
        if let Some(bytes) = &self.revlog.inline_bytes {
            let start = entry.chunk_offset as usize;
            return bytes
                .get(start..start.saturating_add(length as usize))
                .map(<[u8]>::to_vec)
                .ok_or_else(|| out_of_bounds(bytes.len() as u64, &self.revlog.index_path));
        }
        let data_path = &self.revlog.data_path;
        if self.data_file.is_none() {
            if length == 0 {
                return Ok(Vec::new());
            }
            let file = File::open(data_path).map_err(|error| RevlogError::io(data_path, error))?;
            let file_len = file
                .metadata()
                .map_err(|error| RevlogError::io(data_path, error))?
                .len();
            self.data_file = Some((file, file_len));
        }
        let Some((file, file_len)) = self.data_file.as_mut() else {
            return Ok(Vec::new());
        };
        if entry.chunk_offset.saturating_add(length) > *file_len {
            return Err(out_of_bounds(*file_len, data_path));
        }
        let mut chunk = vec![0u8; length as usize];
        file.seek(SeekFrom::Start(entry.chunk_offset))
            .and_then(|_| file.read_exact(&mut chunk))
            .map_err(|error| RevlogError::io(data_path, error))?;
        Ok(chunk)
    }
}

#[cfg(test)]
mod tests;
