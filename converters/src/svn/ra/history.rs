//! Reading a history: a reader thread owns the session and drives the replay, the calling
//! thread receives owned events over a bounded channel and feeds the [`RevisionSink`]
//! (see [`crate::svn::libsvn::reader`]).

use super::editor::replay_range;
use super::session::RaSession;
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
        read_thread(url, credentials, policy, start, end, check, out)
    })
}

/// The reader thread: opens its own session at the repository root and replays.
fn read_thread(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    start: u64,
    end: u64,
    check: CancelCheck,
    out: EventSender,
) -> Result<(), SourceError> {
    let session = RaSession::open_with(url, credentials, policy, check)?;
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
