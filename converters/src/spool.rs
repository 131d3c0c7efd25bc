//! A write-then-read buffer for texts and deltas: in memory while small, then an unlinked
//! temporary file, so no text is ever held in memory whole past a bound.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

/// Bytes up to this many stay in memory.
pub const IN_MEMORY_LIMIT: usize = 4 << 20;

/// Bytes written once, then read back (and sought in) any number of times.
#[derive(Debug, Default)]
pub struct Spool {
    memory: Vec<u8>,
    file: Option<File>,
    len: u64,
    /// Bytes kept in memory before moving to a file; 0 means [`IN_MEMORY_LIMIT`].
    limit: usize,
}

impl Spool {
    /// A spool that moves to a file past `limit` bytes.
    pub fn with_limit(limit: usize) -> Spool {
        Spool {
            limit: limit.max(1),
            ..Spool::default()
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A reader over everything written, from the start.
    pub fn reader(&mut self) -> io::Result<SpoolReader<'_>> {
        match &mut self.file {
            Some(file) => {
                file.seek(SeekFrom::Start(0))?;
                Ok(SpoolReader::File(file))
            }
            None => Ok(SpoolReader::Memory(Cursor::new(&self.memory))),
        }
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let limit = if self.limit == 0 {
            IN_MEMORY_LIMIT
        } else {
            self.limit
        };
        if self.file.is_none() && self.memory.len() + buf.len() > limit {
            let mut file = tempfile::tempfile()?;
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write_all(buf)?,
            None => self.memory.extend_from_slice(buf),
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads a [`Spool`] back.
pub enum SpoolReader<'s> {
    Memory(Cursor<&'s Vec<u8>>),
    File(&'s mut File),
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            SpoolReader::Memory(cursor) => cursor.read(buf),
            SpoolReader::File(file) => file.read(buf),
        }
    }
}

impl Seek for SpoolReader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            SpoolReader::Memory(cursor) => cursor.seek(pos),
            SpoolReader::File(file) => file.seek(pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_texts_move_to_a_file_and_read_back_whole() {
        let mut spool = Spool::default();
        let chunk = vec![7u8; 1 << 20];
        for _ in 0..10 {
            spool.write_all(&chunk).unwrap();
        }
        assert!(spool.file.is_some());
        assert_eq!(spool.len(), 10 << 20);
        let mut back = Vec::new();
        spool.reader().unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, vec![7u8; 10 << 20]);
        back.clear();
        spool.reader().unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), 10 << 20, "readable again");
    }
}
