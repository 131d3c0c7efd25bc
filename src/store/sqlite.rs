//! The SQLite [`JobStore`]: one file in the data directory, WAL mode, schema versioned
//! with `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde_json::json;
use srcimport_converters::{Credentials, ProjectChoice, Vcs};

use super::{
    AuthorRecord, DeliveryAttempt, DeliveryRecord, DeliveryState, Failure, HookEvent, HookRecord,
    HookSettings, ImportRecord, JobStore, LargeFileRecord, LfsChoice, NewDelivery, NewImport,
    ProgressUpdate, PushTarget, RepoRecord, ReportEntry, SeenAuthor, Stage, Status, StoreError,
    SvnOptions, SyncMode,
};

/// Every schema version's migration from the one before, oldest first.
const MIGRATIONS: [&str; 5] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5];
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 5: a failed sync is retried. When the last failure happened (`failed_ms`) and
/// how many syncs have failed in a row since the last completion (`sync_failures`, for the
/// periodic retry's backoff); deliveries remember whether they are redeliveries.
/// A sync that keeps failing is retried after its interval, doubled after each further
/// failure up to this many times (an hourly sync that keeps failing is tried every 32
/// hours at the least).
const SYNC_RETRY_MAX_DOUBLINGS: i64 = 5;

const SCHEMA_V5: &str = "
ALTER TABLE imports ADD COLUMN failed_ms INTEGER;
ALTER TABLE imports ADD COLUMN sync_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN redelivery INTEGER NOT NULL DEFAULT 0;
";

/// Version 4: incremental sync. `sync_interval` (NULL: the server default, 0: off),
/// `sync_mode` (set while a sync runs), when the source was last read (`read_ms`), when
/// that reading was published (`last_synced_ms`), and the last completion (`completed_ms`;
/// imports already complete count from the migration, so an upgrade does not sync them all
/// at once).
const SCHEMA_V4: &str = "
ALTER TABLE imports ADD COLUMN sync_interval INTEGER;
ALTER TABLE imports ADD COLUMN sync_mode TEXT;
ALTER TABLE imports ADD COLUMN read_ms INTEGER;
ALTER TABLE imports ADD COLUMN last_synced_ms INTEGER;
ALTER TABLE imports ADD COLUMN completed_ms INTEGER;
UPDATE imports SET completed_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000
    WHERE status = 'complete';
";

/// Version 3: push mirrors, the import's starter, webhooks, their pending events and
/// their deliveries.
const SCHEMA_V3: &str = "
ALTER TABLE imports ADD COLUMN push_url TEXT;
ALTER TABLE imports ADD COLUMN push_username TEXT;
ALTER TABLE imports ADD COLUMN push_password TEXT;
ALTER TABLE imports ADD COLUMN started_by TEXT;
CREATE TABLE hooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repos(id),
    url TEXT NOT NULL,
    content_type TEXT NOT NULL,
    secret TEXT,
    insecure_ssl TEXT NOT NULL,
    events TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    last_code INTEGER,
    last_status TEXT
);
CREATE INDEX hooks_by_repo ON hooks(repo_id);
CREATE TABLE hook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    sender TEXT
);
-- hook_id 0 is the server-wide hook, which has no row in hooks.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hook_id INTEGER NOT NULL,
    repo_id INTEGER NOT NULL,
    guid TEXT NOT NULL,
    event TEXT NOT NULL,
    action TEXT,
    payload TEXT NOT NULL,
    url TEXT NOT NULL,
    content_type TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    status_code INTEGER,
    duration_ms INTEGER,
    delivered_ms INTEGER,
    last_error TEXT
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_ms);
CREATE INDEX deliveries_by_hook ON deliveries(repo_id, hook_id);
";

/// Version 2: the Subversion layout extension fields.
const SCHEMA_V2: &str = "ALTER TABLE imports ADD COLUMN svn_options TEXT NOT NULL DEFAULT '{}';";

