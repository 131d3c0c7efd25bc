//! Recognising Subversion sources: dump files, local repositories and `svn://` servers.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use crate::url_policy::UrlPolicy;
use crate::SourceError;

const DUMP_MAGIC: &[u8] = b"SVN-fs-dump-format-version:";
const GREETING_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `url` is a Subversion source this build can recognise without libsvn.
pub fn probe(url: &str, policy: &UrlPolicy) -> Result<bool, SourceError> {
    if let Some(rest) = url.strip_prefix("svn://") {
        let Some(pinned) = policy.check(url)? else {
            return Ok(false);
        };
        let host_port = rest.split('/').next().unwrap_or(rest);
        return svn_greeting(host_port, SocketAddr::new(pinned.ip, pinned.port));
    }
    if policy.check_shape(url)?.is_some() {
        return Ok(false);
    }
    let local = Path::new(url.strip_prefix("file://").unwrap_or(url));
    Ok(is_dump_file(local) || is_repository(local))
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

/// Connects and reads the svn protocol greeting: `( success ( MIN MAX ...`.
fn svn_greeting(host_port: &str, address: SocketAddr) -> Result<bool, SourceError> {
    let Ok(stream) = TcpStream::connect_timeout(&address, GREETING_TIMEOUT) else {
        return Err(SourceError::NotFound {
            url: format!("svn://{host_port}"),
            reason: "nothing answers at this address".into(),
        });
    };
    stream.set_read_timeout(Some(GREETING_TIMEOUT)).ok();
    let mut first = Vec::new();
    let _ = BufReader::new(stream.take(256)).read_until(b')', &mut first);
    let text = String::from_utf8_lossy(&first);
    Ok(text.trim_start().starts_with("( success ( "))
}
