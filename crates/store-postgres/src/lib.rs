//! The govledger store on PostgreSQL (or a server that speaks its protocol),
//! for deployments that outgrow one machine and already run PostgreSQL
//! with a standby and backups (SPEC 5).
//!
//! The ledger is one table in one PostgreSQL schema ([`schema`]): seq is the
//! primary key, the event id is UNIQUE, the body is the canonical bytes as
//! text. A writer (`PgWriter`, one per ledger) locks the `anchor` row from
//! `begin` to `commit` and compares its seq with the head the ledger
//! expects: another writer (a server replica) that appended first makes it
//! `StoreError::Conflict`, so the ledger catches up, checks again and
//! retries. A transaction is one PostgreSQL transaction whatever its size
//! (rows go in by `unnest` arrays of up to [`FLUSH_ROWS`]); its anchor and a
//! `NOTIFY` that tells the replicas ([`PgStore::watch`]) go in the same
//! transaction.
//!
//! Durability: the writer's session runs with `synchronous_commit` at least
//! `on`, so `commit` returns only once the commit is flushed on the primary
//! and, when `synchronous_standby_names` names a standby, on it. A commit
//! that does not finish within the commit timeout (a synchronous standby is
//! down), or whose connection is lost, or that PostgreSQL confirms only
//! locally ("canceling wait for synchronous replication"), is reported as a
//! failure whose outcome is unknown: the client retries with the same ids.
//!
//! Architecture invariant: only `conn.rs` knows how connections are made and
//! what PostgreSQL's errors mean; validation, chaining and hashing stay in
//! the ledger.

mod conn;
pub mod schema;
#[cfg(feature = "test-server")]
pub mod test_server;
mod tokens;
mod writer;

use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;

use govledger_credentials::{Secrets, redact_url};
use govledger_ledger::{Head, LogReader, RawRow, StoreError, StoredEvent};
use tokio::sync::watch;
use uuid::Uuid;

use crate::conn::{Notices, Rt, describe, pooled};
pub use crate::tokens::PgTokens;
pub use crate::writer::PgWriter;

/// The PostgreSQL schema holding the ledger unless the URL names another.
pub const DEFAULT_SCHEMA: &str = "govledger";
/// How long a commit may wait (for the synchronous standby) before it
/// fails with an unknown outcome, unless the URL says otherwise.
pub const DEFAULT_COMMIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows per `INSERT … unnest(…)` and per page read.
pub const FLUSH_ROWS: usize = 1_024;
const PAGE: usize = 4_096;
/// The `application_name` of the connection that follows the ledger.
pub const LISTENER_NAME: &str = "govledger follower";
/// Pause before the listener connects again after losing its connection.
const RELISTEN_PAUSE: Duration = Duration::from_secs(1);

/// Where the store is: a libpq-style URL plus options of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// The client's configuration (host, port, user, password, database …).
    pub pg: tokio_postgres::Config,
    /// The PostgreSQL schema holding the ledger's tables.
    pub schema: String,
    /// The longest wait for a commit.
    pub commit_timeout: Duration,
}

/// A store URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store URL {url:?}: {reason}")]
pub struct ConfigError {
    pub url: String,
    pub reason: String,
}

const SCHEMES: &[&str] = &["postgres", "postgresql"];

impl PgConfig {
    /// Whether `url` names a PostgreSQL store (by its scheme).
    pub fn is_postgres_url(url: &str) -> bool {
        url.split_once("://").is_some_and(|(scheme, _)| SCHEMES.contains(&scheme))
    }

