//! Progress from readers, written through to the store so `GET /import` shows it live.

use std::sync::Mutex;

use srcimport_converters::{Progress, ProgressEvent};

use crate::store::{JobStore, ProgressUpdate};

/// Writes percentages and commit counts for one import generation, skipping repeats.
pub struct StoreProgress<'a> {
    store: &'a dyn JobStore,
    repo_id: i64,
    generation: i64,
    last: Mutex<ProgressUpdate>,
}

impl<'a> StoreProgress<'a> {
    pub fn new(store: &'a dyn JobStore, repo_id: i64, generation: i64) -> Self {
        StoreProgress {
            store,
            repo_id,
            generation,
            last: Mutex::new(ProgressUpdate::default()),
        }
    }

    /// `done` of `total` units read (never 100 %: the stage ends with that).
    pub fn fraction(&self, done: u64, total: u64) {
        let percent = (done.saturating_mul(100) / total.max(1)).min(99);
        self.report(ProgressEvent::Percent(u8::try_from(percent).unwrap_or(99)));
    }

    /// The push to a mirror is `percent` done.
    pub fn push_percent(&self, percent: u8) {
        self.write(ProgressUpdate {
            push_percent: Some(i64::from(percent)),
            ..ProgressUpdate::default()
        });
    }

    pub fn commits(&self, count: u64) {
        self.report(ProgressEvent::Commits(count));
    }

    fn write(&self, update: ProgressUpdate) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let merged = ProgressUpdate {
            commit_count: update.commit_count.or(last.commit_count),
            import_percent: update.import_percent.or(last.import_percent),
            push_percent: update.push_percent.or(last.push_percent),
        };
        if merged == *last {
            return;
        }
        *last = merged;
        if let Err(error) = self
            .store
            .record_progress(self.repo_id, self.generation, update)
        {
            tracing::warn!(repo_id = self.repo_id, %error, "cannot record progress");
        }
    }
}

impl Progress for StoreProgress<'_> {
    fn report(&self, event: ProgressEvent) {
        let update = match event {
            ProgressEvent::Percent(p) => ProgressUpdate {
                import_percent: Some(i64::from(p)),
                ..ProgressUpdate::default()
            },
            ProgressEvent::Commits(n) => ProgressUpdate {
                commit_count: Some(i64::try_from(n).unwrap_or(i64::MAX)),
                ..ProgressUpdate::default()
            },
        };
        self.write(update);
    }
}
