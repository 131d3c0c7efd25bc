//! The readers' HTTP client: `ureq` agents whose every connection goes to the address the
//! URL policy checked, following no redirects, with Basic credentials and statuses turned
//! into [`SourceError`]s.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use base64::Engine;

use crate::url_policy::{redact, PinnedAddress, UrlPolicy};
use crate::{Credentials, SourceError};

/// How long connecting, and then each read, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Resolves the checked host to the checked address and refuses any other host.
struct Pinned(Option<PinnedAddress>);

impl ureq::Resolver for Pinned {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        match &self.0 {
            // A local-policy URL never reaches here; with no pin (an allowed private
            // literal address), resolve normally.
            None => netloc.to_socket_addrs().map(Iterator::collect),
            Some(pin) => {
                let host = netloc.rsplit_once(':').map_or(netloc, |(host, _)| host);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if host.eq_ignore_ascii_case(&pin.host) {
                    Ok(vec![SocketAddr::new(pin.ip, pin.port)])
                } else {
                    Err(io::Error::other(format!(
                        "{netloc} is not the checked host {}",
                        pin.host
                    )))
                }
            }
        }
    }
}

/// An agent for requests to `url`'s host, after the policy accepted `url`.
pub fn agent(url: &str, policy: &UrlPolicy) -> Result<ureq::Agent, SourceError> {
    let pinned = policy.check(url)?;
    Ok(ureq::AgentBuilder::new()
        .resolver(Pinned(pinned))
        .redirects(0)
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .user_agent(concat!("srcimport/", env!("CARGO_PKG_VERSION")))
        .build())
}

/// The `Authorization` header value for Basic credentials (a PAT goes as the password).
pub fn basic_auth(credentials: &Credentials) -> String {
    let pair = format!("{}:{}", credentials.username, credentials.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Sends `request` (with Basic credentials when given) and turns failures into
/// [`SourceError`]s: 401 and 403 into the auth errors, other statuses and transport errors
/// into `NotFound` naming the status, with `url` redacted.
pub fn send(
    request: ureq::Request,
    url: &str,
    credentials: Option<&Credentials>,
) -> Result<ureq::Response, SourceError> {
    let request = match credentials {
        Some(credentials) => request.set("Authorization", &basic_auth(credentials)),
        None => request,
    };
    request
        .call()
        .map_err(|error| status_error(error, url, credentials))
}

/// What a failed request means for the import.
pub fn status_error(
    error: ureq::Error,
    url: &str,
    credentials: Option<&Credentials>,
) -> SourceError {
    let url = redact(url);
    match error {
        ureq::Error::Status(401 | 403, _) => SourceError::auth(&url, credentials),
        ureq::Error::Status(status, response) => SourceError::NotFound {
            url,
            reason: format!("HTTP {status} {}", response.status_text()),
        },
        ureq::Error::Transport(transport) => SourceError::NotFound {
            url,
            reason: transport.to_string(),
        },
    }
}
