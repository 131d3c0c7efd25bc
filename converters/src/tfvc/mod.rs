//! TFVC sources over the Azure DevOps Server / TFS REST API: the client, detection, the
//! reader (changesets, changes, branches, labels, parallel item downloads) and the
//! converter into a `git fast-import` stream.

pub mod checkpoint;
pub mod client;
pub mod convert;
pub mod identity;
pub mod model;
pub mod probe;
pub mod reader;

use crate::SourceError;

/// Everything that can go wrong reading or converting a TFVC source.
#[derive(Debug, thiserror::Error)]
pub enum TfvcError {
    /// Auth, not found, refused by policy, cancelled: the crate-wide meanings.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The server answered with an error status the client does not cure.
    #[error("{url}: HTTP {status}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    /// The connection failed (after the retries).
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    /// The server's answer was not what the REST API documents.
    #[error("{url}: unexpected answer: {message}")]
    Unexpected { url: String, message: String },
    /// A changeset the converter cannot make sense of.
    #[error("changeset {changeset} {path}: {message}")]
    Invalid {
        changeset: u64,
        path: String,
        message: String,
    },
    #[error("writing to git fast-import: {0}")]
    Io(#[from] std::io::Error),
}

impl From<TfvcError> for SourceError {
    fn from(error: TfvcError) -> Self {
        match error {
            TfvcError::Source(source) => source,
            other => SourceError::Command {
                command: "TFVC REST API".into(),
                detail: other.to_string(),
            },
        }
    }
}
