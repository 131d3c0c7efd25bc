//! The Subversion converter end to end: dump files through `git fast-import` into a bare
//! repository, checked with the real git.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use srcimport_converters::svn::convert::layout::Layout;
use srcimport_converters::svn::convert::{ConvertOptions, ConvertSummary, Converter, FastImport};
use srcimport_converters::svn::{dump_events, layout_detect};
use srcimport_converters::Cancel;

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
    let work = tempdir("peers");
    let dump = peers_fixture(&work);
    let (repo, summary) = convert(&dump, &work);
    let refs = git(
        &repo,
        &["for-each-ref", "--format=%(refname) %(objecttype)"],
    );
    eprintln!("{refs}\n{summary:?}");
    assert!(refs.contains("refs/heads/main commit"));
    assert!(refs.contains("refs/notes/svn commit"), "{refs}");
    assert!(
        refs.contains("refs/svn/deleted/branches/feature@12"),
        "{refs}"
    );
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("svn-convert-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
