//! The error type shared by every part of the Mercurial reader.

use std::path::PathBuf;

use super::node::Node;
use super::revlog::Revision;

/// Everything that can go wrong while reading a Mercurial repository.
///
/// Each variant names the file it concerns and, where it applies, the
/// revision or byte offset, so a corrupt repository can be diagnosed from
/// the message alone.
#[derive(Debug, thiserror::Error)]
pub enum RevlogError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a Mercurial repository (no .hg directory)", path.display())]
    NotARepository { path: PathBuf },
    #[error("{}: unsupported repository requirement {requirement:?}", path.display())]
    UnsupportedRequirement { path: PathBuf, requirement: String },
    #[error("{}: missing repository requirement {requirement:?}", path.display())]
    MissingRequirement { path: PathBuf, requirement: String },
    #[error("{}: unsupported revlog header {header:#010x}", path.display())]
    UnsupportedRevlogHeader { path: PathBuf, header: u32 },
    #[error("{}: corrupt index at byte {offset}: {reason}", path.display())]
    CorruptIndex {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("{}: revision {revision} does not exist (revlog has {count})", path.display())]
    RevisionOutOfRange {
        path: PathBuf,
        revision: i64,
        count: usize,
    },
    #[error("{}: no revision with node {node}", path.display())]
    UnknownNode { path: PathBuf, node: Node },
    #[error("{}: revision {revision}: data at byte {offset}: {reason}", path.display())]
    CorruptChunk {
        path: PathBuf,
        revision: Revision,
        offset: u64,
        reason: String,
    },
    #[error("{}: revision {revision}: bad delta: {reason}", path.display())]
    CorruptDelta {
        path: PathBuf,
        revision: Revision,
        reason: String,
    },
    #[error("{}: revision {revision}: bad delta chain: {reason}", path.display())]
    CorruptDeltaChain {
        path: PathBuf,
        revision: Revision,
        reason: String,
    },
    #[error("{}: revision {revision}: text hashes to {actual}, index says {expected}", path.display())]
    HashMismatch {
        path: PathBuf,
        revision: Revision,
        expected: Node,
        actual: Node,
    },
    #[error("{}: revision {revision}: unsupported revision flags {flags:#06x}{}", path.display(), if flags & 0x8000 != 0 { " (censored)" } else { "" })]
    UnsupportedRevisionFlags {
        path: PathBuf,
        revision: Revision,
        flags: u16,
    },
    #[error("{}: revision {revision}: bad changeset: {reason}", path.display())]
    CorruptChangeset {
        path: PathBuf,
        revision: Revision,
        reason: String,
    },
    #[error("{}: revision {revision}: bad manifest: {reason}", path.display())]
    CorruptManifest {
        path: PathBuf,
        revision: Revision,
        reason: String,
    },
    #[error("{}: revision {revision}: bad file metadata: {reason}", path.display())]
    CorruptFileMetadata {
        path: PathBuf,
        revision: Revision,
        reason: String,
    },
}

impl RevlogError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RevlogError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the Mercurial reader.
pub type Result<T, E = RevlogError> = std::result::Result<T, E>;
