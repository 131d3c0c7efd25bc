//! The Subversion converter end to end: dump files through `git fast-import` into a bare
//! repository, checked with the real git against `svn export` and the fixtures' expectations.

mod common;

use srcimport_converters::url_policy::UrlPolicy;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use srcimport_converters::svn::convert::layout::Layout;
use srcimport_converters::svn::convert::{ConvertOptions, ConvertSummary, Converter, FastImport};
use srcimport_converters::svn::source::SvnSource;
use srcimport_converters::svn::{dump_events, layout_detect};
use srcimport_converters::Cancel;

use common::scratch_dir;
use common::svn_oracle::{
    build_fixture, check_expectations, check_report, compare_trees, svn_url, try_git_tree,
    try_svn_tree, Reported, SvnAt,
};

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

/// Small enough that the fixtures' binaries and longer texts count as large files.
const LARGE_FILE_THRESHOLD: u64 = 200;

/// Where a conversion reads from.
enum From<'a> {
    Dump(&'a Path),
    /// A repository URL read as the pipeline reads it ([`SvnSource::read_into`]: RA's
    /// replay), with the layout detected from this dump.
    Url(&'a str, &'a Path),
}

/// Converts `dump` into a new bare repository under `work`; returns it and the summary.
fn convert(dump: &Path, work: &Path) -> (PathBuf, ConvertSummary) {
    convert_from(From::Dump(dump), work)
}

fn convert_from(from: From<'_>, work: &Path) -> (PathBuf, ConvertSummary) {
    let dump = match from {
        From::Dump(dump) | From::Url(_, dump) => dump,
    };
    let repo = work.join("out.git");
    let marks = work.join("marks");
    std::fs::create_dir_all(work).unwrap();
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
        large_file_threshold: LARGE_FILE_THRESHOLD,
    };
    let cancel = Cancel::new();
    let session = FastImport::new(&mut commands, &mut answers);
    let mut converter = Converter::new(session, options, &cancel, |_| {});
    match from {
        From::Dump(dump) => {
            let input = BufReader::new(std::fs::File::open(dump).unwrap());
            dump_events::replay(input, &mut converter).unwrap()
        }
        From::Url(url, _) => SvnSource::Repository(url.to_owned(), UrlPolicy::default())
            .read_into(None, 0, outline.youngest, &mut converter, &cancel)
            .unwrap(),
    }
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

