//! Files: modes from `svn:executable` and `svn:special`, texts written as blobs (deltas
//! applied to their base), symlinks stored as their target, line-ending checks.

use std::io::{self, BufRead, Read, Seek, Write};

use super::*;

/// A `link TARGET` text longer than this is no symlink.
const LONGEST_LINK: u64 = 64 << 10;

/// Where a delta's base text comes from.
pub(super) enum Base {
    Empty,
    /// A blob fast-import holds (a symlink's blob lacks svn's `link ` prefix).
    Entry(Entry),
    /// The text itself, remembered when it was written.
    Known(Vec<u8>),
}

/// `native` and `LF` ask for LF line endings (on this platform).
fn is_lf_style(style: &[u8]) -> bool {
    matches!(style.trim_ascii(), b"native" | b"LF")
}

/// Passes a text through, noting whether it holds a carriage return.
struct CarriageReturns<'r, R: ?Sized> {
    inner: &'r mut R,
    seen: bool,
}

impl<'r, R: Read + ?Sized> CarriageReturns<'r, R> {
    fn watch(inner: &'r mut R) -> Self {
        CarriageReturns { inner, seen: false }
    }
}

impl<R: Read + ?Sized> Read for CarriageReturns<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen |= buf[..n].contains(&b'\r');
        Ok(n)
    }
}

