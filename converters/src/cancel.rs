//! A cheap, cloneable cancellation flag shared between a job's owner and its worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set once by whoever owns the job; polled by long-running work.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(SourceError::Cancelled)` once cancelled, for use with `?` in loops.
    pub fn check(&self) -> Result<(), crate::SourceError> {
        if self.is_cancelled() {
            Err(crate::SourceError::Cancelled)
        } else {
            Ok(())
        }
    }
}
