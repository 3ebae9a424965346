//! The PostgreSQL store against the embedded store and against a bare
//! tokio-postgres loop (BENCHMARKS.md, "PostgreSQL store"), in one run:
//!
//! - import: a demo city through `Ledger::import_blocking` (one transaction);
//! - HTTP ingest through the real router (`govledger_api::app`): batch 1 at
//!   32 connections, batch 100 at 8 connections (the load generator of the
//!   server bench, `common/`);
//! - the bare loop: one tokio-postgres connection writing the same rows
//!   (the same bodies) in transactions of the same sizes as the ledger's
//!   (its group commits: events per group taken from the ledger's stats),
//!   with the store's statements: lock the anchor, `INSERT … unnest`,
//!   update the anchor, `NOTIFY`, `COMMIT`.
//!
//! PostgreSQL is a throwaway server on 127.0.0.1 (`test_server`,
//! `synchronous_commit = on`, `fsync = on`, no standby).
//! Run: `cargo bench -p govledger-api --bench postgres` (release profile).
//! Environment: `GOVLEDGER_BENCH_SECONDS` (per scenario, default 3),
//! `GOVLEDGER_BENCH_SCALE` (demo city scale, default 0.25).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use govledger_api::{AgencyIndex, AppState, Limits, TokenRole, Tokens};
use govledger_domain::catalog::AgencyKind;
use govledger_ledger::{Ledger, LogReader};
use govledger_store_postgres::test_server::PgServer;
use govledger_store_postgres::{PgConfig, PgStore};
use tokio::sync::watch;

mod common;
use common::{drive, env_f64, ingest};

struct Run {
    import_eps: f64,
    /// (label, events/s, p50 ms, p99 ms, events per group commit)
    ingest: Vec<(String, f64, f64, f64, f64)>,
    /// A stored body, for the bare loop.
    sample_body: String,
}

fn open(store: &str, dir: &std::path::Path, pg: &PgServer) -> Ledger {
    match store {
        "embedded" => govledger_store_embedded::open_ledger(dir).unwrap(),
        _ => {
            let s = PgStore::connect(&PgConfig::parse(&pg.url("bench")).unwrap()).unwrap();
            Ledger::open(Box::new(s.writer().unwrap()), s.reader()).unwrap()
        }
    }
}

fn run(store: &str, pg: &PgServer, scale: f64, seconds: f64) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(store, dir.path(), pg);
    let until = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let config = govledger_demo::DemoConfig { seed: 2026, scale, until };
    let items = govledger_demo::events(&config).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
    let t = Instant::now();
    ledger.import_blocking(items, |_| {}).unwrap();
    let head = ledger.head().seq;
    let import_eps = head as f64 / t.elapsed().as_secs_f64();
    let sample_body = String::from_utf8(ledger.read(head - 1, 1).unwrap()[0].canonical_body()).unwrap();

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
    let state = AppState::new(ledger.clone(), tokens, Limits::default(), stop_rx).unwrap();
    let addr = server_rt.block_on(async {
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = api.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(api, govledger_api::app(state)).await.unwrap() });
        addr
    });
    let api = format!("http://{addr}");
    let mut ingest_rows = Vec::new();
    for (connections, batch) in [(32usize, 1u64), (8, 100)] {
        let before = ledger.stats();
        let s = client_rt.block_on(drive(&api, &token, connections, seconds, ingest(&bank, batch)));
        let after = ledger.stats();
        let groups = (after.group_commits - before.group_commits).max(1);
        ingest_rows.push((
            format!("HTTP ingest, {connections} connections, batch {batch}"),
            s.eps(),
            s.pct(0.5),
            s.pct(0.99),
            s.events as f64 / groups as f64,
        ));
    }
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok(), "{store}: {report:?}");
    ledger.close();
    drop(server_rt);
    Run { import_eps, ingest: ingest_rows, sample_body }
}

