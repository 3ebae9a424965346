//! Load generator for the server (BENCHMARKS.md, "Server"): the real router
//! (`govledger_api::app`) on the embedded store, on 127.0.0.1, driven over
//! HTTP/1.1 keep-alive connections by a Rust client in another runtime.
//!
//! Measures, each for a bounded time:
//! - ingest: `POST /v1/events` at 1, 8 and 32 connections, batches of 1 and
//!   100 events (events/s, request p50/p99);
//! - queries at 32 connections: GraphQL `assessment` (the whole document)
//!   and a one-agency `scorecard`, side by side with a bare axum handler
//!   that returns the same response bytes, pre-serialised (requests/s,
//!   p50/p99), idle and while 8 connections append events one at a time;
//!   `{ head { seq } }` the same way, as the floor (token check, GraphQL
//!   parse, validation and execution, with nothing to compute).
//!
//! Run: `cargo bench -p govledger-api --bench server` (release profile).
//! Environment: `GOVLEDGER_BENCH_SECONDS` (per scenario, default 3),
//! `GOVLEDGER_BENCH_SCALE` (demo city scale, default 1.0).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use chrono::{TimeZone, Utc};
use govledger_api::{AgencyIndex, AppState, Limits, TokenRole, TokenStore};
use govledger_domain::catalog::AgencyKind;
use serde_json::json;
use tokio::sync::watch;

