//! `repository_import` webhooks: a real HTTP receiver on loopback checks signatures and
//! payloads (against the schema, with Python's `jsonschema`), retries, restarts, every
//! ending, the server-wide hook, and the hooks API itself.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{fixture, GitSource, Server, TOKEN};

const SECRET: &str = "It's a Secret to Everybody";

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    answered: u16,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Script {
    /// Statuses for the next requests; then `otherwise`.
    next: VecDeque<u16>,
    otherwise: u16,
    received: Vec<Received>,
    /// `ping` events, answered 200 outside the script.
    pings: Vec<Received>,
}

/// A webhook receiver on loopback that records requests and answers as scripted.
pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub fn start(next: &[u16], otherwise: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let script = Arc::new(Mutex::new(Script {
            next: next.iter().copied().collect(),
            otherwise,
            received: Vec::new(),
            pings: Vec::new(),
        }));
        let shared = Arc::clone(&script);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut headers = Vec::new();
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.trim_end().split_once(':') {
                        headers.push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                let length = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let is_ping = headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case("x-github-event") && v == "ping");
                let answered = {
                    let mut script = shared.lock().expect("script");
                    let answered = if is_ping {
                        200
                    } else {
                        script.next.pop_front().unwrap_or(script.otherwise)
                    };
                    let request = Received {
                        headers,
                        body,
                        answered,
                    };
                    if is_ping {
                        script.pings.push(request);
                    } else {
                        script.received.push(request);
                    }
                    answered
                };
                let _ = (&stream).write_all(
                    format!(
                        "HTTP/1.1 {answered} Scripted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
            }
        });
        Receiver { url, script }
    }

    fn set_otherwise(&self, status: u16) {
        self.script.lock().expect("script").otherwise = status;
    }

    fn received(&self) -> Vec<Received> {
        self.script.lock().expect("script").received.clone()
    }

    pub fn pings(&self) -> Vec<Received> {
        self.script.lock().expect("script").pings.clone()
    }

    /// Polls until `done` holds for what was received (or panics after a minute).
    fn wait(
        &self,
        server: &Server,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        self.wait_for(server, what, Self::received, done)
    }

    /// Polls until `done` holds for the pings received.
    fn wait_pings(
        &self,
        server: &Server,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        self.wait_for(server, what, Self::pings, done)
    }

    fn wait_for(
        &self,
        server: &Server,
        what: &str,
        read: fn(&Self) -> Vec<Received>,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let received = read(self);
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "never got {what}; received {received:?}\nserver log:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn python() -> String {
    std::env::var("SRCIMPORT_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Verifies the signature and validates the payload against the schema, in Python;
/// returns the payload.
fn check_delivery(received: &Received, secret: &str, content_type: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");
    let mut child = Command::new(python())
        .arg(format!("{dir}/check_webhook.py"))
        .arg(format!("{dir}/repository-import-webhook.schema.json"))
        .arg(secret)
        .arg(received.header("X-Hub-Signature-256").unwrap_or("none"))
        .arg(content_type)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&received.body)
        .expect("body written");
    let output = child.wait_with_output().expect("python ends");
    assert!(
        output.status.success(),
        "delivery check failed (is jsonschema installed for {}? scripts/test installs it): {}",
        python(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("payload JSON")
}

fn check_headers(received: &Received, hook_id: &str) {
    assert_eq!(received.header("X-GitHub-Event"), Some("repository_import"));
    assert_eq!(received.header("X-GitHub-Hook-ID"), Some(hook_id));
    assert_eq!(
        received.header("X-GitHub-Hook-Installation-Target-Type"),
        Some("repository")
    );
    assert_eq!(
        received.header("User-Agent"),
        Some("GitHub-Hookshot/srcimport")
    );
    let guid = received.header("X-GitHub-Delivery").expect("delivery id");
    assert_eq!(guid.len(), 36, "{guid}");
    assert_eq!(&guid[14..15], "4", "a version 4 UUID: {guid}");
}

fn create_repo(server: &Server, owner: &str, name: &str) {
    let path = if owner == "admin" {
        "/user/repos".to_owned()
    } else {
        format!("/orgs/{owner}/repos")
    };
    let (status, body) = server.request(
        "POST",
        &path,
        Some(TOKEN),
        Some(&json!({"name": name}).to_string()),
    );
    assert_eq!(status, 201, "{body}");
}

fn create_hook(server: &Server, repo: &str, url: &str, content_type: &str) -> Value {
    let body = json!({
        "name": "web",
        "active": true,
        "events": ["repository_import"],
        "config": {"url": url, "content_type": content_type, "secret": SECRET, "insecure_ssl": "0"},
    });
    let (status, hook) = server.request(
        "POST",
        &format!("/repos/{repo}/hooks"),
        Some(TOKEN),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{hook}");
    hook
}

fn start_import(server: &Server, repo: &str, url: &str) {
    server.put_import(repo, &json!({"vcs": "git", "vcs_url": url}));
}

/// Polls the delivery log until `done` holds for it.
fn wait_deliveries(
    server: &Server,
    repo: &str,
    hook_id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, list) = server.get(&format!("/repos/{repo}/hooks/{hook_id}/deliveries"));
        assert_eq!(status, 200, "{list}");
        if done(&list) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never got there: {list}\nserver log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_completed_import_is_delivered_signed_and_matching_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let repo_hook = Receiver::start(&[], 200);
    let server_hook = Receiver::start(&[], 200);
    let server = Server::start_with(
        &dir.path().join("data"),
        &[
            ("SRCIMPORT_WEBHOOK_URL", &server_hook.url),
            ("SRCIMPORT_WEBHOOK_SECRET", "server-wide secret"),
            ("SRCIMPORT_WEBHOOK_CONTENT_TYPE", "form"),
        ],
    );
    create_repo(&server, "octo", "hooked");
    let hook = create_hook(&server, "octo/hooked", &repo_hook.url, "json");
    let hook_id = hook["id"].to_string();
    assert_eq!(hook["config"]["secret"], "********");
    assert_eq!(hook["type"], "Repository");
    assert_eq!(hook["events"], json!(["repository_import"]));

    start_import(
        &server,
        "octo/hooked",
        &format!("{}/source.git", source.base),
    );
    server.wait_status("octo/hooked", "complete");

    let received = repo_hook.wait(&server, "the success delivery", |r| !r.is_empty());
    assert_eq!(received.len(), 1);
    check_headers(&received[0], &hook_id);
    assert_eq!(received[0].header("Content-Type"), Some("application/json"));
    let payload = check_delivery(&received[0], SECRET, "json");
    assert_eq!(payload["status"], "success");
    assert_eq!(payload["repository"]["full_name"], "octo/hooked");
    assert_eq!(payload["sender"]["login"], "admin");
    // No token belongs to "octo": it is an organization.
    assert_eq!(payload["organization"]["login"], "octo");
    assert_eq!(payload["repository"]["owner"]["type"], "Organization");

    let received = server_hook.wait(&server, "the server-wide delivery", |r| !r.is_empty());
    check_headers(&received[0], "0");
    assert_eq!(
        received[0].header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    let payload = check_delivery(&received[0], "server-wide secret", "form");
    assert_eq!(payload["status"], "success");

    let log = wait_deliveries(&server, "octo/hooked", &hook_id, |l| {
        l[0]["state"] == "delivered"
    });
    let entry = &log[0];
    assert_eq!(entry["status_code"], 200);
    assert_eq!(entry["event"], "repository_import");
    assert_eq!(entry["attempts"], 1);
    assert_eq!(entry["guid"], received_guid(&repo_hook));
    assert!(entry["delivered_at"]
        .as_str()
        .is_some_and(|d| d.ends_with('Z')));

    // The secret never comes back, nor reaches the log.
    let (_, listed) = server.get("/repos/octo/hooked/hooks");
    let (_, one) = server.get(&format!("/repos/octo/hooked/hooks/{hook_id}"));
    for shown in [listed.to_string(), one.to_string(), log.to_string()] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    assert_eq!(one["last_response"]["code"], 200);
    assert!(!server.log().contains(SECRET));
    assert!(!server.log().contains("server-wide secret"));
}

fn received_guid(receiver: &Receiver) -> String {
    receiver.received()[0]
        .header("X-GitHub-Delivery")
        .expect("guid")
        .to_owned()
}

#[test]
fn a_receiver_failing_twice_gets_the_delivery_on_the_third_attempt() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let receiver = Receiver::start(&[500, 502], 200);
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_WEBHOOK_BACKOFF_MS", "50")],
    );
    create_repo(&server, "octo", "flaky");
    let hook_id = create_hook(&server, "octo/flaky", &receiver.url, "json")["id"].to_string();
    start_import(
        &server,
        "octo/flaky",
        &format!("{}/source.git", source.base),
    );
    server.wait_status("octo/flaky", "complete");

    let received = receiver.wait(&server, "three attempts", |r| r.len() >= 3);
    assert_eq!(
        received.iter().map(|r| r.answered).collect::<Vec<_>>(),
        vec![500, 502, 200]
    );
    // Retries are the same delivery.
    let guids: Vec<_> = received
        .iter()
        .map(|r| r.header("X-GitHub-Delivery").expect("guid"))
        .collect();
    assert!(guids.iter().all(|g| *g == guids[0]), "{guids:?}");
    for attempt in &received {
        assert_eq!(check_delivery(attempt, SECRET, "json")["status"], "success");
    }
    let log = wait_deliveries(&server, "octo/flaky", &hook_id, |l| {
        l[0]["state"] == "delivered"
    });
    let imports: Vec<_> = log
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["event"] == "repository_import")
        .collect();
    assert_eq!(imports.len(), 1, "{log}");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["status_code"], 200);
}

