//! The libsvn RA reader against the real svn CLI: a repository made with `svn`, read over
//! file:// and svn:// (svnserve with passwords), checked against `svnrdump dump`, `svn cat`
//! and `svn log`.

mod svn_ra_support;

use std::io::{BufReader, Read, Write};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use srcimport_converters::svn::events::{NodeChange, NodeKind, Properties, RevisionSink};
use srcimport_converters::svn::ra::{self, HistoryError, RaSession};
use srcimport_converters::url_policy::UrlPolicy;
use srcimport_converters::{Cancel, Credentials, SourceError};
use svn_ra_support::{
    assert_same_nodes, dump_into_sink, file_url, repository, run, svn_cat_all, svn_log, Apache,
    ModelSink, Svnserve, PASSWORD, USER,
};

const YOUNGEST: u64 = 8;

fn read(url: &str, credentials: Option<&Credentials>) -> Result<ModelSink, HistoryError<String>> {
    let mut sink = ModelSink::default();
    ra::read_history(
        url,
        credentials,
        &UrlPolicy::default(),
        0,
        YOUNGEST,
        &mut sink,
        &Cancel::new(),
    )?;
    Ok(sink)
}

fn svnrdump_model() -> ModelSink {
    let output = Command::new("svnrdump")
        .env("LC_ALL", "C.UTF-8")
        .args(["dump", "-q", "--non-interactive", "--config-dir"])
        .arg(repository().with_file_name("config"))
        .arg(file_url())
        .output()
        .expect("run svnrdump");
    assert!(output.status.success(), "svnrdump failed");
    let mut sink = ModelSink::default();
    dump_into_sink(BufReader::new(output.stdout.as_slice()), &mut sink).expect("svnrdump dump");
    sink
}

fn property<'p>(properties: &'p Properties, name: &str) -> Option<&'p str> {
    properties
        .iter()
        .find(|(key, _)| key.as_slice() == name.as_bytes())
        .and_then(|(_, value)| value.as_deref())
        .map(|value| std::str::from_utf8(value).unwrap())
}

/// The whole test repository over `file://` into `sink`.
fn replay_file_url<S: RevisionSink>(
    sink: &mut S,
    cancel: &Cancel,
) -> Result<(), HistoryError<S::Error>> {
    ra::read_history(
        &file_url(),
        None,
        &UrlPolicy::default(),
        0,
        YOUNGEST,
        sink,
        cancel,
    )
}

fn credentials(password: &str) -> Credentials {
    Credentials {
        username: USER.into(),
        password: password.into(),
    }
}

#[test]
fn file_url_history_matches_svn_cat_and_svn_log() {
    let ours = read(&file_url(), None).expect("read over file://");
    let revisions: Vec<u64> = ours.revisions.iter().map(|(number, _)| *number).collect();
    assert_eq!(revisions, (0..=YOUNGEST).collect::<Vec<_>>());

    // `svn log` leaves out r0, which has only a date.
    let log = svn_log(&file_url());
    assert_eq!(log.len() + 1, ours.revisions.len(), "svn log revisions");
    let r0 = &ours.revisions[0].1;
    assert_eq!(r0.len(), 1, "r0 has only svn:date: {r0:?}");
    assert!(property(r0, "svn:date").is_some());
    for ((number, author, message), (our_number, properties)) in
        log.iter().zip(&ours.revisions[1..])
    {
        assert_eq!(number, our_number);
        assert_eq!(
            author.as_deref(),
            property(properties, "svn:author"),
            "r{number} author"
        );
        assert_eq!(
            message.as_deref(),
            property(properties, "svn:log"),
            "r{number} log"
        );
        assert!(property(properties, "svn:date").is_some(), "r{number} date");
    }

    assert_eq!(ours.tree.files, svn_cat_all(&file_url()), "texts at HEAD");
    assert!(ours.delta_texts >= 10, "only {} deltas", ours.delta_texts);
    assert_eq!(
        ours.tree.files["tags/v1/copy of é%20.txt"],
        b"spaces and accents\n"
    );
    assert!(
        ours.tree.files["trunk/big.txt"].len() > 4 << 20,
        "big enough to spool"
    );
    let props = &ours.tree.props;
    assert_eq!(
        props["trunk/blob.bin"][&b"svn:mime-type"[..]],
        b"application/octet-stream"
    );
    assert!(
        !props.contains_key("trunk/src/run.sh"),
        "svn:executable dropped in r6"
    );
    assert_eq!(
        props["branches/feature/src/run.sh"][&b"svn:executable"[..]],
        b"*"
    );
    assert_eq!(props["trunk"][&b"svn:ignore"[..]], b"target\n*.o\n");
    assert_eq!(props[""][&b"svn:ignore"[..]], b"*.tmp\n");
    assert!(
        props
            .values()
            .flat_map(|props| props.keys())
            .all(|name| !name.starts_with(b"svn:entry:") && !name.starts_with(b"svn:wc:")),
        "entry and wc props are dropped"
    );
}

