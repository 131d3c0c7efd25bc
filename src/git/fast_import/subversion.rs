//! The Subversion converter through `git fast-import`, resumed from its checkpoint.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use srcimport_converters::svn::convert::checkpoint::{Checkpoint, State};
use srcimport_converters::svn::convert::revprops::RevisionInfo;
use srcimport_converters::svn::convert::FastImport;
use srcimport_converters::svn::convert::{ConvertError, ConvertOptions, ConvertSummary, Converter};
use srcimport_converters::{git as git_source, Cancel};

use super::{
    run, with_ids, Answers, Commands, EarlierMarks, KeptRefs, RefTarget, StreamRefs, WORK_NAMESPACE,
};
use crate::git::large_files::LargeBlob;
use crate::git::refs::refs_under;
use crate::git::GitError;

/// What a Subversion conversion gave: the converter's totals for the whole history, its
/// large blobs with their ids, and the checkpoint a later sync resumes from.
pub struct SubversionImport {
    pub summary: ConvertSummary,
    pub large: Vec<LargeBlob>,
    pub checkpoint: Option<Checkpoint>,
}

/// How a Subversion history is written.
#[derive(Clone, Copy)]
pub enum SvnHistory<'a> {
    /// Into the raw refs of a hosted repository, for mapping and pushing to carry on from.
    Raw,
    /// Final, into the published names of a new repository: with each revision's author
    /// as the function gives it, stopping at the first large blob (see
    /// [`Converter::writing_final_history`]).
    Final(&'a dyn Fn(&RevisionInfo) -> String),
}

impl SvnHistory<'_> {
    /// Where a history written this way has its refs.
    pub fn target(self) -> RefTarget {
        match self {
            SvnHistory::Raw => RefTarget::Raw,
            SvnHistory::Final(_) => RefTarget::Published,
        }
    }
}

/// Where a Subversion history of `source` goes: into `git_dir`, converted with `options`,
/// written as `history` says.
pub struct SvnTarget<'a> {
    pub git_dir: &'a Path,
    /// The source's URL, as checkpoints record it.
    pub source: &'a str,
    pub options: ConvertOptions,
    pub history: SvnHistory<'a>,
}

/// Replaces the refs `to.history` names with a Subversion history; `read` drives the
/// converter with every revision after `resume`'s (all of them without one). Returns what
/// the converter found for the whole history.
pub fn import_subversion<F>(
    to: &SvnTarget<'_>,
    resume: Option<Checkpoint>,
    cancel: &Cancel,
    on_revision: impl FnMut(u64),
    read: F,
) -> Result<SubversionImport, ConvertError>
where
    F: FnOnce(&mut Converter<'_, &mut Commands, &mut Answers>) -> Result<(), ConvertError>,
{
    let SvnTarget {
        git_dir,
        source,
        ref options,
        history,
    } = *to;
    // Earlier sessions' objects are named by id, not imported as marks: fast-import then
    // holds only this session's objects.
    let mut resume = resume;
    let earlier = Arc::new(
        resume
            .as_mut()
            .map(|checkpoint| std::mem::take(&mut checkpoint.marks))
            .unwrap_or_default(),
    );
    let kept = |(summary, _): &(ConvertSummary, State)| summary.refs.keys().cloned().collect();
    let ((summary, state), marks) = run(
        git_dir,
        StreamRefs {
            target: history.target(),
            kept: resume.is_some().then_some(&kept as &KeptRefs<_>),
        },
        EarlierMarks::Named(&earlier),
        cancel,
        |commands, answers| {
            let session = FastImport::new(commands, answers).naming_earlier(earlier.clone());
            let mut converter = match resume {
                Some(checkpoint) => Converter::resume(
                    session,
                    options.clone(),
                    checkpoint.state,
                    checkpoint.summary.refs,
                    cancel,
                    on_revision,
                ),
                None => Converter::new(session, options.clone(), cancel, on_revision),
            };
            if let SvnHistory::Final(author) = history {
                converter = converter.writing_final_history(author);
            }
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
        options.clone(),
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

/// Where a Subversion conversion writes its refs: `(ref prefix, work ref prefix, notes
/// ref)`.
pub fn subversion_refs(target: RefTarget) -> (String, String, String) {
    (
        target.prefix().to_owned(),
        format!("{WORK_NAMESPACE}svn/"),
        format!("{}svn", target.notes_prefix()),
    )
}