const FROM: &str = "2026-01-01T00:00:00+08:00";
const TO: &str = "2026-07-01T00:00:00+08:00";

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Stats {
    requests: u64,
    events: u64,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Stats {
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    fn eps(&self) -> f64 {
        self.events as f64 / self.seconds
    }
}

/// One request of a scenario: (method path, content type, body, events it carries).
type MakeRequest = Arc<dyn Fn(u64, u64) -> (String, &'static str, String, u64) + Send + Sync>;

/// Runs `connections` workers for `seconds`, each on its own keep-alive connection.
async fn drive(base: &str, token: &str, connections: usize, seconds: f64, make: MakeRequest) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..connections {
        let (base, token, make, stop) = (base.to_owned(), token.to_owned(), make.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let (mut lat, mut events, mut k) = (Vec::new(), 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let (path, content_type, body, n) = make(w as u64, k);
                k += 1;
                let t = Instant::now();
                let resp = client
                    .post(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .expect("request failed");
                let status = resp.status();
                let bytes = resp.bytes().await.expect("no body");
                assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&bytes));
                if path == "/graphql" {
                    assert!(!bytes.starts_with(b"{\"errors\""), "{}", String::from_utf8_lossy(&bytes));
                }
                lat.push(t.elapsed().as_micros() as u64);
                events += n;
            }
            (lat, events)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut stats = Stats { requests: 0, events: 0, seconds: 0.0, latencies_us: Vec::new() };
    for w in workers {
        let (lat, events) = w.await.unwrap();
        stats.requests += lat.len() as u64;
        stats.events += events;
        stats.latencies_us.extend(lat);
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats.latencies_us.sort_unstable();
    stats
}

fn publicity(actor: &str, w: u64, k: u64, i: u64) -> String {
    json!({"type": "PublicityDelivered", "actor": actor, "occurred_at": "2026-10-01T00:00:00Z",
           "data": {"activity_id": format!("BENCH-{}-{w}-{k}-{i}", std::process::id()), "audience": "residents", "reach": 10}})
    .to_string()
}

fn ingest(actor: &str, batch: u64) -> MakeRequest {
    let actor = actor.to_owned();
    static RUN: AtomicU64 = AtomicU64::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    Arc::new(move |w, k| {
        let w = run * 1000 + w;
        if batch == 1 {
            ("/v1/events".into(), "application/json", publicity(&actor, w, k, 0), 1)
        } else {
            let body: String = (0..batch).map(|i| publicity(&actor, w, k, i) + "\n").collect();
            ("/v1/events".into(), "application/x-ndjson", body, batch)
        }
    })
}

fn fixed(path: &str, body: String) -> MakeRequest {
    let path = path.to_owned();
    Arc::new(move |_, _| (path.clone(), "application/json", body.clone(), 0))
}

fn main() {
    let seconds = env_f64("GOVLEDGER_BENCH_SECONDS", 3.0).clamp(0.5, 60.0);
    let scale = env_f64("GOVLEDGER_BENCH_SCALE", 1.0).clamp(0.01, 25.0);
    let dir = tempfile::tempdir().unwrap();

    // A demo city through the ledger's rules, as `govledger demo` writes it.
    let ledger = govledger_store_embedded::open_ledger(dir.path()).unwrap();
    let until = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let config = govledger_demo::DemoConfig { seed: 2026, scale, until };
    let items = govledger_demo::events(&config).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
    let t = Instant::now();
    let summary = ledger.import_blocking(items, |_| {}).unwrap();
    let head = ledger.head().seq;
    eprintln!("seeded demo city scale {scale}: {head} events in {:.1}s ({summary:?})", t.elapsed().as_secs_f64());

    let index = AgencyIndex::new();
    index.catch_up(ledger.reader().as_ref()).unwrap();
    let bank = index.all().into_iter().find(|a| a.kind == AgencyKind::Bank).unwrap().agency_id;
    let tokens = TokenStore::open(dir.path()).unwrap();
    let token = tokens.issue(&bank, TokenRole::Agency).unwrap().secret;

    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (_stop_tx, stop_rx) = watch::channel(false);
    let state = AppState::new(ledger.clone(), tokens, Limits::default(), stop_rx.clone()).unwrap();
    let bare_body: Arc<std::sync::Mutex<Bytes>> = Arc::default();
    let (api_addr, bare_addr): (SocketAddr, SocketAddr) = server_rt.block_on(async {
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addrs = (api.local_addr().unwrap(), bare.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(api, govledger_api::app(state)).await.unwrap() });
        let body = bare_body.clone();
        let bare_app = Router::new().route(
            "/bare",
            post(move |_: Bytes| {
                let body = body.lock().unwrap().clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
        tokio::spawn(async move { axum::serve(bare, bare_app).await.unwrap() });
        addrs
    });
    let (api, bare) = (format!("http://{api_addr}"), format!("http://{bare_addr}"));

    println!("| scenario | connections | batch | events/s | requests/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    client_rt.block_on(async {
        for batch in [1u64, 100] {
            for connections in [1usize, 8, 32] {
                let s = drive(&api, &token, connections, seconds, ingest(&bank, batch)).await;
                println!(
                    "| ingest POST /v1/events | {connections} | {batch} | {:.0} | {:.0} | {:.2} | {:.2} |",
                    s.eps(),
                    s.rps(),
                    s.pct(0.5),
                    s.pct(0.99)
                );
            }
        }
    });

    let assessment_q = "query($from: String!, $to: String!) { assessment(from: $from, to: $to) {
        period { from to } asOfSeq headHash modelSha256
        agencies { agencyId name kind rank score grade weighted deductions
          penalties { eventId kind occurredAt deduction }
          indicators { id value points weight numerator denominator sampleSize evidence } } } }";
    let scorecard_q = "query($agency: String!, $from: String!, $to: String!) {
        scorecard(agency: $agency, from: $from, to: $to) { asOfSeq headHash rankedAgencies explanation
          agency { agencyId rank score grade weighted deductions
            indicators { id value points weight numerator denominator sampleSize } } } }";
    let queries = [
        ("GraphQL `{ head { seq } }` (floor: auth + GraphQL)", json!({"query": "{ head { seq } }"})),
        ("GraphQL assessment (whole document)", json!({"query": assessment_q, "variables": {"from": FROM, "to": TO}})),
        (
            "GraphQL scorecard (one agency)",
            json!({"query": scorecard_q, "variables": {"agency": bank, "from": FROM, "to": TO}}),
        ),
    ];
    println!();
    println!(
        "| query (32 connections) | appends running | GraphQL req/s | p50 ms | p99 ms | bare req/s | p50 ms | p99 ms | ratio | response bytes |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    client_rt.block_on(async {
        for (name, body) in &queries {
            for appends in [false, true] {
                // The bare handler serves this query's response, captured now.
                let reply = reqwest::Client::new()
                    .post(format!("{api}/graphql"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                assert!(!reply.starts_with(b"{\"errors\""), "{}", String::from_utf8_lossy(&reply));
                *bare_body.lock().unwrap() = reply.clone();
                let writers = appends.then(|| {
                    let (api, token, bank) = (api.clone(), token.clone(), bank.clone());
                    tokio::spawn(async move { drive(&api, &token, 8, seconds, ingest(&bank, 1)).await })
                });
                let g = drive(&api, &token, 32, seconds, fixed("/graphql", body.to_string())).await;
                let appended = match writers {
                    Some(w) => w.await.unwrap().eps(),
                    None => 0.0,
                };
                let writers = appends.then(|| {
                    let (api, token, bank) = (api.clone(), token.clone(), bank.clone());
                    tokio::spawn(async move { drive(&api, &token, 8, seconds, ingest(&bank, 1)).await })
                });
                let b = drive(&bare, &token, 32, seconds, fixed("/bare", body.to_string())).await;
                let appended_bare = match writers {
                    Some(w) => w.await.unwrap().eps(),
                    None => 0.0,
                };
                let label = if appends {
                    format!("yes ({appended:.0} / {appended_bare:.0} events/s)")
                } else {
                    "no".to_owned()
                };
                println!(
                    "| {name} | {label} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
                    g.rps(),
                    g.pct(0.5),
                    g.pct(0.99),
                    b.rps(),
                    b.pct(0.5),
                    b.pct(0.99),
                    g.rps() / b.rps(),
                    reply.len()
                );
            }
        }
    });
    eprintln!("final head seq {}", ledger.head().seq);
    ledger.close();
}
