//! The append path. Every append — HTTP, GraphQL, CLI, import — goes
//! through one writer, so each event is checked by the domain's rules
//! against exactly the state it is appended to, and the chain stays one
//! total order.
//!
//! Words: **the writer** is the one thread that commits: the writer thread
//! (`govledger-writer`, `writer.rs`), which owns the `Core` (the request
//! queue and the `Committer`: the validation state, the store's log and the
//! head). The store's side of a transaction is its **log** (a `LogWriter`);
//! other ledgers appending to a shared store are **replicas**. A **caller**
//! is the thread that asked for an append; async and blocking callers take
//! the same path (`Ledger::submit`): they prepare their batch's seals, hand
//! it to the writer and wait for its answer.
//!
//! The modules, by responsibility:
//! - this file: the public handle ([`Ledger`]), its options, errors and stats;
//! - `writer`: the writer thread and its queue (`Core`);
//! - `group`: group commit (check, seal and write, commit, retry);
//! - `check`: the check of a group's requests against the rules;
//! - `prepare`: the part of sealing done off the writer (`Preparation`);
//! - `import`: an import stream as one transaction;
//! - `follow`: folding stored events in, at opening and when catching up;
//! - `room`: the store's largest transaction; `snapshot`: the state's snapshot.
//!
//! Group commit: while the store makes one transaction durable, further
//! requests queue up; the writer takes all that are waiting, checks each
//! request on its own (one bad request does not sink its neighbours),
//! writes the accepted ones in one transaction and acknowledges them all
//! after one fsync. The checks come first, while the callers still prepare
//! the seals (see `Preparation`); sealing and writing follow, chunk by chunk.
//!
//! Shared stores: several replicas may write one store. Each appends with
//! the head its state was checked against as the expected head; the store
//! refuses the transaction with `StoreError::Conflict` when another replica
//! appended first. The writer then catches up (folds the other replicas'
//! events into its state), checks every request of the group again and
//! retries, a bounded number of times ([`RetryPolicy`]). The state keeps a
//! group's events only once the store has committed them: a lost race or a
//! failed commit drops the group's `Txn`, which puts the state back as it
//! was. Between appends, a replica follows the others with
//! [`Ledger::catch_up`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use govledger_domain::{Capacity, ErrorCode, Rejection, State, Submission, Timestamp};
use tokio::sync::{oneshot, watch};

use crate::backend::{LogReader, LogWriter, StoreError};
use crate::event::{Head, StoredEvent};
use crate::verify::{VerifyReport, verify_with_progress};

mod check;
mod follow;
mod group;
mod import;
mod prepare;
mod room;
mod snapshot;
mod writer;

use follow::load_state;
use group::Committer;
use prepare::{Preparation, SHARED_PREPARE_MIN};
use writer::Core;

/// Most events in one group commit; a larger queue is split.
const MAX_GROUP_EVENTS: usize = 8_192;
/// Events written to the store per call during an import.
const IMPORT_CHUNK: usize = 1_024;

/// An event accepted by an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub event: StoredEvent,
    /// True when the submission was an idempotent retry of a stored event.
    pub replayed: bool,
}

/// Why an append stored nothing. Each variant says how to handle it.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The submission breaks a rule: a client error (HTTP 4xx); do not retry as is.
    #[error("event {index}: {rejection}")]
    Rejected { index: usize, rejection: Rejection },
    /// The store failed; nothing was stored and the request may be retried (HTTP 503).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ledger is shutting down (HTTP 503).
    #[error("the ledger is closed")]
    Closed,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A line breaks a rule, or is not a valid envelope.
    #[error("line {line}: {rejection}")]
    Rejected { line: u64, rejection: Rejection },
    /// The input could not be read.
    #[error("line {line}: {message}")]
    Read { line: u64, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the ledger is closed")]
    Closed,
}

/// What an import stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Events appended.
    pub appended: u64,
    /// Events already stored with the same content (idempotent retries).
    pub replayed: u64,
    /// The head after the import.
    pub head: Option<Head>,
}

/// One item of an import: a line number and the envelope parsed from it.
pub type ImportItem = Result<(u64, Submission), ImportError>;

