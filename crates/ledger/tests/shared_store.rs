//! The ledger as one of several writers of a shared store (server replicas):
//! a lost race is caught up, re-checked and retried; retries are bounded;
//! a replica follows the others with `catch_up`; a failed or lost commit
//! leaves the validation state as it was; a request that fails halfway
//! through a group leaves no trace for the requests after it; a batch
//! prepared off the writer thread is sealed as submitted, also when resealed;
//! blocking and async appends are all committed by the writer thread, and
//! many of them at once are all answered; a large batch is refused whole,
//! and a retry in it is answered from the store.
//!
//! The stores here are `MemoryLog`s. A wrapper log lets a test run code
//! (another replica's append) between a ledger's check and its commit,
//! which is exactly the race a shared store must settle.

// Helpers outside `#[test]` functions unwrap too: in a test, a panic with
// the failing value is the report we want.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use govledger_domain::{ErrorCode, Submission, Timestamp};
use govledger_ledger::memory::{MemoryLog, MemoryWriter};
use govledger_ledger::{
    AppendError, Encoded, Head, Ledger, LedgerOptions, LogReader, LogWriter, RetryPolicy, StoreError, StoredEvent,
    sha256_hex, verify,
};
use uuid::Uuid;

// The fixture city and its steps are the conformance suite's, shared.
use govledger_store_conformance::fixtures::{city, freeze_execution, freeze_request, publicity, with_id};

fn rejected_code(e: AppendError) -> (usize, ErrorCode) {
    match e {
        AppendError::Rejected { index, rejection } => (index, rejection.code),
        other => panic!("expected a rejection, got {other}"),
    }
}

/// A clock that moves one second per reading, so that events of different
/// group commits get different `recorded_at`.
fn ticking_clock() -> Arc<dyn Fn() -> Timestamp + Send + Sync> {
    let base = Timestamp::parse("2026-03-01T00:00:00Z").unwrap().micros();
    let n = Arc::new(AtomicI64::new(0));
    Arc::new(move || Timestamp::from_micros(base + n.fetch_add(1, Ordering::SeqCst) * 1_000_000))
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy { max_attempts, first_backoff: Duration::from_micros(50), max_backoff: Duration::from_micros(200) }
}

/// A writer that runs `before_commit` (with the attempt number, from 1)
/// just before each commit reaches the store.
struct Interloper {
    inner: MemoryWriter,
    commits: Arc<AtomicU32>,
    before_commit: Box<dyn FnMut(u32) + Send>,
}

impl LogWriter for Interloper {
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError> {
        self.inner.begin(expected_head)
    }
    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        self.inner.write(events)
    }
    fn commit(&mut self, head: &Head) -> Result<(), StoreError> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        (self.before_commit)(n);
        self.inner.commit(head)
    }
    fn rollback(&mut self) {
        self.inner.rollback()
    }
    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.inner.by_id(id)
    }
}

fn open(log: &Arc<MemoryLog>) -> Ledger {
    Ledger::open(Box::new(log.writer()), log.clone()).unwrap()
}

fn open_interloped(
    log: &Arc<MemoryLog>,
    retry: RetryPolicy,
    before_commit: impl FnMut(u32) + Send + 'static,
) -> (Ledger, Arc<AtomicU32>) {
    let commits = Arc::new(AtomicU32::new(0));
    let writer = Interloper { inner: log.writer(), commits: commits.clone(), before_commit: Box::new(before_commit) };
    let options = LedgerOptions { clock: ticking_clock(), retry, ..LedgerOptions::default() };
    (Ledger::open_with(Box::new(writer), log.clone(), options).unwrap(), commits)
}

