//! The storage contract every store implements: an append-only, totally
//! ordered log of canonical event bodies, written in atomic, durable
//! transactions. Stores keep bytes; they do not validate, hash or chain —
//! the `Ledger` does that once for all of them.

use uuid::Uuid;

use crate::event::{Encoded, Head, StoredEvent};

/// A failure of the storage layer. Nothing of the failed write is visible.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended first (optimistic concurrency); catch up and retry.
    #[error("the log moved: expected head {expected}, found {found}")]
    Conflict { expected: u64, found: u64 },
    /// The data directory is in use by another process.
    #[error("{0}")]
    Locked(String),
    /// The stored data cannot be read back (corruption or an incompatible version).
    #[error("stored data is unreadable at seq {seq}: {reason}")]
    Corrupt { seq: u64, reason: String },
    /// Disk, database or network failure; the operation may be retried.
    #[error("storage failure: {0}")]
    Io(String),
    /// The store may or may not have kept the transaction (a timeout or a
    /// lost connection after the append was sent); retry with the same ids.
    #[error("the outcome of the append is unknown: {0}")]
    Ambiguous(String),
}

/// The largest transaction a store can write in one piece (KurrentDB: one
/// append, under the server's `MaxAppendSize`). The ledger never hands a
/// store a larger one: it commits a group of requests that would exceed it
/// as several transactions, never splitting a request, and refuses a request
/// (or an import) that alone exceeds it, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionLimit {
    /// Most bytes in one transaction, counted by [`TransactionLimit::bytes_of`].
    pub max_bytes: usize,
    /// The settings that raise the limit, for the refusal's message.
    pub raise_with: String,
}

impl TransactionLimit {
    /// Bytes one event takes in a transaction: its canonical body, its hash
    /// and type, and an allowance for the store's framing of an event.
    pub fn bytes_of(e: &Encoded) -> usize {
        e.body.len() + e.event.hash.len() + e.event.event_type.len() + 64
    }
}

/// One stored row, as the store keeps it.
#[derive(Debug, Clone, Copy)]
pub struct RawRow<'a> {
    /// The position the store keeps the row at.
    pub seq: u64,
    pub body: &'a [u8],
    pub hash: &'a str,
}

/// Reading the log. Safe to use from many threads while a writer appends.
pub trait LogReader: Send + Sync {
    /// The head as recorded by the last committed transaction (an anchor
    /// independent of the rows, so that a truncated tail is detected).
    fn anchor(&self) -> Result<Option<Head>, StoreError>;

    /// Up to `limit` events with `seq > after`, in order.
    fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;

    /// Visits every row with `seq > after`, in the store's order (by `seq`:
    /// `verify` splits the log on it), without decoding; stops early when
    /// `visit` returns false.
    fn scan_raw(&self, after: u64, visit: &mut dyn FnMut(RawRow<'_>) -> bool) -> Result<(), StoreError>;

    /// The event with this id.
    fn by_id(&self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError>;
}

/// Writing the log. Owned by the ledger's single writer.
pub trait LogWriter: Send {
    /// Starts a transaction that will append after `expected_head`.
    fn begin(&mut self, expected_head: u64) -> Result<(), StoreError>;

    /// Adds events to the open transaction; they are not visible to readers
    /// yet. The events of one request may come in several calls, up to its
    /// [`LogWriter::end_request`].
    fn write(&mut self, events: &[Encoded]) -> Result<(), StoreError>;

    /// Ends the events of one request of a group commit. A marker only: no
    /// store splits a transaction (one that does not fit is refused, see
    /// [`LogWriter::transaction_limit`]).
    fn end_request(&mut self) {}

    /// The largest transaction this store can write in one piece; `None`
    /// (the default) when it has no such limit.
    fn transaction_limit(&self) -> Option<TransactionLimit> {
        None
    }

    /// Makes the transaction durable and visible, with `head` as the new
    /// anchor. When this returns Ok the events survive a crash.
    fn commit(&mut self, head: &Head) -> Result<(), StoreError>;

    /// Abandons the open transaction.
    fn rollback(&mut self);

    /// The event with this id, including ones written in the open transaction.
    fn by_id(&mut self, id: &Uuid) -> Result<Option<StoredEvent>, StoreError>;
}
