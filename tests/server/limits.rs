//! SPEC 4, Limits (issue 21): one request does bounded work. Each test is one
//! of the hostile requests of the issue, over real HTTP against the binary:
//! an amplified GraphQL batch, a document of 200 `verify` aliases, slow
//! headers and bodies, more connections than the limit.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// How much the server's peak resident memory may grow while it refuses the
/// amplified batch (it took the server from 0.7 to 5.5 GB before the limits).
const MEMORY_GROWTH_BOUND_KB: u64 = 100 * 1024;

/// `VmRSS` and `VmHWM` (peak) of a process, in kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {status}"));
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn post_json(client: &Client, body: &Value) -> Reply {
    client.post_raw("/graphql", "application/json", body.to_string()).await
}

#[tokio::test]
async fn an_amplified_graphql_batch_is_refused_before_it_runs_and_memory_stays_bounded() {
    let fx = Fixture::new();
    let bank = fx.token("bank-1", "agency");
    let server = fx.serve(&[]);
    let client = Client::new(&server, Some(&bank));
    assert_eq!(client.graphql("{ head { seq } }", json!({})).await.status, StatusCode::OK);
    let (rss_before, peak_before) = memory_kb(server.pid());

    // 10 documents of 2,500 `__schema` aliases: 1.6 MB asking for hundreds of MB.
    let aliases: String =
        (0..2_500).map(|i| format!("s{i}: __schema {{ types {{ name fields {{ name }} }} }} ")).collect();
    let document = json!({"query": format!("{{ {aliases} }}")});
    let batch = Value::Array(vec![document; 10]);
    let started = Instant::now();
    let r = post_json(&client, &batch).await;
    let took = started.elapsed();
    assert_eq!(r.status, StatusCode::OK, "{}", &r.text[..r.text.len().min(2_000)]);
    let answers = r.body.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 10);
    for a in answers {
        assert_eq!(a["errors"][0]["extensions"]["code"], "graphql.too_complex", "{a}");
        assert_eq!(a["data"], Value::Null, "nothing was executed: {a}");
    }
    assert!(r.text.len() < 100_000, "the refusal is small, not the answer: {} bytes", r.text.len());
    // Generous: a debug build on a loaded machine; refused before validation, it takes well under a second alone.
    assert!(took < Duration::from_secs(60), "refused before execution, so quickly; took {took:?}");
    let (rss_after, peak_after) = memory_kb(server.pid());
    eprintln!("server memory: VmRSS {rss_before} → {rss_after} kB, VmHWM {peak_before} → {peak_after} kB");
    assert!(
        peak_after.saturating_sub(peak_before) < MEMORY_GROWTH_BOUND_KB,
        "peak memory grew from {peak_before} to {peak_after} kB"
    );

    // Each document alone is under the limit; together they are not: one budget per request.
    let page = json!({"query": "{ events(first: 1000) { edges { node { seq } } } }"});
    let r = post_json(&client, &Value::Array(vec![page; 16])).await;
    let answers = r.body.as_array().unwrap_or_else(|| panic!("{}", r.text));
    assert_eq!(answers[0]["errors"], Value::Null, "{}", answers[0]);
    let refused = answers.iter().filter(|a| a["errors"][0]["extensions"]["code"] == "graphql.too_complex").count();
    assert!(refused >= 8, "the batch's documents share one budget; refused {refused} of 16: {}", r.text);
    let message = answers[15]["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("20000 per request"), "the sentence names the limit: {message}");

    // More documents than a batch may hold: refused whole, with its code.
    let head = json!({"query": "{ head { seq } }"});
    let r = post_json(&client, &Value::Array(vec![head.clone(); 17])).await;
    assert_eq!((r.status, r.gql_code()), (StatusCode::BAD_REQUEST, "graphql.batch_too_large"), "{}", r.text);
    let r = post_json(&client, &Value::Array(vec![head; 16])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // One full introspection (GraphiQL's) still passes; five do not.
    let one = "t: __schema { types { name fields { name type { name ofType { name } } } } } ";
    let r = client.graphql(&format!("{{ {one} }}"), json!({})).await;
    assert_eq!(r.body["errors"], Value::Null, "{}", &r.text[..r.text.len().min(500)]);
    let five: String = (0..5).map(|i| one.replacen("t:", &format!("t{i}:"), 1)).collect();
    let r = client.graphql(&format!("{{ {five} }}"), json!({})).await;
    assert_eq!(r.gql_code(), "graphql.too_complex", "{}", &r.text[..r.text.len().min(500)]);
}

/// Events of the large ledger of the `verify` test.
const LARGE_LEDGER_EVENTS: usize = 50_000;

#[tokio::test]
async fn two_hundred_verify_aliases_answer_from_the_continuous_check_and_hold_nobody() {
    let fx = Fixture::new();
    let path = fx.root.path().join("publicity.ndjson");
    let events: Vec<Value> =
        (0..LARGE_LEDGER_EVENTS).map(|i| publicity(BANKS[i % BANKS.len()], &format!("PUB-{i}"), None)).collect();
    std::fs::write(&path, ndjson(&events)).unwrap();
    let (code, _, stderr) = govledger(&fx.data(), &["import", path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let head = CITY_EVENTS + LARGE_LEDGER_EVENTS as u64;
    let bank = fx.token("bank-2", "agency");
    let other = fx.token("bank-3", "agency");
    let server = fx.serve(&[]);
    let hostile = Client::new(&server, Some(&bank));
    let bystander = Client::new(&server, Some(&other));

    let aliases: String = (0..200).map(|i| format!("v{i}: verify {{ ok events ledgerHead }} ")).collect();
    let query = format!("{{ {aliases} }}");
    // Before: each alias re-hashed the whole chain (10 × 200 took 38.8 s of both cores on 46k events).
    let started = Instant::now();
    let requests: Vec<_> = (0..5)
        .map(|_| {
            let (client, query) = (hostile.clone(), query.clone());
            tokio::spawn(async move { client.graphql(&query, json!({})).await })
        })
        .collect();
    let trivial = bystander.graphql("{ head { seq } }", json!({})).await;
    let bystander_took = started.elapsed();
    assert_eq!(trivial.body["data"]["head"]["seq"], head, "{}", trivial.text);
    for r in requests {
        let r = r.await.unwrap();
        assert_eq!(r.body["errors"], Value::Null, "{}", &r.text[..r.text.len().min(2_000)]);
        for i in 0..200 {
            let v = &r.body["data"][format!("v{i}")];
            assert_eq!(v, &json!({"ok": true, "events": head, "ledgerHead": head}), "alias v{i}");
        }
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "1,000 verify aliases took {took:?}");
    assert!(bystander_took < Duration::from_secs(10), "another agency's trivial query waited {bystander_took:?}");

    // REST says the same, and follows the head.
    let appended = hostile.append(&publicity("bank-2", "PUB-LAST", None)).await;
    assert_eq!(appended.status, StatusCode::CREATED, "{}", appended.text);
    let report = hostile.get("/v1/verify").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.body["ok"], true);
    assert_eq!(report.body["events"], head + 1, "checked through the head as of the request: {}", report.text);
    assert_eq!(report.body["ledger_head"], head + 1);
    assert_eq!(report.body["head"]["hash"], appended.body["hash"]);
}

/// Reads from `stream` until the server closes it; returns what it sent.
/// Panics if it stays open past `deadline`.
async fn until_closed(stream: &mut TcpStream, deadline: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(deadline, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open past {deadline:?}; it sent {got:?}");
    got
}

#[tokio::test]
async fn slow_headers_and_slow_bodies_are_cut_off() {
    let fx = Fixture::new();
    let bank = fx.token("bank-1", "agency");
    let server = fx.serve(&["--header-timeout-ms", "500", "--body-timeout-ms", "500"]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    // Generous against a loaded machine, far below the 10 s / 30 s defaults the flags replace here.
    let deadline = Duration::from_secs(5);

    // Half a request line, then nothing.
    let started = Instant::now();
    let mut slow_header = TcpStream::connect(&addr).await.unwrap();
    slow_header.write_all(b"GET /healthz HT").await.unwrap();
    until_closed(&mut slow_header, deadline).await;
    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    until_closed(&mut silent, deadline).await;
    assert!(started.elapsed() >= Duration::from_millis(500), "not closed before the timeout");

    // Headers in full, then a body that stops halfway.
    let mut slow_body = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bank}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"query\": "
    );
    slow_body.write_all(head.as_bytes()).await.unwrap();
    let answer = String::from_utf8_lossy(&until_closed(&mut slow_body, deadline).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("request.unreadable_body"), "{answer}");

    // A prompt client is served as ever.
    let client = Client::new(&server, Some(&bank));
    assert_eq!(client.graphql("{ head { seq } }", json!({})).await.body["data"]["head"]["seq"], CITY_EVENTS);
}

/// One `GET /healthz` on a kept-alive connection; returns the status line.
async fn healthz(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: limits\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        // The answer is small: its end is `}` after the headers.
        while !(got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"}")) {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer in time");
    String::from_utf8_lossy(&got).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_connection_beyond_the_limit_is_closed_and_the_others_still_work() {
    let fx = Fixture::new();
    let server = fx.serve(&["--max-connections", "2"]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut first = TcpStream::connect(&addr).await.unwrap();
    let mut second = TcpStream::connect(&addr).await.unwrap();
    assert_eq!(healthz(&mut first).await, "HTTP/1.1 200 OK");
    assert_eq!(healthz(&mut second).await, "HTTP/1.1 200 OK");

    let mut third = TcpStream::connect(&addr).await.unwrap();
    // The server may close it before or after this write arrives.
    let _ = third.write_all(b"GET /healthz HTTP/1.1\r\nHost: limits\r\n\r\n").await;
    let answer = until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(answer.is_empty(), "the connection beyond the limit was served: {}", String::from_utf8_lossy(&answer));

    // The connections within the limit still work; one closed makes room.
    assert_eq!(healthz(&mut first).await, "HTTP/1.1 200 OK");
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut next = TcpStream::connect(&addr).await.unwrap();
        if healthz_or_closed(&mut next).await {
            break;
        }
        assert!(Instant::now() < deadline, "a closed connection never gave its place back");
    }
}

/// Whether a new connection is served (false: the server closed it at once).
async fn healthz_or_closed(stream: &mut TcpStream) -> bool {
    if stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: limits\r\nConnection: close\r\n\r\n").await.is_err() {
        return false;
    }
    let answer = until_closed(stream, Duration::from_secs(5)).await;
    answer.starts_with(b"HTTP/1.1 200")
}

#[tokio::test]
async fn a_request_with_two_mutations_stores_nothing() {
    let fx = Fixture::new();
    let bank = fx.token("bank-1", "agency");
    let server = fx.serve(&[]);
    let client = Client::new(&server, Some(&bank));
    let fine = "deliverPublicity(input: {actor: \"bank-1\", occurredAt: \"2024-02-01T00:00:00Z\",
        data: {activityId: \"PUB-A\", audience: \"residents\", reach: 10}}) { seq }";
    // The second half is refused by the ledger's rules (no such freeze).
    let refused = "executeFreeze(input: {actor: \"bank-1\", occurredAt: \"2024-02-01T00:00:00Z\",
        data: {freezeId: \"F-NONE\", amountFrozenMinor: 1}}) { seq }";
    let r = client.graphql(&format!("mutation {{ a: {fine} b: {refused} }}"), json!({})).await;
    assert_eq!(r.gql_code(), "graphql.multiple_mutations", "{}", r.text);
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("appendEvents"), "{}", r.text);
    // The same as a batch array of two mutation documents.
    let batch = json!([{"query": format!("mutation {{ {fine} }}")}, {"query": format!("mutation {{ {refused} }}")}]);
    let r = post_json(&client, &batch).await;
    assert_eq!((r.status, r.gql_code()), (StatusCode::BAD_REQUEST, "graphql.multiple_mutations"), "{}", r.text);
    // Even two valid ones: a request is stored whole or not at all, so it may hold one mutation field.
    let r = client.graphql(&format!("mutation {{ a: {fine} b: {} }}", fine.replace("PUB-A", "PUB-B")), json!({})).await;
    assert_eq!(r.gql_code(), "graphql.multiple_mutations", "{}", r.text);
    assert_eq!(client.head_seq().await, CITY_EVENTS, "nothing of the refused requests was stored");
    assert!(client.all_events().await.iter().all(|e| e["data"]["activity_id"] != "PUB-A"));

    // One mutation per request goes through, and `appendEvents` stores several events atomically.
    let r =
        post_json(&client, &json!([{"query": format!("mutation {{ {fine} }}")}, {"query": "{ head { seq } }"}])).await;
    assert_eq!(r.body[0]["data"]["deliverPublicity"]["seq"], CITY_EVENTS + 1, "{}", r.text);
    let two = "mutation { appendEvents(batch: [
        {actor: \"bank-1\", occurredAt: \"2024-02-01T00:00:00Z\",
         data: {publicityDelivered: {activityId: \"PUB-C\", audience: \"residents\", reach: 10}}},
        {actor: \"bank-1\", occurredAt: \"2024-02-01T00:00:00Z\",
         data: {publicityDelivered: {activityId: \"PUB-D\", audience: \"residents\", reach: 10}}}]) { seq } }";
    let r = client.graphql(two, json!({})).await;
    assert_eq!(
        r.body["data"]["appendEvents"],
        json!([{"seq": CITY_EVENTS + 2}, {"seq": CITY_EVENTS + 3}]),
        "{}",
        r.text
    );
}
