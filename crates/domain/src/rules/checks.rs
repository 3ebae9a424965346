//! The checks of each event type against the state (SPEC 2.3, 2.4): one
//! [`Ctx`] per submission, one method per rule.

use crate::catalog::*;
use crate::envelope::Submission;
use crate::error::{ErrorCode as C, Rejection};
use crate::state::{
    AgencyRec, EntityKind, EntityState, FreezeAnswer, FreezeState, MeetingState, Ref, Sym, TaskStatus, Txn,
};
use crate::values::{AgencyId, EntityId, Timestamp};

use super::{Check, reject};

pub(super) fn check_bootstrap(sub: &Submission) -> Check {
    if let Payload::AgencyRegistered(p) = &sub.payload {
        let coordinator = p.roles.as_deref().unwrap_or_default().contains(&Role::Coordinator);
        if p.agency_id == sub.actor && coordinator {
            return check_roles(p);
        }
    }
    Err(reject(
        C::BootstrapRequired,
        "type",
        "the ledger has no agency yet: its first event must be an AgencyRegistered of an agency with the \
         coordinator role, whose actor is its own agency_id",
    ))
}

fn check_roles(p: &AgencyRegistered) -> Check {
    no_duplicates(p.roles.as_deref().unwrap_or_default(), "data.roles")
}

fn no_duplicates<T: PartialEq + std::fmt::Debug>(items: &[T], field: &str) -> Check {
    for (i, a) in items.iter().enumerate() {
        if items[..i].contains(a) {
            return Err(reject(
                C::ListDuplicate,
                &format!("{field}[{i}]"),
                format!("{a:?} is listed twice in {field}"),
            ));
        }
    }
    Ok(())
}

enum TaskStep {
    Acknowledge,
    Complete,
    Extend(Timestamp),
    Cancel,
}

/// Codes for the answer step of a two-step entity.
struct PairErrors {
    not_found: C,
    answered: C,
    /// Who may answer: the `to` agency, or the creator (`from`) and the coordinator.
    by_creator: bool,
    noun: &'static str,
}

impl PairErrors {
    const CLUE: Self =
        Self { not_found: C::ClueNotFound, answered: C::ClueFeedbackGiven, by_creator: false, noun: "clue" };
    const WARNING: Self =
        Self { not_found: C::WarningNotFound, answered: C::WarningAlreadyRecorded, by_creator: false, noun: "warning" };
    const PENALTY: Self =
        Self { not_found: C::PenaltyNotFound, answered: C::PenaltyAlreadyRevoked, by_creator: true, noun: "penalty" };
}

/// One check in progress: the state, the submission and its (registered) actor.
pub(super) struct Ctx<'t, 'a> {
    pub(super) tx: &'t Txn<'a>,
    pub(super) sub: &'t Submission,
    pub(super) actor: &'t AgencyRec,
    pub(super) actor_sym: Sym,
    /// The actor holds the coordinator role and may use it here.
    pub(super) coordinator: bool,
    /// The actor holds the evaluator role and may use it here.
    pub(super) evaluator: bool,
}

