//! Hand-computed expectations for every indicator of SPEC 3.2 and every
//! scoring rule of SPEC 3.3, each on a small ledger whose events pass the
//! domain's rules. The comments give the arithmetic.

// Helpers outside #[test] functions panic to fail the test, like the tests do.
#![allow(clippy::unwrap_used)]

mod support;

use govledger_assess::{AssessError, Assessment, IndicatorId, IndicatorResult, Model, Projection, Query};
use serde_json::json;
use support::{Log, ev, ts};
use uuid::Uuid;

const FROM: &str = "2026-01-01T00:00:00Z";
const TO: &str = "2026-04-01T00:00:00Z";

fn ind<'a>(a: &'a Assessment, agency: &str, id: IndicatorId) -> &'a IndicatorResult {
    let ag = a.agencies.iter().find(|x| x.agency_id == agency).unwrap_or_else(|| panic!("{agency} not listed"));
    ag.indicators.iter().find(|i| i.id == id).unwrap_or_else(|| panic!("{id} not listed for {agency}"))
}

/// (numerator, denominator, value as f64, points)
fn figures(i: &IndicatorResult) -> (Option<u128>, Option<u128>, Option<f64>, Option<f64>) {
    (i.numerator, i.denominator, i.value.as_ref().and_then(|v| v.as_f64()), i.points)
}

fn agency<'a>(a: &'a Assessment, id: &str) -> &'a govledger_assess::AgencyAssessment {
    a.agencies.iter().find(|x| x.agency_id == id).unwrap_or_else(|| panic!("{id} not listed"))
}

/// Marks the assessment clock: a neutral event recorded at `at`.
fn clock(log: &mut Log, at: &str, n: u32) -> Uuid {
    log.push(ev(
        "PublicityDelivered",
        "office",
        at,
        json!({"activity_id": format!("PUB-{n}"), "audience": "all", "reach": 1}),
    ))
}

#[test]
fn task_on_time_rate_uses_effective_deadlines_in_the_period_up_to_the_clock() {
    let mut log = Log::new();
    log.city();
    let a = "2025-12-15T00:00:00Z";
    let t1 = log.assign(a, "T1", "tel", "2026-01-10T00:00:00Z");
    let t2 = log.assign(a, "T2", "tel", "2026-01-15T00:00:00Z");
    let t3 = log.assign(a, "T3", "tel", "2026-01-20T00:00:00Z");
    let t4 = log.assign(a, "T4", "tel", "2026-01-25T00:00:00Z");
    log.assign(a, "T5", "tel", "2026-02-01T00:00:00Z");
    let t6 = log.assign(a, "T6", "tel", "2025-12-31T00:00:00Z");
    log.assign(a, "T7", "tel", "2026-03-01T00:00:00Z");
    log.assign(a, "T8", "tel", "2026-03-15T00:00:00Z");
    let t9 = log.assign(a, "T9", "tel", "2026-01-01T00:00:00Z");
    log.assign(a, "T10", "tel", "2025-12-31T23:59:59.999999Z");
    let t11 = log.assign(a, "T11", "tel", "2026-02-15T00:00:00Z");
    let t12 = log.assign(a, "T12", "tel", "2026-02-25T00:00:00Z");
    let x6 = log.extend("2025-12-20T00:00:00Z", "T6", "2026-02-10T00:00:00Z");
    let c9 = log.complete("2025-12-31T00:00:00Z", "T9", "tel");
    log.cancel("2026-01-05T00:00:00Z", "T5");
    let c1 = log.complete("2026-01-09T00:00:00Z", "T1", "tel");
    // Exactly at due_at: on time.
    let c2 = log.complete("2026-01-15T00:00:00Z", "T2", "tel");
    // One microsecond late.
    let c3 = log.complete("2026-01-20T00:00:00.000001Z", "T3", "tel");
    let c6 = log.complete("2026-02-05T00:00:00Z", "T6", "tel");
    let x11 = log.extend("2026-02-10T00:00:00Z", "T11", "2026-02-20T00:00:00Z");
    // After the original due_at, before the extended one: on time.
    let c11 = log.complete("2026-02-18T00:00:00Z", "T11", "tel");
    log.extend("2026-02-20T00:00:00Z", "T7", "2026-04-05T00:00:00Z");
    let c12 = log.complete("2026-02-26T00:00:00Z", "T12", "tel");
    clock(&mut log, "2026-03-10T00:00:00Z", 1);

    // Counted: T1 T2 T3 T4 T6 (extended into W) T9 (due exactly at `from`) T11 T12 = 8.
    // Not counted: T5 cancelled, T7 extended past W, T8 due after the clock
    // (2026-03-10), T10 due before W. On time: T1 T2 T6 T9 T11 = 5 → 5/8.
    let doc = log.assess(FROM, TO, None);
    let i = ind(&doc, "tel", IndicatorId::TaskOnTimeRate);
    assert_eq!(figures(i), (Some(5), Some(8), Some(0.625), Some(62.5)));
    assert_eq!(
        i.evidence,
        vec![t1, c1, t2, c2, t3, c3, t4, t6, x6, c6, t9, c9, t11, x11, c11, t12, c12],
        "assignment, effective extension and completion of each counted task, oldest task first"
    );

    // With the clock at 2026-03-20 (a later event), T8 (due 03-15, open) counts too, as late.
    clock(&mut log, "2026-03-20T00:00:00Z", 2);
    let doc = log.assess(FROM, TO, None);
    assert_eq!(
        figures(ind(&doc, "tel", IndicatorId::TaskOnTimeRate)),
        (Some(5), Some(9), Some(5.0 / 9.0), Some(55.555556))
    );
    // The period's end is exclusive: a task due exactly at `to` is not in it.
    let doc = log.assess(FROM, "2026-01-15T00:00:00Z", None);
    // T1 (on time), T4? no: due 01-25. In [01-01, 01-15): T1, T9 → 2 of 2.
    assert_eq!(figures(ind(&doc, "tel", IndicatorId::TaskOnTimeRate)), (Some(2), Some(2), Some(1.0), Some(100.0)));
}

