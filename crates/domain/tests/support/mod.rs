//! Given/when/then harness over the domain's `State`/`Txn` (in the manner of
//! cqrs-es `test/framework.rs`), a compact fixture city, and one builder per
//! event type, so that each rule test reads as: given these events, when this
//! one is submitted, then it is accepted / rejected with this code.
//!
//! The ledger clock is fixed (`RECORDED_AT`), so the time rules are
//! deterministic. Events get the id given with `.id(n)` (see `EnvelopeExt`),
//! or an automatic one from a range that never meets the explicit ones.

#![allow(dead_code)]

use govledger_domain::{Capacity, ErrorCode, Rejection, State, Submission, Timestamp};
use serde_json::{Value, json};
use uuid::Uuid;

/// The ledger's time for every admission in these tests.
pub const RECORDED_AT: &str = "2026-06-01T00:00:00Z";

/// When the fixture city registers its agencies.
pub const T_REG: &str = "2026-05-01T00:00:00Z";
/// When lifecycles start (cases, requests, meetings, assignments …).
pub const T1: &str = "2026-05-02T00:00:00Z";
/// When the first answers come (executions, feedback, meetings held …).
pub const T2: &str = "2026-05-03T00:00:00Z";
/// Later steps (releases, returns, extensions …).
pub const T3: &str = "2026-05-04T00:00:00Z";
/// A task deadline well after T1..T3.
pub const DUE: &str = "2026-05-10T00:00:00Z";

// ---- the fixture city ---------------------------------------------------------

/// The municipal coordination office: a coordinator that bootstraps itself.
pub const OFFICE: &str = "city-office";
/// A district office that also holds the coordinator role.
pub const DISTRICT: &str = "district-office";
/// The public security bureau (anti-fraud centre).
pub const POLICE: &str = "police-jinjiang";
/// A second public security agency.
pub const POLICE2: &str = "police-licheng";
/// A bank.
pub const BANK: &str = "icbc-jinjiang";
/// A second bank.
pub const BANK2: &str = "ccb-jinjiang";
/// A payment institution.
pub const PAY: &str = "alipay-quanzhou";
/// A telecom operator.
pub const TELECOM: &str = "telecom-quanzhou";
/// An internet platform.
pub const PLATFORM: &str = "platform-quanzhou";
/// A regulator.
pub const REGULATOR: &str = "pboc-quanzhou";
/// A second regulator.
pub const REGULATOR2: &str = "cbirc-quanzhou";
/// An agency with the evaluator role.
pub const EVALUATOR: &str = "audit-bureau";

/// The city: (agency_id, kind, roles). The first entry bootstraps itself;
/// the event id of entry i is `i + 1` (see `registration_of`).
pub const CITY: &[(&str, &str, &[&str])] = &[
    (OFFICE, "government", &["coordinator"]),
    (DISTRICT, "government", &["coordinator"]),
    (POLICE, "public_security", &[]),
    (POLICE2, "public_security", &[]),
    (BANK, "bank", &[]),
    (BANK2, "bank", &[]),
    (PAY, "payment_institution", &[]),
    (TELECOM, "telecom_operator", &[]),
    (PLATFORM, "internet_platform", &[]),
    (REGULATOR, "regulator", &[]),
    (REGULATOR2, "regulator", &[]),
    (EVALUATOR, "other", &["evaluator"]),
];

/// The registrations of the fixture city, in order, all by `OFFICE`.
pub fn city() -> Vec<Value> {
    CITY.iter()
        .enumerate()
        .map(|(i, (agency, kind, roles))| register(OFFICE, agency, kind, roles, T_REG).id(i as u128 + 1))
        .collect()
}

/// The event id (as given to `.id`) of an agency's registration in `city()`.
pub fn registration_of(agency: &str) -> u128 {
    let i = CITY.iter().position(|(a, _, _)| *a == agency).unwrap_or_else(|| panic!("{agency} is not in CITY"));
    i as u128 + 1
}

/// The fixture city followed by `more`.
pub fn city_and(more: &[Value]) -> Vec<Value> {
    let mut events = city();
    events.extend_from_slice(more);
    events
}

// ---- the harness --------------------------------------------------------------

/// The event id for an explicit small number, as used by `.id(n)` and `retract`.
pub fn event_id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Automatic ids start here, far from the explicit ones.
const AUTO_ID_BASE: u128 = 0xa000_0000_0000_0000_0000_0000_0000_0000;

/// A validation state under test, with the fixed ledger clock.
pub struct Scenario {
    state: State,
    next_auto_id: u128,
}

