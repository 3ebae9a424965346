//! The ledger's writer on PostgreSQL: one connection of its own, one
//! PostgreSQL transaction per ledger transaction.
//!
//! `begin` locks the anchor row (`SELECT … FOR UPDATE`) and compares its seq
//! with the ledger's head, so writers of several replicas take turns and a
//! stale one gets `StoreError::Conflict` before it writes anything. Events
//! are buffered and inserted [`FLUSH_ROWS`] at a time, without waiting for
//! the insert (at most [`IN_FLIGHT`] under way), so the ledger seals the
//! next rows meanwhile; `commit` waits for them, then sends the last rows,
//! the anchor, the `NOTIFY` and `COMMIT` in one round trip.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use govledger_ledger::{Encoded, Head, LogWriter, StoreError, StoredEvent};
use tokio_postgres::{Client, Statement};
use uuid::Uuid;

use crate::conn::{Notices, Pending, describe, is_unique_violation};
use crate::{FLUSH_ROWS, PgConfig, Shared, col, decode};

const LOCK_ANCHOR: &str = "SELECT seq FROM anchor WHERE one = 1 FOR UPDATE";
const INSERT: &str = "INSERT INTO events (seq, id, body, hash)
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[])";
const UPDATE_ANCHOR: &str = "UPDATE anchor SET seq = $1, hash = $2, recorded_at = $3 WHERE one = 1";
const NOTIFY: &str = "SELECT pg_notify($1, $2)";
/// What PostgreSQL says when it confirms a commit that the synchronous
/// standby has not (the wait was cancelled): committed locally only.
const LOCAL_ONLY: &str = "synchronous replication";

/// One open connection and its prepared statements.
struct Session {
    client: Arc<Client>,
    notices: Notices,
    lock_anchor: Statement,
    insert: Statement,
    update_anchor: Statement,
    notify: Statement,
}

/// Rows not yet sent, as the insert's arrays.
#[derive(Default)]
struct Buffer {
    seqs: Vec<i64>,
    ids: Vec<Uuid>,
    bodies: Vec<String>,
    hashes: Vec<String>,
    /// The same events, for `by_id` before they are sent.
    events: HashMap<Uuid, StoredEvent>,
}

impl Buffer {
    fn len(&self) -> usize {
        self.seqs.len()
    }

    fn take(&mut self) -> (Vec<i64>, Vec<Uuid>, Vec<String>, Vec<String>) {
        self.events.clear();
        (
            std::mem::take(&mut self.seqs),
            std::mem::take(&mut self.ids),
            std::mem::take(&mut self.bodies),
            std::mem::take(&mut self.hashes),
        )
    }
}

/// The single writer of one ledger on PostgreSQL.
pub struct PgWriter {
    shared: Arc<Shared>,
    /// `None` after the connection was lost; `begin` connects again.
    session: Option<Arc<Session>>,
    in_txn: bool,
    buffer: Buffer,
    /// Inserts sent and not yet answered (at most [`IN_FLIGHT`]): the
    /// ledger seals the next rows while PostgreSQL inserts these.
    in_flight: VecDeque<Pending<()>>,
}

/// Inserts of one transaction that may be under way at once.
const IN_FLIGHT: usize = 2;

impl PgWriter {
    pub(crate) fn connect(shared: Arc<Shared>) -> Result<Self, StoreError> {
        let session = open_session(&shared)?;
        Ok(PgWriter {
            shared,
            session: Some(session),
            in_txn: false,
            buffer: Buffer::default(),
            in_flight: VecDeque::new(),
        })
    }

    fn session(&mut self) -> Result<Arc<Session>, StoreError> {
        match &self.session {
            Some(s) if !s.client.is_closed() => Ok(s.clone()),
            _ => {
                let session = open_session(&self.shared)?;
                self.session = Some(session.clone());
                Ok(session)
            }
        }
    }

    /// Sends the buffered rows into the open transaction without waiting
    /// for the answer (but for the oldest insert when [`IN_FLIGHT`] are).
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.buffer.len() == 0 {
            return Ok(());
        }
        if self.in_flight.len() >= IN_FLIGHT
            && let Some(oldest) = self.in_flight.pop_front()
            && let Err(e) = oldest.wait()
        {
            self.settle().ok();
            self.forget_if_closed();
            return Err(e);
        }
        let session = self.session.clone().ok_or_else(|| lost(&self.shared.config))?;
        let rows = self.buffer.take();
        let config = self.shared.config.clone();
        self.in_flight.push_back(self.shared.rt.submit(async move { insert(&session, &config, rows).await }));
        Ok(())
    }

    /// Waits for every insert under way; the first failure, if any. Called
    /// before anything else is sent on the connection, so that nothing
    /// overtakes an insert (in particular, not the `COMMIT`).
    fn settle(&mut self) -> Result<(), StoreError> {
        let mut first = Ok(());
        while let Some(pending) = self.in_flight.pop_front() {
            if let Err(e) = pending.wait()
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        self.forget_if_closed();
        first
    }

    fn forget_if_closed(&mut self) {
        if self.session.as_ref().is_some_and(|s| s.client.is_closed()) {
            self.session = None;
            self.in_txn = false;
        }
    }
}

