//! The assessment model (SPEC 3.3): which indicators count for which kinds of
//! agency, their weights, how a value becomes points, the deductions for
//! penalties and the grade bands. Read from a versioned TOML file
//! (`schema/model-v1.toml` is the default) and checked with errors that name
//! what is wrong; its SHA-256 is over the exact file bytes.
//!
//! Numbers in the model are kept as exact fractions of what was written
//! (`0.3` is 3/10), so scores do not depend on binary floating point.

use std::fmt;

use govledger_domain::catalog::{AgencyKind, PenaltyKind};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::exact::Exact;

mod parse;

/// The default model, v1, exactly as SPEC 3.3 (the file's bytes).
pub const DEFAULT_MODEL_TOML: &str = include_str!("../../../schema/model-v1.toml");

/// The model file format this code reads.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The indicators of SPEC 3.2. Their definitions are code (`indicators`);
/// the model chooses which count, for whom, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorId {
    TaskOnTimeRate,
    MeetingAttendanceRate,
    FreezeExecutionRate,
    FreezeResponseP90S,
    ClueFeedbackRate,
    ClueFeedbackP90S,
    DissuasionCoverageRate,
    LossRecoveryRatio,
    CardsDisposed,
}

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// A share from 0 to 1.
    Rate,
    /// Seconds (a nearest-rank percentile of latencies).
    Latency,
    /// A ratio of sums, 0 or more (may exceed 1).
    Ratio,
    /// A count, never null.
    Count,
}

impl IndicatorId {
    /// Every indicator, in the order of SPEC 3.2.
    pub const ALL: [IndicatorId; 9] = [
        IndicatorId::TaskOnTimeRate,
        IndicatorId::MeetingAttendanceRate,
        IndicatorId::FreezeExecutionRate,
        IndicatorId::FreezeResponseP90S,
        IndicatorId::ClueFeedbackRate,
        IndicatorId::ClueFeedbackP90S,
        IndicatorId::DissuasionCoverageRate,
        IndicatorId::LossRecoveryRatio,
        IndicatorId::CardsDisposed,
    ];

    /// The id as written in models and documents.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorId::TaskOnTimeRate => "task_on_time_rate",
            IndicatorId::MeetingAttendanceRate => "meeting_attendance_rate",
            IndicatorId::FreezeExecutionRate => "freeze_execution_rate",
            IndicatorId::FreezeResponseP90S => "freeze_response_p90_s",
            IndicatorId::ClueFeedbackRate => "clue_feedback_rate",
            IndicatorId::ClueFeedbackP90S => "clue_feedback_p90_s",
            IndicatorId::DissuasionCoverageRate => "dissuasion_coverage_rate",
            IndicatorId::LossRecoveryRatio => "loss_recovery_ratio",
            IndicatorId::CardsDisposed => "cards_disposed",
        }
    }

    /// Looks an id up.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == name)
    }

    /// What the indicator's value is.
    pub fn measure(self) -> Measure {
        match self {
            IndicatorId::FreezeResponseP90S | IndicatorId::ClueFeedbackP90S => Measure::Latency,
            IndicatorId::LossRecoveryRatio => Measure::Ratio,
            IndicatorId::CardsDisposed => Measure::Count,
            _ => Measure::Rate,
        }
    }
}

impl fmt::Display for IndicatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IndicatorId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IndicatorId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        IndicatorId::from_name(&name).ok_or_else(|| de::Error::custom(format!("unknown indicator {name:?}")))
    }
}

/// How an indicator's value becomes points (0-100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Points {
    /// `100 × value`.
    Rate,
    /// 100 at or below `good_s`, 0 at or above `bad_s`, else
    /// `100 × (bad − value) / (bad − good)`.
    Latency { good_s: Exact, bad_s: Exact },
    /// `100 × min(1, value / target)`.
    Target { target: Exact },
}

/// Which kinds of agency an indicator applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppliesTo {
    All,
    Kinds(Vec<AgencyKind>),
}

impl AppliesTo {
    /// Whether the indicator applies to an agency of `kind`.
    pub fn includes(&self, kind: AgencyKind) -> bool {
        match self {
            AppliesTo::All => true,
            AppliesTo::Kinds(kinds) => kinds.contains(&kind),
        }
    }
}

/// One scored indicator of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelIndicator {
    pub id: IndicatorId,
    pub applies_to: AppliesTo,
    pub weight: Exact,
    pub points: Points,
}

/// A grade band: scores at or above `min_score` (and below the band above).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeBand {
    pub name: String,
    pub min_score: Exact,
}

/// A checked assessment model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The model file format version (1).
    pub version: u32,
    /// Scored indicators, in the file's order (the order of a document's lists).
    pub indicators: Vec<ModelIndicator>,
    /// Points deducted per penalty kind.
    pub deductions: Vec<(PenaltyKind, Exact)>,
    /// Grade bands, highest first; the last starts at 0.
    pub grades: Vec<GradeBand>,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Why a model file cannot be used. The message names the problem; fix the
