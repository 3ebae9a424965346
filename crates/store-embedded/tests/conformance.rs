//! The store conformance suite (`govledger-store-conformance`) against the
//! embedded SQLite store. Each case gets a fresh data directory; every
//! writer of a case is opened with `open_shared`, as replicas in one process.

use govledger_ledger::StoreError;
use govledger_store_conformance::{Harness, Opened};

struct Embedded(tempfile::TempDir);

impl Harness for Embedded {
    fn open(&self) -> Result<Opened, StoreError> {
        let (writer, reader) = govledger_store_embedded::open_shared(self.0.path())?;
        Ok((Box::new(writer), reader))
    }
}

fn embedded() -> Option<Box<dyn Harness>> {
    Some(Box::new(Embedded(tempfile::tempdir().expect("a temporary data directory"))))
}

govledger_store_conformance::conformance_tests!("the embedded store", embedded, "never skipped");
