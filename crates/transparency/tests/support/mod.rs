//! Shared pieces of the transparency tests: logs of the fixture city built
//! through the ledger (in memory and in an embedded data directory), the
//! stored bodies read back, an independent naive RFC 9162 tree over them,
//! and direct edits of an embedded store's database (an insider's tamper).

#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use govledger_ledger::memory::MemoryLog;
use govledger_ledger::{Head, Ledger, LogReader, RawRow, StoreError, StoredEvent};
use govledger_store_conformance::fixtures::{city, publicity};
use sha2::{Digest, Sha256};
use tlog_tiles::Hash;
use uuid::Uuid;

/// Appends the fixture city's registrations and then `actions` publicity
/// events (ids `P1`, `P2`, …) through `ledger`, in batches.
pub fn fill(ledger: &Ledger, first_action: u64, actions: u64) {
    if ledger.head().seq == 0 {
        ledger.append_blocking(city()).expect("the fixture city registers");
    }
    let ids: Vec<u64> = (first_action..first_action + actions).collect();
    for batch in ids.chunks(500) {
        let subs = batch.iter().map(|n| publicity(&format!("P{n}"))).collect();
        ledger.append_blocking(subs).expect("publicity events pass the rules");
    }
}

/// An in-memory log of the city and `actions` publicity events, with the
/// ledger that wrote it (to append more).
pub fn memory_log(actions: u64) -> (Arc<MemoryLog>, Ledger) {
    let log = MemoryLog::new();
    let ledger = Ledger::open(Box::new(log.writer()), log.clone()).expect("open a ledger on the memory log");
    fill(&ledger, 1, actions);
    (log, ledger)
}

/// An embedded data directory in `dir` holding the city and `actions`
/// publicity events; the ledger is closed, so the directory may be edited.
pub fn embedded_store(dir: &Path, actions: u64) -> Arc<govledger_store_embedded::EmbeddedReader> {
    let ledger = govledger_store_embedded::open_ledger(dir).expect("open the embedded ledger");
    fill(&ledger, 1, actions);
    ledger.close();
    drop(ledger);
    govledger_store_embedded::open_reader(dir).expect("open the embedded store for reading")
}

/// Every stored body, in seq order.
pub fn bodies(reader: &dyn LogReader) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .scan_raw(0, &mut |row| {
            assert_eq!(row.seq, out.len() as u64 + 1, "the test log has no gaps");
            out.push(row.body.to_vec());
            true
        })
        .expect("read the log");
    out
}

/// RFC 9162 2.1.1, written out independently of tlog_tiles: the root of the
/// tree over `bodies`.
pub fn naive_root(bodies: &[Vec<u8>]) -> Hash {
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest(b"").into(),
            1 => leaves[0],
            n => {
                // The largest power of two smaller than n.
                let k = 1usize << (n - 1).ilog2();
                let mut h = Sha256::new();
                h.update([1u8]);
                h.update(mth(&leaves[..k]));
                h.update(mth(&leaves[k..]));
                h.finalize().into()
            }
        }
    }
    let leaves: Vec<[u8; 32]> = bodies.iter().map(|b| naive_leaf(b).0).collect();
    Hash(mth(&leaves))
}

/// `SHA-256(0x00 ‖ body)`.
pub fn naive_leaf(body: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(body);
    Hash(h.finalize().into())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A reader that counts the rows it hands out (and may refuse to be read).
pub struct Counting<'a> {
    pub inner: &'a dyn LogReader,
    pub rows: AtomicU64,
    pub scans: AtomicU64,
}

impl<'a> Counting<'a> {
    pub fn new(inner: &'a dyn LogReader) -> Self {
        Self { inner, rows: AtomicU64::new(0), scans: AtomicU64::new(0) }
    }

    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::Relaxed)
    }
}

impl LogReader for Counting<'_> {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        self.inner.anchor()
    }

    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.read(after, limit)
    }

    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        self.scans.fetch_add(1, Ordering::Relaxed);
        self.inner.scan_raw(after, &mut |row| {
            self.rows.fetch_add(1, Ordering::Relaxed);
            visit(row)
        })
    }

    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.inner.by_id(id)
    }
}

/// The embedded store's database, opened behind the product's back.
pub fn database(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(govledger_store_embedded::DB_FILE)).expect("open ledger.sqlite")
}

pub fn body_and_hash(db: &rusqlite::Connection, seq: u64) -> (String, String) {
    db.query_row("SELECT body, hash FROM events WHERE seq = ?1", [seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the row exists")
}

pub fn set_row(db: &rusqlite::Connection, seq: u64, body: &str, hash: &str) {
    let n = db
        .execute("UPDATE events SET body = ?1, hash = ?2 WHERE seq = ?3", rusqlite::params![body, hash, seq])
        .expect("update the row");
    assert_eq!(n, 1, "no row at seq {seq}");
}