#[test]
fn a_pending_delivery_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let receiver = Receiver::start(&[], 503);
    let data = dir.path().join("data");
    let backoff = [("SRCIMPORT_WEBHOOK_BACKOFF_MS", "300")];
    let mut server = Server::start_with(&data, &backoff);
    create_repo(&server, "octo", "restarted");
    let hook_id = create_hook(&server, "octo/restarted", &receiver.url, "json")["id"].to_string();
    start_import(
        &server,
        "octo/restarted",
        &format!("{}/source.git", source.base),
    );
    server.wait_status("octo/restarted", "complete");
    receiver.wait(&server, "a first, failed attempt", |r| !r.is_empty());
    let pending = wait_deliveries(&server, "octo/restarted", &hook_id, |l| {
        l[0]["attempts"].as_i64() >= Some(1)
    });
    assert_eq!(pending[0]["state"], "pending", "{pending}");
    server.kill_hard();

    receiver.set_otherwise(200);
    let server = Server::start_with(&data, &backoff);
    let log = wait_deliveries(&server, "octo/restarted", &hook_id, |l| {
        l[0]["state"] == "delivered"
    });
    assert!(log[0]["attempts"].as_i64() >= Some(2), "{log}");
    let received = receiver.received();
    let last = received.last().expect("a delivery");
    assert_eq!(last.answered, 200);
    assert_eq!(
        last.header("X-GitHub-Delivery"),
        received[0].header("X-GitHub-Delivery")
    );
    assert_eq!(check_delivery(last, SECRET, "json")["status"], "success");
}

