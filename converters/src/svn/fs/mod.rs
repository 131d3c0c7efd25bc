//! Subversion through libsvn_repos / libsvn_fs: a local repository (what a `file://` URL
//! names) read directly, revision by revision, into the [`crate::svn::events`] model, with
//! full texts. Much faster than the RA replay over `file://`, which rebuilds texts and
//! computes a delta per file.
//!
//! Like the RA reader, [`read_history`] runs a reader thread of its own (libsvn objects stay
//! on it) and hands owned events to the calling thread over a bounded channel
//! ([`crate::svn::libsvn::reader`]). Nodes come as `svnadmin dump` writes them (see
//! [`nodes`]), in the order libsvn's replay drives the changed paths.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod changes;
mod history;
mod nodes;
mod repos;

pub use history::{read_history, HistoryError};
pub use repos::Repository;
