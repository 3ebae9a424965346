//! Black-box tests of the `govledger` binary on real data directories: what a
//! user (or an auditor with only an export) can observe. Run with
//! `cargo test -p govledger --test cli`.
//!
//! Modules, one per promise:
//! - `tamper`: `verify` names the exact seq and kind of every tampering done
//!   directly to `ledger.sqlite` (SPEC 2.2);
//! - `independence`: an export's hashes recompute with a different RFC 8785
//!   implementation (Python `rfc8785`, `tests/independent_hash.py`);
//! - `crash`: SIGKILL during concurrent appends loses no acknowledged event
//!   and leaves nothing half-written (SPEC 5);
//! - `bad_input`: every bad import line is rejected with its stable code and
//!   line number, and stores nothing (SPEC 2.5);
//! - `idempotency`: re-importing events with client ids is a no-op; reusing an
//!   id for other content is a conflict (SPEC 2.1);
//! - `roundtrip`: export, strip the stored fields, import elsewhere: same ids
//!   and payloads; `export --after`;
//! - `lock`: a data directory held by another process is refused cleanly;
//! - `assess`: `assess` and `scorecard` print the SPEC 3.4 document, a table
//!   and sentences, keep the projection checkpoint, and explain mistakes;
//! - `backup`: an online backup taken while another process appends restores
//!   into a new directory that verifies; restore never overwrites a ledger;
//! - `store`: `--store` and `--config` choose the data directory and store.
//! - `report`: `report` in every format, byte-for-byte reproducible; a
//!   published report verifies, a changed ledger, model or file does not; the
//!   HTML in headless Chromium (`chromium`: needs Debian's `chromium`).
//! - `proofs`: SPEC 6 without a server: `key` creates a private key once;
//!   `report --publish` refuses a ledger that does not verify; `proof verify`
//!   explains usage mistakes offline (the server-side proofs are in
//!   `tests/server/proofs.rs`).
//!
//! `support` holds the shared helpers and the small city the tests import.
//! This file is the crate root, so the modules under `tests/cli/` are named
//! with `#[path]`.

// Helpers outside `#[test]` functions unwrap too: in a test, a panic with
// the failing value is the report we want (clippy.toml allows it only inside
// `#[test]` functions).
#![allow(clippy::unwrap_used)]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/assess.rs"]
mod assess;
#[path = "cli/backup.rs"]
mod backup;
#[path = "cli/bad_input.rs"]
mod bad_input;
#[path = "cli/chromium.rs"]
mod chromium;
#[path = "cli/crash.rs"]
mod crash;
#[path = "cli/idempotency.rs"]
mod idempotency;
#[path = "cli/independence.rs"]
mod independence;
#[path = "cli/lock.rs"]
mod lock;
// SPEC 6: the log key, publishing only a verified chain, offline `proof verify`.
#[path = "cli/proofs.rs"]
mod proofs;
#[path = "cli/report.rs"]
mod report;
#[path = "cli/roundtrip.rs"]
mod roundtrip;
#[path = "cli/store.rs"]
mod store;
#[path = "cli/tamper.rs"]
mod tamper;
