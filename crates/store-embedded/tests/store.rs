//! The ledger over the embedded store: appends, idempotency kept durably,
//! atomic batches, concurrent appenders racing on the same lifecycle step,
//! group commit, restart, and the data directory's lock.

use std::sync::{Arc, Barrier};

use govledger_domain::{ErrorCode, Submission, Timestamp};
use govledger_ledger::{AppendError, Ledger, Problem, verify, verify_sharded};
use govledger_store_conformance::fixtures::{city, freeze_execution, freeze_request};
use serde_json::{Value, json};
use uuid::Uuid;

fn sub(v: Value) -> Submission {
    Submission::parse(v).expect("test envelopes are well-formed")
}

fn env(ty: &str, actor: &str, at: &str, data: Value) -> Value {
    json!({"type": ty, "actor": actor, "occurred_at": at, "data": data})
}

fn with_id(mut v: Value, id: Uuid) -> Value {
    v["id"] = json!(id.to_string());
    v
}

/// The number of events of the fixture city (its registrations, seq 1 to this).
fn city_len() -> u64 {
    city().len() as u64
}

fn rejected_code(e: AppendError) -> (usize, ErrorCode) {
    match e {
        AppendError::Rejected { index, rejection } => (index, rejection.code),
        other => panic!("expected a rejection, got {other}"),
    }
}

fn open(dir: &std::path::Path) -> Ledger {
    govledger_store_embedded::open_ledger(dir).expect("open ledger")
}

#[test]
fn appended_events_are_chained_read_back_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    let n = city_len();
    let out = ledger.append_blocking(city()).unwrap();
    assert_eq!(out.iter().map(|a| a.event.seq).collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>());
    assert_eq!(out[0].event.prev_hash, govledger_ledger::GENESIS_HASH);
    assert_eq!(out[1].event.prev_hash, out[0].event.hash);
    assert_eq!(ledger.head().seq, n);
    assert_eq!(ledger.head().hash, out[out.len() - 1].event.hash);
    let read = ledger.read(1, 10).unwrap();
    assert_eq!(read.iter().map(|e| e.seq).collect::<Vec<_>>(), (2..=n).collect::<Vec<_>>());
    assert_eq!(read[0], out[1].event);
    let report = verify(ledger.reader().as_ref()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.events, n);
}

#[test]
fn a_batch_with_one_bad_event_stores_none_and_names_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    ledger.append_blocking(city()).unwrap();
    let batch = vec![freeze_request("F1"), freeze_execution("F1"), freeze_execution("F1")];
    assert_eq!(rejected_code(ledger.append_blocking(batch).unwrap_err()), (2, ErrorCode::FreezeAlreadyAnswered));
    assert_eq!(ledger.head().seq, city_len());
    assert!(ledger.read(city_len(), 10).unwrap().is_empty());
    // The abandoned batch left no trace in the validation state either.
    ledger.append_blocking(vec![freeze_request("F1"), freeze_execution("F1")]).unwrap();
    assert_eq!(ledger.head().seq, city_len() + 2);
}

#[test]
fn idempotent_retries_return_the_stored_event_even_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = Uuid::now_v7();
    let first = {
        let ledger = open(dir.path());
        ledger.append_blocking(city()).unwrap();
        let first = ledger.append_blocking(vec![sub(with_id(freeze_request_json("F1"), id))]).unwrap();
        // Same id, same content, any offset spelling: the stored event comes back.
        let again = ledger.append_blocking(vec![sub(with_id(freeze_request_json("F1"), id))]).unwrap();
        assert!(again[0].replayed);
        assert_eq!(again[0].event, first[0].event);
        ledger.close();
        first
    };
    let ledger = open(dir.path());
    let mut same = freeze_request_json("F1");
    same["occurred_at"] = json!("2026-02-01T18:00:00+08:00");
    let again = ledger.append_blocking(vec![sub(with_id(same, id))]).unwrap();
    assert!(again[0].replayed, "the id index is durable, not a cache");
    assert_eq!(again[0].event, first[0].event);
    assert_eq!(ledger.head().seq, city_len() + 1);
    let mut different = freeze_request_json("F1");
    different["data"]["amount_minor"] = json!(6000);
    assert_eq!(
        rejected_code(ledger.append_blocking(vec![sub(with_id(different, id))]).unwrap_err()),
        (0, ErrorCode::IdConflict)
    );
    assert_eq!(ledger.head().seq, city_len() + 1);
}

fn freeze_request_json(id: &str) -> Value {
    env(
        "FreezeRequested",
        "psb",
        "2026-02-01T10:00:00Z",
        json!({"freeze_id": id, "mode": "freeze", "bank": "bank-a", "account_ref": "acct:x1", "amount_minor": 5000}),
    )
}

