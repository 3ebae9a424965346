//! The two ways a KurrentDB cluster could corrupt the ledger (issue 19),
//! reproduced on the emulated stream, which compares event ids only as the
//! server does, lets its subscription lag and refuses appends over its
//! `MaxAppendSize`:
//!
//! 1. a retry of a stored event, sealed again with another `recorded_at`,
//!    must not be taken for the stored one ("idempotent success" on ids
//!    alone), or the writer's head is not the stored one and the chain forks;
//! 2. a batch must never be split into several appends, so that a failure
//!    between them cannot leave half of it stored.
//!
//! And after an append whose outcome is unknown, the ledger answers the
//! truth: stored (with the stored seq and hash) or not.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use govledger_domain::{ErrorCode, Submission, Timestamp};
use govledger_ledger::{AppendError, Clock, Ledger, LogReader, StoreError, verify};
use govledger_store_conformance::fixtures::city;
use govledger_store_kurrentdb::emulated::{EmulatedStream, Fault};
use govledger_store_kurrentdb::{KurrentStore, TransientRetry};
use serde_json::{Value, json};
use uuid::Uuid;

fn sub(v: Value) -> Submission {
    Submission::parse(v).unwrap()
}

/// The seq of the first event after the fixture city.
fn after_city() -> u64 {
    city().len() as u64 + 1
}

fn publicity(activity: &str, id: Option<Uuid>) -> Submission {
    let mut v = json!({"type": "PublicityDelivered", "actor": "psb", "occurred_at": "2026-02-01T00:00:00Z",
               "data": {"activity_id": activity, "audience": "residents", "reach": 10}});
    if let Some(id) = id {
        v["id"] = json!(id.to_string());
    }
    sub(v)
}

fn fast() -> TransientRetry {
    TransientRetry { max_attempts: 3, first_pause: Duration::from_millis(1), max_pause: Duration::from_millis(2) }
}

/// A clock one second further on at every reading: a re-sealed event always
/// gets another `recorded_at`, so other bytes and another hash.
fn ticking() -> Clock {
    let micros = Arc::new(AtomicI64::new(Timestamp::parse("2026-03-01T00:00:00Z").unwrap().micros()));
    Arc::new(move || Timestamp::from_micros(micros.fetch_add(1_000_000, Ordering::Relaxed)))
}

fn replica(stream: &Arc<EmulatedStream>, max_append_bytes: usize) -> Ledger {
    let store = KurrentStore::on_stream(stream.clone(), max_append_bytes, fast());
    Ledger::open_with_clock(Box::new(store.writer()), store.reader(), ticking()).unwrap()
}

/// The stored event at `seq`, as a fresh reader sees it.
fn stored_hash(stream: &Arc<EmulatedStream>, seq: u64) -> String {
    let store = KurrentStore::on_stream(stream.clone(), 1 << 20, fast());
    store.reader().read(seq - 1, 1).unwrap()[0].hash.clone()
}

fn chain_verifies(stream: &Arc<EmulatedStream>) -> bool {
    let store = KurrentStore::on_stream(stream.clone(), 1 << 20, fast());
    verify(store.reader().as_ref()).unwrap().ok()
}

#[test]
fn defect_1_a_retry_through_a_lagging_replica_does_not_fork_the_chain() {
    let stream = Arc::new(EmulatedStream::new());
    let a = replica(&stream, 1 << 20);
    a.append_blocking(city()).unwrap();
    let b = replica(&stream, 1 << 20);
    // B's subscription lags: it does not know what A appends next.
    stream.hold_subscription();
    let x = Uuid::now_v7();
    let first = a.append_blocking(vec![publicity("P1", Some(x))]).unwrap();
    assert_eq!(first[0].event.seq, after_city());
    // The client did not hear A's answer and sends the same event to B.
    let again = b.append_blocking(vec![publicity("P1", Some(x))]).unwrap();
    assert_eq!(again[0].event.seq, after_city());
    assert_eq!(
        again[0].event.hash,
        stored_hash(&stream, after_city()),
        "B answers with the stored event, not its own seal"
    );
    assert!(again[0].replayed);
    assert_eq!(b.head().hash, stored_hash(&stream, after_city()), "B's head is the stored one");
    // B's next event links to the stored chain.
    b.append_blocking(vec![publicity("P2", None)]).unwrap();
    stream.release_subscription();
    assert!(chain_verifies(&stream), "the chain forked after P1");
}

