//! The importing stage for TFVC: the collection and project from the URL, the import's
//! `tfvc_project` or detection (several projects are offered as choices), then the
//! project's changesets, branches and labels converted into the raw refs.

use srcimport_converters::tfvc::client::{Client, ClientOptions};
use srcimport_converters::tfvc::convert::ConvertSummary;
use srcimport_converters::tfvc::probe;
use srcimport_converters::tfvc::reader::Reader;
use srcimport_converters::{ProjectChoice, SourceError, Vcs};

use super::progress::StoreProgress;
use super::{PipelineError, Run, Transferred};
use crate::git;
use crate::git::large_files::LargeBlob;
use crate::store::{ImportRecord, Status, StoreError};

impl Run<'_> {
    pub(super) fn transfer_tfvc(
        &self,
        import: &ImportRecord,
        progress: &StoreProgress<'_>,
    ) -> Result<Transferred, PipelineError> {
        let credentials = import.credentials.as_ref();
        let policy = &self.env.url_policy;
        let located = probe::locate(&import.vcs_url, credentials, policy, &self.cancel)?
            .ok_or_else(|| SourceError::NotFound {
                url: import.vcs_url.clone(),
                reason: "no TFS / Azure DevOps collection answered at this URL".into(),
            })?;
        let wanted = import.tfvc_project.clone().or(located.project.clone());
        let project = match wanted {
            Some(wanted) => located
                .projects
                .iter()
                .find(|p| p.eq_ignore_ascii_case(&wanted))
                .cloned()
                .ok_or_else(|| SourceError::NotFound {
                    url: import.vcs_url.clone(),
                    reason: format!("the collection has no project {wanted:?}"),
                })?,
            None => {
                let mut found = probe::tfvc_projects(&located, credentials, policy, &self.cancel)?;
                match found.len() {
                    0 => {
                        return Err(SourceError::NotFound {
                            url: import.vcs_url.clone(),
                            reason: "the collection has no TFVC project".into(),
                        }
                        .into())
                    }
                    1 => found.remove(0),
                    _ => {
                        let choices = found
                            .into_iter()
                            .map(|name| ProjectChoice {
                                vcs: Vcs::Tfvc,
                                tfvc_project: Some(name.clone()),
                                human_name: name,
                            })
                            .collect();
                        self.env
                            .store
                            .offer_choices(self.repo_id, import.generation, choices)?;
                        return Err(StoreError::Conflict {
                            actual: Status::DetectionFoundMultiple.as_str(),
                            wanted: "a project choice".into(),
                        }
                        .into());
                    }
                }
            }
        };
        let settings = &self.env.tfvc;
        let options = ClientOptions {
            page_size: settings.page_size,
            ..ClientOptions::default()
        };
        let client = Client::new(
            &located.collection,
            credentials,
            policy,
            options,
            &self.cancel,
        )?;
        let reader = Reader::new(client, &project, settings.download_jobs);
        let branches = reader.branches()?;
        let labels = reader.labels()?;
        let (summary, large) = git::fast_import::import_tfvc(
            &self.repo_path,
            &reader,
            &settings.main_branch,
            u64::try_from(import.large_file_threshold).unwrap_or(u64::MAX),
            &branches,
            &labels,
            &self.cancel,
            |done, total| {
                progress.fraction(done, total.max(1));
                // Changesets converted so far, as the commit count until the real one is
                // known (written now and then: each write is a store transaction).
                if done % 64 == 0 {
                    progress.commits(done);
                }
            },
        )?;
        Ok(transferred(summary, large))
    }
}

/// What the TFVC conversion gives the rest of the pipeline.
fn transferred(summary: ConvertSummary, large: Vec<LargeBlob>) -> Transferred {
    super::converted(summary.report, summary.users, summary.commits, large)
}
