//! Durable append throughput (BENCHMARKS.md): `Ledger::append_blocking` on
//! the embedded store against bare rusqlite writing the same rows, at batch
//! sizes 1, 64 and 512. Goal: the ledger reaches at least 0.7× the bare
//! baseline at every batch size.
//!
//! Both sides commit one SQLite transaction per batch in WAL mode with
//! `synchronous=FULL` (one fsync per batch), on a real disk.
//! - `govledger`: `append_blocking(batch)` of `PublicityDelivered` /
//!   `CardBreakingAction` events with fresh ids, after a bootstrap and one
//!   agency registration. Timed: the whole append — queueing to the writer
//!   thread, every domain rule, sealing (RFC 8785 + SHA-256; the part done
//!   on the caller's thread before queueing is inside the call), the store's
//!   head check, the inserts, the anchor upsert, the commit and the reply.
//!   Not timed: building the `Submission`s (the caller's parsing).
//! - `bare_rusqlite`: the same table shape (`events(seq, id, body, hash)`
//!   plus the `anchor` upsert, for parity), the rows sealed beforehand by
//!   `StoredEvent::seal` (not timed), inserted with cached prepared
//!   statements in one `BEGIN IMMEDIATE … COMMIT` per batch (rusqlite's
//!   `Transaction`).
//!
//! Both sides run in this one process on the `govledger` binary's global
//! allocator, mimalloc.
//!
//! Run: `cargo bench -p govledger-store-embedded --bench append`. After
//! criterion's per-side figures (and `seal_512`, the CPU cost of sealing
//! events without any disk) it prints a paired, interleaved measurement (see
//! `common`), which is where the ratios in BENCHMARKS.md come from, and then
//! where each side's time went in it: the ledger's phases from
//! `Ledger::stats`, the bare side's inserts and commit.

mod common;

use std::time::{Duration, Instant};

use common::{Slice, action, micros, paired, preamble, slice_for, temp_dir};
use criterion::{Criterion, SamplingMode, Throughput};
use govledger_domain::{Submission, Timestamp};
use govledger_ledger::{GENESIS_HASH, Ledger, StoredEvent};
use rusqlite::{Connection, TransactionBehavior, params};
use tempfile::TempDir;
use uuid::Uuid;

/// The `govledger` binary's allocator (crates/cli/src/main.rs). One process,
/// so both sides of the comparison run on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH_SIZES: [usize; 3] = [1, 64, 512];
/// Rounds of the paired phase per batch size.
const PAIRED_ROUNDS: usize = 31;
/// Timed work per side per round in the paired phase.
const PAIRED_SLICE: Duration = Duration::from_millis(100);
const GOAL_RATIO: f64 = 0.7;

/// The ledger side: a ledger on a fresh embedded store.
struct GovSide {
    ledger: Ledger,
    next: u64,
    /// Appends made and their time, for the breakdown of the paired phase.
    batches: u64,
    timed: Duration,
    _dir: TempDir,
}

impl GovSide {
    fn new() -> Self {
        let dir = temp_dir("govledger-bench-append-");
        let ledger = govledger_store_embedded::open_ledger(dir.path()).expect("open the benchmark ledger");
        ledger.append_blocking(preamble()).expect("bootstrap the benchmark ledger");
        Self { ledger, next: 0, batches: 0, timed: Duration::ZERO, _dir: dir }
    }

    fn batch(&mut self, size: usize) -> Slice {
        let batch: Vec<Submission> = (0..size)
            .map(|_| {
                self.next += 1;
                action(self.next)
            })
            .collect();
        let started = Instant::now();
        let appended = self.ledger.append_blocking(batch).expect("benchmark events pass the rules");
        let elapsed = started.elapsed();
        assert_eq!(appended.len(), size);
        self.batches += 1;
        self.timed += elapsed;
        Slice { elapsed, events: size as u64 }
    }
}

