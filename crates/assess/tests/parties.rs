//! The parties of each event (`Projection::is_party`, SPEC 4 v1.2's read
//! scope of an agency token), one row per event of a small city covering
//! every event type of the catalog: who reads it and who does not. The
//! same after a checkpoint round trip, and in the entity listings
//! (`EntityFilter::reader`).

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use govledger_assess::{EntityFilter, EntityKind, Projection};
use govledger_domain::EventType;
use serde_json::{Value, json};
use support::{Log, ev};

/// One event and who may and may not read it.
struct Row {
    event: Value,
    readers: &'static [&'static str],
    others: &'static [&'static str],
}

fn row(ty: &str, actor: &str, data: Value, readers: &'static [&'static str], others: &'static [&'static str]) -> Row {
    Row { event: ev(ty, actor, "2026-01-05T00:00:00Z", data), readers, others }
}

/// A retraction of the event of `rows[index]` (the id is filled in when appended).
const RETRACT: &str = "__retract__";

fn retraction(actor: &str, index: usize, readers: &'static [&'static str], others: &'static [&'static str]) -> Row {
    row("EventRetracted", actor, json!({RETRACT: index, "reason": "entered in error"}), readers, others)
}

fn rows() -> Vec<Row> {
    vec![
        // 0: a registration: the coordinator and the registered agency.
        row(
            "AgencyRegistered",
            "office",
            json!({"agency_id": "bank2", "name": "Bank 2", "kind": "bank"}),
            &["office", "bank2"],
            &["bank", "police"],
        ),
        row(
            "AgencyRegistered",
            "office",
            json!({"agency_id": "police2", "name": "Police 2", "kind": "public_security"}),
            &["office", "police2"],
            &["police"],
        ),
        // 2: a meeting: convener, invitees and (once held) attendees read all of it.
        row(
            "JointMeetingConvened",
            "police",
            json!({"meeting_id": "M1", "title": "Mule accounts",
            "scheduled_for": "2026-01-06T00:00:00Z", "invitees": ["bank", "tel"]}),
            &["police", "bank", "tel", "comm"],
            &["pay", "office"],
        ),
        row(
            "JointMeetingHeld",
            "police",
            json!({"meeting_id": "M1", "attendees": ["bank", "comm"],
            "resolutions": [{"resolution_id": "R1", "text": "Check the accounts"}]}),
            &["police", "bank", "tel", "comm"],
            &["pay"],
        ),
        // 4: a task from the meeting: the assigner and the assignee, not the other invitees.
        row(
            "ResponsibilityAssigned",
            "police",
            json!({"task_id": "T1", "assignee": "bank", "title": "Check",
            "due_at": "2026-02-01T00:00:00Z", "meeting_id": "M1", "resolution_id": "R1"}),
            &["police", "bank"],
            &["tel", "comm", "office"],
        ),
        row("TaskAcknowledged", "bank", json!({"task_id": "T1"}), &["police", "bank"], &["tel", "comm"]),
        // 6: the coordinator extends it: the actor, the assigner and the assignee.
        row(
            "TaskDeadlineExtended",
            "office",
            json!({"task_id": "T1", "due_at": "2026-03-01T00:00:00Z",
            "reason": "more accounts"}),
            &["office", "police", "bank"],
            &["tel"],
        ),
        row(
            "ResponsibilityAssigned",
            "office",
            json!({"task_id": "T2", "assignee": "tel", "title": "Block numbers",
            "due_at": "2026-02-01T00:00:00Z"}),
            &["office", "tel"],
            &["bank", "police"],
        ),
        // 8
        row("TaskCompleted", "tel", json!({"task_id": "T2"}), &["office", "tel"], &["bank"]),
        row(
            "ResponsibilityAssigned",
            "office",
            json!({"task_id": "T3", "assignee": "pay", "title": "Report",
            "due_at": "2026-02-01T00:00:00Z"}),
            &["office", "pay"],
            &["tel"],
        ),
        // 10
        row("TaskCancelled", "office", json!({"task_id": "T3", "reason": "not needed"}), &["office", "pay"], &["tel"]),
        row(
            "FraudCaseReported",
            "police",
            json!({"case_id": "C1", "fraud_type": "刷单返利", "loss_minor": 100_000}),
            &["police"],
            &["bank", "office"],
        ),
        // 12: a freeze: the requester and the bank; another bank sees none of it.
        row(
            "FreezeRequested",
            "police",
            json!({"freeze_id": "F1", "mode": "freeze", "bank": "bank",
            "account_ref": "acct:F1", "amount_minor": 50_000, "case_id": "C1"}),
            &["police", "bank"],
            &["bank2", "police2"],
        ),
        row(
            "FreezeExecuted",
            "bank",
            json!({"freeze_id": "F1", "amount_frozen_minor": 50_000}),
            &["police", "bank"],
            &["bank2", "police2"],
        ),
        // 14
        row(
            "FundsReturned",
            "bank",
            json!({"freeze_id": "F1", "amount_minor": 20_000}),
            &["police", "bank"],
            &["bank2"],
        ),
        row(
            "FreezeReleased",
            "police",
            json!({"freeze_id": "F1", "reason": "case closed"}),
            &["police", "bank"],
            &["bank2"],
        ),
        // 16
        row(
            "FreezeRequested",
            "police2",
            json!({"freeze_id": "F2", "mode": "stop_payment", "bank": "bank2",
            "account_ref": "acct:F2", "amount_minor": 70_000}),
            &["police2", "bank2"],
            &["police", "bank"],
        ),
        row(
            "FreezeRejected",
            "bank2",
            json!({"freeze_id": "F2", "reason": "account closed"}),
            &["police2", "bank2"],
            &["police", "bank"],
        ),
        // 18: clues and warnings: the sender and the `to` agency.
        row(
            "ClueReferred",
            "tel",
            json!({"clue_id": "CL1", "to": "police", "kind": "phone_number"}),
            &["tel", "police"],
            &["bank"],
        ),
        row(
            "ClueFeedbackGiven",
            "police",
            json!({"clue_id": "CL1", "outcome": "confirmed"}),
            &["tel", "police"],
            &["bank"],
        ),
        // 20
        row(
            "EarlyWarningIssued",
            "police",
            json!({"warning_id": "W1", "to": "comm", "risk": "high"}),
            &["police", "comm"],
            &["bank"],
        ),
        row(
            "DissuasionRecorded",
            "comm",
            json!({"warning_id": "W1", "method": "call", "outcome": "dissuaded"}),
            &["police", "comm"],
            &["bank"],
        ),
        // 22
        row(
            "CardBreakingAction",
            "police",
            json!({"action_id": "A1", "bank_cards": 3, "phone_cards": 2,
            "internet_accounts": 1, "suspects": 1}),
            &["police"],
            &["bank", "tel"],
        ),
        // 23: a penalty: the imposer and the target.
        row(
            "PenaltyImposed",
            "reg",
            json!({"penalty_id": "P1", "target": "bank", "kind": "warning",
            "legal_basis": "Anti-Telecom Fraud Law art. 40", "reason": "late answers"}),
            &["reg", "bank"],
            &["bank2", "police"],
        ),
        // 24
        row("PenaltyRevoked", "reg", json!({"penalty_id": "P1", "reason": "appealed"}), &["reg", "bank"], &["bank2"]),
        row(
            "PublicityDelivered",
            "comm",
            json!({"activity_id": "PUB1", "audience": "residents", "reach": 100}),
            &["comm"],
            &["tel", "office"],
        ),
        // 26
        row(
            "AssessmentPublished",
            "office",
            json!({"assessment_id": "AS1", "period_from": "2025-12-01T00:00:00Z",
            "period_to": "2026-01-01T00:00:00Z", "as_of_seq": 3, "model_sha256": "a".repeat(64),
            "report_sha256": "b".repeat(64)}),
            &["office"],
            &["bank"],
        ),
        // 27: retractions: their actor and every party of the retracted event.
        retraction("office", 25, &["office", "comm"], &["tel"]),
        // 28: the rejection of F2, by the coordinator: police2 and bank2 read it, the others do not.
        retraction("office", 17, &["office", "police2", "bank2"], &["police", "bank"]),
        // 29: a party retracts its own step of a task.
        retraction("tel", 8, &["tel", "office"], &["bank", "pay"]),
    ]
}

