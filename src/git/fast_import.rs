//! Feeding a converter's stream into `git fast-import` in a hosted repository: the raw refs
//! are replaced by what the stream writes, and annotated tags are made from its marks (in
//! one packfile).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Stdio};

use srcimport_converters::fast_export::TagToWrite;
use srcimport_converters::hg::checkpoint::{Checkpoint as HgCheckpoint, Exported};
use srcimport_converters::hg::export::{self, ExportError, ExportOptions, ExportSummary};
use srcimport_converters::hg::Repository;
use srcimport_converters::svn::convert::checkpoint::{Checkpoint, State};
use srcimport_converters::svn::convert::FastImport;
use srcimport_converters::svn::convert::{ConvertError, ConvertOptions, ConvertSummary, Converter};
use srcimport_converters::tfvc::checkpoint::Checkpoint as TfvcCheckpoint;
use srcimport_converters::tfvc::convert as tfvc_convert;
use srcimport_converters::tfvc::convert::ConverterState;
use srcimport_converters::tfvc::reader::{BranchInfo, Label, Reader};
use srcimport_converters::tfvc::TfvcError;
use srcimport_converters::{git as git_source, process, Cancel, SourceError};

use super::large_files::LargeBlob;
use super::objects::hash_object;
use super::pack::PackWriter;
use super::refs::{refs_under, set_refs};
use super::{run_git, GitError, RAW_NOTES_NAMESPACE};

/// Refs commits are written through while a stream runs; deleted once it is done.
const WORK_NAMESPACE: &str = "refs/srcimport/work/";

/// Object ids by fast-import mark.
type Marks = HashMap<u64, String>;

/// The two ends of a running fast-import: its command stream and its cat-blob answers.
pub type Commands = BufWriter<ChildStdin>;
pub type Answers = BufReader<ChildStdout>;

fn io_error(error: GitError) -> std::io::Error {
    std::io::Error::other(error.to_string())
}

/// glibc allocator settings for fast-import. It sets up a zlib stream (over 256 KiB) for
/// every object it writes; with glibc's defaults that memory is returned to the system
/// and faulted back in, zeroed, each time, which made most of its run time (0.93 s → 0.20 s
/// for 2,000 commits). Keeping up to 8 MiB of freed heap and serving allocations up to
/// 1 MiB from it ends that; memory stays bounded. Settings already in the environment win;
/// other allocators ignore the variable.
fn malloc_tunables() -> String {
    const OURS: &str = "glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=8388608";
    match std::env::var("GLIBC_TUNABLES") {
        Ok(theirs) if !theirs.is_empty() => format!("{OURS}:{theirs}"),
        _ => OURS.to_owned(),
    }
}

/// Deletes every ref under `prefixes`.
fn delete_refs(git_dir: &Path, prefixes: &[&str], cancel: &Cancel) -> Result<(), GitError> {
    let mut args = vec!["for-each-ref", "--format=delete %(refname)"];
    args.extend_from_slice(prefixes);
    let stale = run_git(git_dir, &args, None, cancel)?;
    if !stale.is_empty() {
        run_git(git_dir, &["update-ref", "--stdin"], Some(stale), cancel)?;
    }
    Ok(())
}

/// The `--import-marks` file for marks an earlier run wrote (`(mark, object id)`), if any.
fn import_marks_of(known: &[(u64, &str)]) -> Option<Vec<u8>> {
    (!known.is_empty()).then(|| {
        known
            .iter()
            .flat_map(|(mark, oid)| format!(":{mark} {oid}\n").into_bytes())
            .collect()
    })
}

/// Which raw refs a stream writes: all of them (the old ones are cleared first), or, when a
/// stream continues an earlier one, only those that change; the old refs are kept and
/// afterwards those the function does not name (nor a tag) are deleted.
type KeptRefs<'k, T> = Option<&'k dyn Fn(&T) -> HashSet<String>>;

