//! Reading a record's header block (`Name: value` lines up to a blank line).

use std::io::BufRead;

use super::error::DumpError;
use super::input::{Input, LineRead};
use super::limits::Limits;

/// One `Name: value` header line.
#[derive(Debug, Clone)]
pub(crate) struct HeaderField {
    pub(crate) name: String,
    pub(crate) value: Vec<u8>,
    /// Dump offset of the line.
    pub(crate) offset: u64,
    /// Dump offset of the value's first byte.
    pub(crate) value_offset: u64,
}

/// The header lines of one record.
#[derive(Debug, Clone)]
pub(crate) struct HeaderBlock {
    pub(crate) fields: Vec<HeaderField>,
    /// Dump offset of the first header line.
    pub(crate) offset: u64,
}

impl HeaderBlock {
    pub(crate) fn get(&self, name: &str) -> Option<&HeaderField> {
        self.fields.iter().find(|field| field.name == name)
    }
}

/// A `#` comment line, possibly indented (reposurgeon writes ` ## ...` lines
/// right after the format header). No header line can look like this.
fn is_comment_line(line: &[u8]) -> bool {
    line.iter()
        .find(|&&b| b != b' ' && b != b'\t')
        .is_some_and(|&first| first == b'#')
}

/// A line between records that carries nothing: blank (or only spaces) or a comment.
fn is_filler_line(line: &[u8]) -> bool {
    line.iter().all(|&b| b == b' ' || b == b'\t') || is_comment_line(line)
}

/// Skips filler lines, then reads header lines up to the next blank line
/// (or the end of the stream). Returns `None` at the end of the stream.
pub(crate) fn read_header_block<R: BufRead>(
    input: &mut Input<R>,
    limits: &Limits,
) -> Result<Option<HeaderBlock>, DumpError> {
    let mut line = Vec::new();
    let offset = loop {
        let line_offset = input.offset();
        match input.read_line(&mut line, limits.max_header_line, "header line")? {
            LineRead::EndOfStream => return Ok(None),
            LineRead::Complete if is_filler_line(&line) => continue,
            LineRead::Complete => break line_offset,
        }
    };
    let mut fields = vec![parse_header_line(&line, offset)?];
    loop {
        let line_offset = input.offset();
        match input.read_line(&mut line, limits.max_header_line, "header line")? {
            LineRead::EndOfStream => break,
            LineRead::Complete if line.is_empty() => break,
            LineRead::Complete if is_comment_line(&line) => continue,
            LineRead::Complete => {
                if fields.len() >= limits.max_headers_per_record {
                    return Err(DumpError::LimitExceeded {
                        offset,
                        field: "number of header lines in one record".to_string(),
                        requested: fields.len() as u64 + 1,
                        limit: limits.max_headers_per_record as u64,
                    });
                }
                let field = parse_header_line(&line, line_offset)?;
                if fields.iter().any(|known| known.name == field.name) {
                    return Err(DumpError::malformed(
                        line_offset,
                        format!("header '{}' appears twice in one record", field.name),
                    ));
                }
                fields.push(field);
            }
        }
    }
    Ok(Some(HeaderBlock { fields, offset }))
}

fn parse_header_line(line: &[u8], offset: u64) -> Result<HeaderField, DumpError> {
    let colon = line.iter().position(|&b| b == b':').ok_or_else(|| {
        DumpError::malformed(
            offset,
            format!(
                "expected a 'Name: value' header line, found '{}'",
                String::from_utf8_lossy(&line[..line.len().min(80)])
            ),
        )
    })?;
    let name = &line[..colon];
    let name_is_valid = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_is_valid {
        return Err(DumpError::malformed(
            offset,
            format!(
                "invalid header name '{}'",
                String::from_utf8_lossy(&name[..name.len().min(80)])
            ),
        ));
    }
    let rest = &line[colon + 1..];
    let value = rest.strip_prefix(b" ").unwrap_or(rest);
    Ok(HeaderField {
        name: String::from_utf8_lossy(name).into_owned(),
        value: value.to_vec(),
        offset,
        value_offset: offset + (line.len() - value.len()) as u64,
    })
}

/// Header value parsers shared by the record builders.
pub(crate) mod values {
    use super::HeaderField;
    use crate::svn::dump::error::DumpError;

