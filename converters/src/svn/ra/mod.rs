//! Subversion through libsvn's RA layer (file://, svn://, http(s)://): sessions and history
//! replay (`svn_ra_replay_range`) into the [`crate::svn::events`] model.
//!
//! libsvn sessions are not thread-safe: an [`RaSession`] stays on the thread that opened it,
//! and [`read_history`] runs its own reader thread with its own session and pools, handing
//! owned events to the calling thread over a bounded channel. All unsafe code of the
//! Subversion reader lives in this module.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod auth;
mod editor;
mod error;
mod ffi;
mod history;
mod pool;
mod props;
mod session;
mod spool;

pub use history::{history_info, read_history, HistoryError, HistoryInfo};
pub use session::RaSession;
