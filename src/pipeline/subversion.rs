//! The importing stage for Subversion: a dump file (or, through libsvn, a repository URL)
//! converted into the raw refs, with the layout detected from the history itself.

use std::ops::RangeInclusive;

use srcimport_converters::svn::convert::checkpoint::{self, Checkpoint, Mismatch};
use srcimport_converters::svn::convert::layout::Layout;
use srcimport_converters::svn::convert::{revprops, ConvertError, ConvertOptions};
use srcimport_converters::svn::layout_detect;
use srcimport_converters::svn::source::SvnSource;
use srcimport_converters::{Cancel, Credentials, ProjectChoice, SourceError, Vcs};

use super::progress::StoreProgress;
use super::{PipelineError, Run, Transferred};
use crate::git;
use crate::git::fast_import::{SubversionImport, SvnHistory, SvnTarget};
use crate::git::large_files::LargeBlob;
use crate::store::{ImportRecord, StoreError, SvnOptions};

impl Run<'_> {
    pub(super) fn transfer_subversion(
        &self,
        import: &ImportRecord,
        progress: &StoreProgress<'_>,
    ) -> Result<Transferred, PipelineError> {
        let credentials = import.credentials.as_ref();
        let source = SvnSource::open(
            &import.vcs_url,
            credentials,
            &self.env.url_policy,
            &self.repo_path,
            &self.cancel,
        )?;
        let survey = source.survey(credentials, &self.cancel)?;
        let youngest = survey.youngest;
        let Some(layout) = self.svn_layout(import, &survey.top_dirs)? else {
            return Err(StoreError::Conflict {
                actual: "detection_found_multiple",
                wanted: "a project choice".into(),
            }
            .into());
        };
        let options = convert_options(
            layout,
            survey.uuid.clone(),
            &self.env.svn_trunk_branch,
            &import.svn_options,
            super::large_file_threshold(import.large_file_threshold),
            SvnHistory::Raw,
        );
        let checkpoint_path = self.repo_path.join(git::SVN_CHECKPOINT);
        let resume = Checkpoint::load(&checkpoint_path).filter(|checkpoint| {
            let fingerprint = |revision| {
                let properties = source
                    .revision_properties(credentials, revision, &self.cancel)
                    .ok()??;
                let info = revprops::RevisionInfo::from_properties(&properties, &options.uuid);
                Some(checkpoint::fingerprint(&info))
            };
            let checked = checkpoint
                .check(&import.vcs_url, &options, youngest, fingerprint)
                .and_then(|()| {
                    match git::fast_import::subversion_refs_intact(
                        &self.repo_path,
                        checkpoint,
                        &self.cancel,
                    ) {
                        Ok(true) => Ok(()),
                        _ => Err(Mismatch::RefsMoved),
                    }
                });
            if let Err(mismatch) = &checked {
                tracing::info!(
                    repo_id = self.repo_id,
                    ?mismatch,
                    "converting the whole history"
                );
            }
            checked.is_ok()
        });
        let converted_upto = resume.as_ref().and_then(|c| c.state.revision());
        let imported = match (resume, converted_upto) {
            (Some(checkpoint), Some(upto)) if upto == youngest => {
                tracing::info!(repo_id = self.repo_id, revision = upto, "nothing new");
                git::fast_import::subversion_import_from(checkpoint)
            }
            (resume, upto) => {
                // The raw refs are about to be replaced: a run that fails on the way must
                // not leave a checkpoint that no longer describes them.
                match std::fs::remove_file(&checkpoint_path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(git::GitError::io(&checkpoint_path, e).into())
                    }
                    _ => {}
                }
                if let Some(upto) = upto {
                    tracing::info!(
                        repo_id = self.repo_id,
                        to = youngest,
                        "resuming the Subversion conversion after r{upto}"
                    );
                }
                let _span = tracing::info_span!("svn", repo_id = self.repo_id).entered();
                SvnConversion {
                    to: SvnTarget {
                        git_dir: &self.repo_path,
                        source: &import.vcs_url,
                        options,
                        history: SvnHistory::Raw,
                    },
                    source: &source,
                    credentials,
                    per_run: self.env.svn_revisions_per_run,
                    cancel: &self.cancel,
                }
                .convert(
                    resume,
                    survey.first..=youngest,
                    |revision| progress.fraction(revision, youngest.max(1)),
                    |checkpoint| {
                        checkpoint
                            .save(&checkpoint_path)
                            .map_err(|e| git::GitError::io(&checkpoint_path, e).into())
                    },
                )?
            }
        };
        Ok(transferred(imported.summary, imported.large, &survey.uuid))
    }

    /// The layout (see [`choose_layout`]); `None` when the repository holds several
    /// projects and none was chosen (the choices are then offered).
    fn svn_layout(
        &self,
        import: &ImportRecord,
        top_dirs: &std::collections::BTreeSet<String>,
    ) -> Result<Option<Layout>, PipelineError> {
        match choose_layout(&import.svn_options, top_dirs) {
            Ok(layout) => Ok(Some(layout)),
            Err(projects) => {
                let choices = projects
                    .iter()
                    .map(|name| ProjectChoice {
                        vcs: Vcs::Subversion,
                        tfvc_project: None,
                        human_name: project_choice_label(name),
                    })
                    .collect();
                self.env
                    .store
                    .offer_choices(self.repo_id, import.generation, choices)?;
                Ok(None)
            }
        }
    }
}

