//! Subversion through libsvn's RA layer (file://, svn://, http(s)://): sessions and history
//! replay (`svn_ra_replay_range`) into the [`crate::svn::events`] model.
//!
//! libsvn sessions are not thread-safe: an [`RaSession`] stays on the thread that opened it,
//! and [`read_history`] runs its own reader thread with its own session and pools, handing
//! owned events to the calling thread over a bounded channel (the bindings, pools, errors
//! and the reader thread live in [`crate::svn::libsvn`]). A `file://` history is replayed
//! through a private `svnserve` (`tunnel.rs`).
//!
//! Nodes come in the order libsvn's replay drives its editor, written the way `svnrdump dump`
//! writes them: an added directory before its children, an opened directory (only when its
//! properties changed, `""` for the root) after them, a file once it is closed with its
//! property delta and svndiff text delta, a replaced path as a `Delete` then an `Add`.
//! Deletions come where the drive makes them (svnrdump defers them to the end of their
//! directory; the resulting trees are the same). `svn:entry:*` and `svn:wc:*` properties are
//! dropped.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod auth;
mod editor;
mod egress;
mod history;
mod nodes;
mod session;
mod spool;
mod tunnel;

pub use history::{history_info, read_history, HistoryError, HistoryInfo};
pub use session::RaSession;
