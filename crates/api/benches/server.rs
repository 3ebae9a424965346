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
//! `GOVLEDGER_BENCH_SCALE` (demo city scale, default 1.0),
//! `GOVLEDGER_BENCH_CONNECTIONS` and `GOVLEDGER_BENCH_BATCHES` (the ingest
//! scenarios, comma-separated; default `1,8,32` and `1,100`),
//! `GOVLEDGER_BENCH_QUERIES=0` (ingest only).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use chrono::{TimeZone, Utc};
use govledger_api::{AgencyIndex, AppState, Limits, TokenRole, Tokens};
use govledger_domain::catalog::AgencyKind;
use serde_json::json;
use tokio::sync::watch;

mod common;
use common::{MakeRequest, drive, env_f64, ingest};

/// The `govledger` binary's allocator (crates/cli/src/main.rs), so that the
/// server here allocates as `govledger serve` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FROM: &str = "2026-01-01T00:00:00+08:00";
const TO: &str = "2026-07-01T00:00:00+08:00";

fn fixed(path: &str, body: String) -> MakeRequest {
    let path = path.to_owned();
    Arc::new(move |_, _| (path.clone(), "application/json", body.clone(), 0))
}

/// A comma-separated list of numbers from the environment, or `default`.
fn env_list(name: &str, default: &[u64]) -> Vec<u64> {
    match std::env::var(name) {
        Ok(v) => v.split(',').map(|n| n.trim().parse().unwrap_or_else(|_| panic!("{name}: {v:?}"))).collect(),
        Err(_) => default.to_vec(),
    }
}

fn main() {
    let connections_list = env_list("GOVLEDGER_BENCH_CONNECTIONS", &[1, 8, 32]);
    let batches = env_list("GOVLEDGER_BENCH_BATCHES", &[1, 100]);
    let queries_too = std::env::var("GOVLEDGER_BENCH_QUERIES").map_or(true, |v| v != "0");
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
    let reader = ledger.reader();
    let mut projection = govledger_assess::Projection::new();
    reader.scan_raw(0, &mut |row| projection.apply_raw(row.body, row.hash).is_ok()).unwrap();
    index.follow(reader.as_ref(), &projection).unwrap();
    let bank = index.all().into_iter().find(|a| a.kind == AgencyKind::Bank).unwrap().agency_id;
    let tokens = Tokens::open_file(dir.path()).unwrap();
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
    let mut writer_rows = Vec::new();
    client_rt.block_on(async {
        for &batch in &batches {
            for &connections in &connections_list {
                let before = ledger.stats();
                let s = drive(&api, &token, connections as usize, seconds, ingest(&bank, batch)).await;
                writer_rows.push((connections, batch, before, ledger.stats()));
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
    print_writer_time(&writer_rows);
    if !queries_too {
        ledger.close();
        return;
    }
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

/// The writer's serialised time per request in each ingest scenario (from
/// `Ledger::stats`): all of it (`append_nanos`), and its phases.
fn print_writer_time(rows: &[(u64, u64, govledger_ledger::LedgerStats, govledger_ledger::LedgerStats)]) {
    println!();
    println!(
        "writer's serialised time per request (LedgerStats: append_nanos / requests; the phases per request; \
         rest = queue, answers and groups that stored nothing)"
    );
    println!(
        "| connections | batch | requests | requests per group | writer µs per request | check | seal + write | commit | rest | commit µs per group |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (connections, batch, b, a) in rows {
        let requests = (a.requests - b.requests).max(1) as f64;
        let groups = (a.group_commits - b.group_commits).max(1) as f64;
        let per = |nanos: u64| nanos as f64 / 1e3 / requests;
        let (all, check, write, commit) = (
            per(a.append_nanos - b.append_nanos),
            per(a.check_nanos - b.check_nanos),
            per(a.write_nanos - b.write_nanos),
            per(a.commit_nanos - b.commit_nanos),
        );
        println!(
            "| {connections} | {batch} | {requests:.0} | {:.1} | {all:.1} | {check:.1} | {write:.1} | {commit:.1} | {:.1} | {:.0} |",
            requests / groups,
            all - check - write - commit,
            (a.commit_nanos - b.commit_nanos) as f64 / 1e3 / groups,
        );
    }
}
