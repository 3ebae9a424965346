//! Tree catch-up rate: `Tree::extend` from an empty tree over an embedded
//! store of demo events, beside the least any tree over those events must
//! do, a bare SHA-256 loop over the same bodies.
//!
//! Sides, over the same store and bytes:
//! - `tree_catch_up`: `Tree::extend(reader, u64::MAX)` on an emptied tree —
//!   reading every row from SQLite, checking it with the ledger's `Verifier`
//!   (SHA-256 of the body, link, seq), its leaf hash, the subtree hashes it
//!   completes (tlog_tiles), writing the hashes in 1 MiB chunks and one
//!   `sync_data` at the end;
//! - `bare_leaf_sha256`: the bodies read into memory beforehand, then only
//!   `SHA-256(0x00 ‖ body)` of each.
//!
//! The store: `GOVLEDGER_BENCH_EVENTS` events (default 200,000) of the demo
//! city (`govledger-demo`, seed 2026), imported through the ledger as
//! `govledger demo` does, in a directory under `GOVLEDGER_BENCH_DIR` (or the
//! system temp dir). After criterion's figures it prints a paired,
//! interleaved measurement (the sides alternate, order swapped each round)
//! and the ratio bare time / tree time.
//!
//! Run: `cargo bench -p govledger-transparency --bench catch_up`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, SamplingMode, Throughput};
use govledger_ledger::LogReader;
use govledger_transparency::Tree;
use sha2::{Digest, Sha256};

const DEFAULT_EVENTS: u64 = 200_000;
/// Events when criterion only smoke-tests the bench (`cargo test --benches`).
const QUICK_EVENTS: u64 = 2_000;
const PAIRED_ROUNDS: usize = 7;

/// Whether criterion runs this as a test rather than a benchmark.
fn quick_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test" || a == "--list")
}

fn bench_root() -> PathBuf {
    std::env::var_os("GOVLEDGER_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir)
}

/// Writes `events` demo events into a new data directory, through the
/// ledger's import (the path of `govledger demo`).
fn build_store(events: u64) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("govledger-bench-tree-")
        .tempdir_in(bench_root())
        .expect("create a benchmark directory");
    let until = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("a valid date");
    // Scale 1 is about 40,000 events; ask for a little more and cut.
    let scale = (events as f64 / 40_000.0) * 1.3 + 0.05;
    let config = govledger_demo::DemoConfig { seed: 2026, scale, until };
    let items = govledger_demo::events(&config)
        .take(usize::try_from(events).expect("events fit in usize"))
        .enumerate()
        .map(|(i, s)| Ok((i as u64 + 1, s)));
    let ledger = govledger_store_embedded::open_ledger(dir.path()).expect("open the benchmark ledger");
    let summary = ledger.import_blocking(items, |_| {}).expect("demo events pass the rules");
    assert_eq!(summary.appended, events, "the demo city has enough events at scale {scale}");
    ledger.close();
    dir
}

/// One timed catch-up from an emptied tree.
fn catch_up(tree: &Tree, reader: &dyn LogReader, events: u64) -> Duration {
    tree.rebuild().expect("empty the tree");
    let started = Instant::now();
    let size = tree.extend(reader, u64::MAX).expect("the benchmark log extends the tree");
    let elapsed = started.elapsed();
    assert_eq!(size, events);
    elapsed
}

/// One timed bare pass; returns the leaf hashes too.
fn bare(bodies: &[Vec<u8>]) -> (Duration, Vec<[u8; 32]>) {
    let started = Instant::now();
    let leaves: Vec<[u8; 32]> = bodies
        .iter()
        .map(|body| {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(body);
            h.finalize().into()
        })
        .collect();
    (started.elapsed(), leaves)
}

/// The RFC 9162 root over `leaves` (iterative: pairs, the odd one carried up).
fn root_of(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.is_empty() {
        return Sha256::digest(b"").into();
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => {
                    let mut h = Sha256::new();
                    h.update([1u8]);
                    h.update(l);
                    h.update(r);
                    h.finalize().into()
                }
                [one] => *one,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let events = if quick_mode() {
        QUICK_EVENTS
    } else {
        std::env::var("GOVLEDGER_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_EVENTS)
    };
    let built = Instant::now();
    let data = build_store(events);
    let reader = govledger_store_embedded::open_reader(data.path()).expect("open the store");
    let mut bodies = Vec::with_capacity(usize::try_from(events).unwrap_or(0));
    reader
        .scan_raw(0, &mut |row| {
            bodies.push(row.body.to_vec());
            true
        })
        .expect("read the bodies");
    let mean = bodies.iter().map(Vec::len).sum::<usize>() as f64 / bodies.len().max(1) as f64;
    println!(
        "tree catch-up benchmark: {events} demo events (mean canonical body {mean:.0} bytes), store built in {:.1} s \
         at {}",
        built.elapsed().as_secs_f64(),
        data.path().display()
    );

    let tree_dir = tempfile::Builder::new().prefix("govledger-bench-tree-").tempdir_in(bench_root()).expect("tree dir");
    let tree = Tree::open(tree_dir.path()).expect("open the tree");
    // The tree's root is the RFC 9162 root of the bare side's leaves.
    catch_up(&tree, reader.as_ref(), events);
    let (_, leaves) = bare(&bodies);
    assert_eq!(tree.root(events).expect("root").0, root_of(&leaves), "the tree's root is the bodies' root");

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let mut group = c.benchmark_group("catch_up");
    group.throughput(Throughput::Elements(events));
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("tree_catch_up", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| catch_up(&tree, reader.as_ref(), events)).sum())
    });
    group.bench_function("bare_leaf_sha256", |b| b.iter_custom(|iters| (0..iters).map(|_| bare(&bodies).0).sum()));
    group.finish();

    if !quick_mode() {
        let mut tree_s = Vec::new();
        let mut bare_s = Vec::new();
        let mut ratios = Vec::new();
        for round in 0..PAIRED_ROUNDS {
            let (t, b) = if round % 2 == 0 {
                let t = catch_up(&tree, reader.as_ref(), events);
                (t, bare(&bodies).0)
            } else {
                let b = bare(&bodies).0;
                (catch_up(&tree, reader.as_ref(), events), b)
            };
            tree_s.push(t.as_secs_f64());
            bare_s.push(b.as_secs_f64());
            ratios.push(b.as_secs_f64() / t.as_secs_f64());
        }
        let (tree_med, bare_med) = (median(&mut tree_s), median(&mut bare_s));
        let ratio_min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let ratio_max = ratios.iter().copied().fold(0.0, f64::max);
        println!();
        println!("paired, interleaved measurement: {PAIRED_ROUNDS} rounds, order swapped each round");
        println!("| side | time (median) | events/s |");
        println!("|---|---:|---:|");
        println!("| tree catch-up (`Tree::extend`) | {:.3} s | {:.0} |", tree_med, events as f64 / tree_med);
        println!("| bare SHA-256(0x00 ‖ body) in memory | {:.3} s | {:.0} |", bare_med, events as f64 / bare_med);
        println!(
            "ratio bare_time / tree_time: {:.2} (median of rounds; min {ratio_min:.2}, max {ratio_max:.2})",
            median(&mut ratios)
        );
    }
    c.final_summary();
}