/// The layout: explicit fields first, then detection from the repository's `top_dirs`.
/// Fails with the projects a repository holds when it holds several and none was chosen.
pub(crate) fn choose_layout(
    fields: &SvnOptions,
    top_dirs: &std::collections::BTreeSet<String>,
) -> Result<Layout, Vec<String>> {
    let detected = match &fields.project {
        Some(project) => layout_detect::Detected::One(Layout::standard(project)),
        None => layout_detect::from_top_dirs(top_dirs),
    };
    let mut layout = match detected {
        layout_detect::Detected::One(layout) => layout,
        layout_detect::Detected::Projects(_) if fields.has_patterns() => Layout::standard(""),
        layout_detect::Detected::Projects(projects) => return Err(projects),
    };
    if fields.has_patterns() {
        let standard = Layout::standard(&layout.project);
        layout.trunk = fields.trunk.clone().or(standard.trunk);
        layout.branches = fields.branches.clone().unwrap_or(standard.branches);
        layout.tags = fields.tags.clone().unwrap_or(standard.tags);
    }
    Ok(layout)
}

/// A project as offered to choose from: `NAME (/NAME)`.
pub(crate) fn project_choice_label(name: &str) -> String {
    format!("{name} (/{name})")
}

/// How to convert a repository of `uuid` with `layout`, its refs named as `history` is
/// written.
pub(crate) fn convert_options(
    layout: Layout,
    uuid: String,
    trunk_branch: &str,
    fields: &SvnOptions,
    large_file_threshold: u64,
    history: SvnHistory<'_>,
) -> ConvertOptions {
    let (ref_prefix, work_ref_prefix, notes_ref) =
        git::fast_import::subversion_refs(history.target());
    ConvertOptions {
        layout,
        uuid,
        trunk_branch: trunk_branch.to_owned(),
        ref_prefix,
        work_ref_prefix,
        notes_ref,
        empty_dirs: fields.empty_dirs.unwrap_or(true),
        large_file_threshold,
    }
}

/// A conversion of a Subversion source.
pub(crate) struct SvnConversion<'a> {
    pub to: SvnTarget<'a>,
    pub source: &'a SvnSource,
    pub credentials: Option<&'a Credentials>,
    /// The most revisions one `git fast-import` run converts.
    pub per_run: u64,
    pub cancel: &'a Cancel,
}

impl SvnConversion<'_> {
    /// Converts `revisions` (from the one after `resume`'s, when there is one) in runs of
    /// at most `per_run`, each a `git fast-import` resumed from the last one's checkpoint,
    /// which `save` is given as the run ends (so a failed first import resumes too): git
    /// fast-import holds every object of its run in memory.
    pub fn convert(
        self,
        mut resume: Option<Checkpoint>,
        revisions: RangeInclusive<u64>,
        on_revision: impl Fn(u64),
        mut save: impl FnMut(&Checkpoint) -> Result<(), PipelineError>,
    ) -> Result<SubversionImport, PipelineError> {
        let youngest = *revisions.end();
        let mut start = match resume.as_ref().and_then(|c| c.state.revision()) {
            Some(upto) => upto + 1,
            None => *revisions.start(),
        };
        let per_run = even_runs(youngest.saturating_sub(start) + 1, self.per_run);
        loop {
            let last = youngest.min(start.saturating_add(per_run - 1));
            tracing::info!(from = start, to = last, "git fast-import run");
            let imported = git::fast_import::import_subversion(
                &self.to,
                resume,
                self.cancel,
                &on_revision,
                |converter| {
                    self.source
                        .read_into(self.credentials, start, last, converter, self.cancel)
                },
            )?;
            if let Some(checkpoint) = &imported.checkpoint {
                save(checkpoint)?;
            }
            if last >= youngest {
                return Ok(imported);
            }
            resume = Some(imported.checkpoint.ok_or_else(|| {
                PipelineError::Subversion(ConvertError::Source(SourceError::Command {
                    command: "git fast-import".into(),
                    detail: "its marks lack commits the next run continues from".into(),
                }))
            })?);
            start = last + 1;
        }
    }
}

/// Revisions per run when `revisions` are converted in runs of at most `most`, as even as
/// can be (so that no run is left with a few revisions and a whole run's fixed cost).
fn even_runs(revisions: u64, most: u64) -> u64 {
    let runs = revisions.div_ceil(most.max(1)).max(1);
    revisions.div_ceil(runs).max(1)
}

/// What the Subversion conversion gives the rest of the pipeline; authors are listed by
/// `user` (their `remote_id` is `user@UUID`).
fn transferred(
    summary: srcimport_converters::svn::convert::ConvertSummary,
    large: Vec<LargeBlob>,
    uuid: &str,
) -> Transferred {
    let source_users = summary
        .users
        .into_iter()
        .map(|(identity, remote_id)| {
            let user = remote_id
                .strip_suffix(&format!("@{uuid}"))
                .unwrap_or(&remote_id)
                .to_owned();
            (identity, (remote_id, user))
        })
        .collect();
    super::converted(summary.report, source_users, summary.commits, large)
}

/// The Git identity the raw history holds for an author listed as `remote_id` (`user@UUID`).
pub fn identity_of(remote_id: &str) -> String {
    match remote_id.rsplit_once('@') {
        Some((user, uuid)) => revprops::git_identity(user, uuid),
        None => remote_id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_as_even_as_can_be() {
        assert_eq!(even_runs(30_001, 5_000), 4_286);
        assert_eq!(even_runs(5_000, 5_000), 5_000);
        assert_eq!(even_runs(5_001, 5_000), 2_501);
        assert_eq!(even_runs(3, 5_000), 3);
        assert_eq!(even_runs(0, 5_000), 1);
        assert_eq!(even_runs(7, 0), 1);
    }

    #[test]
    fn remote_ids_give_back_the_identity() {
        assert_eq!(identity_of("alice@U"), "alice <alice@U>");
    }
}
