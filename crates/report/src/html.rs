//! The HTML report: one self-contained file (inline CSS with an A4 print
//! stylesheet, inline SVG charts, system fonts with CJK fallbacks; no
//! network). The live dashboard is the same page plus a period picker and a
//! small inline script that reloads it when the ledger's head moves. Every
//! word comes from the catalogs of `govledger-i18n` in the input's language;
//! codes are shown translated, with the code in a `title` attribute.
//! maud escapes every interpolated value.

use govledger_assess::model::Measure;
use govledger_assess::{AgencyAssessment, IndicatorId};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::explain::{how, short_value, total_weight};
use crate::{EVIDENCE_SHOWN, Format, Lang, Live, Locale, Params, ReportInput};
use crate::{charts, methodology, title, trends};

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
  .appendix, .scorecards h2 { break-before: page; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// Polls the head and reloads when it moved; keeps polling quietly through
/// network hiccups. The page passes its head, the URL and the reloading
/// notice (in its language, `%SEQ%` for the new head) in data attributes.
const LIVE_SCRIPT: &str = r#"
(function () {
  var el = document.getElementById("live");
  if (!el) { return; }
  var head = Number(el.getAttribute("data-head-seq"));
  var url = el.getAttribute("data-head-url");
  var reloading = el.getAttribute("data-reloading") || "";
  var status = document.getElementById("live-status");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && typeof body.head_seq === "number" && body.head_seq !== head) {
          if (status) { status.textContent = reloading.replace("%SEQ%", String(body.head_seq)); }
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
    let Locale { lang, zone } = input.locale;
    let t = |id: &str, args: &[(&str, &str)]| lang.t(id, args);
    let params = Params::of_input(input, Format::Html);
    let command = params.command(&govledger_assess::Model::default_v1().sha256);
    let ranked = a.agencies.iter().filter(|ag| ag.rank.is_some()).count();
    let period = crate::period_name(input.locale, a);
    let zone_name = lang.term("zone", zone.name());
    let (seq, total, ranked) = (a.as_of_seq.to_string(), a.agencies.len().to_string(), ranked.to_string());
    let page = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(params.line());
                title { (t("report-title", &[("period", &period)])) }
                style { (PreEscaped(CSS)) (PreEscaped(title::CSS)) (PreEscaped(trends::CSS)) }
            }
            body {
                @if let Some(page) = &input.title {
                    (title::html(input, page))
                } @else {
                    header {
                        h1 { (t("report-heading", &[])) }
                        p.muted { (t("report-subtitle", &[])) }
                    }
                }
                @if let Some(live) = &input.live {
                    (live_bar(live, lang, &zone_name))
                }
                section.summary {
                    h2 { (t("summary", &[])) }
                    dl.summary {
                        dt { (t("summary-period", &[])) }
                        dd {
                            strong { (period) } br;
                            span.muted { (t("summary-period-instants", &[("from", &crate::shown(zone, &a.period.from)), ("to", &crate::shown(zone, &a.period.to))])) }
                        }
                        dt { (t("summary-agencies", &[])) } dd { (t("summary-agencies-value", &[("total", &total), ("ranked", &ranked)])) }
                        dt { (t("summary-events", &[])) } dd { (t("summary-events-value", &[("seq", &seq)])) }
                        dt { (t("summary-head", &[])) } dd.hash { (a.head_hash) }
                        dt { (t("summary-model", &[])) } dd.hash { "sha256 " (a.model_sha256) }
                        dt { (t("summary-zone", &[])) } dd { (zone_name) " (" (zone.name()) ")" }
                    }
                }
                section.ranking {
                    h2 { (t("ranking", &[])) }
                    (charts::ranking(a, lang))
                    table {
                        thead { tr { th.num { (t("col-rank", &[])) } th { (t("col-agency", &[])) } th { (t("col-kind", &[])) }
                            th.num { (t("col-score", &[])) } th { (t("col-grade", &[])) }
                            th.num { (t("col-weighted", &[])) } th.num { (t("col-deductions", &[])) } } }
                        tbody {
                            @for ag in &a.agencies {
                                @let own = is_own(input, ag);
                                tr class=[own.then_some("own")] aria-current=[own.then_some("true")] {
                                    td.num { (ag.rank.map_or("-".to_owned(), |r| r.to_string())) }
                                    td {
                                        a href=(format!("#agency-{}", ag.agency_id)) { (ag.name) }
                                        @if own { span.own-marker { (t("own-marker-row", &[])) } }
                                        br; span.muted { (ag.agency_id) }
                                    }
                                    td title=(ag.kind.as_str()) { (lang.term("kind", ag.kind.as_str())) }
                                    td.num { (crate::fixed(ag.score, 2)) }
                                    td { (grade(lang, ag.grade.as_deref())) }
                                    td.num { (crate::fixed(ag.weighted, 2)) }
                                    td.num { (ag.deductions.to_string()) }
                                }
                            }
                        }
                    }
                }
                section.heat {
                    h2 { (t("heatmap", &[])) }
                    p.muted { (t("heatmap-note", &[])) }
                    (charts::heatmap(a, input.model, lang))
                }
                (trends::html(input))
                section.appendix {
                    h2 { (t("appendix", &[])) }
                    (methodology::html(input.model, lang))
                    section.scorecards {
                        h2 { (t("scorecards", &[])) }
                        @for ag in &a.agencies {
                            (scorecard(ag, input))
                        }
                    }
                }
                footer {
                    h2 { (t("footer-repro", &[])) }
                    p { (t("footer-as-of", &[("seq", &seq), ("hash", &a.head_hash), ("model", &a.model_sha256)])) }
                    p { (t("footer-pure", &[])) }
                    code { (command) }
                    p { (t("footer-check", &[])) " " code.inline { "govledger report verify FILE" } }
                    h2 { (t("proof", &[])) }
                    p { (t("proof-text", &[
                        ("seq", &seq),
                        ("hash", &a.head_hash),
                        ("inclusion", &format!("govledger proof inclusion --seq {seq}")),
                        ("get", &format!("GET /v1/proof/inclusion?seq={seq}")),
                        ("verify", "govledger proof verify"),
                    ])) }
                    @if let Some(p) = &input.proven {
                        p { (t("proof-stamp", &[
                            ("seq", &seq),
                            ("size", &p.size.to_string()),
                            ("root", &p.root),
                            ("cosignatures", &p.cosignatures.to_string()),
                            ("get", &format!("GET /v1/checkpoints?size={}", p.size)),
                        ])) }
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

/// The live dashboard's bar: the period picker (dates are midnight in the
/// page's zone), the head it is drawn at, the reader and the checkpoint.
fn live_bar(live: &Live, lang: Lang, zone_name: &str) -> Markup {
    let t = |id: &str, args: &[(&str, &str)]| lang.t(id, args);
    let seq = live.head_seq.to_string();
    let (agency, role) = (&live.reader.0, lang.term("role", &live.reader.1));
    html! {
        div.live #live data-head-seq=(live.head_seq) data-head-url=(live.head_url)
            data-reloading=(t("live-reloading", &[("seq", "%SEQ%")])) {
            strong { (t("live-title", &[])) } " · "
            form method="get" action=(live.form_action) {
                label { (t("live-from", &[])) " " input type="date" name="from" value=(live.from_date) required; }
                " "
                label { (t("live-to", &[])) " " input type="date" name="to" value=(live.to_date) required; }
                " " (t("live-dates-note", &[("zone", zone_name)])) " "
                button type="submit" { (t("live-show", &[])) }
            }
            " · " span #live-status { (t("live-status", &[("seq", &seq)])) }
            br;
            (t("live-reader", &[("agency", agency), ("role", &role)]))
            @if let Some(own) = &live.viewer {
                " " (t("live-your-agency", &[])) " " a href=(format!("#agency-{own}")) { (own) }
                " " (t("live-your-agency-note", &[]))
            }
            br;
            @match &live.checkpoint {
                Some(c) => {
                    (t("live-proven", &[("size", &c.size.to_string())])) " " span.hash { (c.root) } ": "
                    @if c.witnessed {
                        (t("live-witnessed", &[("names", &c.cosigned_by.join(", "))]))
                    } @else if c.cosigned_by.is_empty() {
                        (t("live-not-witnessed", &[]))
                    } @else {
                        (t("live-short-of-quorum", &[("names", &c.cosigned_by.join(", "))]))
                    }
                }
                None => { (t("live-no-checkpoint", &[])) }
            }
        }
    }
}

/// A grade's name in `lang` (`-` for none; a custom model's grade as named).
pub(crate) fn grade(lang: Lang, grade: Option<&str>) -> String {
    grade.map_or_else(|| "-".to_owned(), |g| lang.term("grade", g))
}

/// Whether `ag` is the dashboard reader's own agency.
fn is_own(input: &ReportInput<'_>, ag: &AgencyAssessment) -> bool {
    input.live.as_ref().and_then(|l| l.viewer.as_deref()) == Some(ag.agency_id.as_str())
}

fn scorecard(ag: &AgencyAssessment, input: &ReportInput<'_>) -> Markup {
    let Locale { lang, zone } = input.locale;
    let t = |id: &str, args: &[(&str, &str)]| lang.t(id, args);
    let total_weight = total_weight(ag);
    let own = is_own(input, ag);
    html! {
        article.scorecard.own[own] id=(format!("agency-{}", ag.agency_id)) aria-current=[own.then_some("true")] {
            h3 {
                (ag.name) " " span.muted { "(" (ag.agency_id) ", " span title=(ag.kind.as_str()) { (lang.term("kind", ag.kind.as_str())) } ")" }
                @if own { span.own-marker { (t("own-marker", &[])) } }
            }
            p.headline {
                @match (ag.rank, ag.score) {
                    (Some(rank), Some(score)) => {
                        (t("scorecard-headline", &[("rank", &rank.to_string()), ("score", &format!("{score:.2}"))])) " "
                        span.grade { (grade(lang, ag.grade.as_deref())) } " "
                        (t("scorecard-formula", &[("weighted", &crate::fixed(ag.weighted, 2)), ("deductions", &ag.deductions.to_string())]))
                    }
                    _ => { (t("scorecard-unranked", &[])) }
                }
            }
            table {
                thead { tr { th { (t("col-indicator", &[])) } th.num { (t("col-value", &[])) } th.num { (t("col-fraction", &[])) }
                    th.num { (t("col-sample", &[])) } th.num { (t("col-points", &[])) } th { (t("col-how", &[])) } } }
                tbody {
                    @for ind in &ag.indicators {
                        @let mi = input.model.indicators.iter().find(|m| m.id == ind.id);
                        tr {
                            td title=(ind.id.as_str()) { (crate::indicator_name(lang, ind.id)) }
                            td.num { (short_value(ind)) }
                            td.num { (fraction(ind.numerator, ind.denominator, ind.id)) }
                            td.num.sample { (methodology::sample_text(ind)) }
                            td.num { (crate::fixed(ind.points, 2)) }
                            td {
                                (how(ind, mi, total_weight, lang))
                                @if !ind.evidence.is_empty() {
                                    p.ids {
                                        (t("evidence", &[("count", &ind.evidence.len().to_string())])) " "
                                        @for (k, id) in ind.evidence.iter().take(EVIDENCE_SHOWN).enumerate() {
                                            @if k > 0 { ", " }
                                            (id.to_string())
                                        }
                                        @if ind.evidence.len() > EVIDENCE_SHOWN {
                                            " " (t("evidence-more", &[("more", &(ind.evidence.len() - EVIDENCE_SHOWN).to_string())]))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if ag.penalties.is_empty() {
                p.muted { (t("penalties-none", &[])) }
            } @else {
                table.penalties {
                    thead { tr { th { (t("col-penalty", &[])) } th { (t("col-occurred", &[])) } th.num { (t("col-deduction", &[])) } th { (t("col-event", &[])) } } }
                    tbody {
                        @for p in &ag.penalties {
                            tr { td title=(p.kind.as_str()) { (lang.term("penalty", p.kind.as_str())) } td { (crate::shown(zone, &p.occurred_at)) }
                                td.num { (p.deduction.to_string()) } td.ids { (p.event_id.to_string()) } }
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
