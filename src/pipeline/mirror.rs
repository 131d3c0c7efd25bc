//! The push mirror: after publishing, the hosted repository's LFS objects and published
//! refs go to the import's (or the server's) mirror, in pushes that each stay under the
//! size limit.
//!
//! When what the mirror lacks is larger than the limit, each published ref is pushed in
//! steps along its first-parent history, oldest first (`+commit:ref`, as GitHub advises
//! for large repositories), each step the longest that fits; small refs share a push.
//! A merge whose side history alone is too large has that side pushed in steps first. A
//! single commit larger than the limit is pushed alone, with a warning in the log (the
//! mirror may refuse it; its answer becomes the import's error). The final push mirrors
//! the namespaces (forced, pruned): it carries the last pending step and whatever tags
//! and notes add, when that fits; otherwise those refs are pushed in steps first.

use std::path::Path;

use srcimport_converters::git::{self as git_source, PushRefs};
use srcimport_converters::url_policy::{redact, UrlPolicy};
use srcimport_converters::{Cancel, Credentials, SourceError};

use super::progress::StoreProgress;
use super::PipelineError;
use crate::git::lfs::LfsStore;
use crate::git::push_size::History;
use crate::git::{for_each_line, publish};
use crate::store::PushTarget;

/// GitHub's limit on one push: 2 GiB.
pub const DEFAULT_PUSH_SIZE_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

/// One mirror push run: where to, within which limit, and how it is going.
pub struct Mirror<'a> {
    pub git_dir: &'a Path,
    pub target: &'a PushTarget,
    pub policy: &'a UrlPolicy,
    pub limit: u64,
    /// The branch pushed first (a new repository's default is its first branch).
    pub default_branch: Option<&'a str>,
    pub progress: &'a StoreProgress<'a>,
    pub cancel: &'a Cancel,
}

impl Mirror<'_> {
    /// Pushes LFS objects, then the published refs, in steps when they are too large.
    pub fn run(&self) -> Result<(), PipelineError> {
        let namespaces = &publish::PUBLISHED_NAMESPACES;
        if LfsStore::for_repo(self.git_dir).has_objects() {
            git_source::push_lfs_objects(
                self.git_dir,
                &self.target.url,
                self.credentials(),
                self.policy,
                namespaces,
                self.cancel,
            )
            .map_err(|e| self.failed(e))?;
        }
        let history = History {
            git_dir: self.git_dir,
            cancel: self.cancel,
            exclude: self.remote_tips()?,
        };
        let refs = self.published_commits()?;
        let total = history.disk_usage(refs.iter().map(|(oid, _)| oid.as_str()))?;
        let mut steps = Steps {
            mirror: self,
            history,
            pending: Vec::new(),
            pending_bytes: 0,
            total,
            sent: 0,
            pushes: 0,
        };
        if total > self.limit {
            tracing::info!(
                url = %redact(&self.target.url),
                bytes = total,
                limit = self.limit,
                "the mirror lacks more than the push size limit: pushing in steps"
            );
            let (branches, others): (Vec<_>, Vec<_>) = refs
                .iter()
                .partition(|(_, name)| name.starts_with("refs/heads/"));
            for (oid, name) in &branches {
                steps.advance(name, oid)?;
            }
            // Tags and notes mostly point into the branches' history: when what they add
            // fits beside the pending step, the final push takes them all, rather than a
            // size check per ref.
            let rest = steps
                .history
                .disk_usage(others.iter().map(|(oid, _)| oid.as_str()))?;
            if steps.pending_bytes + rest > self.limit {
                for (oid, name) in &others {
                    steps.advance(name, oid)?;
                }
                steps.flush()?;
            }
        }
        let rest = total.saturating_sub(steps.sent);
        steps.push(PushRefs::Mirror(namespaces), rest)?;
        tracing::info!(
            url = %redact(&self.target.url),
            pushes = steps.pushes,
            "pushed to the mirror"
        );
        Ok(())
    }

    /// What the mirror advertises now: what a push there need not send.
    fn remote_tips(&self) -> Result<Vec<String>, PipelineError> {
        let remote = git_source::remote_refs(
            &self.target.url,
            self.credentials(),
            self.policy,
            self.cancel,
        )
        .map_err(|e| self.failed(e))?;
        Ok(remote.into_iter().map(|(oid, _)| oid).collect())
    }

    fn credentials(&self) -> Option<&Credentials> {
        self.target.credentials.as_ref()
    }

    fn failed(&self, source: SourceError) -> PipelineError {
        match source {
            SourceError::Cancelled => PipelineError::Source(SourceError::Cancelled),
            source => PipelineError::Mirror {
                url: redact(&self.target.url),
                source,
            },
        }
    }

    /// Published refs that lead to a commit, as `(commit id, ref name)`: the default
    /// branch first, then the rest in ref-name order (branches before notes and tags).
    fn published_commits(&self) -> Result<Vec<(String, String)>, PipelineError> {
        let mut args = vec![
            "for-each-ref",
            "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname) %(refname)",
        ];
        args.extend_from_slice(&publish::PUBLISHED_NAMESPACES);
        let first = self.default_branch.map(|b| format!("refs/heads/{b}"));
        let mut refs = Vec::new();
        for_each_line(self.git_dir, &args, self.cancel, |line| {
            let fields: Vec<&str> = line.splitn(5, ' ').collect();
            let commit = match fields.as_slice() {
                ["commit", oid, _, _, _] => Some(*oid),
                ["tag", _, "commit", peeled, _] => Some(*peeled),
                _ => None,
            };
            if let (Some(oid), Some(name)) = (commit, fields.last()) {
                refs.push((oid.to_owned(), (*name).to_owned()));
            }
            true
        })?;
        if let Some(first) = first {
            refs.sort_by_key(|(_, name)| *name != first);
        }
        Ok(refs)
    }
}

