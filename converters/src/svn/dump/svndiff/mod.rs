//! Applying svndiff0/1/2 text deltas window by window.

mod instructions;
mod window;

use std::io::{Read, Seek, Write};

use super::error::DumpError;
use instructions::{build_target_view, read_source_view};
use window::{read_header, read_window, DeltaStream, WindowBuffers};

/// Largest source view, target view or section (in bytes) accepted in one
/// window. Subversion writes windows of about 100 KiB; this cap only stops a
/// corrupt delta from asking for an absurd allocation.
pub const SVNDIFF_MAX_WINDOW: u64 = 64 * 1024 * 1024;

/// Applies the svndiff delta read from `delta` to `base` and writes the
/// resulting text to `target`, one window at a time. Returns the number of
/// bytes written.
///
/// `base` is only read where windows point (their source views), so it need
/// not be held in memory; for a node added without a copy pass an empty base
/// (`std::io::Cursor::new(&[][..])`). Error offsets count from the start of
/// the delta; [`crate::svn::dump::TextReader::apply_delta`] reports dump offsets
/// instead. Errors from `target` come back as `DumpError::Io`.
///
/// `delta` is read in small pieces: give it a buffered reader.
pub fn apply_svndiff<D: Read, B: Read + Seek, W: Write>(
    delta: D,
    base: B,
    target: W,
) -> Result<u64, DumpError> {
    apply_svndiff_at(delta, 0, base, target)
}

/// [`apply_svndiff`] for a delta whose first byte is at offset `start`
/// (error offsets count from there).
pub(crate) fn apply_svndiff_at<D: Read, B: Read + Seek, W: Write>(
    delta: D,
    start: u64,
    mut base: B,
    mut target: W,
) -> Result<u64, DumpError> {
    let mut delta = DeltaStream::new(delta, start);
    let version = read_header(&mut delta)?;
    let mut buffers = WindowBuffers::default();
    let mut written = 0u64;
    while let Some(window) = read_window(&mut delta, version, &mut buffers)? {
        read_source_view(&mut base, &window, &mut buffers.source)?;
        build_target_view(&window, &mut buffers)?;
        target
            .write_all(&buffers.target)
            .map_err(|source| DumpError::Io {
                offset: window.offset,
                source,
            })?;
        written += buffers.target.len() as u64;
    }
    Ok(written)
}