#[test]
fn task_retractions_and_as_of_positions() {
    let mut log = Log::new();
    log.city();
    log.assign("2026-01-02T00:00:00Z", "T1", "tel", "2026-01-10T00:00:00Z");
    let c1 = log.complete("2026-01-08T00:00:00Z", "T1", "tel");
    let after_c1 = log.head();
    log.retract("2026-01-12T00:00:00Z", c1);
    let after_retraction = log.head();
    log.complete("2026-01-13T00:00:00Z", "T1", "tel"); // late now

    log.assign("2026-01-02T00:00:00Z", "T2", "tel", "2026-01-05T00:00:00Z");
    let x2 = log.extend("2026-01-13T00:00:00Z", "T2", "2026-01-25T00:00:00Z");
    let after_x2 = log.head();
    log.retract("2026-01-14T00:00:00Z", x2);
    log.complete("2026-01-20T00:00:00Z", "T2", "tel"); // late against 01-05

    log.assign("2026-01-02T00:00:00Z", "T3", "tel", "2026-01-07T00:00:00Z");
    let k3 = log.cancel("2026-01-20T00:00:00Z", "T3");
    let after_k3 = log.head();
    log.retract("2026-01-21T00:00:00Z", k3); // open again, never completed: late

    let a4 = log.assign("2026-01-21T00:00:00Z", "T4", "tel", "2026-01-22T00:00:00Z");
    let after_a4 = log.head();
    log.retract("2026-01-21T00:00:01Z", a4);
    // The id is free again; this T4 belongs to comm.
    log.assign("2026-01-21T00:00:02Z", "T4", "comm", "2026-01-22T00:00:00Z");
    clock(&mut log, "2026-02-01T00:00:00Z", 1);

    let rate = |as_of: Option<u64>, agency: &str| {
        figures(ind(&log.assess(FROM, TO, as_of), agency, IndicatorId::TaskOnTimeRate))
    };
    // Head: T1 late (first completion retracted), T2 late (extension retracted),
    // T3 late (cancellation retracted); T4 is comm's, uncompleted: late.
    assert_eq!(rate(None, "tel"), (Some(0), Some(3), Some(0.0), Some(0.0)));
    assert_eq!(rate(None, "comm"), (Some(0), Some(1), Some(0.0), Some(0.0)));
    // As of the first completion (clock 01-08): T1 due 01-10 is after the clock: nothing due yet.
    assert_eq!(rate(Some(after_c1), "tel"), (Some(0), Some(0), None, None));
    // As of the retraction of T1's completion (clock 01-12): T1 due and uncompleted: late.
    assert_eq!(rate(Some(after_retraction), "tel"), (Some(0), Some(1), Some(0.0), Some(0.0)));
    // As of T2's extension (clock 01-13): T1 completed late at 01-13 (an earlier seq); T2's
    // extended due_at 01-25 is after the clock; T3 is not assigned yet → only T1 counts.
    assert_eq!(rate(Some(after_x2), "tel"), (Some(0), Some(1), Some(0.0), Some(0.0)));
    // As of T3's cancellation (clock 01-20): T1 late, T2 late (due back to 01-05, completed 01-20); T3 cancelled.
    assert_eq!(rate(Some(after_k3), "tel"), (Some(0), Some(2), Some(0.0), Some(0.0)));
    // As of the first T4 (clock 01-21; due 01-22 after it): tel has T1, T2, T3.
    assert_eq!(rate(Some(after_a4), "tel"), (Some(0), Some(3), Some(0.0), Some(0.0)));
    assert_eq!(rate(Some(after_a4), "comm"), (Some(0), Some(0), None, None));
}

#[test]
fn meeting_attendance_counts_meetings_held_in_the_period_among_invitations() {
    let mut log = Log::new();
    log.city();
    let convene = |log: &mut Log, id: &str, at: &str, invitees: serde_json::Value| {
        log.push(ev(
            "JointMeetingConvened",
            "office",
            at,
            json!({"meeting_id": id, "title": "Joint meeting", "scheduled_for": at, "invitees": invitees}),
        ))
    };
    let hold = |log: &mut Log, id: &str, at: &str, attendees: serde_json::Value| {
        log.push(ev(
            "JointMeetingHeld",
            "office",
            at,
            json!({"meeting_id": id, "attendees": attendees, "resolutions": []}),
        ))
    };
    let m1 = convene(&mut log, "M1", "2025-12-20T00:00:00Z", json!(["bank", "tel"]));
    convene(&mut log, "M2", "2025-12-20T00:00:00Z", json!(["bank", "tel"]));
    convene(&mut log, "M3", "2025-12-20T00:00:00Z", json!(["bank", "tel"]));
    convene(&mut log, "M4", "2025-12-20T00:00:00Z", json!(["bank", "tel"]));
    convene(&mut log, "M5", "2025-12-20T00:00:00Z", json!(["bank"]));
    convene(&mut log, "M6", "2025-12-20T00:00:00Z", json!(["bank", "tel"]));
    hold(&mut log, "M3", "2025-12-31T00:00:00Z", json!(["bank", "tel"])); // before W
    let h1 = hold(&mut log, "M1", "2026-01-10T00:00:00Z", json!(["bank"]));
    hold(&mut log, "M2", "2026-01-11T00:00:00Z", json!(["bank", "tel"]));
    // tel attends M5 without an invitation: not counted for tel.
    hold(&mut log, "M5", "2026-01-12T00:00:00Z", json!(["bank", "tel", "comm"]));
    let h6 = hold(&mut log, "M6", "2026-01-13T00:00:00Z", json!([]));
    let before = log.head();
    log.retract("2026-01-14T00:00:00Z", h6);

    let doc = log.assess(FROM, TO, None);
    // bank: invited to M1 M2 M5 (held in W, live) → attended all 3.
    assert_eq!(
        figures(ind(&doc, "bank", IndicatorId::MeetingAttendanceRate)),
        (Some(3), Some(3), Some(1.0), Some(100.0))
    );
    // tel: invited to M1 M2 (M3 before W, M4 not held, M6's holding retracted) → attended M2.
    let tel = ind(&doc, "tel", IndicatorId::MeetingAttendanceRate);
    assert_eq!(figures(tel), (Some(1), Some(2), Some(0.5), Some(50.0)));
    assert_eq!(&tel.evidence[..2], &[m1, h1]);
    // comm: invited to nothing → null, whatever it attended.
    assert_eq!(figures(ind(&doc, "comm", IndicatorId::MeetingAttendanceRate)), (Some(0), Some(0), None, None));
    // Before the retraction, M6 (nobody attended) counts: bank 3/4, tel 1/3.
    let doc = log.assess(FROM, TO, Some(before));
    assert_eq!(
        figures(ind(&doc, "bank", IndicatorId::MeetingAttendanceRate)),
        (Some(3), Some(4), Some(0.75), Some(75.0))
    );
    assert_eq!(
        figures(ind(&doc, "tel", IndicatorId::MeetingAttendanceRate)),
        (Some(1), Some(3), Some(1.0 / 3.0), Some(33.333333))
    );
}

