//! Large files: detection, `/large_files`, opt-in (pointers + LFS objects fetched by the real
//! `git lfs` client), opt-out, undecided, opt-in before the import, and remaps after opt-in.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{fixture_with, git, GitSource, Server, TOKEN};

const SMALL_THRESHOLD: i64 = 1_000_000;

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A working clone of the hosted repo (LFS smudging off), with `git lfs` set up locally.
fn clone_work_tree(server: &Server, repo: &str, dest: &Path) {
    let url = server.authed_git_url(repo);
    run(Command::new("git")
        .args(["clone", "--quiet", &url])
        .arg(dest)
        .env("GIT_LFS_SKIP_SMUDGE", "1"));
    run(Command::new("git")
        .current_dir(dest)
        .args(["lfs", "install", "--local"]));
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start(server: &Server, source: &GitSource, repo: &str, extra: Value) {
    let mut body = json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, created) = server.request(
        "PUT",
        &format!("/repos/{repo}/import"),
        Some(TOKEN),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{created}");
}

fn wait_complete(server: &Server, repo: &str) -> Value {
    server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    })
}

fn set_lfs(server: &Server, repo: &str, choice: &str) {
    let (status, body) = server.request(
        "PATCH",
        &format!("/repos/{repo}/import/lfs"),
        Some(TOKEN),
        Some(&json!({"use_lfs": choice}).to_string()),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["use_lfs"], choice);
}

/// The conversion report lists both large files, as `kind`.
fn assert_report_kinds(server: &Server, repo: &str, kind: &str) {
    let (status, report) = server.get(&format!("/repos/{repo}/import/report"));
    assert_eq!(status, 200, "{report}");
    let entries: Vec<&Value> = report
        .as_array()
        .expect("list")
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect();
    let mut paths: Vec<&str> = entries.iter().filter_map(|e| e["path"].as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        ["assets/video/intro movie.bin", "big.iso"],
        "{report}"
    );
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    source: GitSource,
    server: Server,
}

fn setup(size: u64, server_env: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    fixture_with(
        "git/large-files.sh",
        &root.join("src"),
        &[&size.to_string()],
    );
    let source = GitSource::serve(&root.join("src"), None);
    let server = Server::start_with(&root.join("data"), server_env);
    Fixture {
        _dir: dir,
        root,
        source,
        server,
    }
}

/// Checks the pointers and fetches the objects with `git lfs pull`: same bytes as the source.
fn assert_lfs_round_trip(server: &Server, root: &Path, repo: &str, name: &str) {
    let work = root.join(name);
    clone_work_tree(server, repo, &work);
    let attributes = std::fs::read_to_string(work.join(".gitattributes")).expect(".gitattributes");
    assert!(
        attributes.starts_with("*.txt text\n"),
        "existing rules must survive: {attributes}"
    );
    assert!(
        attributes.contains("/big.iso filter=lfs diff=lfs merge=lfs -text"),
        "{attributes}"
    );
    assert!(
        attributes.contains("/assets/video/intro[[:space:]]movie.bin filter=lfs"),
        "{attributes}"
    );
    let pointer = std::fs::read_to_string(work.join("big.iso")).expect("pointer");
    assert!(
        pointer.starts_with("version https://git-lfs.github.com/spec/v1\noid sha256:"),
        "{pointer}"
    );
    run(Command::new("git").current_dir(&work).args(["lfs", "pull"]));
    let source_git = root.join("src/source.git");
    for path in ["big.iso", "assets/video/intro movie.bin"] {
        let original = Command::new("git")
            .arg("--git-dir")
            .arg(&source_git)
            .args(["cat-file", "blob", &format!("main:{path}")])
            .output()
            .expect("git cat-file")
            .stdout;
        let fetched = std::fs::read(work.join(path)).expect("fetched file");
        assert_eq!(sha256_hex(&fetched), sha256_hex(&original), "{path}");
        if path == "big.iso" {
            let expected = format!(
                "oid sha256:{}\nsize {}\n",
                sha256_hex(&original),
                original.len()
            );
            assert!(pointer.ends_with(&expected), "{pointer}");
        }
    }
}

