//! Reading svndiff windows: header, variable-length integers, and (de)compressed sections.

use std::io::{self, Read};

use super::{svndiff_error, SVNDIFF_MAX_WINDOW};
use crate::svn::dump::error::DumpError;

/// The delta's format version: how its window sections are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    /// svndiff0: sections stored as is.
    None,
    /// svndiff1: sections may be zlib-compressed.
    Zlib,
    /// svndiff2: sections may be LZ4-compressed.
    Lz4,
}

/// One window's header fields.
pub(super) struct Window {
    /// Delta offset of the window's first byte.
    pub(super) offset: u64,
    pub(super) source_offset: u64,
    pub(super) source_length: usize,
    pub(super) target_length: usize,
}

/// Buffers reused from one window to the next.
#[derive(Default)]
pub(super) struct WindowBuffers {
    pub(super) instructions: Vec<u8>,
    pub(super) new_data: Vec<u8>,
    pub(super) source: Vec<u8>,
    pub(super) target: Vec<u8>,
    pub(super) section: Vec<u8>,
}

/// The delta input with a count of bytes consumed.
pub(super) struct DeltaStream<D> {
    inner: D,
    offset: u64,
}

impl<D: Read> DeltaStream<D> {
    /// A stream whose first byte is at offset `start`.
    pub(super) fn new(inner: D, start: u64) -> Self {
        DeltaStream {
            inner,
            offset: start,
        }
    }

    /// Reads one byte, `None` at the end of the delta.
    fn byte(&mut self) -> Result<Option<u8>, DumpError> {
        let mut byte = [0u8; 1];
        loop {
            match self.inner.read(&mut byte) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.offset += 1;
                    return Ok(Some(byte[0]));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(DumpError::from_io(self.offset, error)),
            }
        }
    }

    /// Reads one byte that must be there.
    fn required_byte(&mut self, what: &str) -> Result<u8, DumpError> {
        self.byte()?.ok_or_else(|| {
            DumpError::truncated(self.offset, format!("svndiff delta ends inside {what}"))
        })
    }

    /// Reads a variable-length integer; `None` if the delta ends before its first byte.
    fn varint(&mut self, what: &str) -> Result<Option<u64>, DumpError> {
        let start = self.offset;
        let Some(first) = self.byte()? else {
            return Ok(None);
        };
        let mut value = 0u64;
        let mut byte = first;
        loop {
            if value > u64::MAX >> 7 {
                return Err(svndiff_error(
                    start,
                    format!("{what} does not fit in 64 bits"),
                ));
            }
            value = value << 7 | u64::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                return Ok(Some(value));
            }
            byte = self.required_byte(what)?;
        }
    }

    /// Reads a variable-length integer that must be there.
    fn required_varint(&mut self, what: &str) -> Result<u64, DumpError> {
        let offset = self.offset;
        self.varint(what)?.ok_or_else(|| {
            DumpError::truncated(offset, format!("svndiff delta ends before {what}"))
        })
    }

    /// Replaces `buffer` with exactly `length` bytes of the delta.
    fn read_into(
        &mut self,
        buffer: &mut Vec<u8>,
        length: usize,
        what: &str,
    ) -> Result<(), DumpError> {
        buffer.clear();
        let start = self.offset;
        let read = (&mut self.inner)
            .take(length as u64)
            .read_to_end(buffer)
            .map_err(|error| DumpError::from_io(start, error))?;
        self.offset += read as u64;
        if read < length {
            return Err(DumpError::truncated(
                self.offset,
                format!("svndiff {what} of {length} bytes starting at byte {start} is cut short"),
            ));
        }
        Ok(())
    }
}

pub(super) fn read_header<D: Read>(delta: &mut DeltaStream<D>) -> Result<Compression, DumpError> {
    let start = delta.offset;
    let mut magic = [0u8; 4];
    for byte in magic.iter_mut() {
        *byte = delta.required_byte("the 'SVN' header")?;
    }
    match magic {
        [b'S', b'V', b'N', 0] => Ok(Compression::None),
        [b'S', b'V', b'N', 1] => Ok(Compression::Zlib),
        [b'S', b'V', b'N', 2] => Ok(Compression::Lz4),
        [b'S', b'V', b'N', version] => Err(svndiff_error(
            start + 3,
            format!("unsupported svndiff version {version}"),
        )),
        _ => Err(svndiff_error(start, "delta does not start with 'SVN'")),
    }
}