/// The table shape of the embedded store, without the ledger.
const BARE_SCHEMA: &str = "
CREATE TABLE events (
    seq  INTEGER PRIMARY KEY,
    id   BLOB NOT NULL UNIQUE,
    body TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE anchor (
    one         INTEGER PRIMARY KEY CHECK (one = 1),
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
";

/// One row as the bare side inserts it.
struct Row {
    seq: u64,
    id: Uuid,
    body: String,
    hash: String,
    recorded_at: String,
}

/// The baseline: rusqlite alone, same durability settings and rows.
struct BareSide {
    conn: Connection,
    head_seq: u64,
    prev_hash: String,
    next: u64,
    /// Batches inserted, and their time until `COMMIT` and in it.
    batches: u64,
    inserting: Duration,
    committing: Duration,
    _dir: TempDir,
}

impl BareSide {
    fn new() -> Self {
        let dir = temp_dir("govledger-bench-bare-");
        let conn = Connection::open(dir.path().join("bare.sqlite")).expect("open the bare database");
        conn.pragma_update(None, "journal_mode", "WAL").expect("WAL");
        conn.pragma_update(None, "synchronous", "FULL").expect("synchronous=FULL");
        conn.execute_batch(BARE_SCHEMA).expect("create the bare tables");
        let mut side = Self {
            conn,
            head_seq: 0,
            prev_hash: GENESIS_HASH.to_owned(),
            next: 0,
            batches: 0,
            inserting: Duration::ZERO,
            committing: Duration::ZERO,
            _dir: dir,
        };
        // The same two leading events as the ledger side.
        let rows: Vec<Row> = preamble().iter().map(|s| side.seal(s)).collect();
        side.insert(&rows);
        side
    }

    fn seal(&mut self, sub: &Submission) -> Row {
        let seq = self.head_seq + 1;
        let enc = StoredEvent::seal(seq, Uuid::now_v7(), sub, Timestamp::now(), &self.prev_hash);
        self.head_seq = seq;
        self.prev_hash = enc.event.hash.clone();
        Row {
            seq,
            id: enc.event.id,
            body: String::from_utf8(enc.body).expect("canonical JSON is UTF-8"),
            hash: enc.event.hash,
            recorded_at: enc.event.recorded_at,
        }
    }

    fn insert(&mut self, rows: &[Row]) {
        let started = Instant::now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).expect("begin");
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO events (seq, id, body, hash) VALUES (?1, ?2, ?3, ?4)")
                .expect("prepare the insert");
            for r in rows {
                stmt.execute(params![r.seq, r.id.as_bytes().as_slice(), r.body, r.hash]).expect("insert");
            }
        }
        if let Some(last) = rows.last() {
            tx.prepare_cached(
                "INSERT INTO anchor (one, seq, hash, recorded_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, recorded_at = excluded.recorded_at",
            )
            .and_then(|mut stmt| stmt.execute(params![last.seq, last.hash, last.recorded_at]))
            .expect("anchor upsert");
        }
        let committing = Instant::now();
        tx.commit().expect("commit");
        self.batches += 1;
        self.inserting += committing - started;
        self.committing += committing.elapsed();
    }

    fn batch(&mut self, size: usize) -> Slice {
        let rows: Vec<Row> = (0..size)
            .map(|_| {
                self.next += 1;
                let sub = action(self.next);
                self.seal(&sub)
            })
            .collect();
        let started = Instant::now();
        self.insert(&rows);
        Slice { elapsed: started.elapsed(), events: size as u64 }
    }
}

fn group_name(size: usize) -> String {
    format!("append_batch_{size}")
}