    pub(crate) fn number(field: &HeaderField) -> Result<u64, DumpError> {
        let is_digits = !field.value.is_empty() && field.value.iter().all(u8::is_ascii_digit);
        let parsed = if is_digits {
            std::str::from_utf8(&field.value)
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
        } else {
            None
        };
        parsed.ok_or_else(|| {
            DumpError::malformed(
                field.offset,
                format!(
                    "{} must be a non-negative decimal number, found '{}'",
                    field.name,
                    String::from_utf8_lossy(&field.value)
                ),
            )
        })
    }

    pub(crate) fn text(field: &HeaderField) -> Result<String, DumpError> {
        String::from_utf8(field.value.clone()).map_err(|error| DumpError::InvalidUtf8 {
            offset: field.value_offset + error.utf8_error().valid_up_to() as u64,
            field: field.name.clone(),
        })
    }

    pub(crate) fn boolean(field: &HeaderField) -> Result<bool, DumpError> {
        match field.value.as_slice() {
            b"true" => Ok(true),
            b"false" => Ok(false),
            other => Err(DumpError::malformed(
                field.offset,
                format!(
                    "{} must be 'true' or 'false', found '{}'",
                    field.name,
                    String::from_utf8_lossy(other)
                ),
            )),
        }
    }

    pub(crate) fn hex_digest<const N: usize>(field: &HeaderField) -> Result<[u8; N], DumpError> {
        let invalid = || {
            DumpError::malformed(
                field.offset,
                format!(
                    "{} must be {} hexadecimal digits, found '{}'",
                    field.name,
                    N * 2,
                    String::from_utf8_lossy(&field.value)
                ),
            )
        };
        if field.value.len() != N * 2 {
            return Err(invalid());
        }
        let mut digest = [0u8; N];
        for (byte, pair) in digest.iter_mut().zip(field.value.chunks_exact(2)) {
            let high = hex_digit(pair[0]).ok_or_else(invalid)?;
            let low = hex_digit(pair[1]).ok_or_else(invalid)?;
            *byte = high << 4 | low;
        }
        Ok(digest)
    }

    fn hex_digit(byte: u8) -> Option<u8> {
        match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            b'A'..=b'F' => Some(byte - b'A' + 10),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8]) -> Result<Vec<HeaderBlock>, DumpError> {
        let mut input = Input::new(data);
        let mut blocks = Vec::new();
        while let Some(block) = read_header_block(&mut input, &Limits::default())? {
            blocks.push(block);
        }
        Ok(blocks)
    }

    #[test]
    fn skips_blank_and_comment_lines_between_blocks() {
        let blocks =
            read_all(b"\n\n ## made by reposurgeon\nA: 1\n\t# inside\nB: two\n\n\n# note\nC: \n")
                .expect("valid header blocks");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].fields.len(), 2);
        assert_eq!(blocks[0].fields[1].value, b"two");
        assert_eq!(blocks[0].offset, 26);
        assert_eq!(blocks[1].fields[0].name, "C");
        assert!(blocks[1].fields[0].value.is_empty());
    }

    #[test]
    fn rejects_duplicate_and_nameless_headers() {
        let duplicate = read_all(b"A: 1\nA: 2\n\n").expect_err("duplicate header");
        assert_eq!(duplicate.offset(), 5);
        let nameless = read_all(b"no colon here\n\n").expect_err("not a header");
        assert_eq!(nameless.offset(), 0);
    }

    #[test]
    fn value_offsets_allow_for_a_missing_space() {
        let blocks = read_all(b"Node-path:x\nUUID: y\n\n").expect("valid block");
        assert_eq!(blocks[0].fields[0].value, b"x");
        assert_eq!(blocks[0].fields[0].value_offset, 10);
        assert_eq!(blocks[0].fields[1].value_offset, 18);
    }

    #[test]
    fn parses_digests_and_numbers() {
        let field = HeaderField {
            name: "Text-content-md5".into(),
            value: b"0123456789abcdef0123456789ABCDEF".to_vec(),
            offset: 7,
            value_offset: 25,
        };
        let digest: [u8; 16] = values::hex_digest(&field).expect("valid md5");
        assert_eq!(digest[0], 0x01);
        assert_eq!(digest[15], 0xef);
        let bad = HeaderField {
            name: "Content-length".into(),
            value: b"-5".to_vec(),
            offset: 9,
            value_offset: 25,
        };
        assert_eq!(values::number(&bad).expect_err("negative").offset(), 9);
        let huge = HeaderField {
            name: "Content-length".into(),
            value: b"99999999999999999999999".to_vec(),
            offset: 3,
            value_offset: 19,
        };
        assert!(values::number(&huge).is_err());
    }
}