#[test]
fn the_same_id_twice_in_one_batch_is_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    ledger.append_blocking(city()).unwrap();
    let id = Uuid::now_v7();
    let out = ledger
        .append_blocking(vec![sub(with_id(freeze_request_json("F1"), id)), sub(with_id(freeze_request_json("F1"), id))])
        .unwrap();
    assert!(!out[0].replayed);
    assert!(out[1].replayed);
    assert_eq!(out[0].event, out[1].event);
    assert_eq!(ledger.head().seq, city_len() + 1);
}

#[test]
fn concurrent_conflicting_answers_are_accepted_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    ledger.append_blocking(city()).unwrap();
    const FREEZES: usize = 20;
    const RACERS: usize = 8;
    for i in 0..FREEZES {
        ledger.append_blocking(vec![freeze_request(&format!("F{i}"))]).unwrap();
    }
    let barrier = Arc::new(Barrier::new(RACERS));
    let handles: Vec<_> = (0..RACERS)
        .map(|_| {
            let ledger = ledger.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut outcomes = Vec::new();
                for i in 0..FREEZES {
                    outcomes
                        .push(ledger.append_blocking(vec![freeze_execution(&format!("F{i}"))]).map_err(rejected_code));
                }
                outcomes
            })
        })
        .collect();
    let mut accepted = 0;
    for h in handles {
        for outcome in h.join().unwrap() {
            match outcome {
                Ok(events) => {
                    assert_eq!(events.len(), 1);
                    accepted += 1;
                }
                Err((0, code)) => assert_eq!(code, ErrorCode::FreezeAlreadyAnswered),
                Err(other) => panic!("unexpected outcome {other:?}"),
            }
        }
    }
    assert_eq!(accepted, FREEZES, "each freeze executed exactly once");
    assert_eq!(ledger.head().seq as usize, city().len() + 2 * FREEZES);
    assert!(verify(ledger.reader().as_ref()).unwrap().ok());
}

#[test]
fn concurrent_appends_share_transactions() {
    // Group commit: with many appenders waiting, the writer takes them in
    // groups. All events of a group get the same recorded_at, so fewer
    // distinct recorded_at values than events shows that commits were shared.
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    ledger.append_blocking(city()).unwrap();
    const THREADS: usize = 16;
    const PER_THREAD: usize = 25;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let ledger = ledger.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..PER_THREAD {
                    let e = env(
                        "PublicityDelivered",
                        "psb",
                        "2026-03-01T00:00:00Z",
                        json!({"activity_id": format!("P-{t}-{i}"), "audience": "residents", "reach": 10}),
                    );
                    ledger.append_blocking(vec![sub(e)]).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let events = ledger.read(city_len(), 10_000).unwrap();
    assert_eq!(events.len(), THREADS * PER_THREAD);
    let mut stamps: Vec<&str> = events.iter().map(|e| e.recorded_at.as_str()).collect();
    stamps.dedup();
    assert!(stamps.len() < events.len(), "{} commits for {} events: no commit was shared", stamps.len(), events.len());
    assert!(verify(ledger.reader().as_ref()).unwrap().ok());
}

#[test]
fn a_restart_keeps_every_event_and_the_rules_state() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let ledger = open(dir.path());
        ledger.append_blocking(city()).unwrap();
        ledger.append_blocking(vec![freeze_request("F1"), freeze_execution("F1")]).unwrap();
        ledger.close();
        ledger.head()
    };
    let ledger = open(dir.path());
    assert_eq!(ledger.head(), head);
    // The state was rebuilt from the log: the freeze is still answered.
    assert_eq!(
        rejected_code(ledger.append_blocking(vec![freeze_execution("F1")]).unwrap_err()),
        (0, ErrorCode::FreezeAlreadyAnswered)
    );
    let next = ledger.append_blocking(vec![freeze_request("F2")]).unwrap();
    assert_eq!(next[0].event.seq, head.seq + 1);
    assert_eq!(next[0].event.prev_hash, head.hash);
}

#[test]
fn a_data_directory_has_one_writer() {
    let dir = tempfile::tempdir().unwrap();
    let _ledger = open(dir.path());
    match govledger_store_embedded::open_ledger(dir.path()) {
        Err(govledger_ledger::StoreError::Locked(message)) => assert!(message.contains("in use"), "{message}"),
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("a second writer opened the same data directory"),
    }
    // Readers need no lock.
    assert!(govledger_store_embedded::open_reader(dir.path()).is_ok());
}

