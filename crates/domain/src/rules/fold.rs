//! Folding an admitted or replayed event into the state: what it touches
//! ([`refs`]) and each entity's state after it ([`next_state`]).

use uuid::Uuid;

use crate::catalog::*;
use crate::envelope::Submission;
use crate::state::{
    AgencyRec, EntityKey, EntityKind, EntityState, EventMeta, FreezeAnswer, FreezeState, MeetingState, PairState, Ref,
    Refs, Sym, TaskState, TaskStatus, Txn,
};
use crate::values::{AgencyId, EntityId};

impl Txn<'_> {
    /// Folds `sub` in as the next event. Cannot fail: `check` has passed, or
    /// the event is replayed from a log whose events all passed it.
    pub(super) fn apply(&mut self, id: Uuid, sub: &Submission) -> u64 {
        let seq = self.next_seq();
        let actor = self.intern(sub.actor.as_str());
        let at = sub.occurred_at.micros();
        let refs = refs(self, sub, actor);

        if let Payload::EventRetracted(p) = &sub.payload {
            self.apply_retraction(p.event_id.0);
        }
        for r in refs.iter() {
            match *r {
                Ref::Names(agency) => self.name_agency(agency),
                Ref::Registers(agency) => {
                    if let Payload::AgencyRegistered(p) = &sub.payload {
                        let roles = p.roles.as_deref().unwrap_or_default();
                        self.register_agency(
                            agency,
                            AgencyRec {
                                kind: p.kind,
                                coordinator: roles.contains(&Role::Coordinator),
                                evaluator: roles.contains(&Role::Evaluator),
                                naming: 0,
                            },
                        );
                    }
                }
                Ref::Entity(key) => {
                    let prev = self.entity_by_key_current(key);
                    let next = next_state(self, sub, key, prev, actor, at);
                    self.push_entity(key, seq, next);
                }
            }
        }
        self.push_event(EventMeta { id, event_type: sub.event_type(), actor, retracted: false, refs })
    }

    fn apply_retraction(&mut self, target: Uuid) {
        if let Some(seq) = self.seq_of(&target) {
            self.retract(seq);
        }
    }

    fn entity_by_key_current(&self, key: EntityKey) -> Option<EntityState> {
        self.entity_by_key(key).and_then(|rec| rec.current().cloned())
    }
}

/// What an event touches: the entities whose lifecycle it is a step of
/// (SPEC 2.4: "an event belongs to every entity whose id it carries"), the
/// agency it registers, and the agencies it names. One place, used both to
/// fold events in and to undo them on retraction.
fn refs(tx: &mut Txn<'_>, sub: &Submission, actor: Sym) -> Refs {
    let mut out = Refs::new();
    let entity = |tx: &mut Txn<'_>, kind: EntityKind, id: &EntityId| {
        let sym = tx.intern(id.as_str());
        Ref::Entity(EntityKey { kind, sym })
    };
    // On the stack: an event names one to a few agencies.
    let mut named: smallvec::SmallVec<[&AgencyId; 4]> = smallvec::smallvec![&sub.actor];
    match &sub.payload {
        Payload::AgencyRegistered(p) => {
            out.push(Ref::Registers(tx.intern(p.agency_id.as_str())));
            if p.agency_id == sub.actor {
                named.clear(); // the bootstrap names only itself
            }
        }
        Payload::JointMeetingConvened(p) => {
            out.push(entity(tx, EntityKind::Meeting, &p.meeting_id));
            named.extend(&p.invitees);
        }
        Payload::JointMeetingHeld(p) => {
            out.push(entity(tx, EntityKind::Meeting, &p.meeting_id));
            named.extend(&p.attendees);
        }
        Payload::ResponsibilityAssigned(p) => {
            out.push(entity(tx, EntityKind::Task, &p.task_id));
            if let Some(m) = &p.meeting_id {
                out.push(entity(tx, EntityKind::Meeting, m));
            }
            named.push(&p.assignee);
        }
        Payload::TaskAcknowledged(p) => out.push(entity(tx, EntityKind::Task, &p.task_id)),
        Payload::TaskCompleted(p) => out.push(entity(tx, EntityKind::Task, &p.task_id)),
        Payload::TaskDeadlineExtended(p) => out.push(entity(tx, EntityKind::Task, &p.task_id)),
        Payload::TaskCancelled(p) => out.push(entity(tx, EntityKind::Task, &p.task_id)),
        Payload::FraudCaseReported(p) => out.push(entity(tx, EntityKind::Case, &p.case_id)),
        Payload::FreezeRequested(p) => {
            out.push(entity(tx, EntityKind::Freeze, &p.freeze_id));
            if let Some(c) = &p.case_id {
                out.push(entity(tx, EntityKind::Case, c));
            }
            named.push(&p.bank);
        }
        Payload::FreezeExecuted(p) => out.push(entity(tx, EntityKind::Freeze, &p.freeze_id)),
        Payload::FreezeRejected(p) => out.push(entity(tx, EntityKind::Freeze, &p.freeze_id)),
        Payload::FreezeReleased(p) => out.push(entity(tx, EntityKind::Freeze, &p.freeze_id)),
        Payload::FundsReturned(p) => out.push(entity(tx, EntityKind::Freeze, &p.freeze_id)),
        Payload::ClueReferred(p) => {
            out.push(entity(tx, EntityKind::Clue, &p.clue_id));
            named.push(&p.to);
        }
        Payload::ClueFeedbackGiven(p) => out.push(entity(tx, EntityKind::Clue, &p.clue_id)),
        Payload::EarlyWarningIssued(p) => {
            out.push(entity(tx, EntityKind::Warning, &p.warning_id));
            named.push(&p.to);
        }
        Payload::DissuasionRecorded(p) => out.push(entity(tx, EntityKind::Warning, &p.warning_id)),
        Payload::CardBreakingAction(p) => out.push(entity(tx, EntityKind::CardAction, &p.action_id)),
        Payload::PenaltyImposed(p) => {
            out.push(entity(tx, EntityKind::Penalty, &p.penalty_id));
            named.push(&p.target);
        }
        Payload::PenaltyRevoked(p) => out.push(entity(tx, EntityKind::Penalty, &p.penalty_id)),
        Payload::PublicityDelivered(p) => out.push(entity(tx, EntityKind::Activity, &p.activity_id)),
        // A retraction is a step of no entity: it must not stand in the way
        // of retracting the next-newest event of the same entity.
        Payload::EventRetracted(_) => {}
        Payload::AssessmentPublished(p) => out.push(entity(tx, EntityKind::Assessment, &p.assessment_id)),
    }
    named.sort();
    named.dedup();
    for a in named {
        // The actor is interned already (`actor`).
        let sym = if *a == sub.actor { actor } else { tx.intern(a.as_str()) };
        out.push(Ref::Names(sym));
    }
    out
}

