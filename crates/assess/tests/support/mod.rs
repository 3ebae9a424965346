//! Test support: a ledger in memory whose events pass every domain rule
//! (`Txn::admit`) and are sealed like the real ledger seals them (seq,
//! recorded_at, hash chain, canonical body), without a store.

#![allow(dead_code)]
// Test support: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use govledger_assess::{Assessment, Model, Projection, Query};
use govledger_domain::{Rejection, State, Submission, Timestamp};
use govledger_ledger::{GENESIS_HASH, StoredEvent};
use serde_json::{Value, json};
use uuid::Uuid;

/// An in-memory ledger.
pub struct Log {
    state: State,
    pub events: Vec<StoredEvent>,
    pub bodies: Vec<Vec<u8>>,
    last_recorded: Option<Timestamp>,
}

impl Default for Log {
    fn default() -> Self {
        Self::new()
    }
}

/// An envelope.
pub fn ev(ty: &str, actor: &str, occurred_at: &str, data: Value) -> Value {
    json!({"type": ty, "actor": actor, "occurred_at": occurred_at, "data": data})
}

pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

impl Log {
    pub fn new() -> Self {
        Log { state: State::new(), events: Vec::new(), bodies: Vec::new(), last_recorded: None }
    }

    /// Appends `sub` recorded at `recorded_at`, if every rule admits it.
    pub fn try_append(&mut self, recorded_at: Timestamp, sub: &Submission) -> Result<StoredEvent, Rejection> {
        let seq = self.events.len() as u64 + 1;
        // Deterministic ids, so that two logs built alike are equal.
        let id = sub.id.unwrap_or_else(|| Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | u128::from(seq)));
        let mut txn = self.state.begin();
        let admitted = txn.admit(id, sub, recorded_at)?;
        txn.commit();
        assert_eq!(admitted, seq);
        let prev = self.events.last().map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
        let enc = StoredEvent::seal(seq, id, sub, recorded_at, &prev);
        self.events.push(enc.event.clone());
        self.bodies.push(enc.body);
        self.last_recorded = Some(recorded_at);
        Ok(enc.event)
    }

    /// Appends an envelope recorded at `recorded_at`; panics on rejection.
    pub fn push_recorded(&mut self, recorded_at: &str, envelope: Value) -> Uuid {
        let sub = Submission::parse(envelope.clone()).unwrap_or_else(|r| panic!("{r}: {envelope}"));
        let recorded = ts(recorded_at);
        self.try_append(recorded, &sub).unwrap_or_else(|r| panic!("rejected: {r}: {envelope}")).id
    }

    /// Appends an envelope recorded at its occurred_at (or at the previous
    /// event's recorded_at, if that is later); panics on rejection.
    pub fn push(&mut self, envelope: Value) -> Uuid {
        let occurred = ts(envelope["occurred_at"].as_str().unwrap());
        let recorded = match self.last_recorded {
            Some(last) if last > occurred => last,
            _ => occurred,
        };
        self.push_recorded(&recorded.to_rfc3339(), envelope)
    }

    /// Appends an envelope that must be rejected; returns the error code.
    pub fn reject(&mut self, envelope: Value) -> String {
        let sub = Submission::parse(envelope).unwrap();
        let recorded = self.last_recorded.unwrap_or_else(|| ts("2026-01-01T00:00:00Z"));
        self.try_append(recorded, &sub).unwrap_err().code.to_string()
    }

    pub fn head(&self) -> u64 {
        self.events.len() as u64
    }

    /// The seq of the event with this id.
    pub fn seq_of(&self, id: Uuid) -> u64 {
        self.events.iter().find(|e| e.id == id).unwrap().seq
    }

    /// The projection of the first `k` events, folded one by one.
    pub fn projection_upto(&self, k: u64) -> Projection {
        let mut p = Projection::new();
        for e in &self.events[..k as usize] {
            p.apply(e).unwrap();
        }
        p
    }

    pub fn projection(&self) -> Projection {
        self.projection_upto(self.head())
    }

    /// The assessment with the default model.
    pub fn assess(&self, from: &str, to: &str, as_of: Option<u64>) -> Assessment {
        let q = Query { from: ts(from), to: ts(to), as_of };
        self.projection().assess(&Model::default_v1(), &q).unwrap()
    }

    // ---- shorthands for common events -----------------------------------

    /// The coordination office (bootstrap, coordinator and evaluator) and
    /// one agency of each kind the tests use.
    pub fn city(&mut self) {
        let at = "2025-12-01T00:00:00Z";
        self.push(ev(
            "AgencyRegistered",
            "office",
            at,
            json!({"agency_id": "office", "name": "Coordination office", "kind": "government", "roles": ["coordinator", "evaluator"]}),
        ));
        for (id, kind) in [
            ("police", "public_security"),
            ("bank", "bank"),
            ("pay", "payment_institution"),
            ("tel", "telecom_operator"),
            ("reg", "regulator"),
            ("comm", "community"),
        ] {
            self.register(at, id, kind);
        }
    }

    pub fn register(&mut self, at: &str, id: &str, kind: &str) -> Uuid {
        self.push(ev(
            "AgencyRegistered",
            "office",
            at,
            json!({"agency_id": id, "name": format!("The {id}"), "kind": kind}),
        ))
    }

    pub fn assign(&mut self, at: &str, task: &str, assignee: &str, due: &str) -> Uuid {
        self.push(ev(
            "ResponsibilityAssigned",
            "office",
            at,
            json!({"task_id": task, "assignee": assignee, "title": "Do it", "due_at": due}),
        ))
    }

    pub fn complete(&mut self, at: &str, task: &str, assignee: &str) -> Uuid {
        self.push(ev("TaskCompleted", assignee, at, json!({"task_id": task})))
    }

    pub fn extend(&mut self, at: &str, task: &str, due: &str) -> Uuid {
        self.push(ev(
            "TaskDeadlineExtended",
            "office",
            at,
            json!({"task_id": task, "due_at": due, "reason": "more time"}),
        ))
    }

    pub fn cancel(&mut self, at: &str, task: &str) -> Uuid {
        self.push(ev("TaskCancelled", "office", at, json!({"task_id": task, "reason": "no longer needed"})))
    }

    pub fn freeze(&mut self, at: &str, id: &str, bank: &str) -> Uuid {
        self.push(ev(
            "FreezeRequested",
            "police",
            at,
            json!({"freeze_id": id, "mode": "freeze", "bank": bank, "account_ref": "hmac:ab12", "amount_minor": 500_000}),
        ))
    }

    pub fn execute(&mut self, at: &str, id: &str, bank: &str) -> Uuid {
        self.push(ev("FreezeExecuted", bank, at, json!({"freeze_id": id, "amount_frozen_minor": 400_000})))
    }

    pub fn reject_freeze(&mut self, at: &str, id: &str, bank: &str) -> Uuid {
        self.push(ev("FreezeRejected", bank, at, json!({"freeze_id": id, "reason": "account closed"})))
    }

    pub fn retract(&mut self, at: &str, id: Uuid) -> Uuid {
        self.push(ev("EventRetracted", "office", at, json!({"event_id": id.to_string(), "reason": "entered in error"})))
    }
}
