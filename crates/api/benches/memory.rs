//! Where a server's memory goes (issue 18, item 2): opens a data directory
//! as `govledger serve` does — the embedded store, the ledger from its state
//! snapshot, the assessment projection from its checkpoint, the agency
//! index — and prints, after each step, the process's resident memory and
//! the step's own peak (the kernel's high-water mark, reset before each
//! step through `/proc/self/clear_refs`), then what saving the snapshot and
//! the checkpoint costs at their peak. Sizes of the validation state's
//! tables are counted from their lengths.
//!
//! `GOVLEDGER_BENCH_DIR=<data-dir> cargo bench -p govledger-api --bench memory`
//! (a data directory stopped cleanly by `serve`, so that both files are
//! there: `scripts/bench-restart.py` leaves such directories). Without the
//! variable it prints `SKIPPED`. Linux only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use govledger_api::{AgencyIndex, Assessor};
use govledger_assess::{Model, Projection};
use govledger_domain::state::{EntityState, EventMeta};
use govledger_ledger::{Ledger, LedgerOptions, SNAPSHOT_FILE};

// The binary's allocator, so that the figures are those of `govledger serve`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A field of `/proc/self/status`, in MB.
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim().strip_suffix("kB")?.trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

/// Runs `step`, printing the resident memory after it and its own peak.
fn step<T>(what: &str, step: impl FnOnce() -> T) -> T {
    // "5" resets the peak resident set size to the current one (Linux ≥ 4.0).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_mb("VmRSS:");
    let started = Instant::now();
    let out = step();
    let took = started.elapsed().as_secs_f64();
    let (after, peak) = (status_mb("VmRSS:"), status_mb("VmHWM:"));
    let peak = if reset { format!("{peak:7.1}") } else { "      ?".into() };
    println!("| {what:<44} | {took:6.2} s | {:+8.1} | {after:8.1} | {peak} |", after - before);
    out
}

fn main() {
    let Some(dir) = std::env::var_os("GOVLEDGER_BENCH_DIR").map(PathBuf::from) else {
        println!("SKIPPED: set GOVLEDGER_BENCH_DIR to a data directory left by `govledger serve`");
        return;
    };
    println!("| step | time | RSS change MB | RSS after MB | step's peak RSS MB |");
    println!("|---|---:|---:|---:|---:|");
    step("(start: runtime, allocator)", || ());
    let (writer, reader) =
        step("open the embedded store", || govledger_store_embedded::open(&dir).expect("open the data directory"));
    let snapshot = dir.join(SNAPSHOT_FILE);
    let options = LedgerOptions { snapshot: Some(snapshot.clone()), ..LedgerOptions::default() };
    let ledger = step("ledger: validation state from its snapshot", || {
        Ledger::open_with(Box::new(writer), reader.clone(), options).expect("open the ledger")
    });
    let projection = step("projection from its checkpoint", || load_projection(&dir));
    let events = projection.head_seq();
    let assessor = step("assessor over the projection", || Arc::new(Assessor::new(projection, Model::default_v1())));
    let agencies = step("agency index", || {
        let index = AgencyIndex::new();
        index.follow(reader.as_ref(), &assessor.read()).expect("the agency index");
        index
    });
    let tmp = tempfile::tempdir().expect("a temporary directory");
    step("save the state snapshot", || ledger.save_snapshot(&tmp.path().join(SNAPSHOT_FILE)).expect("save"));
    step("save the projection checkpoint", || {
        let file = std::fs::File::create(tmp.path().join("projection.ckpt")).expect("create");
        assessor.read().write_checkpoint(std::io::BufWriter::new(file)).expect("write")
    });
    println!();
    state_tables(&ledger, events);
    drop(agencies);
    ledger.close();
}

fn load_projection(dir: &Path) -> Projection {
    let bytes = std::fs::read(dir.join("projection.ckpt")).expect("the projection checkpoint (stop `serve` cleanly)");
    Projection::from_checkpoint(&bytes).expect("a checkpoint of this version")
}

/// The validation state's tables, counted from their lengths (a lower bound:
/// no allocator overhead).
fn state_tables(ledger: &Ledger, events: u64) {
    let (state, _) = ledger.state_at_head().expect("the state");
    let s = state.stats();
    let mb = |bytes: usize| bytes as f64 / 1e6;
    println!("validation state of {events} events: {s:?}");
    println!("| table | count | bytes each | MB |");
    println!("|---|---:|---:|---:|");
    let meta = std::mem::size_of::<EventMeta>();
    println!("| events (EventMeta) | {} | {meta} | {:.1} |", s.events, mb(s.events * meta));
    // hashbrown: a u32 and a control byte per bucket, buckets ≥ 8/7 of the entries.
    println!("| id index (hash table of u32) | {} | ~5.7 | {:.1} |", s.events, mb(s.events * 57 / 10));
    let step = std::mem::size_of::<(u64, Option<EntityState>)>();
    println!("| entity steps (seq, state) | {} | {step} | {:.1} |", s.entity_steps, mb(s.entity_steps * step));
    println!("| entities (kind, stack) | {} | 32 | {:.1} |", s.entities, mb(s.entities * 32));
    println!("| interned ids (text + end + table) | {} | | {:.1} |", s.interned, mb(s.interned_bytes + s.interned * 9));
}
