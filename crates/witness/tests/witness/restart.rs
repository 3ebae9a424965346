//! The last cosigned checkpoint is on disk before the answer: reopening the
//! directory keeps it, a damaged file stops the start rather than forgetting it,
//! and concurrent requests cannot roll it back.

use std::sync::{Arc, Barrier};

use axum::http::StatusCode;
use govledger_witness::{OpenError, Witness, origin_hash};

use crate::support::{Fixture, ORIGIN, Tree};

#[tokio::test]
async fn a_restart_keeps_the_last_cosigned_size() {
    let fx = Fixture::new();
    let tree = Tree::of("", 10);
    assert_eq!(fx.add(fx.log.request(&tree, 0, 6)).await.status, StatusCode::OK);
    let before = fx.witness.latest(ORIGIN).unwrap();

    let fx = fx.reopen();

    assert_eq!(fx.witness.latest(ORIGIN), Some(before));
    let answer = fx.add(fx.log.request(&tree, 0, 10)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.body, "6\n");
    assert_eq!(fx.add(fx.log.request(&tree, 6, 10)).await.status, StatusCode::OK);
    let fx = fx.reopen();
    assert_eq!(fx.witness.latest(ORIGIN).unwrap().size, 10);
}

#[tokio::test]
async fn a_damaged_state_file_stops_the_start() {
    let fx = Fixture::new();
    assert_eq!(fx.add(fx.log.request(&Tree::of("", 4), 0, 4)).await.status, StatusCode::OK);
    let path = fx.dir.path().join("checkpoints").join(format!("{}.txt", origin_hash(ORIGIN)));
    let text = std::fs::read_to_string(&path).unwrap();
    // A smaller size in the header than in the signed note.
    std::fs::write(&path, text.replacen("size 4\n", "size 2\n", 1)).unwrap();

    let err = Witness::open(fx.dir.path(), vec![fx.log.verifier()]).unwrap_err();

    assert!(matches!(err, OpenError::SavedCheckpoint { .. }), "{err}");
    std::fs::write(&path, "garbage").unwrap();
    let err = Witness::open(fx.dir.path(), vec![fx.log.verifier()]).unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
}

/// Without the lock around check-and-save, one round shows the race only some of
/// the time (the window is one cosignature and one fsync); twenty rounds show it
/// almost surely.
#[test]
fn concurrent_requests_from_the_same_old_size_cosign_only_one() {
    for _round in 0..20 {
        let fx = Fixture::new();
        let tree = Tree::of("", 16);
        let threads = 16;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (1..=threads as u64)
            .map(|size| {
                let witness = fx.witness.clone();
                let barrier = barrier.clone();
                let body = fx.log.request(&tree, 0, size);
                std::thread::spawn(move || {
                    barrier.wait();
                    witness.add_checkpoint(&body, 1_800_000_000).map(|_| size)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();

        let cosigned: Vec<u64> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
        assert_eq!(cosigned.len(), 1, "{results:?}");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.status() == 409), "{results:?}");
        assert_eq!(fx.witness.latest(ORIGIN).unwrap().size, cosigned[0]);
        assert_eq!(fx.reopen().witness.latest(ORIGIN).unwrap().size, cosigned[0], "the saved one is the cosigned one");
    }
}
