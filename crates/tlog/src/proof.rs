//! The JSON proofs of SPEC 6.3 (`GET /v1/proof/inclusion` and
//! `/v1/proof/consistency`): RFC 9162 audit paths with hashes in lowercase
//! hex, and their checks against roots the caller trusts (from checkpoints).

use serde::{Deserialize, Serialize};
use tlog_tiles::Hash;

use crate::merkle::{self, ProofError};

/// The proof that the event of `seq` is leaf `leaf_index` (= seq − 1) of the tree of `tree_size` leaves.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct InclusionProof {
    pub seq: u64,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub path: Vec<String>,
}

impl InclusionProof {
    /// Checks the proof against `root`, the root of the tree of `tree_size` leaves.
    pub fn verify(&self, root: &Hash) -> Result<(), ProofError> {
        if self.seq.checked_sub(1) != Some(self.leaf_index) {
            return Err(ProofError::SeqMismatch { seq: self.seq, leaf_index: self.leaf_index });
        }
        let leaf = merkle::from_hex(&self.leaf_hash)?;
        let path = parse_path(&self.path)?;
        merkle::verify_inclusion(&leaf, self.leaf_index, self.tree_size, &path, root)
    }
}

/// The proof that the tree of `to` leaves extends the tree of `from` leaves.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub path: Vec<String>,
}

impl ConsistencyProof {
    /// Checks the proof against the roots of the trees of `from` and `to` leaves.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), ProofError> {
        let path = parse_path(&self.path)?;
        merkle::verify_consistency(self.from, old_root, self.to, new_root, &path)
    }
}

/// Hex hashes as hashes, the first bad one named in the error.
pub fn parse_path(path: &[String]) -> Result<Vec<Hash>, ProofError> {
    path.iter().map(|h| merkle::from_hex(h)).collect()
}

/// Hashes as lowercase hex.
pub fn path_to_hex(path: &[Hash]) -> Vec<String> {
    path.iter().map(merkle::to_hex).collect()
}
