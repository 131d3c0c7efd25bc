//! Helpers shared by the integration tests: fixture lookup and a replay of a dump's file texts.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use md5::{Digest, Md5};
/// The module under test; the only line to change when the module moves.
pub use srcimport_converters::svn::dump;

use dump::{DumpError, DumpReader, DumpValidator, NodeAction, NodeKind, Record};

/// The `shared/` directory: `$SRCIMPORT_SHARED`, or the first `shared/`
/// with a `fixtures/` inside found walking up from this crate.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SRCIMPORT_SHARED") {
        return PathBuf::from(dir);
    }
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared");
        if candidate.join("fixtures").is_dir() {
            return candidate;
        }
        dir = dir
            .parent()
            .expect("no shared/fixtures above the crate; set SRCIMPORT_SHARED");
    }
}

pub fn svn_dump_fixtures() -> PathBuf {
    shared_dir().join("fixtures").join("svn-dumps")
}

/// Opens a dump, decompressing `.gz` files.
pub fn open_dump(path: &Path) -> Box<dyn BufRead> {
    let file = File::open(path).unwrap_or_else(|error| panic!("open {}: {error}", path.display()));
    if path.extension().is_some_and(|extension| extension == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    }
}

pub fn read_dump_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    open_dump(path)
        .read_to_end(&mut bytes)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    bytes
}

/// One node as replayed: where, what, and the md5 of its full text if it had one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayedNode {
    pub revision: u64,
    pub path: String,
    pub action: NodeAction,
    pub text_md5: Option<[u8; 16]>,
}

/// What a full replay of a dump found.
#[derive(Debug, Default)]
pub struct Replay {
    pub format_version: u32,
    pub revisions: Vec<u64>,
    pub nodes: Vec<ReplayedNode>,
    /// Texts whose md5 was checked against `Text-content-md5`.
    pub checked_texts: usize,
    pub delta_texts: usize,
    /// Delta bases whose md5 was checked against `Text-delta-base-md5`.
    pub checked_delta_bases: usize,
    /// File texts at the end, by path.
    pub final_files: BTreeMap<String, Rc<Vec<u8>>>,
}

type Files = BTreeMap<String, Rc<Vec<u8>>>;

/// Parses, validates and replays a whole dump: rebuilds every file text
/// (applying deltas against the right base), checks each against its
/// `Text-content-md5` (a mismatch is an `Invalid` error), and records the
/// sequence of nodes.
pub fn replay(input: impl BufRead, validate: bool) -> Result<Replay, DumpError> {
    let mut reader = DumpReader::new(input);
    let mut validator = DumpValidator::new();
    let mut replay = Replay::default();
    let mut files = Files::new();
    // Snapshot of the files at the end of each revision, for copy sources.
    let mut history: Vec<(u64, Files)> = Vec::new();
    while let Some(mut record) = reader.next_record()? {
        if validate {
            validator.check(&record)?;
        }
        match &mut record {
            Record::FormatVersion { version, .. } => replay.format_version = *version,
            Record::Uuid { .. } => {}
            Record::Revision(revision) => {
                if let Some(&previous) = replay.revisions.last() {
                    history.push((previous, files.clone()));
                }
                replay.revisions.push(revision.number);
            }
            Record::Node(node) => {
                let header = &node.header;
                let Some(&revision) = replay.revisions.last() else {
                    return Err(DumpError::Invalid {
                        offset: node.header.offset,
                        message: "node outside a revision".into(),
                    });
                };
                let path = header.path.trim_matches('/').to_string();
                if matches!(header.action, NodeAction::Delete | NodeAction::Replace) {
                    remove_tree(&mut files, &path);
                }
                if let Some(copy) = &header.copy_from {
                    let source_files = history
                        .iter()
                        .rev()
                        .find(|(number, _)| *number <= copy.revision)
                        .map(|(_, files)| files.clone())
                        .unwrap_or_default();
                    copy_tree(
                        &source_files,
                        copy.path.trim_matches('/'),
                        &mut files,
                        &path,
                    );
                }
                let is_new_file = matches!(header.action, NodeAction::Add | NodeAction::Replace)
                    && header.kind == Some(NodeKind::File)
                    && header.copy_from.is_none();
                if is_new_file {
                    files.insert(path.clone(), Rc::new(Vec::new()));
                }
                let mut text_md5 = None;
                if let Some(text) = node.text.as_mut() {
                    let full_text = if header.text_delta {
                        replay.delta_texts += 1;
                        let base = files.get(&path).cloned().unwrap_or_default();
                        if let Some(expected) = header.text_delta_base.md5 {
                            let base_digest: [u8; 16] = Md5::digest(base.as_slice()).into();
                            if base_digest != expected {
                                return Err(DumpError::Invalid {
                                    offset: header.offset,
                                    message: format!(
                                        "md5 of the delta base of '{path}' in r{revision} differs from Text-delta-base-md5"
                                    ),
                                });
                            }
                            replay.checked_delta_bases += 1;
                        }
                        let mut target = Vec::new();
                        text.apply_delta(Cursor::new(base.as_slice()), &mut target)?;
                        target
                    } else {
                        let mut full_text = Vec::new();
                        text.copy_to(&mut full_text)?;
                        full_text
                    };
                    let digest: [u8; 16] = Md5::digest(&full_text).into();
                    if let Some(expected) = header.text_content.md5 {
                        if digest != expected {
                            return Err(DumpError::Invalid {
                                offset: header.offset,
                                message: format!("md5 of the text of '{path}' in r{revision} differs from Text-content-md5"),
                            });
                        }
                        replay.checked_texts += 1;
                    }
                    text_md5 = Some(digest);
                    files.insert(path.clone(), Rc::new(full_text));
                }
                replay.nodes.push(ReplayedNode {
                    revision,
                    path,
                    action: header.action,
                    text_md5,
                });
            }
        }
    }
    replay.final_files = files;
    Ok(replay)
}

fn remove_tree(files: &mut Files, path: &str) {
    let prefix = format!("{path}/");
    files.retain(|key, _| key != path && !(path.is_empty() || key.starts_with(&prefix)));
}

fn copy_tree(source_files: &Files, source: &str, files: &mut Files, target: &str) {
    for (key, text) in source_files {
        let relative = if key == source {
            Some(String::new())
        } else if source.is_empty() {
            Some(format!("/{key}"))
        } else {
            key.strip_prefix(&format!("{source}/"))
                .map(|rest| format!("/{rest}"))
        };
        if let Some(relative) = relative {
            let destination = format!("{target}{relative}");
            files.insert(
                destination.trim_start_matches('/').to_string(),
                Rc::clone(text),
            );
        }
    }
}
