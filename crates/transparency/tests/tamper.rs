//! Tampering, done to the embedded store's database and to the tree file
//! behind the product's back: an edited event stops `extend` right before
//! it (the good prefix kept, nothing after it added); a history rewritten
//! and rehashed to the end, which the chain check cannot see, is caught by
//! the start-up check `check_against` (and by `extend` and `verify_against`);
//! an altered tree file is caught by `verify_against`, naming the events.

mod support;

use std::os::unix::fs::FileExt;

use govledger_transparency::{HASHES_FILE, Tree, TreeError};
use support::{bodies, body_and_hash, database, embedded_store, naive_root, set_row, sha256_hex};
use tlog_tiles::stored_hash_index;

#[test]
fn an_edited_event_stops_extend_before_it_and_nothing_after_it_is_added() {
    let data = tempfile::tempdir().expect("temp dir");
    let reader = embedded_store(data.path(), 37);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open");
    assert_eq!(tree.extend(reader.as_ref(), 20).expect("extend"), 20);

    let db = database(data.path());
    let (body, hash) = body_and_hash(&db, 30);
    let altered = body.replacen("\"reach\":10", "\"reach\":11", 1);
    assert_ne!(altered, body);
    set_row(&db, 30, &altered, &hash);

    let err = tree.extend(reader.as_ref(), u64::MAX).expect_err("seq 30 is altered");
    match &err {
        TreeError::Broken { seq, reason } => {
            assert_eq!(*seq, 30, "{err}");
            assert!(reason.starts_with("hash mismatch"), "{err}");
        }
        other => panic!("expected Broken, got {other}"),
    }
    assert_eq!(tree.size(), 29, "the events before it are added");
    assert!(matches!(tree.leaf(29), Err(TreeError::OutOfRange { .. })), "nothing from seq 30 on");
    let all = bodies(reader.as_ref());
    assert_eq!(tree.root(29).expect("root"), naive_root(&all[..29]));
    drop(tree);

    // The good prefix was kept on disk; trying again stops at the same place.
    let tree = Tree::open(dir.path()).expect("reopen");
    assert_eq!(tree.size(), 29);
    let again = tree.extend(reader.as_ref(), u64::MAX).expect_err("still altered");
    assert!(matches!(again, TreeError::Broken { seq: 30, .. }), "{again}");
    assert_eq!(tree.size(), 29);

    // Put back, the tree goes on to the head.
    set_row(&db, 30, &body, &hash);
    assert_eq!(tree.extend(reader.as_ref(), u64::MAX).expect("extend"), 40);
    assert_eq!(tree.root(40).expect("root"), naive_root(&bodies(reader.as_ref())));
}

#[test]
fn a_deleted_event_stops_extend_at_its_seq() {
    let data = tempfile::tempdir().expect("temp dir");
    let reader = embedded_store(data.path(), 37);
    let db = database(data.path());
    assert_eq!(db.execute("DELETE FROM events WHERE seq = 25", []).expect("delete"), 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open");
    let err = tree.extend(reader.as_ref(), u64::MAX).expect_err("seq 25 is missing");
    match &err {
        TreeError::Broken { seq, reason } => {
            assert_eq!(*seq, 25, "{err}");
            assert!(reason.starts_with("gap"), "{err}");
        }
        other => panic!("expected Broken, got {other}"),
    }
    assert_eq!(tree.size(), 24);
}

/// Rewrites the event at `seq` (one publicity event's reach) and rehashes
/// every later event, as an operator holding the store could: each later
/// body names the new hash before it, and the anchor the new head. The
/// chain check then passes.
fn rewrite_history(data: &std::path::Path, seq: u64, head: u64) {
    let db = database(data);
    let (body, _) = body_and_hash(&db, seq);
    let rewritten = body.replacen("\"reach\":10", "\"reach\":99999", 1);
    assert_ne!(rewritten, body);
    let mut old_prev = sha256_hex(body.as_bytes());
    let mut new_prev = sha256_hex(rewritten.as_bytes());
    set_row(&db, seq, &rewritten, &new_prev);
    for later in seq + 1..=head {
        let (body, hash) = body_and_hash(&db, later);
        let relinked =
            body.replacen(&format!("\"prev_hash\":\"{old_prev}\""), &format!("\"prev_hash\":\"{new_prev}\""), 1);
        assert_ne!(relinked, body, "seq {later} names the hash before it");
        old_prev = hash;
        new_prev = sha256_hex(relinked.as_bytes());
        set_row(&db, later, &relinked, &new_prev);
    }
    let n = db.execute("UPDATE anchor SET hash = ?1 WHERE one = 1", [&new_prev]).expect("update the anchor");
    assert_eq!(n, 1);
}

#[test]
fn a_rewritten_and_rehashed_history_is_caught_by_the_start_up_check() {
    let data = tempfile::tempdir().expect("temp dir");
    let reader = embedded_store(data.path(), 37);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open");
    tree.extend(reader.as_ref(), u64::MAX).expect("extend");
    tree.check_against(reader.as_ref()).expect("the log agrees before the rewrite");
    tree.verify_against(reader.as_ref()).expect("the log agrees before the rewrite");
    let old_root = tree.root(40).expect("root");

    rewrite_history(data.path(), 10, 40);
    let report = govledger_ledger::verify(reader.as_ref()).expect("read the store");
    assert!(report.ok(), "the rewrite is invisible to the chain check: {:?}", report.problem);

    let err = tree.check_against(reader.as_ref()).expect_err("the history changed");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
    assert!(err.to_string().contains("seq 40"), "{err}");
    let err = tree.extend(reader.as_ref(), u64::MAX).expect_err("extend refuses the rewritten log");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
    let err = tree.verify_against(reader.as_ref()).expect_err("verify sees it too");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
    assert!(err.to_string().contains("seq 10 "), "the first leaf that differs: {err}");

    tree.rebuild().expect("rebuild");
    assert_eq!(tree.size(), 0);
    assert_eq!(tree.extend(reader.as_ref(), u64::MAX).expect("extend"), 40);
    tree.check_against(reader.as_ref()).expect("the rebuilt tree agrees");
    let new_root = tree.root(40).expect("root");
    assert_ne!(new_root, old_root);
    assert_eq!(new_root, naive_root(&bodies(reader.as_ref())));
}

#[test]
fn an_altered_tree_file_fails_verify_against_naming_the_events() {
    let data = tempfile::tempdir().expect("temp dir");
    let reader = embedded_store(data.path(), 37);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open");
    tree.extend(reader.as_ref(), u64::MAX).expect("extend");
    tree.verify_against(reader.as_ref()).expect("an untouched tree verifies");

    let file = std::fs::OpenOptions::new().read(true).write(true).open(dir.path().join(HASHES_FILE)).expect("file");
    // (stored hash index, what the error names): leaf 17 is seq 18; the
    // level-3 node 1 covers leaves 8..16, seqs 9–16.
    for (index, names) in [(stored_hash_index(0, 17), "seq 18"), (stored_hash_index(3, 1), "seqs 9–16")] {
        let mut byte = [0u8; 1];
        file.read_exact_at(&mut byte, index * 32 + 5).expect("read");
        file.write_all_at(&[byte[0] ^ 0x40], index * 32 + 5).expect("flip a bit");
        let err = tree.verify_against(reader.as_ref()).expect_err("the file was altered");
        assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
        assert!(err.to_string().contains(names), "expected {names:?} in: {err}");
        file.write_all_at(&byte, index * 32 + 5).expect("put it back");
        tree.verify_against(reader.as_ref()).expect("restored");
    }
}
