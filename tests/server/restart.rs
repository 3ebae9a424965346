//! Stopping and starting: a graceful stop (SIGTERM) while clients append
//! loses no acknowledged event and exits 0; a restart serves the same log,
//! head, agencies, tokens and assessment (from the projection checkpoint
//! saved at the stop); `serve --demo` starts on a demo city and a
//! token for it, and does not overwrite an existing ledger.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::support::*;

const WRITERS: usize = 16;
const EVENTS_PER_WRITER: usize = 60;
/// Acknowledged appends after which the server is told to stop.
const STOP_AFTER: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_stop_keeps_every_acknowledged_event_and_restart_serves_the_same() {
    let fx = Fixture::new();
    let token = fx.token("bank-3", "agency");
    let auditor = fx.token("regulator", "auditor");
    let server = fx.serve(&[]);
    let base = server.base.clone();

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let client = Client { http: reqwest::Client::new(), base: base.clone(), token: Some(token.clone()) };
            let (acknowledged, enough) = (acknowledged.clone(), enough.clone());
            tokio::spawn(async move {
                let mut stored = Vec::new();
                for k in 0..EVENTS_PER_WRITER {
                    let event = publicity("bank-3", &format!("PUB-{w}-{k}"), Some(&new_id()));
                    let body = event.to_string();
                    let sent = client
                        .http
                        .post(format!("{}/v1/events", client.base))
                        .bearer_auth(client.token.as_deref().unwrap())
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    // Once the server stops accepting, connections are refused or closed: stop writing.
                    let Ok(response) = sent else { break };
                    let status = response.status();
                    let Ok(reply) = response.json::<Value>().await else { break };
                    assert_eq!(status.as_u16(), 201, "writer {w}: {reply}");
                    stored.push(reply);
                    if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == STOP_AFTER {
                        enough.notify_one();
                    }
                }
                stored
            })
        })
        .collect();

    enough.notified().await;
    let (status, stdout) = tokio::task::spawn_blocking(move || server.stop()).await.unwrap();
    assert!(status.success(), "the server exited with {status:?}");
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.expect("a writer panicked"));
    }
    assert!(acked.len() >= STOP_AFTER);
    let head_line = stdout.lines().find(|l| l.starts_with("stopped; head seq ")).expect("no stop line").to_owned();

    // Restart: everything acknowledged is there, at the seq and hash it was acknowledged with.
    let server = fx.serve(&[]);
    let reader = Client::new(&server, Some(&auditor));
    let events = reader.all_events().await;
    let head = events.last().unwrap();
    assert_eq!(head_line, format!("stopped; head seq {} hash {}", head["seq"], head["hash"].as_str().unwrap()));
    for a in &acked {
        let seq = a["seq"].as_u64().unwrap() as usize;
        assert_eq!(&events[seq - 1], a, "acknowledged event at seq {seq} differs after the restart");
    }
    assert!(events.len() >= CITY_EVENTS as usize + acked.len());
    let report = reader.get("/v1/verify").await.body;
    assert_eq!(report["ok"], true, "{report}");

    // A second restart serves exactly the same log, head and agencies; tokens survive.
    let q = "{ head { seq hash recordedAt } agencies { agencyId kind roles registeredSeq } }";
    let before = reader.graphql(q, json!({})).await.body;
    // …and the same assessment, from the projection checkpoint written at the stop.
    let aq = "{ assessment(from: \"2024-01-01T00:00:00Z\", to: \"2030-01-01T00:00:00Z\") { asOfSeq headHash
        agencies { agencyId rank score deductions indicators { id value numerator denominator evidence } } } }";
    let assessment = reader.graphql(aq, json!({})).await.body;
    assert_eq!(assessment["data"]["assessment"]["asOfSeq"], head["seq"], "{assessment}");
    let (status, _) = server.stop();
    assert!(status.success());
    let checkpoint = fx.data().join("projection.ckpt");
    let saved = std::fs::metadata(&checkpoint).expect("no projection checkpoint after a graceful stop").modified();
    let server = fx.serve(&[]);
    let reader = Client::new(&server, Some(&auditor));
    assert_eq!(reader.graphql(q, json!({})).await.body, before);
    assert_eq!(reader.graphql(aq, json!({})).await.body, assessment);
    // Started from the checkpoint at the head: nothing was folded, so it was not rewritten.
    assert_eq!(std::fs::metadata(&checkpoint).unwrap().modified().unwrap(), saved.unwrap());
    assert_eq!(reader.all_events().await, events);
    let writer = Client::new(&server, Some(&token));
    let r = writer.append(&publicity("bank-3", "PUB-after-restart", None)).await;
    assert_eq!(r.body["seq"], json!(events.len() + 1), "{}", r.text);
    assert_eq!(r.body["prev_hash"], head["hash"]);
}

