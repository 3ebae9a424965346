//! The SVG charts of the HTML report, drawn here: the ranking bars, the
//! agencies × indicators heat-map and the monthly trend lines. Coordinates
//! are printed with fixed decimals so the bytes never depend on float noise.

use govledger_assess::model::Measure;
use govledger_assess::{Assessment, IndicatorId, Model};
use maud::{Markup, html};

use crate::{Lang, MonthAssessment, indicator_name, indicator_short};

/// A coordinate with one decimal.
fn c(x: f64) -> String {
    format!("{x:.1}")
}

/// Red (0 points) through amber to green (100 points).
pub(crate) fn points_colour(points: f64) -> String {
    let hue = (points.clamp(0.0, 100.0) * 1.2).round() as i64;
    format!("hsl({hue},65%,{}%)", if points < 50.0 { 62 } else { 55 })
}

/// Horizontal bars: one per ranked agency, best first.
pub(crate) fn ranking(a: &Assessment, lang: Lang) -> Markup {
    let ranked: Vec<_> = a.agencies.iter().filter(|ag| ag.score.is_some()).collect();
    let (label_w, bar_w, row_h, top) = (300.0, 560.0, 20.0, 24.0);
    let height = top + row_h * ranked.len() as f64 + 10.0;
    let width = label_w + bar_w + 130.0;
    html! {
        svg.chart.ranking xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {} {}", c(width), c(height)))
            width=(c(width)) height=(c(height)) aria-label=(lang.t("chart-ranking-label", &[])) {
            title { (lang.t("chart-ranking-title", &[])) }
            @for tick in [0u32, 25, 50, 75, 100] {
                @let x = label_w + bar_w * f64::from(tick) / 100.0;
                line x1=(c(x)) y1=(c(top - 6.0)) x2=(c(x)) y2=(c(height - 8.0)) class="grid" {}
                text x=(c(x)) y=(c(top - 10.0)) text-anchor="middle" class="tick" { (tick) }
            }
            @for (i, ag) in ranked.iter().enumerate() {
                @let y = top + row_h * i as f64;
                @let score = ag.score.unwrap_or(0.0);
                @let w = bar_w * score.clamp(0.0, 100.0) / 100.0;
                text x=(c(label_w - 6.0)) y=(c(y + 14.0)) text-anchor="end" class="label" {
                    (ag.rank.unwrap_or(0)) ". " (ag.name)
                }
                rect x=(c(label_w)) y=(c(y + 3.0)) width=(c(w)) height=(c(row_h - 6.0)) fill=(points_colour(score)) {
                    title { (ag.name) " (" (ag.agency_id) "): " (format!("{score:.2}")) }
                }
                text x=(c(label_w + w + 4.0)) y=(c(y + 14.0)) class="value" {
                    (format!("{score:.2}")) " " (ag.grade.as_deref().map(|g| lang.term("grade", g)).unwrap_or_default())
                }
            }
        }
    }
}

/// Agencies (ranking order) × the model's indicators, coloured by points;
/// grey when the indicator has no value in the period, blank when it does
/// not apply to the agency's kind.
pub(crate) fn heatmap(a: &Assessment, model: &Model, lang: Lang) -> Markup {
    let ids: Vec<IndicatorId> = model.indicators.iter().map(|m| m.id).collect();
    let (label_w, cell_w, cell_h, top) = (300.0, 84.0, 20.0, 40.0);
    let width = label_w + cell_w * ids.len() as f64 + 4.0;
    let height = top + cell_h * a.agencies.len() as f64 + 4.0;
    html! {
        svg.chart.heatmap xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {} {}", c(width), c(height)))
            width=(c(width)) height=(c(height)) aria-label=(lang.t("chart-heatmap-label", &[])) {
            title { (lang.t("chart-heatmap-title", &[])) }
            @for (j, id) in ids.iter().enumerate() {
                @let x = label_w + cell_w * j as f64 + cell_w / 2.0;
                text x=(c(x)) y=(c(top - 24.0)) text-anchor="middle" class="tick" { (indicator_short(lang, *id)) }
                text x=(c(x)) y=(c(top - 10.0)) text-anchor="middle" class="tick muted" {
                    (lang.t("chart-weight", &[("weight", &model.indicators[j].weight.to_string())]))
                }
            }
            @for (i, ag) in a.agencies.iter().enumerate() {
                @let y = top + cell_h * i as f64;
                text x=(c(label_w - 6.0)) y=(c(y + 14.0)) text-anchor="end" class="label" { (ag.name) }
                @for (j, id) in ids.iter().enumerate() {
                    @let x = label_w + cell_w * j as f64;
                    @if let Some(ind) = ag.indicators.iter().find(|ind| ind.id == *id) {
                        @let fill = ind.points.map_or_else(|| "#d9d9d9".to_owned(), points_colour);
                        rect x=(c(x + 1.0)) y=(c(y + 1.0)) width=(c(cell_w - 2.0)) height=(c(cell_h - 2.0)) fill=(fill) {
                            title {
                                (ag.name) " · " (indicator_name(lang, *id)) ": " (govledger_assess::explain::short_value(ind))
                                " → " (lang.t("chart-points", &[("points", &crate::fixed(ind.points, 1))]))
                            }
                        }
                        text x=(c(x + cell_w / 2.0)) y=(c(y + 14.0)) text-anchor="middle" class="cell" {
                            (govledger_assess::explain::short_value(ind))
                        }
                    }
                }
            }
        }
    }
}

