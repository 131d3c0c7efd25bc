//! Git sources: probing and fetching every branch and tag with the real `git` client.
//!
//! Credentials reach git through a credential helper that reads them from the child's
//! environment, so they never appear in argv, in the repository config or in logs.

use std::path::Path;
use std::process::Command;

use crate::process::{self, Finished};
use crate::url_policy::UrlPolicy;
use crate::{Cancel, Credentials, Progress, ProgressEvent, SourceError};

const USER_VAR: &str = "SRCIMPORT_SOURCE_USERNAME";
const PASS_VAR: &str = "SRCIMPORT_SOURCE_PASSWORD";
const CREDENTIAL_HELPER: &str = "!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' \"$SRCIMPORT_SOURCE_USERNAME\" \"$SRCIMPORT_SOURCE_PASSWORD\"; }; f";

/// Blobs above this are streamed by git instead of being held in memory whole.
const LARGE_BLOBS_STREAM: &str = "core.bigFileThreshold=32m";

/// How much of a packfile local git plumbing maps at once, and in all: with git's defaults
/// (1 GiB windows, no practical limit) every page of every pack a command touched stays
/// resident, which made a 30,000-revision import's rev-list and cat-file 35–43 MiB
/// processes. 1 MiB windows, at most 8 MiB of them, cost no measurable time there
/// (BENCHMARKS.md). Transfers (clone, fetch, push) keep git's defaults: unmeasured on
/// multi-GiB packs.
const PACK_WINDOWS: [&str; 2] = ["core.packedGitWindowSize=1m", "core.packedGitLimit=8m"];

/// Where fetched source refs are kept inside the hosted repository, hidden from clients.
pub const RAW_NAMESPACE: &str = "refs/srcimport/raw/";

/// A local `git` command (plumbing on a repository of ours) with a hermetic,
/// non-interactive environment and small pack windows.
pub fn command(git_dir: Option<&Path>) -> Command {
    let mut cmd = hermetic(git_dir);
    for setting in PACK_WINDOWS {
        cmd.args(["-c", setting]);
    }
    cmd
}

/// A `git` command with a hermetic, non-interactive environment.
fn hermetic(git_dir: Option<&Path>) -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // Never the server's own keys, agent, ssh config or ~/.netrc for a user's import.
        .env(
            "GIT_SSH_COMMAND",
            "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile=/dev/null",
        )
        .env("HOME", "/nonexistent")
        .env_remove("SSH_AUTH_SOCK")
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS");
    if let Some(dir) = git_dir {
        cmd.arg("--git-dir").arg(dir);
    }
    cmd
}

