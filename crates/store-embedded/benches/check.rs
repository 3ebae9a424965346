//! The rules check alone (the history of BENCHMARKS.md, append, 2026-11-22): a fresh
//! validation state grown to `EVENTS` events (default 600,000) by batches of
//! 512 benchmark actions, each batch checked and folded in as one change, as
//! the ledger's writer does, with no store and no sealing. Prints each
//! round's mean, median, 99th percentile and longest batch: the work of the
//! append benchmark's "check" column, without the store's work between
//! batches (which leaves the caches cold there); the longest batch is the
//! pause an append can meet when the state grows.
//!
//! The first round runs in a fresh process, as a ledger does after start;
//! later rounds (`ROUNDS`, default 3) reuse the memory the earlier round
//! freed, so they show what the state's growth costs apart from fresh memory.
//!
//! Run: `cargo bench -p govledger-store-embedded --bench check`.

mod common;

use std::time::{Duration, Instant};

use common::{action, micros, preamble};
use govledger_domain::{State, Submission, Timestamp};
use uuid::Uuid;

/// The `govledger` binary's allocator (crates/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 512;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let events: u64 = env_or("EVENTS", 600_000);
    let rounds: usize = env_or("ROUNDS", 3);
    let now = Timestamp::parse("2026-11-22T00:00:00Z").expect("a valid timestamp");
    println!("rules check of batches of {BATCH} on a fresh state grown to {events} events, µs per batch");
    println!("| round | batches | mean | median | p99 | longest | µs per event |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for round in 1..=rounds {
        let mut state = State::new();
        let mut txn = state.begin();
        for sub in preamble() {
            txn.admit(Uuid::now_v7(), &sub, now).expect("the preamble passes the rules");
        }
        txn.commit();
        let mut n = 0;
        let mut times = Vec::new();
        while n < events {
            let batch: Vec<(Uuid, Submission)> = (0..BATCH)
                .map(|_| {
                    n += 1;
                    (Uuid::now_v7(), action(n))
                })
                .collect();
            let started = Instant::now();
            let mut txn = state.begin();
            for (id, sub) in &batch {
                txn.admit(*id, sub, now).expect("benchmark events pass the rules");
            }
            txn.commit();
            times.push(started.elapsed());
        }
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        times.sort();
        let at = |q: f64| micros(times[((times.len() - 1) as f64 * q) as usize]);
        println!(
            "| {round} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.3} |",
            times.len(),
            micros(mean),
            at(0.5),
            at(0.99),
            at(1.0),
            micros(mean) / BATCH as f64
        );
    }
}
