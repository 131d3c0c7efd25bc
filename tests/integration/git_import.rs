//! Git sources end to end: detection, import, author remap, credentials, restart, cancel.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{descendants, fixture, git, refs, try_clone, GitSource, Server, TOKEN};

fn source_fixture(root: &Path) {
    fixture("git/basic.sh", root);
}

#[test]
fn imports_every_branch_and_tag_and_serves_a_clone() {
    let dir = tempfile::tempdir().expect("tempdir");
    source_fixture(&dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));

    // No `vcs`: detection finds git.
    let body = json!({"vcs_url": format!("{}/source.git", source.base)}).to_string();
    let (status, created) =
        server.request("PUT", "/repos/octo/demo/import", Some(TOKEN), Some(&body));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "detecting");
    assert_eq!(created["url"], server.url("/repos/octo/demo/import"));
    assert_eq!(created["use_lfs"], "undecided");

    let done = server.wait_status("octo/demo", "complete");
    assert_eq!(done["vcs"], "git");
    assert_eq!(done["commit_count"], 7);
    assert_eq!(done["authors_count"], 5);
    assert_eq!(done["import_percent"], 100);
    assert_eq!(done["push_percent"], 100);

    let (_, repo) = server.get("/repos/octo/demo");
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(repo["private"], true);
    assert_eq!(repo["clone_url"], server.url("/octo/demo.git"));

    // Same refs and ids as the source: nothing was mapped.
    let authed = server
        .url("/octo/demo.git")
        .replace("http://", &format!("http://x:{TOKEN}@"));
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&authed, &clone));
    assert_eq!(refs(&clone), refs(&dir.path().join("src/source.git")));
    assert!(
        !git(&clone, &["for-each-ref"]).contains("refs/srcimport"),
        "work refs leaked to clients"
    );

    // Private: an anonymous clone is refused.
    assert!(!try_clone(
        &server.url("/octo/demo.git"),
        &dir.path().join("anon.git")
    ));

    let (_, authors) = server.get("/repos/octo/demo/import/authors");
    let ids: Vec<i64> = authors
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), 5);
    let (_, later) = server.get(&format!("/repos/octo/demo/import/authors?since={}", ids[1]));
    assert_eq!(later.as_array().expect("list").len(), 3);
    let alice = &authors[0];
    assert_eq!(alice["remote_id"], "Alice Liddell <alice@example.com>");
    assert_eq!(alice["remote_name"], "Alice Liddell");
    assert_eq!(
        alice["url"],
        server.url(&format!("/repos/octo/demo/import/authors/{}", ids[0]))
    );
}

/// Imports the fixture into `repo`, maps Alice, and returns the hosted clone's refs.
fn import_and_map(server: &Server, source: &GitSource, repo: &str, clone: &Path) -> String {
    let body = json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}).to_string();
    let (status, _) = server.request(
        "PUT",
        &format!("/repos/{repo}/import"),
        Some(TOKEN),
        Some(&body),
    );
    assert_eq!(status, 201);
    server.wait_status(repo, "complete");
    let mapped = server.map_author(
        repo,
        "Alice Liddell",
        "Alice Pleasance",
        "alice@wonderland.example",
    );
    assert_eq!(mapped["name"], "Alice Pleasance");
    assert_eq!(mapped["remote_id"], "Alice Liddell <alice@example.com>");
    let done = server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    assert_eq!(done["commit_count"], 7);
    let url = server.authed_git_url(repo);
    assert!(try_clone(&url, clone));
    refs(clone)
}

