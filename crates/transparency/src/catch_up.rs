//! A long `Tree::extend` on every core: the stretch is cut into windows,
//! each window into one shard per core, and each shard reads its own rows
//! (its own `scan_raw`, its own read snapshot), checks them with a
//! `Verifier` of its own and computes their leaf hashes on its own thread.
//! The extending thread joins the shards in order and adds their leaves
//! (the subtree hashes and the writes) while the next window's shards run.
//!
//! Why it may be split, as `govledger_ledger::verify_sharded` is: an event's
//! check needs only its own stored bytes and the *stored* hash of the event
//! before it, and the log is append-only, so the rows up to the anchor (read
//! first) are the same in every later snapshot. A shard starts after the
//! stored row at its boundary (its hash and `recorded_at`); the first shard
//! of a window continues the window before. Joined in order, the first shard
//! with a problem decides; where a shard does not start at the head the one
//! before it ended at (a row missing at a boundary, or one that is no event),
//! the sharded part stops there and the one-thread walk of `extend` goes on
//! from the last head known to be good, as a walk of the whole stretch in one
//! go would. So the outcome — the leaves kept, the seq and reason of
//! `TreeError::Broken` — is the one-thread walk's, to the byte (the unit
//! tests compare the two on every tamper position).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{Scope, ScopedJoinHandle};

use govledger_ledger::{Finding, Head, LogReader, StoreError, Verifier, check_stretch};
use tlog_tiles::{Hash, record_hash};

use crate::TreeError;
use crate::tree::Follower;

#[cfg(test)]
mod tests;

/// Stretches shorter than this are walked on the extending thread alone:
/// the server extends every 2 s by a few hundred events, and threads and
/// read snapshots cost little, but not nothing.
const MIN_STRETCH: u64 = 64 * 1024;
/// Leaves computed ahead of the writes at most, per window (32 bytes each;
/// two windows are in memory at once: 16 MiB).
const WINDOW: u64 = 256 * 1024;
/// More shards than this buys nothing on the machines this runs on.
const MAX_SHARDS: usize = 16;
/// A shard looks whether to give up every this many rows.
const LOOK_EVERY: u64 = 16 * 1024;

/// How `extend` splits a stretch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sharding {
    /// Shards per window; 1 walks every stretch on the extending thread.
    pub(crate) shards: usize,
    /// Shorter stretches are walked on the extending thread.
    pub(crate) min_stretch: u64,
    /// Leaves per window.
    pub(crate) window: u64,
}

impl Sharding {
    /// One shard per core.
    pub(crate) fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self { shards: cores.min(MAX_SHARDS), min_stretch: MIN_STRETCH, window: WINDOW }
    }

    /// Where a sharded catch-up from `start` leaves should end (inclusive
    /// seq), if the stretch up to `to` is long enough; reads the anchor.
    pub(crate) fn end(&self, reader: &dyn LogReader, start: u64, to: u64) -> Result<Option<u64>, StoreError> {
        if self.shards < 2 || to.saturating_sub(start) < self.min_stretch {
            return Ok(None);
        }
        let stored = reader.anchor()?.map_or(0, |anchor| anchor.seq);
        let end = to.min(stored);
        Ok((end.saturating_sub(start) >= self.min_stretch.max(1)).then_some(end))
    }
}

/// What one shard found.
struct Shard {
    /// The head the shard's verifier started after; `None` when the row at
    /// the shard's start was missing or is no event.
    seed: Option<Head>,
    /// The last head verified.
    head: Head,
    /// The leaf hashes of the rows verified, in order.
    leaves: Vec<Hash>,
    /// The shard's first problem, or the read failure that stopped it.
    outcome: Result<Option<Finding>, StoreError>,
}

