//! The ledger's unit tests: chunked preparation of a batch, one path for
//! async and blocking callers through the writer's group commit, and a
//! group too large for one store transaction.

use std::future::Future as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use govledger_domain::{Capacity, ErrorCode, Submission, Timestamp};
use govledger_store_conformance::fixtures::{city, publicity};
use uuid::Uuid;

use super::prepare::Preparation;
use super::writer::Core;
use super::{AppendError, Appended, Ledger, LedgerOptions};
use crate::backend::{LogReader as _, LogWriter, StoreError, TransactionLimit};
use crate::event::{Encoded, GENESIS_HASH, Head, StoredEvent};
use crate::memory::MemoryLog;

/// A ledger on `log` whose writer is run by the test (`core.run_one`), with
/// the fixture city stored.
fn unstarted(log: Box<dyn LogWriter>, reader: Arc<MemoryLog>) -> (Ledger, Core) {
    let (ledger, mut core) = Ledger::unstarted(log, reader, LedgerOptions::default()).unwrap();
    let mut rx = ledger.submit(city(), Capacity::FULL).unwrap();
    assert!(core.run_one());
    assert_eq!(rx.try_recv().unwrap().unwrap().len(), 3);
    (ledger, core)
}

#[test]
fn a_preparation_gives_the_batch_in_order_even_when_a_preparer_died() {
    let batch: Vec<Submission> = (0..50).map(|i| publicity(&format!("P{i}"))).collect();
    let preparation = Arc::new(Preparation::new(batch.clone()));
    assert_eq!((preparation.len(), preparation.chunks.len()), (50, 4));
    // A caller claims the first two chunks and panics while preparing
    // the second.
    assert_eq!((preparation.claim_front(), preparation.claim_front()), (Some(0), Some(1)));
    let dying = preparation.clone();
    let died = std::thread::spawn(move || {
        let _chunk = dying.chunks[1].lock().unwrap_or_else(|e| e.into_inner());
        panic!("the caller died while preparing");
    })
    .join();
    assert!(died.is_err() && preparation.chunks[1].is_poisoned());
    let recorded_at = Timestamp::parse("2026-03-02T08:20:00.5Z").unwrap();
    let mut seen = 0;
    for c in 0..preparation.chunks.len() {
        preparation.with_chunk(c, |subs, presealed| {
            assert_eq!(subs, &batch[seen..seen + subs.len()]);
            assert_eq!(presealed.len(), subs.len(), "chunk {c} is prepared");
            for (sub, p) in subs.iter().zip(presealed) {
                let sealed = p.seal(sub, 9, "2026-03-02T08:20:00.500Z", GENESIS_HASH);
                assert_eq!(sealed.body, StoredEvent::seal(9, p.id(), sub, recorded_at, GENESIS_HASH).body);
            }
            seen += subs.len();
        });
    }
    assert_eq!(seen, batch.len());
    // The writer took every chunk: a late caller finds nothing to claim.
    assert_eq!(preparation.claim_front(), None);
}

#[test]
fn the_front_and_the_back_claim_every_chunk_once() {
    let batch: Vec<Submission> = (0..100).map(|i| publicity(&format!("P{i}"))).collect();
    let preparation = Preparation::new(batch);
    assert_eq!(preparation.chunks.len(), 7);
    let mut claimed = vec![preparation.claim_front(), preparation.claim_back(), preparation.claim_back()];
    claimed.extend([preparation.claim_front(), preparation.claim_back(), preparation.claim_front()]);
    claimed.push(preparation.claim_back());
    assert_eq!(claimed, [0, 6, 5, 1, 4, 2, 3].map(Some));
    assert_eq!((preparation.claim_front(), preparation.claim_back()), (None, None));
}

