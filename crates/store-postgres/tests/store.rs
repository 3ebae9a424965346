//! The PostgreSQL store beyond the shared conformance suite, on a real
//! server started by the test:
//!
//! - `the_watch_follows_other_writers_and_survives_a_lost_connection`: a
//!   store's `watch` (LISTEN/NOTIFY) sees another writer's commits, and
//!   again after its listening connection was terminated by the server;
//! - `sealed_events_copied_through_the_writer_keep_seq_recorded_at_and_hash`:
//!   the store as a migration target — events read from one ledger and
//!   written as they are (`Encoded`) through `LogWriter` into another schema
//!   keep their seq, `recorded_at`, bytes and hash, and the copy verifies;
//! - `a_refused_row_in_a_large_transaction_stores_nothing`: an insert that
//!   PostgreSQL refuses while later rows are already under way fails the
//!   commit, and nothing of the transaction is stored.
//!
//! PostgreSQL must be installed (CI installs it); `GOVLEDGER_SKIP_POSTGRES=1` skips.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use govledger_ledger::{Encoded, Ledger, LogReader, LogWriter, verify};
use govledger_store_conformance::fixtures::{city, publicity};
use govledger_store_postgres::test_server::PgServer;
use govledger_store_postgres::{LISTENER_NAME, PgConfig, PgStore};

fn store(pg: &PgServer, schema: &str) -> PgStore {
    PgStore::connect(&PgConfig::parse(&pg.url(schema)).unwrap()).unwrap()
}

fn ledger(store: &PgStore) -> Ledger {
    Ledger::open(Box::new(store.writer().unwrap()), store.reader()).unwrap()
}

fn wait_for_head(watch: &mut tokio::sync::watch::Receiver<u64>, seq: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while *watch.borrow_and_update() < seq {
        assert!(Instant::now() < deadline, "the watch did not reach seq {seq} (at {})", *watch.borrow());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_watch_follows_other_writers_and_survives_a_lost_connection() {
    let Some(pg) = PgServer::start_or_skip("the watch test") else { return };
    let (follower, writer) = (store(&pg, "watched"), store(&pg, "watched"));
    let mut heads = follower.watch();
    let other = ledger(&writer);
    other.append_blocking(city()).unwrap();
    wait_for_head(&mut heads, 3);
    other.append_blocking(vec![publicity("one")]).unwrap();
    wait_for_head(&mut heads, 4);

    // The server ends the listening connection (a restart, a failover, a DBA).
    let deadline = Instant::now() + Duration::from_secs(30);
    while pg
        .psql(&format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{LISTENER_NAME}'"
        ))
        .unwrap()
        == "0"
    {
        assert!(Instant::now() < deadline, "no listening connection found");
        std::thread::sleep(Duration::from_millis(10));
    }
    other.append_blocking(vec![publicity("two")]).unwrap();
    other.append_blocking(vec![publicity("three")]).unwrap();
    wait_for_head(&mut heads, 6);
}

#[test]
fn sealed_events_copied_through_the_writer_keep_seq_recorded_at_and_hash() {
    let Some(pg) = PgServer::start_or_skip("the migration-target test") else { return };
    let source = ledger(&store(&pg, "source"));
    source.append_blocking(city()).unwrap();
    for i in 0..5 {
        source.append_blocking((0..300).map(|k| publicity(&format!("m{i}-{k}"))).collect()).unwrap();
    }
    let events = source.read(0, usize::MAX).unwrap();
    let head = source.head();
    assert_eq!(events.len() as u64, head.seq);

    let target = store(&pg, "target");
    let mut writer = target.writer().unwrap();
    writer.begin(0).unwrap();
    for chunk in events.chunks(700) {
        let encoded: Vec<Encoded> =
            chunk.iter().map(|e| Encoded { event: e.clone(), body: e.canonical_body() }).collect();
        writer.write(&encoded).unwrap();
    }
    writer.commit(&head).unwrap();

    let reader = target.reader();
    assert_eq!(reader.anchor().unwrap(), Some(head.clone()));
    assert_eq!(reader.read(0, usize::MAX).unwrap(), events, "seq, recorded_at, hash: all as they were");
    let report = verify(reader.as_ref()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.head, head);
    // A ledger opened on the copy goes on after the copied head.
    let copy = ledger(&target);
    assert_eq!(copy.head(), head);
    let next = copy.append_blocking(vec![publicity("after")]).unwrap();
    assert_eq!(next[0].event.seq, head.seq + 1);
    assert_eq!(next[0].event.prev_hash, head.hash);
}

#[test]
fn a_refused_row_in_a_large_transaction_stores_nothing() {
    let Some(pg) = PgServer::start_or_skip("the refused-row test") else { return };
    let source = ledger(&store(&pg, "refused"));
    source.append_blocking(city()).unwrap();
    let head = source.head();
    let stored = source.read(0, 1).unwrap().remove(0);
    // 3,000 events after the head, the 10th reusing a stored event's id
    // (something only another program could write: the ledger checks ids).
    let mut batch: Vec<Encoded> = Vec::new();
    let mut tip = head.clone();
    for k in 0..3_000 {
        let id = if k == 9 { stored.id } else { uuid::Uuid::now_v7() };
        let recorded_at = govledger_domain::Timestamp::parse("2026-03-01T00:00:00Z").unwrap();
        let e =
            govledger_ledger::StoredEvent::seal(tip.seq + 1, id, &publicity(&format!("x{k}")), recorded_at, &tip.hash);
        tip = govledger_ledger::Head {
            seq: e.event.seq,
            hash: e.event.hash.clone(),
            recorded_at: e.event.recorded_at.clone(),
        };
        batch.push(e);
    }
    let target = store(&pg, "refused");
    let mut writer = target.writer().unwrap();
    writer.begin(head.seq).unwrap();
    let written = batch.chunks(500).try_for_each(|c| writer.write(c));
    let result = written.and_then(|()| writer.commit(&tip));
    let err = result.expect_err("a duplicate id is refused").to_string();
    writer.rollback();
    assert!(err.contains("already holds one of these events"), "{err}");
    let reader = target.reader();
    assert_eq!(reader.anchor().unwrap(), Some(head.clone()), "the head did not move");
    assert_eq!(reader.read(0, usize::MAX).unwrap().len() as u64, head.seq, "nothing of it is stored");
    // The writer goes on.
    let next = ledger(&target).append_blocking(vec![publicity("after")]).unwrap();
    assert_eq!(next[0].event.seq, head.seq + 1);
}
