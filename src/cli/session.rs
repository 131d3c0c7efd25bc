//! A private, temporary workspace (an in-memory SQLite store and a hosted repository) for one
//! command.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use srcimport_converters::url_policy::UrlPolicy;
use srcimport_converters::Cancel;

use super::progress::{Printer, Standing};
use super::CliError;
use crate::pipeline::{Environment, Run, TfvcSettings};
use crate::store::{
    sqlite::SqliteStore, ImportRecord, JobStore, NewImport, RepoRecord, Stage, Status,
};

/// The Git name of Subversion's trunk.
pub const TRUNK_BRANCH: &str = "main";

/// Removes its directory when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Session {
    pub env: Environment,
    pub repo: RepoRecord,
    pub repo_path: PathBuf,
    _dir: TempDir,
}

impl Session {
    pub fn new() -> Result<Session, CliError> {
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random).map_err(|e| CliError::Internal(e.to_string()))?;
        let dir =
            std::env::temp_dir().join(format!("srcimport-{}", crate::git::objects::hex(&random)));
        std::fs::create_dir_all(&dir)
            .map_err(|e| CliError::Internal(format!("{}: {e}", dir.display())))?;
        let dir = TempDir(dir);
        let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory()?);
        let repo = store.create_repo("cli", "conversion", true)?;
        let env = Environment {
            store,
            repos_root: dir.0.join("repos"),
            url_policy: Session::url_policy(vec![dir.0.clone()]),
            hg_default_branch: "main".to_owned(),
            svn_trunk_branch: TRUNK_BRANCH.to_owned(),
            svn_revisions_per_run: crate::pipeline::DEFAULT_SVN_REVISIONS_PER_RUN,
            push_mirror: None,
            push_size_limit: crate::pipeline::DEFAULT_PUSH_SIZE_LIMIT,
            tfvc: TfvcSettings::default(),
            hold_stage: None,
        };
        let repo_path = crate::jobs::repo_path(&env, &repo);
        crate::git::init_hosted(&repo_path)?;
        Ok(Session {
            env,
            repo,
            repo_path,
            _dir: dir,
        })
    }

    /// What a command may read: local paths (but not `forbidden`) and private networks
    /// are the user's own.
    pub fn url_policy(forbidden: Vec<PathBuf>) -> UrlPolicy {
        UrlPolicy {
            allow_local_paths: true,
            allow_private_networks: true,
            forbidden_local_roots: forbidden,
        }
    }

    pub fn store(&self) -> &dyn JobStore {
        self.env.store.as_ref()
    }

    pub fn start(&self, new: NewImport) -> Result<(), CliError> {
        self.store().start_import(self.repo.id, new)?;
        Ok(())
    }

    /// Runs the pipeline (up to `stop_before`, if given) with progress on stderr, and turns a
    /// failed import into the matching error.
    pub fn run(
        &self,
        stop_before: Option<Stage>,
        printer: &Printer,
    ) -> Result<ImportRecord, CliError> {
        let run = Run {
            env: &self.env,
            repo_id: self.repo.id,
            repo_path: self.repo_path.clone(),
            cancel: Cancel::new(),
            stop_before,
        };
        let standing = || {
            let import = self.store().import(self.repo.id).ok()??;
            let percent = match import.status.as_str() {
                "pushing" => import.push_percent,
                _ => import.import_percent,
            };
            Some(Standing {
                phase: import.status.as_str().to_owned(),
                percent: percent.unwrap_or(0),
                commits: import.commit_count.unwrap_or(0),
            })
        };
        let outcome = printer.while_running(standing, || run.execute());
        outcome.map_err(|e| CliError::Internal(e.to_string()))?;
        let import = self
            .store()
            .import(self.repo.id)?
            .ok_or_else(|| CliError::Internal("the import vanished".into()))?;
        let message = || {
            import.error_message.clone().unwrap_or_else(|| {
                let url = srcimport_converters::url_policy::redact(&import.vcs_url);
                format!("{url}: {}", import.status.status_text())
            })
        };
        match import.status {
            Status::AuthFailed | Status::DetectionNeedsAuth => {
                Err(CliError::auth_failed(&import.vcs_url))
            }
            Status::DetectionFoundMultiple => {
                let choices: Vec<String> = import
                    .project_choices
                    .iter()
                    .map(|c| c.human_name.clone())
                    .collect();
                Err(super::convert::several_projects(&import.vcs_url, &choices))
            }
            Status::Error | Status::DetectionFoundNothing => Err(CliError::Source(message())),
            _ => Ok(import),
        }
    }

    pub fn path(&self) -> &Path {
        &self.repo_path
    }
}
