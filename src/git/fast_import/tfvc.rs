//! The TFVC converter through `git fast-import`, resumed from its checkpoint.

use std::path::Path;

use srcimport_converters::fast_export::stream::FastImport;
use srcimport_converters::tfvc::checkpoint::Checkpoint as TfvcCheckpoint;
use srcimport_converters::tfvc::convert as tfvc_convert;
use srcimport_converters::tfvc::convert::ConverterState;
use srcimport_converters::tfvc::reader::{BranchInfo, Label, Reader};
use srcimport_converters::tfvc::TfvcError;
use srcimport_converters::{git as git_source, Cancel, SourceError};

use super::{all_present, import_marks_of, io_error, run, with_ids, StreamRefs, WORK_NAMESPACE};
use crate::git::large_files::LargeBlob;
use crate::git::{run_git, GitError, RAW_NOTES_NAMESPACE};

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
        StreamRefs::all_raw(),
        import_marks_of(&known),
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
            let oid = marks.get(mark).ok_or_else(|| {
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
    let large = with_ids(&summary.large_blobs, |mark| marks.get(mark));
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
