//! `POST /add-checkpoint`: each status code C2SP tlog-witness gives, in the
//! order its checks run, and the cosignature a 200 carries.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use govledger_tlog::checkpoint;
use govledger_tlog::merkle::empty_root;
use govledger_tlog::witness_wire::AddCheckpoint;
use govledger_witness::MAX_BODY_BYTES;

use crate::support::{Fixture, Log, ORIGIN, Tree, WITNESS_NAME, send};

#[tokio::test]
async fn a_first_checkpoint_is_cosigned_with_a_timestamped_cosignature_that_verifies() {
    let fx = Fixture::new();
    let tree = Tree::of("", 5);
    let note = fx.log.checkpoint(&tree, 5);
    let body = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note.clone().into_bytes() }.to_bytes();

    let answer = fx.add(body).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.starts_with(&format!("— {WITNESS_NAME} ")) && answer.body.ends_with('\n'), "{}", answer.body);
    let cosigned = checkpoint::with_signature_lines(&note, &answer.body).unwrap();
    let opened = checkpoint::open(cosigned.as_bytes(), &fx.log.verifier(), &[fx.witness_verifier()]).unwrap();
    assert_eq!(opened.cosigned_by.len(), 1);
    assert_eq!(opened.cosigned_by[0].name, WITNESS_NAME);
    assert!(opened.cosigned_by[0].timestamp > 1_700_000_000, "the timestamp is the current time");
    assert_eq!(fx.witness.latest(ORIGIN).unwrap().size, 5);
}

#[tokio::test]
async fn a_consistent_larger_checkpoint_is_cosigned_and_becomes_the_latest() {
    let fx = Fixture::new();
    let tree = Tree::of("", 13);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 5)).await.status, StatusCode::OK);

    let answer = fx.add(fx.log.request(&tree, 5, 13)).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let latest = fx.witness.latest(ORIGIN).unwrap();
    assert_eq!((latest.size, latest.root), (13, tree.root(13)));
}

