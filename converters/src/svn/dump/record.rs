//! The records a dump is made of, as returned by [`crate::svn::dump::DumpReader`].

use super::text::TextReader;

/// Properties of a revision or node, in dump order: `(name, Some(value))`
/// sets a property, `(name, None)` deletes it (only in a `Prop-delta` block).
pub type Properties = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Looks up the last entry for `name` in a property list.
pub fn property<'p>(properties: &'p Properties, name: &[u8]) -> Option<Option<&'p [u8]>> {
    properties
        .iter()
        .rev()
        .find(|(key, _)| key.as_slice() == name)
        .map(|(_, value)| value.as_deref())
}

/// One record of the dump.
#[derive(Debug)]
pub enum Record<'a, R> {
    /// `SVN-fs-dump-format-version: N`, always the first record.
    FormatVersion { version: u32, offset: u64 },
    /// `UUID: ...`, the repository's UUID.
    Uuid { uuid: String, offset: u64 },
    /// `Revision-number: N` with its revision properties.
    Revision(RevisionRecord),
    /// `Node-path: ...`: one change inside the current revision.
    Node(NodeRecord<'a, R>),
}

/// A revision record: its number and revision properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    pub number: u64,
    pub properties: Properties,
    /// Dump offset of the record's first header line.
    pub offset: u64,
}

/// The kind of versioned item a node record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Dir,
}

/// What a node record does to its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAction {
    Change,
    Add,
    Delete,
    Replace,
}

/// The source of a copy (`Node-copyfrom-rev` and `Node-copyfrom-path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFrom {
    pub revision: u64,
    pub path: String,
}

/// An MD5 and/or SHA-1 checksum pair as found in the dump's headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksums {
    pub md5: Option<[u8; 16]>,
    pub sha1: Option<[u8; 20]>,
}

/// Everything a node record's headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHeader {
    /// Repository path, without a leading slash (`""` is the root).
    pub path: String,
    /// `None` when the dump leaves it out (deletions, some changes).
    pub kind: Option<NodeKind>,
    pub action: NodeAction,
    pub copy_from: Option<CopyFrom>,
    /// `Text-copy-source-md5` / `-sha1`: checksums of the copy source's text.
    pub text_copy_source: Checksums,
    /// `Text-content-md5` / `-sha1`: checksums of the node's full text.
    pub text_content: Checksums,
    /// `Text-delta-base-md5` / `-sha1`: checksums of the delta's base text.
    pub text_delta_base: Checksums,
    /// The text is an svndiff delta against the previous text (or empty text).
    pub text_delta: bool,
    /// The properties are changes against the previous properties.
    pub prop_delta: bool,
    pub prop_content_length: Option<u64>,
    pub text_content_length: Option<u64>,
    pub content_length: Option<u64>,
    /// Headers this parser does not interpret, in dump order.
    pub other_headers: Vec<(String, Vec<u8>)>,
    /// Dump offset of the record's first header line.
    pub offset: u64,
}

/// A node record: headers, properties (if any) and a reader over its text (if any).
#[derive(Debug)]
pub struct NodeRecord<'a, R> {
    /// Boxed to keep [`Record`] small.
    pub header: Box<NodeHeader>,
    /// `None` when the record has no property block (properties unchanged).
    pub properties: Option<Properties>,
    /// `None` when the record has no `Text-content-length`.
    pub text: Option<TextReader<'a, R>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_finds_the_last_entry() {
        let properties: Properties = vec![
            (b"svn:log".to_vec(), Some(b"first".to_vec())),
            (b"svn:eol-style".to_vec(), None),
            (b"svn:log".to_vec(), Some(b"second".to_vec())),
        ];
        assert_eq!(
            property(&properties, b"svn:log"),
            Some(Some(&b"second"[..]))
        );
        assert_eq!(property(&properties, b"svn:eol-style"), Some(None));
        assert_eq!(property(&properties, b"svn:author"), None);
    }
}
