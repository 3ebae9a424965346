//! The govledger store on a KurrentDB (formerly EventStoreDB) cluster, for
//! deployments that outgrow one machine (SPEC 5).
//!
//! The whole ledger is one KurrentDB stream, so the chain stays one total
//! order: ledger `seq` N is stream revision N − 1, the KurrentDB event id is
//! the ledger event's id, its type the event type, its JSON payload the
//! canonical body byte for byte and its metadata `{"hash": …}`
//! ([`mapping`]). A transaction is buffered and appended at `commit` with
//! the expected revision of the ledger's head, so a writer that was
//! overtaken gets `StoreError::Conflict` and the ledger catches up,
//! re-checks and retries: two replicas cannot both accept conflicting
//! lifecycle steps. Several `govledger serve` replicas share one cluster;
//! each follows the stream ([`KurrentStore::watch`], fed by a catch-up
//! subscription) to keep its state current.
//!
//! What KurrentDB does not give, and what this store does instead:
//! - no multi-append transaction: a commit is exactly one append, never
//!   split. The store reports `max_append_bytes` as its
//!   [`TransactionLimit`] (keep it below the server's `MaxAppendSize`), so
//!   the ledger commits a large group of requests as several transactions
//!   and refuses a single request or import that does not fit, whole.
//! - an append whose answer never came (a timeout, a lost connection, after
//!   the bounded retries) may or may not be stored:
//!   `StoreError::Ambiguous`; the ledger reads the stream back to learn which.
//! - no lookup by event id: each store keeps an id → seq index in memory,
//!   filled as it reads the stream (about 40 bytes per event).
//! - no separate anchor: the head is the stream's last event; a KurrentDB
//!   stream cannot lose its tail without the cluster losing acknowledged
//!   writes, so `verify` cannot report a truncated tail here.
//!
//! Architecture invariant: only `client.rs` knows the gRPC client; the rest
//! works on the small [`stream::Stream`] trait and is tested without a
//! server against [`emulated::EmulatedStream`].

pub mod client;
pub mod emulated;
pub mod mapping;
pub mod stream;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use govledger_ledger::{Encoded, Head, LogReader, LogWriter, RawRow, StoreError, StoredEvent, TransactionLimit};
use tokio::sync::watch;
use uuid::Uuid;

use crate::mapping::{LedgerRow, append_error, expected_revision, from_row, head_seq, to_outgoing};
use crate::stream::{OutgoingEvent, Stream, StreamError};

/// The stream the ledger lives in unless the URL names another.
pub const DEFAULT_STREAM: &str = "govledger-ledger";
/// Bytes per append unless the URL says otherwise (counted as
/// [`TransactionLimit::bytes_of`], which is more than the server counts):
/// under the server's default `MaxAppendSize` (1 MiB).
pub const DEFAULT_MAX_APPEND_BYTES: usize = 1_000_000;
/// Events per read request.
const PAGE: usize = 4_096;

/// Where the store is: a KurrentDB connection string plus our own options.
/// Its `Debug` form hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct KurrentConfig {
    /// The connection string for the client (`kurrentdb://host:2113?tls=false`, …).
    pub connection: String,
    /// The stream holding the ledger.
    pub stream: String,
    /// Largest append (one transaction), in [`TransactionLimit::bytes_of`].
    pub max_append_bytes: usize,
}

impl std::fmt::Debug for KurrentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KurrentConfig")
            .field("connection", &govledger_credentials::redact_url(&self.connection))
            .field("stream", &self.stream)
            .field("max_append_bytes", &self.max_append_bytes)
            .finish()
    }
}

/// A store URL that cannot be used (its password hidden).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store URL {url:?}: {reason}")]
pub struct ConfigError {
    pub url: String,
    pub reason: String,
}

const SCHEMES: &[&str] = &["kurrentdb", "kurrentdb+discover", "kdb", "kdb+discover", "esdb", "esdb+discover"];

impl KurrentConfig {
    /// Whether `url` names a KurrentDB store (by its scheme).
    pub fn is_kurrentdb_url(url: &str) -> bool {
        url.split_once("://").is_some_and(|(scheme, _)| SCHEMES.contains(&scheme))
    }

