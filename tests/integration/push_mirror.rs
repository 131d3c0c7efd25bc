//! Push mirrors: after every successful import and remap the published history is pushed
//! to a real `git http-backend` behind Basic auth; wrong credentials fail clearly, and a
//! PATCH with the right ones retries the push.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::{fixture, fixture_with, git, try_clone, GitSource, Server, TOKEN};

const PASSWORD: &str = "mirror-pass-8c1f";

/// Every published ref (`refname sha`), as `publish::PUBLISHED_NAMESPACES` lists them.
pub fn published(dir: &Path) -> String {
    git(
        dir,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads",
            "refs/tags",
            "refs/notes",
            "refs/svn",
        ],
    )
}

/// An empty bare repository that accepts pushes over http-backend.
fn mirror_repo(root: &Path) {
    let path = root.join("mirror.git");
    let status = Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(&path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .expect("git init");
    assert!(status.success());
    git(&path, &["config", "http.receivepack", "true"]);
}

pub fn hosted(server: &Server, repo: &str, dest: &Path) -> String {
    let _ = std::fs::remove_dir_all(dest);
    assert!(try_clone(&server.authed_git_url(repo), dest));
    published(dest)
}

/// `PUT /import` of `source`'s `source.git`, mirrored to `push_url` with `credentials`
/// (user, password), plus the `extra` fields; returns the created import.
pub fn put_mirrored(
    server: &Server,
    repo: &str,
    source: &GitSource,
    push_url: &str,
    (username, password): (&str, &str),
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut body = json!({
        "vcs": "git",
        "vcs_url": format!("{}/source.git", source.base),
        "push_url": push_url,
        "push_username": username,
        "push_password": password,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    server.put_import(repo, &body)
}

#[test]
fn imports_and_remaps_are_mirrored_with_every_published_ref() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let mirrors = dir.path().join("mirrors");
    mirror_repo(&mirrors);
    let target = GitSource::serve(&mirrors, Some(("pusher", PASSWORD)));
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/mirrored";
    let push_url = format!("{}/mirror.git", target.base);
    let created = put_mirrored(
        &server,
        repo,
        &source,
        &push_url,
        ("pusher", PASSWORD),
        json!({}),
    );
    assert_eq!(created["push_url"], format!("{}/mirror.git", target.base));
    assert!(!created.to_string().contains(PASSWORD));
    let done = server.wait_status(repo, "complete");
    assert_eq!(done["push_percent"], 100);

    let mirror = mirrors.join("mirror.git");
    let first = hosted(&server, repo, &dir.path().join("hosted.git"));
    assert!(first.contains("refs/heads/"), "{first}");
    assert_eq!(published(&mirror), first);

    // A remap rewrites history: the mirror follows, forced.
    server.map_author(repo, "Alice Liddell", "Alice P.", "alice@p.example");
    server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    let second = hosted(&server, repo, &dir.path().join("hosted2.git"));
    assert_ne!(second, first, "the remap changed commit ids");
    assert_eq!(published(&mirror), second);

    let (_, shown) = server.get(&format!("/repos/{repo}/import"));
    assert!(!shown.to_string().contains(PASSWORD), "{shown}");
    assert!(!server.log().contains(PASSWORD));
}

#[test]
fn wrong_mirror_credentials_fail_clearly_and_a_patch_retries_the_push() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = "octo/denied";
    let case = mirrored(
        dir.path(),
        ("git/basic.sh", &[]),
        &[],
        (repo, "wrong-password-77"),
        json!({}),
    );
    let failed = case.server.wait_status(repo, "auth_failed");
    assert_eq!(failed["failed_step"], "pushing", "{failed}");
    let message = failed["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("push mirror"), "{message}");
    assert!(message.contains("push_password"), "{message}");
    assert!(!failed.to_string().contains("wrong-password-77"));
    assert!(!case.server.log().contains("wrong-password-77"));
    // The hosted repository was published all the same.
    let hosted_refs = hosted(&case.server, repo, &dir.path().join("hosted.git"));
    assert!(published(&case.mirrors.join("mirror.git")).is_empty());

    // The same wrong password again: the push alone is retried, and fails again.
    let patch = |body: serde_json::Value| {
        let (status, patched) = case.server.request(
            "PATCH",
            &format!("/repos/{repo}/import"),
            Some(TOKEN),
            Some(&body.to_string()),
        );
        assert_eq!(status, 200, "{patched}");
    };
    patch(json!({"push_password": "wrong-password-77"}));
    let again = case.server.wait_status(repo, "auth_failed");
    assert_eq!(again["failed_step"], "pushing", "{again}");
    patch(json!({"push_password": PASSWORD}));
    case.server.wait_status(repo, "complete");
    assert_eq!(published(&case.mirrors.join("mirror.git")), hosted_refs);
    assert!(!case.server.log().contains(PASSWORD));
}

#[test]
fn a_push_url_at_a_refused_address_is_422() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"));
    let (status, body) = server.request(
        "PUT",
        "/repos/octo/refused/import",
        Some(TOKEN),
        Some(
            &json!({"vcs_url": "https://example.com/x.git", "push_url": "http://169.254.169.254/x.git"})
                .to_string(),
        ),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "push_url");
}

/// The LFS objects under `dir` (a `lfs/objects/aa/bb/OID` store, or a flat directory).
pub fn lfs_oids(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                if name.len() == 64 {
                    found.push(name.to_owned());
                }
            }
        }
    }
    found.sort();
    found
}

