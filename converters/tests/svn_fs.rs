//! The libsvn_fs reader of local repositories against the real svn CLI and the RA reader:
//! the same repository read both ways gives the same trees, properties and revisions;
//! cancellation stops it; what is not a repository gives a clear error.

mod svn_ra_support;

use srcimport_converters::url_policy::UrlPolicy;
use std::io::Read;

use srcimport_converters::svn::events::{NodeChange, Properties, RevisionSink};
use srcimport_converters::svn::fs::{self, HistoryError};
use srcimport_converters::svn::ra;
use srcimport_converters::{Cancel, SourceError};
use svn_ra_support::{file_url, svn_cat_all, ModelSink};

const YOUNGEST: u64 = 8;

fn read_fs(url: &str) -> Result<ModelSink, HistoryError<String>> {
    let mut sink = ModelSink::default();
    fs::read_history(url, 0, YOUNGEST, &mut sink, &Cancel::new())?;
    Ok(sink)
}

#[test]
fn fs_history_matches_the_ra_reader_and_svn_cat() {
    let ours = read_fs(&file_url()).expect("read through libsvn_fs");
    let mut theirs = ModelSink::default();
    ra::read_history(
        &file_url(),
        None,
        &UrlPolicy::default(),
        0,
        YOUNGEST,
        &mut theirs,
        &Cancel::new(),
    )
    .expect("read through RA");
    assert_eq!(ours.revisions, theirs.revisions, "revision properties");
    assert_eq!(ours.snapshots, theirs.snapshots, "every revision's tree");
    assert_eq!(ours.tree.files, svn_cat_all(&file_url()), "texts at HEAD");
    assert_eq!(ours.delta_texts, 0, "the fs reader sends full texts");
    assert!(ours.full_texts >= 10, "only {} texts", ours.full_texts);
    assert!(
        ours.tree.files["trunk/big.txt"].len() > 4 << 20,
        "big enough to take several chunks"
    );
}

#[test]
fn a_url_inside_the_repository_reads_the_whole_repository() {
    let inside = read_fs(&format!("{}/trunk", file_url())).expect("read from trunk's URL");
    let whole = read_fs(&file_url()).unwrap();
    assert_eq!(inside.snapshots, whole.snapshots);
}

