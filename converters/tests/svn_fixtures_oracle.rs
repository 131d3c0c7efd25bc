//! Exercises the Subversion fixture oracle (`common::svn_oracle`) before the converter
//! exists: expect.tsv parsing, trees from `svn export` and from Git, and the expectation
//! checks against a trunk-only conversion made here with the svn and git CLIs; and the
//! fixtures' dumps replayed by the dump reader against `svn export`.

mod common;
mod svn_dump_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::scratch_dir;
use common::svn_oracle::{
    build_fixture, check_expectations, check_lines, check_report, compare_trees, git_tree,
    parse_expectations, read_expectations, svn_tree, svn_url, Expectation, Line, Reported, SvnAt,
    MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK,
};

fn features() -> PathBuf {
    build_fixture("features.sh")
}

fn features_lines() -> Vec<Line> {
    read_expectations(&features().join("expect.tsv")).expect("features expect.tsv parses")
}

fn run(program: &str, args: &[&str], directory: &Path, env: &[(&str, &str)]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .current_dir(directory)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C.UTF-8")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|error| panic!("run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn at(path: &str, revision: u32) -> SvnAt {
    SvnAt {
        path: path.to_owned(),
        revision,
    }
}

#[test]
fn features_expectations_parse_and_cover_every_kind() {
    let lines = features_lines();
    let kinds: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|line| match &line.expectation {
            Expectation::Tree { .. } => "tree",
            Expectation::TreeAt { .. } => "tree-at",
            Expectation::Ref { .. } => "ref",
            Expectation::TagType { .. } => "tag-type",
            Expectation::TagTarget { .. } => "tag-target",
            Expectation::ParentsAt { .. } => "parents-at",
            Expectation::MergeParentAt { .. } => "merge-parent-at",
            Expectation::Mode { .. } => "mode",
            Expectation::ModeAt { .. } => "mode-at",
            Expectation::Gitignore { .. } => "gitignore",
            Expectation::AuthorAt { .. } => "author-at",
            Expectation::MessageAt { .. } => "message-at",
            Expectation::Ancestor { .. } => "ancestor",
            Expectation::Report { .. } => "report",
        })
        .collect();
    assert_eq!(kinds.len(), 14, "kinds used: {kinds:?}");
    let merges: Vec<usize> = lines
        .iter()
        .filter_map(|line| match &line.expectation {
            Expectation::ParentsAt { count, .. } => Some(*count),
            _ => None,
        })
        .collect();
    assert!(merges.contains(&2) && merges.contains(&1), "{merges:?}");
    assert!(lines.iter().any(|line| line.expectation
        == Expectation::Gitignore {
            git_ref: "refs/heads/main".into(),
            path: "src/.gitignore".into(),
            content: b"*.cache\n*.swp\n/*.tmp\n".to_vec(),
        }));
    assert!(lines.iter().any(|line| matches!(&line.expectation,
        Expectation::Ref { name, exists: true } if name == "refs/heads/bad_name")));
    assert!(lines.iter().any(|line| matches!(&line.expectation,
        Expectation::Report { kind, path, .. } if kind == "partial_merge" && path == "/trunk")));
    // Every revision in a PATH@REV exists.
    let head: u32 = String::from_utf8(run(
        "svnlook",
        &[
            "youngest",
            features().join("repo").to_str().expect("UTF-8 path"),
        ],
        Path::new("/"),
        &[],
    ))
    .expect("UTF-8")
    .trim()
    .parse()
    .expect("a revision");
    assert!((40..=60).contains(&head), "{head} revisions");
}

