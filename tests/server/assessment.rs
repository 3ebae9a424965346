//! Assessment queries over GraphQL (SPEC 3.4, SPEC 4): `assessment` returns
//! the same document as `govledger assess --format json` (camelCase names,
//! enum values upper-case), at the head and as of earlier seqs; `scorecard`
//! returns one agency's entry and the same explanation as `govledger
//! scorecard`; an append is reflected by the very next query; wrong periods
//! and positions get their stable codes.

use serde_json::{Map, Value, json};

use crate::support::*;

const FROM: &str = "2026-01-01T00:00:00+08:00";
const TO: &str = "2026-07-01T00:00:00+08:00";

const ASSESSMENT: &str = "query($from: String!, $to: String!, $asOf: Seq) {
  assessment(from: $from, to: $to, asOf: $asOf) {
    period { from to } asOfSeq headHash modelSha256
    agencies { agencyId name kind rank score grade weighted deductions
      penalties { eventId kind occurredAt deduction }
      indicators { id value points weight numerator denominator sampleSize evidence } }
  }
}";

const SCORECARD: &str = "query($agency: String!, $from: String!, $to: String!, $asOf: Seq) {
  scorecard(agency: $agency, from: $from, to: $to, asOf: $asOf) {
    period { from to } asOfSeq headHash modelSha256 rankedAgencies explanation
    agency { agencyId name kind rank score grade weighted deductions
      penalties { eventId kind occurredAt deduction }
      indicators { id value points weight numerator denominator sampleSize evidence } }
  }
}";

/// `someName` → `some_name`; enum values (`PUBLIC_SECURITY`) → `public_security`.
fn snake(v: &Value, key: Option<&str>) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let mut s = String::new();
                    for c in k.chars() {
                        if c.is_ascii_uppercase() {
                            s.push('_');
                        }
                        s.push(c.to_ascii_lowercase());
                    }
                    let nested = snake(v, Some(&s));
                    (s, nested)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| snake(x, key)).collect()),
        Value::String(s) if key == Some("kind") => Value::String(s.to_lowercase()),
        other => other.clone(),
    }
}

/// A data directory holding a small demo city (~2,400 events over 2025-11 … 2026-10).
fn demo_city() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let (code, _, stderr) = govledger(&root.path().join("data"), &["demo", "--scale", "0.05"]);
    assert_eq!(code, Some(0), "demo failed: {stderr}");
    root
}

