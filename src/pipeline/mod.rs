//! The import pipeline: detecting → importing → mapping → pushing → complete.
//!
//! Runs on a worker thread. Every stage is idempotent, so a run killed anywhere (DELETE,
//! restart, a crashed server) is resumed by running the current stage again.

mod mirror;
mod progress;
pub(crate) mod subversion;
mod tfvc;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use srcimport_converters::svn::convert::ConvertError;
use srcimport_converters::url_policy::UrlPolicy;
use srcimport_converters::{
    detect, git as git_source, hg, Cancel, Credentials, Detection, SourceError, Vcs,
};

use crate::authors_file;
use crate::git::lfs::LfsStore;
use crate::git::tree_rewrite::LargeFiles;
use crate::git::{self, ident, large_files, publish, rewrite, GitError};
use crate::store::{
    Failure, ImportRecord, JobStore, LargeFileRecord, LfsChoice, ProgressUpdate, PushTarget,
    ReportEntry, SeenAuthor, Stage, Status, StoreError, SyncMode,
};

pub use mirror::DEFAULT_PUSH_SIZE_LIMIT;
use progress::StoreProgress;

/// Subversion revisions one `git fast-import` run converts before the next run resumes from
/// its checkpoint. fast-import keeps every object it wrote in memory (about 70 bytes each,
/// some eight per revision): bounded runs bound it, for a fast-import start (about 0.1 s)
/// each (BENCHMARKS.md).
pub const DEFAULT_SVN_REVISIONS_PER_RUN: u64 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Mercurial: {0}")]
    Mercurial(hg::export::ExportError),
    #[error("Subversion: {0}")]
    Subversion(ConvertError),
    /// A sync found the source rewrote history that is already published.
    #[error("the source rewrote {0}; nothing was published; sync with force: true to replace it")]
    Rewritten(String),
    /// The push to the import's mirror failed (`url` is redacted).
    #[error("push mirror {url}: {source}")]
    Mirror { url: String, source: SourceError },
    #[error("TFVC: {0}")]
    Tfvc(srcimport_converters::tfvc::TfvcError),
}

impl From<srcimport_converters::tfvc::TfvcError> for PipelineError {
    fn from(error: srcimport_converters::tfvc::TfvcError) -> Self {
        match error {
            srcimport_converters::tfvc::TfvcError::Source(source) => PipelineError::Source(source),
            other => PipelineError::Tfvc(other),
        }
    }
}

impl From<ConvertError> for PipelineError {
    fn from(error: ConvertError) -> Self {
        match error {
            ConvertError::Source(source) => PipelineError::Source(source),
            other => PipelineError::Subversion(other),
        }
    }
}

impl From<hg::export::ExportError> for PipelineError {
    fn from(error: hg::export::ExportError) -> Self {
        match error {
            // Cancellation and source failures keep their meaning (auth, not found).
            hg::export::ExportError::Source(source) => PipelineError::Source(source),
            other => PipelineError::Mercurial(other),
        }
    }
}

/// What a converter already knows of the history it wrote, so nothing has to scan for it.
struct Known {
    commits: u64,
    /// Each Git identity with the number of commits and tags carrying it (as
    /// [`rewrite::scan_identities`] counts them; 0 where the converter does not count).
    identities: BTreeMap<String, u64>,
    large: Vec<large_files::LargeBlob>,
}

/// What a transfer brought besides the history itself.
struct Transferred {
    report: Vec<ReportEntry>,
    /// Git identity → the source's `remote_id` and `remote_name`, where they differ from
    /// the identity (Mercurial, Subversion).
    source_users: BTreeMap<String, (String, String)>,
    /// Set when the converter already counted commits, identities and large blobs.
    known: Option<Known>,
}

/// Everything a run needs besides the import itself.
pub struct Environment {
    pub store: Arc<dyn JobStore>,
    /// `{data}/repos`, holding `owner/repo.git`.
    pub repos_root: PathBuf,
    pub url_policy: UrlPolicy,
    /// The Git branch name of Mercurial's `default` branch.
    pub hg_default_branch: String,
    /// The Git branch name of Subversion's trunk.
    pub svn_trunk_branch: String,
    /// Subversion revisions converted by one `git fast-import` run (see
    /// [`DEFAULT_SVN_REVISIONS_PER_RUN`]).
    pub svn_revisions_per_run: u64,
    /// TFVC reading settings.
    pub tfvc: TfvcSettings,
    /// Test hook: park (cancellably) on entering this stage. Used by the crash-resume test.
    pub hold_stage: Option<Stage>,
    /// The server-wide push mirror, for imports that name none of their own.
    pub push_mirror: Option<MirrorTemplate>,
    /// The most one push to a mirror may carry (bytes); more goes in steps.
    pub push_size_limit: u64,
}

