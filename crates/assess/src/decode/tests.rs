//! The direct reader's unit tests: it reads what serde reads, and refuses
//! what serde refuses.

use super::*;
use govledger_domain::Submission;
use serde_json::json;

fn body(ty: &str, actor: &str, data: serde_json::Value) -> Vec<u8> {
    let sub =
        Submission::parse(json!({"type": ty, "actor": actor, "occurred_at": "2026-03-02T08:17:30.5Z", "data": data}))
            .unwrap();
    let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0042);
    let at = Timestamp::parse("2026-03-02T08:20:00Z").unwrap();
    StoredEvent::seal(42, id, &sub, at, govledger_ledger::GENESIS_HASH).body
}

#[test]
fn the_canonical_reader_agrees_with_serde_json() {
    let samples = [
        body(
            "AgencyRegistered",
            "office",
            json!({"agency_id": "icbc-jj", "name": "工商银行 \"晋江\"\nbranch", "kind": "bank"}),
        ),
        body(
            "AgencyRegistered",
            "office",
            json!({"agency_id": "icbc-jj", "name": "工商银行晋江支行", "kind": "bank", "roles": ["evaluator"], "jurisdiction": "晋江"}),
        ),
        body(
            "JointMeetingConvened",
            "office",
            json!({"meeting_id": "M1", "title": "a \\ b", "scheduled_for": "2026-03-03T00:00:00Z", "invitees": ["a1", "b2"]}),
        ),
        body(
            "JointMeetingHeld",
            "office",
            json!({"meeting_id": "M1", "attendees": [], "resolutions": [{"resolution_id": "R1", "text": "do {it} [now]"}]}),
        ),
        body(
            "ResponsibilityAssigned",
            "office",
            json!({"task_id": "T1", "assignee": "a1", "title": "t", "due_at": "2026-04-01T00:00:00.123456Z", "meeting_id": "M1", "resolution_id": "R1"}),
        ),
        body(
            "TaskDeadlineExtended",
            "office",
            json!({"task_id": "T1", "due_at": "2026-05-01T00:00:00Z", "reason": "tab\there \u{1}"}),
        ),
        body(
            "FraudCaseReported",
            "police",
            json!({"case_id": "K1", "fraud_type": "x", "loss_minor": 1_000_000_000_000_000u64}),
        ),
        body(
            "FreezeRequested",
            "police",
            json!({"freeze_id": "F1", "mode": "freeze", "bank": "b1", "account_ref": "ref", "amount_minor": 0, "case_id": "K1"}),
        ),
        body("FundsReturned", "b1", json!({"freeze_id": "F1", "amount_minor": 5})),
        body(
            "CardBreakingAction",
            "police",
            json!({"action_id": "A1", "operation": "op", "bank_cards": 1, "phone_cards": 2, "internet_accounts": 3, "suspects": 4}),
        ),
        body(
            "PenaltyImposed",
            "reg",
            json!({"penalty_id": "P1", "target": "b1", "kind": "fine", "amount_minor": 7, "legal_basis": "b", "reason": "r"}),
        ),
        body("EventRetracted", "office", json!({"event_id": "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e", "reason": "r"})),
        body(
            "AssessmentPublished",
            "office",
            json!({"assessment_id": "A1", "period_from": "2026-01-01T00:00:00Z", "period_to": "2026-04-01T00:00:00Z", "as_of_seq": 3, "model_sha256": "0".repeat(64), "report_sha256": "f".repeat(64)}),
        ),
        body("PublicityDelivered", "office", json!({"activity_id": "X", "audience": "all", "reach": 9})),
        body(
            "AgencyRegistered",
            "office",
            json!({"agency_id": "district", "name": "District office", "kind": "government", "roles": ["evaluator", "coordinator"]}),
        ),
        body("TaskAcknowledged", "a1", json!({"task_id": "T1"})),
    ];
    for b in &samples {
        assert_eq!(decode_body(b).unwrap(), decode_body_serde(b).unwrap(), "{}", String::from_utf8_lossy(b));
    }
    // Roles: only `coordinator` matters to the indicators (SPEC 3.2 v1.2).
    let coordinator = |b: &[u8]| match decode_body(b).unwrap().fact {
        Fact::AgencyRegistered { coordinator, .. } => coordinator,
        other => panic!("not a registration: {other:?}"),
    };
    assert_eq!(
        (coordinator(&samples[0]), coordinator(&samples[1]), coordinator(&samples[samples.len() - 2])),
        (false, false, true)
    );
    assert_eq!(decode_body(&samples[samples.len() - 1]).unwrap().fact, Fact::TaskAcknowledged { task_id: "T1" });
    // The shortcut is taken for ordinary bodies, and not for an escaped name.
    let shortcut = |b: &[u8]| EventView::parse(b).and_then(|view| payload::read(view.data)).is_some();
    assert!(shortcut(&samples[1]));
    assert!(!shortcut(&samples[0]));
    assert!(samples[2..].iter().all(|b| shortcut(b)));
    // Not canonical: both refuse or agree.
    let spaced = String::from_utf8(samples[8].clone()).unwrap().replacen(":", ": ", 1);
    assert!(!shortcut(spaced.as_bytes()));
    assert_eq!(decode_body(spaced.as_bytes()).unwrap(), decode_body_serde(&samples[8]).unwrap());
    // A payload with something after it is not read as a payload.
    assert!(payload::read(r#"{"task_id":"T1"}x"#).is_none());
    assert!(decode_body(b"{\"actor\":\"x\"").is_err());
}

/// Timestamps are the domain's: a stored timestamp in another form than the
/// canonical one (an offset) is read as the domain reads it, and one the
/// domain refuses is a decode error naming the field.
#[test]
fn timestamps_are_read_by_the_domains_parser() {
    let canonical = body(
        "TaskDeadlineExtended",
        "office",
        json!({"task_id": "T1", "due_at": "2026-05-01T00:00:00Z", "reason": "r"}),
    );
    let text = String::from_utf8(canonical).unwrap();
    let offset = text.replace("2026-05-01T00:00:00Z", "2026-05-01T08:00:00+08:00");
    let due = |b: &[u8]| match decode_body(b).unwrap().fact {
        Fact::TaskExtended { due_us, .. } => due_us,
        other => panic!("not an extension: {other:?}"),
    };
    assert_eq!(due(offset.as_bytes()), due(text.as_bytes()));
    assert_eq!(due(text.as_bytes()), Timestamp::parse("2026-05-01T00:00:00Z").unwrap().micros());
    let leap = text.replace("2026-05-01T00:00:00Z", "2026-05-01T00:00:60Z");
    let e = decode_body(leap.as_bytes()).unwrap_err();
    assert!(e.reason.contains("due_at") && e.reason.contains("not a timestamp"), "{e}");
}