#[test]
fn a_lost_race_is_caught_up_and_the_request_checked_again() {
    let log = MemoryLog::new();
    let b = open(&log);
    b.append_blocking(city()).unwrap();
    b.append_blocking(vec![freeze_request("F1"), freeze_request("F2")]).unwrap();
    // Replica A checks its request; before its commit lands, replica B
    // answers the same freeze (first commit) or appends something unrelated.
    let b2 = b.clone();
    let (a, commits) = open_interloped(&log, RetryPolicy::default(), move |n| match n {
        1 => {
            b2.append_blocking(vec![freeze_execution("F1")]).unwrap();
        }
        2 => {
            b2.append_blocking(vec![publicity("P1")]).unwrap();
        }
        _ => {}
    });
    // A conflicting step: after catching up, A sees F1 answered and refuses.
    assert_eq!(
        rejected_code(a.append_blocking(vec![freeze_execution("F1")]).unwrap_err()),
        (0, ErrorCode::FreezeAlreadyAnswered)
    );
    assert_eq!(commits.load(Ordering::SeqCst), 1, "the re-check refused it, so nothing was committed again");
    // A step that does not conflict: it lands after B's event, linked to it.
    let out = a.append_blocking(vec![freeze_execution("F2")]).unwrap();
    assert_eq!(commits.load(Ordering::SeqCst), 3, "lost once (commit 2), then stored (commit 3)");
    let stored = log.read(0, 100).unwrap();
    let executed: Vec<_> = stored.iter().filter(|e| e.event_type == "FreezeExecuted").collect();
    assert_eq!(executed.len(), 2);
    assert_eq!(executed.iter().filter(|e| e.data["freeze_id"] == "F1").count(), 1, "F1 answered exactly once");
    assert_eq!(out[0].event.seq, 8, "after B's FreezeExecuted F1 (6) and PublicityDelivered P1 (7)");
    assert_eq!(out[0].event.prev_hash, stored[6].hash);
    assert_eq!(
        a.head(),
        Head { seq: 8, hash: out[0].event.hash.clone(), recorded_at: out[0].event.recorded_at.clone() }
    );
    assert!(verify(log.as_ref()).unwrap().ok());
    let stats = a.stats();
    assert_eq!((stats.lost_races, stats.retries_exhausted, stats.followed_events), (2, 0, 2));
}

#[test]
fn retries_are_bounded_and_the_answer_says_retry() {
    let log = MemoryLog::new();
    let b = open(&log);
    b.append_blocking(city()).unwrap();
    let b2 = b.clone();
    let (a, commits) = open_interloped(&log, fast_retries(3), move |n| {
        // B wins every race.
        b2.append_blocking(vec![publicity(&format!("B{n}"))]).unwrap();
    });
    let err = a.append_blocking(vec![publicity("A1")]).unwrap_err();
    match err {
        AppendError::Store(StoreError::Io(message)) => {
            assert!(message.contains("3 attempts") && message.ends_with("retry"), "{message}")
        }
        other => panic!("expected a store error that says retry, got {other}"),
    }
    assert_eq!(commits.load(Ordering::SeqCst), 3, "exactly max_attempts commits were tried");
    let stored = log.read(0, 100).unwrap();
    assert_eq!(stored.len(), 3 + 3);
    assert!(stored.iter().all(|e| e.data["activity_id"] != "A1"), "nothing of the lost request was stored");
    assert!(verify(log.as_ref()).unwrap().ok());
    let stats = a.stats();
    assert_eq!((stats.lost_races, stats.retries_exhausted), (3, 1));
}

