//! The REST client: Basic auth, api-version negotiation, retries with backoff (honouring
//! `Retry-After`), `$top`/`$skip` and continuation-token paging, streamed downloads, and
//! every connection pinned to the address the URL policy checked.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use serde::de::DeserializeOwned;

use super::model::Envelope;
use super::TfvcError;
use crate::spool::Spool;
use crate::url_policy::{redact, UrlPolicy};
use crate::{Cancel, Credentials, SourceError};

/// The api-version asked for first.
pub const API_VERSION: &str = "7.1";
/// Versions stepped down through when a server refuses one without naming its own.
const OLDER_VERSIONS: [&str; 8] = ["7.0", "6.0", "5.1", "5.0", "4.1", "4.0", "3.0", "2.0"];
/// Downloads larger than this go to an unlinked temporary file.
pub const DOWNLOAD_MEMORY_LIMIT: usize = 1 << 20;

/// How the client pages and retries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `$top` of every paged request.
    pub page_size: usize,
    /// Attempts per request (the first included) on 429, 5xx and transport errors.
    pub max_attempts: u32,
    /// The first backoff; doubled at each retry, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            page_size: 200,
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(300),
        }
    }
}

/// A client for one collection.
pub struct Client {
    /// The collection URL, without a trailing `/`.
    collection: String,
    agent: ureq::Agent,
    authorization: Option<String>,
    credentials: Option<Credentials>,
    api_version: Mutex<String>,
    options: ClientOptions,
    cancel: Cancel,
}

/// A successful answer's body and its continuation token.
struct Answer {
    response: ureq::Response,
}

