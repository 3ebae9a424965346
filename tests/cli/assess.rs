//! `assess` and `scorecard` through the binary on the small city: the JSON
//! document, the table, the plain-language scorecard, the projection
//! checkpoint in the data directory (reused, extended, rebuilt when damaged)
//! and the errors a user can make.

use serde_json::{Value, json};

use crate::support::{Fixture, envelope, event_id};

const PERIOD: [&str; 4] = ["--from", "2026-01-01T00:00:00+08:00", "--to", "2026-04-01T00:00:00+08:00"];

fn assess_json(fx: &Fixture, extra: &[&str]) -> Value {
    let mut args = vec!["assess"];
    args.extend(PERIOD);
    args.extend(extra);
    let run = fx.run(&args).success();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("assess is not JSON ({e}): {}", run.stdout))
}

fn indicator<'a>(doc: &'a Value, agency: &str, id: &str) -> &'a Value {
    let ag = doc["agencies"].as_array().unwrap().iter().find(|a| a["agency_id"] == agency).unwrap();
    ag["indicators"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()
}

#[test]
fn assess_prints_the_document_and_keeps_a_checkpoint() {
    let fx = Fixture::with_city();
    let (head, hash) = fx.head();
    let doc = assess_json(&fx, &[]);
    assert_eq!((doc["as_of_seq"].as_u64(), doc["head_hash"].as_str()), (Some(head), Some(hash.as_str())));
    assert_eq!(doc["period"], json!({"from": "2025-12-31T16:00:00Z", "to": "2026-03-31T16:00:00Z"}));
    assert_eq!(doc["agencies"].as_array().unwrap().len(), 4);
    // FRZ-1 executed after 450.25 s, FRZ-2 rejected after 3,600 s: 1 of 2 executed;
    // p90 of [450, 3,600] at rank 2 → 3,600 s → 100 × (7,200 − 3,600) / 6,600.
    let rate = indicator(&doc, "icbc-jinjiang", "freeze_execution_rate");
    assert_eq!(
        (rate["numerator"].clone(), rate["denominator"].clone(), rate["points"].clone()),
        (json!(1), json!(2), json!(50.0))
    );
    assert_eq!(rate["evidence"], json!([event_id(6), event_id(7), event_id(9)]));
    let p90 = indicator(&doc, "icbc-jinjiang", "freeze_response_p90_s");
    assert_eq!((p90["value"].clone(), p90["points"].clone()), (json!(3600), json!(54.545455)));
    assert!(fx.data().join("projection.ckpt").exists(), "the projection is kept for the next run");

    // A new event: the next run folds it onto the checkpoint.
    let action = envelope(
        Some(event_id(25)),
        "CardBreakingAction",
        "cm-jinjiang",
        "2026-02-01T00:00:00Z",
        json!({"action_id": "CB-2", "bank_cards": 0, "phone_cards": 30, "internet_accounts": 0, "suspects": 1}),
    );
    fx.import(&[action]).success();
    let doc = assess_json(&fx, &[]);
    assert_eq!(doc["as_of_seq"], json!(25));
    assert_eq!(indicator(&doc, "cm-jinjiang", "cards_disposed")["value"], json!(30));
    // As of seq 24 the action does not exist yet.
    let before = assess_json(&fx, &["--as-of", "24"]);
    assert_eq!(indicator(&before, "cm-jinjiang", "cards_disposed")["value"], json!(0));
    assert_eq!(before["head_hash"].as_str(), Some(hash.as_str()));

    // A damaged checkpoint is rebuilt from the log, with the same figures.
    std::fs::write(fx.data().join("projection.ckpt"), b"not a checkpoint").unwrap();
    assert_eq!(assess_json(&fx, &[]), doc);
    assert!(std::fs::read(fx.data().join("projection.ckpt")).unwrap().starts_with(b"govledger-proj-"));
}

#[test]
fn the_table_and_the_scorecard_read_as_sentences_in_the_chosen_language() {
    let fx = Fixture::with_city();
    let run = |extra: &[&str]| fx.run(&[extra, &PERIOD[..]].concat()).success().stdout;
    // zh-CN and Beijing time by default: Chinese headings, kinds and sentences.
    let table = run(&["assess", "--format", "table"]);
    assert!(table.starts_with("考核期间 2026-01-01 00:00:00 +08:00 至 2026-04-01 00:00:00 +08:00"), "{table}");
    assert!(table.lines().nth(1).unwrap().starts_with("名次  代码"), "{table}");
    assert!(table.lines().any(|l| l.contains("icbc-jinjiang") && l.contains("银行") && l.contains("50.0%")), "{table}");
    let card = run(&["scorecard", "icbc-jinjiang"]);
    assert!(card.contains("期内收到的 2 个冻结请求中，1 个已执行（50%）"), "{card}");
    // --lang en --tz UTC: English, times in UTC.
    let table = run(&["assess", "--format", "table", "--lang", "en", "--tz", "UTC"]);
    assert!(table.starts_with("period 2025-12-31 16:00:00 +00:00 to 2026-03-31 16:00:00 +00:00"), "{table}");
    assert!(table.lines().nth(1).unwrap().starts_with("Rank  Id"), "{table}");
    let card = run(&["scorecard", "icbc-jinjiang", "--lang", "en"]);
    assert!(
        card.contains("Freeze execution rate: 1 of 2 freeze requests received in the period were executed (50%)"),
        "{card}"
    );
    // Dates are midnight in --tz, as for `report`: the same table as the +08:00 instants.
    let dates = fx.run(&["assess", "--format", "table", "--from", "2026-01-01", "--to", "2026-04-01"]).success();
    assert_eq!(dates.stdout, run(&["assess", "--format", "table"]));
}

#[test]
fn mistakes_get_a_sentence_and_exit_code_2() {
    let fx = Fixture::with_city();
    let bad_model = fx.file("model.toml", "version = 1\n[[indicator]]\nid = \"speed\"\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["assess", "--from", "yesterday", "--to", "2026-04-01T00:00:00Z"],
            "--from: \"yesterday\" is not an RFC 3339",
        ),
        (vec!["assess", "--from", "2026-01-01", "--to", "2026-04-01", "--tz", "Beijing"], "IANA time zone"),
        (vec!["assess", "--from", "2026-04-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z"], "the period is empty"),
        (
            [&["assess"], &PERIOD[..], &["--as-of", "99"]].concat(),
            "--as-of 99 is above the head of the ledger (seq 24)",
        ),
        ([&["scorecard", "nobody"], &PERIOD[..]].concat(), "agency \"nobody\" is not registered as of seq 24"),
        ([&["assess"], &PERIOD[..], &["--model", bad_model.to_str().unwrap()]].concat(), "missing field `applies_to`"),
    ];
    for (args, message) in cases {
        let run = fx.run(&args).no_panic();
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: expected {message:?} in {}", run.stderr);
    }
}
