//! TFVC sources through the API and the CLI, against the fixture TFVC server (the
//! project's one stand-in): a multi-branch import checked by cloning, project choices in
//! a multi-project collection, auth failure then credentials, throttling, and parallel
//! downloads.

use std::process::Command;

use serde_json::{json, Value};

#[path = "../../converters/tests/common/tfvc_fixture.rs"]
pub(crate) mod tfvc_fixture;

use crate::support::{git, try_clone, Server, TOKEN};
use tfvc_fixture::{git_files, history, Fixture};

fn patch(server: &Server, repo: &str, body: &Value) {
    let (status, answer) = server.request(
        "PATCH",
        &format!("/repos/{repo}/import"),
        Some(TOKEN),
        Some(&body.to_string()),
    );
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn multi_branch_collection_imports_branches_tags_notes_and_authors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Fixture::start(&history("multi-branch"), &["--latency-ms", "10"]);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/from-tfvc";
    server.put_import(repo, &json!({"vcs_url": fixture.collection}));
    let done = server.wait_status(repo, "complete");
    assert_eq!(done["vcs"], "tfvc", "detected: {done}");
    assert_eq!(done["commit_count"], 10, "{done}");

    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    let refs = git(
        &clone,
        &["for-each-ref", "--format=%(refname) %(objecttype)"],
    );
    for wanted in [
        "refs/heads/main commit",
        "refs/heads/Dev commit",
        "refs/tags/v1.0 tag",
        "refs/tags/hotfix-1 tag",
    ] {
        assert!(refs.contains(wanted), "{wanted} missing from\n{refs}");
    }
    // The branches hold what the server holds at the end.
    assert_eq!(
        git_files(&clone, "main"),
        fixture.files_at("Contoso", "$/Contoso/Main", 10, None)
    );
    assert_eq!(
        git_files(&clone, "Dev"),
        fixture.files_at("Contoso", "$/Contoso/Dev", 10, None)
    );
    // The whole-branch merge of changeset 8 is a merge commit.
    let merges = git(&clone, &["rev-list", "--merges", "main"]);
    assert_eq!(merges.lines().count(), 1, "{merges}");
    let remote = git(&clone, &["ls-remote", &server.authed_git_url(repo)]);
    assert!(remote.contains("refs/notes/tfvc"), "{remote}");
    // Authors: uniqueName as remote_id, placeholders as the identity.
    let (_, authors) = server.get(&format!("/repos/{repo}/import/authors"));
    let authors = authors.as_array().expect("authors").clone();
    let alice = authors
        .iter()
        .find(|a| a["remote_id"] == "CONTOSO\\alice")
        .unwrap_or_else(|| panic!("alice in {authors:?}"));
    assert_eq!(alice["email"], "alice@CONTOSO");
    assert_eq!(alice["remote_name"], "Alice Smith");
    // The cherry-pick is in the conversion report.
    let (_, report) = server.get(&format!("/repos/{repo}/import/report"));
    let text = report.to_string();
    assert!(text.contains("partial_merge"), "{text}");
    // Downloads overlapped (8 at a time by default).
    let stats = fixture.stats();
    assert!(
        stats["max_concurrent_downloads"].as_u64().unwrap_or(0) > 1,
        "{stats}"
    );
}

#[test]
fn several_projects_offer_choices_and_a_patch_picks_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Fixture::start(&history("multi-project"), &[]);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/multi-tfvc";
    server.put_import(repo, &json!({"vcs_url": fixture.collection}));
    let offered = server.wait_status(repo, "detection_found_multiple");
    let choices = offered["project_choices"]
        .as_array()
        .expect("choices")
        .clone();
    assert_eq!(
        choices,
        vec![
            json!({"vcs": "tfvc", "tfvc_project": "Alpha", "human_name": "Alpha"}),
            json!({"vcs": "tfvc", "tfvc_project": "Beta", "human_name": "Beta"}),
        ],
        "the Git-only project is not offered"
    );
    patch(&server, repo, &json!({"tfvc_project": "Beta"}));
    let done = server.wait_status(repo, "complete");
    assert_eq!(done["tfvc_project"], "Beta", "{done}");
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    let notes = git(&clone, &["log", "--notes=tfvc", "--format=%N", "--all"]);
    assert!(notes.contains("tfvc-path: $/Beta/Trunk"), "{notes}");
    assert!(
        !notes.contains("$/Alpha"),
        "only the chosen project: {notes}"
    );
    assert!(git(&clone, &["for-each-ref", "refs/tags"]).contains("beta-1"));
}

