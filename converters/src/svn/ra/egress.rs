//! libsvn's network connections held to the URL policy. libsvn resolves host names itself,
//! so without this a name could resolve to one address when the policy checks it and to
//! another when libsvn connects, and a DAV redirect could lead anywhere. `svn://` sessions
//! are opened at the address the policy checked; DAV (`http(s)://`) goes through a proxy on
//! loopback that checks every connection libsvn asks for (redirects included) and connects
//! only to the address it checked. TLS stays end to end (`CONNECT`), so certificates are
//! verified against the real host name.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::url_policy::{parse, UrlPolicy};

/// The longest request head the proxy reads before giving up on a connection.
const MAX_HEAD: usize = 64 * 1024;
/// How long connecting upstream, or waiting for a request head, may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What the proxy refused, for the error libsvn's own message does not explain.
type Refusals = Arc<Mutex<Option<String>>>;

/// The `svn://` URL `url` with its host replaced by the address the policy checked (the
/// URL unchanged when it has no host to pin).
pub fn pin_svn_url(url: &str, policy: &UrlPolicy) -> Result<String, crate::SourceError> {
    let Some(pinned) = policy.check(url)? else {
        return Ok(url.to_owned());
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(url.to_owned());
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let host_start = rest[..authority_end].rfind('@').map_or(0, |at| at + 1);
    let authority = &rest[host_start..authority_end];
    let host_len = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.find(']').map_or(authority.len(), |end| end + 2),
        None => authority.find(':').unwrap_or(authority.len()),
    };
    Ok(format!(
        "{scheme}://{}{}{}",
        &rest[..host_start],
        bracketed(&pinned.ip.to_string()),
        &rest[host_start + host_len..]
    ))
}

/// A host as it goes into a URL: an IPv6 address in brackets.
fn bracketed(host: &str) -> String {
    match host.contains(':') && !host.starts_with('[') {
        true => format!("[{host}]"),
        false => host.to_owned(),
    }
}

