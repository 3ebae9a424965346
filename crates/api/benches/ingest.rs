//! HTTP ingest of a running `govledger serve`, side by side with a bare axum
//! handler that parses the same JSON and answers 201 (issue 18): the HTTP
//! figures of `scripts/bench-scale.py`, which starts the server on a ledger
//! of the chosen scale and passes it here.
//!
//! Both sides are driven by the raw HTTP/1.1 client of `common::raw` (one
//! task per keep-alive connection, TCP_NODELAY) on a 2-thread runtime; the
//! bare handler runs on a 2-thread runtime of its own, as `serve` does. For
//! each scenario (connections × batch) the two sides run one after the
//! other, the order swapped each scenario, so that a noisy spell is shared.
//!
//! Environment: `GOVLEDGER_BENCH_SERVER` (the server's base URL, 127.0.0.1
//! or ::1; without it the bench prints SKIPPED), `GOVLEDGER_BENCH_TOKEN` (an
//! agency token), `GOVLEDGER_BENCH_ACTOR` (that agency, whose
//! `PublicityDelivered` events are sent), `GOVLEDGER_BENCH_SECONDS` (per
//! side and scenario, default 3), `GOVLEDGER_BENCH_CONNECTIONS` (default
//! `1,16,64`), `GOVLEDGER_BENCH_BATCHES` (default `1,100`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use serde_json::Value;

mod common;
use common::raw::drive_raw;
use common::{Stats, env_f64, ingest};

fn list<T: std::str::FromStr>(name: &str, default: &str) -> Vec<T> {
    let text = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    text.split(',').map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name}: {v:?} is not a number"))).collect()
}

/// The bare side: parses each envelope as JSON, as the server must, and answers 201.
async fn bare(headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-ndjson"));
    let lines: Vec<&[u8]> =
        if ndjson { body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect() } else { vec![&body[..]] };
    for line in &lines {
        if serde_json::from_slice::<Value>(line).is_err() {
            return (StatusCode::BAD_REQUEST, "{}".into());
        }
    }
    (StatusCode::CREATED, format!("{{\"appended\":{}}}", lines.len()))
}

fn row(connections: usize, batch: u64, server: &Stats, bare: &Stats) {
    println!(
        "| {connections} | {batch} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | **{:.2}** |",
        server.eps(),
        server.pct(0.5),
        server.pct(0.99),
        bare.eps(),
        bare.pct(0.5),
        bare.pct(0.99),
        server.eps() / bare.eps()
    );
}

fn main() {
    let Ok(base) = std::env::var("GOVLEDGER_BENCH_SERVER") else {
        println!("SKIPPED: GOVLEDGER_BENCH_SERVER is not set (scripts/bench-scale.py starts a server and sets it)");
        return;
    };
    let token = std::env::var("GOVLEDGER_BENCH_TOKEN").expect("GOVLEDGER_BENCH_TOKEN: an agency token");
    let actor = std::env::var("GOVLEDGER_BENCH_ACTOR").expect("GOVLEDGER_BENCH_ACTOR: the token's agency");
    let seconds = env_f64("GOVLEDGER_BENCH_SECONDS", 3.0).clamp(0.5, 60.0);
    let connections: Vec<usize> = list("GOVLEDGER_BENCH_CONNECTIONS", "1,16,64");
    let batches: Vec<u64> = list("GOVLEDGER_BENCH_BATCHES", "1,100");
    let server: SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("GOVLEDGER_BENCH_SERVER: http://127.0.0.1:PORT");

    let bare_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let bare_addr = bare_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/v1/events", post(bare));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });

    println!("| connections | batch | govledger events/s | p50 / p99 ms | bare events/s | p50 / p99 ms | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut scenario = 0;
    for &batch in &batches {
        for &c in &connections {
            let run = |addr| client_rt.block_on(drive_raw(addr, &token, c, seconds, ingest(&actor, batch)));
            let (s, b) = if scenario % 2 == 0 {
                let s = run(server);
                (s, run(bare_addr))
            } else {
                let b = run(bare_addr);
                (run(server), b)
            };
            row(c, batch, &s, &b);
            scenario += 1;
        }
    }
}
