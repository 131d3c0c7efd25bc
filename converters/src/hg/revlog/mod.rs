//! A read-only revlog: index, chunk storage, delta chains and hash checks.

mod chunk;
mod index;
mod mpatch;
mod stream;

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

    /// The length of `revision`'s full text, from the index.
    pub fn text_len(&self, revision: Revision) -> Result<u64> {
        Ok(u64::from(self.entry(revision)?.uncompressed_len))
    }

    /// Gives the full text of `revision` to `sink` in pieces, in order, holding only the
    /// deltas of its chain (the snapshot is decompressed as it is read). The text is checked
    /// against its node id once it has all gone by: on an error the pieces given are void.
    pub fn stream_text<E: From<RevlogError>>(
        &self,
        revision: Revision,
        mut sink: impl FnMut(&[u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let entry = self.entry(revision)?;
        if entry.flags != 0 {
            return Err(RevlogError::UnsupportedRevisionFlags {
                path: self.index_path.clone(),
                revision,
                flags: entry.flags,
            }
            .into());
        }
        let (chain, starts_from_empty) = self.delta_chain(revision)?;
        let mut oldest_first = chain.iter().rev().copied();
        let corrupt = |chain_revision: Revision, reason: String| RevlogError::CorruptDelta {
            path: self.index_path.clone(),
            revision: chain_revision,
            reason,
        };
        let mut reader = ChunkReader::new(self)?;
        let mut text: Box<dyn Read + '_> = Box::new(std::io::empty());
        let mut text_len = 0usize;
        if !starts_from_empty {
            if let Some(snapshot) = oldest_first.next() {
                let snapshot_entry = self.entry(snapshot)?;
                text_len = snapshot_entry.uncompressed_len as usize;
                let stored = ChunkReader::new(self)?.stream(snapshot, snapshot_entry)?;
                let decompressed =
                    chunk::decompressing(stored).map_err(|error| RevlogError::CorruptChunk {
                        path: self.index_path.clone(),
                        revision: snapshot,
                        offset: snapshot_entry.chunk_offset,
                        reason: error.0,
                    })?;
                text = Box::new(decompressed.take(text_len as u64));
            }
        }
        for chain_revision in oldest_first {
            let chain_entry = self.entry(chain_revision)?;
            let expected_len = chain_entry.uncompressed_len as usize;
            let chunk = reader.read(chain_revision, chain_entry)?;
            let delta = chunk::decompress_chunk(&chunk, max_delta_len(text_len, expected_len))
                .map_err(|error| RevlogError::CorruptChunk {
                    path: self.index_path.clone(),
                    revision: chain_revision,
                    offset: chain_entry.chunk_offset,
                    reason: error.0,
                })?;
            let hunks = mpatch::hunks(&delta).map_err(|e| corrupt(chain_revision, e.0))?;
            mpatch::check_source_len(&hunks, text_len).map_err(|e| corrupt(chain_revision, e.0))?;
            let patched_len = mpatch::patched_len(&hunks, text_len);
            if patched_len != expected_len {
                return Err(corrupt(
                    chain_revision,
                    format!("text is {patched_len} bytes, index says {expected_len}"),
                )
                .into());
            }
            text = Box::new(stream::Patched::new(text, delta, hunks));
            text_len = expected_len;
        }
        let mut hasher = self.node_hasher(revision)?;
        let mut given = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let read = match text.read(&mut buf) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(corrupt(revision, error.to_string()).into()),
            };
            hasher.update(&buf[..read]);
            given += read;
            sink(&buf[..read])?;
        }
        if given != text_len {
            return Err(corrupt(
                revision,
                format!("text is {given} bytes, index says {text_len}"),
            )
            .into());
        }
        Ok(self.check_node(revision, hasher)?)
    }

    /// A node hasher for `revision`, fed its parents: the text comes next.
    fn node_hasher(&self, revision: Revision) -> Result<Sha1> {
        let [p1, p2] = self.parent_nodes(revision)?;
        let (first, second) = if p1 <= p2 { (p1, p2) } else { (p2, p1) };
        let mut hasher = Sha1::new();
        hasher.update(&first.0);
        hasher.update(&second.0);
        Ok(hasher)
    }

    fn verify_hash(&self, revision: Revision, text: &[u8]) -> Result<()> {
        let mut hasher = self.node_hasher(revision)?;
        hasher.update(text);
        self.check_node(revision, hasher)
    }

    fn check_node(&self, revision: Revision, hasher: Sha1) -> Result<()> {
        let expected = self.entry(revision)?.node;
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

    /// The stored chunk of `revision` as a reader (for chunks too large to hold).
    fn stream(mut self, revision: Revision, entry: &IndexEntry) -> Result<Box<dyn Read + 'a>> {
        if let Some(bytes) = self.inline_chunk(revision, entry)? {
            return Ok(Box::new(bytes));
        }
        if entry.compressed_len == 0 {
            return Ok(Box::new(std::io::empty()));
        }
        self.open_data_file(revision, entry)?;
        let data_path = &self.revlog.data_path;
        let Some((mut file, _)) = self.data_file.take() else {
            return Ok(Box::new(std::io::empty()));
        };
        file.seek(SeekFrom::Start(entry.chunk_offset))
            .map_err(|error| RevlogError::io(data_path, error))?;
        Ok(Box::new(
            std::io::BufReader::with_capacity(1 << 16, file).take(u64::from(entry.compressed_len)),
        ))
    }

    /// The chunk of `revision` in an inline revlog's `.i` bytes; `None` for a split revlog.
    fn inline_chunk(&self, revision: Revision, entry: &IndexEntry) -> Result<Option<&'a [u8]>> {
        let Some(bytes) = &self.revlog.inline_bytes else {
            return Ok(None);
        };
        let start = entry.chunk_offset as usize;
        bytes
            .get(start..start.saturating_add(entry.compressed_len as usize))
            .map(Some)
            .ok_or_else(|| {
                out_of_bounds(revision, entry, bytes.len() as u64, &self.revlog.index_path)
            })
    }

    /// Opens the `.d` file (once) and checks that `entry`'s chunk lies within it.
    fn open_data_file(&mut self, revision: Revision, entry: &IndexEntry) -> Result<()> {
        let data_path = &self.revlog.data_path;
        if self.data_file.is_none() {
            let file = File::open(data_path).map_err(|error| RevlogError::io(data_path, error))?;
            let file_len = file
                .metadata()
                .map_err(|error| RevlogError::io(data_path, error))?
                .len();
            self.data_file = Some((file, file_len));
        }
        if let Some((_, file_len)) = &self.data_file {
            let length = u64::from(entry.compressed_len);
            if entry.chunk_offset.saturating_add(length) > *file_len {
                return Err(out_of_bounds(revision, entry, *file_len, data_path));
            }
        }
        Ok(())
    }

    fn read(&mut self, revision: Revision, entry: &IndexEntry) -> Result<Vec<u8>> {
        let length = u64::from(entry.compressed_len);
        if let Some(bytes) = self.inline_chunk(revision, entry)? {
            return Ok(bytes.to_vec());
        }
        if self.data_file.is_none() && length == 0 {
            return Ok(Vec::new());
        }
        self.open_data_file(revision, entry)?;
        let data_path = &self.revlog.data_path;
        let Some((file, _)) = self.data_file.as_mut() else {
            return Ok(Vec::new());
        };
        let mut chunk = vec![0u8; length as usize];
        file.seek(SeekFrom::Start(entry.chunk_offset))
            .and_then(|_| file.read_exact(&mut chunk))
            .map_err(|error| RevlogError::io(data_path, error))?;
        Ok(chunk)
    }
}

fn out_of_bounds(
    revision: Revision,
    entry: &IndexEntry,
    file_len: u64,
    path: &Path,
) -> RevlogError {
    RevlogError::CorruptChunk {
        path: path.to_path_buf(),
        revision,
        offset: entry.chunk_offset,
        reason: format!(
            "{}-byte chunk runs past the end of the {file_len}-byte file",
            entry.compressed_len
        ),
    }
}

#[cfg(test)]
mod tests;
