//! Compares the native reader with the `hg` CLI on every fixture variant:
//! every changeset's metadata, and every file of every manifest.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{as_hg_displays, fixture, hg};
use serde_json::Value;
use srcimport_converters::hg::{
    FileFlag, Filelog, Node, Repository, Revision, RevlogError, Streamed,
};

const CHANGESET_TEMPLATE: &str = concat!(
    r#"\{"rev":{rev},"node":"{node}","p1":"{p1.node}","p2":"{p2.node}","#,
    r#""manifest":"{manifest.node}","user":{user|json},"date":{date|json},"#,
    r#""desc":{desc|json},"branch":{branch|json},"extras":{extras|json},"files":{files|json}}\n"#
);

fn node_hex(node: Node) -> String {
    node.to_hex()
}

fn parent_hex(repo: &Repository, parent: Option<Revision>) -> String {
    match parent {
        Some(revision) => node_hex(
            repo.changelog()
                .revlog()
                .node(revision)
                .expect("parent node"),
        ),
        None => node_hex(Node::NULL),
    }
}

fn check_changesets(repo_path: &Path, repo: &Repository) -> Vec<Value> {
    let output = hg(repo_path, &["log", "-r", "all()", "-T", CHANGESET_TEMPLATE]);
    let expected: Vec<Value> = output
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("hg template output is JSON"))
        .collect();
    assert_eq!(repo.changelog().len(), expected.len(), "changeset count");
    for hg_changeset in &expected {
        let revision = hg_changeset["rev"].as_u64().expect("rev") as Revision;
        let changeset = repo
            .changelog()
            .changeset(revision)
            .expect("read changeset");
        let context = format!("{} rev {revision}", repo_path.display());
        assert_eq!(
            node_hex(changeset.node),
            hg_changeset["node"],
            "{context}: node"
        );
        assert_eq!(
            parent_hex(repo, changeset.parents[0]),
            hg_changeset["p1"],
            "{context}: p1"
        );
        assert_eq!(
            parent_hex(repo, changeset.parents[1]),
            hg_changeset["p2"],
            "{context}: p2"
        );
        assert_eq!(
            node_hex(changeset.manifest_node),
            hg_changeset["manifest"],
            "{context}: manifest"
        );
        assert_eq!(
            as_hg_displays(&changeset.user),
            hg_changeset["user"],
            "{context}: user"
        );
        assert_eq!(
            serde_json::json!([changeset.timestamp, changeset.tz_offset]),
            hg_changeset["date"],
            "{context}: date"
        );
        assert_eq!(
            as_hg_displays(&changeset.description),
            hg_changeset["desc"],
            "{context}: desc"
        );
        assert_eq!(
            as_hg_displays(changeset.branch()),
            hg_changeset["branch"],
            "{context}: branch"
        );
        // hg shows `branch: default` even when the extra is not stored.
        let mut extras: serde_json::Map<String, Value> = changeset
            .extras
            .iter()
            .map(|(key, value)| (as_hg_displays(key), Value::from(as_hg_displays(value))))
            .collect();
        extras
            .entry("branch")
            .or_insert_with(|| Value::from(as_hg_displays(changeset.branch())));
        assert_eq!(
            Value::Object(extras),
            hg_changeset["extras"],
            "{context}: extras"
        );
        let files: Vec<Value> = changeset
            .files
            .iter()
            .map(|file| Value::from(as_hg_displays(file)))
            .collect();
        assert_eq!(
            Value::Array(files),
            hg_changeset["files"],
            "{context}: files"
        );
    }
    expected
}

/// One line of `hg manifest --debug`: `node mode flag path`.
struct HgManifestLine {
    node: String,
    flag: u8,
    path: Vec<u8>,
}

fn hg_manifest(repo_path: &Path, revision: Revision) -> Vec<HgManifestLine> {
    let output = hg(
        repo_path,
        &["manifest", "--debug", "-r", &revision.to_string()],
    );
    output
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            assert!(line.len() > 47, "short manifest line {line:?}");
            HgManifestLine {
                node: String::from_utf8(line[..40].to_vec()).expect("hex node"),
                flag: line[45],
                path: line[47..].to_vec(),
            }
        })
        .collect()
}