#[test]
fn a_cancelled_import_sends_cancelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let receiver = Receiver::start(&[], 200);
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_TEST_HOLD_STAGE", "importing")],
    );
    create_repo(&server, "octo", "cancelled");
    create_hook(&server, "octo/cancelled", &receiver.url, "json");
    start_import(
        &server,
        "octo/cancelled",
        &format!("{}/source.git", source.base),
    );
    server.wait_status("octo/cancelled", "importing");
    let (status, _) = server.request("DELETE", "/repos/octo/cancelled/import", Some(TOKEN), None);
    assert_eq!(status, 204);
    let received = receiver.wait(&server, "the cancelled delivery", |r| !r.is_empty());
    assert_eq!(
        check_delivery(&received[0], SECRET, "json")["status"],
        "cancelled"
    );
}

#[test]
fn a_failed_import_sends_failure_for_a_user_owned_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("src")).expect("empty source root");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let receiver = Receiver::start(&[], 200);
    let server = Server::start(&dir.path().join("data"));
    create_repo(&server, "admin", "broken");
    create_hook(&server, "admin/broken", &receiver.url, "json");
    start_import(
        &server,
        "admin/broken",
        &format!("{}/missing.git", source.base),
    );
    server.wait_status("admin/broken", "error");
    let received = receiver.wait(&server, "the failure delivery", |r| !r.is_empty());
    let payload = check_delivery(&received[0], SECRET, "json");
    assert_eq!(payload["status"], "failure");
    // "admin" is a token's login: a user, so no organization.
    assert!(payload.get("organization").is_none(), "{payload}");
    assert_eq!(payload["repository"]["owner"]["type"], "User");
}

