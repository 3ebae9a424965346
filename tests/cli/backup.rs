//! `govledger backup` / `restore`: a backup is taken while another process
//! holds the data directory and appends (as a running server does), and
//! restores into a new directory that verifies, exports the same events up
//! to the backup's head, and works; restore never overwrites a ledger and
//! refuses a damaged backup; both refuse a KurrentDB store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::support::{Fixture, envelope, govledger, parse_ndjson};

fn publicity(id: &str) -> govledger_domain::Submission {
    let e = envelope(
        None,
        "PublicityDelivered",
        "jj-psb",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": id, "audience": "x", "reach": 1}),
    );
    govledger_domain::Submission::parse(e).unwrap()
}

#[test]
fn a_backup_taken_while_another_process_appends_restores_and_verifies() {
    let fx = Fixture::with_city();
    // This test process plays the server: it holds the directory and appends.
    let holder = govledger_store_embedded::open_ledger(&fx.data()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let appender = {
        let (holder, stop) = (holder.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                holder.append_blocking(vec![publicity(&format!("PUB-B{n}"))]).unwrap();
                n += 1;
            }
            n
        })
    };
    let acked_before = holder.head();
    let backup_dir = fx.root.path().join("backup");
    let run = fx.run(&["backup", "--out", backup_dir.to_str().unwrap()]).success();
    stop.store(true, Ordering::Relaxed);
    let appended = appender.join().unwrap();
    assert!(run.stdout.contains("verified"), "{}", run.stdout);
    assert!(appended > 0);

    let restored = fx.root.path().join("restored");
    let run = govledger(&restored, &["restore", "--from", backup_dir.to_str().unwrap()]).success();
    assert!(run.stdout.contains("and verified"), "{}", run.stdout);
    let verify = govledger(&restored, &["verify", "--json"]).success();
    let report: serde_json::Value = serde_json::from_str(&verify.stdout).unwrap();
    let seq = report["head"]["seq"].as_u64().unwrap();
    assert!(seq >= acked_before.seq, "every event acknowledged before the backup began is there");
    // The restored events are the live ones, byte for byte, up to its head.
    let live = parse_ndjson(&fx.export());
    let back = parse_ndjson(&govledger(&restored, &["export"]).success().stdout);
    assert_eq!(back.len() as u64, seq);
    assert_eq!(back[..], live[..back.len()]);
    // Restoring over a ledger is refused, exit 1, nothing touched.
    holder.close();
    let run = fx.run(&["restore", "--from", backup_dir.to_str().unwrap()]).no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("not empty") && run.stderr.contains("nothing was restored"), "{}", run.stderr);
}

#[test]
fn a_damaged_backup_is_refused_and_kurrentdb_stores_are_not_backed_up_here() {
    let fx = Fixture::with_city();
    let backup_dir = fx.root.path().join("backup");
    fx.run(&["backup", "--out", backup_dir.to_str().unwrap()]).success();
    let db = backup_dir.join("ledger.sqlite");
    let mut bytes = std::fs::read(&db).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&db, bytes).unwrap();
    let target = fx.root.path().join("restored");
    let run = govledger(&target, &["restore", "--from", backup_dir.to_str().unwrap()]).no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("does not match the manifest"), "{}", run.stderr);
    assert!(!target.exists());

    let run = fx.run(&["--store", "kurrentdb://127.0.0.1:1?tls=false", "backup", "--out", "/tmp/never"]).no_panic();
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("embedded store only"), "{}", run.stderr);
}