/// Runs `produce` against a fresh `git fast-import` in `git_dir` (after clearing the raw
/// refs it will recreate, unless `kept`). Afterwards writes `tags(result)` as annotated raw
/// tags and removes the work refs. Nothing is written to any ref unless the whole stream
/// succeeds. Returns the result and the object ids of the tags' marks and of
/// `wanted(result)`.
fn run<T, E>(
    git_dir: &Path,
    import_marks: Option<Vec<u8>>,
    kept: KeptRefs<'_, T>,
    cancel: &Cancel,
    produce: impl FnOnce(&mut Commands, &mut Answers) -> Result<T, E>,
    tags: impl Fn(&T) -> &[TagToWrite],
    wanted: impl FnOnce(&T) -> Vec<u64>,
) -> Result<(T, Marks), E>
where
    E: From<std::io::Error> + From<SourceError>,
{
    // The stream recreates every raw ref; ones the source lost must not linger.
    let stale: &[&str] = match kept {
        None => &[
            git_source::RAW_NAMESPACE,
            RAW_NOTES_NAMESPACE,
            WORK_NAMESPACE,
        ],
        Some(_) => &[WORK_NAMESPACE],
    };
    delete_refs(git_dir, stale, cancel).map_err(io_error)?;
    let marks = git_dir.join("srcimport-fast-import.marks");
    let imported = git_dir.join("srcimport-fast-import.import-marks");
    let mut cmd = git_source::command(Some(git_dir));
    cmd.args([
        "-c",
        "core.bigFileThreshold=32m",
        "fast-import",
        "--quiet",
        "--force",
        "--done",
        "--cat-blob-fd=1",
    ])
    .arg(format!("--export-marks={}", marks.display()))
    .args(match import_marks {
        Some(content) => {
            std::fs::write(&imported, content)?;
            Some(format!("--import-marks={}", imported.display()))
        }
        None => None,
    })
    .env("GLIBC_TUNABLES", malloc_tunables())
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    process::contain(&mut cmd);
    let mut child = cmd.spawn()?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe).into());
    };
    let mut stderr = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(pipe, &mut text);
        }
        text
    });
    let mut commands = BufWriter::with_capacity(1 << 20, stdin);
    let mut answers = BufReader::with_capacity(1 << 16, stdout);
    let produced = produce(&mut commands, &mut answers).and_then(|result| {
        commands.write_all(b"done\n")?;
        commands.flush()?;
        Ok(result)
    });
    drop(commands);
    drop(answers);
    if produced.is_err() {
        process::kill_group(&mut child);
    }
    let status = child.wait()?;
    let _ = std::fs::remove_file(&imported);
    let errors = stderr_reader.join().unwrap_or_default();
    if produced.is_err() && !errors.trim().is_empty() {
        tracing::warn!(stderr = %process::last_lines(&errors), "git fast-import stopped");
    }
    let result = produced?;
    if !status.success() {
        return Err(SourceError::Command {
            command: "git fast-import".into(),
            detail: process::last_lines(&errors),
        }
        .into());
    }
    // The marks file lists every object written: only the wanted lines are kept.
    let mut wanted: HashSet<u64> = wanted(&result).into_iter().collect();
    wanted.extend(tags(&result).iter().map(|tag| tag.mark));
    let mut commit_of = Marks::new();
    for line in BufReader::new(std::fs::File::open(&marks)?).lines() {
        let line = line?;
        let parsed = line
            .strip_prefix(':')
            .and_then(|l| l.split_once(' '))
            .and_then(|(mark, oid)| Some((mark.parse::<u64>().ok()?, oid)));
        if let Some((mark, oid)) = parsed.filter(|(mark, _)| wanted.contains(mark)) {
            commit_of.insert(mark, oid.to_owned());
        }
    }
    let _ = std::fs::remove_file(&marks);
    let _ = std::fs::remove_file(&imported);
    // The tags go into one packfile together (one process, however many tags); a tag
    // already there (a sync's unchanged tags) is not written again.
    let tags_namespace = format!("{}tags/", git_source::RAW_NAMESPACE);
    let existing: HashSet<String> = refs_under(git_dir, &[&tags_namespace], cancel)
        .map_err(io_error)?
        .into_iter()
        .map(|(oid, _)| oid)
        .collect();
    let mut updates = Vec::new();
    let mut pack: Option<PackWriter> = None;
    for tag in tags(&result) {
        let Some(commit) = commit_of.get(&tag.mark) else {
            continue;
        };
        let mut message = tag.message.clone();
        if !message.is_empty() && !message.ends_with('\n') {
            message.push('\n');
        }
        let body = format!(
            "object {commit}\ntype commit\ntag {}\ntagger {}\n\n{message}",
            tag.git_name, tag.tagger
        );
        let mut tag_id = hash_object("tag", body.as_bytes());
        if !existing.contains(&tag_id) {
            let writer = match &mut pack {
                Some(writer) => writer,
                None => pack.insert(PackWriter::create(git_dir).map_err(io_error)?),
            };
            tag_id = writer.write("tag", body.as_bytes()).map_err(io_error)?;
        }
        let name = format!("{tags_namespace}{}", tag.git_name);
        updates.push((name, tag_id));
    }
    if let Some(writer) = pack {
        writer.finish(cancel).map_err(io_error)?;
    }
    let prune = kept.map(|kept| kept(&result));
    set_refs(
        git_dir,
        &[git_source::RAW_NAMESPACE],
        &updates,
        prune.as_ref(),
        cancel,
    )
    .map_err(io_error)?;
    delete_refs(git_dir, &[WORK_NAMESPACE], cancel).map_err(io_error)?;
    Ok((result, commit_of))
}

