//! The sharded catch-up against the one-thread walk: over a small log held
//! in memory, tampered at every position in every way (as
//! `govledger_ledger`'s tests do for `verify_sharded`), both give the same
//! result, the same error text, and the same leaves kept, with windows and
//! shards small enough that every seam is crossed.

use std::sync::Mutex;

use govledger_ledger::memory::MemoryLog;
use govledger_ledger::{Head, Ledger, LogReader, RawRow, StoreError, StoredEvent};
use govledger_store_conformance::fixtures::{city, publicity};
use sha2::{Digest, Sha256};
use tlog_tiles::Hash;

use super::Sharding;
use crate::Tree;

/// The walk of every stretch on the extending thread.
const ONE_THREAD: Sharding = Sharding { shards: 1, min_stretch: u64::MAX, window: 1 };
/// Sharded ways to walk any stretch: several windows, seams everywhere.
const SHARDED: [Sharding; 3] = [
    Sharding { shards: 2, min_stretch: 1, window: 5 },
    Sharding { shards: 3, min_stretch: 1, window: 7 },
    Sharding { shards: 2, min_stretch: 4, window: 1 << 20 },
];

/// A store of rows in seq order that records where each scan started and
/// cannot read the row at `unreadable_at`.
struct Rows {
    rows: Vec<(u64, Vec<u8>, String)>,
    anchor: Option<Head>,
    unreadable_at: Option<u64>,
    scans: Mutex<Vec<u64>>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Rows {
    /// The fixture city and publicity events, `n` events in all.
    fn new(n: u64) -> Self {
        let log = MemoryLog::new();
        let ledger = Ledger::open(Box::new(log.writer()), log.clone()).expect("open a ledger on the memory log");
        ledger.append_blocking(city()).expect("the fixture city registers");
        let more = n.checked_sub(ledger.head().seq).expect("the city has fewer events than asked for");
        ledger.append_blocking((1..=more).map(|i| publicity(&format!("P{i}"))).collect()).expect("publicity events");
        let mut rows = Vec::new();
        log.scan_raw(0, &mut |row| {
            rows.push((row.seq, row.body.to_vec(), row.hash.to_owned()));
            true
        })
        .expect("read the memory log");
        assert_eq!(rows.len() as u64, n);
        let anchor = log.anchor().expect("the memory log's anchor");
        Rows { rows, anchor, unreadable_at: None, scans: Mutex::default() }
    }

    fn copy(&self) -> Self {
        Rows { rows: self.rows.clone(), anchor: self.anchor.clone(), unreadable_at: None, scans: Mutex::default() }
    }

    fn row(&mut self, seq: u64) -> &mut (u64, Vec<u8>, String) {
        self.rows.iter_mut().find(|r| r.0 == seq).expect("a row at that seq")
    }

    fn tamper(&mut self, seq: u64, kind: u8) {
        match kind {
            // one byte changed
            0 => self.row(seq).1[10] ^= 1,
            // one byte changed and the row rehashed
            1 => {
                let row = self.row(seq);
                row.1[10] ^= 1;
                row.2 = sha256_hex(&row.1);
            }
            // deleted
            2 => self.rows.retain(|r| r.0 != seq),
            // swapped with the next one, positions kept
            3 => {
                if let Some(i) = self.rows.iter().position(|r| r.0 == seq)
                    && i + 1 < self.rows.len()
                {
                    let (a, b) = self.rows.split_at_mut(i + 1);
                    std::mem::swap(&mut a[i].1, &mut b[0].1);
                    std::mem::swap(&mut a[i].2, &mut b[0].2);
                }
            }
            // everything after it deleted
            4 => self.rows.retain(|r| r.0 <= seq),
            // no event at all, rehashed
            5 => {
                let row = self.row(seq);
                row.1 = b"not an event".to_vec();
                row.2 = sha256_hex(&row.1);
            }
            // another prev_hash, rehashed
            6 => {
                let row = self.row(seq);
                let text = String::from_utf8(row.1.clone()).expect("a canonical body is UTF-8");
                let at = text.find("\"prev_hash\":\"").expect("a body names prev_hash") + 13;
                row.1 = format!("{}{}{}", &text[..at], "f".repeat(64), &text[at + 64..]).into_bytes();
                row.2 = sha256_hex(&row.1);
            }
            // cannot be read
            7 => self.unreadable_at = Some(seq),
            _ => unreachable!("no tamper of kind {kind}"),
        }
    }
}

impl LogReader for Rows {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        Ok(self.anchor.clone())
    }

