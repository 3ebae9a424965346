//! Human-readable renderings of an assessment, in the locale's language: the
//! ranking table of `govledger assess --format table` and the plain-language
//! scorecard of `govledger scorecard` (and of the GraphQL `scorecard`), which
//! explains one agency's score indicator by indicator, and the sentences of
//! the reports' "how it was computed" column. Every word is a message of
//! `explain.ftl` (zh-CN and en); every number comes from the assessment
//! document. Short values (`75.0%`, `65m00s`) are language-neutral.

use std::fmt::Write as _;

use govledger_assess::exact;
use govledger_assess::model::{IndicatorId, Measure, Model, ModelIndicator, Points};
use govledger_assess::{AgencyAssessment, Assessment, IndicatorResult};
use unicode_width::UnicodeWidthStr;

use crate::{Lang, Locale};

/// The indicator's value in a few characters: a rate in %, a latency as
/// `65m00s`, a ratio with 3 decimals, a count; `-` when null.
pub fn short_value(ind: &IndicatorResult) -> String {
    let Some(v) = &ind.value else { return "-".into() };
    let f = v.as_f64().unwrap_or(0.0);
    match ind.id.measure() {
        Measure::Rate => format!("{:.1}%", f * 100.0),
        Measure::Latency => duration_short(v.as_i64().unwrap_or(0)),
        Measure::Ratio => format!("{f:.3}"),
        Measure::Count => v.to_string(),
    }
}

