//! The check of a group: every request against the rules, on its own, in
//! one `Txn`; idempotent retries are found by their ids.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use govledger_domain::{Capacity, ErrorCode, Rejection, Submission, Timestamp, Txn};
use uuid::Uuid;

use super::group::{Committer, Outcomes};
use super::prepare::Preparation;
use super::{AppendError, Appended};
use crate::backend::StoreError;
use crate::event::{Encoded, StoredEvent};

/// What checking one submission gave: its place in the request's reply.
pub(super) enum Slot {
    /// A new event, admitted at `seq` with `id`; sealed and written after
    /// the whole group is checked, and moved into the reply once stored.
    New { seq: u64, id: Uuid },
    /// An idempotent retry of a stored event.
    Replayed(StoredEvent),
    /// An idempotent retry of an event new in the same group commit.
    ReplayedNew(Uuid),
}

/// Whether two submissions of one client id have the same content, as
/// [`StoredEvent::same_content`] compares a stored event with a submission.
pub(super) fn same_content(first: &Submission, again: &Submission) -> bool {
    first.actor == again.actor
        && first.occurred_at == again.occurred_at
        && first.payload.event_type() == again.payload.event_type()
        && first.payload.to_json() == again.payload.to_json()
}

/// An accepted request: its outcome's index, its batch's index in the
/// group, its slots and, once sealed, its new events in order.
pub(super) struct Accepted {
    pub(super) outcome: usize,
    pub(super) batch: usize,
    pub(super) slots: Vec<Slot>,
    pub(super) sealed: Vec<Encoded>,
}

/// What checking a group gave: each request's outcome (an accepted one's is
/// filled once it is stored), the accepted requests, and whether any of
/// them holds a new event.
pub(super) struct Checked {
    pub(super) outcomes: Outcomes,
    pub(super) accepted: Vec<Accepted>,
    pub(super) anything_new: bool,
}

/// Checks every request of a group on its own, within `txn`, against the
/// state including the group's earlier accepted requests; a refused request
/// leaves no trace in `txn`. `stored` looks up events in the store.
pub(super) fn check_group(
    txn: &mut Txn<'_>,
    batches: &[(Arc<Preparation>, Capacity)],
    recorded_at: Timestamp,
    stored: &mut dyn FnMut(&Uuid) -> Result<Option<StoredEvent>, StoreError>,
) -> Checked {
    // Client ids new in this group: the store cannot show them yet.
    let mut unwritten: HashMap<Uuid, &Submission> = HashMap::new();
    let mut checked =
        Checked { outcomes: Vec::with_capacity(batches.len()), accepted: Vec::new(), anything_new: false };
    for (b, (batch, capacity)) in batches.iter().enumerate() {
        let before = txn.savepoint();
        let mut slots: Vec<Slot> = Vec::with_capacity(batch.len());
        let mut new_ids: Vec<Uuid> = Vec::new();
        let mut failure = None;
        for (index, (sub, &id)) in batch.subs.iter().zip(&batch.ids).enumerate() {
            let earlier = |id: &Uuid, sub: &Submission| unwritten.get(id).map(|first| same_content(first, sub));
            match Committer::check(txn, stored, earlier, sub, id, recorded_at, *capacity) {
                Ok(slot) => {
                    if let Slot::New { id, .. } = slot {
                        new_ids.push(id);
                        // Only a client's id can be sent again within the
                        // group; a server-assigned one is not known yet.
                        if sub.id.is_some() {
                            unwritten.insert(id, sub);
                        }
                    }
                    slots.push(slot);
                }
                Err(Failure::Rejected(rejection)) => {
                    failure = Some(AppendError::Rejected { index, rejection });
                    break;
                }
                Err(Failure::Store(e)) => {
                    failure = Some(AppendError::Store(e));
                    break;
                }
            }
        }
        match failure {
            Some(err) => {
                for id in &new_ids {
                    unwritten.remove(id);
                }
                // Undo this request's earlier events (a rejected event
                // itself leaves no trace); the group's others stay.
                txn.rollback_to(before);
                checked.outcomes.push(Err(err));
            }
            None => {
                checked.anything_new |= !new_ids.is_empty();
                let outcome = checked.outcomes.len();
                checked.accepted.push(Accepted { outcome, batch: b, slots, sealed: Vec::new() });
                checked.outcomes.push(Ok(Vec::new())); // filled by `fill_outcomes`
            }
        }
    }
    checked
}

/// Fills the replies of accepted requests, moving each sealed event into its
/// place.
pub(super) fn fill_outcomes(outcomes: &mut Outcomes, accepted: Vec<Accepted>) {
    // Retries of events new in this group get a copy of the event.
    let wanted: HashSet<Uuid> = accepted
        .iter()
        .flat_map(|a| &a.slots)
        .filter_map(|slot| match slot {
            Slot::ReplayedNew(id) => Some(*id),
            _ => None,
        })
        .collect();
    let copies: HashMap<Uuid, StoredEvent> = accepted
        .iter()
        .flat_map(|a| &a.sealed)
        .filter(|e| wanted.contains(&e.event.id))
        .map(|e| (e.event.id, e.event.clone()))
        .collect();
    for Accepted { outcome, slots, sealed, .. } in accepted {
        let mut new_events = sealed.into_iter().map(|e| e.event);
        let appended = slots
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::New { .. } => new_events.next().map(|event| Appended { event, replayed: false }),
                Slot::Replayed(event) => Some(Appended { event, replayed: true }),
                Slot::ReplayedNew(id) => copies.get(&id).map(|e| Appended { event: e.clone(), replayed: true }),
            })
            .collect();
        if let Some(o) = outcomes.get_mut(outcome) {
            *o = Ok(appended);
        }
    }
}

pub(super) enum Failure {
    Rejected(Rejection),
    Store(StoreError),
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Self {
        Failure::Rejected(r)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl Committer {
    /// Checks one submission within `txn`; a new event is folded in and
    /// given its seq and id (it is sealed later, in chain order). A client id
    /// already taken is an idempotent retry when the content is the same:
    /// `unwritten` says whether it is for the events of the transaction that
    /// the store cannot show yet (`None` for an id not among them), `stored`
    /// looks the others up in the store.
    pub(super) fn check(
        txn: &mut Txn<'_>,
        stored: &mut dyn FnMut(&Uuid) -> Result<Option<StoredEvent>, StoreError>,
        unwritten: impl Fn(&Uuid, &Submission) -> Option<bool>,
        sub: &Submission,
        id: Uuid,
        recorded_at: Timestamp,
        capacity: Capacity,
    ) -> Result<Slot, Failure> {
        // By the event's id, the client's or the one the server assigned
        // (an attempt whose outcome was unknown may have stored it).
        if let Some(seq) = txn.seq_of(&id) {
            let conflict = || {
                Failure::Rejected(Rejection::at(
                    ErrorCode::IdConflict,
                    "id",
                    format!(
                        "event {id} is already stored (seq {seq}) with different content; use a new id for a new event"
                    ),
                ))
            };
            if let Some(same) = unwritten(&id, sub) {
                return if same { Ok(Slot::ReplayedNew(id)) } else { Err(conflict()) };
            }
            return match stored(&id)? {
                Some(e) if e.same_content(sub) => Ok(Slot::Replayed(e)),
                Some(_) => Err(conflict()),
                None => Err(Failure::Store(StoreError::Corrupt {
                    seq: 0,
                    reason: format!("event {id} is indexed but not stored"),
                })),
            };
        }
        let seq = txn.admit_as(id, sub, recorded_at, capacity)?;
        Ok(Slot::New { seq, id })
    }
}
