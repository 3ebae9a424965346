//! SPEC 4 v1.2's read scope over real HTTP: an agency token reads the
//! events and entities of which its agency is a party, and nothing of
//! another bank's freeze (its `account_ref`, its events) through any
//! interface — REST events, GraphQL `events`/`event`/`eventAt`, the
//! `freezes` listing, the `events` subscription, receipts and the dashboard;
//! the police that requested a freeze reads the bank's answer; coordinator
//! and auditor tokens read everything. And `/metrics`: coordinator, auditor
//! or the configured scrape token only.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::support::*;
use crate::tlog_support::wait_for_size;

/// Bound on every wait for a subscription message; a failure, never a synchronisation.
const WAIT: Duration = Duration::from_secs(30);

/// Every event an agency's GraphQL `events` page returns (one page holds the whole small log).
async fn gql_events(client: &Client) -> Value {
    let r = client
        .graphql("{ events(first: 1000) { scannedThrough edges { node { seq id type data } } } }", json!({}))
        .await;
    assert_eq!(r.body["errors"], Value::Null, "{}", r.text);
    r.body["data"]["events"].clone()
}

async fn event_by_id(client: &Client, id: &str) -> Value {
    let r = client.graphql("query($id: String!) { event(id: $id) { seq data } }", json!({"id": id})).await;
    assert_eq!(r.body["errors"], Value::Null, "{}", r.text);
    r.body["data"]["event"].clone()
}

async fn event_at(client: &Client, seq: u64) -> Value {
    let r = client.graphql("query($seq: Seq!) { eventAt(seq: $seq) { id data } }", json!({"seq": seq})).await;
    assert_eq!(r.body["errors"], Value::Null, "{}", r.text);
    r.body["data"]["eventAt"].clone()
}

async fn freezes(client: &Client) -> Vec<String> {
    let r = client.graphql("{ freezes { edges { node { entityId data } } } }", json!({})).await;
    assert_eq!(r.body["errors"], Value::Null, "{}", r.text);
    r.body["data"]["freezes"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["entityId"].as_str().unwrap().to_owned())
        .collect()
}