#[test]
fn the_writer_times_the_phases_of_each_group_commit_and_its_time_per_request() {
    let log = MemoryLog::new();
    let ledger = open(&log);
    ledger.append_blocking(city()).unwrap();
    let first = ledger.stats();
    assert_eq!(first.group_commits, 1, "{first:?}");
    ledger.append_blocking(vec![publicity("P1")]).unwrap();
    let second = ledger.stats();
    // A refused request stores nothing, so it commits nothing.
    let refused = rejected_code(ledger.append_blocking(vec![publicity("P1")]).unwrap_err());
    assert_eq!(refused.0, 0);
    let stats = ledger.stats();
    assert_eq!((second.group_commits, stats.group_commits), (2, 2));
    assert!(
        second.check_nanos > first.check_nanos
            && second.write_nanos > first.write_nanos
            && second.commit_nanos > first.commit_nanos,
        "every phase of the second commit took some time: {first:?} then {second:?}"
    );
    assert_eq!(
        (stats.check_nanos, stats.write_nanos, stats.commit_nanos),
        (second.check_nanos, second.write_nanos, second.commit_nanos),
        "a refused group's check is not counted in the phases"
    );
    // The writer's time per request counts every request, a refused one too,
    // and covers the phases of the groups that stored events.
    assert_eq!((first.requests, second.requests, stats.requests), (1, 2, 3));
    assert!(
        second.append_nanos >= second.check_nanos + second.write_nanos + second.commit_nanos,
        "the writer's time holds its phases: {second:?}"
    );
    assert!(stats.append_nanos > second.append_nanos, "the refused request took some of it: {stats:?}");
}

#[test]
fn the_retry_policy_doubles_within_bounds_and_stops() {
    let p =
        RetryPolicy { max_attempts: 5, first_backoff: Duration::from_millis(2), max_backoff: Duration::from_millis(5) };
    assert_eq!(p.backoff(1, 0.0), None, "the first attempt has no pause before it");
    assert_eq!(p.backoff(2, 0.0), Some(Duration::from_millis(1)), "half the pause with no jitter");
    assert_eq!(p.backoff(2, 0.999_999), Some(Duration::from_millis(2).mul_f64(0.5 + 0.999_999 / 2.0)));
    assert_eq!(p.backoff(3, 0.0), Some(Duration::from_millis(2)));
    assert_eq!(p.backoff(4, 0.0), Some(Duration::from_micros(2_500)), "capped at max_backoff");
    assert_eq!(p.backoff(5, 0.0), Some(Duration::from_micros(2_500)));
    assert_eq!(p.backoff(6, 0.0), None, "no sixth attempt");
    assert!(RetryPolicy::default().backoff(40, 0.5).is_none());
}

#[test]
fn a_replica_follows_the_others_with_catch_up() {
    let log = MemoryLog::new();
    let a = open(&log);
    let b = open(&log);
    let mut a_heads = a.watch_head();
    a_heads.mark_unchanged();
    b.append_blocking(city()).unwrap();
    b.append_blocking(vec![freeze_request("F1")]).unwrap();
    assert_eq!(a.head().seq, 0, "A has not looked yet");
    assert!(!a_heads.has_changed().unwrap());
    let head = a.catch_up_blocking().unwrap();
    assert_eq!(head, b.head());
    assert_eq!(a.head(), b.head());
    assert!(a_heads.has_changed().unwrap(), "subscribers of A's head see B's events");
    // A's rules state holds B's events: A may answer B's freeze, once.
    a.append_blocking(vec![freeze_execution("F1")]).unwrap();
    b.catch_up_blocking().unwrap();
    assert_eq!(
        rejected_code(b.append_blocking(vec![freeze_execution("F1")]).unwrap_err()),
        (0, ErrorCode::FreezeAlreadyAnswered)
    );
    // Nothing new: a no-op.
    assert_eq!(a.catch_up_blocking().unwrap(), a.head());
}

