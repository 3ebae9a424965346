//! End-to-end tests of `govledger serve`: the real binary, on a real data
//! directory, over real TCP on 127.0.0.1 (port chosen by the OS). Run with
//! `cargo test -p govledger --test server`.
//!
//! Modules, one per promise of issue 4 / SPEC 4:
//! - `roles`: every token role against every kind of operation (read, append
//!   as itself, append as another agency, coordinator action, evaluator
//!   action, a write the ledger's rules refuse), allowed and denied, through
//!   HTTP and GraphQL; anonymous access only to `/healthz`; `token`
//!   subcommands refuse roles an agency does not hold; revocation;
//! - `assessment`: `assessment` and `scorecard` over GraphQL equal `govledger
//!   assess --format json` and `govledger scorecard`; an append shows in the
//!   very next query; wrong periods and positions get their codes;
//! - `bad_input`: each class of bad input through HTTP and GraphQL gets its
//!   stable code, field and index, and stores nothing;
//! - `entities`: tasks, freezes, meetings, clues, warnings, penalties,
//!   card-breaking actions and cases list what the log created, filtered by
//!   agency, status and time, paged by cursor;
//! - `idempotency`: retries (sequential and concurrent, single and batch,
//!   HTTP and GraphQL) return the stored event; a changed retry conflicts;
//! - `subscription`: a GraphQL subscription over WebSocket receives, filtered,
//!   the events another client appends;
//! - `concurrency`: 32 clients race thousands of conflicting lifecycle steps:
//!   each accepted event is stored once, each loser gets its code, the chain
//!   verifies;
//! - `restart`: a graceful stop (SIGTERM) during concurrent appends loses no
//!   acknowledged event; a restart serves the same log, head and tokens;
//!   `serve --demo` starts on a demo city.
//! - `dashboard`: `/` for every token (none 401; an agency token's own
//!   agency highlighted), token by header, link or cookie, the head it
//!   polls, and the page in headless Chromium.
//! - `l10n`: the dashboard in the browser's language (zh-CN by default) with
//!   translated codes, its dates midnight Beijing time (a Beijing quarter is
//!   the assessment of its +08:00 instants), error pages for browsers in
//!   their language with the same code, and the zh-CN page in headless
//!   Chromium with no request leaving 127.0.0.1.
//! - `reads`: SPEC 4 v1.2's read scope: an agency token sees another bank's
//!   freeze through no interface (REST, GraphQL, listings, subscription,
//!   receipts, dashboard), the requesting police reads the bank's answer,
//!   auditors and coordinators read all; `/metrics` for coordinator and
//!   auditor tokens or the configured scrape token.
//! - `proofs`: SPEC 6 — the log key, signed checkpoints, inclusion and
//!   consistency proofs (REST and GraphQL), an independent Python checker
//!   (`tests/independent_proofs.py`), receipts in the read scope that verify
//!   offline, `/healthz` and no signing over a chain tampered while down, two
//!   witnesses with `--quorum 2`;
//! - `rewrite`: the dishonest operator who rewrites and rehashes history and
//!   hides the old tree is refused by the witness and caught by old receipts.
//! - `report_stamp`: a report names the signed checkpoint of its figures, and
//!   `report verify` checks it.
//! - `rival`: the rival-score attack of issue 21 (SPEC 3.2 v1.2): a bank's
//!   own meeting and tasks leave a rival bank's figures, score and rank
//!   unchanged until the rival acknowledges a task; a coordinator's always
//!   count.
//! - `postgres`: two replicas on one PostgreSQL (issue 20) serve one chain:
//!   every acknowledged event once, one winner per raced freeze, the same
//!   events and assessment on both, `verify` passes.
//! - `graphiql`: the GraphiQL page loads only files the server serves, and
//!   queries and subscribes with the dashboard's session cookie (same origin only).
//! - `publish`: an evaluator publishes a report while the server runs (HTTP
//!   and `report --publish --server`), the file written only once the event
//!   is stored; refused for other tokens and on a chain that does not verify.
//! - `ops`: an empty ledger is not served but explained, `init` bootstraps
//!   it; every serve flag has a variable; JSON logs; process metrics;
//!   tokens with a label, an expiry (401 `auth.token_expired`) and a last use.
//! - `fuzz`: a bounded schemathesis run over `/openapi.json` and `/graphql`.
//! - `wire`: log positions beyond 2^31 in the `Seq` scalar, beyond 2^53-1
//!   refused alike over REST and GraphQL; GraphQL errors classified.
//! - `limits`: SPEC 4 Limits (issue 21) — an amplified GraphQL batch is
//!   refused before it runs and memory stays bounded, one complexity budget
//!   per request, 200 `verify` aliases are cheap and hold nobody, slow
//!   headers and bodies are cut off, the connection limit; a request with
//!   two mutation fields (one document or a batch array) stores nothing.
//!
//! `support` starts and stops servers, issues tokens and holds the small
//! city every test starts from. The crate root is this file, outside a
//! directory of its own, so the modules are named with `#[path]`.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

#[path = "server/support.rs"]
mod support;

#[path = "server/assessment.rs"]
mod assessment;
#[path = "server/bad_input.rs"]
mod bad_input;
#[path = "server/concurrency.rs"]
mod concurrency;
#[path = "server/dashboard.rs"]
mod dashboard;
#[path = "server/entities.rs"]
mod entities;
#[path = "server/idempotency.rs"]
mod idempotency;
#[path = "server/restart.rs"]
mod restart;
// SPEC 4, Limits: bounded work per request, time and connection limits.
#[path = "server/limits.rs"]
mod limits;
// Issue 21: log positions as `Seq`, GraphQL error classification.
#[path = "server/wire.rs"]
mod wire;
// Issue 21: a bounded schemathesis run over OpenAPI and GraphQL.
#[path = "server/fuzz.rs"]
mod fuzz;
// Issue 17: GraphiQL with no internet.
#[path = "server/graphiql.rs"]
mod graphiql;
// Issue 17: publishing a report through the running server.
#[path = "server/publish.rs"]
mod publish;
// Issue 17: the operator's side of serve (bootstrap, variables, logs, process metrics).
#[path = "server/ops.rs"]
mod ops;
// SPEC 6: checkpoints, proofs, receipts, witnesses (`tlog_support` holds their helpers).
#[path = "server/postgres.rs"]
mod postgres;
#[path = "server/proofs.rs"]
mod proofs;
#[path = "server/rewrite.rs"]
mod rewrite;
// A report names the checkpoint its figures were proven by; `report verify` checks it.
#[path = "server/report_stamp.rs"]
mod report_stamp;
// SPEC 3.2 v1.2: no agency moves a rival's score.
#[path = "server/rival.rs"]
mod rival;
#[path = "server/tlog_support.rs"]
mod tlog_support;
// Headless Chromium, shared with the CLI report tests.
#[path = "cli/chromium.rs"]
mod chromium;
#[path = "server/l10n.rs"]
mod l10n;
#[path = "server/reads.rs"]
mod reads;
#[path = "server/roles.rs"]
mod roles;
#[path = "server/subscription.rs"]
mod subscription;