impl Ctx<'_, '_> {
    /// Checks the submission against the rules of its event type.
    pub(super) fn check(&self) -> Check {
        match &self.sub.payload {
            Payload::AgencyRegistered(p) => self.agency_registered(p),
            Payload::JointMeetingConvened(p) => self.meeting_convened(p),
            Payload::JointMeetingHeld(p) => self.meeting_held(p),
            Payload::ResponsibilityAssigned(p) => self.responsibility_assigned(p),
            Payload::TaskAcknowledged(p) => self.task_step(&p.task_id, TaskStep::Acknowledge),
            Payload::TaskCompleted(p) => self.task_step(&p.task_id, TaskStep::Complete),
            Payload::TaskDeadlineExtended(p) => self.task_step(&p.task_id, TaskStep::Extend(p.due_at)),
            Payload::TaskCancelled(p) => self.task_step(&p.task_id, TaskStep::Cancel),
            Payload::FraudCaseReported(p) => {
                self.actor_kind(AgencyKind::PublicSecurity)?;
                self.new_id(EntityKind::Case, &p.case_id, "case_id", C::CaseExists)
            }
            Payload::FreezeRequested(p) => self.freeze_requested(p),
            Payload::FreezeExecuted(p) => self.freeze_answer(&p.freeze_id),
            Payload::FreezeRejected(p) => self.freeze_answer(&p.freeze_id),
            Payload::FreezeReleased(p) => self.freeze_after_execution(&p.freeze_id, None),
            Payload::FundsReturned(p) => self.freeze_after_execution(&p.freeze_id, Some(p.amount_minor.0)),
            Payload::ClueReferred(p) => {
                self.new_id(EntityKind::Clue, &p.clue_id, "clue_id", C::ClueExists)?;
                self.registered(&p.to, "data.to")?;
                if p.to == self.sub.actor {
                    return Err(reject(
                        C::ClueSelfReferral,
                        "data.to",
                        "a clue is referred to another agency, not to the actor itself",
                    ));
                }
                Ok(())
            }
            Payload::ClueFeedbackGiven(p) => {
                self.pair_answer(EntityKind::Clue, &p.clue_id, "clue_id", PairErrors::CLUE)
            }
            Payload::EarlyWarningIssued(p) => {
                self.actor_kind(AgencyKind::PublicSecurity)?;
                self.new_id(EntityKind::Warning, &p.warning_id, "warning_id", C::WarningExists)?;
                self.registered(&p.to, "data.to")
            }
            Payload::DissuasionRecorded(p) => {
                self.pair_answer(EntityKind::Warning, &p.warning_id, "warning_id", PairErrors::WARNING)
            }
            Payload::CardBreakingAction(p) => {
                self.new_id(EntityKind::CardAction, &p.action_id, "action_id", C::CardActionExists)
            }
            Payload::PenaltyImposed(p) => self.penalty_imposed(p),
            Payload::PenaltyRevoked(p) => {
                self.pair_answer(EntityKind::Penalty, &p.penalty_id, "penalty_id", PairErrors::PENALTY)
            }
            Payload::PublicityDelivered(p) => {
                self.new_id(EntityKind::Activity, &p.activity_id, "activity_id", C::PublicityExists)
            }
            Payload::EventRetracted(p) => self.retraction(p),
            Payload::AssessmentPublished(p) => self.assessment_published(p),
        }
    }

    fn actor_id(&self) -> &str {
        self.sub.actor.as_str()
    }

    fn at(&self) -> i64 {
        self.sub.occurred_at.micros()
    }

    fn not_authorised(&self, what: &str) -> Rejection {
        reject(C::ActorNotAuthorised, "actor", format!("{} may not {what}", self.actor_id()))
    }

    fn coordinator(&self, what: &str) -> Check {
        if self.coordinator { Ok(()) } else { Err(self.not_authorised(&format!("{what}: only a coordinator may"))) }
    }

    fn actor_is(&self, who: &[Sym], what: &str) -> Check {
        if who.contains(&self.actor_sym) { Ok(()) } else { Err(self.not_authorised(what)) }
    }

    fn actor_kind(&self, kind: AgencyKind) -> Check {
        if self.actor.kind == kind {
            Ok(())
        } else {
            Err(reject(
                C::ActorWrongKind,
                "actor",
                format!(
                    "{} is a {} agency; only a {} agency may record {}",
                    self.actor_id(),
                    self.actor.kind.as_str(),
                    kind.as_str(),
                    self.sub.event_type().as_str()
                ),
            ))
        }
    }

    /// The step must not be earlier than the step it answers (SPEC 2.3).
    fn not_before(&self, earlier_micros: i64, what: &str) -> Check {
        if self.at() >= earlier_micros {
            Ok(())
        } else {
            Err(reject(
                C::LifecycleOutOfOrder,
                "occurred_at",
                format!(
                    "occurred_at {} is earlier than the {what} it answers ({})",
                    self.sub.occurred_at,
                    Timestamp::from_micros(earlier_micros)
                ),
            ))
        }
    }

    fn registered(&self, id: &AgencyId, field: &str) -> Check {
        if self.tx.agency(id.as_str()).is_some() {
            Ok(())
        } else {
            Err(reject(C::AgencyNotRegistered, field, format!("{field}: agency {:?} is not registered", id.as_str())))
        }
    }

    fn all_registered(&self, ids: &[AgencyId], field: &str) -> Check {
        no_duplicates(ids, field)?;
        ids.iter().enumerate().try_for_each(|(i, a)| self.registered(a, &format!("{field}[{i}]")))
    }