/// A server-wide push mirror: a URL template with `{owner}` and `{repo}`, and credentials.
#[derive(Clone, Debug)]
pub struct MirrorTemplate {
    pub url: String,
    pub credentials: Option<Credentials>,
}

impl MirrorTemplate {
    pub fn target(&self, owner: &str, repo: &str) -> PushTarget {
        PushTarget {
            url: self.url.replace("{owner}", owner).replace("{repo}", repo),
            credentials: self.credentials.clone(),
        }
    }
}

/// How TFVC sources are read.
#[derive(Debug, Clone)]
pub struct TfvcSettings {
    /// The Git name of the root branch.
    pub main_branch: String,
    /// Requests (mostly item downloads) in flight at once.
    pub download_jobs: usize,
    /// `$top` of paged requests.
    pub page_size: usize,
}

impl Default for TfvcSettings {
    fn default() -> Self {
        TfvcSettings {
            main_branch: "main".into(),
            download_jobs: 8,
            page_size: 200,
        }
    }
}

/// One run of one import, at one generation.
pub struct Run<'a> {
    pub env: &'a Environment,
    pub repo_id: i64,
    pub repo_path: PathBuf,
    pub cancel: Cancel,
    /// Stop (successfully) on reaching this stage, leaving the import there: the CLI's
    /// dry run reads the source without mapping or publishing anything.
    pub stop_before: Option<Stage>,
}