/// Pushes in steps under the limit, remembering what was sent.
struct Steps<'a, 'm> {
    mirror: &'a Mirror<'m>,
    /// Excludes what the mirror advertises and every commit queued since.
    history: History<'a>,
    /// The next push: `(commit, ref)`, at most one per ref.
    pending: Vec<(String, String)>,
    pending_bytes: u64,
    /// Estimated bytes of the whole transfer, and of the pushes made so far.
    total: u64,
    sent: u64,
    pushes: u32,
}

impl Steps<'_, '_> {
    /// Brings `name` up to `commit`, in as many pushes as the limit needs (the last one
    /// may stay pending, shared with the next refs).
    fn advance(&mut self, name: &str, commit: &str) -> Result<(), PipelineError> {
        let limit = self.mirror.limit;
        loop {
            let rest = self.history.disk_usage([commit])?;
            if rest == 0 {
                return Ok(());
            }
            if self.pending_bytes + rest <= limit {
                self.queue(name, commit, rest);
                return Ok(());
            }
            if !self.pending.is_empty() {
                self.flush()?;
                continue;
            }
            // Too large alone: the longest run of first-parent commits, from the oldest not
            // yet sent, that fits. Galloping from the old end (each probe reads about as
            // much history as the step it tries), then bisection: usage only grows
            // towards the tip, which is known not to fit.
            let count = self.history.first_parent_count(commit)?;
            let (mut good, mut bad, mut length) = (0, count, 1);
            while length < bad {
                if self.fits(commit, count - length)? {
                    good = length;
                    length *= 2;
                } else {
                    bad = length;
                }
            }
            while bad - good > 1 {
                let middle = good + (bad - good) / 2;
                if self.fits(commit, count - middle)? {
                    good = middle;
                } else {
                    bad = middle;
                }
            }
            let step = if good > 0 {
                self.history.first_parent_at(commit, count - good)?
            } else {
                let oldest = self
                    .history
                    .first_parent_at(commit, count.saturating_sub(1))?;
                // Even the oldest commit not yet sent is too large: first its merged sides,
                // if they bring anything, else the commit alone.
                let mut sides = Vec::new();
                for side in self.history.merged_parents(&oldest)? {
                    if self.history.disk_usage([side.as_str()])? > 0 {
                        sides.push(side);
                    }
                }
                if !sides.is_empty() {
                    for side in sides {
                        self.advance(name, &side)?;
                    }
                    continue;
                }
                let bytes = self.history.disk_usage([oldest.as_str()])?;
                tracing::warn!(
                    url = %redact(&self.mirror.target.url),
                    commit = %oldest,
                    bytes,
                    limit,
                    "one commit is larger than the push size limit: pushing it alone"
                );
                oldest
            };
            let bytes = self.history.disk_usage([step.as_str()])?;
            self.queue(name, &step, bytes);
            self.flush()?;
        }
    }

    /// Whether what the commit `steps` first parents back from `tip` adds fits one push.
    fn fits(&self, tip: &str, steps: u64) -> Result<bool, PipelineError> {
        let candidate = self.history.first_parent_at(tip, steps)?;
        Ok(self.history.disk_usage([candidate.as_str()])? <= self.mirror.limit)
    }

    /// Adds `+commit:name` to the next push (replacing an earlier step of the same ref,
    /// which `commit` descends from).
    fn queue(&mut self, name: &str, commit: &str, bytes: u64) {
        self.pending.retain(|(_, queued)| queued != name);
        self.pending.push((commit.to_owned(), name.to_owned()));
        self.pending_bytes += bytes;
        self.history.exclude.push(commit.to_owned());
    }

    fn flush(&mut self) -> Result<(), PipelineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let bytes = std::mem::take(&mut self.pending_bytes);
        self.push(PushRefs::Steps(&pending), bytes)?;
        // The mirror's refs now, as the next push negotiates with them: the steps just
        // pushed, and no longer what they replaced.
        self.history.exclude = self.mirror.remote_tips()?;
        Ok(())
    }

    /// One `git push` of about `bytes`, its progress scaled into the whole transfer's.
    fn push(&mut self, refs: PushRefs<'_>, bytes: u64) -> Result<(), PipelineError> {
        let mirror = self.mirror;
        let (sent, total) = (self.sent, self.total.max(1));
        git_source::push(
            mirror.git_dir,
            &mirror.target.url,
            mirror.credentials(),
            mirror.policy,
            refs,
            |percent| {
                let done = sent + bytes.saturating_mul(u64::from(percent)) / 100;
                let overall = (done.saturating_mul(100) / total).min(99);
                mirror
                    .progress
                    .push_percent(u8::try_from(overall).unwrap_or(99));
            },
            mirror.cancel,
        )
        .map_err(|e| mirror.failed(e))?;
        self.sent += bytes;
        self.pushes += 1;
        tracing::debug!(
            url = %redact(&mirror.target.url),
            push = self.pushes,
            bytes,
            "pushed a step to the mirror"
        );
        Ok(())
    }
}