/// A converter's large blobs with the object ids fast-import gave their marks.
fn with_ids(
    blobs: &[srcimport_converters::fast_export::LargeBlob],
    id_of: impl Fn(u64) -> Option<String>,
) -> Vec<LargeBlob> {
    blobs
        .iter()
        .filter_map(|blob| {
            Some(LargeBlob {
                ref_name: blob.ref_name.clone(),
                path: blob.path.clone(),
                oid: id_of(blob.mark)?,
                size: blob.size,
            })
        })
        .collect()
}

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
        import_marks_of(&known),
        None,
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
        marks.get(&(rev as u64 + 1)).cloned()
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

/// Whether every one of `objects` is in the repository.
fn all_present<'a>(
    git_dir: &Path,
    objects: impl Iterator<Item = &'a str>,
    cancel: &Cancel,
) -> std::io::Result<bool> {
    let mut input = Vec::new();
    for oid in objects {
        input.extend_from_slice(oid.as_bytes());
        input.push(b'\n');
    }
    if input.is_empty() {
        return Ok(true);
    }
    let answers =
        run_git(git_dir, &["cat-file", "--batch-check"], Some(input), cancel).map_err(io_error)?;
    Ok(!answers
        .split(|&b| b == b'\n')
        .any(|line| line.ends_with(b" missing")))
}

/// What a Subversion conversion gave: the converter's totals for the whole history, its
/// large blobs with their ids, and the checkpoint a later sync resumes from.
pub struct SubversionImport {
    pub summary: ConvertSummary,
    pub large: Vec<LargeBlob>,
    pub checkpoint: Option<Checkpoint>,
}

