//! Sizes of history for pushes made in steps: what tips add on disk over what a remote
//! already has, and commits along a first-parent chain. Every answer comes from one
//! `git rev-list` run that streams history and prints a number or one id.

use std::path::Path;

use srcimport_converters::Cancel;

use super::{run_git, GitError};

/// Reads history in one repository, excluding what is reachable from `exclude` (commits a
/// remote already has, or that an earlier push sent).
pub struct History<'a> {
    pub git_dir: &'a Path,
    pub cancel: &'a Cancel,
    /// Object ids; ids this repository lacks are ignored.
    pub exclude: Vec<String>,
}

impl History<'_> {
    /// Bytes on disk of the objects reachable from `tips` and not from the exclusions.
    pub fn disk_usage<'t>(&self, tips: impl IntoIterator<Item = &'t str>) -> Result<u64, GitError> {
        let out = self.rev_list(&["--objects", "--disk-usage"], tips)?;
        Ok(number(&out))
    }

    /// How many commits of `tip`'s first-parent chain are not excluded: those form the
    /// start of the chain, since an excluded commit's ancestors are excluded too.
    pub fn first_parent_count(&self, tip: &str) -> Result<u64, GitError> {
        let out = self.rev_list(&["--first-parent", "--count"], [tip])?;
        Ok(number(&out))
    }

    /// The commit `steps` first parents back from `tip` (0: `tip` itself).
    pub fn first_parent_at(&self, tip: &str, steps: u64) -> Result<String, GitError> {
        let skip = format!("--skip={steps}");
        let out = run_git(
            self.git_dir,
            &["rev-list", "--first-parent", &skip, "--max-count=1", tip],
            None,
            self.cancel,
        )?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// The parents of `commit` after its first (the sides a merge brings in).
    pub fn merged_parents(&self, commit: &str) -> Result<Vec<String>, GitError> {
        let out = run_git(
            self.git_dir,
            &["rev-list", "--parents", "--max-count=1", commit],
            None,
            self.cancel,
        )?;
        Ok(String::from_utf8_lossy(&out)
            .split_whitespace()
            .skip(2)
            .map(str::to_owned)
            .collect())
    }

    /// `git rev-list ARGS` over `tips` minus the exclusions, given on stdin.
    fn rev_list<'t>(
        &self,
        args: &[&str],
        tips: impl IntoIterator<Item = &'t str>,
    ) -> Result<Vec<u8>, GitError> {
        let mut input = String::new();
        for tip in tips {
            input.push_str(tip);
            input.push('\n');
        }
        for excluded in &self.exclude {
            input.push('^');
            input.push_str(excluded);
            input.push('\n');
        }
        let mut all = vec!["rev-list", "--ignore-missing", "--stdin"];
        all.extend_from_slice(args);
        run_git(self.git_dir, &all, Some(input.into_bytes()), self.cancel)
    }
}

fn number(out: &[u8]) -> u64 {
    String::from_utf8_lossy(out).trim().parse().unwrap_or(0)
}