#[test]
fn parse_reads_escapes_and_skips_comments() {
    let text = "# comment\n\n\
        gitignore\trefs/heads/main\t.gitignore\t/a\\n\\\\b\\tc\\n\n\
        tree-at\tmain\t7\ttrunk@7\n\
        tree\trefs/heads/bad_name\tbranches/bad name@48\n\
        message-at\tmain\t22\t\n\
        mode-at\tmain\t5\ttool.sh\t100755\n";
    let lines = parse_expectations(text).expect("parses");
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0].number, 3);
    assert_eq!(
        lines[0].expectation,
        Expectation::Gitignore {
            git_ref: "refs/heads/main".into(),
            path: ".gitignore".into(),
            content: b"/a\n\\b\tc\n".to_vec(),
        }
    );
    assert_eq!(
        lines[2].expectation,
        Expectation::Tree {
            git_ref: "refs/heads/bad_name".into(),
            svn: at("branches/bad name", 48),
        }
    );
    assert_eq!(
        lines[3].expectation,
        Expectation::MessageAt {
            branch: "main".into(),
            revision: 22,
            message: String::new(),
        }
    );
    assert_eq!(
        lines[4].expectation,
        Expectation::ModeAt {
            branch: "main".into(),
            revision: 5,
            path: "tool.sh".into(),
            mode: MODE_EXECUTABLE,
        }
    );
}

#[test]
fn parse_reports_every_bad_line() {
    let text = "tree\trefs/heads/main\n\
        nonsense\tx\n\
        ref\trefs/heads/main\tmaybe\n\
        mode\trefs/heads/main\tx\t100600\n\
        tree-at\tmain\tseven\ttrunk@7\n\
        tree\trefs/heads/main\ttrunk\n\
        gitignore\trefs/heads/main\t.gitignore\tbad\\q\n\
        ref\trefs/heads/main\texists\n";
    let errors = parse_expectations(text).expect_err("bad lines");
    assert_eq!(errors.len(), 7, "{errors:#?}");
    assert!(
        errors[0].starts_with("line 1: tree takes 2 fields"),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("unknown kind"), "{}", errors[1]);
    assert!(errors[6].starts_with("line 7:"), "{}", errors[6]);
}

#[test]
fn svn_tree_exports_modes_symlinks_and_drops_empty_dirs() {
    let repo = features().join("repo");
    let lines = features_lines();
    let head = lines
        .iter()
        .find_map(|line| match &line.expectation {
            Expectation::Tree { git_ref, svn } if git_ref == "refs/heads/main" => {
                Some(svn.revision)
            }
            _ => None,
        })
        .expect("a main tip line");
    let tree = svn_tree(&svn_url(&repo, &at("trunk", head)));
    assert_eq!(tree["run.sh"].0, MODE_EXECUTABLE);
    assert_eq!(tree["tool.sh"].0, MODE_FILE);
    assert_eq!(
        tree["link-to-readme"],
        (MODE_SYMLINK, b"README.txt".to_vec())
    );
    assert_eq!(tree["link-moving"], (MODE_SYMLINK, b"src/main.c".to_vec()));
    let blob = &tree["data/blob.bin"].1;
    assert_eq!(blob.len(), 1024);
    assert_eq!(&blob[..4], &[0, 1, 2, 3]);
    assert!(tree.contains_key("docs/naïve café notes.txt"));
    assert!(tree.contains_key("empty-later/now.txt"));
    // Replaced by a copy of the Makefile of the time; the Makefile was replaced since.
    assert_eq!(tree["notes.txt"].1, b"all:\n\tcc -o app src/main.c\n");
    assert_eq!(tree["Makefile"].1, b"all:\n\techo replaced\n");
    assert!(tree.keys().all(|path| !path.starts_with("empty-forever")
        && !path.starts_with("doomed")
        && !path.starts_with("vendor/ext-src")
        && !path.starts_with("olddir")));
    assert!(
        tree.contains_key("newdir/helpers.c"),
        "newdir is a copy of src"
    );
    // The exec bit at the revision that set it, on the file that later lost it.
    let exec_set = lines
        .iter()
        .find_map(|line| match &line.expectation {
            Expectation::ModeAt { revision, .. } => Some(*revision),
            _ => None,
        })
        .expect("a mode-at line");
    let then = svn_tree(&svn_url(&repo, &at("trunk", exec_set)));
    assert_eq!(then["tool.sh"].0, MODE_EXECUTABLE);
    // A branch name with a space.
    let bad = svn_tree(&svn_url(&repo, &at("branches/bad name", head)));
    assert!(bad.contains_key("README.txt"));
}

