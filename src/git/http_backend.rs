//! Git smart HTTP for hosted repositories: a CGI bridge to the real `git http-backend`.

use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader, ReadBuf};
use tokio::process::{Child, ChildStdout, Command};
use tokio_util::io::ReaderStream;

/// One CGI request to `git http-backend`.
pub struct CgiRequest<'a> {
    /// Directory that holds `owner/repo.git`.
    pub project_root: &'a Path,
    /// `/owner/repo.git/info/refs` and the like.
    pub path_info: &'a str,
    pub method: &'a Method,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    /// Streamed into the backend as it arrives (a push can be large).
    pub body: Body,
    pub remote_user: Option<&'a str>,
    /// Configuration for this request only (`-c`-like, through `GIT_CONFIG_COUNT`).
    pub config: &'a [(&'a str, &'a str)],
    /// Held until the backend's output has ended (a lock, work to do afterwards); dropped
    /// before the client can see the end of the response.
    pub hold: Option<Box<dyn Send + Sync>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CgiError {
    #[error("git http-backend: {0}")]
    Io(#[from] std::io::Error),
    #[error("git http-backend: malformed CGI header {0:?}")]
    Header(String),
}

/// Keeps the child alive for as long as its output streams; on drop (a finished or
/// abandoned response) its whole process group — upload-pack, pack-objects — is killed.
struct ChildOutput {
    stdout: BufReader<ChildStdout>,
    child: Child,
    hold: Option<Box<dyn Send + Sync>>,
}

impl Drop for ChildOutput {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            // SAFETY: signals the process group this request created.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

impl AsyncRead for ChildOutput {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stdout).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() == before {
            // The backend is done: let go of what was held before the client hears the end.
            self.hold.take();
        }
        polled
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Copies the request body into the backend's stdin frame by frame; a body that fails
/// (the client went away) closes stdin early, and the backend then refuses the request.
async fn feed(body: Body, mut stdin: tokio::process::ChildStdin) {
    use http_body_util::BodyExt;
    let mut body = body;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            if stdin.write_all(&data).await.is_err() {
                return;
            }
        }
    }
}

/// Runs `git http-backend` for one request and streams its answer.
pub async fn serve(request: CgiRequest<'_>) -> Result<Response<Body>, CgiError> {
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", request.project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("PATH_INFO", request.path_info)
        .env("REQUEST_METHOD", request.method.as_str())
        .env("QUERY_STRING", request.query)
        .env("CONTENT_TYPE", header_text(request.headers, "content-type"))
        .env(
            "HTTP_CONTENT_ENCODING",
            header_text(request.headers, "content-encoding"),
        )
        // No GIT_PROTOCOL: protocol v2 would serve any object reachable from the hidden
        // work refs (raw history, opted-out large files); v0 checks wants against what it
        // advertised.
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    // Without a length (a chunked request), the backend reads until the end of input.
    if let Some(length) = request.headers.get("content-length") {
        cmd.env("CONTENT_LENGTH", length.to_str().unwrap_or_default());
    }
    if let Some(user) = request.remote_user {
        cmd.env("REMOTE_USER", user);
    }
    cmd.env("GIT_CONFIG_COUNT", request.config.len().to_string());
    for (index, (key, value)) in request.config.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{index}"), key)
            .env(format!("GIT_CONFIG_VALUE_{index}"), value);
    }
    let mut child = cmd.spawn()?;
    let broken = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
    let stdin = child.stdin.take().ok_or_else(broken)?;
    tokio::spawn(feed(request.body, stdin));
    let mut stdout = BufReader::new(child.stdout.take().ok_or_else(broken)?);
    let mut response = Response::builder().status(StatusCode::OK);
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).await? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| CgiError::Header(line.to_owned()))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse::<u16>().ok());
            let status = code
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| CgiError::Header(line.to_owned()))?;
            response = response.status(status);
        } else {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| CgiError::Header(line.to_owned()))?;
            let value =
                HeaderValue::from_str(value).map_err(|_| CgiError::Header(line.to_owned()))?;
            response = response.header(name, value);
        }
    }
    let output = ChildOutput {
        stdout,
        child,
        hold: request.hold,
    };
    response
        .body(Body::from_stream(ReaderStream::new(output)))
        .map_err(|e| CgiError::Header(e.to_string()))
}
