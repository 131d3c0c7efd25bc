//! Subversion sources through the API: a dump file imported with its branches, tags, notes,
//! authors (`user@UUID`) and conversion report; a malformed dump refused with the byte
//! offset of the problem and nothing published.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::{fixture, git, try_clone, GitSource, Server};

pub(crate) const LOCAL: &[(&str, &str)] = &[("SRCIMPORT_ALLOW_LOCAL_SOURCES", "1")];

/// Builds `fixtures/svn/features.sh` into `dest`; returns the directory.
pub(crate) fn features(dest: &Path) -> PathBuf {
    fixture("svn/features.sh", dest);
    dest.to_owned()
}

/// The repository UUID of a Subversion repository on disk.
pub(crate) fn uuid_of(svn_repo: &Path) -> String {
    std::fs::read_to_string(svn_repo.join("db/uuid"))
        .expect("repository uuid")
        .lines()
        .next()
        .expect("uuid line")
        .to_owned()
}

#[test]
fn dump_file_imports_with_branches_tags_authors_and_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let uuid = uuid_of(&built.join("repo"));
    let server = Server::start_with(&dir.path().join("data"), LOCAL);
    let repo = "octo/from-svn";
    let dump = built.join("repo.dump");
    server.put_import(
        repo,
        &json!({"vcs_url": dump.to_str().expect("utf-8 path")}),
    );
    let done = server.wait_status(repo, "complete");
    assert_eq!(done["vcs"], "subversion", "detected from the dump's header");

    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    let refs = git(
        &clone,
        &["for-each-ref", "--format=%(refname) %(objecttype)"],
    );
    for wanted in [
        "refs/heads/main commit",
        "refs/heads/feature commit",
        "refs/heads/bad_name commit",
        "refs/heads/tags/1.1 commit",
        "refs/tags/1.0 tag",
        "refs/tags/src-only tag",
    ] {
        assert!(refs.contains(wanted), "{wanted} missing from\n{refs}");
    }
    // Deleted branches and the revision notes are published beside the branches.
    let remote = git(&clone, &["ls-remote", &server.authed_git_url(repo)]);
    assert!(
        remote.contains("refs/svn/deleted/branches/sub-feature@"),
        "{remote}"
    );
    assert!(remote.contains("refs/notes/svn"), "{remote}");
    let (_, authors) = server.get(&format!("/repos/{repo}/import/authors"));
    let authors = authors.as_array().expect("authors").clone();
    let alice = authors
        .iter()
        .find(|a| a["remote_name"] == "alice")
        .unwrap_or_else(|| panic!("alice in {authors:?}"));
    assert_eq!(alice["remote_id"], format!("alice@{uuid}"));
    assert_eq!(alice["email"], format!("alice@{uuid}"));
    assert!(
        authors.iter().any(|a| a["remote_name"] == "no-author"),
        "a revision without svn:author has a placeholder: {authors:?}"
    );
    let (status, report) = server.get(&format!("/repos/{repo}/import/report"));
    assert_eq!(status, 200);
    let kinds: Vec<&str> = report
        .as_array()
        .expect("report list")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"svn_externals"), "{report}");
    assert!(kinds.contains(&"partial_merge"), "{report}");

    // Remapping rewrites identities only: the trees stay, the raw import is not redone.
    server.map_author(repo, "alice", "Alice Example", "alice@example.com");
    server.wait_status(repo, "complete");
    let remapped = dir.path().join("remapped.git");
    assert!(try_clone(&server.authed_git_url(repo), &remapped));
    let emails = git(&remapped, &["log", "--all", "--format=%ae"]);
    assert!(emails.contains("alice@example.com"), "{emails}");
    assert!(!emails.contains(&format!("alice@{uuid}")), "{emails}");
    assert_eq!(
        git(&clone, &["rev-parse", "main^{tree}"]),
        git(&remapped, &["rev-parse", "main^{tree}"])
    );
}

