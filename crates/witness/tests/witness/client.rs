//! `WitnessClient` over real HTTP: two witnesses on 127.0.0.1:0 (the router
//! served by axum), one log collecting their cosignatures.

use std::sync::Arc;

use govledger_tlog::checkpoint;
use govledger_tlog::keys::{WitnessSigner, WitnessVerifier};
use govledger_tlog::witness_wire::AddCheckpoint;
use govledger_witness::{SubmitError, SubmitOutcome, Witness, WitnessClient, WitnessState, router};
use tempfile::TempDir;

use crate::support::{Log, ORIGIN, Tree};

struct Running {
    _dir: TempDir,
    url: String,
    verifier: WitnessVerifier,
}

/// A witness of `log` served on a free port; the server runs until the test's runtime ends.
async fn start(name: &str, log: &Log) -> Running {
    let dir = tempfile::tempdir().unwrap();
    WitnessState::open(dir.path()).unwrap().create_key(name).unwrap();
    let witness = Arc::new(Witness::open(dir.path(), vec![log.verifier()]).unwrap());
    let verifier = WitnessVerifier::new(&witness.verifier_key()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(witness)).await });
    Running { _dir: dir, url, verifier }
}

fn cosigned(outcome: SubmitOutcome) -> String {
    match outcome {
        SubmitOutcome::Cosigned(lines) => lines,
        other => panic!("expected a cosignature, got {other:?}"),
    }
}

#[tokio::test]
async fn a_log_collects_verified_cosignatures_from_two_witnesses() {
    let log = Log::new(ORIGIN);
    let w1 = start("witness.example/one", &log).await;
    let w2 = start("witness.example/two", &log).await;
    let clients = [WitnessClient::new(&w1.url, w1.verifier.clone()), WitnessClient::new(&w2.url, w2.verifier.clone())];
    let tree = Tree::of("", 20);

    let first = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: log.checkpoint(&tree, 8).into_bytes() };
    let mut note = log.checkpoint(&tree, 8);
    for client in &clients {
        let lines = cosigned(client.add_checkpoint(&first).await.unwrap());
        note = checkpoint::with_signature_lines(&note, &lines).unwrap();
    }
    let opened =
        checkpoint::open(note.as_bytes(), &log.verifier(), &[w1.verifier.clone(), w2.verifier.clone()]).unwrap();
    let mut names: Vec<_> = opened.cosigned_by.iter().map(|c| c.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["witness.example/one", "witness.example/two"]);

    // A stale old size: each witness says where it is.
    let stale = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: log.checkpoint(&tree, 20).into_bytes() };
    for client in &clients {
        assert_eq!(client.add_checkpoint(&stale).await.unwrap(), SubmitOutcome::Conflict { size: 8 });
    }
    // Retried from that size with its proof: cosigned.
    let next =
        AddCheckpoint { old_size: 8, proof: tree.proof(8, 20), checkpoint: log.checkpoint(&tree, 20).into_bytes() };
    for client in &clients {
        let lines = cosigned(client.add_checkpoint(&next).await.unwrap());
        assert!(lines.starts_with(&format!("— {} ", client.verifier().name())), "{lines}");
    }
}

#[tokio::test]
async fn a_cosignature_by_another_key_than_the_configured_one_is_not_accepted() {
    let log = Log::new(ORIGIN);
    let w1 = start("witness.example/one", &log).await;
    let w2 = start("witness.example/two", &log).await;
    // The first witness's URL with the second's key: a misconfiguration or an impostor.
    let client = WitnessClient::new(&w1.url, w2.verifier.clone());
    let req =
        AddCheckpoint { old_size: 0, proof: vec![], checkpoint: log.checkpoint(&Tree::of("", 3), 3).into_bytes() };

    let err = client.add_checkpoint(&req).await.unwrap_err();

    assert!(matches!(err, SubmitError::BadAnswer { .. }), "{err}");
    assert!(err.to_string().contains("no cosignature by the key"), "{err}");
}

