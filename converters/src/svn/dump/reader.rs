//! The pull parser: [`DumpReader`] turns a dump stream into [`Record`]s.

use std::io::BufRead;

use super::error::DumpError;
use super::headers::{read_header_block, values, HeaderBlock, HeaderField};
use super::input::Input;
use super::limits::Limits;
use super::node_header::build_node_header;
use super::props::read_properties;
use super::record::{NodeHeader, NodeRecord, Properties, Record, RevisionRecord};
use super::text::{PendingContent, TextReader};

const FORMAT_VERSION_HEADER: &str = "SVN-fs-dump-format-version";

/// A streaming parser for `svnadmin dump` / `svnrdump dump` output (format
/// versions 2 and 3). Memory use is bounded by [`Limits`]; node texts are
/// never buffered but exposed as a [`TextReader`].
///
/// After an error the reader is finished: further calls return `Ok(None)`.
pub struct DumpReader<R> {
    input: Input<R>,
    limits: Limits,
    pending: PendingContent,
    format_version: Option<u32>,
    uuid: Option<String>,
    current_revision: Option<u64>,
    finished: bool,
}

impl<R: BufRead> DumpReader<R> {
    /// A reader with the default [`Limits`].
    pub fn new(input: R) -> Self {
        Self::with_limits(input, Limits::default())
    }

    /// A reader with the given memory caps.
    pub fn with_limits(input: R, limits: Limits) -> Self {
        DumpReader {
            input: Input::new(input),
            limits,
            pending: PendingContent::default(),
            format_version: None,
            uuid: None,
            current_revision: None,
            finished: false,
        }
    }

    /// A reader that continues a dump of `format_version` at byte `offset`, where an
    /// earlier reader saw a revision record begin; `input` starts at that byte.
    pub fn continuing(input: R, format_version: u32, offset: u64) -> Self {
        let mut reader = Self::with_limits(input, Limits::default());
        reader.input = Input::at(reader.input.into_inner(), offset);
        reader.format_version = Some(format_version);
        reader
    }

    /// The dump's format version, once its header has been read.
    pub fn format_version(&self) -> Option<u32> {
        self.format_version
    }

    /// The repository UUID, once its record has been read.
    pub fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    /// The number of the revision whose nodes are being read.
    pub fn current_revision(&self) -> Option<u64> {
        self.current_revision
    }

