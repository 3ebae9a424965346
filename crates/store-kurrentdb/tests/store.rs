//! The KurrentDB store's own behaviour, without a server: retries of a lost
//! acknowledgement and of an unreachable cluster, a transaction as exactly
//! one append (refused whole when too large), a rejected import that
//! appends nothing, a stream holding foreign
//! events, the watch that tells a replica to catch up, and the real gRPC
//! client failing cleanly when nothing listens (127.0.0.1, port 1).

// Helpers outside `#[test]` functions unwrap too: in a test, a panic with
// the failing value is the report we want.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use govledger_domain::ErrorCode;
use govledger_ledger::{AppendError, ImportError, Ledger, LogReader, StoreError, verify};
use govledger_store_conformance::fixtures::{city, publicity};
use govledger_store_kurrentdb::client::KurrentStream;
use govledger_store_kurrentdb::emulated::{EmulatedStream, Fault};
use govledger_store_kurrentdb::stream::{RecordedRow, Stream};
use govledger_store_kurrentdb::{KurrentConfig, KurrentStore, TransientRetry};

/// The seq of the first event after the fixture city.
fn after_city() -> u64 {
    city().len() as u64 + 1
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
    assert_eq!(out[0].event.seq, after_city());
    let stored = ledger.read(0, 100).unwrap();
    assert_eq!(stored.len() as u64, after_city(), "stored once");
    assert!(verify(ledger.reader().as_ref()).unwrap().ok());
}

#[test]
fn an_unreachable_cluster_answers_ambiguous_after_bounded_retries_and_stores_nothing() {
    let stream = Arc::new(EmulatedStream::new());
    let (ledger, _) = ledger_on(&stream, 1 << 20);
    ledger.append_blocking(city()).unwrap();
    // Three attempts at the append and three at reading the stream back.
    stream.inject(&[Fault::Unavailable; 6]);
    match ledger.append_blocking(vec![publicity("P1")]) {
        Err(AppendError::Store(StoreError::Ambiguous(m))) => {
            assert!(m.contains("unavailable") && m.contains("after 3 attempts"), "{m}")
        }
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
    assert_eq!(ledger.read(0, 100).unwrap().len(), city().len());
    // The cluster is back: the same request goes through, at the next seq.
    assert_eq!(ledger.append_blocking(vec![publicity("P1")]).unwrap()[0].event.seq, after_city());
}

#[test]
fn an_import_too_large_for_one_append_is_refused_whole_and_one_that_fits_is_one_append() {
    let items = || {
        city()
            .into_iter()
            .chain((0..30).map(|i| publicity(&format!("P{i}"))))
            .enumerate()
            .map(|(i, s)| Ok((i as u64 + 1, s)))
            .collect::<Vec<_>>()
    };
    let stream = Arc::new(EmulatedStream::new());
    // About three events per append.
    let (ledger, _) = ledger_on(&stream, 1_500);
    match ledger.import_blocking(items().into_iter(), |_| {}) {
        Err(ImportError::Rejected { rejection, .. }) => {
            assert_eq!(rejection.code, ErrorCode::BatchTooLarge);
            assert!(rejection.message.contains("MaxAppendSize"), "{}", rejection.message);
        }
        other => panic!("expected the import refused whole, got {other:?}"),
    }
    assert_eq!(appends(&stream), 0, "nothing of it was appended");
    let (ledger, _) = ledger_on(&stream, 1 << 20);
    let summary = ledger.import_blocking(items().into_iter(), |_| {}).unwrap();
    assert_eq!(summary.appended, 30 + city().len() as u64);
    assert_eq!(appends(&stream), 1, "one import, one append");
    assert!(verify(ledger.reader().as_ref()).unwrap().ok());
    // A file whose last line breaks a rule: nothing is appended at all.
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
    assert_eq!(appends(&stream), 1, "events are buffered until the commit");
    assert_eq!(ledger.head().seq, 30 + city().len() as u64);
}

#[test]
fn a_transaction_written_in_several_calls_is_one_append_and_one_too_large_is_refused_not_split() {
    use govledger_ledger::{Encoded, GENESIS_HASH, Head, LogWriter, StoredEvent, TransactionLimit};
    let recorded_at = govledger_domain::Timestamp::parse("2026-03-01T00:00:00Z").unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    let events: Vec<Encoded> = (1..=6u64)
        .map(|seq| {
            let e = StoredEvent::seal(seq, uuid::Uuid::now_v7(), &publicity(&format!("P{seq}")), recorded_at, &prev);
            prev = e.event.hash.clone();
            e
        })
        .collect();
    let last = &events[5].event;
    let head = Head { seq: 6, hash: last.hash.clone(), recorded_at: last.recorded_at.clone() };
    let total: usize = events.iter().map(TransactionLimit::bytes_of).sum();
    let write_all = |writer: &mut dyn LogWriter| {
        writer.begin(0).unwrap();
        writer.write(&events[0..1]).unwrap();
        writer.write(&events[1..5]).unwrap();
        writer.write(&events[5..6]).unwrap();
    };
    // One byte short: refused whole, nothing appended.
    let stream = Arc::new(EmulatedStream::new());
    let store = KurrentStore::on_stream(stream.clone(), total - 1, fast());
    let mut writer = store.writer();
    assert_eq!(writer.transaction_limit().map(|l| l.max_bytes), Some(total - 1));
    write_all(&mut writer);
    match writer.commit(&head) {
        Err(StoreError::Io(m)) => assert!(m.contains("does not fit in one append"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(appends(&stream), 0);
    // Exactly the limit: one append.
    let store = KurrentStore::on_stream(stream.clone(), total, fast());
    let mut writer = store.writer();
    write_all(&mut writer);
    writer.commit(&head).unwrap();
    assert_eq!(appends(&stream), 1);
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
        // Seq N is revision N - 1: this is the seq after the city.
        revision: city().len() as u64,
        id: uuid::Uuid::now_v7(),
        event_type: "SomethingElse".into(),
        data: br#"{"hello":"world"}"#.to_vec(),
        metadata: Vec::new(),
    });
    let store = KurrentStore::on_stream(stream.clone(), 1 << 20, fast());
    match store.reader().read(0, 100) {
        Err(StoreError::Corrupt { seq, .. }) => assert_eq!(seq, after_city()),
        other => panic!("expected Corrupt at the seq after the city, got {other:?}"),
    }
    match Ledger::open(Box::new(store.writer()), store.reader()) {
        Err(StoreError::Corrupt { seq, .. }) => assert_eq!(seq, after_city()),
        Err(other) => panic!("expected Corrupt at the seq after the city, got {other}"),
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
    assert_eq!(*known.borrow_and_update(), city().len() as u64);
    // What a server's follower does: the store knows more than the ledger.
    assert!(*known.borrow() > a.head().seq);
    assert_eq!(a.catch_up_blocking().unwrap(), b.head());
    // A writer whose head is behind what the watch knows is refused at begin.
    b.append_blocking(vec![publicity("P1")]).unwrap();
    let mut stale = a_store.writer();
    assert!(matches!(
        govledger_ledger::LogWriter::begin(&mut stale, after_city() - 1),
        Err(StoreError::Conflict { expected, found }) if (expected, found) == (after_city() - 1, after_city())
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
