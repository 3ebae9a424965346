//! The HTML report: one self-contained file (inline CSS with an A4 print
//! stylesheet, inline SVG charts, system fonts with CJK fallbacks; no
//! network). The live dashboard is the same page plus a period picker and a
//! small inline script that reloads it when the ledger's head moves.
//! maud escapes every interpolated value.

use govledger_assess::explain::{counted, scored, short_value};
use govledger_assess::model::Measure;
use govledger_assess::{AgencyAssessment, IndicatorId};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::charts;
use crate::{EVIDENCE_SHOWN, Format, Params, ReportInput};

const CSS: &str = r#"
:root { --ink: #1b1f24; --muted: #5a6270; --rule: #d8dde3; --accent: #1f4e79; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "Noto Sans SC",
    "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; color: var(--accent); }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid var(--accent); padding-bottom: 2px; }
h3 { font-size: 15px; margin: 0 0 6px; }
.muted, .tick.muted { color: var(--muted); fill: var(--muted); }
code, .hash, .ids { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.hash { word-break: break-all; font-size: 12px; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; }
.chart text { font-size: 11px; fill: var(--ink); }
.chart .tick { font-size: 10px; fill: var(--muted); }
.chart .cell { font-size: 9.5px; }
.chart line.grid { stroke: var(--rule); stroke-width: 1; }
.trends { display: grid; grid-template-columns: 1fr; gap: 8px; }
.scorecard { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 12px; margin: 12px 0; }
.scorecard .headline { margin: 0 0 6px; }
.grade { display: inline-block; min-width: 1.6em; text-align: center; font-weight: 700; border-radius: 4px;
  padding: 0 4px; color: #fff; background: var(--accent); }
.ids { font-size: 10.5px; color: var(--muted); word-break: break-all; margin: 2px 0 0; }
footer { margin-top: 32px; border-top: 2px solid var(--accent); padding-top: 8px; font-size: 12px; }
footer code { display: block; white-space: pre-wrap; word-break: break-all; background: #f3f5f8; padding: 6px; }
.live { background: #eef4fb; border: 1px solid #c9dbef; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
.live form { display: inline; }
.live input { font: inherit; }
tr.own td { background: #fff6d6; font-weight: 600; }
.scorecard.own { border: 2px solid #c99a06; background: #fffbeb; }
.own-marker { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 4px; font-size: 12px;
  font-weight: 600; color: #5c4400; background: #ffe58f; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .live { display: none; }
  h2 { break-after: avoid-page; }
  .scorecard, .chart, tr { break-inside: avoid-page; }
  .scorecards h2 { break-before: page; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// Polls the head and reloads when it moved; keeps polling quietly through
/// network hiccups. The page passes its head and the URL in data attributes.
const LIVE_SCRIPT: &str = r#"
(function () {
  var el = document.getElementById("live");
  if (!el) { return; }
  var head = Number(el.getAttribute("data-head-seq"));
  var url = el.getAttribute("data-head-url");
  var status = document.getElementById("live-status");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && typeof body.head_seq === "number" && body.head_seq !== head) {
          if (status) { status.textContent = "New events (head " + body.head_seq + "); reloading…"; }
          window.location.reload();
        }
      })
      .catch(function () {});
  }
  window.setInterval(poll, 5000);
})();
"#;

pub(crate) fn render(input: &ReportInput<'_>) -> String {
    let a = input.assessment;
    let params = Params::of_input(input, Format::Html);
    let command = params.command(&govledger_assess::Model::default_v1().sha256);
    let ranked = a.agencies.iter().filter(|ag| ag.rank.is_some()).count();
    let labels: Vec<&str> = input.months.iter().map(|m| m.label.as_str()).collect();
    let latency_ids = [IndicatorId::FreezeResponseP90S, IndicatorId::ClueFeedbackP90S];
    let rate_ids = [
        IndicatorId::TaskOnTimeRate,
        IndicatorId::FreezeExecutionRate,
        IndicatorId::ClueFeedbackRate,
        IndicatorId::DissuasionCoverageRate,
    ];
    let title = format!("Assessment report {} to {}", a.period.from, a.period.to);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(params.line());
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "Anti-fraud accountability assessment" }
                    p.muted { "Derived from the govledger hash-chained ledger; every figure can be regenerated from it." }
                }
                @if let Some(live) = &input.live {
                    div.live #live data-head-seq=(live.head_seq) data-head-url=(live.head_url) {
                        strong { "Live dashboard" } " · "
                        form method="get" action=(live.form_action) {
                            label { "From " input type="date" name="from" value=(live.from_date) required; }
                            " "
                            label { "to " input type="date" name="to" value=(live.to_date) required; }
                            " (end excluded, UTC) "
                            button type="submit" { "Show" }
                        }
                        " · " span #live-status { "Up to date at seq " (live.head_seq) "; refreshes as events arrive." }
                        @if let Some(own) = &live.viewer {
                            br;
                            "Your agency: " a href=(format!("#agency-{own}")) { (own) }
                            " (highlighted below). Scores are shared among the members; raw events only with their parties."
                        }
                        br;
                        @match &live.checkpoint {
                            Some(c) => {
                                "Proven by checkpoint " strong { (c.size) } " (root " span.hash { (c.root) } "): "
                                @if c.witnessed {
                                    "witnessed by " (c.cosigned_by.join(", ")) "."
                                } @else if c.cosigned_by.is_empty() {
                                    "not witnessed."
                                } @else {
                                    "cosigned by " (c.cosigned_by.join(", ")) ", short of the quorum: not witnessed."
                                }
                            }
                            None => { "No signed checkpoint covers these figures yet; one is signed within seconds." }
                        }
                    }
                }
                section.summary {
                    h2 { "Summary" }
                    dl.summary {
                        dt { "Period" } dd { (a.period.from) " to " (a.period.to) " (end excluded)" }
                        dt { "Agencies" } dd { (a.agencies.len()) " registered, " (ranked) " ranked (the rest had no scorable indicator)" }
                        dt { "Events" } dd { (a.as_of_seq) " events in the ledger as of seq " (a.as_of_seq) }
                        dt { "Head hash" } dd.hash { (a.head_hash) }
                        dt { "Model" } dd.hash { "sha256 " (a.model_sha256) }
                    }
                }
                section.ranking {
                    h2 { "Ranking" }
                    (charts::ranking(a))
                    table {
                        thead { tr { th.num { "Rank" } th { "Agency" } th { "Kind" } th.num { "Score" } th { "Grade" }
                            th.num { "Weighted" } th.num { "Deductions" } } }
                        tbody {
                            @for ag in &a.agencies {
                                @let own = is_own(input, ag);
                                tr class=[own.then_some("own")] aria-current=[own.then_some("true")] {
                                    td.num { (ag.rank.map_or("-".to_owned(), |r| r.to_string())) }
                                    td {
                                        a href=(format!("#agency-{}", ag.agency_id)) { (ag.name) }
                                        @if own { span.own-marker { "◀ your agency" } }
                                        br; span.muted { (ag.agency_id) }
                                    }
                                    td { (ag.kind.as_str()) }
                                    td.num { (crate::fixed(ag.score, 2)) }
                                    td { (ag.grade.as_deref().unwrap_or("-")) }
                                    td.num { (crate::fixed(ag.weighted, 2)) }
                                    td.num { (ag.deductions.to_string()) }
                                }
                            }
                        }
                    }
                }
                section.heat {
                    h2 { "Indicators heat-map" }
                    p.muted { "Cells show each value, coloured by its points (red 0 → green 100); grey: no value in the period; blank: the indicator does not apply to the agency's kind." }
                    (charts::heatmap(a, input.model))
                }
                section.trends-section {
                    h2 { "Month by month" }
                    @if input.months.is_empty() {
                        p.muted { "No whole or partial month in the period." }
                    } @else {
                        p.muted { "Each point is the median over the agencies with a value in that month (UTC months, clipped to the period)." }
                        div.trends {
                            (charts::trend(&labels, &charts::series(input.months, &latency_ids), "hours", false))
                            (charts::trend(&labels, &charts::series(input.months, &rate_ids), "%", true))
                        }
                    }
                }
                section.scorecards {
                    h2 { "Scorecards" }
                    @for ag in &a.agencies {
                        (scorecard(ag, input))
                    }
                }
                footer {
                    h2 { "Reproducibility" }
                    p { "As of seq " strong { (a.as_of_seq) } ", head hash " span.hash { (a.head_hash) }
                        ", model sha256 " span.hash { (a.model_sha256) } "." }
                    p { "This report is a pure function of the ledger up to that seq, the period and the model. Regenerate it byte for byte with:" }
                    code { (command) }
                    p { "and check a published copy with " code.inline { "govledger report verify FILE" } "." }
                    h2 { "Proof against the log" }
                    p { "The figures count the events up to seq " strong { (a.as_of_seq) } ", whose hash is "
                        span.hash { (a.head_hash) } ". Any checkpoint of the log's signed tree of that size or larger \
                        proves them without trusting the office that runs it: "
                        code.inline { "govledger proof inclusion --seq " (a.as_of_seq) }
                        " (or " code.inline { "GET /v1/proof/inclusion?seq=" (a.as_of_seq) } ") gives the proof, "
                        code.inline { "govledger proof verify" } " checks it against the log's verifier key offline, and \
                        the checkpoint's cosignatures say whether it was witnessed. The live dashboard names the checkpoint." }
                    @if let Some(p) = &input.proven {
                        p { "When this report was made, the first signed checkpoint covering seq " (a.as_of_seq) " was the one of size "
                            strong { (p.size) } " (root " span.hash { (p.root) } "), with " (p.cosignatures)
                            " witness cosignature(s): " code.inline { "GET /v1/checkpoints?size=" (p.size) } "." }
                    }
                    p.muted.params { (params.line()) }
                }
                @if input.live.is_some() {
                    script { (PreEscaped(LIVE_SCRIPT)) }
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

/// Whether `ag` is the dashboard reader's own agency.
fn is_own(input: &ReportInput<'_>, ag: &AgencyAssessment) -> bool {
    input.live.as_ref().and_then(|l| l.viewer.as_deref()) == Some(ag.agency_id.as_str())
}

fn scorecard(ag: &AgencyAssessment, input: &ReportInput<'_>) -> Markup {
    let total_weight: f64 =
        ag.indicators.iter().filter(|i| i.points.is_some()).map(|i| i.weight.as_f64().unwrap_or(0.0)).sum();
    let own = is_own(input, ag);
    html! {
        article.scorecard.own[own] id=(format!("agency-{}", ag.agency_id)) aria-current=[own.then_some("true")] {
            h3 {
                (ag.name) " " span.muted { "(" (ag.agency_id) ", " (ag.kind.as_str()) ")" }
                @if own { span.own-marker { "Your agency" } }
            }
            p.headline {
                @match (ag.rank, ag.score) {
                    (Some(rank), Some(score)) => {
                        "Rank " strong { (rank) } ", score " strong { (format!("{score:.2}")) } " "
                        span.grade { (ag.grade.as_deref().unwrap_or("-")) }
                        " = weighted " (crate::fixed(ag.weighted, 2)) " − deductions " (ag.deductions.to_string())
                        " (clamped to 0–100)."
                    }
                    _ => { "Not ranked: none of its indicators has a value in the period." }
                }
            }
            table {
                thead { tr { th { "Indicator" } th.num { "Value" } th.num { "Numerator / denominator" } th.num { "Points" }
                    th { "How it was computed" } } }
                tbody {
                    @for ind in &ag.indicators {
                        @let mi = input.model.indicators.iter().find(|m| m.id == ind.id);
                        tr {
                            td { (ind.id.title()) }
                            td.num { (short_value(ind)) }
                            td.num { (fraction(ind.numerator, ind.denominator, ind.id)) }
                            td.num { (crate::fixed(ind.points, 2)) }
                            td {
                                (counted(ind)) "; " (scored(ind, mi, total_weight)) "."
                                @if !ind.evidence.is_empty() {
                                    p.ids {
                                        "Evidence (" (ind.evidence.len()) " events): "
                                        @for (k, id) in ind.evidence.iter().take(EVIDENCE_SHOWN).enumerate() {
                                            @if k > 0 { ", " }
                                            (id.to_string())
                                        }
                                        @if ind.evidence.len() > EVIDENCE_SHOWN {
                                            " … and " (ind.evidence.len() - EVIDENCE_SHOWN)
                                            " more (the JSON report lists them all)."
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if ag.penalties.is_empty() {
                p.muted { "Penalties: none in the period; no deduction." }
            } @else {
                table.penalties {
                    thead { tr { th { "Penalty" } th { "Occurred at" } th.num { "Deduction" } th { "Event" } } }
                    tbody {
                        @for p in &ag.penalties {
                            tr { td { (p.kind.as_str()) } td { (p.occurred_at) } td.num { (p.deduction.to_string()) }
                                td.ids { (p.event_id.to_string()) } }
                        }
                    }
                }
            }
        }
    }
}

/// `num / den` as the indicator counts them; latencies and counts show their sample.
pub(crate) fn fraction(num: Option<u128>, den: Option<u128>, id: IndicatorId) -> String {
    match (num, den) {
        (Some(n), Some(d)) => format!("{n} / {d}"),
        (Some(n), None) if id.measure() == Measure::Count => n.to_string(),
        _ => "-".to_owned(),
    }
}