#[test]
fn recorded_at_stays_monotonic_across_replicas_with_skewed_clocks() {
    let log = MemoryLog::new();
    let ahead = Arc::new(|| Timestamp::parse("2026-06-01T00:00:00Z").unwrap());
    let behind = Arc::new(|| Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
    let a = Ledger::open_with(
        Box::new(log.writer()),
        log.clone(),
        LedgerOptions { clock: ahead, ..LedgerOptions::default() },
    )
    .unwrap();
    let b = Ledger::open_with(
        Box::new(log.writer()),
        log.clone(),
        LedgerOptions { clock: behind, ..LedgerOptions::default() },
    )
    .unwrap();
    a.append_blocking(city()).unwrap();
    // B checked against its empty state and refused, saw that the store had
    // moved, caught up, checked again, and took A's time.
    let out = b.append_blocking(vec![freeze_request("F1")]).unwrap();
    assert_eq!(out[0].event.seq, 4);
    assert_eq!(out[0].event.recorded_at, "2026-06-01T00:00:00Z");
}

#[test]
fn catch_up_refuses_events_that_do_not_chain() {
    let log = MemoryLog::new();
    let a = open(&log);
    let b = open(&log);
    b.append_blocking(city()).unwrap();
    // A rogue writer stores an event whose prev_hash is not the head's hash.
    let rogue = StoredEvent::seal(
        4,
        Uuid::now_v7(),
        &freeze_request("F1"),
        Timestamp::parse("2026-03-01T00:00:00Z").unwrap(),
        govledger_ledger::GENESIS_HASH,
    );
    let mut w = log.writer();
    w.begin(3).unwrap();
    w.write(&[rogue]).unwrap();
    w.commit(&Head { seq: 4, hash: "x".into(), recorded_at: String::new() }).unwrap();
    match a.catch_up_blocking() {
        Err(StoreError::Corrupt { seq, reason }) => {
            assert_eq!(seq, 4);
            assert!(reason.contains("does not link"), "{reason}");
        }
        other => panic!("expected a corrupt-store error, got {other:?}"),
    }
    assert_eq!(a.head().seq, 3, "A folded the good events and stopped at the bad one");
}

/// A writer whose first commit fails with an I/O error.
struct FailOnce {
    inner: MemoryWriter,
    failed: bool,
}

impl LogWriter for FailOnce {
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError> {
        self.inner.begin(expected_head)
    }
    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        self.inner.write(events)
    }
    fn commit(&mut self, head: &Head) -> Result<(), StoreError> {
        if !self.failed {
            self.failed = true;
            self.inner.rollback();
            return Err(StoreError::Io("disk full".into()));
        }
        self.inner.commit(head)
    }
    fn rollback(&mut self) {
        self.inner.rollback()
    }
    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.inner.by_id(id)
    }
}

#[test]
fn a_failed_commit_leaves_the_state_as_it_was() {
    let log = MemoryLog::new();
    open(&log).append_blocking(city()).unwrap();
    let ledger = Ledger::open(Box::new(FailOnce { inner: log.writer(), failed: false }), log.clone()).unwrap();
    match ledger.append_blocking(vec![freeze_request("F1")]) {
        Err(AppendError::Store(StoreError::Io(message))) => assert!(message.contains("disk full"), "{message}"),
        other => panic!("expected the store's error, got {other:?}"),
    }
    assert_eq!(ledger.head().seq, 3);
    // Had the state kept F1, this would be refused as a duplicate id.
    let out = ledger.append_blocking(vec![freeze_request("F1")]).unwrap();
    assert_eq!(out[0].event.seq, 4);
}

/// Polls a future once, so that an async append hands its request to the
/// writer now (in this order) without waiting for the answer.
fn send_now<F: Future>(f: F) -> std::pin::Pin<Box<F>> {
    let mut f = Box::pin(f);
    let poll = f.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(matches!(poll, Poll::Pending), "the writer is busy, so no answer can be ready yet");
    f
}

/// A ledger on `log` (after the fixture city) whose next commit, of a
/// publicity event P0, is in progress and held until the returned release is
/// called: requests queued meanwhile are taken by the writer as one group.
fn holding_a_commit(log: &Arc<MemoryLog>) -> (Ledger, impl FnOnce()) {
    open(log).append_blocking(city()).unwrap();
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let (a, _) = open_interloped(log, RetryPolicy::default(), move |n| {
        if n == 1 {
            entered_tx.send(()).unwrap();
            release_rx.lock().unwrap().recv().unwrap();
        }
    });
    let first = {
        let a = a.clone();
        std::thread::spawn(move || a.append_blocking(vec![publicity("P0")]))
    };
    entered_rx.recv().unwrap();
    let release = move || {
        release_tx.send(()).unwrap();
        first.join().unwrap().unwrap();
    };
    (a, release)
}

