//! Which store the commands work on: the embedded store in `--data-dir`
//! (the default), a KurrentDB cluster (`--store kurrentdb://…`) or a
//! PostgreSQL database (`--store postgres://…`), or `store = "…"` in the
//! config file. It is chosen once, before the command runs, and every
//! command opens its ledger or reader through here.
//!
//! The bearer tokens are kept where the ledger is ([`tokens`]), so that on a
//! shared store every replica reads the same ones. The data directory still
//! holds what is local to one server: the state snapshot and the projection
//! checkpoint.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use govledger_api::Tokens;
use govledger_credentials::redact_url;
use govledger_ledger::{Ledger, LedgerOptions, LogReader};
use govledger_store_kurrentdb::{KurrentConfig, KurrentStore};
use govledger_store_postgres::{PgConfig, PgStore};
use tokio::sync::watch;

/// The selected store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The embedded SQLite store in the data directory.
    Embedded,
    /// A stream on a KurrentDB cluster.
    Kurrent(KurrentConfig),
    /// A schema in a PostgreSQL database (boxed: the client's configuration is large).
    Postgres(Box<PgConfig>),
}

static SELECTED: OnceLock<Selection> = OnceLock::new();

impl Selection {
    /// Parses a `--store` value: absent or `embedded` for the embedded
    /// store, a `kurrentdb://` (or `esdb://`, `kdb://`, `+discover`) URL for
    /// a cluster, a `postgres://` or `postgresql://` URL for PostgreSQL.
    pub fn parse(url: Option<&str>) -> Result<Self> {
        match url.map(str::trim) {
            None | Some("") | Some("embedded") => Ok(Selection::Embedded),
            Some(url) if KurrentConfig::is_kurrentdb_url(url) => Ok(Selection::Kurrent(KurrentConfig::parse(url)?)),
            Some(url) if PgConfig::is_postgres_url(url) => Ok(Selection::Postgres(Box::new(PgConfig::parse(url)?))),
            Some(other) => bail!(
                "--store {other:?}: use `embedded` (the data directory, the default), a KurrentDB URL such as \
                 kurrentdb://127.0.0.1:2113?tls=false or a PostgreSQL URL such as \
                 postgres://govledger@127.0.0.1:5432/govledger"
            ),
        }
    }
}

/// Chooses the store for this process (once; later calls are ignored).
pub fn select(selection: Selection) {
    let _ = SELECTED.set(selection);
}

/// The store chosen for this process.
pub fn selected() -> &'static Selection {
    SELECTED.get_or_init(|| Selection::Embedded)
}

/// A ledger with what a server needs to follow other writers: for a shared
/// store, the number of events the store is known to hold.
pub struct Opened {
    pub ledger: Ledger,
    pub follow: Option<watch::Receiver<u64>>,
}

/// Opens the ledger (the single writer of this process).
pub fn open(dir: &Path) -> Result<Opened> {
    match selected() {
        Selection::Embedded => {
            let (writer, reader) = govledger_store_embedded::open(dir)
                .with_context(|| format!("cannot open the ledger in {}", dir.display()))?;
            let ledger = Ledger::open_with(Box::new(writer), reader, options(dir))
                .with_context(|| format!("cannot open the ledger in {}", dir.display()))?;
            Ok(Opened { ledger, follow: None })
        }
        Selection::Kurrent(config) => {
            let store = connect(config)?;
            let ledger = Ledger::open_with(Box::new(store.writer()), store.reader(), options(dir))
                .with_context(|| format!("cannot open the ledger in KurrentDB stream {:?}", config.stream))?;
            Ok(Opened { ledger, follow: Some(store.watch()) })
        }
        Selection::Postgres(config) => {
            let store = connect_postgres(config)?;
            let open = || -> Result<Ledger, govledger_ledger::StoreError> {
                Ledger::open(Box::new(store.writer()?), store.reader())
            };
            let ledger = open().with_context(|| {
                format!("cannot open the ledger in PostgreSQL schema {:?} at {}", config.schema, config.target())
            })?;
            Ok(Opened { ledger, follow: Some(store.watch()) })
        }
    }
}