fn check_files(repo_path: &Path, repo: &Repository, scratch: &Path) {
    let mut filelogs: HashMap<Vec<u8>, Filelog> = HashMap::new();
    for revision in 0..repo.changelog().len() as Revision {
        let changeset = repo.changelog().changeset(revision).expect("changeset");
        let manifest = repo
            .manifest_log()
            .manifest(&changeset.manifest_node)
            .expect("manifest");
        let expected = hg_manifest(repo_path, revision);
        let context = format!("{} rev {revision}", repo_path.display());
        assert_eq!(
            manifest.entries.len(),
            expected.len(),
            "{context}: manifest size"
        );

        let cat_dir = scratch.join(format!("cat-{revision}"));
        let pattern = format!("{}/%p", cat_dir.display());
        hg(
            repo_path,
            &[
                "cat",
                "-r",
                &revision.to_string(),
                "-o",
                &pattern,
                "glob:**",
            ],
        );

        for (entry, hg_line) in manifest.entries.iter().zip(&expected) {
            assert_eq!(entry.path, hg_line.path, "{context}: path order");
            assert_eq!(
                node_hex(entry.node),
                hg_line.node,
                "{context}: node of {:?}",
                hg_line.path
            );
            let expected_flag = match hg_line.flag {
                b'*' => FileFlag::Executable,
                b'@' => FileFlag::Symlink,
                _ => FileFlag::Regular,
            };
            assert_eq!(
                entry.flag, expected_flag,
                "{context}: flag of {:?}",
                hg_line.path
            );
            let filelog = match filelogs.entry(entry.path.clone()) {
                std::collections::hash_map::Entry::Occupied(occupied) => occupied.into_mut(),
                std::collections::hash_map::Entry::Vacant(vacant) => {
                    vacant.insert(repo.filelog(&entry.path).expect("open filelog"))
                }
            };
            let file_revision = filelog
                .file_revision(&entry.node)
                .expect("read file revision");
            let cat_path = cat_dir.join(as_hg_displays(&entry.path));
            let expected_content = std::fs::read(&cat_path).expect("hg cat output");
            assert!(
                file_revision.data == expected_content,
                "{context}: content of {:?}",
                hg_line.path
            );
            // Streamed (as large files are), the content is the same, metadata removed.
            let mut streamed = Vec::new();
            let mut length = None;
            filelog
                .stream_content(&entry.node, |piece| -> Result<(), RevlogError> {
                    match piece {
                        Streamed::Length(len) => length = Some(len),
                        Streamed::Bytes(bytes) => streamed.extend_from_slice(bytes),
                    }
                    Ok(())
                })
                .expect("stream file revision");
            assert_eq!(length, Some(expected_content.len() as u64), "{context}");
            assert!(
                streamed == expected_content,
                "{context}: streamed content of {:?}",
                hg_line.path
            );
        }
        std::fs::remove_dir_all(&cat_dir).expect("clean cat output");
    }
}

fn check_copies(repo: &Repository) {
    let tip = repo.changelog().len() as Revision - 1;
    let changeset = repo.changelog().changeset(tip).expect("tip");
    let manifest = repo
        .manifest_log()
        .manifest(&changeset.manifest_node)
        .expect("manifest");
    let copy_of = |path: &[u8]| {
        let entry = manifest.get(path).expect("file in tip manifest");
        let filelog = repo.filelog(path).expect("filelog");
        filelog
            .file_revision(&entry.node)
            .expect("file revision")
            .copy_source
    };
    let renamed = copy_of(b"src/b.c").expect("src/b.c was renamed");
    assert_eq!(renamed.path, b"src/a.c");
    let source_filelog = repo.filelog(b"src/a.c").expect("source filelog");
    assert!(source_filelog.revlog().contains(&renamed.node));
    assert_eq!(
        copy_of(b"README.copy")
            .expect("README.copy was copied")
            .path,
        b"README"
    );
    assert!(copy_of(b"README").is_none());
}

fn check_storage_kinds(repo: &Repository) {
    let big = repo.filelog(b"big.bin").expect("big.bin filelog");
    assert!(
        !big.revlog().is_inline(),
        "the 2 MiB binary's revlog is split into .i/.d"
    );
    assert_eq!(big.revlog().len(), 2);
    let medium = repo.filelog(b"medium.bin").expect("medium.bin filelog");
    assert!(
        !medium.revlog().is_inline(),
        "a 150 KB revlog is split into .i/.d"
    );
    assert_eq!(medium.revlog().len(), 3);
    let empty = repo.filelog(b"empty.txt").expect("empty.txt filelog");
    assert_eq!(empty.file_revision_at(0).expect("empty file").data, b"");
    let small = repo.filelog(b"README").expect("README filelog");
    assert!(small.revlog().is_inline());
    assert!(repo.changelog().revlog().is_inline());
}

fn check_variant(name: &str) -> Repository {
    let repo_path = fixture(name);
    let repo = Repository::open(repo_path).expect("open fixture");
    let scratch = common::scratch_dir(&format!("oracle-{name}"));
    let changesets = check_changesets(repo_path, &repo);
    assert!(changesets.len() >= 16);
    check_files(repo_path, &repo, &scratch);
    check_copies(&repo);
    check_storage_kinds(&repo);
    std::fs::remove_dir_all(&scratch).expect("clean scratch");
    repo
}

#[test]
fn default_format_matches_hg() {
    let repo = check_variant("default");
    assert!(repo.requirements().contains("share-safe"));
    assert!(repo.requirements().contains("generaldelta"));
    let closed: Vec<bool> = (0..repo.changelog().len() as Revision)
        .map(|revision| {
            repo.changelog()
                .changeset(revision)
                .expect("changeset")
                .closes_branch()
        })
        .collect();
    assert_eq!(closed.iter().filter(|&&closes| closes).count(), 1);
    let raw = repo.changelog().changeset(14).expect("raw-bytes changeset");
    assert_eq!(raw.user, b"Latin \xe9 User <latin@example.com>");
    assert_eq!(
        raw.description,
        b"non-UTF-8 message: caf\xe9 \xff\xfe\nsecond line \x80"
    );
}

#[test]
fn zlib_compression_matches_hg() {
    let repo = check_variant("zlib");
    assert!(!repo.requirements().contains("revlog-compression-zstd"));
}

#[test]
fn without_share_safe_matches_hg() {
    let repo = check_variant("no-share-safe");
    assert!(!repo.requirements().contains("share-safe"));
    assert!(repo.requirements().contains("fncache"));
}

#[test]
fn without_generaldelta_matches_hg() {
    let repo = check_variant("no-generaldelta");
    assert!(!repo.requirements().contains("generaldelta"));
    assert!(!repo.manifest_log().revlog().uses_general_delta());
}

#[test]
fn without_dotencode_matches_hg() {
    let repo = check_variant("no-dotencode");
    assert!(!repo.requirements().contains("dotencode"));
}

#[test]
fn without_fncache_matches_hg() {
    let repo = check_variant("no-fncache");
    assert!(!repo.requirements().contains("fncache"));
}
