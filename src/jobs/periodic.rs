//! Periodic syncs: complete imports whose `sync_interval` (or the server's default) has
//! passed since they last completed get a sync queued, and so do imports whose last sync
//! failed, once a wait that doubles with each failure in a row has passed. The schedule is
//! the store's (`completed_ms`, `failed_ms`, `sync_failures`, `sync_interval`), so it
//! survives restarts.

use std::time::Duration;

use super::Scheduler;
use crate::store::{StoreError, SyncMode};

/// Starts the periodic sync task on the current Tokio runtime; it looks for due imports
/// every `tick`.
pub fn spawn(scheduler: Scheduler, default_secs: Option<i64>, tick: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(tick).await;
            if let Err(error) = queue_due(&scheduler, default_secs).await {
                tracing::error!(%error, "cannot queue periodic syncs");
            }
        }
    });
}

async fn queue_due(scheduler: &Scheduler, default_secs: Option<i64>) -> Result<(), StoreError> {
    let store = &scheduler.env().store;
    for repo_id in store.due_syncs(crate::clock::now_ms(), default_secs)? {
        // Like a POST /import/sync: under the repository's control lock.
        let _control = scheduler.control(repo_id).await;
        match store.sync(repo_id, SyncMode::FastForward) {
            Ok(_) => {
                tracing::info!(repo_id, "periodic sync started");
                scheduler.enqueue(repo_id);
            }
            // Someone else started a run meanwhile.
            Err(StoreError::Conflict { .. } | StoreError::NoImport) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
