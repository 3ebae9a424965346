//! The conformance suite every govledger store passes: the storage contract
//! of `govledger_ledger::backend` (`LogReader`, `LogWriter`) checked case by
//! case — ordering, no gaps, idempotency, conflicts, atomic transactions,
//! concurrent writers, reading from a position, following new events — the
//! ledger over the store as several replicas would run it, and the Merkle
//! tree of SPEC 6.1 following it (`tree.rs`).
//!
//! A store's tests call [`conformance_tests!`] with a function that makes a
//! [`Harness`] (one fresh, empty store per case), which generates one
//! `#[test]` per case. A store that needs a server returns `None` from that
//! function when the server is not configured; each of its tests then writes
//! a `SKIPPED:` line to the test output (past the test harness's capture)
//! instead of passing silently.

// This crate is a test suite: a panic with the failing value is its report
// (as in `#[test]` functions, where clippy.toml allows unwrap).
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Barrier};

use govledger_domain::{ErrorCode, Submission, Timestamp};
use govledger_ledger::{AppendError, Encoded, Head, Ledger, LogReader, LogWriter, StoreError, StoredEvent, verify};
use serde_json::json;
use uuid::Uuid;

pub mod fixtures;
use fixtures::*;
mod tree;
use tree::merkle_tree_follows_the_store;

/// A writer and a reader on one store.
pub type Opened = (Box<dyn LogWriter>, Arc<dyn LogReader>);

/// One fresh, empty store. Every call of [`Harness::open`] opens another
/// writer and reader on that same store, as another server replica would.
pub trait Harness: Send + Sync {
    fn open(&self) -> Result<Opened, StoreError>;

    /// A ledger (a replica) on the store.
    fn ledger(&self) -> Ledger {
        let (writer, reader) = self.open().expect("open the store");
        Ledger::open(writer, reader).expect("open a ledger on the store")
    }
}

/// A case of the suite.
pub type Case = fn(&dyn Harness);

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    ("ordering", ordering),
    ("reading_from_a_position", reading_from_a_position),
    ("no_gaps_after_rollbacks_and_refusals", no_gaps_after_rollbacks_and_refusals),
    ("atomic_transactions", atomic_transactions),
    ("idempotency_by_id", idempotency_by_id),
    ("conflicts", conflicts),
    ("concurrent_writers", concurrent_writers),
    ("following_new_events", following_new_events),
    ("replicas_race_on_freezes_and_tasks", replicas_race_on_freezes_and_tasks),
    ("merkle_tree_follows_the_store", merkle_tree_follows_the_store),
];

/// Runs one case on a fresh store from `make`, or reports loudly that it
/// was skipped when `make` has no store to give.
pub fn run_case(store: &str, case: &str, make: &dyn Fn() -> Option<Box<dyn Harness>>, skip_reason: &str) {
    let Some((_, run)) = CASES.iter().find(|(name, _)| *name == case) else {
        panic!("no conformance case named {case}");
    };
    match make() {
        Some(harness) => run(harness.as_ref()),
        None => {
            // Written to the process's stderr directly: the test harness
            // captures `eprintln!` of passing tests, and a skip must show.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {skip_reason}; conformance case `{case}` did not run against {store}"
            );
        }
    }
}

/// Generates one `#[test]` per conformance case. `$make` is a function
/// `fn() -> Option<Box<dyn Harness>>`; `$skip` says why it may give `None`.
#[macro_export]
macro_rules! conformance_tests {
    ($store:expr, $make:expr, $skip:expr) => {
        $crate::conformance_tests!(@cases $store, $make, $skip;
            ordering, reading_from_a_position, no_gaps_after_rollbacks_and_refusals, atomic_transactions,
            idempotency_by_id, conflicts, concurrent_writers, following_new_events,
            replicas_race_on_freezes_and_tasks, merkle_tree_follows_the_store);
    };
    (@cases $store:expr, $make:expr, $skip:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case($store, stringify!($case), &$make, $skip);
            }
        )*
    };
}

// ---- events ---------------------------------------------------------------