const SCHEMA_V1: &str = "
CREATE TABLE repos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    owner_key TEXT NOT NULL,
    name_key TEXT NOT NULL,
    private INTEGER NOT NULL,
    default_branch TEXT NOT NULL,
    -- The last import generation of a deleted import, so a new one never reuses it.
    retired_generation INTEGER NOT NULL DEFAULT 0,
    UNIQUE (owner_key, name_key)
);
CREATE TABLE imports (
    repo_id INTEGER PRIMARY KEY REFERENCES repos(id),
    vcs TEXT,
    vcs_url TEXT NOT NULL,
    tfvc_project TEXT,
    use_lfs TEXT NOT NULL,
    large_file_threshold INTEGER NOT NULL,
    status TEXT NOT NULL,
    failed_step TEXT,
    error_message TEXT,
    commit_count INTEGER,
    import_percent INTEGER,
    push_percent INTEGER,
    authors_count INTEGER,
    large_files_count INTEGER NOT NULL DEFAULT 0,
    large_files_size INTEGER NOT NULL DEFAULT 0,
    project_choices TEXT NOT NULL DEFAULT '[]',
    source_username TEXT,
    source_password TEXT,
    authors_file TEXT,
    authors_file_format TEXT,
    generation INTEGER NOT NULL
);
CREATE TABLE authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repos(id),
    remote_id TEXT NOT NULL,
    remote_name TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    UNIQUE (repo_id, remote_id)
);
CREATE TABLE large_files (
    repo_id INTEGER NOT NULL REFERENCES repos(id),
    ref_name TEXT NOT NULL,
    path TEXT NOT NULL,
    oid TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX large_files_by_repo ON large_files(repo_id);
CREATE TABLE report_entries (
    repo_id INTEGER NOT NULL REFERENCES repos(id),
    kind TEXT NOT NULL,
    revision TEXT,
    path TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX report_entries_by_repo ON report_entries(repo_id);
";

pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::prepare(Connection::open(path)?)
    }

    /// A store that lives in memory only, for one command-line conversion.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(connection: Connection) -> Result<SqliteStore, StoreError> {
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // Cleared source passwords must not linger in free pages.
        connection.pragma_update(None, "secure_delete", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = connection.pragma_query_value(None, "user_version", |r| r.get(0))?;
        match version {
            older if (0..SCHEMA_VERSION).contains(&older) => {
                let start = usize::try_from(older).unwrap_or(0);
                for migration in &MIGRATIONS[start..] {
                    connection.execute_batch(&format!("BEGIN; {migration} COMMIT;"))?;
                }
                connection.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            }
            SCHEMA_VERSION => {}
            newer => {
                return Err(StoreError::Corrupt(format!(
                    "database schema version {newer} is newer than this build ({SCHEMA_VERSION})"
                )))
            }
        }
        Ok(SqliteStore {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in an IMMEDIATE transaction.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

const IMPORT_COLUMNS: &str = "repo_id, vcs, vcs_url, tfvc_project, use_lfs, status, failed_step, \
    error_message, commit_count, import_percent, push_percent, authors_count, large_files_count, \
    large_files_size, project_choices, source_username, source_password, generation, \
    large_file_threshold, svn_options, push_url, push_username, push_password, started_by, \
    sync_interval, sync_mode, last_synced_ms, completed_ms";

fn import_from_row(row: &Row<'_>) -> rusqlite::Result<Result<ImportRecord, StoreError>> {
    let vcs: Option<String> = row.get(1)?;
    let use_lfs: String = row.get(4)?;
    let status: String = row.get(5)?;
    let failed_step: Option<String> = row.get(6)?;
    let choices: String = row.get(14)?;
    let username: Option<String> = row.get(15)?;
    let password: Option<String> = row.get(16)?;
    let push_username: Option<String> = row.get(21)?;
    let push_password: Option<String> = row.get(22)?;
    let sync_mode: Option<String> = row.get(25)?;
    let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("{what} {value:?}"));
    let record = (|| {
        Ok(ImportRecord {
            repo_id: row.get(0)?,
            vcs: match vcs {
                Some(v) => Some(Vcs::parse(&v).ok_or_else(|| corrupt("vcs", &v))?),
                None => None,
            },
            vcs_url: row.get(2)?,
            tfvc_project: row.get(3)?,
            use_lfs: LfsChoice::parse(&use_lfs).ok_or_else(|| corrupt("use_lfs", &use_lfs))?,
            status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            failed_step: match failed_step {
                Some(s) => Some(Stage::parse(&s).ok_or_else(|| corrupt("failed_step", &s))?),
                None => None,
            },
            error_message: row.get(7)?,
            commit_count: row.get(8)?,
            import_percent: row.get(9)?,
            push_percent: row.get(10)?,
            authors_count: row.get(11)?,
            large_files_count: row.get(12)?,
            large_files_size: row.get(13)?,
            project_choices: choices_from_json(&choices)?,
            credentials: match (username, password) {
                (Some(username), Some(password)) => Some(Credentials { username, password }),
                _ => None,
            },
            generation: row.get(17)?,
            large_file_threshold: row.get(18)?,
            svn_options: SvnOptions::from_json(&row.get::<_, String>(19)?),
            push: row.get::<_, Option<String>>(20)?.map(|url| PushTarget {
                url,
                credentials: match (push_username, push_password) {
                    (Some(username), Some(password)) => Some(Credentials { username, password }),
                    _ => None,
                },
            }),
            started_by: row.get(23)?,
            sync_interval: row.get(24)?,
            sync: match sync_mode {
                Some(m) => Some(SyncMode::parse(&m).ok_or_else(|| corrupt("sync_mode", &m))?),
                None => None,
            },
            last_synced_ms: row.get(26)?,
            completed_ms: row.get(27)?,
        })
    })();
    Ok(record)
}

fn choices_to_json(choices: &[ProjectChoice]) -> String {
    let list: Vec<_> = choices
        .iter()
        .map(|c| json!({"vcs": c.vcs.as_str(), "tfvc_project": c.tfvc_project, "human_name": c.human_name}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

fn choices_from_json(text: &str) -> Result<Vec<ProjectChoice>, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("project_choices {text:?}"));
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| corrupt())?;
    let items = value.as_array().ok_or_else(corrupt)?;
    items
        .iter()
        .map(|item| {
            Ok(ProjectChoice {
                vcs: item["vcs"]
                    .as_str()
                    .and_then(Vcs::parse)
                    .ok_or_else(corrupt)?,
                tfvc_project: item["tfvc_project"].as_str().map(str::to_owned),
                human_name: item["human_name"].as_str().ok_or_else(corrupt)?.to_owned(),
            })
        })
        .collect()
}

fn load_import(conn: &Connection, repo_id: i64) -> Result<Option<ImportRecord>, StoreError> {
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM imports WHERE repo_id = ?1");
    conn.query_row(&sql, [repo_id], import_from_row)
        .optional()?
        .transpose()
}

fn require_import(conn: &Connection, repo_id: i64) -> Result<ImportRecord, StoreError> {
    load_import(conn, repo_id)?.ok_or(StoreError::NoImport)
}

/// Loads the import and checks the worker's generation is still current.
fn require_generation(
    conn: &Connection,
    repo_id: i64,
    generation: i64,
) -> Result<ImportRecord, StoreError> {
    let record = require_import(conn, repo_id)?;
    if record.generation != generation {
        return Err(StoreError::Conflict {
            actual: record.status.as_str(),
            wanted: format!("generation {generation}, now {}", record.generation),
        });
    }
    Ok(record)
}

fn set_status(
    conn: &Connection,
    repo_id: i64,
    status: Status,
    failure: Option<(&Stage, &str)>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE imports SET status = ?2, failed_step = ?3, error_message = ?4 WHERE repo_id = ?1",
        params![
            repo_id,
            status.as_str(),
            failure.map(|(s, _)| s.as_str()),
            failure.map(|(_, m)| m)
        ],
    )?;
    Ok(())
}

/// Queues deliveries, due at once.
fn insert_deliveries(
    tx: &Transaction<'_>,
    repo_id: i64,
    deliveries: &[NewDelivery],
) -> Result<(), StoreError> {
    let now = crate::clock::now_ms();
    let mut insert = tx.prepare_cached(
        "INSERT INTO deliveries (hook_id, repo_id, guid, event, action, payload, url,
             content_type, next_attempt_ms, state, redelivery)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10)",
    )?;
    for d in deliveries {
        insert.execute(params![
            d.hook_id,
            repo_id,
            d.guid,
            d.event,
            d.action,
            d.payload,
            d.url,
            d.content_type,
            now,
            d.redelivery
        ])?;
    }
    Ok(())
}

fn push_credentials(push: Option<&PushTarget>) -> Option<&Credentials> {
    push.and_then(|p| p.credentials.as_ref())
}

/// Records that an import ended, for the webhook deliverer.
fn record_event(conn: &Connection, record: &ImportRecord, status: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO hook_events (repo_id, status, sender) VALUES (?1, ?2, ?3)",
        params![record.repo_id, status, record.started_by],
    )?;
    Ok(())
}

const HOOK_COLUMNS: &str = "id, repo_id, url, content_type, secret, insecure_ssl, events, active, \
    created_ms, updated_ms, last_code, last_status";

fn hook_from_row(row: &Row<'_>) -> rusqlite::Result<HookRecord> {
    let events: String = row.get(6)?;
    Ok(HookRecord {
        id: row.get(0)?,
        repo_id: row.get(1)?,
        settings: HookSettings {
            url: row.get(2)?,
            content_type: row.get(3)?,
            secret: row.get(4)?,
            insecure_ssl: row.get(5)?,
            events: serde_json::from_str(&events).unwrap_or_default(),
            active: row.get(7)?,
        },
        created_ms: row.get(8)?,
        updated_ms: row.get(9)?,
        last_code: row.get(10)?,
        last_status: row.get(11)?,
    })
}