#[test]
fn file_url_history_matches_svnrdump() {
    let ours = read(&file_url(), None).expect("read over file://");
    let theirs = svnrdump_model();
    assert_same_nodes(&ours, &theirs, "file:// against svnrdump");
    assert_eq!(ours.revisions, theirs.revisions, "revision properties");
    assert_eq!(
        ours.tree, theirs.tree,
        "files, directories and properties at HEAD"
    );
    for (revision, tree) in &theirs.snapshots {
        assert_eq!(&ours.snapshots[revision], tree, "tree after r{revision}");
    }
}

#[test]
fn replace_and_copies_come_as_svnrdump_writes_them() {
    let ours = read(&file_url(), None).expect("read over file://");
    let r5 = &ours.nodes[&5];
    let hello: Vec<_> = r5
        .iter()
        .filter(|node| node.0 == "trunk/hello.txt")
        .collect();
    assert_eq!(hello.len(), 2, "replace as delete and add: {r5:?}");
    assert_eq!(
        hello[0].1,
        srcimport_converters::svn::events::NodeAction::Delete
    );
    assert_eq!(
        hello[1].1,
        srcimport_converters::svn::events::NodeAction::Add
    );
    assert_eq!(
        hello[1].3,
        Some((3, "branches/feature/src/main.rs".to_owned()))
    );
    let r3 = &ours.nodes[&3];
    assert_eq!(r3.len(), 1);
    assert_eq!(r3[0].3, Some((2, "trunk".to_owned())));
    assert_eq!(r3[0].2, Some(NodeKind::Dir));
}

#[test]
fn session_metadata_and_listings() {
    let cancel = Cancel::new();
    let session = RaSession::open(
        &format!("{}/trunk", file_url()),
        None,
        &UrlPolicy::default(),
        &cancel,
    )
    .expect("open");
    let uuid =
        String::from_utf8(run("svnlook", &["uuid", repository().to_str().unwrap()])).unwrap();
    assert_eq!(session.uuid(), uuid.trim());
    assert_eq!(session.repos_root(), file_url());
    assert_eq!(session.latest_revision().unwrap(), YOUNGEST);
    assert_eq!(
        session.list_dir("", YOUNGEST).unwrap(),
        vec![
            ("branches".to_owned(), NodeKind::Dir),
            ("tags".to_owned(), NodeKind::Dir),
            ("trunk".to_owned(), NodeKind::Dir),
        ]
    );
    let trunk = session.list_dir("trunk", 1).unwrap();
    assert_eq!(
        session
            .check_path("trunk/copy of é%20.txt", YOUNGEST)
            .unwrap(),
        Some(NodeKind::File)
    );
    assert_eq!(
        trunk,
        vec![
            ("blob.bin".to_owned(), NodeKind::File),
            ("hello.txt".to_owned(), NodeKind::File),
            ("src".to_owned(), NodeKind::Dir),
        ]
    );
    assert_eq!(
        session.check_path("trunk/src/main.rs", 1).unwrap(),
        Some(NodeKind::File)
    );
    assert_eq!(session.check_path("trunk/src/main.rs", 4).unwrap(), None);
    assert_eq!(
        session.check_path("/trunk/", 4).unwrap(),
        Some(NodeKind::Dir)
    );
    let info = ra::history_info(&file_url(), None, &UrlPolicy::default(), &cancel).unwrap();
    assert_eq!(info.uuid, session.uuid());
    assert_eq!(info.youngest, YOUNGEST);
    assert_eq!(info.repos_root, file_url());
}