/// The state of entity `key` after `sub`; `None` when `sub` does not change it.
fn next_state(
    tx: &mut Txn<'_>,
    sub: &Submission,
    key: EntityKey,
    prev: Option<EntityState>,
    actor: Sym,
    at: i64,
) -> Option<EntityState> {
    use EntityState as S;
    Some(match (&sub.payload, prev) {
        (Payload::JointMeetingConvened(_), _) => {
            S::Meeting(MeetingState { convener: actor, convened_at: at, held_at: None, resolutions: Box::new([]) })
        }
        (Payload::JointMeetingHeld(p), Some(S::Meeting(m))) => S::Meeting(MeetingState {
            held_at: Some(at),
            resolutions: p.resolutions.iter().map(|r| tx.intern(r.resolution_id.as_str())).collect(),
            ..m
        }),
        (Payload::ResponsibilityAssigned(p), _) if key.kind == EntityKind::Task => S::Task(TaskState {
            assignee: tx.intern(p.assignee.as_str()),
            assigner: actor,
            assigned_at: at,
            due_at: p.due_at.micros(),
            acknowledged: false,
            status: TaskStatus::Open,
        }),
        (Payload::TaskAcknowledged(_), Some(S::Task(t))) => S::Task(TaskState { acknowledged: true, ..t }),
        (Payload::TaskCompleted(_), Some(S::Task(t))) => S::Task(TaskState { status: TaskStatus::Completed, ..t }),
        (Payload::TaskCancelled(_), Some(S::Task(t))) => S::Task(TaskState { status: TaskStatus::Cancelled, ..t }),
        (Payload::TaskDeadlineExtended(p), Some(S::Task(t))) => S::Task(TaskState { due_at: p.due_at.micros(), ..t }),
        (Payload::FraudCaseReported(_), _) => S::Pair(PairState { from: actor, to: actor, at, answered: false }),
        (Payload::FreezeRequested(p), _) if key.kind == EntityKind::Freeze => S::Freeze(FreezeState {
            requester: actor,
            bank: tx.intern(p.bank.as_str()),
            requested_at: at,
            answer: FreezeAnswer::Pending,
            released: false,
            returned_minor: 0,
        }),
        (Payload::FreezeExecuted(p), Some(S::Freeze(f))) => S::Freeze(FreezeState {
            answer: FreezeAnswer::Executed { at, amount_frozen_minor: p.amount_frozen_minor.0 },
            ..f
        }),
        (Payload::FreezeRejected(_), Some(S::Freeze(f))) => {
            S::Freeze(FreezeState { answer: FreezeAnswer::Rejected, ..f })
        }
        (Payload::FreezeReleased(_), Some(S::Freeze(f))) => S::Freeze(FreezeState { released: true, ..f }),
        (Payload::FundsReturned(p), Some(S::Freeze(f))) => {
            S::Freeze(FreezeState { returned_minor: f.returned_minor + p.amount_minor.0, ..f })
        }
        (Payload::ClueReferred(p), _) => {
            S::Pair(PairState { from: actor, to: tx.intern(p.to.as_str()), at, answered: false })
        }
        (Payload::EarlyWarningIssued(p), _) => {
            S::Pair(PairState { from: actor, to: tx.intern(p.to.as_str()), at, answered: false })
        }
        (Payload::PenaltyImposed(p), _) => {
            S::Pair(PairState { from: actor, to: tx.intern(p.target.as_str()), at, answered: false })
        }
        (
            Payload::ClueFeedbackGiven(_) | Payload::DissuasionRecorded(_) | Payload::PenaltyRevoked(_),
            Some(S::Pair(x)),
        ) => S::Pair(PairState { answered: true, ..x }),
        (Payload::CardBreakingAction(_) | Payload::PublicityDelivered(_) | Payload::AssessmentPublished(_), _) => {
            S::Exists
        }
        // The event touches this entity without changing its state (a task
        // assigned from a meeting, for the meeting; a freeze, for its case).
        _ => return None,
    })
}
