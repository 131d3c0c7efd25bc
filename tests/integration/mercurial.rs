//! Mercurial sources through the API, from a real `hg serve` on loopback: every changeset,
//! named and closed branches, extra heads, bookmarks, tags, notes, and a remap.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{git, try_clone, Server};

/// `hg serve` on 127.0.0.1 with an OS-chosen port, killed on drop.
pub(crate) struct HgServe {
    pub(crate) url: String,
    child: Child,
}

impl HgServe {
    pub(crate) fn start(repo: &Path) -> HgServe {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("hg")
            .args([
                "serve",
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-A",
                "/dev/null",
                "-E",
                "/dev/null",
                "-R",
            ])
            .arg(repo)
            .env("HGRCPATH", "/dev/null")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("hg serve starts (install mercurial)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "hg serve never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        HgServe {
            url: format!("http://127.0.0.1:{port}/"),
            child,
        }
    }
}

impl Drop for HgServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a fixture script from `fixtures/hg/` into `dest`; returns the repository path.
pub(crate) fn build_fixture(script: &str, dest: &Path) -> std::path::PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/hg")
        .join(script);
    let built = Command::new("bash")
        .arg(&script)
        .arg(dest)
        .output()
        .expect("fixture runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    dest.join("repo")
}

pub(crate) fn hg(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("hg")
        .current_dir(repo)
        .args(args)
        .env("HGRCPATH", "/dev/null")
        .env("HGPLAIN", "1")
        .output()
        .expect("hg runs");
    assert!(
        out.status.success(),
        "hg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_changeset_branch_head_bookmark_and_tag_arrives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hg_repo = build_fixture("make-revlog-fixture.sh", &dir.path().join("hg"));
    let serve = HgServe::start(&hg_repo);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/from-hg";
    server.put_import(repo, &json!({"vcs_url": serve.url}));
    let done = server.wait_status(repo, "complete");
    assert_eq!(done["vcs"], "mercurial", "detected over HTTP");

    let clone = dir.path().join("clone.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    // Every changeset is a commit.
    let changesets: BTreeSet<String> = hg(&hg_repo, &["log", "-T", "{node}\\n"])
        .lines()
        .map(str::to_owned)
        .collect();
    let commits = git(&clone, &["rev-list", "--branches", "--tags"]);
    assert_eq!(commits.lines().count(), changesets.len());
    assert_eq!(done["commit_count"], changesets.len());
    // Each commit's note is its changeset id, and together they are all the changesets.
    let noted: BTreeSet<String> = commits
        .lines()
        .map(|c| {
            git(&clone, &["notes", "--ref=hg", "show", c])
                .trim()
                .to_owned()
        })
        .collect();
    assert_eq!(noted, changesets);

    let refs = git(
        &clone,
        &["for-each-ref", "--format=%(refname) %(objecttype)"],
    );
    for wanted in [
        "refs/heads/main commit",
        "refs/heads/stable commit",
        "refs/heads/old commit",
        "refs/heads/feature-bm commit",
        "refs/heads/stable-bm commit",
        "refs/tags/v1.0 tag",
        "refs/tags/v2.0 tag",
    ] {
        assert!(refs.contains(wanted), "{wanted} missing from\n{refs}");
    }
    // The second head of default has its own branch.
    let heads = hg(
        &hg_repo,
        &["heads", "--closed", "-T", "{branch} {node|short}\\n"],
    );
    let extra_heads = heads.lines().filter(|l| l.starts_with("default ")).count() - 1;
    assert_eq!(
        refs.matches("refs/heads/main@").count(),
        extra_heads,
        "{refs}"
    );

    // Every head's tree matches hg's manifest: paths, exec bits, symlinks.
    for line in heads.lines() {
        let short = line.split(' ').nth(1).expect("node");
        let node = hg(&hg_repo, &["log", "-r", short, "-T", "{node}"]);
        let commit = commits
            .lines()
            .find(|c| git(&clone, &["notes", "--ref=hg", "show", c]).trim() == node)
            .expect("a commit for each head");
        let mut from_hg: Vec<String> = hg(&hg_repo, &["manifest", "--debug", "-r", &node])
            .lines()
            .map(|l| {
                // `<node> <perm> <flag> <path>`: flag `*` exec, `@` symlink, ` ` plain.
                let (perm, flag, path) = (&l[41..44], &l[45..46], &l[47..]);
                let mode = match (perm, flag) {
                    (_, "@") => "120000",
                    ("755", _) => "100755",
                    _ => "100644",
                };
                format!("{mode} {path}")
            })
            .collect();
        let mut from_git: Vec<String> = git(
            &clone,
            &["ls-tree", "-r", "--format=%(objectmode) %(path)", commit],
        )
        .lines()
        .map(|l| l.trim_matches('"').to_owned())
        .collect();
        from_hg.sort();
        from_git.sort();
        assert_eq!(from_git.len(), from_hg.len(), "file count at {short}");
        let exec_git: Vec<&String> = from_git
            .iter()
            .filter(|l| l.starts_with("100755"))
            .collect();
        let exec_hg: Vec<&String> = from_hg.iter().filter(|l| l.starts_with("100755")).collect();
        assert_eq!(exec_git, exec_hg, "exec bits at {short}");
        let readme = hg(&hg_repo, &["cat", "-r", &node, "README"]);
        assert_eq!(
            git(&clone, &["cat-file", "blob", &format!("{commit}:README")]),
            readme
        );
    }
    assert!(
        git(&clone, &["ls-tree", "main", "link"]).starts_with("120000"),
        "symlinks stay symlinks"
    );

    // Authors are listed by their raw Mercurial user string, with valid placeholders.
    let (_, authors) = server.get(&format!("/repos/{repo}/import/authors"));
    let dave = authors
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["remote_id"] == "Dave <dave at example dot com>")
        .unwrap_or_else(|| panic!("raw hg user as remote_id: {authors}"));
    assert!(
        dave["email"]
            .as_str()
            .is_some_and(|e| e.contains('@') && !e.contains(' ')),
        "{dave}"
    );

    // Remapping an author keeps a note on every (rewritten) commit.
    server.map_author(repo, "bob", "Bob Real", "bob@real.example");
    server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    let remapped = dir.path().join("remapped.git");
    assert!(try_clone(&server.authed_git_url(repo), &remapped));
    let log = git(&remapped, &["log", "--branches", "--format=%an <%ae>"]);
    assert!(
        log.contains("Bob Real <bob@real.example>") && !log.contains("bob@hg.invalid"),
        "{log}"
    );
    let noted: BTreeSet<String> = git(&remapped, &["rev-list", "--branches", "--tags"])
        .lines()
        .map(|c| {
            git(&remapped, &["notes", "--ref=hg", "show", c])
                .trim()
                .to_owned()
        })
        .collect();
    assert_eq!(noted, changesets);
}

#[test]
fn names_git_refuses_are_renamed_deterministically_and_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hg_repo = build_fixture("odd-names.sh", &dir.path().join("hg"));
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SRCIMPORT_ALLOW_LOCAL_SOURCES", "1")],
    );
    let repo = "octo/odd-hg";
    server.put_import(
        repo,
        &json!({"vcs": "mercurial", "vcs_url": hg_repo.display().to_string()}),
    );
    server.wait_status(repo, "complete");
    let clone = dir.path().join("odd.git");
    assert!(try_clone(&server.authed_git_url(repo), &clone));
    let branches = git(
        &clone,
        &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
    );
    let branches: BTreeSet<&str> = branches.lines().collect();
    let expected: BTreeSet<&str> = [
        "main",
        "with_space",
        "a",
        "a-b",
        "Feature",
        "feature_2",
        "dots._name",
        "end.lock_",
        "tilde_1",
        "bm_odd",
        "main@bookmark",
    ]
    .into_iter()
    .collect();
    assert_eq!(branches, expected);
    assert_eq!(
        git(&clone, &["cat-file", "-t", "release_1.0"]).trim(),
        "tag"
    );

    let (_, report) = server.get(&format!("/repos/{repo}/import/report"));
    let details: Vec<String> = report
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["kind"].as_str().unwrap_or_default(),
                e["detail"].as_str().unwrap_or_default()
            )
        })
        .collect();
    for wanted in [
        "branch_renamed Mercurial branch \"with space\" is \"with_space\" in Git",
        "bookmark_renamed Mercurial bookmark \"main\" is \"main@bookmark\" in Git",
        "branch_renamed Mercurial branch \"a/b\" is \"a-b\" in Git",
        "branch_renamed Mercurial branch \"feature\" is \"feature_2\" in Git",
        "tag_renamed Mercurial tag \"release 1.0\" is \"release_1.0\" in Git",
    ] {
        assert!(
            details.iter().any(|d| d == wanted),
            "{wanted} not in {details:#?}"
        );
    }
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("not_converted") && d.contains(".hgsub")),
        "{details:#?}"
    );
}