fn recorded_at() -> Timestamp {
    Timestamp::parse("2026-03-01T00:00:00Z").expect("a valid timestamp")
}

/// `n` chained events after `head` (the store does not check rules, so any
/// well-formed events do), and the head after them.
fn sealed(head: &Head, n: usize, tag: &str) -> (Vec<Encoded>, Head) {
    let mut head = head.clone();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let enc = StoredEvent::seal(
            head.seq + 1,
            Uuid::now_v7(),
            &publicity(&format!("{tag}-{i}")),
            recorded_at(),
            &head.hash,
        );
        head = Head { seq: enc.event.seq, hash: enc.event.hash.clone(), recorded_at: enc.event.recorded_at.clone() };
        out.push(enc);
    }
    (out, head)
}

/// Begins, writes and commits one transaction.
fn commit(writer: &mut dyn LogWriter, expected: u64, events: &[Encoded], head: &Head) -> Result<(), StoreError> {
    writer.begin(expected)?;
    let result = writer.write(events).and_then(|()| writer.commit(head));
    if result.is_err() {
        writer.rollback();
    }
    result
}

fn all(reader: &dyn LogReader) -> Vec<StoredEvent> {
    reader.read(0, usize::MAX).expect("read the store")
}

fn raw(reader: &dyn LogReader, after: u64) -> Vec<(u64, Vec<u8>, String)> {
    let mut rows = Vec::new();
    reader
        .scan_raw(after, &mut |r| {
            rows.push((r.seq, r.body.to_vec(), r.hash.to_owned()));
            true
        })
        .expect("scan the store");
    rows
}

fn rejected(e: AppendError) -> ErrorCode {
    match e {
        AppendError::Rejected { rejection, .. } => rejection.code,
        other => panic!("expected a rejection, got {other}"),
    }
}

// ---- the storage contract ---------------------------------------------------

/// Committed events come back in the order written, at seq 1, 2, 3 …, with
/// the exact bytes and hashes written; the anchor is the last commit's head.
/// Writes are of one event, a few, and many in one call.
pub fn ordering(h: &dyn Harness) {
    let (mut w, r) = h.open().expect("open");
    assert_eq!(r.anchor().unwrap(), None, "a new store has no anchor");
    assert!(all(r.as_ref()).is_empty());
    let mut head = Head::genesis();
    let mut written = Vec::new();
    for (n, tag) in [(1, "a"), (3, "b"), (69, "d"), (2, "c")] {
        let (events, next) = sealed(&head, n, tag);
        commit(w.as_mut(), head.seq, &events, &next).unwrap();
        written.extend(events);
        head = next;
        assert_eq!(r.anchor().unwrap().as_ref(), Some(&head));
    }
    let read = all(r.as_ref());
    assert_eq!(read.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=75).collect::<Vec<_>>());
    for (got, want) in read.iter().zip(&written) {
        assert_eq!(got, &want.event);
    }
    let rows = raw(r.as_ref(), 0);
    for ((seq, body, hash), want) in rows.iter().zip(&written) {
        assert_eq!((*seq, body, hash), (want.event.seq, &want.body, &want.event.hash), "bytes kept exactly");
    }
    assert_eq!(rows.len(), 75);
    let report = verify(r.as_ref()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!((report.events, report.head), (75, head));
}

