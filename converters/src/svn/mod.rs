//! Subversion sources: the dump-file reader, the libsvn RA reader (any URL, `file://`
//! included), the event model they produce, and the converter from events to a
//! `git fast-import` stream.

pub mod convert;
pub mod download;
pub mod dump;
pub mod dump_events;
pub mod events;
pub mod layout_detect;
mod libsvn;
pub mod probe;
pub mod ra;
pub mod source;
pub use crate::spool;
