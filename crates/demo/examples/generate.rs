//! Generates the demo city without a ledger and prints how many events of
//! each type it wrote and how long it took: a measure of the generator
//! alone. `cargo run --release -p govledger-demo --example generate -- 25`
//! (the argument is the scale; the year ends 2026-01-01).

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use govledger_demo::{DemoConfig, events};

fn main() {
    let scale = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let until = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_else(Utc::now);
    let started = Instant::now();
    let mut by_type: BTreeMap<&'static str, u64> = BTreeMap::new();
    for sub in events(&DemoConfig { seed: 2026, scale, until }) {
        *by_type.entry(sub.event_type().as_str()).or_default() += 1;
    }
    let elapsed_s = started.elapsed().as_secs_f64();
    let total: u64 = by_type.values().sum();
    for (ty, n) in &by_type {
        println!("{ty:<24} {n:>9}");
    }
    println!("{total} events at scale {scale} in {elapsed_s:.2} s ({:.0} events/s)", total as f64 / elapsed_s);
}