    /// Parses `postgres://user:password@host:port/db?schema=NAME&commit_timeout=SECONDS&…`:
    /// a libpq URL (the other parameters go to the client) with two options
    /// of ours, `schema` (default [`DEFAULT_SCHEMA`]) and `commit_timeout`
    /// (default [`DEFAULT_COMMIT_TIMEOUT`]). A connect timeout of 10 s applies
    /// unless `connect_timeout` is given.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let fail = |reason: String| ConfigError { url: redact_url(url), reason };
        if !Self::is_postgres_url(url) {
            return Err(fail("expected postgres://user@host:port/database".into()));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut schema = DEFAULT_SCHEMA.to_owned();
        let mut commit_timeout = DEFAULT_COMMIT_TIMEOUT;
        let mut passed = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "schema" => {
                    if !valid_identifier(value) {
                        return Err(fail(format!(
                            "schema {value:?} must be 1 to 50 lowercase letters, digits or _, not starting with a digit"
                        )));
                    }
                    schema = value.to_owned();
                }
                "commit_timeout" => {
                    commit_timeout = value
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| fail(format!("commit_timeout {value:?} must be seconds, > 0")))?;
                }
                _ => passed.push(pair),
            }
        }
        let rest = if passed.is_empty() { base.to_owned() } else { format!("{base}?{}", passed.join("&")) };
        // The client's message may quote the URL: it is scrubbed of the password.
        let mut pg =
            tokio_postgres::Config::from_str(&rest).map_err(|e| fail(Secrets::of_urls([url]).scrub(&e.to_string())))?;
        if pg.get_hosts().is_empty() {
            return Err(fail("no host".into()));
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(10));
        }
        if pg.get_application_name().is_none() {
            pg.application_name("govledger");
        }
        // Every connection resolves the ledger's tables in its schema.
        let options = match pg.get_options() {
            Some(o) if !o.is_empty() => format!("{o} -c search_path={schema}"),
            _ => format!("-c search_path={schema}"),
        };
        pg.options(&options);
        Ok(PgConfig { pg, schema, commit_timeout })
    }

    /// `host:port/database`, for messages (never the password).
    pub fn target(&self) -> String {
        let host = match self.pg.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        };
        let port = self.pg.get_ports().first().copied().unwrap_or(5432);
        format!("{host}:{port}/{}", self.pg.get_dbname().unwrap_or(self.pg.get_user().unwrap_or("")))
    }

    /// The `LISTEN`/`NOTIFY` channel of this ledger.
    fn channel(&self) -> String {
        format!("govledger_{}", self.schema)
    }
}

fn valid_identifier(s: &str) -> bool {
    (1..=50).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

/// What a store's readers and writers share.
pub(crate) struct Shared {
    config: PgConfig,
    pool: deadpool_postgres::Pool,
    heads: watch::Sender<u64>,
    listening: Once,
    /// Last, so that it shuts down after the pool that runs on it.
    rt: Rt,
}

impl Shared {
    pub(crate) fn block<T: Send + 'static, F>(
        &self,
        f: impl FnOnce(deadpool_postgres::Pool, PgConfig) -> F,
    ) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.rt.block(f(self.pool.clone(), self.config.clone()))
    }
}

/// A ledger's store on one PostgreSQL database and schema. Each `PgStore`
/// is one replica's view (its own connections); several may share a schema.
#[derive(Clone)]
pub struct PgStore {
    shared: Arc<Shared>,
}

impl PgStore {
    /// Connects to the server in `config`, creates or upgrades the schema
    /// (unless the server is a standby: then it must hold a ledger already),
    /// and refuses a schema of a newer govledger.
    pub fn connect(config: &PgConfig) -> Result<Self, StoreError> {
        Self::connect_with(config, true)
    }

    /// Connects for reading only (`verify`, `export`, …): the schema must
    /// hold a ledger already; nothing is created or upgraded.
    pub fn connect_reader(config: &PgConfig) -> Result<Self, StoreError> {
        Self::connect_with(config, false)
    }

    fn connect_with(config: &PgConfig, create: bool) -> Result<Self, StoreError> {
        let rt = Rt::new()?;
        let pool = {
            let _guard = rt.handle().map(|h| h.enter());
            conn::pool(config)?
        };
        let shared =
            Arc::new(Shared { config: config.clone(), pool, heads: watch::channel(0).0, listening: Once::new(), rt });
        shared.block(move |pool, config| async move {
            let client = pooled(&pool, &config).await?;
            let standby: bool =
                client.query_one("SELECT pg_is_in_recovery()", &[]).await.map_err(|e| describe(&e, &config))?.get(0);
            if standby || !create {
                schema::check_existing(&client, &config).await
            } else {
                schema::migrate(&client, &config).await
            }
        })?;
        Ok(PgStore { shared })
    }