#[tokio::test]
async fn the_same_checkpoint_again_is_cosigned_again() {
    let fx = Fixture::new();
    let tree = Tree::of("", 4);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 4)).await.status, StatusCode::OK);
    assert_eq!(fx.add(fx.log.request(&tree, 4, 4)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_empty_tree_with_the_empty_root_is_cosigned() {
    let fx = Fixture::new();
    let answer = fx.add(fx.log.request(&Tree::default(), 0, 0)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(fx.witness.latest(ORIGIN).unwrap().root, empty_root());
}

#[tokio::test]
async fn an_unknown_origin_is_404() {
    let fx = Fixture::new();
    let other = Log::new("other.example/log");
    let answer = fx.add(other.request(&Tree::of("", 3), 0, 3)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    assert!(answer.body.contains("does not witness the log"), "{}", answer.body);
}

#[tokio::test]
async fn a_checkpoint_signed_by_another_key_for_the_origin_is_403() {
    let fx = Fixture::new();
    let impostor = Log::new(ORIGIN);
    let answer = fx.add(impostor.request(&Tree::of("", 3), 0, 3)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(fx.witness.latest(ORIGIN).is_none());
}

#[tokio::test]
async fn an_altered_checkpoint_whose_log_signature_fails_is_403() {
    let fx = Fixture::new();
    let tree = Tree::of("", 3);
    let note = fx.log.checkpoint(&tree, 3).replacen("\n3\n", "\n4\n", 1);
    let answer = fx.add(AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note.into_bytes() }.to_bytes()).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(fx.witness.latest(ORIGIN).is_none());
}

#[tokio::test]
async fn an_old_size_above_the_checkpoint_size_is_400() {
    let fx = Fixture::new();
    let tree = Tree::of("", 5);
    let note = fx.log.checkpoint(&tree, 5);
    let body = AddCheckpoint { old_size: 6, proof: vec![], checkpoint: note.into_bytes() }.to_bytes();
    let answer = fx.add(body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("larger than the checkpoint's size"), "{}", answer.body);
}

#[tokio::test]
async fn a_malformed_body_is_400_with_a_sentence() {
    let fx = Fixture::new();
    let note = fx.log.checkpoint(&Tree::of("", 2), 2);
    for body in [
        b"not a request".to_vec(),
        format!("old 01\n\n{note}").into_bytes(),
        format!("old 0\nnot base64!\n\n{note}").into_bytes(),
        format!("old 0\n\n{ORIGIN}\nnot a size\nAAAA\n\n— {ORIGIN} AAAA\n").into_bytes(),
    ] {
        let answer = fx.add(body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert!(answer.content_type.starts_with("text/plain"), "{}", answer.content_type);
        assert!(answer.body.starts_with("the request is not") && answer.body.ends_with('\n'), "{}", answer.body);
    }
}

#[tokio::test]
async fn a_stale_old_size_is_409_with_the_cosigned_size_as_text_x_tlog_size() {
    let fx = Fixture::new();
    let tree = Tree::of("", 9);
    // Nothing cosigned yet: the witness's size is 0.
    let answer = fx.add(fx.log.request(&tree, 3, 9)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!((answer.content_type.as_str(), answer.body.as_str()), ("text/x.tlog.size", "0\n"));

    assert_eq!(fx.add(fx.log.request(&tree, 0, 5)).await.status, StatusCode::OK);
    let answer = fx.add(fx.log.request(&tree, 0, 9)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!((answer.content_type.as_str(), answer.body.as_str()), ("text/x.tlog.size", "5\n"));
    assert_eq!(fx.witness.latest(ORIGIN).unwrap().size, 5, "a conflict changes nothing");
}

#[tokio::test]
async fn a_proof_from_the_empty_tree_is_422() {
    let fx = Fixture::new();
    let tree = Tree::of("", 4);
    let note = fx.log.checkpoint(&tree, 4);
    let body = AddCheckpoint { old_size: 0, proof: vec![tree.root(2)], checkpoint: note.into_bytes() }.to_bytes();
    let answer = fx.add(body).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert!(fx.witness.latest(ORIGIN).is_none());
}

#[tokio::test]
async fn a_size_zero_checkpoint_without_the_empty_root_is_422() {
    let fx = Fixture::new();
    let note = checkpoint::sign(&fx.log.signer, 0, &Tree::of("", 1).root(1)).unwrap();
    let answer = fx.add(AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note.into_bytes() }.to_bytes()).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert!(answer.body.contains("empty tree"), "{}", answer.body);
}

#[tokio::test]
async fn a_proof_that_does_not_verify_is_422_and_nothing_is_cosigned() {
    let fx = Fixture::new();
    let tree = Tree::of("", 8);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 3)).await.status, StatusCode::OK);
    // The proof from 4 leaves, sent as if from 3.
    let body =
        AddCheckpoint { old_size: 3, proof: tree.proof(4, 8), checkpoint: fx.log.checkpoint(&tree, 8).into_bytes() }
            .to_bytes();
    let answer = fx.add(body).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert_eq!(fx.witness.latest(ORIGIN).unwrap().size, 3);
}

#[tokio::test]
async fn a_proof_between_equal_sizes_is_422() {
    let fx = Fixture::new();
    let tree = Tree::of("", 6);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 6)).await.status, StatusCode::OK);
    let body =
        AddCheckpoint { old_size: 6, proof: vec![tree.root(6)], checkpoint: fx.log.checkpoint(&tree, 6).into_bytes() }
            .to_bytes();
    assert_eq!(fx.add(body).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread() {
    let fx = Fixture::new();
    let request = Request::post("/add-checkpoint").body(Body::from(vec![b'x'; MAX_BODY_BYTES + 1])).unwrap();
    let answer = send(&fx.app, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn only_post_is_accepted() {
    let fx = Fixture::new();
    assert_eq!(fx.get("/add-checkpoint").await.status, StatusCode::METHOD_NOT_ALLOWED);
}
