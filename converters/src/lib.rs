//! VCS readers for srcimport: detection, fetching and reading of source repositories.
//!
//! This crate knows nothing of the API or job state; the server crate drives it through
//! plain functions that take a [`Cancel`] token and a [`Progress`] sink.

pub mod cancel;
pub mod checkpoint;
pub mod credentials;
pub mod detect;
pub mod error;
pub mod fast_export;
pub mod git;
pub mod hex;
pub mod hg;
pub mod http;
pub mod process;
pub mod progress;
pub mod refnames;
pub mod spool;
pub mod svn;
pub mod tfvc;
pub mod url_policy;

pub use cancel::Cancel;
pub use credentials::Credentials;
pub use detect::{Detection, ProjectChoice, Vcs};
pub use error::SourceError;
pub use progress::{Progress, ProgressEvent};
