//! Byte-counting access to the dump stream: bounded line reads, exact reads and skips.

use std::io::{self, BufRead};

use super::error::DumpError;

/// How a call to [`Input::read_line`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// A full line ending in `\n` was read (the `\n` is not kept).
    Complete,
    /// The stream ended before any byte of a new line.
    EndOfStream,
}

/// A `BufRead` that knows how many bytes of the dump have been consumed.
pub(crate) struct Input<R> {
    inner: R,
    offset: u64,
}

impl<R: BufRead> Input<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self::at(inner, 0)
    }

    /// Input whose first byte is byte `offset` of the dump.
    pub(crate) fn at(inner: R, offset: u64) -> Self {
        Input { inner, offset }
    }

    /// Number of bytes consumed so far: the offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Gives back the wrapped reader.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// The buffered bytes, refilled if empty (retrying interrupted reads);
    /// empty at the end of the stream.
    fn fill(&mut self) -> Result<&[u8], DumpError> {
        loop {
            match self.inner.fill_buf() {
                Ok(_) => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(DumpError::from_io(self.offset, error)),
            }
        }
        self.inner
            .fill_buf()
            .map_err(|error| DumpError::from_io(self.offset, error))
    }

    /// Marks `amount` buffered bytes as read.
    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.offset += amount as u64;
    }

    /// Reads one line into `line` (cleared first) without its `\n`.
    /// A line longer than `max_len` or cut by the end of stream is an error.
    pub(crate) fn read_line(
        &mut self,
        line: &mut Vec<u8>,
        max_len: usize,
        what: &str,
    ) -> Result<LineRead, DumpError> {
        line.clear();
        let start = self.offset;
        loop {
            let available = self.fill()?;
            if available.is_empty() {
                if line.is_empty() {
                    return Ok(LineRead::EndOfStream);
                }
                return Err(DumpError::truncated(
                    self.offset,
                    format!("{what} starting at byte {start} has no terminating newline"),
                ));
            }
            let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
                Some(position) => (&available[..position], true),
                None => (available, false),
            };
            if line.len() + chunk.len() > max_len {
                return Err(DumpError::LimitExceeded {
                    offset: start,
                    field: what.to_string(),
                    requested: (line.len() + chunk.len()) as u64,
                    limit: max_len as u64,
                });
            }
            line.extend_from_slice(chunk);
            let used = chunk.len() + usize::from(found_newline);
            self.consume(used);
            if found_newline {
                return Ok(LineRead::Complete);
            }
        }
    }

    /// Appends exactly `length` bytes to `buffer`; memory grows only with the
    /// bytes actually present, so a lying length field cannot force a huge allocation.
    pub(crate) fn read_exact_into(
        &mut self,
        buffer: &mut Vec<u8>,
        length: u64,
        what: &str,
    ) -> Result<(), DumpError> {
        let start = self.offset;
        let mut remaining = length;
        while remaining > 0 {
            let available = self.fill()?;
            if available.is_empty() {
                return Err(DumpError::truncated(
                    self.offset,
                    format!(
                        "{what} of {length} bytes starting at byte {start} is cut short: {remaining} bytes missing"
                    ),
                ));
            }
            let take = available
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            buffer.extend_from_slice(&available[..take]);
            self.consume(take);
            remaining -= take as u64;
        }
        Ok(())
    }

    /// Consumes exactly `length` bytes without keeping them.
    pub(crate) fn skip(&mut self, length: u64, what: &str) -> Result<(), DumpError> {
        let start = self.offset;
        let mut remaining = length;
        while remaining > 0 {
            let available = self.fill()?.len();
            if available == 0 {
                return Err(DumpError::truncated(
                    self.offset,
                    format!(
                        "{what} of {length} bytes starting at byte {start} is cut short: {remaining} bytes missing"
                    ),
                ));
            }
            let take = available.min(usize::try_from(remaining).unwrap_or(usize::MAX));
            self.consume(take);
            remaining -= take as u64;
        }
        Ok(())
    }

    /// Reads at most `limit` bytes into `out`; `Ok(0)` means end of stream
    /// (when both `out` and `limit` are non-zero).
    pub(crate) fn read_bounded(&mut self, out: &mut [u8], limit: u64) -> Result<usize, DumpError> {
        let available = self.fill()?;
        let take = available
            .len()
            .min(out.len())
            .min(usize::try_from(limit).unwrap_or(usize::MAX));
        out[..take].copy_from_slice(&available[..take]);
        self.consume(take);
        Ok(take)
    }
}