#[tokio::test]
async fn a_refusal_carries_the_status_and_the_witness_sentence() {
    let log = Log::new(ORIGIN);
    let w1 = start("witness.example/one", &log).await;
    let client = WitnessClient::new(&format!("{}/", w1.url), w1.verifier.clone());
    let other = Log::new("other.example/log");
    let req =
        AddCheckpoint { old_size: 0, proof: vec![], checkpoint: other.checkpoint(&Tree::of("", 3), 3).into_bytes() };

    let err = client.add_checkpoint(&req).await.unwrap_err();

    match err {
        SubmitError::Refused { status, message, .. } => {
            assert_eq!(status, 404);
            assert!(message.contains("does not witness the log"), "{message}");
        }
        other => panic!("expected a refusal, got {other}"),
    }
}

#[tokio::test]
async fn a_witness_that_is_not_listening_is_unreachable() {
    let log = Log::new(ORIGIN);
    let w1 = start("witness.example/one", &log).await;
    // A port that was free a moment ago and is closed now.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = WitnessClient::new(&url, w1.verifier.clone());
    let req =
        AddCheckpoint { old_size: 0, proof: vec![], checkpoint: log.checkpoint(&Tree::of("", 1), 1).into_bytes() };

    let err = client.add_checkpoint(&req).await.unwrap_err();

    assert!(matches!(err, SubmitError::Unreachable { .. }), "{err}");
}

/// A fake witness that answers every submission with `answer`.
async fn fake(answer: String) -> String {
    let app = axum::Router::new().route("/add-checkpoint", axum::routing::post(move || async move { answer }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_cosignature_by_the_right_key_over_another_checkpoint_is_not_accepted() {
    let log = Log::new(ORIGIN);
    let (signer, _) = WitnessSigner::generate("witness.example/fake").unwrap();
    let verifier = WitnessVerifier::new(&signer.verifier_key()).unwrap();
    let tree = Tree::of("", 6);
    // A genuine cosignature of this key, but over the checkpoint of size 5.
    let line = checkpoint::cosign(&signer, log.checkpoint(&tree, 5).as_bytes(), 1_800_000_000).unwrap();
    let client = WitnessClient::new(&fake(line).await, verifier);
    let req = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: log.checkpoint(&tree, 6).into_bytes() };

    let err = client.add_checkpoint(&req).await.unwrap_err();

    assert!(matches!(err, SubmitError::BadAnswer { .. }), "{err}");
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[tokio::test]
async fn a_cosignature_without_a_timestamp_is_not_accepted() {
    let log = Log::new(ORIGIN);
    let (signer, _) = WitnessSigner::generate("witness.example/fake").unwrap();
    let verifier = WitnessVerifier::new(&signer.verifier_key()).unwrap();
    let note = log.checkpoint(&Tree::of("", 2), 2);
    let line = checkpoint::cosign(&signer, note.as_bytes(), 0).unwrap();
    let client = WitnessClient::new(&fake(line).await, verifier);
    let req = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note.into_bytes() };

    let err = client.add_checkpoint(&req).await.unwrap_err();

    assert!(err.to_string().contains("no timestamp"), "{err}");
}

#[tokio::test]
async fn a_409_without_the_size_content_type_is_a_bad_answer() {
    let log = Log::new(ORIGIN);
    let (signer, _) = WitnessSigner::generate("witness.example/fake").unwrap();
    let app = axum::Router::new()
        .route("/add-checkpoint", axum::routing::post(|| async { (axum::http::StatusCode::CONFLICT, "5\n") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = WitnessClient::new(&url, WitnessVerifier::new(&signer.verifier_key()).unwrap());
    let req =
        AddCheckpoint { old_size: 0, proof: vec![], checkpoint: log.checkpoint(&Tree::of("", 2), 2).into_bytes() };

    let err = client.add_checkpoint(&req).await.unwrap_err();

    assert!(matches!(err, SubmitError::BadAnswer { .. }), "{err}");
}