/// Where the ledger's clock comes from (the system clock, or a test's).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How often, and after what pauses, a group commit that lost the race to
/// another replica of a shared store is checked again and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least 1).
    pub max_attempts: u32,
    /// The pause after the first lost race; it doubles after each further one.
    pub first_backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts; pauses of 2, 4, 8 … ms, at most 100 ms (under 0.3 s in all).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            first_backoff: Duration::from_millis(2),
            max_backoff: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt number `attempt` (2 is the first retry), or
    /// `None` when the policy allows no such attempt. `jitter` in `[0, 1)`
    /// picks a point between half and all of the exponential pause, so that
    /// replicas that lost the same race do not retry in lockstep.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Option<Duration> {
        if attempt < 2 || attempt > self.max_attempts {
            return None;
        }
        let doublings = (attempt - 2).min(30);
        let full = self.first_backoff.saturating_mul(1 << doublings).min(self.max_backoff);
        Some(full.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0))
    }
}

/// Counts of what the writer did since the ledger was opened (for metrics
/// and alerts): where its time goes, and what happened on a shared store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerStats {
    /// Group commits that stored events: one store transaction each. Their
    /// time, in nanoseconds, is split into the three phases below.
    pub group_commits: u64,
    /// Checking every request of the group against the rules.
    pub check_nanos: u64,
    /// Beginning the store transaction (with its head check), sealing the
    /// new events and writing them into it.
    pub write_nanos: u64,
    /// Committing the store transaction (the fsync).
    pub commit_nanos: u64,
    /// Append requests the writer answered, whatever their outcome.
    pub requests: u64,
    /// The writer's time on those requests, in nanoseconds: from taking a
    /// group off the queue to its last answer (the three phases above,
    /// groups that stored nothing, the answers and any retries). Divided by
    /// `requests`, the writer's serialised time per request: what bounds
    /// how many requests one writer can take, however many cores serve them.
    pub append_nanos: u64,
    /// Group commits or imports that lost the race to another replica and
    /// were checked again after catching up.
    pub lost_races: u64,
    /// Groups whose every retry lost; their requests were answered "retry".
    pub retries_exhausted: u64,
    /// Events other replicas appended that this ledger folded in.
    pub followed_events: u64,
}

#[derive(Default)]
struct StatCounters {
    group_commits: AtomicU64,
    check_nanos: AtomicU64,
    write_nanos: AtomicU64,
    commit_nanos: AtomicU64,
    requests: AtomicU64,
    append_nanos: AtomicU64,
    lost_races: AtomicU64,
    retries_exhausted: AtomicU64,
    followed_events: AtomicU64,
}

impl StatCounters {
    /// Counts a group commit that stored events, with its phases' times.
    fn committed(&self, check: Duration, write: Duration, commit: Duration) {
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.group_commits.fetch_add(1, Ordering::Relaxed);
        self.check_nanos.fetch_add(nanos(check), Ordering::Relaxed);
        self.write_nanos.fetch_add(nanos(write), Ordering::Relaxed);
        self.commit_nanos.fetch_add(nanos(commit), Ordering::Relaxed);
    }

