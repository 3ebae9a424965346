//! The naive oracle of the property tests: every indicator straight from the
//! events with `seq ≤ k`, minus the retracted ones, in the plainest code
//! (floating point for scores), to compare with the projection's answer.

use std::collections::{BTreeMap, HashMap, HashSet};

use govledger_assess::{Assessment, IndicatorId, Model};
use govledger_domain::catalog::{AgencyKind, PenaltyKind, Role};
use govledger_domain::{Payload, Submission, Timestamp};
use uuid::Uuid;

use crate::support::Log;

#[derive(Debug, Default)]
struct OracleTask {
    assignee: String,
    /// The assignment's event id.
    id: Uuid,
    /// Assigned by an agency holding the coordinator role.
    by_coordinator: bool,
    /// Acknowledged by the assignee (a standing `TaskAcknowledged`).
    acknowledged: bool,
    due_us: i64,
    completed_us: Option<i64>,
    cancelled: bool,
}

#[derive(Debug, Default)]
struct OracleFreeze {
    requester: String,
    bank: String,
    at_us: i64,
    answer: Option<(bool, i64)>,
    returned: u128,
}

#[derive(Debug, Default)]
struct OraclePair {
    to: String,
    at_us: i64,
    answered_us: Option<i64>,
}

/// Per agency and indicator: (numerator, denominator, value as f64, p90 sample size).
type Expected = BTreeMap<(String, IndicatorId), (Option<u128>, Option<u128>, Option<f64>, Option<u64>)>;