#[test]
fn auth_failure_then_credentials_completes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Fixture::start(&history("multi-branch"), &["--basic", "alice:s3cret"]);
    let server = Server::start(&dir.path().join("data"));
    // Detected: the probe meets a 401 first.
    let repo = "octo/tfvc-auth";
    server.put_import(repo, &json!({"vcs_url": fixture.collection}));
    let failed = server.wait_status(repo, "detection_needs_auth");
    assert!(!failed.to_string().contains("s3cret"));
    patch(
        &server,
        repo,
        &json!({"vcs_username": "alice", "vcs_password": "s3cret"}),
    );
    server.wait_status(repo, "complete");
    // Told it is TFVC: the importing stage meets the 401.
    let repo = "octo/tfvc-auth-2";
    server.put_import(
        repo,
        &json!({"vcs_url": fixture.collection, "vcs": "tfvc", "vcs_username": "alice", "vcs_password": "wrong"}),
    );
    let failed = server.wait_status(repo, "auth_failed");
    assert!(!failed.to_string().contains("wrong"), "{failed}");
    patch(
        &server,
        repo,
        &json!({"vcs_username": "alice", "vcs_password": "s3cret"}),
    );
    server.wait_status(repo, "complete");
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    assert!(git(&clone, &["for-each-ref"]).contains("refs/heads/Dev"));
    assert!(fixture.stats()["unauthorized"].as_u64().unwrap_or(0) >= 2);
}

#[test]
fn throttled_server_is_waited_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut history = history("multi-branch");
    history["faults"] = json!([
        {"endpoint": "download", "status": 429, "times": 3, "retry_after": 1},
        {"endpoint": "changes", "status": 503, "times": 2},
    ]);
    let fixture = Fixture::start(&history, &[]);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/tfvc-throttled";
    server.put_import(repo, &json!({"vcs_url": fixture.collection, "vcs": "tfvc"}));
    server.wait_status(repo, "complete");
    let stats = fixture.stats();
    assert_eq!(stats["faults_injected"]["download"], 3, "{stats}");
    assert_eq!(stats["faults_injected"]["changes"], 2, "{stats}");
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    assert_eq!(
        git_files(&clone, "main"),
        fixture.files_at("Contoso", "$/Contoso/Main", 10, None)
    );
}

#[test]
fn cli_detects_projects_and_converts_one_with_a_download_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Fixture::start(&history("multi-project"), &["--latency-ms", "10"]);
    let detect = Command::new(env!("CARGO_BIN_EXE_srcimport"))
        .args(["detect", &fixture.collection])
        .output()
        .expect("detect runs");
    let out = String::from_utf8_lossy(&detect.stdout);
    assert!(detect.status.success(), "{out}");
    assert!(out.contains("project: Alpha (tfvc)"), "{out}");
    assert!(out.contains("project: Beta (tfvc)"), "{out}");
    assert!(!out.contains("Gamma"), "{out}");
    let dest = dir.path().join("alpha.git");
    let convert = Command::new(env!("CARGO_BIN_EXE_srcimport"))
        .args([
            "convert",
            "--vcs",
            "tfvc",
            "--project",
            "Alpha",
            "--jobs",
            "1",
            "-q",
        ])
        .arg(&fixture.collection)
        .arg(&dest)
        .output()
        .expect("convert runs");
    assert!(
        convert.status.success(),
        "{}",
        String::from_utf8_lossy(&convert.stderr)
    );
    assert_eq!(fixture.stats()["max_concurrent_downloads"], 1);
    let notes = git(&dest, &["log", "--notes=tfvc", "--format=%N", "--all"]);
    assert!(notes.contains("$/Alpha/Main"), "{notes}");
    assert!(!notes.contains("$/Beta"), "{notes}");
    // A project URL selects that project.
    let detect = Command::new(env!("CARGO_BIN_EXE_srcimport"))
        .args(["detect", &format!("{}/Beta", fixture.collection)])
        .output()
        .expect("detect runs");
    let out = String::from_utf8_lossy(&detect.stdout);
    assert!(
        out.contains("vcs: tfvc") && out.contains("project: Beta"),
        "{out}"
    );
}
