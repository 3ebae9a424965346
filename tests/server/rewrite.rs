//! The dishonest operator of SPEC 6 ("operator's rewrite, caught"): with a
//! witness watching, an agency keeps receipts; the operator stops the server,
//! rewrites an old event, rehashes the whole chain after it (so `verify` and
//! `/healthz` find nothing wrong), hides the old tree and checkpoints
//! (`<data-dir>/tlog/`) and restarts with the same log key. The new
//! checkpoint is signed, but the witness refuses it and keeps both
//! checkpoints as evidence, and `govledger proof verify` with the old receipt
//! and the new checkpoint says history was rewritten. Without hiding the
//! tree, the server itself reports the chain broken at start and serves no
//! proof that contradicts the checkpoints it signed before.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;
use crate::tlog_support::*;

/// Fetches a receipt and writes it to `dir/name`; returns the path.
async fn save_receipt(client: &Client, id: &str, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let r = client.get(&format!("/v1/receipts/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let path = dir.join(name);
    std::fs::write(&path, &r.text).unwrap();
    path
}

/// Fetches `path` (a proof or checkpoint) and writes the body to `dir/name`.
async fn save(client: &Client, path: &str, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let r = client.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    let file = dir.join(name);
    std::fs::write(&file, &r.text).unwrap();
    file
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewrite_of_history_is_refused_by_the_witness_and_caught_by_an_old_receipt() {
    let fx = Fixture::new();
    let police = fx.token("police", "agency");
    let auditor = fx.token("regulator", "auditor");
    let (code, vkey, stderr) = govledger(&fx.data(), &["key"]);
    assert_eq!(code, Some(0), "{stderr}");
    let vkey = vkey.trim().to_owned();
    let witness = Witness::start(&fx.root.path().join("witness"), "agency-witness.example/w", &vkey, "127.0.0.1:0");
    let wkey = witness.verifier_key.clone();
    let flags = ["--checkpoint-interval-ms", INTERVAL_MS, "--witness", &witness.flag()];
    let keep = tempfile::tempdir().unwrap();

    // --- The honest log: the police keep a receipt of their case report (seq 9). ---
    let server = fx.serve(&flags);
    let client = Client::new(&server, Some(&police));
    let witnessed = |size: u64| {
        let (vkey, wkey) = (vkey.clone(), wkey.clone());
        move |n: &str| note_size(n) == size && open_note(n, &vkey, &[&wkey]).cosigned_by.len() == 1
    };
    wait_for_checkpoint(&client, "at 10, witnessed", witnessed(CITY_EVENTS)).await;
    let events = Client::new(&server, Some(&auditor)).all_events().await;
    let case = events.iter().find(|e| e["type"] == "FraudCaseReported").unwrap();
    assert_eq!(case["seq"], 9);
    let case_id = case["id"].as_str().unwrap().to_owned();
    let old_receipt = save_receipt(&client, &case_id, keep.path(), "case-at-10.tlog-proof").await;

    // The log grows honestly; the old receipt is consistent with the new checkpoint.
    let more: Vec<Value> = (0..2).map(|k| publicity("police", &format!("PUB-H-{k}"), None)).collect();
    let r = client.append_batch(&more).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let head = CITY_EVENTS + 2;
    let honest = wait_for_checkpoint(&client, "at 12, witnessed", witnessed(head)).await;
    let honest_file = keep.path().join("honest-12.checkpoint");
    std::fs::write(&honest_file, &honest).unwrap();
    let proof =
        save(&client, &format!("/v1/proof/consistency?from={CITY_EVENTS}&to={head}"), keep.path(), "h.json").await;
    let v =
        proof_verify(&[s(&old_receipt), "--key", &vkey, "--checkpoint", s(&honest_file), "--consistency", s(&proof)]);
    assert_eq!(v.code, Some(0), "an honest extension must verify: {v:?}");
    assert!(v.stdout.contains("consistent with"), "{v:?}");
    // A receipt at the head, witnessed.
    let head_receipt = save_receipt(&client, &case_id, keep.path(), "case-at-12.tlog-proof").await;
    let v = proof_verify(&[s(&head_receipt), "--key", &vkey, "--witness", &wkey, "--quorum", "1"]);
    assert_eq!(v.code, Some(0), "{v:?}");
    assert!(server.stop().0.success());

    // --- The rewrite: the loss becomes 1, the chain is rehashed, the old tree hidden. ---
    rewrite_and_rehash(&fx.data(), 9, |e| e["data"]["loss_minor"] = json!(1));
    std::fs::remove_dir_all(fx.data().join("tlog")).expect("the server keeps its tree in <data-dir>/tlog");
    let (code, stdout, _) = govledger(&fx.data(), &["verify"]);
    assert_eq!(code, Some(0), "the rehashed chain verifies on its own (that is the threat): {stdout}");

    let server = fx.serve(&flags);
    let client = Client::new(&server, Some(&police));
    assert_eq!(log_key(&client).await, vkey, "the operator restarts with the same log key");

    // The new checkpoint is signed by the log's key, at the same size, over another tree.
    let rewritten = wait_for_size(&client, head).await;
    let new_cp = open_note(&rewritten, &vkey, &[&wkey]);
    let old_cp = open_note(&honest, &vkey, &[&wkey]);
    assert_ne!(new_cp.checkpoint.root, old_cp.checkpoint.root, "the rewritten tree has another root");

    // The witness refuses it and keeps both checkpoints as evidence; the server logs the refusal.
    wait_until("witness evidence of the fork", || !witness.evidence().is_empty()).await;
    let (path, evidence) = witness.evidence().remove(0);
    assert!(
        evidence.contains(note_body(&honest)) && evidence.contains(note_body(&rewritten)),
        "{} must hold both checkpoints:\n{evidence}",
        path.display()
    );
    // The server takes the witness's refusal as evidence of a fork: broken, nothing more signed or proven.
    let health = wait_for_health(&client, "broken", |st, _| st == StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(health["chain"]["reason"].as_str().unwrap().contains("refused the checkpoint"), "{health}");
    let latest = client.get("/checkpoint").await.text;
    assert!(open_note(&latest, &vkey, &[&wkey]).cosigned_by.is_empty(), "the rewritten checkpoint is not cosigned");

    // The agency's receipt at the same size: the log signed two different trees.
    let rewritten_file = keep.path().join("rewritten-12.checkpoint");
    std::fs::write(&rewritten_file, &rewritten).unwrap();
    let v = proof_verify(&[s(&head_receipt), "--key", &vkey, "--checkpoint", s(&rewritten_file)]);
    assert_eq!(v.code, Some(1), "{v:?}");
    assert!(v.stdout.starts_with("INVALID: the log signed two different trees of size 12"), "{v:?}");

    // The older receipt with a consistency proof to the new tree (the server
    // gives none now; the operator's own data directory gives it): history was rewritten.
    let r = client.get(&format!("/v1/proof/consistency?from={CITY_EVENTS}&to={head}")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(server.stop().0.success());
    let (code, json, stderr) =
        govledger(&fx.data(), &["proof", "consistency", "--from", &CITY_EVENTS.to_string(), "--to", &head.to_string()]);
    assert_eq!(code, Some(0), "{stderr}");
    let proof = keep.path().join("r.json");
    std::fs::write(&proof, json).unwrap();
    let v = proof_verify(&[
        s(&old_receipt),
        "--key",
        &vkey,
        "--checkpoint",
        s(&rewritten_file),
        "--consistency",
        s(&proof),
    ]);
    assert_eq!(v.code, Some(1), "{v:?}");
    assert!(v.stdout.starts_with("INVALID: ") && v.stdout.contains("history was rewritten"), "{v:?}");
}

/// The same rewrite without hiding the kept tree: the server finds at start
/// that its tree and checkpoints disagree with the rehashed store, reports the
/// chain broken and serves no proof of the rewritten history under the
/// checkpoints it signed before (SPEC 6.1: a kept tree must agree with the
/// rebuild from the stored bodies; `Transparency::open`'s contract).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewrite_under_the_kept_tree_is_reported_broken_and_not_signed_over() {
    let fx = Fixture::new();
    let token = fx.token("police", "agency");
    let server = fx.serve(&["--checkpoint-interval-ms", INTERVAL_MS]);
    let client = Client::new(&server, Some(&token));
    let vkey = log_key(&client).await;
    let signed = wait_for_size(&client, CITY_EVENTS).await;
    let old_root = open_note(&signed, &vkey, &[]).checkpoint.root;
    assert!(server.stop().0.success());

    rewrite_and_rehash(&fx.data(), 9, |e| e["data"]["loss_minor"] = json!(1));
    let server = fx.serve(&["--checkpoint-interval-ms", INTERVAL_MS]);
    let client = Client::new(&server, Some(&token));
    let health = wait_for_health(&client, "broken", |st, _| st == StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(health["chain"]["status"], "broken", "{health}");

    // The kept checkpoint is still the one served, and the proofs served are not of another tree under it.
    let latest = client.get("/checkpoint").await;
    assert_eq!(latest.text, signed, "no checkpoint may replace the one signed before the rewrite");
    let r = client.get(&format!("/v1/proof/inclusion?seq=9&size={CITY_EVENTS}")).await;
    if r.status == StatusCode::OK {
        let proof: govledger_tlog::proof::InclusionProof = serde_json::from_value(r.body.clone()).unwrap();
        proof.verify(&old_root).expect("a proof served under the signed checkpoint must verify against it");
    }
}
