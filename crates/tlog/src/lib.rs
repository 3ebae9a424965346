//! The transparency-log formats of SPEC 6, with no storage and no IO: the
//! RFC 9162 Merkle hashes and proofs (`merkle`, `proof`), the log's and the
//! witnesses' keys (`keys`), signed checkpoints and their cosignatures
//! (`checkpoint`, `cosignature`), the `tlog-proof@v1` receipt (`receipt`)
//! and the `tlog-witness` request body (`witness_wire`).
//!
//! The note syntax, the checkpoint body and the proof algorithms are those of
//! the `signed_note` and `tlog_tiles` crates (ports of Go's sumdb/note and
//! sumdb/tlog); this crate adds only what they lack: the `cosignature/v1`
//! algorithm, the witness key text, the receipt text and the witness request.

pub use tlog_tiles::Hash;

pub mod checkpoint;
pub mod cosignature;
pub mod keys;
pub mod merkle;
pub mod proof;
pub mod receipt;
pub mod witness_wire;
