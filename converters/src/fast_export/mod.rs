//! What converters hand back besides their `git fast-import` stream, and the stream itself.

pub mod mark_ids;
pub mod stream;

pub use mark_ids::MarkIds;

/// An annotated tag for the caller to create once the commits exist (fast-import's own
/// `tag` command would write straight into `refs/tags/`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TagToWrite {
    pub git_name: String,
    /// The fast-import mark of the tagged commit.
    pub mark: u64,
    /// `Name <email> seconds +hhmm`.
    pub tagger: String,
    pub message: String,
}

/// Something a conversion could not represent, or repaired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportItem {
    pub kind: String,
    /// The source revision (Subversion revision, TFVC changeset) it concerns.
    pub revision: Option<u64>,
    pub path: Option<String>,
    pub detail: String,
}

/// A blob over the large-file threshold, and where it appears.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LargeBlob {
    /// The published ref name, e.g. `refs/heads/main`.
    pub ref_name: String,
    /// The path inside that ref's tree.
    pub path: String,
    pub mark: u64,
    pub size: u64,
}
