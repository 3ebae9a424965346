//! 32 concurrent clients append thousands of events over real TCP, racing
//! conflicting lifecycle steps: eight clients per bank answer the same
//! freeze requests, half executing and half rejecting, so every freeze is
//! contested by eight answers of which exactly one may win. Each accepted
//! event must be stored exactly once (at the seq and hash its client was
//! told), each loser must get `freeze.already_answered`, retries must return
//! the stored event, and the chain must verify afterwards.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const CLIENTS: usize = 32;
const FREEZES_PER_BANK: usize = 200;
const PUBLICITY_PER_CLIENT: usize = 40;
/// Every RETRY_EVERY-th answer is sent twice with the same id.
const RETRY_EVERY: usize = 10;

/// What one client saw.
#[derive(Default)]
struct Seen {
    /// freeze id → the event the client was told it stored.
    won: Vec<(String, Value)>,
    /// Codes of refused answers.
    refused: Vec<String>,
    /// Events stored by non-contested appends.
    other: Vec<Value>,
    requests: usize,
}

/// (status, stored event, error code) of an append through HTTP or GraphQL.
async fn append(client: &Client, graphql: bool, event: &Value) -> (u16, Option<Value>, Option<String>) {
    if graphql {
        let r = client.append_gql(event).await;
        match r.body["errors"][0]["extensions"]["status"].as_u64() {
            Some(status) => (status as u16, None, Some(r.gql_code().to_owned())),
            None => (201, Some(r.body["data"]["event"].clone()), None),
        }
    } else {
        let r = client.append(event).await;
        if r.status.is_success() {
            (r.status.as_u16(), Some(r.body.clone()), None)
        } else {
            (r.status.as_u16(), None, Some(r.code().to_owned()))
        }
    }
}

