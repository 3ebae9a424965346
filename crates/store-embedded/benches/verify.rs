//! Verification rate (BENCHMARKS.md): `govledger_ledger::verify` over an
//! embedded store of 100,000 events against bare SHA-256 loops over the same
//! canonical bytes. Goal: `verify` reaches at least 0.5× the bare hash loop.
//!
//! Sides, all over the same store and bytes:
//! - `govledger`: `verify(reader)` — every row's hash recomputed and
//!   compared, every link, position and the anchor checked, in one shard per
//!   core (one thread and read snapshot each);
//! - `govledger_one_thread` (for context): the same check in one shard, so
//!   on one thread, as the bare loops run;
//! - `bare_sha2_memory` (the goal's baseline, "a bare sha2 loop over the same
//!   canonical bytes"): the bodies and their decoded hashes loaded into
//!   memory beforehand; per event only `Sha256::digest` and a 32-byte compare;
//! - `bare_sqlite_sha2` (for context): `SELECT body, hash FROM events ORDER
//!   BY seq` on one read-only connection, `Sha256::digest` of each body and a
//!   compare with the hex-decoded stored hash — the least a verifier that
//!   reads the store must do.
//!
//! `GOVLEDGER_BENCH_VERIFY_DIR=<data dir>` benchmarks an existing store (for
//! example a `govledger demo`) instead of building one.
//!
//! Run: `cargo bench -p govledger-store-embedded --bench verify`. After
//! criterion's figures it prints a paired, interleaved measurement (see
//! `common`), which is where the ratios in BENCHMARKS.md come from.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Slice, action, compare, interleaved, preamble, temp_dir};
use criterion::{Criterion, SamplingMode, Throughput};
use govledger_store_embedded::{DB_FILE, EmbeddedReader};
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// Events in the store the benchmark builds.
const EVENTS: u64 = 100_000;
/// Events in the store when criterion only smoke-tests (`cargo test --benches`).
const QUICK_EVENTS: u64 = 1_000;
const PAIRED_ROUNDS: usize = 15;
const GOAL_RATIO: f64 = 0.5;

/// Builds a store of `events` events through the ledger (one import).
fn build_store(events: u64) -> TempDir {
    let dir = temp_dir("govledger-bench-verify-");
    let ledger = govledger_store_embedded::open_ledger(dir.path()).expect("open the benchmark ledger");
    let actions = events - preamble().len() as u64;
    let items = preamble().into_iter().chain((1..=actions).map(action)).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
    let summary = ledger.import_blocking(items, |_| {}).expect("benchmark events pass the rules");
    assert_eq!(summary.appended, events);
    ledger.close();
    dir
}

/// The `govledger` side.
fn verify_ledger(reader: &EmbeddedReader) -> Slice {
    let started = Instant::now();
    let report = govledger_ledger::verify(reader).expect("read the store");
    let elapsed = started.elapsed();
    assert!(report.ok(), "the benchmark chain verifies: {:?}", report.problem);
    Slice { elapsed, events: report.events }
}

/// The `govledger_one_thread` side.
fn verify_ledger_one_thread(reader: &EmbeddedReader) -> Slice {
    let started = Instant::now();
    let report = govledger_ledger::verify_sharded(reader, 1, &mut |_| {}).expect("read the store");
    let elapsed = started.elapsed();
    assert!(report.ok(), "the benchmark chain verifies: {:?}", report.problem);
    Slice { elapsed, events: report.events }
}

/// The `bare_sqlite_sha2` side.
fn verify_bare_sqlite(conn: &Connection) -> Slice {
    let started = Instant::now();
    let mut stmt = conn.prepare_cached("SELECT body, hash FROM events ORDER BY seq").expect("prepare");
    let mut rows = stmt.query([]).expect("query");
    let mut events = 0u64;
    let mut all_match = true;
    while let Some(row) = rows.next().expect("read a row") {
        let body = row.get_ref(0).and_then(|v| Ok(v.as_bytes()?)).expect("body");
        let hash = row.get_ref(1).and_then(|v| Ok(v.as_str()?)).expect("hash");
        let mut stored = [0u8; 32];
        all_match &= hex::decode_to_slice(hash, &mut stored).is_ok() && Sha256::digest(body).as_slice() == stored;
        events += 1;
    }
    let elapsed = started.elapsed();
    assert!(all_match, "every stored hash matches its body");
    Slice { elapsed, events }
}

/// The `bare_sha2_memory` side: bodies and decoded hashes held in memory.
struct Preloaded {
    bodies: Vec<Vec<u8>>,
    hashes: Vec<[u8; 32]>,
}

