//! The event model both Subversion readers (dump files and libsvn's RA replay) produce, and
//! the converter consumes: revisions, and inside them node changes with optional text.

use std::io::Read;

pub use super::dump::{CopyFrom, NodeAction, NodeKind, Properties};

/// How a node's properties change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PropChange {
    /// The node's properties are as before (or, for a copy, as at the copy source).
    #[default]
    Unchanged,
    /// The complete new property list: anything not listed is gone.
    Replace(Properties),
    /// Changes against the previous properties (or the copy source's): `(name, None)`
    /// deletes a property, `(name, Some(value))` sets it.
    Delta(Properties),
}

/// How a node's text is given, when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextForm {
    /// The full text, of this many bytes.
    Full { length: u64 },
    /// An svndiff (0, 1 or 2) delta against the node's base: the previous text of the same
    /// path, the copy source's text for a copy, or the empty text for a plain add.
    Delta,
}

/// One change inside a revision.
///
/// A replaced node may come either as one `Replace` or as a `Delete` followed by an `Add`
/// of the same path; the converter treats both the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeChange {
    /// Repository path without a leading slash (`""` is the root).
    pub path: String,
    /// `None` only for deletions, where readers may not know it.
    pub kind: Option<NodeKind>,
    pub action: NodeAction,
    pub copy_from: Option<CopyFrom>,
    pub props: PropChange,
    /// `None` when the text is unchanged (or the node is a directory).
    pub text: Option<TextForm>,
    /// Where this node starts in its input (a dump byte offset), for error messages.
    pub offset: Option<u64>,
}

/// Receives a history in order: `begin_revision`, its nodes, `end_revision`, and so on.
/// Revision 0 (or the first revision of a range) may carry no nodes.
pub trait RevisionSink {
    type Error;

    /// Starts revision `number` with its revision properties (`svn:author`, `svn:date`,
    /// `svn:log`, ...).
    fn begin_revision(&mut self, number: u64, properties: &Properties) -> Result<(), Self::Error>;

    /// One node of the current revision. `text` is `Some` exactly when `node.text` is, and
    /// must be read to its end (or dropped) before the next call.
    fn node(&mut self, node: &NodeChange, text: Option<&mut dyn Read>) -> Result<(), Self::Error>;

    /// Ends the current revision.
    fn end_revision(&mut self) -> Result<(), Self::Error>;
}