    /// Parses `kurrentdb://host1:2113,host2:2113?tls=false&stream=NAME&max_append_bytes=N`:
    /// the client's connection string with two options of ours, `stream`
    /// (default [`DEFAULT_STREAM`]) and `max_append_bytes`, which are taken out
    /// before the rest goes to the client.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let fail = |reason: String| ConfigError { url: govledger_credentials::redact_url(url), reason };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(fail("expected scheme://hosts, e.g. kurrentdb://localhost:2113?tls=false".into()));
        };
        if !SCHEMES.contains(&scheme) {
            return Err(fail(format!("unknown scheme {scheme:?}; use one of {}", SCHEMES.join(", "))));
        }
        let (hosts, query) = rest.split_once('?').unwrap_or((rest, ""));
        if hosts.trim_matches('/').is_empty() {
            return Err(fail("no host".into()));
        }
        let mut config = KurrentConfig {
            connection: String::new(),
            stream: DEFAULT_STREAM.into(),
            max_append_bytes: DEFAULT_MAX_APPEND_BYTES,
        };
        let mut passed = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "stream" => {
                    if value.is_empty() || value.starts_with('$') {
                        return Err(fail(format!("stream {value:?} must be a non-empty name not starting with $")));
                    }
                    config.stream = value.to_owned();
                }
                "max_append_bytes" => {
                    config.max_append_bytes = value
                        .parse()
                        .ok()
                        .filter(|n| *n >= 1_024)
                        .ok_or_else(|| fail(format!("max_append_bytes {value:?} must be a number ≥ 1024")))?;
                }
                _ => passed.push(pair),
            }
        }
        config.connection = if passed.is_empty() {
            format!("{scheme}://{hosts}")
        } else {
            format!("{scheme}://{hosts}?{}", passed.join("&"))
        };
        Ok(config)
    }
}

/// Retries of operations that failed because the cluster could not be
/// reached. Appends are retried with the same event ids and the same
/// expected revision, which the server treats as the same append: if the
/// first attempt was stored and only its answer was lost, the retry succeeds
/// without storing the events twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransientRetry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub first_pause: Duration,
    pub max_pause: Duration,
}

impl Default for TransientRetry {
    /// 5 attempts with pauses of 0.1, 0.2, 0.4, 0.8 s (a leader election
    /// usually completes within that).
    fn default() -> Self {
        TransientRetry { max_attempts: 5, first_pause: Duration::from_millis(100), max_pause: Duration::from_secs(1) }
    }
}

impl TransientRetry {
    /// The pause after failed attempt number `failed` (from 1), or `None`
    /// when no attempt is left.
    pub fn pause(&self, failed: u32) -> Option<Duration> {
        (failed >= 1 && failed < self.max_attempts)
            .then(|| self.first_pause.saturating_mul(1 << (failed - 1).min(30)).min(self.max_pause))
    }

    /// Runs `op` until it succeeds, fails for good, or runs out of attempts.
    pub fn run<T>(&self, what: &str, mut op: impl FnMut() -> Result<T, StreamError>) -> Result<T, StreamError> {
        let mut failed = 0;
        loop {
            match op() {
                Err(StreamError::Unavailable(reason)) => {
                    failed += 1;
                    match self.pause(failed) {
                        Some(pause) => {
                            tracing::warn!(what, reason, attempt = failed, "KurrentDB unavailable; retrying");
                            std::thread::sleep(pause);
                        }
                        None => {
                            return Err(StreamError::Unavailable(format!("{reason} (after {failed} attempts)")));
                        }
                    }
                }
                other => return other,
            }
        }
    }
}

fn read_error(e: StreamError) -> StoreError {
    StoreError::Io(e.to_string())
}

/// Event id → seq, for the part of the stream read so far from the start.
#[derive(Default)]
struct IdIndex {
    seq_by_id: HashMap<Uuid, u64>,
    /// Every event up to this seq is indexed.
    indexed: u64,
}

impl IdIndex {
    fn note(&mut self, seq: u64, id: Uuid) {
        if seq == self.indexed + 1 {
            self.seq_by_id.insert(id, seq);
            self.indexed = seq;
        }
    }
}

/// What a store's reader and writer share.
struct Shared {
    stream: Arc<dyn Stream>,
    index: Mutex<IdIndex>,
    retry: TransientRetry,
}