impl Client {
    /// A client for the collection at `collection`, checked against `policy`.
    pub fn new(
        collection: &str,
        credentials: Option<&Credentials>,
        policy: &UrlPolicy,
        options: ClientOptions,
        cancel: &Cancel,
    ) -> Result<Client, TfvcError> {
        if !(collection.starts_with("http://") || collection.starts_with("https://")) {
            return Err(SourceError::NotFound {
                url: redact(collection),
                reason: "a TFVC collection is an http(s) URL".into(),
            }
            .into());
        }
        let pinned = policy.check(collection)?;
        let pinned = pinned.ok_or_else(|| SourceError::NotFound {
            url: redact(collection),
            reason: "a TFVC collection is an http(s) URL".into(),
        })?;
        // Every connection goes to the checked address, whatever the name resolves to
        // later; no other host is ever contacted (redirects are not followed).
        let resolver = move |netloc: &str| -> io::Result<Vec<SocketAddr>> {
            let (host, port) = netloc.rsplit_once(':').unwrap_or((netloc, ""));
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port: u16 = port.parse().unwrap_or(pinned.port);
            if host.eq_ignore_ascii_case(&pinned.host) && port == pinned.port {
                Ok(vec![SocketAddr::new(pinned.ip, pinned.port)])
            } else {
                Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "only the checked source address is contacted",
                ))
            }
        };
        let agent = ureq::AgentBuilder::new()
            .resolver(resolver)
            .redirects(0)
            .timeout_connect(Duration::from_secs(30))
            .timeout(options.timeout)
            .build();
        let authorization = credentials.map(|c| {
            let pair = format!("{}:{}", c.username, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Ok(Client {
            collection: collection.trim_end_matches('/').to_owned(),
            agent,
            authorization,
            credentials: credentials.cloned(),
            api_version: Mutex::new(API_VERSION.to_owned()),
            options,
            cancel: cancel.clone(),
        })
    }

    pub fn collection(&self) -> &str {
        &self.collection
    }

    pub fn page_size(&self) -> usize {
        self.options.page_size.max(1)
    }

    /// The api-version in use (lowered after a server refused a newer one).
    pub fn api_version(&self) -> String {
        self.api_version
            .lock()
            .map(|v| v.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// GETs `path` (below the collection) with `query`, as JSON.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, TfvcError> {
        let (value, _) = self.get_json_token(path, query)?;
        Ok(value)
    }

    /// GETs JSON, with the `x-ms-continuationtoken` header if the server sent one.
    pub fn get_json_token<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(T, Option<String>), TfvcError> {
        let url = self.url(path, query);
        self.with_retries(&url, "application/json", |answer| {
            let token = answer
                .response
                .header("x-ms-continuationtoken")
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            let value = serde_json::from_reader(answer.response.into_reader()).map_err(|e| {
                if e.is_io() {
                    Attempt::Retry(e.to_string())
                } else {
                    Attempt::Fail(TfvcError::Unexpected {
                        url: url.clone(),
                        message: e.to_string(),
                    })
                }
            })?;
            Ok((value, token))
        })
    }

    /// Every element of a `$top`/`$skip` paged list: pages are asked for until one comes
    /// back empty (a server may cap a page below `$top`).
    pub fn get_paged<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut each: impl FnMut(T) -> Result<(), TfvcError>,
    ) -> Result<(), TfvcError> {
        let mut skip = 0usize;
        loop {
            self.cancel.check()?;
            let mut q = query.to_vec();
            q.push(("$top", self.page_size().to_string()));
            q.push(("$skip", skip.to_string()));
            let page: Envelope<T> = self.get_json(path, &q)?;
            if page.value.is_empty() {
                return Ok(());
            }
            skip += page.value.len();
            for item in page.value {
                each(item)?;
            }
        }
    }

    /// Every element of a list paged by continuation token (`x-ms-continuationtoken`
    /// answered, `continuationToken` sent back), falling back to `$skip` for servers that
    /// send no token.
    pub fn get_continued<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, TfvcError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        let mut skip = 0usize;
        loop {
            self.cancel.check()?;
            let mut q = query.to_vec();
            q.push(("$top", self.page_size().to_string()));
            match &token {
                Some(token) => q.push(("continuationToken", token.clone())),
                None if skip > 0 => q.push(("$skip", skip.to_string())),
                None => {}
            }
            let (page, next): (Envelope<T>, _) = self.get_json_token(path, &q)?;
            let got = page.value.len();
            all.extend(page.value);
            match next {
                Some(next) => token = Some(next),
                None if token.is_none() && got >= self.page_size() => skip += got,
                None => return Ok(all),
            }
            if got == 0 {
                return Ok(all);
            }
        }
    }

    /// Downloads the raw bytes at `path` into a spool (memory, then a temporary file).
    pub fn download(&self, path: &str, query: &[(&str, String)]) -> Result<Spool, TfvcError> {
        let url = self.url(path, query);
        self.with_retries(&url, "application/octet-stream", |answer| {
            let mut spool = Spool::with_limit(DOWNLOAD_MEMORY_LIMIT);
            copy(&mut answer.response.into_reader(), &mut spool, &self.cancel).map_err(
                |e| match e.kind() {
                    io::ErrorKind::Interrupted => Attempt::Fail(SourceError::Cancelled.into()),
                    _ => Attempt::Retry(e.to_string()),
                },
            )?;
            Ok(spool)
        })
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut url = format!("{}/{}", self.collection, path.trim_start_matches('/'));
        let version = self.api_version();
        let mut separator = if url.contains('?') { '&' } else { '?' };
        for (name, value) in query
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .chain([("api-version", version.as_str())])
        {
            url.push(separator);
            url.push_str(&encode(name));
            url.push('=');
            url.push_str(&encode(value));
            separator = '&';
        }
        url
    }

    /// Runs one request until it succeeds, fails for good, or runs out of attempts.
    fn with_retries<T>(
        &self,
        url: &str,
        accept: &str,
        mut read: impl FnMut(Answer) -> Result<T, Attempt>,
    ) -> Result<T, TfvcError> {
        let mut url = url.to_owned();
        let mut attempt = 0u32;
        let mut downgrades = 0;
        loop {
            self.cancel.check()?;
            attempt += 1;
            let mut request = self.agent.get(&url).set("Accept", accept);
            if let Some(authorization) = &self.authorization {
                request = request.set("Authorization", authorization);
            }
            let wait = match request.call() {
                Ok(response) if (200..300).contains(&response.status()) => {
                    match read(Answer { response }) {
                        Ok(value) => return Ok(value),
                        Err(Attempt::Fail(error)) => return Err(error),
                        Err(Attempt::Retry(message)) if attempt >= self.options.max_attempts => {
                            return Err(TfvcError::Transport { url, message })
                        }
                        Err(Attempt::Retry(_)) => None,
                    }
                }
                Ok(response) => {
                    return Err(TfvcError::Http {
                        url,
                        status: response.status(),
                        message: "redirects are not followed".into(),
                    })
                }
                Err(ureq::Error::Status(status, response)) => {
                    let retry_after = response
                        .header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let message = error_message(response);
                    match status {
                        401 | 403 => {
                            return Err(
                                SourceError::auth(&redact(&url), self.credentials.as_ref()).into()
                            )
                        }
                        404 => {
                            return Err(TfvcError::Http {
                                url,
                                status,
                                message,
                            })
                        }
                        400 if message.contains("out of range") && downgrades < 10 => {
                            downgrades += 1;
                            attempt -= 1;
                            let lower =
                                self.lower_version(&message)
                                    .ok_or_else(|| TfvcError::Http {
                                        url: url.clone(),
                                        status,
                                        message: message.clone(),
                                    })?;
                            let old = format!("api-version={}", encode(&self.api_version()));
                            url = url.replace(&old, &format!("api-version={}", encode(&lower)));
                            self.set_api_version(lower);
                            continue;
                        }
                        429 | 500..=599 if attempt < self.options.max_attempts => retry_after,
                        _ => {
                            return Err(TfvcError::Http {
                                url,
                                status,
                                message,
                            })
                        }
                    }
                }
                Err(ureq::Error::Transport(transport)) => {
                    if attempt >= self.options.max_attempts {
                        return Err(TfvcError::Transport {
                            url,
                            message: transport.to_string(),
                        });
                    }
                    None
                }
            };
            let backoff = self
                .options
                .base_delay
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(self.options.max_delay);
            let delay = wait
                .map(|w| w.min(self.options.max_delay))
                .unwrap_or(backoff);
            sleep(delay, &self.cancel)?;
        }
    }

    /// The version to ask for after `message` refused the current one: the one the
    /// message names, else the next older one.
    fn lower_version(&self, message: &str) -> Option<String> {
        let named = message
            .split("supports is")
            .nth(1)
            .map(|rest| {
                rest.trim()
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect::<String>()
            })
            .map(|v| v.trim_end_matches('.').to_owned())
            .filter(|v| !v.is_empty());
        let current = self.api_version();
        if let Some(named) = named.filter(|v| *v != current) {
            return Some(named);
        }
        let current_number: f64 = current.parse().unwrap_or(f64::MAX);
        OLDER_VERSIONS
            .iter()
            .find(|v| v.parse::<f64>().unwrap_or(0.0) < current_number)
            .map(|v| (*v).to_owned())
    }

    fn set_api_version(&self, version: String) {
        match self.api_version.lock() {
            Ok(mut v) => *v = version,
            Err(e) => *e.into_inner() = version,
        }
    }
}

