//! The Markdown, CSV and JSON reports. Markdown is written for a code-hosting
//! page (headings, pipe tables, no HTML); CSV is one row per agency and one
//! column per indicator; JSON is the assessment document with the report's
//! parameters and the monthly assessments.

use std::fmt::Write as _;

use govledger_assess::explain::{counted, scored, short_value};
use serde::Serialize;

use crate::html::fraction;
use crate::{EVIDENCE_SHOWN, Format, Params, ReportInput};

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
    let params = Params::of_input(input, Format::Markdown);
    let ranked = a.agencies.iter().filter(|ag| ag.rank.is_some()).count();
    let mut o = String::new();
    let _ = writeln!(o, "# Anti-fraud accountability assessment\n");
    let _ = writeln!(o, "Period **{}** to **{}** (end excluded).\n", a.period.from, a.period.to);
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| Agencies | {} registered, {ranked} ranked |", a.agencies.len());
    let _ = writeln!(o, "| Events | {} (as of seq {}) |", a.as_of_seq, a.as_of_seq);
    let _ = writeln!(o, "| Head hash | `{}` |", a.head_hash);
    let _ = writeln!(o, "| Model sha256 | `{}` |\n", a.model_sha256);

    let _ = writeln!(o, "## Ranking\n");
    let _ = writeln!(o, "| Rank | Agency | Id | Kind | Score | Grade | Weighted | Deductions |");
    let _ = writeln!(o, "|---:|---|---|---|---:|:---:|---:|---:|");
    for ag in &a.agencies {
        let _ = writeln!(
            o,
            "| {} | {} | `{}` | {} | {} | {} | {} | {} |",
            ag.rank.map_or("-".to_owned(), |r| r.to_string()),
            md(&ag.name),
            ag.agency_id,
            ag.kind.as_str(),
            crate::fixed(ag.score, 2),
            md(ag.grade.as_deref().unwrap_or("-")),
            crate::fixed(ag.weighted, 2),
            ag.deductions
        );
    }

    let _ = writeln!(o, "\n## Indicators\n");
    let ids: Vec<_> = input.model.indicators.iter().map(|m| m.id).collect();
    let _ = write!(o, "| Agency |");
    for id in &ids {
        let _ = write!(o, " {} |", crate::charts::short_label(*id));
    }
    let _ = write!(o, "\n|---|");
    for _ in &ids {
        let _ = write!(o, "---:|");
    }
    let _ = writeln!(o);
    for ag in &a.agencies {
        let _ = write!(o, "| {} |", md(&ag.name));
        for id in &ids {
            let cell = ag.indicators.iter().find(|i| i.id == *id).map_or(String::new(), short_value);
            let _ = write!(o, " {} |", md(&cell));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "\n`-`: no value in the period; blank: the indicator does not apply to the agency's kind.");

    if !input.months.is_empty() {
        let _ = writeln!(o, "\n## Month by month\n");
        let _ = writeln!(o, "Median over the agencies with a value (latencies in hours, rates in %).\n");
        let trend_ids = [
            govledger_assess::IndicatorId::FreezeResponseP90S,
            govledger_assess::IndicatorId::ClueFeedbackP90S,
            govledger_assess::IndicatorId::TaskOnTimeRate,
            govledger_assess::IndicatorId::FreezeExecutionRate,
            govledger_assess::IndicatorId::ClueFeedbackRate,
            govledger_assess::IndicatorId::DissuasionCoverageRate,
        ];
        let series = crate::charts::series(input.months, &trend_ids);
        let _ = write!(o, "| Month |");
        for s in &series {
            let _ = write!(o, " {} |", crate::charts::short_label(s.id));
        }
        let _ = write!(o, "\n|---|");
        for _ in &series {
            let _ = write!(o, "---:|");
        }
        let _ = writeln!(o);
        for (i, m) in input.months.iter().enumerate() {
            let _ = write!(o, "| {} |", m.label);
            for s in &series {
                let _ = write!(o, " {} |", crate::fixed(s.values[i], 1));
            }
            let _ = writeln!(o);
        }
    }

    let _ = writeln!(o, "\n## Scorecards");
    for ag in &a.agencies {
        let _ = writeln!(o, "\n### {} (`{}`, {})\n", md(&ag.name), ag.agency_id, ag.kind.as_str());
        match (ag.rank, ag.score) {
            (Some(rank), Some(score)) => {
                let _ = writeln!(
                    o,
                    "Rank **{rank}**, score **{score:.2}**, grade **{}** = weighted {} − deductions {}.\n",
                    md(ag.grade.as_deref().unwrap_or("-")),
                    crate::fixed(ag.weighted, 2),
                    ag.deductions
                );
            }
            _ => {
                let _ = writeln!(o, "Not ranked: none of its indicators has a value in the period.\n");
            }
        }
        let total_weight: f64 =
            ag.indicators.iter().filter(|i| i.points.is_some()).map(|i| i.weight.as_f64().unwrap_or(0.0)).sum();
        let _ = writeln!(o, "| Indicator | Value | Num / den | Points | How |");
        let _ = writeln!(o, "|---|---:|---:|---:|---|");
        for ind in &ag.indicators {
            let mi = input.model.indicators.iter().find(|m| m.id == ind.id);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {}; {}. |",
                ind.id.title(),
                md(&short_value(ind)),
                fraction(ind.numerator, ind.denominator, ind.id),
                crate::fixed(ind.points, 2),
                md(&counted(ind)),
                md(&scored(ind, mi, total_weight))
            );
        }
        for ind in ag.indicators.iter().filter(|i| !i.evidence.is_empty()) {
            let shown: Vec<String> = ind.evidence.iter().take(EVIDENCE_SHOWN).map(|id| format!("`{id}`")).collect();
            let more = ind.evidence.len().saturating_sub(EVIDENCE_SHOWN);
            let tail =
                if more > 0 { format!(" … and {more} more (the JSON report lists them all)") } else { String::new() };
            let _ = writeln!(
                o,
                "\n- Evidence of *{}* ({} events): {}{tail}",
                ind.id.title(),
                ind.evidence.len(),
                shown.join(", ")
            );
        }
        if ag.penalties.is_empty() {
            let _ = writeln!(o, "\nPenalties: none in the period.");
        } else {
            let _ = writeln!(o, "\n| Penalty | Occurred at | Deduction | Event |\n|---|---|---:|---|");
            for p in &ag.penalties {
                let _ = writeln!(o, "| {} | {} | {} | `{}` |", p.kind.as_str(), p.occurred_at, p.deduction, p.event_id);
            }
        }
    }

    let _ = writeln!(o, "\n## Reproducibility\n");
    let _ = writeln!(
        o,
        "As of seq **{}**, head hash `{}`, model sha256 `{}`. Regenerate byte for byte with:\n",
        a.as_of_seq, a.head_hash, a.model_sha256
    );
    let _ = writeln!(o, "```\n{}\n```\n", params.command(&govledger_assess::Model::default_v1().sha256));
    let _ = writeln!(
        o,
        "## Proof against the log\n\nThe figures count the events up to seq **{0}**, whose hash is `{1}`. Any \
         checkpoint of the log's signed tree of that size or larger proves them without trusting the office that \
         runs it: `govledger proof inclusion --seq {0}` (or `GET /v1/proof/inclusion?seq={0}`) gives the proof, \
         `govledger proof verify` checks it against the log's verifier key offline, and the checkpoint's \
         cosignatures say whether it was witnessed.\n",
        a.as_of_seq, a.head_hash
    );
    if let Some(p) = &input.proven {
        let _ = writeln!(
            o,
            "When this report was made, the first signed checkpoint covering seq {} was the one of size **{}** \
             (root `{}`), with {} witness cosignature(s): `GET /v1/checkpoints?size={}`.\n",
            a.as_of_seq, p.size, p.root, p.cosignatures, p.size
        );
    }
    let _ = writeln!(o, "<!-- {} -->", params.line());
    o
}

/// One header row, then one row per agency (ranking order): rank, id, name,
/// kind, score, grade, weighted, deductions and one column per indicator of
/// the model (its value; empty when null or not applicable).
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
