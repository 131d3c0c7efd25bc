//! Subversion sources: the dump-file reader, the event model both readers produce, and the
//! converter from events to a `git fast-import` stream.

pub mod convert;
pub mod dump;
pub mod dump_events;
pub mod events;
pub mod layout_detect;
pub mod probe;
