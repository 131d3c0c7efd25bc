//! Checkpoint files: what a converter keeps between runs so a sync converts only what is
//! new (Mercurial, TFVC). JSON, written atomically (a temporary file renamed over the
//! old one); a file that is missing or does not parse reads as none.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The value at `path`, if there is one that parses.
pub fn load<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes `value` to `path` atomically.
pub fn save<T: Serialize>(value: &T, path: &Path) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
    serde_json::to_writer(&mut file, value).map_err(std::io::Error::other)?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}
