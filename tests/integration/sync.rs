//! Incremental sync (`POST /import/sync`, `sync_interval`): for Git, Mercurial,
//! Subversion and TFVC, appending to the source and syncing gives what a fresh import of
//! the new source state gives (same refs, same commit ids; for Mercurial and TFVC the same
//! commit count, authors and large files too), and published commits keep their ids; a
//! rewritten Git or Mercurial source (or TFVC history read anew) is refused unless
//! forced; periodic syncs survive a restart.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::mercurial::{build_fixture, hg, HgServe};
use crate::subversion::features;
use crate::support::{fixture, git, git_with_env, refs, try_clone, GitSource, Server, TOKEN};
use srcimport_converters::svn::convert::checkpoint::Checkpoint;

const LOCAL: &[(&str, &str)] = &[("SRCIMPORT_ALLOW_LOCAL_SOURCES", "1")];
/// Files over 100 kB are large: the Mercurial fixture's binaries are.
const LARGE_100K: &[(&str, &str)] = &[("SRCIMPORT_LARGE_FILE_THRESHOLD", "100000")];

fn post_sync(server: &Server, repo: &str, body: Option<&str>) -> (u16, Value) {
    server.request(
        "POST",
        &format!("/repos/{repo}/import/sync"),
        Some(TOKEN),
        body,
    )
}

/// Starts a sync and waits for it to end in `wanted`.
fn sync(server: &Server, repo: &str, body: &Value, wanted: &str) -> Value {
    let (status, started) = post_sync(server, repo, Some(&body.to_string()));
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["status"], "importing", "{started}");
    server.wait_status(repo, wanted)
}

/// Every ref the hosted repository shows, with its id (`ls-remote`).
fn published(server: &Server, repo: &str) -> String {
    let out = Command::new("git")
        .args(["ls-remote", &server.authed_git_url(repo)])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git ls-remote");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ref_id(listing: &str, name: &str) -> String {
    listing
        .lines()
        .find_map(|l| l.strip_suffix(name)?.strip_suffix('\t'))
        .unwrap_or_else(|| panic!("no {name} in {listing}"))
        .to_owned()
}

/// Imports `url` afresh into `repo` and checks it publishes exactly what `synced` does.
fn assert_same_as_fresh_import(server: &Server, synced: &str, fresh: &str, url: &str) {
    server.put_import(fresh, &json!({ "vcs_url": url }));
    server.wait_status(fresh, "complete");
    assert_eq!(published(server, synced), published(server, fresh));
}

/// What the import reports besides its refs: the commit count, the authors and the large
/// files, as `(field, value)` pairs without ids or URLs.
fn totals(server: &Server, repo: &str) -> Vec<String> {
    let (_, import) = server.get(&format!("/repos/{repo}/import"));
    let (_, authors) = server.get(&format!("/repos/{repo}/import/authors"));
    let (_, large) = server.get(&format!("/repos/{repo}/import/large_files"));
    let mut totals = vec![format!("commit_count {}", import["commit_count"])];
    for author in authors.as_array().expect("authors") {
        totals.push(format!(
            "author {} {} {} {}",
            author["remote_id"], author["remote_name"], author["name"], author["email"]
        ));
    }
    for file in large.as_array().expect("large files") {
        totals.push(format!(
            "large {} {} {} {}",
            file["ref_name"], file["path"], file["oid"], file["size"]
        ));
    }
    totals.sort();
    totals
}

/// Checks every commit published before is still reachable, under the same id, from the
/// branch it was on (when that branch still exists).
fn assert_ids_kept(server: &Server, dir: &Path, repo: &str, before: &str) {
    let after = published(server, repo);
    let clone = dir.join(format!("{}-kept.git", repo.replace('/', "-")));
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    for line in before.lines().filter(|l| l.contains("\trefs/heads/")) {
        let (old, name) = line.split_once('\t').expect("ls-remote line");
        if after.lines().any(|l| l.ends_with(&format!("\t{name}"))) {
            let new = ref_id(&after, name);
            git(&clone, &["merge-base", "--is-ancestor", old, &new]);
        }
    }
}

/// The author and committer of the commits these tests add to a source.
const SYNCER: &[(&str, &str)] = &[
    ("GIT_AUTHOR_NAME", "Syncer"),
    ("GIT_AUTHOR_EMAIL", "syncer@example.com"),
    ("GIT_AUTHOR_DATE", "1700000000 +0000"),
    ("GIT_COMMITTER_NAME", "Syncer"),
    ("GIT_COMMITTER_EMAIL", "syncer@example.com"),
    ("GIT_COMMITTER_DATE", "1700000000 +0000"),
];