#[test]
fn author_remap_rewrites_history_deterministically() {
    let dir = tempfile::tempdir().expect("tempdir");
    source_fixture(&dir.path().join("src"));
    let source_git = dir.path().join("src/source.git");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));

    let first = import_and_map(&server, &source, "octo/one", &dir.path().join("one.git"));
    let second = import_and_map(&server, &source, "octo/two", &dir.path().join("two.git"));
    assert_eq!(first, second, "same input and map must give the same ids");
    assert_ne!(
        first,
        refs(&source_git),
        "Alice's commits must have new ids"
    );

    let clone = dir.path().join("one.git");
    let log = |repo: &Path| {
        git(
            repo,
            &[
                "log",
                "--all",
                "--topo-order",
                "--format=%T|%P|%an <%ae>|%cn <%ce>|%ad|%cd|%B",
            ],
        )
    };
    let mapped_log = log(&clone);
    let source_log = log(&source_git);
    assert!(!mapped_log.contains("alice@example.com"));
    assert_eq!(
        mapped_log
            .matches("Alice Pleasance <alice@wonderland.example>")
            .count(),
        4,
        "author and committer of two commits"
    );
    // Trees, dates and messages are untouched; only identities (and so parents) change.
    let strip = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                l.split('|')
                    .enumerate()
                    .filter(|(i, _)| *i != 1 && *i != 2 && *i != 3)
                    .map(|(_, f)| f)
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    };
    assert_eq!(strip(&mapped_log), strip(&source_log));
    // The merge is still a merge and the annotated tag is still annotated, on the new commit.
    assert_eq!(
        git(&clone, &["rev-list", "--merges", "--count", "main"]).trim(),
        "1"
    );
    assert_eq!(git(&clone, &["cat-file", "-t", "v1.0"]).trim(), "tag");
    assert_eq!(
        git(&clone, &["rev-parse", "v1.0^{commit}"]),
        git(&clone, &["rev-parse", "main~1"])
    );
    let fsck = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&clone)
        .args(["fsck", "--strict", "--no-dangling"])
        .output()
        .expect("fsck runs");
    assert!(
        fsck.status.success(),
        "fsck: {}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

#[test]
fn private_source_needs_credentials_and_never_echoes_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    source_fixture(&dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), Some(("reader", "s3cret-pass")));
    let server = Server::start(&dir.path().join("data"));
    let url = format!("{}/source.git", source.base);

    // Detection without credentials.
    let (status, _) = server.request(
        "PUT",
        "/repos/octo/detect/import",
        Some(TOKEN),
        Some(&json!({"vcs_url": url}).to_string()),
    );
    assert_eq!(status, 201);
    let body = server.wait_status("octo/detect", "detection_needs_auth");
    assert_eq!(body["failed_step"], "detecting");

    // Known VCS, no credentials: auth_failed at importing.
    let (status, _) = server.request(
        "PUT",
        "/repos/octo/priv/import",
        Some(TOKEN),
        Some(&json!({"vcs_url": url, "vcs": "git"}).to_string()),
    );
    assert_eq!(status, 201);
    let body = server.wait_status("octo/priv", "auth_failed");
    assert_eq!(body["failed_step"], "importing");
    assert!(body["error_message"]
        .as_str()
        .expect("message")
        .contains("vcs_username"));

    // Wrong credentials, then the right ones.
    let wrong = json!({"vcs_username": "reader", "vcs_password": "wrong-pass"}).to_string();
    let (status, body) = server.request(
        "PATCH",
        "/repos/octo/priv/import",
        Some(TOKEN),
        Some(&wrong),
    );
    assert_eq!(status, 200, "{body}");
    let body = server.wait_status("octo/priv", "auth_failed");
    assert!(!body.to_string().contains("wrong-pass"));
    let right = json!({"vcs_username": "reader", "vcs_password": "s3cret-pass"}).to_string();
    let (status, body) = server.request(
        "PATCH",
        "/repos/octo/priv/import",
        Some(TOKEN),
        Some(&right),
    );
    assert_eq!(status, 200);
    assert!(!body.to_string().contains("s3cret-pass"));
    let body = server.wait_status("octo/priv", "complete");
    assert_eq!(body["commit_count"], 7);

    // Detection resumes with credentials too.
    let (status, _) = server.request(
        "PATCH",
        "/repos/octo/detect/import",
        Some(TOKEN),
        Some(&right),
    );
    assert_eq!(status, 200);
    let body = server.wait_status("octo/detect", "complete");
    assert_eq!(body["vcs"], "git");

    // Credentials are gone from the store once the source has been read.
    let db = rusqlite::Connection::open(server.data.join("srcimport.sqlite")).expect("db");
    let stored: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM imports WHERE source_password IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(stored, 0);
}