#[test]
fn a_missing_repository_is_not_found() {
    let url = format!("{}-missing", file_url());
    match RaSession::open(&url, None, &UrlPolicy::default(), &Cancel::new()) {
        Err(SourceError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    let mut sink = ModelSink::default();
    match ra::read_history(
        &url,
        None,
        &UrlPolicy::default(),
        0,
        1,
        &mut sink,
        &Cancel::new(),
    ) {
        Err(HistoryError::Source(SourceError::NotFound { .. })) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn svnserve_with_passwords() {
    let server = Svnserve::start();
    let url = server.url();
    let right = credentials(PASSWORD);
    let ours = read(&url, Some(&right)).expect("read over svn:// with the right password");
    let local = read(&file_url(), None).expect("read over file://");
    assert_same_nodes(&ours, &local, "svn:// against file://");
    assert_eq!(ours.tree, local.tree, "svn:// tree");
    assert_eq!(
        ours.revisions, local.revisions,
        "svn:// revision properties"
    );

    let session = RaSession::open(&url, Some(&right), &UrlPolicy::default(), &Cancel::new())
        .expect("open svn://");
    assert_eq!(session.latest_revision().unwrap(), YOUNGEST);
    assert_eq!(session.list_dir("trunk/src", YOUNGEST).unwrap().len(), 1);

    match read(&url, Some(&credentials("wrong"))) {
        Err(HistoryError::Source(SourceError::AuthRejected { url: reported })) => {
            assert_eq!(reported, url);
        }
        other => panic!("wrong password: expected AuthRejected, got {other:?}"),
    }
    match read(&url, None) {
        Err(HistoryError::Source(SourceError::AuthRequired { .. })) => {}
        other => panic!("no password: expected AuthRequired, got {other:?}"),
    }
    let missing = url.replace("/repo", "/missing");
    match RaSession::open(
        &missing,
        Some(&right),
        &UrlPolicy::default(),
        &Cancel::new(),
    ) {
        Err(SourceError::NotFound { .. }) => {}
        other => panic!("missing repository: expected NotFound, got {other:?}"),
    }
    match RaSession::open(
        &url,
        Some(&credentials("wrong")),
        &UrlPolicy::default(),
        &Cancel::new(),
    ) {
        Err(error) => {
            assert!(error.is_auth(), "{error:?}");
            assert!(
                !format!("{error:?} {error}").contains("wrong"),
                "no password in errors"
            );
        }
        Ok(_) => panic!("opened with a wrong password"),
    }
}

/// A sink that cancels the token when a given revision begins, or fails there.
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
            // Read only part of the text: the reader skips the rest.
            let mut first = [0u8; 4];
            text.read_exact(&mut first)
                .map_err(|error| error.to_string())?;
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
    match replay_file_url(&mut sink, &cancel) {
        Err(HistoryError::Source(SourceError::Cancelled)) => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert!(sink.revisions.is_empty());
    assert!(matches!(
        RaSession::open(&file_url(), None, &UrlPolicy::default(), &cancel),
        Err(SourceError::Cancelled)
    ));
}

#[test]
fn cancelled_while_reading() {
    let cancel = Cancel::new();
    let mut sink = StopAt {
        revision: 3,
        cancel: Some(cancel.clone()),
        seen: Vec::new(),
    };
    match replay_file_url(&mut sink, &cancel) {
        Err(HistoryError::Source(SourceError::Cancelled)) => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert_eq!(sink.seen, vec![0, 1, 2, 3]);
}

#[test]
fn cancelled_over_svnserve() {
    let server = Svnserve::start();
    let cancel = Cancel::new();
    let mut sink = StopAt {
        revision: 2,
        cancel: Some(cancel.clone()),
        seen: Vec::new(),
    };
    let right = credentials(PASSWORD);
    match ra::read_history(
        &server.url(),
        Some(&right),
        &UrlPolicy::default(),
        0,
        YOUNGEST,
        &mut sink,
        &cancel,
    ) {
        Err(HistoryError::Source(SourceError::Cancelled)) => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert_eq!(sink.seen, vec![0, 1, 2]);
}

#[test]
fn a_sink_error_stops_the_reader() {
    let mut sink = StopAt {
        revision: 4,
        cancel: None,
        seen: Vec::new(),
    };
    match replay_file_url(&mut sink, &Cancel::new()) {
        Err(HistoryError::Sink(message)) => assert_eq!(message, "sink refuses r4"),
        other => panic!("expected the sink's error, got {other:?}"),
    }
    assert_eq!(sink.seen, vec![0, 1, 2, 3, 4]);
}

#[test]
fn a_range_starting_after_zero() {
    let mut sink = ModelSink::default();
    // Revisions 3..=4 need the copy sources of r3 and r4 in earlier snapshots: give them.
    let full = read(&file_url(), None).unwrap();
    sink.snapshots.insert(2, full.snapshots[&2].clone());
    sink.tree = full.snapshots[&2].clone();
    ra::read_history(
        &file_url(),
        None,
        &UrlPolicy::default(),
        3,
        4,
        &mut sink,
        &Cancel::new(),
    )
    .expect("read r3:4");
    let revisions: Vec<u64> = sink.revisions.iter().map(|(number, _)| *number).collect();
    assert_eq!(revisions, vec![3, 4]);
    assert_eq!(sink.tree, full.snapshots[&4]);
}

#[test]
fn readers_on_several_threads_at_once() {
    let server = Svnserve::start();
    let expected = read(&file_url(), None).expect("read over file://").tree;
    let right = credentials(PASSWORD);
    let urls = [file_url(), server.url(), file_url(), server.url()];
    std::thread::scope(|scope| {
        let readers: Vec<_> = urls
            .iter()
            .map(|url| {
                let credentials = url.starts_with("svn://").then_some(&right);
                scope.spawn(move || read(url, credentials).map(|sink| sink.tree))
            })
            .collect();
        for (reader, url) in readers.into_iter().zip(&urls) {
            let tree = reader.join().expect("reader thread").expect(url);
            assert_eq!(tree, expected, "{url}");
        }
    });
}

#[test]
fn http_dav_with_passwords() {
    let server = Apache::start()
        .expect("apache2 with mod_dav_svn: scripts/test installs apache2 and libapache2-mod-svn");
    let url = server.url();
    let right = credentials(PASSWORD);
    let ours = read(&url, Some(&right)).expect("read over http:// with the right password");
    let local = read(&file_url(), None).expect("read over file://");
    assert_same_nodes(&ours, &local, "http:// against file://");
    assert_eq!(ours.tree, local.tree, "http:// tree");
    assert_eq!(
        ours.revisions, local.revisions,
        "http:// revision properties"
    );
    match read(&url, Some(&credentials("wrong"))) {
        Err(HistoryError::Source(SourceError::AuthRejected { .. })) => {}
        other => panic!("wrong password: expected AuthRejected, got {other:?}"),
    }
    match read(&url, None) {
        Err(HistoryError::Source(SourceError::AuthRequired { .. })) => {}
        other => panic!("no password: expected AuthRequired, got {other:?}"),
    }
    let missing = url.replace("/repo", "/missing");
    match RaSession::open(
        &missing,
        Some(&right),
        &UrlPolicy::default(),
        &Cancel::new(),
    ) {
        Err(SourceError::NotFound { .. }) => {}
        other => panic!("missing repository: expected NotFound, got {other:?}"),
    }
}

/// An HTTP server on loopback that answers every request with a redirect to `location`,
/// counting the requests it got.
fn redirecting_server(location: &'static str) -> (String, std::sync::Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/repo", listener.local_addr().expect("addr"));
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) > 0 {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = (&stream).write_all(
                format!(
                    "HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
        }
    });
    (url, requests)
}

#[test]
fn a_dav_redirect_to_a_refused_address_is_refused_by_the_policy() {
    let (url, requests) = redirecting_server("http://169.254.169.254/latest/repo");
    match RaSession::open(&url, None, &UrlPolicy::default(), &Cancel::new()) {
        Err(SourceError::Refused { reason, .. }) => {
            assert!(reason.contains("link-local"), "{reason}");
        }
        other => panic!("redirect to the metadata address: expected Refused, got {other:?}"),
    }
    assert!(
        requests.load(Ordering::SeqCst) >= 1,
        "libsvn reached the server through the proxy"
    );
}

#[test]
fn network_urls_are_held_to_the_policy() {
    let private = UrlPolicy {
        allow_private_networks: false,
        ..UrlPolicy::default()
    };
    let server = Svnserve::start();
    for url in [server.url(), "http://127.0.0.1:9/repo".to_owned()] {
        match RaSession::open(&url, None, &private, &Cancel::new()) {
            Err(SourceError::Refused { .. }) => {}
            other => panic!("{url} with private networks refused: got {other:?}"),
        }
    }
    // A host name is opened at the address the policy checked.
    let by_name = server.url().replace("127.0.0.1", "localhost");
    let session = RaSession::open(
        &by_name,
        Some(&credentials(PASSWORD)),
        &UrlPolicy::default(),
        &Cancel::new(),
    )
    .expect("svn://localhost opens");
    assert_eq!(session.uuid().len(), 36);
}
