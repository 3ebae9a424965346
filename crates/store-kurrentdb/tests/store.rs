//! The KurrentDB store's own behaviour, without a server: retries of a lost
//! acknowledgement and of an unreachable cluster, commits split into several
//! appends, a rejected import that appends nothing, a stream holding foreign
//! events, the watch that tells a replica to catch up, and the real gRPC
//! client failing cleanly when nothing listens (127.0.0.1, port 1).

// Helpers outside `#[test]` functions unwrap too: in a test, a panic with
// the failing value is the report we want.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use govledger_domain::{ErrorCode, Submission};
use govledger_ledger::{AppendError, ImportError, Ledger, LogReader, StoreError, verify};
use govledger_store_kurrentdb::client::KurrentStream;
use govledger_store_kurrentdb::emulated::{EmulatedStream, Fault};
use govledger_store_kurrentdb::stream::{RecordedRow, Stream};
use govledger_store_kurrentdb::{KurrentConfig, KurrentStore, TransientRetry};
use serde_json::{Value, json};

fn sub(v: Value) -> Submission {
    Submission::parse(v).unwrap()
}

fn city() -> Vec<Submission> {
    let reg = |id: &str, kind: &str, roles: Value| {
        sub(json!({"type": "AgencyRegistered", "actor": "office", "occurred_at": "2026-01-01T00:00:00Z",
                   "data": {"agency_id": id, "name": id, "kind": kind, "roles": roles}}))
    };
    vec![reg("office", "government", json!(["coordinator"])), reg("psb", "public_security", json!([]))]
}

fn publicity(id: &str) -> Submission {
    sub(json!({"type": "PublicityDelivered", "actor": "psb", "occurred_at": "2026-02-01T00:00:00Z",
               "data": {"activity_id": id, "audience": "residents", "reach": 10}}))
}

fn fast() -> TransientRetry {
    TransientRetry { max_attempts: 3, first_pause: Duration::from_millis(1), max_pause: Duration::from_millis(2) }
}

fn ledger_on(stream: &Arc<EmulatedStream>, max_append_bytes: usize) -> (Ledger, KurrentStore) {
    let store = KurrentStore::on_stream(stream.clone(), max_append_bytes, fast());
    let ledger = Ledger::open(Box::new(store.writer()), store.reader()).unwrap();
    (ledger, store)
}

fn appends(stream: &EmulatedStream) -> usize {
    stream.calls().iter().filter(|c| **c == "append").count()
}

