//! Forks: a checkpoint validly signed by the log that contradicts the one the
//! witness cosigned is refused (422) and kept, with the cosigned one, as evidence.

use axum::http::StatusCode;
use govledger_tlog::witness_wire::AddCheckpoint;
use govledger_witness::origin_hash;

use crate::support::{Fixture, Log, ORIGIN, Tree};

#[tokio::test]
async fn a_split_view_is_refused_and_both_checkpoints_are_kept_as_evidence() {
    let fx = Fixture::new();
    let honest = Tree::of("", 5);
    let forked = Tree::of("rewritten ", 5);
    let cosigned_note = fx.log.checkpoint(&honest, 5);
    let body = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: cosigned_note.clone().into_bytes() }.to_bytes();
    assert_eq!(fx.add(body).await.status, StatusCode::OK);
    assert!(fx.evidence().is_empty());

    // Same size, another root, signed by the same log key.
    let split = fx.log.checkpoint(&forked, 5);
    let refused = AddCheckpoint { old_size: 5, proof: vec![], checkpoint: split.clone().into_bytes() }.to_bytes();
    let answer = fx.add(refused.clone()).await;

    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert!(answer.body.contains("different root"), "{}", answer.body);
    let latest = fx.witness.latest(ORIGIN).unwrap();
    assert_eq!(latest.root, honest.root(5), "the cosigned checkpoint stays");
    let files = fx.evidence();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with(&format!("{}-", origin_hash(ORIGIN))) && name.ends_with("-5.txt"), "{name}");
    let evidence = std::fs::read(&files[0]).unwrap();
    let text = String::from_utf8_lossy(&evidence);
    assert!(text.contains(&latest.note), "the last cosigned note, with its cosignature:\n{text}");
    assert!(text.contains(cosigned_note.trim_end()), "{text}");
    assert!(
        evidence.windows(refused.len()).any(|w| w == refused.as_slice()),
        "the refused request as received:\n{text}"
    );
}

#[tokio::test]
async fn an_inconsistent_larger_checkpoint_is_refused_and_kept_as_evidence() {
    let fx = Fixture::new();
    let honest = Tree::of("", 12);
    assert_eq!(fx.add(fx.log.request(&honest, 0, 7)).await.status, StatusCode::OK);

    // History rewritten from leaf 0: the log signs a larger tree with a valid proof
    // of its own, which does not start from the cosigned root.
    let rewritten = Tree::of("rewritten ", 12);
    let refused = fx.log.request(&rewritten, 7, 12);
    let answer = fx.add(refused.clone()).await;

    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert!(answer.body.contains("not proven consistent"), "{}", answer.body);
    assert_eq!(fx.witness.latest(ORIGIN).unwrap().size, 7);
    let files = fx.evidence();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_str().unwrap().ends_with("-12.txt"), "{files:?}");
    let evidence = std::fs::read(&files[0]).unwrap();
    assert!(evidence.windows(refused.len()).any(|w| w == refused.as_slice()));
    let last = fx.witness.latest(ORIGIN).unwrap().note;
    assert!(String::from_utf8_lossy(&evidence).contains(&last));

    // The honest continuation is still cosigned.
    assert_eq!(fx.add(fx.log.request(&honest, 7, 12)).await.status, StatusCode::OK);
    assert_eq!(fx.evidence().len(), 1);
}

#[tokio::test]
async fn two_refusals_in_the_same_second_keep_two_files() {
    let fx = Fixture::new();
    let honest = Tree::of("", 3);
    assert_eq!(fx.add(fx.log.request(&honest, 0, 3)).await.status, StatusCode::OK);
    for variant in ["a ", "b "] {
        let body = AddCheckpoint {
            old_size: 3,
            proof: vec![],
            checkpoint: fx.log.checkpoint(&Tree::of(variant, 3), 3).into_bytes(),
        }
        .to_bytes();
        assert_eq!(fx.add(body).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(fx.evidence().len(), 2);
}

#[tokio::test]
async fn refusals_that_show_no_fork_keep_no_evidence() {
    let fx = Fixture::new();
    let tree = Tree::of("", 6);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 4)).await.status, StatusCode::OK);
    // Another key for the origin (403), a stale old size (409), a proof between equal sizes (422).
    let impostor = Log::new(ORIGIN);
    assert_eq!(fx.add(impostor.request(&Tree::of("x ", 6), 4, 6)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 6)).await.status, StatusCode::CONFLICT);
    let body =
        AddCheckpoint { old_size: 4, proof: vec![tree.root(4)], checkpoint: fx.log.checkpoint(&tree, 4).into_bytes() }
            .to_bytes();
    assert_eq!(fx.add(body).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fx.evidence().is_empty(), "{:?}", fx.evidence());
}