const DELIVERY_COLUMNS: &str = "id, hook_id, repo_id, guid, event, action, payload, url, \
    content_type, attempts, next_attempt_ms, state, status_code, duration_ms, delivered_ms, \
    last_error, redelivery";

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<Result<DeliveryRecord, StoreError>> {
    let state: String = row.get(11)?;
    let Some(parsed) = DeliveryState::parse(&state) else {
        return Ok(Err(StoreError::Corrupt(format!(
            "delivery state {state:?}"
        ))));
    };
    Ok(Ok(DeliveryRecord {
        id: row.get(0)?,
        hook_id: row.get(1)?,
        repo_id: row.get(2)?,
        guid: row.get(3)?,
        event: row.get(4)?,
        action: row.get(5)?,
        payload: row.get(6)?,
        url: row.get(7)?,
        content_type: row.get(8)?,
        attempts: row.get(9)?,
        next_attempt_ms: row.get(10)?,
        state: parsed,
        status_code: row.get(12)?,
        duration_ms: row.get(13)?,
        delivered_ms: row.get(14)?,
        last_error: row.get(15)?,
        redelivery: row.get(16)?,
    }))
}

fn author_from_row(row: &Row<'_>) -> rusqlite::Result<AuthorRecord> {
    Ok(AuthorRecord {
        id: row.get(0)?,
        remote_id: row.get(1)?,
        remote_name: row.get(2)?,
        name: row.get(3)?,
        email: row.get(4)?,
    })
}

fn repo_from_row(row: &Row<'_>) -> rusqlite::Result<RepoRecord> {
    Ok(RepoRecord {
        id: row.get(0)?,
        owner: row.get(1)?,
        name: row.get(2)?,
        private: row.get(3)?,
        default_branch: row.get(4)?,
    })
}

/// The first stage of a fresh run: detection unless the VCS is already known.
fn first_stage(record: &ImportRecord) -> Status {
    if record.vcs.is_some() {
        Status::Importing
    } else {
        Status::Detecting
    }
}