fn criterion_groups(c: &mut Criterion) {
    for size in BATCH_SIZES {
        let mut group = c.benchmark_group(group_name(size));
        group.throughput(Throughput::Elements(size as u64));
        // Each iteration waits for an fsync: flat sampling keeps the number of
        // iterations per sample equal, so the run stays a few seconds long.
        group.sampling_mode(SamplingMode::Flat);
        let mut gov: Option<GovSide> = None;
        group.bench_function("govledger", |b| {
            let side = gov.get_or_insert_with(GovSide::new);
            b.iter_custom(|iters| (0..iters).map(|_| side.batch(size).elapsed).sum())
        });
        drop(gov);
        let mut bare: Option<BareSide> = None;
        group.bench_function("bare_rusqlite", |b| {
            let side = bare.get_or_insert_with(BareSide::new);
            b.iter_custom(|iters| (0..iters).map(|_| side.batch(size).elapsed).sum())
        });
        drop(bare);
        group.finish();
    }
}

/// Median latency of a 4 KiB write + fsync in the benchmark directory: the
/// floor under every durable append, and the figure that changes most when
/// others use the disk (a slow disk pulls both sides' rates, and the ratio,
/// towards the fsync rate).
fn fsync_probe_ms() -> f64 {
    use std::io::Write;
    let dir = temp_dir("govledger-bench-fsync-");
    let mut file = std::fs::File::create(dir.path().join("probe")).expect("create the fsync probe");
    let mut samples_ms: Vec<f64> = (0..50)
        .map(|_| {
            let started = Instant::now();
            file.write_all(&[0u8; 4096]).expect("write the fsync probe");
            file.sync_all().expect("fsync the probe");
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples_ms.sort_by(f64::total_cmp);
    samples_ms[samples_ms.len() / 2]
}

fn paired_phase(filter: Option<&str>) {
    println!();
    println!(
        "paired, interleaved measurement: per batch size {PAIRED_ROUNDS} rounds, each one ~{}ms slice per side, \
         order A,B then B,A alternately; fresh stores; rates are medians of the rounds, ratio = median of per-round ratios",
        PAIRED_SLICE.as_millis()
    );
    println!(
        "| batch | govledger events/s | bare_rusqlite events/s | ratio (median) | ratio min–max | goal | met | fsync ms before/after |"
    );
    println!("|---:|---:|---:|---:|---:|---:|:---:|---:|");
    let mut breakdowns = Vec::new();
    for size in BATCH_SIZES {
        if filter.is_some_and(|f| !group_name(size).contains(f)) {
            continue;
        }
        let fsync_before_ms = fsync_probe_ms();
        let mut gov = GovSide::new();
        let mut bare = BareSide::new();
        // Warm up both sides (page cache, statement caches, writer thread).
        slice_for(PAIRED_SLICE, || gov.batch(size));
        slice_for(PAIRED_SLICE, || bare.batch(size));
        let (gov_before, bare_before) = (Breakdown::of_gov(&gov), Breakdown::of_bare(&bare));
        let result = paired(
            PAIRED_ROUNDS,
            || slice_for(PAIRED_SLICE, || gov.batch(size)),
            || slice_for(PAIRED_SLICE, || bare.batch(size)),
        );
        breakdowns.push((
            size,
            Breakdown::of_gov(&gov).since(&gov_before),
            Breakdown::of_bare(&bare).since(&bare_before),
        ));
        println!(
            "| {size} | {:.0} | {:.0} | {:.2} | {:.2}–{:.2} | ≥ {GOAL_RATIO} | {} | {fsync_before_ms:.2} / {:.2} |",
            result.a_events_per_s,
            result.b_events_per_s,
            result.ratio_median,
            result.ratio_min,
            result.ratio_max,
            if result.ratio_median >= GOAL_RATIO { "yes" } else { "no" },
            fsync_probe_ms()
        );
    }
    print_breakdowns(&breakdowns);
}

/// Where one side's time went over some batches: the ledger's phases (see
/// `LedgerStats`), or the bare side's inserts and commit; `us` fields are
/// totals in µs.
#[derive(Clone, Copy)]
struct Breakdown {
    batches: u64,
    total_us: f64,
    /// Group commits (the ledger) or transactions (bare).
    commits: u64,
    /// check, seal+write, commit; bare: —, inserts, commit.
    phases_us: [f64; 3],
}

impl Breakdown {
    fn of_gov(side: &GovSide) -> Self {
        let s = side.ledger.stats();
        let us = |nanos: u64| nanos as f64 / 1e3;
        Breakdown {
            batches: side.batches,
            total_us: micros(side.timed),
            commits: s.group_commits,
            phases_us: [us(s.check_nanos), us(s.write_nanos), us(s.commit_nanos)],
        }
    }

    fn of_bare(side: &BareSide) -> Self {
        Breakdown {
            batches: side.batches,
            total_us: micros(side.inserting + side.committing),
            commits: side.batches,
            phases_us: [0.0, micros(side.inserting), micros(side.committing)],
        }
    }

    fn since(&self, before: &Self) -> Self {
        Breakdown {
            batches: self.batches - before.batches,
            total_us: self.total_us - before.total_us,
            commits: self.commits - before.commits,
            phases_us: std::array::from_fn(|i| self.phases_us[i] - before.phases_us[i]),
        }
    }

    /// Mean µs per batch: the whole call, and each phase.
    fn per_batch(&self) -> (f64, [f64; 3]) {
        let n = self.batches.max(1) as f64;
        (self.total_us / n, self.phases_us.map(|p| p / n))
    }
}

fn print_breakdowns(rows: &[(usize, Breakdown, Breakdown)]) {
    println!();
    println!(
        "where the time went in the paired phase, mean µs per batch (govledger: the writer's phases from \
         Ledger::stats, the rest of the call is hand-over, preparation not overlapped, replies; bare: inserts from BEGIN to COMMIT, and the COMMIT)"
    );
    println!(
        "| batch | govledger check | seal + write | commit | rest of the call | whole call | group commits per batch | bare inserts | bare commit | bare whole |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (size, gov, bare) in rows {
        let (gov_total, [check, write, commit]) = gov.per_batch();
        let (bare_total, [_, inserts, bare_commit]) = bare.per_batch();
        println!(
            "| {size} | {check:.0} | {write:.0} | {commit:.0} | {:.0} | {gov_total:.0} | {:.2} | {inserts:.0} | {bare_commit:.0} | {bare_total:.0} |",
            gov_total - check - write - commit,
            gov.commits as f64 / gov.batches.max(1) as f64,
        );
    }
}

/// Where the ledger's per-event CPU goes (no disk): sealing an event — its
/// RFC 8785 body and SHA-256 — against hashing the same bytes alone. Sealing
/// is the largest cost of a large batch (see BENCHMARKS.md).
fn seal_group(c: &mut Criterion) {
    const EVENTS: usize = 512;
    let subs: Vec<Submission> = (1..=EVENTS as u64).map(action).collect();
    let ids: Vec<Uuid> = (0..EVENTS).map(|_| Uuid::now_v7()).collect();
    let recorded_at = Timestamp::now();
    let bodies: Vec<Vec<u8>> = subs
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (sub, id))| StoredEvent::seal(i as u64 + 3, *id, sub, recorded_at, GENESIS_HASH).body)
        .collect();
    let mut group = c.benchmark_group("seal_512");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("govledger_seal", |b| {
        b.iter(|| {
            for (i, (sub, id)) in subs.iter().zip(&ids).enumerate() {
                std::hint::black_box(StoredEvent::seal(i as u64 + 3, *id, sub, recorded_at, GENESIS_HASH));
            }
        })
    });
    group.bench_function("sha256_of_same_bodies", |b| {
        b.iter(|| {
            for body in &bodies {
                std::hint::black_box(govledger_ledger::sha256_hex(body));
            }
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    criterion_groups(&mut c);
    seal_group(&mut c);
    if !common::quick_mode() {
        paired_phase(common::name_filter().as_deref());
    }
    c.final_summary();
}