impl Shared {
    fn index(&self) -> MutexGuard<'_, IdIndex> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Up to `max` rows from stream revision `from` on (ledger seq `from + 1`), checked.
    fn read_rows(&self, from: u64, max: usize) -> Result<Vec<LedgerRow>, StoreError> {
        let rows = self.retry.run("read", || self.stream.read(from, max)).map_err(read_error)?;
        let rows = rows.into_iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        let mut index = self.index();
        for row in &rows {
            index.note(row.seq, row.id);
        }
        Ok(rows)
    }

    /// The event with this id: the index, brought up to the stream's end.
    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        loop {
            let indexed = self.index().indexed;
            let rows = self.read_rows(indexed, PAGE)?;
            if rows.is_empty() || self.index().indexed == indexed {
                break;
            }
        }
        let Some(seq) = self.index().seq_by_id.get(id).copied() else {
            return Ok(None);
        };
        let row = self.read_rows(seq - 1, 1)?.into_iter().next();
        match row {
            Some(row) if row.id == *id => StoredEvent::from_body(&row.body, &row.hash)
                .map(Some)
                .map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() }),
            _ => Err(StoreError::Corrupt { seq, reason: format!("event {id} is indexed at seq {seq} but not there") }),
        }
    }
}

/// A store on one KurrentDB stream. Each `KurrentStore` is one replica's
/// view (its own connection and id index); several may share a stream.
pub struct KurrentStore {
    shared: Arc<Shared>,
    max_append_bytes: usize,
}

impl KurrentStore {
    /// Connects to the cluster in `config` (see [`client::KurrentStream`]).
    pub fn connect(config: &KurrentConfig) -> Result<Self, StoreError> {
        let stream = client::KurrentStream::connect(config)?;
        Ok(Self::on_stream(Arc::new(stream), config.max_append_bytes, TransientRetry::default()))
    }

    /// A store on any [`Stream`] (the emulated one in tests).
    pub fn on_stream(stream: Arc<dyn Stream>, max_append_bytes: usize, retry: TransientRetry) -> Self {
        KurrentStore { shared: Arc::new(Shared { stream, index: Mutex::default(), retry }), max_append_bytes }
    }

    /// The writer (one per ledger).
    pub fn writer(&self) -> KurrentWriter {
        KurrentWriter {
            shared: self.shared.clone(),
            max_append_bytes: self.max_append_bytes,
            expected: None,
            events: Vec::new(),
            ids: Vec::new(),
            bytes: 0,
            pending: HashMap::new(),
        }
    }

    /// A reader.
    pub fn reader(&self) -> Arc<KurrentReader> {
        Arc::new(KurrentReader { shared: self.shared.clone() })
    }

    /// The number of events the stream is known to hold, updated as anyone
    /// appends (a catch-up subscription): a replica calls
    /// `Ledger::catch_up` when it moves past the ledger's head.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.shared.stream.watch()
    }
}

/// Reads the ledger's stream.
pub struct KurrentReader {
    shared: Arc<Shared>,
}

impl LogReader for KurrentReader {
    fn anchor(&self) -> Result<Option<Head>, StoreError> {
        let last = self.shared.retry.run("read the last event", || self.shared.stream.last()).map_err(read_error)?;
        let Some(row) = last else { return Ok(None) };
        let LedgerRow { seq, body, hash, .. } = from_row(row)?;
        let event =
            StoredEvent::from_body(&body, &hash).map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })?;
        Ok(Some(Head { seq, hash, recorded_at: event.recorded_at }))
    }

    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        let mut from = after;
        while out.len() < limit {
            let want = (limit - out.len()).min(PAGE);
            let rows = self.shared.read_rows(from, want)?;
            let got = rows.len();
            for LedgerRow { seq, body, hash, .. } in rows {
                out.push(
                    StoredEvent::from_body(&body, &hash)
                        .map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })?,
                );
                from = seq;
            }
            if got < want {
                break;
            }
        }
        Ok(out)
    }

    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError> {
        let mut from = after;
        loop {
            let rows = self.shared.read_rows(from, PAGE)?;
            let got = rows.len();
            for row in rows {
                if !visit(RawRow { seq: row.seq, body: &row.body, hash: &row.hash }) {
                    return Ok(());
                }
                from = row.seq;
            }
            if got < PAGE {
                return Ok(());
            }
        }
    }

    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.shared.by_id(id)
    }
}

