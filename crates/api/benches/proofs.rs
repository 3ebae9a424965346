//! SPEC 6 on the user paths (BENCHMARKS.md, "Proofs"): the real router on the
//! embedded store, on 127.0.0.1, driven over keep-alive HTTP by a client in
//! another runtime (the load generator of `common`).
//!
//! 1. Ingest with the tree kept against ingest without it: two servers on
//!    two copies of the demo city, one running the transparency task (tree
//!    extended and a checkpoint signed every 2 s while the head moves, the
//!    default of `serve`), one without; rounds alternate between them.
//!    `POST /v1/events`, batches of 1 and of 100, at 32 connections.
//! 2. Proofs at a large ledger (`GOVLEDGER_BENCH_PROOF_SCALE`, default 25 ≈
//!    1,000,000 events): `GET /v1/proof/inclusion` and
//!    `GET /v1/proof/consistency` for spread-out seqs against the head, at
//!    1 and 8 connections (p50/p99), beside `GET /v1/log` (token check and
//!    HTTP alone) as the floor; the tree file's bytes per event; the time to
//!    build the tree of the imported ledger.
//!
//! Run: `cargo bench -p govledger-api --bench proofs`. Environment:
//! `GOVLEDGER_BENCH_SECONDS` (per round, default 3), `GOVLEDGER_BENCH_ROUNDS`
//! (alternating pairs, default 3), `GOVLEDGER_BENCH_SCALE` (ingest city,
//! default 1), `GOVLEDGER_BENCH_PROOF_SCALE`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use govledger_api::{AgencyIndex, AppState, Limits, LogConfig, TokenRole, Tokens, Transparency};
use govledger_domain::catalog::AgencyKind;
use govledger_ledger::Ledger;
use tokio::sync::watch;

mod common;
use common::{MakeRequest, drive, env_f64, ingest};

/// A demo city of `scale` in `dir`, through the ledger's rules.
fn seed(dir: &Path, scale: f64) -> Ledger {
    let ledger = govledger_store_embedded::open_ledger(dir).unwrap();
    let until = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let config = govledger_demo::DemoConfig { seed: 2026, scale, until };
    let items = govledger_demo::events(&config).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
    let t = Instant::now();
    ledger.import_blocking(items, |_| {}).unwrap();
    eprintln!("seeded scale {scale}: {} events in {:.1}s", ledger.head().seq, t.elapsed().as_secs_f64());
    ledger
}

/// A bank's agency token on `ledger`.
fn bank_token(dir: &Path, ledger: &Ledger) -> (String, String, Tokens) {
    let index = AgencyIndex::new();
    let reader = ledger.reader();
    let mut projection = govledger_assess::Projection::new();
    reader.scan_raw(0, &mut |row| projection.apply_raw(row.body, row.hash).is_ok()).unwrap();
    index.follow(reader.as_ref(), &projection).unwrap();
    let bank = index.all().into_iter().find(|a| a.kind == AgencyKind::Bank).unwrap().agency_id;
    let tokens = Tokens::open_file(dir).unwrap();
    let token = tokens.issue(&bank, TokenRole::Agency).unwrap().secret;
    (bank, token, tokens)
}

/// The transparency log of `dir`, checked and caught up to the head.
fn open_log(dir: &Path, ledger: &Ledger) -> Arc<Transparency> {
    let (signer, _) = govledger_tlog::keys::LogSigner::generate("bench.local/ledger").unwrap();
    let config = LogConfig { signer, witnesses: Vec::new(), quorum: 0 };
    let log = Transparency::open(&dir.join("tlog"), config, ledger.reader().as_ref()).unwrap();
    log.checked(Ok(ledger.head().seq));
    let t = Instant::now();
    log.keep_up(ledger.reader().as_ref(), ledger.head().seq).unwrap();
    eprintln!("tree built for {} events in {:.2}s", ledger.head().seq, t.elapsed().as_secs_f64());
    Arc::new(log)
}

/// Serves `state` on 127.0.0.1 in `rt`; returns the base URL.
fn serve(rt: &tokio::runtime::Runtime, state: AppState) -> String {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, govledger_api::app(state)).await.unwrap() });
        format!("http://{addr}")
    })
}

/// GET requests for spread-out seqs (a multiplicative hash of worker and count).
fn spread(head: u64, make_path: impl Fn(u64) -> String + Send + Sync + 'static) -> MakeRequest {
    Arc::new(move |w, k| {
        let seq = 1 + (w * 1_000_003 + k).wrapping_mul(0x9E37_79B9_7F4A_7C15) % head;
        (make_path(seq), "", String::new(), 0)
    })
}

