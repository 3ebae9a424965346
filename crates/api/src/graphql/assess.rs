//! Assessment queries (SPEC 3.4, SPEC 4): `assessment(from, to, asOf)`, the
//! document `govledger assess --format json` prints, with camelCase names;
//! and `scorecard(agency, …)`, one agency's entry of it with its score
//! explained in plain language. Both read the server's projection, brought
//! up to the ledger's head as of the request first (`AppState::with_projection`).

use crate::seq::Seq;
use async_graphql::{ComplexObject, Context, Object, Result, Scalar, ScalarType, SimpleObject, Value};
use govledger_assess::Query;
use govledger_domain::Timestamp;

use super::principal;
use super::proofs::CheckpointObject;
use super::types::{AgencyKind, PenaltyKind};
use crate::AppState;
use crate::error::{ApiCode, AppError};

/// A JSON number exactly as the assessment computed it: an integer, or a
/// decimal with at most 6 fractional digits (rates, ratios, points).
#[derive(Debug, Clone, PartialEq)]
pub struct Number(pub serde_json::Number);

/// A JSON number exactly as the assessment computed it: an integer, or a
/// decimal with at most 6 fractional digits (output only).
#[Scalar(name = "Number")]
impl ScalarType for Number {
    fn parse(value: Value) -> async_graphql::InputValueResult<Self> {
        match value {
            Value::Number(n) => Ok(Number(n)),
            other => Err(async_graphql::InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.clone())
    }
}

/// Event ids (UUIDs), as a JSON list of strings, oldest item first.
///
/// One scalar rather than `[String!]!`: a whole-year assessment cites
/// hundreds of thousands of events, and a GraphQL list resolves each item as
/// a value of its own, which made the list most of the cost of the query.
#[derive(Debug, Clone, PartialEq)]
pub struct EventIds(pub Vec<uuid::Uuid>);

/// Event ids: a JSON list of UUID strings (`8-4-4-4-12` lowercase hex),
/// oldest first (output only).
#[Scalar(name = "EventIds")]
impl ScalarType for EventIds {
    fn parse(value: Value) -> async_graphql::InputValueResult<Self> {
        match value {
            Value::List(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => {
                        uuid::Uuid::parse_str(&s).map_err(|_| async_graphql::InputValueError::custom("not a UUID"))
                    }
                    other => Err(async_graphql::InputValueError::expected_type(other)),
                })
                .collect::<Result<_, _>>()
                .map(EventIds),
            other => Err(async_graphql::InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::List(self.0.iter().map(|id| Value::String(id.to_string())).collect())
    }
}

fn float(x: f64) -> Option<Number> {
    serde_json::Number::from_f64(x).map(Number)
}

fn big(x: u128) -> Option<Number> {
    serde_json::Number::from_u128(x).map(Number)
}

/// The half-open period `[from, to)`, UTC.
#[derive(SimpleObject, Debug, Clone)]
pub struct Period {
    pub from: String,
    pub to: String,
}

/// One indicator of one agency (SPEC 3.2).
#[derive(SimpleObject, Debug, Clone)]
pub struct IndicatorResult {
    /// The indicator's id as in the model, e.g. `task_on_time_rate`.
    pub id: String,
    /// A rate or ratio, a latency in whole seconds or a count; null when not
    /// applicable in the period.
    pub value: Option<Number>,
    /// 0-100, rounded to 6 decimals; null when `value` is.
    pub points: Option<Number>,
    pub weight: Number,
    pub numerator: Option<Number>,
    pub denominator: Option<Number>,
    /// Latencies: answered items the percentile is over; counts: actions summed; the loss
    /// recovery ratio: cases reported in the period. Null for rates (the denominator is the sample).
    pub sample_size: Option<super::types::Count>,
    /// Ids of the events used, oldest item first (a list of UUID strings).
    pub evidence: EventIds,
}

/// A penalty counted against a score.
#[derive(SimpleObject, Debug, Clone)]
pub struct PenaltyDeduction {
    /// The `PenaltyImposed` event's id.
    pub event_id: String,
    pub kind: PenaltyKind,
    pub occurred_at: String,
    pub deduction: Number,
}

/// One agency's assessment.
#[derive(SimpleObject, Debug, Clone)]
pub struct AgencyAssessment {
    pub agency_id: String,
    pub name: String,
    pub kind: AgencyKind,
    /// 1-based rank; null when the score is null.
    pub rank: Option<u32>,
    /// `clamp(weighted − deductions, 0, 100)`, rounded to 6 decimals.
    pub score: Option<Number>,
    pub grade: Option<String>,
    pub weighted: Option<Number>,
    pub deductions: Number,
    pub penalties: Vec<PenaltyDeduction>,
    pub indicators: Vec<IndicatorResult>,
}

impl From<&govledger_assess::AgencyAssessment> for AgencyAssessment {
    fn from(a: &govledger_assess::AgencyAssessment) -> Self {
        AgencyAssessment {
            agency_id: a.agency_id.clone(),
            name: a.name.clone(),
            kind: a.kind.into(),
            rank: a.rank,
            score: a.score.and_then(float),
            grade: a.grade.clone(),
            weighted: a.weighted.and_then(float),
            deductions: Number(a.deductions.clone()),
            penalties: a
                .penalties
                .iter()
                .map(|p| PenaltyDeduction {
                    event_id: p.event_id.to_string(),
                    kind: p.kind.into(),
                    occurred_at: p.occurred_at.clone(),
                    deduction: Number(p.deduction.clone()),
                })
                .collect(),
            indicators: a
                .indicators
                .iter()
                .map(|i| IndicatorResult {
                    id: i.id.as_str().to_owned(),
                    value: i.value.clone().map(Number),
                    points: i.points.and_then(float),
                    weight: Number(i.weight.clone()),
                    numerator: i.numerator.and_then(big),
                    denominator: i.denominator.and_then(big),
                    sample_size: i.sample_size.map(|n| super::types::Count(n.into())),
                    evidence: EventIds(i.evidence.clone()),
                })
                .collect(),
        }
    }
}

/// The assessment document (SPEC 3.4).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Assessment {
    pub period: Period,
    /// The ledger position the figures are computed as of.
    pub as_of_seq: Seq,
    /// The hash of the event at `asOfSeq`.
    pub head_hash: String,
    /// SHA-256 of the model file's bytes.
    pub model_sha256: String,
    /// Ranked agencies first (rank 1, 2 …), then unranked ones by `agencyId`.
    pub agencies: Vec<AgencyAssessment>,
}

impl From<&govledger_assess::Assessment> for Assessment {
    fn from(a: &govledger_assess::Assessment) -> Self {
        Assessment {
            period: Period { from: a.period.from.clone(), to: a.period.to.clone() },
            as_of_seq: Seq(a.as_of_seq),
            head_hash: a.head_hash.clone(),
            model_sha256: a.model_sha256.clone(),
            agencies: a.agencies.iter().map(AgencyAssessment::from).collect(),
        }
    }
}

#[ComplexObject]
impl Assessment {
    /// The first signed checkpoint whose tree covers `asOfSeq` (SPEC 6.4):
    /// the events this assessment counts are provably in that tree, and
    /// `witnessed` says whether a quorum of witnesses cosigned it. Null
    /// until such a checkpoint is signed (a few seconds after the head moved).
    async fn checkpoint(&self, ctx: &Context<'_>) -> Result<Option<CheckpointObject>> {
        let state = ctx.data::<AppState>()?;
        if state.transparency().is_err() {
            return Ok(None);
        }
        let as_of = self.as_of_seq.0;
        Ok(state.with_log(move |log, _| log.covering(as_of)).await?.map(CheckpointObject::from))
    }
}

/// One agency's scorecard: its entry of the assessment, where the
/// assessment stands, and the score explained line by line.
#[derive(SimpleObject, Debug, Clone)]
pub struct Scorecard {
    pub period: Period,
    pub as_of_seq: Seq,
    pub head_hash: String,
    pub model_sha256: String,
    /// How many agencies the assessment ranks.
    pub ranked_agencies: u32,
    pub agency: AgencyAssessment,
    /// The plain-language explanation (as `govledger scorecard` prints it, in the
    /// server's language and time zone), one line per item.
    pub explanation: Vec<String>,
}

fn time(field: &str, text: &str) -> Result<Timestamp, AppError> {
    Timestamp::parse(text).map_err(|mut rejection| {
        rejection.field = Some(field.to_owned());
        AppError::Rejected { index: 0, rejection }
    })
}

fn query(from: &str, to: &str, as_of: Option<Seq>) -> Result<Query, AppError> {
    Ok(Query { from: time("from", from)?, to: time("to", to)?, as_of: as_of.map(u64::from) })
}

/// The assessment queries. Every role may ask them (SPEC 4: every token reads).
#[derive(Default)]
pub struct AssessQuery;

#[Object]
impl AssessQuery {
    /// The assessment of every registered agency over `[from, to)` (RFC 3339
    /// timestamps), as of ledger seq `asOf` (default: the head). The same
    /// document as `govledger assess --format json`, with camelCase names.
    /// Costs a pass over every agency's entities.
    #[graphql(complexity = "500 + child_complexity")]
    async fn assessment(&self, ctx: &Context<'_>, from: String, to: String, as_of: Option<Seq>) -> Result<Assessment> {
        principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        let doc = state.assessment(query(&from, &to, as_of)?).await?;
        Ok(doc.as_ref().into())
    }

