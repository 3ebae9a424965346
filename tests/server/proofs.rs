//! SPEC 6 over real HTTP against the real binary: the log key (created 0600
//! at the first start, printed, served at `/v1/log`), signed checkpoints that
//! follow the head, inclusion and consistency proofs that verify (REST and
//! GraphQL alike), an independent Python checker written from the RFC and
//! C2SP texts, receipts in the read scope of SPEC 4 that verify offline with
//! `govledger proof verify` (and a tampered one that does not), `/healthz`
//! and signing after a tampering done while the server was down, and two
//! witnesses cosigning with `--quorum 2`, keeping their state across a restart.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use govledger_tlog::merkle::{leaf_hash, to_hex};
use govledger_tlog::proof::{ConsistencyProof, InclusionProof};
use govledger_tlog::receipt::Receipt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;
use crate::tlog_support::*;

/// The canonical body of a stored event as `GET /v1/events` returns it:
/// RFC 8785 of the envelope without `hash` (SPEC 2.2), checked against `hash`.
fn canonical_body(event: &Value) -> Vec<u8> {
    let mut e = event.clone();
    let hash = e.as_object_mut().unwrap().remove("hash").expect("a stored event has a hash");
    let body = serde_json_canonicalizer::to_vec(&e).unwrap();
    assert_eq!(sha256_hex(&body), hash.as_str().unwrap(), "canonical body of seq {}", event["seq"]);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_answer_and_their_proofs_verify() {
    let fx = Fixture::new();
    // Proofs are readable with any token: an agency token that reads few events.
    let agency = fx.token("bank-3", "agency");
    let auditor = fx.token("regulator", "auditor");
    let server = fx.serve(&["--origin", "ledger.example.gov/city", "--checkpoint-interval-ms", INTERVAL_MS]);
    let client = Client::new(&server, Some(&agency));

    // The key: created at the first start, private, printed, served.
    let key = fx.data().join("log.key");
    let mode = std::fs::metadata(&key).expect("serve creates <data-dir>/log.key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the log key must be readable only by its owner");
    let printed = server
        .preamble
        .iter()
        .find_map(|l| l.strip_prefix("log verifier key: "))
        .unwrap_or_else(|| panic!("no `log verifier key:` line before listening: {:?}", server.preamble))
        .to_owned();
    let log = client.get("/v1/log").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert_eq!(
        log.body,
        json!({"origin": "ledger.example.gov/city", "verifier_key": printed, "witnesses": [], "quorum": 0})
    );
    assert!(printed.starts_with("ledger.example.gov/city+"), "{printed}");

    // The first checkpoint covers the imported city and verifies with that key.
    let note = wait_for_size(&client, CITY_EVENTS).await;
    let first = open_note(&note, &printed, &[]).checkpoint;
    assert_eq!((first.origin.as_str(), first.size), ("ledger.example.gov/city", CITY_EVENTS));

    // Every event's inclusion proof leads from SHA-256(0x00 || canonical body) to the root.
    let events = Client::new(&server, Some(&auditor)).all_events().await;
    for event in &events {
        let seq = event["seq"].as_u64().unwrap();
        let r = client.get(&format!("/v1/proof/inclusion?seq={seq}&size={CITY_EVENTS}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let proof: InclusionProof = serde_json::from_value(r.body.clone()).unwrap();
        assert_eq!((proof.seq, proof.leaf_index, proof.tree_size), (seq, seq - 1, CITY_EVENTS));
        assert_eq!(proof.leaf_hash, to_hex(&leaf_hash(&canonical_body(event))), "seq {seq}");
        proof.verify(&first.root).unwrap_or_else(|e| panic!("seq {seq}: {e}"));
        // The same proof against another root does not verify.
        assert!(proof.verify(&leaf_hash(b"another tree")).is_err());
    }

    // Appends move the head; a new checkpoint follows, the old one stays retrievable.
    let batch: Vec<Value> = (0..3).map(|k| publicity("bank-3", &format!("PUB-R-{k}"), None)).collect();
    let r = client.append_batch(&batch).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let size = CITY_EVENTS + 3;
    let latest = wait_for_size(&client, size).await;
    let second = open_note(&latest, &printed, &[]).checkpoint;
    let kept = client.get(&format!("/v1/checkpoints?size={CITY_EVENTS}")).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    assert_eq!(kept.text, note, "the checkpoint signed at size {CITY_EVENTS} is kept as it was");

    // Consistency from the old tree to the new verifies; against the wrong root it does not.
    let r = client.get(&format!("/v1/proof/consistency?from={CITY_EVENTS}&to={size}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let proof: ConsistencyProof = serde_json::from_value(r.body.clone()).unwrap();
    assert_eq!((proof.from, proof.to), (CITY_EVENTS, size));
    proof.verify(&first.root, &second.root).expect("the new tree extends the old one");
    assert!(proof.verify(&second.root, &second.root).is_err());
    // Without `to`, the proof is to the latest checkpoint; without `size`, the inclusion proof too.
    let r = client.get(&format!("/v1/proof/consistency?from={CITY_EVENTS}")).await;
    assert_eq!(r.body, serde_json::to_value(&proof).unwrap());
    let r = client.get("/v1/proof/inclusion?seq=2").await;
    assert_eq!(r.body["tree_size"], size, "{}", r.text);

    // GraphQL answers the same.
    let q = format!(
        "{{ transparencyLog {{ origin verifierKey witnesses {{ name }} quorum }} \
         checkpoint(size: {CITY_EVENTS}) {{ size rootHash note cosignedBy witnessed }} \
         latest: checkpoint {{ size }} \
         inclusionProof(seq: 2, size: {size}) {{ seq leafIndex treeSize leafHash path }} \
         consistencyProof(from: {CITY_EVENTS}, to: {size}) {{ from to path }} }}"
    );
    let r = client.graphql(&q, json!({})).await;
    assert!(r.body["errors"].is_null(), "{}", r.text);
    let d = &r.body["data"];
    assert_eq!(d["transparencyLog"]["verifierKey"], printed.as_str());
    assert_eq!(d["transparencyLog"]["quorum"], 0);
    assert_eq!(d["checkpoint"]["note"], note.as_str());
    assert_eq!(d["checkpoint"]["rootHash"], to_hex(&first.root).as_str());
    assert_eq!(d["checkpoint"]["witnessed"], false);
    assert_eq!(d["latest"]["size"], size);
    let rest = client.get(&format!("/v1/proof/inclusion?seq=2&size={size}")).await.body;
    assert_eq!(d["inclusionProof"]["path"], rest["path"]);
    assert_eq!(d["inclusionProof"]["leafHash"], rest["leaf_hash"]);
    assert_eq!(d["consistencyProof"]["path"], serde_json::to_value(&proof.path).unwrap());

    // Mistakes get their codes; no token gets nothing.
    let r = client.get(&format!("/v1/proof/inclusion?seq={}&size={size}", size + 1)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "proof.out_of_range"), "{}", r.text);
    let r = client.get(&format!("/v1/proof/consistency?from={}&to={size}", size + 1)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "proof.out_of_range"), "{}", r.text);
    let r = client.get("/v1/checkpoints?size=7").await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "proof.no_checkpoint"), "{}", r.text);
    for path in ["/checkpoint", "/v1/log", "/v1/proof/inclusion?seq=1", "/v1/receipts?after=0"] {
        let r = Client::new(&server, None).get(path).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path} without a token: {}", r.text);
    }
    let health =
        wait_for_health(&client, "ok at the head", |s, b| s == StatusCode::OK && b["chain"]["seq"] == size).await;
    assert_eq!(health, json!({"status": "ok", "chain": {"status": "ok", "seq": size}}));

    // The CLI reads the same checkpoints and proofs from the data directory (while the server runs)…
    let cli = |args: &[&str]| {
        let (code, stdout, stderr) = govledger(&fx.data(), args);
        assert_eq!(code, Some(0), "govledger {args:?}: {stderr}");
        stdout
    };
    assert_eq!(cli(&["checkpoint"]), latest);
    assert_eq!(cli(&["checkpoint", "--size", &CITY_EVENTS.to_string()]), note);
    let inclusion: Value =
        serde_json::from_str(&cli(&["proof", "inclusion", "--seq", "2", "--size", &size.to_string()])).unwrap();
    assert_eq!(inclusion, rest);
    let consistency: Value =
        serde_json::from_str(&cli(&["proof", "consistency", "--from", &CITY_EVENTS.to_string()])).unwrap();
    assert_eq!(consistency, serde_json::to_value(&proof).unwrap());

    // …and `proof verify` checks them offline against the signed checkpoints.
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let (old_cp, new_cp) = (put("old.checkpoint", &note), put("new.checkpoint", &latest));
    let inc = put("inclusion.json", &inclusion.to_string());
    let body = put("body.json", std::str::from_utf8(&canonical_body(&events[1])).unwrap());
    let v = proof_verify(&[&inc, "--key", &printed, "--checkpoint", &new_cp, "--body", &body]);
    assert_eq!(v.code, Some(0), "{v:?}");
    assert!(
        v.stdout.starts_with(&format!("valid: seq 2 is in the log ledger.example.gov/city at tree size {size}")),
        "{v:?}"
    );
    let wrong_body = put("wrong.json", std::str::from_utf8(&canonical_body(&events[2])).unwrap());
    let v = proof_verify(&[&inc, "--key", &printed, "--checkpoint", &new_cp, "--body", &wrong_body]);
    assert_eq!(v.code, Some(1), "another event's body is not the proven leaf: {v:?}");
    let con = put("consistency.json", &consistency.to_string());
    let v = proof_verify(&[&con, "--key", &printed, "--checkpoint", &old_cp, "--checkpoint", &new_cp]);
    assert_eq!(v.code, Some(0), "{v:?}");
    let forged = latest.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1);
    let v = proof_verify(&[&con, "--key", &printed, "--checkpoint", &old_cp, "--checkpoint", &put("forged", &forged)]);
    assert_eq!(v.code, Some(1), "a checkpoint whose signature no longer matches is invalid: {v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_created_once_and_kept_across_restarts() {
    let fx = Fixture::new();
    let token = fx.token("bank-1", "agency");
    let server = fx.serve(&["--origin", "first.example/log"]);
    let printed = server.preamble.iter().find_map(|l| l.strip_prefix("log verifier key: ")).unwrap().to_owned();
    assert_eq!(log_key(&Client::new(&server, Some(&token))).await, printed);
    let key_text = std::fs::read_to_string(fx.data().join("log.key")).unwrap();
    assert!(server.stop().0.success());

    // A restart (even with another --origin) serves the same key.
    let server = fx.serve(&["--origin", "second.example/log"]);
    let again = server.preamble.iter().find_map(|l| l.strip_prefix("log verifier key: ")).unwrap().to_owned();
    assert_eq!(again, printed);
    assert_eq!(std::fs::read_to_string(fx.data().join("log.key")).unwrap(), key_text);
    let (code, stdout, stderr) = govledger(&fx.data(), &["key"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), printed, "`govledger key` prints the same verifier key");
}

