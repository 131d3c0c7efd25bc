//! Getting a Mercurial repository: `hg clone -U` the first time, `hg pull` after, with
//! credentials in a temporary hgrc `[auth]` section (never in argv), and probing a URL.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{self, Finished};
use crate::url_policy::UrlPolicy;
use crate::{Cancel, Credentials, SourceError};

/// An hgrc holding the credentials for one command, removed when dropped.
struct AuthConfig(Option<PathBuf>);

impl AuthConfig {
    fn write(
        dir: &Path,
        url: &str,
        credentials: Option<&Credentials>,
    ) -> Result<AuthConfig, SourceError> {
        let Some(creds) = credentials else {
            return Ok(AuthConfig(None));
        };
        std::fs::create_dir_all(dir).map_err(|e| SourceError::io(dir, e))?;
        let path = dir.join(format!("srcimport-hgrc-{}", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| SourceError::io(&path, e))?;
        let clean = |s: &str| s.replace(['\n', '\r'], "");
        writeln!(
            file,
            "[auth]\nsource.prefix = {}\nsource.username = {}\nsource.password = {}",
            clean(url),
            clean(&creds.username),
            clean(&creds.password)
        )
        .map_err(|e| SourceError::io(&path, e))?;
        Ok(AuthConfig(Some(path)))
    }
}

impl Drop for AuthConfig {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn hg(auth: &AuthConfig) -> Command {
    let mut cmd = Command::new("hg");
    cmd.env("HGPLAIN", "1")
        .env("HGENCODING", "utf-8")
        .env("LC_ALL", "C")
        .env("HOME", "/nonexistent")
        .env(
            "HGRCPATH",
            auth.0.as_deref().unwrap_or(Path::new("/dev/null")),
        )
        .args(["--config", "ui.interactive=false", "--noninteractive"]);
    cmd
}

fn classify(
    url: &str,
    credentials: Option<&Credentials>,
    done: Finished,
) -> Result<Finished, SourceError> {
    if done.status.success() {
        return Ok(done);
    }
    let stderr = done.stderr_tail.to_ascii_lowercase();
    if stderr.contains("authorization") || stderr.contains("401") || stderr.contains("403") {
        return Err(SourceError::auth(url, credentials));
    }
    Err(SourceError::NotFound {
        url: url.into(),
        reason: process::last_lines(&done.stderr_tail),
    })
}

/// Checks that `url` answers as a Mercurial repository.
pub fn probe(
    url: &str,
    scratch: &Path,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<(), SourceError> {
    policy.check(url)?;
    let auth = AuthConfig::write(scratch, url, credentials)?;
    let mut cmd = hg(&auth);
    cmd.args(["identify", "--", url]);
    classify(url, credentials, process::run(cmd, None, cancel, |_| {})?).map(|_| ())
}

/// Brings `url`'s complete history into the repository at `cache` (created if missing).
/// `hg pull` only adds: when the cache holds changesets the source no longer has (it was
/// stripped or rewritten), the cache is cloned afresh, so it always equals the source.
pub fn sync(
    url: &str,
    cache: &Path,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<(), SourceError> {
    policy.check(url)?;
    let scratch = cache.parent().unwrap_or(cache);
    let auth = AuthConfig::write(scratch, url, credentials)?;
    if cache.join(".hg").is_dir() && !lost_changesets(url, cache, &auth, credentials, cancel)? {
        let mut cmd = hg(&auth);
        cmd.args(["pull", "--quiet", "-R"])
            .arg(cache)
            .args(["--", url]);
        return classify(url, credentials, process::run(cmd, None, cancel, |_| {})?).map(|_| ());
    }
    let _ = std::fs::remove_dir_all(cache);
    let mut cmd = hg(&auth);
    cmd.args(["clone", "--quiet", "--noupdate", "--", url])
        .arg(cache);
    classify(url, credentials, process::run(cmd, None, cancel, |_| {})?).map(|_| ())
}

/// Whether `cache` holds changesets `url` does not (`hg outgoing`: exit 0 when there are
/// some, 1 when there are none).
fn lost_changesets(
    url: &str,
    cache: &Path,
    auth: &AuthConfig,
    credentials: Option<&Credentials>,
    cancel: &Cancel,
) -> Result<bool, SourceError> {
    let mut cmd = hg(auth);
    cmd.args(["outgoing", "--quiet", "--template", "{node}\\n", "-R"])
        .arg(cache)
        .args(["--", url]);
    let done = process::run(cmd, None, cancel, |_| {})?;
    if done.status.code() == Some(1) && done.stdout.is_empty() {
        return Ok(false);
    }
    classify(url, credentials, done).map(|done| !done.stdout.is_empty())
}