fn layout_join(root: &str, sub: &str) -> String {
    srcimport_converters::svn::convert::layout::join(root, sub)
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

/// Every commit's tree equals `svn export` of the path and revision its note names (commits
/// holding what lies outside the branch layout are skipped: svn shows them with the
/// branches inside). Returns the differences.
///
/// `shift` maps the dump's revision numbers to the loaded repository's (`svnadmin load`
/// numbers a partial dump from 1).
///
/// Files the conversion reported as keeping CR line endings svn would rewrite
/// (`crlf_kept`, repository paths) are compared with those line endings made LF.
fn oracle_by_notes(
    svn_repo: &Path,
    git_dir: &Path,
    shift: i64,
    crlf_kept: &[String],
) -> Vec<String> {
    let listing = git(git_dir, &["notes", "--ref=refs/notes/svn", "list"]);
    let mut failures = Vec::new();
    for line in listing.lines() {
        let Some((_, commit)) = line.split_once(' ') else {
            continue;
        };
        let note = git(git_dir, &["notes", "--ref=refs/notes/svn", "show", commit]);
        if note.contains("svn-scope:") {
            continue;
        }
        let field = |name: &str| {
            note.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let at = SvnAt {
            path: field("svn-path:").trim_matches('/').to_owned(),
            revision: u32::try_from(field("svn-revision:").parse::<i64>().unwrap_or(0) + shift)
                .unwrap_or(0),
        };
        let url = svn_url(svn_repo, &at);
        let mut git_tree = try_git_tree(git_dir, commit);
        if let Ok(tree) = &mut git_tree {
            for (path, (_, content)) in tree.iter_mut() {
                let full = format!("/{}", layout_join(&at.path, path));
                if crlf_kept.contains(&full) {
                    *content = String::from_utf8_lossy(content)
                        .replace("\r\n", "\n")
                        .into_bytes();
                }
            }
        }
        let compared = try_svn_tree(&url)
            .and_then(|svn| Ok((svn, git_tree?)))
            .map(|(svn, git)| compare_trees(&svn, &git));
        match compared {
            Ok(differences) if differences.is_empty() => {}
            Ok(differences) => failures.push(format!("{url} vs {commit}: {differences:?}")),
            Err(error) => failures.push(format!("{url} vs {commit}: {error}")),
        }
    }
    failures
}

/// Every public dump in ../shared/fixtures/svn-dumps either converts with every commit
/// matching `svn export`, or (those `svnadmin load` refuses) fails with an error naming a
/// byte offset.
#[test]
fn every_shared_dump_converts_faithfully_or_fails_clearly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/svn-dumps");
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let work = scratch_dir("svn-convert-shared-dumps");
    let mut failures = Vec::new();
    let mut converted = 0;
    for (n, line) in index.lines().skip(1).enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (name, load) = (fields[0], fields[3]);
        let dir = work.join(n.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let dump = dir.join("input.dump");
        let bytes = std::fs::read(root.join(name)).unwrap();
        let bytes = if name.ends_with(".gz") {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut plain)
                .unwrap();
            plain
        } else {
            bytes
        };
        std::fs::write(&dump, &bytes).unwrap();
        let outline = dump_events::outline(BufReader::new(std::fs::File::open(&dump).unwrap()));
        if load.starts_with("FAIL") {
            match outline {
                Err(error) => assert!(error.to_string().starts_with("byte "), "{name}: {error}"),
                Ok(_) => failures.push(format!("{name}: svnadmin refuses it, we accepted it")),
            }
            continue;
        }
        let outline = match outline {
            Ok(outline) => outline,
            Err(error) => {
                failures.push(format!("{name}: refused: {error}"));
                continue;
            }
        };
        let shift = match outline.first {
            Some(first) if first > 0 => 1 - i64::try_from(first).unwrap(),
            _ => 0,
        };
        let (git_dir, summary) = convert(&dump, &dir);
        let crlf_kept: Vec<String> = summary
            .report
            .iter()
            .filter(|item| item.kind == "svn_eol_style")
            .filter_map(|item| item.path.clone())
            .collect();
        let svn_repo = dir.join("svn");
        let created = Command::new("svnadmin")
            .arg("create")
            .arg(&svn_repo)
            .status()
            .unwrap();
        assert!(created.success());
        let loaded = Command::new("svnadmin")
            .args(["load", "-q", "--no-flush-to-disk"])
            .arg(&svn_repo)
            .stdin(std::fs::File::open(&dump).unwrap())
            .status()
            .unwrap();
        assert!(loaded.success(), "{name}: svnadmin load");
        // Read back through libsvn (RA), the same history converts to the same
        // commits (a partial dump's revisions are renumbered by the load, so its notes
        // differ).
        if shift == 0 {
            let url = format!("file://{}", svn_repo.display());
            let refs =
                |repo: &Path| git(repo, &["for-each-ref", "--format=%(objectname) %(refname)"]);
            let from_ra = convert_from(From::Url(&url, &dump), &dir.join("ra")).0;
            if refs(&git_dir) != refs(&from_ra) {
                failures.push(format!("{name}: the RA reader gives different history"));
            }
        }
        failures.extend(
            oracle_by_notes(&svn_repo, &git_dir, shift, &crlf_kept)
                .into_iter()
                .map(|f| format!("{name}: {f}")),
        );
        converted += 1;
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(converted > 80, "only {converted} dumps converted");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The two readers give byte-identical Git history for the same repository: every
/// fixture, read from its dump and through the RA reader over file:// (as the pipeline
/// reads it).
#[test]
fn ra_and_dump_readers_give_identical_history() {
    let work = scratch_dir("svn-convert-readers");
    let peers = peers_fixture(&work);
    let mut fixtures = vec![(peers.parent().unwrap().join("repo"), peers.clone())];
    for script in ["features.sh", "multi-project.sh", "flat.sh"] {
        let built = build_fixture(script);
        fixtures.push((built.join("repo"), built.join("repo.dump")));
    }
    let refs = |repo: &Path| git(repo, &["for-each-ref", "--format=%(objectname) %(refname)"]);
    for (n, (svn_repo, dump)) in fixtures.iter().enumerate() {
        let url = format!("file://{}", svn_repo.display());
        let from_dump = convert_from(From::Dump(dump), &work.join(format!("dump-{n}"))).0;
        let from_ra = convert_from(From::Url(&url, dump), &work.join(format!("ra-{n}"))).0;
        assert_eq!(refs(&from_dump), refs(&from_ra), "RA: {}", dump.display());
        assert!(
            refs(&from_dump).contains("refs/heads/main"),
            "{}",
            dump.display()
        );
    }
}

/// The large blobs the converter lists are exactly those a scan of the result finds.
#[test]
fn large_blobs_listed_by_the_converter_are_those_in_the_history() {
    let fixture = build_fixture("features.sh");
    let work = scratch_dir("svn-convert-large");
    let (repo, summary) = convert(&fixture.join("repo.dump"), &work);
    let marks = std::fs::read_to_string(work.join("marks")).unwrap();
    let oid_of = |mark: u64| {
        marks
            .lines()
            .find_map(|l| l.strip_prefix(&format!(":{mark} ")))
            .unwrap()
            .to_owned()
    };
    let listed: std::collections::BTreeSet<String> =
        summary.large_blobs.iter().map(|b| oid_of(b.mark)).collect();
    let objects = git(&repo, &["rev-list", "--objects", "--all"]);
    let mut check = Command::new("git")
        .arg("--git-dir")
        .arg(&repo)
        .args([
            "cat-file",
            "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child_stdin(&mut check);
    for line in objects.lines() {
        writeln!(input, "{}", line.split(' ').next().unwrap()).unwrap();
    }
    drop(input);
    let out = check.wait_with_output().unwrap();
    let scanned: std::collections::BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (oid, kind, size) = (f.next()?, f.next()?, f.next()?.parse::<u64>().ok()?);
            (kind == "blob" && size > LARGE_FILE_THRESHOLD).then(|| oid.to_owned())
        })
        .collect();
    assert!(
        !scanned.is_empty(),
        "the fixture has large blobs at this threshold"
    );
    assert_eq!(listed, scanned);
    let refs = git(&repo, &["for-each-ref", "--format=%(refname)"]);
    for blob in &summary.large_blobs {
        assert!(
            refs.lines().any(|r| r == blob.ref_name),
            "{blob:?} in\n{refs}"
        );
        assert!(
            !blob.path.is_empty() && !blob.path.starts_with('/'),
            "{blob:?}"
        );
    }
}

fn child_stdin(child: &mut std::process::Child) -> std::process::ChildStdin {
    child.stdin.take().unwrap()
}

/// A `.git` directory in Subversion (a vendored checkout, or a hostile dump) is stored under
/// another name and reported: Git would refuse to check it out, hosts to receive it.
#[test]
fn dot_git_paths_are_renamed_and_reported() {
    let work = scratch_dir("svn-convert-dotgit");
    let text = "[core]\n\tfsmonitor = evil\n";
    let dump = format!(
        "SVN-fs-dump-format-version: 2\n\nUUID: 11111111-2222-3333-4444-555555555555\n\n\
         Revision-number: 0\nProp-content-length: 56\nContent-length: 56\n\n\
         K 8\nsvn:date\nV 27\n2020-01-01T00:00:00.000000Z\nPROPS-END\n\n\
         Revision-number: 1\nProp-content-length: 56\nContent-length: 56\n\n\
         K 8\nsvn:date\nV 27\n2020-01-02T00:00:00.000000Z\nPROPS-END\n\n\
         Node-path: vendor\nNode-kind: dir\nNode-action: add\n\n\n\
         Node-path: vendor/.Git\nNode-kind: dir\nNode-action: add\n\n\n\
         Node-path: vendor/.Git/config\nNode-kind: file\nNode-action: add\n\
         Text-content-length: {len}\nContent-length: {len}\n\n{text}\n\n",
        len = text.len()
    );
    let path = work.join("dotgit.dump");
    std::fs::write(&path, dump).unwrap();
    let (repo, summary) = convert(&path, &work);
    let files = git(&repo, &["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(files.trim(), "vendor/.Git-from-svn/config");
    assert!(
        summary
            .report
            .iter()
            .any(|r| r.kind == "path_renamed" && r.path.as_deref() == Some("/vendor/.Git")),
        "{:?}",
        summary.report
    );
    let fsck = Command::new("git")
        .arg("--git-dir")
        .arg(&repo)
        .args(["fsck", "--strict"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&fsck.stderr).contains("hasDotgit"),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

/// Edge cases a review found (dumps in `tests/data/svn-edge/`): paths with a leading `/`,
/// deleted branches whose ref names meet, a file added with no text, a symlink text with a
/// newline. Each converts with every commit equal to `svn export`; a `..` path is refused.
#[test]
fn review_edge_cases_convert_faithfully() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/svn-edge");
    let work = scratch_dir("svn-convert-edges");
    for name in [
        "t1_slash",
        "t2_slash_mode",
        "t7_hidden_collide",
        "t7b_hidden_collide",
        "t8_notext",
        "t9_link_newline",
    ] {
        let dir = work.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let dump = data.join(format!("{name}.dump"));
        let (git_dir, _) = convert(&dump, &dir);
        let svn_repo = dir.join("svn");
        assert!(Command::new("svnadmin")
            .arg("create")
            .arg(&svn_repo)
            .status()
            .unwrap()
            .success());
        let loaded = Command::new("svnadmin")
            .args(["load", "-q"])
            .arg(&svn_repo)
            .stdin(std::fs::File::open(&dump).unwrap())
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(loaded.success(), "{name}");
        let failures = oracle_by_notes(&svn_repo, &git_dir, 0, &[]);
        assert!(failures.is_empty(), "{name}: {failures:#?}");
        let url = format!("file://{}", svn_repo.display());
        let from_ra = convert_from(From::Url(&url, &dump), &dir.join("ra")).0;
        let refs = |repo: &Path| git(repo, &["for-each-ref", "--format=%(objectname) %(refname)"]);
        assert_eq!(refs(&git_dir), refs(&from_ra), "{name}: the RA reader");
        if name.contains("hidden_collide") {
            let deleted = git(&git_dir, &["for-each-ref", "refs/svn/deleted"]);
            assert_eq!(
                deleted.lines().count(),
                2,
                "{name}: both deleted branches kept\n{deleted}"
            );
        }
    }
    let refused = dump_events::outline(BufReader::new(
        std::fs::File::open(data.join("t3_dotdot.dump")).unwrap(),
    ))
    .expect_err("a `..` path is refused, as svnadmin load refuses it");
    assert!(refused.to_string().contains("'..' component"), "{refused}");
}

/// Copying a directory that holds branches to a place outside the layout takes the branches'
/// trees along, and what the container itself held (`branches/README`) too.
#[test]
fn copies_of_containers_keep_everything_they_hold() {
    let work = scratch_dir("svn-convert-containers");
    let script = r#"
set -eu
svnadmin create repo
url=file://$PWD/repo
svn mkdir -q -m layout "$url/trunk" "$url/branches" "$url/tags"
svn checkout -q "$url" wc
cd wc
printf 'a\n' > trunk/a.txt; printf 'readme\n' > branches/README
svn add -q trunk/a.txt branches/README; svn commit -q -m files
svn copy -q trunk branches/b1; printf 'b1\n' > branches/b1/a.txt; svn commit -q -m b1
svn update -q; svn copy -q branches old-branches; svn commit -q -m keep
cd ..; svnadmin dump -q repo > repo.dump
"#;
    let built = Command::new("bash")
        .args(["-c", script])
        .current_dir(&work)
        .env("LC_ALL", "C.UTF-8")
        .status()
        .unwrap();
    assert!(built.success());
    std::fs::create_dir_all(work.join("out")).unwrap();
    let (repo, summary) = convert(&work.join("repo.dump"), &work.join("out"));
    assert!(
        !summary
            .report
            .iter()
            .any(|r| r.kind == "copy_source_missing"),
        "{:?}",
        summary.report
    );
    let cat = |spec: &str| git(&repo, &["cat-file", "blob", spec]);
    assert_eq!(cat("refs/svn/unbranched:old-branches/README"), "readme\n");
    assert_eq!(cat("refs/svn/unbranched:old-branches/b1/a.txt"), "b1\n");
    assert_eq!(cat("refs/heads/b1:a.txt"), "b1\n");
}
