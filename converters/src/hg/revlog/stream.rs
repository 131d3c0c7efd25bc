//! A revision's text as a stream: the snapshot is decompressed as it is read and each delta
//! of the chain is applied on the fly, so only the deltas are held, never a whole text.

use std::io::{self, Read};

use super::mpatch::Hunk;

/// `base` with one delta applied, read front to back. Hunks are sorted and do not overlap,
/// so the base is only ever read forwards.
pub(crate) struct Patched<R> {
    base: R,
    delta: Vec<u8>,
    hunks: Vec<Hunk>,
    /// The hunk being worked on.
    next: usize,
    /// How much of the base has been read (copied or skipped).
    base_pos: usize,
    /// How much of the current hunk's data has been given out.
    emitted: usize,
}

impl<R: Read> Patched<R> {
    /// `hunks` are `delta`'s, already checked against the base's length.
    pub(crate) fn new(base: R, delta: Vec<u8>, hunks: Vec<Hunk>) -> Self {
        Patched {
            base,
            delta,
            hunks,
            next: 0,
            base_pos: 0,
            emitted: 0,
        }
    }
}

fn short_base() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "delta base ended early")
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(hunk) = self.hunks.get(self.next).cloned() else {
                let read = self.base.read(buf)?;
                self.base_pos += read;
                return Ok(read);
            };
            if self.base_pos < hunk.start {
                let want = (hunk.start - self.base_pos).min(buf.len());
                let read = self.base.read(&mut buf[..want])?;
                if read == 0 {
                    return Err(short_base());
                }
                self.base_pos += read;
                return Ok(read);
            }
            if self.base_pos < hunk.end {
                let skip = (hunk.end - self.base_pos) as u64;
                if io::copy(&mut (&mut self.base).take(skip), &mut io::sink())? < skip {
                    return Err(short_base());
                }
                self.base_pos = hunk.end;
                continue;
            }
            let data = &self.delta[hunk.data][self.emitted..];
            if data.is_empty() {
                self.next += 1;
                self.emitted = 0;
                continue;
            }
            let given = data.len().min(buf.len());
            buf[..given].copy_from_slice(&data[..given]);
            self.emitted += given;
            return Ok(given);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::mpatch::{apply_delta, encode_hunk, hunks};
    use super::*;

    fn streamed(source: &[u8], delta: &[u8], piece: usize) -> Vec<u8> {
        let parsed = hunks(delta).expect("valid delta");
        let mut reader = Patched::new(source, delta.to_vec(), parsed);
        let mut out = Vec::new();
        let mut buf = vec![0u8; piece];
        loop {
            let read = reader.read(&mut buf).expect("read");
            if read == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..read]);
        }
    }

    #[test]
    fn streaming_gives_what_applying_gives() {
        let source = b"0123456789abcdefghij";
        let mut delta = encode_hunk(0, 1, b"X");
        delta.extend(encode_hunk(2, 2, b"inserted"));
        delta.extend(encode_hunk(3, 5, b""));
        delta.extend(encode_hunk(5, 9, b"long replacement text"));
        delta.extend(encode_hunk(20, 20, b"tail"));
        let applied = apply_delta(source, &delta).expect("applies");
        for piece in [1, 2, 3, 7, 64] {
            assert_eq!(
                streamed(source, &delta, piece),
                applied,
                "pieces of {piece}"
            );
        }
        assert_eq!(streamed(source, b"", 4), source);
    }

    #[test]
    fn a_short_base_is_an_error() {
        let delta = encode_hunk(10, 12, b"x");
        let parsed = hunks(&delta).expect("valid");
        let mut reader = Patched::new(&b"short"[..], delta.clone(), parsed);
        assert!(reader.read_to_end(&mut Vec::new()).is_err());
    }
}
