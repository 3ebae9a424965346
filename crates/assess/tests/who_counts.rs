//! SPEC 3.2 v1.2: who can make a task or a meeting weigh on an agency. A task
//! counts for its assignee only if an agency holding the `coordinator` role
//! assigned it, or the assignee acknowledged it; a meeting counts only if a
//! coordinator convened it. Worked cases: the rival-score attack and its
//! positive controls, a second coordinator, acknowledgements and
//! registrations retracted, each "as of" every position.

// Helpers outside #[test] functions panic to fail the test, like the tests do.
#![allow(clippy::unwrap_used)]

mod support;

use govledger_assess::{AgencyAssessment, Assessment, IndicatorId, IndicatorResult, Model, Query};
use serde_json::{Value, json};
use support::{Log, ev, ts};
use uuid::Uuid;

const FROM: &str = "2026-01-01T00:00:00Z";
const TO: &str = "2026-04-01T00:00:00Z";

fn agency<'a>(a: &'a Assessment, id: &str) -> &'a AgencyAssessment {
    a.agencies.iter().find(|x| x.agency_id == id).unwrap_or_else(|| panic!("{id} not listed"))
}

fn ind<'a>(a: &'a Assessment, id: &str, which: IndicatorId) -> &'a IndicatorResult {
    agency(a, id).indicators.iter().find(|i| i.id == which).unwrap()
}

/// (numerator, denominator, evidence) of an indicator.
fn counts(a: &Assessment, id: &str, which: IndicatorId) -> (Option<u128>, Option<u128>, Vec<Uuid>) {
    let i = ind(a, id, which);
    (i.numerator, i.denominator, i.evidence.clone())
}

fn convene(log: &mut Log, by: &str, meeting: &str, invitees: Value, at: &str) -> Uuid {
    log.push(ev(
        "JointMeetingConvened",
        by,
        at,
        json!({"meeting_id": meeting, "title": "Joint meeting", "scheduled_for": at, "invitees": invitees}),
    ))
}

fn hold(log: &mut Log, by: &str, meeting: &str, attendees: Value, at: &str) -> Uuid {
    log.push(ev(
        "JointMeetingHeld",
        by,
        at,
        json!({"meeting_id": meeting, "attendees": attendees, "resolutions": [{"resolution_id": "R1", "text": "Act"}]}),
    ))
}

/// A task assigned from a held meeting by `by` (its convener or a coordinator).
fn assign_from(log: &mut Log, by: &str, meeting: &str, task: &str, assignee: &str, due: &str, at: &str) -> Uuid {
    log.push(ev(
        "ResponsibilityAssigned",
        by,
        at,
        json!({"task_id": task, "assignee": assignee, "title": "Report", "due_at": due, "meeting_id": meeting,
               "resolution_id": "R1"}),
    ))
}

fn acknowledge(log: &mut Log, by: &str, task: &str, at: &str) -> Uuid {
    log.push(ev("TaskAcknowledged", by, at, json!({"task_id": task})))
}

fn clock(log: &mut Log, at: &str) -> Uuid {
    log.push(ev(
        "PublicityDelivered",
        "office",
        at,
        json!({"activity_id": format!("PUB-{at}"), "audience": "all", "reach": 1}),
    ))
}

/// Every assessment as of `k` equals the assessment of the log cut at `k`.
fn assert_reproducible(log: &Log) {
    let head = log.projection();
    let q = |as_of| Query { from: ts(FROM), to: ts(TO), as_of };
    for k in 1..=log.head() {
        let as_of = head.assess(&Model::default_v1(), &q(Some(k))).unwrap();
        assert_eq!(as_of, log.projection_upto(k).assess(&Model::default_v1(), &q(None)).unwrap(), "as of {k}");
    }
}