/// The ledger's options: it starts from the state snapshot in `dir`, if
/// there is a usable one (`serve` keeps it, see `serve.rs`).
fn options(dir: &Path) -> LedgerOptions {
    LedgerOptions { snapshot: Some(snapshot_path(dir)), ..LedgerOptions::default() }
}

/// Where the data directory keeps the validation state's snapshot.
pub fn snapshot_path(dir: &Path) -> std::path::PathBuf {
    dir.join(govledger_ledger::SNAPSHOT_FILE)
}

/// Opens the ledger, for commands that only append.
pub fn open_ledger(dir: &Path) -> Result<Ledger> {
    open(dir).map(|o| o.ledger)
}

/// A reader of the ledger (takes no lock).
pub fn open_reader(dir: &Path) -> Result<Arc<dyn LogReader>> {
    match selected() {
        Selection::Embedded => Ok(govledger_store_embedded::open_reader(dir)?),
        Selection::Kurrent(config) => Ok(connect(config)?.reader()),
        Selection::Postgres(config) => Ok(PgStore::connect_reader(config)
            .with_context(|| format!("cannot use PostgreSQL at {}", config.target()))?
            .reader()),
    }
}

/// Whether the store holds no event yet: a data directory without a ledger,
/// or an empty one (or an empty KurrentDB stream).
pub fn holds_no_event(dir: &Path) -> Result<bool> {
    if matches!(selected(), Selection::Embedded) && !dir.join(govledger_store_embedded::DB_FILE).exists() {
        return Ok(true);
    }
    Ok(open_reader(dir)?.anchor()?.is_none_or(|head| head.seq == 0))
}

/// The tokens of the selected store: `tokens.sqlite` in the data directory
/// (embedded), the `tokens` table of the PostgreSQL schema, or the
/// `<stream>-tokens` stream on KurrentDB. `token` and `serve` use these, so
/// `token issue --store postgres://…` writes where every replica reads.
pub fn tokens(dir: &Path) -> Result<Tokens> {
    match selected() {
        Selection::Embedded => {
            Tokens::open_file(dir).with_context(|| format!("cannot open the token store in {}", dir.display()))
        }
        Selection::Kurrent(config) => {
            let stream = govledger_store_kurrentdb::tokens::KurrentTokens::connect(config)
                .with_context(|| unreachable(config))?;
            Ok(Tokens::new(Box::new(stream)))
        }
        Selection::Postgres(config) => Ok(Tokens::new(Box::new(connect_postgres(config)?.tokens()))),
    }
}

/// A `tokens.sqlite` left in the data directory of a server on a shared
/// store is read by nothing: says how to copy its tokens.
pub fn warn_of_unread_token_file(dir: &Path) {
    let file = dir.join(govledger_api::auth::TOKENS_FILE);
    if !matches!(selected(), Selection::Embedded) && file.exists() {
        eprintln!(
            "warning: {} is not read on a shared store, whose tokens are kept in the store itself; copy its tokens \
             with `govledger token import` (ops/RUNBOOK.md, \"Tokens on a shared store\")",
            file.display()
        );
    }
}

/// Fails with a clear message when a command works only on the embedded store.
pub fn require_embedded(command: &str) -> Result<()> {
    match selected() {
        Selection::Embedded => Ok(()),
        Selection::Kurrent(_) => bail!(
            "`{command}` works on the embedded store only; a KurrentDB cluster is backed up and restored with \
             KurrentDB's own tools (see ops/RUNBOOK.md)"
        ),
        Selection::Postgres(_) => bail!(
            "`{command}` works on the embedded store only; a PostgreSQL database is backed up and restored with \
             pg_basebackup and WAL archiving (see ops/RUNBOOK.md)"
        ),
    }
}

fn connect(config: &KurrentConfig) -> Result<KurrentStore> {
    KurrentStore::connect(config).with_context(|| unreachable(config))
}

/// The context of a failed connection to KurrentDB (its password hidden).
fn unreachable(config: &KurrentConfig) -> String {
    format!("cannot connect to KurrentDB at {}", redact_url(&config.connection))
}