    /// The writer (one per ledger): its own connection, which must be to the
    /// primary.
    pub fn writer(&self) -> Result<PgWriter, StoreError> {
        PgWriter::connect(self.shared.clone())
    }

    /// A reader (any number; they share a pool of connections).
    pub fn reader(&self) -> Arc<PgReader> {
        Arc::new(PgReader { shared: self.shared.clone() })
    }

    /// The head seq the store is known to hold, moved by every commit of any
    /// writer (PostgreSQL `LISTEN`/`NOTIFY` on one connection, opened on the
    /// first call): a replica calls `Ledger::catch_up` when it passes the
    /// ledger's head. A lost listening connection is opened again after a
    /// second, and then reads the anchor, so no commit is missed for longer.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.shared.listening.call_once(|| {
            if let Some(handle) = self.shared.rt.handle() {
                handle.spawn(listen(Arc::downgrade(&self.shared)));
            }
        });
        self.shared.heads.subscribe()
    }

    /// The bearer tokens kept in this schema (its `tokens` table), shared by
    /// every replica.
    pub fn tokens(&self) -> PgTokens {
        PgTokens { shared: self.shared.clone() }
    }

    /// The store's configuration.
    pub fn config(&self) -> &PgConfig {
        &self.shared.config
    }
}

/// Follows the store's head for [`PgStore::watch`] until the store is dropped.
async fn listen(shared: std::sync::Weak<Shared>) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        let (mut config, heads) = (s.config.clone(), s.heads.clone());
        drop(s);
        // Named, so that a DBA sees it in pg_stat_activity for what it is.
        config.pg.application_name(LISTENER_NAME);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let listened = async {
            let client = conn::connect(&config, Notices::default(), Some(tx)).await?;
            client.batch_execute(&format!("LISTEN {}", config.channel())).await.map_err(|e| describe(&e, &config))?;
            let row = client
                .query_one("SELECT seq FROM anchor WHERE one = 1", &[])
                .await
                .map_err(|e| describe(&e, &config))?;
            heads.send_if_modified(|h| raise(h, col::<i64>(&row, 0).unwrap_or(0)));
            Ok::<_, StoreError>(client)
        }
        .await;
        match listened {
            Ok(_client) => {
                // Ends when the connection does (its task drops the sender).
                while let Some(n) = rx.recv().await {
                    if let Ok(seq) = n.payload().parse::<i64>() {
                        heads.send_if_modified(|h| raise(h, seq));
                    }
                }
                tracing::warn!("lost the PostgreSQL connection that follows the ledger; listening again");
            }
            Err(e) => tracing::warn!(error = %e, "cannot follow the ledger in PostgreSQL; retrying"),
        }
        tokio::time::sleep(RELISTEN_PAUSE).await;
    }
}

fn raise(head: &mut u64, seq: i64) -> bool {
    let seq = u64::try_from(seq).unwrap_or(0);
    let moved = seq > *head;
    if moved {
        *head = seq;
    }
    moved
}

/// Reads the ledger through a pool of connections (a standby will do).
pub struct PgReader {
    shared: Arc<Shared>,
}

/// `after` as PostgreSQL's bigint: nothing is stored above `i64::MAX`.
fn seq_bound(after: u64) -> i64 {
    i64::try_from(after).unwrap_or(i64::MAX)
}

type Rows = Vec<(i64, String, String)>;

impl PgReader {
    /// Up to `limit` rows after `after`, in order.
    fn page(&self, after: u64, limit: usize) -> Result<Rows, StoreError> {
        let (after, limit) = (seq_bound(after), i64::try_from(limit).unwrap_or(i64::MAX));
        self.shared.block(|pool, config| async move {
            let client = pooled(&pool, &config).await?;
            let fail = |e: tokio_postgres::Error| describe(&e, &config);
            let stmt = client
                .prepare_cached("SELECT seq, body, hash FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
                .await
                .map_err(fail)?;
            let rows = client.query(&stmt, &[&after, &limit]).await.map_err(fail)?;
            rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?))).collect()
        })
    }
}

