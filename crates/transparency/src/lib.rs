//! The transparency side of the log that needs storage (SPEC 6.1, 6.2): the
//! Merkle tree over the stored events, kept as a derived follower of the log
//! in a flat file beside the store ([`Tree`]), and every signed checkpoint
//! with the cosignatures it collected ([`CheckpointStore`]).
//!
//! Code map: `file` is the tree's on-disk layout (tlog_tiles' stored-hash
//! order) and the positioned reads and buffered appends over it; `tree` is
//! the follower (extend, start-up check, roots and proofs); `proofs` builds
//! the SPEC 6.3 answers (JSON proofs, receipts) from it; `catch_up` runs
//! a long `extend` on every core (shards joined in order); `checkpoints`
//! is the SQLite table of signed checkpoints.
//!
//! Architecture invariant: the tree is derived state. It is only ever
//! computed from the stored events (each new stretch checked with the
//! ledger's `Verifier` first), it can always be thrown away and rebuilt,
//! and the layout and proofs are `tlog_tiles`' (a port of Go's
//! `sumdb/tlog`); this crate only keeps the hashes and follows the log.

mod catch_up;
mod checkpoints;
mod file;
mod proofs;
mod tree;

use govledger_ledger::StoreError;

pub use checkpoints::{CHECKPOINTS_FILE, CheckpointStore, StoredCheckpoint};
pub use tlog_tiles::Hash;
pub use tree::{HASHES_FILE, SYNCED_FILE, Tree};

/// What can go wrong with the tree or the kept checkpoints; each variant
/// says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The log itself is wrong at `seq` (the ledger's `Verifier` found a
    /// problem there): the tree stops at the event before it and nothing
    /// after it is added. The log needs an operator, not the tree.
    #[error(
        "the log is broken at seq {seq} ({reason}); the Merkle tree stops before it. Run `govledger verify` for the full report"
    )]
    Broken { seq: u64, reason: String },
    /// The tree (or a kept checkpoint) does not match the stored events: the
    /// log's history was rewritten, or the tree file was altered. Rebuild the
    /// tree from the log (`Tree::rebuild`), and keep the old checkpoints as
    /// evidence.
    #[error("the Merkle tree disagrees with the log: {reason}")]
    Disagrees { reason: String },
    /// A size, index or seq the tree (or the checkpoint store) does not have
    /// yet; ask for one within it.
    #[error("{reason}")]
    OutOfRange { reason: String },
    /// The tree's files or the checkpoint database could not be read or
    /// written; the operation may be retried once the disk is fixed.
    #[error("transparency storage failure: {0}")]
    Io(String),
    /// The store of the log failed while the tree read it; retry.
    #[error(transparent)]
    Store(#[from] StoreError),
}
