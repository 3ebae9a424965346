//! The embedded default store: one SQLite database (through rusqlite's
//! bundled library) in a data directory.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a commit is on disk
//! (the WAL is fsynced) before `commit` returns and the ledger acknowledges.
//! The ledger's writer batches concurrent appends into one transaction, so
//! they share that fsync (group commit). Atomicity: one SQLite transaction
//! per batch or import. Idempotency: event ids are a UNIQUE column of the
//! same table, as durable as the events.
//!
//! Layout of the data directory:
//! - `ledger.sqlite` (+ `-wal`, `-shm`): table `events(seq, id, body, hash)`
//!   holding each event's canonical bytes, and table `anchor`, the head as of
//!   the last commit (so a truncated tail is detected by `verify`);
//! - `LOCK`: held by the one process that may write.
//!
//! [`backup`] takes online backups and restores them, verified.

pub mod backup;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use govledger_ledger::{Encoded, Head, LogReader, LogWriter, RawRow, StoreError, StoredEvent};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use uuid::Uuid;

/// The database file inside a data directory.
pub const DB_FILE: &str = "ledger.sqlite";
const LOCK_FILE: &str = "LOCK";
/// Version of the on-disk layout, kept in `PRAGMA user_version`.
const FORMAT_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq  INTEGER PRIMARY KEY,
    id   BLOB NOT NULL UNIQUE,
    body TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS anchor (
    one         INTEGER PRIMARY KEY CHECK (one = 1),
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
";

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "journal_mode", "WAL").map_err(io)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(io)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(io)?;
    Ok(())
}

/// Opens the store in `dir` for writing: creates it if needed and takes the
/// directory's lock. Returns the writer (for the ledger) and a reader.
pub fn open(dir: &Path) -> Result<(EmbeddedWriter, Arc<EmbeddedReader>), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| io(format!("cannot create data directory {}: {e}", dir.display())))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| io(format!("cannot open {}: {e}", dir.join(LOCK_FILE).display())))?;
    lock.try_lock().map_err(|_| {
        StoreError::Locked(format!(
            "the data directory {} is in use by another govledger process; stop it or use another --data-dir",
            dir.display()
        ))
    })?;
    open_unlocked(dir, Some(lock))
}

/// Opens another writer on `dir` without the directory's lock, for several
/// ledgers sharing one store in one process (replica tests, the conformance
/// suite). The writers then settle races like replicas on a shared cluster:
/// `begin` takes SQLite's write lock (`BEGIN IMMEDIATE`) and refuses with
/// `StoreError::Conflict` when the log moved past the writer's head. Do not
/// point a second process at a directory a server writes: the lock is what
/// keeps `govledger import` from racing a server that does not follow it.
pub fn open_shared(dir: &Path) -> Result<(EmbeddedWriter, Arc<EmbeddedReader>), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| io(format!("cannot create data directory {}: {e}", dir.display())))?;
    open_unlocked(dir, None)
}

fn open_unlocked(dir: &Path, lock: Option<File>) -> Result<(EmbeddedWriter, Arc<EmbeddedReader>), StoreError> {
    let path = dir.join(DB_FILE);
    let conn = Connection::open(&path).map_err(io)?;
    // The ledger holds agencies' case data (account references, amounts):
    // its owner only. Before WAL mode, so that SQLite gives the -wal and
    // -shm files the same permissions when it creates them.
    backup::owner_only(&path);
    configure(&conn)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(io)?;
    if version > FORMAT_VERSION {
        return Err(StoreError::Corrupt {
            seq: 0,
            reason: format!("the data directory has format {version}; this govledger reads up to {FORMAT_VERSION}"),
        });
    }
    conn.execute_batch(SCHEMA).map_err(io)?;
    conn.pragma_update(None, "user_version", FORMAT_VERSION).map_err(io)?;
    let reader = Arc::new(EmbeddedReader::new(path.clone()));
    Ok((EmbeddedWriter { conn, _lock: lock, in_txn: false, rows_in_txn: 0 }, reader))
}

/// Opens an existing store for reading only (e.g. `verify` or `export` while
/// a server runs). Takes no lock.
pub fn open_reader(dir: &Path) -> Result<Arc<EmbeddedReader>, StoreError> {
    let path = dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::Io(format!(
            "{} holds no ledger (no {DB_FILE}); run `govledger demo` or `govledger import` first",
            dir.display()
        )));
    }
    Ok(Arc::new(EmbeddedReader::new(path)))
}

/// The single writer of a data directory.
pub struct EmbeddedWriter {
    conn: Connection,
    /// The directory's lock; `None` for a writer opened with [`open_shared`].
    _lock: Option<File>,
    in_txn: bool,
    /// Rows written by the open transaction.
    rows_in_txn: usize,
}

/// A commit of at least this many rows (an import, a large batch) is
/// followed by a `wal_checkpoint(TRUNCATE)`: otherwise the WAL file keeps
/// the size of the whole transaction (530 MB after importing a million
/// events) until the next write resets it.
const TRUNCATE_WAL_FROM_ROWS: usize = 10_000;

