//! Writing new objects as packfiles with their indexes instead of thousands of loose files:
//! a rewrite of a long history costs a few files. The objects are whole (no deltas), so each
//! index (version 2) is written from what was written, with no `git index-pack` to read the
//! pack back. A pack holds at most [`OBJECTS_PER_PACK`] objects, so what the writer keeps
//! of them does not grow with the history.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::{write::ZlibEncoder, Compression, CrcWriter};
use sha1::{Digest, Sha1};
use srcimport_converters::Cancel;

use super::objects::{hash_object, hex};
use super::tree_rewrite::object_id;
use super::GitError;

/// Git's pack type numbers.
fn type_code(kind: &str) -> Option<u8> {
    match kind {
        "commit" => Some(1),
        "tree" => Some(2),
        "blob" => Some(3),
        "tag" => Some(4),
        _ => None,
    }
}

/// What the index records of one packed object.
struct IndexEntry {
    id: [u8; 20],
    /// CRC-32 of the object's bytes in the pack (header and compressed body).
    crc: u32,
    offset: u64,
}

/// Objects one pack holds at most: 7/8 of 16,384, as many as a hash table of 16,384 slots
/// holds (about 650 KiB of index entries).
const OBJECTS_PER_PACK: usize = 14_336;

/// Writes whole (undeltified) objects into packs, a new one each [`OBJECTS_PER_PACK`].
/// Dropped before [`PackWriter::finish`] (a failed or cancelled rewrite), it removes every
/// pack it wrote: nothing names their objects yet.
pub struct PackWriter {
    git_dir: PathBuf,
    /// The pack being filled.
    pack: Pack,
    sealed: SealedPacks,
    objects_per_pack: usize,
}

impl PackWriter {
    pub fn create(git_dir: &Path) -> Result<PackWriter, GitError> {
        Ok(PackWriter {
            git_dir: git_dir.to_owned(),
            pack: Pack::create(git_dir)?,
            sealed: SealedPacks(Vec::new()),
            objects_per_pack: OBJECTS_PER_PACK,
        })
    }

    /// Appends one object and returns its id. An object already in the open pack is not
    /// written again (git refuses a pack that holds one twice); a full pack is sealed first.
    pub fn write(&mut self, kind: &str, body: &[u8]) -> Result<String, GitError> {
        if self.pack.written.len() >= self.objects_per_pack {
            let full = std::mem::replace(&mut self.pack, Pack::create(&self.git_dir)?);
            self.sealed.0.extend(full.seal()?);
        }
        self.pack.write(kind, body)
    }

    /// Seals the last pack. An empty pack is removed.
    pub fn finish(mut self, cancel: &Cancel) -> Result<(), GitError> {
        cancel.check()?;
        self.pack.seal()?;
        self.sealed.0.clear();
        Ok(())
    }
}

/// The packs a writer sealed before its last one: removed unless it finished.
struct SealedPacks(Vec<PathBuf>);

impl Drop for SealedPacks {
    fn drop(&mut self) {
        for pack in self.0.drain(..) {
            // The index first: git uses a pack only while its index is there.
            let _ = fs::remove_file(pack.with_extension("idx"));
            let _ = fs::remove_file(&pack);
        }
    }
}

/// An open packfile being filled.
struct Pack {
    path: PathBuf,
    /// `None` once finished.
    file: Option<BufWriter<File>>,
    /// Bytes written so far: where the next object starts.
    offset: u64,
    /// What the index will say of each object written, by id: a second copy of an object
    /// is not written. About 45 bytes an object, as `git index-pack` would hold.
    written: HashMap<[u8; 20], (u32, u64)>,
}

