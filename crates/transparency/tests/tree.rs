//! The tree follows the log: over the in-memory and the embedded store, in
//! one go or in steps, its roots at every size are those of an independent
//! RFC 9162 recomputation from the stored bodies, and its inclusion and
//! consistency proofs verify with tlog_tiles' checkers. It persists: a
//! reopened tree has the same size and roots without reading the log, reads
//! only the new stretch when it extends, and a torn tail is cut back to a
//! whole size and derived again to the same root.

mod support;

use std::os::unix::fs::FileExt;

use govledger_ledger::LogReader;
use govledger_transparency::{HASHES_FILE, SYNCED_FILE, Tree, TreeError};
use support::{Counting, bodies, embedded_store, fill, memory_log, naive_leaf, naive_root};
use tlog_tiles::{check_record, check_tree, stored_hash_count};

/// Every root, every inclusion proof and every consistency proof of the
/// tree, checked against the bodies.
#[track_caller]
fn assert_tree_matches(tree: &Tree, bodies: &[Vec<u8>]) {
    let n = bodies.len() as u64;
    assert_eq!(tree.size(), n);
    let roots: Vec<_> = (0..=n).map(|size| tree.root(size).expect("a root within the tree")).collect();
    for size in 0..=n {
        assert_eq!(roots[size as usize], naive_root(&bodies[..size as usize]), "root of size {size}");
    }
    for size in 1..=n {
        for index in 0..size {
            let path = tree.inclusion(index, size).expect("an inclusion proof within the tree");
            let leaf = naive_leaf(&bodies[index as usize]);
            check_record(&path, size, roots[size as usize], index, leaf)
                .unwrap_or_else(|e| panic!("inclusion of leaf {index} in size {size}: {e}"));
        }
        for from in 1..=size {
            let path = tree.consistency(from, size).expect("a consistency proof within the tree");
            check_tree(&path, size, roots[size as usize], from, roots[from as usize])
                .unwrap_or_else(|e| panic!("consistency of {from} with {size}: {e}"));
        }
    }
    for index in 0..n {
        assert_eq!(tree.leaf(index).expect("a leaf"), naive_leaf(&bodies[index as usize]));
    }
}

#[test]
fn over_the_memory_store_in_steps_every_root_and_proof_matches_the_bodies() {
    let (log, _ledger) = memory_log(67);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open an empty tree");
    assert_eq!(tree.root(0).expect("the empty root"), naive_root(&[]));
    // Steps across power-of-two boundaries, one event, and then the rest.
    for to in [1, 2, 3, 4, 8, 9, 31, 32, 33, 64] {
        assert_eq!(tree.extend(log.as_ref(), to).expect("extend"), to);
        assert_eq!(tree.size(), to);
    }
    assert_eq!(tree.extend(log.as_ref(), u64::MAX).expect("extend to the head"), 70);
    assert_tree_matches(&tree, &bodies(log.as_ref()));
}

#[test]
fn over_the_embedded_store_in_one_go_every_root_and_proof_matches_the_bodies() {
    let data = tempfile::tempdir().expect("temp dir");
    let reader = embedded_store(data.path(), 130);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open an empty tree");
    assert_eq!(tree.extend(reader.as_ref(), u64::MAX).expect("extend"), 133);
    assert_tree_matches(&tree, &bodies(reader.as_ref()));
}

#[test]
fn a_catch_up_longer_than_one_written_chunk_has_the_root_of_the_bodies() {
    // 20,000 leaves are about 40,000 stored hashes: more than one 32,768-hash
    // chunk, so hashes are computed over both the file and the buffer.
    let (log, ledger) = memory_log(19_997);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open an empty tree");
    assert_eq!(tree.extend(log.as_ref(), u64::MAX).expect("extend"), 20_000);
    let all = bodies(log.as_ref());
    for size in [1, 16_383, 16_384, 16_385, 17_000, 20_000] {
        assert_eq!(tree.root(size).expect("root"), naive_root(&all[..size as usize]), "root of size {size}");
    }
    let len = std::fs::metadata(dir.path().join(HASHES_FILE)).expect("tree file").len();
    assert_eq!(len, stored_hash_count(20_000) * 32, "fewer than 2 × 32 bytes per event");
    assert!(len < 2 * 32 * 20_000);
    // And one more event continues it.
    fill(&ledger, 20_000, 1);
    assert_eq!(tree.extend(log.as_ref(), u64::MAX).expect("extend"), 20_001);
    assert_eq!(tree.root(20_001).expect("root"), naive_root(&bodies(log.as_ref())));
}

