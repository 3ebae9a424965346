//! The Markdown, CSV and JSON reports. Markdown is written for a code-hosting
//! page (headings, pipe tables, no HTML), in the report's language; CSV (codes
//! and figures for a spreadsheet, in no language) is one row per agency and one
//! column per indicator, ending with the parameters line; JSON is the assessment document with the report's
//! parameters and the monthly assessments.

use std::fmt::Write as _;

use serde::Serialize;

use crate::explain::{how, short_value, total_weight};
use crate::html::{fraction, grade};
use crate::methodology::{SMALL_MARK, sample_text, small_sample};
use crate::{EVIDENCE_SHOWN, Format, Locale, Params, ReportInput, methodology, title, trends};

/// Escapes text for a Markdown table cell or line: pipes, backslashes,
/// markup characters and line breaks cannot break the table.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

pub(crate) fn markdown(input: &ReportInput<'_>) -> String {
    let a = input.assessment;
    let Locale { lang, zone } = input.locale;
    let t = |id: &str, args: &[(&str, &str)]| lang.t(id, args);
    let params = Params::of_input(input, Format::Markdown);
    let ranked = a.agencies.iter().filter(|ag| ag.rank.is_some()).count().to_string();
    let seq = a.as_of_seq.to_string();
    let zone_name = lang.term("zone", zone.name());
    let mut o = match &input.title {
        Some(page) => title::markdown(input, page, md),
        None => format!("# {}\n\n", md(&t("report-heading", &[]))),
    };
    let _ = writeln!(o, "## {}\n", md(&t("summary", &[])));
    let _ = writeln!(o, "| | |\n|---|---|");
    let instants = t(
        "summary-period-instants",
        &[("from", &crate::shown(zone, &a.period.from)), ("to", &crate::shown(zone, &a.period.to))],
    );
    let period = crate::period_name(input.locale, a);
    let _ = writeln!(o, "| {} | **{}** ({}) |", t("summary-period", &[]), md(&period), md(&instants));
    let agencies = t("summary-agencies-value", &[("total", &a.agencies.len().to_string()), ("ranked", &ranked)]);
    let _ = writeln!(o, "| {} | {} |", t("summary-agencies", &[]), md(&agencies));
    let _ = writeln!(o, "| {} | {} |", t("summary-events", &[]), md(&t("summary-events-value", &[("seq", &seq)])));
    let _ = writeln!(o, "| {} | `{}` |", t("summary-head", &[]), a.head_hash);
    let _ = writeln!(o, "| {} | `sha256 {}` |", t("summary-model", &[]), a.model_sha256);
    let _ = writeln!(o, "| {} | {} ({}) |\n", t("summary-zone", &[]), md(&zone_name), zone.name());

    let _ = writeln!(o, "## {}\n", t("ranking", &[]));
    let columns =
        ["col-rank", "col-agency", "col-id", "col-kind", "col-score", "col-grade", "col-weighted", "col-deductions"];
    let _ = writeln!(o, "| {} |", columns.map(|c| t(c, &[])).join(" | "));
    let _ = writeln!(o, "|---:|---|---|---|---:|:---:|---:|---:|");
    for ag in &a.agencies {
        let _ = writeln!(
            o,
            "| {} | {} | `{}` | {} | {} | {} | {} | {} |",
            ag.rank.map_or("-".to_owned(), |r| r.to_string()),
            md(&ag.name),
            ag.agency_id,
            md(&lang.term("kind", ag.kind.as_str())),
            crate::fixed(ag.score, 2),
            md(&grade(lang, ag.grade.as_deref())),
            crate::fixed(ag.weighted, 2),
            ag.deductions
        );
    }

    let _ = writeln!(o, "\n## {}\n", t("heatmap", &[]));
    let ids: Vec<_> = input.model.indicators.iter().map(|m| m.id).collect();
    let _ = write!(o, "| {} |", t("col-agency", &[]));
    for id in &ids {
        let _ = write!(o, " {} |", md(&crate::indicator_short(lang, *id)));
    }
    let _ = write!(o, "\n|---|");
    for _ in &ids {
        let _ = write!(o, "---:|");
    }
    let _ = writeln!(o);
    for ag in &a.agencies {
        let _ = write!(o, "| {} |", md(&ag.name));
        for id in &ids {
            let cell = ag.indicators.iter().find(|i| i.id == *id).map_or(String::new(), |i| {
                if small_sample(i) { format!("{} {SMALL_MARK}", short_value(i)) } else { short_value(i) }
            });
            let _ = write!(o, " {} |", md(&cell));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "\n{}", t("not-applicable-note", &[]));

    o.push_str(&trends::markdown(input, md));
    let _ = writeln!(o, "\n## {}", t("appendix", &[]));
    o.push_str(&methodology::markdown(input.model, lang, md));
    let _ = writeln!(o, "\n### {}", t("scorecards", &[]));
    for ag in &a.agencies {
        let kind = lang.term("kind", ag.kind.as_str());
        let _ = writeln!(o, "\n#### {} (`{}`, {})\n", md(&ag.name), ag.agency_id, md(&kind));
        match (ag.rank, ag.score) {
            (Some(rank), Some(score)) => {
                let headline =
                    t("scorecard-headline", &[("rank", &rank.to_string()), ("score", &format!("{score:.2}"))]);
                let formula = t(
                    "scorecard-formula",
                    &[("weighted", &crate::fixed(ag.weighted, 2)), ("deductions", &ag.deductions.to_string())],
                );
                let grade = grade(lang, ag.grade.as_deref());
                let _ = writeln!(o, "{} **{}** {}\n", md(&headline), md(&grade), md(&formula));
            }
            _ => {
                let _ = writeln!(o, "{}\n", md(&t("scorecard-unranked", &[])));
            }
        }
        let total_weight = total_weight(ag);
        let columns = ["col-indicator", "col-value", "col-fraction", "col-sample", "col-points", "col-how"];
        let _ = writeln!(o, "| {} |", columns.map(|c| t(c, &[])).join(" | "));
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---|");
        for ind in &ag.indicators {
            let mi = input.model.indicators.iter().find(|m| m.id == ind.id);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&crate::indicator_name(lang, ind.id)),
                md(&short_value(ind)),
                fraction(ind.numerator, ind.denominator, ind.id),
                sample_text(ind),
                crate::fixed(ind.points, 2),
                md(&how(ind, mi, total_weight, lang))
            );
        }
        for ind in ag.indicators.iter().filter(|i| !i.evidence.is_empty()) {
            let shown: Vec<String> = ind.evidence.iter().take(EVIDENCE_SHOWN).map(|id| format!("`{id}`")).collect();
            let more = ind.evidence.len().saturating_sub(EVIDENCE_SHOWN);
            let tail = if more > 0 {
                format!(" {}", md(&t("evidence-more", &[("more", &more.to_string())])))
            } else {
                String::new()
            };
            let evidence = t("evidence", &[("count", &ind.evidence.len().to_string())]);
            let name = crate::indicator_name(lang, ind.id);
            let _ = writeln!(o, "\n- *{}* · {} {}{tail}", md(&name), md(&evidence), shown.join(", "));
        }
        if ag.penalties.is_empty() {
            let _ = writeln!(o, "\n{}", md(&t("penalties-none", &[])));
        } else {
            let columns = ["col-penalty", "col-occurred", "col-deduction", "col-event"];
            let _ = writeln!(o, "\n| {} |\n|---|---|---:|---|", columns.map(|c| t(c, &[])).join(" | "));
            for p in &ag.penalties {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | `{}` |",
                    md(&lang.term("penalty", p.kind.as_str())),
                    crate::shown(zone, &p.occurred_at),
                    p.deduction,
                    p.event_id
                );
            }
        }
    }

    let _ = writeln!(o, "\n## {}\n", t("footer-repro", &[]));
    let _ = writeln!(
        o,
        "{}\n",
        md(&t("footer-as-of", &[("seq", &seq), ("hash", &a.head_hash), ("model", &a.model_sha256)]))
    );
    let _ = writeln!(o, "{}\n", md(&t("footer-pure", &[])));
    let _ = writeln!(o, "```\n{}\n```\n", params.command(&govledger_assess::Model::default_v1().sha256));
    let proof = t(
        "proof-text",
        &[
            ("seq", &seq),
            ("hash", &format!("`{}`", a.head_hash)),
            ("inclusion", &format!("`govledger proof inclusion --seq {seq}`")),
            ("get", &format!("`GET /v1/proof/inclusion?seq={seq}`")),
            ("verify", "`govledger proof verify`"),
        ],
    );
    let _ = writeln!(o, "## {}\n\n{proof}\n", t("proof", &[]));
    if let Some(p) = &input.proven {
        let stamp = t(
            "proof-stamp",
            &[
                ("seq", &seq),
                ("size", &p.size.to_string()),
                ("root", &format!("`{}`", p.root)),
                ("cosignatures", &p.cosignatures.to_string()),
                ("get", &format!("`GET /v1/checkpoints?size={}`", p.size)),
            ],
        );
        let _ = writeln!(o, "{stamp}\n");
    }
    let _ = writeln!(o, "<!-- {} -->", params.line());
    o
}

