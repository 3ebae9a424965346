//! The renderers on a hand-made assessment: hostile names are escaped in
//! HTML and Markdown, long evidence lists are capped visibly, the bytes are
//! stable, the parameters line (with the language and time zone) reads back,
//! trend months are months of the report's zone clipped to the period, the
//! footer says how to prove the figures against the log's signed
//! checkpoints, a CSV ends with its parameters, and a zh-CN report is in
//! Chinese with translated codes and explanations.

use govledger_assess::{Assessment, Model};
use govledger_domain::Timestamp;
use govledger_report::{Format, Lang, Locale, Params, ReportInput, Zone, months, render};
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

const ENGLISH_UTC: Locale = Locale { lang: Lang::En, zone: Zone::UTC };

fn english<'a>(a: &'a Assessment, model: &'a Model) -> ReportInput<'a> {
    ReportInput { assessment: a, model, months: &[], live: None, proven: None, locale: ENGLISH_UTC, title: None }
}

#[test]
fn html_escapes_caps_evidence_and_is_stable() {
    let (a, model) = (doc(), Model::default_v1());
    let input = english(&a, &model);
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
    let input = english(&a, &model);
    let md = String::from_utf8(render(Format::Markdown, &input)).unwrap();
    assert!(md.contains("\\<script\\>alert(1)\\</script\\> \\| 银行"));
}

#[test]
fn parameters_read_back_from_each_format() {
    let (a, model) = (doc(), Model::default_v1());
    let input = english(&a, &model);
    for format in [Format::Html, Format::Markdown, Format::Json] {
        let params = Params::find(&render(format, &input)).unwrap();
        assert_eq!(params, Params { locale: ENGLISH_UTC, ..Params::of(&a, format) });
    }
    let chinese = ReportInput { locale: Locale::default(), ..english(&a, &model) };
    let params = Params::find(&render(Format::Html, &chinese)).unwrap();
    assert_eq!((params.locale.lang, params.locale.zone), (Lang::ZhCn, Zone::DEFAULT));
    assert!(params.command(&model.sha256).contains("--lang zh-CN --tz Asia/Shanghai"));
    // A report made before the language was recorded was English and UTC.
    let old =
        format!("<p>govledger-report-params: from=a to=b as_of_seq=1 model_sha256={} format=md</p>", model.sha256);
    assert_eq!(Params::find(old.as_bytes()).unwrap().locale, ENGLISH_UTC);
    // A CSV ends with its parameters in the first cell of its last row.
    let csv = render(Format::Csv, &input);
    assert_eq!(Params::find(&csv).unwrap(), Params { locale: ENGLISH_UTC, ..Params::of(&a, Format::Csv) });
    let last = String::from_utf8(csv).unwrap().lines().last().unwrap().to_owned();
    assert!(last.starts_with("govledger-report-params: from=") && last.ends_with(",,,,,,,,,,,,,,,,"), "{last}");
}

#[test]
fn months_are_months_of_the_zone_clipped_to_the_period() {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let m = months(Zone::UTC, t("2025-12-31T16:00:00Z"), t("2026-02-15T00:00:00Z"));
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
    let input = english(&a, &model);
    let html = String::from_utf8(render(Format::Html, &input)).unwrap();
    assert!(html.contains("Proof against the log"));
    assert!(html.contains("govledger proof inclusion --seq 42"));
    assert!(html.contains(&"ab".repeat(32)));
    let md = String::from_utf8(render(Format::Markdown, &input)).unwrap();
    assert!(md.contains("## Proof against the log"));
    assert!(md.contains("`govledger proof inclusion --seq 42`"));
}

#[test]
fn a_zh_cn_report_is_in_chinese_with_translated_codes_and_beijing_times() {
    let model = Model::default_v1();
    let mut a = doc();
    // The first quarter of 2026 in Beijing time.
    a.period.from = "2025-12-31T16:00:00Z".into();
    a.period.to = "2026-03-31T16:00:00Z".into();
    let input = ReportInput { locale: Locale::default(), ..english(&a, &model) };
    let html = String::from_utf8(render(Format::Html, &input)).unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    for heading in [
        "<h2>概要</h2>",
        "<h2>排名</h2>",
        "<h2>指标热力图</h2>",
        "<h2>记分卡</h2>",
        "<h2>考核方法</h2>",
        "<h2>可复现性</h2>",
    ] {
        assert!(html.contains(heading), "missing {heading}");
    }
    assert!(html.contains("2026年第一季度（北京时间）"), "the period is named as a Beijing quarter");
    assert!(html.contains("7 / 8") && html.contains("计算说明"), "explanations are in Chinese too");
    assert!(html.contains("期内收到的 8 个冻结请求中，7 个已执行（87.5%）"), "{html}");
    assert!(html.contains("2026-01-01 00:00:00 +08:00 至 2026-04-01 00:00:00 +08:00"));
    assert!(html.contains("<td title=\"bank\">银行</td>"), "the kind is translated, its code in the title");
    assert!(!html.contains(">bank<"), "no raw kind code as visible text");
    assert!(html.contains("良好") && html.contains("止付冻结执行率"));
    assert!(!html.contains("Ranking") && !html.contains("Scorecards"), "no English heading left");
    assert!(!html.contains("freeze requests received"), "no English explanation left");
    let md = String::from_utf8(render(Format::Markdown, &input)).unwrap();
    assert!(md.contains("## 排名") && md.contains("| 银行 |") && md.contains("2026年第一季度"));
    let english = String::from_utf8(render(Format::Html, &ReportInput { locale: ENGLISH_UTC, ..input })).unwrap();
    assert!(english.contains("<html lang=\"en\">") && english.contains("<td title=\"bank\">Bank</td>"));
    assert_ne!(html, english);
}

#[test]
fn beijing_months_start_at_midnight_beijing_time() {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let m = months(Zone::DEFAULT, t("2026-06-30T16:00:00Z"), t("2026-09-30T16:00:00Z"));
    let labels: Vec<&str> = m.iter().map(|(l, _, _)| l.as_str()).collect();
    assert_eq!(labels, ["2026-07", "2026-08", "2026-09"], "UTC would have a June sliver");
    assert_eq!(m[1].1, t("2026-08-01T00:00:00+08:00"));
}