/// One line of a trend chart.
pub(crate) struct Series {
    pub id: IndicatorId,
    /// Per month: the median over the agencies with a value.
    pub values: Vec<Option<f64>>,
}

/// Median per month of each indicator over the agencies that have a value
/// (rates in %, latencies in hours).
pub(crate) fn series(months: &[MonthAssessment], ids: &[IndicatorId]) -> Vec<Series> {
    ids.iter()
        .map(|id| Series {
            id: *id,
            values: months
                .iter()
                .map(|m| {
                    let mut vals: Vec<f64> = m
                        .assessment
                        .agencies
                        .iter()
                        .filter_map(|ag| ag.indicators.iter().find(|i| i.id == *id))
                        .filter_map(|i| i.value.as_ref().and_then(|v| v.as_f64()))
                        .collect();
                    if vals.is_empty() {
                        return None;
                    }
                    vals.sort_by(f64::total_cmp);
                    let mid = vals.len() / 2;
                    let median = if vals.len() % 2 == 1 { vals[mid] } else { (vals[mid - 1] + vals[mid]) / 2.0 };
                    Some(match id.measure() {
                        Measure::Latency => median / 3600.0,
                        Measure::Rate => median * 100.0,
                        _ => median,
                    })
                })
                .collect(),
        })
        .collect()
}

const LINE_COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"];

/// Month-by-month lines; the y axis runs from 0 to the largest value (or
/// 100 for percentages).
pub(crate) fn trend(labels: &[&str], series: &[Series], unit: &str, percent: bool, lang: Lang) -> Markup {
    let (left, right, top, bottom, plot_w, plot_h) = (56.0, 200.0, 16.0, 34.0, 560.0, 200.0);
    let width = left + plot_w + right;
    let height = top + plot_h + bottom;
    let max_value = series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0_f64, |m, v| m.max(*v));
    let y_max = if percent { 100.0 } else { nice_ceiling(max_value) };
    let n = labels.len().max(1);
    let x_of = |i: usize| left + if n == 1 { plot_w / 2.0 } else { plot_w * i as f64 / (n - 1) as f64 };
    let y_of = |v: f64| top + plot_h - plot_h * (v / y_max).clamp(0.0, 1.0);
    // Label every month when they fit, else every k-th.
    let every = n.div_ceil(12);
    html! {
        svg.chart.trend xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {} {}", c(width), c(height)))
            width=(c(width)) height=(c(height)) aria-label=(lang.t("chart-trend-label", &[("unit", unit)])) {
            title { (lang.t("chart-trend-title", &[("unit", unit)])) }
            @for k in 0..=4u32 {
                @let v = y_max * f64::from(k) / 4.0;
                line x1=(c(left)) y1=(c(y_of(v))) x2=(c(left + plot_w)) y2=(c(y_of(v))) class="grid" {}
                text x=(c(left - 6.0)) y=(c(y_of(v) + 4.0)) text-anchor="end" class="tick" { (format!("{v:.1}")) }
            }
            @for (i, label) in labels.iter().enumerate() {
                @if i % every == 0 {
                    text x=(c(x_of(i))) y=(c(top + plot_h + 18.0)) text-anchor="middle" class="tick" { (label) }
                }
            }
            @for (k, s) in series.iter().enumerate() {
                @let colour = LINE_COLOURS[k % LINE_COLOURS.len()];
                @let points: Vec<String> = s.values.iter().enumerate()
                    .filter_map(|(i, v)| v.map(|v| format!("{},{}", c(x_of(i)), c(y_of(v))))).collect();
                @if points.len() > 1 {
                    polyline points=(points.join(" ")) fill="none" stroke=(colour) stroke-width="2" {}
                }
                @for (i, v) in s.values.iter().enumerate() {
                    @if let Some(v) = v {
                        circle cx=(c(x_of(i))) cy=(c(y_of(*v))) r="3" fill=(colour) {
                            title { (indicator_name(lang, s.id)) ", " (labels[i]) ": " (format!("{v:.1}")) " " (unit) }
                        }
                    }
                }
                rect x=(c(left + plot_w + 14.0)) y=(c(top + 18.0 * k as f64)) width="12" height="12" fill=(colour) {}
                text x=(c(left + plot_w + 32.0)) y=(c(top + 18.0 * k as f64 + 10.0)) class="label" { (indicator_short(lang, s.id)) }
            }
        }
    }
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `x` (at least 1).
fn nice_ceiling(x: f64) -> f64 {
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * step >= x {
                return m * step;
            }
        }
        step *= 10.0;
        if step > 1e12 {
            return x;
        }
    }
}
