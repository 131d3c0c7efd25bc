//! Repository opening: requirement checks and error reporting.

mod common;

use std::path::Path;

use common::{copy_tree, fixture, scratch_dir};
use srcimport_converters::hg::{Repository, RevlogError};

fn write_requires(repo: &Path, requires: &str, store_requires: Option<&str>) {
    std::fs::create_dir_all(repo.join(".hg/store")).expect("create .hg/store");
    std::fs::write(repo.join(".hg/requires"), requires).expect("write requires");
    if let Some(store_requires) = store_requires {
        std::fs::write(repo.join(".hg/store/requires"), store_requires)
            .expect("write store requires");
    }
}

#[test]
fn unsupported_requirements_are_named() {
    let scratch = scratch_dir("requirements");
    let cases = [
        (
            "revlogv1\nstore\nfncache\ntreemanifest\n",
            None,
            "treemanifest",
        ),
        ("revlogv2\nstore\n", None, "revlogv2"),
        (
            "share-safe\n",
            Some("revlogv1\nstore\nchangelogv2\n"),
            "changelogv2",
        ),
        (
            "share-safe\n",
            Some("revlogv1\nstore\nexp-compression-none\n"),
            "exp-compression-none",
        ),
    ];
    for (index, (requires, store_requires, name)) in cases.into_iter().enumerate() {
        let repo = scratch.join(format!("case-{index}"));
        write_requires(&repo, requires, store_requires);
        match Repository::open(&repo) {
            Err(RevlogError::UnsupportedRequirement { requirement, path }) => {
                assert_eq!(requirement, name);
                assert!(path.ends_with("requires"));
            }
            other => panic!("{name}: expected UnsupportedRequirement, got {other:?}"),
        }
    }
    std::fs::remove_dir_all(&scratch).expect("clean scratch");
}

#[test]
fn empty_and_non_repositories() {
    let scratch = scratch_dir("empty-repo");
    let empty = scratch.join("empty");
    write_requires(
        &empty,
        "share-safe\ndirstate-v2\n",
        Some("revlogv1\nstore\nfncache\ndotencode\ngeneraldelta\n"),
    );
    let repo = Repository::open(&empty).expect("empty repository opens");
    assert!(repo.changelog().is_empty());
    let missing = repo.filelog(b"no/such/file").expect_err("missing filelog");
    assert!(matches!(missing, RevlogError::Io { .. }));

    let old = scratch.join("old");
    write_requires(&old, "", None);
    assert!(matches!(
        Repository::open(&old),
        Err(RevlogError::MissingRequirement { .. })
    ));
    assert!(matches!(
        Repository::open(scratch.join("nothing")),
        Err(RevlogError::NotARepository { .. })
    ));
    std::fs::remove_dir_all(&scratch).expect("clean scratch");
}

#[test]
fn shared_repository_reads_the_source_store() {
    let scratch = scratch_dir("shared");
    let source = scratch.join("source");
    copy_tree(fixture("default"), &source);
    let share = scratch.join("share");
    std::fs::create_dir_all(share.join(".hg")).expect("create share");
    std::fs::write(share.join(".hg/requires"), "share-safe\nshared\n").expect("write requires");
    std::fs::write(
        share.join(".hg/sharedpath"),
        source.join(".hg").to_string_lossy().as_bytes(),
    )
    .expect("write sharedpath");
    let repo = Repository::open(&share).expect("open share");
    let original = Repository::open(&source).expect("open source");
    assert_eq!(repo.changelog().len(), original.changelog().len());
    let tip = repo.changelog().len() as u32 - 1;
    assert_eq!(
        repo.changelog().changeset(tip).expect("tip"),
        original.changelog().changeset(tip).expect("tip")
    );
    std::fs::remove_dir_all(&scratch).expect("clean scratch");
}

#[test]
fn errors_name_file_and_revision() {
    let scratch = scratch_dir("error-message");
    let repo_root = scratch.join("repo");
    copy_tree(fixture("default"), &repo_root);
    let data = repo_root.join(".hg/store/data/big.bin.d");
    let mut bytes = std::fs::read(&data).expect("read big.bin.d");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&data, bytes).expect("write corrupted data");
    let repo = Repository::open(&repo_root).expect("open");
    let filelog = repo.filelog(b"big.bin").expect("filelog");
    let error = filelog.file_revision_at(0).expect_err("corrupt revision");
    let message = error.to_string();
    assert!(
        message.contains("big.bin.i") && message.contains("revision 0"),
        "{message}"
    );
    std::fs::remove_dir_all(&scratch).expect("clean scratch");
}
