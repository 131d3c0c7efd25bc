//! The worker pool: runs imports on their own threads, one run per repository at a time,
//! and cancels or supersedes runs on request.

pub mod periodic;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;

use srcimport_converters::Cancel;
use tokio::sync::{watch, OwnedMutexGuard};

use crate::pipeline::{Environment, Run};
use crate::store::{Failure, RepoRecord, Status, StoreError};

struct Running {
    cancel: Cancel,
    finished: watch::Receiver<bool>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<i64>,
    running: HashMap<i64, Running>,
    shutting_down: bool,
}

struct Inner {
    env: Environment,
    state: Mutex<State>,
    wake: Condvar,
    /// Serialises control operations (start, restart, remap, cancel) per repository.
    controls: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

/// Handle to the worker pool; cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

impl Scheduler {
    /// Starts `workers` threads and queues every import the store says is mid-run.
    pub fn start(env: Environment, workers: usize) -> Result<Scheduler, StoreError> {
        let runnable = env.store.runnable_imports()?;
        let scheduler = Scheduler {
            inner: Arc::new(Inner {
                env,
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                controls: Mutex::new(HashMap::new()),
            }),
        };
        for import in runnable {
            tracing::info!(
                repo_id = import.repo_id,
                status = import.status.as_str(),
                "resuming import"
            );
            scheduler.enqueue(import.repo_id);
        }
        for index in 0..workers.max(1) {
            let inner = Arc::clone(&scheduler.inner);
            thread::Builder::new()
                .name(format!("import-worker-{index}"))
                // Deep trees are rewritten recursively; give them room.
                .stack_size(64 * 1024 * 1024)
                .spawn(move || worker_loop(&inner))
                .map_err(|e| StoreError::Corrupt(format!("cannot start worker thread: {e}")))?;
        }
        Ok(scheduler)
    }

    pub fn env(&self) -> &Environment {
        &self.inner.env
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the control lock of one repository; hold it across stop → store change → enqueue.
    pub async fn control(&self, repo_id: i64) -> OwnedMutexGuard<()> {
        let lock = {
            let mut controls = self
                .inner
                .controls
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            Arc::clone(controls.entry(repo_id).or_default())
        };
        lock.lock_owned().await
    }

    /// Queues a run of the import's current stage (no-op if queued already).
    pub fn enqueue(&self, repo_id: i64) {
        let mut state = self.state();
        if !state.queue.contains(&repo_id) {
            state.queue.push_back(repo_id);
            self.inner.wake.notify_one();
        }
    }

    /// Cancels the repository's run, if any, and waits until its worker has let go
    /// (child processes killed and reaped).
    pub async fn stop(&self, repo_id: i64) {
        let finished = {
            let mut state = self.state();
            state.queue.retain(|&id| id != repo_id);
            state.running.get(&repo_id).map(|running| {
                running.cancel.cancel();
                running.finished.clone()
            })
        };
        if let Some(mut finished) = finished {
            let _ = finished.wait_for(|done| *done).await;
        }
    }

    /// Path of a hosted repository's bare Git directory.
    pub fn repo_path(&self, repo: &RepoRecord) -> PathBuf {
        repo_path(&self.inner.env, repo)
    }

    /// Stops taking work and cancels every run (used on shutdown).
    pub fn shutdown(&self) {
        let mut state = self.state();
        state.shutting_down = true;
        for running in state.running.values() {
            running.cancel.cancel();
        }
        self.inner.wake.notify_all();
    }
}

pub fn repo_path(env: &Environment, repo: &RepoRecord) -> PathBuf {
    env.repos_root
        .join(repo.owner.to_lowercase())
        .join(format!("{}.git", repo.name.to_lowercase()))
}

fn worker_loop(inner: &Inner) {
    loop {
        let (repo_id, cancel, done) = {
            let mut state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
            let repo_id = loop {
                if state.shutting_down {
                    return;
                }
                let next = state
                    .queue
                    .iter()
                    .position(|id| !state.running.contains_key(id))
                    .and_then(|pos| state.queue.remove(pos));
                match next {
                    Some(id) => break id,
                    None => {
                        state = inner.wake.wait(state).unwrap_or_else(|p| p.into_inner());
                    }
                }
            };
            let cancel = Cancel::new();
            let (done, finished) = watch::channel(false);
            state.running.insert(
                repo_id,
                Running {
                    cancel: cancel.clone(),
                    finished,
                },
            );
            (repo_id, cancel, done)
        };
        run_one(inner, repo_id, cancel);
        {
            let mut state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
            state.running.remove(&repo_id);
            inner.wake.notify_all();
        }
        let _ = done.send(true);
    }
}

fn run_one(inner: &Inner, repo_id: i64, cancel: Cancel) {
    let repo = match inner.env.store.find_repo_by_id(repo_id) {
        Ok(Some(repo)) => repo,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(repo_id, %error, "cannot load repository for import");
            return;
        }
    };
    let run = Run {
        env: &inner.env,
        repo_id,
        repo_path: repo_path(&inner.env, &repo),
        cancel: cancel.clone(),
        stop_before: None,
    };
    let generation = match inner.env.store.import(repo_id) {
        Ok(Some(import)) => import.generation,
        _ => return,
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.execute()));
    let message = match outcome {
        Ok(Ok(())) => return,
        // Stopped on purpose (DELETE, a restart, shutdown): whoever stopped it decides.
        Ok(Err(_)) if cancel.is_cancelled() => return,
        Ok(Err(error)) => error.to_string(),
        Err(_) => "internal error: the import worker panicked".to_owned(),
    };
    tracing::error!(repo_id, %message, "import run stopped");
    // Never leave the import in a running status with no worker behind it.
    if let Ok(Some(import)) = inner.env.store.import(repo_id) {
        if let (true, Some(stage)) = (import.generation == generation, import.status.stage()) {
            let failure = Failure {
                status: Status::Error,
                step: stage,
                message,
            };
            if let Err(error) = inner.env.store.fail(repo_id, generation, failure) {
                tracing::error!(repo_id, %error, "cannot record the failure");
            }
        }
    }
}