#[test]
fn recorded_at_never_goes_backwards_and_future_events_are_judged_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, reader) = govledger_store_embedded::open(dir.path()).unwrap();
    let times =
        Arc::new(std::sync::Mutex::new(vec!["2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z"]));
    let clock = {
        let times = times.clone();
        Arc::new(move || {
            let mut t = times.lock().unwrap();
            let next = if t.len() > 1 { t.remove(0) } else { t[0] };
            Timestamp::parse(next).unwrap()
        })
    };
    let ledger = Ledger::open_with_clock(Box::new(writer), reader, clock).unwrap();
    let first = ledger.append_blocking(city()).unwrap();
    // The clock went back a month; recorded_at stays at the first value.
    let second = ledger.append_blocking(vec![freeze_request("F1")]).unwrap();
    assert_eq!(first[0].event.recorded_at, "2026-03-01T00:00:00Z");
    assert_eq!(second[0].event.recorded_at, "2026-03-01T00:00:00Z");
    // 5 minutes after the ledger's time is accepted, a second more is not.
    let mut ok = freeze_request_json("F2");
    ok["occurred_at"] = json!("2026-03-01T00:05:00Z");
    ledger.append_blocking(vec![sub(ok)]).unwrap();
    let mut late = freeze_request_json("F3");
    late["occurred_at"] = json!("2026-03-01T00:05:00.000001Z");
    assert_eq!(rejected_code(ledger.append_blocking(vec![sub(late)]).unwrap_err()), (0, ErrorCode::OccurredInFuture));
}

#[test]
fn an_empty_batch_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    assert_eq!(rejected_code(ledger.append_blocking(vec![]).unwrap_err()), (0, ErrorCode::BatchEmpty));
}

#[test]
fn import_is_atomic_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    let mut items: Vec<_> = city().into_iter().enumerate().map(|(i, s)| Ok((i as u64 + 1, s))).collect();
    items.push(Ok((7, freeze_execution("NOPE"))));
    match ledger.import_blocking(items.into_iter(), |_| {}) {
        Err(govledger_ledger::ImportError::Rejected { line, rejection }) => {
            assert_eq!((line, rejection.code), (7, ErrorCode::FreezeNotFound))
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(ledger.head().seq, 0);
    assert!(ledger.reader().anchor().unwrap().is_none());
    let ok = ledger.import_blocking(city().into_iter().enumerate().map(|(i, s)| Ok((i as u64, s))), |_| {}).unwrap();
    assert_eq!(ok.appended, city_len());
    assert_eq!(ledger.head().seq, city_len());
}

#[test]
fn a_narrower_capacity_keeps_the_actor_from_its_ledger_roles() {
    // SPEC 4: an `agency` credential acts as its agency without the
    // coordinator role the agency holds; the operator acts with it.
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    ledger.append_blocking(city()).unwrap();
    let register = || {
        sub(env(
            "AgencyRegistered",
            "office",
            "2026-01-02T00:00:00Z",
            json!({"agency_id": "bank-c", "name": "bank-c", "kind": "bank"}),
        ))
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let refused = runtime.block_on(ledger.append_as(vec![register()], govledger_domain::Capacity::AGENCY));
    assert_eq!(rejected_code(refused.unwrap_err()), (0, ErrorCode::ActorNotAuthorised));
    assert_eq!(ledger.head().seq, city_len());
    runtime.block_on(ledger.append_as(vec![register()], govledger_domain::Capacity::COORDINATOR)).unwrap();
    assert_eq!(ledger.head().seq, city_len() + 1);
}

/// A data directory of 40 events, and a copy of it with `tamper` done to its
/// database behind the ledger's back.
fn tampered_copy(original: &std::path::Path, tamper: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("a temp dir");
    for entry in std::fs::read_dir(original).expect("the data directory") {
        let path = entry.expect("a directory entry").path();
        if let Some(name) = path.file_name().filter(|name| name.to_string_lossy().starts_with("ledger.sqlite")) {
            std::fs::copy(&path, copy.path().join(name)).expect("copy the database");
        }
    }
    let db = rusqlite::Connection::open(copy.path().join(govledger_store_embedded::DB_FILE)).expect("open the copy");
    db.execute_batch(tamper).expect("tamper with the copy");
    copy
}

#[test]
fn verify_in_shards_reports_what_one_by_one_does_at_and_across_shard_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = open(dir.path());
        ledger.append_blocking(city()).unwrap();
        ledger.append_blocking((city_len() + 1..=40).map(|n| freeze_request(&format!("F{n}"))).collect()).unwrap();
        ledger.close();
    }
    // With two shards, the second starts after seq 20 (40 / 2).
    let db = rusqlite::Connection::open(dir.path().join(govledger_store_embedded::DB_FILE)).unwrap();
    let body20: String = db.query_row("SELECT body FROM events WHERE seq = 20", [], |r| r.get(0)).unwrap();
    drop(db);
    // Seq 20 changed and rehashed: only the link from seq 21 (across the
    // boundary) shows it.
    let changed = body20.replace("acct:x1", "acct:x2");
    let rehashed = format!(
        "UPDATE events SET body = '{changed}', hash = '{}' WHERE seq = 20;",
        govledger_ledger::sha256_hex(changed.as_bytes())
    );
    let cases = [
        ("", None),
        (
            "UPDATE events SET body = replace(body, 'acct:x1', 'acct:x2') WHERE seq = 21;",
            Some((21, Problem::HashMismatch)),
        ),
        ("DELETE FROM events WHERE seq = 20;", Some((20, Problem::Gap))),
        ("DELETE FROM events WHERE seq = 21;", Some((21, Problem::Gap))),
        ("DELETE FROM events WHERE seq > 20;", Some((21, Problem::Truncated))),
        (&rehashed, Some((21, Problem::BrokenLink))),
        // Seqs 20 and 21 swapped.
        (
            "UPDATE events SET seq = seq + 100 WHERE seq IN (20, 21); UPDATE events SET seq = 141 - seq WHERE seq > 100;",
            Some((20, Problem::Reordering)),
        ),
        ("DELETE FROM events WHERE seq IN (5, 30);", Some((5, Problem::Gap))),
        ("DELETE FROM events WHERE seq = 39; DELETE FROM anchor;", Some((39, Problem::Gap))),
    ];
    for (tamper, expected) in cases {
        let copy = tampered_copy(dir.path(), tamper);
        let reader = govledger_store_embedded::open_reader(copy.path()).unwrap();
        let one_by_one = verify_sharded(reader.as_ref(), 1, &mut |_| {}).unwrap();
        assert_eq!(one_by_one.problem.as_ref().map(|f| (f.seq, f.problem)), expected, "{tamper}");
        for shards in [2, 3, 7] {
            assert_eq!(verify_sharded(reader.as_ref(), shards, &mut |_| {}).unwrap(), one_by_one, "{shards}: {tamper}");
        }
        assert_eq!(verify(reader.as_ref()).unwrap(), one_by_one, "{tamper}");
    }
}

