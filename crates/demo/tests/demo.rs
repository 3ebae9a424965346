//! What the demo city promises: it is reproducible from its seed, every
//! event passes the ledger's real rules, it has the mix of a realistic year
//! (every agency kind, every event type but `AssessmentPublished`, late and
//! extended tasks, unanswered freezes, retractions …), and nothing happens
//! at or after `until`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use govledger_demo::{DemoConfig, events};
use govledger_domain::catalog::{AgencyKind, EventType, Payload};
use govledger_domain::{State, Submission, Timestamp, Txn};

fn until() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z").expect("a valid instant").with_timezone(&Utc)
}

fn generate(seed: u64, scale: f64) -> Vec<Submission> {
    events(&DemoConfig { seed, scale, until: until() }).collect()
}

#[test]
fn the_same_seed_gives_the_same_events_and_another_seed_others() {
    let a = generate(7, 0.05);
    let b = generate(7, 0.05);
    let c = generate(8, 0.05);
    assert!(a.len() > 1_000, "only {} events", a.len());
    assert_eq!(a, b);
    assert!(a.iter().all(|s| s.id.is_some()), "every event carries its seeded id");
    assert_ne!(a.iter().map(|s| s.id).collect::<Vec<_>>(), c.iter().map(|s| s.id).collect::<Vec<_>>());
    assert_ne!(
        a.iter().map(Submission::content_json).collect::<Vec<_>>(),
        c.iter().map(Submission::content_json).collect::<Vec<_>>()
    );
}

/// Folds the events through the domain's own rules, as the ledger does,
/// recorded at `until`; panics naming the first rejected event.
fn admit_all(subs: &[Submission]) {
    let recorded_at = Timestamp::from(until());
    let mut state = State::new();
    let mut txn = state.begin();
    for (i, sub) in subs.iter().enumerate() {
        if let Err(r) = txn.admit(sub.id.expect("demo events carry ids"), sub, recorded_at) {
            panic!("event #{i} ({}) rejected: {r:?}\n{:#}", sub.event_type().as_str(), sub.content_json());
        }
    }
    txn.commit();
    assert_eq!(state.head_seq(), subs.len() as u64);
}

#[test]
fn every_event_is_admitted_by_the_ledger_rules() {
    let subs = generate(2026, 0.25);
    assert!((7_500..12_500).contains(&subs.len()), "scale 0.25 gave {} events, expected about 10,000", subs.len());
    admit_all(&subs);
}

/// The validation state rolls a dropped change back exactly: at every cut
/// of a demo year (registrations, every lifecycle, retractions of events
/// before the cut and inside the change), a change dropped after admitting
/// the next events leaves a state equal to the one before, and the same
/// change committed gives the state of admitting everything in one go. A
/// rollback to a savepoint inside a change undoes exactly what came after it.
/// A change set aside (`Txn::detach`) and taken up again (`State::resume`)
/// is dropped or committed the same way.
#[test]
fn a_dropped_change_leaves_the_validation_state_exactly_as_it_was() {
    let subs = generate(11, 0.1);
    let retractions = subs.iter().filter(|s| s.event_type() == EventType::EventRetracted).count();
    assert!(retractions >= 3, "{retractions} retractions: the check needs some");
    let recorded_at = Timestamp::from(until());
    let admit_in = |txn: &mut Txn<'_>, subs: &[Submission]| {
        for sub in subs {
            txn.admit(sub.id.expect("demo events carry ids"), sub, recorded_at).expect("demo events pass the rules");
        }
    };
    let admit = |state: &mut State, subs: &[Submission], commit: bool| {
        let mut txn = state.begin();
        admit_in(&mut txn, subs);
        if commit {
            txn.commit();
        }
    };
    let mut whole = State::new();
    admit(&mut whole, &subs, true);
    // Changes of one event (every retraction's target is before the cut) and
    // of 97 (some targets are inside the change).
    for size in [1, 97] {
        let mut state = State::new();
        for (cut, change) in subs.chunks(size).enumerate() {
            // One-event changes: every retraction, and a sample of the rest
            // (a copy of the state at every cut would be quadratic).
            let retracts = change.iter().any(|s| s.event_type() == EventType::EventRetracted);
            if size == 1 && !retracts && cut % 61 != 0 {
                admit(&mut state, change, true);
                continue;
            }
            let before = state.clone();
            admit(&mut state, change, false);
            assert!(state == before, "a change of {size} dropped at cut {cut} left a trace");
            // Set aside, taken up again and dropped: the same.
            let mut txn = state.begin();
            admit_in(&mut txn, change);
            let detached = txn.detach();
            assert_eq!(state.head_seq(), before.head_seq() + change.len() as u64, "a detached change stays");
            drop(state.resume(detached));
            assert!(state == before, "a change of {size} detached, resumed and dropped at cut {cut} left a trace");
            // Set aside, taken up again and committed, every other cut.
            if cut % 2 == 0 {
                let mut txn = state.begin();
                admit_in(&mut txn, change);
                let detached = txn.detach();
                state.resume(detached).commit();
            } else {
                admit(&mut state, change, true);
            }
            assert_eq!(state.head_seq(), before.head_seq() + change.len() as u64);
            assert!(state != before);
        }
        assert!(state == whole, "committing changes of {size} gives the state of one change");
    }
    // A savepoint: in each change of 97, the second half is admitted and
    // rolled back to the point after the first; the state is that of the
    // first half alone (then the second half is admitted for real).
    let (mut kept, mut expected) = (State::new(), State::new());
    for (cut, change) in subs.chunks(97).enumerate() {
        let (first, second) = change.split_at(change.len() / 2);
        let mut txn = kept.begin();
        admit_in(&mut txn, first);
        let point = txn.savepoint();
        admit_in(&mut txn, second);
        txn.rollback_to(point);
        txn.commit();
        admit(&mut expected, first, true);
        assert!(kept == expected, "rolling back to the savepoint of cut {cut} left a trace");
        admit(&mut kept, second, true);
        admit(&mut expected, second, true);
    }
}