#[test]
fn the_hooks_api_validates_lists_and_deletes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_DENY_PRIVATE_NETWORKS", "1")],
    );
    create_repo(&server, "octo", "api");
    let post = |body: Value| {
        server.request(
            "POST",
            "/repos/octo/api/hooks",
            Some(TOKEN),
            Some(&body.to_string()),
        )
    };
    for (body, field) in [
        (
            json!({"config": {"url": "http://169.254.169.254/latest"}}),
            "config.url",
        ),
        (
            json!({"config": {"url": "http://127.0.0.1:9/hook"}}),
            "config.url",
        ),
        (
            json!({"config": {"url": "ftp://example.com/hook"}}),
            "config.url",
        ),
        (json!({"config": {}}), "config.url"),
        (
            json!({"name": "email", "config": {"url": "http://93.184.215.14/"}}),
            "name",
        ),
        (
            json!({"events": [], "config": {"url": "http://93.184.215.14/"}}),
            "events",
        ),
        (
            json!({"config": {"url": "http://93.184.215.14/", "content_type": "xml"}}),
            "config.content_type",
        ),
        (json!({"active": true}), "config"),
    ] {
        let (status, answer) = post(body.clone());
        assert_eq!(status, 422, "{body} gave {answer}");
        assert_eq!(answer["message"], "Validation Failed");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    // The metadata address is refused whatever the private network setting.
    let (status, _) = server.request("POST", "/repos/octo/api/hooks", Some(TOKEN), Some("{"));
    assert_eq!(status, 400);
    let (status, _) = server.request("GET", "/repos/octo/api/hooks", None, None);
    assert_eq!(status, 401);

    // 93.184.215.14 is public: accepted without resolving anything.
    let (status, hook) =
        post(json!({"config": {"url": "http://93.184.215.14/hook", "secret": "hush"}}));
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["events"], json!(["push"]));
    assert_eq!(hook["config"]["content_type"], "form");
    assert_eq!(hook["config"]["secret"], "********");
    assert_eq!(hook["active"], true);
    assert_eq!(hook["last_response"]["status"], "unused");
    let id = hook["id"].to_string();
    let (_, listed) = server.get("/repos/octo/api/hooks");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(!listed.to_string().contains("hush"));
    let (status, _) = server.request(
        "DELETE",
        &format!("/repos/octo/api/hooks/{id}"),
        Some(TOKEN),
        None,
    );
    assert_eq!(status, 204);
    let (status, _) = server.get(&format!("/repos/octo/api/hooks/{id}"));
    assert_eq!(status, 404);
    let (status, _) = server.get("/repos/octo/api/hooks/nope");
    assert_eq!(status, 404);
    let (_, listed) = server.get("/repos/octo/api/hooks");
    assert_eq!(listed, json!([]));
}