impl Preloaded {
    fn load(db: &Path) -> Self {
        let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open the store");
        let mut stmt = conn.prepare("SELECT body, hash FROM events ORDER BY seq").expect("prepare");
        let mut bodies = Vec::new();
        let mut hashes = Vec::new();
        let mut rows = stmt.query([]).expect("query");
        while let Some(row) = rows.next().expect("read a row") {
            let body: String = row.get(0).expect("body");
            let hash: String = row.get(1).expect("hash");
            let mut decoded = [0u8; 32];
            hex::decode_to_slice(&hash, &mut decoded).expect("stored hashes are hex");
            bodies.push(body.into_bytes());
            hashes.push(decoded);
        }
        Self { bodies, hashes }
    }

    fn verify(&self) -> Slice {
        let started = Instant::now();
        let mut all_match = true;
        for (body, hash) in self.bodies.iter().zip(&self.hashes) {
            all_match &= Sha256::digest(body).as_slice() == hash;
        }
        let elapsed = started.elapsed();
        assert!(all_match, "every stored hash matches its body");
        Slice { elapsed, events: self.bodies.len() as u64 }
    }

    fn mean_body_bytes(&self) -> f64 {
        self.bodies.iter().map(Vec::len).sum::<usize>() as f64 / self.bodies.len().max(1) as f64
    }
}

fn main() {
    // An existing data directory, or a store built here (kept alive to the end).
    let (data_dir, _built): (PathBuf, Option<TempDir>) = match std::env::var_os("GOVLEDGER_BENCH_VERIFY_DIR") {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let built = build_store(if common::quick_mode() { QUICK_EVENTS } else { EVENTS });
            (built.path().to_path_buf(), Some(built))
        }
    };
    let reader: Arc<EmbeddedReader> = govledger_store_embedded::open_reader(&data_dir).expect("open the store");
    let conn = Connection::open_with_flags(data_dir.join(DB_FILE), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store for the bare side");
    let preloaded = Preloaded::load(&data_dir.join(DB_FILE));
    let events = preloaded.bodies.len() as u64;
    println!(
        "verify benchmark store: {} ({events} events, mean canonical body {:.0} bytes)",
        data_dir.display(),
        preloaded.mean_body_bytes()
    );

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(events));
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("govledger", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| verify_ledger(&reader).elapsed).sum())
    });
    group.bench_function("govledger_one_thread", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| verify_ledger_one_thread(&reader).elapsed).sum())
    });
    group.bench_function("bare_sha2_memory", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| preloaded.verify().elapsed).sum())
    });
    group.bench_function("bare_sqlite_sha2", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| verify_bare_sqlite(&conn).elapsed).sum())
    });
    group.finish();

    if !common::quick_mode() && common::name_filter().is_none_or(|f| "verify".contains(&f)) {
        let rates = interleaved(
            PAIRED_ROUNDS,
            &mut [
                &mut || verify_ledger(&reader),
                &mut || preloaded.verify(),
                &mut || verify_bare_sqlite(&conn),
                &mut || verify_ledger_one_thread(&reader),
            ],
        );
        let vs_memory = compare(&rates[0], &rates[1]);
        let vs_sqlite = compare(&rates[0], &rates[2]);
        let one_thread_vs_memory = compare(&rates[3], &rates[1]);
        let one_thread_vs_sqlite = compare(&rates[3], &rates[2]);
        println!();
        println!(
            "paired, interleaved measurement: {PAIRED_ROUNDS} rounds of one full pass per side, order rotated \
             each round (A B C D, B C D A, …); rates are medians of the rounds, ratio = median of per-round ratios"
        );
        println!("| side | events/s (median) | govledger ratio (median) | ratio min–max | goal | met |");
        println!("|---|---:|---:|---:|---:|:---:|");
        println!("| govledger `verify` | {:.0} | | | | |", vs_memory.a_events_per_s);
        println!(
            "| bare_sha2_memory (goal baseline) | {:.0} | {:.2} | {:.2}–{:.2} | ≥ {GOAL_RATIO} | {} |",
            vs_memory.b_events_per_s,
            vs_memory.ratio_median,
            vs_memory.ratio_min,
            vs_memory.ratio_max,
            if vs_memory.ratio_median >= GOAL_RATIO { "yes" } else { "no" }
        );
        println!(
            "| bare_sqlite_sha2 (context) | {:.0} | {:.2} | {:.2}–{:.2} | | |",
            vs_sqlite.b_events_per_s, vs_sqlite.ratio_median, vs_sqlite.ratio_min, vs_sqlite.ratio_max
        );
        println!(
            "| govledger_one_thread (context): to bare_sha2_memory | {:.0} | {:.2} | {:.2}–{:.2} | | |",
            one_thread_vs_memory.a_events_per_s,
            one_thread_vs_memory.ratio_median,
            one_thread_vs_memory.ratio_min,
            one_thread_vs_memory.ratio_max
        );
        println!(
            "| govledger_one_thread (context): to bare_sqlite_sha2 | {:.0} | {:.2} | {:.2}–{:.2} | | |",
            one_thread_vs_sqlite.a_events_per_s,
            one_thread_vs_sqlite.ratio_median,
            one_thread_vs_sqlite.ratio_min,
            one_thread_vs_sqlite.ratio_max
        );
    }
    c.final_summary();
}
