//! Online backup and verified restore of a data directory: a backup taken
//! while appends run restores to a ledger that verifies and holds every
//! event acknowledged before the backup began; restore never overwrites a
//! ledger and refuses a damaged backup.

// Helpers outside `#[test]` functions unwrap too: in a test, a panic with
// the failing value is the report we want.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use govledger_domain::Submission;
use govledger_ledger::{LogReader, verify};
use govledger_store_conformance::fixtures::city;
use govledger_store_embedded::backup::{self, MANIFEST_FILE};
use serde_json::{Value, json};
use uuid::Uuid;

fn sub(v: Value) -> Submission {
    Submission::parse(v).unwrap()
}

fn publicity(id: &str) -> Submission {
    sub(json!({"id": Uuid::now_v7().to_string(), "type": "PublicityDelivered", "actor": "psb",
               "occurred_at": "2026-02-01T00:00:00Z", "data": {"activity_id": id, "audience": "residents", "reach": 10}}))
}

#[test]
fn a_backup_taken_while_appends_run_restores_every_event_acknowledged_before_it_began() {
    let root = tempfile::tempdir().unwrap();
    let live_dir = root.path().join("live");
    let ledger = govledger_store_embedded::open_ledger(&live_dir).unwrap();
    // Enough events that the snapshot takes a while.
    let seed = city().into_iter().chain((0..20_000).map(|i| publicity(&format!("seed-{i}"))));
    ledger.import_blocking(seed.enumerate().map(|(i, s)| Ok((i as u64 + 1, s))), |_| {}).unwrap();

    // Appenders run throughout; each acknowledged event is reported.
    let stop = Arc::new(AtomicBool::new(false));
    let (acks_tx, acks_rx) = mpsc::channel::<(Uuid, u64)>();
    let appenders: Vec<_> = (0..3)
        .map(|t| {
            let (ledger, stop, acks) = (ledger.clone(), stop.clone(), acks_tx.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let out = ledger.append_blocking(vec![publicity(&format!("live-{t}-{i}"))]).unwrap();
                    let _ = acks.send((out[0].event.id, out[0].event.seq));
                    i += 1;
                }
            })
        })
        .collect();
    drop(acks_tx);
    let mut acked_before: Vec<(Uuid, u64)> = (0..30).map(|_| acks_rx.recv().unwrap()).collect();
    acked_before.extend(acks_rx.try_iter());

    // While the snapshot is being copied, one more append is acknowledged.
    let during: Arc<Mutex<Option<u64>>> = Arc::default();
    let progress = {
        let (ledger, during) = (ledger.clone(), during.clone());
        Box::new(move || {
            let mut slot = during.lock().unwrap();
            if slot.is_none() {
                let out = ledger.append_blocking(vec![publicity("during-the-backup")]).unwrap();
                *slot = Some(out[0].event.seq);
            }
        })
    };
    let backup_dir = root.path().join("backup");
    let manifest = backup::backup(&live_dir, &backup_dir, &[], Some(progress)).unwrap();
    let during_seq = during.lock().unwrap().expect("the copy took long enough for an append to land during it");
    let head_after_backup = ledger.head().seq;
    stop.store(true, Ordering::Relaxed);
    for a in appenders {
        a.join().unwrap();
    }
    let acked_during_or_after: Vec<_> = acks_rx.try_iter().collect();
    assert!(!acked_during_or_after.is_empty(), "appends went on around the backup");

    let restored_dir = root.path().join("restored");
    let restored_manifest = backup::restore(&backup_dir, &restored_dir).unwrap();
    assert_eq!(restored_manifest, manifest);
    let restored = govledger_store_embedded::open_reader(&restored_dir).unwrap();
    let report = verify(restored.as_ref()).unwrap();
    assert!(report.ok(), "{report:?}");
    let restored_head = manifest.head.clone().expect("a non-empty backup");
    assert_eq!(report.head, restored_head);
    for (id, seq) in &acked_before {
        let e = restored.by_id(id).unwrap().unwrap_or_else(|| panic!("acknowledged event {id} (seq {seq}) is missing"));
        assert_eq!(e.seq, *seq);
    }
    // The snapshot is the live chain as of one moment: a prefix of it.
    let live_at = ledger.read(restored_head.seq - 1, 1).unwrap();
    assert_eq!(live_at[0].hash, restored_head.hash);
    assert!(restored_head.seq < during_seq, "the event appended during the copy is not in the snapshot");
    assert!(head_after_backup > restored_head.seq);
    // The restored directory is a working data directory.
    let reopened = govledger_store_embedded::open_ledger(&restored_dir).unwrap();
    assert_eq!(reopened.head(), restored_head);
    reopened.append_blocking(vec![publicity("after-restore")]).unwrap();
}

#[test]
fn restore_never_overwrites_a_ledger_and_refuses_a_damaged_backup() {
    let root = tempfile::tempdir().unwrap();
    let live_dir = root.path().join("live");
    let ledger = govledger_store_embedded::open_ledger(&live_dir).unwrap();
    ledger.append_blocking(city()).unwrap();
    // Another database of the directory (as the token store is) comes along.
    rusqlite::Connection::open(live_dir.join("tokens.sqlite"))
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42);")
        .unwrap();
    let backup_dir = root.path().join("backup");
    let manifest = backup::backup(&live_dir, &backup_dir, &["tokens.sqlite", "absent.sqlite"], None).unwrap();
    assert_eq!(manifest.events, city().len() as u64);
    assert_eq!(
        manifest.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        vec!["ledger.sqlite", "tokens.sqlite"]
    );
    // Into a backup directory that is not empty: refused.
    assert!(backup::backup(&live_dir, &backup_dir, &[], None).is_err());

    // Over the live ledger: refused, and the live ledger is untouched.
    let err = backup::restore(&backup_dir, &live_dir).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(govledger_store_embedded::open_reader(&live_dir).unwrap().anchor().unwrap(), Some(ledger.head()));

    // Into an empty directory: the tokens come back too.
    let fresh = root.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    backup::restore(&backup_dir, &fresh).unwrap();
    let x: i64 = rusqlite::Connection::open(fresh.join("tokens.sqlite"))
        .unwrap()
        .query_row("SELECT x FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(x, 42);

    // A damaged backup: one byte of the ledger file changed.
    let db = backup_dir.join("ledger.sqlite");
    let mut bytes = std::fs::read(&db).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&db, bytes).unwrap();
    let err = backup::restore(&backup_dir, &root.path().join("from-damaged")).unwrap_err().to_string();
    assert!(err.contains("does not match the manifest"), "{err}");
    assert!(!root.path().join("from-damaged").exists());
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("restoring"))
        .collect();
    assert!(leftovers.is_empty(), "no staging directory is left behind");
    // Not a backup at all.
    std::fs::remove_file(backup_dir.join(MANIFEST_FILE)).unwrap();
    assert!(
        backup::restore(&backup_dir, &root.path().join("x"))
            .unwrap_err()
            .to_string()
            .contains("not a govledger backup")
    );
}