/// Writes the ledger's stream: buffers a transaction and appends it at
/// `commit`, whole, in one append with the expected revision of the head it
/// was begun at.
pub struct KurrentWriter {
    shared: Arc<Shared>,
    max_append_bytes: usize,
    /// The ledger head the open transaction appends after.
    expected: Option<u64>,
    /// The transaction's events, and their ledger ids in the same order.
    events: Vec<OutgoingEvent>,
    ids: Vec<Uuid>,
    /// Their size, in [`TransactionLimit::bytes_of`].
    bytes: usize,
    /// The transaction's events by id, for `by_id`.
    pending: HashMap<Uuid, StoredEvent>,
}

impl KurrentWriter {
    fn limit(&self) -> TransactionLimit {
        TransactionLimit {
            max_bytes: self.max_append_bytes,
            raise_with: format!(
                "one KurrentDB append holds at most {} bytes (max_append_bytes in the store URL); raise \
                 MaxAppendSize on every KurrentDB node (default 1 MiB) and max_append_bytes below it",
                self.max_append_bytes
            ),
        }
    }
}

impl LogWriter for KurrentWriter {
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError> {
        self.rollback();
        // The append at commit is what settles a race; this only refuses
        // early when the subscription already knows the stream moved on.
        let known = *self.shared.stream.watch().borrow();
        if known > expected_head {
            return Err(StoreError::Conflict { expected: expected_head, found: known });
        }
        self.expected = Some(expected_head);
        Ok(())
    }

    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        if self.expected.is_none() {
            return Err(StoreError::Io("write outside a transaction".into()));
        }
        self.bytes += events.iter().map(TransactionLimit::bytes_of).sum::<usize>();
        self.events.extend(events.iter().map(to_outgoing));
        self.ids.extend(events.iter().map(|e| e.event.id));
        self.pending.extend(events.iter().map(|e| (e.event.id, e.event.clone())));
        Ok(())
    }

    fn transaction_limit(&self) -> Option<TransactionLimit> {
        Some(self.limit())
    }

    fn commit(&mut self, head: &Head) -> Result<(), StoreError> {
        let Some(expected_head) = self.expected.take() else {
            return Err(StoreError::Io("commit outside a transaction".into()));
        };
        let events = std::mem::take(&mut self.events);
        let ids = std::mem::take(&mut self.ids);
        let bytes = std::mem::take(&mut self.bytes);
        self.pending.clear();
        let total = events.len() as u64;
        if expected_head + total != head.seq {
            return Err(StoreError::Io(format!(
                "the transaction holds {total} events after seq {expected_head}, but its head is seq {}",
                head.seq
            )));
        }
        if events.is_empty() {
            return Ok(());
        }
        // The ledger never writes more than the limit; should anything else,
        // it is refused whole here rather than split.
        if bytes > self.max_append_bytes {
            return Err(StoreError::Io(format!(
                "a transaction of {bytes} bytes does not fit in one append: {}",
                self.limit().raise_with
            )));
        }
        let expected = expected_revision(expected_head);
        let mut attempts = 0;
        let last = self
            .shared
            .retry
            .run("append", || {
                attempts += 1;
                self.shared.stream.append(expected, &events)
            })
            .map_err(|e| append_error(e, expected_head, attempts))?;
        if last + 1 != head.seq {
            return Err(StoreError::Ambiguous(format!(
                "KurrentDB stored the append at revision {last}, expected {}",
                head.seq - 1
            )));
        }
        let mut index = self.shared.index();
        for (id, seq) in ids.into_iter().zip(expected_head + 1..) {
            index.note(seq, id);
        }
        Ok(())
    }

    fn rollback(&mut self) {
        self.expected = None;
        self.events.clear();
        self.ids.clear();
        self.bytes = 0;
        self.pending.clear();
    }

    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError> {
        if let Some(e) = self.pending.get(id) {
            return Ok(Some(e.clone()));
        }
        self.shared.by_id(id)
    }
}

/// The ledger head of a stream whose last revision is `last`.
pub fn head_of(last: Option<u64>) -> u64 {
    head_seq(last)
}