/// Indicators straight from the events with `seq ≤ k`, minus the retracted
/// ones: the agencies' kinds, the expected figures, the deductions, and the
/// assignments that SPEC 3.2 v1.2 does not count for anyone (by an agency
/// without the coordinator role, not acknowledged).
pub(crate) fn oracle(
    log: &Log,
    k: u64,
    from_us: i64,
    to_us: i64,
) -> (BTreeMap<String, AgencyKind>, Expected, BTreeMap<String, f64>, HashSet<Uuid>) {
    let events = &log.events[..k as usize];
    let clock_us = Timestamp::parse(&events[k as usize - 1].recorded_at).unwrap().micros();
    let subs: Vec<Submission> = events.iter().map(|e| e.submission().unwrap()).collect();
    let retracted: HashSet<Uuid> = subs
        .iter()
        .filter_map(|s| match &s.payload {
            Payload::EventRetracted(p) => Some(p.event_id.0),
            _ => None,
        })
        .collect();
    // Agencies whose standing registration gives them the coordinator role.
    let coordinators: HashSet<String> = events
        .iter()
        .zip(&subs)
        .filter(|(e, _)| !retracted.contains(&e.id))
        .filter_map(|(_, s)| match &s.payload {
            Payload::AgencyRegistered(p) if p.roles.as_ref().is_some_and(|r| r.contains(&Role::Coordinator)) => {
                Some(p.agency_id.to_string())
            }
            _ => None,
        })
        .collect();
    let mut kinds = BTreeMap::new();
    let mut tasks: HashMap<String, OracleTask> = HashMap::new();
    // Meeting id → (convened by a coordinator, invitees, (held at, attendees)).
    type OracleMeeting = (bool, Vec<String>, Option<(i64, Vec<String>)>);
    let mut meetings: HashMap<String, OracleMeeting> = HashMap::new();
    let mut freezes: HashMap<String, OracleFreeze> = HashMap::new();
    let mut cases: Vec<(String, i64, u64)> = Vec::new();
    let mut clues: HashMap<String, OraclePair> = HashMap::new();
    let mut warnings: HashMap<String, OraclePair> = HashMap::new();
    let mut cards: Vec<(String, i64, u64)> = Vec::new();
    let mut penalties: HashMap<String, (String, i64, PenaltyKind, bool)> = HashMap::new();
    for (e, s) in events.iter().zip(&subs) {
        if retracted.contains(&e.id) {
            continue;
        }
        let at = s.occurred_at.micros();
        let actor = s.actor.to_string();
        match &s.payload {
            Payload::AgencyRegistered(p) => {
                kinds.insert(p.agency_id.to_string(), p.kind);
            }
            Payload::JointMeetingConvened(p) => {
                let by_coordinator = coordinators.contains(&actor);
                let invitees = p.invitees.iter().map(|a| a.to_string()).collect();
                meetings.insert(p.meeting_id.to_string(), (by_coordinator, invitees, None));
            }
            Payload::JointMeetingHeld(p) => {
                meetings.get_mut(p.meeting_id.as_str()).unwrap().2 =
                    Some((at, p.attendees.iter().map(|a| a.to_string()).collect()));
            }
            Payload::ResponsibilityAssigned(p) => {
                let t = OracleTask {
                    assignee: p.assignee.to_string(),
                    id: e.id,
                    by_coordinator: coordinators.contains(&actor),
                    due_us: p.due_at.micros(),
                    ..Default::default()
                };
                tasks.insert(p.task_id.to_string(), t);
            }
            Payload::TaskAcknowledged(p) => tasks.get_mut(p.task_id.as_str()).unwrap().acknowledged = true,
            Payload::TaskCompleted(p) => tasks.get_mut(p.task_id.as_str()).unwrap().completed_us = Some(at),
            Payload::TaskCancelled(p) => tasks.get_mut(p.task_id.as_str()).unwrap().cancelled = true,
            Payload::TaskDeadlineExtended(p) => tasks.get_mut(p.task_id.as_str()).unwrap().due_us = p.due_at.micros(),
            Payload::FraudCaseReported(p) => cases.push((actor, at, p.loss_minor.0)),
            Payload::FreezeRequested(p) => {
                let f = OracleFreeze { requester: actor, bank: p.bank.to_string(), at_us: at, ..Default::default() };
                freezes.insert(p.freeze_id.to_string(), f);
            }
            Payload::FreezeExecuted(p) => freezes.get_mut(p.freeze_id.as_str()).unwrap().answer = Some((true, at)),
            Payload::FreezeRejected(p) => freezes.get_mut(p.freeze_id.as_str()).unwrap().answer = Some((false, at)),
            Payload::FundsReturned(p) => {
                freezes.get_mut(p.freeze_id.as_str()).unwrap().returned += u128::from(p.amount_minor.0)
            }
            Payload::ClueReferred(p) => {
                clues.insert(p.clue_id.to_string(), OraclePair { to: p.to.to_string(), at_us: at, answered_us: None });
            }
            Payload::ClueFeedbackGiven(p) => clues.get_mut(p.clue_id.as_str()).unwrap().answered_us = Some(at),
            Payload::EarlyWarningIssued(p) => {
                let w = OraclePair { to: p.to.to_string(), at_us: at, answered_us: None };
                warnings.insert(p.warning_id.to_string(), w);
            }
            Payload::DissuasionRecorded(p) => warnings.get_mut(p.warning_id.as_str()).unwrap().answered_us = Some(at),
            Payload::CardBreakingAction(p) => {
                cards.push((actor, at, p.bank_cards.0 + p.phone_cards.0 + p.internet_accounts.0))
            }
            Payload::PenaltyImposed(p) => {
                penalties.insert(p.penalty_id.to_string(), (p.target.to_string(), at, p.kind, false));
            }
            Payload::PenaltyRevoked(p) => penalties.get_mut(p.penalty_id.as_str()).unwrap().3 = true,
            _ => {}
        }
    }
    let inw = |t: i64| from_us <= t && t < to_us;
    let ratio = |n: u128, d: u128| (Some(n), Some(d), (d > 0).then(|| n as f64 / d as f64), None);
    let p90 = |mut v: Vec<i64>| {
        v.sort();
        let n = v.len();
        let value = (n > 0).then(|| v[(9 * n).div_ceil(10) - 1] as f64);
        (None, None, value, Some(n as u64))
    };
    let lat = |a: i64, b: i64| (b - a).div_euclid(1_000_000);
    let mut out = Expected::new();
    let mut deductions = BTreeMap::new();
    for a in kinds.keys() {
        let mine = |x: &String| x == a;
        let ts: Vec<&OracleTask> = tasks
            .values()
            .filter(|t| (t.by_coordinator || t.acknowledged) && mine(&t.assignee))
            .filter(|t| !t.cancelled && inw(t.due_us) && t.due_us <= clock_us)
            .collect();
        let on_time = ts.iter().filter(|t| t.completed_us.is_some_and(|c| c <= t.due_us)).count() as u128;
        out.insert((a.clone(), IndicatorId::TaskOnTimeRate), ratio(on_time, ts.len() as u128));
        let ms: Vec<_> = meetings
            .values()
            .filter(|(by_coordinator, ..)| *by_coordinator)
            .filter_map(|(_, inv, held)| held.as_ref().filter(|(t, _)| inv.contains(a) && inw(*t)))
            .collect();
        let attended = ms.iter().filter(|(_, att)| att.contains(a)).count() as u128;
        out.insert((a.clone(), IndicatorId::MeetingAttendanceRate), ratio(attended, ms.len() as u128));
        let fs: Vec<&OracleFreeze> = freezes.values().filter(|f| mine(&f.bank) && inw(f.at_us)).collect();
        let executed = fs.iter().filter(|f| matches!(f.answer, Some((true, _)))).count() as u128;
        out.insert((a.clone(), IndicatorId::FreezeExecutionRate), ratio(executed, fs.len() as u128));
        let answered = fs.iter().filter_map(|f| f.answer.map(|(_, t)| lat(f.at_us, t))).collect();
        out.insert((a.clone(), IndicatorId::FreezeResponseP90S), p90(answered));
        for (items, rate_id, p90_id) in [
            (&clues, IndicatorId::ClueFeedbackRate, Some(IndicatorId::ClueFeedbackP90S)),
            (&warnings, IndicatorId::DissuasionCoverageRate, None),
        ] {
            let xs: Vec<&OraclePair> = items.values().filter(|x| mine(&x.to) && inw(x.at_us)).collect();
            let done: Vec<i64> = xs.iter().filter_map(|x| x.answered_us.map(|t| lat(x.at_us, t))).collect();
            out.insert((a.clone(), rate_id), ratio(done.len() as u128, xs.len() as u128));
            if let Some(p90_id) = p90_id {
                out.insert((a.clone(), p90_id), p90(done));
            }
        }
        let returned: u128 = freezes.values().filter(|f| mine(&f.requester) && inw(f.at_us)).map(|f| f.returned).sum();
        let loss: u128 = cases.iter().filter(|(r, t, _)| mine(r) && inw(*t)).map(|(_, _, l)| u128::from(*l)).sum();
        out.insert((a.clone(), IndicatorId::LossRecoveryRatio), ratio(returned, loss));
        let (n, total) = cards
            .iter()
            .filter(|(r, t, _)| mine(r) && inw(*t))
            .fold((0u64, 0u128), |(n, s), (_, _, d)| (n + 1, s + u128::from(*d)));
        out.insert((a.clone(), IndicatorId::CardsDisposed), (Some(total), None, Some(total as f64), Some(n)));
        let d: f64 = penalties
            .values()
            .filter(|(target, t, _, revoked)| mine(target) && inw(*t) && !revoked)
            .map(|(_, _, kind, _)| match kind {
                PenaltyKind::Warning => 2.0,
                PenaltyKind::PublicCriticism => 5.0,
                PenaltyKind::Fine => 10.0,
                PenaltyKind::Suspension => 20.0,
            })
            .sum();
        deductions.insert(a.clone(), d);
    }
    let uncounted = tasks.values().filter(|t| !t.by_coordinator && !t.acknowledged).map(|t| t.id).collect();
    (kinds, out, deductions, uncounted)
}

