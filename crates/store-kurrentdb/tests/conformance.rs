//! The store conformance suite (`govledger-store-conformance`) against the
//! KurrentDB store, twice:
//!
//! - `emulated::*` — the whole store (mapping, buffered transactions,
//!   expected revisions, conflicts, retries, the id index, following) over
//!   an in-memory stream that follows KurrentDB's rules. Always runs.
//! - `live_kurrentdb_skipped_unless_url_set::*` — the same cases against a
//!   real cluster at `GOVLEDGER_KURRENTDB_URL` (e.g.
//!   `kurrentdb://127.0.0.1:2113?tls=false`), each on a fresh stream. Without
//!   the variable each test prints a `SKIPPED:` line and checks nothing.

use std::sync::Arc;

use govledger_ledger::StoreError;
use govledger_store_conformance::{Harness, Opened};
use govledger_store_kurrentdb::emulated::EmulatedStream;
use govledger_store_kurrentdb::{DEFAULT_MAX_APPEND_BYTES, KurrentConfig, KurrentStore, TransientRetry};

mod emulated {
    use super::*;

    /// One emulated stream; every `open` is another replica's store on it.
    struct Emulated(Arc<EmulatedStream>);

    impl Harness for Emulated {
        fn open(&self) -> Result<Opened, StoreError> {
            // The default append limit, under the emulated server's default
            // `MaxAppendSize`: every commit of these cases is one append.
            let store = KurrentStore::on_stream(self.0.clone(), DEFAULT_MAX_APPEND_BYTES, TransientRetry::default());
            Ok((Box::new(store.writer()), store.reader()))
        }
    }

    fn make() -> Option<Box<dyn Harness>> {
        Some(Box::new(Emulated(Arc::new(EmulatedStream::new()))))
    }

    govledger_store_conformance::conformance_tests!("the KurrentDB store on an emulated stream", make, "never skipped");
}

mod live_kurrentdb_skipped_unless_url_set {
    use super::*;

    /// A fresh stream on the cluster; every `open` is a new client.
    struct Live(KurrentConfig);

    impl Harness for Live {
        fn open(&self) -> Result<Opened, StoreError> {
            let store = KurrentStore::connect(&self.0)?;
            Ok((Box::new(store.writer()), store.reader()))
        }
    }

    fn make() -> Option<Box<dyn Harness>> {
        let url = std::env::var("GOVLEDGER_KURRENTDB_URL").ok().filter(|u| !u.is_empty())?;
        let mut config = KurrentConfig::parse(&url).expect("GOVLEDGER_KURRENTDB_URL is a KurrentDB URL");
        config.stream = format!("govledger-conformance-{}", uuid::Uuid::now_v7());
        Some(Box::new(Live(config)))
    }

    govledger_store_conformance::conformance_tests!("a KurrentDB cluster", make, "GOVLEDGER_KURRENTDB_URL not set");
}
