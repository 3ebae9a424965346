//! Chain verification (SPEC 2.2): recompute every hash from the stored
//! canonical bytes, check every link, and report the first `seq` that is
//! wrong and how. `Verifier` defines the checks; `verify` runs them over a
//! store in shards on several threads, with the one-by-one result.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::backend::{LogReader, RawRow, StoreError};
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

impl Problem {
    /// The stable name (the serde name, as `verify --json` and both APIs give it).
    pub fn code(self) -> &'static str {
        match self {
            Problem::HashMismatch => "hash_mismatch",
            Problem::BrokenLink => "broken_link",
            Problem::Gap => "gap",
            Problem::Reordering => "reordering",
            Problem::Unreadable => "unreadable",
            Problem::Truncated => "truncated",
        }
    }
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

    /// A verifier that continues a chain after `head`, for checking a log
    /// in parts: `head` is taken on trust, so the caller must check that the
    /// part before ends at exactly this head.
    pub fn after(head: Head) -> Self {
        Self { prev: head.clone(), head }
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

/// Progress is reported every this many verified events.
const PROGRESS_EVERY: u64 = 65_536;
/// Below this many events per shard a log is not split: a thread and a read
/// snapshot per shard cost little, but not nothing. Small on purpose, so that
/// small ledgers (and the CLI's tamper tests) take the same path as big ones.
const MIN_EVENTS_PER_SHARD: u64 = 8;
/// More shards than this buys nothing on the machines this runs on.
const MAX_SHARDS: usize = 16;

/// Verifies a whole stored log.
pub fn verify(reader: &dyn LogReader) -> Result<VerifyReport, StoreError> {
    verify_with_progress(reader, &mut |_| {})
}

/// Verifies a whole stored log, calling `progress` with the count so far
/// every 65,536 events. Uses one shard per core (see [`verify_sharded`]).
pub fn verify_with_progress(reader: &dyn LogReader, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
    let anchor = reader.anchor()?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let by_size = anchor.as_ref().map_or(1, |a| usize::try_from(a.seq / MIN_EVENTS_PER_SHARD).unwrap_or(usize::MAX));
    verify_in_shards(reader, anchor, cores.min(by_size), progress)
}

/// Verifies a whole stored log in `shards` parts at once, one thread and one
/// read snapshot each; the result is the one checking the events one by one
/// gives (`shards` = 1 does exactly that).
///
/// Why it may be split: an event's check needs only its own stored bytes and
/// the *stored* hash of the event before it (the link), and the log is
/// append-only, so the rows up to the anchor's seq are the same in every
/// snapshot. Shard `i` covers the seqs after `n·i/shards` up to
/// `n·(i+1)/shards` (the last one to the end of the log), `n` being the
/// anchor's seq; it starts after the stored row at its first boundary (its
/// hash and `recorded_at`), each shard checks its events with a [`Verifier`]
/// of its own, and the shards are then joined in order: the first shard
/// with a problem decides, unless the shard before it did not end exactly at
/// the head the shard started after (a row missing at a boundary, or one
/// that is no event); from there the log is checked one by one to its end.
/// A shard stops once a shard before it has failed (looked at every 65,536
/// events).
pub fn verify_sharded(
    reader: &dyn LogReader,
    shards: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, StoreError> {
    let anchor = reader.anchor()?;
    verify_in_shards(reader, anchor, shards, progress)
}

/// What [`check_stretch`] found (one shard of `verify_sharded`, or of the
/// Merkle tree's catch-up).
pub struct Stretch {
    /// The head the stretch's verifier started after; `None` when the row at
    /// the stretch's start was missing or is no event.
    pub seed: Option<Head>,
    /// The verifier after the last event it accepted.
    pub verifier: Verifier,
    /// The stretch's first problem, or the read failure that stopped it.
    pub outcome: Result<Option<Finding>, StoreError>,
}

/// The anchor is read before the rows: every row up to it is in any later
/// snapshot, so a writer appending meanwhile cannot make the log look
/// truncated.
fn verify_in_shards(
    reader: &dyn LogReader,
    anchor: Option<Head>,
    shards: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, StoreError> {
    let events = anchor.as_ref().map_or(0, |a| a.seq);
    let shards = u64::try_from(shards.clamp(1, MAX_SHARDS)).unwrap_or(1).min(events.max(1));
    // Strictly increasing (shards <= events), so every shard after the first
    // starts at a seq >= 1.
    let bound = |i: u64| u64::try_from(u128::from(events) * u128::from(i) / u128::from(shards)).unwrap_or(events);
    let mut bounds: Vec<u64> = (0..shards).map(bound).collect();
    bounds.push(u64::MAX);
    let results = if shards == 1 {
        let mut verified = 0;
        vec![check(reader, Some(Verifier::new()), 0, u64::MAX, &|| false, &mut || {
            verified += PROGRESS_EVERY;
            progress(verified);
        })]
    } else {
        run_shards(reader, &bounds, progress)
    };

    let mut done: Option<Verifier> = None;
    for shard in results {
        // A shard that starts after the head the shards before it end at
        // continues them.
        if let Some(before) = done.take()
            && shard.seed.as_ref() != Some(before.head())
        {
            // The shards do not meet: go on one by one from the last head
            // known to be good, as checking the whole log in one go would.
            let mut verified = before.head.seq;
            let start = before.head.seq;
            let rest = check(reader, Some(before), start, u64::MAX, &|| false, &mut || {
                verified += PROGRESS_EVERY;
                progress(verified);
            });
            return Ok(report(rest.verifier, rest.outcome?, anchor.as_ref()));
        }
        match shard.outcome? {
            Some(problem) => return Ok(report(shard.verifier, Some(problem), anchor.as_ref())),
            None => done = Some(shard.verifier),
        }
    }
    Ok(report(done.unwrap_or_default(), None, anchor.as_ref()))
}

/// Runs the shards between `bounds` on a thread each and passes their
/// progress on.
fn run_shards(reader: &dyn LogReader, bounds: &[u64], progress: &mut dyn FnMut(u64)) -> Vec<Stretch> {
    let (tick, ticks) = mpsc::channel::<()>();
    // The lowest shard that failed or cannot join: the shards after it stop.
    let lowest_failed = AtomicUsize::new(usize::MAX);
    std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .enumerate()
            .map(|(index, range)| {
                let tick = tick.clone();
                let lowest_failed = &lowest_failed;
                scope.spawn(move || {
                    let give_up = || lowest_failed.load(Ordering::Relaxed) < index;
                    let verifier = (index == 0).then(Verifier::new);
                    let shard = check(reader, verifier, range[0], range[1], &give_up, &mut || {
                        let _ = tick.send(());
                    });
                    if shard.seed.is_none() || !matches!(shard.outcome, Ok(None)) {
                        lowest_failed.fetch_min(index, Ordering::Relaxed);
                    }
                    shard
                })
            })
            .collect();
        drop(tick);
        let mut verified = 0;
        for () in ticks {
            verified += PROGRESS_EVERY;
            progress(verified);
        }
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// Checks the events with `start < seq <= end` with `verifier`, whose head
/// is at `start`; without one, the stored row at `start` gives the head to
/// start after (its hash and `recorded_at`). Calls `on_event` with each event
/// that verifies and stops when it returns false; reads no row past `end`
/// (a caller bounded by a head must not meet a later row). The check of one
/// shard, for `verify_sharded` and for the Merkle tree's catch-up alike.
pub fn check_stretch(
    reader: &dyn LogReader,
    verifier: Option<Verifier>,
    start: u64,
    end: u64,
    on_event: &mut dyn FnMut(RawRow<'_>) -> bool,
) -> Stretch {
    let after = if verifier.is_some() { start } else { start.saturating_sub(1) };
    let mut seed = verifier.as_ref().map(|v| v.head.clone());
    let mut verifier = verifier.unwrap_or_default();
    let mut problem = None;
    let scanned = reader.scan_raw(after, &mut |row| {
        if seed.is_none() {
            // The row at `start`: its stored hash is the link that the
            // stretch's first event must name.
            let Some(tail) = Tail::parse(row.body).filter(|_| row.seq == start) else { return false };
            let head = Head { seq: start, hash: row.hash.to_owned(), recorded_at: tail.recorded_at.to_owned() };
            verifier = Verifier::after(head.clone());
            seed = Some(head);
            return true;
        }
        if row.seq > end {
            return false;
        }
        if let Err(f) = verifier.push(Some(row.seq), row.body, row.hash) {
            problem = Some(f);
            return false;
        }
        on_event(row) && row.seq < end
    });
    Stretch { seed, verifier, outcome: scanned.map(|()| problem) }
}

/// [`check_stretch`] for `verify`: calls `tick` every 65,536 verified events
/// and stops early when `give_up` then says so.
fn check(
    reader: &dyn LogReader,
    verifier: Option<Verifier>,
    start: u64,
    end: u64,
    give_up: &dyn Fn() -> bool,
    tick: &mut dyn FnMut(),
) -> Stretch {
    let mut verified = 0u64;
    check_stretch(reader, verifier, start, end, &mut |_| {
        verified += 1;
        if verified.is_multiple_of(PROGRESS_EVERY) {
            tick();
            return !give_up();
        }
        true
    })
}

/// The report for a log checked up to `verifier`'s head; with no `problem`
/// there, its end is checked against the anchor.
fn report(verifier: Verifier, problem: Option<Finding>, anchor: Option<&Head>) -> VerifyReport {
    let problem = match problem {
        Some(f) => Some(f),
        None => match verifier.finish(anchor) {
            // The anchor disowns the last event: it is not verified.
            Err(f) if f.seq == verifier.head.seq => {
                return VerifyReport { events: f.seq - 1, head: verifier.prev, problem: Some(f) };
            }
            result => result.err(),
        },
    };
    VerifyReport { events: verifier.head.seq, head: verifier.head, problem }
}

#[cfg(test)]
mod tests {
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
            Rows {
                rows: self.rows.clone(),
                anchor: self.anchor.clone(),
                unreadable_at: None,
                scans: Default::default(),
            }
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
}
