//! Two `govledger serve` replicas on one PostgreSQL database (issue 20),
//! over real HTTP: 16 clients append through both at once and race the
//! same freeze answers through both. Every acknowledged event is stored
//! once, at the seq its client was told; exactly one answer per freeze
//! wins; both replicas follow each other (LISTEN/NOTIFY, within a bounded
//! wait) to the same head, serve the same events and the same assessment,
//! and `govledger verify --store postgres://…` passes. The tokens are the
//! schema's (issue 19): issued through one replica's host they work on the
//! other, a revocation reaches both within the bound, and `token import`
//! brings the tokens of an embedded data directory along.
//!
//! Needs PostgreSQL's binaries (CI installs Debian's `postgresql`); the test
//! starts its own server on 127.0.0.1. `GOVLEDGER_SKIP_POSTGRES=1` skips it.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use govledger_store_postgres::test_server::PgServer;
use serde_json::{Value, json};

use crate::support::*;

const FREEZES: usize = 30;
const PUBLICITY_PER_CLIENT: usize = 15;

fn token_on(data: &Path, url: &str, agency: &str, role: &str) -> String {
    let (code, stdout, stderr) =
        govledger(data, &["--store", url, "token", "issue", "--agency", agency, "--role", role]);
    assert_eq!(code, Some(0), "token issue {agency} {role}: {stderr}");
    stdout.trim().to_owned()
}

/// Imports the fixture [`city`] into the store of `data` (`store`: the
/// `--store` arguments, empty for the embedded one).
fn import_city(root: &Path, data: &Path, store: &[&str]) {
    let city_file = root.join("city.ndjson");
    std::fs::write(&city_file, ndjson(&city())).unwrap();
    let args = [store, &["import", city_file.to_str().unwrap()]].concat();
    let (code, _, stderr) = govledger(data, &args);
    assert_eq!(code, Some(0), "import {store:?}: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_serve_one_chain() {
    let Some(pg) = PgServer::start_or_skip("two_replicas_on_one_postgres_serve_one_chain") else { return };
    let url = pg.url("replicas");
    let root = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (root.path().join("a"), root.path().join("b"));
    import_city(root.path(), &data_a, &["--store", &url]);

    let a = Server::start(&data_a, root.path(), &["--store", &url, "--follow-interval-ms", "500"]);
    let b = Server::start(&data_b, root.path(), &["--store", &url, "--follow-interval-ms", "500"]);
    let police = Client::new(&a, Some(&token_on(&data_a, &url, "police", "agency")));
    let bank_a = Client::new(&a, Some(&token_on(&data_a, &url, "bank-0", "agency")));
    let bank_b = Client::new(&b, Some(&token_on(&data_b, &url, "bank-0", "agency")));
    let requests: Vec<Value> = (0..FREEZES).map(|n| freeze_request(&format!("PG-{n}"), "bank-0", None)).collect();
    let r = police.append_batch(&requests).await;
    assert!(r.status.is_success(), "{:?}", r.body);

    // 8 publicity clients per replica, and one answerer per replica racing on every freeze.
    let mut tasks = Vec::new();
    for (replica, server) in [(0, &a), (1, &b)] {
        let data = if replica == 0 { &data_a } else { &data_b };
        for i in 0..8 {
            let actor = BANKS[i % BANKS.len()];
            let client = Client::new(server, Some(&token_on(data, &url, actor, "agency")));
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for k in 0..PUBLICITY_PER_CLIENT {
                    let r = client.append(&publicity(actor, &format!("pg-{replica}-{i}-{k}"), None)).await;
                    assert!(r.status.is_success(), "replica {replica} client {i}: {:?}", r.body);
                    acked.push(r.body.clone());
                }
                acked
            }));
        }
    }
    let answer = |client: Client, execute: bool| {
        tokio::spawn(async move {
            let mut won = Vec::new();
            for n in 0..FREEZES {
                let r = client.append(&freeze_answer(&format!("PG-{n}"), "bank-0", execute, None)).await;
                if r.status.is_success() {
                    won.push(r.body.clone());
                } else {
                    assert_eq!(r.code(), "freeze.already_answered", "{:?}", r.body);
                }
            }
            won
        })
    };
    tasks.push(answer(bank_a, true));
    tasks.push(answer(bank_b, false));
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.expect("a client task"));
    }
    assert_eq!(acked.len(), 16 * PUBLICITY_PER_CLIENT + FREEZES, "one winner per freeze");

    // Both replicas reach the head (followed, not appended to, by the other).
    let head = CITY_EVENTS + FREEZES as u64 + acked.len() as u64;
    let reader_a = Client::new(&a, Some(&token_on(&data_a, &url, "regulator", "auditor")));
    let reader_b = Client::new(&b, Some(&token_on(&data_b, &url, "regulator", "auditor")));
    let deadline = Instant::now() + Duration::from_secs(30);
    while reader_a.head_seq().await != head || reader_b.head_seq().await != head {
        assert!(Instant::now() < deadline, "the replicas did not reach head {head}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (events_a, events_b) = (reader_a.all_events().await, reader_b.all_events().await);
    assert_eq!(events_a, events_b, "both replicas serve the same events");
    assert_eq!(events_a.len() as u64, head);
    let stored: HashMap<&str, &Value> = events_a.iter().map(|e| (e["id"].as_str().unwrap(), e)).collect();
    assert_eq!(stored.len() as u64, head, "every event once");
    for ack in &acked {
        let id = ack["id"].as_str().unwrap();
        assert_eq!(stored.get(id).map(|e| (&e["seq"], &e["hash"])), Some((&ack["seq"], &ack["hash"])), "{id}");
    }
    let query = "query { assessment(from: \"2024-01-01T00:00:00Z\", to: \"2025-01-01T00:00:00Z\") { asOfSeq headHash agencies { agencyId score indicators { id numerator denominator } } } }";
    let (doc_a, doc_b) = (reader_a.graphql(query, json!({})).await, reader_b.graphql(query, json!({})).await);
    assert!(doc_a.body["errors"].is_null(), "{:?}", doc_a.body);
    assert_eq!(doc_a.body, doc_b.body, "both replicas serve the same assessment");
    assert_eq!(doc_a.body["data"]["assessment"]["asOfSeq"], json!(head));

    let (code, stdout, stderr) = govledger(&data_a, &["--store", &url, "verify", "--lang", "en"]);
    assert_eq!(code, Some(0), "verify: {stdout}{stderr}");
    assert!(stdout.contains(&format!("ok: {head} events")), "{stdout}");
}

/// The id of the one token of `agency` in the store of `data` (`store`: the
/// `--store` arguments, empty for the embedded one; `token list --json`).
fn token_id_on(data: &Path, store: &[&str], agency: &str) -> String {
    let args = [store, &["token", "list", "--json"]].concat();
    let (code, stdout, stderr) = govledger(data, &args);
    assert_eq!(code, Some(0), "token list: {stderr}");
    let ids: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|t| t["agency"] == agency)
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{stdout}");
    ids[0].clone()
}