/// A `git` command allowed to talk to `url`'s transport, with credentials if given, after
/// the policy accepted `url`; HTTP connections go to the very address that was checked.
fn remote_command(
    git_dir: Option<&Path>,
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
) -> Result<Command, SourceError> {
    let pinned = policy.check(url)?;
    let mut cmd = hermetic(git_dir);
    if let Some(pin) = pinned {
        let ip = match pin.ip {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        cmd.args([
            "-c",
            &format!("http.curloptResolve={}:{}:{ip}", pin.host, pin.port),
        ]);
    }
    let protocols = if policy.allow_local_paths {
        "http:https:git:ssh:file"
    } else {
        "http:https:git:ssh"
    };
    cmd.env("GIT_ALLOW_PROTOCOL", protocols)
        .args(["-c", "credential.helper=", "-c", "protocol.file.allow=user"])
        .args(["-c", "http.followRedirects=false"]);
    if let Some(creds) = credentials {
        cmd.args(["-c", &format!("credential.helper={CREDENTIAL_HELPER}")])
            .env(USER_VAR, &creds.username)
            .env(PASS_VAR, &creds.password);
    }
    Ok(cmd)
}

/// Checks that `url` answers as a Git repository; returns its default branch, if it says.
pub fn probe(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Option<String>, SourceError> {
    let mut cmd = remote_command(None, url, credentials, policy)?;
    cmd.args(["ls-remote", "--symref", "--", url, "HEAD"]);
    let done = process::run(cmd, None, cancel, |_| {})?;
    let done = classify(url, credentials, done)?;
    Ok(String::from_utf8_lossy(&done.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("ref: refs/heads/"))
        .and_then(|l| l.split('\t').next())
        .map(str::to_owned))
}

/// Fetches every branch and tag of `url` into `git_dir` under [`RAW_NAMESPACE`], pruning
/// refs the source no longer has. Reports transfer progress as percentages.
pub fn fetch(
    url: &str,
    git_dir: &Path,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<(), SourceError> {
    let mut cmd = remote_command(Some(git_dir), url, credentials, policy)?;
    cmd.args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"])
        .args([
            "-c",
            "fetch.writeCommitGraph=false",
            "-c",
            LARGE_BLOBS_STREAM,
        ])
        .args([
            "fetch",
            "--prune",
            "--progress",
            "--no-write-fetch-head",
            "--no-tags",
        ])
        .args(["--", url])
        .arg(format!("+refs/heads/*:{RAW_NAMESPACE}heads/*"))
        .arg(format!("+refs/tags/*:{RAW_NAMESPACE}tags/*"));
    let done = process::run(cmd, None, cancel, percent_reporter(progress))?;
    classify(url, credentials, done).map(|_| ())
}

/// First import into an empty repository: `git clone --bare` into `staging` (clone checks
/// connectivity while indexing, a fetch checks it again afterwards), then the packs move
/// into `git_dir` and the branches and tags become raw refs there. `staging` is removed.
pub fn clone_into(
    url: &str,
    git_dir: &Path,
    staging: &Path,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<(), SourceError> {
    let _ = std::fs::remove_dir_all(staging);
    let mut cmd = remote_command(None, url, credentials, policy)?;
    cmd.args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"])
        .args(["-c", LARGE_BLOBS_STREAM])
        .args(["clone", "--bare", "--progress", "--", url])
        .arg(staging);
    let done = process::run(cmd, None, cancel, percent_reporter(progress));
    let moved = done
        .and_then(|done| classify(url, credentials, done))
        .and_then(|_| adopt_clone(git_dir, staging, cancel));
    let _ = std::fs::remove_dir_all(staging);
    moved
}

/// Moves a staging clone's objects (packs, and loose objects for small transfers) into
/// `git_dir` and records its refs as raw refs.
fn adopt_clone(git_dir: &Path, staging: &Path, cancel: &Cancel) -> Result<(), SourceError> {
    let from = staging.join("objects");
    let to = git_dir.join("objects");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&from)
        .map_err(|e| SourceError::io(&from, e))?
        .flatten()
    {
        let name = dir.file_name();
        if name == "info" || !dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path())
            .map_err(|e| SourceError::io(dir.path(), e))?
            .flatten()
        {
            files.push((Path::new(&name).join(file.file_name()), file.path()));
        }
    }
    // Pack indexes last: a pack is visible once its .idx exists.
    files.sort_by_key(|(relative, _)| relative.extension().is_some_and(|e| e == "idx"));
    for (relative, source) in files {
        let target = to.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SourceError::io(parent, e))?;
        }
        std::fs::rename(&source, &target).map_err(|e| SourceError::io(&source, e))?;
    }
    let mut list = command(Some(staging));
    list.args([
        "for-each-ref",
        "--format=%(objectname) %(refname)",
        "refs/heads",
        "refs/tags",
    ]);
    let refs =
        process::run_pipe_bound(list, None, cancel, |_| {})?.success_or("git for-each-ref")?;
    let mut updates = String::from("start\n");
    for line in String::from_utf8_lossy(&refs.stdout).lines() {
        if let Some((oid, name)) = line.split_once(' ') {
            let short = name.strip_prefix("refs/").unwrap_or(name);
            updates.push_str(&format!("update {RAW_NAMESPACE}{short} {oid}\n"));
        }
    }
    updates.push_str("commit\n");
    let mut update = command(Some(git_dir));
    update.args(["update-ref", "--stdin"]);
    process::run_pipe_bound(update, Some(updates.into_bytes()), cancel, |_| {})?
        .success_or("git update-ref")?;
    Ok(())
}

