//! Persisted records and the import state machine. Separate from the wire types in `api/`.

use srcimport_converters::{Credentials, ProjectChoice, Vcs};

/// Where an import stands. The names are the API's `status` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Detecting,
    Importing,
    Mapping,
    Pushing,
    Complete,
    AuthFailed,
    Error,
    DetectionNeedsAuth,
    DetectionFoundNothing,
    DetectionFoundMultiple,
}

impl Status {
    const ALL: [Status; 10] = [
        Status::Detecting,
        Status::Importing,
        Status::Mapping,
        Status::Pushing,
        Status::Complete,
        Status::AuthFailed,
        Status::Error,
        Status::DetectionNeedsAuth,
        Status::DetectionFoundNothing,
        Status::DetectionFoundMultiple,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Detecting => "detecting",
            Status::Importing => "importing",
            Status::Mapping => "mapping",
            Status::Pushing => "pushing",
            Status::Complete => "complete",
            Status::AuthFailed => "auth_failed",
            Status::Error => "error",
            Status::DetectionNeedsAuth => "detection_needs_auth",
            Status::DetectionFoundNothing => "detection_found_nothing",
            Status::DetectionFoundMultiple => "detection_found_multiple",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The stage a worker runs in this status, if any.
    pub fn stage(self) -> Option<Stage> {
        match self {
            Status::Detecting => Some(Stage::Detecting),
            Status::Importing => Some(Stage::Importing),
            Status::Mapping => Some(Stage::Mapping),
            Status::Pushing => Some(Stage::Pushing),
            _ => None,
        }
    }

    /// Statuses in which a worker owns the import.
    pub fn is_running(self) -> bool {
        self.stage().is_some()
    }

    /// Statuses that wait for the user (credentials, a project choice, a restart).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::AuthFailed
                | Status::Error
                | Status::DetectionNeedsAuth
                | Status::DetectionFoundNothing
                | Status::DetectionFoundMultiple
        )
    }

    /// The state machine: may a worker move an import from `self` to `next` within one run?
    pub fn may_advance_to(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (
                Detecting,
                Importing | DetectionNeedsAuth | DetectionFoundNothing
            ) | (Detecting, DetectionFoundMultiple | AuthFailed | Error)
                // A Subversion root holding several projects is found while reading it.
                | (Importing, Mapping | DetectionFoundMultiple | AuthFailed | Error)
                | (Mapping, Pushing | Error)
                | (Pushing, Complete | AuthFailed | Error)
        )
    }

    pub fn status_text(self) -> &'static str {
        match self {
            Status::Detecting => "Detecting source",
            Status::Importing => "Importing...",
            Status::Mapping => "Rewriting history",
            Status::Pushing => "Pushing...",
            Status::Complete => "Done",
            Status::AuthFailed => "Authentication failed",
            Status::Error => "Error",
            Status::DetectionNeedsAuth => "Detection needs authentication",
            Status::DetectionFoundNothing => "No source found at that URL",
            Status::DetectionFoundMultiple => "Choose a project",
        }
    }
}

/// The stages a worker runs, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Detecting,
    Importing,
    Mapping,
    Pushing,
}

impl Stage {
    pub fn status(self) -> Status {
        match self {
            Stage::Detecting => Status::Detecting,
            Stage::Importing => Status::Importing,
            Stage::Mapping => Status::Mapping,
            Stage::Pushing => Status::Pushing,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Status::parse(text).and_then(Status::stage)
    }
}

/// The user's choice for files over the large-file threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LfsChoice {
    OptIn,
    OptOut,
    Undecided,
}

impl LfsChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            LfsChoice::OptIn => "opt_in",
            LfsChoice::OptOut => "opt_out",
            LfsChoice::Undecided => "undecided",
        }
    }

    pub fn parse(text: &str) -> Option<LfsChoice> {
        [LfsChoice::OptIn, LfsChoice::OptOut, LfsChoice::Undecided]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// A hosted repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoRecord {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub default_branch: String,
}