/// The attack of issue 21, in the projection: a bank convenes a meeting with
/// a rival bank, holds it without it and assigns it overdue tasks. Nothing of
/// the rival's assessment moves until the rival acknowledges a task.
#[test]
fn a_rival_cannot_move_an_agencys_figures_until_it_acknowledges() {
    let mut log = Log::new();
    log.city();
    log.register("2025-12-01T00:00:00Z", "ccb", "bank");
    // The office's own business with ccb: one task done on time, one meeting attended.
    let t0 = log.assign("2025-12-20T00:00:00Z", "T0", "ccb", "2026-01-10T00:00:00Z");
    let c0 = log.complete("2026-01-09T00:00:00Z", "T0", "ccb");
    let m0 = convene(&mut log, "office", "M0", json!(["ccb"]), "2026-01-02T00:00:00Z");
    let h0 = hold(&mut log, "office", "M0", json!(["ccb"]), "2026-01-03T00:00:00Z");
    clock(&mut log, "2026-02-01T00:00:00Z");
    let before_attack = log.head();

    // bank (no coordinator role) convenes, holds without ccb, assigns two overdue tasks.
    convene(&mut log, "bank", "M1", json!(["ccb", "bank"]), "2026-01-04T00:00:00Z");
    hold(&mut log, "bank", "M1", json!(["bank"]), "2026-01-05T00:00:00Z");
    let t1 = assign_from(&mut log, "bank", "M1", "T1", "ccb", "2026-01-06T00:00:00Z", "2026-01-05T01:00:00Z");
    assign_from(&mut log, "bank", "M1", "T2", "ccb", "2026-01-07T00:00:00Z", "2026-01-05T02:00:00Z");
    let after_attack = log.head();

    let before = log.assess(FROM, TO, Some(before_attack));
    let after = log.assess(FROM, TO, Some(after_attack));
    let unmoved = agency(&after, "ccb").clone();
    assert_eq!(agency(&before, "ccb"), &unmoved, "the rival's whole assessment: figures, evidence, score, rank");
    assert_eq!(counts(&after, "ccb", IndicatorId::TaskOnTimeRate), (Some(1), Some(1), vec![t0, c0]));
    assert_eq!(counts(&after, "ccb", IndicatorId::MeetingAttendanceRate), (Some(1), Some(1), vec![m0, h0]));
    // Not even bank's own attendance of its meeting counts.
    assert_eq!(counts(&after, "bank", IndicatorId::MeetingAttendanceRate), (Some(0), Some(0), vec![]));

    // Positive control: ccb acknowledges T1; now T1 weighs on it (late), with the
    // acknowledgement among the evidence.
    let k1 = acknowledge(&mut log, "ccb", "T1", "2026-01-05T03:00:00Z");
    let acknowledged = log.head();
    let doc = log.assess(FROM, TO, None);
    assert_eq!(counts(&doc, "ccb", IndicatorId::TaskOnTimeRate), (Some(1), Some(2), vec![t0, c0, t1, k1]));
    assert!(agency(&doc, "ccb").score < unmoved.score);
    // The meeting still does not count: it was not a coordinator's.
    assert_eq!(counts(&doc, "ccb", IndicatorId::MeetingAttendanceRate), (Some(1), Some(1), vec![m0, h0]));

    // The acknowledgement retracted: T1 no longer counts, from the retraction on.
    log.retract("2026-01-05T04:00:00Z", k1);
    let doc = log.assess(FROM, TO, None);
    assert_eq!(agency(&doc, "ccb"), &unmoved);
    assert_eq!(counts(&doc, "ccb", IndicatorId::TaskOnTimeRate), (Some(1), Some(1), vec![t0, c0]));
    let doc = log.assess(FROM, TO, Some(acknowledged));
    assert_eq!(counts(&doc, "ccb", IndicatorId::TaskOnTimeRate), (Some(1), Some(2), vec![t0, c0, t1, k1]));
    assert_reproducible(&log);
}

/// A coordinator's meetings and assignments always count, whichever
/// coordinator: the office, or a district office registered with the role.
#[test]
fn a_coordinators_meetings_and_assignments_always_count() {
    let mut log = Log::new();
    log.city();
    log.push(ev(
        "AgencyRegistered",
        "office",
        "2025-12-01T00:00:00Z",
        json!({"agency_id": "district", "name": "District office", "kind": "government", "roles": ["coordinator"]}),
    ));
    let m = convene(&mut log, "district", "MD", json!(["tel"]), "2026-01-02T00:00:00Z");
    let h = hold(&mut log, "district", "MD", json!([]), "2026-01-03T00:00:00Z");
    let t = assign_from(&mut log, "district", "MD", "TD", "tel", "2026-01-04T00:00:00Z", "2026-01-03T01:00:00Z");
    // The office assigns from the district's meeting too (a coordinator may).
    let t2 = assign_from(&mut log, "office", "MD", "TO", "tel", "2026-01-05T00:00:00Z", "2026-01-03T02:00:00Z");
    // tel acknowledges TO: counted once, and the acknowledgement is not needed as evidence.
    acknowledge(&mut log, "tel", "TO", "2026-01-03T03:00:00Z");
    clock(&mut log, "2026-02-01T00:00:00Z");
    let doc = log.assess(FROM, TO, None);
    assert_eq!(counts(&doc, "tel", IndicatorId::MeetingAttendanceRate), (Some(0), Some(1), vec![m, h]));
    assert_eq!(counts(&doc, "tel", IndicatorId::TaskOnTimeRate), (Some(0), Some(2), vec![t, t2]));
    assert_reproducible(&log);
}

