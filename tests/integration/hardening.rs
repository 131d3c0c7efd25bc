//! Hostile sources and clients: deep tag chains, odd identities, hidden history over
//! protocol v2, tokens in URLs, extra fields from go-github.

use std::process::Command;

use serde_json::json;

use crate::support::{fixture_with, git, try_clone, GitSource, Server, TOKEN};

#[test]
fn a_deep_tag_chain_fails_the_import_without_taking_the_server_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with("git/hostile.sh", &dir.path().join("src"), &["1100"]);
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));
    let body = json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}).to_string();
    assert_eq!(
        server
            .request("PUT", "/repos/octo/deep/import", Some(TOKEN), Some(&body))
            .0,
        201
    );
    let failed = server.wait_status("octo/deep", "error");
    assert!(
        failed["error_message"]
            .as_str()
            .expect("message")
            .contains("nested more than"),
        "{failed}"
    );
    // Still serving.
    assert_eq!(server.get("/repos/octo/deep").0, 200);
}

#[test]
fn unmapped_identities_and_hidden_history_stay_as_they_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with("git/hostile.sh", &dir.path().join("src"), &["3"]);
    let source_git = dir.path().join("src/source.git");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/odd";
    server.put_import(
        repo,
        &json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}),
    );
    server.wait_status(repo, "complete");
    let url = server.authed_git_url(repo);
    let clone = dir.path().join("odd.git");
    assert!(try_clone(&url, &clone));
    // Nothing was mapped, so nothing was rewritten: ids and bytes are the source's.
    assert_eq!(
        git(&clone, &["rev-parse", "main"]),
        git(&source_git, &["rev-parse", "main"])
    );
    assert_eq!(
        git(&clone, &["rev-parse", "deep"]),
        git(&source_git, &["rev-parse", "deep"])
    );

    // go-github sends the whole author object back; extra fields are ignored.
    let (_, authors) = server.get(&format!("/repos/{repo}/import/authors"));
    let mut author = authors
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["remote_name"] == "B")
        .expect("B")
        .clone();
    let id = author["id"].clone();
    author["name"] = json!("Bea");
    author["email"] = json!("bea@example.com");
    let (status, mapped) = server.request(
        "PATCH",
        &format!("/repos/{repo}/import/authors/{id}"),
        Some(TOKEN),
        Some(&author.to_string()),
    );
    assert_eq!(status, 200, "{mapped}");
    server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    let fresh = dir.path().join("odd-mapped.git");
    assert!(try_clone(&url, &fresh));
    let raw = git(&fresh, &["cat-file", "-p", "main"]);
    assert!(
        raw.contains("author Bea <bea@example.com> 1600000000 +0000"),
        "{raw}"
    );
    assert!(
        raw.contains("committer <c@x> 1600000000 +0000"),
        "unmapped committer kept byte for byte: {raw}"
    );

    // The unmapped source commit is still in the repository (hidden work refs), but no
    // protocol lets a client fetch it by id.
    let hidden = git(&source_git, &["rev-parse", "main"]).trim().to_owned();
    for version in ["0", "2"] {
        let probe = dir.path().join(format!("probe-v{version}"));
        git(&probe, &["init", "--quiet", "--bare"]);
        let fetched = Command::new("git")
            .arg("--git-dir")
            .arg(&probe)
            .args([
                "-c",
                &format!("protocol.version={version}"),
                "fetch",
                "--quiet",
                &url,
                &hidden,
            ])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .expect("git fetch runs");
        assert!(
            !fetched.status.success(),
            "protocol v{version} served a hidden object"
        );
    }
}

#[test]
fn tokens_in_source_urls_are_refused_and_never_echoed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"));
    for url in [
        "https://ghp_SECRETTOKEN@127.0.0.1:1/x.git",
        "http://ghp_SECRETTOKEN:x-oauth-basic@127.0.0.1/x.git",
    ] {
        let body = json!({"vcs": "git", "vcs_url": url}).to_string();
        let (status, error) =
            server.request("PUT", "/repos/octo/leak/import", Some(TOKEN), Some(&body));
        assert_eq!(status, 422, "{error}");
        assert!(!error.to_string().contains("SECRETTOKEN"), "{error}");
    }
    assert!(!server.log().contains("SECRETTOKEN"));
}
