//! `govledger report` through the binary on the small city: publishing and
//! `report verify` (a published report regenerates to its hash; a changed
//! ledger, model or file does not, nor does a tampered chain), byte-for-byte reproducibility of every
//! format, the CSV as a table, the Markdown's shape, dates as midnight in the
//! report's time zone with the language and zone recorded (zh-CN and Beijing
//! time by default), the issuer on the title page checked against the
//! publisher, a CSV verified like the others, the HTML opened in headless
//! Chromium (charts and scorecards render, no console errors, in Chinese) and
//! the demo city's zh-CN report printed: summary, ranking, heat-map and
//! trends within 6 A4 pages, the appendix after them.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{Fixture, envelope};

const PERIOD: [&str; 4] = ["--from", "2026-01-01T00:00:00+08:00", "--to", "2026-04-01T00:00:00+08:00"];

fn report(fx: &Fixture, format: &str, out: &Path, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["report"];
    args.extend(PERIOD);
    args.extend(["--format", format, "--out", out.to_str().unwrap()]);
    args.extend(extra);
    fx.run(&args)
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

fn out(fx: &Fixture, name: &str) -> PathBuf {
    fx.root.path().join(name)
}

#[test]
fn a_published_report_verifies_and_a_changed_ledger_model_or_file_does_not() {
    let fx = Fixture::with_city();
    let (head, _) = fx.head();
    let file = out(&fx, "published.html");
    let run = report(&fx, "html", &file, &["--publish", "--as", "jj-office"]).success();
    let hash = sha(&file);
    assert!(run.stdout.contains(&format!("sha256 {hash}")), "{}", run.stdout);
    // The publication is an event of the ledger with the report's hash and parameters.
    let export = fx.export();
    let last: serde_json::Value = serde_json::from_str(export.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "AssessmentPublished");
    assert_eq!(last["seq"].as_u64(), Some(head + 1));
    assert_eq!(last["data"]["report_sha256"], hash.as_str());
    assert_eq!(last["data"]["as_of_seq"].as_u64(), Some(head));
    assert_eq!(last["data"]["period_from"], "2025-12-31T16:00:00Z");

    let ok = fx.run(&["report", "verify", file.to_str().unwrap()]);
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert!(ok.stdout.contains("OK: regenerated from the ledger"), "{}", ok.stdout);

    // A new event in the period: the report "as of the head" is no longer the published one…
    fx.import(&[envelope(
        None,
        "AgencyRegistered",
        "jj-office",
        "2026-02-10T09:00:00+08:00",
        json!({"agency_id": "jj-late", "name": "晋江市后来的单位", "kind": "community"}),
    )])
    .success();
    let again = out(&fx, "again.html");
    report(&fx, "html", &again, &[]).success();
    assert_ne!(sha(&again), hash, "a report of a changed ledger must differ");
    let changed = fx.run(&["report", "verify", again.to_str().unwrap()]);
    assert_eq!(changed.code, Some(1), "{changed:?}");
    assert!(changed.stdout.contains("NOT PUBLISHED"), "{}", changed.stdout);
    // …while the published one, pinned to its as_of_seq, still verifies.
    assert_eq!(fx.run(&["report", "verify", file.to_str().unwrap()]).code, Some(0));

    // A different model: the published hash cannot be reproduced with it.
    let model_text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/model-v1.toml"))
        .unwrap()
        .replacen("weight = 3", "weight = 4", 1);
    let model = fx.file("other-model.toml", &model_text);
    let other = fx.run(&["report", "verify", file.to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert_eq!(other.code, Some(1), "{other:?}");
    assert!(other.stdout.contains("MISMATCH: the report was made with the model"), "{}", other.stdout);
    // A report made with the other model is a different report.
    let with_other = out(&fx, "other.html");
    report(&fx, "html", &with_other, &["--as-of", &head.to_string(), "--model", model.to_str().unwrap()]).success();
    assert_ne!(sha(&with_other), hash);

    // An edited file: its hash is not published and it no longer regenerates.
    let tampered = out(&fx, "tampered.html");
    let text = std::fs::read_to_string(&file).unwrap().replacen("记分卡", "记分表", 1);
    std::fs::write(&tampered, text).unwrap();
    let bad = fx.run(&["report", "verify", tampered.to_str().unwrap()]);
    assert_eq!(bad.code, Some(1), "{bad:?}");
    assert!(bad.stdout.contains("no AssessmentPublished in the ledger has the sha256"), "{}", bad.stdout);
    assert!(bad.stdout.contains("MISMATCH: regenerated from the ledger"), "{}", bad.stdout);
}

#[test]
fn publishing_needs_the_evaluator_role() {
    let fx = Fixture::with_city();
    let file = out(&fx, "r.md");
    let run = report(&fx, "md", &file, &["--publish", "--as", "jj-psb"]);
    assert_eq!(run.code, Some(1), "a ledger refusal exits 1: {run:?}");
    assert!(run.stderr.contains("refused the publication"), "{}", run.stderr);
    assert!(!fx.export().contains("AssessmentPublished"));
    assert!(!file.exists(), "a refused publication writes no file");
}

#[test]
fn publishing_the_same_report_twice_is_a_ledger_refusal_exit_1() {
    let fx = Fixture::with_city();
    let (head, _) = fx.head();
    let as_of = head.to_string();
    let file = out(&fx, "r.md");
    report(&fx, "md", &file, &["--as-of", &as_of, "--publish", "--as", "jj-office"]).success();
    // The same position gives the same bytes, hence the same assessment_id.
    let again = report(&fx, "md", &file, &["--as-of", &as_of, "--publish", "--as", "jj-office"]).no_panic();
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(again.stderr.contains("refused the publication"), "{}", again.stderr);
    assert_eq!(fx.export().matches("AssessmentPublished").count(), 1, "published once");
}

#[test]
fn every_format_is_byte_for_byte_reproducible() {
    let fx = Fixture::with_city();
    let (head, _) = fx.head();
    for format in ["html", "md", "csv", "json"] {
        let a = out(&fx, &format!("a.{format}"));
        let b = out(&fx, &format!("b.{format}"));
        report(&fx, format, &a, &[]).success();
        // Again, in another process, with the checkpoint now present and an explicit --as-of.
        report(&fx, format, &b, &["--as-of", &head.to_string()]).success();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "{format} differs between runs");
        assert!(!std::fs::read(&a).unwrap().is_empty());
    }
    // JSON holds the assessment document as `assess` prints it.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(out(&fx, "a.json")).unwrap()).unwrap();
    assert_eq!(doc["assessment"]["as_of_seq"].as_u64(), Some(head));
    // Months of the report's zone (Beijing time by default) clipped to the
    // period, which starts 2026-01-01T00:00:00+08:00: no sliver of December.
    let months: Vec<&str> = doc["months"].as_array().unwrap().iter().map(|m| m["month"].as_str().unwrap()).collect();
    assert_eq!(months, ["2026-01", "2026-02", "2026-03"]);
}

#[test]
fn dates_are_midnight_in_the_time_zone_and_the_language_and_zone_are_recorded() {
    let fx = Fixture::with_city();
    let (head, _) = fx.head();
    let as_of = head.to_string();
    let instants = out(&fx, "instants.html");
    report(&fx, "html", &instants, &["--as-of", &as_of]).success();
    // Dates mean midnight in the zone, Beijing time by default: the same report as the +08:00 instants.
    let dates = out(&fx, "dates.html");
    let run = |file: &Path, extra: &[&str]| {
        let mut args = vec!["report", "--from", "2026-01-01", "--to", "2026-04-01", "--as-of", &as_of];
        args.extend(["--out", file.to_str().unwrap()]);
        args.extend(extra);
        fx.run(&args)
    };
    run(&dates, &[]).success();
    assert_eq!(sha(&dates), sha(&instants), "a Beijing date is midnight +08:00");
    let zh = std::fs::read_to_string(&dates).unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("2026年第一季度（北京时间）"));
    assert!(zh.contains("公安机关") && !zh.contains(">public_security<"), "kinds are translated");
    assert!(zh.contains("format=html lang=zh-CN tz=Asia/Shanghai"), "the parameters record both");

    // English and UTC: other instants, recorded, and the published report verifies with them.
    let english = out(&fx, "english.html");
    run(&english, &["--lang", "en", "--tz", "UTC", "--publish", "--as", "jj-office"]).success();
    let en = std::fs::read_to_string(&english).unwrap();
    assert!(en.contains("<html lang=\"en\">") && en.contains("2026 Q1 (UTC)") && en.contains("Public security"));
    assert!(en.contains("from=2026-01-01T00:00:00Z to=2026-04-01T00:00:00Z"), "UTC midnights");
    assert!(en.contains("lang=en tz=UTC") && en.contains("--lang en --tz UTC"), "recorded and in the command");
    let verified = fx.run(&["report", "verify", english.to_str().unwrap()]);
    assert_eq!(verified.code, Some(0), "{verified:?}");

    let bad = run(&out(&fx, "x.html"), &["--tz", "Beijing"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("IANA time zone"), "{}", bad.stderr);
    let bad = run(&out(&fx, "x.html"), &["--lang", "fr"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("zh-CN or en"), "{}", bad.stderr);
}

#[test]
fn out_dash_writes_the_report_to_standard_output() {
    let fx = Fixture::with_city();
    let file = out(&fx, "r.md");
    report(&fx, "md", &file, &[]).success();
    let run = report(&fx, "md", Path::new("-"), &[]).success();
    assert_eq!(run.stdout.as_bytes(), std::fs::read(&file).unwrap(), "stdout holds the report, byte for byte");
    assert!(run.stderr.contains("wrote the report to standard output"), "the summary goes to stderr: {}", run.stderr);
    assert!(!fx.root.path().join("-").exists() && !std::path::Path::new("-").exists(), "no file named `-`");
}

#[test]
fn csv_is_one_row_per_agency_and_one_column_per_indicator() {
    let fx = Fixture::with_city();
    let file = out(&fx, "r.csv");
    report(&fx, "csv", &file, &[]).success();
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5, "one row per agency, then the parameters");
    assert!(rows[4][0].starts_with("govledger-report-params: from=2025-12-31T16:00:00Z "), "{:?}", rows[4]);
    let rows = &rows[..4];
    let indicators = [
        "task_on_time_rate",
        "meeting_attendance_rate",
        "freeze_execution_rate",
        "freeze_response_p90_s",
        "clue_feedback_rate",
        "clue_feedback_p90_s",
        "dissuasion_coverage_rate",
        "loss_recovery_ratio",
        "cards_disposed",
    ];
    for id in indicators {
        assert_eq!(header.iter().filter(|h| *h == id).count(), 1, "column {id}: {header:?}");
    }
    assert_eq!(&header[..5], ["rank", "agency_id", "name", "kind", "score"]);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let bank = rows.iter().find(|r| &r[1] == "icbc-jinjiang").unwrap();
    assert_eq!(&bank[2], "中国工商银行晋江支行");
    let col = header.iter().position(|h| h == "freeze_execution_rate").unwrap();
    assert_eq!(&bank[col], "0.5");
}

#[test]
fn markdown_has_headings_and_well_formed_tables() {
    let fx = Fixture::with_city();
    let file = out(&fx, "r.md");
    report(&fx, "md", &file, &[]).success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# 反诈工作责任考核\n"), "zh-CN by default");
    for heading in [
        "## 概要",
        "## 排名",
        "## 指标热力图",
        "## 各单位逐月趋势",
        "## 附录",
        "## 考核方法",
        "### 记分卡",
        "## 可复现性",
    ] {
        assert!(text.contains(&format!("\n{heading}\n")), "missing {heading}");
    }
    assert_eq!(text.matches("\n#### ").count(), 4, "one scorecard per agency");
    assert!(text.contains("中国工商银行晋江支行"));
    // Every table row has as many cells as its header (no stray pipes from names or texts).
    let lines: Vec<&str> = text.lines().collect();
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with('|') && lines.get(i + 1).is_some_and(|l| l.starts_with("|-") || l.starts_with("|:")) {
            let n = cells(lines[i]);
            let mut j = i + 1;
            while j < lines.len() && lines[j].starts_with('|') {
                assert_eq!(cells(lines[j]), n, "table row {}: {}", j + 1, lines[j]);
                j += 1;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    assert!(text.contains("```\ngovledger report --from 2025-12-31T16:00:00Z"));
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let fx = Fixture::with_city();
    let file = out(&fx, "r.html");
    report(&fx, "html", &file, &[]).success();
    let png = crate::chromium::screenshot_path(&fx.root, "report-zh-CN.png");
    let (dom, log) = crate::chromium::open_in_chromium(&format!("file://{}", file.display()), &png);
    assert!(
        crate::chromium::console_errors(&log).is_empty(),
        "console errors: {:?}",
        crate::chromium::console_errors(&log)
    );
    assert!(dom.contains("class=\"chart ranking\""), "no ranking chart");
    assert!(dom.contains("class=\"chart heatmap\""), "no heat-map");
    assert_eq!(dom.matches("<figure class=\"multiple\">").count(), 4, "a trend chart per agency");
    assert!(dom.contains("class=\"title-page\"") && dom.contains("<h2>考核方法</h2>"), "title page and methodology");
    assert_eq!(dom.matches("class=\"scorecard\"").count(), 4, "one scorecard per agency");
    assert!(dom.contains("中国工商银行晋江支行"));
    assert!(dom.contains("<html lang=\"zh-CN\">") && dom.contains("<h2>排名</h2>") && dom.contains("<h2>记分卡</h2>"));
    assert!(dom.contains("2026年第一季度（北京时间）"), "a Beijing period");
    let png = std::fs::read(&png).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "screenshot of {} bytes", png.len());
    // The English report too (docs/report.png), with its issuer on the title page.
    let english = out(&fx, "en.html");
    report(&fx, "html", &english, &["--lang", "en", "--tz", "UTC", "--issuer", "jj-office"]).success();
    let png = crate::chromium::screenshot_path(&fx.root, "report.png");
    let (dom, log) = crate::chromium::open_in_chromium(&format!("file://{}", english.display()), &png);
    assert!(crate::chromium::console_errors(&log).is_empty(), "{log}");
    assert!(dom.contains("<html lang=\"en\">") && dom.contains("Issued by") && dom.contains("Methodology"));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    // Printed, the pages are A4 (595 × 842 points) as the print stylesheet asks.
    let pdf = crate::chromium::print_to_pdf(&format!("file://{}", file.display()), &out(&fx, "report.pdf"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.starts_with("%PDF"), "not a PDF");
    let media_box = text.split("/MediaBox").nth(1).map(|r| r.chars().take(40).collect::<String>()).unwrap_or_default();
    let numbers: Vec<f64> =
        media_box.trim_start_matches([' ', '[']).split([' ', ']']).take(4).filter_map(|n| n.parse().ok()).collect();
    assert!(
        numbers.len() == 4 && (numbers[2] - 595.0).abs() < 2.0 && (numbers[3] - 842.0).abs() < 2.0,
        "page is not A4: /MediaBox{media_box}"
    );
}

#[test]
fn a_published_report_does_not_verify_against_a_tampered_ledger() {
    let fx = Fixture::with_city();
    let file = out(&fx, "published.json");
    report(&fx, "json", &file, &["--publish", "--as", "jj-office"]).success();
    assert_eq!(fx.run(&["report", "verify", file.to_str().unwrap()]).code, Some(0));
    // Rewrite the loss of the case (seq 5) in the store, leaving its hash as it was.
    let db = rusqlite::Connection::open(fx.data().join("ledger.sqlite")).unwrap();
    let body: String = db.query_row("SELECT body FROM events WHERE seq = 5", [], |r| r.get(0)).unwrap();
    let forged = body.replace("5000000", "5000001");
    assert_ne!(forged, body);
    db.execute("UPDATE events SET body = ?1 WHERE seq = 5", [forged]).unwrap();
    drop(db);
    let run = fx.run(&["report", "verify", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("hash chain is broken at seq 5"), "{}", run.stdout);
}

#[test]
fn a_published_csv_verifies_and_a_changed_one_is_caught() {
    let fx = Fixture::with_city();
    let file = out(&fx, "published.csv");
    report(&fx, "csv", &file, &["--publish", "--as", "jj-office"]).success();
    let ok = fx.run(&["report", "verify", file.to_str().unwrap()]);
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert!(ok.stdout.contains("OK: regenerated from the ledger") && ok.stdout.contains("format csv"), "{}", ok.stdout);
    // One figure changed in a spreadsheet: regenerated from its parameters, it differs.
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen(",0.5,", ",0.9,", 1);
    assert_ne!(changed, text);
    std::fs::write(&file, changed).unwrap();
    let run = fx.run(&["report", "verify", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("NOT PUBLISHED") && run.stdout.contains("MISMATCH"), "{}", run.stdout);
}

#[test]
fn the_issuer_is_named_on_the_title_page_and_must_be_the_publisher() {
    let fx = Fixture::with_city();
    let (head, _) = fx.head();
    let file = out(&fx, "draft.html");
    report(&fx, "html", &file, &["--issuer", "icbc-jinjiang"]).success();
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.contains("中国工商银行晋江支行（icbc-jinjiang）") && html.contains("issuer=icbc-jinjiang"));
    // Published by another agency (an event made by hand), the file's issuer is not its publisher.
    let published = envelope(
        None,
        "AssessmentPublished",
        "jj-office",
        "2026-04-02T09:00:00+08:00",
        json!({"assessment_id": "by-hand", "period_from": "2025-12-31T16:00:00Z", "period_to": "2026-03-31T16:00:00Z",
            "as_of_seq": head, "model_sha256": govledger_assess::Model::default_v1().sha256, "report_sha256": sha(&file)}),
    );
    fx.import(&[published]).success();
    let run = fx.run(&["report", "verify", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("MISMATCH: the report names icbc-jinjiang as its issuer, but jj-office published it"));
    // Mistakes: an issuer that is not registered; an issuer other than the publisher.
    let bad = report(&fx, "html", &out(&fx, "x.html"), &["--issuer", "nobody"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("the issuer \"nobody\" is not an agency registered"), "{}", bad.stderr);
    assert!(!out(&fx, "x.html").exists(), "nothing was written");
    let bad =
        report(&fx, "html", &out(&fx, "x.html"), &["--issuer", "icbc-jinjiang", "--publish", "--as", "jj-office"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("issued by its publisher (jj-office)"), "{}", bad.stderr);
}

/// The pages of a PDF that headless Chromium printed.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

#[test]
fn the_demo_citys_report_prints_its_body_within_six_a4_pages() {
    let fx = Fixture::new();
    fx.run(&["demo", "--until", "2026-12-01T00:00:00Z"]).success();
    let file = out(&fx, "q3.html");
    let args = ["report", "--from", "2026-07-01", "--to", "2026-10-01", "--out", file.to_str().unwrap()];
    fx.run(&args).success();
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">") && html.matches("class=\"scorecard").count() > 30, "the demo city");
    // Everything before the appendix (title page, summary, ranking, heat-map, trends), printed alone.
    let appendix = html.find("<section class=\"appendix\">").expect("the report has an appendix");
    let body = out(&fx, "body.html");
    std::fs::write(&body, format!("{}</body></html>\n", &html[..appendix])).unwrap();
    let body_pages =
        pdf_pages(&crate::chromium::print_to_pdf(&format!("file://{}", body.display()), &out(&fx, "body.pdf")));
    let all_pages =
        pdf_pages(&crate::chromium::print_to_pdf(&format!("file://{}", file.display()), &out(&fx, "all.pdf")));
    assert!((2..=6).contains(&body_pages), "the body takes {body_pages} A4 pages");
    assert!(all_pages > body_pages, "the appendix follows on pages of its own: {all_pages} in all");
}
