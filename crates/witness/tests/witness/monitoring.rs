//! `GET /<origin hash>/checkpoint`: the latest cosigned checkpoint, with the
//! log's signature and the witness's cosignature; 404 when there is none.

use axum::http::StatusCode;
use govledger_tlog::checkpoint;
use govledger_witness::origin_hash;

use crate::support::{Fixture, ORIGIN, Tree, WITNESS_NAME};

#[tokio::test]
async fn the_latest_cosigned_checkpoint_is_served_with_both_signatures() {
    let fx = Fixture::new();
    let path = format!("/{}/checkpoint", origin_hash(ORIGIN));
    assert_eq!(fx.get(&path).await.status, StatusCode::NOT_FOUND, "nothing cosigned yet");

    let tree = Tree::of("", 9);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 4)).await.status, StatusCode::OK);
    assert_eq!(fx.add(fx.log.request(&tree, 4, 9)).await.status, StatusCode::OK);
    let answer = fx.get(&path).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let opened = checkpoint::open(answer.body.as_bytes(), &fx.log.verifier(), &[fx.witness_verifier()]).unwrap();
    assert_eq!((opened.checkpoint.size, opened.checkpoint.root), (9, tree.root(9)));
    assert_eq!(opened.cosigned_by.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), [WITNESS_NAME]);
}

#[tokio::test]
async fn an_unknown_origin_hash_is_404() {
    let fx = Fixture::new();
    assert_eq!(fx.add(fx.log.request(&Tree::of("", 2), 0, 2)).await.status, StatusCode::OK);
    let answer = fx.get(&format!("/{}/checkpoint", origin_hash("other.example/log"))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    // The origin itself is not the key: only its hash is.
    assert_eq!(fx.get(&format!("/{ORIGIN}/checkpoint")).await.status, StatusCode::NOT_FOUND);
}
