//! One writer per data directory: while another process holds the `LOCK`
//! (here, this test process with an open ledger), `govledger import` refuses
//! with a clear message instead of panicking or writing, and readers
//! (`export`, `verify`) keep working.

use serde_json::json;

use crate::support::{Fixture, envelope};

#[test]
fn import_into_a_directory_held_by_another_process_fails_cleanly() {
    let fx = Fixture::with_city();
    let export = fx.export();
    let event = envelope(
        None,
        "PublicityDelivered",
        "jj-psb",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": "PUB-LOCK", "audience": "x", "reach": 1}),
    );

    let holder = govledger_store_embedded::open_ledger(&fx.data()).unwrap();
    let run = fx.import(std::slice::from_ref(&event)).no_panic();
    assert_ne!(run.code, Some(0), "import must fail while the directory is held: {run:?}");
    assert_eq!(run.code, Some(2), "an environment problem (not bad input) exits 2: {run:?}");
    assert!(run.stderr.contains("is in use by another govledger process"), "{}", run.stderr);
    // Readers take no lock.
    assert_eq!(fx.export(), export);
    fx.run(&["verify"]).success();
    holder.close();
    drop(holder);

    // Once the holder is gone the same import goes through.
    let run = fx.import(&[event]).success();
    assert!(run.stdout.starts_with("imported 1 events"), "{}", run.stdout);
}