/// A fixture's `source.git` served over HTTP, `ROOT/mirrors/mirror.git` served behind Basic
/// auth (as `pusher`/[`PASSWORD`]), and a server (with `env`) importing the source into
/// `repo` with that mirror, the push `password` and the `extra` import fields.
struct Mirrored {
    server: Server,
    mirrors: std::path::PathBuf,
    _source: GitSource,
    _target: GitSource,
}

fn mirrored(
    root: &Path,
    (script, args): (&str, &[&str]),
    env: &[(&str, &str)],
    (repo, password): (&str, &str),
    extra: serde_json::Value,
) -> Mirrored {
    fixture_with(script, &root.join("src"), args);
    let source = GitSource::serve(&root.join("src"), None);
    let mirrors = root.join("mirrors");
    counting_mirror_repo(&mirrors);
    let target = GitSource::serve(&mirrors, Some(("pusher", PASSWORD)));
    let server = Server::start_with(&root.join("data"), env);
    let push_url = format!("{}/mirror.git", target.base);
    put_mirrored(
        &server,
        repo,
        &source,
        &push_url,
        ("pusher", password),
        extra,
    );
    Mirrored {
        server,
        mirrors,
        _source: source,
        _target: target,
    }
}

#[test]
fn lfs_objects_reach_the_mirror_with_the_refs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = "octo/large";
    let case = mirrored(
        dir.path(),
        ("git/large-files.sh", &["2000000"]),
        &[],
        (repo, PASSWORD),
        json!({"use_lfs": "opt_in", "lfs_threshold": 1_000_000}),
    );
    case.server.wait_status(repo, "complete");
    let hosted_objects = lfs_oids(&dir.path().join("data/repos/octo/large.git/lfs/objects"));
    assert_eq!(hosted_objects.len(), 2, "{hosted_objects:?}");
    assert_eq!(lfs_oids(&case.mirrors.join("lfs-objects")), hosted_objects);
    let hosted_refs = hosted(&case.server, repo, &dir.path().join("hosted.git"));
    assert_eq!(published(&case.mirrors.join("mirror.git")), hosted_refs);
    assert!(!case.server.log().contains(PASSWORD));
}

#[test]
fn the_server_wide_template_mirrors_every_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let mirrors = dir.path().join("mirrors");
    mirror_repo(&mirrors);
    std::fs::rename(mirrors.join("mirror.git"), mirrors.join("templated.git")).expect("rename");
    let target = GitSource::serve(&mirrors, Some(("pusher", PASSWORD)));
    let template = format!("{}/{{repo}}.git", target.base);
    let server = Server::start_with(
        &dir.path().join("data"),
        &[
            ("SRCIMPORT_PUSH_MIRROR_TEMPLATE", template.as_str()),
            ("SRCIMPORT_PUSH_MIRROR_USERNAME", "pusher"),
            ("SRCIMPORT_PUSH_MIRROR_PASSWORD", PASSWORD),
        ],
    );
    let repo = "octo/templated";
    let created = server.put_import(
        repo,
        &json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}),
    );
    assert!(created.get("push_url").is_none(), "{created}");
    server.wait_status(repo, "complete");
    let hosted_refs = hosted(&server, repo, &dir.path().join("hosted.git"));
    assert!(!hosted_refs.is_empty());
    assert_eq!(published(&mirrors.join("templated.git")), hosted_refs);
    assert!(!server.log().contains(PASSWORD));
}