#[test]
fn a_request_refused_halfway_leaves_no_trace_for_the_rest_of_its_group() {
    let log = MemoryLog::new();
    let (a, release) = holding_a_commit(&log);
    let x = send_now(a.append(vec![freeze_request("A1")]));
    let y = send_now(a.append(vec![freeze_request("Y1"), freeze_execution("Y1"), freeze_execution("Y1")]));
    let z = send_now(a.append(vec![freeze_request("Y1"), freeze_execution("A1")]));
    release();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let x = rt.block_on(x).unwrap();
    assert_eq!(rejected_code(rt.block_on(y).unwrap_err()), (2, ErrorCode::FreezeAlreadyAnswered));
    let z = rt.block_on(z).unwrap();
    assert_eq!(x[0].event.recorded_at, z[0].event.recorded_at, "X and Z were one group commit");
    // Z's request of Y1 was new (Y's was dropped) and Z saw X's A1.
    assert_eq!((x[0].event.seq, z[0].event.seq, z[1].event.seq), (5, 6, 7));
    assert_eq!(z[0].event.prev_hash, x[0].event.hash);
    let stored = log.read(0, 100).unwrap();
    assert_eq!(stored.len(), 7);
    assert_eq!(stored.iter().filter(|e| e.data["freeze_id"] == "Y1").count(), 1);
    assert!(verify(log.as_ref()).unwrap().ok());
}

#[test]
fn a_client_id_sent_again_within_one_group_is_replayed_or_refused_by_its_content() {
    let log = MemoryLog::new();
    let (a, release) = holding_a_commit(&log);
    let k = Uuid::now_v7();
    let l = Uuid::now_v7();
    // X stores K; within X's own batch L is sent twice; Y sends K again with
    // the same content, W with other content. All four are one group.
    let big: Vec<Submission> = (0..70).map(|i| publicity(&format!("X{i}"))).collect();
    let x = send_now(
        a.append(
            [with_id(freeze_request("K1"), k), with_id(publicity("L1"), l), with_id(publicity("L1"), l)]
                .into_iter()
                .chain(big)
                .collect(),
        ),
    );
    let y = send_now(a.append(vec![with_id(freeze_request("K1"), k), publicity("Y1")]));
    let w = send_now(a.append(vec![publicity("W1"), with_id(freeze_request("K2"), k)]));
    release();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let x = rt.block_on(x).unwrap();
    let y = rt.block_on(y).unwrap();
    assert_eq!(rejected_code(rt.block_on(w).unwrap_err()), (1, ErrorCode::IdConflict));
    assert_eq!(x.len(), 73);
    assert_eq!((x[0].event.seq, x[1].event.seq, x[3].event.seq, x[72].event.seq), (5, 6, 7, 76));
    assert!(!x[0].replayed && !x[1].replayed && x[2].replayed);
    assert_eq!(x[2].event, x[1].event, "L's retry answers with the event stored for L");
    assert!(y[0].replayed && !y[1].replayed);
    assert_eq!(y[0].event, x[0].event, "Y's K answers with X's event");
    assert_eq!((y[1].event.seq, y[1].event.recorded_at.as_str()), (77, x[0].event.recorded_at.as_str()));
    let stored = log.read(0, 100).unwrap();
    assert_eq!(stored.len(), 77, "W stored nothing");
    assert_eq!(stored.iter().filter(|e| e.id == k || e.id == l).count(), 2);
    assert!(verify(log.as_ref()).unwrap().ok());
}

