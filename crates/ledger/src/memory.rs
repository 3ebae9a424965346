//! An in-memory store: the storage contract in its smallest form. The
//! ledger's own tests use it (several writers on one log stand for server
//! replicas sharing a store), and the conformance suite runs against it as
//! the reference the real stores are compared with. Nothing is durable.
//!
//! Several [`MemoryWriter`]s may share one [`MemoryLog`]. Concurrency is
//! optimistic, as on a shared store: `begin` checks the expected head, and
//! `commit` checks it again and appends under one lock, so a writer that was
//! overtaken between the two gets `StoreError::Conflict` and stores nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use uuid::Uuid;

use crate::backend::{LogReader, LogWriter, RawRow, StoreError};
use crate::event::{Encoded, Head, StoredEvent};

/// One shared in-memory log.
#[derive(Default)]
pub struct MemoryLog {
    rows: Mutex<Rows>,
}

#[derive(Default)]
struct Rows {
    /// Canonical body and hash of the event at `seq = index + 1`.
    events: Vec<(Vec<u8>, String)>,
    /// Event id → index into `events`.
    ids: HashMap<Uuid, usize>,
    anchor: Option<Head>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A new writer on this log (any number may exist at once).
    pub fn writer(self: &Arc<Self>) -> MemoryWriter {
        MemoryWriter { log: self.clone(), expected: None, pending: Vec::new() }
    }

    fn rows(&self) -> MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn decode(seq: u64, body: &[u8], hash: &str) -> Result<StoredEvent, StoreError> {
    StoredEvent::from_body(body, hash).map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })
}

impl LogReader for MemoryLog {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        Ok(self.rows().anchor.clone())
    }

    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self.rows();
        let start = usize::try_from(after).unwrap_or(usize::MAX).min(rows.events.len());
        rows.events[start..]
            .iter()
            .take(limit)
            .zip(start as u64 + 1..)
            .map(|((body, hash), seq)| decode(seq, body, hash))
            .collect()
    }

    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        // A snapshot, so that `visit` may take as long as it likes (or read
        // the log itself) without holding the lock.
        let (first, snapshot): (u64, Vec<(Vec<u8>, String)>) = {
            let rows = self.rows();
            let start = usize::try_from(after).unwrap_or(usize::MAX).min(rows.events.len());
            (start as u64 + 1, rows.events[start..].to_vec())
        };
        for ((body, hash), seq) in snapshot.iter().zip(first..) {
            if !visit(RawRow { seq, body, hash }) {
                break;
            }
        }
        Ok(())
    }

    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        let rows = self.rows();
        match rows.ids.get(id) {
            Some(&i) => {
                let (body, hash) = &rows.events[i];
                decode(i as u64 + 1, body, hash).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// A writer on a [`MemoryLog`].
pub struct MemoryWriter {
    log: Arc<MemoryLog>,
    /// The head the open transaction appends after.
    expected: Option<u64>,
    pending: Vec<Encoded>,
}

impl LogWriter for MemoryWriter {
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError> {
        self.pending.clear();
        self.expected = None;
        let found = self.log.rows().events.len() as u64;
        if found != expected_head {
            return Err(StoreError::Conflict { expected: expected_head, found });
        }
        self.expected = Some(expected_head);
        Ok(())
    }

    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        if self.expected.is_none() {
            return Err(StoreError::Io("write outside a transaction".into()));
        }
        self.pending.extend_from_slice(events);
        Ok(())
    }

    fn commit(&mut self, head: &Head) -> Result<(), StoreError> {
        let Some(expected) = self.expected.take() else {
            return Err(StoreError::Io("commit outside a transaction".into()));
        };
        let pending = std::mem::take(&mut self.pending);
        let mut rows = self.log.rows();
        let found = rows.events.len() as u64;
        if found != expected {
            return Err(StoreError::Conflict { expected, found });
        }
        // Like a UNIQUE column: nothing is stored when one row breaks a rule.
        let mut seen = std::collections::HashSet::with_capacity(pending.len());
        for (e, seq) in pending.iter().zip(expected + 1..) {
            if e.event.seq != seq {
                return Err(StoreError::Io(format!(
                    "event {} is sealed for seq {}, not {seq}",
                    e.event.id, e.event.seq
                )));
            }
            if rows.ids.contains_key(&e.event.id) || !seen.insert(e.event.id) {
                return Err(StoreError::Io(format!("event id {} is already stored", e.event.id)));
            }
        }
        for e in pending {
            let index = rows.events.len();
            rows.ids.insert(e.event.id, index);
            rows.events.push((e.body, e.event.hash));
        }
        rows.anchor = Some(head.clone());
        Ok(())
    }

    fn rollback(&mut self) {
        self.expected = None;
        self.pending.clear();
    }

    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        if let Some(e) = self.pending.iter().find(|e| e.event.id == *id) {
            return Ok(Some(e.event.clone()));
        }
        self.log.by_id(id)
    }
}