/// A `ping`'s body, checked against its `X-Hub-Signature-256` under `secret`.
fn signed_ping(received: &Received, secret: &str) -> Value {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(&received.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        received.header("X-Hub-Signature-256"),
        Some(format!("sha256={expected}").as_str())
    );
    assert_eq!(received.header("X-GitHub-Event"), Some("ping"));
    let body = String::from_utf8_lossy(&received.body).into_owned();
    let json = match body.strip_prefix("payload=") {
        Some(form) => form_decode(form),
        None => body,
    };
    serde_json::from_str(&json).expect("ping JSON")
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex digit"));
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn hooks_are_pinged_edited_and_redelivered() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let first = Receiver::start(&[], 200);
    let second = Receiver::start(&[], 200);
    let server = Server::start(&dir.path().join("data"));
    create_repo(&server, "octo", "edited");
    let hook = create_hook(&server, "octo/edited", &first.url, "json");
    let hook_id = hook["id"].to_string();
    let base = format!("/repos/octo/edited/hooks/{hook_id}");

    // GitHub pings a new hook, whatever events it wants.
    let pings = first.wait_pings(&server, "the creation ping", |p| !p.is_empty());
    let ping = signed_ping(&pings[0], SECRET);
    assert_eq!(ping["hook_id"], hook["id"]);
    assert_eq!(ping["hook"]["config"]["url"], first.url.as_str());
    assert_eq!(ping["repository"]["full_name"], "octo/edited");
    assert_eq!(ping["sender"]["login"], "admin");
    assert!(ping["zen"].as_str().is_some_and(|z| !z.is_empty()));

    // Bad edits are refused and change nothing.
    let patch = |path: &str, body: Value| {
        server.request("PATCH", path, Some(TOKEN), Some(&body.to_string()))
    };
    for body in [
        json!({"config": {"content_type": "xml"}}),
        json!({"events": []}),
        json!({"remove_events": ["repository_import"]}),
        json!({"config": {"url": "ftp://example.com/"}}),
        json!({"active": "yes"}),
    ] {
        let (status, answer) = patch(&base, body.clone());
        assert_eq!(status, 422, "{body} gave {answer}");
    }
    let (status, _) = patch("/repos/octo/edited/hooks/999", json!({"active": false}));
    assert_eq!(status, 404);
    let (status, _) = server.request("PATCH", &base, Some(TOKEN), Some("{"));
    assert_eq!(status, 400);

    // An edit keeps what it leaves out: the URL stays, the secret changes.
    let (status, edited) = patch(
        &base,
        json!({"add_events": ["push"], "config": {"content_type": "form", "secret": "new secret"}}),
    );
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["events"], json!(["repository_import", "push"]));
    assert_eq!(edited["config"]["url"], first.url.as_str());
    assert_eq!(edited["config"]["content_type"], "form");
    assert_eq!(edited["config"]["secret"], "********");
    // The config endpoints: the URL moves to the second receiver.
    let (status, config) = patch(
        &format!("{base}/config"),
        json!({"url": second.url.as_str()}),
    );
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["url"], second.url.as_str());
    assert_eq!(config["content_type"], "form");
    let (_, shown) = server.get(&format!("{base}/config"));
    assert_eq!(shown, config);
    assert!(!shown.to_string().contains("new secret"));

    // A ping on request goes to the hook as it is now: second receiver, form, new secret.
    let (status, _) = server.request("POST", &format!("{base}/pings"), Some(TOKEN), None);
    assert_eq!(status, 204);
    let pings = second.wait_pings(&server, "the requested ping", |p| !p.is_empty());
    assert_eq!(
        pings[0].header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        signed_ping(&pings[0], "new secret")["hook"]["events"],
        json!(["repository_import", "push"])
    );
    let (status, _) = server.request(
        "POST",
        "/repos/octo/edited/hooks/999/pings",
        Some(TOKEN),
        None,
    );
    assert_eq!(status, 404);

    // An import's delivery can be read in full, then delivered again under its GUID.
    start_import(
        &server,
        "octo/edited",
        &format!("{}/source.git", source.base),
    );
    server.wait_status("octo/edited", "complete");
    let received = second.wait(&server, "the import delivery", |r| !r.is_empty());
    assert_eq!(
        check_delivery(&received[0], "new secret", "form")["status"],
        "success"
    );
    let log = wait_deliveries(&server, "octo/edited", &hook_id, |l| {
        l[0]["event"] == "repository_import" && l[0]["state"] == "delivered"
    });
    let delivery_id = log[0]["id"].to_string();
    let (status, detail) = server.get(&format!("{base}/deliveries/{delivery_id}"));
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["guid"], log[0]["guid"]);
    assert_eq!(detail["request"]["payload"]["status"], "success");
    assert_eq!(
        detail["request"]["headers"]["X-GitHub-Event"],
        "repository_import"
    );
    assert_eq!(detail["redelivery"], false);
    let (status, _) = server.get(&format!("{base}/deliveries/424242"));
    assert_eq!(status, 404);
    let (status, _) = server.request(
        "POST",
        &format!("{base}/deliveries/{delivery_id}/attempts"),
        Some(TOKEN),
        None,
    );
    assert_eq!(status, 202);
    let received = second.wait(&server, "the redelivery", |r| r.len() >= 2);
    assert_eq!(
        received[1].header("X-GitHub-Delivery"),
        received[0].header("X-GitHub-Delivery")
    );
    assert_eq!(
        check_delivery(&received[1], "new secret", "form")["status"],
        "success"
    );
    let log = wait_deliveries(&server, "octo/edited", &hook_id, |l| {
        l[0]["redelivery"] == true && l[0]["state"] == "delivered"
    });
    assert_eq!(log[0]["guid"], log[1]["guid"]);
    assert!(!server.log().contains("new secret"));
}

