//! An unmodified third-party client, PyGithub, drives the whole flow against the server.

use std::process::Command;

use crate::support::{fixture, GitSource, Server, TOKEN};
use crate::webhooks::Receiver;

/// The Python with PyGithub installed: `SRCIMPORT_PYTHON`, as `scripts/test` sets it.
fn python() -> String {
    std::env::var("SRCIMPORT_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn pygithub_drives_start_poll_authors_map_lfs_restart_cancel() {
    let probe = Command::new(python())
        .args(["-c", "import github"])
        .output();
    let probe = probe.expect("python runs");
    assert!(
        probe.status.success(),
        "PyGithub is not installed for {}: run scripts/test, which installs it (SRCIMPORT_PYTHON)",
        python()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    fixture("git/basic.sh", &dir.path().join("src"));
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));
    let receiver = Receiver::start(&[], 200);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/pygithub_flow.py"
    );
    let output = Command::new(python())
        .arg(script)
        .env("SRCIMPORT_BASE_URL", &server.base)
        .env("SRCIMPORT_TOKEN", TOKEN)
        .env("SOURCE_URL", format!("{}/source.git", source.base))
        .env("OWNER", "admin")
        .env("REPO", "pyflow")
        .env("POLL_TIMEOUT", "60")
        .env("HOOK_URL", &receiver.url)
        .output()
        .expect("script runs");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "PyGithub flow failed:\n{log}");
    assert!(log.contains("complete"), "{log}");
    assert!(log.contains("hooks: created, edited, pinged"), "{log}");
    assert!(receiver.pings().len() >= 2, "the receiver got the pings");
}
