//! The indicators of SPEC 3.2 for one agency, one period and one ledger
//! position, read from the projection. Each gives its value, numerator and
//! denominator (or sample size) and the ids of the events it used, in the
//! order of the items (oldest creation first; within an item, the request
//! before its answers).
//!
//! Counting is in integers; a value becomes a fraction only for scoring.

use uuid::Uuid;

use crate::exact::{self, Exact};
use crate::model::IndicatorId;
use crate::projection::{Agency, Freeze, FreezeAnswer, Pair, Projection, TaskStepKind};

/// Percentile of the latency indicators: p90 = 9/10.
pub const LATENCY_PERCENTILE: (u64, u64) = (9, 10);

const MICROS_PER_S: i64 = 1_000_000;

/// The period and the position an assessment is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start of the period, inclusive, in µs since the epoch.
    pub from_us: i64,
    /// End of the period, exclusive, in µs since the epoch.
    pub to_us: i64,
    /// Only events with `seq ≤ as_of` exist (and retractions among them apply).
    pub as_of: u64,
    /// The assessment clock: `recorded_at` of the event at `as_of`, in µs.
    pub clock_us: i64,
}

impl Window {
    /// Whether an instant is in the half-open period `[from, to)`.
    #[inline]
    pub fn contains(&self, at_us: i64) -> bool {
        self.from_us <= at_us && at_us < self.to_us
    }
}

/// An indicator's value, before scoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FigureValue {
    /// `num / den` with `den > 0` (rates and the loss recovery ratio).
    Ratio { num: u128, den: u128 },
    /// A latency percentile in whole seconds: the element at 1-based `rank`
    /// of the `n` sorted latencies.
    Seconds { value_s: i64, rank: usize, n: usize },
    /// A count.
    Count(u128),
}

impl FigureValue {
    /// The value as an exact number.
    pub fn exact(&self) -> Exact {
        match self {
            FigureValue::Ratio { num, den } => exact::fraction(*num, *den).unwrap_or_default(),
            FigureValue::Seconds { value_s, .. } => exact::int(*value_s),
            FigureValue::Count(c) => exact::int(*c),
        }
    }
}

/// One indicator for one agency: value (`None` when not applicable: a zero
/// denominator or no sample), counts, and evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub value: Option<FigureValue>,
    pub numerator: Option<u128>,
    pub denominator: Option<u128>,
    /// For latencies: how many answered items the percentile is over; for
    /// counts: how many actions were summed; for the loss recovery ratio:
    /// how many cases were reported in the period.
    pub sample_size: Option<u64>,
    /// Ids of the events used.
    pub evidence: Vec<Uuid>,
}

impl Figure {
    fn ratio(num: u128, den: u128, evidence: Vec<Uuid>) -> Self {
        let value = (den > 0).then_some(FigureValue::Ratio { num, den });
        Figure { value, numerator: Some(num), denominator: Some(den), sample_size: None, evidence }
    }

    fn latency(mut latencies_s: Vec<i64>, evidence: Vec<Uuid>) -> Self {
        let n = latencies_s.len();
        let (p_num, p_den) = LATENCY_PERCENTILE;
        let value = exact::percentile(&mut latencies_s, p_num, p_den).map(|(value_s, rank)| FigureValue::Seconds {
            value_s,
            rank,
            n,
        });
        Figure { value, numerator: None, denominator: None, sample_size: Some(n as u64), evidence }
    }
}

/// The figures of one agency for one window, computed on demand. The
/// indicators that read the same records — freeze execution and response
/// (the bank's freezes), clue feedback rate and latency (the clues referred
/// to it) — are computed together in one pass over them, the second kept
/// until asked for.
pub(crate) struct AgencyFigures<'p> {
    p: &'p Projection,
    sym: u32,
    a: &'p Agency,
    w: &'p Window,
    freeze_response: Option<Figure>,
    freeze_execution: Option<Figure>,
    clue_latency: Option<Figure>,
    clue_rate: Option<Figure>,
}

impl<'p> AgencyFigures<'p> {
    pub(crate) fn new(p: &'p Projection, sym: u32, a: &'p Agency, w: &'p Window) -> Self {
        AgencyFigures {
            p,
            sym,
            a,
            w,
            freeze_response: None,
            freeze_execution: None,
            clue_latency: None,
            clue_rate: None,
        }
    }