/// A new commit on top of `parent` (same tree); returns its id.
fn commit_on(bare: &Path, parent: &str, message: &str) -> String {
    let tree = format!("{parent}^{{tree}}");
    git_with_env(
        bare,
        &["commit-tree", &tree, "-p", parent, "-m", message],
        SYNCER,
    )
    .trim()
    .to_owned()
}

#[test]
fn a_git_sync_brings_new_commits_branches_tags_and_deletions() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let bare = dir.path().join("src/source.git");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let url = format!("{}/source.git", source.base);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/synced";

    // Nothing to sync yet; bodies are checked like PATCH's.
    assert_eq!(post_sync(&server, repo, None).0, 404);
    server.put_import(
        "octo/nothing",
        &json!({"vcs_url": format!("{url}.missing")}),
    );
    server.wait_status("octo/nothing", "detection_found_nothing");
    let (status, refused) = post_sync(&server, "octo/nothing", None);
    assert_eq!(status, 422, "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("detection_found_nothing"), "{refused}");

    let first = server.put_import(repo, &json!({"vcs_url": url}));
    assert!(first["sync_interval"].is_null(), "{first}");
    let done = server.wait_status(repo, "complete");
    assert!(done["last_synced_at"].is_string(), "{done}");
    assert_eq!(post_sync(&server, repo, Some("{")).0, 400);
    let (status, body) = post_sync(&server, repo, Some(r#"{"force": "yes"}"#));
    assert_eq!(
        (status, &body["errors"][0]["field"]),
        (422, &json!("force"))
    );
    let before = published(&server, repo);

    // Append: a commit on main, a new branch and tag; delete another branch.
    let main = git(&bare, &["rev-parse", "refs/heads/main"]);
    let main = main.trim();
    let next = commit_on(&bare, main, "after the import");
    git(&bare, &["update-ref", "refs/heads/main", &next]);
    git(&bare, &["update-ref", "refs/heads/added-later", &next]);
    git(&bare, &["tag", "v-sync", &next]);
    let gone = git(
        &bare,
        &["for-each-ref", "--format=%(refname)", "refs/heads"],
    )
    .lines()
    .find(|r| !r.ends_with("/main") && !r.ends_with("/added-later"))
    .expect("a second branch")
    .to_owned();
    git(&bare, &["update-ref", "-d", &gone]);

    let synced = sync(&server, repo, &json!({}), "complete");
    assert!(synced["last_synced_at"].is_string(), "{synced}");
    let after = published(&server, repo);
    assert_eq!(ref_id(&after, "refs/heads/main"), next);
    assert!(after.contains("\trefs/heads/added-later\n"), "{after}");
    assert!(after.contains("\trefs/tags/v-sync\n"), "{after}");
    assert!(
        !after.contains(&format!("\t{gone}\n")),
        "deletions propagate: {after}"
    );
    assert_ids_kept(&server, dir.path(), repo, &before);
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    assert_eq!(refs(&clone), refs(&bare));
    assert_same_as_fresh_import(&server, repo, "octo/fresh", &url);
}

/// The author of the tip of `branch` in the published repository.
fn tip_author(server: &Server, dir: &Path, repo: &str, branch: &str) -> String {
    let clone = dir.join(format!("{}-{branch}-author.git", repo.replace('/', "-")));
    let _ = std::fs::remove_dir_all(&clone);
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    git(&clone, &["log", "-1", "--format=%an <%ae>", branch])
        .trim()
        .to_owned()
}

#[test]
fn a_sync_maps_new_commits_under_the_current_author_map() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let bare = dir.path().join("src/source.git");
    let main = git(&bare, &["rev-parse", "refs/heads/main"]);
    let by_syncer = commit_on(&bare, main.trim(), "by syncer");
    git(&bare, &["update-ref", "refs/heads/main", &by_syncer]);
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));
    let url = format!("{}/source.git", source.base);
    let repo = "octo/mapped-sync";
    server.put_import(repo, &json!({ "vcs_url": url }));
    server.wait_status(repo, "complete");
    server.map_author(repo, "Syncer", "Mapped Name", "mapped@example.com");
    server.wait_status(repo, "complete");
    let before = published(&server, repo);

    let next = commit_on(&bare, &by_syncer, "synced, by syncer again");
    git(&bare, &["update-ref", "refs/heads/main", &next]);
    sync(&server, repo, &json!({}), "complete");
    assert_eq!(
        tip_author(&server, dir.path(), repo, "main"),
        "Mapped Name <mapped@example.com>"
    );
    assert_ids_kept(&server, dir.path(), repo, &before);

    // A fresh import under the same map publishes the same ids.
    let fresh = "octo/mapped-fresh";
    server.put_import(fresh, &json!({ "vcs_url": url }));
    server.wait_status(fresh, "complete");
    server.map_author(fresh, "Syncer", "Mapped Name", "mapped@example.com");
    server.wait_status(fresh, "complete");
    assert_eq!(published(&server, repo), published(&server, fresh));
}