fn build() -> (Log, Vec<u64>, Vec<Row>) {
    let mut log = Log::new();
    log.city();
    let mut rows = rows();
    let mut seqs: Vec<u64> = Vec::new();
    let mut ids = Vec::new();
    for (i, r) in rows.iter_mut().enumerate() {
        if let Some(index) = r.event["data"][RETRACT].as_u64() {
            let target: uuid::Uuid = ids[index as usize];
            r.event["data"] = json!({"event_id": target.to_string(), "reason": "entered in error"});
        }
        // Each event a minute after the last, so every lifecycle step follows its cause.
        r.event["occurred_at"] = json!(format!("2026-01-05T{:02}:{:02}:00Z", i / 60, i % 60));
        let id = log.push(r.event.clone());
        ids.push(id);
        seqs.push(log.seq_of(id));
    }
    (log, seqs, rows)
}

fn check(p: &Projection, seqs: &[u64], rows: &[Row], how: &str) {
    for (seq, r) in seqs.iter().zip(rows) {
        let ty = r.event["type"].as_str().unwrap();
        for agency in r.readers {
            assert_eq!(p.is_party(*seq, agency), Some(true), "{how}: {agency} reads {ty} at seq {seq}");
        }
        for agency in r.others {
            assert_eq!(p.is_party(*seq, agency), Some(false), "{how}: {agency} must not read {ty} at seq {seq}");
        }
        assert_eq!(p.is_party(*seq, "nobody-registered"), Some(false));
    }
}

