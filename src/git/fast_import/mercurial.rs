//! The Mercurial export through `git fast-import`, resumed from its checkpoint.

use std::path::Path;

use srcimport_converters::hg::checkpoint::{Checkpoint as HgCheckpoint, Exported};
use srcimport_converters::hg::export::{self, ExportError, ExportOptions, ExportSummary};
use srcimport_converters::hg::Repository;
use srcimport_converters::{git as git_source, Cancel};

use super::{all_present, import_marks_of, run, StreamRefs, WORK_NAMESPACE};
use crate::git::RAW_NOTES_NAMESPACE;

/// Where a Mercurial import keeps its checkpoint, in the hosted repository.
const HG_CHECKPOINT: &str = "srcimport-hg.checkpoint";

/// Replaces the raw refs with the Mercurial repository's whole history. With a checkpoint
/// (`HG_CHECKPOINT`) that the repository continues (and whose commits are all here), only the
/// changesets after it are converted; the checkpoint is then rewritten for the next run.
pub fn import_mercurial(
    git_dir: &Path,
    repo: &Repository,
    default_branch: &str,
    large_file_threshold: u64,
    cancel: &Cancel,
    on_changeset: impl FnMut(u64),
) -> Result<ExportSummary, ExportError> {
    let checkpoint = &git_dir.join(HG_CHECKPOINT);
    let options = ExportOptions {
        ref_prefix: git_source::RAW_NAMESPACE.to_owned(),
        notes_ref: format!("{RAW_NOTES_NAMESPACE}hg"),
        default_branch: default_branch.to_owned(),
        scratch_ref: format!("{WORK_NAMESPACE}hg"),
        large_file_threshold,
    };
    let resumed = match HgCheckpoint::load(checkpoint) {
        Some(found) if found.continues_in(repo, large_file_threshold) => {
            let commits = found.marks().map(|(_, commit)| commit);
            all_present(git_dir, commits, cancel)?.then_some(found)
        }
        _ => None,
    };
    let known: Vec<(u64, &str)> = resumed.iter().flat_map(|c| c.marks()).collect();
    let (summary, marks) = run(
        git_dir,
        StreamRefs::all_raw(),
        import_marks_of(&known),
        cancel,
        |commands, _| {
            export::export(
                repo,
                commands,
                &options,
                resumed.as_ref(),
                cancel,
                on_changeset,
            )
        },
        |summary| &summary.tags,
        |summary| (1..=summary.nodes.len() as u64).collect(),
    )?;
    let exported = Exported {
        nodes: &summary.nodes,
        branch_of: &summary.branch_of,
        identity_of: &summary.identity_of,
        users: &summary.users,
        large_blobs: &summary.large_blobs,
        notices: &summary.notices[..summary.changeset_notices],
    };
    HgCheckpoint::new(large_file_threshold, exported, |rev| {
        marks.get(rev as u64 + 1)
    })
    .ok_or_else(|| std::io::Error::other("fast-import left out a changeset's commit"))?
    .save(checkpoint)?;
    tracing::info!(
        changesets = summary.changesets,
        written = summary.written,
        "Mercurial export"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::run_git;
    use crate::git::{large_files, rewrite};

    /// Builds `fixtures/hg/make-revlog-fixture.sh` (needs `hg`) into `dir`.
    fn revlog_fixture(dir: &Path) -> std::path::PathBuf {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hg/make-revlog-fixture.sh");
        let built = std::process::Command::new("bash")
            .arg(script)
            .arg(dir)
            .output()
            .expect("fixture runs");
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );
        dir.join("repo")
    }

    /// What the Mercurial export reports (identities with their counts, commits, large
    /// blobs) is what scanning the history it wrote finds, at every threshold.
    #[test]
    fn the_mercurial_export_knows_what_a_scan_finds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hg = Repository::open(revlog_fixture(&dir.path().join("hg"))).expect("open");
        let cancel = Cancel::new();
        for threshold in [0, 100_000, 2_000_000, u64::MAX] {
            let git_dir = dir.path().join(format!("{threshold}.git"));
            crate::git::init_hosted(&git_dir).expect("init");
            let summary = import_mercurial(&git_dir, &hg, "main", threshold, &cancel, |_| {})
                .expect("import");
            let scan = rewrite::scan_identities(&git_dir, &cancel, |_| {}).expect("scan");
            assert_eq!(summary.identities, scan.identities);
            assert_eq!(summary.changesets, scan.commits);
            assert!(!summary.tags.is_empty(), "taggers are counted too");
            let found = large_files::find(&git_dir, threshold, &cancel).expect("find");
            let located = large_files::locate(
                &git_dir,
                summary.large_blobs.clone().into_iter().collect(),
                &cancel,
            )
            .expect("locate");
            assert_eq!(located, found, "threshold {threshold}");
            if threshold == 100_000 {
                // medium.bin's versions and big.bin.
                assert!(found.len() >= 3, "{found:?}");
            }
            assert_eq!(summary.large_blobs.len(), found.len());
        }
    }

    fn hg(repo: &Path, args: &[&str]) {
        let out = std::process::Command::new("hg")
            .current_dir(repo)
            .args(["--config", "extensions.strip="])
            .args(args)
            .env("HGRCPATH", "/dev/null")
            .env("HGPLAIN", "1")
            .output()
            .expect("hg runs");
        assert!(
            out.status.success(),
            "hg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A changeset by a new user on the working directory's branch.
    fn hg_commit(repo: &Path, file: &str, text: &str, date: &str, extra: &[&str]) {
        std::fs::write(repo.join(file), text).expect("write");
        let mut args = vec![
            "commit",
            "-A",
            "-u",
            "Sync User <sync@example.com>",
            "-d",
            date,
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-m", text]);
        hg(repo, &args);
    }

    /// Every raw ref (branches, tags, notes) with its id.
    fn raw_refs(git_dir: &Path) -> String {
        let out = run_git(
            git_dir,
            &[
                "for-each-ref",
                "--format=%(objectname) %(refname)",
                "refs/srcimport/",
            ],
            None,
            &Cancel::new(),
        )
        .expect("for-each-ref");
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Imports `hg` into `synced` (resuming its checkpoint) and into a fresh repository,
    /// checks both give the same refs and summaries, and returns how many changesets
    /// the sync wrote.
    fn sync_equals_fresh(hg_repo: &Path, synced: &Path, fresh: &Path, threshold: u64) -> u64 {
        let cancel = Cancel::new();
        let repo = Repository::open(hg_repo).expect("open");
        let incremental =
            import_mercurial(synced, &repo, "main", threshold, &cancel, |_| {}).expect("sync");
        let _ = std::fs::remove_dir_all(fresh);
        crate::git::init_hosted(fresh).expect("init");
        let full = import_mercurial(fresh, &repo, "main", threshold, &cancel, |_| {})
            .expect("fresh import");
        assert_eq!(full.written, full.changesets);
        assert_eq!(raw_refs(synced), raw_refs(fresh));
        assert_eq!(incremental.changesets, full.changesets);
        assert_eq!(incremental.identities, full.identities);
        assert_eq!(incremental.users, full.users);
        assert_eq!(incremental.large_blobs, full.large_blobs);
        assert_eq!(incremental.notices, full.notices);
        assert_eq!(incremental.renames, full.renames);
        assert_eq!(
            HgCheckpoint::load(&synced.join(HG_CHECKPOINT)),
            HgCheckpoint::load(&fresh.join(HG_CHECKPOINT))
        );
        incremental.written
    }

    /// A sync converts only the changesets after the checkpoint, and gives what a fresh
    /// import of the new history gives (refs, ids, authors, large files, tags): new
    /// changesets, a new branch, a merge with an old changeset, a tag on an old
    /// changeset, a moved bookmark, a closed branch. A stripped history, another
    /// threshold or a damaged checkpoint make it convert everything again.
    #[test]
    fn a_mercurial_sync_converts_only_what_is_new() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hg_repo = revlog_fixture(&dir.path().join("hg"));
        let (synced, fresh) = (dir.path().join("synced.git"), dir.path().join("fresh.git"));
        crate::git::init_hosted(&synced).expect("init");
        let threshold = 100_000;
        let first = sync_equals_fresh(&hg_repo, &synced, &fresh, threshold);
        assert!(first > 10, "the first import converts everything");
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, threshold), 0);

        hg(&hg_repo, &["update", "-C", "default"]);
        hg_commit(&hg_repo, "new.txt", "one", "1700000000 0", &[]);
        hg_commit(&hg_repo, "new.txt", "two", "1700000010 0", &[]);
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, threshold), 2);

        hg(&hg_repo, &["branch", "later"]);
        hg_commit(&hg_repo, "later.txt", "a new branch", "1700000020 0", &[]);
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, threshold), 1);

        // A merge of default with an old changeset of stable; a large file.
        hg(&hg_repo, &["update", "-C", "default"]);
        hg(
            &hg_repo,
            &[
                "merge",
                "-r",
                "desc('second fix on stable')",
                "--tool",
                "internal:local",
            ],
        );
        std::fs::write(hg_repo.join("big-new.bin"), vec![7u8; 200_000]).expect("write");
        hg_commit(
            &hg_repo,
            "merged.txt",
            "merge an old one",
            "1700000030 0",
            &[],
        );
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, threshold), 1);

        // A tag on an old changeset, and a bookmark moved.
        hg(
            &hg_repo,
            &[
                "tag",
                "-u",
                "Tagger <t@example.com>",
                "-d",
                "1700000040 0",
                "-r",
                "1",
                "v-old",
            ],
        );
        hg(&hg_repo, &["bookmark", "-f", "-r", "2", "feature-bm"]);
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, threshold), 1);

        hg(&hg_repo, &["update", "-C", "later"]);
        hg_commit(
            &hg_repo,
            "later.txt",
            "closing",
            "1700000050 0",
            &["--close-branch"],
        );
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, threshold), 1);

        // Rewritten history: the last changesets stripped, another in their place.
        let converted = HgCheckpoint::load(&synced.join(HG_CHECKPOINT)).expect("checkpoint");
        hg(&hg_repo, &["strip", "--no-backup", "-r", "tip~1"]);
        hg(&hg_repo, &["update", "-C", "default"]);
        hg_commit(&hg_repo, "other.txt", "instead", "1700000060 0", &[]);
        let all = sync_equals_fresh(&hg_repo, &synced, &fresh, threshold);
        assert_eq!(all as usize, converted.len() - 1, "all again");

        // Another threshold, then a damaged checkpoint: everything again, no error.
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, 50_000), all);
        std::fs::write(synced.join(HG_CHECKPOINT), b"{not json").expect("write");
        assert_eq!(sync_equals_fresh(&hg_repo, &synced, &fresh, threshold), all);
    }
}
