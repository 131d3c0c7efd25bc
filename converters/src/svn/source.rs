//! A Subversion source as the converter reads it: a dump file, or a repository URL read
//! through libsvn (a local `file://` repository through libsvn_fs, anything else through
//! RA), with what a first look at it finds.

use std::collections::BTreeSet;
use std::io::BufReader;
use std::path::PathBuf;

use super::convert::ConvertError;
use super::events::RevisionSink;
use super::ra::{self, RaSession};
use super::{dump_events, fs, layout_detect};
use crate::{Cancel, Credentials, SourceError};

/// Where the history comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvnSource {
    Dump(PathBuf),
    /// A URL libsvn opens (`file://`, `svn://`, `http(s)://`).
    Repository(String),
}

/// What a first look finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    pub uuid: String,
    pub youngest: u64,
    /// Directories of depth one and two that reveal the layout (see [`layout_detect`]).
    pub top_dirs: BTreeSet<String>,
}

/// Whether a URL names a dump file rather than a repository.
pub fn is_dump(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    [".dump", ".svndump", ".svn-dump"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// Whether a repository URL names a local repository, read through libsvn_fs.
pub fn is_local_repository(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file://"))
}

impl SvnSource {
    /// The source a URL names; `local` says the URL policy found it a local path. A dump is
    /// known by its name or, locally, by its first line (as detection knows it).
    pub fn from_url(url: &str, local: bool) -> Result<SvnSource, SourceError> {
        let path = url.strip_prefix("file://").unwrap_or(url);
        if is_dump(url) || (local && super::probe::is_dump_file(std::path::Path::new(path))) {
            return match local {
                true => Ok(SvnSource::Dump(PathBuf::from(path))),
                false => Err(SourceError::NotFound {
                    url: url.to_owned(),
                    reason: "dump files are read from local paths; serve the repository \
                             (svnserve or mod_dav_svn) to import it over the network"
                        .into(),
                }),
            };
        }
        Ok(SvnSource::Repository(match local {
            true => format!("file://{path}"),
            false => url.to_owned(),
        }))
    }

    fn open_dump(path: &PathBuf) -> Result<BufReader<std::fs::File>, ConvertError> {
        std::fs::File::open(path).map(BufReader::new).map_err(|e| {
            ConvertError::Source(SourceError::NotFound {
                url: path.display().to_string(),
                reason: e.to_string(),
            })
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
            SvnSource::Dump(path) => {
                let outline = dump_events::outline(Self::open_dump(path)?)?;
                Ok(Survey {
                    uuid: outline.uuid.unwrap_or_else(|| "unknown-uuid".into()),
                    youngest: outline.youngest,
                    top_dirs: outline.top_dirs,
                })
            }
            SvnSource::Repository(url) => {
                let session = RaSession::open(url, credentials, cancel)?;
                let youngest = session.latest_revision()?;
                Ok(Survey {
                    uuid: session.uuid(),
                    youngest,
                    top_dirs: layout_detect::top_dirs(&session, youngest)?,
                })
            }
        }
    }

    /// Feeds every revision up to `youngest` to `sink`: a `file://` repository through the
    /// fs reader, other URLs through RA.
    pub fn read_into<S: RevisionSink<Error = ConvertError>>(
        &self,
        credentials: Option<&Credentials>,
        youngest: u64,
        sink: &mut S,
        cancel: &Cancel,
    ) -> Result<(), ConvertError> {
        match self {
            SvnSource::Dump(path) => dump_events::replay(Self::open_dump(path)?, sink),
            SvnSource::Repository(url) => {
                let read = match is_local_repository(url) {
                    true => fs::read_history(url, 0, youngest, sink, cancel),
                    false => ra::read_history(url, credentials, 0, youngest, sink, cancel),
                };
                read.map_err(|error| match error {
                    ra::HistoryError::Source(source) => ConvertError::Source(source),
                    ra::HistoryError::Sink(error) => error,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_dumps_or_repositories() {
        assert!(is_dump("/tmp/x.dump"));
        assert!(is_dump("https://example.com/repo.svndump?x=1"));
        assert!(!is_dump("svn://example.com/repo"));
        assert_eq!(
            SvnSource::from_url("/srv/repo", true).unwrap(),
            SvnSource::Repository("file:///srv/repo".into())
        );
        assert_eq!(
            SvnSource::from_url("file:///tmp/a.dump", true).unwrap(),
            SvnSource::Dump("/tmp/a.dump".into())
        );
        assert!(SvnSource::from_url("https://example.com/a.dump", false).is_err());
        assert!(is_local_repository("file:///srv/repo"));
        assert!(is_local_repository("FILE:///srv/repo"));
        assert!(!is_local_repository("svn://example.com/repo"));
        let unnamed = std::env::temp_dir().join(format!("svn-source-{}", std::process::id()));
        std::fs::write(&unnamed, "SVN-fs-dump-format-version: 2\n").unwrap();
        let found = SvnSource::from_url(unnamed.to_str().unwrap(), true).unwrap();
        std::fs::remove_file(&unnamed).unwrap();
        assert_eq!(found, SvnSource::Dump(unnamed));
    }
}
