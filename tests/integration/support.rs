//! Test support: the real server binary on 127.0.0.1:0, a real `git http-backend` source
//! on loopback (optionally behind Basic auth), fixtures and a small API client.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use srcimport::git::http_backend::{self, CgiRequest};

pub const TOKEN: &str = "test-admin-token";
pub const LIMITED_TOKEN: &str = "test-limited-token";

/// A running `srcimport serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub data: PathBuf,
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    pub fn start_with(data: &Path, env: &[(&str, &str)]) -> Server {
        std::fs::create_dir_all(data).expect("data dir");
        std::fs::write(
            data.join("tokens"),
            format!("{TOKEN} admin *\n{LIMITED_TOKEN} limited\n"),
        )
        .expect("tokens file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_srcimport"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--workers", "2"])
            .arg("--data-dir")
            .arg(data)
            .env("SRCIMPORT_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(data.join("server.log"))
                    .expect("log file"),
            ));
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().expect("server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("server printed its address")
                .expect("readable stdout");
            if let Some(addr) = line.split("listening on ").nth(1) {
                break addr.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            data: data.to_owned(),
        }
    }

    /// What the server has logged so far (all runs on this data directory).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut req = ureq::request(method, &self.url(path));
        if let Some(token) = token {
            req = req.set("Authorization", &format!("token {token}"));
        }
        let result = match body {
            Some(body) => req
                .set("Content-Type", "application/json")
                .send_string(body),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let text = response.into_string().expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"))
        };
        (status, value)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, Some(TOKEN), None)
    }

    /// Polls `GET /import` until `done` holds (or panics after a minute).
    pub fn wait_import(&self, repo: &str, mut done: impl FnMut(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = self.get(&format!("/repos/{repo}/import"));
            if status == 200 && done(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "import {repo} never got there; last: {status} {body}\nserver log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_status(&self, repo: &str, wanted: &str) -> Value {
        let body = self.wait_import(repo, |b| {
            b["status"] == wanted
                || matches!(
                    b["status"].as_str(),
                    Some(
                        "error"
                            | "complete"
                            | "auth_failed"
                            | "detection_found_nothing"
                            | "detection_needs_auth"
                    )
                )
        });
        assert_eq!(body["status"], wanted, "import ended elsewhere: {body}");
        body
    }

    /// The hosted repository's clone URL with the admin token as password.
    pub fn authed_git_url(&self, repo: &str) -> String {
        self.url(&format!("/{repo}.git"))
            .replace("http://", &format!("http://x:{TOKEN}@"))
    }

    /// `PUT /repos/{repo}/import` with `body`; asserts 201 and returns the import.
    pub fn put_import(&self, repo: &str, body: &Value) -> Value {
        let (status, created) = self.request(
            "PUT",
            &format!("/repos/{repo}/import"),
            Some(TOKEN),
            Some(&body.to_string()),
        );
        assert_eq!(status, 201, "{created}");
        created
    }

    /// `PATCH /repos/{repo}/import` with `body`; returns the status and the answer.
    pub fn patch_import(&self, repo: &str, body: &Value) -> (u16, Value) {
        self.request(
            "PATCH",
            &format!("/repos/{repo}/import"),
            Some(TOKEN),
            Some(&body.to_string()),
        )
    }

    /// Maps the author whose `remote_name` is `remote_name`; returns the mapped author.
    pub fn map_author(&self, repo: &str, remote_name: &str, name: &str, email: &str) -> Value {
        let (_, authors) = self.get(&format!("/repos/{repo}/import/authors"));
        let id = authors
            .as_array()
            .expect("author list")
            .iter()
            .find(|a| a["remote_name"] == remote_name)
            .unwrap_or_else(|| panic!("no author {remote_name} in {authors}"))["id"]
            .clone();
        let body = serde_json::json!({"name": name, "email": email}).to_string();
        let (status, mapped) = self.request(
            "PATCH",
            &format!("/repos/{repo}/import/authors/{id}"),
            Some(TOKEN),
            Some(&body),
        );
        assert_eq!(status, 200, "{mapped}");
        mapped
    }

    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// A directory of bare repositories served by the real `git http-backend`; files named
/// `*.dump` in it are served as they are.
pub struct GitSource {
    pub base: String,
    _runtime: tokio::runtime::Runtime,
}

impl GitSource {
    /// Serves `root`; with `basic` set, every request needs those Basic credentials.
    pub fn serve(root: &Path, basic: Option<(&str, &str)>) -> GitSource {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let expected = basic.map(|(u, p)| {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let project_root = root.to_owned();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let app = axum::Router::new().fallback(move |request: Request| {
            let expected = expected.clone();
            let project_root = project_root.clone();
            async move { cgi(request, expected, project_root).await }
        });
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        GitSource {
            base: format!("http://{addr}"),
            _runtime: runtime,
        }
    }
}

async fn cgi(request: Request, expected: Option<String>, root: PathBuf) -> Response {
    let (parts, body) = request.into_parts();
    // Behind Basic auth the user is known, so http-backend lets repositories that set
    // http.receivepack accept pushes (the push mirror tests).
    let remote_user = expected.as_ref().map(|_| "pusher");
    if let Some(expected) = expected {
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"source\"")],
                "auth",
            )
                .into_response();
        }
    }
    if parts.uri.path().ends_with(".dump") {
        let file = root.join(parts.uri.path().trim_start_matches('/'));
        return match tokio::fs::read(&file).await {
            Ok(bytes) => (StatusCode::OK, Body::from(bytes)).into_response(),
            Err(_) => (StatusCode::NOT_FOUND, "no such file").into_response(),
        };
    }
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if let Some(response) = lfs_upload_server(&parts, &bytes, &root) {
        return response;
    }
    let result = http_backend::serve(CgiRequest {
        project_root: &root,
        path_info: parts.uri.path(),
        method: &parts.method,
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: Body::from(bytes),
        remote_user,
        config: &[],
        hold: None,
    })
    .await;
    result.unwrap_or_else(|e| {
        (StatusCode::INTERNAL_SERVER_ERROR, Body::from(e.to_string())).into_response()
    })
}