fn cli_assess(data: &std::path::Path, as_of: Option<u64>) -> Value {
    let mut args = vec!["assess", "--from", FROM, "--to", TO, "--format", "json"];
    let as_of = as_of.map(|n| n.to_string());
    if let Some(n) = &as_of {
        args.extend(["--as-of", n]);
    }
    let (code, stdout, stderr) = govledger(data, &args);
    assert_eq!(code, Some(0), "assess failed: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[tokio::test]
async fn assessment_and_scorecard_equal_the_command_line() {
    let root = demo_city();
    let data = root.path().join("data");
    let head_doc = cli_assess(&data, None);
    let head = head_doc["as_of_seq"].as_u64().unwrap();
    let earlier_doc = cli_assess(&data, Some(head / 2));
    let agency = head_doc["agencies"][0]["agency_id"].as_str().unwrap().to_owned();
    let (code, card_text, stderr) = govledger(&data, &["scorecard", &agency, "--from", FROM, "--to", TO]);
    assert_eq!(code, Some(0), "scorecard failed: {stderr}");
    assert!(head_doc["agencies"].as_array().unwrap().len() > 10, "too few agencies: {head_doc}");

    let token = issue_token(&data, &agency, "auditor");
    let server = Server::start(&data, root.path(), &[]);
    let client = Client::new(&server, Some(&token));

    for (as_of, expected) in [(None, &head_doc), (Some(head / 2), &earlier_doc)] {
        let r = client.graphql(ASSESSMENT, json!({"from": FROM, "to": TO, "asOf": as_of})).await;
        assert!(r.body["errors"].is_null(), "{}", r.text);
        let got = snake(&r.body["data"]["assessment"], None);
        // Every figure, rank, indicator value, numerator, denominator and evidence id.
        assert_eq!(&got, expected, "as of {as_of:?}");
    }

    let r = client.graphql(SCORECARD, json!({"agency": agency, "from": FROM, "to": TO})).await;
    assert!(r.body["errors"].is_null(), "{}", r.text);
    let card = &r.body["data"]["scorecard"];
    assert_eq!(snake(&card["agency"], None), head_doc["agencies"][0]);
    assert_eq!(card["asOfSeq"], json!(head));
    assert_eq!(card["headHash"], head_doc["head_hash"]);
    let ranked = head_doc["agencies"].as_array().unwrap().iter().filter(|a| !a["rank"].is_null()).count();
    assert_eq!(card["rankedAgencies"], json!(ranked));
    let lines: Vec<&str> = card_text.lines().collect();
    assert_eq!(card["explanation"], json!(lines));
}

#[tokio::test]
async fn an_append_is_reflected_by_the_very_next_assessment() {
    let fx = Fixture::new();
    let bank = fx.token("bank-1", "agency");
    let auditor = fx.token("regulator", "auditor");
    let server = fx.serve(&[]);
    let writer = Client::new(&server, Some(&bank));
    let reader = Client::new(&server, Some(&auditor));
    let q = "query($agency: String!) { scorecard(agency: $agency, from: \"2024-01-01T00:00:00Z\",
        to: \"2025-01-01T00:00:00Z\") { asOfSeq agency { indicators { id value sampleSize } } } }";
    let mut disposed = 0u64;
    for k in 0..12u64 {
        let cards = k + 1;
        let event = envelope(
            None,
            "CardBreakingAction",
            "bank-1",
            "2024-03-01T00:00:00Z",
            json!({"action_id": format!("CB-{k}"), "bank_cards": cards, "phone_cards": 0,
                   "internet_accounts": 0, "suspects": 1}),
        );
        // Alternate HTTP and GraphQL writes; read right after the acknowledgement.
        let r = if k % 2 == 0 { writer.append(&event).await } else { writer.append_gql(&event).await };
        assert!(r.status.is_success() && r.body["errors"].is_null(), "{}", r.text);
        disposed += cards;
        let r = reader.graphql(q, json!({"agency": "bank-1"})).await;
        assert!(r.body["errors"].is_null(), "{}", r.text);
        let card = &r.body["data"]["scorecard"];
        assert_eq!(card["asOfSeq"], json!(CITY_EVENTS + k + 1), "{}", r.text);
        let indicators = card["agency"]["indicators"].as_array().unwrap();
        let cards_disposed = indicators.iter().find(|i| i["id"] == "cards_disposed").expect("no cards_disposed");
        assert_eq!(cards_disposed["sampleSize"], json!(k + 1), "{}", r.text);
        assert!(cards_disposed["value"].as_u64().unwrap() >= disposed, "{}", r.text);
    }
}

#[tokio::test]
async fn wrong_periods_and_positions_get_their_codes() {
    let fx = Fixture::new();
    let auditor = fx.token("regulator", "auditor");
    let server = fx.serve(&[]);
    let client = Client::new(&server, Some(&auditor));
    let q =
        "query($from: String!, $to: String!, $asOf: Seq) { assessment(from: $from, to: $to, asOf: $asOf) { asOfSeq } }";
    let ok = ("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z");
    let cases = [
        ("yesterday", ok.1, None, "time.invalid", Some("from")),
        (ok.0, "2025-01-01", None, "time.invalid", Some("to")),
        (ok.0, ok.1, Some(CITY_EVENTS + 1), "assessment.as_of_beyond_head", Some("asOf")),
        (ok.0, ok.1, Some(0), "assessment.as_of_beyond_head", Some("asOf")),
        (ok.1, ok.0, None, "assessment.period_empty", Some("to")),
    ];
    for (from, to, as_of, code, field) in cases {
        let r = client.graphql(q, json!({"from": from, "to": to, "asOf": as_of})).await;
        assert_eq!(r.gql_code(), code, "{from} {to} {as_of:?}: {}", r.text);
        assert_eq!(r.body["errors"][0]["extensions"]["field"].as_str(), field, "{}", r.text);
        assert!(r.body["data"].is_null(), "{}", r.text);
    }
    let r = client.graphql(q, json!({"from": ok.0, "to": ok.1, "asOf": CITY_EVENTS})).await;
    assert_eq!(r.body["data"]["assessment"]["asOfSeq"], json!(CITY_EVENTS), "{}", r.text);

    let card =
        "{ scorecard(agency: \"nobody\", from: \"2024-01-01T00:00:00Z\", to: \"2025-01-01T00:00:00Z\") { asOfSeq } }";
    let r = client.graphql(card, json!({})).await;
    assert_eq!(r.gql_code(), "request.not_found", "{}", r.text);
    let anonymous = Client::new(&server, None);
    let r = anonymous.graphql(q, json!({"from": ok.0, "to": ok.1})).await;
    assert_eq!(r.status.as_u16(), 401, "{}", r.text);
}

/// `serve --model FILE` answers with that model, as `assess --model FILE`
/// does; a model that does not load stops the start with its reason.
#[tokio::test]
async fn serve_assesses_with_the_model_it_is_given() {
    let root = demo_city();
    let data = root.path().join("data");
    let default = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/model-v1.toml")).unwrap();
    let custom = default.replacen("weight = 3", "weight = 7", 1);
    assert_ne!(custom, default);
    let model_path = root.path().join("custom-model.toml");
    std::fs::write(&model_path, &custom).unwrap();
    let model = model_path.to_str().unwrap();

    let (code, stdout, stderr) =
        govledger(&data, &["assess", "--from", FROM, "--to", TO, "--format", "json", "--model", model]);
    assert_eq!(code, Some(0), "assess failed: {stderr}");
    let expected: Value = serde_json::from_str(&stdout).unwrap();
    let default_doc = cli_assess(&data, None);
    assert_ne!(expected["model_sha256"], default_doc["model_sha256"]);
    assert_ne!(expected["agencies"], default_doc["agencies"], "the weight changes some score");

    let agency = expected["agencies"][0]["agency_id"].as_str().unwrap().to_owned();
    let token = issue_token(&data, &agency, "auditor");
    let server = Server::start(&data, root.path(), &["--model", model]);
    let r = Client::new(&server, Some(&token)).graphql(ASSESSMENT, json!({"from": FROM, "to": TO})).await;
    assert!(r.body["errors"].is_null(), "{}", r.text);
    assert_eq!(snake(&r.body["data"]["assessment"], None), expected);
    let (status, _) = server.stop();
    assert!(status.success(), "exit {status:?}");

    let bad_path = root.path().join("bad-model.toml");
    std::fs::write(&bad_path, custom.replacen("weight = 7", "weight = -1", 1)).unwrap();
    let (code, _, stderr) =
        govledger(&data, &["serve", "--listen", "127.0.0.1:0", "--model", bad_path.to_str().unwrap()]);
    // Exit 2, like every command's usage and input errors.
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("bad-model.toml") && stderr.contains("weight must be above 0"), "{stderr}");
}
