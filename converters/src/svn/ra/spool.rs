//! What the reader thread sends the caller, and how a file's spooled delta is sent.

use std::io::{self, Read};
use std::sync::mpsc::SyncSender;

use crate::svn::events::{NodeChange, Properties};
pub(super) use crate::svn::spool::Spool;

/// Text is sent in chunks of at most this size.
pub(super) const CHUNK: usize = 1 << 20;

/// One message from the reader thread, in history order. A `Node` whose `text` is `Some` is
/// followed by its delta as `Chunk`s and a `TextEnd`.
#[derive(Debug)]
pub(super) enum Event {
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
pub(super) struct Disconnected;

/// Sends `event`, failing once the caller has stopped listening.
pub(super) fn send(out: &SyncSender<Event>, event: Event) -> Result<(), Disconnected> {
    out.send(event).map_err(|_| Disconnected)
}

/// Sends a file's svndiff bytes as `Chunk`s, then `TextEnd`.
pub(super) fn send_spool(mut spool: Spool, out: &SyncSender<Event>) -> Result<(), SpoolError> {
    let mut reader = spool.reader()?;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        (&mut reader).take(CHUNK as u64).read_to_end(&mut chunk)?;
        if chunk.is_empty() {
            break;
        }
        send(out, Event::Chunk(chunk))?;
    }
    send(out, Event::TextEnd)?;
    Ok(())
}

/// Why a spool could not be sent.
#[derive(Debug)]
pub(super) enum SpoolError {
    Disconnected,
    Io(io::Error),
}

impl From<Disconnected> for SpoolError {
    fn from(_: Disconnected) -> Self {
        SpoolError::Disconnected
    }
}

impl From<io::Error> for SpoolError {
    fn from(error: io::Error) -> Self {
        SpoolError::Io(error)
    }
}
