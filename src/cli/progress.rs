//! Progress on stderr while a conversion runs: one rewritten line on a terminal (a bar,
//! phase, percentage, commits, rate, time left), plain lines otherwise.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

pub struct Printer {
    pub quiet: bool,
}

/// Where a conversion stands: its phase (`importing`, …, `complete`), the phase's
/// percentage and the commits counted so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub phase: String,
    pub percent: i64,
    pub commits: i64,
}

impl Printer {
    /// Runs `work` while a second thread reports where it stands (as `standing` says,
    /// when it knows); the reporter wakes as soon as `work` ends, so it adds no wait.
    pub fn while_running<T>(
        &self,
        standing: impl Fn() -> Option<Standing> + Sync,
        work: impl FnOnce() -> T,
    ) -> T {
        if self.quiet {
            return work();
        }
        let (finished, done) = mpsc::channel::<()>();
        let terminal = std::io::stderr().is_terminal();
        std::thread::scope(|scope| {
            scope.spawn(|| report(&standing, done, terminal));
            let result = work();
            drop(finished);
            result
        })
    }
}

/// `[#####---------------]` for a percentage.
fn bar(percent: i64) -> String {
    const WIDTH: i64 = 20;
    let filled = (percent * WIDTH / 100).clamp(0, WIDTH) as usize;
    format!(
        "[{}{}]",
        "#".repeat(filled),
        "-".repeat(WIDTH as usize - filled)
    )
}

/// `, about 12s left` once a phase is far enough along to guess.
fn time_left(elapsed: f64, percent: i64) -> String {
    if !(5..100).contains(&percent) {
        return String::new();
    }
    let left = elapsed * (100 - percent) as f64 / percent as f64;
    format!(", about {left:.0}s left")
}

/// Reports every 100 ms, and once more when `done` disconnects (the work ended).
fn report(standing: &dyn Fn() -> Option<Standing>, done: mpsc::Receiver<()>, terminal: bool) {
    let started = Instant::now();
    let mut last_line = String::new();
    let mut stderr = std::io::stderr();
    let mut finished = false;
    loop {
        if let Some(Standing {
            phase,
            percent,
            commits,
        }) = standing()
        {
            let elapsed = started.elapsed().as_secs_f64().max(0.001);
            let line = format!("{phase}: {percent}% {commits} commits");
            if line != last_line {
                if terminal {
                    let _ = write!(
                        stderr,
                        "\r\x1b[2K{} {line} ({:.0} commits/s, {elapsed:.1}s{})",
                        bar(percent.clamp(0, 100)),
                        commits as f64 / elapsed,
                        time_left(elapsed, percent)
                    );
                } else {
                    let _ = writeln!(stderr, "{line}");
                }
                last_line = line;
            }
        }
        if finished {
            if terminal {
                let _ = writeln!(stderr);
            }
            return;
        }
        finished = matches!(
            done.recv_timeout(Duration::from_millis(100)),
            Err(RecvTimeoutError::Disconnected) | Ok(())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_and_time_left_follow_the_percentage() {
        assert_eq!(bar(0), "[--------------------]");
        assert_eq!(bar(50), "[##########----------]");
        assert_eq!(bar(100), "[####################]");
        assert_eq!(time_left(10.0, 50), ", about 10s left");
        assert_eq!(time_left(10.0, 2), "");
        assert_eq!(time_left(10.0, 100), "");
    }
}
