//! The operator's side of `serve` (issue 17): an empty ledger is not served
//! but explained (`govledger init` bootstraps it and prints the first
//! coordinator's token); every flag has its `GOVLEDGER_…` variable; logs as
//! JSON lines; process metrics in `/metrics`; tokens with a label, an
//! expiry and a last use.

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

/// Polls `server.log()` until `done(log)`, for at most 20 s; returns the log.
fn wait_for_log(server: &Server, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let log = server.log();
        if done(&log) {
            return log;
        }
        assert!(std::time::Instant::now() < deadline, "the log shows no {what}:\n{log}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line_with_the_request_fields() {
    let fx = crate::support::Fixture::new();
    let server = fx.serve(&["--log-format", "json"]);
    let r = Client::new(&server, None).get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    let log = wait_for_log(&server, "request line", |log| log.contains("\"/healthz\""));
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let listening = lines.iter().find(|l| l["message"] == "listening").expect("the listening line");
    assert_eq!(listening["level"], "INFO", "{listening}");
    assert!(listening["address"].as_str().is_some_and(|a| server.base.ends_with(a)), "{listening}");
    let request = lines.iter().find(|l| l["message"] == "request" && l["route"] == "/healthz").expect("a request line");
    assert_eq!(request["method"], "GET", "{request}");
    assert_eq!(request["status"], 200, "{request}");
    assert!(request["latency_ms"].is_f64(), "{request}");
    assert!(request["target"].as_str().is_some_and(|t| t.starts_with("govledger_api")), "{request}");
    let at = request["timestamp"].as_str().expect("a timestamp");
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    assert!(server.stop().0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_flags_come_from_govledger_variables_and_flags_win() {
    let fx = crate::support::Fixture::new();
    let token = fx.token("police", "agency");
    let env = [("GOVLEDGER_MAX_BATCH_EVENTS", "2"), ("GOVLEDGER_MAX_BODY_BYTES", "1000000")];
    let server = Server::start_with_env(&fx.data(), fx.root.path(), &["--max-body-bytes", "600"], &env);
    let client = Client::new(&server, Some(&token));
    let three: Vec<_> = (0..3).map(|i| crate::support::publicity("police", &format!("P{i}"), None)).collect();
    let r = client.append_batch(&three).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, "batch.too_large"), "{}", r.text);
    assert!(r.text.contains("limit is 2"), "{}", r.text);
    // The flag wins over its variable: 600 bytes, not 1,000,000.
    let big = crate::support::envelope(
        None,
        "PublicityDelivered",
        "police",
        "2024-02-01T00:00:00Z",
        serde_json::json!({"activity_id": "P-BIG", "audience": "x".repeat(700), "reach": 1}),
    );
    let r = client.append(&big).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, "request.too_large"), "{}", r.text);
    let r = client.append_batch(&three[..2]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(server.stop().0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_include_the_server_process() {
    let fx = crate::support::Fixture::new();
    let token = fx.token("office", "coordinator");
    let server = fx.serve(&[]);
    let r = Client::new(&server, Some(&token)).get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for name in
        ["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds"]
    {
        let line = r
            .text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}:\n{}", r.text));
        let value: f64 = line[name.len() + 1..].trim().parse().unwrap();
        // CPU time counts in clock ticks: a quiet server may not have used one yet.
        assert!(value > 0.0 || name == "process_cpu_seconds_total" && value == 0.0, "{line}");
    }
    assert!(server.stop().0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_has_a_label_an_expiry_and_a_last_use_and_expired_is_its_own_401() {
    let fx = crate::support::Fixture::new();
    let server = fx.serve(&[]);
    let data = fx.data();
    let issue = |extra: &[&str]| {
        let mut args = vec!["token", "issue", "--agency", "police", "--role", "agency"];
        args.extend(extra);
        govledger(&data, &args)
    };
    // Expiries that cannot be: refused before anything is stored.
    let (code, _, err) = issue(&["--expires-at", "2020-01-01T00:00:00Z"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not in the future"), "{err}");
    let (code, _, err) = issue(&["--expires-in", "soon"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = issue(&["--expires-in", "1d", "--expires-at", "2030-01-01T00:00:00Z"]);
    assert_eq!(code, Some(2), "{err}");

    let (code, token, err) = issue(&["--label", "nightly upload", "--expires-in", "4s"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("expiring at"), "{err}");
    let client = Client::new(&server, Some(token.trim()));
    assert_eq!(client.get("/v1/verify").await.status, StatusCode::OK, "usable until it expires");
    let listed = |id: Option<&str>| {
        let (code, list, err) = govledger(&data, &["token", "list", "--json"]);
        assert_eq!(code, Some(0), "{err}");
        let entries: Vec<serde_json::Value> = list.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        entries.into_iter().find(|e| id.is_none_or(|id| e["id"] == id) && e["label"] == "nightly upload").unwrap()
    };
    let entry = listed(None);
    let id = entry["id"].as_str().unwrap().to_owned();
    assert!(entry["expires_at"].is_string() && entry["last_used_at"].is_string(), "{entry}");
    assert_eq!(entry["status"], "active", "{entry}");
    let (_, table, _) = govledger(&data, &["token", "list"]);
    assert!(table.contains("nightly upload") && table.contains("last_used_at"), "{table}");

    // Once the expiry passes: 401 with its own code (polled, with a deadline).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let refused = loop {
        let r = client.get("/v1/verify").await;
        if r.status != StatusCode::OK {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "the token did not expire");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "auth.token_expired"), "{}", refused.text);
    assert!(refused.text.contains(&id), "{}", refused.text);
    let r = client.graphql("{ head { seq } }", serde_json::json!({})).await;
    assert_eq!(r.gql_code(), "auth.token_expired", "{}", r.text);
    assert_eq!(listed(Some(&id))["status"], "expired");
    assert!(server.stop().0.success());
}