#[test]
fn a_rewritten_git_source_is_refused_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let bare = dir.path().join("src/source.git");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/rewritten";
    server.put_import(
        repo,
        &json!({"vcs_url": format!("{}/source.git", source.base)}),
    );
    server.wait_status(repo, "complete");
    let before = published(&server, repo);

    // A tag moved to another commit is a rewrite too.
    let tag = git(
        &bare,
        &[
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            "refs/tags",
        ],
    );
    let tag = tag.trim().to_owned();
    let tag_target = git(&bare, &["rev-parse", &tag]);
    git(&bare, &["update-ref", &tag, "refs/heads/main"]);
    let refused = sync(&server, repo, &json!({}), "error");
    let message = refused["error_message"].as_str().unwrap_or_default();
    assert!(message.contains(&tag), "{refused}");
    assert_eq!(published(&server, repo), before, "nothing was published");
    git(&bare, &["update-ref", &tag, tag_target.trim()]);

    // A force-push: main loses its last commit and gets another one instead.
    let rewritten = commit_on(&bare, "refs/heads/main~1", "rewritten history");
    git(&bare, &["update-ref", "refs/heads/main", &rewritten]);
    let refused = sync(&server, repo, &json!({"force": false}), "error");
    let message = refused["error_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("refs/heads/main") && message.contains("force: true"),
        "{refused}"
    );
    assert_eq!(published(&server, repo), before, "nothing was published");

    // A plain sync is refused the same way; force replaces the history.
    sync(&server, repo, &json!({}), "error");
    sync(&server, repo, &json!({"force": true}), "complete");
    let after = published(&server, repo);
    assert_eq!(ref_id(&after, "refs/heads/main"), rewritten);
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    assert_eq!(refs(&clone), refs(&bare));
}

#[test]
fn periodic_syncs_follow_sync_interval_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let bare = dir.path().join("src/source.git");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let data = dir.path().join("data");
    let fast = [("SRCIMPORT_MIN_SYNC_INTERVAL", "1")];
    let mut server = Server::start_with(&data, &fast);
    let repo = "octo/periodic";
    let url = format!("{}/source.git", source.base);
    for wrong in [json!("soon"), json!(-3), json!(1.5)] {
        let body = json!({"vcs_url": url, "sync_interval": wrong}).to_string();
        let (status, answer) =
            server.request("PUT", "/repos/octo/wrong/import", Some(TOKEN), Some(&body));
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["field"], "sync_interval");
    }
    server.put_import(repo, &json!({"vcs_url": url, "sync_interval": 2}));
    let done = server.wait_status(repo, "complete");
    assert_eq!(done["sync_interval"], 2);

    // The schedule is in the store: a restarted server keeps it.
    server.kill_hard();
    let server = Server::start_with(&data, &fast);
    let main = git(&bare, &["rev-parse", "refs/heads/main"]);
    let next = commit_on(&bare, main.trim(), "picked up by a periodic sync");
    git(&bare, &["update-ref", "refs/heads/main", &next]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, now) = server.get(&format!("/repos/{repo}/import"));
        if now["status"] == "complete"
            && now["last_synced_at"] != done["last_synced_at"]
            && ref_id(&published(&server, repo), "refs/heads/main") == next
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no periodic sync: {now}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(server.log().contains("periodic sync started"));

    // null turns periodic syncs off, and only that: the import is not restarted.
    let (status, patched) = server.patch_import(repo, &json!({"sync_interval": null}));
    assert_eq!((status, &patched["sync_interval"]), (200, &Value::Null));
    assert_eq!(patched["status"], "complete", "{patched}");
}

#[test]
fn a_failed_periodic_sync_is_retried_until_the_source_is_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let bare = dir.path().join("src/source.git");
    let away = dir.path().join("away.git");
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_MIN_SYNC_INTERVAL", "1")],
    );
    let repo = "octo/retried";
    let url = format!("{}/source.git", source.base);
    server.put_import(repo, &json!({"vcs_url": url, "sync_interval": 1}));
    server.wait_status(repo, "complete");

    // The source goes away: the next periodic sync fails and publishes nothing.
    std::fs::rename(&bare, &away).expect("source moved away");
    let failed = server.wait_import(repo, |b| b["status"] == "error");
    assert_eq!(failed["failed_step"], "importing", "{failed}");
    let before = published(&server, repo);

    // It comes back with a new commit: a later periodic sync picks it up on its own.
    std::fs::rename(&away, &bare).expect("source back");
    let main = git(&bare, &["rev-parse", "refs/heads/main"]);
    let next = commit_on(&bare, main.trim(), "after the outage");
    git(&bare, &["update-ref", "refs/heads/main", &next]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, now) = server.get(&format!("/repos/{repo}/import"));
        if now["status"] == "complete"
            && ref_id(&published(&server, repo), "refs/heads/main") == next
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the failed sync was never retried: {now}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_ne!(before, published(&server, repo));
    assert!(server.log().matches("periodic sync started").count() >= 2);
}

