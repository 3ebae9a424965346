//! Human-readable renderings of an assessment: the ranking table of
//! `govledger assess --format table` and the plain-language scorecard of
//! `govledger scorecard`, which explains one agency's score indicator by
//! indicator. Pure text; every number comes from the assessment document.

use std::fmt::Write as _;

use crate::assessment::{AgencyAssessment, Assessment, IndicatorResult};
use crate::exact;
use crate::model::{IndicatorId, Model, ModelIndicator, Points};

/// Column headers of the indicators in the table, in SPEC 3.2 order.
const SHORT: [(IndicatorId, &str); 9] = [
    (IndicatorId::TaskOnTimeRate, "on_time"),
    (IndicatorId::MeetingAttendanceRate, "attend"),
    (IndicatorId::ClueFeedbackRate, "clue_fb"),
    (IndicatorId::ClueFeedbackP90S, "clue_p90"),
    (IndicatorId::DissuasionCoverageRate, "dissuade"),
    (IndicatorId::FreezeExecutionRate, "frz_exec"),
    (IndicatorId::FreezeResponseP90S, "frz_p90"),
    (IndicatorId::LossRecoveryRatio, "loss_rec"),
    (IndicatorId::CardsDisposed, "cards"),
];

/// The ranking as a text table: rank, agency, kind, score, grade, weighted,
/// deductions and each indicator's value (`-` when null in the period,
/// blank when the indicator does not apply to the agency's kind).
pub fn table(a: &Assessment) -> String {
    let mut header: Vec<String> =
        ["rank", "agency", "kind", "score", "grade", "weighted", "deduct"].iter().map(|s| s.to_string()).collect();
    header.extend(SHORT.iter().map(|(_, s)| s.to_string()));
    let mut rows = vec![header];
    for ag in &a.agencies {
        let mut row = vec![
            ag.rank.map_or("-".into(), |r| r.to_string()),
            ag.agency_id.clone(),
            ag.kind.as_str().to_owned(),
            ag.score.map_or("-".into(), |s| format!("{s:.2}")),
            ag.grade.clone().unwrap_or_else(|| "-".into()),
            ag.weighted.map_or("-".into(), |s| format!("{s:.2}")),
            ag.deductions.to_string(),
        ];
        for (id, _) in SHORT {
            row.push(match ag.indicators.iter().find(|i| i.id == id) {
                None => String::new(),
                Some(ind) => short_value(ind),
            });
        }
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "period {} to {} (end excluded), as of seq {} (hash {}), model sha256 {}",
        a.period.from, a.period.to, a.as_of_seq, a.head_hash, a.model_sha256
    );
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            // Text columns align left, figures right.
            let left = matches!(c, 1 | 2 | 4);
            if left {
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            } else {
                let _ = write!(line, "{cell:>width$}  ", width = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn short_value(ind: &IndicatorResult) -> String {
    let Some(v) = &ind.value else { return "-".into() };
    let f = v.as_f64().unwrap_or(0.0);
    match ind.id.measure() {
        crate::model::Measure::Rate => format!("{:.1}%", f * 100.0),
        crate::model::Measure::Latency => duration_short(v.as_i64().unwrap_or(0)),
        crate::model::Measure::Ratio => format!("{f:.3}"),
        crate::model::Measure::Count => v.to_string(),
    }
}

fn duration_short(s: i64) -> String {
    if s < 120 {
        format!("{s}s")
    } else if s < 2 * 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 2 * 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

fn duration_long(s: i64) -> String {
    let approx = if s < 120 {
        return format!("{s} s");
    } else if s < 2 * 3600 {
        format!("{:.1} minutes", s as f64 / 60.0)
    } else if s < 2 * 86_400 {
        format!("{:.1} hours", s as f64 / 3600.0)
    } else {
        format!("{:.1} days", s as f64 / 86_400.0)
    };
    format!("{} s (about {approx})", group(s.unsigned_abs().into()))
}

/// Digits grouped by thousands: 1234567 → "1,234,567".
fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn percent(num: u128, den: u128) -> String {
    let pct = exact::fraction(num * 100, den).map(|x| exact::to_f64(&x)).unwrap_or(0.0);
    let text = format!("{pct:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

fn money(minor: u128) -> String {
    format!("{} fen (¥{}.{:02})", group(minor), group(minor / 100), minor % 100)
}

/// A reported figure without float noise: integers grouped by thousands,
/// fractions with their (at most 6) decimals.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let sign = if x < 0.0 { "-" } else { "" };
        return format!("{sign}{}", group(x.abs() as u128));
    }
    let text = format!("{x:.6}");
    text.trim_end_matches('0').to_owned()
}

/// Points as in "98.0 points": always with a decimal.
fn points_text(x: f64) -> String {
    if x.fract() == 0.0 { format!("{x:.1}") } else { number(x) }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the indicator counted, in a sentence; `None` parts mean null.
pub fn counted(ind: &IndicatorResult) -> String {
    let (num, den) = (ind.numerator.unwrap_or(0), ind.denominator.unwrap_or(0));
    let n = ind.sample_size.unwrap_or(0);
    let v = ind.value.as_ref();
    let p90 = |what_answered: &str, what_none: &str| match v.and_then(|v| v.as_i64()) {
        Some(s) => {
            let rank = exact::nearest_rank(n as usize, 9, 10).unwrap_or(0);
            format!(
                "{n} {what_answered}; sorted by latency, the one at nearest rank {rank} = ceil(0.9 × {n}) took {}",
                duration_long(s)
            )
        }
        None => format!("not applicable: {what_none}"),
    };
    match ind.id {
        IndicatorId::TaskOnTimeRate if den > 0 => format!(
            "{num} of {den} tasks assigned to it by a coordinator or acknowledged by it, and due in the period (by the assessment clock), were completed by their deadline ({})",
            percent(num, den)
        ),
        IndicatorId::TaskOnTimeRate => {
            "not applicable: no task assigned to it by a coordinator or acknowledged by it fell due in the period"
                .into()
        }
        IndicatorId::MeetingAttendanceRate if den > 0 => format!(
            "it attended {num} of {den} joint meetings convened by a coordinator that it was invited to and that were held in the period ({})",
            percent(num, den)
        ),
        IndicatorId::MeetingAttendanceRate => {
            "not applicable: no meeting convened by a coordinator that it was invited to was held in the period".into()
        }
        IndicatorId::FreezeExecutionRate if den > 0 => {
            format!("{num} of {den} freeze requests received in the period were executed ({})", percent(num, den))
        }
        IndicatorId::FreezeExecutionRate => "not applicable: it received no freeze request in the period".into(),
        IndicatorId::FreezeResponseP90S => p90(
            "freeze requests received in the period were answered (executed or rejected)",
            "none of the freeze requests received in the period has been answered",
        ),
        IndicatorId::ClueFeedbackRate if den > 0 => {
            format!("{num} of {den} clues referred to it in the period received its feedback ({})", percent(num, den))
        }
        IndicatorId::ClueFeedbackRate => "not applicable: no clue was referred to it in the period".into(),
        IndicatorId::ClueFeedbackP90S => p90(
            "clues referred to it in the period have its feedback",
            "no clue referred to it in the period has feedback yet",
        ),
        IndicatorId::DissuasionCoverageRate if den > 0 => format!(
            "{num} of {den} early warnings issued to it in the period have a dissuasion record ({})",
            percent(num, den)
        ),
        IndicatorId::DissuasionCoverageRate => "not applicable: no early warning was issued to it in the period".into(),
        IndicatorId::LossRecoveryRatio if den > 0 => format!(
            "funds returned on the freezes it requested in the period total {} against {} lost in the cases it reported in the period (ratio {})",
            money(num),
            money(den),
            v.map_or("-".into(), |v| number(v.as_f64().unwrap_or(0.0)))
        ),
        IndicatorId::LossRecoveryRatio => "not applicable: it reported no case with a loss in the period".into(),
        IndicatorId::CardsDisposed => format!(
            "{} in the period disposed of {} bank cards, phone cards and internet accounts",
            plural(n as usize, "card-breaking action", "card-breaking actions"),
            group(num)
        ),
    }
}

/// How the value became points under the model's rule.
pub fn scored(ind: &IndicatorResult, mi: Option<&ModelIndicator>, total_weight: f64) -> String {
    let (Some(v), Some(points)) = (ind.value.as_ref(), ind.points) else {
        return "left out, and the remaining weights are renormalised".into();
    };
    let pts = points_text(points);
    let value = v.as_f64().unwrap_or(0.0);
    let share = format!(" of {}", number(total_weight));
    let rule = match mi.map(|m| &m.points) {
        Some(Points::Rate) => format!("100 × {} = {pts} points", number(value)),
        Some(Points::Latency { good_s, bad_s }) => {
            let (good, bad) = (exact::to_f64(good_s), exact::to_f64(bad_s));
            if value <= good {
                format!("at or below {} s earns 100 → {pts} points", number(good))
            } else if value >= bad {
                format!("at or above {} s earns 0 → {pts} points", number(bad))
            } else {
                format!(
                    "100 × ({} − {}) / ({} − {}) = {pts} points",
                    number(bad),
                    number(value),
                    number(bad),
                    number(good)
                )
            }
        }
        Some(Points::Target { target }) => {
            format!("100 × min(1, {} / {}) = {pts} points", number(value), number(exact::to_f64(target)))
        }
        None => format!("{pts} points"),
    };
    format!("{rule}, weight {}{share}", ind.weight)
}

/// One agency's score explained in plain language; `None` when the agency
/// is not in the assessment.
pub fn scorecard(a: &Assessment, model: &Model, agency_id: &str) -> Option<String> {
    let ag: &AgencyAssessment = a.agencies.iter().find(|x| x.agency_id == agency_id)?;
    let ranked = a.agencies.iter().filter(|x| x.rank.is_some()).count();
    let mut out = String::new();
    let _ = writeln!(out, "Scorecard of {} ({}, {})", ag.agency_id, ag.name, ag.kind.as_str());
    let _ = writeln!(
        out,
        "Period {} to {} (end excluded), as of ledger seq {} (event hash {}), model sha256 {}",
        a.period.from, a.period.to, a.as_of_seq, a.head_hash, a.model_sha256
    );
    let _ = writeln!(out);
    match (ag.score, ag.rank, &ag.grade) {
        (Some(score), Some(rank), grade) => {
            let _ = writeln!(
                out,
                "Score {} (grade {}), rank {rank} of {ranked} ranked agencies.",
                number(score),
                grade.as_deref().unwrap_or("-")
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "No score: none of the model's indicators for a {} agency has a value in this period, so it is not ranked.",
                ag.kind.as_str()
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Indicators:");
    let total_weight: f64 =
        ag.indicators.iter().filter(|i| i.points.is_some()).map(|i| i.weight.as_f64().unwrap_or(0.0)).sum();
    for ind in &ag.indicators {
        let mi = model.indicators.iter().find(|m| m.id == ind.id);
        let _ = writeln!(out, "- {}: {}; {}.", ind.id.title(), counted(ind), scored(ind, mi, total_weight));
        if !ind.evidence.is_empty() {
            let _ = writeln!(
                out,
                "  ({}; `govledger assess --format json` lists their ids)",
                plural(ind.evidence.len(), "evidence event", "evidence events")
            );
        }
    }
    let _ = writeln!(out);
    match ag.weighted {
        Some(weighted) => {
            let _ = writeln!(
                out,
                "Weighted score: Σ weight × points / Σ weight over the {} indicators with a value (total weight {}) = {}.",
                ag.indicators.iter().filter(|i| i.points.is_some()).count(),
                number(total_weight),
                number(weighted)
            );
        }
        None => {
            let _ = writeln!(out, "Weighted score: none (no indicator has a value).");
        }
    }
    if ag.penalties.is_empty() {
        let _ = writeln!(out, "Deductions: none (no unrevoked penalty imposed in the period).");
    } else {
        let _ = writeln!(
            out,
            "Deductions: {} points for {} imposed in the period and not revoked:",
            ag.deductions,
            plural(ag.penalties.len(), "penalty", "penalties")
        );
        for p in &ag.penalties {
            let _ =
                writeln!(out, "- {} on {} (event {}): −{}", p.kind.as_str(), p.occurred_at, p.event_id, p.deduction);
        }
    }
    if let (Some(weighted), Some(score)) = (ag.weighted, ag.score) {
        let band = model
            .grades
            .iter()
            .find(|g| Some(g.name.as_str()) == ag.grade.as_deref())
            .map(|g| format!(" ({} or more)", number(exact::to_f64(&g.min_score))))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Score: clamp({} − {}, 0, 100) = {} → grade {}{band}.",
            number(weighted),
            ag.deductions,
            number(score),
            ag.grade.as_deref().unwrap_or("-")
        );
    }
    Some(out)
}
