//! Corruption property test: flipping or truncating bytes of a fixture's
//! revlogs at many positions must yield `Ok` with the original text or an
//! `Err`, never a panic.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_tree, fixture, scratch_dir};
use srcimport_converters::hg::{Changelog, ManifestLog, Repository, Revision, Revlog};

/// What one revlog yields when read completely.
#[derive(Debug)]
struct Reading {
    /// Per revision: the text, or `None` if reading it failed.
    texts: Vec<Option<Vec<u8>>>,
    opened: bool,
}

fn read_everything(index: &Path, data: &Path) -> Reading {
    let Ok(revlog) = Revlog::open_with_data_path(index, data) else {
        return Reading {
            texts: Vec::new(),
            opened: false,
        };
    };
    let texts = (0..revlog.len() as Revision)
        .map(|revision| {
            let _ = revlog.info(revision);
            let _ = revlog.parent_nodes(revision);
            revlog.revision_text(revision).ok()
        })
        .collect();
    Reading {
        texts,
        opened: true,
    }
}

/// Also parse through the higher layers so their parsers see corrupt text.
fn parse_everything(repo_root: &Path) {
    let Ok(repo) = Repository::open(repo_root) else {
        return;
    };
    let changelog: &Changelog = repo.changelog();
    let manifests: &ManifestLog = repo.manifest_log();
    for revision in 0..changelog.len() as Revision {
        if let Ok(changeset) = changelog.changeset(revision) {
            let _ = manifests.manifest(&changeset.manifest_node);
        }
    }
}

struct Target {
    index: PathBuf,
    data: PathBuf,
    original: Reading,
}

fn mutate_and_check(
    target: &Target,
    file: &Path,
    repo_root: &Path,
    positions: &[usize],
    parse_layers: bool,
) -> usize {
    let pristine = std::fs::read(file).expect("read revlog file");
    let mut failures = 0;
    let mut check = |bytes: &[u8], what: &str| {
        std::fs::write(file, bytes).expect("write mutated file");
        let reading = read_everything(&target.index, &target.data);
        if parse_layers {
            parse_everything(repo_root);
        }
        if !reading.opened {
            failures += 1;
            return;
        }
        for (revision, text) in reading.texts.iter().enumerate() {
            match (text, target.original.texts.get(revision)) {
                (None, _) => failures += 1,
                (Some(text), Some(Some(original))) => {
                    assert!(
                        text == original,
                        "{what}: revision {revision} read Ok with different text"
                    );
                }
                (Some(_), _) => panic!("{what}: revision {revision} appeared from nowhere"),
            }
        }
    };
    // One flip per position, the mask cycling so every bit pattern is
    // tried across the file; a truncation at every third position.
    const MASKS: [u8; 4] = [0xff, 0x01, 0x80, 0x10];
    for (index, &position) in positions.iter().enumerate() {
        let mask = MASKS[index % MASKS.len()];
        let mut mutated = pristine.clone();
        mutated[position] ^= mask;
        check(
            &mutated,
            &format!("{} byte {position} ^ {mask:#x}", file.display()),
        );
        if index % 3 == 0 {
            check(
                &pristine[..position],
                &format!("{} truncated to {position}", file.display()),
            );
        }
    }
    std::fs::write(file, &pristine).expect("restore revlog file");
    failures
}

/// Every byte of the first `dense` bytes, then every `stride`-th byte.
fn positions(file_len: usize, dense: usize, stride: usize) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..dense.min(file_len)).collect();
    positions.extend((dense..file_len).step_by(stride));
    if let Some(last) = file_len
        .checked_sub(1)
        .filter(|last| positions.last() != Some(last))
    {
        positions.push(last);
    }
    positions
}

fn corrupt_fixture(name: &str) {
    let scratch = scratch_dir(&format!("corrupt-{name}"));
    let repo_root = scratch.join("repo");
    copy_tree(fixture(name), &repo_root);
    let store = repo_root.join(".hg/store");
    let targets = [
        ("00changelog.i", "00changelog.d", "00changelog.i", true),
        ("00manifest.i", "00manifest.d", "00manifest.i", true),
        (
            "data/medium.bin.i",
            "data/medium.bin.d",
            "data/medium.bin.i",
            false,
        ),
        (
            "data/medium.bin.i",
            "data/medium.bin.d",
            "data/medium.bin.d",
            false,
        ),
        ("data/src/b.c.i", "data/src/b.c.d", "data/src/b.c.i", false),
    ];
    for (index, data, mutated, parse_layers) in targets {
        let target = Target {
            index: store.join(index),
            data: store.join(data),
            original: read_everything(&store.join(index), &store.join(data)),
        };
        assert!(target.original.opened, "{index} opens before corruption");
        assert!(
            target.original.texts.iter().all(Option::is_some),
            "{index} reads cleanly before corruption"
        );
        let file = store.join(mutated);
        let file_len = std::fs::metadata(&file).expect("stat").len() as usize;
        // Headers and the first entries byte by byte, then a sparse sweep.
        let (dense, stride) = if file_len > 1 << 16 {
            (32, 2_999)
        } else {
            (128, 13)
        };
        let failures = mutate_and_check(
            &target,
            &file,
            &repo_root,
            &positions(file_len, dense, stride),
            parse_layers,
        );
        assert!(failures > 0, "corrupting {mutated} was never detected");
        let restored = read_everything(&target.index, &target.data);
        assert_eq!(restored.texts, target.original.texts, "{mutated} restored");
    }
    std::fs::remove_dir_all(&scratch).expect("clean scratch");
}

#[test]
fn corrupted_generaldelta_zstd_revlogs_never_panic() {
    corrupt_fixture("default");
}

#[test]
fn corrupted_classic_zlib_revlogs_never_panic() {
    corrupt_fixture("no-generaldelta");
}

#[test]
fn corrupted_zlib_revlogs_never_panic() {
    corrupt_fixture("zlib");
}
