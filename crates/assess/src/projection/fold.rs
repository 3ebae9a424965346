//! Folding one decoded event into the projection: where its effect goes
//! ([`Projection::fold_fact`]) and how a retraction marks it
//! ([`Projection::retract`]).

use super::{
    Agency, Answer, Card, Case, Freeze, FreezeAnswer, Held, Life, Loc, Meeting, Pair, Penalty, Projection,
    ProjectionError, Registration, Request, Return, Slot, Steps, Task, TaskStep, TaskStepKind,
};
use crate::decode::{Decoded, Fact};

impl Projection {
    /// Whether `agency` holds the `coordinator` role now, at the event being
    /// folded: its standing registration gives it. (An actor always has one.)
    ///
    /// Decided once, when a meeting is convened or a task assigned, and kept:
    /// that is also the answer as of any later position while the meeting or
    /// task stands, because a registration can be retracted only after every
    /// later event naming the agency (its convenings and assignments among
    /// them) was retracted (SPEC 2.4), and an agency id is registered again
    /// only after that. So "as of k" needs no look-up of roles.
    fn is_coordinator(&self, agency: &str) -> bool {
        self.agency_index.get(agency).is_some_and(|sym| {
            self.agencies[*sym as usize]
                .registrations
                .iter()
                .rev()
                .find(|r| r.life.retracted_at == 0)
                .is_some_and(|r| r.coordinator)
        })
    }

    fn agency_mut(&mut self, sym: u32) -> &mut Agency {
        let i = sym as usize;
        if i >= self.agencies.len() {
            // Unreachable: syms come from `agency_sym`; kept total for safety.
            self.agencies.resize_with(i + 1, Agency::default);
        }
        &mut self.agencies[i]
    }