/// The ranking as a text table with headings in the locale's language: rank,
/// agency, kind, score, grade, weighted, deductions and each indicator's
/// value (`-` when null in the period, blank when the indicator does not
/// apply to the agency's kind). Columns are aligned by display width, so
/// Chinese headings and names line up in a terminal.
pub fn table(a: &Assessment, locale: Locale) -> String {
    let lang = locale.lang;
    let mut header: Vec<String> =
        ["col-rank", "col-id", "col-kind", "col-score", "col-grade", "col-weighted", "col-deductions"]
            .iter()
            .map(|id| lang.t(id, &[]))
            .collect();
    header.extend(IndicatorId::ALL.iter().map(|id| crate::indicator_short(lang, *id)));
    let mut rows = vec![header];
    for ag in &a.agencies {
        let mut row = vec![
            ag.rank.map_or("-".into(), |r| r.to_string()),
            ag.agency_id.clone(),
            lang.term("kind", ag.kind.as_str()),
            ag.score.map_or("-".into(), |s| format!("{s:.2}")),
            ag.grade.as_deref().map_or_else(|| "-".into(), |g| lang.term("grade", g)),
            ag.weighted.map_or("-".into(), |s| format!("{s:.2}")),
            ag.deductions.to_string(),
        ];
        for id in IndicatorId::ALL {
            row.push(ag.indicators.iter().find(|i| i.id == id).map_or_else(String::new, short_value));
        }
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns).map(|c| rows.iter().map(|r| r[c].width()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "{}", t(lang, "explain-table-where", &where_args(a, locale)));
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[c] - cell.width());
            // Text columns align left, figures right.
            if matches!(c, 1 | 2 | 4) {
                let _ = write!(line, "{cell}{pad}  ");
            } else {
                let _ = write!(line, "{pad}{cell}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The period (shown in the locale's zone), position, hash and model of `a`.
fn where_args(a: &Assessment, locale: Locale) -> [(&'static str, String); 5] {
    [
        ("from", crate::shown(locale.zone, &a.period.from)),
        ("to", crate::shown(locale.zone, &a.period.to)),
        ("seq", a.as_of_seq.to_string()),
        ("hash", a.head_hash.clone()),
        ("model", a.model_sha256.clone()),
    ]
}

/// `lang.t` with owned argument values.
fn t<const N: usize>(lang: Lang, id: &str, args: &[(&str, String); N]) -> String {
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    lang.t(id, &args)
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

fn duration_long(lang: Lang, s: i64) -> String {
    let grouped = group(s.unsigned_abs().into());
    let (id, x) = if s < 120 {
        return t(lang, "explain-seconds", &[("s", grouped)]);
    } else if s < 2 * 3600 {
        ("explain-about-minutes", s as f64 / 60.0)
    } else if s < 2 * 86_400 {
        ("explain-about-hours", s as f64 / 3600.0)
    } else {
        ("explain-about-days", s as f64 / 86_400.0)
    };
    t(lang, id, &[("s", grouped), ("x", format!("{x:.1}"))])
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

fn money(lang: Lang, minor: u128) -> String {
    t(lang, "explain-money", &[("fen", group(minor)), ("yuan", format!("{}.{:02}", group(minor / 100), minor % 100))])
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

/// `one` or `other`: the plural category of a count in both catalogs.
fn plural(n: usize) -> String {
    if n == 1 { "one" } else { "other" }.to_owned()
}

/// What the indicator counted, in a sentence of `lang`.
pub fn counted(ind: &IndicatorResult, lang: Lang) -> String {
    let (num, den) = (ind.numerator.unwrap_or(0), ind.denominator.unwrap_or(0));
    let n = ind.sample_size.unwrap_or(0);
    let v = ind.value.as_ref();
    let na = |why: &str| t(lang, "explain-not-applicable", &[("why", lang.t(why, &[]))]);
    let share =
        |id: &str| t(lang, id, &[("num", num.to_string()), ("den", den.to_string()), ("pct", percent(num, den))]);
    let p90 = |answered: &str, none: &str| match v.and_then(|v| v.as_i64()) {
        Some(s) => {
            let rank = exact::nearest_rank(n as usize, 9, 10).unwrap_or(0);
            t(
                lang,
                "explain-p90",
                &[
                    ("n", n.to_string()),
                    ("answered", lang.t(answered, &[])),
                    ("rank", rank.to_string()),
                    ("took", duration_long(lang, s)),
                ],
            )
        }
        None => na(none),
    };
    match ind.id {
        IndicatorId::TaskOnTimeRate if den > 0 => share("explain-task"),
        IndicatorId::TaskOnTimeRate => na("explain-task-none"),
        IndicatorId::MeetingAttendanceRate if den > 0 => share("explain-meeting"),
        IndicatorId::MeetingAttendanceRate => na("explain-meeting-none"),
        IndicatorId::FreezeExecutionRate if den > 0 => share("explain-freeze"),
        IndicatorId::FreezeExecutionRate => na("explain-freeze-none"),
        IndicatorId::FreezeResponseP90S => p90("explain-freeze-p90-answered", "explain-freeze-p90-none"),
        IndicatorId::ClueFeedbackRate if den > 0 => share("explain-clue"),
        IndicatorId::ClueFeedbackRate => na("explain-clue-none"),
        IndicatorId::ClueFeedbackP90S => p90("explain-clue-p90-answered", "explain-clue-p90-none"),
        IndicatorId::DissuasionCoverageRate if den > 0 => share("explain-dissuasion"),
        IndicatorId::DissuasionCoverageRate => na("explain-dissuasion-none"),
        IndicatorId::LossRecoveryRatio if den > 0 => t(
            lang,
            "explain-loss",
            &[
                ("returned", money(lang, num)),
                ("lost", money(lang, den)),
                ("ratio", v.map_or("-".into(), |v| number(v.as_f64().unwrap_or(0.0)))),
            ],
        ),
        IndicatorId::LossRecoveryRatio => na("explain-loss-none"),
        IndicatorId::CardsDisposed => {
            t(lang, "explain-cards", &[("n", n.to_string()), ("plural", plural(n as usize)), ("total", group(num))])
        }
    }
}

/// How the value became points under the model's rule, in `lang`.
pub fn scored(ind: &IndicatorResult, mi: Option<&ModelIndicator>, total_weight: f64, lang: Lang) -> String {
    let (Some(v), Some(points)) = (ind.value.as_ref(), ind.points) else {
        return lang.t("explain-left-out", &[]);
    };
    let pts = points_text(points);
    let value = number(v.as_f64().unwrap_or(0.0));
    let rule = match mi.map(|m| &m.points) {
        Some(Points::Rate) => t(lang, "explain-rate-rule", &[("value", value), ("points", pts)]),
        Some(Points::Latency { good_s, bad_s }) => {
            let (good, bad, x) = (exact::to_f64(good_s), exact::to_f64(bad_s), v.as_f64().unwrap_or(0.0));
            if x <= good {
                t(lang, "explain-latency-good", &[("good", number(good)), ("points", pts)])
            } else if x >= bad {
                t(lang, "explain-latency-bad", &[("bad", number(bad)), ("points", pts)])
            } else {
                t(
                    lang,
                    "explain-latency-rule",
                    &[("bad", number(bad)), ("value", value), ("good", number(good)), ("points", pts)],
                )
            }
        }
        Some(Points::Target { target }) => t(
            lang,
            "explain-target-rule",
            &[("value", value), ("target", number(exact::to_f64(target))), ("points", pts)],
        ),
        None => t(lang, "explain-points", &[("points", pts)]),
    };
    t(lang, "explain-weight", &[("rule", rule), ("weight", ind.weight.to_string()), ("total", number(total_weight))])
}

/// What was counted and how it was scored, as one sentence (a report's
/// "how it was computed" cell).
pub fn how(ind: &IndicatorResult, mi: Option<&ModelIndicator>, total_weight: f64, lang: Lang) -> String {
    t(lang, "explain-how", &[("counted", counted(ind, lang)), ("scored", scored(ind, mi, total_weight, lang))])
}

/// Σ of the weights of the agency's indicators that have points.
pub fn total_weight(ag: &AgencyAssessment) -> f64 {
    ag.indicators.iter().filter(|i| i.points.is_some()).map(|i| i.weight.as_f64().unwrap_or(0.0)).sum()
}

/// One agency's score explained in plain language, in the locale's language
/// (times in its zone); `None` when the agency is not in the assessment.
pub fn scorecard(a: &Assessment, model: &Model, agency_id: &str, locale: Locale) -> Option<String> {
    let lang = locale.lang;
    let ag: &AgencyAssessment = a.agencies.iter().find(|x| x.agency_id == agency_id)?;
    let ranked = a.agencies.iter().filter(|x| x.rank.is_some()).count();
    let kind = lang.term("kind", ag.kind.as_str());
    let grade = |g: Option<&str>| g.map_or_else(|| "-".to_owned(), |g| lang.term("grade", g));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        t(lang, "explain-title", &[("id", ag.agency_id.clone()), ("name", ag.name.clone()), ("kind", kind.clone())])
    );
    let _ = writeln!(out, "{}", t(lang, "explain-where", &where_args(a, locale)));
    let _ = writeln!(out);
    match (ag.score, ag.rank) {
        (Some(score), Some(rank)) => {
            let args = [
                ("score", number(score)),
                ("grade", grade(ag.grade.as_deref())),
                ("rank", rank.to_string()),
                ("ranked", ranked.to_string()),
            ];
            let _ = writeln!(out, "{}", t(lang, "explain-score", &args));
        }
        _ => {
            let _ = writeln!(out, "{}", t(lang, "explain-no-score", &[("kind", kind)]));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", lang.t("explain-indicators", &[]));
    let total = total_weight(ag);
    for ind in &ag.indicators {
        let mi = model.indicators.iter().find(|m| m.id == ind.id);
        let args = [
            ("name", crate::indicator_name(lang, ind.id)),
            ("counted", counted(ind, lang)),
            ("scored", scored(ind, mi, total, lang)),
        ];
        let _ = writeln!(out, "{}", t(lang, "explain-indicator", &args));
        if !ind.evidence.is_empty() {
            let n = ind.evidence.len();
            let _ = writeln!(out, "  {}", t(lang, "explain-evidence", &[("n", n.to_string()), ("plural", plural(n))]));
        }
    }
    let _ = writeln!(out);
    match ag.weighted {
        Some(weighted) => {
            let args = [
                ("n", ag.indicators.iter().filter(|i| i.points.is_some()).count().to_string()),
                ("total", number(total)),
                ("weighted", number(weighted)),
            ];
            let _ = writeln!(out, "{}", t(lang, "explain-weighted", &args));
        }
        None => {
            let _ = writeln!(out, "{}", lang.t("explain-weighted-none", &[]));
        }
    }
    if ag.penalties.is_empty() {
        let _ = writeln!(out, "{}", lang.t("explain-deductions-none", &[]));
    } else {
        let n = ag.penalties.len();
        let args = [("points", ag.deductions.to_string()), ("n", n.to_string()), ("plural", plural(n))];
        let _ = writeln!(out, "{}", t(lang, "explain-deductions", &args));
        for p in &ag.penalties {
            let args = [
                ("kind", lang.term("penalty", p.kind.as_str())),
                ("at", crate::shown(locale.zone, &p.occurred_at)),
                ("event", p.event_id.to_string()),
                ("deduction", p.deduction.to_string()),
            ];
            let _ = writeln!(out, "{}", t(lang, "explain-penalty", &args));
        }
    }
    if let (Some(weighted), Some(score)) = (ag.weighted, ag.score) {
        let band = model
            .grades
            .iter()
            .find(|g| Some(g.name.as_str()) == ag.grade.as_deref())
            .map(|g| t(lang, "explain-band", &[("min", number(exact::to_f64(&g.min_score)))]))
            .unwrap_or_default();
        let args = [
            ("weighted", number(weighted)),
            ("deductions", ag.deductions.to_string()),
            ("score", number(score)),
            ("grade", grade(ag.grade.as_deref())),
            ("band", band),
        ];
        let _ = writeln!(out, "{}", t(lang, "explain-final", &args));
    }
    Some(out)
}