#[test]
fn freeze_execution_and_response_latency() {
    let mut log = Log::new();
    log.city();
    // F4: requested before W, executed inside it: not in W's requests.
    log.freeze("2025-12-30T00:00:00Z", "F4", "bank");
    log.execute("2026-01-02T00:00:00Z", "F4", "bank");
    let f1 = log.freeze("2026-01-05T10:00:00Z", "F1", "bank");
    // 300.999999 s → 300 s (rounded down).
    let e1 = log.execute("2026-01-05T10:05:00.999999Z", "F1", "bank");
    let f2 = log.freeze("2026-01-06T10:00:00Z", "F2", "bank");
    let r2 = log.reject_freeze("2026-01-06T12:00:00Z", "F2", "bank"); // 7,200 s, not executed
    let f3 = log.freeze("2026-01-07T00:00:00Z", "F3", "bank"); // never answered
    let f6 = log.freeze("2026-02-01T00:00:00Z", "F6", "bank");
    let e6 = log.execute("2026-02-01T00:10:00Z", "F6", "bank"); // 600 s
    log.push(ev("FreezeReleased", "bank", "2026-02-02T00:00:00Z", json!({"freeze_id": "F6", "reason": "court order"})));
    let f7 = log.freeze("2026-02-02T00:00:00Z", "F7", "bank");
    let e7 = log.execute("2026-02-02T00:01:00Z", "F7", "bank");
    log.retract("2026-02-02T00:02:00Z", e7);
    let f5 = log.freeze("2026-03-31T23:00:00Z", "F5", "bank");
    let before_e5 = log.head();
    // Answered after W ends: counts (seq ≤ as_of); 25 h = 90,000 s.
    let e5 = log.execute("2026-04-02T00:00:00Z", "F5", "bank");

    let doc = log.assess(FROM, TO, None);
    // Requests in W: F1 F2 F3 F6 F7 F5 = 6; executed: F1 F6 F5 = 3 (F6 although released, F7's execution retracted).
    let rate = ind(&doc, "bank", IndicatorId::FreezeExecutionRate);
    assert_eq!(figures(rate), (Some(3), Some(6), Some(0.5), Some(50.0)));
    assert_eq!(rate.evidence, vec![f1, e1, f2, f3, f6, e6, f7, f5, e5]);
    // Answered: F1 300, F2 7,200, F6 600, F5 90,000 → n = 4, rank ceil(3.6) = 4 → 90,000 s ≥ bad → 0 points.
    let p90 = ind(&doc, "bank", IndicatorId::FreezeResponseP90S);
    assert_eq!(p90.value.as_ref().and_then(|v| v.as_i64()), Some(90_000));
    assert_eq!((p90.sample_size, p90.numerator, p90.denominator, p90.points), (Some(4), None, None, Some(0.0)));
    assert_eq!(p90.evidence, vec![f1, e1, f2, r2, f6, e6, f5, e5]);

    // As of before F5's execution: 2/6; answered F1 F2 F6 → n = 3, rank 3 → 7,200 s (= bad) → 0 points.
    let doc = log.assess(FROM, TO, Some(before_e5));
    assert_eq!(
        figures(ind(&doc, "bank", IndicatorId::FreezeExecutionRate)),
        (Some(2), Some(6), Some(1.0 / 3.0), Some(33.333333))
    );
    let p90 = ind(&doc, "bank", IndicatorId::FreezeResponseP90S);
    assert_eq!((p90.value.as_ref().and_then(|v| v.as_i64()), p90.sample_size), (Some(7_200), Some(3)));
    // A period holding only F1 and F2: n = 2, rank ceil(1.8) = 2 → 7,200 s.
    let doc = log.assess(FROM, "2026-01-07T00:00:00Z", None);
    let p90 = ind(&doc, "bank", IndicatorId::FreezeResponseP90S);
    assert_eq!((p90.value.as_ref().and_then(|v| v.as_i64()), p90.sample_size), (Some(7_200), Some(2)));
    // Only F1: n = 1 → 300 s ≤ good (600) → 100 points.
    let doc = log.assess(FROM, "2026-01-06T00:00:00Z", None);
    let p90 = ind(&doc, "bank", IndicatorId::FreezeResponseP90S);
    assert_eq!(
        (p90.value.as_ref().and_then(|v| v.as_i64()), p90.sample_size, p90.points),
        (Some(300), Some(1), Some(100.0))
    );
    // pay received no request: both null (not applicable), listed all the same.
    let doc = log.assess(FROM, TO, None);
    assert_eq!(figures(ind(&doc, "pay", IndicatorId::FreezeExecutionRate)), (Some(0), Some(0), None, None));
    let p = ind(&doc, "pay", IndicatorId::FreezeResponseP90S);
    assert_eq!((p.value.clone(), p.points, p.sample_size), (None, None, Some(0)));
    // Freeze indicators do not apply to a telecom operator: not listed for it.
    assert!(agency(&doc, "tel").indicators.iter().all(|i| i.id != IndicatorId::FreezeExecutionRate));
}