/// Column `i` of a row of the ledger's tables, or `Corrupt` when a table
/// was changed outside govledger (never a panic).
pub(crate) fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| StoreError::Corrupt {
        seq: 0,
        reason: format!(
            "column {:?} of the ledger's tables cannot be read ({e}); were they changed outside govledger?",
            row.columns().get(i).map_or("?", |c| c.name())
        ),
    })
}

fn decode(seq: i64, body: &str, hash: &str) -> Result<StoredEvent, StoreError> {
    StoredEvent::from_body(body.as_bytes(), hash)
        .map_err(|e| StoreError::Corrupt { seq: u64::try_from(seq).unwrap_or(0), reason: e.to_string() })
}

impl LogReader for PgReader {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        self.shared.block(|pool, config| async move {
            let client = pooled(&pool, &config).await?;
            let row = client
                .query_one("SELECT seq, hash, recorded_at FROM anchor WHERE one = 1", &[])
                .await
                .map_err(|e| describe(&e, &config))?;
            let seq: i64 = col(&row, 0)?;
            if seq <= 0 {
                return Ok(None);
            }
            Ok(Some(Head { seq: seq as u64, hash: col(&row, 1)?, recorded_at: col(&row, 2)? }))
        })
    }

    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        let mut from = after;
        while out.len() < limit {
            let want = (limit - out.len()).min(PAGE);
            let rows = self.page(from, want)?;
            let got = rows.len();
            for (seq, body, hash) in rows {
                out.push(decode(seq, &body, &hash)?);
                from = seq as u64;
            }
            if got < want {
                break;
            }
        }
        Ok(out)
    }

    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        // Page by page on the primary key. The log is append-only, so pages
        // read at different moments are one consistent prefix.
        let mut from = after;
        loop {
            let rows = self.page(from, PAGE)?;
            let got = rows.len();
            for (seq, body, hash) in &rows {
                if !visit(RawRow { seq: *seq as u64, body: body.as_bytes(), hash }) {
                    return Ok(());
                }
                from = *seq as u64;
            }
            if got < PAGE {
                return Ok(());
            }
        }
    }

    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        let id = *id;
        self.shared.block(move |pool, config| async move {
            let client = pooled(&pool, &config).await?;
            writer::by_id(&client, &config, id).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_parsed_with_our_options_taken_out() {
        let c =
            PgConfig::parse("postgresql://gl:secret@db:5433/city?schema=ledger_2&commit_timeout=2.5&connect_timeout=3")
                .unwrap();
        assert_eq!((c.target().as_str(), c.schema.as_str()), ("db:5433/city", "ledger_2"));
        assert_eq!(c.commit_timeout, Duration::from_millis(2_500));
        assert_eq!(c.pg.get_connect_timeout(), Some(&Duration::from_secs(3)), "client options pass through");
        assert_eq!(c.pg.get_options(), Some("-c search_path=ledger_2"));
        let d = PgConfig::parse("postgres://gl@db/city").unwrap();
        assert_eq!((d.schema.as_str(), d.commit_timeout), (DEFAULT_SCHEMA, DEFAULT_COMMIT_TIMEOUT));
        assert_eq!(d.pg.get_connect_timeout(), Some(&Duration::from_secs(10)), "a connect timeout by default");
        assert!(PgConfig::is_postgres_url("postgres://x") && !PgConfig::is_postgres_url("kurrentdb://x"));
    }

    #[test]
    fn bad_store_urls_are_refused_without_their_password() {
        for (url, says) in [
            ("postgres://gl:secret@db/city?schema=Bad-Name", "schema \"Bad-Name\" must be"),
            ("postgres://gl:secret@db/city?schema=1st", "not starting with a digit"),
            ("postgres://gl:secret@db/city?schema=x%3Bdrop", "must be"),
            ("postgres://gl:secret@db/city?commit_timeout=0", "commit_timeout \"0\" must be seconds"),
            ("postgres://gl:secret@db/city?commit_timeout=soon", "must be seconds"),
            ("postgres://gl:secret@db/city?no_such_option=1", "no_such_option"),
        ] {
            let err = PgConfig::parse(url).unwrap_err().to_string();
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains("secret") && err.contains("gl:***@db"), "{url}: the password is hidden: {err}");
        }
    }
}
