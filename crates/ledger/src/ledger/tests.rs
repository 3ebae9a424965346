//! The ledger's unit tests: chunked preparation of a batch, a request
//! answered by the thread that commits, and a group written ahead of its check.

use govledger_store_conformance::fixtures::publicity;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use govledger_domain::{Capacity, ErrorCode, Submission, Timestamp};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::prepare::Preparation;
use super::writer::{Doorbell, lock_core};
use super::{AppendError, Appended, Ledger};
use crate::backend::{LogReader as _, LogWriter, StoreError, TransactionLimit};
use crate::event::{Encoded, GENESIS_HASH, Head, StoredEvent};

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

#[test]
fn a_request_queued_while_another_thread_commits_is_answered_by_that_thread() {
    let log = crate::memory::MemoryLog::new();
    let ledger = Ledger::open(Box::new(log.writer()), log).unwrap();
    ledger.append_blocking(govledger_store_conformance::fixtures::city()).unwrap();
    let mut core = lock_core(&ledger.inner.core);
    let waiting = {
        let ledger = ledger.clone();
        std::thread::spawn(move || ledger.append_blocking(vec![publicity("P-queued")]))
    };
    // Until the request is queued (a condition, not a pause).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !core.has_queued() {
        assert!(std::time::Instant::now() < deadline, "the request was never queued");
        std::thread::yield_now();
    }
    // This thread holds the writer: it commits the queued request, which
    // is stored before its caller could have run it.
    assert!(core.run_one(None));
    assert_eq!(core.committer.head.seq, 4);
    drop(core);
    let appended = waiting.join().unwrap().unwrap();
    assert_eq!(appended[0].event.seq, 4);
}

/// A group committed with a helper's doorbell is offered as a check job
/// and written ahead. Here nobody serves the doorbell, so the committing
/// thread runs the check itself once it has written. When the check
/// refuses a request of the group, the write is rolled back and the
/// accepted requests are written again, after one another, with nothing
/// of the refused one in the store or the state.
#[test]
fn a_group_written_ahead_of_its_check_is_written_again_without_a_refused_request() {
    let log = crate::memory::MemoryLog::new();
    let ledger = Ledger::open(Box::new(log.writer()), log.clone()).unwrap();
    ledger.append_blocking(govledger_store_conformance::fixtures::city()).unwrap();
    let doorbell = Doorbell::default();
    let group = |batches: Vec<Vec<Submission>>| {
        let mut core = lock_core(&ledger.inner.core);
        let replies: Vec<_> = batches
            .into_iter()
            .map(|batch| {
                let (reply, rx) = oneshot::channel();
                assert!(ledger.hand_over(batch, Capacity::FULL, reply).is_some());
                rx
            })
            .collect();
        assert!(core.run_one(Some(&doorbell)));
        drop(core);
        replies.into_iter().map(|mut rx| rx.try_recv().unwrap()).collect::<Vec<_>>()
    };
    let publicities =
        |prefix: &str, n: usize| -> Vec<Submission> { (0..n).map(|i| publicity(&format!("{prefix}{i}"))).collect() };

    // The second request's second event repeats an activity of the first.
    let outcomes = group(vec![publicities("A", 70), vec![publicity("C0"), publicity("A5")], publicities("B", 5)]);
    assert_eq!(doorbell.wait().checks.len(), 1, "the group's check was offered once");
    let seqs = |o: &Result<Vec<Appended>, AppendError>| -> Vec<u64> {
        o.as_ref().unwrap().iter().map(|a| a.event.seq).collect()
    };
    assert_eq!(seqs(&outcomes[0]), (4..74).collect::<Vec<_>>());
    match &outcomes[1] {
        Err(AppendError::Rejected { index, .. }) => assert_eq!(*index, 1),
        other => panic!("the second request should be refused at its second event: {other:?}"),
    }
    assert_eq!(seqs(&outcomes[2]), (74..79).collect::<Vec<_>>());
    let stats = ledger.stats();
    assert_eq!((stats.written_ahead, stats.rewritten), (0, 1), "{stats:?}");
    assert_eq!(log.read(0, 1000).unwrap().len(), 78);
    assert!(crate::verify::verify(log.as_ref()).unwrap().ok());

    // Nothing of the refused request is in the state: its first event is
    // accepted now. A group the check accepts as written is kept.
    let outcomes = group(vec![publicities("D", 40), vec![publicity("C0")], publicities("E", 30)]);
    assert_eq!(doorbell.wait().checks.len(), 1);
    assert_eq!(seqs(&outcomes[0]), (79..119).collect::<Vec<_>>());
    assert_eq!(seqs(&outcomes[1]), vec![119]);
    assert_eq!(seqs(&outcomes[2]), (120..150).collect::<Vec<_>>());
    let stats = ledger.stats();
    assert_eq!((stats.written_ahead, stats.rewritten), (1, 1), "{stats:?}");
    assert_eq!(log.read(0, 1000).unwrap().len(), 149);
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
    let log = crate::memory::MemoryLog::new();
    let commits = Arc::new(AtomicU64::new(0));
    // Room for about twelve events per transaction.
    let writer = Limited { inner: log.writer(), max_bytes: 12 * 450, used: 0, commits: commits.clone() };
    let ledger = Ledger::open(Box::new(writer), log.clone()).unwrap();
    ledger.append_blocking(govledger_store_conformance::fixtures::city()).unwrap();
    let publicities =
        |prefix: &str, n: usize| -> Vec<Submission> { (0..n).map(|i| publicity(&format!("{prefix}{i}"))).collect() };
    let mut core = lock_core(&ledger.inner.core);
    let replies: Vec<_> = [publicities("A", 8), publicities("B", 8), publicities("C", 40), publicities("D", 8)]
        .into_iter()
        .map(|batch| {
            let (reply, rx) = oneshot::channel();
            assert!(ledger.hand_over(batch, Capacity::FULL, reply).is_some());
            rx
        })
        .collect();
    let before = commits.load(Ordering::Relaxed);
    assert!(core.run_one(None));
    drop(core);
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