/// True when a branch or tag tip of the raw import routes files through Git LFS
/// (its `.gitattributes` names `filter=lfs`).
pub fn uses_lfs(git_dir: &Path, cancel: &Cancel) -> Result<bool, SourceError> {
    let mut list = command(Some(git_dir));
    list.args(["for-each-ref", "--format=%(refname)", RAW_NAMESPACE]);
    let refs =
        process::run_pipe_bound(list, None, cancel, |_| {})?.success_or("git for-each-ref")?;
    for raw_ref in String::from_utf8_lossy(&refs.stdout).lines() {
        let mut show = command(Some(git_dir));
        show.args(["cat-file", "-p", &format!("{raw_ref}:.gitattributes")]);
        let shown = process::run_pipe_bound(show, None, cancel, |_| {})?;
        if shown.status.success() && String::from_utf8_lossy(&shown.stdout).contains("filter=lfs") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Fetches every Git LFS object the imported history points at from the source's LFS
/// server (with the real `git lfs` client) into `git_dir/lfs/objects`, the hosted
/// repository's LFS store. Objects the source lacks are left out and reported in the
/// returned message list.
pub fn fetch_lfs_objects(
    url: &str,
    git_dir: &Path,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Vec<String>, SourceError> {
    let mut cmd = remote_command(Some(git_dir), url, credentials, policy)?;
    cmd.args(["-c", &format!("remote.srcimport-source.url={url}")])
        .args(["lfs", "fetch", "--all", "srcimport-source"]);
    let done = process::run(cmd, None, cancel, |_| {})?;
    if done.status.success() {
        return Ok(Vec::new());
    }
    let classified = classify(url, credentials, done);
    match classified {
        Err(SourceError::Command { detail, .. })
        | Err(SourceError::NotFound { reason: detail, .. }) => Ok(vec![format!(
            "some Git LFS objects could not be fetched from the source: {detail}"
        )]),
        Err(other) => Err(other),
        Ok(_) => Ok(Vec::new()),
    }
}

/// What one push sends: the mirror of whole namespaces, or single commits to refs.
pub enum PushRefs<'a> {
    /// The refs of `git_dir` under these namespaces (each ending in `/`): forced updates,
    /// and refs the remote has there but `git_dir` lacks are deleted.
    Mirror(&'a [&'a str]),
    /// Forced updates of refs to commits: `(commit id, full ref name)`.
    Steps(&'a [(String, String)]),
}

/// Pushes `refs` from `git_dir` to `url`. Credentials go through the credential helper, as
/// for sources. `on_percent` hears the transfer progress ("Writing objects"), each
/// percentage once.
pub fn push(
    git_dir: &Path,
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    refs: PushRefs<'_>,
    mut on_percent: impl FnMut(u8),
    cancel: &Cancel,
) -> Result<(), SourceError> {
    let mut cmd = remote_command(Some(git_dir), url, credentials, policy)?;
    cmd.args(["push", "--progress"]);
    match refs {
        PushRefs::Mirror(namespaces) => {
            cmd.args(["--prune", "--", url])
                .args(namespaces.iter().map(|ns| format!("+{ns}*:{ns}*")));
        }
        PushRefs::Steps(steps) => {
            cmd.args(["--", url])
                .args(steps.iter().map(|(oid, name)| format!("+{oid}:{name}")));
        }
    }
    let mut last = None;
    let done = process::run(cmd, None, cancel, |line| {
        if let Some(percent) = phase_percent(line, "Writing objects:") {
            if last != Some(percent) {
                last = Some(percent);
                on_percent(percent);
            }
        }
    })?;
    classify(url, credentials, done)
        .map(|_| ())
        .map_err(|e| named_command(e, "git push"))
}

/// The refs `url` advertises, as `(object id, ref name)`.
pub fn remote_refs(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Vec<(String, String)>, SourceError> {
    let mut cmd = remote_command(None, url, credentials, policy)?;
    cmd.args(["ls-remote", "--", url]);
    let done = process::run(cmd, None, cancel, |_| {})?;
    let done = classify(url, credentials, done).map_err(|e| named_command(e, "git ls-remote"))?;
    Ok(String::from_utf8_lossy(&done.stdout)
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(oid, name)| (oid.to_owned(), name.to_owned()))
        .collect())
}

/// Pushes the Git LFS objects that the refs under `namespaces` point at to `url`'s LFS
/// endpoint, with the real `git lfs` client (before the refs, so the remote never holds a
/// pointer without its object).
pub fn push_lfs_objects(
    git_dir: &Path,
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    namespaces: &[&str],
    cancel: &Cancel,
) -> Result<(), SourceError> {
    let cmd = remote_command(Some(git_dir), url, credentials, policy)?;
    let done = lfs_push_refs(git_dir, cmd, url, namespaces, cancel)?;
    classify(url, credentials, done)
        .map(|_| ())
        .map_err(|e| named_command(e, "git lfs push"))
}

/// Runs `git` (a command prepared for the remote: its environment and `--git-dir`) as
/// `git lfs push --all --stdin URL`, fed the refs under `namespaces`.
pub fn lfs_push_refs(
    git_dir: &Path,
    mut git: Command,
    url: &str,
    namespaces: &[&str],
    cancel: &Cancel,
) -> Result<process::Finished, SourceError> {
    let mut list = command(Some(git_dir));
    list.args(["for-each-ref", "--format=%(refname)"])
        .args(namespaces);
    let refs =
        process::run_pipe_bound(list, None, cancel, |_| {})?.success_or("git for-each-ref")?;
    git.args(["lfs", "push", "--all", "--stdin", "--", url]);
    process::run(git, Some(refs.stdout), cancel, |_| {})
}

fn named_command(error: SourceError, name: &str) -> SourceError {
    match error {
        SourceError::Command { detail, .. } => SourceError::Command {
            command: name.to_owned(),
            detail,
        },
        other => other,
    }
}

/// The percentage in a git progress line of the phase `label` ("Writing objects:").
fn phase_percent(line: &str, label: &str) -> Option<u8> {
    let rest = line.trim_start().strip_prefix(label)?;
    let percent: u32 = rest.trim().split('%').next()?.trim().parse().ok()?;
    u8::try_from(percent.min(100)).ok()
}

/// A stderr-line callback that reports git's transfer progress, each percentage once.
fn percent_reporter(progress: &dyn Progress) -> impl FnMut(&str) + '_ {
    let mut last = None;
    move |line| {
        if let Some(percent) = transfer_percent(line) {
            if last != Some(percent) {
                last = Some(percent);
                progress.report(ProgressEvent::Percent(percent));
            }
        }
    }
}

/// Maps git's progress lines onto one 0..=100 scale: receiving is 0..90, resolving 90..100.
fn transfer_percent(line: &str) -> Option<u8> {
    let (phase_start, phase_span) = if line.starts_with("Receiving objects:") {
        (0u32, 90u32)
    } else if line.starts_with("Resolving deltas:") {
        (90, 10)
    } else {
        return None;
    };
    let percent: u32 = line
        .split(':')
        .nth(1)?
        .trim()
        .split('%')
        .next()?
        .trim()
        .parse()
        .ok()?;
    u8::try_from(phase_start + percent.min(100) * phase_span / 100).ok()
}

/// Turns a finished remote command into success or the matching [`SourceError`].
fn classify(
    url: &str,
    credentials: Option<&Credentials>,
    done: Finished,
) -> Result<Finished, SourceError> {
    if done.status.success() {
        return Ok(done);
    }
    let stderr = done.stderr_tail.to_ascii_lowercase();
    let auth_markers = [
        "authentication failed",
        "could not read username",
        "could not read password",
        "the requested url returned error: 401",
        "the requested url returned error: 403",
        "permission denied (publickey",
    ];
    if auth_markers.iter().any(|m| stderr.contains(m)) {
        return Err(SourceError::auth(url, credentials));
    }
    let missing_markers = [
        "not found",
        "does not appear to be a git repository",
        "returned error: 404",
        "could not resolve host",
        "connection refused",
        "failed to connect",
        "not a git repository",
        "unable to access",
        "protocol error",
        "transport '",
    ];
    let reason = process::last_lines(&done.stderr_tail);
    if missing_markers.iter().any(|m| stderr.contains(m)) {
        Err(SourceError::NotFound {
            url: url.into(),
            reason,
        })
    } else {
        Err(SourceError::Command {
            command: "git fetch".into(),
            detail: reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_map_onto_one_scale() {
        assert_eq!(transfer_percent("Receiving objects:  50% (5/10)"), Some(45));
        assert_eq!(
            transfer_percent("Receiving objects: 100% (10/10), done."),
            Some(90)
        );
        assert_eq!(
            transfer_percent("Resolving deltas: 100% (3/3), done."),
            Some(100)
        );
        assert_eq!(transfer_percent("remote: Counting objects: 10"), None);
        assert_eq!(
            phase_percent("Writing objects:  42% (21/50)", "Writing objects:"),
            Some(42)
        );
        assert_eq!(
            phase_percent("Counting objects: 5", "Writing objects:"),
            None
        );
    }

    #[test]
    fn unreachable_source_is_not_found() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let url = format!("http://127.0.0.1:{port}/nothing.git");
        let err = probe(&url, None, &UrlPolicy::default(), &Cancel::new()).expect_err("fails");
        assert!(matches!(err, SourceError::NotFound { .. }), "{err:?}");
    }
}
