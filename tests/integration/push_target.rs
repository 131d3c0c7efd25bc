//! A hosted repository as a push target: one server mirrors an import, LFS objects
//! included, to a repository of another over smart HTTP with that server's token; pushes
//! without write rights, to srcimport's hidden refs, or while an import runs are refused.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

use crate::lfs::sha256_hex;
use crate::push_mirror::{hosted, lfs_oids, published, put_mirrored};
use crate::support::{fixture_with, git, GitSource, Server, LIMITED_TOKEN, TOKEN};

/// `POST /user/repos` on `server` as the admin; the repository is `admin/{name}`.
fn create_repo(server: &Server, name: &str, private: bool) {
    let (status, created) = server.request(
        "POST",
        "/user/repos",
        Some(TOKEN),
        Some(&json!({ "name": name, "private": private }).to_string()),
    );
    assert_eq!(status, 201, "{created}");
}

#[test]
fn a_server_mirrors_an_import_with_lfs_objects_to_another_servers_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with("git/large-files.sh", &dir.path().join("src"), &["2000000"]);
    let source = GitSource::serve(&dir.path().join("src"), None);
    let target = Server::start(&dir.path().join("b"));
    create_repo(&target, "copy", false);
    let origin = Server::start(&dir.path().join("a"));
    let repo = "octo/original";
    put_mirrored(
        &origin,
        repo,
        &source,
        &target.url("/admin/copy.git"),
        ("admin", TOKEN),
        json!({"use_lfs": "opt_in", "lfs_threshold": 1_000_000}),
    );
    let done = origin.wait_status(repo, "complete");
    assert_eq!(done["push_percent"], 100);

    let original = hosted(&origin, repo, &dir.path().join("original.git"));
    assert!(original.contains("refs/tags/v1"), "{original}");
    let copy = hosted(&target, "admin/copy", &dir.path().join("copy.git"));
    assert_eq!(copy, original);
    // Nothing reached srcimport's own refs on the target.
    let target_repo = dir.path().join("b/repos/admin/copy.git");
    assert_eq!(published(&target_repo), original);
    assert!(git(&target_repo, &["for-each-ref", "refs/srcimport"]).is_empty());

    // The origin keeps its working refs, and shows none to a pusher either.
    let origin_repo = dir.path().join("a/repos/octo/original.git");
    assert!(!git(&origin_repo, &["for-each-ref", "refs/srcimport"]).is_empty());
    // As a repository created before pushes were accepted is configured: the request
    // itself hides them from receive-pack.
    git(&origin_repo, &["config", "--unset", "transfer.hideRefs"]);
    git(
        &origin_repo,
        &["config", "uploadpack.hideRefs", "refs/srcimport"],
    );
    let (status, advertised) = advertise(&origin, repo, Some(TOKEN));
    assert_eq!(status, 200, "{advertised}");
    assert!(advertised.contains("refs/heads/main"), "{advertised}");
    assert!(!advertised.contains("refs/srcimport"), "{advertised}");

    let objects = lfs_oids(&origin_repo.join("lfs/objects"));
    assert_eq!(objects.len(), 2, "{objects:?}");
    assert_eq!(lfs_oids(&target_repo.join("lfs/objects")), objects);
    for oid in &objects {
        let response = ureq::get(&target.url(&format!("/admin/copy.git/info/lfs/objects/{oid}")))
            .set("Authorization", &format!("token {TOKEN}"))
            .call()
            .expect("the target serves the LFS object");
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut body).expect("body");
        assert_eq!(&sha256_hex(&body), oid);
    }
    assert!(!origin.log().contains(TOKEN));
}

/// `git push URL REFSPEC` from `from`, without prompts or other credentials.
fn push(from: &Path, url: &str, refspec: &str) -> Output {
    Command::new("git")
        .arg("--git-dir")
        .arg(from)
        .args(["push", "--", url, refspec])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("git runs")
}