/// One import, at most one per repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRecord {
    pub repo_id: i64,
    pub vcs: Option<Vcs>,
    pub vcs_url: String,
    pub tfvc_project: Option<String>,
    pub use_lfs: LfsChoice,
    pub status: Status,
    pub failed_step: Option<Stage>,
    pub error_message: Option<String>,
    pub commit_count: Option<i64>,
    pub import_percent: Option<i64>,
    pub push_percent: Option<i64>,
    pub authors_count: Option<i64>,
    pub large_files_count: i64,
    pub large_files_size: i64,
    pub project_choices: Vec<ProjectChoice>,
    pub credentials: Option<Credentials>,
    /// Blobs larger than this many bytes are large files.
    pub large_file_threshold: i64,
    pub svn_options: SvnOptions,
    /// Where the published history is mirrored after every successful run (the
    /// `push_url` extension field), if the import names one.
    pub push: Option<PushTarget>,
    /// The login of the token that started the import (the webhook's `sender`).
    pub started_by: Option<String>,
    /// Bumped by every restart, resume or remap; a worker's writes carry the generation it
    /// was started with, so a superseded worker can never overwrite newer state.
    pub generation: i64,
    /// The `sync_interval` extension field as stored: `None` follows the server default,
    /// `Some(0)` turns periodic syncs off, `Some(n)` syncs every `n` seconds.
    pub sync_interval: Option<i64>,
    /// Set while the current run is a sync (and kept when it fails, so a resume is one too).
    pub sync: Option<SyncMode>,
    /// When the source state now published was read (the last import or sync to complete).
    pub last_synced_ms: Option<i64>,
    /// When a run last completed (import, sync or remap): periodic syncs count from here.
    pub completed_ms: Option<i64>,
}

/// How a sync publishes what it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Only if every published branch moves forward and every published tag stays.
    FastForward,
    /// Whatever the source now holds (`force: true`).
    Force,
}

impl SyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::FastForward => "fast_forward",
            SyncMode::Force => "force",
        }
    }

    pub fn parse(text: &str) -> Option<SyncMode> {
        [SyncMode::FastForward, SyncMode::Force]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// How to read a Subversion source, as the API extension fields say: where branches and
/// tags live (`svn_project`, `svn_trunk`, `svn_branches`, `svn_tags`; unset parts are
/// detected) and whether empty directories get a placeholder (`svn_empty_dirs`, default on).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SvnOptions {
    pub project: Option<String>,
    pub trunk: Option<String>,
    pub branches: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub empty_dirs: Option<bool>,
}

impl SvnOptions {
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "svn_project": self.project,
            "svn_trunk": self.trunk,
            "svn_branches": self.branches,
            "svn_tags": self.tags,
            "svn_empty_dirs": self.empty_dirs,
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> SvnOptions {
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let text = |name: &str| value[name].as_str().map(str::to_owned);
        let list = |name: &str| {
            value[name].as_array().map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
        };
        SvnOptions {
            project: text("svn_project"),
            trunk: text("svn_trunk"),
            branches: list("svn_branches"),
            tags: list("svn_tags"),
            empty_dirs: value["svn_empty_dirs"].as_bool(),
        }
    }

    /// Whether anything besides the project was set.
    pub fn has_patterns(&self) -> bool {
        self.trunk.is_some() || self.branches.is_some() || self.tags.is_some()
    }
}

/// What a client supplies to start an import.
#[derive(Clone, Debug)]
pub struct NewImport {
    pub vcs: Option<Vcs>,
    pub vcs_url: String,
    pub tfvc_project: Option<String>,
    pub use_lfs: LfsChoice,
    pub credentials: Option<Credentials>,
    pub large_file_threshold: i64,
    pub svn_options: SvnOptions,
    pub push: Option<PushTarget>,
    pub started_by: Option<String>,
    /// As [`ImportRecord::sync_interval`].
    pub sync_interval: Option<i64>,
}

