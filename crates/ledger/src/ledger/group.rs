//! Group commit: the writer checks every request of a group on its own,
//! seals and writes the accepted ones in one store transaction and answers
//! them all after its one commit; a lost race on a shared store is caught
//! up with and retried.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use govledger_domain::{Capacity, State, Timestamp};
use tokio::sync::watch;
use uuid::Uuid;

use super::check::{Accepted, Checked, Slot, check_group, fill_outcomes, written_as_checked};
use super::prepare::{PREPARE_CHUNK, Preparation, SHARED_PREPARE_MIN, seal_next};
use super::room::Room;
use super::writer::{CheckJob, Doorbell};
use super::{AppendError, AppendReply, Appended, Clock, RetryPolicy, StatCounters, lock_state};
use crate::backend::{LogReader, LogWriter, StoreError, TransactionLimit};
use crate::event::Head;

/// A number in `[0, 1)` that differs between replicas and attempts.
pub(super) fn jitter() -> f64 {
    // The low 62 bits of a v4 UUID are random; take 53 of them.
    (Uuid::new_v4().as_u128() as u64 & ((1 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

pub(super) struct Committer {
    /// Shared with a check running on the writer thread for a committing
    /// caller (`CheckJob`); only whoever holds the `Core` uses it otherwise.
    pub(super) state: Arc<Mutex<State>>,
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
    /// tries again (bounded by the retry policy). `helper`: the doorbell of
    /// an idle writer thread, when the committing thread is a caller (see
    /// [`Ledger::append_blocking`]).
    pub(super) fn commit_group(
        &mut self,
        group: Vec<(Arc<Preparation>, Capacity, AppendReply)>,
        helper: Option<&Doorbell>,
    ) {
        let batches: Vec<(Arc<Preparation>, Capacity)> =
            group.iter().map(|(batch, capacity, _)| (batch.clone(), *capacity)).collect();
        let mut attempt = 1;
        // The head before the first attempt whose outcome was unknown.
        let mut unsure_since = None;
        let mut outcomes = loop {
            let recorded = Recorded::new(self.tick());
            let lost = match self.attempt_group(&batches, &recorded, helper) {
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
                    self.commit_group(group, helper);
                    self.commit_group(second, helper);
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
        for ((_, _, reply), outcome) in group.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }

    /// One attempt at a group commit. The check: every request is checked
    /// on its own against the state including the group's earlier accepted
    /// requests, in one `Txn` that is kept only when the store has
    /// committed. The write: the accepted requests' new events are sealed in
    /// chain order and written chunk by chunk, each chunk as soon as its
    /// preparation is ready; then the transaction is committed.
    ///
    /// Normally the check comes first, while the callers still prepare the
    /// seals. When an idle writer thread can help (`helper`) and the group
    /// is large enough to share, the writer thread checks while this thread
    /// writes the whole group ahead of the check, as if every request were
    /// accepted with only new events; when the check says otherwise (a
    /// refusal, a retry of a stored event), the write is rolled back and the
    /// accepted requests are written again. `Err` when another replica
    /// appended first.
    pub(super) fn attempt_group(
        &mut self,
        batches: &[(Arc<Preparation>, Capacity)],
        recorded: &Recorded,
        helper: Option<&Doorbell>,
    ) -> Result<Outcomes, Again> {
        let Committer { state, log, reader, head: committed, head_tx, stats, limit, .. } = self;
        let started = Instant::now();
        let events: usize = batches.iter().map(|(batch, _)| batch.len()).sum();
        let beside = helper.filter(|_| events >= SHARED_PREPARE_MIN).map(|doorbell| {
            let job = Arc::new(CheckJob::new(batches, recorded.at, state.clone(), reader.clone()));
            doorbell.ring_with(|bell| bell.checks.push(job.clone()));
            let ahead = Self::write_ahead(log.as_mut(), batches, committed, recorded, &mut Room::new(limit));
            let wrote = started.elapsed();
            let (checked, change, took) = job.wait_or_run();
            (ahead, wrote, checked, change, took)
        });
        let mut state = lock_state(state);
        let (txn, checked, ahead, check_time, mut write_time) = match beside {
            Some((ahead, wrote, checked, change, took)) => (state.resume(change), checked, Some(ahead), took, wrote),
            None => {
                let mut txn = state.begin();
                let checked = check_group(&mut txn, batches, recorded.at, &mut |id| log.by_id(id));
                (txn, checked, None, started.elapsed(), Duration::ZERO)
            }
        };
        let Checked { mut outcomes, accepted, anything_new } = checked;
        // The group as written ahead, when that is what the check accepted.
        let ahead = match ahead {
            Some(Ok((written, head))) if written_as_checked(&written, &accepted) => Some((written, head)),
            Some(_) => {
                log.rollback();
                stats.rewritten.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => None,
        };

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
        let mut room = Room::new(limit);
        let (written, mut accepted, head) = match ahead {
            Some((written, head)) => {
                stats.written_ahead.fetch_add(1, Ordering::Relaxed);
                (Ok(()), written, head)
            }
            None => {
                let writing = Instant::now();
                let mut accepted = accepted;
                let mut head = committed.clone();
                head.recorded_at.clone_from(&recorded.text);
                let written = log.begin(committed.seq).and_then(|()| {
                    accepted.iter_mut().try_for_each(|a| {
                        Self::seal_and_write(log.as_mut(), &batches[a.batch].0, a, &mut head, recorded, &mut room)
                    })
                });
                write_time += writing.elapsed();
                (written, accepted, head)
            }
        };
        let committing = Instant::now();
        match written.and_then(|()| log.commit(&head)) {
            Ok(()) => {
                stats.committed(check_time, write_time, committing.elapsed());
                txn.commit();
                *committed = head;
                head_tx.send_replace(committed.clone());
                fill_outcomes(&mut outcomes, std::mem::take(&mut accepted));
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

    /// Writes every event of the group into a new store transaction, as if
    /// every request were accepted with only new events (see
    /// [`Committer::attempt_group`]); returns them and the head after them.
    pub(super) fn write_ahead(
        log: &mut dyn LogWriter,
        batches: &[(Arc<Preparation>, Capacity)],
        committed: &Head,
        recorded: &Recorded,
        room: &mut Room,
    ) -> Result<(Vec<Accepted>, Head), StoreError> {
        let mut head = committed.clone();
        head.recorded_at.clone_from(&recorded.text);
        log.begin(committed.seq)?;
        let mut seq = committed.seq;
        let mut written = Vec::with_capacity(batches.len());
        for (i, (batch, _)) in batches.iter().enumerate() {
            let slots = batch
                .ids
                .iter()
                .map(|&id| {
                    seq += 1;
                    Slot::New { seq, id }
                })
                .collect();
            let mut request = Accepted { outcome: i, batch: i, slots, sealed: Vec::new() };
            Self::seal_and_write(log, batch, &mut request, &mut head, recorded, room)?;
            written.push(request);
        }
        Ok((written, head))
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
