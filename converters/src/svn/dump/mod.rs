//! Streaming parser for Subversion dump files (`svnadmin dump`, `svnrdump dump`) and svndiff deltas.
//!
//! [`DumpReader`] pulls [`Record`]s one at a time; a node's text is a
//! [`TextReader`] borrowed from the parser, so neither the dump nor any file
//! text is ever held in memory whole. [`apply_svndiff`] rebuilds a full text
//! from a `Text-delta: true` node. [`DumpValidator`] checks what
//! `svnadmin load` would refuse (bad `svn:` properties, paths that do not
//! exist). Every error is a [`DumpError`] naming a byte offset.

mod error;
mod headers;
mod input;
mod limits;
mod node_header;
mod props;
mod reader;
mod record;
mod svndiff;
mod text;
mod validate;

pub use error::DumpError;
pub use limits::Limits;
pub use reader::DumpReader;
pub use record::{
    property, Checksums, CopyFrom, NodeAction, NodeHeader, NodeKind, NodeRecord, Properties,
    Record, RevisionRecord,
};
pub use svndiff::{apply_svndiff, SVNDIFF_MAX_WINDOW};
pub use text::TextReader;
pub use validate::DumpValidator;
