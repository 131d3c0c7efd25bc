//! A native, read-only reader for Mercurial repositories (revlog format v1).
//!
//! [`Repository::open`] checks the requirements and opens the changelog and
//! manifest; [`Repository::filelog`] opens a tracked file's revlog through
//! the store path encoding. Every revision text is rebuilt from its delta
//! chain and verified against its SHA-1 node before it is returned.

mod changelog;
pub mod checkpoint;
mod error;
mod filelog;
mod manifest;
mod node;
mod repo;
mod requirements;
pub mod revlog;
mod sha1;
mod store_path;

pub mod export;

pub mod transport;

pub use changelog::{Changelog, Changeset};
pub use error::{Result, RevlogError};
pub use filelog::{CopySource, FileRevision, Filelog, Streamed};
pub use manifest::{FileFlag, Manifest, ManifestEntry, ManifestLog};
pub use node::Node;
pub use repo::Repository;
pub use requirements::Requirements;
pub use revlog::{Revision, RevisionInfo, Revlog};
pub use store_path::{filelog_store_path, RevlogFile, StoreLayout};
