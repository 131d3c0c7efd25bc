//! How a file's spooled svndiff delta is sent over the reader's channel.

use std::io::{self, Read};

use crate::svn::libsvn::reader::{send, Disconnected, Event, EventSender, CHUNK};
pub(super) use crate::svn::spool::Spool;

/// Sends a file's svndiff bytes as `Chunk`s, then `TextEnd`.
pub(super) fn send_spool(mut spool: Spool, out: &EventSender) -> Result<(), SpoolError> {
    let mut left = spool.len();
    let mut reader = spool.reader()?;
    while left > 0 {
        // Exactly the chunk's size: a batch holds up to 256 events, and each one holding
        // CHUNK bytes of capacity for a small text made the reader's memory swing by tens of
        // MiB with the channel's depth.
        let size = left.min(CHUNK as u64);
        let mut chunk = Vec::with_capacity(size as usize);
        (&mut reader).take(size).read_to_end(&mut chunk)?;
        if chunk.is_empty() {
            break;
        }
        left -= chunk.len() as u64;
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
