//! kill -9 the server in each stage; on restart the import resumes and ends identical.

use std::path::Path;

use serde_json::json;

use crate::support::{fixture, refs, try_clone, GitSource, Server, TOKEN};

const REPO: &str = "octo/crashy";

fn start_import(server: &Server, source: &GitSource) {
    let body = json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}).to_string();
    let (status, body) = server.request(
        "PUT",
        &format!("/repos/{REPO}/import"),
        Some(TOKEN),
        Some(&body),
    );
    assert_eq!(status, 201, "{body}");
}

fn map_alice(server: &Server) {
    server.map_author(REPO, "Alice Liddell", "Alice P.", "alice@p.example");
}

fn hosted_refs(server: &Server, dest: &Path) -> String {
    let url = server.authed_git_url(REPO);
    assert!(try_clone(&url, dest));
    refs(dest)
}

#[test]
fn a_killed_server_resumes_every_stage_with_the_same_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);

    // The reference: an uninterrupted import and remap.
    let reference = {
        let server = Server::start(&dir.path().join("reference"));
        start_import(&server, &source);
        server.wait_status(REPO, "complete");
        map_alice(&server);
        server.wait_import(REPO, |b| {
            b["status"] == "complete" && b["push_percent"] == 100
        });
        hosted_refs(&server, &dir.path().join("reference.git"))
    };

    for stage in ["importing", "mapping", "pushing"] {
        let data = dir.path().join(format!("data-{stage}"));
        let hold = [("SRCIMPORT_TEST_HOLD_STAGE", stage)];
        if stage == "importing" {
            let mut server = Server::start_with(&data, &hold);
            start_import(&server, &source);
            server.wait_status(REPO, "importing");
            server.kill_hard();
            let server = Server::start(&data);
            server.wait_status(REPO, "complete");
            map_alice(&server);
        } else {
            {
                let server = Server::start(&data);
                start_import(&server, &source);
                server.wait_status(REPO, "complete");
            }
            let mut server = Server::start_with(&data, &hold);
            map_alice(&server);
            server.wait_import(REPO, |b| b["status"] == stage);
            server.kill_hard();
        }
        let server = Server::start(&data);
        let done = server.wait_import(REPO, |b| {
            b["status"] == "complete" && b["push_percent"] == 100
        });
        assert_eq!(done["commit_count"], 7, "{stage}: {done}");
        let resumed = hosted_refs(&server, &dir.path().join(format!("{stage}.git")));
        assert_eq!(resumed, reference, "killed during {stage}");
    }
}