    /// Indicator `id`.
    pub(crate) fn figure(&mut self, id: IndicatorId) -> Figure {
        let (a, w) = (self.a, self.w);
        match id {
            IndicatorId::TaskOnTimeRate => task_on_time(a, w),
            IndicatorId::MeetingAttendanceRate => meeting_attendance(self.p, self.sym, a, w),
            IndicatorId::FreezeExecutionRate => self.freeze_execution.take().unwrap_or_else(|| {
                let (execution, response) = freezes(a, w);
                self.freeze_response = Some(response);
                execution
            }),
            IndicatorId::FreezeResponseP90S => self.freeze_response.take().unwrap_or_else(|| {
                let (execution, response) = freezes(a, w);
                self.freeze_execution = Some(execution);
                response
            }),
            IndicatorId::ClueFeedbackRate => self.clue_rate.take().unwrap_or_else(|| {
                let (rate, latency) = pairs(&a.clues, w, true);
                self.clue_latency = latency;
                rate
            }),
            IndicatorId::ClueFeedbackP90S => self.clue_latency.take().unwrap_or_else(|| {
                let (rate, latency) = pairs(&a.clues, w, true);
                self.clue_rate = Some(rate);
                latency.unwrap_or_else(|| Figure::latency(Vec::new(), Vec::new()))
            }),
            IndicatorId::DissuasionCoverageRate => pairs(&a.warnings, w, false).0,
            IndicatorId::LossRecoveryRatio => loss_recovery(a, w),
            IndicatorId::CardsDisposed => cards_disposed(a, w),
        }
    }
}

/// Room for the evidence of `items` items of up to `per_item` events each.
/// Reserving the bound up front spares the copies of a growing vector (a
/// whole year of a large city cites over a million events); the unused part
/// is given back by [`fit`].
fn evidence_for(items: usize, per_item: usize) -> Vec<Uuid> {
    Vec::with_capacity(items.saturating_mul(per_item))
}

/// Gives back what [`evidence_for`] reserved and was not used.
fn fit(mut evidence: Vec<Uuid>) -> Vec<Uuid> {
    evidence.shrink_to_fit();
    evidence
}

fn latency_s(request_us: i64, answer_us: i64) -> i64 {
    // Whole seconds, rounded down (SPEC 3.2).
    (answer_us - request_us).div_euclid(MICROS_PER_S)
}

/// Tasks assigned to A by a coordinator, or acknowledged by A (SPEC 3.2
/// v1.2), not cancelled, whose effective `due_at` is in W and not after the
/// clock: share completed by `due_at` (uncompleted = late). The evidence of a
/// counted task: the assignment, the acknowledgement when it is why the task
/// counts, the extension that set the deadline, the completion.
fn task_on_time(a: &Agency, w: &Window) -> Figure {
    let (mut num, mut den, mut evidence) = (0u128, 0u128, evidence_for(a.tasks.len(), 4));
    for t in a.tasks.iter().filter(|t| t.life.live(w.as_of)) {
        let mut due_us = t.due_us;
        let mut acknowledgement = None;
        let mut extension = None;
        let mut completion = None;
        let mut cancelled = false;
        for s in t.steps.iter().filter(|s| s.life.live(w.as_of)) {
            match s.kind {
                TaskStepKind::Acknowledged => acknowledgement = Some(s.life.id),
                // Steps are in seq order: the last live extension wins.
                TaskStepKind::Extended { due_us: d } => {
                    due_us = d;
                    extension = Some(s.life.id);
                }
                TaskStepKind::Completed => completion = Some((s.life.id, s.at_us)),
                TaskStepKind::Cancelled => cancelled = true,
            }
        }
        // Another agency's assignment weighs on A only once A acknowledged it.
        let counts = t.by_coordinator || acknowledgement.is_some();
        if !counts || cancelled || !w.contains(due_us) || due_us > w.clock_us {
            continue;
        }
        den += 1;
        evidence.push(t.life.id);
        if !t.by_coordinator {
            evidence.extend(acknowledgement);
        }
        evidence.extend(extension);
        if let Some((seq, at_us)) = completion {
            evidence.push(seq);
            if at_us <= due_us {
                num += 1;
            }
        }
    }
    Figure::ratio(num, den, fit(evidence))
}

/// Meetings convened by a coordinator (SPEC 3.2 v1.2) and held in W to which
/// A was invited: share A attended.
fn meeting_attendance(p: &Projection, sym: u32, a: &Agency, w: &Window) -> Figure {
    let (mut num, mut den, mut evidence) = (0u128, 0u128, Vec::new());
    let meetings = a.meetings.iter().map(|i| &p.meetings[*i as usize]);
    for m in meetings.filter(|m| m.by_coordinator && m.life.live(w.as_of)) {
        let Some(held) = m.held.iter().find(|h| h.life.live(w.as_of)) else { continue };
        if !w.contains(held.at_us) {
            continue;
        }
        den += 1;
        evidence.extend([m.life.id, held.life.id]);
        if held.attendees.contains(&sym) {
            num += 1;
        }
    }
    Figure::ratio(num, den, evidence)
}