    fn new_id(&self, kind: EntityKind, id: &EntityId, field: &str, code: C) -> Check {
        if self.tx.entity(kind, id.as_str()).is_none() {
            Ok(())
        } else {
            Err(reject(code, &format!("data.{field}"), format!("{field} {:?} is already used", id.as_str())))
        }
    }

    fn existing(&self, kind: EntityKind, id: &EntityId, field: &str, code: C) -> Result<&EntityState, Rejection> {
        self.tx
            .entity(kind, id.as_str())
            .and_then(|rec| rec.current())
            .ok_or_else(|| reject(code, &format!("data.{field}"), format!("no {field} {:?} exists", id.as_str())))
    }

    fn agency_registered(&self, p: &AgencyRegistered) -> Check {
        self.coordinator("register agencies")?;
        if self.tx.agency(p.agency_id.as_str()).is_some() {
            return Err(reject(
                C::AgencyAlreadyRegistered,
                "data.agency_id",
                format!("agency {:?} is already registered", p.agency_id.as_str()),
            ));
        }
        check_roles(p)
    }

    fn meeting_convened(&self, p: &JointMeetingConvened) -> Check {
        self.new_id(EntityKind::Meeting, &p.meeting_id, "meeting_id", C::MeetingExists)?;
        if p.invitees.is_empty() {
            return Err(reject(C::ListEmpty, "data.invitees", "a joint meeting needs at least one invitee"));
        }
        self.all_registered(&p.invitees, "data.invitees")
    }

    fn meeting(&self, id: &EntityId) -> Result<&MeetingState, Rejection> {
        match self.existing(EntityKind::Meeting, id, "meeting_id", C::MeetingNotFound)? {
            EntityState::Meeting(m) => Ok(m),
            _ => Err(reject(C::MeetingNotFound, "data.meeting_id", "not a meeting")),
        }
    }

    fn meeting_held(&self, p: &JointMeetingHeld) -> Check {
        let m = self.meeting(&p.meeting_id)?;
        if !self.coordinator {
            self.actor_is(&[m.convener], "record this meeting as held: only its convener or a coordinator may")?;
        }
        if m.held_at.is_some() {
            return Err(reject(C::MeetingAlreadyHeld, "data.meeting_id", "the meeting was already recorded as held"));
        }
        self.not_before(m.convened_at, "JointMeetingConvened")?;
        self.all_registered(&p.attendees, "data.attendees")?;
        let ids: Vec<&EntityId> = p.resolutions.iter().map(|r| &r.resolution_id).collect();
        no_duplicates(&ids, "data.resolutions")
    }

    fn responsibility_assigned(&self, p: &ResponsibilityAssigned) -> Check {
        self.new_id(EntityKind::Task, &p.task_id, "task_id", C::TaskExists)?;
        match &p.meeting_id {
            Some(mid) => {
                let m = self.meeting(mid)?;
                if !self.coordinator {
                    self.actor_is(
                        &[m.convener],
                        "assign tasks from this meeting: only its convener or a coordinator may",
                    )?;
                }
                let Some(held_at) = m.held_at else {
                    return Err(reject(C::MeetingNotHeld, "data.meeting_id", "the meeting has not been held yet"));
                };
                self.not_before(held_at, "JointMeetingHeld")?;
                if let Some(rid) = &p.resolution_id {
                    let known = self.tx.sym(rid.as_str()).is_some_and(|s| m.resolutions.contains(&s));
                    if !known {
                        return Err(reject(
                            C::MeetingUnknownResolution,
                            "data.resolution_id",
                            format!("{:?} is not a resolution of meeting {:?}", rid.as_str(), mid.as_str()),
                        ));
                    }
                }
            }
            None => {
                self.coordinator("assign responsibilities without a meeting")?;
                if p.resolution_id.is_some() {
                    return Err(reject(
                        C::DataMissingField,
                        "data.meeting_id",
                        "resolution_id needs the meeting_id it belongs to",
                    ));
                }
            }
        }
        if p.due_at <= self.sub.occurred_at {
            return Err(reject(
                C::TaskDueNotAfterAssignment,
                "data.due_at",
                "due_at must be after the assignment's occurred_at",
            ));
        }
        self.registered(&p.assignee, "data.assignee")
    }

