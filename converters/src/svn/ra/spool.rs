//! What the reader thread sends the caller, and the per-file delta spool (memory, then an
//! unlinked temp file) that keeps a large text delta out of memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::mpsc::SyncSender;

use crate::svn::events::{NodeChange, Properties};

/// Deltas up to this size stay in memory; larger ones go to a temp file.
const MEMORY_LIMIT: usize = 4 << 20;

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

/// A file's svndiff bytes as they are written.
#[derive(Debug, Default)]
pub(super) struct Spool {
    memory: Vec<u8>,
    file: Option<File>,
}

impl Spool {
    pub(super) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            return file.write_all(data);
        }
        if self.memory.len() + data.len() <= MEMORY_LIMIT {
            self.memory.extend_from_slice(data);
            return Ok(());
        }
        let mut file = tempfile::tempfile()?;
        file.write_all(&self.memory)?;
        file.write_all(data)?;
        self.memory = Vec::new();
        self.file = Some(file);
        Ok(())
    }

    /// Sends the bytes as `Chunk`s, then `TextEnd`.
    pub(super) fn send(self, out: &SyncSender<Event>) -> Result<(), SpoolError> {
        match self.file {
            None => {
                let mut memory = self.memory;
                while memory.len() > CHUNK {
                    let rest = memory.split_off(CHUNK);
                    send(out, Event::Chunk(memory))?;
                    memory = rest;
                }
                if !memory.is_empty() {
                    send(out, Event::Chunk(memory))?;
                }
            }
            Some(mut file) => {
                file.seek(SeekFrom::Start(0))?;
                loop {
                    let mut chunk = Vec::with_capacity(CHUNK);
                    (&mut file).take(CHUNK as u64).read_to_end(&mut chunk)?;
                    if chunk.is_empty() {
                        break;
                    }
                    send(out, Event::Chunk(chunk))?;
                }
            }
        }
        send(out, Event::TextEnd)?;
        Ok(())
    }
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
