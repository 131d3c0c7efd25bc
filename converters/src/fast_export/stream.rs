//! Talking to `git fast-import`: commands out, and `ls` / `cat-blob` answers back on its
//! cat-blob channel.

use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;

use super::MarkIds;

/// A fast-import session: `out` is its stdin, `replies` its `--cat-blob-fd`.
pub struct FastImport<W, R> {
    out: W,
    replies: R,
    next_mark: u64,
    /// Marks of earlier sessions, named by object id (see [`FastImport::dataref`]).
    earlier: Arc<MarkIds>,
}

/// What `ls` found at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub oid: String,
}

impl Entry {
    pub fn is_tree(&self) -> bool {
        self.mode == 0o040000
    }
}

/// A file operation inside one commit.
#[derive(Debug)]
pub enum Op {
    Modify {
        mode: u32,
        dataref: String,
        path: String,
    },
    /// Deletes a path; the empty path deletes everything (`deleteall`).
    Delete(String),
}

impl Op {
    /// Writes the operation as its fast-import command line.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Op::Modify {
                mode,
                dataref,
                path,
            } => writeln!(out, "M {mode:06o} {dataref} {}", quote(path)),
            Op::Delete(path) if path.is_empty() => writeln!(out, "deleteall"),
            Op::Delete(path) => writeln!(out, "D {}", quote(path)),
        }
    }
}

impl<W: Write, R: BufRead> FastImport<W, R> {
    pub fn new(out: W, replies: R) -> Self {
        FastImport {
            out,
            replies,
            next_mark: 1,
            earlier: Arc::default(),
        }
    }

    /// Carries on after earlier sessions whose marks are `earlier`: those objects are named
    /// by id, and new marks are numbered after them.
    pub fn naming_earlier(mut self, earlier: Arc<MarkIds>) -> Self {
        self.earlier = earlier;
        self
    }

    /// How the stream names the object of `mark`: `:mark` when this session gave it, its
    /// object id when an earlier session did.
    pub fn dataref(&self, mark: u64) -> String {
        self.earlier.get(mark).unwrap_or_else(|| format!(":{mark}"))
    }

    /// A fresh mark number.
    pub fn mark(&mut self) -> u64 {
        let mark = self.next_mark;
        self.next_mark += 1;
        mark
    }

    /// The mark the next [`FastImport::mark`] gives.
    pub fn next_mark(&self) -> u64 {
        self.next_mark
    }

    /// Continues numbering after marks an earlier session gave.
    pub fn continue_marks_from(&mut self, next_mark: u64) {
        self.next_mark = self.next_mark.max(next_mark);
    }

    /// The command stream, for writing commands directly.
    pub fn out(&mut self) -> &mut W {
        &mut self.out
    }

    /// Writes one commit to `notes_ref` (dated `time`, UTC) holding a note for each
    /// `(mark, text)`, on top of the commit `from` names if given (an earlier session's
    /// notes); returns its mark.
    pub fn notes_commit(
        &mut self,
        notes_ref: &str,
        from: Option<u64>,
        time: i64,
        message: &str,
        notes: impl IntoIterator<Item = (u64, String)>,
    ) -> io::Result<u64> {
        let mark = self.mark();
        write!(
            self.out,
            "commit {notes_ref}\nmark :{mark}\ncommitter srcimport <srcimport@localhost> {time} +0000\ndata {}\n{message}",
            message.len()
        )?;
        if let Some(from) = from {
            writeln!(self.out, "from {}", self.dataref(from))?;
        }
        for (mark, text) in notes {
            let annotated = self.dataref(mark);
            write!(
                self.out,
                "N inline {annotated}\ndata {}\n{text}\n",
                text.len()
            )?;
        }
        self.out.write_all(b"\n")?;
        Ok(mark)
    }

