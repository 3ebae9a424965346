//! Choosing the store: `--store` and the config file. A config file supplies
//! the data directory (flags win); an unknown store or a config typo is a
//! clear usage error; a KurrentDB store that cannot be reached (nothing
//! listens on 127.0.0.1 port 1) fails cleanly, in bounded time, and so does
//! a PostgreSQL store with nothing listening (without printing its password); a new
//! ledger file is its owner's only.

use std::time::{Duration, Instant};

use crate::support::{BIN, CITY_EVENTS, Fixture};

fn run_without_data_dir(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(BIN)
        .args(args)
        .env_remove("GOVLEDGER_DATA_DIR")
        .env_remove("GOVLEDGER_STORE")
        .env_remove("GOVLEDGER_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_config_file_names_the_data_directory_and_store() {
    let fx = Fixture::with_city();
    let config =
        fx.file("govledger.toml", "data_dir = \"data\"\nstore = \"embedded\"\n[serve]\nlisten = \"127.0.0.1:0\"\n");
    let (code, stdout, stderr) =
        run_without_data_dir(&["--config", config.to_str().unwrap(), "verify", "--lang", "en"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("ok: {CITY_EVENTS} events")), "{stdout}");

    let typo = fx.file("typo.toml", "data_directory = \"data\"\n");
    let (code, _, stderr) = run_without_data_dir(&["--config", typo.to_str().unwrap(), "verify"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown field `data_directory`"), "{stderr}");
}

#[test]
fn an_unknown_store_is_a_usage_error() {
    let fx = Fixture::with_city();
    let run = fx.run(&["--store", "mysql://db/ledger", "verify"]).no_panic();
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("use `embedded`"), "{}", run.stderr);
}

#[test]
fn an_unreachable_kurrentdb_store_fails_cleanly() {
    let fx = Fixture::new();
    let started = Instant::now();
    let url = "kurrentdb://admin:kurrent-secret@127.0.0.1:1?tls=false&maxDiscoverAttempts=1";
    let run = fx.run(&["--store", url, "verify"]).no_panic();
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("unavailable"), "{}", run.stderr);
    assert!(!run.stderr.contains("kurrent-secret"), "the password is not printed: {}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

#[test]
fn an_unreachable_postgres_store_fails_cleanly() {
    let fx = Fixture::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let url = format!("postgres://govledger:secret@127.0.0.1:{port}/ledger");
    let run = fx.run(&["--store", &url, "verify"]).no_panic();
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("connection refused") && run.stderr.contains("is the server running"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("secret"), "the password is not printed: {}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

/// Issue 19: a store URL's password is printed nowhere — not in a refused
/// URL's error, not in `--help` (which shows the variables' values), not in
/// `token` commands' errors.
#[test]
fn store_passwords_are_never_printed() {
    let fx = Fixture::new();
    for url in [
        "kurrentdb://admin:kurrent-secret@node1:2113?tls=false&stream=$bad",
        "postgres://gl:pg-secret@127.0.0.1:5432/city?schema=Bad-Name",
        "postgres://gl@127.0.0.1:5432/city?password=pg-secret&schema=Bad-Name",
    ] {
        for command in [&["verify"][..], &["token", "list"][..]] {
            let args: Vec<&str> = ["--store", url].iter().chain(command).copied().collect();
            let run = fx.run(&args).no_panic();
            assert_eq!(run.code, Some(2), "{run:?}");
            assert!(run.stderr.contains("***"), "{}", run.stderr);
            assert!(!format!("{}{}", run.stdout, run.stderr).contains("secret"), "{url}: {}", run.stderr);
        }
    }
    let out = std::process::Command::new(BIN)
        .args(["serve", "--help"])
        .env("GOVLEDGER_STORE", "postgres://gl:pg-secret@db/city")
        .env_remove("GOVLEDGER_CONFIG")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("GOVLEDGER_STORE") && !help.contains("pg-secret"), "{help}");
}

/// The ledger holds agencies' case data: a new data directory's ledger file
/// and its WAL are readable by their owner only (issue 17), as the token store is.
#[cfg(unix)]
#[test]
fn a_new_ledger_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::with_city();
    let data = fx.data();
    let mut checked = 0;
    for name in ["ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm", "tokens.sqlite"] {
        let Ok(meta) = std::fs::metadata(data.join(name)) else { continue };
        assert_eq!(meta.permissions().mode() & 0o077, 0, "{name} is open to others: {:o}", meta.permissions().mode());
        checked += 1;
    }
    assert!(checked >= 1, "the ledger file exists");
    assert_eq!(
        std::fs::metadata(data.join("ledger.sqlite")).unwrap().permissions().mode() & 0o777,
        0o600,
        "ledger.sqlite"
    );
}