/// Starts from an empty ledger and admits `events` one by one, each in its
/// own committed `Txn`. Panics, naming the event, if one is rejected: a given
/// must be a valid history.
#[track_caller]
pub fn given(events: &[Value]) -> Scenario {
    let mut scenario = Scenario { state: State::new(), next_auto_id: AUTO_ID_BASE };
    for (i, envelope) in events.iter().enumerate() {
        if let Err(r) = scenario.admit_committed(envelope.clone()) {
            panic!("given event #{i} was rejected: {} (field {:?}): {}\n{envelope:#}", r.code, r.field, r.message);
        }
    }
    scenario
}

/// The fixed ledger clock.
pub fn recorded_at() -> Timestamp {
    ts(RECORDED_AT)
}

/// Parses a test timestamp.
#[track_caller]
pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|r| panic!("bad test timestamp {text}: {r}"))
}

/// `text` moved by `delta_micros` microseconds, as canonical RFC 3339.
pub fn shift(text: &str, delta_micros: i64) -> String {
    Timestamp::from_micros(ts(text).micros() + delta_micros).to_rfc3339()
}

/// Parses an envelope that must be well-formed, with its id (explicit or automatic).
#[track_caller]
pub fn parse(envelope: &Value) -> (Uuid, Submission) {
    let sub = Submission::parse(envelope.clone())
        .unwrap_or_else(|r| panic!("test envelope does not parse: {r} (field {:?})\n{envelope:#}", r.field));
    let id = sub.id.unwrap_or_else(|| panic!("this helper needs an envelope with an explicit id:\n{envelope:#}"));
    (id, sub)
}

impl Scenario {
    /// The state, e.g. to begin a `Txn` by hand.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The `seq` of the last admitted event.
    pub fn head_seq(&self) -> u64 {
        self.state.head_seq()
    }

    fn admit_committed(&mut self, envelope: Value) -> Result<u64, Rejection> {
        self.admit_committed_as(envelope, Capacity::FULL)
    }

    fn admit_committed_as(&mut self, envelope: Value, capacity: Capacity) -> Result<u64, Rejection> {
        let sub = Submission::parse(envelope)?;
        let id = sub.id.unwrap_or_else(|| {
            self.next_auto_id += 1;
            Uuid::from_u128(self.next_auto_id)
        });
        let mut txn = self.state.begin();
        let seq = txn.admit_as(id, &sub, recorded_at(), capacity)?;
        txn.commit();
        Ok(seq)
    }

    /// Submits one more event; when accepted it is committed, so further
    /// `when`s build on it.
    pub fn when(&mut self, envelope: Value) -> Outcome {
        self.when_as(envelope, Capacity::FULL)
    }

    /// [`Scenario::when`] with the actor acting in `capacity` (a credential's role).
    pub fn when_as(&mut self, envelope: Value, capacity: Capacity) -> Outcome {
        let expected_seq = self.head_seq() + 1;
        let head_before = self.head_seq();
        let result = self.admit_committed_as(envelope.clone(), capacity);
        if result.is_err() {
            assert_eq!(self.head_seq(), head_before, "a rejected event must not change the state");
        }
        Outcome { envelope, expected_seq, result }
    }

    /// Submits a batch in one `Txn`: committed when every event is accepted,
    /// dropped at the first rejection, which is returned with its index.
    pub fn when_batch(&mut self, envelopes: &[Value]) -> Result<Vec<u64>, (usize, Rejection)> {
        let mut txn = self.state.begin();
        let mut seqs = Vec::new();
        for (i, envelope) in envelopes.iter().enumerate() {
            let sub = Submission::parse(envelope.clone()).map_err(|r| (i, r))?;
            let id = sub.id.unwrap_or_else(|| {
                self.next_auto_id += 1;
                Uuid::from_u128(self.next_auto_id)
            });
            seqs.push(txn.admit(id, &sub, recorded_at()).map_err(|r| (i, r))?);
        }
        txn.commit();
        Ok(seqs)
    }
}

/// What became of a submitted event.
#[must_use = "say what is expected: then_accepted() or then_rejected(..)"]
pub struct Outcome {
    envelope: Value,
    expected_seq: u64,
    result: Result<u64, Rejection>,
}

impl Outcome {
    /// Asserts the event was accepted as the next event; returns its `seq`.
    #[track_caller]
    pub fn then_accepted(self) -> u64 {
        match self.result {
            Ok(seq) => {
                assert_eq!(seq, self.expected_seq, "an accepted event takes the next seq");
                seq
            }
            Err(r) => panic!(
                "expected the event to be accepted, but it was rejected: {} (field {:?}): {}\n{:#}",
                r.code, r.field, r.message, self.envelope
            ),
        }
    }

