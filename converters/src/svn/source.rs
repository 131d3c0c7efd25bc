//! A Subversion source as the converter reads it: a dump file, or a repository URL read
//! through libsvn's RA layer (`file://`, `svn://`, `http(s)://`), with what a first look at
//! it finds.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tempfile::TempPath;

use super::convert::ConvertError;
use super::dump::{DumpError, Properties};
use super::dump_events::Bookmark;
use super::events::RevisionSink;
use super::ra::{self, RaSession};
use super::{download, dump_events, layout_detect};
use crate::url_policy::{redact, UrlPolicy};
use crate::{Cancel, Credentials, SourceError};

/// Where the history comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvnSource {
    Dump(DumpFile),
    /// A URL libsvn opens (`file://`, `svn://`, `http(s)://`), and the policy its network
    /// connections are held to.
    Repository(String, UrlPolicy),
}

/// A dump file, and where the last read of it stopped: a read of the revisions after those
/// starts there instead of parsing the dump from its beginning again.
#[derive(Debug, Clone)]
pub struct DumpFile {
    path: PathBuf,
    /// The last revision the last read asked for, and where the dump's next revision
    /// record begins (the next revision may be numbered higher: dumps can have gaps).
    next: Arc<Mutex<Option<(u64, Bookmark)>>>,
}

impl DumpFile {
    pub fn new(path: impl Into<PathBuf>) -> DumpFile {
        DumpFile {
            path: path.into(),
            next: Arc::default(),
        }
    }

    fn open(&self) -> Result<BufReader<File>, ConvertError> {
        File::open(&self.path).map(BufReader::new).map_err(|e| {
            ConvertError::Source(SourceError::NotFound {
                url: self.path.display().to_string(),
                reason: e.to_string(),
            })
        })
    }

    /// Feeds `start..=last` to `sink`, from the bookmark the last read left when it ended
    /// just before `start`.
    fn read_into<S: RevisionSink<Error = ConvertError>>(
        &self,
        start: u64,
        last: u64,
        sink: &mut S,
    ) -> Result<(), ConvertError> {
        let bookmark = self
            .next
            .lock()
            .map_or(None, |mut next| next.take())
            .filter(|(after, _)| after.checked_add(1) == Some(start))
            .map(|(_, bookmark)| bookmark);
        let next = match bookmark {
            Some(at) => {
                let mut file = self.open()?;
                file.seek(SeekFrom::Start(at.offset))
                    .map_err(|e| DumpError::from_io(at.offset, e))?;
                dump_events::replay_from(file, at, last, sink)?
            }
            None => dump_events::replay_range(self.open()?, start..=last, sink)?,
        };
        if let Ok(mut slot) = self.next.lock() {
            *slot = next.map(|bookmark| (last, bookmark));
        }
        Ok(())
    }
}

/// Dump files are the same source when they are the same file.
impl PartialEq for DumpFile {
    fn eq(&self, other: &DumpFile) -> bool {
        self.path == other.path
    }
}

impl Eq for DumpFile {}

/// What a first look finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    pub uuid: String,
    /// The first revision (above 0 in a dump of part of a history).
    pub first: u64,
    pub youngest: u64,
    /// Directories of depth one and two that reveal the layout (see [`layout_detect`]).
    pub top_dirs: BTreeSet<String>,
}

