//! The operator's side of `serve` (issue 17): an empty ledger is not served
//! but explained (`govledger init` bootstraps it and prints the first
//! coordinator's token); every flag has its `GOVLEDGER_…` variable; logs as
//! JSON lines; process metrics in `/metrics`.

use reqwest::StatusCode;

use crate::support::{Client, Server, govledger};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_ledger_is_not_served_but_explained_and_init_bootstraps_it() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (code, stdout, stderr) = govledger(&data, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("is empty") && stderr.contains("init --agency ID --name NAME"), "{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(!data.join("ledger.sqlite").exists(), "refusing to serve creates no ledger");

    // A bad bootstrap stores nothing.
    let (code, _, stderr) =
        govledger(&data, &["init", "--agency", "office", "--name", "市反诈中心", "--kind", "castle"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("data.invalid_value") && stderr.contains("nothing was stored"), "{stderr}");

    let (code, token, stderr) = govledger(&data, &["init", "--agency", "office", "--name", "市反诈中心"]);
    assert_eq!(code, Some(0), "{stderr}");
    let token = token.trim().to_owned();
    assert!(token.starts_with("glt_"), "the token alone on stdout: {token:?}");
    assert!(stderr.contains("first coordinator"), "{stderr}");
    let (code, _, stderr) = govledger(&data, &["init", "--agency", "other", "--name", "另一个"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("already holds a ledger"), "{stderr}");

    // Now it serves, and the printed token is a coordinator's.
    let server = Server::start(&data, root.path(), &[]);
    let client = Client::new(&server, Some(&token));
    let events = client.all_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "AgencyRegistered");
    assert_eq!(events[0]["actor"], "office");
    assert_eq!(events[0]["data"]["roles"], serde_json::json!(["coordinator"]));
    let r = client
        .append(&crate::support::envelope(
            None,
            "AgencyRegistered",
            "office",
            "2024-01-01T00:00:00Z",
            serde_json::json!({"agency_id": "bank-a", "name": "A 银行", "kind": "bank"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(server.stop().0.success());
}
