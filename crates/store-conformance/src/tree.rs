//! The conformance case of SPEC 6.1 on every store: the Merkle tree kept
//! beside the log (`govledger-transparency`) follows the store through its
//! `LogReader` alone, so the same tree, roots and proofs come out whatever
//! keeps the bytes, and it follows what another replica appended.

use govledger_ledger::LogReader;
use govledger_tlog::Hash;
use govledger_tlog::merkle::{leaf_hash, node_hash, verify_consistency, verify_inclusion};
use govledger_transparency::Tree;

use crate::Harness;
use crate::fixtures::{city, publicity};

/// Every stored body, in seq order.
fn bodies(reader: &dyn LogReader) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .scan_raw(0, &mut |row| {
            assert_eq!(row.seq, out.len() as u64 + 1, "rows in seq order");
            out.push(row.body.to_vec());
            true
        })
        .unwrap();
    out
}

/// RFC 9162 2.1.1, written out: MTH of `leaves`.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => govledger_tlog::merkle::empty_root(),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// The tree follows the store: every root equals the RFC's from the stored
/// bodies, proofs verify, and events another replica appended are added.
pub fn merkle_tree_follows_the_store(h: &dyn Harness) {
    let dir = tempfile::tempdir().unwrap();
    let first = h.ledger();
    first.append_blocking(city()).unwrap();
    let reader = first.reader().clone();
    let tree = Tree::open(dir.path()).unwrap();
    let size = tree.extend(reader.as_ref(), u64::MAX).unwrap();
    assert_eq!(size, first.head().seq);

    // Another replica appends; the tree follows from the store alone.
    let second = h.ledger();
    for i in 0..3 {
        second.append_blocking((0..5).map(|k| publicity(&format!("PUB-TREE-{i}-{k}"))).collect()).unwrap();
    }
    let head = second.head().seq;
    assert_eq!(tree.extend(reader.as_ref(), u64::MAX).unwrap(), head);

    let leaves: Vec<Hash> = bodies(reader.as_ref()).iter().map(|b| leaf_hash(b)).collect();
    assert_eq!(leaves.len() as u64, head);
    for n in 1..=head {
        let root = tree.root(n).unwrap();
        assert_eq!(root, naive_root(&leaves[..n as usize]), "root of size {n}");
        for i in [0, n / 2, n - 1] {
            let path = tree.inclusion(i, n).unwrap();
            verify_inclusion(&leaves[i as usize], i, n, &path, &root).unwrap();
        }
        let path = tree.consistency(size.min(n), n).unwrap();
        verify_consistency(size.min(n), &tree.root(size.min(n)).unwrap(), n, &root, &path).unwrap();
    }
    // Reopened, it holds the same tree and reads nothing to say so.
    drop(tree);
    let again = Tree::open(dir.path()).unwrap();
    assert_eq!(again.size(), head);
    assert_eq!(again.root(head).unwrap(), naive_root(&leaves));
    again.check_against(reader.as_ref()).unwrap();
}