impl Run<'_> {
    /// Runs stages until the import completes, fails, or is cancelled or superseded.
    pub fn execute(&self) -> Result<(), PipelineError> {
        loop {
            let Some(import) = self.env.store.import(self.repo_id)? else {
                return Ok(());
            };
            let Some(stage) = import.status.stage() else {
                return Ok(());
            };
            if self.stop_before == Some(stage) {
                return Ok(());
            }
            if self.hold_if_asked(stage).is_err() {
                // Cancelled while held: like any cancelled stage, not a failure.
                return Ok(());
            }
            git::clear_stale_locks(&self.repo_path);
            let started = std::time::Instant::now();
            match self.run_stage(stage, &import) {
                Ok(next) => {
                    tracing::info!(
                        repo_id = self.repo_id,
                        stage = stage.as_str(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "stage finished"
                    );
                    self.env
                        .store
                        .advance(self.repo_id, import.generation, next)?;
                }
                Err(PipelineError::Source(SourceError::Cancelled)) => return Ok(()),
                Err(PipelineError::Git(GitError::Source(SourceError::Cancelled))) => return Ok(()),
                Err(PipelineError::Store(StoreError::Conflict { .. })) => return Ok(()),
                Err(error) => {
                    let failure = failure_for(stage, &error, &import);
                    tracing::warn!(repo_id = self.repo_id, stage = stage.as_str(), %error, "import step failed");
                    return match self
                        .env
                        .store
                        .fail(self.repo_id, import.generation, failure)
                    {
                        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
                        Err(other) => Err(other.into()),
                    };
                }
            }
        }
    }

    fn hold_if_asked(&self, stage: Stage) -> Result<(), PipelineError> {
        if self.env.hold_stage == Some(stage) {
            tracing::info!(
                stage = stage.as_str(),
                "holding as asked by SRCIMPORT_TEST_HOLD_STAGE"
            );
            while !self.cancel.is_cancelled() {
                std::thread::park_timeout(std::time::Duration::from_millis(50));
            }
            return Err(SourceError::Cancelled.into());
        }
        Ok(())
    }

    /// Runs one stage and says which status follows it.
    fn run_stage(&self, stage: Stage, import: &ImportRecord) -> Result<Status, PipelineError> {
        match stage {
            Stage::Detecting => self.detect(import),
            Stage::Importing => self.import(import),
            Stage::Mapping => self.map(import),
            Stage::Pushing => self.push(import),
        }
    }

    fn detect(&self, import: &ImportRecord) -> Result<Status, PipelineError> {
        let found = detect::detect(
            &import.vcs_url,
            import.credentials.as_ref(),
            &self.env.url_policy,
            &self.cancel,
        )?;
        match found {
            Detection::Found(vcs) => {
                self.env
                    .store
                    .set_detected_vcs(self.repo_id, import.generation, vcs)?;
                Ok(Status::Importing)
            }
            // A TFVC project chosen up front (PUT or --project) needs no second round.
            Detection::Multiple(choices)
                if import.tfvc_project.as_deref().is_some_and(|wanted| {
                    choices.iter().any(|c| {
                        c.vcs == Vcs::Tfvc
                            && c.tfvc_project
                                .as_deref()
                                .is_some_and(|p| p.eq_ignore_ascii_case(wanted))
                    })
                }) =>
            {
                self.env
                    .store
                    .set_detected_vcs(self.repo_id, import.generation, Vcs::Tfvc)?;
                Ok(Status::Importing)
            }
            Detection::Multiple(choices) => {
                self.env
                    .store
                    .offer_choices(self.repo_id, import.generation, choices)?;
                Err(StoreError::Conflict {
                    actual: Status::DetectionFoundMultiple.as_str(),
                    wanted: "a project choice".into(),
                }
                .into())
            }
        }
    }

    fn import(&self, import: &ImportRecord) -> Result<Status, PipelineError> {
        let vcs = import.vcs.unwrap_or(Vcs::Git);
        git::init_hosted(&self.repo_path)?;
        let store = self.env.store.as_ref();
        let progress = StoreProgress::new(store, self.repo_id, import.generation);
        // The source's default branch is asked for while the history transfers.
        let (default_branch, fetched) = std::thread::scope(|scope| {
            let head = scope.spawn(|| {
                if vcs != Vcs::Git {
                    return Ok(None);
                }
                git_source::probe(
                    &import.vcs_url,
                    import.credentials.as_ref(),
                    &self.env.url_policy,
                    &self.cancel,
                )
            });
            let fetched = if vcs == Vcs::Mercurial {
                self.transfer_mercurial(import, &progress)
            } else if vcs == Vcs::Subversion {
                self.transfer_subversion(import, &progress)
            } else if vcs == Vcs::Tfvc {
                self.transfer_tfvc(import, &progress)
            } else {
                self.transfer(import, &progress).map(|report| Transferred {
                    report,
                    source_users: BTreeMap::new(),
                    known: None,
                })
            };
            (head.join().unwrap_or(Ok(None)), fetched)
        });
        let transferred = fetched?;
        store.replace_report(self.repo_id, import.generation, &transferred.report)?;
        if let Some(branch) = default_branch? {
            store.set_default_branch(self.repo_id, &branch)?;
        }
        let commits = self.survey(
            import,
            &progress,
            &transferred.source_users,
            transferred.known,
        )?;
        store.record_progress(
            self.repo_id,
            import.generation,
            ProgressUpdate {
                commit_count: Some(i64::try_from(commits).unwrap_or(i64::MAX)),
                import_percent: Some(100),
                push_percent: None,
            },
        )?;
        // The source has been read in full: its credentials are no longer needed.
        store.set_credentials(self.repo_id, None)?;
        Ok(Status::Mapping)
    }

    /// Brings the source's branches and tags into the raw namespace: a clone the first time,
    /// a fetch (only what is new) after that.
    fn transfer(
        &self,
        import: &ImportRecord,
        progress: &StoreProgress<'_>,
    ) -> Result<Vec<ReportEntry>, PipelineError> {
        let has_raw_refs = !git::run_git(
            &self.repo_path,
            &["for-each-ref", "--count=1", git_source::RAW_NAMESPACE],
            None,
            &self.cancel,
        )?
        .is_empty();
        let credentials = import.credentials.as_ref();
        let policy = &self.env.url_policy;
        if has_raw_refs {
            git_source::fetch(
                &import.vcs_url,
                &self.repo_path,
                credentials,
                policy,
                progress,
                &self.cancel,
            )?;
        } else {
            let staging = self.repo_path.join(git::STAGING_DIR);
            git_source::clone_into(
                &import.vcs_url,
                &self.repo_path,
                &staging,
                credentials,
                policy,
                progress,
                &self.cancel,
            )?;
        }
        // A source that already uses Git LFS keeps its objects: they come along too.
        let mut report = Vec::new();
        if git_source::uses_lfs(&self.repo_path, &self.cancel)? {
            let problems = git_source::fetch_lfs_objects(
                &import.vcs_url,
                &self.repo_path,
                credentials,
                policy,
                &self.cancel,
            )?;
            report.extend(problems.into_iter().map(|detail| ReportEntry {
                kind: "lfs_objects_missing".into(),
                revision: None,
                path: None,
                detail,
            }));
        }
        Ok(report)
    }

    /// Brings a Mercurial source into the raw namespace: `hg clone`/`hg pull` into a cache
    /// beside the hosted repository, then our revlog reader streams every changeset into
    /// `git fast-import`.
    fn transfer_mercurial(
        &self,
        import: &ImportRecord,
        progress: &StoreProgress<'_>,
    ) -> Result<Transferred, PipelineError> {
        // A local repository (where the policy allows local paths) is read in place: the
        // reader only reads, and revlogs are append-only. Anything else is cloned first.
        let local = import
            .vcs_url
            .strip_prefix("file://")
            .unwrap_or(&import.vcs_url);
        let in_place = self.env.url_policy.check_shape(&import.vcs_url)?.is_none()
            && std::path::Path::new(local).join(".hg").is_dir();
        let source = if in_place {
            std::path::PathBuf::from(local)
        } else {
            let cache = self.repo_path.join(git::HG_CACHE_DIR);
            hg::transport::sync(
                &import.vcs_url,
                &cache,
                import.credentials.as_ref(),
                &self.env.url_policy,
                &self.cancel,
            )?;
            cache
        };
        let repo = hg::Repository::open(&source).map_err(hg::export::ExportError::from)?;
        let default_branch = &self.env.hg_default_branch;
        let summary = git::fast_import::import_mercurial(
            &self.repo_path,
            &repo,
            default_branch,
            large_file_threshold(import.large_file_threshold),
            &self.cancel,
            |n| {
                progress.commits(n);
            },
        )?;
        // The export saw every file: only its large blobs (usually none) are looked up.
        let large = large_files::locate(
            &self.repo_path,
            summary.large_blobs.into_iter().collect(),
            &self.cancel,
        )?;
        let mut report: Vec<ReportEntry> = summary
            .renames
            .into_iter()
            .map(|(what, from, to)| ReportEntry {
                kind: format!("{what}_renamed"),
                revision: None,
                path: None,
                detail: format!("Mercurial {what} {from:?} is {to:?} in Git"),
            })
            .collect();
        report.extend(summary.notices.into_iter().map(|detail| ReportEntry {
            kind: "not_converted".into(),
            revision: None,
            path: None,
            detail,
        }));
        Ok(Transferred {
            report,
            source_users: summary
                .users
                .into_iter()
                .map(|(identity, user)| {
                    let name = ident::name_and_email(&user).0;
                    (identity, (user, name))
                })
                .collect(),
            known: Some(Known {
                commits: summary.changesets,
                identities: summary.identities,
                large,
            }),
        })
    }

    /// Records the raw history's authors and large files (scanned side by side) and applies
    /// any uploaded authors file; returns the number of commits.
    fn survey(
        &self,
        import: &ImportRecord,
        progress: &StoreProgress<'_>,
        source_users: &BTreeMap<String, (String, String)>,
        known: Option<Known>,
    ) -> Result<u64, PipelineError> {
        let store = self.env.store.as_ref();
        let (scan, large) = match known {
            Some(known) => (
                rewrite::IdentityScan {
                    identities: known.identities,
                    commits: known.commits,
                },
                known.large,
            ),
            None => self.scan(large_file_threshold(import.large_file_threshold), progress)?,
        };
        let seen: Vec<SeenAuthor> = scan
            .identities
            .keys()
            .map(|identity| {
                let (name, email) = ident::name_and_email(identity);
                // The source's own user string where it differs from the Git identity.
                let (remote_id, remote_name) = match source_users.get(identity) {
                    Some((id, name)) => (id.clone(), name.clone()),
                    None => (identity.clone(), name.clone()),
                };
                SeenAuthor {
                    remote_id,
                    remote_name,
                    name,
                    email,
                }
            })
            .collect();
        store.merge_authors(self.repo_id, import.generation, &seen)?;
        authors_file::apply_stored(store, self.repo_id)?;
        let large: Vec<LargeFileRecord> = large
            .into_iter()
            .map(|blob| LargeFileRecord {
                ref_name: blob.ref_name,
                path: blob.path,
                oid: blob.oid,
                size: i64::try_from(blob.size).unwrap_or(i64::MAX),
            })
            .collect();
        store.replace_large_files(self.repo_id, import.generation, &large)?;
        Ok(scan.commits)
    }

    /// Scans the raw history for identities and large blobs, side by side.
    fn scan(
        &self,
        threshold: u64,
        progress: &StoreProgress<'_>,
    ) -> Result<(rewrite::IdentityScan, Vec<large_files::LargeBlob>), PipelineError> {
        let (scan, large) = std::thread::scope(|scope| {
            let large = scope.spawn(|| large_files::find(&self.repo_path, threshold, &self.cancel));
            let scan = rewrite::scan_identities(&self.repo_path, &self.cancel, |commits| {
                progress.commits(commits);
            });
            let large = large.join().unwrap_or_else(|_| {
                Err(SourceError::Command {
                    command: "large file scan".into(),
                    detail: "panicked".into(),
                }
                .into())
            });
            (scan, large)
        });
        Ok((scan?, large?))
    }

    fn map(&self, import: &ImportRecord) -> Result<Status, PipelineError> {
        let mut map = rewrite::AuthorMap::default();
        for author in self.env.store.authors(self.repo_id, 0)? {
            // Only authors someone changed are mapped: the source's own bytes stay as they are.
            let written = written_identity(import.vcs, &author.remote_id);
            let (name, email) = ident::name_and_email(&written);
            if (author.name.as_str(), author.email.as_str()) != (name.as_str(), email.as_str()) {
                map.insert(
                    &written,
                    ident::format_identity(&author.name, &author.email),
                );
            }
        }
        let blobs: HashSet<String> = self
            .env
            .store
            .large_files(self.repo_id)?
            .into_iter()
            .map(|f| f.oid)
            .collect();
        let lfs_store = LfsStore::for_repo(&self.repo_path);
        let large = match (blobs.is_empty(), import.use_lfs) {
            (true, _) => LargeFiles::Keep,
            (false, LfsChoice::OptIn) => LargeFiles::Lfs {
                blobs,
                store: &lfs_store,
            },
            (false, LfsChoice::OptOut | LfsChoice::Undecided) => LargeFiles::Drop(blobs),
        };
        rewrite::rewrite(&self.repo_path, &map, &large, &self.cancel, |_| {})?;
        self.env.store.record_progress(
            self.repo_id,
            import.generation,
            ProgressUpdate {
                push_percent: Some(0),
                ..ProgressUpdate::default()
            },
        )?;
        Ok(Status::Pushing)
    }

    fn push(&self, import: &ImportRecord) -> Result<Status, PipelineError> {
        let store = self.env.store.as_ref();
        let preferred = store
            .find_repo_by_id(self.repo_id)?
            .map(|repo| repo.default_branch);
        if import.sync == Some(SyncMode::FastForward) {
            if let Some(name) = publish::first_rewritten_ref(&self.repo_path, &self.cancel)? {
                return Err(PipelineError::Rewritten(name));
            }
        }
        let default = publish::publish(&self.repo_path, preferred.as_deref(), &self.cancel)?;
        if let Some(branch) = &default {
            store.set_default_branch(self.repo_id, branch)?;
        }
        // Housekeeping: a failure to index the packs leaves them as they are.
        match git::maintenance::index_packs(&self.repo_path, &self.cancel) {
            Ok(true) => tracing::info!(repo_id = self.repo_id, "packs indexed"),
            Ok(false) => {}
            Err(GitError::Source(SourceError::Cancelled)) => {
                return Err(SourceError::Cancelled.into())
            }
            Err(error) => {
                tracing::warn!(repo_id = self.repo_id, %error, "indexing packs failed")
            }
        }
        if let Some(target) = self.mirror_target(import)? {
            self.mirror(import, &target, default.as_deref())?;
        }
        store.record_progress(
            self.repo_id,
            import.generation,
            ProgressUpdate {
                push_percent: Some(100),
                ..ProgressUpdate::default()
            },
        )?;
        Ok(Status::Complete)
    }
}