#[test]
fn insecure_ssl_decides_whether_a_self_signed_receiver_is_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/https_receiver.py"
    );
    let mut receiver = Command::new(python())
        .arg(script)
        .arg(&cert)
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .expect("receiver starts");
    let mut lines = BufReader::new(receiver.stdout.take().expect("stdout")).lines();
    let port = lines.next().expect("a port").expect("read");
    let (sender, events) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let url = format!("https://127.0.0.1:{}/hook", port.trim());
    let server = Server::start(&dir.path().join("data"));
    create_repo(&server, "octo", "tls");
    let hook = |insecure: &str| {
        let body = json!({"events": ["repository_import"],
            "config": {"url": url, "content_type": "json", "insecure_ssl": insecure}});
        let (status, hook) = server.request(
            "POST",
            "/repos/octo/tls/hooks",
            Some(TOKEN),
            Some(&body.to_string()),
        );
        assert_eq!(status, 201, "{hook}");
        hook["id"].to_string()
    };
    // Verified: the self-signed certificate is refused, and nothing arrives.
    let strict = hook("0");
    let log = wait_deliveries(&server, "octo/tls", &strict, |l| l[0]["attempts"] == 1);
    assert_ne!(log[0]["state"], "delivered", "{log}");
    assert!(
        log[0]["status"]
            .as_str()
            .is_some_and(|s| s.to_lowercase().contains("certificate")),
        "{log}"
    );
    // insecure_ssl "1": GitHub's way to trust it anyway.
    let lenient = hook("1");
    let log = wait_deliveries(&server, "octo/tls", &lenient, |l| {
        l[0]["state"] == "delivered"
    });
    assert_eq!(log[0]["status_code"], 200, "{log}");
    let event = events
        .recv_timeout(Duration::from_secs(60))
        .expect("the receiver got the ping");
    assert_eq!(event, "ping");
    let _ = receiver.kill();
    let _ = receiver.wait();
}