/// An svndiff error at `offset` in the delta.
pub(super) fn svndiff_error(offset: u64, message: impl Into<String>) -> DumpError {
    DumpError::Svndiff {
        offset,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn varint(mut value: u64) -> Vec<u8> {
        let mut groups = vec![(value & 0x7f) as u8];
        value >>= 7;
        while value > 0 {
            groups.push((value & 0x7f) as u8 | 0x80);
            value >>= 7;
        }
        groups.reverse();
        groups
    }

    /// Builds a one-window delta; `encode_section` turns a raw section into its encoded form.
    fn one_window(
        version: u8,
        source: (u64, u64),
        target_length: u64,
        instructions: &[u8],
        new_data: &[u8],
        encode_section: impl Fn(&[u8]) -> Vec<u8>,
    ) -> Vec<u8> {
        let instructions = encode_section(instructions);
        let new_data = encode_section(new_data);
        let mut delta = vec![b'S', b'V', b'N', version];
        for value in [
            source.0,
            source.1,
            target_length,
            instructions.len() as u64,
            new_data.len() as u64,
        ] {
            delta.extend(varint(value));
        }
        delta.extend(instructions);
        delta.extend(new_data);
        delta
    }

    fn apply(delta: &[u8], base: &[u8]) -> Result<Vec<u8>, DumpError> {
        let mut out = Vec::new();
        apply_svndiff(delta, Cursor::new(base), &mut out)?;
        Ok(out)
    }

    /// The example from Subversion's notes/svndiff.
    const EXAMPLE_INSTRUCTIONS: &[u8] = &[0x04, 0x00, 0x04, 0x08, 0x81, 0x47, 0x08];

    #[test]
    fn applies_the_svndiff0_example() {
        let delta = one_window(0, (0, 12), 16, EXAMPLE_INSTRUCTIONS, b"d", |s| s.to_vec());
        assert_eq!(
            apply(&delta, b"aaaabbbbcccc").expect("valid delta"),
            b"aaaaccccdddddddd"
        );
    }

    #[test]
    fn applies_zlib_compressed_svndiff1() {
        let compress = |section: &[u8]| {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(section).expect("in-memory write");
            let compressed = encoder.finish().expect("in-memory zlib");
            let mut encoded = varint(section.len() as u64);
            encoded.extend(compressed);
            encoded
        };
        let text = b"hello hello hello hello hello hello hello hello, world".repeat(20);
        let instructions = [vec![0x80], varint(text.len() as u64)].concat();
        let delta = one_window(1, (0, 0), text.len() as u64, &instructions, &text, compress);
        assert_eq!(apply(&delta, b"").expect("valid delta"), text);
    }

    #[test]
    fn applies_uncompressed_sections_in_svndiff1() {
        let stored = |section: &[u8]| [varint(section.len() as u64), section.to_vec()].concat();
        let delta = one_window(1, (0, 12), 16, EXAMPLE_INSTRUCTIONS, b"d", stored);
        assert_eq!(
            apply(&delta, b"aaaabbbbcccc").expect("valid delta"),
            b"aaaaccccdddddddd"
        );
    }

    #[test]
    fn applies_lz4_compressed_svndiff2() {
        let compress = |section: &[u8]| {
            let mut encoded = varint(section.len() as u64);
            encoded.extend(lz4_flex::block::compress(section));
            encoded
        };
        let text = b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc-lz4".repeat(10);
        let instructions = [vec![0x80], varint(text.len() as u64)].concat();
        let delta = one_window(2, (0, 0), text.len() as u64, &instructions, &text, compress);
        let encoded_new_data_length = delta.len();
        assert!(
            encoded_new_data_length < text.len(),
            "the hand-built window really is compressed"
        );
        assert_eq!(apply(&delta, b"").expect("valid delta"), text);
    }

    #[test]
    fn applies_several_windows_with_source_offsets() {
        let mut delta = one_window(0, (4, 4), 4, &[0x04, 0x00], b"", |s| s.to_vec());
        let second = one_window(0, (8, 4), 6, &[0x04, 0x00, 0x82], b"!?", |s| s.to_vec());
        delta.extend_from_slice(&second[4..]);
        assert_eq!(
            apply(&delta, b"aaaabbbbcccc").expect("valid delta"),
            b"bbbbcccc!?"
        );
    }

    #[test]
    fn an_empty_delta_body_is_an_empty_text() {
        assert_eq!(apply(b"SVN\0", b"").expect("header only"), b"");
    }

    #[test]
    fn rejects_bad_deltas_with_offsets() {
        let source_overrun = one_window(0, (0, 12), 16, EXAMPLE_INSTRUCTIONS, b"d", |s| s.to_vec());
        let error = apply(&source_overrun, b"short").expect_err("base too short");
        assert!(
            matches!(error, DumpError::Svndiff { offset: 4, .. }),
            "{error}"
        );

        let target_overrun = one_window(0, (0, 0), 2, &[0x83], b"abc", |s| s.to_vec());
        assert!(apply(&target_overrun, b"").is_err());

        let short_fill = one_window(0, (0, 0), 5, &[0x83], b"abc", |s| s.to_vec());
        assert!(apply(&short_fill, b"").is_err());

        let bad_target_copy = one_window(0, (0, 0), 3, &[0x43, 0x00], b"", |s| s.to_vec());
        assert!(apply(&bad_target_copy, b"").is_err());

        let bad_selector = one_window(0, (0, 0), 1, &[0xc1], b"", |s| s.to_vec());
        assert!(apply(&bad_selector, b"").is_err());

        let huge_view = [
            b"SVN\0".as_slice(),
            &[0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x00],
        ]
        .concat();
        assert!(matches!(
            apply(&huge_view, b""),
            Err(DumpError::LimitExceeded { .. })
        ));

        let truncated = &one_window(0, (0, 0), 3, &[0x83], b"abc", |s| s.to_vec())[..9];
        assert!(matches!(
            apply(truncated, b""),
            Err(DumpError::Truncated { .. })
        ));

        assert!(apply(b"XYZ\0", b"").is_err());
        assert!(apply(b"SVN\x07", b"").is_err());
    }
}
