//! State snapshots (issue 18): a ledger opened from a snapshot folds only
//! the events after it and holds the same state as one that folded the whole
//! log; a snapshot that is not of this log, damaged, cut short or of
//! another version is ignored and the whole log is folded.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{TimeZone, Utc};
use govledger_domain::{State, Submission, Timestamp};
use govledger_ledger::memory::MemoryLog;
use govledger_ledger::{Clock, Head, Ledger, LedgerOptions, LogReader, RawRow, StoreError, StoredEvent};
use uuid::Uuid;

/// The demo city's first `n` events (meetings, tasks, freezes, retractions …).
fn demo(n: usize) -> Vec<Submission> {
    let until = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap();
    let config = govledger_demo::DemoConfig { seed: 2026, scale: 0.2, until };
    let events: Vec<Submission> = govledger_demo::events(&config).take(n).collect();
    assert_eq!(events.len(), n, "the demo city has {n} events");
    events
}

/// A clock that gives the same `recorded_at`s in every run.
fn fixed_clock(start: &str) -> Clock {
    let base = Timestamp::parse(start).unwrap().micros();
    let n = Arc::new(AtomicU64::new(0));
    Arc::new(move || Timestamp::from_micros(base + n.fetch_add(1, Ordering::SeqCst) as i64))
}

fn open(log: &Arc<MemoryLog>, reader: Arc<dyn LogReader>, snapshot: Option<PathBuf>, clock: Clock) -> Ledger {
    Ledger::open_with(Box::new(log.writer()), reader, LedgerOptions { clock, snapshot, ..LedgerOptions::default() })
        .unwrap()
}

fn import(ledger: &Ledger, events: &[Submission]) {
    let items: Vec<_> = events.iter().cloned().enumerate().map(|(i, s)| Ok((i as u64 + 1, s))).collect();
    let summary = ledger.import_blocking(items.into_iter(), |_| {}).unwrap();
    assert_eq!(summary.appended, events.len() as u64);
}

/// A reader that counts the rows it visits, to tell a fold of the tail from
/// a fold of the whole log.
struct Counting {
    inner: Arc<MemoryLog>,
    rows: AtomicU64,
}

impl Counting {
    fn over(inner: &Arc<MemoryLog>) -> Arc<Counting> {
        Arc::new(Counting { inner: inner.clone(), rows: AtomicU64::new(0) })
    }
}

impl LogReader for Counting {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        self.inner.anchor()
    }
    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.read(after, limit)
    }
    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        self.inner.scan_raw(after, &mut |row| {
            self.rows.fetch_add(1, Ordering::Relaxed);
            visit(row)
        })
    }
    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.inner.by_id(id)
    }
}

/// The state and head a ledger opened on `log` with the snapshot at `path`
/// starts with, and the rows it read to get there.
fn reopen(log: &Arc<MemoryLog>, path: Option<&Path>) -> (State, Head, u64) {
    let counting = Counting::over(log);
    let ledger = open(log, counting.clone(), path.map(Path::to_owned), fixed_clock("2026-11-02T00:00:00Z"));
    let rows = counting.rows.load(Ordering::Relaxed);
    let (state, head) = ledger.state_at_head().unwrap();
    ledger.close();
    (state, head, rows)
}

/// A log holding `events`, recorded by a clock starting at `clock`.
fn log_of(events: &[Submission], clock: &str) -> Arc<MemoryLog> {
    let log = MemoryLog::new();
    let ledger = open(&log, log.clone(), None, fixed_clock(clock));
    import(&ledger, events);
    ledger.close();
    log
}

/// A log holding `events`, with a snapshot taken after the first `cut`.
fn log_with_snapshot(events: &[Submission], cut: usize, path: &Path) -> Arc<MemoryLog> {
    let log = MemoryLog::new();
    let ledger = open(&log, log.clone(), None, fixed_clock("2026-11-01T00:00:00Z"));
    import(&ledger, &events[..cut]);
    let head = ledger.save_snapshot(path).unwrap();
    assert_eq!(head.seq, cut as u64);
    import(&ledger, &events[cut..]);
    ledger.close();
    log
}