#[test]
fn the_writer_prepares_from_the_back_while_its_next_chunk_is_in_progress() {
    let batch: Vec<Submission> = (0..64).map(|i| publicity(&format!("P{i}"))).collect();
    let preparation = Arc::new(Preparation::new(batch));
    // A caller has claimed chunk 0 and is preparing it (holds its lock).
    assert_eq!(preparation.claim_front(), Some(0));
    let in_progress = preparation.chunks[0].lock().unwrap();
    let writer = {
        let preparation = preparation.clone();
        std::thread::spawn(move || preparation.with_chunk(0, |subs, presealed| (subs.len(), presealed.len())))
    };
    // The writer claims and prepares chunks 3, 2 and 1 before it waits
    // for chunk 0: each is prepared under its lock, so once nothing is
    // left to claim, locking each shows it done.
    let exhausted = || {
        let u = preparation.unclaimed();
        u.0 >= u.1
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !exhausted() {
        assert!(std::time::Instant::now() < deadline, "the writer left chunks unclaimed while it waited");
        std::thread::yield_now();
    }
    for c in 1..4 {
        assert!(preparation.chunks[c].lock().unwrap().is_some(), "chunk {c} was prepared by the writer");
    }
    drop(in_progress);
    // Chunk 0 was never prepared by its claimant: the writer does it.
    assert_eq!(writer.join().unwrap(), (16, 16));
}

/// An async and a blocking caller take the same path: both hand their
/// request to the writer's queue (no caller commits on its own thread), and
/// requests waiting together are committed as one group.
#[test]
fn async_and_blocking_callers_hand_their_requests_to_the_writer_and_share_a_group_commit() {
    let log = MemoryLog::new();
    let (ledger, mut core) = unstarted(Box::new(log.writer()), log.clone());
    let blocking = {
        let ledger = ledger.clone();
        std::thread::spawn(move || ledger.append_blocking(vec![publicity("P-blocking")]))
    };
    // Until the blocking caller's request is queued (a condition, not a pause).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !core.has_queued() {
        assert!(std::time::Instant::now() < deadline, "the blocking request was never queued");
        assert!(!blocking.is_finished(), "the blocking caller was answered without the writer");
        std::thread::yield_now();
    }
    // The async caller's first poll queues its request behind it.
    let mut pending = Box::pin(ledger.append(vec![publicity("P-async")]));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(pending.as_mut().poll(&mut cx).is_pending());
    let before = ledger.stats().group_commits;
    assert!(core.run_one());
    assert!(!core.has_queued(), "both requests were taken into the one group");
    assert_eq!(ledger.stats().group_commits, before + 1);
    let Poll::Ready(from_async) = pending.as_mut().poll(&mut cx) else { panic!("the async caller was not answered") };
    assert_eq!(from_async.unwrap()[0].event.seq, 5);
    assert_eq!(blocking.join().unwrap().unwrap()[0].event.seq, 4);
    assert!(crate::verify::verify(log.as_ref()).unwrap().ok());
}

/// A memory store whose transactions hold at most `max_bytes`, counting
/// the transactions it commits.
struct Limited {
    inner: crate::memory::MemoryWriter,
    max_bytes: usize,
    used: usize,
    commits: Arc<AtomicU64>,
}

impl LogWriter for Limited {
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError> {
        self.used = 0;
        self.inner.begin(expected_head)
    }
    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        self.used += events.iter().map(TransactionLimit::bytes_of).sum::<usize>();
        assert!(self.used <= self.max_bytes, "the ledger wrote {} bytes into one transaction", self.used);
        self.inner.write(events)
    }
    fn commit(&mut self, head: &Head) -> Result<(), StoreError> {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.inner.commit(head)
    }
    fn rollback(&mut self) {
        self.inner.rollback()
    }
    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.inner.by_id(id)
    }
    fn transaction_limit(&self) -> Option<TransactionLimit> {
        Some(TransactionLimit { max_bytes: self.max_bytes, raise_with: "raise THE_SETTING".into() })
    }
}

/// A group of requests too large for one store transaction is committed as
/// several, no request split; a request too large on its own is refused
/// whole and its neighbours are stored.
#[test]
fn a_group_too_large_for_one_transaction_is_committed_in_several_and_never_splits_a_request() {
    let log = MemoryLog::new();
    let commits = Arc::new(AtomicU64::new(0));
    // Room for about twelve events per transaction.
    let limited = Limited { inner: log.writer(), max_bytes: 12 * 450, used: 0, commits: commits.clone() };
    let (ledger, mut core) = unstarted(Box::new(limited), log.clone());
    let publicities =
        |prefix: &str, n: usize| -> Vec<Submission> { (0..n).map(|i| publicity(&format!("{prefix}{i}"))).collect() };
    let replies: Vec<_> = [publicities("A", 8), publicities("B", 8), publicities("C", 40), publicities("D", 8)]
        .into_iter()
        .map(|batch| ledger.submit(batch, Capacity::FULL).unwrap())
        .collect();
    let before = commits.load(Ordering::Relaxed);
    assert!(core.run_one());
    let outcomes: Vec<_> = replies.into_iter().map(|mut rx| rx.try_recv().unwrap()).collect();
    let seqs = |o: &Result<Vec<Appended>, AppendError>| -> Vec<u64> {
        o.as_ref().unwrap().iter().map(|a| a.event.seq).collect()
    };
    assert_eq!(seqs(&outcomes[0]), (4..12).collect::<Vec<_>>());
    assert_eq!(seqs(&outcomes[1]), (12..20).collect::<Vec<_>>());
    match &outcomes[2] {
        Err(AppendError::Rejected { rejection, .. }) => {
            assert_eq!(rejection.code, ErrorCode::BatchTooLarge);
            assert!(rejection.message.contains("raise THE_SETTING"), "{}", rejection.message);
        }
        other => panic!("the 40-event request should be refused whole: {other:?}"),
    }
    assert_eq!(seqs(&outcomes[3]), (20..28).collect::<Vec<_>>());
    assert!(commits.load(Ordering::Relaxed) - before >= 2, "one group, several transactions");
    assert_eq!(log.read(0, 1000).unwrap().len(), 27);
    assert!(crate::verify::verify(log.as_ref()).unwrap().ok());
}
