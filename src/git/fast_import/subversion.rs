//! The Subversion converter through `git fast-import`, resumed from its checkpoint.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use srcimport_converters::svn::convert::checkpoint::{Checkpoint, State};
use srcimport_converters::svn::convert::FastImport;
use srcimport_converters::svn::convert::{ConvertError, ConvertOptions, ConvertSummary, Converter};
use srcimport_converters::{git as git_source, Cancel};

use super::{run, with_ids, Answers, Commands, EarlierMarks, WORK_NAMESPACE};
use crate::git::large_files::LargeBlob;
use crate::git::refs::refs_under;
use crate::git::{GitError, RAW_NOTES_NAMESPACE};

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
    // Earlier sessions' objects are named by id, not imported as marks: fast-import then
    // holds only this session's objects.
    let mut resume = resume;
    let earlier = Arc::new(
        resume
            .as_mut()
            .map(|checkpoint| std::mem::take(&mut checkpoint.marks))
            .unwrap_or_default(),
    );
    let kept_options = options.clone();
    let kept = |(summary, _): &(ConvertSummary, State)| summary.refs.keys().cloned().collect();
    let ((summary, state), marks) = run(
        git_dir,
        EarlierMarks::Named(&earlier),
        resume
            .is_some()
            .then_some(&kept as &dyn Fn(&_) -> HashSet<String>),
        cancel,
        |commands, answers| {
            let session = FastImport::new(commands, answers).naming_earlier(earlier.clone());
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
    // The converter is gone: the earlier ids are ours again, and grow into the checkpoint's.
    let earlier = Arc::try_unwrap(earlier).unwrap_or_else(|shared| (*shared).clone());
    let large = with_ids(&summary.large_blobs, |mark| {
        marks.get(mark).or_else(|| earlier.get(mark))
    });
    let checkpoint = Checkpoint::new(
        source,
        kept_options,
        state,
        summary.clone(),
        earlier,
        |mark| marks.get(mark),
    );
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
            .get(*mark)
            .is_some_and(|id| existing.get(name) == Some(&id))
    }))
}

/// What a checkpoint says a Subversion conversion gave, for a sync that finds nothing new.
pub fn subversion_import_from(checkpoint: Checkpoint) -> SubversionImport {
    let large = with_ids(&checkpoint.summary.large_blobs, |mark| {
        checkpoint.marks.get(mark)
    });
    SubversionImport {
        summary: checkpoint.summary,
        large,
        checkpoint: None,
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