#[test]
fn extend_stops_at_the_seq_asked_for_and_sizes_beyond_the_tree_are_out_of_range() {
    let (log, _ledger) = memory_log(7);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open");
    assert_eq!(tree.extend(log.as_ref(), 5).expect("extend"), 5);
    assert_eq!(tree.extend(log.as_ref(), 3).expect("a smaller `to` does nothing"), 5);
    assert!(matches!(tree.root(6), Err(TreeError::OutOfRange { .. })));
    assert!(matches!(tree.leaf(5), Err(TreeError::OutOfRange { .. })));
    assert!(matches!(tree.inclusion(5, 5), Err(TreeError::OutOfRange { .. })));
    assert!(matches!(tree.inclusion(0, 6), Err(TreeError::OutOfRange { .. })));
    assert!(matches!(tree.consistency(3, 6), Err(TreeError::OutOfRange { .. })));
    assert!(matches!(tree.consistency(4, 3), Err(TreeError::OutOfRange { .. })));
    assert_eq!(tree.consistency(0, 5).expect("from the empty tree"), Vec::new());
    assert_eq!(tree.consistency(5, 5).expect("to itself"), Vec::new());
    assert_eq!(tree.extend(log.as_ref(), u64::MAX).expect("extend"), 10);
}

#[test]
fn a_reopened_tree_has_its_size_and_roots_and_reads_only_the_new_events() {
    let (log, ledger) = memory_log(40);
    let dir = tempfile::tempdir().expect("temp dir");
    let roots = {
        let tree = Tree::open(dir.path()).expect("open");
        tree.extend(log.as_ref(), u64::MAX).expect("extend");
        (0..=43).map(|s| tree.root(s).expect("root")).collect::<Vec<_>>()
    };
    // Opening takes no reader: size, roots and proofs come from the file.
    let tree = Tree::open(dir.path()).expect("reopen");
    assert_eq!(tree.size(), 43);
    for (size, root) in roots.iter().enumerate() {
        assert_eq!(tree.root(size as u64).expect("root"), *root);
    }
    let counting = Counting::new(log.as_ref());
    assert_eq!(tree.extend(&counting, 43).expect("nothing to do"), 43);
    assert_eq!(counting.scans(), 0, "a tree at `to` does not read the log");
    tree.check_against(&counting).expect("the log agrees");
    assert_eq!(counting.rows(), 1, "the start-up check reads one row");

    fill(&ledger, 41, 5);
    let counting = Counting::new(log.as_ref());
    assert_eq!(tree.extend(&counting, u64::MAX).expect("extend"), 48);
    assert_eq!(counting.rows(), 1 + 5, "the row at the tree's size, then the new events");
    assert_tree_matches(&tree, &bodies(log.as_ref()));
}

/// Cuts `bytes` off the end of the tree file in `dir`.
fn cut(dir: &std::path::Path, bytes: u64) {
    let file = std::fs::OpenOptions::new().write(true).open(dir.join(HASHES_FILE)).expect("tree file");
    let len = file.metadata().expect("metadata").len();
    file.set_len(len - bytes).expect("truncate");
}

