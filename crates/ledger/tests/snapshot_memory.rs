//! A state snapshot is written and read without a second copy of the state
//! or of its bytes in memory (issue 18): the writer serialises the state
//! straight into the file, and opening reads it piece by piece, so that an
//! import or a server never needs twice the state's memory. Alone in its
//! test binary, because it counts every allocation of the process (dhat).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use govledger_domain::{Submission, Timestamp};
use govledger_ledger::memory::MemoryLog;
use govledger_ledger::{Clock, Ledger, LedgerOptions};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn clock() -> Clock {
    let start = Timestamp::parse("2026-11-01T00:00:00Z").unwrap().micros();
    Arc::new(move || Timestamp::from_micros(start))
}

#[test]
fn a_snapshot_is_saved_and_read_without_a_copy_of_the_state() {
    let until = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap();
    let config = govledger_demo::DemoConfig { seed: 2026, scale: 1.0, until };
    let events: Vec<Submission> = govledger_demo::events(&config).take(20_000).collect();
    let log = MemoryLog::new();
    let options = LedgerOptions { clock: clock(), ..LedgerOptions::default() };
    let ledger = Ledger::open_with(Box::new(log.writer()), log.clone(), options).unwrap();
    let items: Vec<_> = events.into_iter().enumerate().map(|(i, s)| Ok((i as u64 + 1, s))).collect();
    assert_eq!(ledger.import_blocking(items.into_iter(), |_| {}).unwrap().appended, 20_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.snapshot");

    // Only what is allocated from here on is counted.
    let profiler = dhat::Profiler::builder().testing().build();
    ledger.save_snapshot(&path).unwrap();
    let saving_peak = dhat::HeapStats::get().max_bytes;
    ledger.close();
    drop(ledger);

    // The file is smaller than the state it holds (postcard packs it), so
    // a copy of the state or of its bytes would each take more than this.
    let file_bytes = std::fs::metadata(&path).unwrap().len() as usize;
    assert!(file_bytes > 1_000_000, "the state of 20,000 events takes {file_bytes} bytes on disk");
    assert!(saving_peak < file_bytes / 4, "saving a {file_bytes}-byte snapshot allocated up to {saving_peak} bytes");

    // Opening from the snapshot: at its peak, little more than the state it
    // keeps (reading the whole file first would add the file's size).
    let options = LedgerOptions { clock: clock(), snapshot: Some(path.clone()), ..LedgerOptions::default() };
    let reopened = Ledger::open_with(Box::new(log.writer()), log.clone(), options).unwrap();
    let stats = dhat::HeapStats::get();
    assert_eq!(reopened.head().seq, 20_000);
    let transient = stats.max_bytes - stats.curr_bytes;
    assert!(
        transient < file_bytes / 2,
        "opening from a {file_bytes}-byte snapshot held {transient} bytes more at its peak than after"
    );
    reopened.close();
    drop(profiler);
}
