//! Progress reporting from readers to whoever runs them.

/// One progress observation. Percentages are 0..=100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressEvent {
    /// Share of the transfer or read done so far.
    Percent(u8),
    /// Commits (or revisions/changesets) converted so far.
    Commits(u64),
}

/// A sink for progress events; implementations must be cheap, they are called often.
pub trait Progress: Send + Sync {
    fn report(&self, event: ProgressEvent);
}

/// A sink that drops everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _event: ProgressEvent) {}
}
