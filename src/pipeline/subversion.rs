//! The importing stage for Subversion: a dump file (or, through libsvn, a repository URL)
//! converted into the raw refs, with the layout detected from the history itself.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use srcimport_converters::svn::convert::layout::Layout;
use srcimport_converters::svn::convert::{revprops, ConvertError, ConvertOptions};
use srcimport_converters::svn::ra::{self, RaSession};
use srcimport_converters::svn::{dump_events, layout_detect};
use srcimport_converters::{ProjectChoice, SourceError, Vcs};

use super::progress::StoreProgress;
use super::{PipelineError, Run, Transferred};
use crate::git;
use crate::store::{ImportRecord, ReportEntry, StoreError};

/// Whether a source URL names a dump file rather than a repository.
pub fn is_dump(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    [".dump", ".svndump", ".svn-dump"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The local path of a dump source (`file://` or a plain path).
fn local_dump(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("file://").unwrap_or(url))
}

impl Run<'_> {
    pub(super) fn transfer_subversion(
        &self,
        import: &ImportRecord,
        progress: &StoreProgress<'_>,
    ) -> Result<Transferred, PipelineError> {
        let url = import.vcs_url.as_str();
        let credentials = import.credentials.as_ref();
        let local = self.env.url_policy.check(url)?.is_none();
        // libsvn takes local repositories as file:// URLs.
        let ra_url = match local && !url.starts_with("file://") {
            true => format!("file://{url}"),
            false => url.to_owned(),
        };
        let (uuid, youngest, top_dirs, dump) = if is_dump(url) {
            if !local {
                return Err(PipelineError::Unsupported(Vcs::Subversion));
            }
            let dump = local_dump(url);
            let outline = dump_events::outline(BufReader::new(open(&dump)?))
                .map_err(|e| PipelineError::Subversion(e.into()))?;
            let uuid = outline.uuid.unwrap_or_else(|| "unknown-uuid".into());
            (uuid, outline.youngest, outline.top_dirs, Some(dump))
        } else {
            let session = RaSession::open(&ra_url, credentials, &self.cancel)?;
            let youngest = session.latest_revision()?;
            let top_dirs = layout_detect::top_dirs(&session, youngest)?;
            (session.uuid(), youngest, top_dirs, None)
        };
        let Some(layout) = self.svn_options(import, &top_dirs)? else {
            return Err(StoreError::Conflict {
                actual: "detection_found_multiple",
                wanted: "a project choice".into(),
            }
            .into());
        };
        let options = self.svn_convert_options(layout, uuid.clone(), import);
        let summary = git::fast_import::import_subversion(
            &self.repo_path,
            options,
            &self.cancel,
            |revision| progress.fraction(revision, youngest.max(1)),
            |converter| match &dump {
                Some(dump) => dump_events::replay(BufReader::new(open(dump)?), converter),
                None => {
                    ra::read_history(&ra_url, credentials, 0, youngest, converter, &self.cancel)
                        .map_err(|error| match error {
                            ra::HistoryError::Source(source) => ConvertError::Source(source),
                            ra::HistoryError::Sink(error) => error,
                        })
                }
            },
        )?;
        Ok(transferred(summary, &uuid))
    }

    /// The layout: explicit fields first, then detection. `None` when the repository holds
    /// several projects and none was chosen (the choices are then offered).
    fn svn_options(
        &self,
        import: &ImportRecord,
        top_dirs: &std::collections::BTreeSet<String>,
    ) -> Result<Option<Layout>, PipelineError> {
        let fields = &import.svn_options;
        let detected = match &fields.project {
            Some(project) => layout_detect::Detected::One(Layout::standard(project)),
            None => layout_detect::from_top_dirs(top_dirs),
        };
        let mut layout = match detected {
            layout_detect::Detected::One(layout) => layout,
            layout_detect::Detected::Projects(_) if fields.has_patterns() => Layout::standard(""),
            layout_detect::Detected::Projects(projects) => {
                let choices = projects
                    .iter()
                    .map(|name| ProjectChoice {
                        vcs: Vcs::Subversion,
                        tfvc_project: None,
                        human_name: format!("{name} (/{name})"),
                    })
                    .collect();
                self.env
                    .store
                    .offer_choices(self.repo_id, import.generation, choices)?;
                return Ok(None);
            }
        };
        if fields.has_patterns() {
            let standard = Layout::standard(&layout.project);
            layout.trunk = fields.trunk.clone().or(standard.trunk);
            layout.branches = fields.branches.clone().unwrap_or(standard.branches);
            layout.tags = fields.tags.clone().unwrap_or(standard.tags);
        }
        Ok(Some(layout))
    }

    fn svn_convert_options(
        &self,
        layout: Layout,
        uuid: String,
        import: &ImportRecord,
    ) -> ConvertOptions {
        let (ref_prefix, work_ref_prefix, notes_ref) = git::fast_import::subversion_refs();
        ConvertOptions {
            layout,
            uuid,
            trunk_branch: self.env.svn_trunk_branch.clone(),
            ref_prefix,
            work_ref_prefix,
            notes_ref,
            empty_dirs: import.svn_options.empty_dirs.unwrap_or(true),
        }
    }
}

fn open(path: &Path) -> Result<std::fs::File, ConvertError> {
    std::fs::File::open(path).map_err(|e| {
        ConvertError::Source(SourceError::NotFound {
            url: path.display().to_string(),
            reason: e.to_string(),
        })
    })
}

/// The report and author names a conversion gives the rest of the pipeline.
fn transferred(
    summary: srcimport_converters::svn::convert::ConvertSummary,
    uuid: &str,
) -> Transferred {
    let report = summary
        .report
        .into_iter()
        .map(|item| ReportEntry {
            kind: item.kind,
            revision: item.revision.map(|r| r.to_string()),
            path: item.path,
            detail: item.detail,
        })
        .collect();
    let source_users: BTreeMap<String, (String, String)> = summary
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
    Transferred {
        report,
        source_users,
    }
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
    fn dump_urls_are_recognised() {
        assert!(is_dump("/tmp/x.dump"));
        assert!(is_dump("https://example.com/repo.svndump?x=1"));
        assert!(!is_dump("svn://example.com/repo"));
        assert_eq!(identity_of("alice@U"), "alice <alice@U>");
    }
}