/// The bare loop: transactions of `per_txn` rows on one connection for
/// `seconds` (or `total` rows, in chunks of 1,024, in one transaction).
fn bare(pg: &PgServer, body: &str, per_txn: usize, seconds: f64, total: Option<usize>) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let url = pg.url("bare");
    let body = body.to_owned();
    rt.block_on(async move {
        let config = PgConfig::parse(&url).unwrap();
        let (client, connection) = config.pg.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(
                "DROP SCHEMA IF EXISTS bare CASCADE; CREATE SCHEMA bare;
                 CREATE TABLE bare.events (seq bigint PRIMARY KEY, id uuid NOT NULL UNIQUE, body text NOT NULL, hash text NOT NULL);
                 CREATE TABLE bare.anchor (one int PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL, recorded_at text NOT NULL);
                 INSERT INTO bare.anchor VALUES (1, 0, '', '');",
            )
            .await
            .unwrap();
        let lock = client.prepare("SELECT seq FROM anchor WHERE one = 1 FOR UPDATE").await.unwrap();
        let insert = client
            .prepare("INSERT INTO events (seq, id, body, hash) SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[])")
            .await
            .unwrap();
        let anchor = client.prepare("UPDATE anchor SET seq = $1, hash = $2, recorded_at = $3 WHERE one = 1").await.unwrap();
        let notify = client.prepare("SELECT pg_notify($1, $2)").await.unwrap();
        let hash = "0".repeat(64);
        let (mut seq, started) = (0i64, Instant::now());
        let deadline = started + Duration::from_secs_f64(seconds);
        loop {
            let rows = total.map_or(per_txn, |t| t - seq as usize);
            tokio::try_join!(client.batch_execute("BEGIN"), client.query_one(&lock, &[])).unwrap();
            let mut left = rows;
            while left > 0 {
                let n = left.min(1_024);
                let seqs: Vec<i64> = (seq + 1..=seq + n as i64).collect();
                let ids: Vec<uuid::Uuid> = (0..n).map(|_| uuid::Uuid::now_v7()).collect();
                let bodies = vec![body.clone(); n];
                let hashes = vec![hash.clone(); n];
                left -= n;
                seq += n as i64;
                if left > 0 {
                    client.execute(&insert, &[&seqs, &ids, &bodies, &hashes]).await.unwrap();
                } else {
                    let payload = seq.to_string();
                    let recorded_at = "2026-01-01T00:00:00Z";
                    let rows: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [&seqs, &ids, &bodies, &hashes];
                    let head: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&seq, &hash, &recorded_at];
                    let note: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&"bare", &payload];
                    tokio::try_join!(
                        client.execute(&insert, &rows),
                        client.execute(&anchor, &head),
                        client.execute(&notify, &note),
                        client.batch_execute("COMMIT")
                    )
                    .unwrap();
                }
            }
            if total.is_some() || Instant::now() >= deadline {
                break;
            }
        }
        seq as f64 / started.elapsed().as_secs_f64()
    })
}

fn main() {
    let seconds = env_f64("GOVLEDGER_BENCH_SECONDS", 3.0).clamp(0.5, 60.0);
    let scale = env_f64("GOVLEDGER_BENCH_SCALE", 0.25).clamp(0.01, 25.0);
    let pg = PgServer::start().expect("PostgreSQL for the bench (apt-get install postgresql)");
    let embedded = run("embedded", &pg, scale, seconds);
    let postgres = run("postgres", &pg, scale, seconds);
    let head = {
        let s = PgStore::connect(&PgConfig::parse(&pg.url("bench")).unwrap()).unwrap();
        s.reader().anchor().unwrap().map_or(0, |h| h.seq)
    };
    eprintln!("PostgreSQL ledger head after the run: {head}");
    let imported = (govledger_demo::events(&govledger_demo::DemoConfig {
        seed: 2026,
        scale,
        until: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
    }))
    .count();
    let bare_import = bare(&pg, &postgres.sample_body, 0, seconds, Some(imported));

    println!("demo city scale {scale}: {imported} events imported; {seconds} s per ingest scenario");
    println!();
    println!(
        "| scenario | embedded events/s | PostgreSQL events/s | p50 / p99 ms (PG) | events per commit (PG) | bare tokio-postgres events/s | PG / bare |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| import ({imported} events, one transaction) | {:.0} | {:.0} | | {imported} | {:.0} | {:.2} |",
        embedded.import_eps,
        postgres.import_eps,
        bare_import,
        postgres.import_eps / bare_import
    );
    for (e, p) in embedded.ingest.iter().zip(&postgres.ingest) {
        let per_txn = p.4.round().max(1.0) as usize;
        let bare_eps = bare(&pg, &postgres.sample_body, per_txn, seconds, None);
        println!(
            "| {} | {:.0} | {:.0} | {:.2} / {:.2} | {:.1} | {:.0} | {:.2} |",
            p.0,
            e.1,
            p.1,
            p.2,
            p.3,
            p.4,
            bare_eps,
            p.1 / bare_eps
        );
    }
}
