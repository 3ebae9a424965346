//! Shared pieces of the store benchmarks (see BENCHMARKS.md): where the
//! benchmark data directories live, the events they append, and the paired,
//! interleaved measurement that the goal ratios come from.
//!
//! Why a paired phase next to criterion: the machine is shared and noisy,
//! and criterion measures one function to the end before it starts the
//! next, so a burst of someone else's compile can land on one side only.
//! The paired phase alternates the two sides in short slices (A B B A …)
//! and takes the median of the per-round ratios, so slow spells hit both.

#![allow(dead_code)] // each bench binary uses a different subset

use std::path::PathBuf;
use std::time::{Duration, Instant};

use govledger_domain::Submission;

/// Where benchmark data directories are created: `GOVLEDGER_BENCH_DIR` if
/// set, else the system temp dir. It must be a real disk (not tmpfs), or
/// fsync costs nothing and the append figures mean little.
pub fn bench_root() -> PathBuf {
    std::env::var_os("GOVLEDGER_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir)
}

/// A fresh, empty directory under [`bench_root`], removed on drop.
pub fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir_in(bench_root()).expect("create a benchmark directory")
}

/// The coordinator that bootstraps every benchmark ledger.
pub const COORDINATOR: &str = "bench-coordination-office";
/// The agency whose actions are appended.
pub const AGENCY: &str = "bench-police-bureau";

/// A back-dated `occurred_at` (allowed: imports of history), so that the
/// "not more than 5 minutes in the future" rule never depends on the clock.
const OCCURRED_AT: &str = "2026-01-15T09:30:00Z";

fn parse(json: serde_json::Value) -> Submission {
    Submission::parse(json).expect("benchmark events are valid")
}

/// The bootstrap and one registered agency: what a ledger needs before
/// [`action`] events pass the rules.
pub fn preamble() -> Vec<Submission> {
    vec![
        parse(serde_json::json!({
            "type": "AgencyRegistered", "actor": COORDINATOR, "occurred_at": OCCURRED_AT,
            "data": {"agency_id": COORDINATOR, "name": "Municipal anti-fraud coordination office",
                     "kind": "government", "roles": ["coordinator", "evaluator"]}
        })),
        parse(serde_json::json!({
            "type": "AgencyRegistered", "actor": COORDINATOR, "occurred_at": OCCURRED_AT,
            "data": {"agency_id": AGENCY, "name": "Municipal public security bureau, anti-fraud centre",
                     "kind": "public_security", "jurisdiction": "Jinjiang district"}
        })),
    ]
}

/// The `n`-th action of the benchmark: a fresh entity id each time, and two
/// event types of realistic size (stored bodies of about 400 bytes).
pub fn action(n: u64) -> Submission {
    if n.is_multiple_of(2) {
        parse(serde_json::json!({
            "type": "PublicityDelivered", "actor": AGENCY, "occurred_at": OCCURRED_AT,
            "data": {"activity_id": format!("PUB-2026-{n:09}"),
                     "audience": "Residents of Jinjiang district community centres", "reach": 120 + n % 1000}
        }))
    } else {
        parse(serde_json::json!({
            "type": "CardBreakingAction", "actor": AGENCY, "occurred_at": OCCURRED_AT,
            "data": {"action_id": format!("CBA-2026-{n:09}"), "operation": "Operation Duanka spring sweep",
                     "bank_cards": n % 37, "phone_cards": n % 23, "internet_accounts": n % 11, "suspects": n % 5}
        }))
    }
}

/// A duration in microseconds, as the benchmarks print them.
pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// One side's measurement of one slice: how long it took and how many
/// events it handled.
#[derive(Debug, Clone, Copy)]
pub struct Slice {
    pub elapsed: Duration,
    pub events: u64,
}

impl Slice {
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// The outcome of a paired run: per-round rates of both sides and ratios.
#[derive(Debug, Clone)]
pub struct Paired {
    pub rounds: usize,
    pub a_events_per_s: f64,
    pub b_events_per_s: f64,
    /// Median of the per-round ratios a/b.
    pub ratio_median: f64,
    pub ratio_min: f64,
    pub ratio_max: f64,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
}

/// Runs `rounds` rounds; each times one slice of every side, starting at
/// side `round % sides.len()` and wrapping (A B, B A, … or A B C, B C A, …),
/// so drift and bursts of load hit every side. Returns events/s per side
/// and round: `rates[side][round]`.
pub fn interleaved(rounds: usize, sides: &mut [&mut dyn FnMut() -> Slice]) -> Vec<Vec<f64>> {
    let count = sides.len();
    let mut rates = vec![Vec::with_capacity(rounds); count];
    for round in 0..rounds {
        for k in 0..count {
            let side = (round + k) % count;
            rates[side].push((sides[side])().events_per_s());
        }
    }
    rates
}

/// Compares side `a` with side `b` round by round.
pub fn compare(a: &[f64], b: &[f64]) -> Paired {
    let mut ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    let ratio_min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let ratio_max = ratios.iter().copied().fold(0.0, f64::max);
    Paired {
        rounds: ratios.len(),
        a_events_per_s: median(&mut a.to_vec()),
        b_events_per_s: median(&mut b.to_vec()),
        ratio_median: median(&mut ratios),
        ratio_min,
        ratio_max,
    }
}

/// [`interleaved`] for two sides, compared.
pub fn paired(rounds: usize, mut a: impl FnMut() -> Slice, mut b: impl FnMut() -> Slice) -> Paired {
    let rates = interleaved(rounds, &mut [&mut a, &mut b]);
    compare(&rates[0], &rates[1])
}

/// Runs `step` (which reports its own timed duration and events) until at
/// least `target` of timed work has accumulated.
pub fn slice_for(target: Duration, mut step: impl FnMut() -> Slice) -> Slice {
    let mut total = Slice { elapsed: Duration::ZERO, events: 0 };
    let started = Instant::now();
    while total.elapsed < target && started.elapsed() < target * 4 {
        let s = step();
        total.elapsed += s.elapsed;
        total.events += s.events;
    }
    total
}

/// Whether criterion runs in test or list mode rather than measuring: like
/// criterion, measure only when `cargo bench` passed `--bench` (`cargo test
/// --benches` does not), and not with `--test` or `--list`. The paired phase
/// is skipped then.
pub fn quick_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test" || a == "--list")
}

/// The benchmark name filter given on the command line, if any (the first
/// argument that is not a flag, as criterion reads it).
pub fn name_filter() -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--bench" {
            continue;
        }
        if arg.starts_with("--") {
            // Flags with a value: skip the value too.
            if matches!(
                arg.as_str(),
                "--save-baseline"
                    | "--baseline"
                    | "--load-baseline"
                    | "--sample-size"
                    | "--measurement-time"
                    | "--warm-up-time"
                    | "--profile-time"
                    | "--noise-threshold"
                    | "--confidence-level"
                    | "--significance-level"
                    | "--nresamples"
                    | "--color"
                    | "--format"
                    | "--output-format"
                    | "--plotting-backend"
            ) {
                args.next();
            }
            continue;
        }
        if arg.starts_with('-') {
            continue;
        }
        return Some(arg);
    }
    None
}
