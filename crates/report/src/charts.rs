//! The SVG charts of the HTML report, drawn here: the ranking bars and the
//! agencies × indicators heat-map (the trends are small multiples, `trends.rs`). Coordinates
//! are printed with fixed decimals so the bytes never depend on float noise.

use govledger_assess::{Assessment, IndicatorId, Model};
use maud::{Markup, html};

use crate::explain::short_value;
use crate::methodology::{SMALL_MARK, sample_text, small_sample};
use crate::{Lang, indicator_name, indicator_short};

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
                                (ag.name) " · " (indicator_name(lang, *id)) ": " (short_value(ind))
                                " → " (lang.t("chart-points", &[("points", &crate::fixed(ind.points, 1))]))
                                " (" (lang.t("chart-sample", &[("n", &sample_text(ind))])) ")"
                            }
                        }
                        text x=(c(x + cell_w / 2.0)) y=(c(y + 14.0)) text-anchor="middle" class="cell" {
                            (short_value(ind)) @if small_sample(ind) { " " (SMALL_MARK) }
                        }
                    }
                }
            }
        }
    }
}
