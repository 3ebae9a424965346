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
mod tests;
