//! Projection benchmarks for BENCHMARKS.md, over a real data directory:
//!
//! - full rebuild rate (events/s) from the stored canonical bodies, side by
//!   side with a bare SHA-256 loop over the same bytes;
//! - the same rebuild read straight from the store;
//! - one `assess` once the projection is current, against the rebuild;
//! - checkpoint size, write and load time;
//! - peak memory of a process that only builds the projection.
//!
//! Run on the demo city (about 1,000,000 events at scale 25):
//!
//! ```text
//! cargo run --release -p govledger -- --data-dir /tmp/demo25 demo --scale 25 --until 2026-07-01T00:00:00Z
//! GOVLEDGER_BENCH_DIR=/tmp/demo25 cargo bench -p govledger-assess --bench projection
//! ```
//!
//! Extra flags after `--`: `--profile-rebuild` and `--profile-assess` run
//! only that part (for `perf record`); `--parse-floor` times serde_json
//! skipping every body (a floor for any serde-based decoder).
//!
//! A plain `main` with wall-clock medians rather than criterion: one sample
//! of a million-event rebuild takes seconds, and the figures wanted are
//! rates and ratios, not confidence intervals of nanosecond loops.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use govledger_assess::{Model, Projection, Query};
use govledger_domain::Timestamp;
use govledger_ledger::LogReader;
use sha2::{Digest, Sha256};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        samples.push(start.elapsed());
        last = Some(out);
    }
    let Some(out) = last else { panic!("no runs") };
    (median(samples), out)
}

/// Peak and current resident memory of this process, in KiB (Linux).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn rebuild_from_store(reader: &dyn LogReader) -> Projection {
    let mut p = Projection::new();
    let head = reader.anchor().expect("the store reads").map_or(0, |h| h.seq);
    p.reserve(usize::try_from(head).unwrap_or(0));
    reader
        .scan_raw(0, &mut |row| {
            p.apply_raw(row.body, row.hash).expect("the demo ledger folds");
            true
        })
        .expect("the store reads");
    p
}

