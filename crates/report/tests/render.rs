//! The renderers on a hand-made assessment: hostile names are escaped in
//! HTML and Markdown, long evidence lists are capped visibly, the bytes are
//! stable, the parameters line reads back, trend months are UTC months
//! clipped to the period, and the footer says how to prove the figures
//! against the log's signed checkpoints.

use govledger_assess::{Assessment, Model};
use govledger_domain::Timestamp;
use govledger_report::{Format, Params, ReportInput, months, render};
use serde_json::json;

fn doc() -> Assessment {
    let evidence: Vec<String> = (1..=25).map(|n| format!("00000000-0000-4000-8000-{n:012}")).collect();
    serde_json::from_value(json!({
        "period": {"from": "2026-01-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"},
        "as_of_seq": 42, "head_hash": "ab".repeat(32), "model_sha256": Model::default_v1().sha256,
        "agencies": [{
            "agency_id": "bank-1", "name": "<script>alert(1)</script> | 银行", "kind": "bank",
            "rank": 1, "score": 87.5, "grade": "good", "weighted": 87.5, "deductions": 0, "penalties": [],
            "indicators": [{"id": "freeze_execution_rate", "value": 0.875, "points": 87.5, "weight": 3,
                "numerator": 7, "denominator": 8, "sample_size": null, "evidence": evidence}]
        }]
    }))
    .expect("a valid assessment document")
}

#[test]
fn html_escapes_caps_evidence_and_is_stable() {
    let (a, model) = (doc(), Model::default_v1());
    let input = ReportInput { assessment: &a, model: &model, months: &[], live: None, proven: None };
    let html = String::from_utf8(render(Format::Html, &input)).unwrap();
    assert!(!html.contains("<script>alert"), "a name must not become markup");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; | 银行"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(!html.contains("<script"), "a report has no script");
    // No network: the only URL is the SVG namespace; no https at all.
    assert_eq!(html.matches("http://").count(), html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
    assert!(!html.contains("https://"));
    assert!(html.contains("Evidence (25 events)") && html.contains("… and 5 more (the JSON report lists them all)"));
    assert!(html.contains("00000000-0000-4000-8000-000000000020"));
    assert!(!html.contains("00000000-0000-4000-8000-000000000021"));
    assert!(html.contains("7 / 8"));
    assert_eq!(render(Format::Html, &input), render(Format::Html, &input));
    let json = String::from_utf8(render(Format::Json, &input)).unwrap();
    assert!(json.contains("00000000-0000-4000-8000-000000000025"), "JSON keeps every id");
}

#[test]
fn markdown_escapes_table_breakers() {
    let (a, model) = (doc(), Model::default_v1());
    let input = ReportInput { assessment: &a, model: &model, months: &[], live: None, proven: None };
    let md = String::from_utf8(render(Format::Markdown, &input)).unwrap();
    assert!(md.contains("\\<script\\>alert(1)\\</script\\> \\| 银行"));
}

#[test]
fn parameters_read_back_from_each_format() {
    let (a, model) = (doc(), Model::default_v1());
    let input = ReportInput { assessment: &a, model: &model, months: &[], live: None, proven: None };
    for format in [Format::Html, Format::Markdown, Format::Json] {
        let params = Params::find(&render(format, &input)).unwrap();
        assert_eq!(params, Params::of(&a, format));
    }
    assert_eq!(Params::find(&render(Format::Csv, &input)), None);
}

#[test]
fn months_are_utc_months_clipped_to_the_period() {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let m = months(t("2025-12-31T16:00:00Z"), t("2026-02-15T00:00:00Z"));
    let labels: Vec<&str> = m.iter().map(|(l, _, _)| l.as_str()).collect();
    assert_eq!(labels, ["2025-12", "2026-01", "2026-02"]);
    assert_eq!(m[0].1, t("2025-12-31T16:00:00Z"));
    assert_eq!(m[1].1, t("2026-01-01T00:00:00Z"));
    assert_eq!(m[2].2, t("2026-02-15T00:00:00Z"));
}

#[test]
fn the_footer_says_how_to_prove_the_figures_against_the_log() {
    // SPEC 6: a report names the position it counts and how to prove it in a
    // signed checkpoint, in words that do not change after it is published.
    let (a, model) = (doc(), Model::default_v1());
    let input = ReportInput { assessment: &a, model: &model, months: &[], live: None, proven: None };
    let html = String::from_utf8(render(Format::Html, &input)).unwrap();
    assert!(html.contains("Proof against the log"));
    assert!(html.contains("govledger proof inclusion --seq 42"));
    assert!(html.contains(&"ab".repeat(32)));
    let md = String::from_utf8(render(Format::Markdown, &input)).unwrap();
    assert!(md.contains("## Proof against the log"));
    assert!(md.contains("`govledger proof inclusion --seq 42`"));
}