#[test]
fn a_freed_freeze_id_counts_for_its_new_bank() {
    let mut log = Log::new();
    log.city();
    let f = log.freeze("2026-01-05T00:00:00Z", "F9", "bank");
    let before = log.head();
    log.retract("2026-01-05T00:01:00Z", f);
    log.freeze("2026-01-06T00:00:00Z", "F9", "pay");
    log.execute("2026-01-06T00:30:00Z", "F9", "pay"); // 1,800 s
    let doc = log.assess(FROM, TO, None);
    assert_eq!(figures(ind(&doc, "bank", IndicatorId::FreezeExecutionRate)), (Some(0), Some(0), None, None));
    assert_eq!(figures(ind(&doc, "pay", IndicatorId::FreezeExecutionRate)), (Some(1), Some(1), Some(1.0), Some(100.0)));
    // 1,800 s: 100 × (7,200 − 1,800) / (7,200 − 600) = 81.818181… → 81.818182.
    assert_eq!(ind(&doc, "pay", IndicatorId::FreezeResponseP90S).points, Some(81.818182));
    let doc = log.assess(FROM, TO, Some(before));
    assert_eq!(figures(ind(&doc, "bank", IndicatorId::FreezeExecutionRate)), (Some(0), Some(1), Some(0.0), Some(0.0)));
    assert_eq!(figures(ind(&doc, "pay", IndicatorId::FreezeExecutionRate)), (Some(0), Some(0), None, None));
}

fn refer(log: &mut Log, id: &str, to: &str, at: &str) -> Uuid {
    log.push(ev("ClueReferred", "police", at, json!({"clue_id": id, "to": to, "kind": "phone_number"})))
}

fn feedback(log: &mut Log, id: &str, by: &str, at: &str) -> Uuid {
    log.push(ev("ClueFeedbackGiven", by, at, json!({"clue_id": id, "outcome": "confirmed"})))
}

#[test]
fn clue_feedback_rate_and_latency() {
    let mut log = Log::new();
    log.city();
    refer(&mut log, "C4", "tel", "2025-12-30T00:00:00Z");
    feedback(&mut log, "C4", "tel", "2026-01-02T00:00:00Z"); // referred before W: excluded
    let c1 = refer(&mut log, "C1", "tel", "2026-01-10T00:00:00Z");
    let f1 = feedback(&mut log, "C1", "tel", "2026-01-11T00:00:00Z"); // 86,400 s
    let c2 = refer(&mut log, "C2", "tel", "2026-01-12T00:00:00Z");
    let c3 = refer(&mut log, "C3", "tel", "2026-01-13T00:00:00Z");
    // One clue to comm, answered after 3 days.
    refer(&mut log, "C5", "comm", "2026-02-01T00:00:00Z");
    feedback(&mut log, "C5", "comm", "2026-02-04T00:00:00Z");
    let before_f2 = log.head();
    // Feedback after W ends (88 days = 7,603,200 s).
    let f2 = feedback(&mut log, "C2", "tel", "2026-04-10T00:00:00Z");

    let doc = log.assess(FROM, TO, None);
    let rate = ind(&doc, "tel", IndicatorId::ClueFeedbackRate);
    assert_eq!(figures(rate), (Some(2), Some(3), Some(2.0 / 3.0), Some(66.666667)));
    assert_eq!(rate.evidence, vec![c1, f1, c2, f2, c3]);
    // n = 2 → rank 2 → 7,603,200 s ≥ bad (604,800) → 0 points.
    let p90 = ind(&doc, "tel", IndicatorId::ClueFeedbackP90S);
    assert_eq!(
        (p90.value.as_ref().and_then(|v| v.as_i64()), p90.sample_size, p90.points),
        (Some(7_603_200), Some(2), Some(0.0))
    );
    assert_eq!(p90.evidence, vec![c1, f1, c2, f2]);
    // comm: n = 1, 259,200 s → 100 × (604,800 − 259,200) / (604,800 − 86,400) = 66.666667.
    let p90 = ind(&doc, "comm", IndicatorId::ClueFeedbackP90S);
    assert_eq!((p90.value.as_ref().and_then(|v| v.as_i64()), p90.points), (Some(259_200), Some(66.666667)));
    // Before C2's feedback: 1/3; n = 1 → 86,400 s = good → 100 points.
    let doc = log.assess(FROM, TO, Some(before_f2));
    assert_eq!(
        figures(ind(&doc, "tel", IndicatorId::ClueFeedbackRate)),
        (Some(1), Some(3), Some(1.0 / 3.0), Some(33.333333))
    );
    assert_eq!(ind(&doc, "tel", IndicatorId::ClueFeedbackP90S).points, Some(100.0));
    // No clue to bank: rate and latency null.
    assert_eq!(figures(ind(&doc, "bank", IndicatorId::ClueFeedbackRate)), (Some(0), Some(0), None, None));
    assert_eq!(ind(&doc, "bank", IndicatorId::ClueFeedbackP90S).value, None);
}

