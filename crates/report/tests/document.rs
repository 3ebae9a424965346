//! A report an office can sign (issue 17): the title page (issuer, period,
//! issue date from the ledger, position and checkpoint), the methodology
//! generated from the model, the sample size beside every indicator with a
//! mark for small samples, per-agency trends as small multiples, and the
//! scorecards in an appendix; the dashboard has no title page.

use govledger_assess::{Assessment, Model};
use govledger_report::{
    Format, Lang, Live, Locale, MonthAssessment, Params, Proven, ReportInput, SMALL_SAMPLE_BELOW, TitlePage, Zone,
    render,
};
use serde_json::json;

/// Two agencies: a bank with 8 freeze requests (7 executed) and 3 answered
/// within the p90 (a small sample), and an unranked community office.
fn doc(score: f64) -> Assessment {
    serde_json::from_value(json!({
        "period": {"from": "2025-12-31T16:00:00Z", "to": "2026-03-31T16:00:00Z"},
        "as_of_seq": 42, "head_hash": "ab".repeat(32), "model_sha256": Model::default_v1().sha256,
        "agencies": [{
            "agency_id": "bank-1", "name": "晋江银行", "kind": "bank",
            "rank": 1, "score": score, "grade": "good", "weighted": score, "deductions": 0, "penalties": [],
            "indicators": [
                {"id": "freeze_execution_rate", "value": 0.875, "points": 87.5, "weight": 3,
                 "numerator": 7, "denominator": 8, "sample_size": null, "evidence": []},
                {"id": "freeze_response_p90_s", "value": 3900, "points": 50.0, "weight": 2,
                 "numerator": null, "denominator": null, "sample_size": 3, "evidence": []}]
        }, {
            "agency_id": "comm", "name": "社区", "kind": "community",
            "rank": null, "score": null, "grade": null, "weighted": null, "deductions": 0, "penalties": [],
            "indicators": []
        }]
    }))
    .expect("a valid assessment document")
}

fn title(issuer: Option<&str>) -> TitlePage {
    TitlePage { issuer: issuer.map(str::to_owned), issued_at: "2026-04-02T01:30:00Z".into() }
}

fn input<'a>(a: &'a Assessment, model: &'a Model, months: &'a [MonthAssessment], lang: Lang) -> ReportInput<'a> {
    ReportInput {
        assessment: a,
        model,
        months,
        live: None,
        proven: None,
        locale: Locale { lang, zone: Zone::DEFAULT },
        title: Some(title(Some("bank-1"))),
    }
}

fn html(input: &ReportInput<'_>) -> String {
    String::from_utf8(render(Format::Html, input)).expect("HTML is UTF-8")
}

#[test]
fn the_title_page_names_issuer_period_issue_date_position_and_checkpoint() {
    let (a, model) = (doc(80.0), Model::default_v1());
    let page = html(&input(&a, &model, &[], Lang::En));
    let title_page =
        &page[page.find("class=\"title-page\"").unwrap()..page.find("<section class=\"summary\">").unwrap()];
    for fact in [
        "Issued by",
        "晋江银行 (bank-1)",
        "2026 Q1 (Beijing time)",
        "2026-01-01 00:00:00 +08:00 to 2026-04-01 00:00:00 +08:00 (end excluded); exact instants 2025-12-31T16:00:00Z to 2026-03-31T16:00:00Z",
        // The issue date is the ledger's recorded time of seq 42, in the report's zone.
        "2026-04-02: the time the ledger recorded event 42",
        "seq 42",
        &"ab".repeat(32),
        "none covered seq 42 when the report was made",
    ] {
        assert!(title_page.contains(fact), "missing {fact:?} in {title_page}");
    }
    // A checkpoint stamp: its size, root and how many witnesses cosigned it.
    let proven = Proven { size: 50, root: "cd".repeat(32), cosignatures: 2 };
    let stamped = html(&ReportInput { proven: Some(proven.clone()), ..input(&a, &model, &[], Lang::En) });
    assert!(stamped.contains(&format!(
        "tree size 50, root {}; 2 witness cosignature(s) when the report was made",
        "cd".repeat(32)
    )));
    // The stamp holds no quorum: the page does not call it witnessed (SPEC 6.4).
    assert!(!stamped.contains("; witnessed"), "{stamped}");
    let alone = Proven { cosignatures: 0, ..proven };
    let alone = html(&ReportInput { proven: Some(alone), ..input(&a, &model, &[], Lang::En) });
    assert!(alone.contains("no witness cosignature when the report was made"));
    // Without an issuer the page says so; the issuer is in the parameters line.
    let draft = html(&ReportInput { title: Some(title(None)), ..input(&a, &model, &[], Lang::En) });
    assert!(draft.contains("Not stated: an unpublished draft"));
    assert_eq!(Params::find(draft.as_bytes()).unwrap().issuer, None);
    let params = Params::find(page.as_bytes()).unwrap();
    assert_eq!(params.issuer.as_deref(), Some("bank-1"));
    assert!(params.command(&model.sha256).contains(" --issuer bank-1 "));
    // In Chinese, and in Markdown.
    let zh = html(&input(&a, &model, &[], Lang::ZhCn));
    assert!(zh.contains("发布单位") && zh.contains("晋江银行（bank-1）") && zh.contains("发布日期"));
    let md = String::from_utf8(render(Format::Markdown, &input(&a, &model, &[], Lang::ZhCn))).unwrap();
    assert!(md.starts_with("# 反诈工作责任考核\n\n**2026年第一季度（北京时间）**\n"), "{md}");
    assert!(md.contains("| 发布单位 | 晋江银行（bank-1） |"));
}

