//! Reading a history: a reader thread owns the session and drives the replay, the calling
//! thread receives owned events over a bounded channel and feeds the [`RevisionSink`]
//! (see [`crate::svn::libsvn::reader`]).

use super::editor::replay_range;
use super::session::{LocalAccess, RaSession};
use crate::svn::events::RevisionSink;
use crate::svn::libsvn::reader::{
    check_range, read_on_thread, send, CancelCheck, Event, EventSender,
};
pub use crate::svn::libsvn::HistoryError;
use crate::url_policy::UrlPolicy;
use crate::{Cancel, Credentials, SourceError};

/// A repository's identity and extent, as [`history_info`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryInfo {
    pub uuid: String,
    /// The repository root URL.
    pub repos_root: String,
    /// The youngest revision.
    pub youngest: u64,
}

/// Opens `url` and returns its UUID, root URL and youngest revision.
pub fn history_info(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<HistoryInfo, SourceError> {
    let session = RaSession::open(url, credentials, policy, cancel)?;
    Ok(HistoryInfo {
        uuid: session.uuid(),
        repos_root: session.repos_root(),
        youngest: session.latest_revision()?,
    })
}

/// Reads revisions `start..=end` of the repository at `url` (any URL inside it: the whole
/// repository is replayed from its root) into `sink`, on the calling thread.
///
/// Paths are relative to the repository root. Revision 0 is delivered (with its revision
/// properties and no nodes) when `start` is 0. File texts are svndiff deltas
/// ([`TextForm::Delta`](crate::svn::events::TextForm)) against the node's base. Setting
/// `cancel` stops the reader promptly with [`SourceError::Cancelled`]. Network connections
/// go only where `policy` allows.
pub fn read_history<S: RevisionSink>(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    start: u64,
    end: u64,
    sink: &mut S,
    cancel: &Cancel,
) -> Result<(), HistoryError<S::Error>> {
    check_range(url, start, end)?;
    read_on_thread("svn-ra-reader", sink, cancel, |check, out| {
        let local = if end.saturating_sub(start) < IN_PROCESS_MAX_REVISIONS {
            LocalAccess::InProcess
        } else {
            LocalAccess::Svnserve
        };
        read_thread(url, local, credentials, policy, start..=end, check, out)
    })
}

/// Replays of at most this many revisions read a `file://` repository in process: starting
/// `svnserve` (about 10 ms) costs more than the other core saves them (BENCHMARKS.md).
const IN_PROCESS_MAX_REVISIONS: u64 = 250;

/// The reader thread: opens its own session at the repository root (a `file://` one as
/// `local` says) and replays `revisions`.
fn read_thread(
    url: &str,
    local: LocalAccess,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    revisions: std::ops::RangeInclusive<u64>,
    check: CancelCheck,
    out: EventSender,
) -> Result<(), SourceError> {
    let (start, end) = revisions.into_inner();
    let session = RaSession::open_with(url, credentials, policy, check, local)?;
    if start == 0 {
        let properties = session.revision_properties(0)?;
        send(
            &out,
            Event::Begin {
                revision: 0,
                properties,
            },
        )
        .map_err(|_| SourceError::Cancelled)?;
        send(&out, Event::End).map_err(|_| SourceError::Cancelled)?;
    }
    let first = start.max(1);
    if first <= end {
        replay_range(&session, first, end, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::path::Path;

    use super::*;
    use crate::svn::events::{NodeChange, Properties};

    /// Every event, with the text it carried.
    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl RevisionSink for Recorder {
        type Error = String;

        fn begin_revision(&mut self, number: u64, properties: &Properties) -> Result<(), String> {
            self.0.push(format!("r{number} {properties:?}"));
            Ok(())
        }

        fn node(&mut self, node: &NodeChange, text: Option<&mut dyn Read>) -> Result<(), String> {
            let mut bytes = Vec::new();
            if let Some(text) = text {
                text.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
            }
            self.0.push(format!("{node:?} {bytes:?}"));
            Ok(())
        }

        fn end_revision(&mut self) -> Result<(), String> {
            self.0.push("end".into());
            Ok(())
        }
    }

    fn read_via(url: &str, local: LocalAccess, youngest: u64) -> Vec<String> {
        let policy = UrlPolicy {
            allow_local_paths: true,
            ..UrlPolicy::default()
        };
        let mut recorder = Recorder::default();
        read_on_thread(
            "svn-ra-reader",
            &mut recorder,
            &Cancel::new(),
            |check, out| read_thread(url, local, None, &policy, 0..=youngest, check, out),
        )
        .unwrap_or_else(|e| panic!("{url} via {local:?}: {e}"));
        recorder.0
    }

    #[test]
    fn a_file_url_reads_the_same_through_svnserve_and_in_process() {
        let work = std::env::temp_dir().join(format!("srcimport-ra-tunnel-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/svn-ra/make-repo.sh");
        let made = std::process::Command::new("sh")
            .arg(&script)
            .arg(&work)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("make-repo.sh (needs the subversion package)");
        assert!(made.success());
        let url = format!("file://{}", work.join("repo").display());
        let policy = UrlPolicy {
            allow_local_paths: true,
            ..UrlPolicy::default()
        };
        let open = |local| {
            RaSession::open_with(&url, None, &policy, CancelCheck::new(Vec::new()), local)
                .expect("open")
                .repos_root()
        };
        assert!(open(LocalAccess::Svnserve).starts_with("svn+srcimport://localhost/"));
        assert!(open(LocalAccess::InProcess).starts_with("file:///"));
        let youngest = RaSession::open(&url, None, &policy, &Cancel::new())
            .and_then(|session| session.latest_revision())
            .expect("youngest");

        let tunnelled = read_via(&url, LocalAccess::Svnserve, youngest);
        let in_process = read_via(&url, LocalAccess::InProcess, youngest);
        assert_eq!(
            tunnelled.iter().filter(|e| *e == "end").count(),
            usize::try_from(youngest).unwrap() + 1
        );
        assert_eq!(tunnelled, in_process);
        let _ = std::fs::remove_dir_all(&work);
    }
}
