//! The store conformance suite (`govledger-store-conformance`) against the
//! PostgreSQL store on a real server: one throwaway PostgreSQL per test
//! binary (`test_server`), one fresh schema per case; every `open` is
//! another replica's store (its own connections) on that schema.
//!
//! PostgreSQL must be installed (CI installs it); set
//! `GOVLEDGER_SKIP_POSTGRES=1` to skip these tests, which then say so.

use std::sync::OnceLock;

use govledger_ledger::StoreError;
use govledger_store_conformance::{Harness, Opened};
use govledger_store_postgres::test_server::PgServer;
use govledger_store_postgres::{PgConfig, PgStore};

static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();

struct Postgres(PgConfig);

impl Harness for Postgres {
    fn open(&self) -> Result<Opened, StoreError> {
        let store = PgStore::connect(&self.0)?;
        Ok((Box::new(store.writer()?), store.reader()))
    }
}

fn make() -> Option<Box<dyn Harness>> {
    let server = SERVER.get_or_init(|| PgServer::start_or_skip("the PostgreSQL conformance suite")).as_ref()?;
    let schema = format!("conformance_{}", uuid::Uuid::now_v7().simple());
    let config = PgConfig::parse(&server.url(&schema)).expect("the test server's URL");
    Some(Box::new(Postgres(config)))
}

govledger_store_conformance::conformance_tests!("the PostgreSQL store", make, "GOVLEDGER_SKIP_POSTGRES=1");
