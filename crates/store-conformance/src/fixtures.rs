//! Envelopes of a small fixture city — a coordinator (`office`), a police
//! bureau (`psb`) and a bank (`bank-a`) — and the lifecycle steps the suite
//! and the ledger's own shared-store tests race on. One place, so that every
//! test of the append path means the same city: the stores' own tests
//! (embedded, KurrentDB) and the API's readiness tests use it too, and count
//! from `city().len()` rather than a number of their own.

use serde_json::{Value, json};
use uuid::Uuid;

use govledger_domain::Submission;

/// Parses a test envelope; panics if it is not well-formed.
pub fn sub(v: Value) -> Submission {
    Submission::parse(v).expect("the suite's envelopes are well-formed")
}

/// An envelope of the fixture city at 2026-02-01T10:00:00Z.
pub fn env(ty: &str, actor: &str, data: Value) -> Submission {
    sub(json!({"type": ty, "actor": actor, "occurred_at": "2026-02-01T10:00:00Z", "data": data}))
}

/// `s` with a client-chosen id.
pub fn with_id(mut s: Submission, id: Uuid) -> Submission {
    s.id = Some(id);
    s
}

/// The registrations of the fixture city, by `office`.
pub fn city() -> Vec<Submission> {
    let reg = |id: &str, kind: &str, roles: Value| {
        env("AgencyRegistered", "office", json!({"agency_id": id, "name": id, "kind": kind, "roles": roles}))
    };
    vec![
        reg("office", "government", json!(["coordinator"])),
        reg("psb", "public_security", json!([])),
        reg("bank-a", "bank", json!([])),
    ]
}

/// A `PublicityDelivered` by the police: an event touching nothing else.
pub fn publicity(id: &str) -> Submission {
    env("PublicityDelivered", "psb", json!({"activity_id": id, "audience": "residents", "reach": 10}))
}

/// The police ask `bank-a` to freeze 5,000 fen.
pub fn freeze_request(id: &str) -> Submission {
    env(
        "FreezeRequested",
        "psb",
        json!({"freeze_id": id, "mode": "freeze", "bank": "bank-a", "account_ref": "acct:x1", "amount_minor": 5000}),
    )
}

/// `bank-a` executes the freeze.
pub fn freeze_execution(id: &str) -> Submission {
    sub(json!({"type": "FreezeExecuted", "actor": "bank-a", "occurred_at": "2026-02-01T10:05:00Z",
               "data": {"freeze_id": id, "amount_frozen_minor": 5000}}))
}

/// `bank-a` rejects the freeze: conflicts with its execution.
pub fn freeze_rejection(id: &str) -> Submission {
    sub(json!({"type": "FreezeRejected", "actor": "bank-a", "occurred_at": "2026-02-01T10:06:00Z",
               "data": {"freeze_id": id, "reason": "account already closed"}}))
}

/// The office assigns `bank-a` a task due 2026-02-10.
pub fn task_assignment(id: &str) -> Submission {
    env(
        "ResponsibilityAssigned",
        "office",
        json!({"task_id": id, "assignee": "bank-a", "title": "close mule accounts", "due_at": "2026-02-10T00:00:00Z"}),
    )
}

/// `bank-a` completes the task.
pub fn task_completion(id: &str) -> Submission {
    sub(json!({"type": "TaskCompleted", "actor": "bank-a", "occurred_at": "2026-02-05T09:00:00Z",
               "data": {"task_id": id}}))
}

/// The office cancels the task: conflicts with its completion.
pub fn task_cancellation(id: &str) -> Submission {
    sub(json!({"type": "TaskCancelled", "actor": "office", "occurred_at": "2026-02-05T09:00:00Z",
               "data": {"task_id": id, "reason": "merged into another task"}}))
}
