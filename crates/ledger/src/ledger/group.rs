//! Group commit: the writer checks every request of a group on its own,
//! seals and writes the accepted ones in one store transaction and answers
//! them all after its one commit; a lost race on a shared store is caught
//! up with and retried.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use govledger_domain::{Capacity, State, Timestamp};
use tokio::sync::watch;
use uuid::Uuid;

use super::check::{Accepted, Checked, Slot, check_group, fill_outcomes};
use super::prepare::{PREPARE_CHUNK, Preparation, seal_next};
use super::room::Room;
use super::{AppendError, AppendReply, Appended, Clock, RetryPolicy, StatCounters};
use crate::backend::{LogReader, LogWriter, StoreError, TransactionLimit};
use crate::event::Head;

/// A number in `[0, 1)` that differs between replicas and attempts.
pub(super) fn jitter() -> f64 {
    // The low 62 bits of a v4 UUID are random; take 53 of them.
    (Uuid::new_v4().as_u128() as u64 & ((1 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

/// What the writer commits with: the validation state at the store's head
/// and the store's log.
pub(super) struct Committer {
    pub(super) state: State,
    pub(super) log: Box<dyn LogWriter>,
    pub(super) reader: Arc<dyn LogReader>,
    /// The head of the store as far as `state` knows it.
    pub(super) head: Head,
    pub(super) head_tx: watch::Sender<Head>,
    pub(super) clock: Clock,
    pub(super) retry: RetryPolicy,
    pub(super) last_recorded: Option<Timestamp>,
    pub(super) stats: Arc<StatCounters>,
    /// The store's largest transaction, if it has one.
    pub(super) limit: Option<TransactionLimit>,
}

/// A group's `recorded_at`, and its RFC 3339 text, written once per group.
pub(super) struct Recorded {
    pub(super) at: Timestamp,
    pub(super) text: String,
}

impl Recorded {
    pub(super) fn new(at: Timestamp) -> Self {
        Recorded { at, text: at.to_rfc3339() }
    }
}

/// The answer to each request of a group, in order.
pub(super) type Outcomes = Vec<Result<Vec<Appended>, AppendError>>;

/// Why an attempt at a group commit is not the answer.
pub(super) enum Again {
    /// Another replica appended first (`Conflict`), or the store may or may
    /// not have kept the group (`Ambiguous`): catch up and check again.
    Lost(StoreError),
    /// The group does not fit in one store transaction: nothing was written.
    TooLarge(Room),
}

impl Committer {
    /// `recorded_at` for the next transaction: the clock, never going back.
    pub(super) fn tick(&mut self) -> Timestamp {
        let now = (self.clock)();
        let t = match self.last_recorded {
            Some(last) if last > now => last,
            _ => now,
        };
        self.last_recorded = Some(t);
        t
    }

    /// Checks and stores a group of requests; on a lost race, catches up and
    /// tries again (bounded by the retry policy). `started`: when the writer
    /// took the group off the queue, for its time per request.
    pub(super) fn commit_group(&mut self, group: Vec<(Arc<Preparation>, Capacity, AppendReply)>, started: Instant) {
        let batches: Vec<(Arc<Preparation>, Capacity)> =
            group.iter().map(|(batch, capacity, _)| (batch.clone(), *capacity)).collect();
        let mut attempt = 1;
        // The head before the first attempt whose outcome was unknown.
        let mut unsure_since = None;
        let mut outcomes = loop {
            let recorded = Recorded::new(self.tick());
            let lost = match self.attempt_group(&batches, &recorded) {
                Ok(outcomes) => break outcomes,
                Err(Again::TooLarge(room)) if group.len() > 1 => {
                    // Never split a request; a group of several is committed
                    // as two smaller groups, in order.
                    tracing::debug!(
                        requests = group.len(),
                        bytes = room.used(),
                        "group too large for one store transaction"
                    );
                    let mut group = group;
                    let second = group.split_off(group.len() / 2);
                    self.commit_group(group, started);
                    self.commit_group(second, Instant::now());
                    return;
                }
                Err(Again::TooLarge(room)) => {
                    break vec![Err(AppendError::Rejected { index: 0, rejection: room.refusal("the batch") })];
                }
                Err(Again::Lost(e)) => e,
            };
            let unknown = matches!(lost, StoreError::Ambiguous(_));
            if unknown {
                unsure_since.get_or_insert(self.head.seq);
                tracing::warn!(error = %lost, "the store did not say whether it kept a group commit; reading it back");
            } else {
                self.stats.lost_races.fetch_add(1, Ordering::Relaxed);
            }
            attempt += 1;
            let Some(pause) = self.retry.backoff(attempt, jitter()) else {
                if unknown {
                    break batches
                        .iter()
                        .map(|_| Err(AppendError::Store(StoreError::Ambiguous(lost.to_string()))))
                        .collect();
                }
                self.stats.retries_exhausted.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(attempts = attempt - 1, error = %lost, "group commit kept losing the race to other replicas");
                let message = format!(
                    "{lost}; {} attempts lost the race to other replicas of the shared store, nothing was stored: retry",
                    attempt - 1
                );
                break batches.iter().map(|_| Err(AppendError::Store(StoreError::Io(message.clone())))).collect();
            };
            tracing::debug!(attempt, error = %lost, pause_ms = pause.as_secs_f64() * 1e3, "lost a race; catching up");
            std::thread::sleep(pause);
            // Another replica appended first, or the store may have kept the
            // group: fold in what is stored, then check every request again
            // against the state that includes it (a request stored by the
            // unknown attempt is then found by its ids, with its stored seq
            // and hash).
            if let Err(e) = self.catch_up() {
                let error = if unknown {
                    StoreError::Ambiguous(format!("{lost}; reading the store back failed too: {e}"))
                } else {
                    StoreError::Io(format!("cannot catch up with the shared store: {e}; nothing was stored: retry"))
                };
                let message = error.to_string();
                break batches
                    .iter()
                    .map(|_| {
                        Err(AppendError::Store(match error {
                            StoreError::Ambiguous(_) => StoreError::Ambiguous(message.clone()),
                            _ => StoreError::Io(message.clone()),
                        }))
                    })
                    .collect();
            }
        };
        if let Some(since) = unsure_since {
            // Stored by an attempt of this very commit: new to the client.
            let ids: HashSet<Uuid> = batches.iter().flat_map(|(batch, _)| batch.ids.iter().copied()).collect();
            for appended in outcomes.iter_mut().flatten().flatten() {
                if appended.replayed && appended.event.seq > since && ids.contains(&appended.event.id) {
                    appended.replayed = false;
                }
            }
        }
        // Counted before the answers, so that a caller that has its answer
        // sees its request counted; the answers' time is added after.
        let answering = started.elapsed();
        self.stats.answered(group.len(), answering);
        for ((_, _, reply), outcome) in group.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
        self.stats.answered(0, started.elapsed().saturating_sub(answering));
    }

    /// One attempt at a group commit. The check: every request is checked
    /// on its own against the state including the group's earlier accepted
    /// requests, in one `Txn` that is kept only when the store has
    /// committed; it runs while the callers still prepare the seals. The
    /// write: the accepted requests' new events are sealed in chain order and
    /// written chunk by chunk, each chunk as soon as its preparation is
    /// ready; then the transaction is committed. `Err` when another replica
    /// appended first.
    pub(super) fn attempt_group(
        &mut self,
        batches: &[(Arc<Preparation>, Capacity)],
        recorded: &Recorded,
    ) -> Result<Outcomes, Again> {
        let Committer { state, log, reader, head: committed, head_tx, stats, limit, .. } = self;
        let started = Instant::now();
        let mut txn = state.begin();
        let Checked { mut outcomes, mut accepted, anything_new } =
            check_group(&mut txn, batches, recorded.at, &mut |id| log.by_id(id));
        let check_time = started.elapsed();

        if !anything_new {
            // Nothing new to store: every request was refused or replayed. A
            // refusal must rest on the store's current state, and on a shared
            // store another replica may have appended what makes the request
            // valid (or moot), so check that the store has not moved.
            let refused = outcomes.iter().any(|o| matches!(o, Err(AppendError::Rejected { .. })));
            if refused {
                match reader.anchor() {
                    Ok(anchor) => {
                        let found = anchor.map_or(0, |a| a.seq);
                        if found != committed.seq {
                            return Err(Again::Lost(StoreError::Conflict { expected: committed.seq, found }));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read the store's head to confirm a refusal"),
                }
            }
            fill_outcomes(&mut outcomes, accepted);
            return Ok(outcomes);
        }
        let writing = Instant::now();
        let mut room = Room::new(limit);
        let mut head = committed.clone();
        head.recorded_at.clone_from(&recorded.text);
        let written = log.begin(committed.seq).and_then(|()| {
            accepted.iter_mut().try_for_each(|a| {
                Self::seal_and_write(log.as_mut(), &batches[a.batch].0, a, &mut head, recorded, &mut room)
            })
        });
        let write_time = writing.elapsed();
        let committing = Instant::now();
        match written.and_then(|()| log.commit(&head)) {
            Ok(()) => {
                stats.committed(check_time, write_time, committing.elapsed());
                txn.commit();
                *committed = head;
                head_tx.send_replace(committed.clone());
                fill_outcomes(&mut outcomes, accepted);
                Ok(outcomes)
            }
            Err(e) => {
                log.rollback();
                // Dropping the `Txn` puts the state back as it was.
                drop(txn);
                if room.exceeded() {
                    return Err(Again::TooLarge(room));
                }
                if let StoreError::Conflict { .. } | StoreError::Ambiguous(_) = e {
                    return Err(Again::Lost(e));
                }
                tracing::error!(error = %e, "group commit failed; nothing of it was stored");
                let message = e.to_string();
                for o in outcomes.iter_mut().filter(|o| o.is_ok()) {
                    *o = Err(AppendError::Store(StoreError::Io(message.clone())));
                }
                Ok(outcomes)
            }
        }
    }

    /// Seals an accepted request's new events (of `batch`) after `head`,
    /// moving it along, and writes them chunk by chunk as their preparations
    /// become ready. Fails, writing no more, when they do not fit in the
    /// `room` left in the store's transaction.
    pub(super) fn seal_and_write(
        log: &mut dyn LogWriter,
        batch: &Preparation,
        request: &mut Accepted,
        head: &mut Head,
        recorded: &Recorded,
        room: &mut Room,
    ) -> Result<(), StoreError> {
        let Accepted { slots, sealed, .. } = request;
        sealed.clear();
        for (c, chunk_slots) in slots.chunks(PREPARE_CHUNK).enumerate() {
            let start = sealed.len();
            batch.with_chunk(c, |subs, presealed| {
                for ((slot, sub), presealed) in chunk_slots.iter().zip(subs).zip(presealed) {
                    if let Slot::New { seq, id } = *slot {
                        debug_assert_eq!(id, presealed.id());
                        sealed.push(seal_next(presealed, sub, seq, recorded, head));
                    }
                }
            });
            if sealed.len() > start {
                room.take(&sealed[start..])?;
                log.write(&sealed[start..])?;
            }
        }
        log.end_request();
        Ok(())
    }
}