    /// Asserts the event was rejected with `code`; returns the rejection.
    #[track_caller]
    pub fn then_rejected(self, code: ErrorCode) -> Rejection {
        match self.result {
            Ok(seq) => {
                panic!("expected rejection {code}, but the event was accepted as seq {seq}\n{:#}", self.envelope)
            }
            Err(r) => {
                assert_eq!(r.code, code, "wrong rejection code (message: {}) for\n{:#}", r.message, self.envelope);
                assert!(!r.message.trim().is_empty(), "a rejection carries a sentence");
                r
            }
        }
    }

    /// Asserts the event was rejected with `code`, blaming `field`.
    #[track_caller]
    pub fn then_rejected_at(self, code: ErrorCode, field: &str) -> Rejection {
        let r = self.then_rejected(code);
        assert_eq!(r.field.as_deref(), Some(field), "wrong field for {code} (message: {})", r.message);
        r
    }
}

// ---- envelopes ------------------------------------------------------------------

/// An envelope without an id.
pub fn ev(event_type: &str, actor: &str, occurred_at: &str, data: Value) -> Value {
    json!({"type": event_type, "actor": actor, "occurred_at": occurred_at, "data": data})
}

/// Small edits of test envelopes.
pub trait EnvelopeExt {
    /// Gives the envelope the explicit id `event_id(n)`.
    fn id(self, n: u128) -> Value;
    /// Sets (or adds) one payload field.
    fn with(self, field: &str, value: Value) -> Value;
    /// Removes one payload field.
    fn without(self, field: &str) -> Value;
}

impl EnvelopeExt for Value {
    fn id(mut self, n: u128) -> Value {
        self["id"] = json!(event_id(n).hyphenated().to_string());
        self
    }

    fn with(mut self, field: &str, value: Value) -> Value {
        self["data"][field] = value;
        self
    }

    fn without(mut self, field: &str) -> Value {
        if let Some(data) = self["data"].as_object_mut() {
            data.remove(field);
        }
        self
    }
}

// ---- one builder per event type (actor first, occurred_at last) ------------------

pub fn register(actor: &str, agency_id: &str, kind: &str, roles: &[&str], at: &str) -> Value {
    ev(
        "AgencyRegistered",
        actor,
        at,
        json!({"agency_id": agency_id, "name": format!("{agency_id} (name)"), "kind": kind, "roles": roles}),
    )
}

pub fn convene(actor: &str, meeting_id: &str, invitees: &[&str], at: &str) -> Value {
    ev(
        "JointMeetingConvened",
        actor,
        at,
        json!({"meeting_id": meeting_id, "title": "joint anti-fraud meeting", "scheduled_for": T2, "invitees": invitees}),
    )
}

pub fn hold(actor: &str, meeting_id: &str, attendees: &[&str], resolution_ids: &[&str], at: &str) -> Value {
    let resolutions: Vec<Value> =
        resolution_ids.iter().map(|r| json!({"resolution_id": r, "text": format!("resolution {r}")})).collect();
    ev(
        "JointMeetingHeld",
        actor,
        at,
        json!({"meeting_id": meeting_id, "attendees": attendees, "resolutions": resolutions}),
    )
}

pub fn assign(actor: &str, task_id: &str, assignee: &str, due_at: &str, at: &str) -> Value {
    ev(
        "ResponsibilityAssigned",
        actor,
        at,
        json!({"task_id": task_id, "assignee": assignee, "title": "close mule accounts", "due_at": due_at}),
    )
}

pub fn assign_from_meeting(
    actor: &str,
    task_id: &str,
    assignee: &str,
    meeting_id: &str,
    resolution_id: &str,
    at: &str,
) -> Value {
    assign(actor, task_id, assignee, DUE, at)
        .with("meeting_id", json!(meeting_id))
        .with("resolution_id", json!(resolution_id))
}

pub fn acknowledge(actor: &str, task_id: &str, at: &str) -> Value {
    ev("TaskAcknowledged", actor, at, json!({"task_id": task_id}))
}

pub fn complete(actor: &str, task_id: &str, at: &str) -> Value {
    ev("TaskCompleted", actor, at, json!({"task_id": task_id, "evidence": "closed 12 accounts"}))
}

pub fn extend(actor: &str, task_id: &str, due_at: &str, at: &str) -> Value {
    ev(
        "TaskDeadlineExtended",
        actor,
        at,
        json!({"task_id": task_id, "due_at": due_at, "reason": "more accounts found"}),
    )
}

