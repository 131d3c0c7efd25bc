//! Reading a history from a local repository: two reader threads each open the repository
//! and read every other revision (a pool cleared per revision and per node), the calling
//! thread feeds the [`RevisionSink`] in revision order (see [`crate::svn::libsvn::reader`]).

use super::changes::{paths_changed, ChangeKind};
use super::nodes::RevisionNodes;
use super::repos::Repository;
use crate::svn::events::RevisionSink;
use crate::svn::libsvn::pool::Pool;
use crate::svn::libsvn::reader::{
    check_range, read_on_threads, send, CancelCheck, Event, EventSender, Lanes,
};
pub use crate::svn::libsvn::HistoryError;
use crate::{Cancel, SourceError};

/// Reads revisions `start..=end` of the local repository a `file://` URL names into `sink`,
/// on the calling thread.
///
/// Paths are relative to the repository root. Revision 0 is delivered (with its revision
/// properties and no nodes) when `start` is 0. File texts are full texts
/// ([`TextForm::Full`](crate::svn::events::TextForm)), streamed. Setting `cancel` stops
/// the reader promptly with [`SourceError::Cancelled`].
pub fn read_history<S: RevisionSink>(
    url: &str,
    start: u64,
    end: u64,
    sink: &mut S,
    cancel: &Cancel,
) -> Result<(), HistoryError<S::Error>> {
    check_range(url, start, end)?;
    let lanes = Lanes::new(start, READER_LANES, LANE_BLOCK);
    read_on_threads("svn-fs-reader", lanes, sink, cancel, |lane, check, out| {
        read_thread(url, lanes.ranges(lane, end), end, &check, &out)
    })
}

/// Reader threads: the profile of a conversion at 3,000 revisions puts a reader's time
/// almost all in libsvn_fs walking paths (directory and node-revision reads, its caches),
/// as much CPU as `git fast-import` spends; two of them share that work.
const READER_LANES: usize = 2;

/// Revisions a lane reads in a row: one, so both lanes work on neighbouring revisions and
/// find what the other has just read in libsvn's cache, which every open filesystem of the
/// process shares (in blocks of 64 revisions the readers spent a quarter more CPU).
const LANE_BLOCK: u64 = 1;

/// A reader thread: opens the repository and sends each revision of its `ranges`.
fn read_thread(
    url: &str,
    ranges: impl Iterator<Item = (u64, u64)>,
    end: u64,
    check: &CancelCheck,
    out: &EventSender,
) -> Result<(), SourceError> {
    check.check()?;
    let repository = Repository::open(url)?;
    let youngest = repository.youngest()?;
    if end > youngest {
        return Err(SourceError::NotFound {
            url: url.to_owned(),
            reason: format!("no revision {end} (the youngest is {youngest})"),
        });
    }
    let mut pool = repository.pool().child();
    for revision in ranges.flat_map(|(first, last)| first..=last) {
        check.check()?;
        pool.clear();
        read_revision(&repository, revision, &pool, check, out)?;
    }
    Ok(())
}

/// Sends one revision: `Begin`, its nodes, `End`.
fn read_revision(
    repository: &Repository,
    revision: u64,
    pool: &Pool,
    check: &CancelCheck,
    out: &EventSender,
) -> Result<(), SourceError> {
    let properties = repository.revision_properties(revision)?;
    send(
        out,
        Event::Begin {
            revision,
            properties,
        },
    )?;
    if revision > 0 {
        let root = repository.revision_root(revision, pool)?;
        let changes = paths_changed(repository, root, pool)?;
        let copies = changes
            .iter()
            .filter(|change| matches!(change.change, ChangeKind::Add | ChangeKind::Replace))
            .filter_map(|change| Some((change.path.clone(), change.copy_from.clone()?)))
            .collect();
        let nodes = RevisionNodes {
            repository,
            revision,
            root,
            previous: repository.revision_root(revision - 1, pool)?,
            copies,
            check,
            out,
        };
        let mut node_pool = pool.child();
        for change in &changes {
            node_pool.clear();
            nodes.send_change(change, &node_pool)?;
        }
    }
    Ok(send(out, Event::End)?)
}