/// `read(after, limit)` and `scan_raw(after)` start after any position,
/// page correctly, stop early on request, and are empty past the head.
pub fn reading_from_a_position(h: &dyn Harness) {
    let (mut w, r) = h.open().expect("open");
    let (events, head) = sealed(&Head::genesis(), 10, "p");
    commit(w.as_mut(), 0, &events, &head).unwrap();
    for after in 0..=10u64 {
        for limit in [1usize, 3, 10, 100] {
            let got: Vec<u64> = r.read(after, limit).unwrap().iter().map(|e| e.seq).collect();
            let want: Vec<u64> = (after + 1..=10).take(limit).collect();
            assert_eq!(got, want, "read(after {after}, limit {limit})");
        }
        let seqs: Vec<u64> = raw(r.as_ref(), after).iter().map(|(s, _, _)| *s).collect();
        assert_eq!(seqs, (after + 1..=10).collect::<Vec<_>>(), "scan_raw(after {after})");
    }
    assert!(r.read(11, 5).unwrap().is_empty());
    assert!(r.read(1_000, 5).unwrap().is_empty());
    // A client may ask for any u64 (`?after=2^63`): beyond the head is empty, not a failure.
    for after in [1u64 << 63, u64::MAX] {
        assert!(r.read(after, 5).expect("read far beyond the head").is_empty(), "read(after {after})");
        assert!(raw(r.as_ref(), after).is_empty(), "scan_raw(after {after})");
    }
    let mut visited = Vec::new();
    r.scan_raw(4, &mut |row| {
        visited.push(row.seq);
        visited.len() < 2
    })
    .unwrap();
    assert_eq!(visited, vec![5, 6], "scan_raw stops when told");
}