/// Starts a fresh server with a server-wide default interval: imports that set none show it.
#[test]
fn the_server_default_interval_applies_to_imports_that_set_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_SYNC_INTERVAL", "3600")],
    );
    let url = "http://127.0.0.1:9/none.git";
    let shown = server.put_import("octo/default", &json!({"vcs_url": url}));
    assert_eq!(shown["sync_interval"], 3600, "{shown}");
    let own = server.put_import("octo/own", &json!({"vcs_url": url, "sync_interval": 120}));
    assert_eq!(own["sync_interval"], 120, "{own}");
    let body = json!({"vcs_url": url, "sync_interval": 5}).to_string();
    let (status, low) = server.request("PUT", "/repos/octo/low/import", Some(TOKEN), Some(&body));
    assert_eq!(status, 422, "below the 60 s minimum: {low}");
}

#[test]
fn a_mercurial_sync_equals_a_fresh_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hg_repo = build_fixture("make-revlog-fixture.sh", &dir.path().join("hg"));
    let serve = HgServe::start(&hg_repo);
    let server = Server::start_with(&dir.path().join("data"), LARGE_100K);
    let repo = "octo/hg-synced";
    server.put_import(repo, &json!({"vcs_url": serve.url}));
    server.wait_status(repo, "complete");
    let before = published(&server, repo);

    hg(&hg_repo, &["update", "-C", "default"]);
    std::fs::write(hg_repo.join("synced.txt"), "after the import\n").expect("write");
    let user = "Dana Sync <dana@example.com>";
    hg(
        &hg_repo,
        &[
            "commit",
            "-A",
            "-u",
            user,
            "-d",
            "1700000000 0",
            "-m",
            "new on default",
        ],
    );
    hg(&hg_repo, &["branch", "sync-branch"]);
    std::fs::write(hg_repo.join("synced.txt"), "on a new branch\n").expect("write");
    hg(
        &hg_repo,
        &[
            "commit",
            "-u",
            user,
            "-d",
            "1700000100 0",
            "-m",
            "new branch",
        ],
    );
    hg(
        &hg_repo,
        &["tag", "-u", user, "-d", "1700000200 0", "v-sync"],
    );

    sync(&server, repo, &json!({}), "complete");
    let after = published(&server, repo);
    assert_ne!(after, before);
    assert!(after.contains("sync-branch"), "{after}");
    assert_ids_kept(&server, dir.path(), repo, &before);
    assert_same_as_fresh_import(&server, repo, "octo/hg-fresh", &serve.url);
    let synced_totals = totals(&server, repo);
    assert!(
        synced_totals.iter().any(|t| t.contains("dana@example.com")),
        "{synced_totals:?}"
    );
    assert!(
        synced_totals.iter().any(|t| t.starts_with("large ")),
        "{synced_totals:?}"
    );
    assert_eq!(synced_totals, totals(&server, "octo/hg-fresh"));
}

/// A Mercurial source that lost published changesets (`hg strip`) and got others is
/// refused unless forced; forced, the sync gives what a fresh import gives.
#[test]
fn a_stripped_mercurial_source_is_refused_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hg_repo = build_fixture("make-revlog-fixture.sh", &dir.path().join("hg"));
    let serve = HgServe::start(&hg_repo);
    let server = Server::start_with(&dir.path().join("data"), LARGE_100K);
    let repo = "octo/hg-stripped";
    server.put_import(repo, &json!({"vcs_url": serve.url}));
    server.wait_status(repo, "complete");
    let before = published(&server, repo);

    hg(
        &hg_repo,
        &[
            "--config",
            "extensions.strip=",
            "strip",
            "--no-backup",
            "-r",
            "stable",
        ],
    );
    hg(&hg_repo, &["update", "-C", "stable"]);
    std::fs::write(hg_repo.join("FIX"), "rewritten\n").expect("write");
    hg(
        &hg_repo,
        &[
            "commit",
            "-u",
            "Rewriter <r@example.com>",
            "-d",
            "1700000000 0",
            "-m",
            "rewritten",
        ],
    );
    let refused = sync(&server, repo, &json!({}), "error");
    let message = refused["error_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("refs/heads/stable") && message.contains("force: true"),
        "{refused}"
    );
    assert_eq!(published(&server, repo), before, "nothing was published");

    sync(&server, repo, &json!({"force": true}), "complete");
    assert_ne!(published(&server, repo), before);
    assert_same_as_fresh_import(&server, repo, "octo/hg-stripped-fresh", &serve.url);
    assert_eq!(
        totals(&server, repo),
        totals(&server, "octo/hg-stripped-fresh")
    );
}

