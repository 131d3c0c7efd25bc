//! What converters hand back besides their `git fast-import` stream.

/// An annotated tag for the caller to create once the commits exist (fast-import's own
/// `tag` command would write straight into `refs/tags/`).
#[derive(Debug, Clone)]
pub struct TagToWrite {
    pub git_name: String,
    /// The fast-import mark of the tagged commit.
    pub mark: u64,
    /// `Name <email> seconds +hhmm`.
    pub tagger: String,
    pub message: String,
}