    /// Bytes of the dump consumed so far.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.input.into_inner()
    }

    /// Reads the next record, first skipping whatever the caller left unread
    /// of the previous one. `Ok(None)` at the end of the dump.
    pub fn next_record(&mut self) -> Result<Option<Record<'_, R>>, DumpError> {
        if self.finished {
            return Ok(None);
        }
        match self.read_record_parts() {
            Ok(Some(parts)) => Ok(Some(self.assemble(parts))),
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(error) => {
                self.finished = true;
                Err(error)
            }
        }
    }

    /// Reads everything of the next record except its text.
    fn read_record_parts(&mut self) -> Result<Option<RecordParts>, DumpError> {
        self.skip_pending_content()?;
        let Some(block) = read_header_block(&mut self.input, &self.limits)? else {
            if self.format_version.is_none() {
                return Err(DumpError::truncated(
                    self.input.offset(),
                    "the dump is empty: no SVN-fs-dump-format-version header",
                ));
            }
            return Ok(None);
        };
        if self.format_version.is_none() && block.get(FORMAT_VERSION_HEADER).is_none() {
            return Err(DumpError::malformed(
                block.offset,
                "a dump must start with an SVN-fs-dump-format-version header",
            ));
        }
        if let Some(field) = block.get(FORMAT_VERSION_HEADER) {
            return self.read_format_version(&block, field).map(Some);
        }
        if let Some(field) = block.get("UUID") {
            return self.read_uuid(&block, field).map(Some);
        }
        if let Some(field) = block.get("Revision-number") {
            return self.read_revision(&block, field).map(Some);
        }
        if block.get("Node-path").is_some() {
            return self.read_node(&block).map(Some);
        }
        Err(DumpError::malformed(
            block.offset,
            format!(
                "record with headers [{}] is neither a format header, UUID, revision nor node",
                block
                    .fields
                    .iter()
                    .map(|field| field.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    fn skip_pending_content(&mut self) -> Result<(), DumpError> {
        let unread = self.pending.text.saturating_add(self.pending.padding);
        self.pending = PendingContent::default();
        self.input.skip(unread, "record content")
    }

    fn read_format_version(
        &mut self,
        block: &HeaderBlock,
        field: &HeaderField,
    ) -> Result<RecordParts, DumpError> {
        if self.format_version.is_some() {
            return Err(DumpError::malformed(
                field.offset,
                "a second SVN-fs-dump-format-version header (concatenated dumps are not supported)",
            ));
        }
        reject_other_headers(block, FORMAT_VERSION_HEADER)?;
        let version = values::number(field)?;
        let version = match version {
            2 | 3 => version as u32,
            _ => {
                return Err(DumpError::UnsupportedVersion {
                    offset: field.offset,
                    version,
                })
            }
        };
        self.format_version = Some(version);
        Ok(RecordParts::FormatVersion {
            version,
            offset: block.offset,
        })
    }

    fn read_uuid(
        &mut self,
        block: &HeaderBlock,
        field: &HeaderField,
    ) -> Result<RecordParts, DumpError> {
        reject_other_headers(block, "UUID")?;
        let uuid = values::text(field)?;
        self.uuid = Some(uuid.clone());
        Ok(RecordParts::Uuid {
            uuid,
            offset: block.offset,
        })
    }

    fn read_revision(
        &mut self,
        block: &HeaderBlock,
        field: &HeaderField,
    ) -> Result<RecordParts, DumpError> {
        let number = values::number(field)?;
        let layout = self.content_layout(block)?;
        if layout.text.is_some() {
            return Err(DumpError::malformed(
                block.offset,
                format!("revision record r{number} has a Text-content-length"),
            ));
        }
        let properties = match layout.properties {
            Some(length) => {
                read_properties(&mut self.input, length, self.limits.max_property_block)?
            }
            None => Properties::new(),
        };
        self.input.skip(layout.padding, "revision record content")?;
        self.current_revision = Some(number);
        Ok(RecordParts::Revision(RevisionRecord {
            number,
            properties,
            offset: block.offset,
        }))
    }

    fn read_node(&mut self, block: &HeaderBlock) -> Result<RecordParts, DumpError> {
        if self.current_revision.is_none() {
            return Err(DumpError::malformed(
                block.offset,
                "node record before the first revision record",
            ));
        }
        let header = Box::new(build_node_header(block)?);
        let layout = self.content_layout(block)?;
        let properties = match layout.properties {
            Some(length) => Some(read_properties(
                &mut self.input,
                length,
                self.limits.max_property_block,
            )?),
            None => None,
        };
        self.pending = PendingContent {
            text: layout.text.unwrap_or(0),
            padding: layout.padding,
        };
        Ok(RecordParts::Node {
            header,
            properties,
            text_length: layout.text,
        })
    }

    /// Works out the sizes of a record's property block, text and padding from
    /// its length headers, checking that they agree.
    fn content_layout(&self, block: &HeaderBlock) -> Result<ContentLayout, DumpError> {
        let length_of = |name: &str| block.get(name).map(values::number).transpose();
        let properties = length_of("Prop-content-length")?;
        let text = length_of("Text-content-length")?;
        let content = length_of("Content-length")?;
        if let Some(length) = properties {
            if length > self.limits.max_property_block {
                return Err(DumpError::LimitExceeded {
                    offset: block.offset,
                    field: "Prop-content-length".to_string(),
                    requested: length,
                    limit: self.limits.max_property_block,
                });
            }
        }
        let declared = properties
            .unwrap_or(0)
            .checked_add(text.unwrap_or(0))
            .ok_or_else(|| {
                DumpError::malformed(
                    block.offset,
                    "Prop-content-length plus Text-content-length overflows",
                )
            })?;
        let padding = match content {
            None => 0,
            Some(content) if content >= declared => content - declared,
            Some(content) => {
                return Err(DumpError::malformed(
                    block.offset,
                    format!(
                        "Content-length {content} is less than Prop-content-length plus Text-content-length ({declared})"
                    ),
                ))
            }
        };
        Ok(ContentLayout {
            properties,
            text,
            padding,
        })
    }

    fn assemble(&mut self, parts: RecordParts) -> Record<'_, R> {
        match parts {
            RecordParts::FormatVersion { version, offset } => {
                Record::FormatVersion { version, offset }
            }
            RecordParts::Uuid { uuid, offset } => Record::Uuid { uuid, offset },
            RecordParts::Revision(revision) => Record::Revision(revision),
            RecordParts::Node {
                header,
                properties,
                text_length,
            } => {
                let start_offset = self.input.offset();
                let is_delta = header.text_delta;
                let text = text_length.map(|length| TextReader {
                    input: &mut self.input,
                    pending: &mut self.pending,
                    length,
                    start_offset,
                    is_delta,
                });
                Record::Node(NodeRecord {
                    header,
                    properties,
                    text,
                })
            }
        }
    }
}

/// A record read up to (not including) its text.
enum RecordParts {
    FormatVersion {
        version: u32,
        offset: u64,
    },
    Uuid {
        uuid: String,
        offset: u64,
    },
    Revision(RevisionRecord),
    Node {
        header: Box<NodeHeader>,
        properties: Option<Properties>,
        text_length: Option<u64>,
    },
}

/// Sizes of the parts of a record's content.
struct ContentLayout {
    properties: Option<u64>,
    text: Option<u64>,
    padding: u64,
}

fn reject_other_headers(block: &HeaderBlock, only: &str) -> Result<(), DumpError> {
    match block.fields.iter().find(|field| field.name != only) {
        Some(extra) => Err(DumpError::malformed(
            extra.offset,
            format!("unexpected header '{}' in the {only} record", extra.name),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::svn::dump::record::{CopyFrom, NodeAction, NodeKind};

    const HEADER: &str =
        "SVN-fs-dump-format-version: 3\n\nUUID: 0e893bae-2d4c-452c-8616-b774d5b9104e\n\n";

    /// Reads every record, returning a one-line summary of each (texts read in full).
    fn summarize(dump: &[u8]) -> Result<Vec<String>, DumpError> {
        let mut reader = DumpReader::new(dump);
        let mut summary = Vec::new();
        while let Some(record) = reader.next_record()? {
            summary.push(match record {
                Record::FormatVersion { version, .. } => format!("version {version}"),
                Record::Uuid { uuid, .. } => format!("uuid {uuid}"),
                Record::Revision(revision) => {
                    format!(
                        "r{} with {} props",
                        revision.number,
                        revision.properties.len()
                    )
                }
                Record::Node(mut node) => {
                    let mut text = Vec::new();
                    if let Some(reader) = node.text.as_mut() {
                        reader.copy_to(&mut text)?;
                    }
                    format!(
                        "{:?} '{}' props={:?} text={:?}",
                        node.header.action,
                        node.header.path,
                        node.properties.map(|properties| properties.len()),
                        String::from_utf8_lossy(&text)
                    )
                }
            });
        }
        Ok(summary)
    }

    fn dump(body: &str) -> Vec<u8> {
        format!("{HEADER}{body}").into_bytes()
    }

    #[test]
    fn reads_revisions_and_nodes_in_any_header_order() {
        let body = "Revision-number: 1\nContent-length: 10\nProp-content-length: 10\n\nPROPS-END\n\n\
            Node-kind: file\nText-content-length: 3\nNode-action: add\nNode-path: a.txt\n\nabc\n\n\n\
            Node-path: dir\nNode-kind: dir\nNode-action: delete\n\n\n";
        let summary = summarize(&dump(body)).expect("valid dump");
        assert_eq!(
            summary,
            vec![
                "version 3",
                "uuid 0e893bae-2d4c-452c-8616-b774d5b9104e",
                "r1 with 0 props",
                "Add 'a.txt' props=None text=\"abc\"",
                "Delete 'dir' props=None text=\"\"",
            ]
        );
    }

    #[test]
    fn tolerates_comments_missing_content_length_and_extra_blank_lines() {
        let dump = "SVN-fs-dump-format-version: 2\n ## reposurgeon was here\n\n\n\n\
            Revision-number: 0\nProp-content-length: 10\n\nPROPS-END\n\n\n\n\n\
            Node-path: f\nNode-action: change\nProp-content-length: 27\nText-content-length: 2\n\n\
            K 1\nk\nV 1\nv\nD 1\nx\nPROPS-END\nhi";
        let summary = summarize(dump.as_bytes()).expect("valid dump");
        assert_eq!(summary[1], "r0 with 0 props");
        assert_eq!(summary[2], "Change 'f' props=Some(2) text=\"hi\"");
    }

    #[test]
    fn skips_unread_text_and_padding_before_the_next_record() {
        let body = "Revision-number: 1\n\n\
            Node-path: a\nNode-action: add\nNode-kind: file\nText-content-length: 6\nContent-length: 9\n\n\
            abcdefXYZ\n\nNode-path: b\nNode-action: delete\n\n";
        let bytes = dump(body);
        let mut reader = DumpReader::new(bytes.as_slice());
        let mut paths = Vec::new();
        while let Some(record) = reader.next_record().expect("valid dump") {
            if let Record::Node(mut node) = record {
                paths.push(node.header.path.clone());
                if let Some(text) = node.text.as_mut() {
                    let mut first_two = [0u8; 2];
                    text.read_exact(&mut first_two).expect("two bytes");
                    assert_eq!(&first_two, b"ab");
                    assert_eq!(text.remaining(), 4);
                    assert_eq!(text.len(), 6);
                }
            }
        }
        assert_eq!(paths, vec!["a", "b"]);
    }

    #[test]
    fn parses_node_header_fields() {
        let body = "Revision-number: 2\n\n\
            Node-path: branch/file\nNode-kind: file\nNode-action: replace\nNode-copyfrom-rev: 1\n\
            Node-copyfrom-path: trunk/file\nText-copy-source-md5: 0123456789abcdef0123456789abcdef\n\
            Text-delta: true\nProp-delta: true\nText-delta-base-sha1: 0123456789abcdef0123456789abcdef01234567\n\
            X-custom: kept\n\n\n";
        let bytes = dump(body);
        let mut reader = DumpReader::new(bytes.as_slice());
        let mut header = None;
        while let Some(record) = reader.next_record().expect("valid dump") {
            if let Record::Node(node) = record {
                header = Some(node.header);
            }
        }
        let header = header.expect("one node");
        assert_eq!(header.action, NodeAction::Replace);
        assert_eq!(header.kind, Some(NodeKind::File));
        assert_eq!(
            header.copy_from,
            Some(CopyFrom {
                revision: 1,
                path: "trunk/file".into()
            })
        );
        assert_eq!(header.text_copy_source.md5.map(|md5| md5[1]), Some(0x23));
        assert_eq!(header.text_delta_base.sha1.map(|sha1| sha1[19]), Some(0x67));
        assert!(header.text_delta && header.prop_delta);
        assert_eq!(
            header.other_headers,
            vec![("X-custom".to_string(), b"kept".to_vec())]
        );
        assert_eq!(reader.current_revision(), Some(2));
        assert_eq!(reader.format_version(), Some(3));
        assert_eq!(reader.uuid(), Some("0e893bae-2d4c-452c-8616-b774d5b9104e"));
    }

    #[test]
    fn truncated_text_reports_its_offset() {
        let body = "Revision-number: 1\n\nNode-path: a\nNode-action: add\nText-content-length: 500\n\nshort";
        let bytes = dump(body);
        let error = summarize(&bytes).expect_err("truncated");
        assert!(matches!(error, DumpError::Truncated { .. }), "{error}");
        assert_eq!(error.offset(), bytes.len() as u64);
        assert!(error.to_string().contains("495 bytes missing"), "{error}");
    }

    #[test]
    fn unread_truncated_text_fails_on_the_next_record() {
        let body = "Revision-number: 1\n\nNode-path: a\nNode-action: add\nContent-length: 500\nText-content-length: 500\n\nshort";
        let bytes = dump(body);
        let mut reader = DumpReader::new(bytes.as_slice());
        let mut result = Ok(());
        loop {
            match reader.next_record() {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        let error = result.expect_err("truncated content");
        assert_eq!(error.offset(), bytes.len() as u64);
        assert!(reader.next_record().expect("finished reader").is_none());
    }

    #[test]
    fn huge_length_fields_do_not_allocate() {
        let huge_text = dump("Revision-number: 1\n\nNode-path: a\nNode-action: add\nText-content-length: 18446744073709551615\n\nx");
        assert!(matches!(
            summarize(&huge_text),
            Err(DumpError::Truncated { .. })
        ));
        let huge_props =
            dump("Revision-number: 1\nProp-content-length: 18446744073709551615\n\nK 1");
        assert!(matches!(
            summarize(&huge_props),
            Err(DumpError::LimitExceeded { .. })
        ));
        let huge_value = dump(
            "Revision-number: 1\nProp-content-length: 100\n\nK 1\na\nV 99999999999\nb\nPROPS-END\n",
        );
        assert!(matches!(
            summarize(&huge_value),
            Err(DumpError::Malformed { .. })
        ));
        let overflowing = dump("Revision-number: 1\nProp-content-length: 10\nText-content-length: 18446744073709551615\n\n");
        assert!(summarize(&overflowing).is_err());
    }

    #[test]
    fn rejects_malformed_structure() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"Revision-number: 1\n\n", "must start with"),
            (b"SVN-fs-dump-format-version: 4\n\n", "unsupported dump format version 4"),
            (b"SVN-fs-dump-format-version: 3\n\nNode-path: a\nNode-action: add\n\n", "before the first revision"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: x\n\n", "decimal number"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: 1\n\nNode-path: a\nNode-action: move\n\n", "Node-action 'move'"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: 1\n\nNode-path: a\nNode-kind: link\nNode-action: add\n\n", "Node-kind 'link'"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: 1\n\nNode-path: a\n\n", "no Node-action"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: 1\n\nNode-path: a\nNode-action: add\nNode-copyfrom-rev: 1\n\n", "must come together"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: 1\nContent-length: 5\nProp-content-length: 10\n\nPROPS-END\n", "less than"),
            (b"SVN-fs-dump-format-version: 3\n\nSomething: else\n\n", "neither"),
            (b"SVN-fs-dump-format-version: 3\n\nSVN-fs-dump-format-version: 3\n\n", "second"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: 1\n\nNode-path: a\nNode-action: add\nText-delta: yes\n\n", "'true' or 'false'"),
            (b"SVN-fs-dump-format-version: 3\n\nRevision-number: 1\n\nNode-path: a\nNode-action: add\nText-content-md5: 12\n\n", "hexadecimal"),
        ];
        for (dump, expected) in cases {
            let error = summarize(dump).expect_err(expected);
            assert!(
                error.to_string().contains(expected),
                "expected '{expected}' in: {error}"
            );
            assert!(error.offset() <= dump.len() as u64);
        }
    }

    #[test]
    fn invalid_utf8_path_names_its_offset() {
        let mut bytes = dump("Revision-number: 1\n\n");
        let node_start = bytes.len() as u64;
        bytes.extend_from_slice(b"Node-path: ab\xffc\nNode-action: add\n\n");
        let error = summarize(&bytes).expect_err("invalid UTF-8");
        assert!(matches!(error, DumpError::InvalidUtf8 { .. }), "{error}");
        assert_eq!(error.offset(), node_start + "Node-path: ab".len() as u64);
    }

    #[test]
    fn header_line_limit_is_enforced() {
        let limits = Limits {
            max_header_line: 40,
            ..Limits::default()
        };
        let bytes = dump(&format!(
            "Revision-number: 1\n\nNode-path: {}\nNode-action: add\n\n",
            "x".repeat(100)
        ));
        let mut reader = DumpReader::with_limits(bytes.as_slice(), limits);
        let error = loop {
            match reader.next_record() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the long line was accepted"),
                Err(error) => break error,
            }
        };
        assert!(matches!(error, DumpError::LimitExceeded { .. }), "{error}");
    }
}