#[test]
fn a_large_import_leaves_no_large_wal_behind() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    let requests = (0..12_000).map(|i| freeze_request(&format!("F-WAL-{i}")));
    let items = city().into_iter().chain(requests).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
    let summary = ledger.import_blocking(items, |_| {}).unwrap();
    assert_eq!(summary.appended, 12_000 + city_len());
    // 12,000 rows of ~400 bytes went through the WAL; the checkpoint after the commit truncated it.
    let wal = std::fs::metadata(dir.path().join("ledger.sqlite-wal")).map(|m| m.len()).unwrap_or(0);
    assert!(wal < 1 << 20, "the WAL kept {wal} bytes after the import");
    // Small commits keep working after it, and the log verifies.
    ledger.append_blocking(vec![freeze_execution("F-WAL-7")]).unwrap();
    assert!(govledger_ledger::verify(ledger.reader().as_ref()).unwrap().ok());
}

/// SPEC 2.1: an event submitted without an id gets a server-assigned UUIDv7,
/// on every path: a small batch, a batch prepared in chunks, and an import.
#[test]
fn events_without_an_id_get_a_uuid_v7_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    let mut stored = ledger.append_blocking(city()).unwrap();
    stored.extend(ledger.append_blocking(vec![freeze_request("F-V7-0")]).unwrap());
    stored.extend(ledger.append_blocking((1..100).map(|i| freeze_request(&format!("F-V7-{i}"))).collect()).unwrap());
    let import =
        (100..110).map(|i| freeze_request(&format!("F-V7-{i}"))).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
    assert_eq!(ledger.import_blocking(import, |_| {}).unwrap().appended, 10);
    let read = ledger.read(0, 1_000).unwrap();
    assert_eq!(read.len(), city().len() + 100 + 10);
    assert_eq!(read[..stored.len()], stored.iter().map(|a| a.event.clone()).collect::<Vec<_>>()[..]);
    let ids: std::collections::HashSet<Uuid> = read.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), read.len(), "ids are distinct");
    for e in &read {
        assert_eq!(e.id.get_version_num(), 7, "event {} has id {}", e.seq, e.id);
    }
}