impl Run<'_> {
    /// The import's own push mirror, else the server's, if any.
    fn mirror_target(&self, import: &ImportRecord) -> Result<Option<PushTarget>, PipelineError> {
        if let Some(push) = &import.push {
            return Ok(Some(push.clone()));
        }
        let Some(template) = &self.env.push_mirror else {
            return Ok(None);
        };
        Ok(self
            .env
            .store
            .find_repo_by_id(self.repo_id)?
            .map(|repo| template.target(&repo.owner, &repo.name)))
    }

    /// Pushes the published history to the mirror (see [`mirror`]).
    fn mirror(
        &self,
        import: &ImportRecord,
        target: &PushTarget,
        default_branch: Option<&str>,
    ) -> Result<(), PipelineError> {
        let progress = StoreProgress::new(self.env.store.as_ref(), self.repo_id, import.generation);
        mirror::Mirror {
            git_dir: &self.repo_path,
            target,
            policy: &self.env.url_policy,
            limit: self.env.push_size_limit,
            default_branch,
            progress: &progress,
            cancel: &self.cancel,
        }
        .run()
    }
}

/// What a converter that reports its authors and large blobs (Subversion, TFVC) gives the
/// rest of the pipeline: the report, the authors (Git identity → `remote_id` and
/// `remote_name`), and what the survey then need not scan for.
fn converted(
    report: Vec<srcimport_converters::fast_export::ReportItem>,
    source_users: BTreeMap<String, (String, String)>,
    commits: u64,
    large: Vec<crate::git::large_files::LargeBlob>,
) -> Transferred {
    Transferred {
        report: report_entries(report),
        known: Some(Known {
            commits,
            // These converters do not count commits per identity.
            identities: source_users.keys().map(|i| (i.clone(), 0)).collect(),
            large,
        }),
        source_users,
    }
}