#[tokio::test]
async fn serve_demo_starts_on_a_demo_city_with_a_token() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data, root.path(), &["--demo"]);
    let token_line = server
        .preamble
        .iter()
        .find(|l| l.starts_with("demo coordinator token"))
        .unwrap_or_else(|| panic!("no demo token printed: {:?}", server.preamble));
    let token = token_line.rsplit(' ').next().unwrap().to_owned();
    assert!(token.starts_with("glt_"), "{token_line}");
    let client = Client::new(&server, Some(&token));
    let r = client.graphql("{ head { seq } agencies(role: COORDINATOR) { agencyId } verify { ok } }", json!({})).await;
    let head = r.body["data"]["head"]["seq"].as_u64().unwrap_or(0);
    assert!(head > 1_000, "the demo city is too small: {}", r.text);
    assert_eq!(r.body["data"]["verify"]["ok"], true);
    assert!(token_line.contains(r.body["data"]["agencies"][0]["agencyId"].as_str().unwrap()), "{token_line}");
    let (status, _) = server.stop();
    assert!(status.success());

    // On a directory that holds a ledger, --demo serves it as it is.
    let server = Server::start(&data, root.path(), &["--demo"]);
    assert!(server.preamble.iter().all(|l| !l.contains("token")), "{:?}", server.preamble);
    assert_eq!(Client::new(&server, Some(&token)).head_seq().await, head);
}

/// Issue 18: `serve` saves the validation state's snapshot at its interval
/// while the head moves, so that even after a kill -9 the next start folds
/// only the events after it; a graceful stop saves it at the head.
#[tokio::test]
async fn a_restart_folds_only_the_events_after_the_state_snapshot() {
    let fx = Fixture::new();
    let token = fx.token("bank-3", "agency");
    let server = fx.serve(&["--snapshot-interval-s", "1"]);
    // The fixture's `import` saved the snapshot at its end: nothing to fold.
    assert!(server.log().contains(" folded=0 "), "the first start opens from the import's snapshot:\n{}", server.log());
    let writer = Client::new(&server, Some(&token));
    let first = writer.append(&publicity("bank-3", "PUB-snap-1", None)).await;
    let saved_seq = first.body["seq"].as_u64().expect("stored");
    // The interval's save: poll the server's log for it (bounded).
    let saved = format!("seq={saved_seq} ");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !server.log().lines().any(|l| l.contains("saved the state snapshot") && l.contains(&saved)) {
        assert!(std::time::Instant::now() < deadline, "no snapshot saved at seq {saved_seq}:\n{}", server.log());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(fx.data().join("state.snapshot")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the snapshot is the owner's only");
    let second = writer.append(&publicity("bank-3", "PUB-snap-2", None)).await;
    assert_eq!(second.status.as_u16(), 201, "{}", second.text);

    // No clean stop: the snapshot on disk is the interval's.
    let pid = server.pid();
    assert!(std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
    drop(server);
    let server = fx.serve(&[]);
    let log = server.log();
    let opened = log.lines().find(|l| l.contains("opened the ledger")).unwrap_or_else(|| panic!("{log}"));
    assert!(opened.contains(&format!("snapshot_seq={saved_seq} ")), "{opened}");
    assert!(opened.contains("folded=1 "), "only the event after the snapshot is folded: {opened}");
    // The state is whole: the rules still know both activities, and the chain goes on.
    let writer = Client::new(&server, Some(&token));
    let again = writer.append(&publicity("bank-3", "PUB-snap-1", None)).await;
    assert_eq!(again.code(), "publicity.already_exists", "the activity id is known to the rules: {}", again.text);
    let third = writer.append(&publicity("bank-3", "PUB-snap-3", None)).await;
    assert_eq!(third.body["prev_hash"], second.body["hash"], "{}", third.text);

    // A graceful stop saves the snapshot at the head: the next start folds nothing.
    let (status, _) = server.stop();
    assert!(status.success());
    let server = fx.serve(&[]);
    let head = third.body["seq"].as_u64().unwrap();
    assert!(server.log().contains(&format!("snapshot_seq={head} folded=0 ")), "{}", server.log());
}
