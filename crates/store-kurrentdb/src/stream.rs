//! What the store needs from one KurrentDB stream, as a small trait: append
//! with an expected revision, read forwards, read the last event, and watch
//! the stream grow. `client.rs` implements it with the official gRPC client;
//! `emulated.rs` implements it in memory, with the server's concurrency and
//! idempotency rules, so the store is tested without a server.

use tokio::sync::watch;
use uuid::Uuid;

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEvent {
    /// The KurrentDB event id (the ledger's event id).
    pub id: Uuid,
    /// The KurrentDB event type (the ledger's event type).
    pub event_type: String,
    /// The JSON payload: the event's canonical body, byte for byte.
    pub data: Vec<u8>,
    /// The user metadata (JSON): the event's hash.
    pub metadata: Vec<u8>,
}

/// An event as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRow {
    /// Its position in the stream, from 0.
    pub revision: u64,
    pub id: Uuid,
    pub event_type: String,
    pub data: Vec<u8>,
    pub metadata: Vec<u8>,
}

impl RecordedRow {
    /// The row of an appended event at `revision`.
    pub fn recorded(revision: u64, event: &OutgoingEvent) -> Self {
        RecordedRow {
            revision,
            id: event.id,
            event_type: event.event_type.clone(),
            data: event.data.clone(),
            metadata: event.metadata.clone(),
        }
    }
}

/// Why a stream operation failed; each variant says how to handle it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The stream's last revision is not the expected one: another writer
    /// appended first. Catch up and check again.
    #[error("wrong expected revision: the stream's last revision is {current:?}")]
    WrongExpectedRevision { current: Option<u64> },
    /// The cluster could not be reached or answered in time (no leader, a
    /// closed connection, a deadline); the operation may be retried as is.
    #[error("KurrentDB is unavailable: {0}")]
    Unavailable(String),
    /// Anything else (access denied, a deleted stream, a malformed answer):
    /// retrying will not help.
    #[error("KurrentDB refused the operation: {0}")]
    Failed(String),
}

/// One KurrentDB stream.
pub trait Stream: Send + Sync {
    /// Appends `events` atomically when the stream's last revision is
    /// `expected` (`None`: the stream holds no event yet); returns the last
    /// revision after the append. Appending the same event ids after the
    /// same expected revision again succeeds without storing them twice.
    fn append(&self, expected: Option<u64>, events: &[OutgoingEvent]) -> Result<u64, StreamError>;

    /// Up to `max` events from revision `from` on, in order; empty past the end.
    fn read(&self, from: u64, max: usize) -> Result<Vec<RecordedRow>, StreamError>;

    /// The last event, if any.
    fn last(&self) -> Result<Option<RecordedRow>, StreamError>;

    /// The number of events the stream is known to hold, updated as new
    /// ones are appended by anyone (a catch-up subscription).
    fn watch(&self) -> watch::Receiver<u64>;
}
