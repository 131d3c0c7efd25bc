//! A libsvn reader on threads of its own (one or more lanes, each reading its share of the
//! revisions): each owns its libsvn objects and pools and sends owned events over a
//! bounded channel, in batches (a hand-over per node would cost more in thread wake-ups
//! than reading the node); the calling thread takes each revision from its lane, in order,
//! and feeds it to the [`RevisionSink`]. Shared by the RA and the fs reader.

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

/// How revisions are shared out between reader threads ("lanes"): lane `k` of `count`
/// reads the blocks of `block` revisions numbered `k`, `k + count`, ... counted from
/// `start`, and the caller takes each revision from the lane that holds it, in order. Each
/// lane owns its own libsvn objects, so libsvn's work runs on several cores: the fs reader
/// has two lanes with a filesystem each; the RA reader keeps one session (see
/// `ra/history.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lanes {
    start: u64,
    count: usize,
    block: u64,
}

impl Lanes {
    /// Revisions `start..` shared by `count` lanes (at least one) in blocks of `block`
    /// revisions (at least one).
    pub(crate) fn new(start: u64, count: usize, block: u64) -> Self {
        Lanes {
            start,
            count: count.max(1),
            block: block.max(1),
        }
    }

    /// The lane that reads `revision`.
    fn lane_of(&self, revision: u64) -> usize {
        let block = revision.saturating_sub(self.start) / self.block;
        // The remainder is below `count`, a usize.
        usize::try_from(block % self.count as u64).unwrap_or(0)
    }

    /// The revision ranges (inclusive) lane `lane` reads, in order, up to `end`.
    pub(crate) fn ranges(&self, lane: usize, end: u64) -> impl Iterator<Item = (u64, u64)> {
        let Lanes {
            start,
            count,
            block,
        } = *self;
        (0..)
            .map(move |index: u64| start + (index * count as u64 + lane as u64) * block)
            .take_while(move |first| *first <= end)
            .map(move |first| (first, (first + block - 1).min(end)))
    }
}

/// Runs `read` on one thread per lane of `lanes`, all named `name`, feeding what they
/// send to `sink` on the calling thread, each revision taken from its lane in turn.
/// `read` gets its lane's number, a [`CancelCheck`] that trips when `cancel` is set or the
/// caller stops early (a sink error or another lane's failure), and the sending end of the
/// lane's channel; it must send exactly the revisions [`Lanes::ranges`] gives its lane, in
/// order.
pub(crate) fn read_on_threads<S, F>(
    name: &str,
    lanes: Lanes,
    sink: &mut S,
    cancel: &Cancel,
    read: F,
) -> Result<(), HistoryError<S::Error>>
where
    S: RevisionSink,
    F: Fn(usize, CancelCheck, EventSender) -> Result<(), SourceError> + Sync,
{
    cancel.check()?;
    // Set when the caller stops early, so the readers stop too.
    let stop = Cancel::new();
    let capacity = (CHANNEL_CAPACITY / lanes.count).max(2);
    std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(lanes.count);
        let mut readers = Vec::with_capacity(lanes.count);
        for lane in 0..lanes.count {
            let (sender, receiver) = sync_channel(capacity);
            let check = CancelCheck::new(vec![cancel.clone(), stop.clone()]);
            let read = &read;
            let spawned = std::thread::Builder::new()
                .name(name.into())
                .spawn_scoped(scope, move || read(lane, check, EventSender::new(sender)));
            match spawned {
                Ok(reader) => readers.push(reader),
                Err(source) => {
                    stop.cancel();
                    return Err(SourceError::io(format!("{name} thread"), source).into());
                }
            }
            receivers.push(receiver);
        }
        let mut events = Events {
            batches: receivers.iter().map(|_| Vec::new().into_iter()).collect(),
            receivers,
            lanes,
            lane: 0,
            revision: lanes.start,
        };
        let driven = drive(&mut events, sink, cancel);
        if driven.is_err() {
            stop.cancel();
        }
        // Unblocks readers waiting on a full channel.
        drop(events);
        let mut read = Ok(());
        for reader in readers {
            let result = reader.join().unwrap_or_else(|_| {
                Err(SourceError::Command {
                    command: format!("libsvn {name}"),
                    detail: "panicked".into(),
                })
            });
            // The first real failure is the cause; the other lanes were stopped by it.
            read = match (read, result) {
                (Ok(()), result) | (Err(SourceError::Cancelled), result @ Err(_)) => result,
                (read, _) => read,
            };
        }
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

/// The caller's end of the channels: the events of each lane's batches, one by one, each
/// revision from the lane that reads it.
struct Events {
    receivers: Vec<Receiver<Vec<Event>>>,
    batches: Vec<std::vec::IntoIter<Event>>,
    lanes: Lanes,
    /// The lane of the revision being taken.
    lane: usize,
    /// The revision being taken (the last one begun).
    revision: u64,
}

impl Events {
    /// The next event; `None` once the lane that holds the next revision has closed its
    /// channel (it has sent everything, or failed).
    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.batches[self.lane].next() {
                match &event {
                    Event::Begin { revision, .. } => self.revision = *revision,
                    Event::End => self.lane = self.lanes.lane_of(self.revision + 1),
                    _ => {}
                }
                return Some(event);
            }
            self.batches[self.lane] = self.receivers[self.lane].recv().ok()?.into_iter();
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

#[cfg(test)]
mod tests {
    use super::Lanes;

    /// Every revision of `start..=end` in the order the caller takes them, lane by lane.
    fn taken(lanes: Lanes, end: u64) -> Vec<(usize, u64)> {
        let mut revisions: Vec<(usize, u64)> = (0..lanes.count)
            .flat_map(|lane| {
                lanes
                    .ranges(lane, end)
                    .flat_map(move |(first, last)| (first..=last).map(move |r| (lane, r)))
            })
            .collect();
        revisions.sort_by_key(|(_, revision)| *revision);
        revisions
    }

    #[test]
    fn lanes_share_every_revision_once_in_blocks() {
        let lanes = Lanes::new(3, 2, 2);
        assert_eq!(lanes.ranges(0, 10).collect::<Vec<_>>(), [(3, 4), (7, 8)]);
        assert_eq!(lanes.ranges(1, 10).collect::<Vec<_>>(), [(5, 6), (9, 10)]);
        let taken = taken(lanes, 10);
        assert_eq!(
            taken.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
            (3..=10).collect::<Vec<_>>()
        );
        for (lane, revision) in taken {
            assert_eq!(lanes.lane_of(revision), lane, "r{revision}");
        }
    }

    #[test]
    fn one_lane_reads_everything_and_a_short_range_leaves_lanes_idle() {
        let one = Lanes::new(0, 1, 1);
        assert_eq!(
            one.ranges(0, 4).collect::<Vec<_>>(),
            (0..=4).map(|r| (r, r)).collect::<Vec<_>>()
        );
        assert_eq!(one.lane_of(4), 0);
        let two = Lanes::new(5, 2, 1);
        assert_eq!(two.ranges(0, 5).collect::<Vec<_>>(), [(5, 5)]);
        assert_eq!(two.ranges(1, 5).count(), 0);
        // Zero lanes or blocks are taken as one.
        let clamped = Lanes::new(1, 0, 0);
        assert_eq!(clamped.ranges(0, 2).collect::<Vec<_>>(), [(1, 1), (2, 2)]);
    }
}