/// One header row, then one row per agency (ranking order): rank, id, name,
/// kind, score, grade, weighted, deductions and one column per indicator of
/// the model (its value; empty when null or not applicable); the last line
/// is the parameters line.
pub(crate) fn csv(input: &ReportInput<'_>) -> Vec<u8> {
    let a = input.assessment;
    let ids: Vec<_> = input.model.indicators.iter().map(|m| m.id).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["rank", "agency_id", "name", "kind", "score", "grade", "weighted", "deductions"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(ids.iter().map(|id| id.as_str().to_owned()));
    // Writing into a Vec cannot fail; the results are checked anyway.
    let mut ok = w.write_record(&header).is_ok();
    for ag in &a.agencies {
        let mut row = vec![
            ag.rank.map_or(String::new(), |r| r.to_string()),
            ag.agency_id.clone(),
            ag.name.clone(),
            ag.kind.as_str().to_owned(),
            ag.score.map_or(String::new(), |s| format!("{s:.6}")),
            ag.grade.clone().unwrap_or_default(),
            ag.weighted.map_or(String::new(), |s| format!("{s:.6}")),
            ag.deductions.to_string(),
        ];
        for id in &ids {
            row.push(
                ag.indicators
                    .iter()
                    .find(|i| i.id == *id)
                    .and_then(|i| i.value.as_ref())
                    .map_or(String::new(), |v| v.to_string()),
            );
        }
        ok &= w.write_record(&row).is_ok();
    }
    // The last line states how the report was made, so that `report verify`
    // regenerates a CSV as it does the other formats (in the first cell of
    // a last row as wide as the others, so that the file stays rectangular).
    let mut footer = vec![String::new(); header.len()];
    footer[0] = Params::of_input(input, Format::Csv).line();
    ok &= w.write_record(&footer).is_ok();
    match (ok, w.into_inner()) {
        (true, Ok(bytes)) => bytes,
        _ => Vec::new(),
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    report: JsonMeta,
    assessment: &'a govledger_assess::Assessment,
    months: Vec<JsonMonth<'a>>,
}

#[derive(Serialize)]
struct JsonMeta {
    params: String,
    command: String,
}

#[derive(Serialize)]
struct JsonMonth<'a> {
    month: &'a str,
    assessment: &'a govledger_assess::Assessment,
}

pub(crate) fn json(input: &ReportInput<'_>) -> Vec<u8> {
    let params = Params::of_input(input, Format::Json);
    let doc = JsonReport {
        report: JsonMeta {
            params: params.line(),
            command: params.command(&govledger_assess::Model::default_v1().sha256),
        },
        assessment: input.assessment,
        months: input.months.iter().map(|m| JsonMonth { month: &m.label, assessment: &m.assessment }).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}
