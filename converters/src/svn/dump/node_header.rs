//! Building a [`NodeHeader`] from a node record's header lines.

use super::error::DumpError;
use super::headers::{values, HeaderBlock};
use super::record::{Checksums, CopyFrom, NodeAction, NodeHeader, NodeKind};

/// Headers [`build_node_header`] interprets; all others land in
/// [`NodeHeader::other_headers`].
const NODE_HEADERS: &[&str] = &[
    "Node-path",
    "Node-kind",
    "Node-action",
    "Node-copyfrom-rev",
    "Node-copyfrom-path",
    "Text-copy-source-md5",
    "Text-copy-source-sha1",
    "Text-content-md5",
    "Text-content-sha1",
    "Text-delta-base-md5",
    "Text-delta-base-sha1",
    "Text-delta",
    "Prop-delta",
    "Prop-content-length",
    "Text-content-length",
    "Content-length",
];

/// Interprets the header lines of a node record.
pub(crate) fn build_node_header(block: &HeaderBlock) -> Result<NodeHeader, DumpError> {
    let text = |name: &str| block.get(name).map(values::text).transpose();
    let boolean = |name: &str| {
        block
            .get(name)
            .map(values::boolean)
            .transpose()
            .map(|value| value.unwrap_or(false))
    };
    let path = text("Node-path")?.unwrap_or_default();
    let kind = match block.get("Node-kind") {
        None => None,
        Some(field) => Some(match field.value.as_slice() {
            b"file" => NodeKind::File,
            b"dir" => NodeKind::Dir,
            other => {
                return Err(DumpError::malformed(
                    field.offset,
                    format!("unknown Node-kind '{}'", String::from_utf8_lossy(other)),
                ))
            }
        }),
    };
    let action_field = block.get("Node-action").ok_or_else(|| {
        DumpError::malformed(
            block.offset,
            format!("node record for '{path}' has no Node-action"),
        )
    })?;
    let action = match action_field.value.as_slice() {
        b"change" => NodeAction::Change,
        b"add" => NodeAction::Add,
        b"delete" => NodeAction::Delete,
        b"replace" => NodeAction::Replace,
        other => {
            return Err(DumpError::malformed(
                action_field.offset,
                format!("unknown Node-action '{}'", String::from_utf8_lossy(other)),
            ))
        }
    };
    let copy_from = match (
        block.get("Node-copyfrom-rev"),
        block.get("Node-copyfrom-path"),
    ) {
        (None, None) => None,
        (Some(revision), Some(source)) => Some(CopyFrom {
            revision: values::number(revision)?,
            path: values::text(source)?,
        }),
        (Some(field), None) | (None, Some(field)) => {
            return Err(DumpError::malformed(
                field.offset,
                "Node-copyfrom-rev and Node-copyfrom-path must come together",
            ))
        }
    };
    let checksums = |prefix: &str| -> Result<Checksums, DumpError> {
        Ok(Checksums {
            md5: block
                .get(&format!("{prefix}-md5"))
                .map(values::hex_digest::<16>)
                .transpose()?,
            sha1: block
                .get(&format!("{prefix}-sha1"))
                .map(values::hex_digest::<20>)
                .transpose()?,
        })
    };
    let length = |name: &str| block.get(name).map(values::number).transpose();
    Ok(NodeHeader {
        path,
        kind,
        action,
        copy_from,
        text_copy_source: checksums("Text-copy-source")?,
        text_content: checksums("Text-content")?,
        text_delta_base: checksums("Text-delta-base")?,
        text_delta: boolean("Text-delta")?,
        prop_delta: boolean("Prop-delta")?,
        prop_content_length: length("Prop-content-length")?,
        text_content_length: length("Text-content-length")?,
        content_length: length("Content-length")?,
        other_headers: block
            .fields
            .iter()
            .filter(|field| !NODE_HEADERS.contains(&field.name.as_str()))
            .map(|field| (field.name.clone(), field.value.clone()))
            .collect(),
        offset: block.offset,
    })
}