/// Checks a window length against [`SVNDIFF_MAX_WINDOW`].
fn window_length(value: u64, what: &str, offset: u64) -> Result<usize, DumpError> {
    if value > SVNDIFF_MAX_WINDOW {
        return Err(DumpError::LimitExceeded {
            offset,
            field: format!("svndiff {what}"),
            requested: value,
            limit: SVNDIFF_MAX_WINDOW,
        });
    }
    usize::try_from(value)
        .map_err(|_| svndiff_error(offset, format!("{what} does not fit in memory")))
}

/// Reads the next window's header and sections; `None` at the end of the delta.
pub(super) fn read_window<D: Read>(
    delta: &mut DeltaStream<D>,
    compression: Compression,
    buffers: &mut WindowBuffers,
) -> Result<Option<Window>, DumpError> {
    let offset = delta.offset;
    let Some(source_offset) = delta.varint("the source view offset")? else {
        return Ok(None);
    };
    let source_length = delta.required_varint("the source view length")?;
    let target_length = delta.required_varint("the target view length")?;
    let instructions_length = delta.required_varint("the instructions length")?;
    let new_data_length = delta.required_varint("the new data length")?;
    if source_offset.checked_add(source_length).is_none() {
        return Err(svndiff_error(
            offset,
            "source view offset plus length overflows",
        ));
    }
    let window = Window {
        offset,
        source_offset,
        source_length: window_length(source_length, "source view length", offset)?,
        target_length: window_length(target_length, "target view length", offset)?,
    };
    let instructions_length = window_length(instructions_length, "instructions section", offset)?;
    let new_data_length = window_length(new_data_length, "new data section", offset)?;
    read_section(
        delta,
        compression,
        instructions_length,
        "instructions section",
        &mut buffers.section,
        &mut buffers.instructions,
    )?;
    read_section(
        delta,
        compression,
        new_data_length,
        "new data section",
        &mut buffers.section,
        &mut buffers.new_data,
    )?;
    Ok(Some(window))
}

/// Reads one section of `length` encoded bytes into `out`, decompressing it
/// for svndiff1/2: there a section starts with its original length, and is
/// compressed unless the rest of the section is exactly that long.
fn read_section<D: Read>(
    delta: &mut DeltaStream<D>,
    compression: Compression,
    length: usize,
    what: &str,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(), DumpError> {
    let start = delta.offset;
    if compression == Compression::None {
        return delta.read_into(out, length, what);
    }
    delta.read_into(scratch, length, what)?;
    let (original_length, header_length) = decode_varint(scratch)
        .ok_or_else(|| svndiff_error(start, format!("{what} has no valid original length")))?;
    let original_length = window_length(original_length, what, start)?;
    let payload = &scratch[header_length..];
    out.clear();
    if payload.len() == original_length {
        out.extend_from_slice(payload);
        return Ok(());
    }
    let payload_offset = start + header_length as u64;
    match compression {
        Compression::Zlib => {
            let mut decoder =
                flate2::read::ZlibDecoder::new(payload).take(original_length as u64 + 1);
            decoder.read_to_end(out).map_err(|error| {
                svndiff_error(
                    payload_offset,
                    format!("{what} is not valid zlib data: {error}"),
                )
            })?;
        }
        Compression::Lz4 => {
            out.resize(original_length, 0);
            let produced = lz4_flex::block::decompress_into(payload, out).map_err(|error| {
                svndiff_error(
                    payload_offset,
                    format!("{what} is not valid LZ4 data: {error}"),
                )
            })?;
            out.truncate(produced);
        }
        Compression::None => {}
    }
    if out.len() != original_length {
        return Err(svndiff_error(
            payload_offset,
            format!(
                "{what} decompresses to {} bytes but declares {original_length}",
                out.len()
            ),
        ));
    }
    Ok(())
}

/// Decodes a varint at the start of `bytes`: `(value, bytes used)`.
pub(super) fn decode_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate() {
        if value > u64::MAX >> 7 {
            return None;
        }
        value = value << 7 | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}
