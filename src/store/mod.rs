//! Durable job state behind the [`JobStore`] trait; SQLite is the embedded default.
//!
//! Invariant: an import's status changes only through the methods below, each of which
//! checks the prior state (and the caller's generation) inside one transaction.

pub mod records;
pub mod sqlite;

use srcimport_converters::{Credentials, ProjectChoice, Vcs};

pub use records::{
    AuthorRecord, DeliveryAttempt, DeliveryRecord, DeliveryState, HookEvent, HookRecord,
    HookSettings, ImportRecord, LargeFileRecord, LfsChoice, NewDelivery, NewImport, ProgressUpdate,
    PushTarget, RepoRecord, ReportEntry, SeenAuthor, Stage, Status, SvnOptions, SyncMode,
    SERVER_HOOK_ID,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("repository {owner}/{name} already exists")]
    RepoExists { owner: String, name: String },
    #[error("an import is already running for this repository")]
    ImportRunning,
    #[error("no import for this repository")]
    NoImport,
    #[error("no author {0} in this import")]
    NoAuthor(i64),
    /// A checked transition found the import elsewhere than the caller expected.
    #[error("import is {actual}, not in a state that allows this ({wanted})")]
    Conflict {
        actual: &'static str,
        wanted: String,
    },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// How an import run ended badly.
#[derive(Clone, Debug)]
pub struct Failure {
    pub status: Status,
    pub step: Stage,
    pub message: String,
}

/// Durable state for repositories, imports, authors and large files.
pub trait JobStore: Send + Sync {
    fn create_repo(&self, owner: &str, name: &str, private: bool)
        -> Result<RepoRecord, StoreError>;
    fn find_repo(&self, owner: &str, name: &str) -> Result<Option<RepoRecord>, StoreError>;
    fn find_repo_by_id(&self, repo_id: i64) -> Result<Option<RepoRecord>, StoreError>;
    fn set_default_branch(&self, repo_id: i64, branch: &str) -> Result<(), StoreError>;

    fn import(&self, repo_id: i64) -> Result<Option<ImportRecord>, StoreError>;
    /// Starts a new import; refuses while one is running, replaces a finished one.
    fn start_import(&self, repo_id: i64, new: NewImport) -> Result<ImportRecord, StoreError>;
    /// Imports a worker should be running (after a restart of the server, say).
    fn runnable_imports(&self) -> Result<Vec<ImportRecord>, StoreError>;
    fn delete_import(&self, repo_id: i64) -> Result<(), StoreError>;

    /// A worker's checked move to the next state; fails if the generation moved on.
    fn advance(
        &self,
        repo_id: i64,
        generation: i64,
        to: Status,
    ) -> Result<ImportRecord, StoreError>;
    /// A worker's checked move into a failure state.
    fn fail(
        &self,
        repo_id: i64,
        generation: i64,
        failure: Failure,
    ) -> Result<ImportRecord, StoreError>;
    /// Detection found several projects.
    fn offer_choices(
        &self,
        repo_id: i64,
        generation: i64,
        choices: Vec<ProjectChoice>,
    ) -> Result<ImportRecord, StoreError>;
    /// Records the VCS that detection found.
    fn set_detected_vcs(&self, repo_id: i64, generation: i64, vcs: Vcs) -> Result<(), StoreError>;
    fn record_progress(
        &self,
        repo_id: i64,
        generation: i64,
        update: ProgressUpdate,
    ) -> Result<(), StoreError>;

    /// Resumes a failed import at `stage` (its failed step, or detection after a choice),
    /// bumping the generation.
    fn resume(&self, repo_id: i64, stage: Stage) -> Result<ImportRecord, StoreError>;
    /// Starts the import over from scratch, whatever its state, bumping the generation.
    fn restart(&self, repo_id: i64) -> Result<ImportRecord, StoreError>;
    /// Re-runs mapping and pushing after an author or LFS change: from `complete`, or
    /// from `mapping`/`pushing` (superseding that run). Other states keep going and
    /// pick the change up when they reach mapping.
    fn remap(&self, repo_id: i64) -> Result<ImportRecord, StoreError>;
    /// Starts a sync: the importing stage again (new generation) with the published refs
    /// checked before they move (`mode`). From `complete`, or from a failure of an import
    /// that completed before (a refused sync, say).
    fn sync(&self, repo_id: i64, mode: SyncMode) -> Result<ImportRecord, StoreError>;
    /// Sets the `sync_interval` field as stored (see [`ImportRecord::sync_interval`]).
    fn set_sync_interval(&self, repo_id: i64, interval: Option<i64>) -> Result<(), StoreError>;
    /// Imports due a periodic sync at `now_ms`: complete ones whose sync interval (theirs,
    /// else `default_secs`) has passed since they last completed, and ones whose last sync
    /// failed, once the interval has passed since the failure (doubled for each further
    /// failure in a row, up to a bound).
    fn due_syncs(&self, now_ms: i64, default_secs: Option<i64>) -> Result<Vec<i64>, StoreError>;