fn connect_postgres(config: &PgConfig) -> Result<PgStore> {
    PgStore::connect(config).with_context(|| format!("cannot use PostgreSQL at {}", config.target()))
}

/// Keeps a replica's ledger current with what other replicas append: catches
/// up whenever the store reports more events than the ledger's head, and at
/// least every `interval` (in case a notification was missed). Ends when
/// `stop` turns true.
pub async fn follow(
    ledger: Ledger,
    mut known: watch::Receiver<u64>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The ledger was just loaded from the store: the first round is due after
    // one interval, not at once.
    tick.reset();
    let mut notified = true;
    loop {
        tokio::select! {
            changed = known.changed(), if notified => notified = changed.is_ok(),
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = ledger.catch_up().await {
            tracing::warn!(error = %e, "cannot follow the shared store; retrying");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_values_select_a_backend_or_are_refused() {
        assert_eq!(Selection::parse(None).unwrap(), Selection::Embedded);
        assert_eq!(Selection::parse(Some("embedded")).unwrap(), Selection::Embedded);
        match Selection::parse(Some("kurrentdb://127.0.0.1:2113?tls=false&stream=city")).unwrap() {
            Selection::Kurrent(c) => {
                assert_eq!((c.connection.as_str(), c.stream.as_str()), ("kurrentdb://127.0.0.1:2113?tls=false", "city"))
            }
            other => panic!("expected KurrentDB, got {other:?}"),
        }
        match Selection::parse(Some("postgresql://gl:pw@db:5433/city?schema=ledger&commit_timeout=5")).unwrap() {
            Selection::Postgres(c) => {
                assert_eq!((c.target().as_str(), c.schema.as_str()), ("db:5433/city", "ledger"));
                assert_eq!(c.commit_timeout, Duration::from_secs(5));
            }
            other => panic!("expected PostgreSQL, got {other:?}"),
        }
        let err = Selection::parse(Some("postgres://db/x?schema=Bad-Name")).unwrap_err().to_string();
        assert!(err.contains("schema \"Bad-Name\" must be"), "{err}");
        let err = Selection::parse(Some("mysql://x")).unwrap_err().to_string();
        assert!(err.contains("use `embedded`"), "{err}");
    }

    fn sub(v: serde_json::Value) -> govledger_domain::Submission {
        govledger_domain::Submission::parse(v).unwrap()
    }

    #[tokio::test]
    async fn the_follower_catches_up_when_told_and_stops_on_shutdown() {
        use govledger_ledger::memory::MemoryLog;
        let log = MemoryLog::new();
        let a = Ledger::open(Box::new(log.writer()), log.clone()).unwrap();
        let b = Ledger::open(Box::new(log.writer()), log.clone()).unwrap();
        let (known_tx, known_rx) = watch::channel(0u64);
        let (stop_tx, stop_rx) = watch::channel(false);
        // A long timer: only the notification can wake it within the test.
        let follower = tokio::spawn(follow(a.clone(), known_rx, Duration::from_secs(3_600), stop_rx));
        let mut a_head = a.watch_head();
        a_head.borrow_and_update();
        let bootstrap = sub(serde_json::json!({"type": "AgencyRegistered", "actor": "office",
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"agency_id": "office", "name": "office", "kind": "government", "roles": ["coordinator"]}}));
        let b2 = b.clone();
        let out = tokio::task::spawn_blocking(move || b2.append_blocking(vec![bootstrap])).await.unwrap().unwrap();
        known_tx.send_replace(out[0].event.seq);
        // Bounded wait for the follower's catch-up (a bound, not a sleep).
        let caught = tokio::time::timeout(Duration::from_secs(30), a_head.wait_for(|h| h.seq == 1)).await;
        assert!(caught.is_ok(), "the follower did not catch up after the notification");
        assert_eq!(a.head(), b.head());
        stop_tx.send_replace(true);
        tokio::time::timeout(Duration::from_secs(30), follower).await.expect("the follower stops").unwrap();
    }
}