#[test]
fn a_range_starting_after_zero() {
    let full = read_fs(&file_url()).unwrap();
    let mut sink = ModelSink::default();
    sink.snapshots.insert(2, full.snapshots[&2].clone());
    sink.tree = full.snapshots[&2].clone();
    fs::read_history(&file_url(), 3, 4, &mut sink, &Cancel::new()).expect("read r3:4");
    let revisions: Vec<u64> = sink.revisions.iter().map(|(number, _)| *number).collect();
    assert_eq!(revisions, vec![3, 4]);
    assert_eq!(sink.tree, full.snapshots[&4]);
    match fs::read_history(
        &file_url(),
        0,
        YOUNGEST + 1,
        &mut ModelSink::default(),
        &Cancel::new(),
    ) {
        Err(HistoryError::Source(SourceError::NotFound { reason, .. })) => {
            assert!(reason.contains("no revision 9"), "{reason}")
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// A sink that cancels the token when a given revision begins (or fails there), and reads
/// only the start of each text.
struct StopAt {
    revision: u64,
    cancel: Option<Cancel>,
    seen: Vec<u64>,
}

impl RevisionSink for StopAt {
    type Error = String;

    fn begin_revision(&mut self, number: u64, _: &Properties) -> Result<(), String> {
        self.seen.push(number);
        if number == self.revision {
            match &self.cancel {
                Some(cancel) => cancel.cancel(),
                None => return Err(format!("sink refuses r{number}")),
            }
        }
        Ok(())
    }

    fn node(&mut self, _: &NodeChange, text: Option<&mut dyn Read>) -> Result<(), String> {
        if let Some(text) = text {
            let mut first = [0u8; 1];
            let _ = text.read(&mut first).map_err(|error| error.to_string())?;
        }
        Ok(())
    }

    fn end_revision(&mut self) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn cancelled_before_reading() {
    let cancel = Cancel::new();
    cancel.cancel();
    let mut sink = ModelSink::default();
    match fs::read_history(&file_url(), 0, YOUNGEST, &mut sink, &cancel) {
        Err(HistoryError::Source(SourceError::Cancelled)) => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert!(sink.revisions.is_empty());
}

#[test]
fn cancelled_while_reading() {
    let cancel = Cancel::new();
    let mut sink = StopAt {
        revision: 3,
        cancel: Some(cancel.clone()),
        seen: Vec::new(),
    };
    match fs::read_history(&file_url(), 0, YOUNGEST, &mut sink, &cancel) {
        Err(HistoryError::Source(SourceError::Cancelled)) => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert_eq!(sink.seen, vec![0, 1, 2, 3]);
}

/// Cancelling from another thread while the sink is slow stops the reader promptly, even
/// though the reader is ahead of the sink.
#[test]
fn cancelled_from_another_thread() {
    struct Slow;
    impl RevisionSink for Slow {
        type Error = String;
        fn begin_revision(&mut self, _: u64, _: &Properties) -> Result<(), String> {
            std::thread::sleep(std::time::Duration::from_millis(50));
            Ok(())
        }
        fn node(&mut self, _: &NodeChange, _: Option<&mut dyn Read>) -> Result<(), String> {
            Ok(())
        }
        fn end_revision(&mut self) -> Result<(), String> {
            Ok(())
        }
    }
    let cancel = Cancel::new();
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        let canceller = cancel.clone();
        scope.spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(120));
            canceller.cancel();
        });
        match fs::read_history(&file_url(), 0, YOUNGEST, &mut Slow, &cancel) {
            Err(HistoryError::Source(SourceError::Cancelled)) => {}
            other => panic!("expected Cancelled, got {other:?}"),
        }
    });
    assert!(
        started.elapsed() < std::time::Duration::from_millis(400),
        "stopped after {:?}",
        started.elapsed()
    );
}

#[test]
fn a_sink_error_stops_the_reader() {
    let mut sink = StopAt {
        revision: 4,
        cancel: None,
        seen: Vec::new(),
    };
    match fs::read_history(&file_url(), 0, YOUNGEST, &mut sink, &Cancel::new()) {
        Err(HistoryError::Sink(message)) => assert_eq!(message, "sink refuses r4"),
        other => panic!("expected the sink's error, got {other:?}"),
    }
    assert_eq!(sink.seen, vec![0, 1, 2, 3, 4]);
}

fn read_error(url: &str) -> SourceError {
    match fs::read_history(url, 0, 1, &mut ModelSink::default(), &Cancel::new()) {
        Err(HistoryError::Source(error)) => error,
        other => panic!("{url}: expected a source error, got {other:?}"),
    }
}

#[test]
fn what_is_not_a_repository_gives_a_clear_error() {
    let work = std::env::temp_dir().join(format!("svn-fs-errors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("plain/sub")).unwrap();

    // A missing path, and a plain directory.
    for path in [work.join("missing"), work.join("plain/sub")] {
        match read_error(&format!("file://{}", path.display())) {
            SourceError::NotFound { reason, .. } => {
                assert!(reason.contains("no Subversion repository"), "{reason}")
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
    }
    // Not a file:// URL.
    assert!(matches!(
        read_error("svn://example.com/repo"),
        SourceError::NotFound { .. }
    ));

    // A repository whose filesystem is damaged: an error naming libsvn's complaint.
    let broken = work.join("broken");
    let created = std::process::Command::new("svnadmin")
        .arg("create")
        .arg(&broken)
        .status()
        .unwrap();
    assert!(created.success());
    std::fs::write(broken.join("db/format"), "not a format\n").unwrap();
    match read_error(&format!("file://{}", broken.display())) {
        SourceError::Command { command, detail } => {
            assert!(command.contains("svn_repos_open3"), "{command}");
            assert!(detail.contains("E"), "{detail}");
        }
        other => panic!("expected a libsvn error, got {other:?}"),
    }
    // A repository whose revision file is gone: the error comes while reading.
    let damaged = work.join("damaged");
    let created = std::process::Command::new("svnadmin")
        .arg("create")
        .arg(&damaged)
        .status()
        .unwrap();
    assert!(created.success());
    let damaged_url = format!("file://{}", damaged.display());
    let committed = std::process::Command::new("svn")
        .args([
            "mkdir",
            "-q",
            "--non-interactive",
            "-m",
            "one",
            "--config-dir",
        ])
        .arg(work.join("config"))
        .arg(format!("{damaged_url}/trunk"))
        .status()
        .unwrap();
    assert!(committed.success());
    std::fs::remove_file(damaged.join("db/revs/0/1")).unwrap();
    match fs::read_history(
        &damaged_url,
        0,
        1,
        &mut ModelSink::default(),
        &Cancel::new(),
    ) {
        Err(HistoryError::Source(SourceError::Command { detail, .. })) => {
            assert!(detail.contains("damaged"), "{detail}")
        }
        other => panic!("expected a libsvn error, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&work);
}