/// A rolled-back transaction and a refused one leave nothing behind: the
/// next commit continues at head + 1 and the log has no hole.
pub fn no_gaps_after_rollbacks_and_refusals(h: &dyn Harness) {
    let (mut w, r) = h.open().expect("open");
    let (first, head) = sealed(&Head::genesis(), 2, "g");
    commit(w.as_mut(), 0, &first, &head).unwrap();
    // Rolled back.
    let (dropped, dropped_head) = sealed(&head, 3, "dropped");
    w.begin(head.seq).unwrap();
    w.write(&dropped).unwrap();
    w.rollback();
    // Refused: the expected head is stale.
    let stale = commit(w.as_mut(), 1, &dropped, &dropped_head);
    assert!(matches!(stale, Err(StoreError::Conflict { expected: 1, found: 2 })), "{stale:?}");
    assert_eq!(r.anchor().unwrap(), Some(head.clone()));
    assert_eq!(all(r.as_ref()).len(), 2);
    for e in &dropped {
        assert_eq!(r.by_id(&e.event.id).unwrap(), None, "nothing of a dropped transaction is stored");
    }
    let (next, next_head) = sealed(&head, 2, "after");
    commit(w.as_mut(), head.seq, &next, &next_head).unwrap();
    assert_eq!(all(r.as_ref()).iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert!(verify(r.as_ref()).unwrap().ok());
}

/// A transaction is all or nothing, and invisible until committed, however
/// many `write` calls it took.
pub fn atomic_transactions(h: &dyn Harness) {
    let (mut w, r) = h.open().expect("open");
    let (_, other_r) = h.open().expect("open a second reader");
    let (events, head) = sealed(&Head::genesis(), 50, "t");
    w.begin(0).unwrap();
    for chunk in events.chunks(7) {
        w.write(chunk).unwrap();
    }
    for reader in [&r, &other_r] {
        assert!(all(reader.as_ref()).is_empty(), "an open transaction is invisible");
        assert_eq!(reader.anchor().unwrap(), None);
        assert_eq!(reader.by_id(&events[0].event.id).unwrap(), None);
    }
    w.rollback();
    assert!(all(r.as_ref()).is_empty(), "a rolled-back transaction leaves nothing");
    w.begin(0).unwrap();
    for chunk in events.chunks(7) {
        w.write(chunk).unwrap();
    }
    w.commit(&head).unwrap();
    for reader in [&r, &other_r] {
        assert_eq!(all(reader.as_ref()).len(), 50, "a committed transaction is visible whole");
        assert_eq!(reader.anchor().unwrap().as_ref(), Some(&head));
    }
}

/// Events are found by id, by readers and by the writer (including in its
/// open transaction); through the ledger, the same id with the same content
/// is the stored event again, with other content a conflict, also after
/// another replica opens the store.
pub fn idempotency_by_id(h: &dyn Harness) {
    {
        let (mut w, r) = h.open().expect("open");
        let (events, head) = sealed(&Head::genesis(), 3, "i");
        commit(w.as_mut(), 0, &events, &head).unwrap();
        assert_eq!(r.by_id(&events[1].event.id).unwrap().as_ref(), Some(&events[1].event));
        assert_eq!(w.by_id(&events[2].event.id).unwrap().as_ref(), Some(&events[2].event));
        assert_eq!(r.by_id(&Uuid::now_v7()).unwrap(), None);
        let (pending, _) = sealed(&head, 1, "pending");
        w.begin(head.seq).unwrap();
        w.write(&pending).unwrap();
        assert_eq!(w.by_id(&pending[0].event.id).unwrap().as_ref(), Some(&pending[0].event), "writer sees its own");
        assert_eq!(r.by_id(&pending[0].event.id).unwrap(), None);
        w.rollback();
    }
    // The ledger over the store: a fresh store state begins after the 3 events.
    let ledger = h.ledger();
    assert_eq!(ledger.head().seq, 3);
    let out = ledger.append_blocking(city()).unwrap();
    assert_eq!(out[0].event.seq, 4);
    let id = Uuid::now_v7();
    let first = ledger.append_blocking(vec![with_id(freeze_request("F1"), id)]).unwrap();
    let again = ledger.append_blocking(vec![with_id(freeze_request("F1"), id)]).unwrap();
    assert!(again[0].replayed);
    assert_eq!(again[0].event, first[0].event);
    // Another replica on the same store knows the id too.
    let replica = h.ledger();
    let from_replica = replica.append_blocking(vec![with_id(freeze_request("F1"), id)]).unwrap();
    assert!(from_replica[0].replayed, "the id is kept by the store, not by one ledger");
    assert_eq!(from_replica[0].event, first[0].event);
    let mut different = freeze_request("F1");
    different.id = Some(id);
    different.actor = govledger_domain::AgencyId::parse("bank-a").unwrap();
    assert_eq!(rejected(replica.append_blocking(vec![different]).unwrap_err()), ErrorCode::IdConflict);
    assert_eq!(replica.head(), ledger.head());
    assert_eq!(all(ledger.reader().as_ref()).len(), 7);
}

/// A writer whose expected head is stale is refused (at `begin` or at
/// `commit`) and stores nothing; with the right head it goes on.
pub fn conflicts(h: &dyn Harness) {
    let (mut a, r) = h.open().expect("open a");
    let (mut b, _) = h.open().expect("open b");
    let (a_events, a_head) = sealed(&Head::genesis(), 2, "a");
    commit(a.as_mut(), 0, &a_events, &a_head).unwrap();
    // B still believes the log is empty.
    let (b_events, b_head) = sealed(&Head::genesis(), 1, "b");
    match commit(b.as_mut(), 0, &b_events, &b_head) {
        Err(StoreError::Conflict { expected: 0, found: 2 }) => {}
        other => panic!("expected Conflict {{ expected: 0, found: 2 }}, got {other:?}"),
    }
    assert_eq!(r.by_id(&b_events[0].event.id).unwrap(), None);
    assert_eq!(all(r.as_ref()).len(), 2);
    // B catches up and appends after A.
    let (b_events, b_head) = sealed(&a_head, 1, "b");
    commit(b.as_mut(), 2, &b_events, &b_head).unwrap();
    // Now A is stale.
    let (a_more, a_more_head) = sealed(&a_head, 1, "a-more");
    assert!(matches!(
        commit(a.as_mut(), 2, &a_more, &a_more_head),
        Err(StoreError::Conflict { expected: 2, found: 3 })
    ));
    assert_eq!(r.anchor().unwrap(), Some(b_head));
    assert!(verify(r.as_ref()).unwrap().ok());
}

/// Writers in several threads, each with its own connection, append by
/// optimistic concurrency (read the head, try, on conflict read again):
/// every event lands exactly once, in one chain without holes.
pub fn concurrent_writers(h: &dyn Harness) {
    const WRITERS: usize = 4;
    const EACH: usize = 15;
    let barrier = Barrier::new(WRITERS);
    let conflicts = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..WRITERS {
            let (barrier, conflicts) = (&barrier, &conflicts);
            let (mut w, r) = h.open().expect("open");
            s.spawn(move || {
                barrier.wait();
                for i in 0..EACH {
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        assert!(attempts < 10_000, "writer {t} never got its turn");
                        let head = r.anchor().unwrap().unwrap_or_else(Head::genesis);
                        let (events, next) = sealed(&head, 1, &format!("w{t}-{i}"));
                        match commit(w.as_mut(), head.seq, &events, &next) {
                            Ok(()) => break,
                            Err(StoreError::Conflict { .. }) => {
                                conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                std::thread::yield_now();
                            }
                            Err(e) => panic!("writer {t}: {e}"),
                        }
                    }
                }
            });
        }
    });
    let (_, r) = h.open().expect("open");
    let events = all(r.as_ref());
    assert_eq!(events.len(), WRITERS * EACH);
    let mut tags: Vec<String> =
        events.iter().map(|e| e.data["activity_id"].as_str().unwrap_or("").to_owned()).collect();
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), WRITERS * EACH, "every event exactly once");
    assert!(verify(r.as_ref()).unwrap().ok());
}