#[test]
fn every_event_of_a_full_year_with_another_seed_is_admitted_too() {
    // Retractions and slips are rare; a full year covers more of them.
    let subs = generate(99, 1.0);
    assert!(subs.iter().filter(|s| s.event_type() == EventType::EventRetracted).count() >= 5);
    admit_all(&subs);
}

#[test]
fn a_year_ending_at_any_instant_is_admitted() {
    // The local day, the registrations and the first plenary meeting must
    // fit together whatever time of day the year ends at.
    for until in ["2026-03-01T01:59:00Z", "2025-07-15T13:17:42.123456Z", "2026-01-01T00:00:00+08:00"] {
        let until = DateTime::parse_from_rfc3339(until).expect("a valid instant").with_timezone(&Utc);
        let subs: Vec<Submission> = events(&DemoConfig { seed: 5, scale: 0.05, until }).collect();
        let recorded_at = Timestamp::from(until);
        let mut state = State::new();
        let mut txn = state.begin();
        for (i, sub) in subs.iter().enumerate() {
            assert!(sub.occurred_at.as_datetime() < until, "event #{i} at {} (until {until})", sub.occurred_at);
            if let Err(r) = txn.admit(sub.id.expect("demo events carry ids"), sub, recorded_at) {
                panic!("until {until}: event #{i} ({}) rejected: {r:?}", sub.event_type().as_str());
            }
        }
    }
}

#[test]
fn nothing_occurs_at_or_after_until_and_the_order_is_time_order() {
    let subs = generate(11, 0.25);
    let until = until().timestamp_micros();
    let start = (self::until() - Duration::days(365)).timestamp_micros();
    let mut previous = i64::MIN;
    for (i, sub) in subs.iter().enumerate() {
        let at = sub.occurred_at.micros();
        assert!(at < until, "event #{i} occurs at {} (until is exclusive)", sub.occurred_at);
        assert!(at >= start, "event #{i} occurs at {}, before the year", sub.occurred_at);
        assert!(at >= previous, "event #{i} at {} comes after a later event", sub.occurred_at);
        previous = at;
    }
}

/// Figures of one generated year, for the mix test.
#[derive(Default)]
struct Mix {
    types: BTreeMap<&'static str, usize>,
    kinds: BTreeSet<&'static str>,
    agencies: usize,
    tasks_late: usize,
    tasks_open: usize,
    freezes_unanswered: usize,
}

