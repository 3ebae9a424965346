//! The verifier's unit tests: every problem at every position, and the
//! sharded check against the one-by-one check.

use super::*;
use crate::event::{GENESIS_HASH, StoredEvent};
use govledger_domain::{Submission, Timestamp};

#[test]
fn each_problem_code_is_its_serde_name() {
    for p in [
        Problem::HashMismatch,
        Problem::BrokenLink,
        Problem::Gap,
        Problem::Reordering,
        Problem::Unreadable,
        Problem::Truncated,
    ] {
        assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!(p.code()));
    }
}

fn chain(n: u64) -> Vec<(Vec<u8>, String)> {
    let sub = Submission::parse_str(
        r#"{"type":"PublicityDelivered","actor":"a1","occurred_at":"2026-01-01T00:00:00Z",
            "data":{"activity_id":"P","audience":"x","reach":1}}"#,
    )
    .unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    (1..=n)
        .map(|seq| {
            let e = StoredEvent::seal(seq, uuid::Uuid::now_v7(), &sub, Timestamp::now(), &prev);
            prev = e.event.hash.clone();
            (e.body, e.event.hash)
        })
        .collect()
}

fn run(rows: &[(Option<u64>, &[u8], &str)]) -> Option<Finding> {
    let mut v = Verifier::new();
    rows.iter().find_map(|(p, b, h)| v.push(*p, b, h).err())
}

#[test]
fn reports_each_problem_at_its_seq() {
    let c = chain(4);
    let rows: Vec<_> = c.iter().enumerate().map(|(i, (b, h))| (Some(i as u64 + 1), b.as_slice(), h.as_str())).collect();
    assert_eq!(run(&rows), None);
    // gap: seq 2 deleted
    let gap = [rows[0], rows[2]];
    assert_eq!(run(&gap).map(|f| (f.seq, f.problem)), Some((2, Problem::Gap)));
    // swap bodies of 2 and 3, positions kept
    let swapped = [rows[0], (Some(2), rows[2].1, rows[2].2), (Some(3), rows[1].1, rows[1].2)];
    assert_eq!(run(&swapped).map(|f| (f.seq, f.problem)), Some((2, Problem::Reordering)));
    // altered byte
    let mut altered = c[2].0.clone();
    altered[10] ^= 1;
    let bad = [rows[0], rows[1], (Some(3), altered.as_slice(), rows[2].2)];
    assert_eq!(run(&bad).map(|f| (f.seq, f.problem)), Some((3, Problem::HashMismatch)));
    // truncated: anchor says 4, log ends at 3
    let mut v = Verifier::new();
    rows[..3].iter().for_each(|(p, b, h)| v.push(*p, b, h).unwrap());
    let anchor = Head { seq: 4, hash: c[3].1.clone(), recorded_at: String::new() };
    assert_eq!(v.finish(Some(&anchor)).map_err(|f| (f.seq, f.problem)), Err((4, Problem::Truncated)));
}

/// A store of rows in seq order that records where each scan started
/// and cannot read the row at `unreadable_at`.
struct Rows {
    rows: Vec<(u64, Vec<u8>, String)>,
    anchor: Option<Head>,
    unreadable_at: Option<u64>,
    scans: std::sync::Mutex<Vec<u64>>,
}

impl Rows {
    fn new(n: u64) -> Self {
        let rows: Vec<_> = chain(n).into_iter().zip(1..).map(|((body, hash), seq)| (seq, body, hash)).collect();
        let anchor = rows.last().map(|(seq, body, hash)| Head {
            seq: *seq,
            hash: hash.clone(),
            recorded_at: Tail::parse(body).unwrap().recorded_at.to_owned(),
        });
        Rows { rows, anchor, unreadable_at: None, scans: Default::default() }
    }

    /// Another store with the same rows and anchor.
    fn copy(&self) -> Self {
        Rows { rows: self.rows.clone(), anchor: self.anchor.clone(), unreadable_at: None, scans: Default::default() }
    }