    /// Records what the event changes and returns where. Lookups happen
    /// before any change, so an error leaves the projection as it was.
    pub(super) fn fold_fact(&mut self, ev: &Decoded<'_>) -> Result<Loc, ProjectionError> {
        let seq = ev.seq;
        let life = Life::new(seq, ev.id);
        let at_us = ev.occurred_us;
        let missing = |what: &str, id: &str| unknown(seq, what, id);
        Ok(match &ev.fact {
            Fact::AgencyRegistered { agency_id, name, kind, coordinator } => {
                let sym = self.agency_sym(agency_id);
                let reg = Registration { life, name: name.as_ref().into(), kind: *kind, coordinator: *coordinator };
                self.agency_mut(sym).registrations.push(reg);
                Loc::Registration(sym)
            }
            Fact::MeetingConvened { meeting_id, invitees } => {
                let by_coordinator = self.is_coordinator(ev.actor);
                let idx = index(self.meetings.len());
                let invitees: Vec<u32> = invitees.iter().map(|a| self.agency_sym(a)).collect();
                for a in invitees {
                    self.agency_mut(a).meetings.push(idx);
                }
                self.meetings.push(Meeting { life, by_coordinator, held: Steps::new() });
                self.meetings_by_id.insert((*meeting_id).into(), idx);
                Loc::Meeting(idx)
            }
            Fact::MeetingHeld { meeting_id, attendees } => {
                let idx = *self.meetings_by_id.get(*meeting_id).ok_or_else(|| missing("meeting", meeting_id))?;
                let attendees: Box<[u32]> = attendees.iter().map(|a| self.agency_sym(a)).collect();
                self.meetings[idx as usize].held.push(Held { life, at_us, attendees });
                Loc::Meeting(idx)
            }
            Fact::TaskAssigned { task_id, assignee, due_us } => {
                let by_coordinator = self.is_coordinator(ev.actor);
                let agency = self.agency_sym(assignee);
                let tasks = &mut self.agency_mut(agency).tasks;
                let slot = Slot { agency, idx: index(tasks.len()) };
                tasks.push(Task { life, due_us: *due_us, by_coordinator, steps: Steps::new() });
                self.tasks_by_id.insert((*task_id).into(), slot);
                Loc::Task(slot)
            }
            Fact::TaskExtended { task_id, due_us } => {
                self.task_step(task_id, TaskStep { life, at_us, kind: TaskStepKind::Extended { due_us: *due_us } })?
            }
            Fact::TaskAcknowledged { task_id } => {
                self.task_step(task_id, TaskStep { life, at_us, kind: TaskStepKind::Acknowledged })?
            }
            Fact::TaskCompleted { task_id } => {
                self.task_step(task_id, TaskStep { life, at_us, kind: TaskStepKind::Completed })?
            }
            Fact::TaskCancelled { task_id } => {
                self.task_step(task_id, TaskStep { life, at_us, kind: TaskStepKind::Cancelled })?
            }
            Fact::CaseReported { loss_minor } => {
                let agency = self.agency_sym(ev.actor);
                let cases = &mut self.agency_mut(agency).cases;
                let slot = Slot { agency, idx: index(cases.len()) };
                cases.push(Case { life, at_us, loss_minor: *loss_minor });
                Loc::Case(slot)
            }
            Fact::FreezeRequested { freeze_id, bank } => {
                let (requester, bank) = (self.agency_sym(ev.actor), self.agency_sym(bank));
                let freezes = &mut self.agency_mut(bank).freezes;
                let bank = Slot { agency: bank, idx: index(freezes.len()) };
                freezes.push(Freeze { life, requested_us: at_us, answers: Steps::new() });
                let requests = &mut self.agency_mut(requester).requests;
                let requester = Slot { agency: requester, idx: index(requests.len()) };
                requests.push(Request { life, requested_us: at_us, returns: Steps::new() });
                self.freezes_by_id.insert((*freeze_id).into(), (bank, requester));
                Loc::FreezeRequest { bank, requester }
            }
            Fact::FreezeExecuted { freeze_id } => {
                self.freeze_answer(freeze_id, FreezeAnswer { life, at_us, executed: true })?
            }
            Fact::FreezeRejected { freeze_id } => {
                self.freeze_answer(freeze_id, FreezeAnswer { life, at_us, executed: false })?
            }
            Fact::FundsReturned { freeze_id, amount_minor } => {
                let (_, requester) = *self.freezes_by_id.get(*freeze_id).ok_or_else(|| missing("freeze", freeze_id))?;
                let r = Return { life, amount_minor: *amount_minor };
                self.agency_mut(requester.agency).requests[requester.idx as usize].returns.push(r);
                Loc::FundsReturned(requester)
            }
            Fact::ClueReferred { clue_id, to } => {
                let agency = self.agency_sym(to);
                let clues = &mut self.agency_mut(agency).clues;
                let slot = Slot { agency, idx: index(clues.len()) };
                clues.push(Pair { life, at_us, answers: Steps::new() });
                self.clues_by_id.insert((*clue_id).into(), slot);
                Loc::Clue(slot)
            }
            Fact::ClueFeedback { clue_id } => {
                let slot = *self.clues_by_id.get(*clue_id).ok_or_else(|| missing("clue", clue_id))?;
                self.agency_mut(slot.agency).clues[slot.idx as usize].answers.push(Answer { life, at_us });
                Loc::Clue(slot)
            }
            Fact::WarningIssued { warning_id, to } => {
                let agency = self.agency_sym(to);
                let warnings = &mut self.agency_mut(agency).warnings;
                let slot = Slot { agency, idx: index(warnings.len()) };
                warnings.push(Pair { life, at_us, answers: Steps::new() });
                self.warnings_by_id.insert((*warning_id).into(), slot);
                Loc::Warning(slot)
            }
            Fact::DissuasionRecorded { warning_id } => {
                let slot = *self.warnings_by_id.get(*warning_id).ok_or_else(|| missing("warning", warning_id))?;
                self.agency_mut(slot.agency).warnings[slot.idx as usize].answers.push(Answer { life, at_us });
                Loc::Warning(slot)
            }
            Fact::CardBreaking { disposed } => {
                let agency = self.agency_sym(ev.actor);
                let cards = &mut self.agency_mut(agency).cards;
                let slot = Slot { agency, idx: index(cards.len()) };
                cards.push(Card { life, at_us, disposed: *disposed });
                Loc::Card(slot)
            }
            Fact::PenaltyImposed { penalty_id, target, kind } => {
                let agency = self.agency_sym(target);
                let penalties = &mut self.agency_mut(agency).penalties;
                let slot = Slot { agency, idx: index(penalties.len()) };
                penalties.push(Penalty { life, at_us, kind: *kind, revocations: Steps::new() });
                self.penalties_by_id.insert((*penalty_id).into(), slot);
                Loc::Penalty(slot)
            }
            Fact::PenaltyRevoked { penalty_id } => {
                let slot = *self.penalties_by_id.get(*penalty_id).ok_or_else(|| missing("penalty", penalty_id))?;
                self.agency_mut(slot.agency).penalties[slot.idx as usize].revocations.push(life);
                Loc::Penalty(slot)
            }
            Fact::Retracted { event_id } => {
                let target =
                    self.seq_by_id.get(&self.ids, event_id).ok_or_else(|| missing("event", &event_id.to_string()))?;
                let loc = self.locs[(target - 1) as usize];
                self.retract(loc, target, seq);
                Loc::Retraction(target)
            }
            // Only the read scope (`crate::parties`) follows these.
            Fact::FreezeReleased { .. } | Fact::Other => Loc::Nothing,
        })
    }