#[test]
fn git_tree_reads_modes_symlinks_and_contents() {
    let work = scratch_dir("svn-oracle-git-tree");
    run("git", &["init", "-q", "-b", "main", "."], &work, &[]);
    std::fs::create_dir_all(work.join("dir/empty")).expect("mkdir");
    std::fs::write(work.join("dir/a.txt"), b"a\n").expect("write");
    std::fs::write(work.join("dir/empty/.gitkeep"), b"").expect("write");
    std::fs::write(work.join(".gitignore"), b"/build\n").expect("write");
    std::fs::write(work.join("bin.dat"), [0u8, 255, 10, 0]).expect("write");
    std::fs::write(work.join("run.sh"), b"#!/bin/sh\n").expect("write");
    let mut permissions = std::fs::metadata(work.join("run.sh"))
        .expect("stat")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(work.join("run.sh"), permissions).expect("chmod");
    std::os::unix::fs::symlink("dir/a.txt", work.join("link")).expect("symlink");
    run("git", &["add", "-A"], &work, &[]);
    let identity = [
        ("GIT_AUTHOR_NAME", "t"),
        ("GIT_AUTHOR_EMAIL", "t@example.com"),
        ("GIT_COMMITTER_NAME", "t"),
        ("GIT_COMMITTER_EMAIL", "t@example.com"),
        ("GIT_AUTHOR_DATE", "2021-01-01T00:00:00Z"),
        ("GIT_COMMITTER_DATE", "2021-01-01T00:00:00Z"),
    ];
    run("git", &["commit", "-q", "-m", "tiny"], &work, &identity);
    let tree = git_tree(&work.join(".git"), "refs/heads/main");
    assert_eq!(
        tree.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            ".gitignore",
            "bin.dat",
            "dir/a.txt",
            "dir/empty/.gitkeep",
            "link",
            "run.sh"
        ]
    );
    assert_eq!(tree["bin.dat"], (MODE_FILE, vec![0, 255, 10, 0]));
    assert_eq!(tree["run.sh"].0, MODE_EXECUTABLE);
    assert_eq!(tree["link"], (MODE_SYMLINK, b"dir/a.txt".to_vec()));

    // Placeholders are ignored unless the svn side has them.
    let mut svn = tree.clone();
    svn.remove(".gitignore");
    svn.remove("dir/empty/.gitkeep");
    assert!(compare_trees(&svn, &tree).is_empty());
    svn.insert(".gitignore".into(), (MODE_FILE, b"other\n".to_vec()));
    svn.insert("missing".into(), (MODE_FILE, Vec::new()));
    svn.insert("run.sh".into(), (MODE_FILE, b"#!/bin/sh\n".to_vec()));
    svn.remove("bin.dat");
    let differences = compare_trees(&svn, &tree);
    assert_eq!(differences.len(), 4, "{differences:#?}");
    let _ = std::fs::remove_dir_all(&work);
}