#[test]
fn malformed_dump_fails_with_its_byte_offset_and_publishes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("bad.dump");
    std::fs::write(
        &dump,
        "SVN-fs-dump-format-version: 2\n\nRevision-number: 0\nProp-content-length: 56\n\
         Content-length: 56\n\nK 8\nsvn:date\nV 8\nbad date\nPROPS-END\n\n",
    )
    .expect("dump");
    let server = Server::start_with(&dir.path().join("data"), LOCAL);
    let repo = "octo/bad-svn";
    server.put_import(
        repo,
        &json!({"vcs": "subversion", "vcs_url": dump.to_str().expect("utf-8 path")}),
    );
    let failed = server.wait_status(repo, "error");
    let message = failed["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("byte "), "{failed}");
    assert!(message.contains("svn:date"), "{failed}");
    let clone = dir.path().join("clone.git");
    if try_clone(&server.authed_git_url(repo), &clone) {
        assert_eq!(git(&clone, &["for-each-ref"]), "", "nothing published");
    }
}

#[test]
fn several_projects_offer_choices_and_a_patch_picks_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = dir.path().join("svn");
    fixture("svn/multi-project.sh", &built);
    let server = Server::start_with(&dir.path().join("data"), LOCAL);
    let repo = "octo/multi";
    let dump = built.join("repo.dump");
    server.put_import(
        repo,
        &json!({"vcs_url": dump.to_str().expect("utf-8 path")}),
    );
    let offered = server.wait_status(repo, "detection_found_multiple");
    let choices = offered["project_choices"]
        .as_array()
        .expect("choices")
        .clone();
    assert_eq!(
        choices,
        vec![
            json!({"vcs": "subversion", "tfvc_project": null, "human_name": "alpha (/alpha)"}),
            json!({"vcs": "subversion", "tfvc_project": null, "human_name": "beta (/beta)"}),
        ]
    );
    // A client sends one of the choices back, as GitHub documented.
    let (status, _) = server.patch_import(repo, &choices[1]);
    assert_eq!(status, 200);
    server.wait_status(repo, "complete");
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    let files = git(&clone, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(!files.is_empty());
    let notes = git(&clone, &["log", "--notes=svn", "--format=%N", "--all"]);
    assert!(notes.contains("svn-path: /beta/trunk"), "{notes}");
    assert!(
        !notes.contains("/alpha/"),
        "only the chosen project: {notes}"
    );
}

#[test]
fn explicit_layout_fields_override_detection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let server = Server::start_with(&dir.path().join("data"), LOCAL);
    let repo = "octo/whole";
    let dump = built.join("repo.dump");
    // trunk "" with no branch or tag patterns: the whole repository is one branch.
    server.put_import(
        repo,
        &json!({
            "vcs": "subversion",
            "vcs_url": dump.to_str().expect("utf-8 path"),
            "svn_trunk": "",
            "svn_branches": [],
            "svn_tags": [],
        }),
    );
    server.wait_status(repo, "complete");
    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    let top = git(&clone, &["ls-tree", "--name-only", "main"]);
    assert_eq!(
        top.lines().collect::<Vec<_>>(),
        ["branches", "tags", "trunk"]
    );
    assert_eq!(git(&clone, &["for-each-ref", "refs/tags"]), "");
    // A wrong type is a 422 naming the field, not a silent default.
    let (status, body) = server.request(
        "PUT",
        "/repos/octo/typo/import",
        Some(crate::support::TOKEN),
        Some(&json!({"vcs_url": "x.dump", "svn_branches": "branches"}).to_string()),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "svn_branches", "{body}");
}

/// A copy of a repository (each svnserve gets its own configuration).
pub(crate) fn copy_repo(repo: &Path, dest: &Path) -> PathBuf {
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(repo)
        .arg(dest)
        .status()
        .expect("cp");
    assert!(copied.success());
    dest.to_owned()
}

/// `svnserve` on 127.0.0.1 with an OS-chosen port, anonymous access off, killed on drop.
pub(crate) struct SvnServe {
    pub(crate) url: String,
    child: std::process::Child,
}