/// file and run again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The file is not TOML of the model's shape (the message gives line and column).
    #[error("{0}")]
    Syntax(String),
    /// The file is TOML of the right shape, but a value breaks a rule.
    #[error("{0}")]
    Invalid(String),
}

impl Model {
    /// The default model v1 (`schema/model-v1.toml`, embedded).
    pub fn default_v1() -> Self {
        // The embedded file is checked by a test; should it ever fail to load,
        // that test fails, so this fallback is never taken in a release.
        Model::from_toml(DEFAULT_MODEL_TOML.as_bytes()).unwrap_or_else(|_| Model {
            version: MODEL_FORMAT_VERSION,
            indicators: Vec::new(),
            deductions: Vec::new(),
            grades: Vec::new(),
            sha256: String::new(),
        })
    }

    /// Points deducted for one penalty of `kind`.
    pub fn deduction(&self, kind: PenaltyKind) -> Exact {
        self.deductions.iter().find(|(k, _)| *k == kind).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The grade of a score (compared as reported, rounded to 6 decimals).
    pub fn grade(&self, score: &Exact) -> Option<&str> {
        self.grades.iter().find(|g| score >= &g.min_score).map(|g| g.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use crate::exact;

    use super::*;

    fn err(text: &str) -> String {
        Model::from_toml(text.as_bytes()).unwrap_err().to_string()
    }

    const ONE: &str = r#"
version = 1
[[indicator]]
id = "task_on_time_rate"
applies_to = "all"
weight = 3
points = { kind = "rate" }
[deductions]
warning = 2
public_criticism = 5
fine = 10
suspension = 20
[[grade]]
name = "pass"
min_score = 60
[[grade]]
name = "fail"
min_score = 0
"#;

    fn with(from: &str, to: &str) -> String {
        assert!(ONE.contains(from), "{from}");
        ONE.replacen(from, to, 1)
    }

    #[test]
    fn the_default_model_is_spec_3_3() {
        let m = Model::from_toml(DEFAULT_MODEL_TOML.as_bytes()).unwrap();
        assert_eq!(m, Model::default_v1());
        assert_eq!(m.sha256, hex::encode(Sha256::digest(DEFAULT_MODEL_TOML.as_bytes())));
        let table: Vec<(&str, i64)> =
            m.indicators.iter().map(|i| (i.id.as_str(), i.weight.to_integer().try_into().unwrap())).collect();
        assert_eq!(
            table,
            [
                ("task_on_time_rate", 3),
                ("meeting_attendance_rate", 1),
                ("clue_feedback_rate", 2),
                ("clue_feedback_p90_s", 1),
                ("dissuasion_coverage_rate", 2),
                ("freeze_execution_rate", 3),
                ("freeze_response_p90_s", 2),
                ("loss_recovery_ratio", 2),
                ("cards_disposed", 1),
            ]
        );
        let by = |id: IndicatorId| m.indicators.iter().find(|i| i.id == id).unwrap();
        assert_eq!(
            by(IndicatorId::ClueFeedbackP90S).points,
            Points::Latency { good_s: exact::int(86_400), bad_s: exact::int(604_800) }
        );
        assert_eq!(
            by(IndicatorId::FreezeResponseP90S).points,
            Points::Latency { good_s: exact::int(600), bad_s: exact::int(7_200) }
        );
        assert_eq!(
            by(IndicatorId::LossRecoveryRatio).points,
            Points::Target { target: exact::fraction(3, 10).unwrap() }
        );
        assert_eq!(by(IndicatorId::CardsDisposed).points, Points::Target { target: exact::int(50) });
        assert_eq!(by(IndicatorId::TaskOnTimeRate).applies_to, AppliesTo::All);
        assert_eq!(
            by(IndicatorId::FreezeExecutionRate).applies_to,
            AppliesTo::Kinds(vec![AgencyKind::Bank, AgencyKind::PaymentInstitution])
        );
        assert_eq!(by(IndicatorId::LossRecoveryRatio).applies_to, AppliesTo::Kinds(vec![AgencyKind::PublicSecurity]));
        assert_eq!(
            by(IndicatorId::CardsDisposed).applies_to,
            AppliesTo::Kinds(vec![
                AgencyKind::PublicSecurity,
                AgencyKind::Bank,
                AgencyKind::PaymentInstitution,
                AgencyKind::TelecomOperator,
                AgencyKind::InternetPlatform
            ])
        );
        assert_eq!(m.deduction(PenaltyKind::Warning), exact::int(2));
        assert_eq!(m.deduction(PenaltyKind::PublicCriticism), exact::int(5));
        assert_eq!(m.deduction(PenaltyKind::Fine), exact::int(10));
        assert_eq!(m.deduction(PenaltyKind::Suspension), exact::int(20));
        let grades: Vec<(&str, Exact)> = m.grades.iter().map(|g| (g.name.as_str(), g.min_score.clone())).collect();
        assert_eq!(
            grades,
            [
                ("excellent", exact::int(90)),
                ("good", exact::int(75)),
                ("pass", exact::int(60)),
                ("fail", exact::int(0))
            ]
        );
        assert_eq!(m.grade(&exact::int(90)), Some("excellent"));
        assert_eq!(m.grade(&exact::from_decimal("89.999999").unwrap()), Some("good"));
        assert_eq!(m.grade(&exact::int(60)), Some("pass"));
        assert_eq!(m.grade(&exact::from_decimal("59.999999").unwrap()), Some("fail"));
        assert_eq!(m.grade(&exact::int(0)), Some("fail"));
    }

    #[test]
    fn a_minimal_model_loads_and_its_hash_is_over_the_bytes() {
        let a = Model::from_toml(ONE.as_bytes()).unwrap();
        let b = Model::from_toml(format!("{ONE}\n# a comment\n").as_bytes()).unwrap();
        assert_eq!(a.indicators, b.indicators);
        assert_ne!(a.sha256, b.sha256);
    }

    #[test]
    fn invalid_models_are_named_clearly() {
        assert!(err(&with("version = 1", "version = 2")).contains("model version 2 is not supported"));
        assert!(err(&with("task_on_time_rate", "task_ontime_rate")).contains("unknown indicator id"));
        assert!(err(&with("weight = 3", "weight = 0")).contains("weight must be above 0"));
        assert!(err(&with("weight = 3", "weight = -1.5")).contains("weight must be above 0"));
        assert!(
            err(&with("applies_to = \"all\"", "applies_to = [\"bank\", \"spaceship\"]"))
                .contains("\"spaceship\" is not an agency kind")
        );
        assert!(err(&with("applies_to = \"all\"", "applies_to = []")).contains("the list is empty"));
        assert!(err(&with("applies_to = \"all\"", "applies_to = \"banks\"")).contains("neither \"all\""));
        assert!(err(&with("{ kind = \"rate\" }", "{ kind = \"linear\" }")).contains("unknown kind \"linear\""));
        assert!(
            err(&with("{ kind = \"rate\" }", "{ kind = \"latency\", good_s = 10, bad_s = 20 }")).contains("not one")
        );
        let latency = ONE.replacen("task_on_time_rate", "freeze_response_p90_s", 1).replacen(
            "{ kind = \"rate\" }",
            "{ kind = \"latency\", good_s = 600, bad_s = 600 }",
            1,
        );
        assert!(err(&latency).contains("good_s (600) must be below bad_s (600)"));
        let latency = latency.replacen("bad_s = 600", "bad_s = 7200", 1);
        assert!(Model::from_toml(latency.as_bytes()).is_ok());
        assert!(err(&latency.replacen("good_s = 600, ", "", 1)).contains("needs good_s and bad_s"));
        assert!(
            err(&with("{ kind = \"rate\" }", "{ kind = \"target\", target = 0 }")).contains("target must be above 0")
        );
        assert!(err(&with("{ kind = \"rate\" }", "{ kind = \"rate\", target = 1 }")).contains("does not belong"));
        assert!(err(&with("min_score = 60", "min_score = 0")).contains("highest min_score down"));
        assert!(err(&with("min_score = 0", "min_score = 10")).contains("last grade band must have min_score = 0"));
        assert!(err(&with("min_score = 60", "min_score = 101")).contains("from 0 to 100"));
        assert!(err(&with("name = \"fail\"", "name = \"pass\"")).contains("listed twice"));
        assert!(err(&with("fine = 10", "fine = -10")).contains("fine must be 0 or more"));
        // Shape errors come from the TOML reader, with a line number.
        assert!(err(&with("fine = 10\n", "")).contains("missing field `fine`"));
        assert!(err(&with("weight = 3", "weight = 3\nwieght = 3")).contains("unknown field `wieght`"));
        assert!(err(&with("weight = 3", "weight = \"3\"")).contains("line"));
        assert!(err("version = ").contains("line 1"));
        let twice = ONE.replacen(
            "[deductions]",
            "[[indicator]]\nid = \"task_on_time_rate\"\napplies_to = \"all\"\nweight = 1\npoints = { kind = \"rate\" }\n[deductions]",
            1,
        );
        assert!(err(&twice).contains("listed twice"));
        let none = ONE.replacen("[[indicator]]", "[[unused]]", 1);
        assert!(err(&none).contains("unknown field `unused`") || err(&none).contains("no [[indicator]]"));
        assert!(Model::from_toml(&[0xff, 0xfe]).unwrap_err().to_string().contains("not UTF-8"));
    }

    #[test]
    fn decimal_weights_and_targets_are_exact() {
        let m = Model::from_toml(with("weight = 3", "weight = 0.1").as_bytes()).unwrap();
        assert_eq!(m.indicators[0].weight, exact::fraction(1, 10).unwrap());
    }
}