/// A trunk-only conversion with the CLIs: one commit per revision that changed trunk,
/// its tree from `svn export`, a note `svn-revision: N` / `svn-path: /trunk`.
fn convert_trunk(repo: &Path, revisions: &[u32], work: &Path) {
    let url = svn_url(repo, &at("trunk", 0));
    let base = url.trim_end_matches("@0");
    let uuid = String::from_utf8(run("svnlook", &["uuid", "."], repo, &[])).expect("UTF-8");
    run("git", &["init", "-q", "-b", "main", "."], work, &[]);
    for &revision in revisions {
        for entry in std::fs::read_dir(work).expect("read work tree") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|name| name != ".git") {
                if path.is_dir() && !path.is_symlink() {
                    std::fs::remove_dir_all(&path).expect("clear");
                } else {
                    std::fs::remove_file(&path).expect("clear");
                }
            }
        }
        let peg = format!("{base}@{revision}");
        run(
            "svn",
            &["export", "-q", "--force", "--ignore-externals", &peg, "."],
            work,
            &[],
        );
        let revprop = |name: &str| {
            let output = Command::new("svn")
                .args([
                    "propget",
                    "--revprop",
                    "-r",
                    &revision.to_string(),
                    name,
                    base,
                ])
                .env("LC_ALL", "C.UTF-8")
                .output()
                .expect("run svn propget");
            output
                .status
                .success()
                .then(|| String::from_utf8(output.stdout).expect("UTF-8"))
        };
        let author = revprop("svn:author")
            .map(|author| author.trim_end().to_owned())
            .unwrap_or_else(|| "no-author".into());
        let email = format!("{author}@{}", uuid.trim());
        let message = revprop("svn:log").unwrap_or_default();
        std::fs::write(work.join(".git/message"), message.trim_end()).expect("write message");
        let identity = [
            ("GIT_AUTHOR_NAME", author.as_str()),
            ("GIT_AUTHOR_EMAIL", email.as_str()),
            ("GIT_COMMITTER_NAME", author.as_str()),
            ("GIT_COMMITTER_EMAIL", email.as_str()),
            ("GIT_AUTHOR_DATE", "2021-01-01T00:00:00Z"),
            ("GIT_COMMITTER_DATE", "2021-01-01T00:00:00Z"),
        ];
        run("git", &["add", "-A"], work, &[]);
        run(
            "git",
            &[
                "commit",
                "-q",
                "--allow-empty",
                "--allow-empty-message",
                "--cleanup=verbatim",
                "-F",
                ".git/message",
            ],
            work,
            &identity,
        );
        let note = format!("svn-revision: {revision}\nsvn-path: /trunk\n");
        run(
            "git",
            &["notes", "--ref=svn", "add", "-m", &note, "HEAD"],
            work,
            &identity,
        );
    }
}