/// A mirror repository that keeps every push as a pack of its own and counts the pushes
/// (a post-receive hook appends a line per push to `ROOT/pushes.log`).
fn counting_mirror_repo(root: &Path) -> std::path::PathBuf {
    mirror_repo(root);
    let path = root.join("mirror.git");
    git(&path, &["config", "receive.unpackLimit", "1"]);
    let log = root.join("pushes.log");
    let hook = path.join("hooks/post-receive");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\necho push >> '{}'\n", log.display()),
    )
    .expect("hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn pushes_received(root: &Path) -> usize {
    std::fs::read_to_string(root.join("pushes.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

fn pack_sizes(git_dir: &Path) -> Vec<u64> {
    std::fs::read_dir(git_dir.join("objects/pack"))
        .expect("pack dir")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
        .map(|e| e.metadata().expect("metadata").len())
        .collect()
}

/// Imports `many-blobs.sh` with these arguments and mirrors it under `limit` bytes a push;
/// the mirror ends equal to the hosted repository.
/// Also returns the `push_percent` values seen while the import was `pushing`.
fn mirror_with_limit(dir: &Path, fixture_args: &[&str], limit: u64) -> (Mirrored, Vec<i64>) {
    let limit = limit.to_string();
    let repo = "octo/stepped";
    let mirrored = mirrored(
        dir,
        ("git/many-blobs.sh", fixture_args),
        &[("SRCIMPORT_PUSH_SIZE_LIMIT", limit.as_str())],
        (repo, PASSWORD),
        json!({}),
    );
    let mut seen = Vec::new();
    let done = mirrored.server.wait_import(repo, |body| {
        if let (Some("pushing"), Some(percent)) =
            (body["status"].as_str(), body["push_percent"].as_i64())
        {
            if seen.last() != Some(&percent) {
                seen.push(percent);
            }
        }
        !matches!(
            body["status"].as_str(),
            Some("detecting" | "importing" | "mapping" | "pushing")
        )
    });
    assert_eq!(done["status"], "complete", "{done}");
    assert_eq!(done["push_percent"], 100);
    let hosted_refs = hosted(&mirrored.server, repo, &dir.join("hosted.git"));
    assert!(hosted_refs.contains("refs/tags/v1"), "{hosted_refs}");
    assert_eq!(published(&mirrored.mirrors.join("mirror.git")), hosted_refs);
    (mirrored, seen)
}

#[test]
fn a_history_over_the_push_size_limit_is_pushed_in_steps_under_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limit = 512 * 1024;
    // 40 commits of 100 KiB incompressible blobs (4 MiB and more) on three branches.
    let (case, percents) = mirror_with_limit(dir.path(), &[], limit);
    // push_percent rises across the steps, never back.
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    assert!(
        percents.iter().filter(|p| (1..100).contains(*p)).count() >= 2,
        "{percents:?}"
    );
    let pushes = pushes_received(&case.mirrors);
    let packs = pack_sizes(&case.mirrors.join("mirror.git"));
    let received: u64 = packs.iter().sum();
    assert!(received > 4 * 1024 * 1024, "{packs:?}");
    assert!(pushes >= 8, "{pushes} pushes, packs {packs:?}");
    // Each push's pack stays under the limit (a little slack: the receiver completes
    // thin packs with the bases they refer to).
    for size in &packs {
        assert!(
            *size <= limit + limit / 8,
            "a pack of {size} bytes: {packs:?}"
        );
    }
    assert!(
        case.server.log().contains("pushing in steps"),
        "{}",
        case.server.log()
    );

    // A remap rewrites every commit: the new history shares none with the mirror's refs,
    // so git would send every blob again; that goes in forced steps over the old history,
    // each under the limit again.
    let repo = "octo/stepped";
    case.server
        .map_author(repo, "Bea Blob", "Bea B.", "bea@b.example");
    case.server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    let remapped = hosted(&case.server, repo, &dir.path().join("remapped.git"));
    assert_eq!(published(&case.mirrors.join("mirror.git")), remapped);
    assert!(pushes_received(&case.mirrors) >= pushes + 8);
    let packs = pack_sizes(&case.mirrors.join("mirror.git"));
    assert!(
        packs.iter().all(|size| *size <= limit + limit / 8),
        "{packs:?}"
    );
}

#[test]
fn commits_each_over_the_limit_are_pushed_one_at_a_time_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Six commits of 100 KiB and a merged side branch of three more, under 50 KiB a push:
    // every commit goes alone, the side's before the merge that brings it.
    let (case, _) = mirror_with_limit(dir.path(), &["6", "102400"], 50 * 1024);
    let pushes = pushes_received(&case.mirrors);
    assert!(pushes >= 9, "{pushes} pushes");
    let log = case.server.log();
    assert!(
        log.contains("one commit is larger than the push size limit"),
        "{log}"
    );
    assert!(!log.contains(PASSWORD));
}
