//! The govledger ledger: the stored envelope, its RFC 8785 canonical form and
//! SHA-256 hash chain (SPEC 2.2), the verifier, the storage contract that
//! every store implements, and the single append path over it.
//!
//! Architecture invariant: stores only keep bytes. Validation (through
//! `govledger-domain`), chaining and hashing happen here, once.

pub mod backend;
pub mod event;
pub mod ledger;
pub mod memory;
mod seal;
pub mod verify;

pub use backend::{LogReader, LogWriter, RawRow, StoreError, TransactionLimit};
pub use event::{Encoded, GENESIS_HASH, Head, StoredEvent, Tail, sha256_hex};
pub use ledger::{
    AppendError, Appended, Clock, ImportError, ImportItem, ImportSummary, Ledger, LedgerOptions, LedgerStats,
    RetryPolicy, SNAPSHOT_FILE, SnapshotError,
};
pub use verify::{Finding, Problem, Stretch, Verifier, VerifyReport, check_stretch, verify, verify_sharded};