    fn row(&mut self, seq: u64) -> &mut (u64, Vec<u8>, String) {
        self.rows.iter_mut().find(|r| r.0 == seq).unwrap()
    }

    fn tamper(&mut self, seq: u64, kind: u8) {
        match kind {
            // one byte changed
            0 => self.row(seq).1[10] ^= 1,
            // one byte changed and the row rehashed
            1 => {
                let row = self.row(seq);
                row.1[10] ^= 1;
                row.2 = crate::sha256_hex(&row.1);
            }
            // deleted
            2 => self.rows.retain(|r| r.0 != seq),
            // swapped with the next one, positions kept
            3 => {
                if let Some(i) = self.rows.iter().position(|r| r.0 == seq)
                    && i + 1 < self.rows.len()
                {
                    let (a, b) = self.rows.split_at_mut(i + 1);
                    std::mem::swap(&mut a[i].1, &mut b[0].1);
                    std::mem::swap(&mut a[i].2, &mut b[0].2);
                }
            }
            // everything after it deleted
            4 => self.rows.retain(|r| r.0 <= seq),
            // no event at all, rehashed
            5 => {
                let row = self.row(seq);
                row.1 = b"not an event".to_vec();
                row.2 = crate::sha256_hex(&row.1);
            }
            // another prev_hash, rehashed
            6 => {
                let row = self.row(seq);
                let text = String::from_utf8(row.1.clone()).unwrap();
                let at = text.find("\"prev_hash\":\"").unwrap() + 13;
                row.1 = format!("{}{}{}", &text[..at], "f".repeat(64), &text[at + 64..]).into_bytes();
                row.2 = crate::sha256_hex(&row.1);
            }
            // cannot be read
            7 => self.unreadable_at = Some(seq),
            _ => unreachable!(),
        }
    }
}

impl LogReader for Rows {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        Ok(self.anchor.clone())
    }

    fn read(&self, _after: u64, _limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(Vec::new())
    }

    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(crate::RawRow<'_>) -> bool) -> Result<(), StoreError> {
        self.scans.lock().unwrap().push(after);
        for (seq, body, hash) in self.rows.iter().filter(|r| r.0 > after) {
            if self.unreadable_at == Some(*seq) {
                return Err(StoreError::Io(format!("cannot read seq {seq}")));
            }
            if !visit(crate::RawRow { seq: *seq, body, hash }) {
                break;
            }
        }
        Ok(())
    }

    fn by_id(&self, _id: &uuid::Uuid) -> Result<Option<StoredEvent>, StoreError> {
        Ok(None)
    }
}

fn sharded(rows: &Rows, shards: usize) -> Result<VerifyReport, String> {
    verify_sharded(rows, shards, &mut |_| {}).map_err(|e| e.to_string())
}

/// `(seq, problem, events verified before it)` with `shards` shards,
/// after checking that it is what the one-by-one check reports.
#[track_caller]
fn first_problem(rows: &Rows, shards: usize) -> Option<(u64, Problem, u64)> {
    let report = sharded(rows, shards).unwrap();
    assert_eq!(Ok(&report), sharded(rows, 1).as_ref(), "{shards} shards");
    report.problem.map(|f| (f.seq, f.problem, report.events))
}

#[test]
fn stored_hashes_match_in_either_case_of_hex_and_nothing_else() {
    let digest: [u8; 32] = Sha256::digest(b"x").into();
    let lower = hex::encode(digest);
    assert!(hash_matches(&lower, &digest));
    assert!(hash_matches(&lower.to_uppercase(), &digest));
    assert!(!hash_matches(&lower[..62], &digest));
    assert!(!hash_matches(&format!("{lower}00"), &digest));
    assert!(!hash_matches(&hex::encode(Sha256::digest(b"y")), &digest));
    assert!(!hash_matches(&lower.replace(|c: char| c.is_ascii_digit(), "g"), &digest));
}

