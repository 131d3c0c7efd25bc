//! Subversion sources: the dump-file reader (the libsvn RA reader and the converter follow).

pub mod dump;
pub mod events;
pub mod ra;
