//! Load benchmark: N concurrent pollers on `GET /repos/{repo}/import`, each polling at a
//! fixed rate over keep-alive connections, as import tooling does. Reports latency
//! percentiles and errors. Run by `bench/spine.sh`; not a test.
//!
//! Usage: cargo bench --bench pollers -- BASE_URL TOKEN OWNER/REPO [POLLERS] [SECONDS] [INTERVAL_MS]

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.len() < 3 {
        eprintln!("usage: pollers BASE_URL TOKEN OWNER/REPO [POLLERS] [SECONDS] [INTERVAL_MS]");
        std::process::exit(2);
    }
    let url = format!("{}/repos/{}/import", args[0], args[2]);
    let auth = format!("token {}", args[1]);
    let pollers: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seconds: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
    let interval = Duration::from_millis(args.get(5).and_then(|s| s.parse().ok()).unwrap_or(100));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..pollers)
            .map(|i| {
                let (url, auth) = (&url, &auth);
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new()
                        .timeout(Duration::from_secs(10))
                        .build();
                    let mut latencies = Vec::new();
                    let mut errors = 0;
                    // Spread the pollers' phases over one interval.
                    let mut next = Instant::now()
                        + interval * u32::try_from(i).unwrap_or(0)
                            / u32::try_from(pollers).unwrap_or(1);
                    while next < deadline {
                        if let Some(wait) = next.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let started = Instant::now();
                        match agent.get(url).set("Authorization", auth).call() {
                            Ok(response) if response.status() == 200 => {
                                let _ = response.into_string();
                                latencies.push(started.elapsed());
                            }
                            _ => errors += 1,
                        }
                        next += interval;
                    }
                    (latencies, errors)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut all: Vec<Duration> = results
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    let errors: usize = results.iter().map(|(_, e)| e).sum();
    all.sort();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "pollers={pollers} interval={}ms requests={} errors={errors} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        interval.as_millis(),
        all.len(),
        pick(0.50).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}