#[test]
fn p90_of_ten_latencies_is_the_ninth() {
    let mut log = Log::new();
    log.city();
    // Latencies k × 12 h for k = 1..10, referred in shuffled order.
    for (n, k) in [7, 2, 10, 4, 1, 9, 3, 8, 6, 5].into_iter().enumerate() {
        let id = format!("C{n}");
        let referred = 1_767_225_600 + 86_400 * 20 * n as i64; // 2026-01-01 + 20 n days
        let at =
            |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        refer(&mut log, &id, "bank", &at(referred));
        feedback(&mut log, &id, "bank", &at(referred + k * 43_200));
    }
    let doc = log.assess(FROM, "2027-01-01T00:00:00Z", None);
    // Rank ceil(0.9 × 10) = 9 → 9 × 43,200 = 388,800 s →
    // 100 × (604,800 − 388,800) / 518,400 = 41.666666… → 41.666667.
    let p90 = ind(&doc, "bank", IndicatorId::ClueFeedbackP90S);
    assert_eq!(
        (p90.value.as_ref().and_then(|v| v.as_i64()), p90.sample_size, p90.points),
        (Some(388_800), Some(10), Some(41.666667))
    );
}

#[test]
fn dissuasion_coverage_with_a_retracted_record() {
    let mut log = Log::new();
    log.city();
    let warn = |log: &mut Log, id: &str, at: &str| {
        log.push(ev("EarlyWarningIssued", "police", at, json!({"warning_id": id, "to": "comm", "risk": "high"})))
    };
    let record = |log: &mut Log, id: &str, at: &str| {
        log.push(ev(
            "DissuasionRecorded",
            "comm",
            at,
            json!({"warning_id": id, "method": "call", "outcome": "dissuaded"}),
        ))
    };
    warn(&mut log, "W1", "2026-01-10T00:00:00Z");
    record(&mut log, "W1", "2026-01-10T01:00:00Z");
    warn(&mut log, "W2", "2026-01-11T00:00:00Z");
    warn(&mut log, "W3", "2026-01-12T00:00:00Z");
    let r3 = record(&mut log, "W3", "2026-01-12T01:00:00Z");
    let before = log.head();
    log.retract("2026-01-13T00:00:00Z", r3);
    let doc = log.assess(FROM, TO, None);
    assert_eq!(
        figures(ind(&doc, "comm", IndicatorId::DissuasionCoverageRate)),
        (Some(1), Some(3), Some(1.0 / 3.0), Some(33.333333))
    );
    let doc = log.assess(FROM, TO, Some(before));
    assert_eq!(
        figures(ind(&doc, "comm", IndicatorId::DissuasionCoverageRate)),
        (Some(2), Some(3), Some(2.0 / 3.0), Some(66.666667))
    );
    // Nothing issued to tel: null.
    assert_eq!(figures(ind(&doc, "tel", IndicatorId::DissuasionCoverageRate)), (Some(0), Some(0), None, None));
}

#[test]
fn loss_recovery_ratio_sums_returns_over_losses() {
    let mut log = Log::new();
    log.city();
    let case = |log: &mut Log, id: &str, at: &str, loss: u64| {
        log.push(ev(
            "FraudCaseReported",
            "police",
            at,
            json!({"case_id": id, "fraud_type": "investment", "loss_minor": loss}),
        ))
    };
    let give_back = |log: &mut Log, id: &str, at: &str, amount: u64| {
        log.push(ev("FundsReturned", "bank", at, json!({"freeze_id": id, "amount_minor": amount})))
    };
    case(&mut log, "K3", "2025-12-20T00:00:00Z", 9_999); // before W
    log.freeze("2025-12-20T00:00:00Z", "F0", "bank"); // requested before W
    log.execute("2025-12-20T01:00:00Z", "F0", "bank");
    give_back(&mut log, "F0", "2026-01-05T00:00:00Z", 77_777);
    let k1 = case(&mut log, "K1", "2026-01-10T00:00:00Z", 1_000_000);
    let k2 = case(&mut log, "K2", "2026-01-11T00:00:00Z", 500_000);
    let f1 = log.freeze("2026-01-12T00:00:00Z", "F1", "bank");
    log.execute("2026-01-12T01:00:00Z", "F1", "bank");
    let g1 = give_back(&mut log, "F1", "2026-01-20T00:00:00Z", 200_000);
    log.freeze("2026-01-13T00:00:00Z", "F2", "bank");
    log.execute("2026-01-13T01:00:00Z", "F2", "bank");
    let g2 = give_back(&mut log, "F2", "2026-01-21T00:00:00Z", 50_000);
    let before = log.head();
    log.retract("2026-01-22T00:00:00Z", g2);
    // Returned after W ends: counts.
    let g3 = give_back(&mut log, "F1", "2026-05-01T00:00:00Z", 100_000);

    let doc = log.assess(FROM, TO, None);
    // (200,000 + 100,000) / (1,000,000 + 500,000) = 0.2 → 100 × min(1, 0.2 / 0.3) = 66.666667.
    let r = ind(&doc, "police", IndicatorId::LossRecoveryRatio);
    assert_eq!(figures(r), (Some(300_000), Some(1_500_000), Some(0.2), Some(66.666667)));
    assert_eq!(r.evidence, vec![k1, k2, f1, g1, g3]);
    assert_eq!(r.sample_size, Some(2), "its sample: the two cases reported in W");
    // Before the retraction, and before the late return: (200,000 + 50,000) / 1,500,000 = 1/6.
    let doc = log.assess(FROM, TO, Some(before));
    assert_eq!(
        figures(ind(&doc, "police", IndicatorId::LossRecoveryRatio)),
        (Some(250_000), Some(1_500_000), Some(1.0 / 6.0), Some(55.555556))
    );
    // A period with freezes and returns but no case: null (zero denominator).
    let doc = log.assess("2026-01-12T00:00:00Z", TO, None);
    assert_eq!(figures(ind(&doc, "police", IndicatorId::LossRecoveryRatio)), (Some(300_000), Some(0), None, None));
    assert_eq!(ind(&doc, "police", IndicatorId::LossRecoveryRatio).sample_size, Some(0));
    // Only for public security in model v1.
    assert!(agency(&doc, "bank").indicators.iter().all(|i| i.id != IndicatorId::LossRecoveryRatio));
}