/// A minimal Git LFS server for uploads (push mirror tests): the batch API answers every
/// object with an upload action to `/lfs-upload/OID`, which stores the object as
/// `ROOT/lfs-objects/OID`; the locking API is absent.
fn lfs_upload_server(
    parts: &axum::http::request::Parts,
    body: &[u8],
    root: &Path,
) -> Option<Response> {
    let path = parts.uri.path();
    if path.contains("/info/lfs/locks") {
        return Some((StatusCode::NOT_FOUND, "no locks").into_response());
    }
    if let Some(oid) = path.strip_prefix("/lfs-upload/") {
        let oid = oid.trim_matches('/');
        if oid.len() != 64 || !oid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some((StatusCode::BAD_REQUEST, "bad oid").into_response());
        }
        let dir = root.join("lfs-objects");
        std::fs::create_dir_all(&dir).expect("lfs object dir");
        std::fs::write(dir.join(oid), body).expect("lfs object written");
        return Some(StatusCode::OK.into_response());
    }
    if !path.ends_with("/info/lfs/objects/batch") {
        return None;
    }
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let objects: Vec<Value> = request["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|object| {
            let oid = object["oid"].as_str().unwrap_or_default();
            serde_json::json!({
                "oid": oid,
                "size": object["size"],
                "authenticated": true,
                "actions": {"upload": {
                    "href": format!("http://{host}/lfs-upload/{oid}"),
                    "header": {"Authorization": authorization},
                }},
            })
        })
        .collect();
    let answer = serde_json::json!({"transfer": "basic", "objects": objects});
    Some(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/vnd.git-lfs+json")],
            answer.to_string(),
        )
            .into_response(),
    )
}

/// Runs a fixture script from `fixtures/` with `dest` as its argument.
pub fn fixture(script: &str, dest: &Path) {
    fixture_with(script, dest, &[]);
}

/// Runs a fixture script with `dest` and further arguments.
pub fn fixture_with(script: &str, dest: &Path, args: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(script);
    let status = Command::new("bash")
        .arg(&path)
        .arg(dest)
        .args(args)
        .status()
        .expect("fixture runs");
    assert!(status.success(), "fixture {script} failed");
}

/// `git` with a hermetic environment.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_with_env(dir, args, &[])
}

/// [`git`] with extra environment variables (an author and dates, say).
pub fn git_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .envs(env.iter().copied())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Clones `url` (mirror) into `dest`; returns whether it worked.
pub fn try_clone(url: &str, dest: &Path) -> bool {
    Command::new("git")
        .args(["clone", "--quiet", "--mirror", url])
        .arg(dest)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stderr(Stdio::null())
        .status()
        .expect("git runs")
        .success()
}

/// `refname sha` lines for branches and tags.
pub fn refs(dir: &Path) -> String {
    git(
        dir,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads",
            "refs/tags",
        ],
    )
}

/// Process ids of every descendant of `pid`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{parent}/task"))
            .into_iter()
            .flatten()
            .flatten();
        for task in tasks {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

/// The real `git daemon` serving `root` over git:// on loopback, killed on drop.
pub struct GitDaemon {
    pub base: String,
    child: Child,
}

impl GitDaemon {
    pub fn serve(root: &Path) -> GitDaemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("git")
            .process_group(0)
            .args([
                "daemon",
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", root.display()))
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let daemon = GitDaemon {
            base: format!("git://127.0.0.1:{port}"),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        // git daemon re-executes itself as a child: end the whole process group.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: signals the process group this test created.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}