impl<W: Write, R: BufRead> Converter<'_, W, R> {
    /// A file added, copied or changed: its mode from its properties, its text from the node
    /// (applying a delta to its base) or from its source.
    pub(super) fn file(
        &mut self,
        node: &NodeChange,
        key: &Key,
        sub: &str,
        source: Option<Entry>,
        text: Option<&mut dyn Read>,
    ) -> Result<(), ConvertError> {
        let path = node.path.as_str();
        let revision = self.revision();
        let is_add = matches!(node.action, NodeAction::Add | NodeAction::Replace);
        let old_mode = match (&source, is_add) {
            (Some(entry), _) => entry.mode,
            (None, true) => MODE_FILE,
            (None, false) => self.modes.current(path).copied().unwrap_or(MODE_FILE),
        };
        let (mut exec, mut special) = (old_mode == MODE_EXEC, old_mode == MODE_LINK);
        const HANDLED: [&[u8]; 3] = [b"svn:executable", b"svn:special", b"svn:eol-style"];
        let changes = prop_changes(&node.props, &HANDLED);
        for (name, value) in &changes {
            match name.as_slice() {
                b"svn:executable" => exec = value.is_some(),
                b"svn:special" => special = value.is_some(),
                _ => self.eol_style(path, value.as_deref()),
            }
        }
        self.report_props(path, &node.props, &HANDLED);
        let mut mode = if special {
            MODE_LINK
        } else if exec {
            MODE_EXEC
        } else {
            MODE_FILE
        };
        let dataref = match node.text {
            Some(form) => {
                let text = text.ok_or_else(|| self.invalid(path, "text announced but missing"))?;
                let base = match (form, is_add, source.clone()) {
                    (TextForm::Full { .. }, _, _) | (TextForm::Delta, true, None) => Base::Empty,
                    (TextForm::Delta, _, Some(entry)) => Base::Entry(entry),
                    (TextForm::Delta, false, None) => match self.texts.get(path) {
                        Some(text) => Base::Known(text.to_vec()),
                        None => self.entry_now(path)?.map_or(Base::Empty, Base::Entry),
                    },
                };
                let (dataref, kept_link) = self.text(path, form, base, text, special)?;
                if special && !kept_link {
                    mode = if exec { MODE_EXEC } else { MODE_FILE };
                }
                dataref
            }
            None if is_add && source.is_none() => {
                // Added with no text at all: an empty file (and so no symlink).
                self.texts.forget_under(path);
                if special {
                    mode = if exec { MODE_EXEC } else { MODE_FILE };
                }
                self.empty_blob()?
            }
            None => {
                let current = match source {
                    Some(entry) => Some(entry),
                    None if mode != old_mode => self.entry_now(path)?,
                    None => None,
                };
                let Some(entry) = current else {
                    self.modes
                        .set(path, revision, (mode != MODE_FILE).then_some(mode));
                    return Ok(());
                };
                if (old_mode == MODE_LINK) != (mode == MODE_LINK) {
                    // The stored text changes form: a symlink's blob is its target, svn's
                    // text is `link TARGET`.
                    let (dataref, kept_link) = self.reencode(path, &entry, old_mode, special)?;
                    if special && !kept_link {
                        mode = if exec { MODE_EXEC } else { MODE_FILE };
                    }
                    dataref
                } else {
                    entry.oid
                }
            }
        };
        self.modes
            .set(path, revision, (mode != MODE_FILE).then_some(mode));
        self.pending(key).ops.push(Op::Modify {
            mode,
            dataref,
            path: sub.to_owned(),
        });
        Ok(())
    }

    /// Writes a node's text as a blob. Returns its dataref, and whether it was stored as a
    /// symlink target (a special file whose text is not `link ...` stays a plain file).
    pub(super) fn text(
        &mut self,
        path: &str,
        form: TextForm,
        base: Base,
        text: &mut dyn Read,
        special: bool,
    ) -> Result<(String, bool), ConvertError> {
        let revision = self.revision();
        let text_error = |source: DumpError| ConvertError::Text {
            revision,
            path: path.to_owned(),
            source,
        };
        if let (TextForm::Full { length }, false) = (form, special) {
            self.texts.forget_under(path);
            let mut watched = CarriageReturns::watch(text);
            let mark = self.fi.blob(length, &mut watched)?;
            let seen = watched.seen;
            self.check_line_endings(path, seen);
            self.note_size(path, mark, length)?;
            return Ok((format!(":{mark}"), false));
        }
        let mut full = Spool::default();
        match form {
            TextForm::Full { .. } => {
                io::copy(text, &mut full)?;
            }
            TextForm::Delta => {
                let mut base_text = Spool::default();
                match &base {
                    Base::Empty => {}
                    Base::Known(text) => base_text.write_all(text)?,
                    Base::Entry(entry) => {
                        if entry.mode == MODE_LINK {
                            base_text.write_all(b"link ")?;
                        }
                        self.fi.cat_blob(&entry.oid, &mut base_text)?;
                    }
                }
                let reader = base_text.reader()?;
                apply_svndiff(io::BufReader::new(text), reader, &mut full).map_err(text_error)?;
            }
        }
        self.remember_text(path, &mut full)?;
        self.store_text(path, &mut full, special)
    }

    /// Stores a full svn text: a symlink's blob is its target.
    pub(super) fn store_text(
        &mut self,
        path: &str,
        full: &mut Spool,
        special: bool,
    ) -> Result<(String, bool), ConvertError> {
        let length = full.len();
        let mut reader = full.reader()?;
        if special {
            let mut prefix = [0u8; 5];
            let is_link = length >= 5 && {
                reader.read_exact(&mut prefix)?;
                &prefix == b"link "
            };
            if is_link && length <= LONGEST_LINK {
                // svn reads a link's target up to the end of its first line.
                let mut target = Vec::new();
                reader.read_to_end(&mut target)?;
                if let Some(end) = target.iter().position(|&b| b == b'\n') {
                    target.truncate(end);
                }
                let mark = self.fi.blob_bytes(&target)?;
                return Ok((format!(":{mark}"), true));
            }
            self.report(
                "svn_special",
                Some(path),
                "svn:special file whose text is not a symlink; kept as a regular file".into(),
            );
            reader.seek(io::SeekFrom::Start(0))?;
        }
        let mut watched = CarriageReturns::watch(&mut reader);
        let mark = self.fi.blob(length, &mut watched)?;
        let seen = watched.seen;
        self.check_line_endings(path, seen);
        self.note_size(path, mark, length)?;
        Ok((format!(":{mark}"), false))
    }

    /// Keeps a small svn text as the next delta's base.
    fn remember_text(&mut self, path: &str, full: &mut Spool) -> Result<(), ConvertError> {
        if full.len() <= text_cache::LARGEST_TEXT as u64 {
            let mut text = Vec::with_capacity(full.len() as usize);
            full.reader()?.read_to_end(&mut text)?;
            self.texts.put(path, text);
        } else {
            self.texts.forget_under(path);
        }
        Ok(())
    }

    /// Remembers a blob over the large-file threshold, so nobody has to scan for it later;
    /// a final history stops there instead ([`Converter::writing_final_history`]).
    fn note_size(&mut self, path: &str, mark: u64, size: u64) -> Result<(), ConvertError> {
        if size > self.options.large_file_threshold {
            if self.final_history.is_some() {
                return Err(ConvertError::LargeBlob {
                    revision: self.revision(),
                    path: path.to_owned(),
                    size,
                });
            }
            self.large.push((path.to_owned(), mark, size));
        }
        Ok(())
    }

    /// Rewrites a blob when a file turns into a symlink or back.
    pub(super) fn reencode(
        &mut self,
        path: &str,
        entry: &Entry,
        old_mode: u32,
        special: bool,
    ) -> Result<(String, bool), ConvertError> {
        let mut full = Spool::default();
        if old_mode == MODE_LINK {
            full.write_all(b"link ")?;
        }
        self.fi.cat_blob(&entry.oid, &mut full)?;
        self.store_text(path, &mut full, special)
    }

    /// Records a file's `svn:eol-style`. Texts are kept as stored; a style that makes
    /// `svn export` rewrite line endings is reported.
    pub(super) fn eol_style(&mut self, path: &str, value: Option<&[u8]>) {
        let revision = self.revision();
        self.eols.set(path, revision, value.map(<[u8]>::to_vec));
        if let Some(style) = value.filter(|v| !is_lf_style(v)) {
            let style = String::from_utf8_lossy(style).into_owned();
            self.report(
                "svn_eol_style",
                Some(path),
                format!("svn:eol-style {style}: kept with the line endings stored in Subversion"),
            );
        }
    }

    /// A text with carriage returns in a file whose eol style says LF.
    pub(super) fn check_line_endings(&mut self, path: &str, carriage_returns: bool) {
        let lf_style = self.eols.current(path).is_some_and(|v| is_lf_style(v));
        if carriage_returns && lf_style {
            self.report(
                "svn_eol_style",
                Some(path),
                "text holds CR line endings although svn:eol-style asks for LF; kept as stored"
                    .into(),
            );
        }
    }
}
