//! What an operator is told when the store cannot be used, on a real
//! server: nothing listening, a wrong password, a read-only standby as the
//! writer's target, a schema nobody wrote opened for reading, a schema
//! written by a newer govledger, a table altered
//! by hand (an error, not a crash). Each is a
//! sentence that names the server and says what to do; none stores anything.
//!
//! PostgreSQL must be installed (CI installs it); `GOVLEDGER_SKIP_POSTGRES=1` skips.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use govledger_ledger::StoreError;
use govledger_store_postgres::test_server::{PASSWORD, PgServer};
use govledger_store_postgres::{PgConfig, PgStore};

fn connect(url: &str) -> Result<PgStore, StoreError> {
    PgStore::connect(&PgConfig::parse(url).unwrap())
}

fn message(r: Result<PgStore, StoreError>) -> String {
    match r {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn nothing_listening_is_connection_refused_in_bounded_time() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let err = message(connect(&format!("postgres://postgres:x@127.0.0.1:{port}/postgres")));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(err.contains(&format!("127.0.0.1:{port}")) && err.contains("connection refused"), "{err}");
    assert!(err.contains("is the server running"), "{err}");
}

#[test]
fn a_wrong_password_names_the_user_and_pg_hba() {
    let Some(pg) = PgServer::start_or_skip("a_wrong_password_names_the_user_and_pg_hba") else { return };
    let url = pg.url("auth").replace(PASSWORD, "not-the-password");
    let err = message(connect(&url));
    assert!(err.contains("refused the credentials of user \"postgres\""), "{err}");
    assert!(err.contains("pg_hba.conf"), "{err}");
    assert!(!err.contains("not-the-password"), "the password is not repeated: {err}");
    assert_eq!(pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'auth'").unwrap(), "0");
}

#[test]
fn a_standby_is_refused_as_the_writer_but_read() {
    let Some(primary) = PgServer::start_or_skip("a_standby_is_refused_as_the_writer_but_read") else { return };
    // A ledger with one transaction on the primary, then its standby.
    {
        let store = connect(&primary.url("ro")).unwrap();
        let ledger = govledger_ledger::Ledger::open(Box::new(store.writer().unwrap()), store.reader()).unwrap();
        ledger.append_blocking(govledger_store_conformance::fixtures::city()).unwrap();
    }
    let standby = PgServer::standby_of(&primary, "standby1").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while standby.psql("SELECT count(*) FROM ro.events").ok().as_deref() != Some("3") {
        assert!(Instant::now() < deadline, "the standby did not replay the ledger");
        std::thread::sleep(Duration::from_millis(20));
    }
    let store = connect(&standby.url("ro")).expect("a standby opens for reading");
    use govledger_ledger::LogReader;
    assert_eq!(store.reader().anchor().unwrap().map(|h| h.seq), Some(3));
    let err = match store.writer() {
        Ok(_) => panic!("a standby accepted a writer"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("read-only standby") && err.contains("point --store at the primary"), "{err}");
    let err = message(connect(&standby.url("missing")));
    assert!(err.contains("holds no ledger"), "{err}");
}

#[test]
fn a_schema_from_a_newer_govledger_is_refused_and_left_alone() {
    let Some(pg) = PgServer::start_or_skip("a_schema_from_a_newer_govledger_is_refused_and_left_alone") else {
        return;
    };
    drop(connect(&pg.url("future")).unwrap());
    pg.psql("UPDATE future.govledger_schema SET version = 99").unwrap();
    let err = message(connect(&pg.url("future")));
    assert!(
        err.contains("schema version 99")
            && err.contains(&format!("knows versions up to {}", govledger_store_postgres::schema::SCHEMA_VERSION)),
        "{err}"
    );
    assert!(err.contains("run a newer govledger"), "{err}");
    assert_eq!(pg.psql("SELECT version FROM future.govledger_schema").unwrap(), "99", "left as it was");
}

#[test]
fn a_table_altered_by_hand_is_an_error_not_a_crash() {
    let Some(pg) = PgServer::start_or_skip("a_table_altered_by_hand_is_an_error_not_a_crash") else { return };
    let store = connect(&pg.url("altered")).unwrap();
    let ledger = govledger_ledger::Ledger::open(Box::new(store.writer().unwrap()), store.reader()).unwrap();
    ledger.append_blocking(govledger_store_conformance::fixtures::city()).unwrap();
    pg.psql("ALTER TABLE altered.anchor ALTER COLUMN seq TYPE integer").unwrap();
    use govledger_ledger::LogReader;
    match store.reader().anchor() {
        Err(StoreError::Corrupt { reason, .. }) => {
            assert!(reason.contains("\"seq\"") && reason.contains("changed outside govledger"), "{reason}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn reading_a_schema_that_holds_no_ledger_says_so_and_creates_nothing() {
    let Some(pg) = PgServer::start_or_skip("reading_a_schema_that_holds_no_ledger_says_so_and_creates_nothing") else {
        return;
    };
    let err = message(PgStore::connect_reader(&PgConfig::parse(&pg.url("typo")).unwrap()));
    assert!(err.contains("schema \"typo\"") && err.contains("holds no ledger"), "{err}");
    assert_eq!(pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'typo'").unwrap(), "0");
    drop(connect(&pg.url("typo")).unwrap());
    assert!(PgStore::connect_reader(&PgConfig::parse(&pg.url("typo")).unwrap()).is_ok(), "once a writer created it");
}
