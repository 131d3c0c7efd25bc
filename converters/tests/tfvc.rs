//! The TFVC client and converter against the fixture server (the one stand-in): paging,
//! continuation tokens, retries on 429 (honouring `Retry-After`) and 5xx, api-version
//! fallback and 401s; a multi-branch history through `git fast-import`, checked with the
//! real git against what the server says every branch holds at every changeset.

#[path = "common/tfvc_fixture.rs"]
mod tfvc_fixture;

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use srcimport_converters::fast_export::stream::FastImport;
use srcimport_converters::fast_export::TagToWrite;
use srcimport_converters::tfvc::client::{Client, ClientOptions};
use srcimport_converters::tfvc::convert::{ConvertOptions, ConvertSummary, Converter};
use srcimport_converters::tfvc::model::{Change, Envelope};
use srcimport_converters::tfvc::reader::Reader;
use srcimport_converters::tfvc::TfvcError;
use srcimport_converters::url_policy::UrlPolicy;
use srcimport_converters::{Cancel, Credentials, SourceError};

use tfvc_fixture::{git_files, history, Fixture};

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

fn fast_options() -> ClientOptions {
    ClientOptions {
        page_size: 200,
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
    }
}

fn client(fixture: &Fixture, credentials: Option<&Credentials>, options: ClientOptions) -> Client {
    Client::new(
        &fixture.collection,
        credentials,
        &UrlPolicy::default(),
        options,
        &Cancel::new(),
    )
    .expect("client")
}

/// Converts `project` into a new bare repository under `work`, writing the tags too.
fn convert(fixture: &Fixture, project: &str, jobs: usize, work: &Path) -> ConvertSummary {
    let repo = work.join("out.git");
    std::fs::create_dir_all(work).unwrap();
    git(&repo, &["init", "--quiet", "--bare"]);
    let marks = work.join("marks");
    let reader = Reader::new(client(fixture, None, fast_options()), project, jobs);
    let branches = reader.branches().expect("branches");
    let labels = reader.labels().expect("labels");
    let changesets = reader.changesets().expect("changesets");
    let mut stream = reader.stream(changesets);
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
        project: project.into(),
        main_branch: "main".into(),
        ref_prefix: "refs/".into(),
        work_ref_prefix: "refs/work/".into(),
        notes_ref: "refs/notes/tfvc".into(),
        large_file_threshold: 64,
    };
    let cancel = Cancel::new();
    let summary = {
        let session = FastImport::new(&mut commands, &mut answers);
        let mut converter = Converter::new(session, options, &branches, &cancel, |_| {});
        converter.run(&mut stream).expect("conversion");
        converter.finish(&labels).expect("finish").0
    };
    use std::io::Write;
    commands.write_all(b"done\n").unwrap();
    drop(commands);
    assert!(child.wait().unwrap().success(), "fast-import succeeded");
    let marks_text = std::fs::read_to_string(&marks).unwrap();
    let commit_of: BTreeMap<u64, String> = marks_text
        .lines()
        .filter_map(|l| {
            let (mark, oid) = l.strip_prefix(':')?.split_once(' ')?;
            Some((mark.parse().ok()?, oid.to_owned()))
        })
        .collect();
    for TagToWrite {
        git_name,
        mark,
        tagger,
        message,
    } in &summary.tags
    {
        let body = format!(
            "object {}\ntype commit\ntag {git_name}\ntagger {tagger}\n\n{message}\n",
            commit_of[mark]
        );
        let mut mktag = Command::new("git")
            .arg("--git-dir")
            .arg(&repo)
            .arg("mktag")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        mktag
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        let out = mktag.wait_with_output().unwrap();
        assert!(out.status.success(), "mktag {git_name}");
        let id = String::from_utf8(out.stdout).unwrap();
        git(
            &repo,
            &["update-ref", &format!("refs/tags/{git_name}"), id.trim()],
        );
    }
    git(
        &repo,
        &["for-each-ref", "--format=delete %(refname)", "refs/work/"],
    )
    .lines()
    .for_each(|l| {
        git(
            &repo,
            &["update-ref", "-d", l.trim_start_matches("delete ")],
        );
    });
    summary
}

