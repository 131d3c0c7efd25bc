//! Every malformed or unauthorised request gets a GitHub-shaped 4xx, never a 500.

use serde_json::Value;

use crate::support::{Server, LIMITED_TOKEN, TOKEN};

fn assert_github_error(status: u16, body: &Value, wanted: u16) {
    assert_eq!(status, wanted, "{body}");
    assert!(body["message"].is_string(), "no message: {body}");
    assert!(
        body["documentation_url"].is_string(),
        "no documentation_url: {body}"
    );
}

fn assert_validation(status: u16, body: &Value, field: &str, code: &str) {
    assert_github_error(status, body, 422);
    assert_eq!(body["message"], "Validation Failed");
    assert_eq!(body["errors"][0]["field"], field, "{body}");
    assert_eq!(body["errors"][0]["code"], code, "{body}");
}

#[test]
fn malformed_requests_get_github_shaped_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path());
    let put =
        |body: &str| server.request("PUT", "/repos/octo/errs/import", Some(TOKEN), Some(body));

    let (status, body) = put("{not json");
    assert_github_error(status, &body, 400);
    assert_eq!(body["message"], "Problems parsing JSON");
    let (status, body) = put("[1, 2]");
    assert_github_error(status, &body, 400);
    let (status, body) = put(r#"{"vcs": "git"}"#);
    assert_validation(status, &body, "vcs_url", "missing_field");
    let (status, body) = put(r#"{"vcs_url": "https://example.com/r.git", "vcs": "cvs"}"#);
    assert_validation(status, &body, "vcs", "invalid");
    let (status, body) = put(r#"{"vcs_url": 42}"#);
    assert_validation(status, &body, "vcs_url", "invalid");
    let (status, body) = put(r#"{"vcs_url": "https://example.com/r.git", "use_lfs": true}"#);
    assert_validation(status, &body, "use_lfs", "invalid");
    let (status, body) = put(r#"{"vcs_url": "https://example.com/r.git", "use_lfs": "sometimes"}"#);
    assert_validation(status, &body, "use_lfs", "invalid");

    // Hostile URLs are refused before anything is contacted.
    for url in [
        "ext::sh -c touch% /tmp/owned",
        "http://169.254.169.254/latest/meta-data/",
        "/etc",
        "file:///etc",
        "https://user:secret@example.com/r.git",
        "--upload-pack=touch /tmp/owned",
    ] {
        let (status, body) = put(&serde_json::json!({"vcs_url": url}).to_string());
        assert_validation(status, &body, "vcs_url", "invalid");
        assert!(
            !body.to_string().contains("secret"),
            "credentials echoed: {body}"
        );
    }

    // A huge body is refused with 413.
    let huge = format!(r#"{{"vcs_url": "{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let (status, body) = put(&huge);
    assert_github_error(status, &body, 413);

    // Nothing was created by any of the above.
    let (status, _) = server.get("/repos/octo/errs/import");
    assert_eq!(status, 404);
}

#[test]
fn auth_failures_and_unknown_things() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path());
    for token in [None, Some("wrong-token")] {
        let (status, body) = server.request("GET", "/repos/octo/x/import", token, None);
        assert_github_error(status, &body, 401);
        assert_eq!(body["message"], "Bad credentials");
    }
    // Both header forms are accepted.
    let response = ureq::get(&server.url("/repos/octo/none"))
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .call();
    assert!(matches!(response, Err(ureq::Error::Status(404, _))));

    // A token with no right on the owner sees nothing.
    let (status, body) = server.request(
        "PUT",
        "/repos/octo/x/import",
        Some(LIMITED_TOKEN),
        Some(r#"{"vcs_url":"https://example.com/r.git"}"#),
    );
    assert_github_error(status, &body, 404);
    let (status, body) = server.request(
        "POST",
        "/orgs/octo/repos",
        Some(LIMITED_TOKEN),
        Some(r#"{"name":"x"}"#),
    );
    assert_github_error(status, &body, 404);
    // ...but may create repositories of its own.
    let (status, body) = server.request(
        "POST",
        "/user/repos",
        Some(LIMITED_TOKEN),
        Some(r#"{"name":"mine","private":true}"#),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["full_name"], "limited/mine");
    assert_eq!(body["private"], true);
    let (status, body) = server.request(
        "POST",
        "/user/repos",
        Some(LIMITED_TOKEN),
        Some(r#"{"name":"mine"}"#),
    );
    assert_validation(status, &body, "name", "custom");

    // Path traversal and invalid names are plain 404s.
    for path in [
        "/repos/octo/..%2F..%2Fetc/import",
        "/repos/..%2F/x/import",
        "/repos/octo/x.git/import",
        "/repos/-bad/x/import",
    ] {
        let (status, body) = server.get(path);
        assert_github_error(status, &body, 404);
    }

    // Unknown author ids and imports.
    let (status, _) = server.get("/repos/octo/x/import/authors");
    assert_eq!(status, 404);
    let (status, body) = server.request(
        "PATCH",
        "/repos/octo/x/import/authors/99",
        Some(TOKEN),
        Some(r#"{"name":"n"}"#),
    );
    assert_github_error(status, &body, 404);
    let (status, body) = server.request(
        "PATCH",
        "/repos/octo/x/import/authors/abc",
        Some(TOKEN),
        Some(r#"{"name":"n"}"#),
    );
    assert_github_error(status, &body, 404);
    let (status, body) = server.request(
        "PATCH",
        "/repos/octo/x/import/lfs",
        Some(TOKEN),
        Some(r#"{"use_lfs":"maybe"}"#),
    );
    assert_validation(status, &body, "use_lfs", "invalid");
    let (status, _) = server.request("GET", "/no/such/route/here/at/all", Some(TOKEN), None);
    assert_eq!(status, 404);
}

#[test]
fn first_start_generates_a_token_once_and_it_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let start = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_srcimport"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(&data)
            .env("SRCIMPORT_LOG", "warn")
            .env_remove("SRCIMPORT_TOKEN")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("server starts");
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(
            child.stdout.take().expect("stdout"),
        ));
        let mut printed = Vec::new();
        let base = loop {
            let line = lines.next().expect("a line").expect("text");
            if let Some(addr) = line.split("listening on ").nth(1) {
                break addr.trim().to_owned();
            }
            printed.push(line);
        };
        (child, base, printed)
    };
    let (mut first, base, printed) = start();
    let token = printed
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("sit_"))
        .expect("a generated token is printed")
        .to_owned();
    let tokens_file = std::fs::read_to_string(data.join("tokens")).expect("tokens file");
    assert!(tokens_file.contains(&token));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("tokens"))
            .expect("meta")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let response = ureq::get(&format!("{base}/repos/admin/none"))
        .set("Authorization", &format!("token {token}"))
        .call();
    assert!(
        matches!(response, Err(ureq::Error::Status(404, _))),
        "the token is accepted (404, not 401)"
    );
    let _ = first.kill();
    let _ = first.wait();

    let (mut second, _, printed) = start();
    assert!(
        printed.iter().all(|l| !l.contains(&token)),
        "printed only once: {printed:?}"
    );
    let _ = second.kill();
    let _ = second.wait();
}