/// What a failed read of an answer calls for.
enum Attempt {
    Retry(String),
    Fail(TfvcError),
}

/// The `message` of a TFS JSON error body, or the start of the body.
fn error_message(response: ureq::Response) -> String {
    let mut body = String::new();
    let _ = response
        .into_reader()
        .take(64 << 10)
        .read_to_string(&mut body);
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(value) => value["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| body.chars().take(300).collect()),
        Err(_) => body.chars().take(300).collect(),
    }
}

/// Copies `reader` into `sink`, checking `cancel` between chunks.
fn copy(reader: &mut impl Read, sink: &mut impl Write, cancel: &Cancel) -> io::Result<u64> {
    let mut buffer = vec![0u8; 64 << 10];
    let mut total = 0;
    loop {
        if cancel.is_cancelled() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
        }
        let n = match reader.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io::Error::other(e.to_string())),
        };
        sink.write_all(&buffer[..n])?;
        total += n as u64;
    }
}

/// Sleeps `delay`, waking early (with `Cancelled`) when `cancel` is set.
pub fn sleep(delay: Duration, cancel: &Cancel) -> Result<(), SourceError> {
    let deadline = std::time::Instant::now() + delay;
    loop {
        cancel.check()?;
        let now = std::time::Instant::now();
        if now >= deadline {
            return Ok(());
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(25)));
    }
}

/// Percent-encodes a query component or path segment (keeping `/` and `$`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b'$' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_encoded() {
        assert_eq!(encode("$/Proj/a b.txt"), "$/Proj/a%20b.txt");
        assert_eq!(encode("é&="), "%C3%A9%26%3D");
    }

    #[test]
    fn versions_step_down() {
        let client = Client::new(
            "http://127.0.0.1:9/c",
            None,
            &UrlPolicy::default(),
            ClientOptions::default(),
            &Cancel::new(),
        )
        .unwrap();
        let named = "The requested REST API version of 7.1 is out of range for this server. The latest REST API version this server supports is 5.0.";
        assert_eq!(client.lower_version(named).as_deref(), Some("5.0"));
        assert_eq!(client.lower_version("out of range").as_deref(), Some("7.0"));
    }
}
