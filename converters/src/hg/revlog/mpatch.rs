//! Mercurial's binary delta format ("mpatch") and its application.
//!
//! A delta is a sequence of hunks, each a 12-byte header of three big-endian
//! u32 (`start`, `end`, `length`) followed by `length` bytes that replace
//! the source bytes `start..end`. Hunks are sorted and do not overlap.

/// Why a delta could not be applied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DeltaError(pub(crate) String);

const HUNK_HEADER_LEN: usize = 12;

fn read_u32(bytes: &[u8]) -> usize {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize
}

/// One hunk: source bytes `start..end` are replaced by the delta's bytes `data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hunk {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) data: std::ops::Range<usize>,
}

/// The hunks of `delta`, checked to be whole, sorted and not overlapping (not yet against
/// a source length: see [`check_source_len`]).
pub(crate) fn hunks(delta: &[u8]) -> Result<Vec<Hunk>, DeltaError> {
    let mut hunks: Vec<Hunk> = Vec::new();
    let mut rest = delta;
    while !rest.is_empty() {
        let Some((header, after_header)) = rest.split_at_checked(HUNK_HEADER_LEN) else {
            return Err(DeltaError(format!(
                "truncated hunk header at delta byte {}",
                delta.len() - rest.len()
            )));
        };
        let (start, end, length) = (
            read_u32(header),
            read_u32(&header[4..]),
            read_u32(&header[8..]),
        );
        let previous_end = hunks.last().map_or(0, |h| h.end);
        if start < previous_end || end < start {
            return Err(DeltaError(format!(
                "hunk {start}..{end} out of order (previous hunk ended at {previous_end})"
            )));
        }
        let Some((_, after_data)) = after_header.split_at_checked(length) else {
            return Err(DeltaError(format!(
                "hunk at delta byte {} declares {length} bytes, {} remain",
                delta.len() - rest.len(),
                after_header.len()
            )));
        };
        let data_start = delta.len() - after_header.len();
        hunks.push(Hunk {
            start,
            end,
            data: data_start..data_start + length,
        });
        rest = after_data;
    }
    Ok(hunks)
}

/// Checks that `hunks` lie within a `source_len`-byte source.
pub(crate) fn check_source_len(hunks: &[Hunk], source_len: usize) -> Result<(), DeltaError> {
    match hunks.last() {
        Some(last) if last.end > source_len => Err(DeltaError(format!(
            "hunk {}..{} outside a {source_len}-byte source",
            last.start, last.end
        ))),
        _ => Ok(()),
    }
}

/// The length of the text `hunks` make from a `source_len`-byte source.
pub(crate) fn patched_len(hunks: &[Hunk], source_len: usize) -> usize {
    hunks
        .iter()
        .fold(source_len, |len, h| len - (h.end - h.start) + h.data.len())
}

/// Applies one delta to `source`, returning the new text.
pub(crate) fn apply_delta(source: &[u8], delta: &[u8]) -> Result<Vec<u8>, DeltaError> {
    let hunks = hunks(delta)?;
    check_source_len(&hunks, source.len())?;
    let mut output = Vec::with_capacity(patched_len(&hunks, source.len()));
    let mut source_pos = 0usize;
    for hunk in &hunks {
        output.extend_from_slice(&source[source_pos..hunk.start]);
        output.extend_from_slice(&delta[hunk.data.clone()]);
        source_pos = hunk.end;
    }
    output.extend_from_slice(&source[source_pos..]);
    Ok(output)
}

#[cfg(test)]
pub(crate) fn encode_hunk(start: u32, end: u32, data: &[u8]) -> Vec<u8> {
    let mut hunk = Vec::new();
    hunk.extend_from_slice(&start.to_be_bytes());
    hunk.extend_from_slice(&end.to_be_bytes());
    hunk.extend_from_slice(&(data.len() as u32).to_be_bytes());
    hunk.extend_from_slice(data);
    hunk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_delta_is_identity() {
        assert_eq!(apply_delta(b"abc", b""), Ok(b"abc".to_vec()));
    }

    #[test]
    fn replaces_inserts_and_deletes() {
        let mut delta = encode_hunk(0, 1, b"X");
        delta.extend(encode_hunk(2, 2, b"inserted"));
        delta.extend(encode_hunk(3, 5, b""));
        assert_eq!(apply_delta(b"abcdef", &delta), Ok(b"Xbinsertedcf".to_vec()));
    }

    #[test]
    fn full_replacement_from_empty() {
        assert_eq!(
            apply_delta(b"", &encode_hunk(0, 0, b"new")),
            Ok(b"new".to_vec())
        );
    }

    #[test]
    fn rejects_malformed_deltas() {
        assert!(apply_delta(b"abc", &[0, 0, 0]).is_err());
        assert!(apply_delta(b"abc", &encode_hunk(2, 1, b"")).is_err());
        assert!(apply_delta(b"abc", &encode_hunk(0, 4, b"")).is_err());
        let mut overlapping = encode_hunk(1, 2, b"");
        overlapping.extend(encode_hunk(0, 1, b""));
        assert!(apply_delta(b"abc", &overlapping).is_err());
        let mut truncated = encode_hunk(0, 1, b"xyz");
        truncated.pop();
        assert!(apply_delta(b"abc", &truncated).is_err());
        let huge_length = [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(apply_delta(b"abc", &huge_length).is_err());
    }
}
