//! Tests of the witness (SPEC 6.4, C2SP tlog-witness). Run with
//! `cargo test -p govledger-witness`.
//!
//! Modules, one per promise:
//! - `add_checkpoint`: every status code of `POST /add-checkpoint`, through the
//!   router without sockets (`oneshot`), and what a 200 carries;
//! - `forks`: a split view (same size, other root) and an inconsistent larger
//!   checkpoint, both validly signed, are refused with 422 and kept as evidence;
//!   refusals that show no fork keep nothing;
//! - `restart`: the last cosigned checkpoint survives reopening the directory, a
//!   damaged state file stops the start, and concurrent requests cannot roll it back;
//! - `monitoring`: `GET /<origin hash>/checkpoint`;
//! - `client`: `WitnessClient` over real HTTP against two witnesses;
//! - `cli`: `govledger witness key` creates a key readable only by its owner.
//!
//! `support` holds the fake log (a tree of made-up leaves and its key) and the
//! request helpers. This file is the crate root, so the modules under
//! `tests/witness/` are named with `#[path]`.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "witness/support.rs"]
mod support;

#[path = "witness/add_checkpoint.rs"]
mod add_checkpoint;
#[path = "witness/cli.rs"]
mod cli;
#[path = "witness/client.rs"]
mod client;
#[path = "witness/forks.rs"]
mod forks;
#[path = "witness/monitoring.rs"]
mod monitoring;
#[path = "witness/restart.rs"]
mod restart;
