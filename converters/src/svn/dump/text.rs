//! The bounded reader over one node's text, borrowed from the dump reader.

use std::io::{self, BufRead, Read, Seek};

use super::error::DumpError;
use super::input::Input;
use super::svndiff::apply_svndiff_at;

/// Where the parser stands inside the current record's content: the bytes
/// still unread when the caller moves on are skipped by the next
/// [`crate::svn::dump::DumpReader::next_record`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PendingContent {
    /// Unread bytes of the node's text.
    pub(crate) text: u64,
    /// Bytes after the text that `Content-length` covers but nothing else does.
    pub(crate) padding: u64,
}

/// Reads exactly `Text-content-length` bytes of a node's text (full text or
/// svndiff delta, see [`crate::svn::dump::NodeHeader::text_delta`]).
///
/// If the dump ends early, `read` fails with an `io::Error` of kind
/// `UnexpectedEof` that wraps a [`DumpError::Truncated`] naming the offset.
pub struct TextReader<'a, R> {
    pub(crate) input: &'a mut Input<R>,
    pub(crate) pending: &'a mut PendingContent,
    pub(crate) length: u64,
    pub(crate) start_offset: u64,
    pub(crate) is_delta: bool,
}

impl<R: BufRead> TextReader<'_, R> {
    /// The text's length (`Text-content-length`).
    pub fn len(&self) -> u64 {
        self.length
    }

    /// True for an empty text.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> u64 {
        self.pending.text
    }

    /// Dump offset of the text's first byte.
    pub fn start_offset(&self) -> u64 {
        self.start_offset
    }

    /// True if the text is an svndiff delta (`Text-delta: true`).
    pub fn is_delta(&self) -> bool {
        self.is_delta
    }

    /// Applies this text, an svndiff delta, to `base` and writes the full
    /// text to `target` (see [`crate::svn::dump::apply_svndiff`]), streaming
    /// window by window. Error offsets are dump offsets. Call it on an unread
    /// text; a full text (not a delta) is an error.
    pub fn apply_delta<B: Read + Seek, W: io::Write>(
        &mut self,
        base: B,
        target: W,
    ) -> Result<u64, DumpError> {
        let start = self.start_offset + (self.length - self.pending.text);
        if !self.is_delta {
            return Err(DumpError::Svndiff {
                offset: start,
                message: "the node's text is a full text, not a delta (no Text-delta: true)"
                    .to_string(),
            });
        }
        apply_svndiff_at(&mut *self, start, base, target)
    }

    /// Reads the rest of the text, failing with a `DumpError` (rather than an
    /// `io::Error`) if the dump is cut short. Useful to copy it somewhere.
    pub fn copy_to(&mut self, out: &mut impl io::Write) -> Result<u64, DumpError> {
        let mut buffer = [0u8; 16 * 1024];
        let mut copied = 0u64;
        loop {
            let count = self
                .read(&mut buffer)
                .map_err(|error| DumpError::from_io(self.input.offset(), error))?;
            if count == 0 {
                return Ok(copied);
            }
            out.write_all(&buffer[..count])
                .map_err(|source| DumpError::Io {
                    offset: self.input.offset(),
                    source,
                })?;
            copied += count as u64;
        }
    }
}

impl<R> std::fmt::Debug for TextReader<'_, R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TextReader")
            .field("length", &self.length)
            .field("remaining", &self.pending.text)
            .field("start_offset", &self.start_offset)
            .field("is_delta", &self.is_delta)
            .finish()
    }
}

impl<R: BufRead> Read for TextReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pending.text == 0 || out.is_empty() {
            return Ok(0);
        }
        let count = self
            .input
            .read_bounded(out, self.pending.text)
            .map_err(DumpError::into_io)?;
        if count == 0 {
            let missing = self.pending.text;
            return Err(DumpError::truncated(
                self.input.offset(),
                format!(
                    "node text of {} bytes starting at byte {} is cut short: {missing} bytes missing",
                    self.length, self.start_offset
                ),
            )
            .into_io());
        }
        self.pending.text -= count as u64;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use crate::svn::dump::{DumpError, DumpReader, Record};

    /// A dump with one node whose text is `text` (declared `declared_length` long).
    fn dump_with_text(text: &[u8], declared_length: usize, delta: bool) -> Vec<u8> {
        let mut dump = format!(
            "SVN-fs-dump-format-version: 3\n\nRevision-number: 1\n\n\
             Node-path: f\nNode-kind: file\nNode-action: add\nText-delta: {delta}\n\
             Text-content-length: {declared_length}\n\n"
        )
        .into_bytes();
        dump.extend_from_slice(text);
        dump
    }

    /// Applies the first node's text as a delta to an empty base.
    fn apply_first_text(dump: &[u8]) -> Result<Vec<u8>, DumpError> {
        let mut reader = DumpReader::new(dump);
        while let Some(record) = reader.next_record()? {
            if let Record::Node(mut node) = record {
                let text = node.text.as_mut().expect("the node has a text");
                let mut target = Vec::new();
                text.apply_delta(Cursor::new(Vec::new()), &mut target)?;
                return Ok(target);
            }
        }
        panic!("no node in the dump")
    }

    const DELTA_HELLO: &[u8] = b"SVN\0\x00\x00\x05\x01\x05\x85hello";

    #[test]
    fn applies_a_delta_straight_from_the_dump() {
        let dump = dump_with_text(DELTA_HELLO, DELTA_HELLO.len(), true);
        assert_eq!(apply_first_text(&dump).expect("valid delta"), b"hello");
    }

    #[test]
    fn a_truncated_delta_reports_a_dump_offset() {
        let cut = DELTA_HELLO.len() - 2;
        let dump = dump_with_text(&DELTA_HELLO[..cut], DELTA_HELLO.len(), true);
        let error = apply_first_text(&dump).expect_err("truncated");
        assert!(matches!(error, DumpError::Truncated { .. }), "{error}");
        assert_eq!(error.offset(), dump.len() as u64);
    }

    #[test]
    fn a_bad_delta_reports_a_dump_offset() {
        let bad = b"SVN\0\x00\x00\x05\x01\x05\xc5hello";
        let dump = dump_with_text(bad, bad.len(), true);
        let window_offset = (dump.len() - bad.len() + 4) as u64;
        let error = apply_first_text(&dump).expect_err("invalid opcode");
        assert!(matches!(error, DumpError::Svndiff { .. }), "{error}");
        assert_eq!(error.offset(), window_offset);
    }

    #[test]
    fn a_full_text_is_not_applied_as_a_delta() {
        let dump = dump_with_text(b"plain", 5, false);
        assert!(apply_first_text(&dump).is_err());
    }

    #[test]
    fn reports_length_and_progress() {
        let dump = dump_with_text(b"0123456789", 10, false);
        let mut reader = DumpReader::new(dump.as_slice());
        let mut seen = false;
        while let Some(record) = reader.next_record().expect("valid dump") {
            if let Record::Node(mut node) = record {
                let text = node.text.as_mut().expect("text");
                assert_eq!(
                    (text.len(), text.remaining(), text.is_empty()),
                    (10, 10, false)
                );
                assert_eq!(text.start_offset(), (dump.len() - 10) as u64);
                let mut first = [0u8; 4];
                std::io::Read::read_exact(text, &mut first).expect("4 bytes");
                assert_eq!(text.remaining(), 6);
                assert!(format!("{text:?}").contains("remaining: 6"));
                seen = true;
            }
        }
        assert!(seen);
    }
}
