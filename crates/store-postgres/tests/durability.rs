//! SPEC 5 on PostgreSQL with a synchronous standby, for real: a primary and
//! a streaming standby (pg_basebackup) on 127.0.0.1, started by the test.
//!
//! - `failover_to_the_synchronous_standby_keeps_every_acknowledged_event`:
//!   two ledgers append concurrently; the primary is killed with SIGKILL;
//!   the standby is promoted; a ledger opened on it finds every
//!   acknowledged event, the chain verifies, and appending goes on there.
//! - `without_its_synchronous_standby_a_commit_fails_after_the_commit_timeout`:
//!   with the standby gone, an append waits and then fails after the
//!   commit timeout (2 s here) with a sentence that says the outcome is
//!   unknown and why; nothing is acknowledged. Retried with the same id once
//!   the standby requirement is lifted, the event is answered as stored.
//!
//! PostgreSQL must be installed (CI installs it); `GOVLEDGER_SKIP_POSTGRES=1` skips.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use govledger_ledger::{Ledger, verify};
use govledger_store_conformance::fixtures::{city, publicity, with_id};
use govledger_store_postgres::test_server::PgServer;
use govledger_store_postgres::{PgConfig, PgStore};
use uuid::Uuid;

fn ledger(url: &str) -> Ledger {
    let store = PgStore::connect(&PgConfig::parse(url).unwrap()).unwrap();
    Ledger::open(Box::new(store.writer().unwrap()), store.reader()).unwrap()
}

/// Polls `check` until it holds, for at most `secs` seconds.
fn wait_for(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A primary whose commits wait for the standby `standby1`, and that standby.
fn primary_and_sync_standby() -> Option<(PgServer, PgServer)> {
    let primary = PgServer::start_or_skip("the synchronous standby tests")?;
    let standby = PgServer::standby_of(&primary, "standby1").unwrap();
    primary.reconfigure(&["synchronous_standby_names = 'standby1'", "synchronous_commit = on"]).unwrap();
    wait_for("the standby to be synchronous", 60, || {
        primary.psql("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'").unwrap()
            == "sync"
    });
    Some((primary, standby))
}

#[test]
fn failover_to_the_synchronous_standby_keeps_every_acknowledged_event() {
    let Some((primary, standby)) = primary_and_sync_standby() else { return };
    let url = primary.url("failover");
    let (a, b) = (ledger(&url), ledger(&url));
    a.append_blocking(city()).unwrap();
    b.catch_up_blocking().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let appenders: Vec<_> = [a, b]
        .into_iter()
        .enumerate()
        .map(|(n, ledger)| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match ledger.append_blocking(vec![publicity(&format!("r{n}-{i}"))]) {
                        Ok(out) => acked.push(out[0].event.clone()),
                        // A lost race past the ledger's retries: the client retries.
                        Err(e) if e.to_string().ends_with("retry") && !stop.load(Ordering::Relaxed) => continue,
                        Err(_) => break,
                    }
                }
                acked
            })
        })
        .collect();
    // Let them append a while, then crash the primary under them.
    wait_for("appends on the primary", 120, || {
        primary.psql("SELECT count(*) FROM failover.events").unwrap().parse::<u64>().unwrap() >= 60
    });
    primary.kill_9().unwrap();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<_> = appenders.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert!(acked.len() >= 40, "only {} appends were acknowledged before the crash", acked.len());

    standby.promote().unwrap();
    let after = ledger(&standby.url("failover"));
    let reader = after.reader();
    let report = verify(reader.as_ref()).unwrap();
    assert!(report.ok(), "the promoted standby's chain verifies: {report:?}");
    for event in &acked {
        assert_eq!(reader.by_id(&event.id).unwrap().as_ref(), Some(event), "acknowledged event {} is there", event.id);
    }
    assert!(after.head().seq >= 3 + acked.len() as u64);
    let out = after.append_blocking(vec![publicity("after-failover")]).unwrap();
    assert_eq!(out[0].event.seq, after.head().seq);
    assert!(verify(reader.as_ref()).unwrap().ok());
}

#[test]
fn without_its_synchronous_standby_a_commit_fails_after_the_commit_timeout() {
    let Some((primary, standby)) = primary_and_sync_standby() else { return };
    let url = format!("{}&commit_timeout=2", primary.url("standby_down"));
    let ledger = ledger(&url);
    ledger.append_blocking(city()).unwrap();
    let head = ledger.head();
    standby.stop().unwrap();

    let id = Uuid::now_v7();
    let started = Instant::now();
    let err = ledger.append_blocking(vec![with_id(publicity("unconfirmed"), id)]).unwrap_err().to_string();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2), "the commit waited for the standby: {waited:?}");
    assert!(waited < Duration::from_secs(30), "and gave up after the timeout: {waited:?}");
    assert!(err.contains("outcome is unknown") && err.contains("synchronous standby"), "{err}");
    assert_eq!(ledger.head(), head, "nothing was acknowledged");

    // The operator lifts the requirement (or brings a standby back): a
    // retry with the same id is answered with the one stored event.
    primary.reconfigure(&["synchronous_standby_names = ''"]).unwrap();
    let retried = loop {
        match ledger.append_blocking(vec![with_id(publicity("unconfirmed"), id)]) {
            Ok(out) => break out,
            Err(e) => assert!(started.elapsed() < Duration::from_secs(60), "the retry kept failing: {e}"),
        }
    };
    assert_eq!(retried[0].event.id, id);
    assert_eq!(retried[0].event.seq, head.seq + 1, "stored once");
    assert!(verify(ledger.reader().as_ref()).unwrap().ok());
}
