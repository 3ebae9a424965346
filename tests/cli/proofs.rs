//! SPEC 6 on the command line, without a server: `govledger key` creates the
//! log's private key (mode 0600) once and prints the same verifier key every
//! time; `report --publish` refuses a ledger whose chain does not verify,
//! writing and appending nothing; `proof verify` explains usage mistakes
//! (exit 2) without needing a data directory.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use govledger_tlog::keys::LogVerifier;
use rusqlite::Connection;

use crate::support::{BIN, Fixture, Run};

#[test]
fn key_creates_a_private_key_once_and_prints_the_same_verifier_key() {
    let fx = Fixture::new();
    let first = fx.run(&["key", "--origin", "cli.example/log"]).success();
    let vkey = first.stdout.trim().to_owned();
    assert_eq!(first.stdout.lines().count(), 1, "only the verifier key on stdout: {first:?}");
    let verifier = LogVerifier::new(&vkey).unwrap_or_else(|e| panic!("{vkey:?} is not a verifier key: {e}"));
    assert_eq!(verifier.origin(), "cli.example/log");

    let path = fx.data().join("log.key");
    let mode = std::fs::metadata(&path).expect("`key` creates <data-dir>/log.key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the private key must be readable only by its owner");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(&vkey), "the key file holds the private key, not the verifier key");

    // Idempotent: the same key, whatever --origin says now.
    for args in [&["key"][..], &["key", "--origin", "other.example/log"][..]] {
        let again = fx.run(args).success();
        assert_eq!(again.stdout.trim(), vkey, "{args:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{args:?} must not replace the key");
    }

    // A key others can read is refused, not used.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = fx.run(&["key"]).no_panic();
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("chmod 600"), "{run:?}");
}

fn event_count(fx: &Fixture) -> u64 {
    Connection::open(fx.data().join("ledger.sqlite"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap()
}

fn publish(fx: &Fixture, out: &Path) -> Run {
    fx.run(&[
        "report",
        "--from",
        "2026-01-01T00:00:00+08:00",
        "--to",
        "2026-04-01T00:00:00+08:00",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
        "--publish",
        "--as",
        "jj-office",
    ])
    .no_panic()
}

#[test]
fn publishing_from_a_ledger_that_does_not_verify_is_refused_and_writes_nothing() {
    // The same command on the intact city publishes (one more event, the file written)…
    let intact = Fixture::with_city();
    let out = intact.root.path().join("report.json");
    let before = event_count(&intact);
    let run = publish(&intact, &out);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(out.exists());
    assert_eq!(event_count(&intact), before + 1);

    // …but not after one digit of seq 7 was changed behind the product's back.
    let fx = Fixture::with_city();
    let db = Connection::open(fx.data().join("ledger.sqlite")).unwrap();
    let body: String = db.query_row("SELECT body FROM events WHERE seq = 7", [], |r| r.get(0)).unwrap();
    let altered = body.replacen("\"amount_frozen_minor\":3000000", "\"amount_frozen_minor\":3000001", 1);
    assert_ne!(altered, body);
    assert_eq!(db.execute("UPDATE events SET body = ?1 WHERE seq = 7", [&altered]).unwrap(), 1);
    drop(db);
    let before = event_count(&fx);
    let out = fx.root.path().join("report.json");
    let run = publish(&fx, &out);
    assert_eq!(run.code, Some(1), "publishing from a tampered ledger must fail: {run:?}");
    assert!(run.stderr.contains("cannot publish") && run.stderr.contains("seq 7"), "{run:?}");
    assert!(!out.exists(), "no report file may be written");
    assert_eq!(event_count(&fx), before, "nothing may be appended");
}

/// `govledger proof verify ARGS…` with no data directory, in an empty working directory.
fn verify_offline(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(["proof", "verify"])
        .args(args)
        .current_dir(cwd)
        .env_remove("GOVLEDGER_DATA_DIR")
        .env_remove("GOVLEDGER_STORE")
        .env_remove("GOVLEDGER_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
    .no_panic()
}

#[test]
fn proof_verify_usage_mistakes_exit_2_with_a_sentence() {
    let fx = Fixture::new();
    let vkey = fx.run(&["key"]).success().stdout.trim().to_owned();
    let cwd = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = cwd.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let leaf = "00".repeat(32);
    let inclusion =
        file("inclusion.json", &format!(r#"{{"seq":1,"leaf_index":0,"tree_size":1,"leaf_hash":"{leaf}","path":[]}}"#));
    let consistency = file("consistency.json", r#"{"from":1,"to":2,"path":[]}"#);
    let neither = file("neither.txt", "hello\n");

    let cases: [(&[&str], &str); 5] = [
        (&[&inclusion, "--key", &vkey], "give --checkpoint FILE"),
        (&[&consistency, "--key", &vkey], "--checkpoint OLD --checkpoint NEW"),
        (&[&neither, "--key", &vkey], "is neither a receipt"),
        (&["missing.tlog-proof", "--key", &vkey], "cannot read"),
        (&[&inclusion, "--key", "not a key"], "--key is not a verifier key"),
    ];
    for (args, sentence) in cases {
        let run = verify_offline(cwd.path(), args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(run.stderr.contains(sentence), "{args:?}: expected {sentence:?} in {run:?}");
        assert!(!run.stdout.starts_with("valid") && !run.stdout.starts_with("INVALID"), "{args:?}: {run:?}");
    }
    // No --key at all: clap's usage error.
    let run = verify_offline(cwd.path(), &[&inclusion]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--key"), "{run:?}");
    // Offline: nothing was created where it ran.
    let mut left: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(
        left,
        ["consistency.json", "inclusion.json", "neither.txt"],
        "proof verify must not create a data directory"
    );
}