    /// Counts `requests` answered by the writer in `took`.
    fn answered(&self, requests: usize, took: Duration) {
        self.requests.fetch_add(requests as u64, Ordering::Relaxed);
        self.append_nanos.fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// How a ledger is opened.
#[derive(Clone)]
pub struct LedgerOptions {
    /// Where `recorded_at` comes from.
    pub clock: Clock,
    /// Retries after losing a race on a shared store.
    pub retry: RetryPolicy,
    /// A snapshot of the validation state to start from, if there is a
    /// usable one there (see `snapshot.rs`); `None` folds the whole log.
    pub snapshot: Option<std::path::PathBuf>,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions { clock: Arc::new(Timestamp::now), retry: RetryPolicy::default(), snapshot: None }
    }
}

/// Where the writer sends an append's outcome.
type AppendReply = oneshot::Sender<Result<Vec<Appended>, AppendError>>;

enum Command {
    Append {
        batch: Arc<Preparation>,
        capacity: Capacity,
        reply: oneshot::Sender<Result<Vec<Appended>, AppendError>>,
    },
    Import {
        source: Box<dyn Iterator<Item = ImportItem> + Send>,
        progress: Box<dyn FnMut(u64) + Send>,
        reply: oneshot::Sender<Result<ImportSummary, ImportError>>,
    },
    CatchUp {
        reply: oneshot::Sender<Result<Head, StoreError>>,
    },
    /// Runs `read` on the writer's thread, between two commits, with the
    /// state and the head it stands at (`None` if the state holds events
    /// not yet committed): to write a snapshot, or copy the state.
    ReadState {
        read: ReadState,
    },
}

/// What `Command::ReadState` runs on the writer's thread.
type ReadState = Box<dyn FnOnce(Option<(&State, &Head)>) + Send>;

/// A ledger over a store. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    sender: Mutex<Option<Sender<Command>>>,
    reader: Arc<dyn LogReader>,
    head: watch::Receiver<Head>,
    stats: Arc<StatCounters>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Ledger {
    /// Opens a ledger: folds the stored log into the validation state and
    /// starts the writer.
    pub fn open(log: Box<dyn LogWriter>, reader: Arc<dyn LogReader>) -> Result<Self, StoreError> {
        Self::open_with(log, reader, LedgerOptions::default())
    }

    /// Opens a ledger whose `recorded_at` comes from `clock` (tests use a
    /// fixed clock; `recorded_at` never goes backwards whatever the clock says).
    pub fn open_with_clock(
        log: Box<dyn LogWriter>,
        reader: Arc<dyn LogReader>,
        clock: Clock,
    ) -> Result<Self, StoreError> {
        Self::open_with(log, reader, LedgerOptions { clock, ..LedgerOptions::default() })
    }

    /// Opens a ledger with explicit options.
    pub fn open_with(
        log: Box<dyn LogWriter>,
        reader: Arc<dyn LogReader>,
        options: LedgerOptions,
    ) -> Result<Self, StoreError> {
        let (ledger, core) = Self::unstarted(log, reader, options)?;
        let thread = std::thread::Builder::new()
            .name("govledger-writer".into())
            .spawn(move || core.serve())
            .map_err(|e| StoreError::Io(format!("cannot start the writer thread: {e}")))?;
        *ledger.inner.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(thread);
        Ok(ledger)
    }

    /// A ledger and the writer's `Core`, not yet run by a thread (the unit
    /// tests run it by hand).
    fn unstarted(
        log: Box<dyn LogWriter>,
        reader: Arc<dyn LogReader>,
        options: LedgerOptions,
    ) -> Result<(Self, Core), StoreError> {
        let (state, head) = load_state(reader.as_ref(), options.snapshot.as_deref())?;
        let (head_tx, head_rx) = watch::channel(head.clone());
        let (sender, receiver) = mpsc::channel();
        let last_recorded = Timestamp::parse(&head.recorded_at).ok();
        let stats = Arc::new(StatCounters::default());
        let committer = Committer {
            limit: log.transaction_limit(),
            stats: stats.clone(),
            state,
            log,
            head,
            head_tx,
            clock: options.clock,
            retry: options.retry,
            last_recorded,
            reader: reader.clone(),
        };
        let core = Core { committer, receiver, next: None };
        let inner = Inner { sender: Mutex::new(Some(sender)), reader, head: head_rx, stats, thread: Mutex::new(None) };
        Ok((Ledger { inner: Arc::new(inner) }, core))
    }

    /// Queues a command for the writer; false when the ledger is closed.
    fn send(&self, cmd: Command) -> bool {
        let guard = self.inner.sender.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().is_some_and(|s| s.send(cmd).is_ok())
    }

    /// The one append path, for async and blocking callers alike: prepares
    /// `batch`'s seals on this thread (see `Preparation`: a small batch
    /// before it is handed over, so that the writer only checks, seals the
    /// tail and writes; a large one with the writer's help), hands it to the
    /// writer and returns where its outcome will arrive.
    fn submit(
        &self,
        batch: Vec<Submission>,
        capacity: Capacity,
    ) -> Result<oneshot::Receiver<Result<Vec<Appended>, AppendError>>, AppendError> {
        if batch.is_empty() {
            return Err(AppendError::Rejected {
                index: 0,
                rejection: Rejection::new(ErrorCode::BatchEmpty, "the batch holds no event"),
            });
        }
        let (reply, rx) = oneshot::channel();
        let preparation = Arc::new(Preparation::new(batch));
        if preparation.len() < SHARED_PREPARE_MIN {
            preparation.work();
        }
        if !self.send(Command::Append { batch: preparation.clone(), capacity, reply }) {
            return Err(AppendError::Closed);
        }
        // A shared batch: this thread and, once it takes the request, the writer.
        preparation.work();
        Ok(rx)
    }

    /// Appends a batch atomically: all events are stored, or none. The
    /// actors use every ledger role they hold (the operator's capacity).
    pub async fn append(&self, batch: Vec<Submission>) -> Result<Vec<Appended>, AppendError> {
        self.append_as(batch, Capacity::FULL).await
    }

    /// [`Ledger::append`] with the actors limited to `capacity`: the ledger
    /// roles their credential allows (SPEC 4).
    pub async fn append_as(&self, batch: Vec<Submission>, capacity: Capacity) -> Result<Vec<Appended>, AppendError> {
        self.submit(batch, capacity)?.await.unwrap_or(Err(AppendError::Closed))
    }

    /// [`Ledger::append`] for callers outside an async runtime: the same
    /// path, waiting on this thread.
    pub fn append_blocking(&self, batch: Vec<Submission>) -> Result<Vec<Appended>, AppendError> {
        self.submit(batch, Capacity::FULL)?.blocking_recv().unwrap_or(Err(AppendError::Closed))
    }

    /// Imports a stream of envelopes as one atomic batch, holding only the
    /// validation state in memory. `progress` gets the number of events done.
    pub fn import_blocking(
        &self,
        source: impl Iterator<Item = ImportItem> + Send + 'static,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<ImportSummary, ImportError> {
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Import { source: Box::new(source), progress: Box::new(progress), reply };
        if !self.send(cmd) {
            return Err(ImportError::Closed);
        }
        rx.blocking_recv().unwrap_or(Err(ImportError::Closed))
    }

    /// Folds in the events other replicas of a shared store (server replicas)
    /// appended since this ledger's head, checking that each one links to the
    /// one before and hashes to its stored hash, so that the rules state,
    /// [`Ledger::head`] and [`Ledger::watch_head`] include them. Returns the
    /// new head. Cheap when nothing is new; a replica calls it on a timer or
    /// when its store signals new events. Appends catch up by themselves when
    /// they lose a race, so correctness never depends on calling it.
    pub async fn catch_up(&self) -> Result<Head, StoreError> {
        let (reply, rx) = oneshot::channel();
        if !self.send(Command::CatchUp { reply }) {
            return Err(closed_store());
        }
        rx.await.unwrap_or_else(|_| Err(closed_store()))
    }

    /// [`Ledger::catch_up`] for callers outside an async runtime.
    pub fn catch_up_blocking(&self) -> Result<Head, StoreError> {
        let (reply, rx) = oneshot::channel();
        if !self.send(Command::CatchUp { reply }) {
            return Err(closed_store());
        }
        rx.blocking_recv().unwrap_or_else(|_| Err(closed_store()))
    }

    /// The current head.
    pub fn head(&self) -> Head {
        self.inner.head.borrow().clone()
    }

    /// A receiver that sees every new head (for followers and subscriptions).
    pub fn watch_head(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    /// What the writer did since this ledger was opened.
    pub fn stats(&self) -> LedgerStats {
        let s = &self.inner.stats;
        LedgerStats {
            group_commits: s.group_commits.load(Ordering::Relaxed),
            check_nanos: s.check_nanos.load(Ordering::Relaxed),
            write_nanos: s.write_nanos.load(Ordering::Relaxed),
            commit_nanos: s.commit_nanos.load(Ordering::Relaxed),
            requests: s.requests.load(Ordering::Relaxed),
            append_nanos: s.append_nanos.load(Ordering::Relaxed),
            lost_races: s.lost_races.load(Ordering::Relaxed),
            retries_exhausted: s.retries_exhausted.load(Ordering::Relaxed),
            followed_events: s.followed_events.load(Ordering::Relaxed),
        }
    }

    /// The store's reader.
    pub fn reader(&self) -> &Arc<dyn LogReader> {
        &self.inner.reader
    }

    /// Up to `limit` events after `after`.
    pub fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.reader.read(after, limit)
    }

    /// Verifies the whole stored chain.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        verify_with_progress(self.inner.reader.as_ref(), progress)
    }

    /// Stops accepting appends, finishes those already queued, and waits for
    /// the writer to stop.
    pub fn close(&self) {
        self.inner.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.inner.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.sender.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.thread.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn closed_store() -> StoreError {
    StoreError::Io("the ledger is closed".into())
}

pub use snapshot::{SNAPSHOT_FILE, SnapshotError};

#[cfg(test)]
mod tests;