fn is_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Whether a URL names a dump file rather than a repository.
pub fn is_dump(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    [".dump", ".svndump", ".svn-dump"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// A source ready to read; a dump given as an `http(s)` URL has been downloaded, and its
/// temporary file lives as long as this does.
#[derive(Debug)]
pub struct OpenedSource {
    source: SvnSource,
    _download: Option<TempPath>,
}

impl std::ops::Deref for OpenedSource {
    type Target = SvnSource;

    fn deref(&self) -> &SvnSource {
        &self.source
    }
}

impl SvnSource {
    /// The source `url` names, after the policy accepted it. A dump is known by its name
    /// or, locally, by its first line (as detection knows it); one given as an `http(s)`
    /// URL is downloaded into `scratch` first.
    pub fn open(
        url: &str,
        credentials: Option<&Credentials>,
        policy: &UrlPolicy,
        scratch: &Path,
        cancel: &Cancel,
    ) -> Result<OpenedSource, SourceError> {
        let local = policy.check(url)?.is_none();
        let path = url.strip_prefix("file://").unwrap_or(url);
        let source = match local {
            true if is_dump(url) || super::probe::is_dump_file(Path::new(path)) => {
                SvnSource::Dump(DumpFile::new(path))
            }
            true => SvnSource::Repository(format!("file://{path}"), policy.clone()),
            false if is_dump(url) && is_http(url) => {
                let download = download::download(url, credentials, policy, scratch, cancel)?;
                return Ok(OpenedSource {
                    source: SvnSource::Dump(DumpFile::new(download.to_path_buf())),
                    _download: Some(download),
                });
            }
            false if is_dump(url) => {
                return Err(SourceError::NotFound {
                    url: redact(url),
                    reason: "dump files are read from local paths or http(s) URLs".into(),
                })
            }
            false => SvnSource::Repository(url.to_owned(), policy.clone()),
        };
        Ok(OpenedSource {
            source,
            _download: None,
        })
    }

    /// Reads what the layout and progress need. A dump is checked in full here, so a
    /// malformed one is refused before anything is converted.
    pub fn survey(
        &self,
        credentials: Option<&Credentials>,
        cancel: &Cancel,
    ) -> Result<Survey, ConvertError> {
        match self {
            SvnSource::Dump(dump) => {
                let outline = dump_events::outline(dump.open()?)?;
                Ok(Survey {
                    uuid: outline.uuid.unwrap_or_else(|| "unknown-uuid".into()),
                    first: outline.first.unwrap_or(0),
                    youngest: outline.youngest,
                    top_dirs: outline.top_dirs,
                })
            }
            SvnSource::Repository(url, policy) => {
                let session = RaSession::open(url, credentials, policy, cancel)?;
                let youngest = session.latest_revision()?;
                Ok(Survey {
                    uuid: session.uuid(),
                    first: 0,
                    youngest,
                    top_dirs: layout_detect::top_dirs(&session, youngest)?,
                })
            }
        }
    }

    /// The revision properties of `revision`, if the source has that revision.
    pub fn revision_properties(
        &self,
        credentials: Option<&Credentials>,
        revision: u64,
        cancel: &Cancel,
    ) -> Result<Option<Properties>, ConvertError> {
        match self {
            SvnSource::Dump(dump) => Ok(dump_events::revision_properties(dump.open()?, revision)?),
            SvnSource::Repository(url, policy) => {
                let session = RaSession::open(url, credentials, policy, cancel)?;
                if session.latest_revision()? < revision {
                    return Ok(None);
                }
                Ok(Some(session.revision_properties(revision)?))
            }
        }
    }

    /// Feeds the revisions from `start` up to `last` to `sink`: a dump's from the file, a
    /// repository's through RA's replay (for a `file://` repository too: it is faster there
    /// than walking libsvn_fs, see BENCHMARKS.md).
    pub fn read_into<S: RevisionSink<Error = ConvertError>>(
        &self,
        credentials: Option<&Credentials>,
        start: u64,
        last: u64,
        sink: &mut S,
        cancel: &Cancel,
    ) -> Result<(), ConvertError> {
        match self {
            SvnSource::Dump(dump) => dump.read_into(start, last, sink),
            SvnSource::Repository(url, policy) => {
                ra::read_history(url, credentials, policy, start, last, sink, cancel).map_err(
                    |error| match error {
                        ra::HistoryError::Source(source) => ConvertError::Source(source),
                        ra::HistoryError::Sink(error) => error,
                    },
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> UrlPolicy {
        UrlPolicy {
            allow_local_paths: true,
            ..UrlPolicy::default()
        }
    }

    fn open(url: &str) -> Result<SvnSource, SourceError> {
        let scratch = std::env::temp_dir();
        SvnSource::open(url, None, &policy(), &scratch, &Cancel::new()).map(|o| o.source)
    }

    /// The numbers of the revisions a read began.
    #[derive(Default)]
    struct Numbers(Vec<u64>);

    impl RevisionSink for Numbers {
        type Error = ConvertError;

        fn begin_revision(&mut self, number: u64, _: &Properties) -> Result<(), ConvertError> {
            self.0.push(number);
            Ok(())
        }

        fn node(
            &mut self,
            _: &crate::svn::events::NodeChange,
            _: Option<&mut dyn std::io::Read>,
        ) -> Result<(), ConvertError> {
            Ok(())
        }

        fn end_revision(&mut self) -> Result<(), ConvertError> {
            Ok(())
        }
    }

    #[test]
    fn a_dump_is_read_on_from_where_the_last_read_stopped_across_gaps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("gaps.dump");
        let mut text = String::from("SVN-fs-dump-format-version: 2\n\n");
        for number in [0, 1, 2, 5, 6, 9] {
            text.push_str(&format!(
                "Revision-number: {number}\nProp-content-length: 10\nContent-length: 10\n\nPROPS-END\n\n"
            ));
        }
        std::fs::write(&path, &text).expect("writes");
        let dump = DumpFile::new(&path);
        let mut first = Numbers::default();
        dump.read_into(0, 3, &mut first).expect("reads");
        assert_eq!(first.0, [0, 1, 2]);
        // From here on the dump's start is unreadable: only a read from the bookmark works.
        let mut bytes = text.into_bytes();
        bytes[..4].copy_from_slice(b"XXXX");
        std::fs::write(&path, &bytes).expect("writes");
        let mut second = Numbers::default();
        dump.read_into(4, 7, &mut second)
            .expect("reads on from the bookmark");
        assert_eq!(second.0, [5, 6]);
        let mut third = Numbers::default();
        dump.read_into(8, 20, &mut third).expect("reads on");
        assert_eq!(third.0, [9]);
        // A read that does not follow the last one starts from the beginning.
        assert!(dump.read_into(0, 20, &mut Numbers::default()).is_err());
    }

    #[test]
    fn urls_name_dumps_or_repositories() {
        assert!(is_dump("/tmp/x.dump"));
        assert!(is_dump("https://example.com/repo.svndump?x=1"));
        assert!(!is_dump("svn://example.com/repo"));
        assert_eq!(
            open("/srv/repo").unwrap(),
            SvnSource::Repository("file:///srv/repo".into(), policy())
        );
        assert_eq!(
            open("file:///tmp/a.dump").unwrap(),
            SvnSource::Dump(DumpFile::new("/tmp/a.dump"))
        );
        assert!(open("svn://127.0.0.1/a.dump").is_err());
        let unnamed = std::env::temp_dir().join(format!("svn-source-{}", std::process::id()));
        std::fs::write(&unnamed, "SVN-fs-dump-format-version: 2\n").unwrap();
        let found = open(unnamed.to_str().unwrap()).unwrap();
        std::fs::remove_file(&unnamed).unwrap();
        assert_eq!(found, SvnSource::Dump(DumpFile::new(unnamed)));
    }
}