/// Issue 19: the tokens live in the PostgreSQL schema, not in a replica's
/// data directory. A token issued through replica A's host works on replica
/// B at once; revoked through A's host, B (which had just accepted it) and A
/// refuse it within `REVOCATION_BOUND` (a bounded poll from the moment the
/// revocation was committed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_one_replica_is_refused_by_the_other_within_the_bound() {
    let Some(pg) = PgServer::start_or_skip("a_revocation_through_one_replica_is_refused_by_the_other_within_the_bound")
    else {
        return;
    };
    let url = pg.url("shared_tokens");
    let root = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (root.path().join("a"), root.path().join("b"));
    import_city(root.path(), &data_a, &["--store", &url]);
    let a = Server::start(&data_a, root.path(), &["--store", &url]);
    let b = Server::start(&data_b, root.path(), &["--store", &url]);

    let token = token_on(&data_a, &url, "bank-0", "agency");
    let (on_a, on_b) = (Client::new(&a, Some(&token)), Client::new(&b, Some(&token)));
    for client in [&on_b, &on_b, &on_a] {
        let r = client.get("/v1/events?limit=1").await;
        assert_eq!(r.status, 200, "issued through A's host, accepted by every replica: {:?}", r.body);
    }
    assert!(!data_b.join("tokens.sqlite").exists(), "replica B keeps no token file");

    let id = token_id_on(&data_a, &["--store", &url], "bank-0");
    let (code, stdout, stderr) = govledger(&data_a, &["--store", &url, "token", "revoke", &id]);
    assert_eq!(code, Some(0), "token revoke: {stdout}{stderr}");
    let revoked = Instant::now();
    for (name, client) in [("B", &on_b), ("A", &on_a)] {
        loop {
            let r = client.get("/v1/events?limit=1").await;
            if r.status == 401 {
                assert_eq!(r.code(), "auth.invalid_token", "{:?}", r.body);
                break;
            }
            assert_eq!(r.status, 200, "{:?}", r.body);
            assert!(
                revoked.elapsed() < govledger_credentials::REVOCATION_BOUND,
                "replica {name} still accepts the token {:?} after its revocation",
                revoked.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Moving a deployment from the embedded store to PostgreSQL (RUNBOOK,
/// "Tokens on a shared store"): `migrate` moves the ledger, `token import`
/// the tokens of the old `tokens.sqlite` — the one in use keeps working on
/// a replica on PostgreSQL, the revoked one stays revoked — and a second
/// import copies nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_an_embedded_directory_are_imported_into_postgres() {
    let Some(pg) = PgServer::start_or_skip("tokens_of_an_embedded_directory_are_imported_into_postgres") else {
        return;
    };
    let url = pg.url("imported_tokens");
    let root = tempfile::tempdir().unwrap();
    let (old, new) = (root.path().join("old"), root.path().join("new"));
    import_city(root.path(), &old, &[]);
    let in_use = issue_token(&old, "bank-0", "agency");
    let gone = issue_token(&old, "regulator", "auditor");
    let gone_id = token_id_on(&old, &[], "regulator");
    assert_eq!(govledger(&old, &["token", "revoke", &gone_id]).0, Some(0));
    let (code, _, stderr) = govledger(&old, &["migrate", "--from", old.to_str().unwrap(), "--to", &url]);
    assert_eq!(code, Some(0), "migrate: {stderr}");

    let (code, stdout, stderr) = govledger(&old, &["--store", &url, "token", "import"]);
    assert_eq!(code, Some(0), "token import: {stderr}");
    assert!(stdout.contains("copied 2 tokens") && stdout.contains("(0 were there already)"), "{stdout}");
    let (code, stdout, _) = govledger(&old, &["--store", &url, "token", "import"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("copied 0 tokens") && stdout.contains("(2 were there already)"), "{stdout}");
    let (code, _, stderr) = govledger(&old, &["token", "import"]);
    assert_eq!(code, Some(2), "the embedded store reads tokens.sqlite itself");
    assert!(stderr.contains("--store"), "{stderr}");

    let server = Server::start(&new, root.path(), &["--store", &url]);
    let r = Client::new(&server, Some(&in_use)).get("/v1/events?limit=1").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = Client::new(&server, Some(&gone)).get("/v1/events?limit=1").await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "auth.invalid_token"), "{:?}", r.body);
}
