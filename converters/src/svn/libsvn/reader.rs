//! A libsvn reader on a thread of its own: it owns its libsvn objects and pools and sends
//! owned events over a bounded channel, in batches (a hand-over per node would cost more
//! in thread wake-ups than reading the node); the calling thread feeds them to the
//! [`RevisionSink`]. Shared by the RA and the fs reader.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::mem::take;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::svn::events::{NodeChange, Properties, RevisionSink};
use crate::{Cancel, SourceError};

/// Batches in flight between the reader thread and the caller.
const CHANNEL_CAPACITY: usize = 8;

/// A batch is sent once it holds this many events...
const BATCH_EVENTS: usize = 256;

/// ... or this many bytes of text (a batch holds at most this plus one [`CHUNK`]).
const BATCH_BYTES: usize = 512 << 10;

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

/// The reader's end of the channel: events are gathered into batches, and what is left
/// is sent when it is dropped (as if each event had been sent at once).
pub(crate) struct EventSender {
    channel: SyncSender<Vec<Event>>,
    batch: RefCell<Vec<Event>>,
    bytes: Cell<usize>,
}

impl EventSender {
    fn new(channel: SyncSender<Vec<Event>>) -> Self {
        EventSender {
            channel,
            batch: RefCell::new(Vec::new()),
            bytes: Cell::new(0),
        }
    }

    /// Queues `event`, sending the batch once it is full; fails once the caller has
    /// stopped listening.
    pub(crate) fn send(&self, event: Event) -> Result<(), Disconnected> {
        if let Event::Chunk(chunk) = &event {
            self.bytes.set(self.bytes.get() + chunk.len());
        }
        let full = {
            let mut batch = self.batch.borrow_mut();
            batch.push(event);
            batch.len() >= BATCH_EVENTS || self.bytes.get() >= BATCH_BYTES
        };
        match full {
            true => self.flush(),
            false => Ok(()),
        }
    }

    /// Sends what is queued.
    pub(crate) fn flush(&self) -> Result<(), Disconnected> {
        let batch = take(&mut *self.batch.borrow_mut());
        self.bytes.set(0);
        if batch.is_empty() {
            return Ok(());
        }
        self.channel.send(batch).map_err(|_| Disconnected)
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        // A caller that stopped listening needs nothing more.
        let _ = self.flush();
    }
}

/// Sends `event` (in its batch), failing once the caller has stopped listening.
pub(crate) fn send(out: &EventSender, event: Event) -> Result<(), Disconnected> {
    out.send(event)
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

/// Refuses an empty revision range before any thread starts.
pub(crate) fn check_range(url: &str, start: u64, end: u64) -> Result<(), SourceError> {
    match start > end {
        true => Err(SourceError::NotFound {
            url: url.to_owned(),
            reason: format!("empty revision range r{start}:{end}"),
        }),
        false => Ok(()),
    }
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
    F: FnOnce(CancelCheck, EventSender) -> Result<(), SourceError> + Send,
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
                .spawn_scoped(scope, move || read(check, EventSender::new(sender)))
                .map_err(|source| SourceError::io(format!("{name} thread"), source))?
        };
        let mut events = Events {
            receiver,
            batch: Vec::new().into_iter(),
        };
        let driven = drive(&mut events, sink, cancel);
        if driven.is_err() {
            stop.cancel();
        }
        // Unblocks a reader waiting on a full channel.
        drop(events);
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

/// The caller's end of the channel: the events of the batches, one by one.
struct Events {
    receiver: Receiver<Vec<Event>>,
    batch: std::vec::IntoIter<Event>,
}

impl Events {
    /// The next event; `None` once the reader has closed the channel.
    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.batch.next() {
                return Some(event);
            }
            self.batch = self.receiver.recv().ok()?.into_iter();
        }
    }
}

/// Feeds the sink until the reader closes the channel.
fn drive<S: RevisionSink>(
    events: &mut Events,
    sink: &mut S,
    cancel: &Cancel,
) -> Result<(), Stopped<S::Error>> {
    while let Some(event) = events.next() {
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
                    let mut text = ChunkReader::new(events);
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
    events: &'r mut Events,
    chunk: Vec<u8>,
    position: usize,
    done: bool,
    broken: bool,
}

impl<'r> ChunkReader<'r> {
    fn new(events: &'r mut Events) -> Self {
        ChunkReader {
            events,
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
        match self.events.next() {
            Some(Event::Chunk(chunk)) => {
                self.chunk = chunk;
                self.position = 0;
            }
            Some(Event::TextEnd) => self.done = true,
            Some(_) | None => self.broken = true,
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
