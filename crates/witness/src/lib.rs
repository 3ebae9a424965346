//! A transparency-log witness (SPEC 6.4, C2SP tlog-witness and tlog-cosignature):
//! it cosigns a log's checkpoint only when the log's key signed it and it is
//! consistent with the last checkpoint the witness cosigned for that log, and it
//! keeps a refused checkpoint that contradicts that one as evidence of a fork.
//!
//! - `state`: the witness directory (key, latest cosigned checkpoint per log,
//!   evidence), written atomically;
//! - `witness`: the checks of `add-checkpoint` ([`decide`], pure) and the state
//!   change under one lock per log ([`Witness`]);
//! - `http`: the axum [`router`] (no sockets: tests use `oneshot`);
//! - `client`: [`WitnessClient`], the log's side of the protocol;
//! - `cli`: `govledger witness key|serve` ([`WitnessCommand`], [`run`]).
//!
//! Formats (notes, checkpoints, cosignatures, the request body, proofs) are
//! `govledger-tlog`'s; this crate adds the state, the HTTP and the policy.

mod cli;
mod client;
mod http;
mod state;
mod witness;

pub use cli::{DEFAULT_NAME, WitnessCommand, run};
pub use client::{DEFAULT_TIMEOUT, SubmitError, SubmitOutcome, WitnessClient};
pub use http::{MAX_BODY_BYTES, router};
pub use state::{CosignedCheckpoint, KEY_FILE, StateError, WitnessState, origin_hash};
pub use witness::{AddError, OpenError, Witness, decide};
