//! The rival-score attack of issue 21, over real HTTP with agency tokens
//! (SPEC 3.2 and 4, v1.2): a bank convenes a meeting inviting a rival bank,
//! holds it without the rival and assigns the rival already-overdue tasks
//! from it. The rival's figures, score and rank do not move. Positive
//! controls: once the rival acknowledges one of those tasks it counts, and a
//! coordinator's meeting and assignment always count.

use serde_json::{Value, json};

use crate::support::*;

/// The period assessed; every due date below is in it and long before the
/// assessment clock (the `recorded_at` of the head: now).
const ASSESSMENT: &str = r#"{ assessment(from: "2024-01-01T00:00:00Z", to: "2024-07-01T00:00:00Z") {
  agencies { agencyId rank score grade weighted indicators { id value points numerator denominator evidence } } } }"#;

/// The attacker and its rival.
const ICBC: &str = "bank-0";
const CCB: &str = "bank-1";

fn convene(by: &str, meeting: &str, invitees: &[&str], at: &str) -> Value {
    envelope(
        None,
        "JointMeetingConvened",
        by,
        at,
        json!({"meeting_id": meeting, "title": "联席会议", "scheduled_for": at, "invitees": invitees}),
    )
}

fn hold(by: &str, meeting: &str, attendees: &[&str], at: &str) -> Value {
    envelope(
        None,
        "JointMeetingHeld",
        by,
        at,
        json!({"meeting_id": meeting, "attendees": attendees,
               "resolutions": [{"resolution_id": format!("{meeting}-R1"), "text": "整改"}]}),
    )
}

/// A task for `CCB`, from `meeting` when given.
fn assign(by: &str, task: &str, meeting: Option<&str>, due: &str, at: &str) -> Value {
    let mut data = json!({"task_id": task, "assignee": CCB, "title": "报送整改报告", "due_at": due});
    if let Some(meeting) = meeting {
        data["meeting_id"] = json!(meeting);
        data["resolution_id"] = json!(format!("{meeting}-R1"));
    }
    envelope(None, "ResponsibilityAssigned", by, at, data)
}

fn task_step(ty: &str, task: &str, at: &str) -> Value {
    envelope(None, ty, CCB, at, json!({"task_id": task}))
}

/// Appends `envelope`; returns its id.
async fn append(client: &Client, envelope: &Value) -> String {
    let r = client.append(envelope).await;
    assert_eq!(r.status.as_u16(), 201, "{}: {}", envelope["type"], r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// `CCB`'s entry of the assessment, read with `client`'s token.
async fn rival(client: &Client) -> Value {
    let r = client.graphql(ASSESSMENT, json!({})).await;
    assert!(r.body["errors"].is_null(), "{}", r.text);
    let agencies = r.body["data"]["assessment"]["agencies"].as_array().unwrap();
    agencies.iter().find(|a| a["agencyId"] == CCB).cloned().unwrap()
}

fn indicator<'a>(agency: &'a Value, id: &str) -> &'a Value {
    agency["indicators"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()
}

/// (numerator, denominator, evidence) of an indicator.
fn counts(agency: &Value, id: &str) -> (Value, Value, Vec<String>) {
    let i = indicator(agency, id);
    let evidence = i["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_owned()).collect();
    (i["numerator"].clone(), i["denominator"].clone(), evidence)
}

#[tokio::test]
async fn a_bank_cannot_lower_a_rival_banks_score_with_its_own_meeting_and_tasks() {
    let fx = Fixture::new();
    let (icbc, ccb, office) = (fx.token(ICBC, "agency"), fx.token(CCB, "agency"), fx.token("office", "coordinator"));
    let server = fx.serve(&[]);
    let (icbc, ccb, office) =
        (Client::new(&server, Some(&icbc)), Client::new(&server, Some(&ccb)), Client::new(&server, Some(&office)));

    // The coordination office's own business with ccb: a task done on time, a meeting attended.
    let t0 = append(&office, &assign("office", "T-0", None, "2024-02-20T00:00:00Z", "2024-02-01T00:00:00Z")).await;
    let c0 = append(&ccb, &task_step("TaskCompleted", "T-0", "2024-02-10T00:00:00Z")).await;
    let m0 = append(&office, &convene("office", "M-0", &[CCB], "2024-02-01T00:00:00Z")).await;
    let h0 = append(&office, &hold("office", "M-0", &[CCB], "2024-02-05T00:00:00Z")).await;
    let before = rival(&ccb).await;
    assert_eq!(counts(&before, "task_on_time_rate"), (json!(1), json!(1), vec![t0.clone(), c0.clone()]));
    assert_eq!(counts(&before, "meeting_attendance_rate"), (json!(1), json!(1), vec![m0.clone(), h0.clone()]));
    assert!(before["rank"].is_u64() && before["score"].is_number(), "{before}");

    // The attack, with icbc's agency token: every event is accepted by the ledger's rules.
    append(&icbc, &convene(ICBC, "M-ICBC", &[CCB, ICBC], "2024-03-01T00:00:00Z")).await;
    append(&icbc, &hold(ICBC, "M-ICBC", &[ICBC], "2024-03-02T00:00:00Z")).await;
    let mut attack_tasks = Vec::new();
    for (task, due) in
        [("T-X1", "2024-03-03T00:00:00Z"), ("T-X2", "2024-03-04T00:00:00Z"), ("T-X3", "2024-03-05T00:00:00Z")]
    {
        attack_tasks.push(append(&icbc, &assign(ICBC, task, Some("M-ICBC"), due, "2024-03-02T12:00:00Z")).await);
    }

    // ccb's figures, score and rank are exactly as before, whoever reads them.
    for reader in [&ccb, &icbc, &office] {
        assert_eq!(rival(reader).await, before, "the rival's assessment moved");
    }

    // Positive control: ccb acknowledges T-X1; now it weighs on ccb (late), the
    // acknowledgement among the evidence.
    let k1 = append(&ccb, &task_step("TaskAcknowledged", "T-X1", "2024-03-02T13:00:00Z")).await;
    let acknowledged = rival(&ccb).await;
    assert_eq!(
        counts(&acknowledged, "task_on_time_rate"),
        (json!(1), json!(2), vec![t0.clone(), c0.clone(), attack_tasks[0].clone(), k1.clone()])
    );
    assert_eq!(indicator(&acknowledged, "task_on_time_rate")["value"], json!(0.5));
    assert!(acknowledged["score"].as_f64() < before["score"].as_f64(), "{acknowledged}");
    // icbc's meeting still does not count for attendance.
    assert_eq!(counts(&acknowledged, "meeting_attendance_rate"), (json!(1), json!(1), vec![m0.clone(), h0.clone()]));

    // A coordinator's meeting and assignment always count, acknowledged or not.
    let m1 = append(&office, &convene("office", "M-1", &[CCB], "2024-03-10T00:00:00Z")).await;
    let h1 = append(&office, &hold("office", "M-1", &[], "2024-03-11T00:00:00Z")).await;
    let t1 =
        append(&office, &assign("office", "T-1", Some("M-1"), "2024-03-12T00:00:00Z", "2024-03-11T01:00:00Z")).await;
    let after = rival(&ccb).await;
    assert_eq!(counts(&after, "meeting_attendance_rate"), (json!(1), json!(2), vec![m0, h0, m1, h1]));
    assert_eq!(
        counts(&after, "task_on_time_rate"),
        (json!(1), json!(3), vec![t0, c0, attack_tasks[0].clone(), k1, t1])
    );
}