/// Runs the sharded part of `follower`'s walk, up to seq `end`: on return
/// the follower has the leaves of every event verified in it, and either a
/// `stop`, or a verifier at its last leaf from which the one-thread walk
/// goes on (`None` if the row at the tree's size could not be read as the
/// seam; the one-thread walk then reads it again and reports it).
pub(crate) fn run(follower: &mut Follower<'_>, reader: &dyn LogReader, end: u64, sharding: Sharding) {
    if follower.verifier.is_none() {
        let size = follower.leaves;
        let mut seam = None;
        let scanned = reader.scan_raw(size.saturating_sub(1), &mut |row| {
            seam = Some(follower.tree.check_seam(size, row));
            false
        });
        match (scanned, seam) {
            (Ok(()), Some(Ok(head))) => follower.verifier = Some(Verifier::after(head)),
            (Ok(()), Some(Err(stop))) => follower.stop = Some(stop),
            // Nothing there, or no read: the one-thread walk tries again.
            _ => return,
        }
    }
    let Some(verifier) = follower.verifier.take() else { return };
    let mut head = verifier.head().clone();
    // The lowest shard index (counting over all windows) that failed: the
    // shards after it give up.
    let lowest_failed = AtomicUsize::new(usize::MAX);
    std::thread::scope(|scope| {
        let mut running = Some(spawn_window(scope, reader, &head, end, sharding, &lowest_failed, 0));
        let mut first_index = 0;
        while let Some(handles) = running.take() {
            let shards: Vec<Shard> = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect();
            let count = shards.len();
            let window_end = window_bounds(&head, end, sharding).last_end();
            // Whether the window verified whole and ends where it should: the
            // next one may then run while this one's leaves are added.
            let whole = shards.iter().enumerate().all(|(i, s)| {
                matches!(s.outcome, Ok(None)) && (i == 0 || s.seed.as_ref() == Some(&shards[i - 1].head))
            }) && shards.last().is_some_and(|s| s.head.seq == window_end);
            if whole && window_end < end {
                let last = shards.last().map_or_else(|| head.clone(), |s| s.head.clone());
                first_index += count;
                running = Some(spawn_window(scope, reader, &last, end, sharding, &lowest_failed, first_index));
            }
            if !join(follower, &mut head, shards) {
                // Stop the window running, if any; its leaves are not used.
                lowest_failed.store(0, Ordering::Relaxed);
                if let Some(handles) = running.take() {
                    for h in handles {
                        let _ = h.join();
                    }
                }
            }
        }
    });
    if follower.stop.is_none() {
        follower.verifier = Some(Verifier::after(head));
    }
}

/// The seqs a window after `head` covers, cut into shards.
struct Bounds(Vec<u64>);

impl Bounds {
    fn last_end(&self) -> u64 {
        self.0.last().copied().unwrap_or(0)
    }
}

fn window_bounds(head: &Head, end: u64, sharding: Sharding) -> Bounds {
    let start = head.seq;
    let len = end.saturating_sub(start).min(sharding.window.max(1));
    let shards = u64::try_from(sharding.shards.clamp(1, MAX_SHARDS)).unwrap_or(1).min(len.max(1));
    // Strictly increasing when shards <= len.
    Bounds((0..=shards).map(|i| start + len * i / shards).collect())
}

type Handles<'scope> = Vec<ScopedJoinHandle<'scope, Shard>>;

/// Starts the shards of the window after `head` (up to `end`); shard `i`
/// of it is shard `first_index + i` overall.
fn spawn_window<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    reader: &'env dyn LogReader,
    head: &Head,
    end: u64,
    sharding: Sharding,
    lowest_failed: &'env AtomicUsize,
    first_index: usize,
) -> Handles<'scope> {
    let bounds = window_bounds(head, end, sharding);
    bounds
        .0
        .windows(2)
        .enumerate()
        .map(|(i, range)| {
            let (from, to) = (range[0], range[1]);
            let verifier = (i == 0).then(|| Verifier::after(head.clone()));
            let index = first_index + i;
            scope.spawn(move || {
                let give_up = || lowest_failed.load(Ordering::Relaxed) < index;
                let shard = check(reader, verifier, from, to, &give_up);
                if shard.seed.is_none() || !matches!(shard.outcome, Ok(None)) {
                    lowest_failed.fetch_min(index, Ordering::Relaxed);
                }
                shard
            })
        })
        .collect()
}

/// The leaves of the events with `start < seq <= end`, checked by the
/// ledger's `check_stretch` (the check of a `verify` shard); looks at
/// `give_up` every 16k leaves.
fn check(
    reader: &dyn LogReader,
    verifier: Option<Verifier>,
    start: u64,
    end: u64,
    give_up: &dyn Fn() -> bool,
) -> Shard {
    let mut leaves = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
    let stretch = check_stretch(reader, verifier, start, end, &mut |row| {
        leaves.push(record_hash(row.body));
        !(leaves.len() as u64).is_multiple_of(LOOK_EVERY) || !give_up()
    });
    Shard { seed: stretch.seed, head: stretch.verifier.head().clone(), leaves, outcome: stretch.outcome }
}

/// Adds the leaves of a window's `shards` to `follower` in order, as far as
/// they join; `head` follows the last leaf added. Returns whether the walk
/// may go on with the next window (otherwise the follower has a `stop`, or
/// the shards did not join and the one-thread walk goes on from `head`).
fn join(follower: &mut Follower<'_>, head: &mut Head, shards: Vec<Shard>) -> bool {
    for shard in shards {
        if follower.leaves != head.seq || (shard.seed.as_ref() != Some(head)) {
            return false;
        }
        for leaf in shard.leaves {
            if let Err(e) = follower.add_leaf(leaf) {
                follower.stop = Some(e);
                return false;
            }
        }
        *head = shard.head;
        match shard.outcome {
            Ok(None) => {}
            Ok(Some(finding)) => {
                follower.stop = Some(crate::tree::broken(finding));
                return false;
            }
            Err(e) => {
                follower.stop = Some(TreeError::Store(e));
                return false;
            }
        }
    }
    true
}
