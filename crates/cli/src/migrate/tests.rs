//! `migrate` on real stores: embedded → emulated KurrentDB → embedded, and
//! embedded → PostgreSQL (a real server) → embedded, keep
//! every byte (the rows `export` writes), in several target transactions;
//! a non-empty target and a source that does not verify are refused.

use std::sync::Arc;

use govledger_domain::Submission;
use govledger_ledger::memory::MemoryLog;
use govledger_ledger::{GENESIS_HASH, Head, LogReader, LogWriter, StoredEvent};
use govledger_store_kurrentdb::emulated::EmulatedStream;
use govledger_store_kurrentdb::{KurrentStore, TransientRetry};
use serde_json::{Value, json};

use super::migrate;

fn sub(v: Value) -> Submission {
    Submission::parse(v).unwrap()
}

fn events() -> Vec<Submission> {
    let reg = |id: &str, kind: &str, roles: Value| {
        sub(json!({"type": "AgencyRegistered", "actor": "office", "occurred_at": "2026-01-01T00:00:00Z",
                   "data": {"agency_id": id, "name": id, "kind": kind, "roles": roles}}))
    };
    let mut all = vec![reg("office", "government", json!(["coordinator"])), reg("psb", "public_security", json!([]))];
    all.extend((0..40).map(|i| {
        sub(json!({"type": "PublicityDelivered", "actor": "psb", "occurred_at": "2026-02-01T00:00:00Z",
                   "data": {"activity_id": format!("P{i}"), "audience": "residents", "reach": i}}))
    }));
    all
}

/// Every stored row, as `export` writes them: seq, canonical body, hash.
fn rows(reader: &dyn LogReader) -> Vec<(u64, Vec<u8>, String)> {
    let mut out = Vec::new();
    reader
        .scan_raw(0, &mut |row| {
            out.push((row.seq, row.body.to_vec(), row.hash.to_owned()));
            true
        })
        .unwrap();
    out
}

#[test]
fn embedded_to_kurrentdb_and_back_keeps_every_seq_recorded_at_and_hash() {
    let source = tempfile::tempdir().unwrap();
    let ledger = govledger_store_embedded::open_ledger(source.path()).unwrap();
    // Three groups, so three recorded_at.
    let all = events();
    ledger.append_blocking(all[..2].to_vec()).unwrap();
    ledger.append_blocking(all[2..20].to_vec()).unwrap();
    ledger.append_blocking(all[20..].to_vec()).unwrap();
    ledger.close();
    drop(ledger);
    let from = govledger_store_embedded::open_reader(source.path()).unwrap();
    let original = rows(from.as_ref());
    assert_eq!(original.len(), 42);

    // Into KurrentDB, with appends of a few events each.
    let stream = Arc::new(EmulatedStream::new());
    let store = KurrentStore::on_stream(stream.clone(), 4_000, TransientRetry::default());
    let mut seen = Vec::new();
    let moved = migrate(from.as_ref(), store.reader().as_ref(), &mut store.writer(), &mut |n| seen.push(n)).unwrap();
    assert_eq!(moved.head.seq, 42);
    assert!(moved.transactions > 1, "{} transactions", moved.transactions);
    assert_eq!(seen.last(), Some(&42), "progress ends at the head");
    assert_eq!(rows(store.reader().as_ref()), original);

    // And back into a new embedded store.
    let back = tempfile::tempdir().unwrap();
    let (mut writer, reader) = govledger_store_embedded::open(back.path()).unwrap();
    migrate(store.reader().as_ref(), reader.as_ref(), &mut writer, &mut |_| {}).unwrap();
    assert_eq!(rows(reader.as_ref()), original, "the round trip's export is identical");
    assert!(govledger_ledger::verify(reader.as_ref()).unwrap().ok());
    assert_eq!(reader.anchor().unwrap(), from.anchor().unwrap());

    // A second move into the now non-empty target is refused.
    let again = migrate(from.as_ref(), reader.as_ref(), &mut writer, &mut |_| {}).unwrap_err();
    assert!(again.to_string().contains("not empty"), "{again}");
}

#[test]
fn a_source_that_does_not_verify_stops_the_move_before_the_bad_event() {
    let source = MemoryLog::new();
    let at = govledger_domain::Timestamp::parse("2026-03-01T00:00:00Z").unwrap();
    let first = StoredEvent::seal(1, uuid::Uuid::now_v7(), &events()[0], at, GENESIS_HASH);
    // The second event does not link to the first.
    let second = StoredEvent::seal(2, uuid::Uuid::now_v7(), &events()[1], at, &"0".repeat(64));
    let mut w = source.writer();
    w.begin(0).unwrap();
    w.write(&[first.clone(), second.clone()]).unwrap();
    w.commit(&Head { seq: 2, hash: second.event.hash.clone(), recorded_at: second.event.recorded_at.clone() }).unwrap();
    let target = MemoryLog::new();
    let e = migrate(source.as_ref(), target.as_ref(), &mut target.writer(), &mut |_| {}).unwrap_err();
    let text = format!("{e:#}");
    assert!(text.contains("does not verify at seq 2") && text.contains("broken_link"), "{text}");
    assert_eq!(rows(target.as_ref()).len(), 0, "nothing past the last good event, and here nothing was flushed");
}

#[test]
fn embedded_to_postgres_and_back_by_url_keeps_every_row() {
    let Some(server) = govledger_store_postgres::test_server::PgServer::start_or_skip("migrate to PostgreSQL") else {
        return;
    };
    let source = tempfile::tempdir().unwrap();
    let ledger = govledger_store_embedded::open_ledger(source.path()).unwrap();
    let all = events();
    ledger.append_blocking(all[..2].to_vec()).unwrap();
    ledger.append_blocking(all[2..].to_vec()).unwrap();
    ledger.close();
    drop(ledger);
    let original = rows(govledger_store_embedded::open_reader(source.path()).unwrap().as_ref());

    // As `govledger migrate --from DIR --to postgres://…` opens them.
    let url = server.url("migrated");
    let (_, from) = super::open(source.path().to_str().unwrap()).unwrap();
    let (mut writer, to) = super::open(&url).unwrap();
    let moved = migrate(from.as_ref(), to.as_ref(), writer.as_mut(), &mut |_| {}).unwrap();
    assert_eq!(moved.head.seq, 42);
    assert_eq!(rows(to.as_ref()), original, "PostgreSQL holds the same seqs, bytes and hashes");
    assert_eq!(server.psql("SELECT count(*) FROM migrated.events").unwrap(), "42", "in the database itself");
    drop(writer);

    let back = tempfile::tempdir().unwrap();
    let (_, from) = super::open(&url).unwrap();
    let (mut writer, to) = super::open(back.path().to_str().unwrap()).unwrap();
    migrate(from.as_ref(), to.as_ref(), writer.as_mut(), &mut |_| {}).unwrap();
    assert_eq!(rows(to.as_ref()), original, "and back: the export is identical");
    assert!(govledger_ledger::verify(to.as_ref()).unwrap().ok());
}