#[test]
fn the_log_is_split_at_even_boundaries_and_each_shard_starts_at_its_link() {
    let rows = Rows::new(40);
    let report = sharded(&rows, 4).unwrap();
    assert!(report.ok());
    assert_eq!((report.events, &report.head.hash), (40, &rows.rows[39].2));
    let mut scans = rows.scans.lock().unwrap().clone();
    scans.sort_unstable();
    // Shard 0 from the start, the others from the row at their boundary.
    assert_eq!(scans, [0, 9, 19, 29]);
}

#[test]
fn a_tamper_at_a_shard_boundary_is_reported_with_its_seq_and_kind() {
    // Two shards over 40 events: seqs 1..=20 and 21..=40, the second
    // starting after the stored hash of seq 20.
    let cases = [
        (21, 0, (21, Problem::HashMismatch, 20)),
        (20, 0, (20, Problem::HashMismatch, 19)),
        (20, 1, (21, Problem::BrokenLink, 20)),
        (21, 6, (21, Problem::BrokenLink, 20)),
        (20, 2, (20, Problem::Gap, 19)),
        (21, 2, (21, Problem::Gap, 20)),
        (20, 3, (20, Problem::Reordering, 19)),
        (20, 4, (21, Problem::Truncated, 20)),
        (20, 5, (20, Problem::Unreadable, 19)),
        (30, 0, (30, Problem::HashMismatch, 29)),
        (40, 1, (40, Problem::HashMismatch, 39)),
    ];
    for (seq, kind, expected) in cases {
        let mut rows = Rows::new(40);
        rows.tamper(seq, kind);
        assert_eq!(first_problem(&rows, 2), Some(expected), "tamper {kind} at {seq}");
    }
}

#[test]
fn a_problem_in_each_shard_reports_the_lower_seq() {
    let mut rows = Rows::new(40);
    rows.tamper(5, 0);
    rows.tamper(30, 2);
    assert_eq!(first_problem(&rows, 2), Some((5, Problem::HashMismatch, 4)));
    // A later shard that cannot read its rows does not hide the problem.
    rows.tamper(35, 7);
    assert_eq!(first_problem(&rows, 2), Some((5, Problem::HashMismatch, 4)));
    // An earlier one that cannot read them fails the whole check.
    let mut rows = Rows::new(40);
    rows.tamper(5, 7);
    rows.tamper(30, 0);
    assert_eq!(sharded(&rows, 2), Err("storage failure: cannot read seq 5".into()));
    assert_eq!(sharded(&rows, 1), Err("storage failure: cannot read seq 5".into()));
}

#[test]
fn sharded_and_one_by_one_agree_on_every_tamper() {
    const N: u64 = 24;
    let untampered = Rows::new(N);
    let mut tampered = 0;
    for first in 1..=N {
        for kind in 0..8 {
            // One tamper, then the same with a second one further on.
            for second in [None, Some((first + 7, (kind + 3) % 8)), Some((N, 1))] {
                let mut rows = untampered.copy();
                rows.tamper(first, kind);
                if let Some((seq, kind)) =
                    second.filter(|(seq, _)| *seq != first && rows.rows.iter().any(|r| r.0 == *seq))
                {
                    rows.tamper(seq, kind);
                }
                let one_by_one = sharded(&rows, 1);
                for shards in [2, 3, 5, N as usize] {
                    assert_eq!(sharded(&rows, shards), one_by_one, "{shards} shards, tamper {kind} at {first}");
                }
                tampered += usize::from(!one_by_one.is_ok_and(|r| r.ok()));
            }
        }
    }
    // Every tamper is caught but the two that change nothing at the end
    // (swapping the last event with a next one, deleting after it).
    assert_eq!(tampered, 24 * 8 * 3 - 2 * 3);
    // The anchor: missing, ahead of the log, or naming another head.
    for anchor in [None, Some(N + 5), Some(N)] {
        let mut rows = untampered.copy();
        rows.tamper(N, 1);
        rows.anchor = anchor.map(|seq| Head { seq, hash: "ab".repeat(32), recorded_at: String::new() });
        let one_by_one = sharded(&rows, 1);
        for shards in [2, 3, N as usize] {
            assert_eq!(sharded(&rows, shards), one_by_one, "{shards} shards, anchor {anchor:?}");
        }
    }
}