/// Roles come from the registration that stands when the meeting is convened
/// or the task assigned. A registration can only be retracted after every
/// later event naming the agency, so a meeting or task never outlives the
/// roles it was judged by; an id registered again starts afresh.
#[test]
fn registrations_retracted_and_made_again() {
    let mut log = Log::new();
    log.city();
    // y, a coordinator, convenes a meeting with tel and holds it without tel.
    let reg_y = log.push(ev(
        "AgencyRegistered",
        "office",
        "2025-12-01T00:00:00Z",
        json!({"agency_id": "y-office", "name": "Y office", "kind": "government", "roles": ["coordinator"]}),
    ));
    let my = convene(&mut log, "y-office", "MY", json!(["tel"]), "2026-01-02T00:00:00Z");
    let hy = hold(&mut log, "y-office", "MY", json!([]), "2026-01-03T00:00:00Z");
    clock(&mut log, "2026-02-01T00:00:00Z");
    let while_y_coordinated = log.head();
    assert_eq!(
        counts(&log.assess(FROM, TO, None), "tel", IndicatorId::MeetingAttendanceRate),
        (Some(0), Some(1), vec![my, hy])
    );
    // y's registration cannot go while its meeting stands.
    let retract_y =
        ev("EventRetracted", "office", "2026-02-01T00:00:00Z", json!({"event_id": reg_y.to_string(), "reason": "r"}));
    assert_eq!(log.reject(retract_y), "retraction.later_events");
    // Newest first: the holding, the convening, then the registration; y comes back without the role.
    log.retract("2026-02-02T00:00:00Z", hy);
    log.retract("2026-02-02T00:00:01Z", my);
    log.retract("2026-02-02T00:00:02Z", reg_y);
    log.register("2026-02-02T00:00:03Z", "y-office", "community");
    convene(&mut log, "y-office", "MY2", json!(["tel"]), "2026-02-03T00:00:00Z");
    hold(&mut log, "y-office", "MY2", json!([]), "2026-02-04T00:00:00Z");
    assign_from(&mut log, "y-office", "MY2", "TY", "tel", "2026-02-05T00:00:00Z", "2026-02-04T01:00:00Z");
    // x: registered without the role, retracted, registered again as a coordinator.
    let reg_x = log.register("2026-02-05T00:00:00Z", "x-office", "community");
    log.retract("2026-02-05T00:00:01Z", reg_x);
    log.push(ev(
        "AgencyRegistered",
        "office",
        "2026-02-05T00:00:02Z",
        json!({"agency_id": "x-office", "name": "X office", "kind": "government", "roles": ["coordinator"]}),
    ));
    let mx = convene(&mut log, "x-office", "MX", json!(["tel"]), "2026-02-06T00:00:00Z");
    let hx = hold(&mut log, "x-office", "MX", json!(["tel"]), "2026-02-07T00:00:00Z");
    let tx = assign_from(&mut log, "x-office", "MX", "TX", "tel", "2026-02-08T00:00:00Z", "2026-02-07T01:00:00Z");
    clock(&mut log, "2026-03-01T00:00:00Z");

    let doc = log.assess(FROM, TO, None);
    // MY retracted; MY2 and TY are the uncoordinated y's; MX and TX the coordinator x's.
    assert_eq!(counts(&doc, "tel", IndicatorId::MeetingAttendanceRate), (Some(1), Some(1), vec![mx, hx]));
    assert_eq!(counts(&doc, "tel", IndicatorId::TaskOnTimeRate), (Some(0), Some(1), vec![tx]));
    // As of y's coordinated meeting, it counted.
    let doc = log.assess(FROM, TO, Some(while_y_coordinated));
    assert_eq!(counts(&doc, "tel", IndicatorId::MeetingAttendanceRate), (Some(0), Some(1), vec![my, hy]));
    assert_reproducible(&log);
}