fn mix(subs: &[Submission]) -> Mix {
    let mut m = Mix::default();
    let mut due: HashMap<String, i64> = HashMap::new();
    let mut pending_freezes: BTreeSet<String> = BTreeSet::new();
    for sub in subs {
        *m.types.entry(sub.event_type().as_str()).or_default() += 1;
        match &sub.payload {
            Payload::AgencyRegistered(p) => {
                m.kinds.insert(p.kind.as_str());
                assert!(!p.name.as_str().is_ascii(), "agency names are Chinese: {}", p.name);
                assert!(p.jurisdiction.is_some());
            }
            Payload::ResponsibilityAssigned(p) => {
                due.insert(p.task_id.to_string(), p.due_at.micros());
            }
            Payload::TaskDeadlineExtended(p) => {
                due.insert(p.task_id.to_string(), p.due_at.micros());
            }
            Payload::TaskCompleted(p) => {
                let due_at = due.remove(p.task_id.as_str()).expect("a completed task was assigned");
                m.tasks_late += usize::from(sub.occurred_at.micros() > due_at);
            }
            Payload::TaskCancelled(p) => {
                due.remove(p.task_id.as_str()).expect("a cancelled task was assigned");
            }
            Payload::FreezeRequested(p) => {
                pending_freezes.insert(p.freeze_id.to_string());
                let digits: String = p.account_ref.as_str().chars().filter(|c| *c != ' ' && *c != '-').collect();
                assert!(!digits.chars().all(|c| c.is_ascii_digit()), "bare account number {}", p.account_ref);
            }
            Payload::FreezeExecuted(p) => {
                pending_freezes.remove(p.freeze_id.as_str());
            }
            Payload::FreezeRejected(p) => {
                pending_freezes.remove(p.freeze_id.as_str());
            }
            _ => {}
        }
    }
    // Registrations minus the one retracted slip.
    m.agencies = m.types["AgencyRegistered"] - 1;
    m.tasks_open = due.len();
    m.freezes_unanswered = pending_freezes.len();
    m
}

#[test]
fn a_year_at_scale_one_has_the_mix_of_a_real_city() {
    let subs = generate(2026, 1.0);
    let m = mix(&subs);
    println!("{} events: {:#?}", subs.len(), m.types);
    println!(
        "tasks late {}, never completed {}; freezes unanswered {}",
        m.tasks_late, m.tasks_open, m.freezes_unanswered
    );
    assert!((32_000..48_000).contains(&subs.len()), "scale 1 gave {} events, expected about 40,000", subs.len());

    assert!(m.agencies >= 30, "{} agencies", m.agencies);
    for kind in AgencyKind::ALL {
        assert!(m.kinds.contains(kind.as_str()), "no {} agency", kind.as_str());
    }
    for ty in EventType::ALL {
        let n = m.types.get(ty.as_str()).copied().unwrap_or(0);
        if *ty == EventType::AssessmentPublished {
            assert_eq!(n, 0, "assessments are published by evaluators, not generated");
        } else {
            assert!(n > 0, "no {} event", ty.as_str());
        }
    }
    let count = |ty: &str| m.types.get(ty).copied().unwrap_or(0);
    assert!(count("TaskDeadlineExtended") >= 5, "extensions: {}", count("TaskDeadlineExtended"));
    assert!(count("TaskCancelled") >= 2, "cancellations: {}", count("TaskCancelled"));
    assert!(m.tasks_late >= 5, "late completions: {}", m.tasks_late);
    assert!(m.tasks_open >= 5, "tasks never completed: {}", m.tasks_open);
    assert!(count("FreezeRejected") >= 20, "rejections: {}", count("FreezeRejected"));
    assert!(m.freezes_unanswered >= 10, "unanswered freezes: {}", m.freezes_unanswered);
    // Most requests are executed, most warnings followed up.
    assert!(count("FreezeExecuted") * 10 > count("FreezeRequested") * 8);
    assert!(count("DissuasionRecorded") * 10 > count("EarlyWarningIssued") * 8);
    assert!(count("ClueFeedbackGiven") < count("ClueReferred"), "some clues get no feedback");
    let retractions = count("EventRetracted");
    assert!((5..=60).contains(&retractions), "a few retractions, not {retractions}");
}

#[test]
fn banks_differ_in_how_fast_they_answer_freezes() {
    let subs = generate(2026, 1.0);
    let mut requested_at: HashMap<String, i64> = HashMap::new();
    let mut latencies_s: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for sub in &subs {
        match &sub.payload {
            Payload::FreezeRequested(p) => {
                requested_at.insert(p.freeze_id.to_string(), sub.occurred_at.micros());
            }
            Payload::FreezeExecuted(p) => {
                if let Some(at) = requested_at.remove(p.freeze_id.as_str()) {
                    let latency_s = (sub.occurred_at.micros() - at) / 1_000_000;
                    latencies_s.entry(sub.actor.to_string()).or_default().push(latency_s);
                }
            }
            _ => {}
        }
    }
    let medians: BTreeMap<String, i64> = latencies_s
        .into_iter()
        .map(|(bank, mut xs)| {
            xs.sort_unstable();
            (bank, xs[xs.len() / 2])
        })
        .collect();
    println!("median freeze execution latency (s) by bank: {medians:#?}");
    assert!(medians.len() >= 8, "{} banks executed freezes", medians.len());
    let fastest = medians.values().min().unwrap();
    let slowest = medians.values().max().unwrap();
    assert!(*fastest < 300, "the best bank answers within minutes: {fastest}s");
    assert!(*slowest > 4 * fastest, "the spread is too small: {fastest}s .. {slowest}s");
}