#[test]
fn loss_recovery_points_cap_at_the_target() {
    let mut log = Log::new();
    log.city();
    log.push(ev(
        "FraudCaseReported",
        "police",
        "2026-01-10T00:00:00Z",
        json!({"case_id": "K1", "fraud_type": "x", "loss_minor": 100}),
    ));
    log.freeze("2026-01-11T00:00:00Z", "F1", "bank");
    log.execute("2026-01-11T01:00:00Z", "F1", "bank");
    log.push(ev("FundsReturned", "bank", "2026-01-12T00:00:00Z", json!({"freeze_id": "F1", "amount_minor": 400_000})));
    let doc = log.assess(FROM, TO, None);
    // 400,000 / 100 = 4,000 → min(1, 4,000 / 0.3) = 1 → 100 points.
    assert_eq!(
        figures(ind(&doc, "police", IndicatorId::LossRecoveryRatio)),
        (Some(400_000), Some(100), Some(4000.0), Some(100.0))
    );
}

#[test]
fn cards_disposed_sums_actions_in_the_period_and_is_never_null() {
    let mut log = Log::new();
    log.city();
    let act = |log: &mut Log, id: &str, at: &str, b: u64, p: u64, i: u64| {
        log.push(ev(
            "CardBreakingAction",
            "police",
            at,
            json!({"action_id": id, "bank_cards": b, "phone_cards": p, "internet_accounts": i, "suspects": 3}),
        ))
    };
    act(&mut log, "A0", "2025-12-20T00:00:00Z", 100, 100, 100); // before W
    let a1 = act(&mut log, "A1", "2026-01-10T00:00:00Z", 10, 5, 2);
    let a2 = act(&mut log, "A2", "2026-02-10T00:00:00Z", 20, 0, 3);
    let a3 = act(&mut log, "A3", "2026-02-11T00:00:00Z", 1000, 0, 0);
    log.retract("2026-02-12T00:00:00Z", a3);
    let doc = log.assess(FROM, TO, None);
    // 17 + 23 = 40 → 100 × min(1, 40 / 50) = 80.
    let c = ind(&doc, "police", IndicatorId::CardsDisposed);
    assert_eq!(
        (c.value.as_ref().and_then(|v| v.as_u64()), c.numerator, c.denominator, c.sample_size, c.points),
        (Some(40), Some(40), None, Some(2), Some(80.0))
    );
    assert_eq!(c.evidence, vec![a1, a2]);
    // No actions: 0, not null; 0 points, and it still weighs in.
    let c = ind(&doc, "bank", IndicatorId::CardsDisposed);
    assert_eq!((c.value.as_ref().and_then(|v| v.as_u64()), c.points, c.sample_size), (Some(0), Some(0.0), Some(0)));
}

/// A bank and a payment institution with figures worked out by hand.
fn scored_city() -> (Log, u64) {
    let mut log = Log::new();
    log.city();
    log.register("2025-12-01T00:00:00Z", "tel2", "telecom_operator");
    // bank: 4 requests, 3 executed (75 points, weight 3); latencies 60, 120, 3,900 →
    // p90 rank 3 → 3,900 s → 100 × (7,200 − 3,900) / 6,600 = 50 points (weight 2).
    for (n, latency) in [(1, Some(60)), (2, Some(120)), (3, Some(3_900)), (4, None)] {
        let at = 1_768_000_000 + n * 100_000;
        let t =
            |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        log.freeze(&t(at), &format!("F{n}"), "bank");
        if let Some(l) = latency {
            log.execute(&t(at + l), &format!("F{n}"), "bank");
        }
    }
    // bank: one task on time (100 points, weight 3).
    log.assign("2026-01-02T00:00:00Z", "T1", "bank", "2026-01-20T00:00:00Z");
    log.complete("2026-01-19T00:00:00Z", "T1", "bank");
    // bank: one warning with a dissuasion record (100 points, weight 2).
    log.push(ev(
        "EarlyWarningIssued",
        "police",
        "2026-01-21T00:00:00Z",
        json!({"warning_id": "W1", "to": "bank", "risk": "low"}),
    ));
    log.push(ev(
        "DissuasionRecorded",
        "bank",
        "2026-01-21T00:10:00Z",
        json!({"warning_id": "W1", "method": "sms", "outcome": "dissuaded"}),
    ));
    // bank: 25 cards (50 points, weight 1).
    log.push(ev(
        "CardBreakingAction",
        "bank",
        "2026-01-22T00:00:00Z",
        json!({"action_id": "A1", "bank_cards": 25, "phone_cards": 0, "internet_accounts": 0, "suspects": 0}),
    ));
    // Penalties on bank: warning (2) and fine (10) in W count; a public criticism
    // before W does not; a suspension revoked later does not; a retracted warning does not.
    let penalty = |log: &mut Log, id: &str, at: &str, kind: &str, target: &str| {
        let mut data =
            json!({"penalty_id": id, "target": target, "kind": kind, "legal_basis": "Art. 1", "reason": "late"});
        if kind == "fine" {
            data["amount_minor"] = json!(100_000);
        }
        log.push(ev("PenaltyImposed", "reg", at, data))
    };
    penalty(&mut log, "P0", "2025-12-15T00:00:00Z", "public_criticism", "bank");
    penalty(&mut log, "P1", "2026-02-01T00:00:00Z", "warning", "bank");
    penalty(&mut log, "P2", "2026-02-02T00:00:00Z", "fine", "bank");
    penalty(&mut log, "P3", "2026-02-03T00:00:00Z", "suspension", "bank");
    let p4 = penalty(&mut log, "P4", "2026-02-04T00:00:00Z", "warning", "bank");
    log.retract("2026-02-04T00:01:00Z", p4);
    let before_revocation = log.head();
    log.push(ev(
        "PenaltyRevoked",
        "reg",
        "2026-02-05T00:00:00Z",
        json!({"penalty_id": "P3", "reason": "appeal upheld"}),
    ));
    // pay: one request rejected after 100 s: execution 0 (weight 3), latency 100 points (weight 2),
    // cards 0 (weight 1) → weighted 200 / 6 = 33.333333; two suspensions (40) → clamped to 0.
    log.freeze("2026-02-10T00:00:00Z", "F9", "pay");
    log.reject_freeze("2026-02-10T00:01:40Z", "F9", "pay");
    penalty(&mut log, "P5", "2026-02-11T00:00:00Z", "suspension", "pay");
    penalty(&mut log, "P6", "2026-02-12T00:00:00Z", "suspension", "pay");
    // tel and tel2: one task each, on time, and 50 cards: both 100 — a tie.
    for t in ["tel", "tel2"] {
        log.assign("2026-02-13T00:00:00Z", &format!("T-{t}"), t, "2026-02-20T00:00:00Z");
        log.complete("2026-02-14T00:00:00Z", &format!("T-{t}"), t);
        log.push(ev(
            "CardBreakingAction",
            t,
            "2026-02-15T00:00:00Z",
            json!({"action_id": format!("A-{t}"), "bank_cards": 0, "phone_cards": 60, "internet_accounts": 0, "suspects": 0}),
        ));
    }
    clock(&mut log, "2026-03-01T00:00:00Z", 1);
    (log, before_revocation)
}