fn main() {
    let Some(dir) = std::env::var_os("GOVLEDGER_BENCH_DIR").filter(|d| !d.is_empty()).map(PathBuf::from) else {
        eprintln!(
            "SKIPPED: the projection benchmark needs a ledger. Create one and point GOVLEDGER_BENCH_DIR at it:\n  \
             cargo run --release -p govledger -- --data-dir /tmp/demo25 demo --scale 25 --until 2026-07-01T00:00:00Z\n  \
             GOVLEDGER_BENCH_DIR=/tmp/demo25 cargo bench -p govledger-assess --bench projection"
        );
        return;
    };
    let reader = govledger_store_embedded::open_reader(&dir).expect("open the data directory");

    if std::env::args().any(|a| a == "--memory-only") {
        // Run in a fresh process so that the peak is the projection's alone.
        let (_, rss_before) = memory_kib();
        let p = rebuild_from_store(reader.as_ref());
        let (peak, rss_after) = memory_kib();
        println!("{} {rss_before} {peak} {rss_after}", p.head_seq());
        return;
    }

    let profile_rebuild = std::env::args().any(|a| a == "--profile-rebuild");
    // The stored bytes, in memory, so that both loops read the same input.
    let mut rows: Vec<(Vec<u8>, String)> = Vec::new();
    let load = Instant::now();
    reader
        .scan_raw(0, &mut |row| {
            rows.push((row.body.to_vec(), row.hash.to_owned()));
            true
        })
        .expect("the store reads");
    let load = load.elapsed();
    let n = rows.len();
    let bytes: usize = rows.iter().map(|(b, _)| b.len()).sum();
    println!("ledger {}: {n} events, {bytes} bytes of canonical bodies (mean {} B)", dir.display(), bytes / n.max(1));
    println!("read all rows from SQLite into memory: {:.3} s", load.as_secs_f64());

    if std::env::args().any(|a| a == "--parse-floor") {
        let (t, _) = time(3, || {
            for (body, _) in &rows {
                let v: serde::de::IgnoredAny = serde_json::from_slice(body).expect("json");
                std::hint::black_box(v);
            }
        });
        println!("serde_json IgnoredAny over the bodies: {:.3} s", t.as_secs_f64());
        let (t, _) = time(3, || {
            for (body, _) in &rows {
                std::hint::black_box(govledger_ledger::Tail::parse(body));
            }
        });
        println!("Tail::parse over the bodies: {:.3} s", t.as_secs_f64());
        return;
    }
    if profile_rebuild {
        // For `perf record`: only the in-memory rebuild, a few times.
        for _ in 0..3 {
            let mut p = Projection::new();
            p.reserve(rows.len());
            for (body, hash) in &rows {
                p.apply_raw(body, hash).expect("the demo ledger folds");
            }
            std::hint::black_box(&p);
        }
        return;
    }
    let (sha, digest) = time(5, || {
        let mut last = [0u8; 32];
        for (body, _) in &rows {
            last = Sha256::digest(body).into();
        }
        last
    });
    std::hint::black_box(digest);
    let sha_rate = n as f64 / sha.as_secs_f64();
    println!(
        "bare sha2 loop over the bodies:           {:.3} s  {:>10.0} events/s  {:.0} MB/s",
        sha.as_secs_f64(),
        sha_rate,
        bytes as f64 / sha.as_secs_f64() / 1e6
    );

    let (rebuild, projection) = time(3, || {
        let mut p = Projection::new();
        p.reserve(rows.len());
        for (body, hash) in &rows {
            p.apply_raw(body, hash).expect("the demo ledger folds");
        }
        p
    });
    let rebuild_rate = n as f64 / rebuild.as_secs_f64();
    println!(
        "rebuild from the bodies (decode + fold):  {:.3} s  {:>10.0} events/s  {:.2}× the sha2 loop (goal ≥ 0.25×)",
        rebuild.as_secs_f64(),
        rebuild_rate,
        rebuild_rate / sha_rate
    );
    drop(rows);

    let (from_store, _) = time(3, || rebuild_from_store(reader.as_ref()));
    println!(
        "rebuild from the store (SQLite scan too): {:.3} s  {:>10.0} events/s",
        from_store.as_secs_f64(),
        n as f64 / from_store.as_secs_f64()
    );

    let model = Model::default_v1();
    let year = Query {
        from: Timestamp::parse("2025-07-01T00:00:00Z").expect("timestamp"),
        to: Timestamp::parse("2026-07-01T00:00:00Z").expect("timestamp"),
        as_of: None,
    };
    let quarter = Query {
        from: Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp"),
        to: Timestamp::parse("2026-04-01T00:00:00Z").expect("timestamp"),
        as_of: Some(projection.head_seq() / 2),
    };
    for (what, q) in [("whole year, as of the head", year), ("one quarter, as of mid-ledger", quarter)] {
        let (took, doc) = time(11, || projection.assess(&model, &q).expect("assess"));
        let evidence: usize = doc.agencies.iter().flat_map(|a| &a.indicators).map(|i| i.evidence.len()).sum();
        let (json_took, json) = time(5, || serde_json::to_vec(&doc).expect("serialize"));
        println!(
            "assess, {what}: {:.2} ms = {:.3}% of the rebuild ({} agencies, {evidence} evidence ids); \
             JSON document {:.1} MB written in {:.1} ms",
            took.as_secs_f64() * 1e3,
            100.0 * took.as_secs_f64() / rebuild.as_secs_f64(),
            doc.agencies.len(),
            json.len() as f64 / 1e6,
            json_took.as_secs_f64() * 1e3
        );
    }

    if std::env::args().any(|a| a == "--profile-assess") {
        for _ in 0..200 {
            std::hint::black_box(projection.assess(&model, &year).expect("assess"));
        }
        return;
    }
    let (write, bytes) = time(3, || projection.to_checkpoint());
    let (read, restored) = time(3, || Projection::from_checkpoint(&bytes).expect("checkpoint"));
    assert_eq!(restored, projection);
    println!(
        "checkpoint: {:.1} MB, serialized in {:.3} s, loaded in {:.3} s",
        bytes.len() as f64 / 1e6,
        write.as_secs_f64(),
        read.as_secs_f64()
    );
    drop((projection, restored, bytes));

    // Peak memory in a fresh process that streams the store into a projection.
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe).arg("--memory-only").output().expect("run the memory probe");
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<u64> = text.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    if let [events, before, peak, after] = fields[..] {
        println!(
            "memory, streaming rebuild of {events} events in a fresh process: peak RSS {:.0} MiB \
             (RSS {:.0} MiB before, {:.0} MiB after; SQLite's page cache included)",
            peak as f64 / 1024.0,
            before as f64 / 1024.0,
            after as f64 / 1024.0
        );
    } else {
        println!("memory probe failed: {text} {}", String::from_utf8_lossy(&out.stderr));
    }
}
