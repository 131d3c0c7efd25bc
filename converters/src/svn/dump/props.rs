//! Parsing a property block (`K`/`V`/`D` entries ending in `PROPS-END`).

use std::io::BufRead;

use super::error::DumpError;
use super::input::{Input, LineRead};
use super::record::Properties;

/// Longest line inside a property block that is not key or value data
/// (`K 123`, `PROPS-END`).
const MAX_PROPERTY_LINE: usize = 64;

/// Reads a property block starting at the current position, up to and
/// including its `PROPS-END` line.
///
/// Like `svnadmin load`, the block ends at `PROPS-END`, not where
/// `Prop-content-length` (`declared_length`) says: real dumps exist whose
/// declared length is a few bytes off after hand edits. Reading never goes
/// more than `max_length` bytes past the start, though.
pub(crate) fn read_properties<R: BufRead>(
    input: &mut Input<R>,
    declared_length: u64,
    max_length: u64,
) -> Result<Properties, DumpError> {
    let block_start = input.offset();
    let block_length = declared_length.max(max_length);
    let block_end = block_start.saturating_add(block_length);
    let mut properties = Properties::new();
    let mut line = Vec::new();
    loop {
        let line_offset = input.offset();
        if line_offset >= block_end {
            return Err(DumpError::malformed(
                line_offset,
                format!(
                    "property block starting at byte {block_start} (Prop-content-length {declared_length}) has no PROPS-END within {block_length} bytes"
                ),
            ));
        }
        let read = input.read_line(&mut line, MAX_PROPERTY_LINE, "property block line")?;
        if read == LineRead::EndOfStream {
            return Err(DumpError::truncated(
                line_offset,
                format!("property block starting at byte {block_start} is cut short"),
            ));
        }
        if line == b"PROPS-END" {
            break;
        }
        let (tag, length) = parse_length_line(&line, line_offset)?;
        if tag == b'V' {
            return Err(DumpError::malformed(
                line_offset,
                "property value ('V') without a preceding name ('K')",
            ));
        }
        let key = read_sized_item(input, length, block_end, "property name")?;
        match tag {
            b'K' => {
                let value_offset = input.offset();
                let read = input.read_line(&mut line, MAX_PROPERTY_LINE, "property block line")?;
                if read == LineRead::EndOfStream {
                    return Err(DumpError::truncated(
                        value_offset,
                        "property block ends between a name and its value",
                    ));
                }
                let (value_tag, value_length) = parse_length_line(&line, value_offset)?;
                if value_tag != b'V' {
                    return Err(DumpError::malformed(
                        value_offset,
                        format!(
                            "expected 'V <length>' after property name '{}'",
                            String::from_utf8_lossy(&key)
                        ),
                    ));
                }
                let value = read_sized_item(input, value_length, block_end, "property value")?;
                properties.push((key, Some(value)));
            }
            _ => properties.push((key, None)),
        }
    }
    Ok(properties)
}

/// Parses `K 12`, `V 3` or `D 7`.
fn parse_length_line(line: &[u8], offset: u64) -> Result<(u8, u64), DumpError> {
    let invalid = || {
        DumpError::malformed(
            offset,
            format!(
                "expected 'K <length>', 'V <length>', 'D <length>' or 'PROPS-END' in property block, found '{}'",
                String::from_utf8_lossy(line)
            ),
        )
    };
    let (&tag, rest) = line.split_first().ok_or_else(invalid)?;
    if !matches!(tag, b'K' | b'V' | b'D') {
        return Err(invalid());
    }
    let digits = rest.strip_prefix(b" ").ok_or_else(invalid)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let length = std::str::from_utf8(digits)
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or_else(invalid)?;
    Ok((tag, length))
}

/// Reads `length` bytes of key or value data and the newline after it,
/// refusing to run past the end of the property block.
fn read_sized_item<R: BufRead>(
    input: &mut Input<R>,
    length: u64,
    block_end: u64,
    what: &str,
) -> Result<Vec<u8>, DumpError> {
    let start = input.offset();
    let fits = start
        .checked_add(length)
        .and_then(|end| end.checked_add(1))
        .is_some_and(|end| end <= block_end);
    if !fits {
        return Err(DumpError::malformed(
            start,
            format!("{what} of {length} bytes runs past byte {block_end}, the furthest a property block may reach"),
        ));
    }
    let mut item = Vec::new();
    input.read_exact_into(&mut item, length, what)?;
    let newline_offset = input.offset();
    let mut newline = Vec::new();
    input.read_exact_into(&mut newline, 1, what)?;
    if newline != b"\n" {
        return Err(DumpError::malformed(
            newline_offset,
            format!("{what} of {length} bytes is not followed by a newline"),
        ));
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(block: &[u8]) -> Result<Properties, DumpError> {
        read_properties(&mut Input::new(block), block.len() as u64, 100)
    }

    #[test]
    fn parses_values_and_deletions() {
        let properties =
            parse(b"K 3\nfoo\nV 4\nb\nr\n\nD 3\nbaz\nPROPS-END\n").expect("valid block");
        assert_eq!(
            properties,
            vec![
                (b"foo".to_vec(), Some(b"b\nr\n".to_vec())),
                (b"baz".to_vec(), None)
            ]
        );
    }

    #[test]
    fn rejects_length_past_block_end() {
        let error = parse(b"K 300\nfoo\nPROPS-END\n").expect_err("length too large");
        assert_eq!(error.offset(), 6);
    }

    #[test]
    fn ends_at_props_end_whatever_the_declared_length() {
        let mut input = Input::new(&b"K 1\na\nV 1\nb\nPROPS-END\nnext"[..]);
        let properties = read_properties(&mut input, 30, 100).expect("short block");
        assert_eq!(properties.len(), 1);
        assert_eq!(input.offset(), 22);
        let mut input = Input::new(&b"K 1\na\nV 1\nb\nPROPS-END\n"[..]);
        assert!(read_properties(&mut input, 5, 100).is_ok());
        let mut input = Input::new(&b"K 1\na\nV 1\nb\nPROPS-END\n"[..]);
        assert!(read_properties(&mut input, 5, 12).is_err());
    }

    #[test]
    fn rejects_value_without_name() {
        assert!(parse(b"V 1\na\nPROPS-END\n").is_err());
    }
}