/// The freezes requested from bank A in W, each with its live answer.
fn requests_to<'p>(a: &'p Agency, w: &'p Window) -> impl Iterator<Item = (&'p Freeze, Option<&'p FreezeAnswer>)> + 'p {
    a.freezes
        .iter()
        .filter(|f| f.life.live(w.as_of) && w.contains(f.requested_us))
        .map(|f| (f, f.answers.iter().find(|x| x.life.live(w.as_of))))
}

/// Freeze requests to bank A in W: the share executed (even if later
/// released), and, over those answered, the p90 of the response latency.
fn freezes(a: &Agency, w: &Window) -> (Figure, Figure) {
    let (mut num, mut den) = (0u128, 0u128);
    let (mut executed, mut answered) = (evidence_for(a.freezes.len(), 2), evidence_for(a.freezes.len(), 2));
    let mut latencies = Vec::new();
    for (f, answer) in requests_to(a, w) {
        den += 1;
        executed.push(f.life.id);
        if let Some(x) = answer {
            if x.executed {
                num += 1;
                executed.push(x.life.id);
            }
            latencies.push(latency_s(f.requested_us, x.at_us));
            answered.extend([f.life.id, x.life.id]);
        }
    }
    (Figure::ratio(num, den, fit(executed)), Figure::latency(latencies, fit(answered)))
}

/// Clues referred to / warnings issued to A in W: the share answered, and
/// (when `with_latency`), over those answered, the p90 of the answer latency.
fn pairs(items: &[Pair], w: &Window, with_latency: bool) -> (Figure, Option<Figure>) {
    let (mut num, mut den) = (0u128, 0u128);
    let mut evidence = evidence_for(items.len(), 2);
    let (mut latencies, mut answered) = (Vec::new(), evidence_for(if with_latency { items.len() } else { 0 }, 2));
    for item in items.iter().filter(|x| x.life.live(w.as_of) && w.contains(x.at_us)) {
        den += 1;
        evidence.push(item.life.id);
        if let Some(answer) = item.answers.iter().find(|x| x.life.live(w.as_of)) {
            num += 1;
            evidence.push(answer.life.id);
            if with_latency {
                latencies.push(latency_s(item.at_us, answer.at_us));
                answered.extend([item.life.id, answer.life.id]);
            }
        }
    }
    let latency = with_latency.then(|| Figure::latency(latencies, fit(answered)));
    (Figure::ratio(num, den, fit(evidence)), latency)
}

/// Σ funds returned on freezes A requested in W ÷ Σ losses of cases A
/// reported in W.
fn loss_recovery(a: &Agency, w: &Window) -> Figure {
    let mut evidence = evidence_for(a.cases.len() + a.requests.len(), 2);
    let (mut returned_minor, mut loss_minor, mut cases) = (0u128, 0u128, 0u64);
    for c in a.cases.iter().filter(|c| c.life.live(w.as_of) && w.contains(c.at_us)) {
        loss_minor += u128::from(c.loss_minor);
        cases += 1;
        evidence.push(c.life.id);
    }
    for r in a.requests.iter().filter(|r| r.life.live(w.as_of) && w.contains(r.requested_us)) {
        let mut returns = r.returns.iter().filter(|x| x.life.live(w.as_of)).peekable();
        if returns.peek().is_some() {
            evidence.push(r.life.id);
            for x in returns {
                returned_minor += u128::from(x.amount_minor);
                evidence.push(x.life.id);
            }
        }
    }
    Figure { sample_size: Some(cases), ..Figure::ratio(returned_minor, loss_minor, fit(evidence)) }
}

/// Σ cards and accounts disposed of in A's card-breaking actions in W.
fn cards_disposed(a: &Agency, w: &Window) -> Figure {
    let (mut total, mut actions, mut evidence) = (0u128, 0u64, evidence_for(a.cards.len(), 1));
    for c in a.cards.iter().filter(|c| c.life.live(w.as_of) && w.contains(c.at_us)) {
        total += u128::from(c.disposed);
        actions += 1;
        evidence.push(c.life.id);
    }
    Figure {
        value: Some(FigureValue::Count(total)),
        numerator: Some(total),
        denominator: None,
        sample_size: Some(actions),
        evidence: fit(evidence),
    }
}
