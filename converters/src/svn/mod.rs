//! Subversion sources: the dump-file reader, the libsvn readers (RA for any URL, fs for a
//! local repository), the event model they produce, and the converter from events to a
//! `git fast-import` stream.

pub mod convert;
pub mod download;
pub mod dump;
pub mod dump_events;
pub mod events;
pub mod fs;
pub mod layout_detect;
mod libsvn;
pub mod probe;
pub mod ra;
pub mod source;
pub use crate::spool;