impl SvnServe {
    /// Serves `repo`; with `anonymous`, anyone may read, else only `user`.
    pub(crate) fn start(repo: &Path, user: &str, password: &str, anonymous: bool) -> SvnServe {
        let anon = if anonymous { "read" } else { "none" };
        std::fs::write(
            repo.join("conf/svnserve.conf"),
            format!("[general]\nanon-access = {anon}\nauth-access = read\npassword-db = passwd\n"),
        )
        .expect("svnserve.conf");
        std::fs::write(
            repo.join("conf/passwd"),
            format!("[users]\n{user} = {password}\n"),
        )
        .expect("passwd");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = std::process::Command::new("svnserve")
            .args(["-d", "--foreground", "--listen-host", "127.0.0.1"])
            .args(["--listen-port", &port.to_string(), "-r"])
            .arg(repo)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("svnserve starts (install subversion)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "svnserve never listened"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        SvnServe {
            url: format!("svn://127.0.0.1:{port}/"),
            child,
        }
    }
}

impl Drop for SvnServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Over svnserve with a password: detection asks for credentials, a PATCH supplies them,
/// and the result is the same history the dump gives (and anonymous svnserve and file://
/// too).
#[test]
fn svnserve_with_auth_and_file_urls_give_the_dumps_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let served = copy_repo(&built.join("repo"), &dir.path().join("served"));
    let svnserve = SvnServe::start(&served, "alice", "s3cret-pass", false);
    let server = Server::start_with(&dir.path().join("data"), LOCAL);

    server.put_import("octo/served", &json!({"vcs_url": svnserve.url}));
    let asked = server.wait_status("octo/served", "detection_needs_auth");
    assert!(asked["vcs"].is_null(), "{asked}");
    let wrong = json!({"vcs_username": "alice", "vcs_password": "wrong-pass"});
    server.patch_import("octo/served", &wrong);
    server.wait_status("octo/served", "detection_needs_auth");
    let right = json!({"vcs_username": "alice", "vcs_password": "s3cret-pass"});
    let (status, _) = server.patch_import("octo/served", &right);
    assert_eq!(status, 200);
    let done = server.wait_status("octo/served", "complete");
    assert_eq!(done["vcs"], "subversion");

    let open_served = copy_repo(&built.join("repo"), &dir.path().join("open-served"));
    let anonymous = SvnServe::start(&open_served, "nobody", "unused", true);
    server.put_import("octo/anonymous", &json!({"vcs_url": anonymous.url}));
    server.wait_status("octo/anonymous", "complete");

    let file_url = format!("file://{}", built.join("repo").display());
    server.put_import("octo/file", &json!({"vcs_url": file_url}));
    server.wait_status("octo/file", "complete");
    let dump = built.join("repo.dump");
    server.put_import(
        "octo/dump",
        &json!({"vcs_url": dump.to_str().expect("utf-8")}),
    );
    server.wait_status("octo/dump", "complete");

    let refs = |repo: &str| {
        let clone = dir.path().join(repo.replace('/', "-"));
        assert!(try_clone(&server.authed_git_url(repo), &clone));
        git(&clone, &["ls-remote", &server.authed_git_url(repo)])
    };
    let from_dump = refs("octo/dump");
    assert!(from_dump.contains("refs/heads/main"));
    assert_eq!(refs("octo/served"), from_dump);
    assert_eq!(refs("octo/anonymous"), from_dump);
    assert_eq!(refs("octo/file"), from_dump);
    let log = server.log();
    assert!(
        !log.contains("s3cret-pass") && !log.contains("wrong-pass"),
        "{log}"
    );
}

