//! The Merkle proofs of SPEC 6.1 are RFC 9162's, and forged ones are refused:
//!
//! - `rfc9162`: for every tree of 1 to 70 leaves, the roots, inclusion and
//!   consistency proofs read through `tlog_tiles` from the stored-hash layout
//!   equal, byte for byte, a naive transcription of RFC 9162 2.1.1–2.1.4 and
//!   the `ct-merkle` crate's; `merkle::verify_*` accept every one of them.
//! - `forged`: a flipped hash, a wrong index or size, a truncated or extended
//!   path, or a consistency proof of another tree is refused.
//! - `json`: the SPEC 6.3 JSON proofs check the same way.

#![allow(clippy::unwrap_used)]

mod support;

use govledger_tlog::Hash;
use govledger_tlog::merkle::{
    self, ProofError, empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion,
};
use support::MemTree;

fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("{{\"seq\":{},\"leaf\":\"{i}\"}}", i + 1).into_bytes()).collect()
}

mod rfc9162 {
    use super::*;
    use ct_merkle::mem_backed_tree::MemoryBackedTree;
    use sha2_011::Sha256 as Sha256v011;

    /// The largest power of two smaller than `n` (n > 1).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// MTH(D[n]), RFC 9162 2.1.1, from the leaf inputs.
    fn mth(d: &[Vec<u8>]) -> Hash {
        use sha2::{Digest, Sha256};
        match d.len() {
            0 => Hash(Sha256::digest(b"").into()),
            1 => {
                let mut h = Sha256::new();
                h.update([0u8]);
                h.update(&d[0]);
                Hash(h.finalize().into())
            }
            n => {
                let k = split(n);
                let mut h = Sha256::new();
                h.update([1u8]);
                h.update(mth(&d[..k]).0);
                h.update(mth(&d[k..]).0);
                Hash(h.finalize().into())
            }
        }
    }

    /// PATH(m, D[n]), RFC 9162 2.1.3.1.
    fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
        let n = d.len();
        if n == 1 {
            return vec![];
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true), RFC 9162 2.1.4.1.
    fn proof(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
        subproof(m, d, true)
    }

    fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(d)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }

    fn concat(hashes: &[Hash]) -> Vec<u8> {
        hashes.iter().flat_map(|h| h.0).collect()
    }

    #[test]
    fn roots_and_proofs_of_every_tree_up_to_70_leaves_match_the_rfc_and_ct_merkle() {
        let data = leaves(70);
        let tree = MemTree::from_leaves(&data);
        let mut other = MemoryBackedTree::<Sha256v011, Vec<u8>>::new();
        assert_eq!(mth(&[]), empty_root());
        assert_eq!(other.root().as_bytes().as_slice(), empty_root().0.as_slice());

        for n in 1..=70usize {
            other.push(data[n - 1].clone());
            let d = &data[..n];
            let size = n as u64;
            let root = tree.root(size);
            assert_eq!(root, mth(d), "root of {n} leaves");
            assert_eq!(other.root().as_bytes().as_slice(), root.0.as_slice(), "ct-merkle root of {n} leaves");

            for m in 0..n {
                let got = tree.inclusion(m as u64, size);
                assert_eq!(got, path(m, d), "inclusion of {m} in {n}");
                assert_eq!(
                    other.prove_inclusion(m).as_bytes(),
                    concat(&got).as_slice(),
                    "ct-merkle inclusion {m} in {n}"
                );
                verify_inclusion(&leaf_hash(&d[m]), m as u64, size, &got, &root).unwrap();
            }
            for m in 1..=n {
                let got = tree.consistency(m as u64, size);
                assert_eq!(got, proof(m, d), "consistency {m} to {n}");
                assert_eq!(
                    other.prove_consistency(n - m).as_bytes(),
                    concat(&got).as_slice(),
                    "ct-merkle consistency {m} to {n}"
                );
                verify_consistency(m as u64, &mth(&d[..m]), size, &root, &got).unwrap();
            }
            verify_consistency(0, &empty_root(), size, &root, &[]).unwrap();
        }
    }

    #[test]
    fn leaf_node_and_empty_hashes_are_the_rfc_ones() {
        let d = leaves(2);
        assert_eq!(leaf_hash(&d[0]), mth(&d[..1]));
        assert_eq!(node_hash(&leaf_hash(&d[0]), &leaf_hash(&d[1])), mth(&d));
        assert_eq!(merkle::to_hex(&empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

mod forged {
    use super::*;

    fn flipped(path: &[Hash], at: usize) -> Vec<Hash> {
        let mut out = path.to_vec();
        out[at].0[7] ^= 0x20;
        out
    }

    #[test]
    fn inclusion_proofs_altered_in_any_way_are_refused() {
        let data = leaves(21);
        let tree = MemTree::from_leaves(&data);
        let stray = Hash([9; 32]);
        for n in 1..=21u64 {
            let root = tree.root(n);
            for m in 0..n {
                let leaf = leaf_hash(&data[m as usize]);
                let path = tree.inclusion(m, n);
                let refused = |leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash| {
                    verify_inclusion(leaf, index, size, path, root).is_err()
                };
                verify_inclusion(&leaf, m, n, &path, &root).unwrap();
                for at in 0..path.len() {
                    assert!(refused(&leaf, m, n, &flipped(&path, at), &root), "flipped hash {at} of {m} in {n}");
                }
                let mut bad_leaf = leaf;
                bad_leaf.0[0] ^= 1;
                assert!(refused(&bad_leaf, m, n, &path, &root), "other leaf at {m} in {n}");
                for other in (0..n).filter(|&o| o != m) {
                    assert!(refused(&leaf, other, n, &path, &root), "index {other} for {m} in {n}");
                }
                for other in (m + 1..=21).filter(|&s| s != n) {
                    assert!(refused(&leaf, m, other, &path, &tree.root(other)), "size {other} for {m} in {n}");
                }
                if let Some((_, shorter)) = path.split_last() {
                    assert!(refused(&leaf, m, n, shorter, &root), "truncated path of {m} in {n}");
                }
                let longer: Vec<Hash> = path.iter().copied().chain([stray]).collect();
                assert!(refused(&leaf, m, n, &longer, &root), "extended path of {m} in {n}");
                let front: Vec<Hash> = [stray].into_iter().chain(path.iter().copied()).collect();
                assert!(refused(&leaf, m, n, &front, &root), "path extended at the front of {m} in {n}");
            }
        }
    }

    #[test]
    fn an_index_outside_the_tree_and_an_absurd_path_are_refused_with_their_reason() {
        let data = leaves(4);
        let tree = MemTree::from_leaves(&data);
        let root = tree.root(4);
        let leaf = leaf_hash(&data[0]);
        assert_eq!(verify_inclusion(&leaf, 4, 4, &[], &root), Err(ProofError::IndexOutOfRange { index: 4, size: 4 }));
        assert_eq!(
            verify_inclusion(&leaf, 0, 0, &[], &empty_root()),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        let absurd = vec![Hash([1; 32]); 1000];
        assert_eq!(verify_inclusion(&leaf, 0, 4, &absurd, &root), Err(ProofError::PathTooLong { hashes: 1000 }));
        let err = verify_inclusion(&leaf, 1, 4, &tree.inclusion(0, 4), &root).unwrap_err();
        assert_eq!(err, ProofError::InclusionMismatch { index: 1, size: 4 });
        assert!(err.to_string().contains("does not lead to the root"), "{err}");
    }

    #[test]
    fn consistency_proofs_altered_or_of_another_tree_are_refused() {
        let data = leaves(21);
        let tree = MemTree::from_leaves(&data);
        let mut forked_data = data.clone();
        forked_data[2] = b"rewritten".to_vec();
        let forked = MemTree::from_leaves(&forked_data);
        let stray = Hash([9; 32]);
        for n in 1..=21u64 {
            let root = tree.root(n);
            for m in 1..=n {
                let old = tree.root(m);
                let path = tree.consistency(m, n);
                let refused = |m: u64, old: &Hash, n: u64, new: &Hash, path: &[Hash]| {
                    verify_consistency(m, old, n, new, path).is_err()
                };
                verify_consistency(m, &old, n, &root, &path).unwrap();
                for at in 0..path.len() {
                    assert!(refused(m, &old, n, &root, &flipped(&path, at)), "flipped hash {at} of {m}..{n}");
                }
                if let Some((_, shorter)) = path.split_last() {
                    assert!(refused(m, &old, n, &root, shorter), "truncated {m}..{n}");
                }
                let longer: Vec<Hash> = path.iter().copied().chain([stray]).collect();
                assert!(refused(m, &old, n, &root, &longer), "extended {m}..{n}");
                if m != n {
                    assert!(refused(m, &old, n, &root, &[]), "empty proof for {m}..{n}");
                }
                // Another tree: a rewritten log (leaf 2 changed, so every root from size 3 on
                // differs) is not shown to extend this one, nor this one it, by either's proof.
                if m >= 3 && m < n {
                    let (fork_old, fork_new) = (forked.root(m), forked.root(n));
                    assert!(refused(m, &old, n, &fork_new, &path), "old {m} against a fork's {n}");
                    assert!(refused(m, &fork_old, n, &root, &path), "a fork's old root against this tree {m}..{n}");
                    let fork_path = forked.consistency(m, n);
                    assert!(refused(m, &old, n, &fork_new, &fork_path), "the fork's own proof from {m} to {n}");
                }
                for other in (1..=n).filter(|&o| o != m) {
                    assert!(refused(other, &tree.root(other), n, &root, &path), "proof of {m}..{n} as {other}..{n}");
                }
            }
        }
    }

    #[test]
    fn consistency_edge_cases_are_refused_with_their_reason() {
        let data = leaves(5);
        let tree = MemTree::from_leaves(&data);
        let (r3, r5) = (tree.root(3), tree.root(5));
        assert_eq!(
            verify_consistency(5, &r5, 3, &r3, &[]),
            Err(ProofError::SizesOutOfOrder { old_size: 5, new_size: 3 })
        );
        assert_eq!(verify_consistency(0, &r3, 5, &r5, &[]), Err(ProofError::NotTheEmptyRoot { which: "old" }));
        assert_eq!(
            verify_consistency(0, &empty_root(), 5, &r5, &[r3]),
            Err(ProofError::ProofFromEmptyTree { hashes: 1 })
        );
        assert_eq!(
            verify_consistency(0, &empty_root(), 0, &r5, &[]),
            Err(ProofError::NotTheEmptyRoot { which: "new" })
        );
        verify_consistency(0, &empty_root(), 0, &empty_root(), &[]).unwrap();
        verify_consistency(5, &r5, 5, &r5, &[]).unwrap();
        assert_eq!(
            verify_consistency(5, &r5, 5, &r3, &[]),
            Err(ProofError::ConsistencyMismatch { old_size: 5, new_size: 5 })
        );
    }
}

mod json {
    use super::*;
    use govledger_tlog::proof::{ConsistencyProof, InclusionProof, path_to_hex};

    #[test]
    fn json_proofs_round_trip_and_check_against_roots() {
        let data = leaves(9);
        let tree = MemTree::from_leaves(&data);
        let proof = InclusionProof {
            seq: 4,
            leaf_index: 3,
            tree_size: 9,
            leaf_hash: merkle::to_hex(&leaf_hash(&data[3])),
            path: path_to_hex(&tree.inclusion(3, 9)),
        };
        let json = serde_json::to_value(&proof).unwrap();
        assert_eq!(json["leaf_index"], 3);
        assert!(json["path"][0].as_str().unwrap().chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        let back: InclusionProof = serde_json::from_value(json).unwrap();
        assert_eq!(back, proof);
        proof.verify(&tree.root(9)).unwrap();
        assert!(proof.verify(&tree.root(8)).is_err());

        let wrong_seq = InclusionProof { seq: 3, ..proof.clone() };
        assert_eq!(wrong_seq.verify(&tree.root(9)), Err(ProofError::SeqMismatch { seq: 3, leaf_index: 3 }));
        let bad_hex = InclusionProof { leaf_hash: "xyz".into(), ..proof };
        assert_eq!(bad_hex.verify(&tree.root(9)), Err(ProofError::BadHex { value: "xyz".into() }));

        let consistency = ConsistencyProof { from: 4, to: 9, path: path_to_hex(&tree.consistency(4, 9)) };
        let back: ConsistencyProof = serde_json::from_str(&serde_json::to_string(&consistency).unwrap()).unwrap();
        assert_eq!(back, consistency);
        consistency.verify(&tree.root(4), &tree.root(9)).unwrap();
        assert!(consistency.verify(&tree.root(5), &tree.root(9)).is_err());
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_a_hash() {
        let h = leaf_hash(b"x");
        assert_eq!(merkle::from_hex(&merkle::to_hex(&h)).unwrap(), h);
        assert!(merkle::from_hex(&merkle::to_hex(&h)[..62]).is_err());
        assert!(merkle::from_hex(&format!("{}00", merkle::to_hex(&h))).is_err());
        assert!(merkle::from_hex(&"g".repeat(64)).is_err());
    }
}