#[test]
fn nothing_at_the_url_is_detection_found_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"));
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let body = json!({"vcs_url": format!("http://127.0.0.1:{port}/nothing")}).to_string();
    let (status, _) = server.request("PUT", "/repos/octo/void/import", Some(TOKEN), Some(&body));
    assert_eq!(status, 201);
    let body = server.wait_status("octo/void", "detection_found_nothing");
    assert_eq!(body["failed_step"], "detecting");
}

/// A source that accepts connections and never answers: the import stays busy in a real
/// `git` child process until it is cancelled.
fn hanging_source() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/stuck.git", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(16).flatten() {
            held.push(stream);
        }
    });
    (url, handle)
}

#[test]
fn one_import_per_repository_restart_and_prompt_cancel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"));
    let (url, _holder) = hanging_source();
    let body = json!({"vcs": "git", "vcs_url": url}).to_string();

    // Concurrent PUTs on one repository: exactly one wins.
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    server
                        .request("PUT", "/repos/octo/busy/import", Some(TOKEN), Some(&body))
                        .0
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 422),
        "{statuses:?}"
    );
    let (status, again) =
        server.request("PUT", "/repos/octo/busy/import", Some(TOKEN), Some(&body));
    assert_eq!(status, 422);
    assert_eq!(again["message"], "Validation Failed");

    // A git process is really running for it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while descendants(server.pid()).is_empty() {
        assert!(Instant::now() < deadline, "no git child appeared");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Bodyless PATCHes restart, whatever the content type.
    for content_type in [
        Some("text/plain;charset=UTF-8"),
        None,
        Some("application/json"),
    ] {
        let mut request = ureq::patch(&server.url("/repos/octo/busy/import"))
            .set("Authorization", &format!("token {TOKEN}"));
        if let Some(ct) = content_type {
            request = request.set("Content-Type", ct);
        }
        let response = if content_type == Some("application/json") {
            request.send_string("{}")
        } else {
            request.send_bytes(&[])
        };
        let response = response.expect("restart accepted");
        assert_eq!(response.status(), 200);
        let value: serde_json::Value = response.into_json().expect("json");
        assert_eq!(value["status"], "importing");
        assert_eq!(value["commit_count"], serde_json::Value::Null);
    }

    // DELETE cancels promptly, leaves no process, and the import is gone.
    let started = Instant::now();
    let response = ureq::delete(&server.url("/repos/octo/busy/import"))
        .set("Authorization", &format!("token {TOKEN}"))
        .call()
        .expect("delete");
    assert_eq!(response.status(), 204);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cancel took {:?}",
        started.elapsed()
    );
    assert_eq!(
        descendants(server.pid()),
        Vec::<u32>::new(),
        "orphan processes after cancel"
    );
    let (status, body) = server.get("/repos/octo/busy/import");
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Not Found");
    let stray: Vec<_> = walk(&server.data)
        .into_iter()
        .filter(|p| {
            p.strip_prefix(&server.data)
                .is_ok_and(|rel| rel.to_string_lossy().contains("tmp"))
        })
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn imports_over_git_protocol_and_from_allowed_local_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    source_fixture(&dir.path().join("src"));
    let source_git = dir.path().join("src/source.git");
    let daemon = crate::support::GitDaemon::serve(&dir.path().join("src"));
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_ALLOW_LOCAL_SOURCES", "1")],
    );
    for (repo, url) in [
        ("octo/daemon", format!("{}/source.git", daemon.base)),
        ("octo/local", source_git.display().to_string()),
        ("octo/fileurl", format!("file://{}", source_git.display())),
    ] {
        let body = json!({"vcs_url": url}).to_string();
        let (status, created) = server.request(
            "PUT",
            &format!("/repos/{repo}/import"),
            Some(TOKEN),
            Some(&body),
        );
        assert_eq!(status, 201, "{url}: {created}");
        let done = server.wait_status(repo, "complete");
        assert_eq!(done["vcs"], "git", "{url}");
        let clone = dir.path().join(format!("{}.git", repo.replace('/', "-")));
        let authed = server.authed_git_url(repo);
        assert!(try_clone(&authed, &clone));
        assert_eq!(refs(&clone), refs(&source_git), "{url}");
    }
}
