//! Dump files given as `http(s)` URLs: streamed to a temporary file before they are read,
//! because a dump is read twice (checked in full, then converted). Anything that does not
//! start like a dump is refused after its first bytes.

use std::io::{Read, Write};
use std::path::Path;

use tempfile::TempPath;

use super::probe::DUMP_MAGIC;
use crate::url_policy::{redact, UrlPolicy};
use crate::{http, Cancel, Credentials, SourceError};

const CHUNK: usize = 1 << 20;

/// Downloads the dump at `url` into a temporary file in `dir`, removed when the returned
/// path is dropped.
pub fn download(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    dir: &Path,
    cancel: &Cancel,
) -> Result<TempPath, SourceError> {
    let agent = http::agent(url, policy)?;
    let response = http::send(agent.get(url), url, credentials)?;
    let mut body = response.into_reader();
    let not_found = |reason: String| SourceError::NotFound {
        url: redact(url),
        reason,
    };
    let mut file = tempfile::Builder::new()
        .prefix("srcimport-dump-")
        .tempfile_in(dir)
        .map_err(|e| SourceError::io(dir, e))?;
    let mut buffer = vec![0u8; CHUNK];
    let mut written = 0u64;
    loop {
        cancel.check()?;
        let read = body
            .read(&mut buffer)
            .map_err(|e| not_found(format!("download failed after {written} bytes: {e}")))?;
        if read == 0 {
            break;
        }
        file.write_all(&buffer[..read])
            .map_err(|e| SourceError::io(file.path(), e))?;
        let before = written;
        written += read as u64;
        let magic_end = DUMP_MAGIC.len() as u64;
        if before < magic_end && written >= magic_end {
            check_magic(&mut file, &not_found)?;
        }
    }
    if written < DUMP_MAGIC.len() as u64 {
        return Err(not_found("not a Subversion dump file".into()));
    }
    file.flush().map_err(|e| SourceError::io(file.path(), e))?;
    Ok(file.into_temp_path())
}

/// Whether the file at `url` starts like a dump (only its first bytes are asked for).
/// Authentication failures are errors; anything else that is not a dump is `false`.
pub fn is_remote_dump(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
) -> Result<bool, SourceError> {
    let agent = http::agent(url, policy)?;
    let range = format!("bytes=0-{}", DUMP_MAGIC.len() - 1);
    let response = match http::send(agent.get(url).set("Range", &range), url, credentials) {
        Ok(response) => response,
        Err(error) if error.is_auth() => return Err(error),
        Err(_) => return Ok(false),
    };
    let mut head = Vec::with_capacity(DUMP_MAGIC.len());
    let read = response
        .into_reader()
        .take(DUMP_MAGIC.len() as u64)
        .read_to_end(&mut head);
    Ok(read.is_ok() && head == DUMP_MAGIC)
}

/// Whether what was written so far starts like a dump.
fn check_magic(
    file: &mut tempfile::NamedTempFile,
    not_found: &impl Fn(String) -> SourceError,
) -> Result<(), SourceError> {
    file.flush().map_err(|e| SourceError::io(file.path(), e))?;
    match super::probe::is_dump_file(file.path()) {
        true => Ok(()),
        false => Err(not_found("not a Subversion dump file".into())),
    }
}