#[test]
fn a_subversion_sync_equals_a_fresh_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let svn_repo = built.join("repo");
    let url = format!("file://{}", svn_repo.display());
    let server = Server::start_with(&dir.path().join("data"), LOCAL);
    let repo = "octo/svn-synced";
    server.put_import(repo, &json!({"vcs_url": url}));
    server.wait_status(repo, "complete");
    let before = published(&server, repo);

    let new_file = dir.path().join("synced.txt");
    std::fs::write(&new_file, "after the import\n").expect("write");
    let config = dir.path().join("svn-config");
    let svnmucc = |args: &[&str]| svnmucc(&config, &url, args);
    let file = new_file.to_str().expect("utf-8");
    svnmucc(&["-m", "new on trunk", "put", file, "trunk/synced.txt"]);
    svnmucc(&["-m", "new branch", "cp", "HEAD", "trunk", "branches/synced"]);
    svnmucc(&["-m", "new tag", "cp", "HEAD", "trunk", "tags/v-sync"]);

    sync(&server, repo, &json!({}), "complete");
    let after = published(&server, repo);
    assert_ne!(after, before);
    assert!(after.contains("\trefs/heads/synced\n"), "{after}");
    assert!(after.contains("\trefs/tags/v-sync"), "{after}");
    assert_ids_kept(&server, dir.path(), repo, &before);
    assert_same_as_fresh_import(&server, repo, "octo/svn-fresh", &url);
}

/// Credentials are forgotten once the source is read: a sync of a source behind auth
/// takes them in its body, or ends in `auth_failed` and a PATCH with them resumes it.
#[test]
fn a_sync_of_a_source_behind_auth_takes_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let bare = dir.path().join("src/source.git");
    let source = GitSource::serve(&dir.path().join("src"), Some(("sync-user", "sync-pass-9")));
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/private";
    let url = format!("{}/source.git", source.base);
    let credentials = json!({"vcs_username": "sync-user", "vcs_password": "sync-pass-9"});
    let mut body = credentials.clone();
    body["vcs_url"] = json!(url);
    server.put_import(repo, &body);
    server.wait_status(repo, "complete");

    let main = git(&bare, &["rev-parse", "refs/heads/main"]);
    let next = commit_on(&bare, main.trim(), "needs credentials to see");
    git(&bare, &["update-ref", "refs/heads/main", &next]);
    let failed = sync(&server, repo, &json!({}), "auth_failed");
    assert_eq!(failed["failed_step"], "importing", "{failed}");
    let (status, _) = server.patch_import(repo, &credentials);
    assert_eq!(status, 200);
    server.wait_status(repo, "complete");
    assert_eq!(ref_id(&published(&server, repo), "refs/heads/main"), next);

    let later = commit_on(&bare, &next, "and one more");
    git(&bare, &["update-ref", "refs/heads/main", &later]);
    sync(&server, repo, &credentials, "complete");
    assert_eq!(ref_id(&published(&server, repo), "refs/heads/main"), later);
    assert!(!server.log().contains("sync-pass-9"));
}

/// One TFVC changeset by Dana.
fn tfvc_changeset(id: u64, comment: &str, changes: Value) -> Value {
    json!({
        "id": id,
        "author": {"displayName": "Dana Sync", "uniqueName": "CONTOSO\\dana"},
        "createdDate": format!("2021-02-{:02}T10:00:00Z", id - 10),
        "comment": comment,
        "changes": changes,
    })
}

