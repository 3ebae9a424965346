//! `GET /readyz` over HTTP (the router, no socket): ready when the store
//! answers and the replica follows it; 503 with the reason when the store
//! cannot be read or the chain another writer appended does not verify.
//! `/healthz` stays a liveness check.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use govledger_api::{AppState, Limits, Tokens, app};
use govledger_domain::Timestamp;
use govledger_ledger::memory::MemoryLog;
use govledger_ledger::{Head, Ledger, LogReader, LogWriter, RawRow, StoreError, StoredEvent};
use govledger_store_conformance::fixtures::{city, publicity};
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

/// The memory store, whose reads can be made to fail (a store that is down).
struct Flaky {
    log: Arc<MemoryLog>,
    down: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::Relaxed) {
            return Err(StoreError::Io("connection refused by kurrentdb://admin:secret@node1:2113".into()));
        }
        Ok(())
    }
}

impl LogReader for Flaky {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        self.check()?;
        self.log.anchor()
    }
    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.check()?;
        self.log.read(after, limit)
    }
    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        self.check()?;
        self.log.scan_raw(after, visit)
    }
    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.check()?;
        LogReader::by_id(self.log.as_ref(), id)
    }
}

struct Replica {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    reader: Arc<Flaky>,
    app: axum::Router,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

fn replica(log: &Arc<MemoryLog>) -> Replica {
    let dir = tempfile::tempdir().unwrap();
    let reader = Arc::new(Flaky { log: log.clone(), down: AtomicBool::new(false) });
    let ledger = Ledger::open(Box::new(log.writer()), reader.clone()).unwrap();
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    let state = AppState::new(ledger.clone(), Tokens::open_file(dir.path()).unwrap(), Limits::default(), rx).unwrap();
    Replica { _dir: dir, ledger, reader, app: app(state), _shutdown: shutdown }
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, Value) {
    let response = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn a_replica_that_follows_the_store_is_ready_and_catches_up_to_be_so() {
    let log = MemoryLog::new();
    let a = replica(&log);
    let city_head = a.ledger.append(city()).await.unwrap().len() as u64;
    let (status, body) = get(&a.app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["status"].as_str(), body["head"].as_u64()), (Some("ready"), Some(city_head)));
    // Another replica appends: this one is behind until it catches up, which the check does.
    let b = replica(&log);
    b.ledger.append(vec![publicity("P1")]).await.unwrap();
    assert_eq!(a.ledger.head().seq, city_head);
    let (status, body) = get(&a.app, "/readyz").await;
    assert_eq!((status, body["head"].as_u64()), (StatusCode::OK, Some(city_head + 1)), "{body}");
}

#[tokio::test]
async fn a_broken_chain_appended_by_another_writer_makes_the_replica_not_ready() {
    let log = MemoryLog::new();
    let a = replica(&log);
    let city_head = a.ledger.append(city()).await.unwrap().len() as u64;
    // Another writer stores an event that does not link to the head.
    let at = Timestamp::parse("2026-03-01T00:00:00Z").unwrap();
    let bad = StoredEvent::seal(city_head + 1, Uuid::now_v7(), &publicity("P1"), at, &"0".repeat(64));
    let mut other = log.writer();
    other.begin(city_head).unwrap();
    other.write(std::slice::from_ref(&bad)).unwrap();
    let head = Head { seq: city_head + 1, hash: bad.event.hash.clone(), recorded_at: bad.event.recorded_at.clone() };
    other.commit(&head).unwrap();
    let (status, body) = get(&a.app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "not_ready");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("cannot follow the store past seq {city_head}")), "{body}");
    // Alive all the same: `/healthz` is liveness.
    assert_eq!(get(&a.app, "/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_store_that_cannot_be_read_makes_the_replica_not_ready_without_naming_it() {
    let log = MemoryLog::new();
    let a = replica(&log);
    a.ledger.append(city()).await.unwrap();
    a.reader.down.store(true, Ordering::Relaxed);
    let (status, body) = get(&a.app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("store cannot be read"), "{reason}");
    assert!(!body.to_string().contains("secret"), "{body}");
    a.reader.down.store(false, Ordering::Relaxed);
    assert_eq!(get(&a.app, "/readyz").await.0, StatusCode::OK);
}
