//! A bounded schemathesis run (PyPI) against a live server, in CI (issue
//! 21): property-based requests generated from `/openapi.json` and from the
//! GraphQL schema (custom scalars from `tests/fuzz/govledger_scalars.py`),
//! each answer checked for a 5xx, an undocumented status, a body or header
//! that breaks the published schema, a wrong `Allow`, schema-invalid input
//! accepted. Not checked: "schema-valid input accepted" — the ledger's rules
//! (SPEC 2) refuse much that a schema cannot describe (an unregistered
//! agency, a freeze never requested).
//!
//! Bounded: at most 25 (REST) and 8 (GraphQL) generated examples per
//! operation and phase, 127.0.0.1 only; the runs stop by themselves (about
//! 10 s each here; `--max-time` would instead repeat fuzzing until it ran out).

use std::path::Path;
use std::process::Command;

use crate::support::{Client, Fixture};

/// Runs `schemathesis run LOCATION` with the token; fails loudly (never
/// skips) when schemathesis is missing. Returns (exit code, output).
/// Runs in `workdir`, where schemathesis keeps its cache (`.schemathesis/`), not in the source tree.
fn schemathesis(workdir: &Path, location: &str, token: &str, max_examples: u32) -> (Option<i32>, String) {
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz");
    let out = Command::new("python3")
        .args(["-m", "schemathesis.cli", "run", location])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--max-examples", &max_examples.to_string(), "--workers", "1"])
        .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--request-timeout", "10", "--no-color"])
        .env("PYTHONPATH", &hooks)
        .env("SCHEMATHESIS_HOOKS", "govledger_scalars")
        .current_dir(workdir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); CI runs `pip install schemathesis`"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        !text.contains("No module named schemathesis"),
        "schemathesis is missing: run `pip install 'schemathesis>=4.32,<5'` (CI does); this test must not be skipped"
    );
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_over_openapi_and_graphql() {
    let fx = Fixture::new();
    let token = fx.token("bank-1", "agency");
    let server = fx.serve(&[]);
    let before = Client::new(&server, Some(&fx.token("regulator", "auditor"))).head_seq().await;

    let (code, text) = schemathesis(fx.root.path(), &server.url("/openapi.json"), &token, 25);
    assert_eq!(code, Some(0), "schemathesis over /openapi.json found problems:\n{text}");
    assert!(!text.contains("Failures:") && text.contains("passed"), "{text}");
    let (code, text) = schemathesis(fx.root.path(), &server.url("/graphql"), &token, 8);
    assert_eq!(code, Some(0), "schemathesis over /graphql found problems:\n{text}");
    assert!(!text.contains("Failures:") && text.contains("passed"), "{text}");

    // The server is still whole: it answers, and its log still verifies.
    let auditor = Client::new(&server, Some(&fx.token("regulator", "auditor")));
    assert!(auditor.head_seq().await >= before);
    let r = auditor.get("/v1/verify").await;
    assert_eq!(r.body["ok"], true, "{}", r.text);
    assert!(server.stop().0.success());
}