/// A reader opened earlier sees events committed later by another writer;
/// a replica's `catch_up` folds them in and its head watchers see it.
pub fn following_new_events(h: &dyn Harness) {
    let (_, early) = h.open().expect("open a reader first");
    let a = h.ledger();
    let b = h.ledger();
    let mut a_heads = a.watch_head();
    a_heads.mark_unchanged();
    b.append_blocking(city()).unwrap();
    b.append_blocking(vec![freeze_request("F1")]).unwrap();
    assert_eq!(early.read(0, 100).unwrap().len(), 4, "an earlier reader sees later commits");
    assert_eq!(raw(early.as_ref(), 3).len(), 1);
    assert_eq!(early.anchor().unwrap(), Some(b.head()));
    assert_eq!(a.head().seq, 0);
    assert_eq!(a.catch_up_blocking().unwrap(), b.head());
    assert!(a_heads.has_changed().unwrap(), "A's head watchers were told");
    // A's rules know B's freeze.
    let out = a.append_blocking(vec![freeze_execution("F1")]).unwrap();
    assert_eq!(out[0].event.seq, 5);
    assert_eq!(b.catch_up_blocking().unwrap(), a.head());
}

// ---- replicas -----------------------------------------------------------------

/// Two replicas (ledgers with their own writers and readers on one store)
/// race on the same freezes (execute vs reject) and tasks (complete vs
/// cancel): exactly one step of each pair is accepted, the other refused
/// with the lifecycle's code; afterwards both replicas hold the same chain
/// and serve the same assessment.
pub fn replicas_race_on_freezes_and_tasks(h: &dyn Harness) {
    const PAIRS: usize = 12;
    let a = h.ledger();
    let b = h.ledger();
    a.append_blocking(city()).unwrap();
    b.catch_up_blocking().unwrap();
    let setup: Vec<Submission> =
        (0..PAIRS).flat_map(|i| [freeze_request(&format!("F{i}")), task_assignment(&format!("T{i}"))]).collect();
    b.append_blocking(setup).unwrap();
    a.catch_up_blocking().unwrap();

    let barrier = Arc::new(Barrier::new(2));
    let race = |ledger: Ledger, first: bool| {
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            barrier.wait();
            let mut outcomes = Vec::with_capacity(2 * PAIRS);
            for i in 0..PAIRS {
                let (f, t) = (format!("F{i}"), format!("T{i}"));
                let steps = if first {
                    [freeze_execution(&f), task_completion(&t)]
                } else {
                    [freeze_rejection(&f), task_cancellation(&t)]
                };
                for step in steps {
                    outcomes.push(append_as_a_client(&ledger, step));
                }
            }
            outcomes
        })
    };
    let (thread_a, thread_b) = (race(a.clone(), true), race(b.clone(), false));
    let from_a = thread_a.join().expect("replica A's racer");
    let from_b = thread_b.join().expect("replica B's racer");

    let mut executed = 0;
    let mut completed = 0;
    for i in 0..PAIRS {
        for (k, step) in [(2 * i, "freeze"), (2 * i + 1, "task")] {
            let (ra, rb) = (&from_a[k], &from_b[k]);
            assert!(ra.is_ok() != rb.is_ok(), "{step} {i}: exactly one of the two steps is accepted: {ra:?} / {rb:?}");
            let loser = if ra.is_ok() { rb } else { ra };
            let want = if step == "freeze" { ErrorCode::FreezeAlreadyAnswered } else { ErrorCode::TaskNotOpen };
            assert_eq!(loser.as_ref().err(), Some(&want), "{step} {i}: the other is refused by the lifecycle");
        }
        executed += usize::from(from_a[2 * i].is_ok());
        completed += usize::from(from_a[2 * i + 1].is_ok());
    }

    {
        // How hard the replicas raced (shown, not asserted: scheduling decides).
        use std::io::Write;
        let (sa, sb) = (a.stats(), b.stats());
        let _ = writeln!(
            std::io::stderr(),
            "replica race: A won {executed} freezes and {completed} tasks of {PAIRS}; lost races A {} B {}",
            sa.lost_races,
            sb.lost_races
        );
    }
    let head_a = a.catch_up_blocking().unwrap();
    let head_b = b.catch_up_blocking().unwrap();
    assert_eq!(head_a, head_b, "both replicas reach the same head");
    assert_eq!(head_a.seq as usize, 3 + 2 * PAIRS + 2 * PAIRS, "one answer per freeze and per task");
    assert!(verify(a.reader().as_ref()).unwrap().ok());

    let (doc_a, doc_b) = (assessment(&a), assessment(&b));
    assert_eq!(doc_a, doc_b, "both replicas serve the same assessment");
    assert_eq!(doc_a.as_of_seq, head_a.seq);
    assert_eq!(doc_a.head_hash, head_a.hash);
    let bank = doc_a.agencies.iter().find(|x| x.agency_id == "bank-a").expect("bank-a is assessed");
    let figure = |id: &str| {
        bank.indicators
            .iter()
            .find(|x| serde_json::to_value(x.id).ok() == Some(json!(id)))
            .map(|x| (x.numerator, x.denominator))
    };
    assert_eq!(figure("freeze_execution_rate"), Some((Some(executed as u128), Some(PAIRS as u128))));
    assert_eq!(figure("task_on_time_rate"), Some((Some(completed as u128), Some(completed as u128))));
}