/// Every commit of `branch` (first parent), with its note's changeset and path, checked
/// against what the server says that path held at that changeset.
fn check_history(
    fixture: &Fixture,
    repo: &Path,
    project: &str,
    branch: &str,
) -> Vec<(String, u64)> {
    let log = git(repo, &["rev-list", "--first-parent", branch]);
    let mut seen = Vec::new();
    for commit in log.lines() {
        let note = git(repo, &["notes", "--ref=tfvc", "show", commit]);
        let changeset: u64 = note
            .lines()
            .find_map(|l| l.strip_prefix("tfvc-changeset: "))
            .expect("changeset in the note")
            .parse()
            .unwrap();
        let path = note
            .lines()
            .find_map(|l| l.strip_prefix("tfvc-path: "))
            .expect("path in the note");
        assert_eq!(
            git_files(repo, commit),
            fixture.files_at(project, path, changeset, None),
            "{branch} at changeset {changeset} ({path})"
        );
        seen.push((commit.to_owned(), changeset));
    }
    seen
}

#[test]
fn multi_branch_history_converts_with_branch_points_merges_labels_and_notes() {
    let fixture = Fixture::start(&history("multi-branch"), &["--page-limit", "3"]);
    let dir = tempfile::tempdir().unwrap();
    let summary = convert(&fixture, "Contoso", 8, dir.path());
    let repo = dir.path().join("out.git");
    let refs = git(&repo, &["for-each-ref", "--format=%(refname)"]);
    assert!(refs.contains("refs/heads/main\n"), "{refs}");
    assert!(refs.contains("refs/heads/Dev\n"), "{refs}");
    assert!(refs.contains("refs/notes/tfvc\n"), "{refs}");
    assert!(!refs.contains("refs/work/"), "{refs}");

    // Every commit of both branches holds what the server holds at its changeset.
    let main = check_history(&fixture, &repo, "Contoso", "main");
    let dev = check_history(&fixture, &repo, "Contoso", "Dev");
    let main_changesets: Vec<u64> = main.iter().rev().map(|(_, c)| *c).collect();
    let dev_changesets: Vec<u64> = dev.iter().rev().map(|(_, c)| *c).collect();
    assert_eq!(main_changesets, [1, 2, 5, 6, 8, 10]);
    assert_eq!(
        dev_changesets,
        [1, 2, 3, 4, 7, 9],
        "Dev starts from Main at changeset 2"
    );
    let commit_at = |list: &[(String, u64)], cs: u64| {
        list.iter()
            .find(|(_, c)| *c == cs)
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    // Branch point: Dev's first commit has Main's changeset-2 commit as its parent.
    let dev3 = commit_at(&dev, 3);
    assert_eq!(
        git(&repo, &["rev-parse", &format!("{dev3}^")]).trim(),
        commit_at(&main, 2)
    );
    // Whole-branch merge (changeset 8) → a merge parent on Dev at changeset 7.
    let parents = git(
        &repo,
        &["rev-list", "--parents", "-n1", &commit_at(&main, 8)],
    );
    let parents: Vec<&str> = parents.split_whitespace().skip(1).collect();
    assert_eq!(parents, [commit_at(&main, 6), commit_at(&dev, 7)]);
    // A cherry-pick (changeset 10) gets no merge parent, and is reported.
    let parents = git(
        &repo,
        &["rev-list", "--parents", "-n1", &commit_at(&main, 10)],
    );
    assert_eq!(
        parents.split_whitespace().count(),
        2,
        "one parent: {parents}"
    );
    assert!(
        summary
            .report
            .iter()
            .any(|r| r.kind == "partial_merge" && r.revision == Some(10)),
        "{:?}",
        summary.report
    );

    // Labels → annotated tags on Main at the label's changeset.
    let tag = git(&repo, &["cat-file", "-p", "v1.0"]);
    assert!(
        tag.contains(&format!("object {}", commit_at(&main, 6))),
        "{tag}"
    );
    assert!(
        tag.contains("tagger alice <alice@CONTOSO> 1578765600 +0000"),
        "{tag}"
    );
    assert!(tag.contains("Main after the undelete"), "{tag}");
    let hotfix = git(&repo, &["rev-parse", "hotfix-1^{commit}"]);
    assert_eq!(hotfix.trim(), commit_at(&main, 6));

    // Identities, dates (with an offset) and non-ASCII messages.
    let c2 = git(&repo, &["cat-file", "-p", &commit_at(&main, 2)]);
    assert!(
        c2.contains("author bob <bob@contoso.com> 1578389400 +0000"),
        "{c2}"
    );
    assert!(c2.contains("Ajout du café — première version ☕"), "{c2}");
    let users: Vec<&String> = summary.users.values().map(|(id, _)| id).collect();
    assert!(users.contains(&&"CONTOSO\\alice".to_owned()), "{users:?}");
    assert!(users.contains(&&"CONTOSO\\carol".to_owned()), "{users:?}");
    assert_eq!(summary.changesets, 10);
    assert_eq!(summary.commits as usize, main.len() + dev.len() - 2);
}

#[test]
fn paging_and_continuation_tokens_bring_every_element() {
    let fixture = Fixture::start(&history("multi-branch"), &["--page-limit", "2"]);
    let mut options = fast_options();
    options.page_size = 50;
    let client = client(&fixture, None, options);
    // Changeset 1 has 10 changes: pages of 2 linked by continuation tokens.
    let changes: Vec<Change> = client
        .get_continued("Contoso/_apis/tfvc/changesets/1/changes", &[])
        .expect("changes");
    assert_eq!(changes.len(), 10);
    let mut ids = Vec::new();
    client
        .get_paged(
            "Contoso/_apis/tfvc/changesets",
            &[("$orderby", "id asc".into())],
            |c: srcimport_converters::tfvc::model::ChangesetRef| {
                ids.push(c.changeset_id);
                Ok(())
            },
        )
        .expect("changesets");
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    let stats = fixture.stats();
    assert!(
        stats["requests"]["changes"].as_u64().unwrap() >= 5,
        "{stats}"
    );
    assert!(
        stats["requests"]["changesets"].as_u64().unwrap() >= 5,
        "{stats}"
    );
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let mut history = history("multi-branch");
    history["faults"] = json!([
        {"endpoint": "changes", "status": 429, "times": 1, "retry_after": 1},
        {"endpoint": "changesets", "status": 503, "times": 2},
        {"endpoint": "download", "status": 500, "times": 2},
    ]);
    let fixture = Fixture::start(&history, &[]);
    let client = client(&fixture, None, fast_options());
    let started = Instant::now();
    let changes: Envelope<Change> = client
        .get_json("Contoso/_apis/tfvc/changesets/2/changes", &[])
        .expect("changes after a 429");
    assert_eq!(changes.value.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was honoured ({:?})",
        started.elapsed()
    );
    let _: Envelope<Value> = client
        .get_json("Contoso/_apis/tfvc/changesets", &[])
        .expect("changesets after two 503s");
    let dir = tempfile::tempdir().unwrap();
    convert(&fixture, "Contoso", 4, dir.path());
    let stats = fixture.stats();
    assert_eq!(stats["faults_injected"]["changes"], 1, "{stats}");
    assert_eq!(stats["faults_injected"]["changesets"], 2, "{stats}");
    assert_eq!(stats["faults_injected"]["download"], 2, "{stats}");

    // Out of attempts: the error says what the server answered.
    history["faults"] = json!([{"endpoint": "projects", "status": 500, "times": 10}]);
    let fixture = Fixture::start(&history, &[]);
    let client = self::client(&fixture, None, fast_options());
    match client.get_json::<Value>("_apis/projects", &[]) {
        Err(TfvcError::Http { status: 500, .. }) => {}
        other => panic!("expected a 500 after the retries, got {other:?}"),
    }
}

#[test]
fn waiting_for_retry_after_is_cancellable() {
    let mut history = history("small");
    history["faults"] =
        json!([{"endpoint": "projects", "status": 429, "times": 5, "retry_after": 30}]);
    let fixture = Fixture::start(&history, &[]);
    let cancel = Cancel::new();
    let client = Client::new(
        &fixture.collection,
        None,
        &UrlPolicy::default(),
        fast_options(),
        &cancel,
    )
    .unwrap();
    let started = Instant::now();
    let worker = std::thread::spawn(move || client.get_json::<Value>("_apis/projects", &[]));
    // Cancels once the first 429 has been answered (the client is then waiting 30 s).
    loop {
        if fixture.stats()["faults_injected"]["projects"]
            .as_u64()
            .unwrap_or(0)
            >= 1
        {
            break;
        }
        std::thread::yield_now();
    }
    cancel.cancel();
    let result = worker.join().unwrap();
    assert!(
        matches!(result, Err(TfvcError::Source(SourceError::Cancelled))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn older_servers_get_an_older_api_version() {
    let fixture = Fixture::start(&history("multi-branch"), &["--max-api-version", "5.0"]);
    let client = client(&fixture, None, fast_options());
    let changes: Envelope<Change> = client
        .get_json("Contoso/_apis/tfvc/changesets/2/changes", &[])
        .expect("changes");
    assert_eq!(changes.value.len(), 2);
    assert_eq!(client.api_version(), "5.0");
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(convert(&fixture, "Contoso", 2, dir.path()).changesets, 10);
}

#[test]
fn unauthorized_requests_are_auth_errors() {
    let fixture = Fixture::start(&history("small"), &["--pat", "s3cret-token"]);
    let answer = |credentials: Option<&Credentials>| {
        client(&fixture, credentials, fast_options()).get_json::<Value>("_apis/projects", &[])
    };
    match answer(None) {
        Err(TfvcError::Source(SourceError::AuthRequired { .. })) => {}
        other => panic!("expected AuthRequired, got {other:?}"),
    }
    let wrong = Credentials {
        username: String::new(),
        password: "nope".into(),
    };
    match answer(Some(&wrong)) {
        Err(TfvcError::Source(e @ SourceError::AuthRejected { .. })) => {
            assert!(!e.to_string().contains("nope"), "{e}");
        }
        other => panic!("expected AuthRejected, got {other:?}"),
    }
    let pat = Credentials {
        username: String::new(),
        password: "s3cret-token".into(),
    };
    assert!(answer(Some(&pat)).is_ok());
}

#[test]
fn downloads_run_in_parallel_up_to_the_pool_size() {
    let history = history("multi-branch");
    for (jobs, parallel) in [(8, true), (1, false)] {
        let fixture = Fixture::start(&history, &["--latency-ms", "30"]);
        let dir = tempfile::tempdir().unwrap();
        convert(&fixture, "Contoso", jobs, dir.path());
        let max = fixture.stats()["max_concurrent_downloads"]
            .as_u64()
            .unwrap();
        if parallel {
            assert!(max > 1, "jobs {jobs}: at most {max} downloads at once");
        } else {
            assert_eq!(max, 1, "jobs {jobs}");
        }
    }
}

fn change(path: &str, change_type: &str) -> Value {
    json!({"path": path, "changeType": change_type})
}

fn folder(path: &str, change_type: &str) -> Value {
    json!({"path": path, "changeType": change_type, "itemType": "folder"})
}

fn file(path: &str, change_type: &str, content: &str) -> Value {
    json!({"path": path, "changeType": change_type, "content": content})
}

fn branch(path: &str, source: &str, version: u64) -> Value {
    json!({"path": path, "changeType": "branch", "itemType": "folder",
           "sourceServerItem": source, "sourceVersion": version})
}

/// Folder renames, deletes and undeletes, a folder branch inside a branch, a branch the
/// branches API does not list (later deleted), content outside every branch, a long
/// comment, a large file, and a project without branches.
fn edge_history() -> Value {
    let changesets: Vec<Vec<Value>> = vec![
        vec![
            folder("$/Edge", "add"),
            folder("$/Edge/Main", "add"),
            file("$/Edge/Main/lib/a.c", "add", "a1\n"),
            file("$/Edge/Main/lib/b.c", "add", "b1\n"),
            file("$/Edge/Main/docs/readme.txt", "add", "doc\n"),
            file("$/Edge/Main/big.bin", "add", &"x".repeat(200)),
            file("$/Edge/tools/build.sh", "add", "#!/bin/sh\n"),
        ],
        vec![branch("$/Edge/Release 1.0", "$/Edge/Main", 1)],
        vec![
            json!({"path": "$/Edge/Main/core", "changeType": "rename", "itemType": "folder",
                    "sourceServerItem": "$/Edge/Main/lib"}),
        ],
        vec![folder("$/Edge/Main/docs", "delete")],
        vec![folder("$/Edge/Main/docs", "undelete")],
        vec![branch("$/Edge/Feat", "$/Edge/Main", 5)],
        vec![
            file("$/Edge/Feat/core/a.c", "edit", "a-feat\n"),
            file("$/Edge/Release 1.0/lib/a.c", "edit", "a-rel\n"),
        ],
        vec![
            branch("$/Edge/Main/core-copy", "$/Edge/Main/core", 7),
            file("$/Edge/Main/core/b.c", "edit", "b2\n"),
        ],
        vec![folder("$/Edge/Feat", "delete")],
        vec![
            file("$/Edge/tools/build.sh", "edit", "#!/bin/sh\nmake\n"),
            file("$/Edge/Main/core-copy/a.c", "edit", "a3\n"),
            change("$/Edge/Main/lib-gone.txt", "add"),
        ],
        vec![
            folder("$/Flat", "add"),
            file("$/Flat/x.txt", "add", "x\n"),
            file("$/Flat/sub/y.txt", "add", "y\n"),
        ],
        vec![
            json!({"path": "$/Flat/sub2", "changeType": "rename", "itemType": "folder",
                   "sourceServerItem": "$/Flat/sub"}),
            file("$/Flat/x.txt", "edit", "x2\n"),
        ],
    ];
    let long = format!("A long first comment: {}", "word ".repeat(40));
    let changesets: Vec<Value> = changesets
        .into_iter()
        .enumerate()
        .map(|(i, changes)| {
            json!({
                "id": i + 1,
                "author": {"displayName": "Dee", "uniqueName": "EDGE\\dee"},
                "createdDate": format!("2022-02-{:02}T12:00:00Z", i + 1),
                "comment": if i == 0 { long.clone() } else { format!("changeset {}", i + 1) },
                "changes": changes,
            })
        })
        .collect();
    json!({
        "projects": [
            {"name": "Edge", "branches": [
                {"path": "$/Edge/Main", "parent": null, "owner": "EDGE\\dee", "isDeleted": false,
                 "createdDate": "2022-02-01T12:00:00Z", "description": ""},
                {"path": "$/Edge/Release 1.0", "parent": "$/Edge/Main", "owner": "EDGE\\dee", "isDeleted": false,
                 "createdDate": "2022-02-01T12:00:00Z", "description": ""}
            ], "labels": [
                {"name": "span", "owner": "EDGE\\dee", "modifiedDate": "2022-03-01T00:00:00Z",
                 "items": [{"path": "$/Edge/Main/big.bin", "version": 1},
                           {"path": "$/Edge/Main/core/a.c", "version": 3},
                           {"path": "$/Edge/Release 1.0/lib/a.c", "version": 7}]},
                {"name": "mixed", "owner": "EDGE\\dee", "modifiedDate": "2022-03-01T00:00:00Z",
                 "items": [{"path": "$/Edge/Main/core/b.c", "version": 3},
                           {"path": "$/Edge/Main/core-copy/a.c", "version": 10}]},
                {"name": "whole main", "owner": "EDGE\\dee", "modifiedDate": "2022-03-01T00:00:00Z",
                 "scope": "$/Edge/Main", "changeset": 8}
            ]},
            {"name": "Flat"}
        ],
        "changesets": changesets,
    })
}

#[test]
fn folder_moves_undeletes_copies_deleted_branches_and_unbranched_content() {
    let fixture = Fixture::start(&edge_history(), &[]);
    let dir = tempfile::tempdir().unwrap();
    let summary = convert(&fixture, "Edge", 3, dir.path());
    let repo = dir.path().join("out.git");
    let refs = git(&repo, &["for-each-ref", "--format=%(refname)"]);
    for wanted in [
        "refs/heads/main",
        "refs/heads/Release_1.0",
        "refs/tfvc/deleted/Feat",
        "refs/tfvc/unbranched",
    ] {
        assert!(refs.lines().any(|l| l == wanted), "{wanted} in\n{refs}");
    }
    let main = check_history(&fixture, &repo, "Edge", "main");
    let release = check_history(&fixture, &repo, "Edge", "Release_1.0");
    let feat = check_history(&fixture, &repo, "Edge", "refs/tfvc/deleted/Feat");
    let changesets =
        |list: &[(String, u64)]| list.iter().rev().map(|(_, c)| *c).collect::<Vec<_>>();
    assert_eq!(changesets(&main), [1, 3, 4, 5, 8, 10]);
    assert_eq!(changesets(&release), [1, 2, 7]);
    assert_eq!(
        changesets(&feat),
        [1, 3, 4, 5, 6, 7],
        "the deletion makes no commit"
    );
    // Content outside the branches.
    let outside = git_files(&repo, "refs/tfvc/unbranched");
    assert_eq!(outside.keys().collect::<Vec<_>>(), ["tools/build.sh"]);
    assert_eq!(
        outside["tools/build.sh"],
        tfvc_fixture::blob_id(b"#!/bin/sh\nmake\n")
    );
    // The full first comment, though the list truncates it.
    let first = git(
        &repo,
        &["log", "--format=%B", "-n1", &main.last().unwrap().0],
    );
    assert!(first.trim_end().ends_with("word word"), "{first}");
    assert!(first.len() > 200, "{first}");
    // The large file is listed with the branch that shows it.
    assert!(
        summary
            .large_blobs
            .iter()
            .any(|b| b.ref_name == "refs/heads/main" && b.path == "big.bin" && b.size == 200),
        "{:?}",
        summary.large_blobs
    );

    // Labels: tagged on the branch holding most of their items, at the newest item;
    // spanning branches and mixed versions are reported; names made valid.
    let kinds: Vec<(&str, &str)> = summary
        .report
        .iter()
        .map(|r| (r.kind.as_str(), r.detail.as_str()))
        .collect();
    assert!(
        kinds
            .iter()
            .any(|(k, d)| *k == "label_spans_branches" && d.contains("\"span\"")),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|(k, d)| *k == "label_mixed_versions" && d.contains("\"mixed\"")),
        "{kinds:?}"
    );
    assert!(
        !kinds
            .iter()
            .any(|(_, d)| d.contains("\"whole main\"") && !d.contains("is tag")),
        "{kinds:?}"
    );
    let tag_at = |name: &str| {
        git(&repo, &["rev-parse", &format!("{name}^{{commit}}")])
            .trim()
            .to_owned()
    };
    let main_at = |cs: u64| {
        main.iter()
            .find(|(_, c)| *c == cs)
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    assert_eq!(tag_at("span"), main_at(3));
    assert_eq!(tag_at("mixed"), main_at(10));
    assert_eq!(tag_at("whole_main"), main_at(8));

    // A project without branches is `main`, whole.
    let dir = tempfile::tempdir().unwrap();
    convert(&fixture, "Flat", 2, dir.path());
    let repo = dir.path().join("out.git");
    let flat = check_history(&fixture, &repo, "Flat", "main");
    assert_eq!(changesets(&flat), [11, 12]);
    assert_eq!(
        git(
            &repo,
            &["for-each-ref", "--format=%(refname)", "refs/heads"]
        )
        .trim(),
        "refs/heads/main"
    );
}

#[test]
fn synthetic_history_converts_to_the_servers_trees() {
    let fixture = Fixture::start(&tfvc_fixture::generated(300, 100), &[]);
    let dir = tempfile::tempdir().unwrap();
    let summary = convert(&fixture, "Bench", 8, dir.path());
    let repo = dir.path().join("out.git");
    assert_eq!(summary.changesets, 300);
    assert!(!summary.tags.is_empty(), "labels became tags");
    let merges = git(&repo, &["rev-list", "--merges", "main"]);
    assert!(
        merges.lines().count() >= 3,
        "merges from Dev: {merges}\n{:#?}",
        summary.report
    );
    for (branch, path) in [("main", "$/Bench/Main"), ("Dev", "$/Bench/Dev")] {
        let commits = git(&repo, &["rev-list", "--first-parent", branch]);
        // The tip and every tenth commit hold what the server holds at their changeset.
        for commit in commits.lines().step_by(10) {
            let note = git(&repo, &["notes", "--ref=tfvc", "show", commit]);
            let changeset: u64 = note
                .lines()
                .find_map(|l| l.strip_prefix("tfvc-changeset: "))
                .expect("note")
                .parse()
                .unwrap();
            assert_eq!(
                git_files(&repo, commit),
                fixture.files_at("Bench", path, changeset, None),
                "{branch} at changeset {changeset}"
            );
        }
    }
}