/// Default model v1 points in floating point (the oracle's own arithmetic).
fn oracle_points(id: IndicatorId, v: f64) -> f64 {
    let latency = |good: f64, bad: f64| {
        if v <= good {
            100.0
        } else if v >= bad {
            0.0
        } else {
            100.0 * (bad - v) / (bad - good)
        }
    };
    match id {
        IndicatorId::ClueFeedbackP90S => latency(86_400.0, 604_800.0),
        IndicatorId::FreezeResponseP90S => latency(600.0, 7_200.0),
        IndicatorId::LossRecoveryRatio => 100.0 * (v / 0.3).min(1.0),
        IndicatorId::CardsDisposed => 100.0 * (v / 50.0).min(1.0),
        _ => 100.0 * v,
    }
}

pub(crate) fn check_against_oracle(log: &Log, doc: &Assessment, from_us: i64, to_us: i64) {
    let model = Model::default_v1();
    let (kinds, expected, deductions, _) = oracle(log, doc.as_of_seq, from_us, to_us);
    let listed: Vec<&str> = doc.agencies.iter().map(|a| a.agency_id.as_str()).collect::<Vec<_>>();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, kinds.keys().map(String::as_str).collect::<Vec<_>>(), "listed agencies");
    for ag in &doc.agencies {
        assert_eq!(ag.kind, kinds[&ag.agency_id], "{}", ag.agency_id);
        let applicable: Vec<IndicatorId> =
            model.indicators.iter().filter(|m| m.applies_to.includes(ag.kind)).map(|m| m.id).collect();
        assert_eq!(ag.indicators.iter().map(|i| i.id).collect::<Vec<_>>(), applicable);
        let (mut sum, mut weights) = (0.0, 0.0);
        for i in &ag.indicators {
            let (num, den, value, n) = expected[&(ag.agency_id.clone(), i.id)];
            let ctx = format!("{} {} as of {}", ag.agency_id, i.id, doc.as_of_seq);
            assert_eq!((i.numerator, i.denominator), (num, den), "{ctx}");
            if matches!(
                i.id,
                IndicatorId::FreezeResponseP90S | IndicatorId::ClueFeedbackP90S | IndicatorId::CardsDisposed
            ) {
                assert_eq!(i.sample_size, n, "{ctx}");
            }
            let got = i.value.as_ref().map(|v| v.as_f64().unwrap());
            match (got, value) {
                (Some(g), Some(e)) => assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{ctx}: {g} vs {e}"),
                (g, e) => assert_eq!(g, e, "{ctx}"),
            }
            assert_eq!(i.points.is_some(), value.is_some(), "{ctx}");
            if let (Some(p), Some(v)) = (i.points, value) {
                let e = oracle_points(i.id, v);
                assert!((p - e).abs() <= 1e-6, "{ctx}: points {p} vs {e}");
                let w = model.indicators.iter().find(|m| m.id == i.id).unwrap().weight.to_integer();
                let w: f64 = w.to_string().parse().unwrap();
                sum += w * e;
                weights += w;
            }
        }
        let weighted = (weights > 0.0).then(|| sum / weights);
        let score = weighted.map(|w| (w - deductions[&ag.agency_id]).clamp(0.0, 100.0));
        assert_eq!(ag.deductions.as_f64(), Some(deductions[&ag.agency_id]), "{}", ag.agency_id);
        for (got, want, what) in [(ag.weighted, weighted, "weighted"), (ag.score, score, "score")] {
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() <= 1.5e-6, "{} {what}: {g} vs {w}", ag.agency_id),
                (g, w) => assert_eq!(g.is_some(), w.is_some(), "{} {what}", ag.agency_id),
            }
        }
        assert_eq!(ag.rank.is_some(), ag.score.is_some());
    }
}
