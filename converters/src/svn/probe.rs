//! Recognising Subversion sources: dump files and local repositories by their shape, and
//! servers (`svn://`, `http(s)://` with mod_dav_svn) by opening an RA session.

use std::io::Read;
use std::path::Path;

use super::ra::RaSession;
use crate::url_policy::UrlPolicy;
use crate::{Cancel, Credentials, SourceError};

pub(super) const DUMP_MAGIC: &[u8] = b"SVN-fs-dump-format-version:";

/// Whether `url` is a local dump file or repository (where local paths are allowed).
pub fn is_local_source(url: &str, policy: &UrlPolicy) -> Result<bool, SourceError> {
    if policy.check_shape(url)?.is_some() {
        return Ok(false);
    }
    let local = Path::new(url.strip_prefix("file://").unwrap_or(url));
    Ok(is_dump_file(local) || is_repository(local))
}

/// Whether a Subversion server answers at `url`. Authentication failures are errors (the
/// caller asks for credentials); anything else that is not Subversion is `false`.
pub fn is_server(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<bool, SourceError> {
    match RaSession::open(url, credentials, policy, cancel) {
        Ok(_) => Ok(true),
        Err(error) if error.is_auth() || matches!(error, SourceError::Cancelled) => Err(error),
        Err(_) => Ok(false),
    }
}

/// A file that starts like a dump.
pub fn is_dump_file(path: &Path) -> bool {
    let mut head = [0u8; DUMP_MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == DUMP_MAGIC
}

/// A directory laid out like an `svnadmin create` repository.
pub fn is_repository(path: &Path) -> bool {
    path.join("format").is_file() && path.join("db").is_dir() && path.join("hooks").is_dir()
}
