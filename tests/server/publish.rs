//! Publishing a report while `serve` holds the data directory (issue 17):
//! over HTTP (`POST /v1/publications`, GraphQL `publishReport`) and from the
//! CLI (`report --publish --server URL`), the file written only after the publication is stored,
//! the same bytes `report verify` regenerates; refused for tokens that are
//! not evaluators and on a chain that does not verify, with nothing stored
//! and no file written.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{BIN, CITY_EVENTS, Client, Fixture, Server, govledger};
use crate::tlog_support::{database, stored_body, wait_for_health};

const FROM: &str = "2024-01-01T00:00:00+08:00";
const TO: &str = "2024-04-01T00:00:00+08:00";

/// `govledger report … --publish` through `server`, with `env` set (and
/// GOVLEDGER_SERVER / GOVLEDGER_TOKEN cleared unless given); returns (exit code, stdout, stderr).
fn publish_cli(data: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(data)
        .args(["report", "--from", FROM, "--to", TO, "--out", out.to_str().unwrap(), "--publish"])
        .args(extra)
        .env_remove("GOVLEDGER_SERVER")
        .env_remove("GOVLEDGER_TOKEN")
        .env_remove("GOVLEDGER_TOKEN_FILE");
    for (k, v) in env {
        command.env(k, v);
    }
    let run = command.output().unwrap();
    (
        run.status.code(),
        String::from_utf8_lossy(&run.stdout).into_owned(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `AssessmentPublished` events the server holds, in order.
async fn publications(client: &Client) -> Vec<Value> {
    client.all_events().await.into_iter().filter(|e| e["type"] == "AssessmentPublished").collect()
}

async fn post(client: &Client, body: Value) -> crate::support::Reply {
    client.post_raw("/v1/publications", "application/json", body.to_string()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluator_publishes_while_the_server_runs_over_http_and_from_the_cli() {
    let fx = Fixture::new();
    let token = fx.token("eval-bureau", "evaluator");
    let server = fx.serve(&[]);
    let client = Client::new(&server, Some(&token));

    // Over HTTP: the event is stored and the file comes back with its hash.
    let r = post(&client, json!({"from": FROM, "to": TO, "format": "md"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let content = r.body["content"].as_str().unwrap();
    assert!(content.contains("反诈工作责任考核"), "in the server's language by default: {content}");
    // The publishing evaluator's agency issues it, named on its title page and in its parameters.
    assert!(content.contains("| 发布单位 |") && content.contains("（eval-bureau） |"), "{content}");
    assert!(content.contains(" issuer=eval-bureau"), "{content}");
    assert_eq!(r.body["report_sha256"].as_str(), Some(sha256(content.as_bytes()).as_str()));
    assert_eq!(r.body["event"]["type"], "AssessmentPublished");
    assert_eq!(r.body["event"]["actor"], "eval-bureau");
    assert_eq!(r.body["event"]["seq"].as_u64(), Some(CITY_EVENTS + 1));
    assert_eq!(r.body["event"]["data"]["as_of_seq"].as_u64(), Some(CITY_EVENTS));
    assert_eq!(r.body["event"]["data"]["report_sha256"], r.body["report_sha256"]);
    let stored = publications(&client).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["data"]["report_sha256"], r.body["report_sha256"]);
    // The very same report again is the ledger's refusal, not a second publication.
    let again = post(&client, json!({"from": FROM, "to": TO, "format": "md", "as_of": CITY_EVENTS})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.code(), "assessment.already_exists");

    // From the CLI, while the server holds the data directory: --token-file…
    let token_file = fx.root.path().join("evaluator.token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let html = fx.root.path().join("published.html");
    let (code, stdout, stderr) =
        publish_cli(&fx.data(), &html, &["--server", &server.base, "--token-file", token_file.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("published as eval-bureau through"), "{stdout}");
    let file_sha = sha256(&std::fs::read(&html).unwrap());
    let stored = publications(&client).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1]["data"]["report_sha256"].as_str(), Some(file_sha.as_str()), "the file is the one published");
    // `report verify` (reading the data directory beside the server) regenerates it byte for byte.
    let (code, stdout, _) = govledger(&fx.data(), &["report", "verify", html.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("was published by eval-bureau") && stdout.contains("OK: regenerated"), "{stdout}");

    // The language and time zone asked for travel to the server.
    let english = fx.root.path().join("published-en.md");
    let (code, stdout, stderr) = publish_cli(
        &fx.data(),
        &english,
        &["--format", "md", "--lang", "en", "--tz", "UTC", "--server", &server.base],
        &[("GOVLEDGER_TOKEN", &token)],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let text = std::fs::read_to_string(&english).unwrap();
    assert!(text.contains("Anti-fraud accountability assessment") && !text.contains("反诈工作责任考核"), "{text}");
    let (code, stdout, _) = govledger(&fx.data(), &["report", "verify", english.to_str().unwrap()]);
    assert_eq!(code, Some(0), "an English, UTC report published through the server verifies: {stdout}");
    // …or the environment (GOVLEDGER_SERVER, GOVLEDGER_TOKEN), here as CSV.
    let csv = fx.root.path().join("published.csv");
    let (code, stdout, stderr) = publish_cli(
        &fx.data(),
        &csv,
        &["--format", "csv"],
        &[("GOVLEDGER_SERVER", &server.base), ("GOVLEDGER_TOKEN", &token)],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let stored = publications(&client).await;
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[3]["data"]["report_sha256"].as_str(), Some(sha256(&std::fs::read(&csv).unwrap()).as_str()));

    // Publishing on the data directory itself is what fails while the server runs: nothing is written.
    let local = fx.root.path().join("local.md");
    let (code, _, stderr) = publish_cli(&fx.data(), &local, &["--format", "md", "--as", "eval-bureau"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--server URL"), "the refusal says how to publish instead: {stderr}");
    assert!(!local.exists(), "no file may be written when nothing was published");
    assert!(server.stop().0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_evaluator_token_publishes_and_a_refusal_writes_no_file() {
    let fx = Fixture::new();
    let server = fx.serve(&[]);
    for (agency, role, code) in [
        ("office", "coordinator", "auth.role_forbidden"),
        ("bank-1", "agency", "auth.role_forbidden"),
        ("regulator", "auditor", "auth.read_only"),
    ] {
        let token = fx.token(agency, role);
        let client = Client::new(&server, Some(&token));
        let r = post(&client, json!({"from": FROM, "to": TO})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}: {}", r.text);
        assert_eq!(r.code(), code, "{role}: {}", r.text);

        let out = fx.root.path().join(format!("{role}.html"));
        let (exit, _, stderr) =
            publish_cli(&fx.data(), &out, &["--server", &server.base], &[("GOVLEDGER_TOKEN", &token)]);
        assert_eq!(exit, Some(1), "a refusal exits 1: {stderr}");
        assert!(stderr.contains(code) && stderr.contains("nothing was written"), "{stderr}");
        assert!(!out.exists(), "{role}: a refused publication writes no file");
    }
    // Bad requests get their field and code, and store nothing either.
    let token = fx.token("eval-bureau", "evaluator");
    let client = Client::new(&server, Some(&token));
    for (body, code, field) in [
        (json!({"from": "yesterday", "to": TO}), "time.invalid", Some("from")),
        (json!({"from": FROM, "to": TO, "format": "pdf"}), "data.invalid_value", Some("format")),
        (json!({"from": FROM, "to": TO, "lang": "fr"}), "data.invalid_value", Some("lang")),
        (json!({"from": FROM, "to": TO, "tz": "Mars/Olympus"}), "data.invalid_value", Some("tz")),
        (json!({"from": FROM, "to": TO, "colour": "red"}), "data.unknown_field", None),
        (json!({"from": FROM}), "data.missing_field", None),
        (json!({"from": FROM, "to": 7}), "data.invalid_type", None),
    ] {
        let r = post(&client, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(r.code(), code, "{}", r.text);
        assert_eq!(r.body["error"]["field"].as_str(), field, "{}", r.text);
    }
    let r = client.post_raw("/v1/publications", "application/json", "{").await;
    assert_eq!(r.code(), "json.malformed", "{}", r.text);
    let anonymous = Client::new(&server, None);
    assert_eq!(post(&anonymous, json!({"from": FROM, "to": TO})).await.code(), "auth.missing_token");
    assert!(publications(&client).await.is_empty(), "nothing was published");
    assert!(server.stop().0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_that_does_not_verify_is_not_published_from() {
    let fx = Fixture::new();
    let token = fx.token("eval-bureau", "evaluator");
    // Tampered while the server is down: one digit of seq 9, not rehashed.
    let db = database(&fx.data());
    let body = stored_body(&db, 9);
    let altered = body.replacen("\"loss_minor\":1000000", "\"loss_minor\":1000001", 1);
    assert_ne!(altered, body);
    assert_eq!(db.execute("UPDATE events SET body = ?1 WHERE seq = 9", [&altered]).unwrap(), 1);
    drop(db);

    let server: Server = fx.serve(&[]);
    let client = Client::new(&server, Some(&token));
    wait_for_health(&client, "broken", |s, _| s == StatusCode::SERVICE_UNAVAILABLE).await;
    let r = post(&client, json!({"from": FROM, "to": TO})).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(r.code(), "ledger.chain_broken", "{}", r.text);
    assert!(r.text.contains("seq 9"), "{}", r.text);

    let out = fx.root.path().join("report.html");
    let (code, _, stderr) = publish_cli(&fx.data(), &out, &["--server", &server.base], &[("GOVLEDGER_TOKEN", &token)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("ledger.chain_broken"), "{stderr}");
    assert!(!out.exists(), "no file from a chain that does not verify");
    assert_eq!(client.head_seq().await, CITY_EVENTS, "nothing was appended");
    assert!(server.stop().0.success());
}

const PUBLISH_REPORT: &str = "mutation($from: String!, $to: String!) {
    published: publishReport(from: $from, to: $to, format: MD) { event { seq type actor } reportSha256 format content }
}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_mutation_publishes_the_same_way() {
    let fx = Fixture::new();
    let server = fx.serve(&[]);
    let coordinator = Client::new(&server, Some(&fx.token("office", "coordinator")));
    let r = coordinator.graphql(PUBLISH_REPORT, json!({"from": FROM, "to": TO})).await;
    assert_eq!(r.gql_code(), "auth.role_forbidden", "{}", r.text);
    let r = coordinator.graphql(PUBLISH_REPORT, json!({"from": "2024-13-01", "to": TO})).await;
    assert_eq!(r.gql_code(), "auth.role_forbidden", "the role is checked before anything else: {}", r.text);

    let evaluator = Client::new(&server, Some(&fx.token("eval-bureau", "evaluator")));
    let r = evaluator.graphql(PUBLISH_REPORT, json!({"from": "2024-13-01", "to": TO})).await;
    assert_eq!(r.gql_code(), "time.invalid", "{}", r.text);
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "from", "{}", r.text);
    let r = evaluator.graphql(PUBLISH_REPORT, json!({"from": FROM, "to": TO})).await;
    assert!(r.body["errors"].is_null(), "{}", r.text);
    let published = &r.body["data"]["published"];
    assert_eq!(published["event"]["type"], "AssessmentPublished");
    assert_eq!(published["event"]["seq"].as_u64(), Some(CITY_EVENTS + 1));
    assert_eq!(published["format"], "MD");
    let content = published["content"].as_str().unwrap();
    assert_eq!(published["reportSha256"].as_str(), Some(sha256(content.as_bytes()).as_str()));
    let stored = publications(&evaluator).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["data"]["report_sha256"], published["reportSha256"]);
    // The REST route gives the very same bytes for the same position (so it is the same publication).
    let again = post(&evaluator, json!({"from": FROM, "to": TO, "format": "md", "as_of": CITY_EVENTS})).await;
    assert_eq!(again.code(), "assessment.already_exists", "{}", again.text);
    assert!(server.stop().0.success());
}