/// A history converted in several git fast-import runs, each resumed from the last one's
/// checkpoint, is the history one run gives; the checkpoint of the last run is left for
/// syncs.
#[test]
fn a_history_converted_in_several_fast_import_runs_equals_one_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let youngest: u64 = std::process::Command::new("svnlook")
        .arg("youngest")
        .arg(built.join("repo"))
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("youngest")
        })
        .expect("svnlook runs");
    let per_run = 5;
    let in_runs = Server::start_with(
        &dir.path().join("in-runs"),
        &[
            ("SRCIMPORT_ALLOW_LOCAL_SOURCES", "1"),
            ("SRCIMPORT_SVN_REVISIONS_PER_RUN", "5"),
        ],
    );
    let at_once = Server::start_with(&dir.path().join("at-once"), LOCAL);
    let dump = json!({"vcs_url": built.join("repo.dump").to_str().expect("utf-8")});
    let file_url = json!({"vcs_url": format!("file://{}", built.join("repo").display())});
    in_runs.put_import("octo/dump", &dump);
    in_runs.put_import("octo/file", &file_url);
    at_once.put_import("octo/dump", &dump);
    for (server, repo) in [
        (&in_runs, "octo/dump"),
        (&in_runs, "octo/file"),
        (&at_once, "octo/dump"),
    ] {
        server.wait_status(repo, "complete");
    }
    let refs =
        |server: &Server, repo: &str| git(dir.path(), &["ls-remote", &server.authed_git_url(repo)]);
    let one_run = refs(&at_once, "octo/dump");
    assert!(one_run.contains("refs/notes/svn"), "{one_run}");
    assert_eq!(refs(&in_runs, "octo/dump"), one_run);
    assert_eq!(refs(&in_runs, "octo/file"), one_run);
    let runs = (youngest + 1).div_ceil(per_run);
    let log = in_runs.log();
    assert_eq!(
        log.matches("git fast-import run").count() as u64,
        2 * runs,
        "{runs} runs for each of the two imports of r0..=r{youngest}:\n{log}"
    );
    assert_eq!(at_once.log().matches("git fast-import run").count(), 1);
}

/// A dump given as an HTTP URL is detected by its first bytes, asks for credentials, and
/// imports the same history as the local file; a URL that serves something else is refused.
#[test]
fn dump_files_over_http_import_like_local_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let served = dir.path().join("served");
    std::fs::create_dir_all(&served).expect("served dir");
    std::fs::copy(built.join("repo.dump"), served.join("features.dump")).expect("copy");
    std::fs::write(served.join("fake.dump"), "<html>not a dump</html>").expect("fake");
    let source = GitSource::serve(&served, Some(("dumper", "d0wnload-pass")));
    let server = Server::start_with(&dir.path().join("data"), LOCAL);

    let url = format!("{}/features.dump", source.base);
    server.put_import("octo/http-dump", &json!({"vcs_url": url}));
    server.wait_status("octo/http-dump", "detection_needs_auth");
    let right = json!({"vcs_username": "dumper", "vcs_password": "d0wnload-pass"});
    let (status, _) = server.patch_import("octo/http-dump", &right);
    assert_eq!(status, 200);
    let done = server.wait_status("octo/http-dump", "complete");
    assert_eq!(done["vcs"], "subversion", "{done}");

    let dump = built.join("repo.dump");
    server.put_import(
        "octo/local-dump",
        &json!({"vcs_url": dump.to_str().expect("utf-8")}),
    );
    server.wait_status("octo/local-dump", "complete");
    let refs = |repo: &str| {
        let clone = dir.path().join(repo.replace('/', "-"));
        assert!(try_clone(&server.authed_git_url(repo), &clone));
        git(&clone, &["ls-remote", &server.authed_git_url(repo)])
    };
    let local = refs("octo/local-dump");
    assert!(local.contains("refs/heads/main"), "{local}");
    assert_eq!(refs("octo/http-dump"), local);

    let fake = format!("{}/fake.dump", source.base);
    server.put_import(
        "octo/fake-dump",
        &json!({"vcs": "subversion", "vcs_url": fake, "vcs_username": "dumper", "vcs_password": "d0wnload-pass"}),
    );
    let failed = server.wait_status("octo/fake-dump", "error");
    let message = failed["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("not a Subversion dump file"), "{failed}");
    let log = server.log();
    assert!(!log.contains("d0wnload-pass"), "{log}");
    let leftovers: Vec<_> = walk_names(&dir.path().join("data"))
        .into_iter()
        .filter(|name| name.starts_with("srcimport-dump-"))
        .collect();
    assert!(leftovers.is_empty(), "downloads left behind: {leftovers:?}");
}

/// Every file and directory name under `root`.
fn walk_names(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            names.push(entry.file_name().to_string_lossy().into_owned());
            if entry.path().is_dir() {
                pending.push(entry.path());
            }
        }
    }
    names
}
