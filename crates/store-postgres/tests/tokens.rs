//! The token conformance cases (`govledger_credentials::conformance`)
//! against the `tokens` table of a PostgreSQL schema on a real server: one
//! throwaway server per test binary, one fresh schema per case; every
//! `open` is another replica's store (its own connections) on that schema.
//!
//! And the migration of a schema of version 1 to version 2.
//!
//! PostgreSQL must be installed (CI installs it); set
//! `GOVLEDGER_SKIP_POSTGRES=1` to skip these tests, which then say so.

#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use govledger_credentials::TokenBackend;
use govledger_credentials::conformance::TokenHarness;
use govledger_store_postgres::test_server::PgServer;
use govledger_store_postgres::{PgConfig, PgStore};

static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();

struct Postgres(PgConfig);

impl TokenHarness for Postgres {
    fn open(&self) -> Box<dyn TokenBackend> {
        Box::new(PgStore::connect(&self.0).expect("connect to the test server").tokens())
    }
}

fn make() -> Option<Box<dyn TokenHarness>> {
    let server = SERVER.get_or_init(|| PgServer::start_or_skip("the PostgreSQL token conformance suite")).as_ref()?;
    let schema = format!("tokens_{}", uuid::Uuid::now_v7().simple());
    Some(Box::new(Postgres(PgConfig::parse(&server.url(&schema)).expect("the test server's URL"))))
}

/// A schema written by the version before the tokens table (version 1,
/// events in it) is upgraded in place when a replica connects: its events
/// stay, and tokens can be issued in it at once.
#[test]
fn a_schema_of_version_1_gains_the_tokens_table_and_keeps_its_events() {
    let Some(server) = SERVER.get_or_init(|| PgServer::start_or_skip("the PostgreSQL token migration")).as_ref() else {
        return;
    };
    let config = PgConfig::parse(&server.url("before_tokens")).unwrap();
    let store = PgStore::connect(&config).unwrap();
    let ledger = govledger_ledger::Ledger::open(Box::new(store.writer().unwrap()), store.reader()).unwrap();
    let city = govledger_store_conformance::fixtures::city();
    ledger.append_blocking(city.clone()).unwrap();
    ledger.close();
    drop(store);
    // As version 1 left it.
    server.psql("DROP TABLE before_tokens.tokens; UPDATE before_tokens.govledger_schema SET version = 1").unwrap();
    assert!(
        PgStore::connect_reader(&config).unwrap().tokens().all().is_err(),
        "a reader upgrades nothing: no tokens table yet"
    );

    let store = PgStore::connect(&config).unwrap();
    assert_eq!(server.psql("SELECT version FROM before_tokens.govledger_schema").unwrap(), "2");
    assert_eq!(server.psql("SELECT count(*) FROM before_tokens.events").unwrap(), city.len().to_string());
    let tokens = govledger_credentials::Tokens::new(Box::new(store.tokens()));
    let issued = tokens.issue("bank-a", govledger_credentials::TokenRole::Agency).unwrap();
    assert_eq!(tokens.authenticate(&issued.secret).unwrap().map(|r| r.id), Some(issued.record.id));
}

govledger_credentials::token_backend_tests!("the PostgreSQL store", make, "GOVLEDGER_SKIP_POSTGRES=1");
