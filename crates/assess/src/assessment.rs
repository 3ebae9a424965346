//! The assessment (SPEC 3.3, 3.4): points, weighted scores, deductions,
//! scores, grades and the ranking, as the document that `govledger assess`
//! prints and the GraphQL `assessment` query returns.
//!
//! Arithmetic is exact until the end: points, `weighted` and `score` are
//! fractions, rounded to 6 decimals half away from zero only when reported;
//! grades and the ranking use the rounded score, so equal reported scores tie
//! however they were computed. `weighted` is computed from the exact points,
//! not from the rounded ones.

use std::sync::atomic::{AtomicUsize, Ordering};

use govledger_domain::Timestamp;
use govledger_domain::catalog::{AgencyKind, PenaltyKind};
use num_bigint::BigInt;
use num_traits::Zero;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::exact::{self, Exact};
use crate::indicators::{AgencyFigures, Figure, FigureValue, Window};
use crate::model::{IndicatorId, Model, Points};
use crate::projection::{Projection, Registration};

/// Threads an assessment uses at most.
const MAX_THREADS: usize = 4;
/// Records (tasks, freezes, cases …) below which an assessment stays on one
/// thread: a quarter of a mid-size city takes well under a millisecond.
const PARALLEL_FROM_RECORDS: usize = 50_000;

/// What to assess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// Start of the period, inclusive.
    pub from: Timestamp,
    /// End of the period, exclusive.
    pub to: Timestamp,
    /// The ledger position; `None` for the head of the projection.
    pub as_of: Option<u64>,
}

/// Why an assessment cannot be computed; each is the caller's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssessError {
    #[error("the ledger is empty; there is nothing to assess")]
    EmptyLedger,
    #[error("--as-of {as_of} is above the head of the ledger (seq {head})")]
    AsOfBeyondHead { as_of: u64, head: u64 },
    #[error("--as-of must be a seq from 1 to the head of the ledger, not 0")]
    AsOfZero,
    #[error("the period is empty: from ({from}) must be before to ({to})")]
    EmptyPeriod { from: String, to: String },
}

/// The half-open period `[from, to)` as RFC 3339 UTC texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: String,
    pub to: String,
}

/// The assessment document (SPEC 3.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub period: Period,
    /// The ledger position the figures are computed as of.
    pub as_of_seq: u64,
    /// The hash of the event at `as_of_seq` (the ledger's head as this
    /// assessment sees it; not the current head when `as_of_seq` is earlier).
    pub head_hash: String,
    /// SHA-256 of the model file's bytes.
    pub model_sha256: String,
    /// Ranked agencies first (rank 1, 2 …), then those with a null score by
    /// `agency_id`.
    pub agencies: Vec<AgencyAssessment>,
}

/// One agency's assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgencyAssessment {
    pub agency_id: String,
    pub name: String,
    pub kind: AgencyKind,
    /// 1-based position in the ranking; null when the score is null.
    pub rank: Option<u32>,
    /// `clamp(weighted − deductions, 0, 100)`, rounded to 6 decimals.
    pub score: Option<f64>,
    pub grade: Option<String>,
    /// Σ wᵢ·pointsᵢ / Σ wᵢ over the indicators with a value, rounded to 6 decimals.
    pub weighted: Option<f64>,
    /// Points deducted for penalties (an integer when the model's are).
    pub deductions: serde_json::Number,
    /// The penalties behind `deductions` (an addition to the SPEC 3.4
    /// example, so that this figure is explained too).
    pub penalties: Vec<PenaltyDeduction>,
    /// Every indicator of the model that applies to the agency's kind.
    pub indicators: Vec<IndicatorResult>,
}

/// A penalty that counts against the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PenaltyDeduction {
    /// The `PenaltyImposed` event.
    pub event_id: Uuid,
    pub kind: PenaltyKind,
    pub occurred_at: String,
    pub deduction: serde_json::Number,
}

