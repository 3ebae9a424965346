//! Who is party to each event: the facts behind SPEC 4's read scope (v1.2),
//! kept in the projection so that the server judges an event with one
//! lookup, for any event type, without reading another event.
//!
//! An event's parties are its actor and the parties of its entity (SPEC 2.3):
//! - a meeting: the convener, the invitees and, once it is held, the attendees;
//! - a task: the assigner and the assignee;
//! - a freeze: the requester and the requested bank;
//! - a clue or a warning: the actor that referred or issued it and its `to`;
//! - a penalty: the imposer and the target;
//! - an `AgencyRegistered`: the registering actor and the registered agency;
//! - cases, card-breaking actions, publicity and published assessments: the
//!   actor alone;
//! - an `EventRetracted`: its actor and every party of the event it retracts.
//!
//! Every event of an entity (a bank's `FreezeExecuted`, a coordinator's
//! `TaskDeadlineExtended`) is readable by every party of that entity, also
//! by parties that joined after it (a meeting's attendees read its
//! convening). A meeting-based `ResponsibilityAssigned` and a
//! `FreezeRequested` naming a case belong to the task and the freeze only:
//! the meeting's other invitees and the case's reporter are not parties of
//! them. An entity keeps its parties when its events are retracted; an id
//! created again after its creation was retracted is a new entity.
//!
//! The server's rule (`govledger_api::scope`) asks [`Projection::is_party`];
//! the entity listings filter with [`crate::EntityFilter::reader`].

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::decode::{Decoded, Fact};
use crate::entities::EntityKind;
use crate::projection::{Projection, ProjectionError, unknown};

/// No party set (the actor alone reads the event).
const NONE: u32 = u32::MAX;

/// One event's actor and the party set of its entity ([`NONE`] if it has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct EventParties {
    actor: u32,
    set: u32,
}

/// The agencies party to one entity, as interned symbols; `also` names
/// another set whose members are parties too (a retraction's: the retracted
/// event's set, which may still grow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PartySet {
    members: SmallVec<[u32; 2]>,
    also: u32,
}

/// The parties of every event folded, by `seq - 1`, and the sets they point at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Parties {
    events: Vec<EventParties>,
    sets: Vec<PartySet>,
}

impl Parties {
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.events.reserve(additional);
    }

    /// Events recorded.
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether `agency` is in `set` or in a set it points at.
    fn set_has(&self, mut set: u32, agency: u32) -> bool {
        // A retraction's set points at its target's, which points nowhere
        // further (a retraction is never retracted); the bound is a guard.
        for _ in 0..4 {
            let Some(s) = self.sets.get(set as usize) else { return false };
            if s.members.contains(&agency) {
                return true;
            }
            set = s.also;
        }
        false
    }
}

/// What an event does to the party sets, decided before the projection
/// changes (an unknown entity is an error that must leave it untouched).
pub(crate) enum Plan<'a> {
    /// No entity: the actor alone is a party.
    ActorOnly,
    /// A new entity whose parties are the actor and these agencies.
    New(Vec<&'a str>),
    /// An event of the entity created at `creation`, whose parties it
    /// joins together with `add` (a meeting's attendees).
    Of { creation: u64, add: &'a [&'a str] },
    /// A retraction: the parties of the event it retracts (known once the
    /// fold has found that event).
    Retraction,
}