impl LogWriter for EmbeddedWriter {
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(io)?;
        self.in_txn = true;
        self.rows_in_txn = 0;
        // Cached statements: preparing them on every commit cost about as much
        // as the inserts of a small batch (BENCHMARKS.md, append at batch 1).
        let found: u64 = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")
            .and_then(|mut stmt| stmt.query_row([], |r| r.get(0)))
            .map_err(io)?;
        if found != expected_head {
            self.rollback();
            return Err(StoreError::Conflict { expected: expected_head, found });
        }
        Ok(())
    }

    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        let mut stmt =
            self.conn.prepare_cached("INSERT INTO events (seq, id, body, hash) VALUES (?1, ?2, ?3, ?4)").map_err(io)?;
        for e in events {
            // The body is canonical JSON the ledger wrote: bound as text as it is.
            let body = ToSqlOutput::Borrowed(ValueRef::Text(&e.body));
            stmt.execute(params![e.event.seq, e.event.id.as_bytes().as_slice(), body, e.event.hash]).map_err(io)?;
        }
        self.rows_in_txn += events.len();
        Ok(())
    }

    fn commit(&mut self, head: &Head) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO anchor (one, seq, hash, recorded_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, recorded_at = excluded.recorded_at",
            )
            .and_then(|mut stmt| stmt.execute(params![head.seq, head.hash, head.recorded_at]))
            .map_err(io)?;
        self.conn.execute_batch("COMMIT").map_err(io)?;
        self.in_txn = false;
        if self.rows_in_txn >= TRUNCATE_WAL_FROM_ROWS {
            // The commit is durable already; a checkpoint that cannot finish
            // (a reader still needs old frames) only leaves the file large.
            let checkpoint = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
            if let Err(e) = checkpoint {
                tracing::warn!(error = %e, "cannot truncate the WAL after a large commit");
            }
        }
        Ok(())
    }

    fn rollback(&mut self) {
        if self.in_txn {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rollback failed");
            }
            self.in_txn = false;
        }
    }

    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        by_id(&self.conn, id)
    }
}

fn by_id(conn: &Connection, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
    let row: Option<(u64, String, String)> = conn
        .prepare_cached("SELECT seq, body, hash FROM events WHERE id = ?1")
        .map_err(io)?
        .query_row([id.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(io)?;
    row.map(|(seq, body, hash)| decode(seq, body.as_bytes(), &hash)).transpose()
}

fn decode(seq: u64, body: &[u8], hash: &str) -> Result<StoredEvent, StoreError> {
    StoredEvent::from_body(body, hash).map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })
}

/// Readers of a data directory: a small pool of read-only connections, so
/// many threads read while the writer appends (WAL mode).
pub struct EmbeddedReader {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
}

impl EmbeddedReader {
    fn new(path: PathBuf) -> Self {
        Self { path, pool: Mutex::new(Vec::new()) }
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let conn = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(io)?;
                c.busy_timeout(std::time::Duration::from_secs(10)).map_err(io)?;
                c
            }
        };
        let out = f(&conn);
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < 16 {
            pool.push(conn);
        }
        out
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl LogReader for EmbeddedReader {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT seq, hash, recorded_at FROM anchor WHERE one = 1", [], |r| {
                Ok(Head { seq: r.get(0)?, hash: r.get(1)?, recorded_at: r.get(2)? })
            })
            .optional()
            .map_err(io)
        })
    }

    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare_cached("SELECT seq, body, hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
                .map_err(io)?;
            let mut rows = stmt.query(params![seq_bound(after), limit as i64]).map_err(io)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(io)? {
                let seq: u64 = r.get(0).map_err(io)?;
                let body = r.get_ref(1).map_err(io)?.as_bytes().map_err(io)?;
                let hash = r.get_ref(2).map_err(io)?.as_str().map_err(io)?;
                out.push(decode(seq, body, hash)?);
            }
            Ok(out)
        })
    }

    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        self.with(|c| {
            // One read transaction, so the scan sees one consistent snapshot.
            c.execute_batch("BEGIN").map_err(io)?;
            let result = (|| {
                let mut stmt =
                    c.prepare_cached("SELECT seq, body, hash FROM events WHERE seq > ?1 ORDER BY seq").map_err(io)?;
                let mut rows = stmt.query([seq_bound(after)]).map_err(io)?;
                while let Some(r) = rows.next().map_err(io)? {
                    let seq: u64 = r.get(0).map_err(io)?;
                    let body = r.get_ref(1).map_err(io)?.as_bytes().map_err(io)?;
                    let hash = r.get_ref(2).map_err(io)?.as_str().map_err(io)?;
                    if !visit(RawRow { seq, body, hash }) {
                        break;
                    }
                }
                Ok(())
            })();
            let _ = c.execute_batch("COMMIT");
            result
        })
    }

    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.with(|c| by_id(c, id))
    }
}

/// `after` as SQLite's signed integer: no seq is stored above `i64::MAX`, so
/// a larger `after` (a client's `?after=2^63`) reads nothing, as it should.
fn seq_bound(after: u64) -> i64 {
    i64::try_from(after).unwrap_or(i64::MAX)
}

/// Opens a ledger on the data directory `dir` (the common case).
pub fn open_ledger(dir: &Path) -> Result<govledger_ledger::Ledger, StoreError> {
    let (writer, reader) = open(dir)?;
    govledger_ledger::Ledger::open(Box::new(writer), reader)
}

/// Opens one more ledger on `dir` beside others in this process (see
/// [`open_shared`]); it follows the others with `Ledger::catch_up`.
pub fn open_shared_ledger(dir: &Path) -> Result<govledger_ledger::Ledger, StoreError> {
    let (writer, reader) = open_shared(dir)?;
    govledger_ledger::Ledger::open(Box::new(writer), reader)
}
