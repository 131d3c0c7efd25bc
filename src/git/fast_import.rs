//! Feeding a converter's stream into `git fast-import` in a hosted repository.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Stdio;

use srcimport_converters::hg::export::{self, ExportError, ExportOptions, ExportSummary};
use srcimport_converters::hg::Repository;
use srcimport_converters::{git as git_source, process, Cancel, SourceError};

use super::{run_git, RAW_NOTES_NAMESPACE};

const SCRATCH_REF: &str = "refs/srcimport/scratch";

/// Replaces the raw refs with the Mercurial repository's whole history.
pub fn import_mercurial(
    git_dir: &Path,
    repo: &Repository,
    default_branch: &str,
    cancel: &Cancel,
    on_changeset: impl FnMut(u64),
) -> Result<ExportSummary, ExportError> {
    // The export recreates every raw ref; ones the source lost must not linger.
    let stale = run_git(
        git_dir,
        &[
            "for-each-ref",
            "--format=delete %(refname)",
            git_source::RAW_NAMESPACE,
            RAW_NOTES_NAMESPACE,
        ],
        None,
        cancel,
    )
    .map_err(|e| ExportError::Write(std::io::Error::other(e.to_string())))?;
    if !stale.is_empty() {
        run_git(git_dir, &["update-ref", "--stdin"], Some(stale), cancel)
            .map_err(|e| ExportError::Write(std::io::Error::other(e.to_string())))?;
    }
    let marks = git_dir.join("srcimport-hg.marks");
    let mut cmd = git_source::command(Some(git_dir));
    cmd.args([
        "-c",
        "core.bigFileThreshold=32m",
        "fast-import",
        "--quiet",
        "--force",
        "--done",
    ])
    .arg(format!("--export-marks={}", marks.display()))
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    process::contain(&mut cmd);
    let mut child = cmd.spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
    let mut stderr = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(pipe, &mut text);
        }
        text
    });
    let options = ExportOptions {
        ref_prefix: git_source::RAW_NAMESPACE.to_owned(),
        notes_ref: format!("{RAW_NOTES_NAMESPACE}hg"),
        default_branch: default_branch.to_owned(),
        scratch_ref: SCRATCH_REF.to_owned(),
    };
    let mut out = BufWriter::with_capacity(1 << 20, stdin);
    let exported =
        export::export(repo, &mut out, &options, cancel, on_changeset).and_then(|summary| {
            out.write_all(b"done\n")?;
            out.flush()?;
            Ok(summary)
        });
    drop(out);
    if exported.is_err() {
        process::kill_group(&mut child);
    }
    let status = child.wait()?;
    let errors = stderr_reader.join().unwrap_or_default();
    let summary = exported?;
    if !status.success() {
        return Err(ExportError::Source(SourceError::Command {
            command: "git fast-import".into(),
            detail: process::last_lines(&errors),
        }));
    }
    let io = |e: super::GitError| ExportError::Write(std::io::Error::other(e.to_string()));
    let marks_text = std::fs::read_to_string(&marks)?;
    let _ = std::fs::remove_file(&marks);
    let commit_of: HashMap<&str, &str> = marks_text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .collect();
    let mut updates = format!("start\ndelete {SCRATCH_REF}\n");
    for tag in &summary.tags {
        let Some(commit) = commit_of.get(format!(":{}", tag.mark).as_str()) else {
            continue;
        };
        let body = format!(
            "object {commit}\ntype commit\ntag {}\ntagger {}\n\n{}",
            tag.git_name, tag.tagger, tag.message
        );
        let tag_id = run_git(git_dir, &["mktag"], Some(body.into_bytes()), cancel).map_err(io)?;
        let tag_id = String::from_utf8_lossy(&tag_id).trim().to_owned();
        updates.push_str(&format!(
            "update {}tags/{} {tag_id}\n",
            git_source::RAW_NAMESPACE,
            tag.git_name
        ));
    }
    updates.push_str("commit\n");
    run_git(
        git_dir,
        &["update-ref", "--stdin"],
        Some(updates.into_bytes()),
        cancel,
    )
    .map_err(io)?;
    Ok(summary)
}
