//! Per-agency trends as small multiples: one small chart per agency (in
//! ranking order) of its score month by month, all on the same axes (score
//! 0–100 points against the months of the report's zone), so that no line
//! hides another and charts compare at a glance. A month without a score
//! leaves a gap. Coordinates have fixed decimals, so the bytes never depend
//! on float noise.

use std::fmt::Write as _;

use maud::{Markup, html};

use crate::{Lang, MonthAssessment, ReportInput};

/// The layout rules of the grid of small charts.
pub(crate) const CSS: &str = r#"
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 4px 10px; }
.multiple { margin: 0; break-inside: avoid-page; }
.multiple figcaption { font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.multiple svg { display: block; width: 100%; height: auto; }
.multiple text { font-size: 9px; fill: var(--muted); }
.multiple line.axis { stroke: var(--muted); stroke-width: 1; }
.multiple line.grid { stroke: var(--rule); stroke-width: 1; }
@media print { .multiples { grid-template-columns: repeat(5, 1fr); } }
"#;

/// One agency's monthly scores, oldest month first (`None`: no score that month).
fn scores(months: &[MonthAssessment], agency_id: &str) -> Vec<Option<f64>> {
    months
        .iter()
        .map(|m| m.assessment.agencies.iter().find(|ag| ag.agency_id == agency_id).and_then(|ag| ag.score))
        .collect()
}

/// A coordinate with one decimal.
fn c(x: f64) -> String {
    format!("{x:.1}")
}

/// One small chart: score (0–100 points) by month.
fn chart(labels: &[&str], values: &[Option<f64>], lang: Lang, name: &str) -> Markup {
    let (left, top, plot_w, plot_h, bottom) = (26.0, 14.0, 176.0, 64.0, 26.0);
    let (width, height) = (left + plot_w + 6.0, top + plot_h + bottom);
    let n = labels.len().max(1);
    let x_of = |i: usize| left + if n == 1 { plot_w / 2.0 } else { plot_w * i as f64 / (n - 1) as f64 };
    let y_of = |v: f64| top + plot_h - plot_h * v.clamp(0.0, 100.0) / 100.0;
    // Runs of consecutive months with a score: a gap breaks the line.
    let mut runs: Vec<Vec<String>> = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                if let Some(run) = runs.last_mut() {
                    run.push(format!("{},{}", c(x_of(i)), c(y_of(*v))));
                }
            }
            None => runs.push(Vec::new()),
        }
    }
    let unit_y = lang.t("trends-axis-score", &[]);
    let unit_x = lang.t("trends-axis-month", &[]);
    let (first, last) = (labels.first().copied().unwrap_or_default(), labels.last().copied().unwrap_or_default());
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {} {}", c(width), c(height)))
            aria-label=(lang.t("trends-chart-label", &[("agency", name)])) {
            @for v in [0.0, 50.0, 100.0] {
                line x1=(c(left)) y1=(c(y_of(v))) x2=(c(left + plot_w)) y2=(c(y_of(v))) class="grid" {}
                text x=(c(left - 3.0)) y=(c(y_of(v) + 3.0)) text-anchor="end" { (format!("{v:.0}")) }
            }
            line x1=(c(left)) y1=(c(top)) x2=(c(left)) y2=(c(top + plot_h)) class="axis" {}
            line x1=(c(left)) y1=(c(top + plot_h)) x2=(c(left + plot_w)) y2=(c(top + plot_h)) class="axis" {}
            text x=(c(left)) y=(c(top + plot_h + 11.0)) text-anchor="start" { (first) }
            @if n > 1 { text x=(c(left + plot_w)) y=(c(top + plot_h + 11.0)) text-anchor="end" { (last) } }
            text x=(c(left + plot_w / 2.0)) y=(c(top + plot_h + 22.0)) text-anchor="middle" { (unit_x) }
            text x="0" y="8" text-anchor="start" { (unit_y) }
            @for run in runs.iter().filter(|r| r.len() > 1) {
                polyline points=(run.join(" ")) fill="none" stroke="#1f4e79" stroke-width="1.5" {}
            }
            @for (i, v) in values.iter().enumerate() {
                @if let Some(v) = v {
                    circle cx=(c(x_of(i))) cy=(c(y_of(*v))) r="2" fill="#1f4e79" {
                        title { (labels[i]) ": " (format!("{v:.2}")) " " (lang.t("trends-points", &[])) }
                    }
                }
            }
        }
    }
}

/// The section in HTML.
pub(crate) fn html(input: &ReportInput<'_>) -> Markup {
    let lang = input.locale.lang;
    let zone_name = lang.term("zone", input.locale.zone.name());
    let labels: Vec<&str> = input.months.iter().map(|m| m.label.as_str()).collect();
    html! {
        section.trends-section {
            h2 { (lang.t("trends", &[])) }
            @if input.months.is_empty() {
                p.muted { (lang.t("trends-none", &[])) }
            } @else {
                p.muted { (lang.t("trends-note", &[("zone", &zone_name)])) }
                div.multiples {
                    @for ag in &input.assessment.agencies {
                        figure.multiple {
                            figcaption title=(ag.agency_id) { (ag.name) }
                            (chart(&labels, &scores(input.months, &ag.agency_id), lang, &ag.name))
                        }
                    }
                }
            }
        }
    }
}

/// The section in Markdown: agencies × months of scores (`md` escapes text).
pub(crate) fn markdown(input: &ReportInput<'_>, md: fn(&str) -> String) -> String {
    let lang = input.locale.lang;
    let mut o = String::new();
    if input.months.is_empty() {
        return o;
    }
    let zone_name = lang.term("zone", input.locale.zone.name());
    let _ = writeln!(o, "\n## {}\n", md(&lang.t("trends", &[])));
    let _ = writeln!(o, "{}\n", md(&lang.t("trends-markdown-note", &[("zone", &zone_name)])));
    let _ = write!(o, "| {} |", md(&lang.t("col-agency", &[])));
    for m in input.months {
        let _ = write!(o, " {} |", m.label);
    }
    let _ = write!(o, "\n|---|");
    for _ in input.months {
        let _ = write!(o, "---:|");
    }
    let _ = writeln!(o);
    for ag in &input.assessment.agencies {
        let _ = write!(o, "| {} |", md(&ag.name));
        for v in scores(input.months, &ag.agency_id) {
            let _ = write!(o, " {} |", crate::fixed(v, 1));
        }
        let _ = writeln!(o);
    }
    o
}