    fn task_step(&self, id: &EntityId, step: TaskStep) -> Check {
        let EntityState::Task(t) = self.existing(EntityKind::Task, id, "task_id", C::TaskNotFound)? else {
            return Err(reject(C::TaskNotFound, "data.task_id", "not a task"));
        };
        match step {
            TaskStep::Acknowledge | TaskStep::Complete => {
                self.actor_is(&[t.assignee], "act on this task: only its assignee may")?
            }
            TaskStep::Extend(_) | TaskStep::Cancel if !self.coordinator => {
                self.actor_is(&[t.assigner], "change this task: only its assigner or a coordinator may")?
            }
            _ => {}
        }
        if t.status != TaskStatus::Open {
            let status = if t.status == TaskStatus::Completed { "completed" } else { "cancelled" };
            return Err(reject(C::TaskNotOpen, "data.task_id", format!("the task is already {status}")));
        }
        if matches!(step, TaskStep::Acknowledge) && t.acknowledged {
            return Err(reject(C::TaskAlreadyAcknowledged, "data.task_id", "the task was already acknowledged"));
        }
        self.not_before(t.assigned_at, "ResponsibilityAssigned")?;
        if let TaskStep::Extend(due_at) = step
            && due_at.micros() <= t.due_at
        {
            return Err(reject(
                C::TaskDueNotLater,
                "data.due_at",
                format!("the new due_at must be later than the current one ({})", Timestamp::from_micros(t.due_at)),
            ));
        }
        Ok(())
    }

    fn freeze(&self, id: &EntityId) -> Result<&FreezeState, Rejection> {
        match self.existing(EntityKind::Freeze, id, "freeze_id", C::FreezeNotFound)? {
            EntityState::Freeze(f) => Ok(f),
            _ => Err(reject(C::FreezeNotFound, "data.freeze_id", "not a freeze")),
        }
    }

    fn freeze_requested(&self, p: &FreezeRequested) -> Check {
        self.actor_kind(AgencyKind::PublicSecurity)?;
        self.new_id(EntityKind::Freeze, &p.freeze_id, "freeze_id", C::FreezeExists)?;
        self.registered(&p.bank, "data.bank")?;
        if let Some(bank) = self.tx.agency(p.bank.as_str())
            && !bank.kind.holds_accounts()
        {
            return Err(reject(
                C::AgencyWrongKind,
                "data.bank",
                format!("{} is a {} agency; freezes go to a bank or payment_institution", p.bank, bank.kind.as_str()),
            ));
        }
        if let Some(case_id) = &p.case_id
            && let EntityState::Pair(case) = self.existing(EntityKind::Case, case_id, "case_id", C::CaseNotFound)?
        {
            self.not_before(case.at, "FraudCaseReported")?;
        }
        Ok(())
    }

    fn freeze_answer(&self, id: &EntityId) -> Check {
        let f = self.freeze(id)?;
        self.actor_is(&[f.bank], "answer this freeze request: only the requested bank may")?;
        if f.answer != FreezeAnswer::Pending {
            return Err(reject(
                C::FreezeAlreadyAnswered,
                "data.freeze_id",
                "the freeze request was already executed or rejected",
            ));
        }
        self.not_before(f.requested_at, "FreezeRequested")
    }

    fn freeze_after_execution(&self, id: &EntityId, returned: Option<u64>) -> Check {
        let f = self.freeze(id)?;
        match returned {
            None => self.actor_is(&[f.requester, f.bank], "release this freeze: only its requester or bank may")?,
            Some(_) => self.actor_is(&[f.bank], "return funds of this freeze: only its bank may")?,
        }
        let FreezeAnswer::Executed { at, amount_frozen_minor } = f.answer else {
            return Err(reject(C::FreezeNotExecuted, "data.freeze_id", "the freeze was not executed"));
        };
        match returned {
            None if f.released => {
                return Err(reject(C::FreezeAlreadyReleased, "data.freeze_id", "the freeze was already released"));
            }
            Some(amount) if f.returned_minor.saturating_add(amount) > amount_frozen_minor => {
                return Err(reject(
                    C::FreezeReturnsExceedFrozen,
                    "data.amount_minor",
                    format!(
                        "returning {amount} would bring the total returned to {}, above the {amount_frozen_minor} frozen",
                        f.returned_minor + amount
                    ),
                ));
            }
            _ => {}
        }
        self.not_before(at, "FreezeExecuted")
    }

