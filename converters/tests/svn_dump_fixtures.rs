//! Parses every public dump in shared/fixtures/svn-dumps end to end against its INDEX.tsv verdict.

mod svn_dump_support;

use std::fs;

use svn_dump_support::{open_dump, replay, svn_dump_fixtures};

/// One line of INDEX.tsv.
struct FixtureEntry {
    path: String,
    revisions: usize,
    svnadmin_accepts: bool,
}

fn fixture_index() -> Vec<FixtureEntry> {
    let index = {
        let path = svn_dump_fixtures().join("INDEX.tsv");
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    };
    index
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            FixtureEntry {
                path: columns[0].to_string(),
                revisions: columns[2].parse().expect("revision count"),
                svnadmin_accepts: columns[3] == "ok",
            }
        })
        .collect()
}

#[test]
fn index_lists_all_fixtures() {
    let entries = fixture_index();
    assert_eq!(entries.len(), 100);
    for entry in &entries {
        assert!(
            svn_dump_fixtures().join(&entry.path).is_file(),
            "{} is missing",
            entry.path
        );
    }
}

#[test]
fn accepted_dumps_parse_fully_and_their_texts_match_their_md5() {
    let mut total_checked_texts = 0;
    let mut total_delta_texts = 0;
    for entry in fixture_index()
        .iter()
        .filter(|entry| entry.svnadmin_accepts)
    {
        let path = svn_dump_fixtures().join(&entry.path);
        let result = replay(open_dump(&path), true)
            .unwrap_or_else(|error| panic!("{}: {error}", entry.path));
        assert!(
            matches!(result.format_version, 2 | 3),
            "{}: format version {}",
            entry.path,
            result.format_version
        );
        assert_eq!(
            result.revisions.len(),
            entry.revisions,
            "{}: revision count",
            entry.path
        );
        total_checked_texts += result.checked_texts;
        total_delta_texts += result.delta_texts;
    }
    assert!(
        total_checked_texts > 100,
        "only {total_checked_texts} texts had an md5 to check"
    );
    assert!(total_delta_texts > 0, "no fixture exercised a text delta");
}

#[test]
fn rejected_dumps_fail_with_an_offset_inside_the_file() {
    let mut rejected = 0;
    for entry in fixture_index()
        .iter()
        .filter(|entry| !entry.svnadmin_accepts)
    {
        let path = svn_dump_fixtures().join(&entry.path);
        let size = svn_dump_support::read_dump_bytes(&path).len() as u64;
        let error = match replay(open_dump(&path), true) {
            Ok(_) => panic!("{} was accepted, but svnadmin rejects it", entry.path),
            Err(error) => error,
        };
        assert!(
            error.offset() < size,
            "{}: offset {} outside the file",
            entry.path,
            error.offset()
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("byte {}: ", error.offset())),
            "{}: message does not name the offset: {message}",
            entry.path
        );
        let expected_reason = expected_rejection_reason(&entry.path);
        assert!(
            message.contains(expected_reason),
            "{}: expected the error to mention '{expected_reason}', got: {message}",
            entry.path
        );
        rejected += 1;
    }
    assert_eq!(rejected, 9);
}

/// What the error for each deliberately broken fixture must talk about.
fn expected_rejection_reason(path: &str) -> &'static str {
    if path.contains("bad-date") {
        "svn:date"
    } else if path.contains("bad-line-endings") {
        "carriage return"
    } else if path.contains("bad-encoding") {
        "UTF-8"
    } else if path.contains("mergeinfo") {
        "revision 0"
    } else if path.contains("partial_incremental") {
        "does not exist"
    } else {
        panic!("no expected rejection reason for {path}")
    }
}

#[test]
fn rejected_dumps_still_parse_without_the_validator() {
    for entry in fixture_index()
        .iter()
        .filter(|entry| !entry.svnadmin_accepts)
    {
        let path = svn_dump_fixtures().join(&entry.path);
        let result = replay(open_dump(&path), false)
            .unwrap_or_else(|error| panic!("{}: {error}", entry.path));
        assert_eq!(result.revisions.len(), entry.revisions, "{}", entry.path);
    }
}
