//! Reading a model from its TOML file: the file's shape (`Raw*`), exact
//! numbers, and the checks whose errors name what is wrong.

use std::fmt;

use govledger_domain::catalog::{AgencyKind, PenaltyKind};
use num_traits::{Signed, Zero};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use sha2::{Digest, Sha256};

use super::{
    AppliesTo, GradeBand, IndicatorId, MODEL_FORMAT_VERSION, Measure, Model, ModelError, ModelIndicator, Points,
};
use crate::exact::{self, Exact};

/// A number written in the model: an integer or a decimal, kept exactly.
#[derive(Debug, Clone)]
struct Num(Exact);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(exact::int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(exact::int(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                exact::from_f64(v).map(Num).ok_or_else(|| E::custom("a number must be finite"))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    version: u32,
    #[serde(rename = "indicator", default)]
    indicators: Vec<RawIndicator>,
    deductions: RawDeductions,
    #[serde(rename = "grade", default)]
    grades: Vec<RawGrade>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: String,
    applies_to: RawAppliesTo,
    weight: Num,
    points: RawPoints,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAppliesTo {
    One(String),
    Kinds(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoints {
    kind: String,
    good_s: Option<Num>,
    bad_s: Option<Num>,
    target: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeductions {
    warning: Num,
    public_criticism: Num,
    fine: Num,
    suspension: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    name: String,
    min_score: Num,
}

fn invalid(message: String) -> ModelError {
    ModelError::Invalid(message)
}

impl Model {
    /// Reads and checks a model from the bytes of its TOML file.
    pub fn from_toml(bytes: &[u8]) -> Result<Self, ModelError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ModelError::Syntax(format!("the model file is not UTF-8 text: {e}")))?;
        let raw: RawModel = toml::from_str(text).map_err(|e| ModelError::Syntax(e.to_string().trim_end().into()))?;
        if raw.version != MODEL_FORMAT_VERSION {
            return Err(invalid(format!(
                "model version {} is not supported; this govledger reads model version {MODEL_FORMAT_VERSION}",
                raw.version
            )));
        }
        if raw.indicators.is_empty() {
            return Err(invalid("the model has no [[indicator]]; it needs at least one".into()));
        }
        let mut indicators: Vec<ModelIndicator> = Vec::with_capacity(raw.indicators.len());
        for (i, r) in raw.indicators.into_iter().enumerate() {
            let at = format!("[[indicator]] #{} ({:?})", i + 1, r.id);
            let id = IndicatorId::from_name(&r.id).ok_or_else(|| {
                let known: Vec<&str> = IndicatorId::ALL.iter().map(|i| i.as_str()).collect();
                invalid(format!("{at}: unknown indicator id; the indicators are {}", known.join(", ")))
            })?;
            if indicators.iter().any(|x| x.id == id) {
                return Err(invalid(format!("{at}: the indicator is listed twice")));
            }
            let applies_to = applies_to(r.applies_to).map_err(|m| invalid(format!("{at}: applies_to: {m}")))?;
            if !r.weight.0.is_positive() {
                return Err(invalid(format!("{at}: weight must be above 0, not {}", exact::to_f64(&r.weight.0))));
            }
            let points = points(id, r.points).map_err(|m| invalid(format!("{at}: points: {m}")))?;
            indicators.push(ModelIndicator { id, applies_to, weight: r.weight.0, points });
        }
        let d = raw.deductions;
        let deductions = vec![
            (PenaltyKind::Warning, d.warning.0),
            (PenaltyKind::PublicCriticism, d.public_criticism.0),
            (PenaltyKind::Fine, d.fine.0),
            (PenaltyKind::Suspension, d.suspension.0),
        ];
        if let Some((kind, v)) = deductions.iter().find(|(_, v)| v.is_negative()) {
            return Err(invalid(format!(
                "[deductions]: {} must be 0 or more, not {}",
                kind.as_str(),
                exact::to_f64(v)
            )));
        }
        let grades = grades(raw.grades).map_err(|m| invalid(format!("[[grade]]: {m}")))?;
        Ok(Model { version: raw.version, indicators, deductions, grades, sha256 })
    }
}

fn applies_to(raw: RawAppliesTo) -> Result<AppliesTo, String> {
    match raw {
        RawAppliesTo::One(s) if s == "all" => Ok(AppliesTo::All),
        RawAppliesTo::One(s) => Err(format!("{s:?} is neither \"all\" nor a list of agency kinds")),
        RawAppliesTo::Kinds(names) if names.is_empty() => {
            Err("the list is empty; write \"all\" or at least one agency kind".into())
        }
        RawAppliesTo::Kinds(names) => {
            let mut kinds = Vec::with_capacity(names.len());
            for name in names {
                let kind = AgencyKind::ALL.iter().copied().find(|k| k.as_str() == name).ok_or_else(|| {
                    let known: Vec<&str> = AgencyKind::ALL.iter().map(|k| k.as_str()).collect();
                    format!("{name:?} is not an agency kind; the kinds are {}", known.join(", "))
                })?;
                if kinds.contains(&kind) {
                    return Err(format!("{name:?} is listed twice"));
                }
                kinds.push(kind);
            }
            Ok(AppliesTo::Kinds(kinds))
        }
    }
}

fn points(id: IndicatorId, raw: RawPoints) -> Result<Points, String> {
    let measure = id.measure();
    let unexpected = |field: &str, kind: &str| format!("{field} does not belong to kind = {kind:?}");
    match raw.kind.as_str() {
        "rate" => {
            if let Some(field) = [("good_s", &raw.good_s), ("bad_s", &raw.bad_s), ("target", &raw.target)]
                .iter()
                .find_map(|(name, v)| v.as_ref().map(|_| *name))
            {
                return Err(unexpected(field, "rate"));
            }
            if measure != Measure::Rate {
                return Err(format!(
                    "kind = \"rate\" (100 × value) is for rates from 0 to 1; {id} is not one: use {}",
                    if measure == Measure::Latency { "kind = \"latency\"" } else { "kind = \"target\"" }
                ));
            }
            Ok(Points::Rate)
        }
        "latency" => {
            if raw.target.is_some() {
                return Err(unexpected("target", "latency"));
            }
            if measure != Measure::Latency {
                return Err(format!("kind = \"latency\" is for latencies in seconds; {id} is not one"));
            }
            let (Some(good), Some(bad)) = (raw.good_s, raw.bad_s) else {
                return Err("kind = \"latency\" needs good_s and bad_s (seconds)".into());
            };
            if good.0.is_negative() {
                return Err("good_s must be 0 or more".into());
            }
            if good.0 >= bad.0 {
                return Err(format!(
                    "good_s ({}) must be below bad_s ({})",
                    exact::to_f64(&good.0),
                    exact::to_f64(&bad.0)
                ));
            }
            Ok(Points::Latency { good_s: good.0, bad_s: bad.0 })
        }
        "target" => {
            if let Some(field) =
                [("good_s", &raw.good_s), ("bad_s", &raw.bad_s)].iter().find_map(|(name, v)| v.as_ref().map(|_| *name))
            {
                return Err(unexpected(field, "target"));
            }
            if measure == Measure::Latency {
                return Err(format!("{id} is a latency (lower is better); use kind = \"latency\""));
            }
            let Some(target) = raw.target else {
                return Err("kind = \"target\" needs target".into());
            };
            if !target.0.is_positive() {
                return Err("target must be above 0".into());
            }
            Ok(Points::Target { target: target.0 })
        }
        other => Err(format!("unknown kind {other:?}; use \"rate\", \"latency\" or \"target\"")),
    }
}

fn grades(raw: Vec<RawGrade>) -> Result<Vec<GradeBand>, String> {
    if raw.is_empty() {
        return Err("the model has no grade bands; it needs at least one, the last with min_score = 0".into());
    }
    let mut out: Vec<GradeBand> = Vec::with_capacity(raw.len());
    for g in raw {
        if g.name.trim().is_empty() {
            return Err("a grade needs a name".into());
        }
        if out.iter().any(|x| x.name == g.name) {
            return Err(format!("grade {:?} is listed twice", g.name));
        }
        if g.min_score.0.is_negative() || g.min_score.0 > exact::hundred() {
            return Err(format!("grade {:?}: min_score must be from 0 to 100", g.name));
        }
        if let Some(prev) = out.last()
            && g.min_score.0 >= prev.min_score
        {
            return Err(format!(
                "grade {:?}: bands must be listed from the highest min_score down, and {} is not below {:?}'s {}",
                g.name,
                exact::to_f64(&g.min_score.0),
                prev.name,
                exact::to_f64(&prev.min_score)
            ));
        }
        out.push(GradeBand { name: g.name, min_score: g.min_score.0 });
    }
    if out.last().is_some_and(|g| !g.min_score.is_zero()) {
        return Err("the last grade band must have min_score = 0, so that every score gets a grade".into());
    }
    Ok(out)
}
