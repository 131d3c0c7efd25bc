//! Reading a history: a reader thread owns the session and drives the replay, the calling
//! thread receives owned events over a bounded channel and feeds the [`RevisionSink`].

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::editor::replay_range;
use super::session::{CancelCheck, RaSession};
use super::spool::{send, Event};
use crate::svn::events::RevisionSink;
use crate::{Cancel, Credentials, SourceError};

/// Events in flight between the reader thread and the caller (text chunks are at most
/// 1 MiB each).
const CHANNEL_CAPACITY: usize = 16;

/// Why [`read_history`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError<E> {
    /// Reading the repository failed (or was cancelled).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sink returned an error.
    #[error("the revision sink failed: {0}")]
    Sink(E),
}

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
    cancel: &Cancel,
) -> Result<HistoryInfo, SourceError> {
    let session = RaSession::open(url, credentials, cancel)?;
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
/// `cancel` stops the reader promptly with [`SourceError::Cancelled`].
pub fn read_history<S: RevisionSink>(
    url: &str,
    credentials: Option<&Credentials>,
    start: u64,
    end: u64,
    sink: &mut S,
    cancel: &Cancel,
) -> Result<(), HistoryError<S::Error>> {
    if start > end {
        return Err(SourceError::NotFound {
            url: url.to_owned(),
            reason: format!("empty revision range r{start}:{end}"),
        }
        .into());
    }
    cancel.check()?;
    // Set when the caller stops early, so the reader stops too.
    let stop = Cancel::new();
    let (sender, receiver) = sync_channel(CHANNEL_CAPACITY);
    std::thread::scope(|scope| {
        let reader = {
            let check = CancelCheck::new(vec![cancel.clone(), stop.clone()]);
            std::thread::Builder::new()
                .name("svn-ra-reader".into())
                .spawn_scoped(scope, move || {
                    read_thread(url, credentials, start, end, check, sender)
                })
                .map_err(|source| SourceError::io("svn-ra-reader thread", source))?
        };
        let driven = drive(&receiver, sink, cancel);
        if driven.is_err() {
            stop.cancel();
        }
        // Unblocks a reader waiting on a full channel.
        drop(receiver);
        let read = reader.join().unwrap_or_else(|_| {
            Err(SourceError::Command {
                command: "libsvn reader thread".into(),
                detail: "panicked".into(),
            })
        });
        match (driven, read) {
            (Ok(()), read) => read.map_err(HistoryError::Source),
            (Err(Stopped::Cancelled), _) => Err(SourceError::Cancelled.into()),
            // The reader failed first (the sink only saw the broken text): its error is the cause.
            (Err(Stopped::Sink(_)), Err(error)) if !matches!(error, SourceError::Cancelled) => {
                Err(error.into())
            }
            (Err(Stopped::Sink(_)), Err(_)) if cancel.is_cancelled() => {
                Err(SourceError::Cancelled.into())
            }
            (Err(Stopped::Sink(error)), _) => Err(HistoryError::Sink(error)),
        }
    })
}

/// The reader thread: opens its own session at the repository root and replays.
fn read_thread(
    url: &str,
    credentials: Option<&Credentials>,
    start: u64,
    end: u64,
    check: CancelCheck,
    out: SyncSender<Event>,
) -> Result<(), SourceError> {
    let session = RaSession::open_with(url, credentials, check)?;
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

/// Why the caller stopped before the channel closed.
enum Stopped<E> {
    Cancelled,
    Sink(E),
}

/// Feeds the sink until the reader closes the channel.
fn drive<S: RevisionSink>(
    receiver: &Receiver<Event>,
    sink: &mut S,
    cancel: &Cancel,
) -> Result<(), Stopped<S::Error>> {
    while let Ok(event) = receiver.recv() {
        if cancel.is_cancelled() {
            return Err(Stopped::Cancelled);
        }
        match event {
            Event::Begin {
                revision,
                properties,
            } => sink
                .begin_revision(revision, &properties)
                .map_err(Stopped::Sink)?,
            Event::End => sink.end_revision().map_err(Stopped::Sink)?,
            Event::Node(node) => {
                if node.text.is_some() {
                    let mut text = ChunkReader::new(receiver);
                    sink.node(&node, Some(&mut text)).map_err(Stopped::Sink)?;
                    if !text.finish() {
                        // The reader stopped mid-text; its error comes from the join.
                        return Ok(());
                    }
                } else {
                    sink.node(&node, None).map_err(Stopped::Sink)?;
                }
            }
            // Chunks are only expected inside a node's text; the reader never sends them
            // elsewhere.
            Event::Chunk(_) | Event::TextEnd => {}
        }
    }
    Ok(())
}

/// A node's text: `Chunk`s from the channel up to `TextEnd`.
struct ChunkReader<'r> {
    receiver: &'r Receiver<Event>,
    chunk: Vec<u8>,
    position: usize,
    done: bool,
    broken: bool,
}

impl<'r> ChunkReader<'r> {
    fn new(receiver: &'r Receiver<Event>) -> Self {
        ChunkReader {
            receiver,
            chunk: Vec::new(),
            position: 0,
            done: false,
            broken: false,
        }
    }

    /// Skips what the sink left unread; false when the text broke off.
    fn finish(mut self) -> bool {
        while !self.done && !self.broken {
            self.next_chunk();
        }
        !self.broken
    }

    fn next_chunk(&mut self) {
        match self.receiver.recv() {
            Ok(Event::Chunk(chunk)) => {
                self.chunk = chunk;
                self.position = 0;
            }
            Ok(Event::TextEnd) => self.done = true,
            Ok(_) | Err(_) => self.broken = true,
        }
    }
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.position < self.chunk.len() {
                let count = buffer.len().min(self.chunk.len() - self.position);
                buffer[..count].copy_from_slice(&self.chunk[self.position..self.position + count]);
                self.position += count;
                return Ok(count);
            }
            if self.done || buffer.is_empty() {
                return Ok(0);
            }
            if self.broken {
                return Err(io::Error::other("the Subversion reader stopped mid-text"));
            }
            self.next_chunk();
        }
    }
}
