//! Chain verification (SPEC 2.2): recompute every hash from the stored
//! canonical bytes, check every link, and report the first `seq` that is
//! wrong and how.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::backend::{LogReader, StoreError};
use crate::event::{Head, Tail};

/// What is wrong at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The stored bytes do not hash to the stored hash: the event was altered.
    HashMismatch,
    /// `prev_hash` is not the hash of the event before: the chain is cut.
    BrokenLink,
    /// Events are missing before this position.
    Gap,
    /// The event stored here belongs to another position.
    Reordering,
    /// The stored bytes are not a canonical event.
    Unreadable,
    /// The log ends before the head recorded by its last commit.
    Truncated,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::HashMismatch => "hash mismatch",
            Problem::BrokenLink => "broken link",
            Problem::Gap => "gap",
            Problem::Reordering => "reordering",
            Problem::Unreadable => "unreadable event",
            Problem::Truncated => "truncated tail",
        })
    }
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The first `seq` at which the chain is wrong.
    pub seq: u64,
    pub problem: Problem,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {}: {}: {}", self.seq, self.problem, self.detail)
    }
}

/// The outcome of verifying a whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Events checked before the first problem (all of them when `ok`).
    pub events: u64,
    /// The last good head.
    pub head: Head,
    /// The first problem, if any.
    pub problem: Option<Finding>,
}

impl VerifyReport {
    /// Whether the whole chain verified.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks events one by one, in order.
#[derive(Debug)]
pub struct Verifier {
    head: Head,
    /// The head before `head`, so a finding at the last event can report it.
    prev: Head,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier for a chain starting at `seq` 1.
    pub fn new() -> Self {
        Self { head: Head::genesis(), prev: Head::genesis() }
    }

    /// The last verified head.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Checks the next event. `position` is where the store keeps it, if it
    /// keeps positions (an export file does not).
    pub fn push(&mut self, position: Option<u64>, body: &[u8], hash: &str) -> Result<(), Finding> {
        let expected = self.head.seq + 1;
        let finding = |seq, problem, detail: String| Finding { seq, problem, detail };
        if let Some(pos) = position {
            if pos > expected {
                return Err(finding(expected, Problem::Gap, format!("the next stored event is at seq {pos}")));
            }
            if pos < expected {
                return Err(finding(
                    pos,
                    Problem::Reordering,
                    format!("seq {pos} is stored again after seq {}", expected - 1),
                ));
            }
        }
        let digest = Sha256::digest(body);
        if !hash_matches(hash, &digest.into()) {
            return Err(finding(
                expected,
                Problem::HashMismatch,
                format!("stored hash {hash} but the stored event hashes to {}", hex::encode(digest)),
            ));
        }
        let Some(tail) = Tail::parse(body) else {
            return Err(finding(expected, Problem::Unreadable, "the stored bytes are not a canonical event".into()));
        };
        if tail.seq != expected {
            let problem = if position.is_none() && tail.seq > expected { Problem::Gap } else { Problem::Reordering };
            return Err(finding(expected, problem, format!("found the event with seq {} here", tail.seq)));
        }
        if tail.prev_hash != self.head.hash {
            return Err(finding(
                expected,
                Problem::BrokenLink,
                format!("prev_hash {} is not the hash of seq {} ({})", tail.prev_hash, self.head.seq, self.head.hash),
            ));
        }
        // Reuse the two heads' buffers: no allocation per event.
        std::mem::swap(&mut self.prev, &mut self.head);
        self.head.seq = expected;
        self.head.hash.clear();
        self.head.hash.push_str(hash);
        self.head.recorded_at.clear();
        self.head.recorded_at.push_str(tail.recorded_at);
        Ok(())
    }

    /// Checks the end of the chain against the store's anchor, if it has one.
    pub fn finish(&self, anchor: Option<&Head>) -> Result<(), Finding> {
        let Some(anchor) = anchor else { return Ok(()) };
        if anchor.seq > self.head.seq {
            return Err(Finding {
                seq: self.head.seq + 1,
                problem: Problem::Truncated,
                detail: format!(
                    "the log ends at seq {} but its last commit recorded head seq {}",
                    self.head.seq, anchor.seq
                ),
            });
        }
        if anchor.seq == self.head.seq && anchor.hash != self.head.hash && anchor.seq > 0 {
            return Err(Finding {
                seq: anchor.seq,
                problem: Problem::HashMismatch,
                detail: format!(
                    "the last commit recorded head hash {} but the log ends with {}",
                    anchor.hash, self.head.hash
                ),
            });
        }
        Ok(())
    }
}

/// Whether the stored `hash` is the hex form of `digest`. Stored hashes are
/// lowercase, so encoding the digest and comparing bytes nearly always
/// decides; only a hash that differs from that is decoded (hex of either
/// case), as before. Decoding every hash cost a third of the SHA-256.
fn hash_matches(hash: &str, digest: &[u8; 32]) -> bool {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut lower = [0u8; 64];
    for (pair, byte) in lower.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    if lower.as_slice() == hash.as_bytes() {
        return true;
    }
    let mut stored = [0u8; 32];
    hex::decode_to_slice(hash, &mut stored).is_ok() && stored == *digest
}

/// Verifies a whole stored log.
pub fn verify(reader: &dyn LogReader) -> Result<VerifyReport, StoreError> {
    verify_with_progress(reader, &mut |_| {})
}

/// Verifies a whole stored log, calling `progress` with the count so far
/// every 65,536 events.
pub fn verify_with_progress(reader: &dyn LogReader, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
    let mut verifier = Verifier::new();
    let mut problem = None;
    reader.scan_raw(0, &mut |row| match verifier.push(Some(row.seq), row.body, row.hash) {
        Ok(()) => {
            if verifier.head.seq.is_multiple_of(65_536) {
                progress(verifier.head.seq);
            }
            true
        }
        Err(f) => {
            problem = Some(f);
            false
        }
    })?;
    if problem.is_none() {
        let anchor = reader.anchor()?;
        problem = verifier.finish(anchor.as_ref()).err();
        if let Some(f) = &problem
            && f.seq == verifier.head.seq
        {
            // The anchor disowns the last event: it is not verified.
            return Ok(VerifyReport { events: f.seq - 1, head: verifier.prev, problem });
        }
    }
    Ok(VerifyReport { events: verifier.head.seq, head: verifier.head, problem })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{GENESIS_HASH, StoredEvent};
    use govledger_domain::{Submission, Timestamp};

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
        let rows: Vec<_> =
            c.iter().enumerate().map(|(i, (b, h))| (Some(i as u64 + 1), b.as_slice(), h.as_str())).collect();
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
}
