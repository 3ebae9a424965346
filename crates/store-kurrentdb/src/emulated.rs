//! An in-memory [`Stream`] that follows KurrentDB's rules for one stream, so
//! that the store (mapping, buffering, conflicts, retries, following) is
//! tested without a server: appends are atomic and checked against the
//! expected revision; appending the same event ids after the same expected
//! revision again is a success that stores nothing (the server's
//! idempotency for retried appends); readers and the watch see appends at
//! once. Faults can be injected: a lost acknowledgement (the append is
//! stored, the client hears a timeout) and an unreachable cluster.
//!
//! It is an emulation, not the server: the conformance suite also runs
//! against a real cluster when `GOVLEDGER_KURRENTDB_URL` is set.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;

use crate::stream::{OutgoingEvent, RecordedRow, Stream, StreamError};

/// A fault the next operations meet, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next append is stored, but its answer is lost (a timeout).
    LoseAck,
    /// The next operation fails as if no leader could be reached; nothing is stored.
    Unavailable,
}

/// One emulated stream.
pub struct EmulatedStream {
    rows: Mutex<Vec<RecordedRow>>,
    faults: Mutex<VecDeque<Fault>>,
    /// Operations that reached the stream (appends and reads), for tests.
    calls: Mutex<Vec<&'static str>>,
    length: watch::Sender<u64>,
}

impl Default for EmulatedStream {
    fn default() -> Self {
        EmulatedStream {
            rows: Mutex::new(Vec::new()),
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
            length: watch::channel(0).0,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl EmulatedStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues faults for the next operations.
    pub fn inject(&self, faults: &[Fault]) {
        lock(&self.faults).extend(faults.iter().copied());
    }

    /// The operations that reached the stream so far (`"append"`, `"read"`, `"last"`).
    pub fn calls(&self) -> Vec<&'static str> {
        lock(&self.calls).clone()
    }

    /// Stores rows as they are, bypassing every check (to test how the
    /// store treats a stream that other software wrote into).
    pub fn push_raw(&self, row: RecordedRow) {
        let mut rows = lock(&self.rows);
        rows.push(row);
        self.length.send_replace(rows.len() as u64);
    }

    fn next_fault(&self, call: &'static str) -> Option<Fault> {
        lock(&self.calls).push(call);
        let mut faults = lock(&self.faults);
        match (call, faults.front()) {
            (_, Some(Fault::Unavailable)) => faults.pop_front(),
            ("append", Some(Fault::LoseAck)) => faults.pop_front(),
            _ => None,
        }
    }
}

impl Stream for EmulatedStream {
    fn append(&self, expected: Option<u64>, events: &[OutgoingEvent]) -> Result<u64, StreamError> {
        let fault = self.next_fault("append");
        if fault == Some(Fault::Unavailable) {
            return Err(StreamError::Unavailable("no leader (injected)".into()));
        }
        let mut rows = lock(&self.rows);
        let current = (rows.len() as u64).checked_sub(1);
        let start = expected.map_or(0, |r| r + 1);
        if current != expected {
            // A retry of an append that was stored: the same ids sit right
            // after the expected revision.
            let end = start + events.len() as u64;
            let stored = usize::try_from(start)
                .ok()
                .and_then(|s| rows.get(s..s + events.len()))
                .is_some_and(|slice| !events.is_empty() && slice.iter().zip(events).all(|(r, e)| r.id == e.id));
            return if stored { Ok(end - 1) } else { Err(StreamError::WrongExpectedRevision { current }) };
        }
        if events.is_empty() {
            return Ok(current.unwrap_or(0));
        }
        for (e, revision) in events.iter().zip(start..) {
            rows.push(RecordedRow::recorded(revision, e));
        }
        self.length.send_replace(rows.len() as u64);
        let last = rows.len() as u64 - 1;
        match fault {
            Some(Fault::LoseAck) => Err(StreamError::Unavailable("deadline exceeded (injected lost ack)".into())),
            _ => Ok(last),
        }
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<RecordedRow>, StreamError> {
        if self.next_fault("read") == Some(Fault::Unavailable) {
            return Err(StreamError::Unavailable("no leader (injected)".into()));
        }
        let rows = lock(&self.rows);
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(rows.len());
        Ok(rows[start..].iter().take(max).cloned().collect())
    }

    fn last(&self) -> Result<Option<RecordedRow>, StreamError> {
        if self.next_fault("last") == Some(Fault::Unavailable) {
            return Err(StreamError::Unavailable("no leader (injected)".into()));
        }
        Ok(lock(&self.rows).last().cloned())
    }

    fn watch(&self) -> watch::Receiver<u64> {
        self.length.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn event() -> OutgoingEvent {
        OutgoingEvent { id: Uuid::now_v7(), event_type: "T".into(), data: b"{}".to_vec(), metadata: b"{}".to_vec() }
    }

    #[test]
    fn appends_follow_the_expected_revision_and_retries_are_idempotent() {
        let s = EmulatedStream::new();
        let (a, b, c) = (event(), event(), event());
        assert_eq!(s.append(None, &[a.clone(), b.clone()]), Ok(1));
        assert_eq!(
            s.append(None, std::slice::from_ref(&c)),
            Err(StreamError::WrongExpectedRevision { current: Some(1) })
        );
        // The same append again: success, nothing stored twice.
        assert_eq!(s.append(None, &[a.clone(), b.clone()]), Ok(1));
        assert_eq!(s.append(None, std::slice::from_ref(&a)), Ok(0));
        // Other ids at that position: a conflict.
        assert_eq!(s.append(None, &[c.clone(), b]), Err(StreamError::WrongExpectedRevision { current: Some(1) }));
        assert_eq!(s.append(Some(1), &[c]), Ok(2));
        assert_eq!(s.read(0, 10).unwrap().iter().map(|r| r.revision).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(s.read(2, 10).unwrap()[0].revision, 2);
        assert!(s.read(3, 10).unwrap().is_empty());
        assert_eq!(s.last().unwrap().map(|r| r.revision), Some(2));
        assert_eq!(*s.watch().borrow(), 3);
    }

    #[test]
    fn faults_happen_once_each_in_order() {
        let s = EmulatedStream::new();
        s.inject(&[Fault::LoseAck, Fault::Unavailable]);
        let a = event();
        assert!(matches!(s.append(None, std::slice::from_ref(&a)), Err(StreamError::Unavailable(_))));
        assert_eq!(s.read(0, 10).unwrap_err(), StreamError::Unavailable("no leader (injected)".into()));
        assert_eq!(s.read(0, 10).unwrap().len(), 1, "the lost-ack append was stored");
        assert_eq!(s.append(None, &[a]), Ok(0), "its retry is recognised");
        assert_eq!(s.calls(), vec!["append", "read", "read", "append"]);
    }
}
