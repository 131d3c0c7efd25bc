//! Truncated and bit-flipped dumps must give `Ok` or `Err`, never a panic or a hang.

mod svn_dump_support;

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use svn_dump_support::dump::DumpError;
use svn_dump_support::{read_dump_bytes, replay, svn_dump_fixtures};

/// Consumes a whole dump the way a converter would: validates every record,
/// rebuilds every text (applying deltas) and checks its md5.
/// Returns the number of nodes.
fn consume(dump: &[u8]) -> Result<usize, DumpError> {
    replay(dump, true).map(|replay| replay.nodes.len())
}

/// Runs `consume`, turning a panic into a test failure that names the mutation.
fn consume_without_panic(dump: &[u8], mutation: &str) -> Result<usize, DumpError> {
    match catch_unwind(AssertUnwindSafe(|| consume(dump))) {
        Ok(result) => result,
        Err(_) => panic!("parser panicked on {mutation}"),
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let fixtures = svn_dump_fixtures();
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/svn-dump/svn-cli-deltas.dump.gz");
    [
        fixtures.join("subversion/templates/greek.dump"),
        fixtures.join("subversion/svnadmin_tests_data/load_txdelta.dump.gz"),
        fixtures.join("subversion/svnrdump_tests_data/multi-prop-edits.dump"),
        fixtures.join("git-t91xx/t9115/funky-names.dump"),
        local,
    ]
    .into_iter()
    .map(|path| (path.display().to_string(), read_dump_bytes(&path)))
    .collect()
}

/// Bytes all mutations of one fixture may parse in total, to keep the test fast.
const BYTES_PER_FIXTURE: usize = 40 * 1024 * 1024;

/// About `count` positions spread over `0..length` (fewer for large inputs,
/// so that `count` parses stay within [`BYTES_PER_FIXTURE`]).
fn positions(length: usize, count: usize) -> impl Iterator<Item = usize> {
    let count = count.min(BYTES_PER_FIXTURE / length.max(1)).max(50);
    let step = (length / count).max(1);
    (0..length).step_by(step)
}

#[test]
fn truncated_dumps_never_panic() {
    for (name, dump) in corpus() {
        let full_records =
            consume(&dump).unwrap_or_else(|error| panic!("{name} must parse intact: {error}"));
        let mut errors = 0;
        for cut in positions(dump.len(), 400) {
            let truncated = &dump[..cut];
            match consume_without_panic(truncated, &format!("{name} cut at byte {cut}")) {
                Ok(records) => assert!(
                    records <= full_records,
                    "{name} cut at {cut}: more nodes than intact"
                ),
                Err(error) => {
                    errors += 1;
                    assert!(
                        error.offset() <= cut as u64 || matches!(error, DumpError::Svndiff { .. }),
                        "{name} cut at {cut}: error offset {} beyond the data: {error}",
                        error.offset()
                    );
                }
            }
        }
        assert!(errors > 0, "{name}: no truncation was detected at all");
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    const REPLACEMENTS: [u8; 4] = [b'9', b'\n', b' ', 0];
    const MASKS: [u8; 3] = [0x01, 0x80, 0xff];
    for (name, dump) in corpus() {
        let mut errors = 0;
        let mut mutations = 0;
        for (index, position) in positions(dump.len(), 300).enumerate() {
            let mut corrupted = dump.clone();
            for mask in MASKS {
                corrupted[position] = dump[position] ^ mask;
                let result = consume_without_panic(
                    &corrupted,
                    &format!("{name} byte {position} ^ {mask:#x}"),
                );
                errors += usize::from(result.is_err());
                mutations += 1;
            }
            corrupted[position] = REPLACEMENTS[index % REPLACEMENTS.len()];
            let result =
                consume_without_panic(&corrupted, &format!("{name} byte {position} replaced"));
            errors += usize::from(result.is_err());
            mutations += 1;
        }
        assert!(
            errors * 4 > mutations,
            "{name}: only {errors} of {mutations} corruptions were detected"
        );
    }
}

#[test]
fn corrupted_length_fields_are_rejected_without_huge_allocations() {
    let greek = read_dump_bytes(&svn_dump_fixtures().join("subversion/templates/greek.dump"));
    let text = String::from_utf8(greek).expect("greek.dump is UTF-8");
    let mut rejected = 0;
    for header in [
        "Content-length: ",
        "Text-content-length: ",
        "Prop-content-length: ",
    ] {
        for huge in [
            "99999999999",
            "18446744073709551615",
            "18446744073709551616",
        ] {
            let corrupted = text.replacen(header, &format!("{header}{huge}"), 1);
            assert_ne!(corrupted, text, "{header} occurs in greek.dump");
            let result = consume_without_panic(corrupted.as_bytes(), &format!("{header}{huge}..."));
            assert!(result.is_err(), "{header}{huge}... was accepted");
            rejected += 1;
        }
    }
    assert_eq!(rejected, 9);
}

#[test]
fn every_prefix_of_a_small_dump_terminates() {
    let dump = read_dump_bytes(
        &svn_dump_fixtures().join("subversion/svnrdump_tests_data/revision-0.dump"),
    );
    for cut in 0..=dump.len() {
        let result = consume_without_panic(&dump[..cut], &format!("revision-0.dump cut at {cut}"));
        if cut == 0 {
            assert!(result.is_err(), "an empty dump is an error");
        }
    }
    let mut sink = Vec::new();
    let _ = (&dump[..]).read_to_end(&mut sink);
    assert_eq!(sink.len(), dump.len());
}
