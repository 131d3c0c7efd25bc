//! The Subversion converter end to end: dump files through `git fast-import` into a bare
//! repository, checked with the real git against `svn export` and the fixtures' expectations.

mod common;

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use srcimport_converters::svn::convert::layout::Layout;
use srcimport_converters::svn::convert::{ConvertOptions, ConvertSummary, Converter, FastImport};
use srcimport_converters::svn::{dump_events, layout_detect};
use srcimport_converters::Cancel;

use common::scratch_dir;
use common::svn_oracle::{build_fixture, check_expectations, check_report, Reported};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Converts `dump` into a new bare repository under `work`; returns it and the summary.
fn convert(dump: &Path, work: &Path) -> (PathBuf, ConvertSummary) {
    let repo = work.join("out.git");
    let marks = work.join("marks");
    git(&repo, &["init", "--quiet", "--bare"]);
    let outline = dump_events::outline(BufReader::new(std::fs::File::open(dump).unwrap())).unwrap();
    let layout = match layout_detect::from_top_dirs(&outline.top_dirs) {
        layout_detect::Detected::One(layout) => layout,
        layout_detect::Detected::Projects(p) => Layout::standard(&p[0]),
    };
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(&repo)
        .args(["fast-import", "--quiet", "--done", "--cat-blob-fd=1"])
        .arg(format!("--export-marks={}", marks.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut commands = BufWriter::new(child.stdin.take().unwrap());
    let mut answers = BufReader::new(child.stdout.take().unwrap());
    let options = ConvertOptions {
        layout,
        uuid: outline.uuid.clone().unwrap_or_default(),
        trunk_branch: "main".into(),
        ref_prefix: "refs/".into(),
        work_ref_prefix: "refs/work/".into(),
        notes_ref: "refs/notes/svn".into(),
        empty_dirs: true,
        spool_dir: work.join("spool"),
    };
    let cancel = Cancel::new();
    let session = FastImport::new(&mut commands, &mut answers);
    let mut converter = Converter::new(session, options, &cancel, |_| {});
    dump_events::replay(
        BufReader::new(std::fs::File::open(dump).unwrap()),
        &mut converter,
    )
    .unwrap();
    let (summary, _) = converter.finish().unwrap();
    commands.write_all(b"done\n").unwrap();
    drop(commands);
    drop(answers);
    assert!(child.wait().unwrap().success());
    let marks: std::collections::HashMap<String, String> = std::fs::read_to_string(&marks)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(m, o)| (m.to_owned(), o.to_owned()))
        .collect();
    for tag in &summary.tags {
        let (tagger, when) = tag.tagger.split_at(tag.tagger.rfind('>').unwrap() + 1);
        let (name, email) = tagger.split_once(" <").unwrap();
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&repo)
            .args(["tag", "-a", &tag.git_name, "-m", &tag.message])
            .arg(&marks[&format!(":{}", tag.mark)])
            .env("GIT_COMMITTER_NAME", name)
            .env("GIT_COMMITTER_EMAIL", email.trim_end_matches('>'))
            .env("GIT_COMMITTER_DATE", when.trim())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (repo, summary)
}

fn peers_fixture(work: &Path) -> PathBuf {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/make-svn-fixture.sh");
    let status = Command::new("bash")
        .arg(script)
        .arg(work.join("fixture"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    work.join("fixture/fixture.dump")
}

#[test]
fn peers_feature_fixture_converts() {
    let work = scratch_dir("svn-convert-peers");
    let dump = peers_fixture(&work);
    let (repo, _) = convert(&dump, &work);
    let refs = git(
        &repo,
        &["for-each-ref", "--format=%(refname) %(objecttype)"],
    );
    for wanted in [
        "refs/heads/main commit",
        "refs/heads/tags/1.1 commit",
        "refs/tags/1.0 tag",
        "refs/tags/1.1 tag",
        "refs/notes/svn commit",
        "refs/svn/deleted/branches/feature@12 commit",
    ] {
        assert!(refs.contains(wanted), "{wanted} missing from\n{refs}");
    }
}

/// The features fixture converts from its full-text dump with every expectation met.
#[test]
fn features_fixture_meets_every_expectation() {
    let fixture = build_fixture("features.sh");
    let work = scratch_dir("svn-convert-features");
    let (repo, summary) = convert(&fixture.join("repo.dump"), &work);
    let failures = check_expectations(&fixture.join("repo"), &repo, &fixture.join("expect.tsv"));
    let reported: Vec<Reported> = summary
        .report
        .iter()
        .map(|item| Reported {
            kind: item.kind.clone(),
            revision: item.revision.map(|r| r.to_string()),
            path: item.path.clone(),
        })
        .collect();
    let report_failures = check_report(&fixture.join("expect.tsv"), &reported);
    assert!(
        failures.is_empty() && report_failures.is_empty(),
        "{} failures:\n{}\n{}\nreport: {:#?}",
        failures.len() + report_failures.len(),
        failures.join("\n"),
        report_failures.join("\n"),
        summary.report
    );
}

/// A dump with svndiff deltas gives byte-identical Git history to the full-text dump.
#[test]
fn delta_and_full_dumps_give_identical_history() {
    let fixture = build_fixture("features.sh");
    let full = convert(&fixture.join("repo.dump"), &scratch_dir("svn-convert-full")).0;
    let deltas = convert(
        &fixture.join("repo.deltas.dump"),
        &scratch_dir("svn-convert-deltas"),
    )
    .0;
    let refs = |repo: &Path| git(repo, &["for-each-ref", "--format=%(objectname) %(refname)"]);
    assert_eq!(refs(&full), refs(&deltas));
    assert!(refs(&full).contains("refs/heads/main"));
}