    fn read(&self, _after: u64, _limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(Vec::new())
    }

    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        self.scans.lock().expect("scans").push(after);
        for (seq, body, hash) in self.rows.iter().filter(|r| r.0 > after) {
            if self.unreadable_at == Some(*seq) {
                return Err(StoreError::Io(format!("cannot read seq {seq}")));
            }
            if !visit(RawRow { seq: *seq, body, hash }) {
                break;
            }
        }
        Ok(())
    }

    fn by_id(&self, _id: &uuid::Uuid) -> Result<Option<StoredEvent>, StoreError> {
        Ok(None)
    }
}

/// What an `extend` left: its result (errors as text), and every leaf kept.
#[derive(Debug, PartialEq)]
struct Outcome {
    result: Result<u64, String>,
    leaves: Vec<Hash>,
}

/// Extends a tree already covering the first `start` events of `before`
/// over `after` up to `to`, walked as `sharding` says; the tree is then
/// reopened from its files, to see what was kept.
fn extend(before: &Rows, after: &Rows, start: u64, to: u64, sharding: Sharding) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open the tree");
    assert_eq!(tree.extend_with(before, start, ONE_THREAD).expect("the untampered start"), start);
    let result = tree.extend_with(after, to, sharding).map_err(|e| e.to_string());
    drop(tree);
    let tree = Tree::open(dir.path()).expect("reopen the tree");
    let leaves = (0..tree.size()).map(|i| tree.leaf(i).expect("a leaf under the size")).collect();
    if let Ok(size) = result {
        assert_eq!(size, tree.size());
    }
    Outcome { result, leaves }
}

#[test]
fn a_long_stretch_is_read_in_shards_and_has_the_one_thread_tree() {
    let rows = Rows::new(24);
    let sharding = Sharding { shards: 2, min_stretch: 1, window: 10 };
    let sharded = extend(&rows, &rows, 0, u64::MAX, sharding);
    let mut scans = rows.scans.lock().expect("scans").clone();
    // The shards of three windows of 10, 10 and 4 leaves (two shards each,
    // the second from the row at its boundary), then the one-thread walk
    // after the last, finding nothing new.
    scans.sort_unstable();
    assert_eq!(scans, [0, 4, 10, 14, 20, 21, 24]);
    assert_eq!(sharded, extend(&rows, &rows, 0, u64::MAX, ONE_THREAD));
    assert_eq!(sharded.result, Ok(24));
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open the tree");
    assert_eq!(tree.extend_with(&rows, u64::MAX, sharding).expect("extend"), 24);
    tree.verify_against(&rows).expect("the tree of the stored bodies");
}

#[test]
fn a_short_stretch_is_walked_on_one_thread() {
    let rows = Rows::new(24);
    let sharding = Sharding { shards: 2, min_stretch: 20, window: 10 };
    assert_eq!(extend(&rows, &rows, 5, u64::MAX, sharding).result, Ok(24));
    // The untampered start, then one walk from the row at the tree's size.
    assert_eq!(*rows.scans.lock().expect("scans"), [0, 4]);
}

#[test]
fn sharded_and_one_thread_agree_on_every_tamper() {
    const N: u64 = 24;
    let untampered = Rows::new(N);
    let mut broken = 0;
    for first in 1..=N {
        for kind in 0..8 {
            // One tamper, then the same with a second one further on.
            for second in [None, Some((first + 7, (kind + 3) % 8))] {
                let mut rows = untampered.copy();
                rows.tamper(first, kind);
                if let Some((seq, kind)) =
                    second.filter(|(seq, _)| *seq != first && rows.rows.iter().any(|r| r.0 == *seq))
                {
                    rows.tamper(seq, kind);
                }
                // From an empty tree, and from one ending before, at or
                // after the tamper; to the end, or to a seq within.
                for (start, to) in [(0, u64::MAX), (9, u64::MAX), (5, 17)] {
                    let one_thread = extend(&untampered, &rows, start, to, ONE_THREAD);
                    for sharding in SHARDED {
                        assert_eq!(
                            extend(&untampered, &rows, start, to, sharding),
                            one_thread,
                            "{sharding:?}, tamper {kind} at {first}, then {second:?}, from {start} to {to}"
                        );
                    }
                    broken += usize::from(matches!(one_thread.result, Err(ref e) if e.contains("is broken")));
                }
            }
        }
    }
    // The walks did meet broken logs (not only refusals and read failures).
    assert!(broken > 500, "{broken} broken");
}