#[test]
fn a_torn_tail_is_cut_back_to_a_whole_size_and_derived_again() {
    let (log, _ledger) = memory_log(61);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = {
        let tree = Tree::open(dir.path()).expect("open");
        assert_eq!(tree.extend(log.as_ref(), u64::MAX).expect("extend"), 64);
        tree.root(64).expect("root")
    };
    // Leaf 63 completes six subtrees: its seven hashes are the file's tail.
    assert_eq!(stored_hash_count(64) - stored_hash_count(63), 7);
    for (torn, whole) in [(5, 63), (32, 63), (3 * 32, 63), (7 * 32, 63), (7 * 32 + 1, 62)] {
        let tree = Tree::open(dir.path()).expect("open");
        assert_eq!(tree.extend(log.as_ref(), u64::MAX).expect("extend"), 64);
        drop(tree);
        cut(dir.path(), torn);
        let tree = Tree::open(dir.path()).expect("open a torn tree");
        assert_eq!(tree.size(), whole, "{torn} bytes torn off");
        let len = std::fs::metadata(dir.path().join(HASHES_FILE)).expect("tree file").len();
        assert_eq!(len, stored_hash_count(whole) * 32, "the torn part is cut off the file");
        assert_eq!(tree.extend(log.as_ref(), u64::MAX).expect("extend again"), 64);
        assert_eq!(tree.root(64).expect("root"), root);
    }
}

#[test]
fn hashes_past_the_last_synced_size_are_not_taken_for_a_tree() {
    let (log, _ledger) = memory_log(7);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = {
        let tree = Tree::open(dir.path()).expect("open");
        tree.extend(log.as_ref(), u64::MAX).expect("extend");
        tree.root(10).expect("root")
    };
    // A crash that left the file longer than what was synced (here: the
    // next leaf's hashes never written, zeros in their place).
    let extra = (stored_hash_count(11) - stored_hash_count(10)) * 32;
    let file = std::fs::OpenOptions::new().write(true).open(dir.path().join(HASHES_FILE)).expect("tree file");
    file.write_all_at(&vec![0u8; extra as usize], stored_hash_count(10) * 32).expect("append zeros");
    drop(file);
    let tree = Tree::open(dir.path()).expect("reopen");
    assert_eq!(tree.size(), 10, "the synced size decides, not the length");
    assert_eq!(tree.root(10).expect("root"), root);
    assert!(dir.path().join(SYNCED_FILE).exists());
}

#[test]
fn proofs_are_served_while_the_tree_extends() {
    let (log, _ledger) = memory_log(3_997);
    let all = bodies(log.as_ref());
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open");
    let expected_final = naive_root(&all);
    std::thread::scope(|scope| {
        let extending = scope.spawn(|| {
            for to in (50..=4_000).step_by(50) {
                tree.extend(log.as_ref(), to).expect("extend");
            }
        });
        // Whatever size is published can be read and proven while the other
        // thread appends.
        let mut seen = 0;
        while seen < 4_000 {
            let finished = extending.is_finished();
            let size = tree.size();
            if size > seen && size > 0 {
                let root = tree.root(size).expect("a published size is readable");
                let path = tree.inclusion(size - 1, size).expect("inclusion");
                check_record(&path, size, root, size - 1, naive_leaf(&all[size as usize - 1])).expect("verifies");
                seen = size;
            }
            if finished {
                break;
            }
            std::thread::yield_now();
        }
    });
    assert_eq!(tree.size(), 4_000);
    assert_eq!(tree.root(4_000).expect("root"), expected_final);
}

#[test]
fn a_tree_longer_than_the_log_disagrees() {
    let (log, _ledger) = memory_log(17);
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = Tree::open(dir.path()).expect("open");
    tree.extend(log.as_ref(), u64::MAX).expect("extend");
    let (short, _other) = memory_log(5);
    let err = tree.check_against(short.as_ref()).expect_err("a shorter log");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
    let err = tree.extend(short.as_ref(), u64::MAX).expect_err("a shorter log");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
    assert_eq!(tree.size(), 20, "nothing changed");
    tree.check_against(log.as_ref()).expect("its own log agrees");
    let reader: &dyn LogReader = log.as_ref();
    tree.verify_against(reader).expect("and verifies whole");
}