#[test]
fn defect_1_a_retry_after_an_unknown_outcome_does_not_fork_the_chain() {
    let stream = Arc::new(EmulatedStream::new());
    let ledger = replica(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    // The subscription lags, so only the append itself can tell the writer
    // that the stream moved on.
    stream.hold_subscription();
    // The append is stored but its answer is lost, and the cluster then
    // stays unreachable for every retry of the store: the outcome is unknown.
    stream.inject(&[Fault::LoseAck, Fault::Unavailable, Fault::Unavailable]);
    let x = Uuid::now_v7();
    let _ = ledger.append_blocking(vec![publicity("P1", Some(x))]);
    // The client retries with the same id, as it is told to.
    let again = ledger.append_blocking(vec![publicity("P1", Some(x))]).unwrap();
    assert_eq!(again[0].event.seq, after_city());
    assert_eq!(again[0].event.hash, stored_hash(&stream, after_city()));
    assert_eq!(ledger.head().hash, stored_hash(&stream, after_city()));
    ledger.append_blocking(vec![publicity("P2", None)]).unwrap();
    assert!(chain_verifies(&stream), "the chain forked after P1");
    assert_eq!(ledger.read(0, 100).unwrap().len() as u64, after_city() + 1, "P1 stored once");
}

#[test]
fn after_an_unknown_outcome_the_ledger_reads_back_and_answers_stored_with_the_stored_seq_and_hash() {
    let stream = Arc::new(EmulatedStream::new());
    let ledger = replica(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    stream.inject(&[Fault::LoseAck, Fault::Unavailable, Fault::Unavailable]);
    // Without a client id: the server-assigned id is what finds it again.
    let out = ledger.append_blocking(vec![publicity("P1", None)]).unwrap();
    assert_eq!(out[0].event.seq, after_city());
    assert_eq!(out[0].event.hash, stored_hash(&stream, after_city()));
    assert!(!out[0].replayed, "the client sent it once: it is new to the client");
    assert_eq!(ledger.read(0, 100).unwrap().len() as u64, after_city(), "stored once");
    assert!(chain_verifies(&stream));
}

#[test]
fn after_an_unknown_outcome_that_stored_nothing_the_ledger_stores_the_batch_once() {
    let stream = Arc::new(EmulatedStream::new());
    let ledger = replica(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    // Three unreachable attempts: nothing stored, but the store cannot know.
    stream.inject(&[Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
    let out = ledger.append_blocking(vec![publicity("P1", None)]).unwrap();
    assert_eq!(out[0].event.seq, after_city());
    assert!(!out[0].replayed);
    assert_eq!(ledger.read(0, 100).unwrap().len() as u64, after_city());
}

#[test]
fn an_unknown_outcome_that_cannot_be_read_back_is_answered_ambiguous() {
    let stream = Arc::new(EmulatedStream::new());
    let ledger = replica(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    // The append is stored, its answer lost, and the cluster stays
    // unreachable for the two retries and the three reads of the read-back.
    stream.inject(&[Fault::LoseAck]);
    stream.inject(&[Fault::Unavailable; 5]);
    let x = Uuid::now_v7();
    match ledger.append_blocking(vec![publicity("P1", Some(x))]) {
        Err(AppendError::Store(StoreError::Ambiguous(m))) => assert!(m.contains("unavailable"), "{m}"),
        other => panic!("expected an ambiguous outcome, got {other:?}"),
    }
    // The cluster is back: the retry with the same id learns the truth.
    let again = ledger.append_blocking(vec![publicity("P1", Some(x))]).unwrap();
    assert_eq!((again[0].event.seq, again[0].event.hash.clone()), (after_city(), stored_hash(&stream, after_city())));
    ledger.append_blocking(vec![publicity("P2", None)]).unwrap();
    assert!(chain_verifies(&stream));
}

#[test]
fn defect_2_a_batch_too_large_for_one_append_is_refused_whole_never_split() {
    let stream = Arc::new(EmulatedStream::new());
    // About three events per append.
    let ledger = replica(&stream, 1_500);
    ledger.append_blocking(city()).unwrap();
    // Should the store split the batch, its second append would be refused.
    stream.inject(&[Fault::Pass, Fault::Refuse]);
    let batch: Vec<_> = (0..10).map(|i| publicity(&format!("P{i}"), None)).collect();
    let result = ledger.append_blocking(batch);
    let stored = ledger.reader().read(after_city() - 1, 100).unwrap().len();
    assert!(stored == 0 || stored == 10, "{stored} of the batch's 10 events are stored");
    match result {
        Err(AppendError::Rejected { rejection, .. }) => {
            assert_eq!(rejection.code, ErrorCode::BatchTooLarge);
            assert!(rejection.message.contains("MaxAppendSize"), "{}", rejection.message);
            assert!(rejection.message.contains("max_append_bytes"), "{}", rejection.message);
        }
        other => panic!("expected the batch refused whole, got {other:?}"),
    }
    assert_eq!(stored, 0);
    assert_eq!(
        stream.calls().iter().filter(|c| **c == "append").count(),
        1,
        "only the city's append reached the stream"
    );
    stream.clear_faults();
    // The next append goes through whole.
    assert_eq!(ledger.append_blocking(vec![publicity("Q", None)]).unwrap()[0].event.seq, after_city());
    assert!(chain_verifies(&stream));
}