pub fn cancel(actor: &str, task_id: &str, at: &str) -> Value {
    ev("TaskCancelled", actor, at, json!({"task_id": task_id, "reason": "superseded"}))
}

pub fn report_case(actor: &str, case_id: &str, at: &str) -> Value {
    ev(
        "FraudCaseReported",
        actor,
        at,
        json!({"case_id": case_id, "fraud_type": "impersonation", "loss_minor": 5_000_000}),
    )
}

pub fn request_freeze(actor: &str, freeze_id: &str, bank: &str, at: &str) -> Value {
    ev(
        "FreezeRequested",
        actor,
        at,
        json!({"freeze_id": freeze_id, "mode": "freeze", "bank": bank, "account_ref": "hmac:9f2c1a7e",
               "amount_minor": 1_000_000}),
    )
}

pub fn execute(actor: &str, freeze_id: &str, amount_frozen_minor: u64, at: &str) -> Value {
    ev("FreezeExecuted", actor, at, json!({"freeze_id": freeze_id, "amount_frozen_minor": amount_frozen_minor}))
}

pub fn refuse(actor: &str, freeze_id: &str, at: &str) -> Value {
    ev("FreezeRejected", actor, at, json!({"freeze_id": freeze_id, "reason": "account already closed"}))
}

pub fn release(actor: &str, freeze_id: &str, at: &str) -> Value {
    ev("FreezeReleased", actor, at, json!({"freeze_id": freeze_id, "reason": "case closed"}))
}

pub fn return_funds(actor: &str, freeze_id: &str, amount_minor: u64, at: &str) -> Value {
    ev("FundsReturned", actor, at, json!({"freeze_id": freeze_id, "amount_minor": amount_minor}))
}

pub fn refer_clue(actor: &str, clue_id: &str, to: &str, at: &str) -> Value {
    ev("ClueReferred", actor, at, json!({"clue_id": clue_id, "to": to, "kind": "phone_number", "summary": "caller"}))
}

pub fn feedback(actor: &str, clue_id: &str, at: &str) -> Value {
    ev("ClueFeedbackGiven", actor, at, json!({"clue_id": clue_id, "outcome": "confirmed", "action": "number cut off"}))
}

pub fn warn(actor: &str, warning_id: &str, to: &str, at: &str) -> Value {
    ev("EarlyWarningIssued", actor, at, json!({"warning_id": warning_id, "to": to, "risk": "high"}))
}

pub fn dissuade(actor: &str, warning_id: &str, at: &str) -> Value {
    ev("DissuasionRecorded", actor, at, json!({"warning_id": warning_id, "method": "call", "outcome": "dissuaded"}))
}

pub fn card_action(actor: &str, action_id: &str, at: &str) -> Value {
    ev(
        "CardBreakingAction",
        actor,
        at,
        json!({"action_id": action_id, "operation": "duanka-2026", "bank_cards": 12, "phone_cards": 30,
               "internet_accounts": 4, "suspects": 3}),
    )
}

pub fn impose(actor: &str, penalty_id: &str, target: &str, kind: &str, at: &str) -> Value {
    ev(
        "PenaltyImposed",
        actor,
        at,
        json!({"penalty_id": penalty_id, "target": target, "kind": kind, "legal_basis": "Anti-Telecom Fraud Law art. 38",
               "reason": "late freeze responses"}),
    )
}

pub fn revoke(actor: &str, penalty_id: &str, at: &str) -> Value {
    ev("PenaltyRevoked", actor, at, json!({"penalty_id": penalty_id, "reason": "appeal upheld"}))
}

pub fn publicity(actor: &str, activity_id: &str, at: &str) -> Value {
    ev("PublicityDelivered", actor, at, json!({"activity_id": activity_id, "audience": "retirees", "reach": 250}))
}

/// Retracts the event whose explicit id is `event_id(target)`.
pub fn retract(actor: &str, target: u128, at: &str) -> Value {
    ev(
        "EventRetracted",
        actor,
        at,
        json!({"event_id": event_id(target).hyphenated().to_string(), "reason": "entered by mistake"}),
    )
}

pub fn publish(actor: &str, assessment_id: &str, as_of_seq: u64, at: &str) -> Value {
    ev(
        "AssessmentPublished",
        actor,
        at,
        json!({"assessment_id": assessment_id, "period_from": "2026-01-01T00:00:00Z",
               "period_to": "2026-04-01T00:00:00Z", "as_of_seq": as_of_seq,
               "model_sha256": "a".repeat(64), "report_sha256": "b".repeat(64)}),
    )
}
