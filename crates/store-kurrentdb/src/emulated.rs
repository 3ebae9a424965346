//! An in-memory [`Stream`] that follows KurrentDB's rules for one stream, so
//! that the store (mapping, buffering, conflicts, retries, following) is
//! tested without a server:
//! - appends are atomic and checked against the expected revision;
//! - idempotency compares event ids only, as the server does: an append
//!   whose event ids are the ones stored right after its expected revision
//!   is an "idempotent success" that stores nothing, whatever its payloads;
//! - an append whose data and metadata exceed `MaxAppendSize`
//!   ([`EmulatedStream::with_max_append_size`]; the server's default is
//!   1 MiB) is refused whole;
//! - reads see appends at once (reads from the leader); the subscription
//!   behind [`Stream::watch`] does too, unless it is held back
//!   ([`EmulatedStream::hold_subscription`]), as a subscription that lags.
//!
//! Faults can be injected: a lost acknowledgement (the append is stored, the
//! client hears a timeout), an unreachable cluster, a refused append, and a
//! pass (to aim a later fault at a later operation).
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
    /// The next append is refused for good (as access denied); nothing is stored.
    Refuse,
    /// The next operation goes through (the faults after it meet later ones).
    Pass,
}

/// The server's default `MaxAppendSize`: 1 MiB.
pub const SERVER_MAX_APPEND_SIZE: usize = 1 << 20;

/// One emulated stream.
pub struct EmulatedStream {
    rows: Mutex<Vec<RecordedRow>>,
    faults: Mutex<VecDeque<Fault>>,
    /// Operations that reached the stream (appends and reads), for tests.
    calls: Mutex<Vec<&'static str>>,
    length: watch::Sender<u64>,
    /// Whether the subscription is held back (the watch stops moving).
    held: Mutex<bool>,
    /// The server's `MaxAppendSize`: most bytes of data and metadata per append.
    max_append_size: usize,
}

impl Default for EmulatedStream {
    fn default() -> Self {
        EmulatedStream {
            rows: Mutex::new(Vec::new()),
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
            length: watch::channel(0).0,
            held: Mutex::new(false),
            max_append_size: SERVER_MAX_APPEND_SIZE,
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

    /// A stream whose server refuses appends of more than `bytes` of data
    /// and metadata (`MaxAppendSize`).
    pub fn with_max_append_size(bytes: usize) -> Self {
        EmulatedStream { max_append_size: bytes, ..Self::default() }
    }

    /// Holds the subscription back: the watch stops moving while appends
    /// go on (a subscription that lags), until [`Self::release_subscription`].
    pub fn hold_subscription(&self) {
        *lock(&self.held) = true;
    }

    /// Lets the subscription catch up with the stream.
    pub fn release_subscription(&self) {
        *lock(&self.held) = false;
        self.length.send_replace(lock(&self.rows).len() as u64);
    }

    /// Tells the subscription about the stream's new length, unless held back.
    fn notify(&self, length: usize) {
        if !*lock(&self.held) {
            self.length.send_replace(length as u64);
        }
    }

    /// Queues faults for the next operations.
    pub fn inject(&self, faults: &[Fault]) {
        lock(&self.faults).extend(faults.iter().copied());
    }

    /// Drops the faults no operation has met yet.
    pub fn clear_faults(&self) {
        lock(&self.faults).clear();
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
        self.notify(rows.len());
    }

    fn next_fault(&self, call: &'static str) -> Option<Fault> {
        lock(&self.calls).push(call);
        let mut faults = lock(&self.faults);
        match (call, faults.front()) {
            (_, Some(Fault::Unavailable | Fault::Pass)) => faults.pop_front(),
            ("append", Some(Fault::LoseAck | Fault::Refuse)) => faults.pop_front(),
            _ => None,
        }
    }
}

impl Stream for EmulatedStream {
    fn append(&self, expected: Option<u64>, events: &[OutgoingEvent]) -> Result<u64, StreamError> {
        let fault = self.next_fault("append");
        match fault {
            Some(Fault::Unavailable) => return Err(StreamError::Unavailable("no leader (injected)".into())),
            Some(Fault::Refuse) => return Err(StreamError::Failed("access denied (injected)".into())),
            _ => {}
        }
        let size: usize = events.iter().map(|e| e.data.len() + e.metadata.len()).sum();
        if size > self.max_append_size {
            return Err(StreamError::Failed(format!("Maximum Append Size of {} Exceeded.", self.max_append_size)));
        }
        let mut rows = lock(&self.rows);
        let current = (rows.len() as u64).checked_sub(1);
        let start = expected.map_or(0, |r| r + 1);
        if current != expected {
            // A retry of an append that was stored: the same ids sit right
            // after the expected revision. Only the ids are compared, as the
            // server does: other payloads under the same ids succeed too.
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
        self.notify(rows.len());
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
        s.inject(&[Fault::Pass, Fault::Refuse]);
        let b = event();
        assert_eq!(s.read(0, 10).unwrap().len(), 1, "the pass let the read through");
        assert!(matches!(s.append(Some(0), std::slice::from_ref(&b)), Err(StreamError::Failed(_))));
        assert_eq!(s.append(Some(0), &[b]), Ok(1), "a refused append stored nothing");
    }

    #[test]
    fn idempotency_compares_ids_only_as_the_server_does() {
        let s = EmulatedStream::new();
        let a = event();
        assert_eq!(s.append(None, std::slice::from_ref(&a)), Ok(0));
        let other_bytes = OutgoingEvent { data: b"{\"other\":1}".to_vec(), ..a };
        assert_eq!(s.append(None, std::slice::from_ref(&other_bytes)), Ok(0), "idempotent success");
        assert_eq!(s.read(0, 10).unwrap()[0].data, b"{}", "and the first payload stays");
    }

    #[test]
    fn an_append_over_the_max_append_size_is_refused_whole() {
        let s = EmulatedStream::with_max_append_size(10);
        let (a, b) = (event(), event());
        // 4 bytes of data and metadata each: two fit, three do not.
        assert_eq!(s.append(None, &[a.clone(), b.clone()]), Ok(1));
        match s.append(Some(1), &[event(), event(), event()]) {
            Err(StreamError::Failed(m)) => assert!(m.contains("Maximum Append Size of 10"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(s.read(0, 10).unwrap().len(), 2);
    }

    #[test]
    fn a_held_subscription_lags_while_reads_see_every_append() {
        let s = EmulatedStream::new();
        let watch = s.watch();
        s.hold_subscription();
        assert_eq!(s.append(None, &[event()]), Ok(0));
        assert_eq!(*watch.borrow(), 0, "the subscription has not seen it");
        assert_eq!(s.read(0, 10).unwrap().len(), 1, "reads from the leader have");
        s.release_subscription();
        assert_eq!(*watch.borrow(), 1);
    }
}