#[test]
fn scores_deductions_grades_and_clamping() {
    let (log, before_revocation) = scored_city();
    let doc = log.assess(FROM, TO, None);
    let bank = agency(&doc, "bank");
    // weighted = (3·75 + 2·50 + 3·100 + 2·100 + 1·50) / (3 + 2 + 3 + 2 + 1) = 875 / 11 = 79.5454545…
    assert_eq!(bank.weighted, Some(79.545455));
    assert_eq!(bank.deductions, serde_json::Number::from(12));
    assert_eq!(bank.penalties.len(), 2);
    // score = 875/11 − 12 = 743/11 = 67.5454545… → 67.545455, grade pass (≥ 60).
    assert_eq!(bank.score, Some(67.545455));
    assert_eq!(bank.grade.as_deref(), Some("pass"));
    // Meeting attendance and both clue indicators are null: listed with null value and points.
    for id in [IndicatorId::MeetingAttendanceRate, IndicatorId::ClueFeedbackRate, IndicatorId::ClueFeedbackP90S] {
        let i = ind(&doc, "bank", id);
        assert_eq!((i.value.clone(), i.points), (None, None), "{id}");
    }
    assert_eq!(bank.indicators.len(), 8, "every indicator of model v1 for a bank, in model order");
    let ids: Vec<IndicatorId> = bank.indicators.iter().map(|i| i.id).collect();
    assert_eq!(
        ids,
        [
            IndicatorId::TaskOnTimeRate,
            IndicatorId::MeetingAttendanceRate,
            IndicatorId::ClueFeedbackRate,
            IndicatorId::ClueFeedbackP90S,
            IndicatorId::DissuasionCoverageRate,
            IndicatorId::FreezeExecutionRate,
            IndicatorId::FreezeResponseP90S,
            IndicatorId::CardsDisposed,
        ]
    );
    assert_eq!(ind(&doc, "bank", IndicatorId::FreezeResponseP90S).points, Some(50.0));

    // Before the suspension was revoked it counts: 875/11 − 32 = 523/11 = 47.5454… → fail.
    let early = log.assess(FROM, TO, Some(before_revocation));
    let bank = agency(&early, "bank");
    assert_eq!(
        (bank.deductions.as_i64(), bank.score, bank.grade.as_deref()),
        (Some(32), Some(47.545455), Some("fail"))
    );

    // pay: 33.333333 − 40 → clamped to 0, still graded and ranked.
    let pay = agency(&doc, "pay");
    assert_eq!(
        (pay.weighted, pay.deductions.as_i64(), pay.score, pay.grade.as_deref()),
        (Some(33.333333), Some(40), Some(0.0), Some("fail"))
    );
    assert!(pay.rank.is_some());
}

#[test]
fn ranking_ties_and_null_scores() {
    let (log, _) = scored_city();
    let doc = log.assess(FROM, TO, None);
    let order: Vec<(&str, Option<u32>, Option<f64>)> =
        doc.agencies.iter().map(|a| (a.agency_id.as_str(), a.rank, a.score)).collect();
    // tel and tel2 tie at 100: ordered by agency_id, distinct ranks. police has
    // cards 0 → score 0, as has pay; the tie goes by agency_id. comm, office and
    // reg have no indicator with a value: null score, no rank, by agency_id.
    assert_eq!(
        order,
        vec![
            ("tel", Some(1), Some(100.0)),
            ("tel2", Some(2), Some(100.0)),
            ("bank", Some(3), Some(67.545455)),
            ("pay", Some(4), Some(0.0)),
            ("police", Some(5), Some(0.0)),
            ("comm", None, None),
            ("office", None, None),
            ("reg", None, None),
        ]
    );
    let comm = agency(&doc, "comm");
    assert_eq!((comm.weighted, comm.grade.clone()), (None, None));
    assert_eq!(agency(&doc, "tel").grade.as_deref(), Some("excellent"));
}