    fn set_credentials(
        &self,
        repo_id: i64,
        credentials: Option<Credentials>,
    ) -> Result<(), StoreError>;
    fn set_project(
        &self,
        repo_id: i64,
        vcs: Option<Vcs>,
        tfvc_project: Option<String>,
    ) -> Result<(), StoreError>;
    fn set_lfs_choice(&self, repo_id: i64, choice: LfsChoice) -> Result<(), StoreError>;
    /// Replaces the Subversion layout fields (a project choice or explicit patterns).
    fn set_svn_options(&self, repo_id: i64, layout: &SvnOptions) -> Result<(), StoreError>;

    /// Adds authors not seen before (keyed by `remote_id`), keeps existing ids and mappings,
    /// and updates the import's `authors_count`.
    fn merge_authors(
        &self,
        repo_id: i64,
        generation: i64,
        seen: &[SeenAuthor],
    ) -> Result<(), StoreError>;
    /// The authors file uploaded for this import (applied after every identity scan).
    fn set_authors_file(&self, repo_id: i64, format: &str, text: &str) -> Result<(), StoreError>;
    /// `(format name, text)` of the uploaded authors file, if any.
    fn authors_file(&self, repo_id: i64) -> Result<Option<(String, String)>, StoreError>;
    /// Sets name and email of many authors in one transaction: `(id, name, email)`.
    fn map_authors(
        &self,
        repo_id: i64,
        mappings: &[(i64, String, String)],
    ) -> Result<(), StoreError>;
    fn authors(&self, repo_id: i64, since: i64) -> Result<Vec<AuthorRecord>, StoreError>;
    fn map_author(
        &self,
        repo_id: i64,
        author_id: i64,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<AuthorRecord, StoreError>;

    fn replace_large_files(
        &self,
        repo_id: i64,
        generation: i64,
        files: &[LargeFileRecord],
    ) -> Result<(), StoreError>;
    fn large_files(&self, repo_id: i64) -> Result<Vec<LargeFileRecord>, StoreError>;

    /// Replaces what the last import run found it could not represent or had to repair.
    fn replace_report(
        &self,
        repo_id: i64,
        generation: i64,
        entries: &[ReportEntry],
    ) -> Result<(), StoreError>;
    fn report(&self, repo_id: i64) -> Result<Vec<ReportEntry>, StoreError>;

    /// Sets or clears the import's push mirror (URL and credentials).
    fn set_push_target(&self, repo_id: i64, push: Option<&PushTarget>) -> Result<(), StoreError>;

    fn create_hook(&self, repo_id: i64, hook: &HookSettings) -> Result<HookRecord, StoreError>;
    fn hooks(&self, repo_id: i64) -> Result<Vec<HookRecord>, StoreError>;
    fn hook(&self, repo_id: i64, hook_id: i64) -> Result<Option<HookRecord>, StoreError>;
    /// Replaces a hook's settings; `None` if there is no such hook.
    fn update_hook(
        &self,
        repo_id: i64,
        hook_id: i64,
        hook: &HookSettings,
    ) -> Result<Option<HookRecord>, StoreError>;
    /// Deletes the hook and its deliveries; false if there was no such hook.
    fn delete_hook(&self, repo_id: i64, hook_id: i64) -> Result<bool, StoreError>;

    /// Import endings not yet turned into deliveries, oldest first. They are written by
    /// the status transitions themselves (`advance` to complete, `fail`, and
    /// `delete_import` of a running import), in the same transaction.
    fn hook_events(&self, limit: usize) -> Result<Vec<HookEvent>, StoreError>;
    /// Replaces one event by its deliveries, in one transaction.
    fn expand_hook_event(
        &self,
        event: &HookEvent,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError>;
    /// Queues deliveries that no import ending caused (a hook's `ping`, a redelivery).
    fn add_deliveries(&self, repo_id: i64, deliveries: &[NewDelivery]) -> Result<(), StoreError>;
    /// Pending deliveries whose next attempt is due at `now_ms`, oldest first.
    fn due_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// The earliest next attempt of any pending delivery.
    fn next_delivery_ms(&self) -> Result<Option<i64>, StoreError>;
    /// Records an attempt (and the hook's last response).
    fn record_attempt(&self, delivery_id: i64, attempt: &DeliveryAttempt)
        -> Result<(), StoreError>;
    /// A hook's deliveries, newest first.
    fn deliveries(&self, repo_id: i64, hook_id: i64) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// One of a hook's deliveries.
    fn delivery(
        &self,
        repo_id: i64,
        hook_id: i64,
        delivery_id: i64,
    ) -> Result<Option<DeliveryRecord>, StoreError>;
}
