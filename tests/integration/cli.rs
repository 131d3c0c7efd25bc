//! The command line: `convert` (to a bare repository, dry run, authors file, report, LFS),
//! `detect`, `authors`, progress without a terminal, and exit codes; a Subversion conversion
//! gives the repository the server gives.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

use srcimport::git::maintenance::{has_multi_pack_index, pack_count, MOST_PACKS};

use crate::authors_upload::put_authors;

use crate::subversion::{copy_repo, features, uuid_of, SvnServe, LOCAL};
use crate::support::{fixture, fixture_with, git, refs, try_clone, GitDaemon, GitSource, Server};

fn srcimport(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_srcimport"));
    cmd.args(args).env_remove("SRCIMPORT_SOURCE_PASSWORD");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("srcimport runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn convert_writes_a_bare_repository_and_reports_progress_in_plain_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let daemon = GitDaemon::serve(&dir.path().join("src"));
    let dest = dir.path().join("out.git");
    let mailmap = dir.path().join("authors.txt");
    std::fs::write(
        &mailmap,
        "Alice P. <alice@new.example> <alice@example.com>\n",
    )
    .expect("authors file");
    let report = dir.path().join("report.json");
    let out = srcimport(
        &[
            "convert",
            &format!("{}/source.git", daemon.base),
            dest.to_str().expect("utf-8"),
            "--authors",
            mailmap.to_str().expect("utf-8"),
            "--report",
            report.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let progress = text(&out.stderr);
    assert!(
        progress.lines().any(|l| l.starts_with("importing: ")),
        "{progress}"
    );
    assert!(
        progress.lines().any(|l| l == "complete: 100% 7 commits"),
        "{progress}"
    );
    assert!(!progress.contains('\r'), "no terminal, no carriage returns");

    let source_git = dir.path().join("src/source.git");
    let branches = |repo: &Path| {
        git(
            repo,
            &[
                "for-each-ref",
                "--format=%(refname)",
                "refs/heads",
                "refs/tags",
            ],
        )
    };
    assert_eq!(branches(&dest), branches(&source_git));
    assert_eq!(
        git(&dest, &["symbolic-ref", "HEAD"]),
        git(&source_git, &["symbolic-ref", "HEAD"]),
        "HEAD names the source's default branch"
    );
    let log = git(&dest, &["log", "--all", "--format=%an <%ae>"]);
    assert!(
        log.contains("Alice P. <alice@new.example>") && !log.contains("alice@example.com"),
        "{log}"
    );
    assert!(
        !git(&dest, &["for-each-ref"]).contains("srcimport"),
        "no work refs in the output"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(report, Value::Array(Vec::new()));
}

#[test]
fn dry_run_reads_and_reports_but_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with("git/large-files.sh", &dir.path().join("src"), &["2000000"]);
    let dest = dir.path().join("never.git");
    let source = dir.path().join("src/source.git");
    let out = srcimport(
        &[
            "convert",
            source.to_str().expect("utf-8"),
            dest.to_str().expect("utf-8"),
            "--dry-run",
            "--lfs-threshold",
            "1000000",
            "-q",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!dest.exists(), "a dry run wrote {}", dest.display());
    assert!(out.stderr.is_empty(), "quiet: {}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["commits"], 5);
    assert_eq!(summary["branches"], serde_json::json!(["main", "side"]));
    assert_eq!(summary["tags"], serde_json::json!(["v1"]));
    assert_eq!(summary["authors"].as_array().map(Vec::len), Some(1));
    assert_eq!(summary["large_files"].as_array().map(Vec::len), Some(2));
    assert_eq!(summary["report"][0]["kind"], "large_file_removed");
}

#[test]
fn lfs_opt_in_output_carries_pointers_and_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with("git/large-files.sh", &dir.path().join("src"), &["2000000"]);
    let source = dir.path().join("src/source.git");
    let local = dir.path().join("lfs.git");
    // A remote destination gets the LFS objects through git-lfs, before the refs.
    let remote = dir.path().join("remote.git");
    git(
        dir.path(),
        &["init", "-q", "--bare", remote.to_str().expect("utf-8")],
    );
    let remote_url = format!("file://{}", remote.display());
    for dest in [local.to_str().expect("utf-8"), &remote_url] {
        let out = srcimport(
            &[
                "convert",
                source.to_str().expect("utf-8"),
                dest,
                "--lfs",
                "opt_in",
                "--lfs-threshold",
                "1000000",
                "-q",
            ],
            &[],
        );
        assert!(out.status.success(), "{dest}: {}", text(&out.stderr));
    }
    for dest in [&local, &remote] {
        let pointer = git(dest, &["cat-file", "-p", "main:big.iso"]);
        let oid = pointer
            .lines()
            .find_map(|l| l.strip_prefix("oid sha256:"))
            .expect("an LFS pointer");
        let object = dest
            .join("lfs/objects")
            .join(&oid[..2])
            .join(&oid[2..4])
            .join(oid);
        assert_eq!(
            std::fs::metadata(&object).map(|m| m.len()).ok(),
            Some(2_000_000),
            "{}",
            dest.display()
        );
    }
    assert_eq!(
        git(
            &remote,
            &["for-each-ref", "--format=%(refname)", "refs/heads/"]
        ),
        git(
            &local,
            &["for-each-ref", "--format=%(refname)", "refs/heads/"]
        )
    );
}

#[test]
fn exit_codes_tell_usage_auth_and_source_errors_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), Some(("reader", "s3cret")));
    let url = format!("{}/source.git", source.base);
    let dest = dir.path().join("out.git");
    let dest = dest.to_str().expect("utf-8");

    let usage = srcimport(&["convert", &url], &[]);
    assert_eq!(usage.status.code(), Some(2));

    let no_credentials = srcimport(&["convert", &url, dest, "--vcs", "git", "-q"], &[]);
    assert_eq!(
        no_credentials.status.code(),
        Some(3),
        "{}",
        text(&no_credentials.stderr)
    );
    let message = text(&no_credentials.stderr);
    assert_eq!(
        message.lines().count(),
        1,
        "one line, no backtrace: {message}"
    );
    assert!(
        message.starts_with("srcimport: error: ") && message.contains(&url),
        "{message}"
    );

    let wrong = srcimport(
        &["convert", &url, dest, "--username", "reader", "-q"],
        &[("SRCIMPORT_SOURCE_PASSWORD", "wrong")],
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    assert!(
        !text(&wrong.stderr).contains("wrong"),
        "the password is never printed"
    );

    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "s3cret\n").expect("password file");
    let right = srcimport(
        &[
            "convert",
            &url,
            dest,
            "--username",
            "reader",
            "--password-file",
            password_file.to_str().expect("utf-8"),
            "-q",
        ],
        &[],
    );
    assert!(right.status.success(), "{}", text(&right.stderr));
    assert_eq!(
        refs(Path::new(dest)),
        refs(&dir.path().join("src/source.git"))
    );

    let again = srcimport(&["convert", &url, dest, "-q"], &[]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing, non-empty destination is a usage error"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let missing = srcimport(
        &[
            "convert",
            &format!("http://127.0.0.1:{port}/none.git"),
            &format!("{dest}-2"),
            "-q",
        ],
        &[],
    );
    assert_eq!(missing.status.code(), Some(4), "{}", text(&missing.stderr));
}

/// A Subversion source converts straight into the destination; over svnserve it needs the
/// right credentials, and a failure leaves the destination as it was (absent, or empty).
#[test]
fn subversion_over_svnserve_needs_credentials_and_a_failure_leaves_no_destination() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = dir.path().join("svn");
    fixture("svn/flat.sh", &built);
    let served = copy_repo(&built.join("repo"), &dir.path().join("served"));
    let server = SvnServe::start(&served, "reader", "s3cret", false);
    let absent = dir.path().join("absent.git");
    let empty = dir.path().join("empty.git");
    std::fs::create_dir(&empty).expect("empty destination");
    let convert = |dest: &Path, password: Option<&str>| {
        let mut args = vec!["convert", "--vcs", "subversion", "-q", &server.url];
        args.push(dest.to_str().expect("utf-8"));
        args.extend(["--username", "reader"]);
        let env: Vec<(&str, &str)> = password
            .map(|p| ("SRCIMPORT_SOURCE_PASSWORD", p))
            .into_iter()
            .collect();
        srcimport(&args, &env)
    };

    let anonymous = convert(&absent, None);
    assert_eq!(
        anonymous.status.code(),
        Some(3),
        "{}",
        text(&anonymous.stderr)
    );
    assert!(
        !absent.exists(),
        "a failed conversion created {}",
        absent.display()
    );

    let wrong = convert(&empty, Some("wrong-password"));
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    let said = text(&wrong.stderr);
    assert!(
        said.contains(&server.url) && !said.contains("wrong-password"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(&empty).expect("still there").count(),
        0,
        "a failed conversion leaves an empty destination empty"
    );

    let right = convert(&empty, Some("s3cret"));
    assert!(right.status.success(), "{}", text(&right.stderr));
    assert_eq!(git(&empty, &["symbolic-ref", "HEAD"]), "refs/heads/main\n");
    let notes = git(&empty, &["log", "--notes=svn", "--format=%N", "main"]);
    assert!(notes.contains("svn-revision: 5"), "{notes}");
    assert_eq!(
        git(
            &empty,
            &["for-each-ref", "--format=%(refname)", "refs/srcimport"]
        ),
        "",
        "no work refs in the output"
    );
    let leftovers: Vec<String> = std::fs::read_dir(&empty)
        .expect("destination")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("srcimport"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// An authors file and `--default-domain` together give the same authors whether the
/// conversion goes straight into the destination or through the workspace (which a large
/// file sends it to): the file first, then the domain for emails still without `@`.
#[test]
fn subversion_authors_file_and_default_domain_agree_on_both_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = dir.path().join("svn");
    fixture("svn/flat.sh", &built);
    let authors = dir.path().join("authors.txt");
    std::fs::write(
        &authors,
        "alice = Alice A. <alice>\nbob = Bob B. <bob@example.com>\n",
    )
    .expect("authors file");
    let url = format!("file://{}", built.join("repo").display());
    let identities = |dest: &str, extra: &[&str]| {
        let dest = dir.path().join(dest);
        let mut args = vec![
            "convert",
            "-q",
            "--default-domain",
            "example.org",
            "--authors",
        ];
        args.push(authors.to_str().expect("utf-8"));
        args.extend_from_slice(extra);
        args.extend([url.as_str(), dest.to_str().expect("utf-8")]);
        let run = srcimport(&args, &[("SRCIMPORT_LOG", "info")]);
        assert!(run.status.success(), "{}", text(&run.stderr));
        let mut seen: Vec<String> = git(&dest, &["log", "--all", "--format=%an <%ae>"])
            .lines()
            .map(str::to_owned)
            .collect();
        seen.sort();
        seen.dedup();
        (seen, text(&run.stderr))
    };
    let (direct, log) = identities("direct.git", &[]);
    assert!(
        log.contains("converted straight into the destination"),
        "{log}"
    );
    // Texts over 5 bytes are large: the workspace converts and leaves them out.
    let (workspace, log) = identities("workspace.git", &["--lfs-threshold", "5"]);
    assert!(log.contains("converting through the workspace"), "{log}");
    assert_eq!(direct, workspace);
    assert!(
        direct.contains(&"alice <alice@example.org>".to_owned())
            && direct.contains(&"Bob B. <bob@example.com>".to_owned()),
        "{direct:?}"
    );
}

/// A conversion killed half way leaves no destination (the repository is made under a
/// hidden name beside it), so it can simply be run again.
#[test]
fn a_killed_subversion_conversion_leaves_no_destination() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let url = format!("file://{}", built.join("repo").display());
    let dest = dir.path().join("out.git");
    let convert = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_srcimport"));
        cmd.args(["convert", "-q", "--revisions-per-run", "1", &url])
            .arg(&dest)
            .env_remove("SRCIMPORT_SOURCE_PASSWORD");
        cmd
    };
    let mut child = convert().spawn().expect("srcimport runs");
    // Killed once its first fast-import run has written a pack.
    let wrote_a_pack = || {
        std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().starts_with(".out.git."))
            .any(|entry| {
                std::fs::read_dir(entry.path().join("objects/pack"))
                    .is_ok_and(|mut packs| packs.next().is_some())
            })
    };
    while !wrote_a_pack() {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the conversion ended before it could be killed"
        );
        std::thread::yield_now();
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(
        !dest.exists(),
        "a killed conversion left {}",
        dest.display()
    );

    let again = convert().output().expect("srcimport runs");
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(git(&dest, &["rev-parse", "--verify", "main"]).len() > 40);
    // One pack per fast-import run, 51 runs: one index over them at the end.
    assert!(pack_count(&dest) > MOST_PACKS);
    assert!(has_multi_pack_index(&dest));
    git(&dest, &["multi-pack-index", "verify"]);
    git(&dest, &["fsck", "--no-dangling"]);
}