#[test]
fn check_expectations_on_a_trunk_only_conversion() {
    let fixture = features();
    let repo = fixture.join("repo");
    let lines = features_lines();
    let revisions: Vec<u32> = lines
        .iter()
        .filter_map(|line| match &line.expectation {
            Expectation::TreeAt {
                branch, revision, ..
            } if branch == "main" => Some(*revision),
            _ => None,
        })
        .collect();
    assert!(revisions.len() > 25, "{revisions:?}");
    let work = scratch_dir("svn-oracle-convert");
    convert_trunk(&repo, &revisions, &work);
    let git_dir = work.join(".git");

    // What this conversion does right passes.
    let trunk_only: Vec<Line> = lines
        .iter()
        .filter(|line| match &line.expectation {
            Expectation::TreeAt { branch, .. }
            | Expectation::AuthorAt { branch, .. }
            | Expectation::MessageAt { branch, .. }
            | Expectation::ModeAt { branch, .. }
            | Expectation::ParentsAt {
                branch, count: 1, ..
            } => branch == "main",
            Expectation::Mode { git_ref, .. } | Expectation::Tree { git_ref, .. } => {
                git_ref == "refs/heads/main"
            }
            Expectation::Ancestor { git_ref, svn, .. } => {
                git_ref == "refs/heads/main" && svn.path == "trunk"
            }
            Expectation::Ref { name, .. } => {
                ["refs/heads/main", "refs/notes/svn", "refs/heads/trunk"].contains(&name.as_str())
            }
            _ => false,
        })
        .cloned()
        .collect();
    let failures = check_lines(&repo, &git_dir, &trunk_only);
    assert!(failures.is_empty(), "{failures:#?}");

    // What it lacks fails, line by line, without panicking.
    let failures = check_expectations(&repo, &git_dir, &fixture.join("expect.tsv"));
    let failed = |needle: &str| failures.iter().any(|failure| failure.contains(needle));
    assert!(failed("refs/heads/feature is missing"), "{failures:#?}");
    assert!(failed("has 1 parents, not 2"), "{failures:#?}");
    assert!(failed(".gitignore is missing"), "{failures:#?}");
    assert!(
        failed("no commit noted for /branches/feature"),
        "{failures:#?}"
    );
    assert!(failures.iter().all(|failure| failure.starts_with("line ")));

    // A wrong tree, author or mode is caught.
    let wrong = parse_expectations(&format!(
        "tree-at\tmain\t{r}\ttrunk@{p}\nauthor-at\tmain\t{r}\tmallory <mallory@UUID>\n\
         mode\trefs/heads/main\trun.sh\t100644\ntree-at\tmain\t1000\ttrunk@1\n\
         ancestor\trefs/heads/main\ttrunk@{r}\tno\n",
        r = revisions[2],
        p = revisions[1]
    ))
    .expect("parses");
    let failures = check_lines(&repo, &git_dir, &wrong);
    assert_eq!(failures.len(), 5, "{failures:#?}");
    assert!(failures[0].contains("tree differs"), "{}", failures[0]);
    assert!(
        failures[3].contains("svn-revision: 1000"),
        "{}",
        failures[3]
    );
    assert!(failures[4].contains("is in the history"), "{}", failures[4]);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn check_report_matches_kind_revision_and_path() {
    let expect = features().join("expect.tsv");
    let wanted: Vec<(String, u32, String)> = features_lines()
        .into_iter()
        .filter_map(|line| match line.expectation {
            Expectation::Report {
                kind,
                revision,
                path,
            } => Some((kind, revision, path)),
            _ => None,
        })
        .collect();
    assert_eq!(wanted.len(), 3);
    let mut reported: Vec<Reported> = wanted
        .iter()
        .map(|(kind, revision, path)| Reported {
            kind: kind.clone(),
            revision: Some(format!("r{revision}")),
            path: Some(path.trim_start_matches('/').to_owned()),
        })
        .collect();
    assert!(check_report(&expect, &reported).is_empty());
    reported[0].revision = Some("1".into());
    reported.pop();
    assert_eq!(check_report(&expect, &reported).len(), 2);
}

#[test]
fn fixture_dumps_replay_to_what_svn_exports() {
    for script in ["features.sh", "multi-project.sh", "flat.sh"] {
        let fixture = build_fixture(script);
        let full = svn_dump_support::replay(
            svn_dump_support::open_dump(&fixture.join("repo.dump")),
            true,
        )
        .unwrap_or_else(|error| panic!("{script}: repo.dump: {error}"));
        let deltas = svn_dump_support::replay(
            svn_dump_support::open_dump(&fixture.join("repo.deltas.dump")),
            true,
        )
        .unwrap_or_else(|error| panic!("{script}: repo.deltas.dump: {error}"));
        assert!(deltas.delta_texts > 0, "{script}: no deltas");
        assert_eq!(full.nodes, deltas.nodes, "{script}: nodes");
        assert_eq!(
            full.final_files, deltas.final_files,
            "{script}: final files"
        );
        let head = *full.revisions.last().expect("revisions");
        let exported = svn_tree(&svn_url(
            &fixture.join("repo"),
            &at("", u32::try_from(head).expect("small")),
        ));
        // The dump holds a symlink as `link TARGET`; export makes the link.
        let replayed: Vec<(&str, Vec<u8>)> = full
            .final_files
            .iter()
            .map(|(path, text)| (path.as_str(), text.to_vec()))
            .collect();
        let wanted: Vec<(&str, Vec<u8>)> = exported
            .iter()
            .map(|(path, (mode, content))| {
                let content = if *mode == MODE_SYMLINK {
                    [b"link ".as_slice(), content].concat()
                } else {
                    content.clone()
                };
                (path.as_str(), content)
            })
            .collect();
        assert_eq!(replayed, wanted, "{script}: final files");
    }
}