/// A TFVC sync reads only the changesets after the last one converted and gives what a
/// fresh import gives (refs, ids, commit count, authors): new changesets on two
/// branches, then a new branch from an old changeset with new labels (one on an old
/// changeset). A damaged checkpoint makes the next sync convert everything again; an old
/// folder made a branch too, and that rewrite is refused unless forced.
#[test]
fn a_tfvc_sync_reads_only_new_changesets_and_equals_a_fresh_import() {
    use crate::tfvc::tfvc_fixture::{history, Fixture};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut source = history("multi-branch");
    // Two changesets a page: listing the whole history takes 8 requests.
    let fixture = Fixture::start(&source, &["--page-limit", "2"]);
    let data = dir.path().join("data");
    // Files over 25 bytes are large, so the large-file list has entries to compare.
    let server = Server::start_with(&data, &[("SRCIMPORT_LARGE_FILE_THRESHOLD", "25")]);
    let repo = "octo/tfvc-synced";
    server.put_import(repo, &json!({"vcs_url": fixture.collection}));
    server.wait_status(repo, "complete");
    let before = published(&server, repo);
    let mut fresh_imports = 0;
    // Syncs, then imports afresh: the requests of each (changeset listing pages, change
    // listing pages) are compared: a sync reads less, unless it has to read everything.
    let requests = |endpoint: &str| fixture.stats()["requests"][endpoint].as_u64().unwrap_or(0);
    let mut sync_and_compare = |source: &Value, reads_everything: bool| {
        fixture.replace_history(source);
        sync(&server, repo, &json!({}), "complete");
        let synced = (
            requests("changesets"),
            requests("changes"),
            requests("download"),
        );
        fresh_imports += 1;
        let fresh = format!("octo/tfvc-fresh-{fresh_imports}");
        assert_same_as_fresh_import(&server, repo, &fresh, &fixture.collection);
        let full = (
            requests("changesets") - synced.0,
            requests("changes") - synced.1,
            requests("download") - synced.2,
        );
        if reads_everything {
            // (The fresh import's detection lists changesets once more.)
            assert_eq!(synced.1, full.1, "{synced:?} {full:?}");
        } else {
            assert!(
                synced.0 < full.0 && synced.1 < full.1,
                "{synced:?} {full:?}"
            );
        }
        let synced_totals = totals(&server, repo);
        assert!(
            synced_totals.iter().any(|t| t.starts_with("large ")),
            "{synced_totals:?}"
        );
        assert_eq!(synced_totals, totals(&server, &fresh));
        synced
    };

    let changesets = source["changesets"].as_array_mut().expect("changesets");
    changesets.push(tfvc_changeset(
        11,
        "Main: after the import",
        json!([{"path": "$/Contoso/Main/src/app.c", "changeType": "edit",
                "content": "int main(void) { return 11; }\n"}]),
    ));
    changesets.push(tfvc_changeset(
        12,
        "Dev: after the import; a rename",
        json!([{"path": "$/Contoso/Dev/src/later.c", "changeType": "add",
                "content": "int later;\n"},
               {"path": "$/Contoso/Dev/src/feature-renamed.c", "changeType": "rename",
                "sourceServerItem": "$/Contoso/Dev/src/feature.c"}]),
    ));
    // Two downloads: the renamed file's content was downloaded by the first import.
    assert_eq!(sync_and_compare(&source, false).2, 2);
    assert_ids_kept(&server, dir.path(), repo, &before);

    let project = &mut source["projects"][0];
    project["branches"].as_array_mut().expect("branches").push(
        json!({"path": "$/Contoso/Release", "parent": "$/Contoso/Main",
                     "createdDate": "2021-02-03T10:00:00Z", "owner": "CONTOSO\\dana",
                     "description": "from changeset 2", "isDeleted": false}),
    );
    let labels = project["labels"].as_array_mut().expect("labels");
    labels.push(
        json!({"name": "v0.9", "description": "an old one", "owner": "CONTOSO\\dana",
                       "modifiedDate": "2021-02-04T00:00:00Z", "scope": "$/Contoso/Main",
                       "changeset": 2}),
    );
    labels.push(
        json!({"name": "v2.0", "description": "", "owner": "CONTOSO\\dana",
                       "modifiedDate": "2021-02-04T00:00:00Z", "scope": "$/Contoso/Release",
                       "changeset": 14}),
    );
    let changesets = source["changesets"].as_array_mut().expect("changesets");
    changesets.push(tfvc_changeset(
        13,
        "Branch Main as of changeset 2 to Release",
        json!([{"path": "$/Contoso/Release", "changeType": "branch", "itemType": "folder",
                "sourceServerItem": "$/Contoso/Main", "sourceVersion": 2}]),
    ));
    changesets.push(tfvc_changeset(
        14,
        "Release: a fix",
        json!([{"path": "$/Contoso/Release/src/app.c", "changeType": "edit",
                "content": "int main(void) { return 14; }\n"}]),
    ));
    sync_and_compare(&source, false);
    let after = published(&server, repo);
    for wanted in [
        "\trefs/heads/Release\n",
        "\trefs/tags/v0.9\n",
        "\trefs/tags/v2.0\n",
    ] {
        assert!(after.contains(wanted), "{wanted} in {after}");
    }

    // Nothing new: no changes read, nothing changed.
    assert_eq!(sync_and_compare(&source, false).1, 0);
    assert_eq!(published(&server, repo), after);

    // A damaged checkpoint: everything is read and converted again, to the same result.
    let checkpoint = data.join(format!("repos/{repo}.git/srcimport-tfvc.checkpoint"));
    assert!(checkpoint.is_file(), "{}", checkpoint.display());
    std::fs::write(&checkpoint, b"{\"version\": 1, \"state\": 7}").expect("damage");
    sync_and_compare(&source, true);
    assert_eq!(published(&server, repo), after);

    // An old folder made a branch changes what every changeset means: everything is
    // converted again, Main (and Dev) lose docs/ all through their history, and the sync is refused
    // unless forced.
    source["projects"][0]["branches"]
        .as_array_mut()
        .expect("branches")
        .push(
            json!({"path": "$/Contoso/Main/docs", "parent": "$/Contoso/Main",
                     "createdDate": "2021-02-05T10:00:00Z", "owner": "CONTOSO\\dana",
                     "description": "an old folder", "isDeleted": false}),
        );
    fixture.replace_history(&source);
    let refused = sync(&server, repo, &json!({}), "error");
    let message = refused["error_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("rewrote refs/heads/") && message.contains("force: true"),
        "{refused}"
    );
    assert_eq!(published(&server, repo), after, "nothing was published");
    sync(&server, repo, &json!({"force": true}), "complete");
    assert_same_as_fresh_import(&server, repo, "octo/tfvc-fresh-docs", &fixture.collection);
    let docs = published(&server, repo);
    assert!(docs.contains("docs\n"), "{docs}");
}

