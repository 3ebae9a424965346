//! The Merkle tree hashes and proof checks of SPEC 6.1 (RFC 9162 section
//! 2.1): leaf and empty-tree hashes, hex text of hashes, and the checks of
//! inclusion and consistency proofs, whose paths are lowest level first.
//!
//! The algorithms are `tlog_tiles`' (a port of Go's sumdb/tlog); this module
//! gives them the project's argument order and errors a person can act on.

use tlog_tiles::Hash;

/// No tree of at most 2^64 leaves needs more hashes than this in a proof; a
/// longer path is refused before it is walked.
const MAX_PATH_HASHES: usize = 128;

/// The hash of a leaf whose input is `body`: `SHA-256(0x00 ‖ body)` (RFC 9162 2.1.1).
pub fn leaf_hash(body: &[u8]) -> Hash {
    tlog_tiles::record_hash(body)
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)` (RFC 9162 2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    tlog_tiles::node_hash(*left, *right)
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    tlog_tiles::EMPTY_HASH
}

/// The hash as 64 lowercase hex characters (SPEC 6.3).
pub fn to_hex(h: &Hash) -> String {
    hex::encode(h.0)
}

/// A hash from its 64 hex characters (either case).
pub fn from_hex(s: &str) -> Result<Hash, ProofError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| ProofError::BadHex { value: shorten(s) })?;
    Ok(Hash(out))
}

/// Checks that `path` proves the leaf with hash `leaf` is at `index` in the
/// tree of `size` leaves whose root is `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    if path.len() > MAX_PATH_HASHES {
        return Err(ProofError::PathTooLong { hashes: path.len() });
    }
    tlog_tiles::check_record(&path.to_vec(), size, *root, index, *leaf)
        .map_err(|_| ProofError::InclusionMismatch { index, size })
}

/// Checks that `path` proves the tree of `new_size` leaves with root
/// `new_root` extends the tree of `old_size` leaves with root `old_root`
/// (RFC 9162 2.1.4.2). The empty tree is extended by every tree; its proof is
/// empty and its root must be `SHA-256("")`.
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    path: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    if path.len() > MAX_PATH_HASHES {
        return Err(ProofError::PathTooLong { hashes: path.len() });
    }
    if old_size == 0 {
        if *old_root != empty_root() {
            return Err(ProofError::NotTheEmptyRoot { which: "old" });
        }
        if new_size == 0 && *new_root != empty_root() {
            return Err(ProofError::NotTheEmptyRoot { which: "new" });
        }
        if !path.is_empty() {
            return Err(ProofError::ProofFromEmptyTree { hashes: path.len() });
        }
        return Ok(());
    }
    tlog_tiles::check_tree(&path.to_vec(), new_size, *new_root, old_size, *old_root)
        .map_err(|_| ProofError::ConsistencyMismatch { old_size, new_size })
}

/// At most 80 characters of a value quoted in an error.
fn shorten(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Why a proof was not accepted. Every variant means "do not trust the claim";
/// the text says what was wrong and what to ask for instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf index {index} is not in a tree of {size} leaves: ask for a proof against a tree that contains it")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error(
        "the inclusion proof does not lead to the root: the leaf is not at index {index} of that tree of {size} \
         leaves as shown, or the proof, leaf or root was altered"
    )]
    InclusionMismatch { index: u64, size: u64 },
    #[error(
        "the consistency proof does not show the tree of {new_size} leaves extending the tree of {old_size}: \
         either the log was rewritten (a fork) or the proof or one of the roots was altered"
    )]
    ConsistencyMismatch { old_size: u64, new_size: u64 },
    #[error("the old tree size {old_size} is larger than the new tree size {new_size}: give the older tree first")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("the {which} root given for the empty tree is not SHA-256 of the empty string: it is not an empty tree")]
    NotTheEmptyRoot { which: &'static str },
    #[error("a consistency proof from the empty tree must have no hashes, this one has {hashes}")]
    ProofFromEmptyTree { hashes: usize },
    #[error("the proof has {hashes} hashes, more than any tree needs: it is not a proof")]
    PathTooLong { hashes: usize },
    #[error("{value:?} is not a SHA-256 hash in hex (64 hex characters)")]
    BadHex { value: String },
    #[error("the proof is for seq {seq} but leaf index {leaf_index}: leaf index i holds the event of seq i + 1")]
    SeqMismatch { seq: u64, leaf_index: u64 },
}