/// One indicator of one agency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorResult {
    pub id: IndicatorId,
    /// A rate or ratio (number), a latency in whole seconds or a count
    /// (integers); null when not applicable in the period.
    pub value: Option<serde_json::Number>,
    /// 0-100, rounded to 6 decimals; null when `value` is.
    pub points: Option<f64>,
    pub weight: serde_json::Number,
    pub numerator: Option<u128>,
    pub denominator: Option<u128>,
    /// Latencies: the number of answered items the percentile is over.
    /// Counts: the number of actions summed. The loss recovery ratio: the
    /// number of cases reported in the period. Null for rates (their
    /// sample is the denominator).
    pub sample_size: Option<u64>,
    /// Ids of the events used, oldest item first.
    pub evidence: Vec<Uuid>,
}

/// An agency's figures before ranking.
struct Scored {
    doc: AgencyAssessment,
    score_micros: Option<BigInt>,
}

impl Projection {
    /// Computes the assessment of `query` with `model`. Reads the projection
    /// only (it never replays the log); the cost grows with the number of
    /// entities of the listed agencies, not with the length of the log.
    pub fn assess(&self, model: &Model, query: &Query) -> Result<Assessment, AssessError> {
        self.assess_with_threads(model, query, None)
    }

    /// The position `query` is assessed as of (its `as_of`, or the head), or
    /// why it cannot be assessed.
    pub fn position(&self, query: &Query) -> Result<u64, AssessError> {
        let head = self.head_seq();
        if head == 0 {
            return Err(AssessError::EmptyLedger);
        }
        let as_of = query.as_of.unwrap_or(head);
        if as_of == 0 {
            return Err(AssessError::AsOfZero);
        }
        if as_of > head {
            return Err(AssessError::AsOfBeyondHead { as_of, head });
        }
        if query.from >= query.to {
            return Err(AssessError::EmptyPeriod { from: query.from.to_rfc3339(), to: query.to.to_rfc3339() });
        }
        Ok(as_of)
    }

