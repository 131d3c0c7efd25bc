//! A write-then-read buffer that stays in memory while small and moves to a temporary file
//! when it grows, so no text is ever held in memory whole past a bound.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Texts up to this size stay in memory.
pub const IN_MEMORY_LIMIT: usize = 8 << 20;

static NEXT_FILE: AtomicU64 = AtomicU64::new(0);

/// Bytes written once, then read back (and sought in) any number of times.
pub struct Spool {
    dir: PathBuf,
    memory: Vec<u8>,
    file: Option<(File, PathBuf)>,
    len: u64,
}

impl Spool {
    /// An empty spool whose overflow goes to a file in `dir`.
    pub fn new(dir: &Path) -> Spool {
        Spool {
            dir: dir.to_owned(),
            memory: Vec::new(),
            file: None,
            len: 0,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// Empties the spool for reuse.
    pub fn clear(&mut self) {
        self.memory.clear();
        self.len = 0;
        if let Some((_, path)) = self.file.take() {
            let _ = std::fs::remove_file(path);
        }
    }

    /// A reader over everything written, from the start.
    pub fn reader(&mut self) -> io::Result<SpoolReader<'_>> {
        match &mut self.file {
            Some((file, _)) => {
                file.flush()?;
                file.seek(SeekFrom::Start(0))?;
                Ok(SpoolReader::File(file))
            }
            None => Ok(SpoolReader::Memory(Cursor::new(&self.memory))),
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!(
            "spool-{}-{}",
            std::process::id(),
            NEXT_FILE.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(&self.memory)?;
        self.memory = Vec::new();
        self.file = Some((file, path));
        Ok(())
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.file.is_none() && self.memory.len() + buf.len() > IN_MEMORY_LIMIT {
            self.spill()?;
        }
        match &mut self.file {
            Some((file, _)) => file.write_all(buf)?,
            None => self.memory.extend_from_slice(buf),
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.clear();
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
        let dir = std::env::temp_dir().join(format!("spool-test-{}", std::process::id()));
        let mut spool = Spool::new(&dir);
        let chunk = vec![7u8; 1 << 20];
        for _ in 0..10 {
            spool.write_all(&chunk).unwrap();
        }
        assert!(spool.file.is_some());
        assert_eq!(spool.len(), 10 << 20);
        let mut back = Vec::new();
        spool.reader().unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), 10 << 20);
        let path = spool.file.as_ref().unwrap().1.clone();
        drop(spool);
        assert!(!path.exists());
        let _ = std::fs::remove_dir(&dir);
    }
}