impl JobStore for SqliteStore {
    fn create_repo(
        &self,
        owner: &str,
        name: &str,
        private: bool,
    ) -> Result<RepoRecord, StoreError> {
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO repos (owner, name, owner_key, name_key, private, default_branch)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'main')",
                params![owner, name, owner.to_lowercase(), name.to_lowercase(), private],
            )?;
            if inserted == 0 {
                return Err(StoreError::RepoExists {
                    owner: owner.into(),
                    name: name.into(),
                });
            }
            let id = tx.last_insert_rowid();
            Ok(RepoRecord {
                id,
                owner: owner.into(),
                name: name.into(),
                private,
                default_branch: "main".into(),
            })
        })
    }

    fn find_repo(&self, owner: &str, name: &str) -> Result<Option<RepoRecord>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT id, owner, name, private, default_branch FROM repos
                 WHERE owner_key = ?1 AND name_key = ?2",
                params![owner.to_lowercase(), name.to_lowercase()],
                repo_from_row,
            )
            .optional()?)
    }

    fn find_repo_by_id(&self, repo_id: i64) -> Result<Option<RepoRecord>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT id, owner, name, private, default_branch FROM repos WHERE id = ?1",
                [repo_id],
                repo_from_row,
            )
            .optional()?)
    }

    fn set_default_branch(&self, repo_id: i64, branch: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE repos SET default_branch = ?2 WHERE id = ?1",
            params![repo_id, branch],
        )?;
        Ok(())
    }

    fn import(&self, repo_id: i64) -> Result<Option<ImportRecord>, StoreError> {
        load_import(&self.lock(), repo_id)
    }

    fn start_import(&self, repo_id: i64, new: NewImport) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let previous = load_import(tx, repo_id)?;
            if previous.as_ref().is_some_and(|p| p.status.is_running()) {
                return Err(StoreError::ImportRunning);
            }
            let retired: i64 = tx.query_row(
                "SELECT retired_generation FROM repos WHERE id = ?1",
                [repo_id],
                |row| row.get(0),
            )?;
            let generation = previous
                .as_ref()
                .map_or(retired, |p| p.generation.max(retired))
                + 1;
            if previous.as_ref().is_some_and(|p| p.vcs_url != new.vcs_url) {
                tx.execute("DELETE FROM authors WHERE repo_id = ?1", [repo_id])?;
            }
            tx.execute("DELETE FROM large_files WHERE repo_id = ?1", [repo_id])?;
            tx.execute("DELETE FROM imports WHERE repo_id = ?1", [repo_id])?;
            let status = if new.vcs.is_some() {
                Status::Importing
            } else {
                Status::Detecting
            };
            tx.execute(
                "INSERT INTO imports (repo_id, vcs, vcs_url, tfvc_project, use_lfs, status,
                     source_username, source_password, generation, large_file_threshold,
                     svn_options, push_url, push_username, push_password, started_by,
                     sync_interval)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    repo_id,
                    new.vcs.map(Vcs::as_str),
                    new.vcs_url,
                    new.tfvc_project,
                    new.use_lfs.as_str(),
                    status.as_str(),
                    new.credentials.as_ref().map(|c| c.username.as_str()),
                    new.credentials.as_ref().map(|c| c.password.as_str()),
                    generation,
                    new.large_file_threshold,
                    new.svn_options.to_json(),
                    new.push.as_ref().map(|p| p.url.as_str()),
                    push_credentials(new.push.as_ref()).map(|c| c.username.as_str()),
                    push_credentials(new.push.as_ref()).map(|c| c.password.as_str()),
                    new.started_by,
                    new.sync_interval,
                ],
            )?;
            require_import(tx, repo_id)
        })
    }

    fn runnable_imports(&self) -> Result<Vec<ImportRecord>, StoreError> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {IMPORT_COLUMNS} FROM imports
             WHERE status IN ('detecting', 'importing', 'mapping', 'pushing') ORDER BY repo_id"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], import_from_row)?;
        rows.map(|r| r?).collect()
    }

    fn delete_import(&self, repo_id: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            if let Some(record) = load_import(tx, repo_id)? {
                if record.status.is_running() {
                    record_event(tx, &record, "cancelled")?;
                }
            }
            tx.execute(
                "UPDATE repos SET retired_generation =
                    MAX(retired_generation, COALESCE((SELECT generation FROM imports WHERE repo_id = ?1), 0))
                 WHERE id = ?1",
                [repo_id],
            )?;
            tx.execute("DELETE FROM large_files WHERE repo_id = ?1", [repo_id])?;
            tx.execute("DELETE FROM report_entries WHERE repo_id = ?1", [repo_id])?;
            tx.execute("DELETE FROM authors WHERE repo_id = ?1", [repo_id])?;
            let removed = tx.execute("DELETE FROM imports WHERE repo_id = ?1", [repo_id])?;
            if removed == 0 {
                return Err(StoreError::NoImport);
            }
            Ok(())
        })
    }

    fn advance(
        &self,
        repo_id: i64,
        generation: i64,
        to: Status,
    ) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let record = require_generation(tx, repo_id, generation)?;
            if !record.status.may_advance_to(to) {
                return Err(StoreError::Conflict {
                    actual: record.status.as_str(),
                    wanted: to.as_str().into(),
                });
            }
            set_status(tx, repo_id, to, None)?;
            let now = crate::clock::now_ms();
            if record.status == Status::Importing && to == Status::Mapping {
                tx.execute(
                    "UPDATE imports SET read_ms = ?2 WHERE repo_id = ?1",
                    params![repo_id, now],
                )?;
            }
            if to == Status::Complete {
                record_event(tx, &record, "success")?;
                tx.execute(
                    "UPDATE imports SET import_percent = 100, push_percent = 100,
                        completed_ms = ?2, last_synced_ms = COALESCE(read_ms, last_synced_ms),
                        sync_mode = NULL, sync_failures = 0
                     WHERE repo_id = ?1",
                    params![repo_id, now],
                )?;
            }
            require_import(tx, repo_id)
        })
    }

    fn fail(
        &self,
        repo_id: i64,
        generation: i64,
        failure: Failure,
    ) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let record = require_generation(tx, repo_id, generation)?;
            if !failure.status.is_failure() || !record.status.may_advance_to(failure.status) {
                return Err(StoreError::Conflict {
                    actual: record.status.as_str(),
                    wanted: failure.status.as_str().into(),
                });
            }
            set_status(
                tx,
                repo_id,
                failure.status,
                Some((&failure.step, &failure.message)),
            )?;
            record_event(tx, &record, "failure")?;
            tx.execute(
                "UPDATE imports SET failed_ms = ?2,
                    sync_failures = sync_failures + (sync_mode IS NOT NULL)
                 WHERE repo_id = ?1",
                params![repo_id, crate::clock::now_ms()],
            )?;
            require_import(tx, repo_id)
        })
    }

    fn offer_choices(
        &self,
        repo_id: i64,
        generation: i64,
        choices: Vec<ProjectChoice>,
    ) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let record = require_generation(tx, repo_id, generation)?;
            if !record.status.may_advance_to(Status::DetectionFoundMultiple) {
                return Err(StoreError::Conflict {
                    actual: record.status.as_str(),
                    wanted: Status::DetectionFoundMultiple.as_str().into(),
                });
            }
            tx.execute(
                "UPDATE imports SET project_choices = ?2 WHERE repo_id = ?1",
                params![repo_id, choices_to_json(&choices)],
            )?;
            set_status(tx, repo_id, Status::DetectionFoundMultiple, None)?;
            require_import(tx, repo_id)
        })
    }

    fn set_detected_vcs(&self, repo_id: i64, generation: i64, vcs: Vcs) -> Result<(), StoreError> {
        self.write(|tx| {
            require_generation(tx, repo_id, generation)?;
            tx.execute(
                "UPDATE imports SET vcs = ?2 WHERE repo_id = ?1",
                params![repo_id, vcs.as_str()],
            )?;
            Ok(())
        })
    }

    fn record_progress(
        &self,
        repo_id: i64,
        generation: i64,
        update: ProgressUpdate,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE imports SET
                commit_count = COALESCE(?3, commit_count),
                import_percent = COALESCE(?4, import_percent),
                push_percent = COALESCE(?5, push_percent)
             WHERE repo_id = ?1 AND generation = ?2",
            params![
                repo_id,
                generation,
                update.commit_count,
                update.import_percent,
                update.push_percent
            ],
        )?;
        Ok(())
    }

    fn resume(&self, repo_id: i64, stage: Stage) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let record = require_import(tx, repo_id)?;
            if !record.status.is_failure() {
                return Err(StoreError::Conflict {
                    actual: record.status.as_str(),
                    wanted: format!("resume at {}", stage.as_str()),
                });
            }
            tx.execute(
                "UPDATE imports SET status = ?2, failed_step = NULL, error_message = NULL,
                    project_choices = '[]', generation = generation + 1 WHERE repo_id = ?1",
                params![repo_id, stage.as_str()],
            )?;
            require_import(tx, repo_id)
        })
    }

    fn restart(&self, repo_id: i64) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let record = require_import(tx, repo_id)?;
            tx.execute("DELETE FROM large_files WHERE repo_id = ?1", [repo_id])?;
            tx.execute(
                "UPDATE imports SET status = ?2, failed_step = NULL, error_message = NULL,
                    commit_count = NULL, import_percent = NULL, push_percent = NULL,
                    large_files_count = 0, large_files_size = 0, project_choices = '[]',
                    sync_mode = NULL, generation = generation + 1 WHERE repo_id = ?1",
                params![repo_id, first_stage(&record).as_str()],
            )?;
            require_import(tx, repo_id)
        })
    }

    fn remap(&self, repo_id: i64) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let record = require_import(tx, repo_id)?;
            if record.status == Status::Complete {
                // A remap of what is published is no sync: it may rewrite any commit.
                tx.execute(
                    "UPDATE imports SET sync_mode = NULL WHERE repo_id = ?1",
                    [repo_id],
                )?;
            }
            if matches!(
                record.status,
                Status::Complete | Status::Mapping | Status::Pushing
            ) {
                tx.execute(
                    "UPDATE imports SET status = 'mapping', push_percent = 0,
                        generation = generation + 1 WHERE repo_id = ?1",
                    [repo_id],
                )?;
            }
            require_import(tx, repo_id)
        })
    }

    fn sync(&self, repo_id: i64, mode: SyncMode) -> Result<ImportRecord, StoreError> {
        self.write(|tx| {
            let record = require_import(tx, repo_id)?;
            let allowed = match record.status {
                Status::Complete => true,
                Status::Error | Status::AuthFailed => record.completed_ms.is_some(),
                _ => false,
            };
            if !allowed || record.vcs.is_none() {
                return Err(StoreError::Conflict {
                    actual: record.status.as_str(),
                    wanted: "sync".into(),
                });
            }
            tx.execute(
                "UPDATE imports SET status = 'importing', failed_step = NULL,
                    error_message = NULL, import_percent = 0, push_percent = 0,
                    project_choices = '[]', sync_mode = ?2, generation = generation + 1
                 WHERE repo_id = ?1",
                params![repo_id, mode.as_str()],
            )?;
            require_import(tx, repo_id)
        })
    }

    fn set_sync_interval(&self, repo_id: i64, interval: Option<i64>) -> Result<(), StoreError> {
        let changed = self.lock().execute(
            "UPDATE imports SET sync_interval = ?2 WHERE repo_id = ?1",
            params![repo_id, interval],
        )?;
        if changed == 0 {
            return Err(StoreError::NoImport);
        }
        Ok(())
    }

    fn due_syncs(&self, now_ms: i64, default_secs: Option<i64>) -> Result<Vec<i64>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT repo_id FROM imports
             WHERE vcs IS NOT NULL AND COALESCE(sync_interval, ?2) > 0
               AND ((status = 'complete'
                     AND COALESCE(completed_ms, 0) + COALESCE(sync_interval, ?2) * 1000 <= ?1)
                 OR (status = 'error' AND sync_mode IS NOT NULL AND completed_ms IS NOT NULL
                     AND failed_ms + COALESCE(sync_interval, ?2) * 1000
                         * (1 << MIN(MAX(sync_failures - 1, 0), ?3)) <= ?1))
             ORDER BY COALESCE(failed_ms, completed_ms, 0)",
        )?;
        let rows = stmt.query_map(
            params![now_ms, default_secs.unwrap_or(0), SYNC_RETRY_MAX_DOUBLINGS],
            |row| row.get::<_, i64>(0),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_credentials(
        &self,
        repo_id: i64,
        credentials: Option<Credentials>,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE imports SET source_username = ?2, source_password = ?3 WHERE repo_id = ?1",
            params![
                repo_id,
                credentials.as_ref().map(|c| c.username.as_str()),
                credentials.as_ref().map(|c| c.password.as_str())
            ],
        )?;
        Ok(())
    }

    fn set_project(
        &self,
        repo_id: i64,
        vcs: Option<Vcs>,
        tfvc_project: Option<String>,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE imports SET vcs = COALESCE(?2, vcs), tfvc_project = COALESCE(?3, tfvc_project)
             WHERE repo_id = ?1",
            params![repo_id, vcs.map(Vcs::as_str), tfvc_project],
        )?;
        Ok(())
    }

    fn set_svn_options(&self, repo_id: i64, layout: &SvnOptions) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE imports SET svn_options = ?2 WHERE repo_id = ?1",
            params![repo_id, layout.to_json()],
        )?;
        Ok(())
    }

    fn set_lfs_choice(&self, repo_id: i64, choice: LfsChoice) -> Result<(), StoreError> {
        let changed = self.lock().execute(
            "UPDATE imports SET use_lfs = ?2 WHERE repo_id = ?1",
            params![repo_id, choice.as_str()],
        )?;
        if changed == 0 {
            return Err(StoreError::NoImport);
        }
        Ok(())
    }

    fn merge_authors(
        &self,
        repo_id: i64,
        generation: i64,
        seen: &[SeenAuthor],
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            require_generation(tx, repo_id, generation)?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO authors (repo_id, remote_id, remote_name, name, email)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for author in seen {
                insert.execute(params![
                    repo_id,
                    author.remote_id,
                    author.remote_name,
                    author.name,
                    author.email
                ])?;
            }
            tx.execute(
                "UPDATE imports SET authors_count =
                    (SELECT COUNT(*) FROM authors WHERE repo_id = ?1) WHERE repo_id = ?1",
                [repo_id],
            )?;
            Ok(())
        })
    }

    fn set_authors_file(&self, repo_id: i64, format: &str, text: &str) -> Result<(), StoreError> {
        let changed = self.lock().execute(
            "UPDATE imports SET authors_file = ?2, authors_file_format = ?3 WHERE repo_id = ?1",
            params![repo_id, text, format],
        )?;
        if changed == 0 {
            return Err(StoreError::NoImport);
        }
        Ok(())
    }

    fn authors_file(&self, repo_id: i64) -> Result<Option<(String, String)>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = self
            .lock()
            .query_row(
                "SELECT authors_file_format, authors_file FROM imports WHERE repo_id = ?1",
                [repo_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(format), Some(text))) => Some((format, text)),
            _ => None,
        })
    }

    fn map_authors(
        &self,
        repo_id: i64,
        mappings: &[(i64, String, String)],
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut update = tx.prepare_cached(
                "UPDATE authors SET name = ?3, email = ?4 WHERE repo_id = ?1 AND id = ?2",
            )?;
            for (id, name, email) in mappings {
                update.execute(params![repo_id, id, name, email])?;
            }
            Ok(())
        })
    }

    fn authors(&self, repo_id: i64, since: i64) -> Result<Vec<AuthorRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, remote_id, remote_name, name, email FROM authors
             WHERE repo_id = ?1 AND id > ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![repo_id, since], author_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn map_author(
        &self,
        repo_id: i64,
        author_id: i64,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<AuthorRecord, StoreError> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE authors SET name = COALESCE(?3, name), email = COALESCE(?4, email)
                 WHERE repo_id = ?1 AND id = ?2",
                params![repo_id, author_id, name, email],
            )?;
            if changed == 0 {
                return Err(StoreError::NoAuthor(author_id));
            }
            Ok(tx.query_row(
                "SELECT id, remote_id, remote_name, name, email FROM authors WHERE id = ?1",
                [author_id],
                author_from_row,
            )?)
        })
    }

    fn replace_large_files(
        &self,
        repo_id: i64,
        generation: i64,
        files: &[LargeFileRecord],
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            require_generation(tx, repo_id, generation)?;
            tx.execute("DELETE FROM large_files WHERE repo_id = ?1", [repo_id])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO large_files (repo_id, ref_name, path, oid, size) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for file in files {
                insert.execute(params![repo_id, file.ref_name, file.path, file.oid, file.size])?;
            }
            let total: i64 = files.iter().map(|f| f.size).sum();
            tx.execute(
                "UPDATE imports SET large_files_count = ?2, large_files_size = ?3 WHERE repo_id = ?1",
                params![repo_id, i64::try_from(files.len()).unwrap_or(i64::MAX), total],
            )?;
            Ok(())
        })
    }

    fn replace_report(
        &self,
        repo_id: i64,
        generation: i64,
        entries: &[ReportEntry],
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            require_generation(tx, repo_id, generation)?;
            tx.execute("DELETE FROM report_entries WHERE repo_id = ?1", [repo_id])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO report_entries (repo_id, kind, revision, path, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for entry in entries {
                insert.execute(params![repo_id, entry.kind, entry.revision, entry.path, entry.detail])?;
            }
            Ok(())
        })
    }

    fn report(&self, repo_id: i64) -> Result<Vec<ReportEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT kind, revision, path, detail FROM report_entries WHERE repo_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([repo_id], |row| {
            Ok(ReportEntry {
                kind: row.get(0)?,
                revision: row.get(1)?,
                path: row.get(2)?,
                detail: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_push_target(&self, repo_id: i64, push: Option<&PushTarget>) -> Result<(), StoreError> {
        let changed = self.lock().execute(
            "UPDATE imports SET push_url = ?2, push_username = ?3, push_password = ?4
             WHERE repo_id = ?1",
            params![
                repo_id,
                push.map(|p| p.url.as_str()),
                push_credentials(push).map(|c| c.username.as_str()),
                push_credentials(push).map(|c| c.password.as_str())
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoImport);
        }
        Ok(())
    }

    fn create_hook(&self, repo_id: i64, hook: &HookSettings) -> Result<HookRecord, StoreError> {
        self.write(|tx| {
            let now = crate::clock::now_ms();
            tx.execute(
                "INSERT INTO hooks (repo_id, url, content_type, secret, insecure_ssl, events,
                     active, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    repo_id,
                    hook.url,
                    hook.content_type,
                    hook.secret,
                    hook.insecure_ssl,
                    serde_json::Value::from(hook.events.clone()).to_string(),
                    hook.active,
                    now
                ],
            )?;
            let id = tx.last_insert_rowid();
            Ok(tx.query_row(
                &format!("SELECT {HOOK_COLUMNS} FROM hooks WHERE id = ?1"),
                [id],
                hook_from_row,
            )?)
        })
    }

    fn hooks(&self, repo_id: i64) -> Result<Vec<HookRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {HOOK_COLUMNS} FROM hooks WHERE repo_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([repo_id], hook_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn hook(&self, repo_id: i64, hook_id: i64) -> Result<Option<HookRecord>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                &format!("SELECT {HOOK_COLUMNS} FROM hooks WHERE repo_id = ?1 AND id = ?2"),
                [repo_id, hook_id],
                hook_from_row,
            )
            .optional()?)
    }

    fn update_hook(
        &self,
        repo_id: i64,
        hook_id: i64,
        hook: &HookSettings,
    ) -> Result<Option<HookRecord>, StoreError> {
        self.write(|tx| {
            let updated = tx.execute(
                "UPDATE hooks SET url = ?3, content_type = ?4, secret = ?5, insecure_ssl = ?6,
                     events = ?7, active = ?8, updated_ms = ?9
                 WHERE repo_id = ?1 AND id = ?2",
                params![
                    repo_id,
                    hook_id,
                    hook.url,
                    hook.content_type,
                    hook.secret,
                    hook.insecure_ssl,
                    serde_json::Value::from(hook.events.clone()).to_string(),
                    hook.active,
                    crate::clock::now_ms()
                ],
            )?;
            if updated == 0 {
                return Ok(None);
            }
            Ok(Some(tx.query_row(
                &format!("SELECT {HOOK_COLUMNS} FROM hooks WHERE id = ?1"),
                [hook_id],
                hook_from_row,
            )?))
        })
    }

    fn delete_hook(&self, repo_id: i64, hook_id: i64) -> Result<bool, StoreError> {
        self.write(|tx| {
            let removed = tx.execute(
                "DELETE FROM hooks WHERE repo_id = ?1 AND id = ?2",
                [repo_id, hook_id],
            )?;
            if removed > 0 {
                tx.execute(
                    "DELETE FROM deliveries WHERE repo_id = ?1 AND hook_id = ?2",
                    [repo_id, hook_id],
                )?;
            }
            Ok(removed > 0)
        })
    }

    fn hook_events(&self, limit: usize) -> Result<Vec<HookEvent>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, repo_id, status, sender FROM hook_events ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            Ok(HookEvent {
                id: row.get(0)?,
                repo_id: row.get(1)?,
                status: row.get(2)?,
                sender: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn expand_hook_event(
        &self,
        event: &HookEvent,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            insert_deliveries(tx, event.repo_id, deliveries)?;
            tx.execute("DELETE FROM hook_events WHERE id = ?1", [event.id])?;
            Ok(())
        })
    }

    fn add_deliveries(&self, repo_id: i64, deliveries: &[NewDelivery]) -> Result<(), StoreError> {
        self.write(|tx| insert_deliveries(tx, repo_id, deliveries))
    }

    fn due_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries
             WHERE state = 'pending' AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![now_ms, i64::try_from(limit).unwrap_or(i64::MAX)],
            delivery_from_row,
        )?;
        rows.map(|r| r?).collect()
    }

    fn next_delivery_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.lock().query_row(
            "SELECT MIN(next_attempt_ms) FROM deliveries WHERE state = 'pending'",
            [],
            |row| row.get(0),
        )?)
    }

    fn record_attempt(
        &self,
        delivery_id: i64,
        attempt: &DeliveryAttempt,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, state = ?2, status_code = ?3,
                     duration_ms = ?4, delivered_ms = ?5, last_error = ?6, next_attempt_ms = ?7
                 WHERE id = ?1",
                params![
                    delivery_id,
                    attempt.state.as_str(),
                    attempt.status_code,
                    attempt.duration_ms,
                    attempt.at_ms,
                    attempt.error,
                    attempt.next_attempt_ms
                ],
            )?;
            let ok = attempt.error.is_none();
            tx.execute(
                "UPDATE hooks SET last_code = ?2, last_status = ?3
                 WHERE id = (SELECT hook_id FROM deliveries WHERE id = ?1)",
                params![
                    delivery_id,
                    attempt.status_code,
                    if ok { "active" } else { "failed" }
                ],
            )?;
            Ok(())
        })
    }

    fn deliveries(&self, repo_id: i64, hook_id: i64) -> Result<Vec<DeliveryRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE repo_id = ?1 AND hook_id = ?2
             ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map([repo_id, hook_id], delivery_from_row)?;
        rows.map(|r| r?).collect()
    }

    fn delivery(
        &self,
        repo_id: i64,
        hook_id: i64,
        delivery_id: i64,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries
                     WHERE repo_id = ?1 AND hook_id = ?2 AND id = ?3"
                ),
                [repo_id, hook_id, delivery_id],
                delivery_from_row,
            )
            .optional()?
            .transpose()
    }

    fn large_files(&self, repo_id: i64) -> Result<Vec<LargeFileRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT ref_name, path, oid, size FROM large_files WHERE repo_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([repo_id], |row| {
            Ok(LargeFileRecord {
                ref_name: row.get(0)?,
                path: row.get(1)?,
                oid: row.get(2)?,
                size: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("db.sqlite")).expect("opens");
        (dir, store)
    }

    fn new_import(url: &str) -> NewImport {
        NewImport {
            vcs: Some(Vcs::Git),
            vcs_url: url.into(),
            tfvc_project: None,
            use_lfs: LfsChoice::Undecided,
            credentials: None,
            large_file_threshold: 100,
            svn_options: SvnOptions::default(),
            push: None,
            started_by: Some("admin".into()),
            sync_interval: None,
        }
    }

    #[test]
    fn repo_names_are_case_insensitive_and_unique() {
        let (_dir, store) = store();
        let repo = store.create_repo("Octo", "Socm", true).expect("creates");
        assert_eq!(store.find_repo("octo", "SOCM").expect("finds"), Some(repo));
        assert!(matches!(
            store.create_repo("octo", "socm", false),
            Err(StoreError::RepoExists { .. })
        ));
    }

    #[test]
    fn transitions_are_checked_against_state_and_generation() {
        let (_dir, store) = store();
        let repo = store.create_repo("o", "r", false).expect("creates");
        let import = store
            .start_import(repo.id, new_import("http://x/r.git"))
            .expect("starts");
        assert_eq!(import.status, Status::Importing);
        assert!(matches!(
            store.start_import(repo.id, new_import("http://x/r.git")),
            Err(StoreError::ImportRunning)
        ));
        assert!(store
            .advance(repo.id, import.generation, Status::Complete)
            .is_err());
        let restarted = store.restart(repo.id).expect("restarts");
        assert!(store
            .advance(repo.id, import.generation, Status::Mapping)
            .is_err());
        let mapped = store
            .advance(repo.id, restarted.generation, Status::Mapping)
            .expect("advances");
        assert_eq!(mapped.status, Status::Mapping);
    }

    #[test]
    fn generations_never_repeat_across_delete_and_put() {
        let (_dir, store) = store();
        let repo = store.create_repo("o", "r", false).expect("creates");
        let first = store
            .start_import(repo.id, new_import("u"))
            .expect("starts");
        let restarted = store.restart(repo.id).expect("restarts");
        store.delete_import(repo.id).expect("deletes");
        let again = store
            .start_import(repo.id, new_import("u"))
            .expect("starts again");
        assert!(again.generation > restarted.generation && restarted.generation > first.generation);
    }

    #[test]
    fn authors_keep_ids_and_mappings_across_merges() {
        let (_dir, store) = store();
        let repo = store.create_repo("o", "r", false).expect("creates");
        let import = store
            .start_import(repo.id, new_import("u"))
            .expect("starts");
        let seen = |id: &str| SeenAuthor {
            remote_id: id.into(),
            remote_name: id.into(),
            name: id.into(),
            email: format!("{id}@x"),
        };
        store
            .merge_authors(repo.id, import.generation, &[seen("a"), seen("b")])
            .expect("merges");
        let first = store.authors(repo.id, 0).expect("lists");
        store
            .map_author(repo.id, first[0].id, Some("Alice"), None)
            .expect("maps");
        store
            .merge_authors(repo.id, import.generation, &[seen("a"), seen("c")])
            .expect("merges");
        let all = store.authors(repo.id, 0).expect("lists");
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].name, "Alice");
        assert_eq!(all[0].id, first[0].id);
        assert_eq!(store.authors(repo.id, first[1].id).expect("pages").len(), 1);
        assert_eq!(
            store
                .import(repo.id)
                .expect("loads")
                .map(|i| i.authors_count),
            Some(Some(3))
        );
    }

    #[test]
    fn endings_become_events_and_deliveries_wait_their_turn() {
        let (_dir, store) = store();
        let repo = store.create_repo("o", "r", false).expect("creates");
        let import = store
            .start_import(repo.id, new_import("u"))
            .expect("starts");
        let g = import.generation;
        store.advance(repo.id, g, Status::Mapping).expect("maps");
        store.advance(repo.id, g, Status::Pushing).expect("pushes");
        store
            .advance(repo.id, g, Status::Complete)
            .expect("completes");
        let restarted = store.restart(repo.id).expect("restarts");
        let failure = Failure {
            status: Status::Error,
            step: Stage::Importing,
            message: "boom".into(),
        };
        store
            .fail(repo.id, restarted.generation, failure)
            .expect("fails");
        store.restart(repo.id).expect("restarts");
        store.delete_import(repo.id).expect("cancels");
        let events = store.hook_events(10).expect("events");
        let statuses: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
        assert_eq!(statuses, ["success", "failure", "cancelled"]);
        assert_eq!(events[0].sender.as_deref(), Some("admin"));

        let hook = store
            .create_hook(
                repo.id,
                &HookSettings {
                    url: "http://h/".into(),
                    content_type: "json".into(),
                    secret: Some("s".into()),
                    insecure_ssl: "0".into(),
                    events: vec!["repository_import".into()],
                    active: true,
                },
            )
            .expect("hook");
        assert!(hook.wants("repository_import") && !hook.wants("push"));
        let delivery = NewDelivery {
            hook_id: hook.id,
            guid: "g".into(),
            event: "repository_import".into(),
            action: None,
            payload: "{}".into(),
            url: hook.settings.url.clone(),
            content_type: "json".into(),
            redelivery: false,
        };
        for event in &events {
            store
                .expand_hook_event(event, std::slice::from_ref(&delivery))
                .expect("expands");
        }
        assert!(store.hook_events(10).expect("events").is_empty());
        let now = crate::clock::now_ms();
        let due = store.due_deliveries(now + 1, 10).expect("due");
        assert_eq!(due.len(), 3);
        store
            .record_attempt(
                due[0].id,
                &DeliveryAttempt {
                    status_code: Some(500),
                    duration_ms: 3,
                    at_ms: now,
                    error: Some("HTTP 500".into()),
                    state: DeliveryState::Pending,
                    next_attempt_ms: now + 60_000,
                },
            )
            .expect("records");
        assert_eq!(store.due_deliveries(now + 1, 10).expect("due").len(), 2);
        assert!(store
            .next_delivery_ms()
            .expect("next")
            .is_some_and(|t| t <= now));
        let log = store.deliveries(repo.id, hook.id).expect("log");
        let retried = log.iter().find(|d| d.id == due[0].id).expect("listed");
        assert_eq!((retried.attempts, retried.status_code), (1, Some(500)));
        assert_eq!(
            store
                .hook(repo.id, hook.id)
                .expect("hook")
                .and_then(|h| h.last_code),
            Some(500)
        );
        assert!(store.delete_hook(repo.id, hook.id).expect("deletes"));
        assert!(store.deliveries(repo.id, hook.id).expect("log").is_empty());
    }

    #[test]
    fn a_version_2_database_is_migrated_keeping_its_imports() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db.sqlite");
        old_database(
            &path,
            2,
            "INSERT INTO imports (repo_id, vcs, vcs_url, use_lfs, large_file_threshold,
                 status, generation) VALUES (1, 'git', 'u', 'undecided', 100, 'complete', 3);",
        );
        let store = SqliteStore::open(&path).expect("migrates");
        let import = store.import(1).expect("loads").expect("kept");
        assert_eq!((import.status, import.generation), (Status::Complete, 3));
        assert_eq!((import.push, import.started_by), (None, None));
        assert!(store.hooks(1).expect("hooks table").is_empty());
        drop(store);
        let version: i64 = Connection::open(&path)
            .expect("opens")
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        SqliteStore::open(&path).expect("opens again");
    }
    /// A database at schema `version` holding repository 1 (`o/r`) and `import_row`.
    fn old_database(path: &Path, version: usize, import_row: &str) {
        let old = Connection::open(path).expect("opens");
        for migration in &MIGRATIONS[..version] {
            old.execute_batch(migration).expect("migration");
        }
        old.pragma_update(None, "user_version", version as i64)
            .expect("version");
        old.execute_batch(
            "INSERT INTO repos (owner, name, owner_key, name_key, private, default_branch)
                 VALUES ('o', 'r', 'o', 'r', 0, 'main');",
        )
        .expect("repository row");
        old.execute_batch(import_row).expect("import row");
    }

    fn failure(step: Stage) -> Failure {
        Failure {
            status: Status::Error,
            step,
            message: "boom".into(),
        }
    }

    fn complete(store: &SqliteStore, repo_id: i64, generation: i64, from: Status) {
        let path: &[Status] = match from {
            Status::Importing => &[Status::Mapping, Status::Pushing, Status::Complete],
            _ => &[Status::Pushing, Status::Complete],
        };
        for to in path {
            store.advance(repo_id, generation, *to).expect("advances");
        }
    }

    #[test]
    fn a_failed_sync_is_due_again_after_its_interval_doubling_with_each_failure() {
        let (_dir, store) = store();
        let repo = store.create_repo("o", "retried", false).expect("creates");
        let mut new = new_import("u");
        new.sync_interval = Some(60);
        let import = store.start_import(repo.id, new).expect("starts");
        complete(&store, repo.id, import.generation, Status::Importing);
        let failed_sync = || {
            let syncing = store.sync(repo.id, SyncMode::FastForward).expect("syncs");
            let before = crate::clock::now_ms();
            store
                .fail(repo.id, syncing.generation, failure(Stage::Importing))
                .expect("fails");
            (before, crate::clock::now_ms())
        };
        let due = |at: i64| store.due_syncs(at, None).expect("due");
        let (before, after) = failed_sync();
        assert!(due(before + 59_000).is_empty());
        assert_eq!(due(after + 60_000), [repo.id]);
        let (before, after) = failed_sync();
        assert!(
            due(before + 119_000).is_empty(),
            "the second failure waits twice as long"
        );
        assert_eq!(due(after + 120_000), [repo.id]);
        let mut last = (0, 0);
        for _ in 0..8 {
            last = failed_sync();
        }
        let (before, after) = last;
        assert!(due(before + 32 * 60_000 - 1_000).is_empty());
        assert_eq!(
            due(after + 32 * 60_000),
            [repo.id],
            "the wait stops doubling"
        );
        // A success starts the count again.
        let syncing = store.sync(repo.id, SyncMode::FastForward).expect("syncs");
        complete(&store, repo.id, syncing.generation, Status::Importing);
        let (_, after) = failed_sync();
        assert_eq!(due(after + 60_000), [repo.id]);

        // A first import that failed is no sync to retry.
        let other = store.create_repo("o", "never", false).expect("creates");
        let mut new = new_import("u");
        new.sync_interval = Some(60);
        let import = store.start_import(other.id, new).expect("starts");
        store
            .fail(other.id, import.generation, failure(Stage::Importing))
            .expect("fails");
        assert_eq!(due(crate::clock::now_ms() + 3_600_000), [repo.id]);
    }

    #[test]
    fn syncs_start_only_from_a_completed_import_and_record_when_they_read() {
        let (_dir, store) = store();
        let repo = store.create_repo("o", "r", false).expect("creates");
        let import = store
            .start_import(repo.id, new_import("u"))
            .expect("starts");
        assert!(matches!(
            store.sync(repo.id, SyncMode::FastForward),
            Err(StoreError::Conflict {
                actual: "importing",
                ..
            })
        ));
        store
            .fail(repo.id, import.generation, failure(Stage::Importing))
            .expect("fails");
        // Never completed: nothing to sync against.
        assert!(store.sync(repo.id, SyncMode::FastForward).is_err());
        let resumed = store.resume(repo.id, Stage::Importing).expect("resumes");
        complete(&store, repo.id, resumed.generation, Status::Importing);
        let done = store.import(repo.id).expect("loads").expect("there");
        let first_read = done.last_synced_ms.expect("read time recorded");
        assert!(done.completed_ms.is_some() && done.sync.is_none());

        let syncing = store.sync(repo.id, SyncMode::FastForward).expect("syncs");
        assert_eq!(syncing.status, Status::Importing);
        assert_eq!(syncing.sync, Some(SyncMode::FastForward));
        assert!(syncing.generation > done.generation);
        store
            .advance(repo.id, syncing.generation, Status::Mapping)
            .expect("maps");
        store
            .advance(repo.id, syncing.generation, Status::Pushing)
            .expect("pushes");
        store
            .fail(repo.id, syncing.generation, failure(Stage::Pushing))
            .expect("refused");
        let refused = store.import(repo.id).expect("loads").expect("there");
        // A failed sync publishes nothing: the last sync time stays; the mode stays for a resume.
        assert_eq!(refused.last_synced_ms, Some(first_read));
        assert_eq!(refused.sync, Some(SyncMode::FastForward));
        let forced = store.sync(repo.id, SyncMode::Force).expect("from error");
        assert_eq!(forced.sync, Some(SyncMode::Force));
        complete(&store, repo.id, forced.generation, Status::Importing);
        let synced = store.import(repo.id).expect("loads").expect("there");
        assert!(synced.last_synced_ms.expect("synced") >= first_read);
        assert_eq!(synced.sync, None);
        let restarted = store.sync(repo.id, SyncMode::Force).expect("syncs");
        assert!(store.restart(repo.id).expect("restarts").sync.is_none());
        assert!(restarted.sync.is_some());
    }

    #[test]
    fn due_syncs_follow_each_interval_or_the_default() {
        let (_dir, store) = store();
        let mut ids = Vec::new();
        for (name, interval) in [("own", Some(60)), ("default", None), ("off", Some(0))] {
            let repo = store.create_repo("o", name, false).expect("creates");
            let mut new = new_import("u");
            new.sync_interval = interval;
            let import = store.start_import(repo.id, new).expect("starts");
            complete(&store, repo.id, import.generation, Status::Importing);
            ids.push(repo.id);
        }
        let done = store.import(ids[0]).expect("loads").expect("there");
        let at = done.completed_ms.expect("completed");
        assert!(store.due_syncs(at + 59_000, None).expect("due").is_empty());
        assert_eq!(store.due_syncs(at + 61_000, None).expect("due"), [ids[0]]);
        let mut due = store.due_syncs(at + 61_000, Some(30)).expect("due");
        due.sort_unstable();
        assert_eq!(due, [ids[0], ids[1]]);
        store.set_sync_interval(ids[2], Some(1)).expect("sets");
        assert_eq!(store.due_syncs(at + 2_000, None).expect("due"), [ids[2]]);
        store.sync(ids[2], SyncMode::FastForward).expect("syncs");
        assert!(store.due_syncs(at + 2_000, None).expect("due").is_empty());
    }

    #[test]
    fn a_version_3_database_gets_sync_columns_and_no_sync_storm() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db.sqlite");
        old_database(
            &path,
            3,
            "INSERT INTO imports (repo_id, vcs, vcs_url, use_lfs, large_file_threshold,
                 status, generation, started_by)
                 VALUES (1, 'git', 'u', 'undecided', 100, 'complete', 3, 'admin');",
        );
        let before = crate::clock::now_ms();
        let store = SqliteStore::open(&path).expect("migrates");
        let import = store.import(1).expect("loads").expect("kept");
        assert_eq!((import.status, import.generation), (Status::Complete, 3));
        assert_eq!(import.started_by.as_deref(), Some("admin"));
        assert_eq!((import.sync_interval, import.sync), (None, None));
        assert_eq!(import.last_synced_ms, None);
        assert!(import.completed_ms.expect("counted from the migration") >= before - 1_000);
        assert!(store.due_syncs(before, Some(60)).expect("due").is_empty());
        assert_eq!(
            store.due_syncs(before + 62_000, Some(60)).expect("due"),
            [1]
        );
        store.sync(1, SyncMode::FastForward).expect("syncs");
        drop(store);
        let version: i64 = Connection::open(&path)
            .expect("opens")
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        let again = SqliteStore::open(&path).expect("opens again");
        assert_eq!(
            again.import(1).expect("loads").expect("kept").sync,
            Some(SyncMode::FastForward)
        );
    }
}