#[test]
fn a_batch_prepared_off_the_writer_is_sealed_as_submitted_even_after_a_lost_race() {
    let log = MemoryLog::new();
    let b = open(&log);
    b.append_blocking(city()).unwrap();
    // A's first commit loses the race to B: every event of the batch is
    // sealed twice, the second time at other seqs after other hashes.
    let b2 = b.clone();
    let (a, commits) = open_interloped(&log, RetryPolicy::default(), move |n| {
        if n == 1 {
            b2.append_blocking(vec![publicity("B1")]).unwrap();
        }
    });
    // Large enough to be prepared on two threads; every third event has a
    // client id, and the last is an idempotent retry of the first.
    let ids: Vec<Uuid> = (0..100).map(|_| Uuid::new_v4()).collect();
    let mut batch: Vec<Submission> = (0..100)
        .map(|i| {
            let s = if i % 2 == 0 { publicity(&format!("P{i}")) } else { freeze_request(&format!("F{i}")) };
            if i % 3 == 0 { with_id(s, ids[i]) } else { s }
        })
        .collect();
    batch.push(batch[0].clone());
    let out = a.append_blocking(batch.clone()).unwrap();
    assert_eq!(commits.load(Ordering::SeqCst), 2, "lost once, then stored");
    assert_eq!(out.len(), batch.len());
    let stored = log.read(0, 1_000).unwrap();
    assert_eq!(stored.len(), 3 + 1 + 100);
    for (i, (appended, sub)) in out.iter().zip(&batch).enumerate() {
        let e = &appended.event;
        assert!(e.same_content(sub), "event {i} holds the submission at its index");
        assert!(sub.id.is_none_or(|id| id == e.id), "event {i} keeps its client id");
        // The bytes of the one-step canonical writer hash to the stored
        // hash, and the reply is what the stored bytes say.
        assert_eq!(sha256_hex(&e.canonical_body()), e.hash, "event {i}");
        assert_eq!(stored[(e.seq - 1) as usize], *e, "event {i}");
    }
    assert_eq!((out[0].event.seq, out[0].event.prev_hash.as_str()), (5, stored[3].hash.as_str()), "after B's event");
    assert!(out[100].replayed && out[100].event == out[0].event);
    assert!(verify(log.as_ref()).unwrap().ok());
    // A client id reused with other content is refused; a retry of the same
    // content returns the stored event.
    let conflicting = with_id(publicity("P-other"), ids[3]);
    assert_eq!(rejected_code(a.append_blocking(vec![conflicting]).unwrap_err()), (0, ErrorCode::IdConflict));
    let again = a.append_blocking(vec![batch[3].clone()]).unwrap();
    assert!(again[0].replayed);
    assert_eq!(again[0].event, out[3].event);
}

/// A ledger whose store notes the name of the thread of each commit.
fn open_noting_committers(log: &Arc<MemoryLog>) -> (Ledger, Arc<Mutex<Vec<String>>>) {
    let committers = Arc::new(Mutex::new(Vec::new()));
    let noted = committers.clone();
    let (ledger, _) = open_interloped(log, RetryPolicy::default(), move |_| {
        noted.lock().unwrap().push(std::thread::current().name().unwrap_or_default().to_owned());
    });
    (ledger, committers)
}

/// One append path: a blocking caller, even one that finds the writer
/// idle, hands its request to the writer thread like an async caller.
#[test]
fn blocking_and_async_appends_are_committed_by_the_writer_thread() {
    let log = MemoryLog::new();
    let (ledger, committers) = open_noting_committers(&log);
    let caller = {
        let ledger = ledger.clone();
        std::thread::Builder::new().name("caller".into()).spawn(move || {
            ledger.append_blocking(city()).unwrap();
            // Large enough for the writer thread to help prepare it.
            let batch: Vec<Submission> = (0..100).map(|i| publicity(&format!("P{i}"))).collect();
            ledger.append_blocking(batch).unwrap().len()
        })
    };
    assert_eq!(caller.unwrap().join().unwrap(), 100);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(ledger.append(vec![publicity("P-async")])).unwrap();
    assert_eq!(*committers.lock().unwrap(), ["govledger-writer"; 3]);
    assert!(verify(log.as_ref()).unwrap().ok());
}

