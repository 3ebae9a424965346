//! Tampering done directly to `ledger.sqlite`, as an insider with database
//! access would: `govledger verify` must exit non-zero and name the exact
//! first bad seq and the kind of problem, in text and in `--json`.

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use crate::support::{CITY_EVENTS, Fixture};

/// Opens the data directory's database behind the product's back.
fn database(fx: &Fixture) -> Connection {
    Connection::open(fx.data().join("ledger.sqlite")).unwrap()
}

fn body_and_hash(db: &Connection, seq: u64) -> (String, String) {
    db.query_row("SELECT body, hash FROM events WHERE seq = ?1", [seq], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
}

fn set_row(db: &Connection, seq: u64, body: &str, hash: &str) {
    let n = db.execute("UPDATE events SET body = ?1, hash = ?2 WHERE seq = ?3", params![body, hash, seq]).unwrap();
    assert_eq!(n, 1, "no row at seq {seq}");
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `verify` and `verify --json` both report `problem` first at `seq`, with
/// every event before it counted as verified.
#[track_caller]
fn assert_verify_fails_at(fx: &Fixture, seq: u64, text: &str, json_name: &str) {
    assert_verify_report(fx, seq, text, json_name);
    let report = fx.verify_json();
    assert_eq!(report["events"], seq - 1, "events verified before the problem: {report}");
}

/// `verify` and `verify --json` both report `problem` first at `seq`.
#[track_caller]
fn assert_verify_report(fx: &Fixture, seq: u64, text: &str, json_name: &str) {
    let run = fx.run(&["verify", "--lang", "en"]).no_panic();
    assert_eq!(run.code, Some(1), "verify must exit 1 on a tampered ledger: {run:?}");
    let expected = format!("FAILED at seq {seq}: {text}:");
    assert!(run.stdout.contains(&expected), "expected {expected:?} in:\n{}", run.stdout);
    // In Chinese by default, the same finding.
    let run = fx.run(&["verify"]).no_panic();
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.starts_with(&format!("失败：第 {seq} 号事件：")), "{}", run.stdout);

    let run = fx.run(&["verify", "--json"]).no_panic();
    assert_eq!(run.code, Some(1), "verify --json must exit 1 on a tampered ledger: {run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["problem"]["seq"], seq, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["problem"]["problem"], json_name, "{report}");
}

#[test]
fn untampered_city_verifies_with_exit_0() {
    let fx = Fixture::with_city();
    let run = fx.run(&["verify", "--lang", "en"]).success();
    assert!(run.stdout.starts_with(&format!("ok: {CITY_EVENTS} events, head seq {CITY_EVENTS} hash ")), "{run:?}");
    let run = fx.run(&["verify"]).success();
    assert!(run.stdout.starts_with(&format!("正常：{CITY_EVENTS} 个事件，最新第 {CITY_EVENTS} 号，哈希 ")), "{run:?}");
    let report = fx.verify_json();
    assert!(report["problem"].is_null(), "{report}");
    assert_eq!(report["events"], CITY_EVENTS);
    assert_eq!(report["ok"], true, "`ok` says it in one field: {report}");
}

#[test]
fn changed_payload_byte_is_a_hash_mismatch_at_its_seq() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    let (body, hash) = body_and_hash(&db, 7);
    // One digit of FRZ-1's frozen amount: 3000000 -> 3000001.
    let altered = body.replacen("\"amount_frozen_minor\":3000000", "\"amount_frozen_minor\":3000001", 1);
    assert_eq!(altered.len(), body.len());
    assert_ne!(altered, body);
    set_row(&db, 7, &altered, &hash);
    drop(db);
    assert_verify_fails_at(&fx, 7, "hash mismatch", "hash_mismatch");
}

#[test]
fn deleted_event_is_a_gap_at_its_seq() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    assert_eq!(db.execute("DELETE FROM events WHERE seq = 10", []).unwrap(), 1);
    drop(db);
    assert_verify_fails_at(&fx, 10, "gap", "gap");
}

#[test]
fn swapped_events_are_a_reordering_at_the_first_of_them() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    let (body5, hash5) = body_and_hash(&db, 5);
    let (body9, hash9) = body_and_hash(&db, 9);
    set_row(&db, 5, &body9, &hash9);
    set_row(&db, 9, &body5, &hash5);
    drop(db);
    assert_verify_fails_at(&fx, 5, "reordering", "reordering");
}

#[test]
fn truncated_tail_is_reported_after_the_last_remaining_seq() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    // The last four events go; the anchor still records head seq 24.
    assert_eq!(db.execute("DELETE FROM events WHERE seq > ?1", [CITY_EVENTS - 4]).unwrap(), 4);
    let anchor: u64 = db.query_row("SELECT seq FROM anchor", [], |r| r.get(0)).unwrap();
    assert_eq!(anchor, CITY_EVENTS);
    drop(db);
    assert_verify_fails_at(&fx, CITY_EVENTS - 3, "truncated tail", "truncated");
}

#[test]
fn changed_prev_hash_without_rehash_is_a_hash_mismatch_at_its_seq() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    let (body, hash) = body_and_hash(&db, 12);
    let (_, prev) = body_and_hash(&db, 11);
    let forged = "f".repeat(64);
    let altered = body.replacen(&format!("\"prev_hash\":\"{prev}\""), &format!("\"prev_hash\":\"{forged}\""), 1);
    assert_ne!(altered, body, "seq 12 must link to seq 11");
    set_row(&db, 12, &altered, &hash);
    drop(db);
    assert_verify_fails_at(&fx, 12, "hash mismatch", "hash_mismatch");
}

#[test]
fn changed_prev_hash_with_recomputed_hash_is_a_broken_link_at_its_seq() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    let (body, _) = body_and_hash(&db, 12);
    let (_, prev) = body_and_hash(&db, 11);
    let forged = "f".repeat(64);
    let altered = body.replacen(&format!("\"prev_hash\":\"{prev}\""), &format!("\"prev_hash\":\"{forged}\""), 1);
    assert_ne!(altered, body);
    // The row is self-consistent again, so only the link to seq 11 is wrong.
    // (Seq 13 now also links to a hash that is no longer seq 12's, but the
    // verifier reports the first problem, which is at 12.)
    set_row(&db, 12, &altered, &sha256_hex(altered.as_bytes()));
    drop(db);
    assert_verify_fails_at(&fx, 12, "broken link", "broken_link");
}

#[test]
fn rehashed_payload_change_is_a_broken_link_at_the_next_seq() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    let (body, _) = body_and_hash(&db, 7);
    let altered = body.replacen("\"amount_frozen_minor\":3000000", "\"amount_frozen_minor\":3000001", 1);
    assert_ne!(altered, body);
    set_row(&db, 7, &altered, &sha256_hex(altered.as_bytes()));
    drop(db);
    // Seq 7 is self-consistent now; seq 8 still names the old hash of 7.
    assert_verify_fails_at(&fx, 8, "broken link", "broken_link");
}

#[test]
fn rehashed_change_of_the_last_event_is_caught_by_the_anchor() {
    let fx = Fixture::with_city();
    let db = database(&fx);
    let (body, _) = body_and_hash(&db, CITY_EVENTS);
    let altered = body.replacen("\"kind\":\"fine\"", "\"kind\":\"warning\"", 1);
    assert_ne!(altered, body);
    // No later event links to the head, so only the anchor written by the
    // last commit can tell that the head was rewritten.
    set_row(&db, CITY_EVENTS, &altered, &sha256_hex(altered.as_bytes()));
    drop(db);
    assert_verify_report(&fx, CITY_EVENTS, "hash mismatch", "hash_mismatch");
}
