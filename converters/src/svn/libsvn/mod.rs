//! What the libsvn readers ([`super::ra`], [`super::fs`]) share: the bindgen bindings, APR
//! pools, `svn_error_t` chains as typed errors, property hashes, initialisation, and the
//! reader thread with its bounded channel.
//!
//! All unsafe code of the Subversion readers lives here and in those two modules.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub(crate) mod error;
pub(crate) mod ffi;
pub(crate) mod init;
pub(crate) mod pool;
pub(crate) mod props;
pub(crate) mod reader;

pub use reader::HistoryError;
