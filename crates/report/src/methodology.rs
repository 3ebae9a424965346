//! The methodology section of a report, generated from the model it was
//! made with (`schema/model-v1.toml` by default, `govledger_assess::model`):
//! the model's version and SHA-256, how a score is made, each indicator's
//! definition, formula, weight and the kinds it applies to, the deductions,
//! the grade cut-offs, and the small-sample mark. Nothing here is written by
//! hand beside the model: a changed model file changes this section.
//!
//! The sample of an indicator ([`sample`]) is what its figure is computed
//! over: the denominator of a rate, the answered items of a latency
//! percentile, the actions of a count, the cases of the loss recovery ratio.
//! A scored indicator with fewer than [`SMALL_SAMPLE_BELOW`] items carries
//! the mark [`SMALL_MARK`] wherever its value is shown. The model format has
//! no threshold of its own, so it is this one constant.

use std::fmt::Write as _;

use govledger_assess::IndicatorResult;
use govledger_assess::exact::{self, Exact};
use govledger_assess::model::{AppliesTo, Measure, Model, Points};
use maud::{Markup, html};

use crate::{Lang, indicator_name};

/// Samples smaller than this are marked as small.
pub const SMALL_SAMPLE_BELOW: u64 = 5;

/// The mark of a small sample.
pub const SMALL_MARK: &str = "†";

/// How many items the indicator's figure is computed over (see the module
/// documentation); `None` when the document does not say.
pub fn sample(ind: &IndicatorResult) -> Option<u64> {
    match ind.id.measure() {
        Measure::Rate => ind.denominator.and_then(|d| u64::try_from(d).ok()),
        Measure::Latency | Measure::Count | Measure::Ratio => ind.sample_size,
    }
}

/// Whether the indicator has points computed over a small sample.
pub fn small_sample(ind: &IndicatorResult) -> bool {
    ind.points.is_some() && sample(ind).is_some_and(|n| n < SMALL_SAMPLE_BELOW)
}

/// `n = 7`, with the small-sample mark when it is small; `-` when unknown.
pub(crate) fn sample_text(ind: &IndicatorResult) -> String {
    match sample(ind) {
        Some(n) if small_sample(ind) => format!("{n} {SMALL_MARK}"),
        Some(n) => n.to_string(),
        None => "-".to_owned(),
    }
}

/// A model number as written (`0.3`, `86400`).
fn num(x: &Exact) -> String {
    exact::json_number(x).to_string()
}

/// The formula of an indicator's points, in `lang`.
fn formula(lang: Lang, points: &Points) -> String {
    match points {
        Points::Rate => lang.t("method-formula-rate", &[]),
        Points::Latency { good_s, bad_s } => {
            lang.t("method-formula-latency", &[("good", &num(good_s)), ("bad", &num(bad_s))])
        }
        Points::Target { target } => lang.t("method-formula-target", &[("target", &num(target))]),
    }
}

/// The kinds an indicator applies to, in `lang`.
fn applies(lang: Lang, applies_to: &AppliesTo) -> String {
    match applies_to {
        AppliesTo::All => lang.t("method-applies-all", &[]),
        AppliesTo::Kinds(kinds) => {
            kinds.iter().map(|k| lang.term("kind", k.as_str())).collect::<Vec<_>>().join(&lang.t("list-separator", &[]))
        }
    }
}

/// The sentences that introduce the section (the score's formula, the small-sample mark).
fn intro(lang: Lang, model: &Model) -> [String; 4] {
    let version = model.version.to_string();
    let below = SMALL_SAMPLE_BELOW.to_string();
    [
        lang.t("method-model", &[("version", &version), ("sha", &model.sha256)]),
        lang.t("method-score", &[]),
        lang.t("method-ranking", &[]),
        lang.t("method-small", &[("mark", SMALL_MARK), ("below", &below)]),
    ]
}

/// The section in HTML.
pub(crate) fn html(model: &Model, lang: Lang) -> Markup {
    let t = |id: &str| lang.t(id, &[]);
    html! {
        section.methodology #methodology {
            h2 { (t("method")) }
            @for p in intro(lang, model) { p { (p) } }
            table.method {
                thead { tr { th { (t("col-indicator")) } th { (t("method-col-definition")) } th { (t("method-col-formula")) }
                    th.num { (t("method-col-weight")) } th { (t("method-col-applies")) } } }
                tbody {
                    @for mi in &model.indicators {
                        tr {
                            td title=(mi.id.as_str()) { (indicator_name(lang, mi.id)) }
                            td { (lang.t(&format!("indicator-{}-desc", mi.id.as_str()), &[])) }
                            td { (formula(lang, &mi.points)) }
                            td.num { (num(&mi.weight)) }
                            td { (applies(lang, &mi.applies_to)) }
                        }
                    }
                }
            }
            div.method-bands {
                table.grades {
                    thead { tr { th { (t("col-grade")) } th.num { (t("method-col-min-score")) } } }
                    tbody { @for g in &model.grades { tr { td title=(g.name) { (lang.term("grade", &g.name)) } td.num { "≥ " (num(&g.min_score)) } } } }
                }
                table.deductions {
                    thead { tr { th { (t("col-penalty")) } th.num { (t("col-deduction")) } } }
                    tbody { @for (kind, points) in &model.deductions { tr { td title=(kind.as_str()) { (lang.term("penalty", kind.as_str())) } td.num { "−" (num(points)) } } } }
                }
            }
        }
    }
}

/// The section in Markdown (`md` escapes text).
pub(crate) fn markdown(model: &Model, lang: Lang, md: fn(&str) -> String) -> String {
    let t = |id: &str| lang.t(id, &[]);
    let mut o = String::new();
    let _ = writeln!(o, "\n## {}\n", md(&t("method")));
    for p in intro(lang, model) {
        let _ = writeln!(o, "{}\n", md(&p));
    }
    let columns =
        ["col-indicator", "method-col-definition", "method-col-formula", "method-col-weight", "method-col-applies"];
    let _ = writeln!(o, "| {} |\n|---|---|---|---:|---|", columns.map(|c| md(&t(c))).join(" | "));
    for mi in &model.indicators {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md(&indicator_name(lang, mi.id)),
            md(&lang.t(&format!("indicator-{}-desc", mi.id.as_str()), &[])),
            md(&formula(lang, &mi.points)),
            num(&mi.weight),
            md(&applies(lang, &mi.applies_to))
        );
    }
    let _ = writeln!(o, "\n| {} | {} |\n|---|---:|", md(&t("col-grade")), md(&t("method-col-min-score")));
    for g in &model.grades {
        let _ = writeln!(o, "| {} | ≥ {} |", md(&lang.term("grade", &g.name)), num(&g.min_score));
    }
    let _ = writeln!(o, "\n| {} | {} |\n|---|---:|", md(&t("col-penalty")), md(&t("col-deduction")));
    for (kind, points) in &model.deductions {
        let _ = writeln!(o, "| {} | −{} |", md(&lang.term("penalty", kind.as_str())), num(points));
    }
    o
}
