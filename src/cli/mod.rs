//! One-shot command-line conversions: `convert`, `detect` and `authors`, running the same
//! pipeline as the server in a private temporary workspace.

mod convert;
mod direct;
mod progress;
mod session;

use std::path::PathBuf;

use clap::Args;
use srcimport_converters::{Credentials, Vcs};

pub use convert::{authors, convert, detect, AuthorsArgs, ConvertArgs};

/// Why a command failed, as its exit code: 2 usage, 3 authentication, 4 source, 1 internal.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Auth(String),
    #[error("{0}")]
    Source(String),
    #[error("{0}")]
    Internal(String),
}

impl CliError {
    /// The source wanted credentials, or refused those given.
    pub fn auth_failed(url: &str) -> CliError {
        CliError::Auth(format!(
            "{}: authentication failed; give --username, and the password in \
             --password-file or SRCIMPORT_SOURCE_PASSWORD",
            srcimport_converters::url_policy::redact(url)
        ))
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Auth(_) => 3,
            CliError::Source(_) => 4,
            CliError::Internal(_) => 1,
        }
    }
}

impl From<crate::store::StoreError> for CliError {
    fn from(error: crate::store::StoreError) -> Self {
        CliError::Internal(error.to_string())
    }
}

impl From<crate::git::GitError> for CliError {
    fn from(error: crate::git::GitError) -> Self {
        CliError::Internal(error.to_string())
    }
}

/// Options every command that reads a source takes.
#[derive(Args, Clone, Debug)]
pub struct SourceArgs {
    /// The source repository: a URL or a local path (relative paths are fine).
    #[arg(value_parser = absolute_if_local)]
    pub source: String,
    /// The source's version control system (detected when omitted).
    #[arg(long, value_parser = ["git", "subversion", "mercurial", "tfvc"])]
    pub vcs: Option<String>,
    /// User name for the source.
    #[arg(long)]
    pub username: Option<String>,
    /// File holding the source password or token (or set SRCIMPORT_SOURCE_PASSWORD);
    /// never given on the command line.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

/// A source that names an existing local path becomes that path made absolute (the URL
/// policy reads only absolute paths and URLs); anything else is kept as given.
fn absolute_if_local(source: &str) -> Result<String, String> {
    let path = std::path::Path::new(source);
    if source.contains("://") || !path.exists() {
        return Ok(source.to_owned());
    }
    std::path::absolute(path)
        .map(|absolute| absolute.to_string_lossy().into_owned())
        .map_err(|e| format!("{source}: {e}"))
}

impl SourceArgs {
    pub fn vcs(&self) -> Option<Vcs> {
        self.vcs.as_deref().and_then(Vcs::parse)
    }

    pub fn credentials(&self) -> Result<Option<Credentials>, CliError> {
        let password = match &self.password_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
            ),
            None => std::env::var("SRCIMPORT_SOURCE_PASSWORD").ok(),
        };
        Ok(match (&self.username, password) {
            (None, None) => None,
            (username, password) => Some(Credentials {
                username: username.clone().unwrap_or_default(),
                password: password.unwrap_or_default(),
            }),
        })
    }
}