/// A converter's report, as the store keeps it.
pub(crate) fn report_entries(
    items: Vec<srcimport_converters::fast_export::ReportItem>,
) -> Vec<ReportEntry> {
    items
        .into_iter()
        .map(|item| ReportEntry {
            kind: item.kind,
            revision: item.revision.map(|r| r.to_string()),
            path: item.path,
            detail: item.detail,
        })
        .collect()
}

/// The identity a source's converter wrote into Git for the author `remote_id`.
pub fn written_identity(vcs: Option<Vcs>, remote_id: &str) -> String {
    match vcs {
        Some(Vcs::Mercurial) => hg::export::git_identity(remote_id.as_bytes()),
        Some(Vcs::Subversion) => subversion::identity_of(remote_id),
        Some(Vcs::Tfvc) => srcimport_converters::tfvc::identity::git_identity(remote_id),
        _ => remote_id.to_owned(),
    }
}

/// Files larger than this many bytes are large files, for a threshold as an import stores
/// it (`lfs_threshold`).
pub(crate) fn large_file_threshold(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(u64::MAX)
}

/// Which failure status and message an error gives, by stage.
fn failure_for(stage: Stage, error: &PipelineError, import: &ImportRecord) -> Failure {
    if let PipelineError::Mirror { url, source } = error {
        let auth = source.is_auth();
        return Failure {
            status: if auth {
                Status::AuthFailed
            } else {
                Status::Error
            },
            step: stage,
            message: if auth {
                format!(
                    "push mirror {url}: authentication failed; PATCH the import with \
                     push_username and push_password"
                )
            } else {
                error.to_string()
            },
        };
    }
    let auth = matches!(error, PipelineError::Source(e) if e.is_auth());
    let not_found = matches!(error, PipelineError::Source(SourceError::NotFound { .. }));
    let status = match (stage, auth, not_found) {
        (Stage::Detecting, true, _) => Status::DetectionNeedsAuth,
        (Stage::Detecting, _, true) => Status::DetectionFoundNothing,
        (_, true, _) => Status::AuthFailed,
        _ => Status::Error,
    };
    let message = if auth {
        format!(
            "{}: authentication failed; PATCH the import with vcs_username and vcs_password",
            import.vcs_url
        )
    } else {
        error.to_string()
    };
    Failure {
        status,
        step: stage,
        message,
    }
}