async fn run_client(client: Client, index: usize, graphql: bool) -> Seen {
    let bank = BANKS[index % BANKS.len()];
    let peer = index / BANKS.len(); // 0..8 among the clients of one bank
    let execute = peer.is_multiple_of(2);
    let mut seen = Seen::default();
    for k in 0..FREEZES_PER_BANK {
        // Each peer starts at a different place, so races happen all along the list.
        let n = (k + peer * FREEZES_PER_BANK / 8) % FREEZES_PER_BANK;
        let freeze = format!("F-{bank}-{n}");
        let id = new_id();
        let event = freeze_answer(&freeze, bank, execute, Some(&id));
        let (status, stored, code) = append(&client, graphql, &event).await;
        seen.requests += 1;
        match (status, stored, code) {
            (201, Some(stored), None) => {
                if k % RETRY_EVERY == 0 {
                    let (again, replayed, _) = append(&client, graphql, &event).await;
                    seen.requests += 1;
                    // GraphQL does not distinguish 200 from 201; HTTP must say 200.
                    assert_eq!(again, if graphql { 201 } else { 200 }, "retry of {freeze}");
                    assert_eq!(
                        replayed.as_ref().map(|e| (&e["seq"], &e["hash"])),
                        Some((&stored["seq"], &stored["hash"]))
                    );
                }
                seen.won.push((freeze, stored));
            }
            (409, None, Some(code)) => seen.refused.push(code),
            other => panic!("client {index}: unexpected answer for {freeze}: {other:?}"),
        }
    }
    for k in 0..PUBLICITY_PER_CLIENT {
        let (status, stored, code) =
            append(&client, graphql, &publicity(bank, &format!("PUB-{index}-{k}"), None)).await;
        seen.requests += 1;
        assert_eq!((status, code), (201, None), "client {index}: publicity {k}");
        seen.other.push(stored.unwrap());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_racing_lifecycle_steps() {
    let fx = Fixture::new();
    let police = fx.token("police", "agency");
    let bank_tokens: HashMap<&str, String> = BANKS.iter().map(|b| (*b, fx.token(b, "agency"))).collect();
    let server = fx.serve(&[]);
    let police = Client::new(&server, Some(&police));

    // The contested freezes, requested in batches.
    for bank in BANKS {
        let batch: Vec<Value> =
            (0..FREEZES_PER_BANK).map(|n| freeze_request(&format!("F-{bank}-{n}"), bank, None)).collect();
        let r = police.append_batch(&batch).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let setup_head = police.head_seq().await;
    assert_eq!(setup_head, CITY_EVENTS + (BANKS.len() * FREEZES_PER_BANK) as u64);

    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let mut client = Client::new(&server, Some(&bank_tokens[BANKS[i % BANKS.len()]]));
            // Each client its own connection pool, as separate programs would have.
            client.http = reqwest::Client::new();
            // Four of the 32 use GraphQL's typed mutations instead of HTTP.
            tokio::spawn(run_client(client, i, i % 8 == 7))
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.expect("a client panicked"));
    }
    let elapsed_s = started.elapsed().as_secs_f64();
    let requests: usize = seen.iter().map(|s| s.requests).sum();
    eprintln!(
        "{CLIENTS} clients: {requests} requests in {elapsed_s:.1} s ({:.0} requests/s)",
        requests as f64 / elapsed_s
    );

    // Exactly one winner per freeze; every loser told why.
    let mut winners: BTreeMap<String, Value> = BTreeMap::new();
    for (freeze, stored) in seen.iter().flat_map(|s| s.won.iter()) {
        assert!(winners.insert(freeze.clone(), stored.clone()).is_none(), "{freeze} was answered twice");
    }
    assert_eq!(winners.len(), BANKS.len() * FREEZES_PER_BANK, "every freeze has exactly one accepted answer");
    let refused: Vec<&String> = seen.iter().flat_map(|s| s.refused.iter()).collect();
    assert_eq!(refused.len(), CLIENTS * FREEZES_PER_BANK - winners.len());
    assert!(refused.iter().all(|c| *c == "freeze.already_answered"), "unexpected codes");

    // The log holds exactly what was acknowledged, each once, where the client was told.
    // An auditor reads every event and the metrics (an agency token only its own parties' events).
    let reader = Client::new(&server, Some(&fx.token("regulator", "auditor")));
    let events = reader.all_events().await;
    let publicity_events: usize = seen.iter().map(|s| s.other.len()).sum();
    assert_eq!(events.len(), setup_head as usize + winners.len() + publicity_events);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], json!(i as u64 + 1), "seqs are 1, 2, 3 … without gaps");
        if i > 0 {
            assert_eq!(e["prev_hash"], events[i - 1]["hash"], "link at seq {}", i + 1);
        }
    }
    let by_seq: HashMap<u64, &Value> = events.iter().map(|e| (e["seq"].as_u64().unwrap(), e)).collect();
    let mut answers_in_log: BTreeMap<String, u64> = BTreeMap::new();
    for e in &events {
        if e["type"] == "FreezeExecuted" || e["type"] == "FreezeRejected" {
            *answers_in_log.entry(e["data"]["freeze_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    assert!(answers_in_log.values().all(|n| *n == 1) && answers_in_log.len() == winners.len());
    for stored in winners.values().chain(seen.iter().flat_map(|s| s.other.iter())) {
        let seq = stored["seq"].as_u64().unwrap();
        let logged = by_seq[&seq];
        assert_eq!(
            (&logged["id"], &logged["hash"], &logged["type"]),
            (&stored["id"], &stored["hash"], &stored["type"])
        );
    }

    // The server's own check, its metrics, and the CLI's check after a graceful stop.
    let report = reader.get("/v1/verify").await.body;
    assert_eq!((report["ok"].clone(), report["events"].clone()), (json!(true), json!(events.len())));
    let metrics = reader.get("/metrics").await.text;
    let line = format!("govledger_rejections_total{{code=\"freeze.already_answered\"}} {}", refused.len());
    assert!(metrics.contains(&line), "expected {line:?} in\n{metrics}");
    let (status, stdout) = server.stop();
    assert!(status.success());
    assert!(stdout.contains(&format!("stopped; head seq {}", events.len())), "{stdout}");
    let (code, out, err) = govledger(&fx.data(), &["verify", "--lang", "en"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with(&format!("ok: {} events", events.len())), "{out}");
}