impl Pack {
    fn create(git_dir: &Path) -> Result<Pack, GitError> {
        let dir = git_dir.join("objects/pack");
        fs::create_dir_all(&dir).map_err(|e| GitError::io(&dir, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = dir.join(format!("tmp_srcimport_{}_{nanos}.pack", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| GitError::io(&path, e))?;
        let mut file = BufWriter::with_capacity(256 << 10, file);
        file.write_all(b"PACK\0\0\0\x02\0\0\0\0")
            .map_err(|e| GitError::io(&path, e))?;
        Ok(Pack {
            path,
            file: Some(file),
            offset: 12,
            written: HashMap::new(),
        })
    }

    fn write(&mut self, kind: &str, body: &[u8]) -> Result<String, GitError> {
        let code = type_code(kind).ok_or_else(|| GitError::Malformed {
            kind: "pack",
            oid: String::new(),
            detail: format!("unknown object type {kind}"),
        })?;
        let oid = hash_object(kind, body);
        let id = object_id(&oid)?;
        if self.written.contains_key(&id) {
            return Ok(oid);
        }
        let mut header = Vec::with_capacity(10);
        let mut size = body.len();
        let mut byte = (code << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            header.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        header.push(byte);
        let io = |e| GitError::io(&self.path, e);
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io(std::io::ErrorKind::BrokenPipe.into()))?;
        // The index records the CRC-32 of the object's bytes in the pack.
        let mut checked = CrcWriter::new(file);
        checked.write_all(&header).map_err(io)?;
        let mut encoder = ZlibEncoder::new(&mut checked, Compression::fast());
        encoder.write_all(body).map_err(io)?;
        encoder.try_finish().map_err(io)?;
        let length = header.len() as u64 + encoder.total_out();
        drop(encoder);
        self.written.insert(id, (checked.crc().sum(), self.offset));
        self.offset += length;
        Ok(oid)
    }

    /// Seals the pack (count, trailer checksum), names it `pack-<sum>.pack` and writes its
    /// index (last: git uses a pack once its index is there). An empty pack is removed.
    /// Returns the sealed pack's path, none for an empty pack. A pack that fails to seal is
    /// removed.
    fn seal(mut self) -> Result<Option<PathBuf>, GitError> {
        let Some(file) = self.file.take() else {
            return Ok(None);
        };
        let sealed = self.seal_file(file);
        if sealed.is_err() {
            let _ = fs::remove_file(&self.path);
        }
        sealed
    }

    fn seal_file(&mut self, file: BufWriter<File>) -> Result<Option<PathBuf>, GitError> {
        let path = self.path.clone();
        let io = |e| GitError::io(&path, e);
        let mut file = file.into_inner().map_err(|e| io(e.into_error()))?;
        if self.written.is_empty() {
            drop(file);
            return fs::remove_file(&path).map_err(io).map(|()| None);
        }
        let count = u32::try_from(self.written.len()).map_err(|_| GitError::Malformed {
            kind: "pack",
            oid: String::new(),
            detail: "more than 2^32 objects".into(),
        })?;
        file.seek(SeekFrom::Start(8)).map_err(io)?;
        file.write_all(&count.to_be_bytes()).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut hasher = Sha1::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let sum = hasher.finalize();
        file.write_all(&sum).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        let final_path = path.with_file_name(format!("pack-{}.pack", hex(&sum)));
        fs::rename(&path, &final_path).map_err(|e| GitError::io(&final_path, e))?;
        let index_path = final_path.with_extension("idx");
        let temporary = path.with_extension("idx");
        let mut entries: Vec<IndexEntry> = std::mem::take(&mut self.written)
            .into_iter()
            .map(|(id, (crc, offset))| IndexEntry { id, crc, offset })
            .collect();
        let indexed = write_index(&temporary, &mut entries, &sum)
            .and_then(|()| fs::rename(&temporary, &index_path));
        if let Err(error) = indexed {
            let _ = fs::remove_file(&temporary);
            let _ = fs::remove_file(&final_path);
            return Err(GitError::io(&index_path, error));
        }
        Ok(Some(final_path))
    }
}

/// Writes a version 2 pack index of `entries` (sorted here) for the pack whose checksum is
/// `pack_sum`.
fn write_index(path: &Path, entries: &mut [IndexEntry], pack_sum: &[u8]) -> std::io::Result<()> {
    entries.sort_unstable_by_key(|entry| entry.id);
    let mut out = BufWriter::new(File::create(path)?);
    let mut hasher = Sha1::new();
    let mut put = |out: &mut BufWriter<File>, bytes: &[u8]| {
        hasher.update(bytes);
        out.write_all(bytes)
    };
    put(&mut out, b"\xfftOc\0\0\0\x02")?;
    // Fan-out: how many ids start with each byte value or a smaller one.
    let mut below = 0usize;
    for first_byte in 0..=255u8 {
        below += entries[below..]
            .iter()
            .take_while(|entry| entry.id[0] == first_byte)
            .count();
        put(&mut out, &(below as u32).to_be_bytes())?;
    }
    for entry in entries.iter() {
        put(&mut out, &entry.id)?;
    }
    for entry in entries.iter() {
        put(&mut out, &entry.crc.to_be_bytes())?;
    }
    // Offsets past 2 GiB go to a table of 8-byte offsets, named by index with the top bit.
    let mut large = Vec::new();
    for entry in entries.iter() {
        let small = match u32::try_from(entry.offset) {
            Ok(offset) if offset < 0x8000_0000 => offset,
            _ => {
                large.push(entry.offset);
                0x8000_0000 | (large.len() as u32 - 1)
            }
        };
        put(&mut out, &small.to_be_bytes())?;
    }
    for offset in large {
        put(&mut out, &offset.to_be_bytes())?;
    }
    put(&mut out, pack_sum)?;
    let index_sum = hasher.finalize();
    out.write_all(&index_sum)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

impl Drop for Pack {
    fn drop(&mut self) {
        // A pack dropped before `finish` is incomplete: remove it.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::objects::ObjectReader;

    #[test]
    fn offsets_past_two_gib_go_to_the_large_offset_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.idx");
        let entry = |first: u8, offset: u64| IndexEntry {
            id: [first; 20],
            crc: u32::from(first),
            offset,
        };
        let mut entries = vec![
            entry(0xee, 5 << 30),
            entry(0x01, 12),
            entry(0x80, 0x8000_0000),
            entry(0x7f, 0x7fff_ffff),
        ];
        write_index(&path, &mut entries, &[0xab; 20]).expect("writes");
        // `git show-index` reads an index alone: offset, id and CRC-32 of each entry.
        let shown = std::process::Command::new("git")
            .args(["show-index"])
            .stdin(File::open(&path).expect("opens"))
            .output()
            .expect("git runs");
        assert!(
            shown.status.success(),
            "{}",
            String::from_utf8_lossy(&shown.stderr)
        );
        let line = |first: u8, offset: u64| {
            format!("{offset} {} ({:08x})", hex(&[first; 20]), u32::from(first))
        };
        let expected = [
            line(0x01, 12),
            line(0x7f, 0x7fff_ffff),
            line(0x80, 0x8000_0000),
            line(0xee, 5 << 30),
        ]
        .join("\n");
        assert_eq!(String::from_utf8_lossy(&shown.stdout).trim_end(), expected);
    }

    #[test]
    fn packed_objects_are_readable_by_git() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let mut pack = PackWriter::create(&repo).expect("creates");
        let small = pack.write("blob", b"hello\n").expect("writes");
        let big_body = vec![b'x'; 100_000];
        let big = pack.write("blob", &big_body).expect("writes");
        let again = pack
            .write("blob", b"hello\n")
            .expect("a second copy is left out");
        assert_eq!(again, small);
        // Enough objects that the fan-out spans many first bytes.
        let many: Vec<String> = (0..600)
            .map(|n| {
                pack.write("blob", format!("{n}\n").as_bytes())
                    .expect("writes")
            })
            .collect();
        pack.finish(&Cancel::new()).expect("finishes");
        // git checks the index against the pack: every id, offset and CRC-32.
        let indexes = pack_indexes(&repo);
        assert_eq!(indexes.len(), 1);
        let listed = git_succeeds(&repo, &["verify-pack", "-v", &indexes[0]]);
        assert!(listed.contains(&format!("{big} blob")), "{listed}");
        git_succeeds(&repo, &["fsck", "--strict"]);
        assert_eq!(small, "ce013625030ba8dba906f756967f9e9ca394464a");
        let mut reader = ObjectReader::start(&repo).expect("reader");
        assert_eq!(reader.read(&big).expect("reads").body, big_body);
        for (n, id) in many.iter().enumerate() {
            assert_eq!(
                reader.read(id).expect("reads").body,
                format!("{n}\n").into_bytes()
            );
        }
        assert_no_leftovers(&repo);
    }

    #[test]
    fn a_full_pack_is_sealed_and_the_next_one_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let mut pack = PackWriter::create(&repo).expect("creates");
        pack.objects_per_pack = 100;
        let ids: Vec<String> = (0..250)
            .map(|n| {
                pack.write("blob", format!("{n}\n").as_bytes())
                    .expect("writes")
            })
            .collect();
        // The first object again, now that its pack is sealed: it goes into the open one.
        assert_eq!(pack.write("blob", b"0\n").expect("writes"), ids[0]);
        pack.finish(&Cancel::new()).expect("finishes");
        let indexes = pack_indexes(&repo);
        assert_eq!(indexes.len(), 3, "{indexes:?}");
        let mut objects = 0;
        for index in &indexes {
            let listed = git_succeeds(&repo, &["verify-pack", "-v", index]);
            objects += listed.lines().filter(|l| l.contains(" blob ")).count();
        }
        assert_eq!(objects, 251);
        git_succeeds(&repo, &["fsck", "--strict"]);
        let mut reader = ObjectReader::start(&repo).expect("reader");
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(
                reader.read(id).expect("reads").body,
                format!("{n}\n").into_bytes()
            );
        }
        assert_no_leftovers(&repo);
        // A writer dropped unfinished (a failed rewrite) takes its sealed packs with it.
        let mut unfinished = PackWriter::create(&repo).expect("creates");
        unfinished.objects_per_pack = 10;
        for n in 0..25 {
            unfinished
                .write("blob", format!("unfinished {n}\n").as_bytes())
                .expect("writes");
        }
        assert_eq!(unfinished.sealed.0.len(), 2);
        drop(unfinished);
        assert_eq!(pack_indexes(&repo).len(), 3);
        let packs = fs::read_dir(repo.join("objects/pack"))
            .expect("pack dir")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
            .count();
        assert_eq!(packs, 3);
        assert_no_leftovers(&repo);
    }

    /// The pack indexes in `repo`.
    fn pack_indexes(repo: &Path) -> Vec<String> {
        fs::read_dir(repo.join("objects/pack"))
            .expect("pack dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    /// Runs git on `repo`, which must succeed; returns its output.
    fn git_succeeds(repo: &Path, args: &[&str]) -> String {
        let out = crate::git::run_git(repo, args, None, &Cancel::new()).expect("git succeeds");
        String::from_utf8_lossy(&out).into_owned()
    }

    fn assert_no_leftovers(repo: &Path) {
        let leftovers: Vec<_> = fs::read_dir(repo.join("objects/pack"))
            .expect("pack dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("tmp_"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