fn main() {
    let seconds = env_f64("GOVLEDGER_BENCH_SECONDS", 3.0).clamp(0.5, 60.0);
    let rounds = env_f64("GOVLEDGER_BENCH_ROUNDS", 3.0).clamp(1.0, 20.0) as usize;
    let scale = env_f64("GOVLEDGER_BENCH_SCALE", 1.0).clamp(0.01, 25.0);
    let proof_scale = env_f64("GOVLEDGER_BENCH_PROOF_SCALE", 25.0).clamp(0.01, 250.0);
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (_stop_tx, stop_rx) = watch::channel(false);

    // 1. Ingest, tree on against tree off.
    let (off_dir, on_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (off_ledger, on_ledger) = (seed(off_dir.path(), scale), seed(on_dir.path(), scale));
    let (bank, off_token, off_tokens) = bank_token(off_dir.path(), &off_ledger);
    let (_, on_token, on_tokens) = bank_token(on_dir.path(), &on_ledger);
    let log = open_log(on_dir.path(), &on_ledger);
    let off_state = AppState::new(off_ledger.clone(), off_tokens, Limits::default(), stop_rx.clone()).unwrap();
    let on_state = AppState::new(on_ledger.clone(), on_tokens, Limits::default(), stop_rx.clone())
        .unwrap()
        .with_transparency(log.clone());
    server_rt.spawn(govledger_api::transparency::follow(
        log.clone(),
        on_ledger.clone(),
        Duration::from_secs(2),
        stop_rx.clone(),
    ));
    let (off_url, on_url) = (serve(&server_rt, off_state), serve(&server_rt, on_state));

    println!("| batch | connections | round | tree off events/s | tree on events/s | on/off |");
    println!("|---:|---:|---:|---:|---:|---:|");
    client_rt.block_on(async {
        for batch in [1u64, 100] {
            let mut ratios = Vec::new();
            for round in 1..=rounds {
                let off = drive(&off_url, &off_token, 32, seconds, ingest(&bank, batch)).await;
                let on = drive(&on_url, &on_token, 32, seconds, ingest(&bank, batch)).await;
                let ratio = on.eps() / off.eps();
                ratios.push(ratio);
                println!("| {batch} | 32 | {round} | {:.0} | {:.0} | {ratio:.3} |", off.eps(), on.eps());
            }
            ratios.sort_by(f64::total_cmp);
            println!("| {batch} | 32 | median | | | {:.3} |", ratios[ratios.len() / 2]);
        }
    });
    eprintln!("chain after the rounds: {:?}; head {}", log.health(), on_ledger.head().seq);
    off_ledger.close();
    on_ledger.close();

    // 2. Proofs at a large ledger.
    let big_dir = tempfile::tempdir().unwrap();
    let big = seed(big_dir.path(), proof_scale);
    let head = big.head().seq;
    let (_, token, tokens) = bank_token(big_dir.path(), &big);
    let log = open_log(big_dir.path(), &big);
    let tree_bytes = std::fs::metadata(big_dir.path().join("tlog").join("tree.hashes")).unwrap().len();
    let state = AppState::new(big.clone(), tokens, Limits::default(), stop_rx.clone()).unwrap().with_transparency(log);
    let url = serve(&server_rt, state);
    println!();
    println!("{head} events; tree file {tree_bytes} bytes = {:.1} bytes per event", tree_bytes as f64 / head as f64);
    println!();
    println!("| proof | connections | requests/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    client_rt.block_on(async {
        for connections in [1, 8] {
            // The floor: token check and HTTP, with the smallest answer.
            let floor: MakeRequest = Arc::new(|_, _| ("/v1/log".to_owned(), "", String::new(), 0));
            let s = drive(&url, &token, connections, seconds, floor).await;
            let (rps, p50, p99) = (s.rps(), s.pct(0.5), s.pct(0.99));
            println!("| floor: GET /v1/log | {connections} | {rps:.0} | {p50:.3} | {p99:.3} |");
            let inclusion = spread(head, move |seq| format!("/v1/proof/inclusion?seq={seq}&size={head}"));
            let s = drive(&url, &token, connections, seconds, inclusion).await;
            let (rps, p50, p99) = (s.rps(), s.pct(0.5), s.pct(0.99));
            println!("| inclusion, size {head} | {connections} | {rps:.0} | {p50:.3} | {p99:.3} |");
            let consistency = spread(head, move |from| format!("/v1/proof/consistency?from={from}&to={head}"));
            let s = drive(&url, &token, connections, seconds, consistency).await;
            let (rps, p50, p99) = (s.rps(), s.pct(0.5), s.pct(0.99));
            println!("| consistency, to {head} | {connections} | {rps:.0} | {p50:.3} | {p99:.3} |");
        }
    });
    big.close();
}