/// What an agency token's subscription delivers from seq 0 up to its own marker event.
async fn subscribed(server: &Server, token: &str, marker: &Value) -> Vec<Value> {
    let mut request = server.url("/graphql").replace("http://", "ws://").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |m: Value| Message::Text(m.to_string().into());
    socket.send(send(json!({"type": "connection_init", "payload": {"token": token}}))).await.unwrap();
    socket
        .send(send(json!({"id": "1", "type": "subscribe",
            "payload": {"query": "subscription { events(after: 0) { seq id type data } }"}})))
        .await
        .unwrap();
    let client = Client::new(server, Some(token));
    let mut seen = Vec::new();
    let mut appended = false;
    loop {
        let message = tokio::time::timeout(WAIT, socket.next()).await.expect("no message within the bound");
        let Some(Ok(Message::Text(text))) = message else { continue };
        let body: Value = serde_json::from_str(&text).unwrap();
        if body["type"] == "connection_ack" && !appended {
            // Appended after subscribing: the stream ends for this test when it arrives.
            assert_eq!(client.append(marker).await.status, StatusCode::CREATED);
            appended = true;
            continue;
        }
        if body["type"] != "next" {
            continue;
        }
        let event = body["payload"]["data"]["events"].clone();
        let done = event["data"]["activity_id"] == marker["data"]["activity_id"];
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_reads_its_own_freezes_and_nothing_of_another_banks() {
    let fx = Fixture::new();
    let (bank0, bank1, police) =
        (fx.token("bank-0", "agency"), fx.token("bank-1", "agency"), fx.token("police", "agency"));
    let (auditor, coordinator) = (fx.token("regulator", "auditor"), fx.token("office", "coordinator"));
    let server = fx.serve(&["--checkpoint-interval-ms", "100"]);
    let (a, b, p) =
        (Client::new(&server, Some(&bank0)), Client::new(&server, Some(&bank1)), Client::new(&server, Some(&police)));
    let (au, co) = (Client::new(&server, Some(&auditor)), Client::new(&server, Some(&coordinator)));

    // Bank B (bank-1) gets a freeze of its own and executes it; bank A (bank-0) executes the city's.
    assert_eq!(p.append(&freeze_request("F-B", "bank-1", None)).await.status, StatusCode::CREATED);
    let b_exec = b.append(&freeze_answer("F-B", "bank-1", true, None)).await;
    assert_eq!(b_exec.status, StatusCode::CREATED, "{}", b_exec.text);
    let (b_id, b_seq) = (b_exec.body["id"].as_str().unwrap().to_owned(), b_exec.body["seq"].as_u64().unwrap());
    let a_exec = a.append(&freeze_answer("F-CITY", "bank-0", true, None)).await;
    assert_eq!(a_exec.status, StatusCode::CREATED, "{}", a_exec.text);
    let (a_id, a_seq) = (a_exec.body["id"].as_str().unwrap().to_owned(), a_exec.body["seq"].as_u64().unwrap());
    let leaks = |text: &str| text.contains("acct:F-B") || text.contains("F-B\"") || text.contains(&b_id);

    // REST: bank A's page holds its own freeze and answer, nothing of B's; the page says how far it scanned.
    let rest = a.all_events().await;
    let text = serde_json::to_string(&rest).unwrap();
    assert!(!leaks(&text), "bank-0 read bank-1's freeze over REST: {text}");
    assert!(text.contains("acct:F-CITY") && text.contains(&a_id), "bank-0 reads its own freeze");
    let first = a.get("/v1/events?after=0&limit=1").await;
    assert_eq!(first.body["events"].as_array().unwrap().len(), 1);
    assert_eq!(first.body["scanned_through"], first.body["events"][0]["seq"]);
    let tail = a.get(&format!("/v1/events?after={a_seq}&limit=10")).await;
    assert_eq!(tail.body["scanned_through"].as_u64(), tail.body["head"]["seq"].as_u64());
    // The auditor reads all of it, and the police reads the bank's answer to its request.
    assert!(leaks(&serde_json::to_string(&au.all_events().await).unwrap()), "the auditor reads everything");
    assert!(serde_json::to_string(&p.all_events().await).unwrap().contains(&b_id), "the requester reads B's answer");

    // GraphQL events, event and eventAt.
    let page = gql_events(&a).await;
    assert!(!leaks(&page.to_string()) && page.to_string().contains(&a_id), "{page}");
    assert_eq!(event_by_id(&a, &b_id).await, Value::Null, "another bank's event is absent");
    assert_eq!(event_at(&a, b_seq).await, Value::Null, "another bank's seq is absent");
    assert_eq!(event_by_id(&a, &a_id).await["seq"].as_u64(), Some(a_seq));
    assert_eq!(event_at(&a, a_seq).await["id"].as_str(), Some(a_id.as_str()));
    assert_eq!(event_by_id(&p, &b_id).await["seq"].as_u64(), Some(b_seq), "the police reads B's FreezeExecuted");
    assert_eq!(event_at(&co, b_seq).await["id"].as_str(), Some(b_id.as_str()), "the coordinator reads everything");

    // Entity listings.
    assert_eq!(freezes(&a).await, ["F-CITY"]);
    assert_eq!(freezes(&b).await, ["F-B"]);
    assert_eq!(freezes(&p).await, ["F-CITY", "F-B"]);
    assert_eq!(freezes(&au).await, ["F-CITY", "F-B"]);

    // Receipts, one by one and in bulk, once a checkpoint covers the head.
    let head = au.head_seq().await;
    wait_for_size(&au, head).await;
    let r = a.get(&format!("/v1/receipts/{b_id}")).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "request.not_found"));
    assert_eq!(a.get(&format!("/v1/receipts/{a_id}")).await.status, StatusCode::OK);
    assert_eq!(p.get(&format!("/v1/receipts/{b_id}")).await.status, StatusCode::OK);
    let bulk = a.get("/v1/receipts?after=0&limit=1000").await;
    assert_eq!(bulk.status, StatusCode::OK);
    let seqs: Vec<u64> =
        bulk.text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_u64().unwrap()).collect();
    assert!(seqs.contains(&a_seq) && !seqs.contains(&b_seq) && !seqs.contains(&(b_seq - 1)), "{seqs:?}");
    let r = a.graphql("query($id: String!) { receipt(id: $id) }", json!({"id": b_id})).await;
    assert_eq!(r.gql_code(), "request.not_found");

    // The subscription, replayed from the start up to a marker bank A appends.
    let seen = subscribed(&server, &bank0, &publicity("bank-0", "PUB-MARK", None)).await;
    let text = serde_json::to_string(&seen).unwrap();
    assert!(!leaks(&text), "bank-0's subscription delivered bank-1's freeze: {text}");
    assert!(text.contains("acct:F-CITY") && text.contains(&a_id), "{text}");

    // The dashboard: bank A's page is assessments only, no raw payload.
    let html = reqwest::Client::new().get(server.url("/")).bearer_auth(&bank0).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let html = html.text().await.unwrap();
    assert!(!html.contains("acct:") && !html.contains(&b_id), "the dashboard holds a raw payload or B's event id");
}

#[tokio::test]
async fn metrics_need_a_coordinator_or_auditor_token_or_the_scrape_token() {
    let fx = Fixture::new();
    let secret = "scrape-0123456789abcdef";
    let file = fx.root.path().join("metrics.token");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let (agency, evaluator) = (fx.token("bank-0", "agency"), fx.token("eval-bureau", "evaluator"));
    let (coordinator, auditor) = (fx.token("office", "coordinator"), fx.token("regulator", "auditor"));
    let server = fx.serve(&["--metrics-token-file", file.to_str().unwrap()]);
    let get = |token: Option<&str>| {
        let client = Client::new(&server, token);
        async move { client.get("/metrics").await }
    };
    let r = get(None).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "auth.missing_token"));
    for token in [&agency, &evaluator] {
        let r = get(Some(token)).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "auth.role_forbidden"));
        assert!(r.body["error"]["message"].as_str().unwrap().contains("reads assessments"), "{}", r.text);
    }
    for token in [coordinator.as_str(), auditor.as_str(), secret] {
        let r = get(Some(token)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.text.contains("govledger_"), "{}", r.text);
    }
    let r = get(Some("scrape-0123456789abcdeX")).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "auth.invalid_token"));

    // Without the flag the scrape token is just an unknown token.
    drop(server);
    let server = fx.serve(&[]);
    let r = Client::new(&server, Some(secret)).get("/metrics").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "auth.invalid_token"));
    // And an unreadable or too short file stops the start.
    std::fs::write(&file, "short\n").unwrap();
    let (code, _, err) =
        govledger(&fx.data(), &["serve", "--listen", "127.0.0.1:0", "--metrics-token-file", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("at least 16"), "{err}");
}