/// An external Git remote the published history is pushed to (a push mirror).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushTarget {
    pub url: String,
    pub credentials: Option<Credentials>,
}

/// A repository webhook (`POST /repos/{owner}/{repo}/hooks`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookRecord {
    pub id: i64,
    pub repo_id: i64,
    pub settings: HookSettings,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// The answer to the last delivery: HTTP status (or none) and `active`/`failed`.
    pub last_code: Option<i64>,
    pub last_status: Option<String>,
}

impl HookRecord {
    /// Whether this hook wants `event` delivered.
    pub fn wants(&self, event: &str) -> bool {
        let settings = &self.settings;
        settings.active && settings.events.iter().any(|e| e == event || e == "*")
    }
}

/// What a client sets on a hook (creating or editing it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookSettings {
    pub url: String,
    /// `json` or `form`.
    pub content_type: String,
    pub secret: Option<String>,
    /// `"0"` or `"1"`, as GitHub keeps it.
    pub insecure_ssl: String,
    pub events: Vec<String>,
    pub active: bool,
}

/// An import that ended (complete, failed or cancelled), recorded in the same
/// transaction as the status change, waiting to become webhook deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookEvent {
    pub id: i64,
    pub repo_id: i64,
    /// `success`, `failure` or `cancelled`.
    pub status: String,
    pub sender: Option<String>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// The id of the server-wide hook (configured by flag, not stored as a hook row).
pub const SERVER_HOOK_ID: i64 = 0;

/// A delivery to be made.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub hook_id: i64,
    pub guid: String,
    pub event: String,
    pub action: Option<String>,
    pub payload: String,
    pub url: String,
    pub content_type: String,
    /// A new attempt at an earlier delivery, asked for by a client (same `guid`).
    pub redelivery: bool,
}

/// One webhook delivery and its attempts so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub hook_id: i64,
    pub repo_id: i64,
    pub guid: String,
    pub event: String,
    pub action: Option<String>,
    pub payload: String,
    pub url: String,
    pub content_type: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub state: DeliveryState,
    pub status_code: Option<i64>,
    pub duration_ms: Option<i64>,
    /// When the last attempt was made.
    pub delivered_ms: Option<i64>,
    pub last_error: Option<String>,
    pub redelivery: bool,
}

/// The result of one delivery attempt.
#[derive(Clone, Debug)]
pub struct DeliveryAttempt {
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub at_ms: i64,
    pub error: Option<String>,
    /// Where the delivery goes next.
    pub state: DeliveryState,
    /// For a `Pending` delivery: when to try again.
    pub next_attempt_ms: i64,
}

/// A commit author as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorRecord {
    pub id: i64,
    pub remote_id: String,
    pub remote_name: String,
    pub name: String,
    pub email: String,
}

/// An author seen in the source, before it has an id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenAuthor {
    pub remote_id: String,
    pub remote_name: String,
    pub name: String,
    pub email: String,
}

/// A blob over the large-file threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LargeFileRecord {
    pub ref_name: String,
    pub path: String,
    pub oid: String,
    pub size: i64,
}

/// One thing the conversion could not represent, or repaired (the conversion report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportEntry {
    /// A stable, machine-readable kind, e.g. `lfs_objects_missing`.
    pub kind: String,
    /// The source revision or commit, where there is one.
    pub revision: Option<String>,
    pub path: Option<String>,
    pub detail: String,
}

/// Live counters a worker reports while a stage runs; `None` leaves a field as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressUpdate {
    pub commit_count: Option<i64>,
    pub import_percent: Option<i64>,
    pub push_percent: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn the_happy_path_is_allowed_and_skips_are_not() {
        use Status::*;
        let path = [Detecting, Importing, Mapping, Pushing, Complete];
        for pair in path.windows(2) {
            assert!(pair[0].may_advance_to(pair[1]), "{pair:?}");
        }
        assert!(!Detecting.may_advance_to(Complete));
        assert!(!Complete.may_advance_to(Importing));
        assert!(!Error.may_advance_to(Complete));
    }
}
