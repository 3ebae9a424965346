//! SPEC 2.2: "anyone holding an export can recompute every hash with any
//! RFC 8785 library, without this project's code". The export of the city
//! (Chinese text, escapes, control characters, integers up to 2^53 - 1,
//! fractional seconds, offsets) is checked by `tests/independent_hash.py`,
//! which uses the Python `rfc8785` package.

use std::path::Path;
use std::process::Command;

use crate::support::{CITY_EVENTS, Fixture, envelope};

/// The independent checker, next to this test's sources.
fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/independent_hash.py")
}

/// Runs the Python checker on an export file. Fails loudly (never skips)
/// when Python or its `rfc8785` package is missing.
fn check_independently(export: &Path) -> String {
    let out = Command::new("python3").arg(script()).arg(export).output().unwrap_or_else(|e| {
        panic!("cannot run python3 ({e}); this test needs Python 3 with `pip install rfc8785` (CI installs it)")
    });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(
        out.status.code(),
        Some(3),
        "the independent check could not run: {stderr}\nrun `pip install rfc8785` (CI installs it); this test must not be skipped"
    );
    assert!(out.status.success(), "independent RFC 8785 check FAILED:\nstdout: {stdout}\nstderr: {stderr}");
    stdout
}

#[test]
fn export_hashes_recompute_with_python_rfc8785() {
    let fx = Fixture::with_city();
    // One more event without a client id: the server-assigned id is hashed too.
    let extra = envelope(
        None,
        "PublicityDelivered",
        "jj-psb",
        "2026-02-02T08:00:00.000100+08:00",
        serde_json::json!({"activity_id": "PUB-2", "audience": "老年人 \u{1F474} \"防骗\" \\ 讲座", "reach": 0}),
    );
    fx.import(&[extra]).success();
    let out = fx.root.path().join("export.ndjson");
    fx.run(&["export", "--out", out.to_str().unwrap()]).success();
    let (head_seq, head_hash) = fx.head();
    assert_eq!(head_seq, CITY_EVENTS + 1);

    let summary = check_independently(&out);
    let expected = format!("ok: {head_seq} events verified independently, head seq {head_seq} hash {head_hash}");
    assert_eq!(summary.trim(), expected);
}

#[test]
fn independent_check_rejects_an_altered_export() {
    // The checker itself must be able to fail: flip one payload character.
    let fx = Fixture::with_city();
    let export = fx.export();
    let altered = export.replacen("\"reach\":123456789012345", "\"reach\":123456789012346", 1);
    assert_ne!(altered, export);
    let path = fx.file("altered.ndjson", &altered);
    let out = Command::new("python3").arg(script()).arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(3), "the independent check could not run: {stderr}; run `pip install rfc8785`");
    assert_eq!(out.status.code(), Some(1), "the altered export must fail: {stderr}");
    assert!(stderr.contains("line 23: seq 23: hash"), "{stderr}");
}
