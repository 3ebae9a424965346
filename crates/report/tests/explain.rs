//! The plain-language scorecard and the ranking table (`govledger
//! scorecard`, `assess --format table`, the GraphQL scorecard) in both
//! languages: every sentence comes from `explain.ftl`, figures from the
//! document, times in the locale's zone, table columns aligned by display
//! width.

use govledger_assess::{Assessment, Model};
use govledger_report::explain::{scorecard, table};
use govledger_report::{Lang, Locale, Zone};
use serde_json::json;
use unicode_width::UnicodeWidthStr;

const EN: Locale = Locale { lang: Lang::En, zone: Zone::UTC };
const ZH: Locale = Locale { lang: Lang::ZhCn, zone: Zone::DEFAULT };

/// A bank with three scored indicators, one left out, and two penalties;
/// a community office with no score.
fn doc() -> Assessment {
    serde_json::from_value(json!({
        "period": {"from": "2026-01-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"},
        "as_of_seq": 24, "head_hash": "ab".repeat(32), "model_sha256": Model::default_v1().sha256,
        "agencies": [{
            "agency_id": "bank", "name": "The bank", "kind": "bank",
            "rank": 3, "score": 67.545455, "grade": "pass", "weighted": 79.545455, "deductions": 12,
            "penalties": [
                {"event_id": "00000000-0000-4000-8000-000000000001", "kind": "warning",
                 "occurred_at": "2026-02-01T00:00:00Z", "deduction": 2},
                {"event_id": "00000000-0000-4000-8000-000000000002", "kind": "fine",
                 "occurred_at": "2026-02-02T00:00:00Z", "deduction": 10}],
            "indicators": [
                {"id": "meeting_attendance_rate", "value": null, "points": null, "weight": 1,
                 "numerator": 0, "denominator": 0, "sample_size": null, "evidence": []},
                {"id": "freeze_execution_rate", "value": 0.75, "points": 75.0, "weight": 3,
                 "numerator": 3, "denominator": 4, "sample_size": null,
                 "evidence": ["00000000-0000-4000-8000-000000000003"]},
                {"id": "freeze_response_p90_s", "value": 3900, "points": 50.0, "weight": 2,
                 "numerator": null, "denominator": null, "sample_size": 3, "evidence": []},
                {"id": "cards_disposed", "value": 25, "points": 50.0, "weight": 1,
                 "numerator": 25, "denominator": null, "sample_size": 1, "evidence": []}]
        }, {
            "agency_id": "comm", "name": "社区", "kind": "community",
            "rank": null, "score": null, "grade": null, "weighted": null, "deductions": 0, "penalties": [],
            "indicators": []
        }]
    }))
    .expect("a valid assessment document")
}

#[test]
fn the_scorecard_explains_the_figures_in_english() {
    let (doc, m) = (doc(), Model::default_v1());
    let text = scorecard(&doc, &m, "bank", EN).unwrap();
    for sentence in [
        "Scorecard of bank (The bank, Bank)",
        "Period 2026-01-01 00:00:00 +00:00 to 2026-04-01 00:00:00 +00:00 (end excluded), as of ledger seq 24",
        "Score 67.545455 (grade Pass), rank 3 of 1 ranked agencies.",
        "- Freeze execution rate: 3 of 4 freeze requests received in the period were executed (75%); \
         100 × 0.75 = 75.0 points, weight 3 of 6.",
        "  (1 evidence event; `govledger assess --format json` lists their ids)",
        "sorted by latency, the one at nearest rank 3 = ceil(0.9 × 3) took 3,900 s (about 65.0 minutes); \
         100 × (7,200 − 3,900) / (7,200 − 600) = 50.0 points, weight 2 of 6.",
        "- Meeting attendance rate: not applicable: no meeting convened by a coordinator that it was invited to was \
         held in the period; left out, and the remaining weights are renormalised.",
        "- Cards disposed: 1 card-breaking action in the period disposed of 25 bank cards, phone cards and internet \
         accounts; 100 × min(1, 25 / 50) = 50.0 points, weight 1 of 6.",
        "Weighted score: Σ weight × points / Σ weight over the 3 indicators with a value (total weight 6) = 79.545455.",
        "Deductions: 12 points for 2 penalties imposed in the period and not revoked:",
        "- Fine on 2026-02-02 00:00:00 +00:00 (event 00000000-0000-4000-8000-000000000002): −10",
        "Score: clamp(79.545455 − 12, 0, 100) = 67.545455 → grade Pass (60 or more).",
    ] {
        assert!(text.contains(sentence), "missing {sentence:?} in\n{text}");
    }
    assert!(scorecard(&doc, &m, "nobody", EN).is_none());
    let comm = scorecard(&doc, &m, "comm", EN).unwrap();
    assert!(comm.contains("No score: none of the model's indicators for a Community agency has a value"), "{comm}");
}

#[test]
fn the_scorecard_explains_the_figures_in_chinese_with_beijing_times() {
    let (doc, m) = (doc(), Model::default_v1());
    let text = scorecard(&doc, &m, "bank", ZH).unwrap();
    for sentence in [
        "bank（The bank，银行）记分卡",
        "考核期间 2026-01-01 08:00:00 +08:00 至 2026-04-01 08:00:00 +08:00（不含结束时刻）",
        "得分 67.545455（等级：合格），在 1 个参与排名的单位中居第 3 名。",
        "期内收到的 4 个冻结请求中，3 个已执行（75%）；100 × 0.75 = 75.0 分，权重 3（共 6）。",
        "按时长排序，最近秩 3 = ceil(0.9 × 3) 的一个用时 3,900 秒（约 65.0 分钟）",
        "不适用：期内没有召开由协调单位召集并邀请其参加的会议；不计入，其余权重重新归一。",
        "期内 1 次断卡行动共处置银行卡、电话卡和互联网账号 25 个",
        "扣分：期内受到且未撤销的 2 项处罚，共扣 12 分：",
        "得分：clamp(79.545455 − 12, 0, 100) = 67.545455 → 等级：合格（60 分及以上）。",
    ] {
        assert!(text.contains(sentence), "missing {sentence:?} in\n{text}");
    }
    assert!(!text.contains("freeze") && !text.contains("points"), "no English left:\n{text}");
}

#[test]
fn the_table_has_localised_headings_aligned_by_display_width() {
    let doc = doc();
    let en = table(&doc, EN);
    let header = en.lines().nth(1).unwrap();
    for heading in ["Rank", "Id", "Kind", "Score", "Grade", "Weighted", "Deductions", "Freezes executed", "Freeze p90"]
    {
        assert!(header.contains(heading), "missing {heading} in {header}");
    }
    assert!(en.lines().any(|l| l.contains("bank") && l.contains("75.0%") && l.contains("65m00s")));
    let zh = table(&doc, ZH);
    let lines: Vec<&str> = zh.lines().collect();
    assert!(lines[0].starts_with("考核期间 2026-01-01 08:00:00 +08:00"), "{}", lines[0]);
    assert!(lines[1].starts_with("名次") && lines[1].contains("得分") && lines[1].contains("等级"));
    assert!(lines.iter().any(|l| l.contains("社区") || l.contains("comm")));
    assert!(zh.contains("合格") && zh.contains("银行"), "codes are translated:\n{zh}");
    // The score column is right-aligned: it ends at the same display column
    // under its Chinese heading as in the bank's row.
    let end = |line: &str, cell: &str| line[..line.find(cell).unwrap() + cell.len()].width();
    let bank = lines.iter().find(|l| l.contains("67.55")).unwrap();
    assert_eq!(end(lines[1], "得分"), end(bank, "67.55"), "\n{zh}");
}