#[test]
fn a_restart_from_a_snapshot_equals_a_full_rebuild_at_any_cut() {
    let events = demo(3_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.snapshot");
    // Cut points spread over the log by a small LCG, plus both ends.
    let mut x = 0x2026_1205u64;
    let mut cuts = vec![1, events.len()];
    for _ in 0..5 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        cuts.push(1 + (x >> 33) as usize % (events.len() - 1));
    }
    for cut in cuts {
        let log = log_with_snapshot(&events, cut, &path);
        let (rebuilt, full_head, full_rows) = reopen(&log, None);
        let (from_snapshot, head, rows) = reopen(&log, Some(&path));
        assert_eq!(full_rows, events.len() as u64);
        // The stored event at the snapshot's seq, then the tail.
        assert_eq!(rows, 1 + (events.len() - cut) as u64, "cut {cut}: only the tail is folded");
        assert_eq!(head, full_head, "cut {cut}");
        assert!(from_snapshot == rebuilt, "cut {cut}: the state from the snapshot differs from the full rebuild");
    }
}

#[test]
fn a_snapshot_of_another_log_is_ignored() {
    let events = demo(1_500);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.snapshot");
    log_with_snapshot(&events, 1_000, &path);
    // The same events recorded at other times: other hashes at every seq.
    let other = log_of(&events, "2026-11-03T00:00:00Z");
    let (rebuilt, full_head, _) = reopen(&other, None);
    let (state, head, rows) = reopen(&other, Some(&path));
    // The stored event at the snapshot's seq (another one), then all of them.
    assert_eq!(rows, 1 + events.len() as u64, "the whole log is folded");
    assert_eq!(head, full_head);
    assert!(state == rebuilt);
}

#[test]
fn a_snapshot_beyond_the_log_is_ignored() {
    // A snapshot taken later than the data it is put beside (an older backup
    // of the log restored under a newer snapshot).
    let events = demo(1_500);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.snapshot");
    log_with_snapshot(&events, 1_200, &path);
    let shorter = log_of(&events[..1_000], "2026-11-01T00:00:00Z");
    let (rebuilt, _, _) = reopen(&shorter, None);
    let (state, head, rows) = reopen(&shorter, Some(&path));
    assert_eq!((rows, head.seq), (1_000, 1_000));
    assert!(state == rebuilt);
}

#[test]
fn a_damaged_cut_or_older_snapshot_is_ignored() {
    let events = demo(1_200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.snapshot");
    let log = log_with_snapshot(&events, 800, &path);
    let good = std::fs::read(&path).unwrap();
    assert!(good.starts_with(b"govledger-state-2\n"));
    let (rebuilt, full_head, _) = reopen(&log, None);
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    // Version 1 held the interned ids as one text and their ends.
    let older = [b"govledger-state-1\n".as_slice(), &good[b"govledger-state-2\n".len()..]].concat();
    for (what, bytes) in [
        ("cut short", good[..good.len() - 7].to_vec()),
        ("one byte changed", flipped),
        ("of an older version", older),
        ("empty", Vec::new()),
    ] {
        std::fs::write(&path, &bytes).unwrap();
        let (state, head, rows) = reopen(&log, Some(&path));
        assert_eq!(rows, events.len() as u64, "a snapshot {what} is not used");
        assert_eq!(head, full_head, "{what}");
        assert!(state == rebuilt, "{what}");
    }
    // And the good one is used again.
    std::fs::write(&path, &good).unwrap();
    assert_eq!(reopen(&log, Some(&path)).2, 1 + 400);
}

#[test]
fn a_write_cut_off_by_a_crash_leaves_the_previous_snapshot() {
    let events = demo(1_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.snapshot");
    let log = log_with_snapshot(&events, 600, &path);
    // What a kill in the middle of the next save leaves: its temporary file,
    // half written. The snapshot itself is only ever replaced by a rename.
    let torn = std::fs::read(&path).unwrap();
    std::fs::write(path.with_extension("snapshot.tmp"), &torn[..torn.len() / 2]).unwrap();
    let (state, head, rows) = reopen(&log, Some(&path));
    assert_eq!(rows, 1 + 400, "the previous snapshot is used");
    let (rebuilt, full_head, _) = reopen(&log, None);
    assert_eq!(head, full_head);
    assert!(state == rebuilt);
    // The next save replaces both.
    let ledger = open(&log, log.clone(), Some(path.clone()), fixed_clock("2026-11-04T00:00:00Z"));
    assert_eq!(ledger.save_snapshot(&path).unwrap().seq, 1_000);
    ledger.close();
    assert_eq!(reopen(&log, Some(&path)).2, 1);
}

#[test]
fn the_snapshot_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.snapshot");
    log_with_snapshot(&demo(50), 50, &path);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}