    /// Writes a blob of `length` bytes read from `text`; returns its mark.
    pub fn blob(&mut self, length: u64, text: &mut dyn Read) -> io::Result<u64> {
        let mark = self.mark();
        write!(self.out, "blob\nmark :{mark}\ndata {length}\n")?;
        let copied = io::copy(&mut text.take(length), &mut self.out)?;
        if copied != length {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("text ended after {copied} of {length} bytes"),
            ));
        }
        self.out.write_all(b"\n")?;
        Ok(mark)
    }

    /// Writes a blob from bytes; returns its mark.
    pub fn blob_bytes(&mut self, bytes: &[u8]) -> io::Result<u64> {
        self.blob(bytes.len() as u64, &mut &bytes[..])
    }

    /// `ls`: the entry at `path` in `dataref` (a `:mark` or object id), or in the commit being
    /// written when `dataref` is `None`.
    pub fn ls(&mut self, dataref: Option<&str>, path: &str) -> io::Result<Option<Entry>> {
        match dataref {
            Some(dataref) => writeln!(self.out, "ls {dataref} {}", quote(path))?,
            None => writeln!(self.out, "ls {}", quote(path))?,
        }
        self.out.flush()?;
        let line = self.reply_line()?;
        if line.starts_with(b"missing ") {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let mut fields = text.split(['\t', ' ']);
        let mode = fields
            .next()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .ok_or_else(|| bad_reply(&text))?;
        let _kind = fields.next();
        let oid = fields.next().ok_or_else(|| bad_reply(&text))?.to_owned();
        Ok(Some(Entry { mode, oid }))
    }

    /// `cat-blob`: copies the blob `oid` into `sink`; returns its size.
    pub fn cat_blob(&mut self, oid: &str, sink: &mut impl Write) -> io::Result<u64> {
        writeln!(self.out, "cat-blob {oid}")?;
        self.out.flush()?;
        let line = self.reply_line()?;
        let text = String::from_utf8_lossy(&line).into_owned();
        let size: u64 = text
            .rsplit(' ')
            .next()
            .filter(|_| text.contains(" blob "))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad_reply(&text))?;
        let copied = io::copy(&mut (&mut self.replies).take(size), sink)?;
        let mut newline = [0u8; 1];
        self.replies.read_exact(&mut newline)?;
        if copied != size {
            return Err(bad_reply(&text));
        }
        Ok(size)
    }

    fn reply_line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        self.replies.read_until(b'\n', &mut line)?;
        if line.pop() != Some(b'\n') {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "git fast-import stopped answering",
            ));
        }
        Ok(line)
    }

    /// Gives back the command stream.
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn bad_reply(text: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected git fast-import answer {text:?}"),
    )
}

/// A path as fast-import reads it: C-style quoted, so any byte is safe.
pub fn quote(path: &str) -> String {
    let mut quoted = String::with_capacity(path.len() + 2);
    quoted.push('"');
    for c in path.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                quoted.push_str(&format!("\\{:03o}", c as u32));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_fast_import_unquotes() {
        assert_eq!(quote("a b/c"), "\"a b/c\"");
        assert_eq!(quote("q\"\\\n\t"), "\"q\\\"\\\\\\n\\011\"");
        assert_eq!(quote("café"), "\"café\"");
    }

    #[test]
    fn answers_are_parsed() {
        let replies = b"100755 blob 0123456789012345678901234567890123456789\trun.sh\nmissing nope\n0123456789012345678901234567890123456789 blob 3\nabc\n";
        let mut session = FastImport::new(Vec::new(), &replies[..]);
        let entry = session.ls(Some(":1"), "run.sh").unwrap().unwrap();
        assert_eq!(entry.mode, 0o100755);
        assert_eq!(session.ls(None, "nope").unwrap(), None);
        let mut blob = Vec::new();
        assert_eq!(session.cat_blob(&entry.oid, &mut blob).unwrap(), 3);
        assert_eq!(blob, b"abc");
        assert_eq!(
            String::from_utf8(session.into_inner()).unwrap(),
            "ls :1 \"run.sh\"\nls \"nope\"\ncat-blob 0123456789012345678901234567890123456789\n"
        );
    }

    #[test]
    fn earlier_sessions_marks_are_named_by_id() {
        let tip = "89abcdef0123456789abcdef0123456789abcdef";
        let notes = "0123456789abcdef0123456789abcdef01234567";
        let mut earlier = MarkIds::default();
        assert!(earlier.insert(3, tip) && earlier.insert(4, notes));
        let mut session = FastImport::new(Vec::new(), &b""[..]).naming_earlier(Arc::new(earlier));
        session.continue_marks_from(5);
        assert_eq!(session.dataref(3), tip);
        let mark = session.mark();
        assert_eq!((mark, session.dataref(mark)), (5, ":5".to_owned()));
        let commit = session
            .notes_commit(
                "refs/notes/x",
                Some(4),
                0,
                "m\n",
                [(3, "a".to_owned()), (5, "b".to_owned())],
            )
            .unwrap();
        assert_eq!(commit, 6);
        let stream = String::from_utf8(session.into_inner()).unwrap();
        assert!(stream.contains(&format!("from {notes}\n")), "{stream}");
        assert!(
            stream.contains(&format!("N inline {tip}\ndata 1\na\n")),
            "{stream}"
        );
        assert!(stream.contains("N inline :5\ndata 1\nb\n"), "{stream}");
    }
}
