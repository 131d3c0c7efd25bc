//! A libsvn reader on a thread of its own: it owns its libsvn objects and pools and sends
//! owned events over a bounded channel; the calling thread feeds them to the
//! [`RevisionSink`]. Shared by the RA and the fs reader.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::svn::events::{NodeChange, Properties, RevisionSink};
use crate::{Cancel, SourceError};

/// Events in flight between the reader thread and the caller (text chunks are at most
/// [`CHUNK`] bytes each).
const CHANNEL_CAPACITY: usize = 16;

/// Text is sent in chunks of at most this size.
pub(crate) const CHUNK: usize = 1 << 20;

/// One message from the reader thread, in history order. A `Node` whose `text` is `Some` is
/// followed by its text as `Chunk`s and a `TextEnd`.
#[derive(Debug)]
pub(crate) enum Event {
    Begin {
        revision: u64,
        properties: Properties,
    },
    Node(NodeChange),
    Chunk(Vec<u8>),
    TextEnd,
    End,
}

/// The receiver is gone: the caller stopped reading.
#[derive(Debug)]
pub(crate) struct Disconnected;

impl From<Disconnected> for SourceError {
    fn from(_: Disconnected) -> Self {
        SourceError::Cancelled
    }
}

/// Sends `event`, failing once the caller has stopped listening.
pub(crate) fn send(out: &SyncSender<Event>, event: Event) -> Result<(), Disconnected> {
    out.send(event).map_err(|_| Disconnected)
}

/// What a reader polls to stop: the caller's token and the reader's own stop flag.
#[derive(Clone)]
pub(crate) struct CancelCheck {
    tokens: Vec<Cancel>,
}

impl CancelCheck {
    pub(crate) fn new(tokens: Vec<Cancel>) -> Self {
        CancelCheck { tokens }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.tokens.iter().any(Cancel::is_cancelled)
    }

    /// `Err(Cancelled)` once any token is set.
    pub(crate) fn check(&self) -> Result<(), SourceError> {
        match self.is_cancelled() {
            true => Err(SourceError::Cancelled),
            false => Ok(()),
        }
    }
}

/// Why reading a history stopped.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError<E> {
    /// Reading the repository failed (or was cancelled).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sink returned an error.
    #[error("the revision sink failed: {0}")]
    Sink(E),
}

/// Runs `read` on a thread named `name`, feeding what it sends to `sink` on the calling
/// thread. `read` gets a [`CancelCheck`] that trips when `cancel` is set or the caller
/// stops early (a sink error), and the sending end of the channel.
pub(crate) fn read_on_thread<S, F>(
    name: &str,
    sink: &mut S,
    cancel: &Cancel,
    read: F,
) -> Result<(), HistoryError<S::Error>>
where
    S: RevisionSink,
    F: FnOnce(CancelCheck, SyncSender<Event>) -> Result<(), SourceError> + Send,
{
    cancel.check()?;
    // Set when the caller stops early, so the reader stops too.
    let stop = Cancel::new();
    let (sender, receiver) = sync_channel(CHANNEL_CAPACITY);
    std::thread::scope(|scope| {
        let reader = {
            let check = CancelCheck::new(vec![cancel.clone(), stop.clone()]);
            std::thread::Builder::new()
                .name(name.into())
                .spawn_scoped(scope, move || read(check, sender))
                .map_err(|source| SourceError::io(format!("{name} thread"), source))?
        };
        let driven = drive(&receiver, sink, cancel);
        if driven.is_err() {
            stop.cancel();
        }
        // Unblocks a reader waiting on a full channel.
        drop(receiver);
        let read = reader.join().unwrap_or_else(|_| {
            Err(SourceError::Command {
                command: format!("libsvn {name}"),
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