#[test]
fn a_lost_acknowledgement_is_retried_and_stores_the_events_once() {
    let stream = Arc::new(EmulatedStream::new());
    let (ledger, _) = ledger_on(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    stream.inject(&[Fault::LoseAck]);
    let before = appends(&stream);
    let out = ledger.append_blocking(vec![publicity("P1")]).unwrap();
    assert_eq!(appends(&stream) - before, 2, "the append was sent again after the lost answer");
    assert_eq!(out[0].event.seq, 3);
    let stored = ledger.read(0, 100).unwrap();
    assert_eq!(stored.len(), 3, "stored once");
    assert!(verify(ledger.reader().as_ref()).unwrap().ok());
}

#[test]
fn an_unreachable_cluster_fails_the_append_after_bounded_retries_and_stores_nothing() {
    let stream = Arc::new(EmulatedStream::new());
    let (ledger, _) = ledger_on(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    stream.inject(&[Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
    match ledger.append_blocking(vec![publicity("P1")]) {
        Err(AppendError::Store(StoreError::Io(m))) => {
            assert!(m.contains("unavailable") && m.contains("after 3 attempts"), "{m}")
        }
        other => panic!("expected a store error, got {other:?}"),
    }
    assert_eq!(ledger.read(0, 100).unwrap().len(), 2);
    // The cluster is back: the same request goes through, at the next seq.
    assert_eq!(ledger.append_blocking(vec![publicity("P1")]).unwrap()[0].event.seq, 3);
}

#[test]
fn a_large_commit_is_split_into_appends_and_a_rejected_import_appends_nothing() {
    let stream = Arc::new(EmulatedStream::new());
    // About three events per append.
    let (ledger, _) = ledger_on(&stream, 1_500);
    let items: Vec<_> = city()
        .into_iter()
        .chain((0..30).map(|i| publicity(&format!("P{i}"))))
        .enumerate()
        .map(|(i, s)| Ok((i as u64 + 1, s)))
        .collect();
    let summary = ledger.import_blocking(items.into_iter(), |_| {}).unwrap();
    assert_eq!(summary.appended, 32);
    assert!(appends(&stream) >= 8, "{} appends for 32 events under a 1,500-byte limit", appends(&stream));
    assert!(verify(ledger.reader().as_ref()).unwrap().ok());
    // A file whose last line breaks a rule: nothing is appended at all.
    let before = appends(&stream);
    let bad = (0..20)
        .map(|i| publicity(&format!("Q{i}")))
        .chain([publicity("P0")]) // P0 is already used
        .enumerate()
        .map(|(i, s)| Ok((i as u64 + 1, s)));
    match ledger.import_blocking(bad, |_| {}) {
        Err(ImportError::Rejected { line, rejection }) => {
            assert_eq!((line, rejection.code), (21, ErrorCode::PublicityExists))
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(appends(&stream), before, "events are buffered until the commit");
    assert_eq!(ledger.head().seq, 32);
}

#[test]
fn a_request_written_in_several_calls_stays_in_one_append() {
    use govledger_ledger::{Encoded, GENESIS_HASH, Head, LogWriter, StoredEvent};
    use govledger_store_kurrentdb::mapping::to_outgoing;
    // Six events in a chain, as the ledger seals them (the store does not
    // check rules, so they need no registered agencies).
    let recorded_at = govledger_domain::Timestamp::parse("2026-03-01T00:00:00Z").unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    let events: Vec<Encoded> = (1..=6u64)
        .map(|seq| {
            let e = StoredEvent::seal(seq, uuid::Uuid::now_v7(), &publicity(&format!("P{seq}")), recorded_at, &prev);
            prev = e.event.hash.clone();
            e
        })
        .collect();
    // The size `plan_appends` counts; the six differ by a few bytes at most.
    let size = |e: &Encoded| {
        let o = to_outgoing(e);
        o.data.len() + o.metadata.len() + o.event_type.len() + 16
    };
    let largest = events.iter().map(size).max().unwrap();
    assert!(events.iter().map(size).min().unwrap() * 10 > largest * 9);
    // Room for four events, not five.
    let limit = largest * 9 / 2;
    let stream = Arc::new(EmulatedStream::new());
    let store = KurrentStore::on_stream(stream.clone(), limit, fast());
    let mut writer = store.writer();
    writer.begin(0).unwrap();
    // Requests A (1 event), B (4 events, written in two calls) and C (1 event).
    writer.write(&events[0..1]).unwrap();
    writer.end_request();
    writer.write(&events[1..3]).unwrap();
    writer.write(&events[3..5]).unwrap();
    writer.end_request();
    writer.write(&events[5..6]).unwrap();
    writer.end_request();
    let last = &events[5].event;
    writer.commit(&Head { seq: 6, hash: last.hash.clone(), recorded_at: last.recorded_at.clone() }).unwrap();
    // A, B, C: three appends. Had B's two calls counted as two requests, the
    // plan would have packed A with B's first half, and C with its second.
    assert_eq!(appends(&stream), 3);
    assert_eq!(store.reader().read(0, 10).unwrap().len(), 6);
    assert!(verify(store.reader().as_ref()).unwrap().ok());
}

#[test]
fn a_stream_holding_a_foreign_event_is_reported_corrupt_at_its_seq() {
    let stream = Arc::new(EmulatedStream::new());
    let (ledger, _) = ledger_on(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    ledger.close();
    stream.push_raw(RecordedRow {
        revision: 2,
        id: uuid::Uuid::now_v7(),
        event_type: "SomethingElse".into(),
        data: br#"{"hello":"world"}"#.to_vec(),
        metadata: Vec::new(),
    });
    let store = KurrentStore::on_stream(stream.clone(), 1 << 20, fast());
    match store.reader().read(0, 100) {
        Err(StoreError::Corrupt { seq, .. }) => assert_eq!(seq, 3),
        other => panic!("expected Corrupt at seq 3, got {other:?}"),
    }
    match Ledger::open(Box::new(store.writer()), store.reader()) {
        Err(StoreError::Corrupt { seq, .. }) => assert_eq!(seq, 3),
        Err(other) => panic!("expected Corrupt at seq 3, got {other}"),
        Ok(_) => panic!("a ledger opened on a corrupt stream"),
    }
}

#[test]
fn the_watch_tells_a_replica_when_to_catch_up() {
    let stream = Arc::new(EmulatedStream::new());
    let (a, a_store) = ledger_on(&stream, 1 << 20);
    let (b, _) = ledger_on(&stream, 1 << 20);
    let mut known = a_store.watch();
    known.mark_unchanged();
    b.append_blocking(city()).unwrap();
    assert!(known.has_changed().unwrap());
    assert_eq!(*known.borrow_and_update(), 2);
    // What a server's follower does: the store knows more than the ledger.
    assert!(*known.borrow() > a.head().seq);
    assert_eq!(a.catch_up_blocking().unwrap(), b.head());
    // A writer whose head is behind what the watch knows is refused at begin.
    b.append_blocking(vec![publicity("P1")]).unwrap();
    let mut stale = a_store.writer();
    assert!(matches!(
        govledger_ledger::LogWriter::begin(&mut stale, 2),
        Err(StoreError::Conflict { expected: 2, found: 3 })
    ));
}

#[test]
fn the_grpc_client_fails_cleanly_when_no_cluster_listens() {
    // Port 1 on the loopback: nothing listens, the connection is refused.
    let config =
        KurrentConfig::parse("kurrentdb://127.0.0.1:1?tls=false&maxDiscoverAttempts=1&discoveryInterval=50").unwrap();
    let stream = Arc::new(KurrentStream::connect(&config).unwrap());
    let started = Instant::now();
    match stream.last() {
        Err(govledger_store_kurrentdb::stream::StreamError::Unavailable(m)) => assert!(!m.is_empty()),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let store = KurrentStore::on_stream(stream, 1 << 20, fast());
    match Ledger::open(Box::new(store.writer()), store.reader()) {
        Err(StoreError::Io(m)) => assert!(m.contains("unavailable") && m.contains("after 3 attempts"), "{m}"),
        Err(other) => panic!("expected an I/O error, got {other}"),
        Ok(_) => panic!("a ledger opened with no cluster"),
    }
    assert!(started.elapsed() < Duration::from_secs(60), "bounded: {:?}", started.elapsed());
}

#[test]
fn store_urls_keep_our_options_out_of_the_client_connection_string() {
    let c =
        KurrentConfig::parse("kurrentdb://n1:2113,n2:2113,n3:2113?tls=false&stream=city-ledger&nodePreference=leader")
            .unwrap();
    assert_eq!(c.connection, "kurrentdb://n1:2113,n2:2113,n3:2113?tls=false&nodePreference=leader");
    assert_eq!(c.stream, "city-ledger");
    assert_eq!(c.max_append_bytes, govledger_store_kurrentdb::DEFAULT_MAX_APPEND_BYTES);
    let c = KurrentConfig::parse("esdb+discover://cluster.internal:2113?max_append_bytes=4000000").unwrap();
    assert_eq!(
        (c.connection.as_str(), c.stream.as_str(), c.max_append_bytes),
        ("esdb+discover://cluster.internal:2113", "govledger-ledger", 4_000_000)
    );
    for bad in
        ["http://x:2113", "kurrentdb://", "kurrentdb://h?stream=$all", "kurrentdb://h?max_append_bytes=10", "nohost"]
    {
        assert!(KurrentConfig::parse(bad).is_err(), "{bad} was accepted");
    }
    assert!(KurrentConfig::is_kurrentdb_url("kurrentdb://h:2113"));
    assert!(!KurrentConfig::is_kurrentdb_url("/var/lib/govledger"));
}
