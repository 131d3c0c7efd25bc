//! Unit tests of revlog reading on small revlogs written by the tests.

use super::*;

use crate::hg::sha1::sha1;

struct TestRevision {
    chunk: Vec<u8>,
    text_len: usize,
    base: i32,
    p1: i32,
    p2: i32,
    node: Node,
    flags: u16,
}

fn node_for(text: &[u8], p1: Node, p2: Node) -> Node {
    let (first, second) = if p1 <= p2 { (p1, p2) } else { (p2, p1) };
    let mut input = first.0.to_vec();
    input.extend_from_slice(&second.0);
    input.extend_from_slice(text);
    Node(sha1(&input))
}

fn encode_entry(revision: &TestRevision, offset: u64, header: Option<u32>) -> Vec<u8> {
    let mut entry = Vec::with_capacity(64);
    let offset_and_flags = (offset << 16) | u64::from(revision.flags);
    entry.extend_from_slice(&offset_and_flags.to_be_bytes());
    if let Some(header) = header {
        entry[..4].copy_from_slice(&header.to_be_bytes());
    }
    entry.extend_from_slice(&(revision.chunk.len() as u32).to_be_bytes());
    entry.extend_from_slice(&(revision.text_len as u32).to_be_bytes());
    entry.extend_from_slice(&revision.base.to_be_bytes());
    entry.extend_from_slice(&0i32.to_be_bytes());
    entry.extend_from_slice(&revision.p1.to_be_bytes());
    entry.extend_from_slice(&revision.p2.to_be_bytes());
    entry.extend_from_slice(&revision.node.0);
    entry.extend_from_slice(&[0u8; 12]);
    entry
}

/// Writes an inline generaldelta revlog and returns its path.
fn write_inline(name: &str, revisions: &[TestRevision]) -> PathBuf {
    let directory = std::env::temp_dir().join("hg-revlog-unit-tests");
    std::fs::create_dir_all(&directory).expect("create temp dir");
    let path = directory.join(format!("{name}.i"));
    let mut bytes = Vec::new();
    let mut offset = 0u64;
    for (index, revision) in revisions.iter().enumerate() {
        let header = (index == 0).then_some(0x0003_0001);
        bytes.extend(encode_entry(revision, offset, header));
        bytes.extend_from_slice(&revision.chunk);
        offset += revision.chunk.len() as u64;
    }
    std::fs::write(&path, bytes).expect("write revlog");
    path
}

fn full_text(text: &[u8], p1: (i32, Node)) -> TestRevision {
    let mut chunk = b"u".to_vec();
    chunk.extend_from_slice(text);
    TestRevision {
        chunk,
        text_len: text.len(),
        base: -2,
        p1: p1.0,
        p2: -1,
        node: node_for(text, p1.1, Node::NULL),
        flags: 0,
    }
}

fn two_revisions() -> Vec<TestRevision> {
    let mut first = full_text(b"line one\n", (-1, Node::NULL));
    first.base = 0;
    let first_node = first.node;
    let second_text = b"line one\nline two\n";
    let delta = mpatch::encode_hunk(9, 9, b"line two\n");
    let second = TestRevision {
        chunk: delta,
        text_len: second_text.len(),
        base: 0,
        p1: 0,
        p2: -1,
        node: node_for(second_text, first_node, Node::NULL),
        flags: 0,
    };
    vec![first, second]
}

#[test]
fn reads_snapshot_and_delta() {
    let revlog = Revlog::open(write_inline("good", &two_revisions())).expect("open");
    assert_eq!(revlog.len(), 2);
    assert!(revlog.is_inline() && revlog.uses_general_delta());
    assert_eq!(revlog.revision_text(0).expect("rev 0"), b"line one\n");
    assert_eq!(
        revlog.revision_text(1).expect("rev 1"),
        b"line one\nline two\n"
    );
    let info = revlog.info(1).expect("info");
    assert_eq!(info.parents, [Some(0), None]);
    assert_eq!(revlog.revision_of(&info.node).expect("lookup"), 1);
    assert!(matches!(
        revlog.revision_text(2),
        Err(RevlogError::RevisionOutOfRange { .. })
    ));
}

#[test]
fn detects_hash_mismatch() {
    let mut revisions = two_revisions();
    revisions[1].node = Node([7; 20]);
    let revlog = Revlog::open(write_inline("hash", &revisions)).expect("open");
    assert!(matches!(
        revlog.revision_text(1),
        Err(RevlogError::HashMismatch { .. })
    ));
}

#[test]
fn rejects_forward_and_self_referencing_bases() {
    let mut revisions = two_revisions();
    revisions[0].base = 1;
    let revlog = Revlog::open(write_inline("cycle", &revisions)).expect("open");
    assert!(matches!(
        revlog.revision_text(1),
        Err(RevlogError::CorruptDeltaChain { .. })
    ));
    assert!(matches!(
        revlog.revision_text(0),
        Err(RevlogError::CorruptDeltaChain { .. })
    ));
}

#[test]
fn rejects_out_of_range_parents_and_flags() {
    let mut revisions = two_revisions();
    revisions[1].p2 = 9;
    revisions[0].flags = FLAG_CENSORED;
    let revlog = Revlog::open(write_inline("parents", &revisions)).expect("open");
    assert!(matches!(
        revlog.info(1),
        Err(RevlogError::RevisionOutOfRange { .. })
    ));
    let censored = revlog.revision_text(0).expect_err("censored");
    assert!(censored.to_string().contains("censored"), "{censored}");
}

#[test]
fn rejects_wrong_text_length() {
    let mut revisions = two_revisions();
    revisions[1].text_len = 5;
    let revlog = Revlog::open(write_inline("length", &revisions)).expect("open");
    assert!(matches!(
        revlog.revision_text(1),
        Err(RevlogError::CorruptDelta { .. })
    ));
}

#[test]
fn empty_and_missing_revlogs() {
    let missing = std::env::temp_dir().join("hg-revlog-unit-missing/none.i");
    assert!(matches!(
        Revlog::open(&missing),
        Err(RevlogError::Io { .. })
    ));
    assert!(Revlog::open_or_empty(&missing).expect("empty").is_empty());
}

#[test]
fn max_delta_len_saturates() {
    assert_eq!(max_delta_len(0, 0), 12);
    assert_eq!(max_delta_len(usize::MAX, 1), usize::MAX);
}