/// Runs `svnmucc` against `url` as `erin`; `config` is its configuration directory.
fn svnmucc(config: &Path, url: &str, args: &[&str]) {
    let out = Command::new("svnmucc")
        .arg("--config-dir")
        .arg(config)
        .args(["--non-interactive", "--username", "erin", "-U", url])
        .args(args)
        .output()
        .expect("svnmucc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn svn_output(args: &[&str]) -> String {
    let out = Command::new("svn")
        .args(["--non-interactive"])
        .args(args)
        .output()
        .expect("svn runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A sync over svn:// converts only the new revisions, which lean on what the checkpoint
/// carried: a commit to a tag that was a plain tag, a deletion of an old branch, a branch
/// copied from an old revision, mergeinfo that merges a branch made before the checkpoint,
/// an executable file changed, ignores changed on a copy of a directory that had some. The
/// result equals a fresh import; a second sync finds nothing new; a rewritten last revision
/// is refused unless forced; an unreadable checkpoint means a full conversion.
#[test]
fn a_subversion_sync_over_svnserve_converts_only_new_revisions() {
    use crate::subversion::{copy_repo, SvnServe};
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let served = copy_repo(&built.join("repo"), &dir.path().join("served"));
    let svnserve = SvnServe::start(&served, "nobody", "unused", true);
    let server = Server::start_with(&dir.path().join("data"), LOCAL);
    let repo = "octo/svn-served";
    server.put_import(repo, &json!({"vcs_url": svnserve.url}));
    server.wait_status(repo, "complete");
    let before = published(&server, repo);
    let checkpoint = dir
        .path()
        .join("data/repos/octo/svn-served.git/srcimport-svn/checkpoint");
    assert!(checkpoint.is_file(), "no checkpoint written");

    let file_url = format!("file://{}", served.display());
    let config = dir.path().join("svn-config");
    let youngest = |url: &str| -> u64 {
        svn_output(&["info", "--show-item", "revision", url])
            .trim()
            .parse()
            .expect("revision")
    };
    let converted = youngest(&file_url);
    let new_file = dir.path().join("new.txt");
    std::fs::write(&new_file, "new content\n").expect("write");
    let file = new_file.to_str().expect("utf-8");
    let trunk = format!("{file_url}/trunk");
    let mergeinfo = svn_output(&["propget", "svn:mergeinfo", &trunk]);
    let hotfix = format!("{file_url}/branches/hotfix");
    let first_log = svn_output(&[
        "log",
        "-q",
        "--stop-on-copy",
        "-r",
        "1:HEAD",
        "-l",
        "1",
        &hotfix,
    ]);
    let created: u64 = first_log
        .lines()
        .find_map(|l| l.strip_prefix('r')?.split(' ').next()?.parse().ok())
        .expect("hotfix's first revision");
    let range = format!("{created}-{converted}");
    let mut lines: Vec<String> = mergeinfo.lines().map(str::to_owned).collect();
    match lines
        .iter_mut()
        .find(|l| l.starts_with("/branches/hotfix:"))
    {
        Some(line) => *line = format!("{line},{range}"),
        None => lines.push(format!("/branches/hotfix:{range}")),
    }
    let merged = lines.join("\n");
    svnmucc(
        &config,
        &file_url,
        &["-m", "commit on tag 1.0", "put", file, "tags/1.0/late.txt"],
    );
    svnmucc(
        &config,
        &file_url,
        &["-m", "drop feature", "rm", "branches/feature"],
    );
    svnmucc(
        &config,
        &file_url,
        &[
            "-m",
            "branch from r5",
            "cp",
            "5",
            "trunk",
            "branches/from-r5",
        ],
    );
    svnmucc(
        &config,
        &file_url,
        &[
            "-m",
            "merge hotfix",
            "propset",
            "svn:mergeinfo",
            &merged,
            "trunk",
        ],
    );
    svnmucc(
        &config,
        &file_url,
        &["-m", "run.sh changes", "put", file, "trunk/run.sh"],
    );
    svnmucc(
        &config,
        &file_url,
        &["-m", "src2", "cp", "HEAD", "trunk/src", "trunk/src2"],
    );
    svnmucc(
        &config,
        &file_url,
        &[
            "-m",
            "ignore in src2",
            "propset",
            "svn:ignore",
            "*.bak",
            "trunk/src2",
        ],
    );

    sync(&server, repo, &json!({}), "complete");
    let log = server.log();
    assert!(
        log.contains(&format!(
            "resuming the Subversion conversion after r{converted}"
        )),
        "{log}"
    );
    let after = published(&server, repo);
    assert!(after.contains("\trefs/heads/tags/1.0\n"), "{after}");
    assert!(after.contains("\trefs/heads/from-r5\n"), "{after}");
    assert!(!after.contains("\trefs/heads/feature\n"), "{after}");
    let clone = dir.path().join("synced.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    let parents = git(
        &clone,
        &["rev-list", "--parents", "-n1", "refs/heads/main~3"],
    );
    assert_eq!(parents.split_whitespace().count(), 3, "a merge: {parents}");
    let mode = git(&clone, &["ls-tree", "refs/heads/main", "run.sh"]);
    assert!(mode.starts_with("100755"), "{mode}");
    let ignores = git(&clone, &["show", "refs/heads/main:src2/.gitignore"]);
    assert!(
        ignores.contains("*.cache") && ignores.contains("/*.bak"),
        "{ignores}"
    );
    assert_ids_kept(&server, dir.path(), repo, &before);
    assert_same_as_fresh_import(&server, repo, "octo/svn-served-fresh", &svnserve.url);

    // Nothing new: nothing converted, nothing changed.
    sync(&server, repo, &json!({}), "complete");
    assert!(server.log().contains("nothing new"));
    assert_eq!(published(&server, repo), after);

    // The last converted revision's log changed: the history is another one.
    let last = youngest(&file_url).to_string();
    let status = Command::new("svnadmin")
        .args(["setrevprop", "-r", &last])
        .arg(&served)
        .arg("svn:log")
        .arg(&new_file)
        .status()
        .expect("svnadmin");
    assert!(status.success());
    let refused = sync(&server, repo, &json!({}), "error");
    let message = refused["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("rewrote"), "{refused}");
    assert_eq!(published(&server, repo), after);
    sync(&server, repo, &json!({"force": true}), "complete");
    assert_same_as_fresh_import(&server, repo, "octo/svn-served-rewritten", &svnserve.url);

    // An unreadable checkpoint is no checkpoint: the whole history is converted again.
    std::fs::write(&checkpoint, b"{\"version\":1,").expect("spoil the checkpoint");
    svnmucc(
        &config,
        &file_url,
        &[
            "-m",
            "after the spoiled checkpoint",
            "put",
            file,
            "trunk/late.txt",
        ],
    );
    sync(&server, repo, &json!({}), "complete");
    assert_same_as_fresh_import(&server, repo, "octo/svn-served-spoiled", &svnserve.url);
    assert!(Checkpoint::load(&checkpoint).is_some(), "a new checkpoint");

    // A raw ref that is not what the checkpoint ended with: no resuming either.
    let hosted = dir.path().join("data/repos/octo/svn-served.git");
    git(
        &hosted,
        &["update-ref", "-d", "refs/srcimport/raw/heads/main"],
    );
    let resumed = |log: &str| log.matches("resuming the Subversion conversion").count();
    let before_resumes = resumed(&server.log());
    svnmucc(
        &config,
        &file_url,
        &["-m", "after a lost raw ref", "put", file, "trunk/lost.txt"],
    );
    sync(&server, repo, &json!({}), "complete");
    assert_eq!(resumed(&server.log()), before_resumes);
    assert_same_as_fresh_import(&server, repo, "octo/svn-served-lost-ref", &svnserve.url);
}