    fn task_step(&mut self, task_id: &str, step: TaskStep) -> Result<Loc, ProjectionError> {
        let slot = *self.tasks_by_id.get(task_id).ok_or_else(|| unknown(step.life.seq, "task", task_id))?;
        self.agency_mut(slot.agency).tasks[slot.idx as usize].steps.push(step);
        Ok(Loc::Task(slot))
    }

    fn freeze_answer(&mut self, freeze_id: &str, answer: FreezeAnswer) -> Result<Loc, ProjectionError> {
        let (bank, _) =
            *self.freezes_by_id.get(freeze_id).ok_or_else(|| unknown(answer.life.seq, "freeze", freeze_id))?;
        self.agency_mut(bank.agency).freezes[bank.idx as usize].answers.push(answer);
        Ok(Loc::FreezeAnswer(bank))
    }

    /// Marks the event at `target` (recorded at `loc`) as retracted at `seq`.
    fn retract(&mut self, loc: Loc, target: u64, seq: u64) {
        fn mark(life: &mut Life, target: u64, seq: u64) -> bool {
            if life.seq == target {
                life.retracted_at = seq;
                true
            } else {
                false
            }
        }
        match loc {
            // A retraction is not itself retracted (SPEC 2.4).
            Loc::Nothing | Loc::Retraction(_) => {}
            Loc::Registration(sym) => {
                for r in &mut self.agency_mut(sym).registrations {
                    mark(&mut r.life, target, seq);
                }
            }
            Loc::Task(s) => {
                let task = &mut self.agency_mut(s.agency).tasks[s.idx as usize];
                if !mark(&mut task.life, target, seq) {
                    task.steps.iter_mut().any(|st| mark(&mut st.life, target, seq));
                }
            }
            Loc::Meeting(idx) => {
                let m = &mut self.meetings[idx as usize];
                if !mark(&mut m.life, target, seq) {
                    m.held.iter_mut().any(|h| mark(&mut h.life, target, seq));
                }
            }
            Loc::FreezeRequest { bank, requester } => {
                mark(&mut self.agency_mut(bank.agency).freezes[bank.idx as usize].life, target, seq);
                mark(&mut self.agency_mut(requester.agency).requests[requester.idx as usize].life, target, seq);
            }
            Loc::FreezeAnswer(s) => {
                let f = &mut self.agency_mut(s.agency).freezes[s.idx as usize];
                f.answers.iter_mut().any(|a| mark(&mut a.life, target, seq));
            }
            Loc::FundsReturned(s) => {
                let r = &mut self.agency_mut(s.agency).requests[s.idx as usize];
                r.returns.iter_mut().any(|x| mark(&mut x.life, target, seq));
            }
            Loc::Case(s) => {
                mark(&mut self.agency_mut(s.agency).cases[s.idx as usize].life, target, seq);
            }
            Loc::Clue(s) | Loc::Warning(s) => {
                let agency = self.agency_mut(s.agency);
                let pair = if matches!(loc, Loc::Clue(_)) {
                    &mut agency.clues[s.idx as usize]
                } else {
                    &mut agency.warnings[s.idx as usize]
                };
                if !mark(&mut pair.life, target, seq) {
                    pair.answers.iter_mut().any(|a| mark(&mut a.life, target, seq));
                }
            }
            Loc::Card(s) => {
                mark(&mut self.agency_mut(s.agency).cards[s.idx as usize].life, target, seq);
            }
            Loc::Penalty(s) => {
                let p = &mut self.agency_mut(s.agency).penalties[s.idx as usize];
                if !mark(&mut p.life, target, seq) {
                    p.revocations.iter_mut().any(|r| mark(r, target, seq));
                }
            }
        }
    }
}

fn index(len: usize) -> u32 {
    // More than 4 billion entities of one kind would need another layout;
    // the log's seq is far from it at any realistic size.
    u32::try_from(len).unwrap_or(u32::MAX)
}

pub(crate) fn unknown(seq: u64, what: &str, id: &str) -> ProjectionError {
    ProjectionError::Inconsistent {
        seq,
        reason: format!("the event refers to {what} {id:?}, which the log does not contain"),
    }
}