impl Projection {
    /// The parties `ev` gives or joins. Reads only.
    pub(crate) fn plan_parties<'a>(&self, ev: &'a Decoded<'a>) -> Result<Plan<'a>, ProjectionError> {
        let of = |kind: EntityKind, what: &str, id: &str| {
            self.created_at(kind, id)
                .map(|creation| Plan::Of { creation, add: &[] })
                .ok_or_else(|| unknown(ev.seq, what, id))
        };
        Ok(match &ev.fact {
            Fact::AgencyRegistered { agency_id, .. } => Plan::New(vec![*agency_id]),
            Fact::MeetingConvened { invitees, .. } => Plan::New(invitees.clone()),
            Fact::MeetingHeld { meeting_id, attendees } => {
                let creation = self
                    .created_at(EntityKind::Meeting, meeting_id)
                    .ok_or_else(|| unknown(ev.seq, "meeting", meeting_id))?;
                Plan::Of { creation, add: attendees }
            }
            Fact::TaskAssigned { assignee, .. } => Plan::New(vec![*assignee]),
            Fact::TaskExtended { task_id, .. }
            | Fact::TaskCompleted { task_id }
            | Fact::TaskCancelled { task_id }
            | Fact::TaskAcknowledged { task_id } => of(EntityKind::Task, "task", task_id)?,
            Fact::FreezeRequested { bank, .. } => Plan::New(vec![*bank]),
            Fact::FreezeExecuted { freeze_id }
            | Fact::FreezeRejected { freeze_id }
            | Fact::FundsReturned { freeze_id, .. }
            | Fact::FreezeReleased { freeze_id } => of(EntityKind::Freeze, "freeze", freeze_id)?,
            Fact::ClueReferred { to, .. } | Fact::WarningIssued { to, .. } => Plan::New(vec![*to]),
            Fact::ClueFeedback { clue_id } => of(EntityKind::Clue, "clue", clue_id)?,
            Fact::DissuasionRecorded { warning_id } => of(EntityKind::Warning, "warning", warning_id)?,
            Fact::PenaltyImposed { target, .. } => Plan::New(vec![*target]),
            Fact::PenaltyRevoked { penalty_id } => of(EntityKind::Penalty, "penalty", penalty_id)?,
            Fact::Retracted { .. } => Plan::Retraction,
            Fact::CaseReported { .. } | Fact::CardBreaking { .. } | Fact::Other => Plan::ActorOnly,
        })
    }

    /// Records the parties of the event being folded; `retracted` is the seq
    /// of the event it retracts, if it is a retraction. Cannot fail.
    pub(crate) fn record_parties(&mut self, actor: &str, plan: Plan<'_>, retracted: Option<u64>) {
        let actor = self.agency_sym(actor);
        let set = match plan {
            Plan::ActorOnly => NONE,
            Plan::New(names) => {
                let mut members: SmallVec<[u32; 2]> = SmallVec::with_capacity(names.len() + 1);
                members.push(actor);
                for name in names {
                    let sym = self.agency_sym(name);
                    if !members.contains(&sym) {
                        members.push(sym);
                    }
                }
                self.new_set(PartySet { members, also: NONE })
            }
            Plan::Of { creation, add } => {
                let set = self.parties.events.get((creation - 1) as usize).map_or(NONE, |e| e.set);
                for name in add {
                    let sym = self.agency_sym(name);
                    if let Some(s) = self.parties.sets.get_mut(set as usize)
                        && !s.members.contains(&sym)
                    {
                        s.members.push(sym);
                    }
                }
                set
            }
            Plan::Retraction => match retracted.and_then(|t| self.parties.events.get((t.max(1) - 1) as usize)) {
                Some(target) => {
                    let set = PartySet { members: SmallVec::from_slice(&[target.actor]), also: target.set };
                    self.new_set(set)
                }
                None => NONE,
            },
        };
        self.parties.events.push(EventParties { actor, set });
    }

    fn new_set(&mut self, set: PartySet) -> u32 {
        let index = u32::try_from(self.parties.sets.len()).unwrap_or(NONE);
        self.parties.sets.push(set);
        index
    }

    /// Whether `agency` is the actor of the event at `seq` or a party of its
    /// entity (see the module documentation); `None` when the projection has
    /// not folded that event yet.
    pub fn is_party(&self, seq: u64, agency: &str) -> Option<bool> {
        let event = self.parties.events.get(usize::try_from(seq.checked_sub(1)?).ok()?)?;
        let Some(&sym) = self.agency_index.get(agency) else { return Some(false) };
        Some(event.actor == sym || self.parties.set_has(event.set, sym))
    }
}