#[test]
fn detect_and_authors_describe_a_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = dir.path().join("src/source.git");
    let source = source.to_str().expect("utf-8");
    let detected = srcimport(&["detect", source], &[]);
    assert!(detected.status.success());
    assert_eq!(text(&detected.stdout), "vcs: git\n");
    // A relative path is read from the working directory.
    let relative = Command::new(env!("CARGO_BIN_EXE_srcimport"))
        .args(["detect", "src/source.git"])
        .current_dir(dir.path())
        .output()
        .expect("srcimport runs");
    assert!(relative.status.success(), "{}", text(&relative.stderr));
    assert_eq!(text(&relative.stdout), "vcs: git\n");

    let listed = srcimport(&["authors", source, "--format", "mailmap"], &[]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listing = text(&listed.stdout);
    assert!(
        listing.contains("# 3 commits\nBob Builder <bob@example.com> <bob@example.com>"),
        "{listing}"
    );
    // What it prints is an authors file srcimport reads back.
    let parsed = srcimport::authors_file::parse(&listing, None).expect("parses");
    assert_eq!(parsed.entries.len(), 5);
}

#[test]
fn subversion_layout_flags_pick_a_project_and_drop_empty_dirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let multi = dir.path().join("multi");
    fixture("svn/multi-project.sh", &multi);
    let dump = multi.join("repo.dump");
    let out = dir.path().join("beta.git");
    let run = srcimport(
        &[
            "convert",
            "--project",
            "beta",
            "--no-empty-dirs",
            dump.to_str().expect("utf-8"),
            out.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let notes = git(&out, &["log", "--notes=svn", "--format=%N", "--all"]);
    assert!(notes.contains("svn-path: /beta/trunk"), "{notes}");
    assert!(!notes.contains("/alpha/"), "{notes}");
    let files = git(&out, &["log", "--all", "--format=", "--name-only"]);
    assert!(!files.contains(".gitkeep"), "{files}");

    // `detect` describes the layout and lists the projects.
    let detected = srcimport(&["detect", dump.to_str().expect("utf-8")], &[]);
    assert!(detected.status.success(), "{}", text(&detected.stderr));
    let said = text(&detected.stdout);
    for line in [
        "vcs: subversion",
        "project: alpha (/alpha)",
        "project: beta (/beta)",
    ] {
        assert!(said.lines().any(|l| l == line), "{line} in {said}");
    }
    let repo_url = format!("file://{}", multi.join("repo").display());
    let detected = srcimport(&["detect", &repo_url], &[]);
    assert_eq!(
        text(&detected.stdout),
        said,
        "the repository and its dump look the same"
    );
    // Authors are listed with their commit counts, which a Subversion user's identity
    // (`user <user@UUID>`) must not hide.
    let listed = srcimport(
        &[
            "authors",
            &repo_url,
            "--format",
            "git-svn",
            "--project",
            "beta",
        ],
        &[],
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listing = text(&listed.stdout);
    assert!(listing.lines().any(|l| l.starts_with("# ")), "{listing}");
    assert!(!listing.contains("# 0 commits"), "{listing}");

    // Without a project, a repository holding several cannot be converted as one.
    let refused = srcimport(
        &[
            "convert",
            dump.to_str().expect("utf-8"),
            dir.path().join("x.git").to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(!refused.status.success());
    let said = text(&refused.stderr);
    assert!(
        said.contains("alpha (/alpha)") && said.contains("beta (/beta)"),
        "{said}"
    );
}

/// Maps two of the features fixture's users; carol, dom.user and the revision without an
/// author stay unmapped.
const SVN_AUTHORS: &str =
    "alice = Alice Example <alice@example.com>\nbob = Bob Example <bob@example.com>\n";

/// The features fixture converted twice with [`SVN_AUTHORS`]: by `srcimport convert`, and
/// by the server, whose hosted repository is mirror-cloned (every ref).
struct SvnTwice {
    uuid: String,
    cli: PathBuf,
    /// What the CLI logged (at `info`).
    cli_log: String,
    cli_report: Value,
    hosted: PathBuf,
    hosted_report: Value,
}

/// Converts the features fixture's `file://` repository with `convert` (plus `cli_args`)
/// and with the server (`import_fields` added to the import).
fn convert_svn_twice(dir: &Path, cli_args: &[&str], import_fields: &Value) -> SvnTwice {
    let built = features(&dir.join("svn"));
    let svn_url = format!("file://{}", built.join("repo").display());
    let authors = dir.join("authors.txt");
    std::fs::write(&authors, SVN_AUTHORS).expect("authors file");

    let cli = dir.join("out.git");
    let report = dir.join("report.json");
    let mut args = vec![
        "convert",
        "-q",
        "--authors",
        authors.to_str().expect("utf-8"),
        "--report",
        report.to_str().expect("utf-8"),
        &svn_url,
        cli.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(cli_args);
    let run = srcimport(&args, &[("SRCIMPORT_LOG", "info")]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let cli_log = text(&run.stderr);
    let cli_report = serde_json::from_str(&std::fs::read_to_string(&report).expect("report"))
        .expect("report JSON");

    let data = dir.join("data");
    let repo = "octo/svn";
    let mut import = json!({"vcs": "subversion", "vcs_url": svn_url});
    if let (Some(import), Some(fields)) = (import.as_object_mut(), import_fields.as_object()) {
        import.extend(fields.clone());
    }
    {
        // Held before importing, the upload is in place before the mapping runs, as
        // --authors is for the CLI; the next server resumes the import.
        let held = [LOCAL[0], ("SRCIMPORT_TEST_HOLD_STAGE", "importing")];
        let server = Server::start_with(&data, &held);
        server.put_import(repo, &import);
        server.wait_status(repo, "importing");
        let (status, answer) = put_authors(&server, repo, "", SVN_AUTHORS);
        assert_eq!(status, 200, "{answer}");
    }
    let server = Server::start_with(&data, LOCAL);
    server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    let hosted = dir.join("hosted.git");
    assert!(try_clone(&server.authed_git_url(repo), &hosted));
    let (status, hosted_report) = server.get(&format!("/repos/{repo}/import/report"));
    assert_eq!(status, 200, "{hosted_report}");
    SvnTwice {
        uuid: uuid_of(&built.join("repo")),
        cli,
        cli_log,
        cli_report,
        hosted,
        hosted_report,
    }
}

/// `objectid refname` lines for everything a conversion publishes, but notes by their tree:
/// the notes themselves. Their commit differs legitimately: the CLI writes the notes commit
/// of the conversion (dated with the last revision), while the server's mapping stage writes
/// a new one for the rewritten history (dated 0), holding the same tree.
fn published_refs(dir: &Path) -> String {
    let for_each_ref = |format: &str, namespaces: &[&str]| {
        let mut args = vec!["for-each-ref", format];
        args.extend_from_slice(namespaces);
        git(dir, &args)
    };
    let ids = "--format=%(objectname) %(refname)";
    for_each_ref(ids, &["refs/heads", "refs/tags", "refs/svn"])
        + &for_each_ref("--format=%(tree) %(refname)", &["refs/notes"])
}

impl SvnTwice {
    /// The same refs with the same object ids (deleted branches included; notes by tree),
    /// the same HEAD, the same report.
    fn assert_same_repository(&self) {
        let cli_refs = published_refs(&self.cli);
        for wanted in [
            " refs/heads/main\n",
            " refs/notes/svn\n",
            " refs/svn/deleted/",
        ] {
            assert!(cli_refs.contains(wanted), "{wanted} in {cli_refs}");
        }
        assert_eq!(cli_refs, published_refs(&self.hosted));
        assert_eq!(
            git(&self.cli, &["symbolic-ref", "HEAD"]),
            git(&self.hosted, &["symbolic-ref", "HEAD"])
        );
        assert_eq!(self.cli_report, self.hosted_report);
    }

    /// Mapped users have the authors file's identity, the others `user <user@UUID>`.
    fn assert_authors_mapped(&self) {
        let identities = git(
            &self.cli,
            &["log", "--all", "--format=%an <%ae>%n%cn <%ce>"],
        );
        for wanted in [
            "Alice Example <alice@example.com>".to_owned(),
            "Bob Example <bob@example.com>".to_owned(),
            format!("carol <carol@{}>", self.uuid),
            format!("dom.user <dom.user@{}>", self.uuid),
            format!("no-author <no-author@{}>", self.uuid),
        ] {
            assert!(identities.contains(&wanted), "{wanted} in {identities}");
        }
        for mapped in ["alice", "bob"] {
            let raw = format!("{mapped}@{}", self.uuid);
            assert!(!identities.contains(&raw), "{raw} in {identities}");
        }
    }
}

#[test]
fn subversion_convert_gives_the_repository_the_server_gives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let twice = convert_svn_twice(dir.path(), &[], &json!({}));
    assert!(
        twice
            .cli_log
            .contains("converted straight into the destination"),
        "no workspace: {}",
        twice.cli_log
    );
    twice.assert_same_repository();
    twice.assert_authors_mapped();
    // In runs of two revisions, each fast-import run continues the last one's refs.
    let in_runs = dir.path().join("runs.git");
    let run = srcimport(
        &[
            "convert",
            "-q",
            "--revisions-per-run",
            "2",
            "--authors",
            dir.path().join("authors.txt").to_str().expect("utf-8"),
            &format!("file://{}", dir.path().join("svn/repo").display()),
            in_runs.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(published_refs(&in_runs), published_refs(&twice.cli));
    let report = &twice.cli_report;
    assert!(
        report
            .as_array()
            .is_some_and(|r| r.iter().any(|e| e["kind"] == "svn_externals")),
        "the report says what was not converted: {report}"
    );
}

#[test]
fn subversion_convert_leaving_large_files_out_gives_what_the_server_gives() {
    let dir = tempfile::tempdir().expect("tempdir");
    // data/blob.bin (1024 bytes) is large; every other file of the fixture is under 100.
    let twice = convert_svn_twice(
        dir.path(),
        &["--lfs", "opt_out", "--lfs-threshold", "512"],
        &json!({"use_lfs": "opt_out", "lfs_threshold": 512}),
    );
    assert!(
        twice.cli_log.contains("converting through the workspace"),
        "only the workspace leaves large files out: {}",
        twice.cli_log
    );
    twice.assert_same_repository();
    twice.assert_authors_mapped();
    let removed: Vec<(&str, u64)> = twice
        .cli_report
        .as_array()
        .expect("report list")
        .iter()
        .filter(|e| e["kind"] == "large_file_removed")
        .map(|e| {
            (
                e["path"].as_str().expect("path"),
                e["size"].as_u64().expect("size"),
            )
        })
        .collect();
    assert!(removed.contains(&("data/blob.bin", 1024)), "{removed:?}");
    assert!(removed.iter().all(|(_, size)| *size > 512), "{removed:?}");
    // No ref reaches a blob over the threshold (blob:limit leaves out blobs of that size
    // or more, and prints them with `~`).
    let omitted = git(
        &twice.cli,
        &[
            "rev-list",
            "--objects",
            "--all",
            "--filter=blob:limit=513",
            "--filter-print-omitted",
        ],
    );
    let large: Vec<&str> = omitted.lines().filter(|l| l.starts_with('~')).collect();
    assert!(large.is_empty(), "large blobs reachable: {large:?}");
    let files = git(&twice.cli, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        files.contains("README.txt") && !files.contains("data/blob.bin"),
        "{files}"
    );
}