    /// [`Projection::assess`] on `threads` threads (`None`: as many as the
    /// machine has, up to [`MAX_THREADS`], when the agencies' records number
    /// [`PARALLEL_FROM_RECORDS`] or more; one otherwise). The document does
    /// not depend on it; tests compare.
    #[doc(hidden)]
    pub fn assess_with_threads(
        &self,
        model: &Model,
        query: &Query,
        threads: Option<usize>,
    ) -> Result<Assessment, AssessError> {
        let as_of = self.position(query)?;
        let at = (as_of - 1) as usize;
        let window =
            Window { from_us: query.from.micros(), to_us: query.to.micros(), as_of, clock_us: self.recorded_us[at] };
        // At most one registration of an id stands at any position.
        let listed: Vec<(u32, &Registration)> = (self.agencies.iter().enumerate())
            .filter_map(|(sym, a)| Some((sym as u32, a.registrations.iter().find(|r| r.life.live(as_of))?)))
            .collect();
        let score = |&(sym, reg): &(u32, &Registration)| self.score_agency(model, sym, reg.kind, &reg.name, &window);
        let threads = threads.unwrap_or_else(|| {
            let records: usize = listed.iter().map(|(sym, _)| self.agencies[*sym as usize].records()).sum();
            // Asked once: on Linux the answer reads cgroup files each time.
            static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
            let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            if records < PARALLEL_FROM_RECORDS { 1 } else { cores.min(MAX_THREADS) }
        });
        let mut scored = in_parallel(threads, &listed, score);
        // Ranking (SPEC 3.3): rounded score descending, then agency_id; null
        // scores last by agency_id.
        scored.sort_by(|a, b| match (&a.score_micros, &b.score_micros) {
            (Some(x), Some(y)) => y.cmp(x).then_with(|| a.doc.agency_id.cmp(&b.doc.agency_id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.doc.agency_id.cmp(&b.doc.agency_id),
        });
        let mut agencies = Vec::with_capacity(scored.len());
        for (i, mut s) in scored.into_iter().enumerate() {
            if s.score_micros.is_some() {
                s.doc.rank = u32::try_from(i + 1).ok();
            }
            agencies.push(s.doc);
        }
        Ok(Assessment {
            period: Period { from: query.from.to_rfc3339(), to: query.to.to_rfc3339() },
            as_of_seq: as_of,
            head_hash: hex::encode(self.hashes[at]),
            model_sha256: model.sha256.clone(),
            agencies,
        })
    }

    fn score_agency(&self, model: &Model, sym: u32, kind: AgencyKind, name: &str, w: &Window) -> Scored {
        let agency = &self.agencies[sym as usize];
        let mut indicators = Vec::new();
        let (mut weighted_sum, mut weight_sum) = (Exact::zero(), Exact::zero());
        let mut figures = AgencyFigures::new(self, sym, agency, w);
        for mi in model.indicators.iter().filter(|mi| mi.applies_to.includes(kind)) {
            let fig = figures.figure(mi.id);
            let points = fig.value.as_ref().map(|v| points(&mi.points, v));
            if let Some(p) = &points {
                weighted_sum += &mi.weight * p;
                weight_sum += &mi.weight;
            }
            indicators.push(indicator_result(mi.id, &mi.weight, fig, points.as_ref()));
        }
        let weighted = (!weight_sum.is_zero()).then(|| weighted_sum / &weight_sum);

        let mut deductions = Exact::zero();
        let mut penalties = Vec::new();
        for p in agency.penalties.iter() {
            let revoked = p.revocations.iter().any(|r| r.live(w.as_of));
            if p.life.live(w.as_of) && w.contains(p.at_us) && !revoked {
                let d = model.deduction(p.kind);
                deductions += &d;
                penalties.push(PenaltyDeduction {
                    event_id: p.life.id,
                    kind: p.kind,
                    occurred_at: Timestamp::from_micros(p.at_us).to_rfc3339(),
                    deduction: exact::json_number(&d),
                });
            }
        }
        let score = weighted.as_ref().map(|wt| exact::clamp(wt - &deductions, &Exact::zero(), &exact::hundred()));
        let score_micros = score.as_ref().map(exact::round_micros);
        let grade = score_micros
            .as_ref()
            .and_then(|m| model.grade(&Exact::new(m.clone(), BigInt::from(1_000_000u32))))
            .map(str::to_owned);
        Scored {
            doc: AgencyAssessment {
                agency_id: agency.id.to_string(),
                name: name.to_owned(),
                kind,
                rank: None,
                score: score_micros.as_ref().map(exact::micros_to_f64),
                grade,
                weighted: weighted.as_ref().map(exact::round6),
                deductions: exact::json_number(&deductions),
                penalties,
                indicators,
            },
            score_micros,
        }
    }
}

/// `f` of every item on `threads` threads, the results in no particular
/// order. Agencies differ widely in size (a bank's freezes, a police
/// station's cases), so each thread takes the next item as it finishes
/// rather than a fixed share.
fn in_parallel<T: Sync, R: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if threads < 2 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
            out.push(f(item));
        }
        out
    };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            // A panic in a helper is a bug in the indicators; pass it on.
            all.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        all
    })
}

fn indicator_result(id: IndicatorId, weight: &Exact, fig: Figure, points: Option<&Exact>) -> IndicatorResult {
    let value = fig.value.as_ref().map(|v| match v {
        FigureValue::Ratio { .. } => {
            serde_json::Number::from_f64(exact::to_f64(&v.exact())).unwrap_or_else(|| serde_json::Number::from(0))
        }
        FigureValue::Seconds { value_s, .. } => serde_json::Number::from(*value_s),
        FigureValue::Count(c) => match u64::try_from(*c) {
            Ok(c) => serde_json::Number::from(c),
            Err(_) => serde_json::Number::from_f64(*c as f64).unwrap_or_else(|| serde_json::Number::from(0)),
        },
    });
    IndicatorResult {
        id,
        value,
        points: points.map(exact::round6),
        weight: exact::json_number(weight),
        numerator: fig.numerator,
        denominator: fig.denominator,
        sample_size: fig.sample_size,
        evidence: fig.evidence,
    }
}

/// Points (0-100, exact) of a value under a model rule (SPEC 3.3).
pub fn points(rule: &Points, value: &FigureValue) -> Exact {
    let v = value.exact();
    let hundred = exact::hundred();
    match rule {
        Points::Rate => hundred * v,
        Points::Latency { good_s, bad_s } => {
            if &v <= good_s {
                hundred
            } else if &v >= bad_s {
                Exact::zero()
            } else {
                hundred * (bad_s - &v) / (bad_s - good_s)
            }
        }
        Points::Target { target } => {
            let share = v / target;
            hundred * if share > exact::one() { exact::one() } else { share }
        }
    }
}