/// Replaces the raw refs with a Subversion history of `source`; `read` drives the converter
/// with every revision after `resume`'s (all of them without one). Returns what the
/// converter found for the whole history.
pub fn import_subversion<F>(
    git_dir: &Path,
    source: &str,
    options: ConvertOptions,
    resume: Option<Checkpoint>,
    cancel: &Cancel,
    on_revision: impl FnMut(u64),
    read: F,
) -> Result<SubversionImport, ConvertError>
where
    F: FnOnce(&mut Converter<'_, &mut Commands, &mut Answers>) -> Result<(), ConvertError>,
{
    let import_marks = resume.as_ref().map(Checkpoint::marks_file);
    let kept_options = options.clone();
    let kept = |(summary, _): &(ConvertSummary, State)| summary.refs.keys().cloned().collect();
    let ((summary, state), marks) = run(
        git_dir,
        import_marks,
        resume
            .is_some()
            .then_some(&kept as &dyn Fn(&_) -> HashSet<String>),
        cancel,
        |commands, answers| {
            let session = FastImport::new(commands, answers);
            let mut converter = match resume {
                Some(checkpoint) => Converter::resume(
                    session,
                    options,
                    checkpoint.state,
                    checkpoint.summary.refs,
                    cancel,
                    on_revision,
                ),
                None => Converter::new(session, options, cancel, on_revision),
            };
            read(&mut converter)?;
            let (summary, state, _) = converter.finish_with_state()?;
            Ok::<_, ConvertError>((summary, state))
        },
        |(summary, _): &(ConvertSummary, State)| &summary.tags,
        |(summary, state): &(ConvertSummary, State)| Checkpoint::marks_needed(state, summary),
    )?;
    let large = with_ids(&summary.large_blobs, |mark| marks.get(&mark).cloned());
    let checkpoint = Checkpoint::new(source, kept_options, state, summary.clone(), |mark| {
        marks.get(&mark).cloned()
    });
    Ok(SubversionImport {
        summary,
        large,
        checkpoint,
    })
}

/// Whether the raw refs are still the ones the conversion that saved `checkpoint` ended
/// with (a resumed stream writes only the refs that move).
pub fn subversion_refs_intact(
    git_dir: &Path,
    checkpoint: &Checkpoint,
    cancel: &Cancel,
) -> Result<bool, GitError> {
    let existing: HashMap<String, String> =
        refs_under(git_dir, &[git_source::RAW_NAMESPACE], cancel)?
            .into_iter()
            .map(|(oid, name)| (name, oid))
            .collect();
    Ok(checkpoint.summary.refs.iter().all(|(name, mark)| {
        checkpoint
            .marks
            .get(mark)
            .is_some_and(|id| existing.get(name) == Some(id))
    }))
}

/// What a checkpoint says a Subversion conversion gave, for a sync that finds nothing new.
pub fn subversion_import_from(checkpoint: Checkpoint) -> SubversionImport {
    let large = with_ids(&checkpoint.summary.large_blobs, |mark| {
        checkpoint.marks.get(&mark).cloned()
    });
    SubversionImport {
        summary: checkpoint.summary,
        large,
        checkpoint: None,
    }
}

/// Where a TFVC import keeps its checkpoint, in the hosted repository.
const TFVC_CHECKPOINT: &str = "srcimport-tfvc.checkpoint";

/// Replaces the raw refs with a TFVC project's history: its changesets read through
/// `reader`, then `labels` as tags. With a checkpoint (`TFVC_CHECKPOINT`) this history
/// continues (and whose objects are all here), only the changesets after it are listed,
/// read and converted; the checkpoint is then rewritten. `on_changeset` sees the
/// changesets converted and the total (both of the whole history). Returns what the
/// converter found (for the whole history), and its large blobs with their ids.
#[allow(clippy::too_many_arguments)]
pub fn import_tfvc(
    git_dir: &Path,
    reader: &Reader,
    main_branch: &str,
    large_file_threshold: u64,
    branches: &[BranchInfo],
    labels: &[Label],
    cancel: &Cancel,
    mut on_changeset: impl FnMut(u64, u64),
) -> Result<(tfvc_convert::ConvertSummary, Vec<LargeBlob>), TfvcError> {
    let options = tfvc_convert::ConvertOptions {
        project: reader.project().to_owned(),
        main_branch: main_branch.to_owned(),
        ref_prefix: git_source::RAW_NAMESPACE.to_owned(),
        work_ref_prefix: WORK_NAMESPACE.to_owned(),
        notes_ref: format!("{RAW_NOTES_NAMESPACE}tfvc"),
        large_file_threshold,
    };
    let checkpoint_path = git_dir.join(TFVC_CHECKPOINT);
    let found = TfvcCheckpoint::load(&checkpoint_path)
        .filter(|c| c.continues(reader.collection(), &options, branches));
    // Only the changesets from the last one converted on are listed: that one must still
    // be there.
    let mut listed = match &found {
        Some(c) => reader.changesets_from(Some(c.state.last_changeset))?,
        None => Vec::new(),
    };
    let resumed = match found {
        Some(c) if listed.first().map(|l| l.changeset_id) == Some(c.state.last_changeset) => {
            let objects = c.marks.iter().map(|(_, oid)| oid.as_str());
            let objects = objects.chain(c.notes_base.as_deref());
            all_present(git_dir, objects, cancel)?.then_some(c)
        }
        _ => None,
    };
    let changesets = match &resumed {
        Some(_) => listed.split_off(1),
        None => reader.changesets()?,
    };
    let after = resumed.as_ref().map_or(0, |c| c.state.last_changeset);
    tracing::info!(after_changeset = after, "TFVC conversion");
    let total = resumed.as_ref().map_or(0, |c| c.state.changesets()) + changesets.len() as u64;
    let downloaded = resumed
        .as_ref()
        .map(|c| c.state.blob_hashes())
        .unwrap_or_default();
    let mut stream = reader.stream_knowing(changesets, downloaded);
    let (state, known_marks, notes_base) = match resumed {
        Some(c) => (Some(c.state), c.marks, c.notes_base),
        None => (None, Vec::new(), None),
    };
    let known: Vec<(u64, &str)> = known_marks
        .iter()
        .map(|(mark, oid)| (*mark, oid.as_str()))
        .collect();
    let ((summary, state), marks) = run(
        git_dir,
        import_marks_of(&known),
        None,
        cancel,
        |commands, answers| {
            let session = FastImport::new(commands, answers);
            let mut converter = match state {
                Some(state) => tfvc_convert::Converter::resume(
                    session,
                    options.clone(),
                    branches,
                    state,
                    notes_base.as_deref(),
                    cancel,
                    |done| on_changeset(done, total),
                )?,
                None => tfvc_convert::Converter::new(
                    session,
                    options.clone(),
                    branches,
                    cancel,
                    |done| on_changeset(done, total),
                ),
            };
            converter.run(&mut stream)?;
            let state = converter.state();
            Ok::<_, TfvcError>((converter.finish(labels)?.0, state))
        },
        |(summary, _): &(tfvc_convert::ConvertSummary, _)| &summary.tags,
        |(summary, state): &(tfvc_convert::ConvertSummary, ConverterState)| {
            let mut wanted: Vec<u64> = state.marks().into_iter().collect();
            wanted.extend(summary.large_blobs.iter().map(|b| b.mark));
            wanted
        },
    )?;
    let notes_ref = format!("{RAW_NOTES_NAMESPACE}tfvc");
    let notes_base = if state.notes_pending() {
        format!("{notes_ref}^")
    } else {
        notes_ref
    };
    let notes_base = resolve(git_dir, &notes_base, cancel)?;
    let state_marks = state
        .marks()
        .into_iter()
        .map(|mark| {
            let oid = marks.get(&mark).cloned().ok_or_else(|| {
                std::io::Error::other(format!("fast-import gave no object for mark {mark}"))
            })?;
            Ok((mark, oid))
        })
        .collect::<Result<Vec<_>, std::io::Error>>()?;
    TfvcCheckpoint::new(
        reader.collection(),
        &options,
        state,
        state_marks,
        notes_base,
    )
    .save(&checkpoint_path)?;
    let large = with_ids(&summary.large_blobs, |mark| marks.get(&mark).cloned());
    Ok((summary, large))
}

/// The object `revision` names, if it exists.
fn resolve(git_dir: &Path, revision: &str, cancel: &Cancel) -> std::io::Result<Option<String>> {
    let out = run_git(
        git_dir,
        &["rev-parse", "-q", "--verify", "--end-of-options", revision],
        None,
        cancel,
    );
    match out {
        Ok(out) => {
            Ok(Some(String::from_utf8_lossy(&out).trim().to_owned()).filter(|oid| !oid.is_empty()))
        }
        Err(GitError::Source(SourceError::Cancelled)) => {
            Err(io_error(GitError::Source(SourceError::Cancelled)))
        }
        Err(_) => Ok(None),
    }
}

/// Where a Subversion conversion writes its refs.
pub fn subversion_refs() -> (String, String, String) {
    (
        git_source::RAW_NAMESPACE.to_owned(),
        format!("{WORK_NAMESPACE}svn/"),
        format!("{RAW_NOTES_NAMESPACE}svn"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
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