/// Appends one event as a client of a replica would: a store error that
/// says retry (the replica lost every race it was allowed) is retried; the
/// answer is the stored seq or the rejection's code.
fn append_as_a_client(ledger: &Ledger, step: Submission) -> Result<u64, ErrorCode> {
    for _ in 0..20 {
        match ledger.append_blocking(vec![step.clone()]) {
            Ok(out) => return Ok(out[0].event.seq),
            Err(AppendError::Rejected { rejection, .. }) => return Err(rejection.code),
            Err(AppendError::Store(StoreError::Io(message))) if message.ends_with("retry") => continue,
            Err(e) => panic!("unexpected append failure: {e}"),
        }
    }
    panic!("the replica kept losing races for 20 client retries")
}

/// The assessment a replica serves for Q1 2026 as of its head, from a
/// projection folded from what its own reader returns.
fn assessment(ledger: &Ledger) -> govledger_assess::Assessment {
    let head = ledger.head().seq;
    let mut projection = govledger_assess::Projection::new();
    let mut after = 0;
    while after < head {
        let page = ledger.read(after, 1_000).unwrap();
        assert!(!page.is_empty(), "the store ends before the replica's head");
        for e in page.iter().take_while(|e| e.seq <= head) {
            projection.apply(e).expect("project the event");
            after = e.seq;
        }
    }
    let query = govledger_assess::Query {
        from: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        to: Timestamp::parse("2026-04-01T00:00:00Z").unwrap(),
        as_of: None,
    };
    projection.assess(&govledger_assess::Model::default_v1(), &query).expect("assess")
}