#[test]
fn the_dashboard_has_no_title_page() {
    let (a, model) = (doc(80.0), Model::default_v1());
    let live = Live {
        head_seq: 42,
        head_url: "/dashboard/head".into(),
        form_action: "/".into(),
        from_date: "2026-01-01".into(),
        to_date: "2026-04-01".into(),
        checkpoint: None,
        viewer: None,
        reader: ("bank-1".into(), "auditor".into()),
    };
    let page = html(&ReportInput { live: Some(live), title: None, ..input(&a, &model, &[], Lang::En) });
    assert!(!page.contains("class=\"title-page\"") && page.contains("<header>"));
}

#[test]
fn the_methodology_is_generated_from_the_model() {
    let (a, model) = (doc(80.0), Model::default_v1());
    let page = html(&input(&a, &model, &[], Lang::En));
    let method = &page[page.find("id=\"methodology\"").unwrap()..page.find("class=\"scorecards\"").unwrap()];
    for text in [
        &format!("Assessment model version 1 (the model file's sha256 {})", model.sha256),
        "Latency (p90): 100 at or below 600 s, 0 at or above 7200 s, linear between",
        "Target: 100 × min(1, value / 0.3)",
        "Rate: 100 × value",
        "Bank, Payment institution",
        "All kinds",
        "≥ 90",
        "−20",
        &format!("fewer than {SMALL_SAMPLE_BELOW} items"),
    ] {
        assert!(method.contains(text), "missing {text:?} in {method}");
    }
    // Another model file, another section: a weight and a cut-off changed.
    let toml = govledger_assess::DEFAULT_MODEL_TOML
        .replacen("weight = 3\npoints = { kind = \"rate\" }", "weight = 7\npoints = { kind = \"rate\" }", 1)
        .replacen("min_score = 90", "min_score = 95", 1);
    let other = Model::from_toml(toml.as_bytes()).unwrap();
    let page = html(&input(&a, &other, &[], Lang::ZhCn));
    assert!(page.contains("<td class=\"num\">7</td>") && page.contains("≥ 95") && !page.contains("≥ 90"));
    assert!(page.contains("考核方法") && page.contains("时长（第 90 百分位）：不超过 600 秒得 100 分"));
    let md = String::from_utf8(render(Format::Markdown, &input(&a, &other, &[], Lang::En))).unwrap();
    assert!(md.contains("\n## Methodology\n") && md.contains("| Excellent | ≥ 95 |"));
}

#[test]
fn every_indicator_shows_its_sample_and_small_samples_are_marked() {
    let (a, model) = (doc(80.0), Model::default_v1());
    let page = html(&input(&a, &model, &[], Lang::En));
    // Beside each score in the scorecard: 8 requests; 3 answered, below the threshold: marked.
    assert!(page.contains("<td class=\"num sample\">8</td>"), "{page}");
    assert!(page.contains("<td class=\"num sample\">3 †</td>"));
    // In the heat-map cell of the p90, and its tooltip states n.
    assert!(page.contains("65m00s †") && page.contains("(n = 3 †)") && page.contains("(n = 8)"));
    assert!(!page.contains("87.5% †"));
    let md = String::from_utf8(render(Format::Markdown, &input(&a, &model, &[], Lang::En))).unwrap();
    assert!(md.contains("| 65m00s † |") && md.contains("| 3 † |"));
}

#[test]
fn trends_are_one_small_chart_per_agency_with_units_on_the_axes() {
    let model = Model::default_v1();
    let a = doc(80.0);
    let months: Vec<MonthAssessment> = [("2026-01", 70.0), ("2026-02", 75.5), ("2026-03", 90.0)]
        .into_iter()
        .map(|(label, score)| MonthAssessment { label: label.into(), assessment: doc(score) })
        .collect();
    let page = html(&input(&a, &model, &months, Lang::En));
    let trends = &page[page.find("class=\"trends-section\"").unwrap()..page.find("class=\"appendix\"").unwrap()];
    assert_eq!(trends.matches("<figure class=\"multiple\">").count(), 2, "one chart per agency");
    // One line per chart (no line under another); the unranked agency has none.
    assert_eq!(trends.matches("<polyline").count(), 1);
    assert!(trends.contains("score (points)") && trends.contains(">month<"), "units on the axes");
    assert!(trends.contains(">2026-01<") && trends.contains(">2026-03<"));
    assert!(trends.contains("2026-02: 75.50 points"));
    let md = String::from_utf8(render(Format::Markdown, &input(&a, &model, &months, Lang::En))).unwrap();
    assert!(md.contains("| 晋江银行 | 70.0 | 75.5 | 90.0 |") && md.contains("| 社区 | - | - | - |"), "{md}");
}

#[test]
fn scorecards_and_methodology_are_an_appendix_after_the_summary() {
    let (a, model) = (doc(80.0), Model::default_v1());
    let page = html(&input(&a, &model, &[], Lang::En));
    let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    assert!(at("class=\"title-page\"") < at("class=\"ranking\""));
    assert!(at("class=\"ranking\"") < at("class=\"heat\""));
    assert!(at("class=\"heat\"") < at("class=\"appendix\""));
    assert!(at("class=\"appendix\"") < at("id=\"methodology\""));
    assert!(at("id=\"methodology\"") < at("class=\"scorecards\""));
    assert!(page.contains(".appendix, .scorecards h2 { break-before: page; }"), "the appendix starts a page");
}