/// A proxy on loopback for one RA session's DAV connections; stopped when dropped.
pub struct Egress {
    port: u16,
    refusals: Refusals,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Egress {
    pub fn start(policy: UrlPolicy) -> io::Result<Egress> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let refusals = Refusals::default();
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let refusals = Arc::clone(&refusals);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("svn-egress".into())
                .spawn(move || {
                    for client in listener.incoming() {
                        if stop.load(Ordering::Acquire) {
                            break;
                        }
                        let Ok(client) = client else { continue };
                        let policy = policy.clone();
                        let refusals = Arc::clone(&refusals);
                        let _ = std::thread::Builder::new()
                            .name("svn-egress-conn".into())
                            .spawn(move || {
                                // A broken connection is libsvn's error to report.
                                let _ = relay(client, &policy, &refusals);
                            });
                    }
                })?
        };
        Ok(Egress {
            port,
            refusals,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Why the proxy last refused a connection, if it did.
    pub fn refusal(&self) -> Option<String> {
        self.refusals.lock().ok().and_then(|r| r.clone())
    }
}

impl Drop for Egress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Where a proxied request wants to go.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    /// A `CONNECT` tunnel (TLS), rather than a plain request in absolute form.
    tunnel: bool,
}

/// Reads the request head, checks its target against the policy, connects to the checked
/// address and relays bytes both ways until either side closes.
fn relay(mut client: TcpStream, policy: &UrlPolicy, refusals: &Refusals) -> io::Result<()> {
    client.set_read_timeout(Some(TIMEOUT))?;
    let (head, extra) = read_head(&mut client)?;
    let Some(target) = target_of(&head) else {
        return answer(&mut client, "400 Bad Request");
    };
    let scheme = if target.tunnel { "https" } else { "http" };
    let checked = format!("{scheme}://{}:{}/", bracketed(&target.host), target.port);
    let address = match policy.check(&checked) {
        Ok(Some(pinned)) => SocketAddr::new(pinned.ip, pinned.port),
        Ok(None) => return answer(&mut client, "400 Bad Request"),
        Err(error) => {
            if let Ok(mut last) = refusals.lock() {
                *last = Some(error.to_string());
            }
            return answer(&mut client, "403 Forbidden");
        }
    };
    let mut upstream = match TcpStream::connect_timeout(&address, TIMEOUT) {
        Ok(upstream) => upstream,
        Err(_) => return answer(&mut client, "502 Bad Gateway"),
    };
    client.set_read_timeout(None)?;
    if target.tunnel {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    } else {
        upstream.write_all(&head)?;
    }
    upstream.write_all(&extra)?;
    let mut upstream_reader = upstream.try_clone()?;
    let mut client_writer = client.try_clone()?;
    let downstream = std::thread::Builder::new()
        .name("svn-egress-down".into())
        .spawn(move || {
            let _ = io::copy(&mut upstream_reader, &mut client_writer);
            let _ = client_writer.shutdown(Shutdown::Write);
        })?;
    let _ = io::copy(&mut client, &mut upstream);
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = downstream.join();
    Ok(())
}

fn answer(client: &mut TcpStream, status: &str) -> io::Result<()> {
    client.write_all(
        format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// The request head (through the blank line) and whatever was read past it.
fn read_head(client: &mut TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let extra = buffer.split_off(end + 4);
            return Ok((buffer, extra));
        }
        if buffer.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
        let read = client.read(&mut chunk)?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// The target of `CONNECT host:port` or of a request in absolute form
/// (`GET http://host[:port]/path`).
fn target_of(head: &[u8]) -> Option<Target> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split(' ');
    let method = words.next()?;
    let uri = words.next()?;
    if method == "CONNECT" {
        let (host, port) = uri.rsplit_once(':')?;
        return Some(Target {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: port.parse().ok()?,
            tunnel: true,
        });
    }
    let rest = uri.strip_prefix("http://")?;
    let authority = rest.split('/').next()?;
    let parsed = parse(uri)?;
    Some(Target {
        host: parsed.host?.to_owned(),
        port: parsed.port.unwrap_or(80),
        tunnel: false,
    })
    .filter(|_| !authority.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_connect_and_absolute_requests() {
        assert_eq!(
            target_of(b"CONNECT svn.example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Target {
                host: "svn.example.com".into(),
                port: 443,
                tunnel: true
            })
        );
        assert_eq!(
            target_of(b"OPTIONS http://svn.example.com:8080/repo HTTP/1.1\r\n\r\n"),
            Some(Target {
                host: "svn.example.com".into(),
                port: 8080,
                tunnel: false
            })
        );
        assert_eq!(
            target_of(b"PROPFIND http://[::1]/repo HTTP/1.1\r\n\r\n").map(|t| (t.host, t.port)),
            Some(("::1".into(), 80))
        );
        assert_eq!(target_of(b"GET /relative HTTP/1.1\r\n\r\n"), None);
        assert_eq!(target_of(b"GET http://u@h/ HTTP/1.1\r\n\r\n"), None);
    }

    #[test]
    fn svn_urls_are_pinned_to_the_checked_address() {
        let policy = UrlPolicy::default();
        assert_eq!(
            pin_svn_url("svn://127.0.0.1:3690/repo/trunk", &policy).expect("pins"),
            "svn://127.0.0.1:3690/repo/trunk"
        );
        let pinned = pin_svn_url("svn://localhost:3690/repo", &policy).expect("pins");
        assert!(
            pinned == "svn://127.0.0.1:3690/repo" || pinned == "svn://[::1]:3690/repo",
            "{pinned}"
        );
        assert_eq!(
            pin_svn_url("svn://[::1]:3690/r", &policy).expect("pins"),
            "svn://[::1]:3690/r"
        );
        assert_eq!(
            pin_svn_url("svn+ssh://me@localhost/r", &policy).expect("pins"),
            "svn+ssh://me@127.0.0.1/r"
        );
        assert!(pin_svn_url("svn://169.254.169.254/repo", &policy).is_err());
    }
}