fn lost(config: &PgConfig) -> StoreError {
    StoreError::Io(format!("the connection to PostgreSQL at {} was lost; retry", config.target()))
}

async fn insert(
    session: &Session,
    config: &PgConfig,
    (seqs, ids, bodies, hashes): (Vec<i64>, Vec<Uuid>, Vec<String>, Vec<String>),
) -> Result<(), StoreError> {
    session.client.execute(&session.insert, &[&seqs, &ids, &bodies, &hashes]).await.map(|_| ()).map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Io(format!(
                "PostgreSQL at {} already holds one of these events' seq or id, although the ledger's head was \
                 locked; another program writes the ledger's tables: stop it and run `govledger verify`",
                config.target()
            ))
        } else {
            describe(&e, config)
        }
    })
}

/// Connects the writer: a primary only, `synchronous_commit` at least `on`,
/// a lock wait bounded by the commit timeout.
fn open_session(shared: &Shared) -> Result<Arc<Session>, StoreError> {
    let config = shared.config.clone();
    shared.rt.block(async move {
        let notices = Notices::default();
        let client = crate::conn::connect(&config, notices.clone(), None).await?;
        let fail = |e: tokio_postgres::Error| describe(&e, &config);
        let standby: bool = client.query_one("SELECT pg_is_in_recovery()", &[]).await.map_err(fail)?.get(0);
        if standby {
            return Err(StoreError::Io(format!(
                "PostgreSQL at {} is a read-only standby; point --store at the primary (or promote this server)",
                config.target()
            )));
        }
        let level: String = client.query_one("SHOW synchronous_commit", &[]).await.map_err(fail)?.get(0);
        let timeout_ms = config.commit_timeout.as_millis();
        let mut setup = format!("SET lock_timeout = {timeout_ms};");
        if level == "off" || level == "local" {
            // Never acknowledge an event the standby may not have.
            setup.push_str("SET synchronous_commit = on;");
        }
        client.batch_execute(&setup).await.map_err(fail)?;
        let (lock_anchor, insert, update_anchor, notify) = tokio::try_join!(
            client.prepare(LOCK_ANCHOR),
            client.prepare(INSERT),
            client.prepare(UPDATE_ANCHOR),
            client.prepare(NOTIFY)
        )
        .map_err(fail)?;
        Ok(Arc::new(Session { client: Arc::new(client), notices, lock_anchor, insert, update_anchor, notify }))
    })
}

/// The event with `id`, as `client` sees it (a writer: with its own
/// uncommitted rows).
pub(crate) async fn by_id(client: &Client, config: &PgConfig, id: Uuid) -> Result<Option<StoredEvent>, StoreError> {
    let row = client
        .query_opt("SELECT seq, body, hash FROM events WHERE id = $1", &[&id])
        .await
        .map_err(|e| describe(&e, config))?;
    row.map(|r| decode(col(&r, 0)?, col(&r, 1)?, col(&r, 2)?)).transpose()
}

