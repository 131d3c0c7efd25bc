//! Running external commands (git, hg, svn tools) so that cancellation kills them promptly.
//!
//! Every child runs in its own process group and is killed, group and all, as soon as the
//! [`Cancel`] token fires. A child that could go on alone (a network transfer, a server)
//! also dies with its parent (PR_SET_PDEATHSIG); one bound to us by its pipes (local git
//! plumbing) ends anyway when we do, and is spawned without `fork()`.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::{Cancel, SourceError};

/// How often a waiting caller looks at its cancellation token.
const CANCEL_POLL: Duration = Duration::from_millis(25);
/// How much of stderr is kept for error messages.
const STDERR_TAIL: usize = 16 * 1024;

/// What a finished command left behind.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The last few KiB of stderr, for error messages.
    pub stderr_tail: String,
}

impl Finished {
    /// Turns a non-zero exit into a [`SourceError::Command`] named after `what`.
    pub fn success_or(self, what: &str) -> Result<Finished, SourceError> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(SourceError::Command {
                command: what.to_owned(),
                detail: last_lines(&self.stderr_tail),
            })
        }
    }
}

/// Keeps the last meaningful line(s) of a command's stderr for an error message.
pub fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .flat_map(|l| l.split('\r'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(3);
    let joined = lines[start..].join("; ");
    if joined.is_empty() {
        "exited unsuccessfully".to_owned()
    } else {
        joined
    }
}

/// Puts `command` in its own process group, so that cancelling kills all of it. Enough for
/// a child bound to us by its pipes, that reads its work from us or writes its answers to
/// us: if we die it reads EOF (fast-import's `--done` and update-ref's `start`…`commit`
/// transactions then abort) or writes into a closed pipe, and ends. Such a
/// child is spawned with `posix_spawn`, which, unlike `fork()`, does not copy our page
/// tables: a few milliseconds per command for a process with libsvn mapped.
pub fn group(command: &mut Command) {
    command.process_group(0);
}

/// [`group`], and the child dies with us (PR_SET_PDEATHSIG): for children that could go on
/// alone. Needs `fork()`.
pub fn contain(command: &mut Command) {
    group(command);
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// Kills the child's whole process group.
pub fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: plain syscall on a process group we created.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

/// Runs `command` to completion, feeding `stdin` (if any), collecting stdout, calling
/// `on_stderr_line` for each `\n`- or `\r`-terminated stderr line, and killing it on cancel.
/// The child dies with us ([`contain`]).
pub fn run(
    mut command: Command,
    stdin: Option<Vec<u8>>,
    cancel: &Cancel,
    on_stderr_line: impl FnMut(&str),
) -> Result<Finished, SourceError> {
    contain(&mut command);
    run_prepared(command, stdin, cancel, on_stderr_line)
}

/// [`run`] for a child bound to us by its pipes (local git plumbing), which ends when we do
/// without being told ([`group`]).
pub fn run_pipe_bound(
    mut command: Command,
    stdin: Option<Vec<u8>>,
    cancel: &Cancel,
    on_stderr_line: impl FnMut(&str),
) -> Result<Finished, SourceError> {
    group(&mut command);
    run_prepared(command, stdin, cancel, on_stderr_line)
}

fn run_prepared(
    mut command: Command,
    stdin: Option<Vec<u8>>,
    cancel: &Cancel,
    mut on_stderr_line: impl FnMut(&str),
) -> Result<Finished, SourceError> {
    let program = format!("{:?}", command.get_program());
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| SourceError::Command {
        command: program.clone(),
        detail: format!("cannot start: {e}"),
    })?;
    let stdin_writer = child.stdin.take().zip(stdin).map(|(mut pipe, bytes)| {
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let stdout_reader = child.stdout.take().map(|mut pipe| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    });
    let (line_tx, line_rx) = mpsc::channel::<String>();
    let stderr_reader = child
        .stderr
        .take()
        .map(|pipe| thread::spawn(move || split_lines(pipe, |line| line_tx.send(line).is_ok())));
    let mut tail = String::new();
    let status = loop {
        for line in line_rx.try_iter() {
            on_stderr_line(&line);
            push_tail(&mut tail, &line);
        }
        if cancel.is_cancelled() {
            kill_group(&mut child);
            let _ = child.wait();
            return Err(SourceError::Cancelled);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => match line_rx.recv_timeout(CANCEL_POLL) {
                Ok(line) => {
                    on_stderr_line(&line);
                    push_tail(&mut tail, &line);
                }
                Err(_) => continue,
            },
            Err(e) => {
                kill_group(&mut child);
                return Err(SourceError::Command {
                    command: program,
                    detail: e.to_string(),
                });
            }
        }
    };
    if let Some(handle) = stderr_reader {
        let _ = handle.join();
    }
    for line in line_rx.try_iter() {
        on_stderr_line(&line);
        push_tail(&mut tail, &line);
    }
    if let Some(handle) = stdin_writer {
        let _ = handle.join();
    }
    let stdout = stdout_reader
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    Ok(Finished {
        status,
        stdout,
        stderr_tail: tail,
    })
}

fn push_tail(tail: &mut String, line: &str) {
    tail.push_str(line);
    tail.push('\n');
    if tail.len() > STDERR_TAIL {
        let mut cut = tail.len() - STDERR_TAIL;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail.drain(..cut);
    }
}

/// Reads `reader` to the end, handing each line (split on `\n` or `\r`) to `sink`
/// until it returns false.
fn split_lines(mut reader: impl Read, mut sink: impl FnMut(String) -> bool) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &byte in &buf[..n] {
            if byte == b'\n' || byte == b'\r' {
                if !pending.is_empty() {
                    let line = String::from_utf8_lossy(&pending).into_owned();
                    pending.clear();
                    if !sink(line) {
                        return;
                    }
                }
            } else if pending.len() < STDERR_TAIL {
                pending.push(byte);
            }
        }
    }
    if !pending.is_empty() {
        sink(String::from_utf8_lossy(&pending).into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn collects_output_and_lines() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; printf 'a\\rb\\nc' >&2; exit 3"]);
        let mut lines = Vec::new();
        let done = run(cmd, None, &Cancel::new(), |l| lines.push(l.to_owned())).expect("runs");
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(lines, ["a", "b", "c"]);
        assert_eq!(done.status.code(), Some(3));
        assert!(done.success_or("sh").is_err());
    }

    #[test]
    fn cancel_kills_the_whole_group() {
        let cancel = Cancel::new();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & echo started >&2; wait"]);
        let trigger = cancel.clone();
        let started = Instant::now();
        let result = run(cmd, None, &cancel, move |line| {
            if line == "started" {
                trigger.cancel();
            }
        });
        assert!(matches!(result, Err(SourceError::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn feeds_stdin() {
        let done = run(
            Command::new("cat"),
            Some(b"hello".to_vec()),
            &Cancel::new(),
            |_| {},
        )
        .expect("runs");
        assert_eq!(done.stdout, b"hello");
    }
}