    /// One agency's scorecard over `[from, to)` as of `asOf` (default: the head).
    #[graphql(complexity = "500 + child_complexity")]
    async fn scorecard(
        &self,
        ctx: &Context<'_>,
        agency: String,
        from: String,
        to: String,
        as_of: Option<Seq>,
    ) -> Result<Scorecard> {
        principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        let doc = state.assessment(query(&from, &to, as_of)?).await?;
        let model = state.assessor().model();
        let not_found = || AppError::Refused {
            code: ApiCode::NotFound,
            index: None,
            field: Some("agency".into()),
            message: format!("agency {agency:?} is not registered as of seq {}", doc.as_of_seq),
        };
        // In the server's language and zone, as `govledger scorecard` with the same --lang and --tz.
        let text = govledger_report::explain::scorecard(&doc, model, &agency, state.locale()).ok_or_else(not_found)?;
        let entry = doc.agencies.iter().find(|a| a.agency_id == agency).ok_or_else(not_found)?;
        let card = Scorecard {
            period: Period { from: doc.period.from.clone(), to: doc.period.to.clone() },
            as_of_seq: Seq(doc.as_of_seq),
            head_hash: doc.head_hash.clone(),
            model_sha256: doc.model_sha256.clone(),
            ranked_agencies: doc.agencies.iter().filter(|a| a.rank.is_some()).count() as u32,
            agency: entry.into(),
            explanation: text.lines().map(str::to_owned).collect(),
        };
        Ok(card)
    }
}