impl LogWriter for PgWriter {
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError> {
        self.rollback();
        let session = self.session()?;
        let config = self.shared.config.clone();
        let found = self.shared.rt.block(async move {
            let fail = |e: tokio_postgres::Error| describe(&e, &config);
            let (_, row) = tokio::try_join!(
                session.client.batch_execute("BEGIN"),
                session.client.query_one(&session.lock_anchor, &[])
            )
            .map_err(fail)?;
            col::<i64>(&row, 0)
        });
        self.forget_if_closed();
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                self.in_txn = true;
                self.rollback();
                return Err(e);
            }
        };
        self.in_txn = true;
        let found = u64::try_from(found).unwrap_or(0);
        if found != expected_head {
            self.rollback();
            return Err(StoreError::Conflict { expected: expected_head, found });
        }
        Ok(())
    }

    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        if !self.in_txn {
            return Err(StoreError::Io("write outside a transaction".into()));
        }
        for e in events {
            let body = std::str::from_utf8(&e.body)
                .map_err(|_| StoreError::Io(format!("the body of event {} is not UTF-8", e.event.id)))?;
            let seq = i64::try_from(e.event.seq)
                .map_err(|_| StoreError::Io(format!("seq {} is beyond PostgreSQL's bigint", e.event.seq)))?;
            self.buffer.seqs.push(seq);
            self.buffer.ids.push(e.event.id);
            self.buffer.bodies.push(body.to_owned());
            self.buffer.hashes.push(e.event.hash.clone());
            self.buffer.events.insert(e.event.id, e.event.clone());
            if self.buffer.len() >= FLUSH_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn commit(&mut self, head: &Head) -> Result<(), StoreError> {
        if !self.in_txn {
            return Err(StoreError::Io("commit outside a transaction".into()));
        }
        if let Err(e) = self.settle() {
            self.rollback();
            return Err(e);
        }
        let session = self.session.clone().ok_or_else(|| lost(&self.shared.config))?;
        let rows = self.buffer.take();
        let config = self.shared.config.clone();
        let head_seq = i64::try_from(head.seq).unwrap_or(i64::MAX);
        let (hash, recorded_at) = (head.hash.clone(), head.recorded_at.clone());
        session.notices.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let timeout = config.commit_timeout;
        // `None`: the commit timed out.
        let outcome = self.shared.rt.block({
            let session = session.clone();
            let config = config.clone();
            async move {
                let (channel, payload) = (config.channel(), head_seq.to_string());
                let c = &session.client;
                let fail = |e: tokio_postgres::Error| describe(&e, &config);
                // Sent together (one round trip); a refused statement makes
                // the COMMIT a rollback.
                let statements = async {
                    tokio::try_join!(
                        async { if rows.0.is_empty() { Ok(()) } else { insert(&session, &config, rows).await } },
                        async {
                            c.execute(&session.update_anchor, &[&head_seq, &hash, &recorded_at]).await.map_err(fail)
                        },
                        async { c.execute(&session.notify, &[&channel, &payload]).await.map_err(fail) },
                        async { c.batch_execute("COMMIT").await.map_err(fail) },
                    )
                    .map(|_| ())
                };
                Ok(tokio::time::timeout(timeout, statements).await.ok())
            }
        });
        let outcome = match outcome {
            Ok(Some(result)) => Ok(result),
            Ok(None) => Err(()),
            Err(e) => Ok(Err(e)),
        };
        self.in_txn = false;
        match outcome {
            Ok(Ok(())) => {
                let notices = session.notices.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if let Some(notice) = notices.iter().find(|n| n.contains(LOCAL_ONLY)) {
                    // Committed on the primary only: not what SPEC 5 acknowledges.
                    self.session = None;
                    return Err(unknown_outcome(&config, &format!("PostgreSQL said: {notice}")));
                }
                Ok(())
            }
            Ok(Err(e)) => {
                if session.client.is_closed() {
                    // The connection went away after the statements were
                    // sent: the ledger reads the store back to learn which.
                    self.session = None;
                    return Err(StoreError::Ambiguous(format!(
                        "the connection to PostgreSQL at {} closed during the commit: {e}",
                        config.target()
                    )));
                }
                // PostgreSQL refused a statement: the transaction is rolled back.
                Err(e)
            }
            Err(()) => {
                // The commit may still complete (or has, locally): drop the connection.
                self.session = None;
                Err(unknown_outcome(
                    &config,
                    &format!(
                        "the commit did not finish within the commit timeout of {} s; is the synchronous standby \
                         down (pg_stat_replication)?",
                        timeout.as_secs_f64()
                    ),
                ))
            }
        }
    }

    fn rollback(&mut self) {
        self.buffer.take();
        let _ = self.settle();
        if !self.in_txn {
            return;
        }
        self.in_txn = false;
        let Some(session) = self.session.clone() else { return };
        let rolled_back = self.shared.rt.block(async move {
            session.client.batch_execute("ROLLBACK").await.map_err(|e| StoreError::Io(e.to_string()))
        });
        if let Err(e) = rolled_back {
            tracing::warn!(error = %e, "rollback failed; the connection will be opened again");
            self.session = None;
        }
    }

    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        if let Some(e) = self.buffer.events.get(id) {
            return Ok(Some(e.clone()));
        }
        self.settle()?;
        let session = self.session()?;
        let (config, id) = (self.shared.config.clone(), *id);
        let found = self.shared.rt.block(async move { by_id(&session.client, &config, id).await });
        self.forget_if_closed();
        found
    }
}

/// A commit PostgreSQL may have kept on the primary but not confirmed on the
/// synchronous standby (SPEC 5: not acknowledged). Not `Ambiguous`: reading
/// the store back would find the row committed locally and acknowledge it.
fn unknown_outcome(config: &PgConfig, why: &str) -> StoreError {
    StoreError::Io(format!(
        "the commit to PostgreSQL at {} may or may not have been stored ({why}); its outcome is unknown: retry with \
         the same event ids, and a stored event is answered as stored",
        config.target()
    ))
}
