//! Decompression of one revlog chunk, selected by its first byte.
//!
//! - empty: empty text;
//! - `\0`: stored as is (the marker byte is part of the text);
//! - `u`: stored uncompressed, the marker is stripped;
//! - `x`: a zlib stream;
//! - `(`: a zstd frame (`0x28` is the first byte of the zstd magic).

use std::io::Read;

/// Why a chunk could not be decompressed.
#[derive(Debug)]
pub(crate) struct ChunkError(pub(crate) String);

/// Decompresses `chunk`, refusing to produce more than `output_limit` bytes.
pub(crate) fn decompress_chunk(chunk: &[u8], output_limit: usize) -> Result<Vec<u8>, ChunkError> {
    let format = format_name(chunk.first().copied());
    let output = read_limited(decompressing(chunk)?, output_limit, format)?;
    if output.len() > output_limit {
        return Err(ChunkError(format!(
            "chunk holds {} bytes, more than the {output_limit} allowed",
            output.len()
        )));
    }
    Ok(output)
}

fn format_name(marker: Option<u8>) -> &'static str {
    match marker {
        Some(b'x') => "zlib",
        Some(b'(') => "zstd",
        _ => "stored",
    }
}

/// The text of the chunk `chunk` reads, as a reader: nothing is held but the
/// decompressor's window, so a large snapshot can be streamed.
pub(crate) fn decompressing<'a>(
    mut chunk: impl Read + 'a,
) -> Result<Box<dyn Read + 'a>, ChunkError> {
    let mut marker = [0u8; 1];
    let read = loop {
        match chunk.read(&mut marker) {
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    }
    .map_err(|error| ChunkError(format!("reading the chunk: {error}")))?;
    if read == 0 {
        return Ok(Box::new(std::io::empty()));
    }
    let whole = |chunk| std::io::Cursor::new(marker).chain(chunk);
    Ok(match marker[0] {
        b'u' => Box::new(chunk),
        b'\0' => Box::new(whole(chunk)),
        b'x' => Box::new(flate2::read::ZlibDecoder::new(whole(chunk))),
        b'(' => Box::new(
            ruzstd::decoding::StreamingDecoder::new(whole(chunk))
                .map_err(|error| ChunkError(format!("bad zstd frame header: {error}")))?,
        ),
        other => {
            return Err(ChunkError(format!(
                "unknown compression marker {other:#04x}"
            )));
        }
    })
}

fn read_limited(
    reader: impl Read,
    output_limit: usize,
    format: &str,
) -> Result<Vec<u8>, ChunkError> {
    const CAPACITY_HINT_CAP: usize = 1 << 20;
    let mut output = Vec::with_capacity(output_limit.min(CAPACITY_HINT_CAP));
    let limit_plus_one = u64::try_from(output_limit)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    reader
        .take(limit_plus_one)
        .read_to_end(&mut output)
        .map_err(|error| ChunkError(format!("bad {format} data: {error}")))?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).expect("write to memory");
        encoder.finish().expect("finish in memory")
    }

    #[test]
    fn stored_forms() {
        assert_eq!(decompress_chunk(b"", 10).expect("empty").len(), 0);
        assert_eq!(decompress_chunk(b"\0abc", 10).expect("raw"), b"\0abc");
        assert_eq!(decompress_chunk(b"uabc", 10).expect("uncompressed"), b"abc");
    }

    #[test]
    fn zlib_round_trip_and_limit() {
        let data = b"hello hello hello hello".repeat(10);
        assert_eq!(
            decompress_chunk(&zlib(&data), data.len()).expect("zlib"),
            data
        );
        assert!(decompress_chunk(&zlib(&data), data.len() - 1).is_err());
        let mut broken = zlib(&data);
        broken.truncate(broken.len() / 2);
        assert!(decompress_chunk(&broken, 1000).is_err());
    }

    #[test]
    fn rejects_bad_markers_and_zstd() {
        assert!(decompress_chunk(b"?abc", 10).is_err());
        assert!(decompress_chunk(b"(\xb5/\xfd\x00", 10).is_err());
    }
}