#[test]
fn agencies_listed_as_of_their_registration() {
    let mut log = Log::new();
    log.city();
    let r = log.register("2026-01-05T00:00:00Z", "newbie", "bank");
    let registered = log.head();
    log.retract("2026-01-06T00:00:00Z", r);
    let retracted = log.head();
    log.register("2026-01-07T00:00:00Z", "newbie", "community");
    let listed = |as_of: Option<u64>| {
        log.assess(FROM, TO, as_of).agencies.iter().find(|a| a.agency_id == "newbie").map(|a| (a.kind, a.name.clone()))
    };
    use govledger_domain::catalog::AgencyKind;
    assert_eq!(listed(Some(registered - 1)), None);
    assert_eq!(listed(Some(registered)), Some((AgencyKind::Bank, "The newbie".into())));
    assert_eq!(listed(Some(retracted)), None);
    assert_eq!(listed(None), Some((AgencyKind::Community, "The newbie".into())));
    assert_eq!(log.assess(FROM, TO, Some(1)).agencies.len(), 1, "as of the bootstrap only the office exists");
}

#[test]
fn the_document_names_its_position_and_model() {
    let (log, before) = scored_city();
    let doc = log.assess(FROM, TO, Some(before));
    assert_eq!(doc.as_of_seq, before);
    assert_eq!(doc.head_hash, log.events[(before - 1) as usize].hash, "the hash of the event at as_of_seq");
    assert_eq!(doc.model_sha256, Model::default_v1().sha256);
    assert_eq!((doc.period.from.as_str(), doc.period.to.as_str()), (FROM, TO));
    let v = serde_json::to_value(&doc).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&v), ["agencies", "as_of_seq", "head_hash", "model_sha256", "period"]);
    let bank = v["agencies"].as_array().unwrap().iter().find(|a| a["agency_id"] == "bank").unwrap();
    assert_eq!(
        keys(bank),
        ["agency_id", "deductions", "grade", "indicators", "kind", "name", "penalties", "rank", "score", "weighted"]
    );
    assert_eq!(bank["kind"], "bank");
    let frz = bank["indicators"].as_array().unwrap().iter().find(|i| i["id"] == "freeze_execution_rate").unwrap();
    assert_eq!(keys(frz), ["denominator", "evidence", "id", "numerator", "points", "sample_size", "value", "weight"]);
    assert_eq!(frz["weight"], json!(3));
    assert_eq!(frz["value"], json!(0.75));
    assert_eq!(frz["points"], json!(75.0));
    assert_eq!((frz["numerator"].clone(), frz["denominator"].clone()), (json!(3), json!(4)));
    assert!(frz["evidence"].as_array().unwrap().iter().all(|e| Uuid::parse_str(e.as_str().unwrap()).is_ok()));
    let meeting = bank["indicators"].as_array().unwrap().iter().find(|i| i["id"] == "meeting_attendance_rate").unwrap();
    assert_eq!((meeting["value"].clone(), meeting["points"].clone()), (json!(null), json!(null)));
    // The document reads back as it was written.
    let back: Assessment = serde_json::from_value(v).unwrap();
    assert_eq!(back, doc);
}

#[test]
fn assessment_errors() {
    let (log, _) = scored_city();
    let p = log.projection();
    let m = Model::default_v1();
    let q = |from: &str, to: &str, as_of| Query { from: ts(from), to: ts(to), as_of };
    let head = log.head();
    assert_eq!(
        p.assess(&m, &q(FROM, TO, Some(head + 1))).unwrap_err(),
        AssessError::AsOfBeyondHead { as_of: head + 1, head }
    );
    assert_eq!(p.assess(&m, &q(FROM, TO, Some(0))).unwrap_err(), AssessError::AsOfZero);
    assert!(matches!(p.assess(&m, &q(TO, FROM, None)).unwrap_err(), AssessError::EmptyPeriod { .. }));
    assert!(matches!(p.assess(&m, &q(FROM, FROM, None)).unwrap_err(), AssessError::EmptyPeriod { .. }));
    assert_eq!(Projection::new().assess(&m, &q(FROM, TO, None)).unwrap_err(), AssessError::EmptyLedger);
    assert!(p.assess(&m, &q(FROM, TO, Some(head))).is_ok());
}

#[test]
fn raw_bodies_events_and_checkpoints_give_the_same_projection() {
    let (log, _) = scored_city();
    let from_events = log.projection();
    let mut from_bodies = Projection::new();
    for (e, body) in log.events.iter().zip(&log.bodies) {
        from_bodies.apply_raw(body, &e.hash).unwrap();
    }
    assert_eq!(from_events, from_bodies);
    let restored = Projection::from_checkpoint(&from_events.to_checkpoint()).unwrap();
    assert_eq!(restored, from_events);
    assert_eq!(restored.head_seq(), log.head());
    assert_eq!(restored.head_hash().as_deref(), Some(log.events.last().unwrap().hash.as_str()));
    // A checkpoint of another format is refused, not misread.
    let mut bytes = from_events.to_checkpoint();
    bytes[15] = b'9';
    assert_eq!(Projection::from_checkpoint(&bytes).unwrap_err(), govledger_assess::CheckpointError::Version);
    assert!(Projection::from_checkpoint(&from_events.to_checkpoint()[..100]).is_err());
}

#[test]
fn events_fold_in_order_only() {
    let (log, _) = scored_city();
    let mut p = Projection::new();
    p.apply(&log.events[0]).unwrap();
    let err = p.apply(&log.events[2]).unwrap_err();
    assert_eq!(err, govledger_assess::ProjectionError::OutOfOrder { expected: 2, found: 3 });
    assert_eq!(p.head_seq(), 1, "a refused event changes nothing");
    p.apply(&log.events[1]).unwrap();
    assert!(p.apply(&log.events[1]).is_err(), "an event is folded once");
}
