//! Errors raised while detecting or reading a source repository.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source asked for credentials and none were given.
    #[error("{url}: the source requires authentication")]
    AuthRequired { url: String },
    /// The source rejected the credentials given.
    #[error("{url}: the source rejected the credentials")]
    AuthRejected { url: String },
    /// Nothing usable was found at the URL.
    #[error("{url}: {reason}")]
    NotFound { url: String, reason: String },
    /// The URL is refused by policy (scheme, address range, local path).
    #[error("{url}: {reason}")]
    Refused { url: String, reason: String },
    #[error("cancelled")]
    Cancelled,
    #[error("{command} failed: {detail}")]
    Command { command: String, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }

    /// The auth failure for `url`: credentials were missing, or given and refused.
    pub fn auth(url: &str, credentials: Option<&crate::Credentials>) -> Self {
        match credentials {
            Some(_) => SourceError::AuthRejected { url: url.into() },
            None => SourceError::AuthRequired { url: url.into() },
        }
    }

    /// True for failures the user cures by giving (other) credentials.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            SourceError::AuthRequired { .. } | SourceError::AuthRejected { .. }
        )
    }
}
