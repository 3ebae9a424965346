//! Entity listings (`Projection::entities`): status from live steps,
//! retractions, filters by agency, status and time, and seq-cursor paging.

#![allow(clippy::unwrap_used)]

mod support;

use govledger_assess::{EntityFilter, EntityKind, EntityStatus, Projection};
use support::{Log, ts};

fn us(text: &str) -> i64 {
    ts(text).micros()
}

fn statuses(p: &Projection, kind: EntityKind, filter: &EntityFilter) -> Vec<(u64, EntityStatus)> {
    p.entities(kind, filter, 0, 1_000).entities.iter().map(|v| (v.seq, v.status)).collect()
}

#[test]
fn tasks_are_listed_with_their_status_due_date_and_steps() {
    let mut log = Log::new();
    log.city();
    let a = "2026-01-02T00:00:00Z";
    let t1 = log.assign(a, "T1", "tel", "2026-02-01T00:00:00Z");
    let t2 = log.assign(a, "T2", "bank", "2026-03-01T00:00:00Z");
    let t3 = log.assign(a, "T3", "tel", "2026-04-01T00:00:00Z");
    let t4 = log.assign(a, "T4", "tel", "2026-05-01T00:00:00Z");
    log.extend("2026-01-03T00:00:00Z", "T1", "2026-06-01T00:00:00Z");
    log.complete("2026-01-04T00:00:00Z", "T2", "bank");
    log.cancel("2026-01-05T00:00:00Z", "T3");
    let done = log.complete("2026-01-06T00:00:00Z", "T4", "tel");
    log.retract("2026-01-07T00:00:00Z", done);
    let p = log.projection();
    let (s1, s2, s3, s4) = (log.seq_of(t1), log.seq_of(t2), log.seq_of(t3), log.seq_of(t4));

    let all = p.entities(EntityKind::Task, &EntityFilter::default(), 0, 100);
    assert!(!all.more);
    let got: Vec<_> = all.entities.iter().map(|v| (v.seq, v.agency.as_deref(), v.status, v.steps, v.at_us)).collect();
    assert_eq!(
        got,
        [
            // T1's due date is the extended one.
            (s1, Some("tel"), EntityStatus::Open, 1, us("2026-06-01T00:00:00Z")),
            (s2, Some("bank"), EntityStatus::Completed, 1, us("2026-03-01T00:00:00Z")),
            (s3, Some("tel"), EntityStatus::Cancelled, 1, us("2026-04-01T00:00:00Z")),
            // T4's completion was retracted: open again, no live step.
            (s4, Some("tel"), EntityStatus::Open, 0, us("2026-05-01T00:00:00Z")),
        ]
    );
    assert_eq!(all.entities[0].event_id, t1);

    let tel = EntityFilter { agency: Some("tel".into()), ..EntityFilter::default() };
    assert_eq!(statuses(&p, EntityKind::Task, &tel).len(), 3);
    let open = EntityFilter { status: Some(EntityStatus::Open), ..tel.clone() };
    assert_eq!(statuses(&p, EntityKind::Task, &open), [(s1, EntityStatus::Open), (s4, EntityStatus::Open)]);
    let due_spring = EntityFilter {
        from_us: Some(us("2026-03-01T00:00:00Z")),
        to_us: Some(us("2026-05-01T00:00:00Z")),
        ..EntityFilter::default()
    };
    // [from, to): T2 (due 03-01) and T3 (04-01), not T4 (05-01).
    assert_eq!(
        statuses(&p, EntityKind::Task, &due_spring),
        [(s2, EntityStatus::Completed), (s3, EntityStatus::Cancelled)]
    );
    assert!(statuses(&p, EntityKind::Freeze, &EntityFilter::default()).is_empty());
}

#[test]
fn pages_follow_the_seq_cursor_without_gaps_or_repeats() {
    let mut log = Log::new();
    log.city();
    let mut seqs = Vec::new();
    for k in 0..25 {
        let id = log.assign("2026-01-02T00:00:00Z", &format!("T{k}"), "tel", "2026-02-01T00:00:00Z");
        seqs.push(log.seq_of(id));
    }
    let p = log.projection();
    let (mut after, mut seen) = (0, Vec::new());
    loop {
        let page = p.entities(EntityKind::Task, &EntityFilter::default(), after, 10);
        assert!(page.entities.len() <= 10);
        seen.extend(page.entities.iter().map(|v| v.seq));
        let Some(last) = page.entities.last() else { break };
        after = last.seq;
        if !page.more {
            break;
        }
    }
    assert_eq!(seen, seqs);
}

#[test]
fn freezes_list_under_bank_and_requester_and_a_retracted_one_says_so() {
    let mut log = Log::new();
    log.city();
    let f1 = log.freeze("2026-01-02T00:00:00Z", "F1", "bank");
    let f2 = log.freeze("2026-01-03T00:00:00Z", "F2", "bank");
    let f3 = log.freeze("2026-01-04T00:00:00Z", "F3", "bank");
    log.execute("2026-01-05T00:00:00Z", "F1", "bank");
    log.reject_freeze("2026-01-05T00:00:00Z", "F2", "bank");
    log.retract("2026-01-06T00:00:00Z", f3);
    let p = log.projection();
    let expected = [
        (log.seq_of(f1), EntityStatus::Executed),
        (log.seq_of(f2), EntityStatus::Rejected),
        (log.seq_of(f3), EntityStatus::Retracted),
    ];
    for agency in ["bank", "police"] {
        let f = EntityFilter { agency: Some(agency.into()), ..EntityFilter::default() };
        assert_eq!(statuses(&p, EntityKind::Freeze, &f), expected, "{agency}");
    }
    let other = EntityFilter { agency: Some("tel".into()), ..EntityFilter::default() };
    assert!(statuses(&p, EntityKind::Freeze, &other).is_empty());
    let first = p.entities(EntityKind::Freeze, &EntityFilter::default(), 0, 1);
    assert!(first.more);
    assert_eq!(first.entities[0].at_us, us("2026-01-02T00:00:00Z"));
    assert_eq!(EntityStatus::from_name("retracted"), Some(EntityStatus::Retracted));
    assert!(EntityStatus::ALL.iter().all(|s| EntityStatus::from_name(s.as_str()) == Some(*s)));
}