#[test]
fn undecided_leaves_large_files_out_until_opt_in_brings_them_back_as_lfs() {
    let fx = setup(3 * 1024 * 1024, &[]);
    let repo = "octo/media";
    start(
        &fx.server,
        &fx.source,
        repo,
        json!({"lfs_threshold": SMALL_THRESHOLD}),
    );
    let done = wait_complete(&fx.server, repo);
    assert_eq!(done["use_lfs"], "undecided");
    assert_eq!(done["has_large_files"], true);
    assert_eq!(done["large_files_count"], 2);
    assert_eq!(done["large_files_size"], 2 * 3 * 1024 * 1024);
    let (_, files) = fx.server.get(&format!("/repos/{repo}/import/large_files"));
    let files = files.as_array().expect("list").clone();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["ref_name"], "refs/heads/main");
    assert_eq!(files[0]["path"], "assets/video/intro movie.bin");
    assert_eq!(files[1]["path"], "big.iso");
    assert_eq!(files[1]["size"], 3 * 1024 * 1024);
    assert_eq!(files[1]["oid"].as_str().map(str::len), Some(40));

    // Undecided: nothing over the threshold is pushed.
    let bare = fx.root.join("undecided.git");
    let url = fx.server.authed_git_url(repo);
    assert!(crate::support::try_clone(&url, &bare));
    let tree = git(&bare, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        !tree.contains("big.iso") && !tree.contains("intro movie.bin"),
        "{tree}"
    );
    assert!(tree.contains("README.md"));

    assert_report_kinds(&fx.server, repo, "large_file_removed");

    set_lfs(&fx.server, repo, "opt_in");
    let done = wait_complete(&fx.server, repo);
    assert_eq!(done["use_lfs"], "opt_in");
    assert_report_kinds(&fx.server, repo, "large_file_in_lfs");
    assert_lfs_round_trip(&fx.server, &fx.root, repo, "opted-in");
}

#[test]
fn opt_in_before_the_import_and_remap_after_it_keep_pointers() {
    let fx = setup(3 * 1024 * 1024, &[]);
    let repo = "octo/early";
    start(
        &fx.server,
        &fx.source,
        repo,
        json!({"lfs_threshold": SMALL_THRESHOLD, "use_lfs": "opt_in"}),
    );
    let done = wait_complete(&fx.server, repo);
    assert_eq!(done["use_lfs"], "opt_in");
    assert_lfs_round_trip(&fx.server, &fx.root, repo, "first-push");

    fx.server
        .map_author(repo, "Lara Large", "Lara L.", "lara@new.example");
    wait_complete(&fx.server, repo);
    assert_lfs_round_trip(&fx.server, &fx.root, repo, "after-remap");
    let log = git(
        &fx.root.join("after-remap/.git"),
        &["log", "--format=%an <%ae>", "main"],
    );
    assert!(
        log.lines().all(|l| l == "Lara L. <lara@new.example>"),
        "{log}"
    );
}

#[test]
fn opt_out_removes_large_files_from_history() {
    let fx = setup(
        3 * 1024 * 1024,
        &[("SRCIMPORT_LARGE_FILE_THRESHOLD", "1000000")],
    );
    let repo = "octo/slim";
    start(&fx.server, &fx.source, repo, json!({}));
    wait_complete(&fx.server, repo);
    set_lfs(&fx.server, repo, "opt_out");
    let done = wait_complete(&fx.server, repo);
    assert_eq!(done["large_files_count"], 2, "the files stay listed");
    assert_report_kinds(&fx.server, repo, "large_file_removed");
    let bare = fx.root.join("slim.git");
    let url = fx.server.authed_git_url(repo);
    assert!(crate::support::try_clone(&url, &bare));
    let all_paths = git(&bare, &["log", "--all", "--name-only", "--format="]);
    assert!(!all_paths.contains("big.iso"), "{all_paths}");
    let biggest = git(
        &bare,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectsize)",
        ],
    );
    assert!(biggest
        .lines()
        .filter_map(|l| l.parse::<u64>().ok())
        .all(|s| s <= 1_000_000));
    assert_eq!(git(&bare, &["rev-list", "--count", "--all"]).trim(), "5");
}

#[test]
fn a_file_over_the_real_100_mib_default_goes_to_lfs() {
    let size = 100 * 1024 * 1024 + 1;
    let fx = setup(size, &[]);
    let repo = "octo/huge";
    start(&fx.server, &fx.source, repo, json!({}));
    let done = wait_complete(&fx.server, repo);
    assert_eq!(done["large_files_count"], 2);
    assert_eq!(done["large_files_size"], 2 * size);
    set_lfs(&fx.server, repo, "opt_in");
    wait_complete(&fx.server, repo);
    assert_lfs_round_trip(&fx.server, &fx.root, repo, "huge");
}