#[test]
fn blocking_and_async_appends_from_many_threads_are_all_answered() {
    const THREADS: usize = 4;
    const APPENDS: usize = 20;
    let log = MemoryLog::new();
    let ledger = open(&log);
    ledger.append_blocking(city()).unwrap();
    let (done, answers) = mpsc::channel::<usize>();
    // A batch of `i % 3 + 1` events, and one of 70 now and then (a shared
    // preparation, which the writer thread helps with).
    let batch = |t: usize, i: usize| -> Vec<Submission> {
        let n = if i % 7 == 3 { 70 } else { i % 3 + 1 };
        (0..n).map(|k| publicity(&format!("T{t}-{i}-{k}"))).collect()
    };
    let mut expected = 0;
    for t in 0..THREADS {
        expected += (0..APPENDS).map(|i| batch(t, i).len()).sum::<usize>();
        let (ledger, done) = (ledger.clone(), done.clone());
        std::thread::spawn(move || {
            for i in 0..APPENDS {
                let _ = done.send(ledger.append_blocking(batch(t, i)).map_or(0, |a| a.len()));
            }
        });
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    for i in 0..APPENDS {
        expected += batch(THREADS, i).len();
        let (ledger, done, b) = (ledger.clone(), done.clone(), batch(THREADS, i));
        rt.spawn(async move {
            let _ = done.send(ledger.append(b).await.map_or(0, |a| a.len()));
        });
    }
    drop(done);
    let mut appended = 0;
    for _ in 0..(THREADS + 1) * APPENDS {
        appended += answers.recv_timeout(Duration::from_secs(60)).expect("every append is answered");
    }
    assert_eq!(appended, expected);
    assert_eq!(ledger.head().seq, 3 + expected as u64);
    assert!(verify(log.as_ref()).unwrap().ok());
}

/// A large batch (prepared by the caller and the writer together) is
/// stored as submitted; when one of its events is refused, nothing of it is
/// stored and the state is as before; a retry of a stored event in it is
/// answered from the store and its new events are stored after the head.
#[test]
fn a_large_batch_is_stored_whole_or_not_at_all_and_a_retry_in_it_is_answered_from_the_store() {
    let log = MemoryLog::new();
    let ledger = open(&log);
    ledger.append_blocking(city()).unwrap();
    let batch =
        |prefix: &str, n: usize| -> Vec<Submission> { (0..n).map(|i| publicity(&format!("{prefix}{i}"))).collect() };

    let appended = ledger.append_blocking(batch("A", 100)).unwrap();
    assert_eq!(appended.iter().map(|a| a.event.seq).collect::<Vec<_>>(), (4..104).collect::<Vec<_>>());
    assert_eq!(
        log.read(0, 1000).unwrap(),
        appended.iter().fold(log.read(0, 3).unwrap(), |mut all, a| {
            all.push(a.event.clone());
            all
        })
    );

    // The last event repeats an activity: the batch is refused as a whole.
    let mut refused = batch("B", 99);
    refused.push(publicity("A7"));
    assert_eq!(rejected_code(ledger.append_blocking(refused).unwrap_err()), (99, ErrorCode::PublicityExists));
    assert_eq!(log.read(0, 1000).unwrap().len(), 103, "nothing of the refused batch was stored");
    // Nor is anything of it in the state: its first 99 events are new.
    let again = ledger.append_blocking(batch("B", 99)).unwrap();
    assert_eq!(again.first().map(|a| a.event.seq), Some(104));

    // A retry of a stored event first, then new events.
    let id = Uuid::now_v7();
    let stored = ledger.append_blocking(vec![with_id(publicity("R"), id)]).unwrap();
    let mut retry = vec![with_id(publicity("R"), id)];
    retry.extend(batch("C", 70));
    let appended = ledger.append_blocking(retry).unwrap();
    assert!(appended[0].replayed && appended[0].event == stored[0].event);
    let head = stored[0].event.seq;
    assert_eq!(
        appended[1..].iter().map(|a| a.event.seq).collect::<Vec<_>>(),
        (head + 1..head + 71).collect::<Vec<_>>()
    );
    assert_eq!(log.read(0, 1000).unwrap().len() as u64, head + 70);
    assert!(verify(log.as_ref()).unwrap().ok());
}