    fn pair_answer(&self, kind: EntityKind, id: &EntityId, field: &str, e: PairErrors) -> Check {
        let EntityState::Pair(x) = self.existing(kind, id, field, e.not_found)? else {
            return Err(reject(e.not_found, &format!("data.{field}"), format!("not a {}", e.noun)));
        };
        if e.by_creator {
            if !self.coordinator {
                self.actor_is(&[x.from], &format!("answer this {}: only its creator or a coordinator may", e.noun))?;
            }
        } else {
            self.actor_is(&[x.to], &format!("answer this {}: only the agency it was sent to may", e.noun))?;
        }
        if x.answered {
            return Err(reject(e.answered, &format!("data.{field}"), format!("the {} was already answered", e.noun)));
        }
        self.not_before(x.at, "event")
    }

    fn penalty_imposed(&self, p: &PenaltyImposed) -> Check {
        if !(self.coordinator || self.actor.kind == AgencyKind::Regulator) {
            return Err(self.not_authorised("impose penalties: only a regulator or a coordinator may"));
        }
        self.new_id(EntityKind::Penalty, &p.penalty_id, "penalty_id", C::PenaltyExists)?;
        self.registered(&p.target, "data.target")?;
        match (p.kind, p.amount_minor) {
            (PenaltyKind::Fine, None) => {
                Err(reject(C::PenaltyAmountRequired, "data.amount_minor", "a fine needs amount_minor (in fen)"))
            }
            (kind, Some(_)) if kind != PenaltyKind::Fine => Err(reject(
                C::DataInvalidValue,
                "data.amount_minor",
                format!("amount_minor is only for fines, not for a {}", kind.as_str()),
            )),
            _ => Ok(()),
        }
    }

    fn retraction(&self, p: &EventRetracted) -> Check {
        let target = p.event_id.0;
        let not_found =
            || reject(C::RetractionTargetNotFound, "data.event_id", format!("no event with id {target} exists"));
        let seq = self.tx.seq_of(&target).ok_or_else(not_found)?;
        let (meta, retracted) = self.tx.event(seq).ok_or_else(not_found)?;
        if meta.event_type == EventType::EventRetracted {
            return Err(reject(
                C::RetractionTargetIsRetraction,
                "data.event_id",
                "a retraction cannot itself be retracted",
            ));
        }
        if retracted {
            return Err(reject(
                C::RetractionAlreadyRetracted,
                "data.event_id",
                format!("event {target} is already retracted"),
            ));
        }
        if !self.coordinator {
            self.actor_is(&[meta.actor], "retract this event: only its actor or a coordinator may")?;
        }
        for r in meta.refs.iter() {
            let later = match *r {
                Ref::Entity(key) => self.tx.entity_by_key(key).and_then(|e| e.top_seq()).is_some_and(|top| top != seq),
                Ref::Registers(agency) => self.tx.agency_by_sym(agency).is_some_and(|a| a.naming > 0),
                Ref::Names(_) => false,
            };
            if later {
                return Err(reject(
                    C::RetractionLaterEvents,
                    "data.event_id",
                    format!(
                        "event {target} (seq {seq}) has later, non-retracted events on the same entity; retract those first, newest first"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn assessment_published(&self, p: &AssessmentPublished) -> Check {
        if !self.evaluator {
            return Err(self.not_authorised("publish assessments: only an agency with the evaluator role may"));
        }
        self.new_id(EntityKind::Assessment, &p.assessment_id, "assessment_id", C::AssessmentExists)?;
        let before = self.tx.next_seq() - 1;
        if p.as_of_seq.0 == 0 || p.as_of_seq.0 > before {
            return Err(reject(
                C::AssessmentAsOfBeyondHead,
                "data.as_of_seq",
                format!("as_of_seq must be from 1 to {before}, the seq of the event before this one"),
            ));
        }
        if p.period_from >= p.period_to {
            return Err(reject(C::AssessmentPeriodEmpty, "data.period_to", "period_from must be before period_to"));
        }
        Ok(())
    }
}