#[test]
fn lfs_batch_api_verifies_uploads_and_checks_access() {
    let fx = setup(3 * 1024 * 1024, &[]);
    let repo = "octo/objects";
    start(
        &fx.server,
        &fx.source,
        repo,
        json!({"lfs_threshold": SMALL_THRESHOLD, "use_lfs": "opt_in"}),
    );
    wait_complete(&fx.server, repo);
    let batch_url = fx
        .server
        .url(&format!("/{repo}.git/info/lfs/objects/batch"));
    let content = b"hello large world\n";
    let oid = sha256_hex(content);
    let batch = |token: Option<&str>, operation: &str| -> (u16, Value) {
        let mut request = ureq::post(&batch_url).set("Accept", "application/vnd.git-lfs+json");
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let objects = json!([{"oid": oid, "size": content.len()}]);
        match request
            .send_json(json!({"operation": operation, "transfers": ["basic"], "objects": objects}))
        {
            Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("batch: {e}"),
        }
    };
    // Private repository: no token, no answer.
    assert_eq!(batch(None, "download").0, 401);
    let answer: Value = batch(Some(TOKEN), "download").1;
    assert_eq!(answer["objects"][0]["error"]["code"], 404);
    let answer: Value = batch(Some(TOKEN), "upload").1;
    let href = answer["objects"][0]["actions"]["upload"]["href"]
        .as_str()
        .expect("upload href")
        .to_owned();

    // Wrong bytes are refused and nothing is stored.
    let wrong = ureq::put(&href)
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .send_bytes(b"not the content")
        .map(|r| r.status())
        .unwrap_or_else(|e| match e {
            ureq::Error::Status(code, _) => code,
            other => panic!("upload: {other}"),
        });
    assert_eq!(wrong, 422);
    let answer: Value = batch(Some(TOKEN), "download").1;
    assert_eq!(answer["objects"][0]["error"]["code"], 404);

    let stored = ureq::put(&href)
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .send_bytes(content)
        .expect("upload");
    assert_eq!(stored.status(), 200);
    let answer: Value = batch(Some(TOKEN), "download").1;
    let href = answer["objects"][0]["actions"]["download"]["href"]
        .as_str()
        .expect("download href")
        .to_owned();
    let body = ureq::get(&href)
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .call()
        .expect("download")
        .into_string()
        .expect("text");
    assert_eq!(body.as_bytes(), content);
    let leftovers = std::fs::read_dir(fx.server.data.join("repos/octo/objects.git/lfs/tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0, "temporary upload files left behind");
}

/// A source that already uses Git LFS (a second, real srcimport serving pointers and the
/// LFS batch API) keeps its objects: they are fetched, stored and served again.
#[test]
fn a_source_already_on_lfs_keeps_its_objects() {
    let fx = setup(3 * 1024 * 1024, &[]);
    let upstream_repo = "octo/upstream";
    start(
        &fx.server,
        &fx.source,
        upstream_repo,
        json!({"lfs_threshold": SMALL_THRESHOLD, "use_lfs": "opt_in"}),
    );
    wait_complete(&fx.server, upstream_repo);

    // The second server imports from the first one's hosted repository, with its token.
    let second = Server::start(&fx.root.join("second-data"));
    let body = json!({
        "vcs": "git",
        "vcs_url": fx.server.url(&format!("/{upstream_repo}.git")),
        "vcs_username": "x",
        "vcs_password": TOKEN,
    });
    let repo = "mirror/media";
    let (status, created) = second.request(
        "PUT",
        &format!("/repos/{repo}/import"),
        Some(TOKEN),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{created}");
    let done = wait_complete(&second, repo);
    assert_eq!(
        done["large_files_count"], 0,
        "pointers are small files: {done}"
    );
    assert_lfs_round_trip(&second, &fx.root, repo, "from-lfs-source");
}

#[test]
fn a_server_default_of_opt_in_makes_the_first_push_use_lfs() {
    let fx = setup(
        3 * 1024 * 1024,
        &[
            ("SRCIMPORT_DEFAULT_USE_LFS", "opt_in"),
            ("SRCIMPORT_LARGE_FILE_THRESHOLD", "1000000"),
        ],
    );
    let repo = "octo/defaults";
    start(&fx.server, &fx.source, repo, json!({}));
    let done = wait_complete(&fx.server, repo);
    assert_eq!(done["use_lfs"], "opt_in");
    assert_lfs_round_trip(&fx.server, &fx.root, repo, "server-default");
}