/// The independent checker, next to this test's sources.
fn proofs_script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/independent_proofs.py")
}

/// Runs the Python checker against a live server; fails loudly (never skips)
/// when Python or its packages are missing. Returns (exit code, stdout, stderr).
fn run_python_checker(server: &Server, token: &str) -> (Option<i32>, String, String) {
    let out = Command::new("python3").arg(proofs_script()).arg(&server.base).arg(token).output().unwrap_or_else(|e| {
        panic!("cannot run python3 ({e}); this test needs Python 3 with `pip install cryptography rfc8785` (CI installs them)")
    });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(
        out.status.code(),
        Some(3),
        "the independent check could not run: {stderr}\nrun `pip install cryptography rfc8785` (CI installs them); \
         this test must not be skipped"
    );
    (out.status.code(), stdout, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_python_checker_verifies_the_live_log() {
    let fx = Fixture::new();
    let token = fx.token("bank-2", "agency");
    let auditor = fx.token("regulator", "auditor");
    let server = fx.serve(&["--checkpoint-interval-ms", INTERVAL_MS]);
    let client = Client::new(&server, Some(&token));
    wait_for_size(&client, CITY_EVENTS).await;
    // Ten more events in one append: the next checkpoint is at 20, and 20 / 2 was signed before.
    let batch: Vec<Value> = (0..10).map(|k| publicity("bank-2", &format!("PUB-PY-{k}"), None)).collect();
    let r = client.append_batch(&batch).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    wait_for_size(&client, 2 * CITY_EVENTS).await;

    // The checker reads every event, so it runs with a token that reads everything.
    let (code, stdout, stderr) = run_python_checker(&server, &auditor);
    assert_eq!(code, Some(0), "independent proof check FAILED:\nstdout: {stdout}\nstderr: {stderr}");
    let summary = stdout.trim();
    assert!(summary.starts_with("ok: checkpoint of govledger.local/ledger at size 20 signed;"), "{summary}");
    assert!(summary.contains("root recomputed from 20 bodies"), "{summary}");
    assert!(summary.contains("(1 against older signed checkpoints)"), "{summary}");

    // The checker can fail on its own: a body rewritten in the store under the
    // running server (which checked it when it entered the tree) no longer
    // hashes to the leaf that the kept tree and the checkpoint prove.
    let db = database(&fx.data());
    let body = stored_body(&db, 1);
    let altered = body.replacen("\"name\":\"office 名称\"", "\"name\":\"office 改名\"", 1);
    assert_ne!(altered, body);
    db.execute("UPDATE events SET body = ?1, hash = ?2 WHERE seq = 1", [&altered, &sha256_hex(altered.as_bytes())])
        .unwrap();
    drop(db);
    let (code, stdout, stderr) = run_python_checker(&server, &auditor);
    assert_eq!(code, Some(1), "the checker must catch the rewritten body:\nstdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("FAILED: seq 1:"), "{stderr}");
    assert!(server.stop().0.success());
}

/// Fetches the receipt of `id` with `client`.
async fn receipt(client: &Client, id: &str) -> crate::support::Reply {
    client.get(&format!("/v1/receipts/{id}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_follow_the_read_scope_and_verify_offline() {
    let fx = Fixture::new();
    let bank1 = fx.token("bank-1", "agency");
    let bank2 = fx.token("bank-2", "agency");
    let bank0 = fx.token("bank-0", "agency");
    let auditor = fx.token("regulator", "auditor");
    let server = fx.serve(&["--checkpoint-interval-ms", INTERVAL_MS]);
    let (c1, c2, c0) =
        (Client::new(&server, Some(&bank1)), Client::new(&server, Some(&bank2)), Client::new(&server, Some(&bank0)));
    let vkey = log_key(&c1).await;
    wait_for_size(&c1, CITY_EVENTS).await;

    let own = c1.append(&publicity("bank-1", "PUB-OWN", None)).await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    let other = c2.append(&publicity("bank-2", "PUB-OTHER", None)).await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
    let (own_id, own_seq, own_hash) =
        (own.body["id"].as_str().unwrap(), own.body["seq"].as_u64().unwrap(), own.body["hash"].as_str().unwrap());
    let other_id = other.body["id"].as_str().unwrap();

    // Its own event: a tlog-proof whose extra is the canonical body (its SHA-256 is the chain hash).
    let r = receipt(&c1, own_id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{}", r.text);
    let parsed = Receipt::parse(r.text.as_bytes()).unwrap();
    assert_eq!(parsed.index, own_seq - 1);
    assert_eq!(sha256_hex(&parsed.body), own_hash);
    let cp = open_note(&parsed.checkpoint, &vkey, &[]).checkpoint;
    assert!(cp.size >= own_seq, "the receipt's checkpoint covers the event");

    // Another agency's event that does not name bank-1, and a city event it is not in: 404, like an unknown id.
    let r = receipt(&c1, other_id).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let city = Client::new(&server, Some(&auditor)).all_events().await;
    let case = city.iter().find(|e| e["type"] == "FraudCaseReported").unwrap();
    assert_eq!(receipt(&c1, case["id"].as_str().unwrap()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(receipt(&c1, &new_id()).await.status, StatusCode::NOT_FOUND);
    // An event that names bank-0 (the police's freeze request to it): bank-0 gets its receipt.
    let request = city.iter().find(|e| e["type"] == "FreezeRequested").unwrap();
    assert_eq!(receipt(&c0, request["id"].as_str().unwrap()).await.status, StatusCode::OK);
    let gql = c1.graphql("query($id: String!) { receipt(id: $id) }", json!({"id": other_id})).await;
    assert!(gql.body["data"].is_null() || gql.body["data"]["receipt"].is_null(), "{}", gql.text);
    assert_eq!(gql.gql_code(), "request.not_found", "{}", gql.text);

    // Offline: valid with the log's key; tampered or with another key, invalid.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{own_id}.tlog-proof"));
    std::fs::write(&file, r_text(&c1, own_id).await).unwrap();
    let v = proof_verify(&[file.to_str().unwrap(), "--key", &vkey]);
    assert_eq!(v.code, Some(0), "{v:?}");
    assert!(
        v.stdout.starts_with(&format!("valid: event {own_id} (seq {own_seq}, hash {own_hash}) is in the log")),
        "{v:?}"
    );

    let mut body: Value = serde_json::from_slice(&parsed.body).unwrap();
    body["data"]["reach"] = json!(121);
    let forged = serde_json_canonicalizer::to_vec(&body).unwrap();
    // The same receipt (path, index, signed checkpoint) with a changed event body.
    let tampered = Receipt { body: forged, ..parsed.clone() }.to_text();
    assert_ne!(tampered, std::fs::read_to_string(&file).unwrap());
    let tampered_file = dir.path().join("tampered.tlog-proof");
    std::fs::write(&tampered_file, &tampered).unwrap();
    let v = proof_verify(&[tampered_file.to_str().unwrap(), "--key", &vkey]);
    assert_eq!(v.code, Some(1), "a changed event body must not verify: {v:?}");
    assert!(v.stdout.starts_with("INVALID: "), "{v:?}");

    let (_, other_key) = govledger_tlog::keys::LogSigner::generate("govledger.local/ledger").unwrap();
    let other_vkey = govledger_tlog::keys::LogSigner::from_private(&other_key).unwrap().verifier_key();
    let v = proof_verify(&[file.to_str().unwrap(), "--key", &other_vkey]);
    assert_eq!(v.code, Some(1), "another log's key must not verify the receipt: {v:?}");

    // In bulk: one line per readable event, each a receipt that verifies.
    let r = c1.get("/v1/receipts?after=0&limit=100").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let lines: Vec<Value> = r.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|l| l["id"] == own_id), "{}", r.text);
    assert!(!lines.iter().any(|l| l["id"] == other_id || l["id"] == case["id"]), "{}", r.text);
    let log = govledger_tlog::keys::LogVerifier::new(&vkey).unwrap();
    for line in &lines {
        let verified =
            Receipt::parse(line["receipt"].as_str().unwrap().as_bytes()).unwrap().verify(&log, &[], 0).unwrap();
        assert_eq!(
            (verified.seq, verified.event_id.as_str()),
            (line["seq"].as_u64().unwrap(), line["id"].as_str().unwrap())
        );
    }
    let all = Client::new(&server, Some(&auditor)).get("/v1/receipts?after=3&limit=4").await;
    let seqs: Vec<u64> =
        all.text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![4, 5, 6, 7], "{}", all.text);
    let r = c1.get("/v1/receipts?after=0&limit=0").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

async fn r_text(client: &Client, id: &str) -> String {
    let r = receipt(client, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_tampered_while_down_is_reported_broken_and_not_signed_over() {
    let fx = Fixture::new();
    let token = fx.token("bank-3", "agency");
    let server = fx.serve(&["--checkpoint-interval-ms", INTERVAL_MS]);
    let client = Client::new(&server, Some(&token));
    let before = wait_for_size(&client, CITY_EVENTS).await;
    wait_for_health(&client, "ok", |s, b| s == StatusCode::OK && b["chain"]["status"] == "ok").await;
    assert!(server.stop().0.success());

    // One digit of the reported loss, without rehashing: seq 9 no longer hashes to its hash.
    let db = database(&fx.data());
    let body = stored_body(&db, 9);
    let altered = body.replacen("\"loss_minor\":1000000", "\"loss_minor\":1000001", 1);
    assert_ne!(altered, body);
    assert_eq!(db.execute("UPDATE events SET body = ?1 WHERE seq = 9", [&altered]).unwrap(), 1);
    drop(db);

    let server = fx.serve(&["--checkpoint-interval-ms", INTERVAL_MS]);
    let client = Client::new(&server, Some(&token));
    let health = wait_for_health(&client, "broken", |s, _| s == StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(health["status"], "broken", "{health}");
    assert_eq!(health["chain"]["status"], "broken", "{health}");
    assert_eq!(health["chain"]["seq"], 9, "{health}");
    assert!(health["chain"]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{health}");

    // The head moves, but nothing is signed over the broken chain: not by the
    // loop (20 intervals observed), not on demand for a receipt.
    let r = client.append(&publicity("bank-3", "PUB-AFTER", None)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = receipt(&client, &id).await;
    assert_ne!(r.status, StatusCode::OK, "no receipt may be made over a broken chain: {}", r.text);
    assert_eq!(r.code(), "ledger.chain_broken", "{}", r.text);
    let until = Instant::now() + 20 * POLL;
    while Instant::now() < until {
        let r = client.get("/checkpoint").await;
        assert_eq!(r.text, before, "a checkpoint was signed over a chain that does not verify");
        tokio::time::sleep(POLL).await;
    }
    assert!(server.log().contains("does not verify"), "the server must log why it does not sign:\n{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_witnesses_cosign_with_quorum_two_and_keep_their_state_across_a_restart() {
    let fx = Fixture::new();
    let token = fx.token("bank-1", "agency");
    let (code, vkey, stderr) = govledger(&fx.data(), &["key"]);
    assert_eq!(code, Some(0), "{stderr}");
    let vkey = vkey.trim().to_owned();
    let w1 = Witness::start(&fx.root.path().join("w1"), "witness-one.example/w", &vkey, "127.0.0.1:0");
    let w2 = Witness::start(&fx.root.path().join("w2"), "witness-two.example/w", &vkey, "127.0.0.1:0");
    let (k1, k2) = (w1.verifier_key.clone(), w2.verifier_key.clone());
    let server = fx.serve(&[
        "--checkpoint-interval-ms",
        INTERVAL_MS,
        "--witness",
        &w1.flag(),
        "--witness",
        &w2.flag(),
        "--quorum",
        "2",
    ]);
    let client = Client::new(&server, Some(&token));
    assert_eq!(log_key(&client).await, vkey, "serve uses the key `govledger key` created");
    let log = client.get("/v1/log").await.body;
    assert_eq!(log["quorum"], 2);
    assert_eq!(
        log["witnesses"],
        json!([
            {"name": "witness-one.example/w", "verifier_key": k1},
            {"name": "witness-two.example/w", "verifier_key": k2},
        ])
    );

    let cosigned_by_both =
        |n: &str| note_size(n) == CITY_EVENTS && open_note(n, &vkey, &[&k1, &k2]).cosigned_by.len() == 2;
    let note = wait_for_checkpoint(&client, "cosigned by both witnesses", cosigned_by_both).await;
    let r = client.graphql("{ checkpoint { size witnessed cosignedBy } }", json!({})).await;
    assert_eq!(r.body["data"]["checkpoint"]["witnessed"], true, "{}", r.text);

    // A receipt carries the cosignatures: it verifies with a quorum of 2, not 3 of 2.
    let own = client.append(&publicity("bank-1", "PUB-W", None)).await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    let size = CITY_EVENTS + 1;
    wait_for_checkpoint(&client, "at 11 cosigned by both", |n| {
        note_size(n) == size && open_note(n, &vkey, &[&k1, &k2]).cosigned_by.len() == 2
    })
    .await;
    let text = r_text(&client, own.body["id"].as_str().unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("own.tlog-proof");
    std::fs::write(&file, &text).unwrap();
    let f = file.to_str().unwrap();
    let v = proof_verify(&[f, "--key", &vkey, "--witness", &k1, "--witness", &k2, "--quorum", "2"]);
    assert_eq!(v.code, Some(0), "{v:?}");
    assert!(v.stdout.contains("cosigned by witness-one.example/w, witness-two.example/w"), "{v:?}");
    let v = proof_verify(&[f, "--key", &vkey, "--witness", &k1, "--quorum", "2"]);
    assert_eq!(v.code, Some(1), "one known witness is not a quorum of 2: {v:?}");

    // The witness keeps what it cosigned: after a restart on the same port it still serves it, with the same key.
    let origin_hash = sha256_hex(b"govledger.local/ledger");
    let url = format!("{}/{origin_hash}/checkpoint", w1.base);
    let held = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert_eq!(note_size(&held), size);
    let (w1_dir, w1_addr) = (w1.dir.clone(), w1.addr());
    w1.stop();
    let w1 = Witness::start(&w1_dir, "witness-one.example/w", &vkey, &w1_addr);
    assert_eq!(w1.verifier_key, k1, "a restarted witness keeps its key");
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), held, "a restarted witness keeps the checkpoint it cosigned");

    // And goes on cosigning the log's next checkpoints.
    let r = client.append(&publicity("bank-1", "PUB-W2", None)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    wait_for_checkpoint(&client, "at 12 cosigned by both", |n| {
        note_size(n) == size + 1 && open_note(n, &vkey, &[&k1, &k2]).cosigned_by.len() == 2
    })
    .await;
    assert!(note.contains("\n— witness-one.example/w ") && note.contains("\n— witness-two.example/w "), "{note}");
    drop(w2);
}