#[test]
fn every_event_type_is_read_by_its_parties_and_no_one_else() {
    let (log, seqs, rows) = build();
    let covered: BTreeSet<&str> = rows.iter().map(|r| r.event["type"].as_str().unwrap()).collect();
    let catalog: BTreeSet<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(covered, catalog, "the table covers every event type of the catalog");

    let p = log.projection();
    check(&p, &seqs, &rows, "folded");
    let restored = Projection::from_checkpoint(&p.to_checkpoint()).unwrap();
    check(&restored, &seqs, &rows, "from a checkpoint");
    // Not folded yet: no answer rather than a wrong one.
    assert_eq!(p.is_party(log.head() + 1, "office"), None);
    assert_eq!(p.is_party(0, "office"), None);
}

#[test]
fn entity_listings_keep_the_entities_of_which_the_reader_is_a_party() {
    let (log, _, _) = build();
    let p = log.projection();
    let listed = |kind: EntityKind, reader: &str| -> usize {
        let filter = EntityFilter { reader: Some(reader.into()), ..EntityFilter::default() };
        p.entities(kind, &filter, 0, 100).entities.len()
    };
    assert_eq!(p.entities(EntityKind::Freeze, &EntityFilter::default(), 0, 100).entities.len(), 2);
    assert_eq!((listed(EntityKind::Freeze, "bank"), listed(EntityKind::Freeze, "bank2")), (1, 1));
    assert_eq!((listed(EntityKind::Freeze, "police"), listed(EntityKind::Freeze, "tel")), (1, 0));
    assert_eq!((listed(EntityKind::Meeting, "comm"), listed(EntityKind::Meeting, "pay")), (1, 0));
    assert_eq!(
        (listed(EntityKind::Task, "office"), listed(EntityKind::Task, "bank"), listed(EntityKind::Task, "tel")),
        (2, 1, 1)
    );
    assert_eq!(
        (listed(EntityKind::Clue, "tel"), listed(EntityKind::Warning, "comm"), listed(EntityKind::Penalty, "bank")),
        (1, 1, 1)
    );
    assert_eq!((listed(EntityKind::Case, "police"), listed(EntityKind::Case, "bank")), (1, 0));
    assert_eq!((listed(EntityKind::CardBreaking, "police"), listed(EntityKind::CardBreaking, "bank")), (1, 0));
}