/// `GET info/refs?service=git-receive-pack` with `token`: the status and the body.
fn advertise(server: &Server, repo: &str, token: Option<&str>) -> (u16, String) {
    let mut request =
        ureq::get(&server.url(&format!("/{repo}.git/info/refs?service=git-receive-pack")));
    if let Some(token) = token {
        request = request.set("Authorization", &format!("token {token}"));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    (response.status(), response.into_string().expect("body"))
}

#[test]
fn pushes_need_write_rights_stay_out_of_hidden_refs_and_wait_for_imports() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 2 MiB of incompressible blobs: git sends the pack chunked, without a length, and the
    // server streams it into receive-pack.
    fixture_with(
        "git/many-blobs.sh",
        &dir.path().join("src"),
        &["8", "262144"],
    );
    let local = dir.path().join("src/source.git");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_TEST_HOLD_STAGE", "importing")],
    );
    create_repo(&server, "target", false);
    let url = |token: &str| {
        server
            .url("/admin/target.git")
            .replace("http://", &format!("http://x:{token}@"))
    };

    // No token: asked for credentials; a token without rights on the owner: 403.
    assert_eq!(advertise(&server, "admin/target", None).0, 401);
    let (status, body) = advertise(&server, "admin/target", Some(LIMITED_TOKEN));
    assert_eq!(status, 403, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("JSON error");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Permission"),
        "{body}"
    );
    assert!(error["documentation_url"].is_string(), "{body}");
    let refused = push(&local, &url(LIMITED_TOKEN), "main:refs/heads/main");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("403"),
        "{refused:?}"
    );
    let anonymous = push(
        &local,
        &server.url("/admin/target.git"),
        "main:refs/heads/main",
    );
    assert!(!anonymous.status.success());
    // A private repository stays hidden from a token without rights: 404.
    create_repo(&server, "secret", true);
    assert_eq!(
        advertise(&server, "admin/secret", Some(LIMITED_TOKEN)).0,
        404
    );

    // srcimport's own refs can be neither seen nor written.
    let hidden = push(&local, &url(TOKEN), "main:refs/srcimport/raw/heads/main");
    assert!(!hidden.status.success());
    let stderr = String::from_utf8_lossy(&hidden.stderr);
    assert!(stderr.contains("hidden"), "{stderr}");
    let target_repo = dir.path().join("data/repos/admin/target.git");
    assert!(git(&target_repo, &["for-each-ref", "refs/srcimport"]).is_empty());

    // With rights, a push lands; the first branch of an empty repository becomes its
    // default, as on GitHub.
    let pushed = push(&local, &url(TOKEN), "main:refs/heads/trunk");
    assert!(pushed.status.success(), "{pushed:?}");
    assert_eq!(
        git(&target_repo, &["rev-parse", "refs/heads/trunk"]),
        git(&local, &["rev-parse", "refs/heads/main"])
    );
    // A push holds the repository's control lock until HEAD is settled: the next push
    // advertisement waits for it.
    let (status, advertised) = advertise(&server, "admin/target", Some(TOKEN));
    assert_eq!(status, 200);
    assert!(advertised.contains("refs/heads/trunk"), "{advertised}");
    assert!(!advertised.contains("refs/srcimport"), "{advertised}");
    assert_eq!(
        git(&target_repo, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/trunk"
    );
    let (_, shown) = server.get("/repos/admin/target");
    assert_eq!(shown["default_branch"], "trunk", "{shown}");

    // While an import runs (parked at importing), pushes are refused with 409.
    let repo = "admin/busy";
    server.put_import(
        repo,
        &json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}),
    );
    server.wait_status(repo, "importing");
    let (status, body) = advertise(&server, repo, Some(TOKEN));
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("an import is running"), "{body}");
}

#[test]
fn a_push_over_the_size_limit_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with(
        "git/many-blobs.sh",
        &dir.path().join("src"),
        &["4", "262144"],
    );
    let local = dir.path().join("src/source.git");
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_PUSH_SIZE_LIMIT", "131072")],
    );
    create_repo(&server, "small", false);
    let url = server
        .url("/admin/small.git")
        .replace("http://", &format!("http://x:{TOKEN}@"));
    let refused = push(&local, &url, "main:refs/heads/main");
    assert!(!refused.status.success(), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("maximum allowed size"), "{stderr}");
    let target = dir.path().join("data/repos/admin/small.git");
    assert!(git(&target, &["for-each-ref", "refs/heads"]).is_empty());
}
