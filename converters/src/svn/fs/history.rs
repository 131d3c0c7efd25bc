//! Reading a history from a local repository: a reader thread opens the repository and walks
//! its revisions (a pool cleared per revision and per node), the calling thread feeds the
//! [`RevisionSink`] (see [`crate::svn::libsvn::reader`]).

use super::changes::{paths_changed, ChangeKind};
use super::nodes::RevisionNodes;
use super::repos::Repository;
use crate::svn::events::RevisionSink;
use crate::svn::libsvn::pool::Pool;
use crate::svn::libsvn::reader::{
    check_range, read_on_thread, send, CancelCheck, Event, EventSender,
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
    read_on_thread("svn-fs-reader", sink, cancel, |check, out| {
        read_thread(url, start, end, &check, &out)
    })
}

/// The reader thread: opens the repository and sends each revision.
fn read_thread(
    url: &str,
    start: u64,
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
    for revision in start..=end {
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
