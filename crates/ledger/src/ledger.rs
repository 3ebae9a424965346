//! The append path: the validation state and the store's writer sit in one
//! `Core`, run by one thread at a time — the writer thread, or a blocking
//! caller that finds it idle (`Ledger::append_blocking`). Every append —
//! HTTP, GraphQL, CLI, import — goes through it, so each event is checked by
//! the domain's rules against exactly the state it is appended to, and the
//! chain stays one total order.
//!
//! Group commit: while the store makes one transaction durable, further
//! requests queue up; the writer takes all that are waiting, checks each
//! request on its own (one bad request does not sink its neighbours),
//! writes the accepted ones in one transaction and acknowledges them all
//! after one fsync. The checks come first, while the callers still prepare
//! the seals (see `Preparation`); sealing and writing follow, chunk by chunk.
//! A blocking caller that commits a large group itself has the idle writer
//! thread check it while it writes the group ahead (`CheckJob`), and writes
//! again in the rare case that the check does not accept it as written.
//!
//! Shared stores: several ledgers (server replicas) may write one store.
//! Each appends with the head its state was checked against as the expected
//! head; the store refuses the transaction with `StoreError::Conflict` when
//! another writer appended first. The writer then catches up (folds the
//! other writers' events into its state), checks every request of the group
//! again and retries, a bounded number of times ([`RetryPolicy`]). The state
//! keeps a group's events only once the store has committed them: a lost
//! race or a failed commit drops the group's `Txn`, which puts the state back
//! as it was. Between appends, a replica follows the others with
//! [`Ledger::catch_up`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use govledger_domain::{Capacity, Detached, ErrorCode, Rejection, State, Submission, Timestamp, Txn};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::backend::{LogReader, LogWriter, StoreError, TransactionLimit};
use crate::event::{Encoded, Head, StoredEvent, sha256_hex};
use crate::seal::Presealed;
use crate::verify::{VerifyReport, verify_with_progress};

mod room;
use room::Room;

/// Most events in one group commit; a larger queue is split.
const MAX_GROUP_EVENTS: usize = 8_192;
/// Events written to the store per call during an import.
const IMPORT_CHUNK: usize = 1_024;
/// Batches from this size on are handed over before they are prepared, so
/// that two threads prepare them (see `Preparation`); smaller ones are
/// prepared by the caller alone, so that many small requests do not load
/// the single writer.
const SHARED_PREPARE_MIN: usize = 64;
/// Events per chunk of a batch's preparation.
const PREPARE_CHUNK: usize = 16;

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
/// another writer of a shared store is checked again and retried.
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
    /// writers that lost the same race do not retry in lockstep.
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
    /// Group commits written ahead of their check: a caller committed them
    /// while the idle writer thread checked (see [`Ledger::append_blocking`]).
    /// Their check and write overlap, so their phases add up to more than
    /// the time they took.
    pub written_ahead: u64,
    /// Groups written ahead of their check that the check did not accept as
    /// written (a refused request, a retry of a stored event), or that could
    /// not be written ahead: rolled back, and the accepted requests written
    /// again.
    pub rewritten: u64,
    /// Group commits or imports that lost the race to another writer and
    /// were checked again after catching up.
    pub lost_races: u64,
    /// Groups whose every retry lost; their requests were answered "retry".
    pub retries_exhausted: u64,
    /// Events other writers appended that this ledger folded in.
    pub followed_events: u64,
}

#[derive(Default)]
struct StatCounters {
    group_commits: AtomicU64,
    check_nanos: AtomicU64,
    write_nanos: AtomicU64,
    commit_nanos: AtomicU64,
    written_ahead: AtomicU64,
    rewritten: AtomicU64,
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
    /// A copy of the state at the head, if it holds only committed events.
    Snapshot {
        reply: oneshot::Sender<Option<(State, Head)>>,
    },
}

/// A ledger over a store. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    sender: Mutex<Option<Sender<Command>>>,
    core: Arc<Mutex<Core>>,
    doorbell: Arc<Doorbell>,
    reader: Arc<dyn LogReader>,
    head: watch::Receiver<Head>,
    stats: Arc<StatCounters>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Ledger {
    /// Opens a ledger: folds the stored log into the validation state and
    /// starts the writer.
    pub fn open(writer: Box<dyn LogWriter>, reader: Arc<dyn LogReader>) -> Result<Self, StoreError> {
        Self::open_with(writer, reader, LedgerOptions::default())
    }

    /// Opens a ledger whose `recorded_at` comes from `clock` (tests use a
    /// fixed clock; `recorded_at` never goes backwards whatever the clock says).
    pub fn open_with_clock(
        writer: Box<dyn LogWriter>,
        reader: Arc<dyn LogReader>,
        clock: Clock,
    ) -> Result<Self, StoreError> {
        Self::open_with(writer, reader, LedgerOptions { clock, ..LedgerOptions::default() })
    }

    /// Opens a ledger with explicit options.
    pub fn open_with(
        writer: Box<dyn LogWriter>,
        reader: Arc<dyn LogReader>,
        options: LedgerOptions,
    ) -> Result<Self, StoreError> {
        let (state, head) = load_state(reader.as_ref(), options.snapshot.as_deref())?;
        let (head_tx, head_rx) = watch::channel(head.clone());
        let (sender, receiver) = mpsc::channel();
        let last_recorded = Timestamp::parse(&head.recorded_at).ok();
        let stats = Arc::new(StatCounters::default());
        let worker = Writer {
            limit: writer.transaction_limit(),
            stats: stats.clone(),
            state: Arc::new(Mutex::new(state)),
            writer,
            head,
            head_tx,
            clock: options.clock,
            retry: options.retry,
            last_recorded,
            reader: reader.clone(),
        };
        let core = Arc::new(Mutex::new(Core { writer: worker, receiver, next: None }));
        let doorbell = Arc::new(Doorbell::default());
        let thread = {
            let (core, doorbell) = (core.clone(), doorbell.clone());
            std::thread::Builder::new()
                .name("govledger-writer".into())
                .spawn(move || serve(&core, &doorbell))
                .map_err(|e| StoreError::Io(format!("cannot start the writer thread: {e}")))?
        };
        Ok(Ledger {
            inner: Arc::new(Inner {
                sender: Mutex::new(Some(sender)),
                core,
                doorbell,
                reader,
                head: head_rx,
                stats,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Queues a command for the writer thread.
    fn send(&self, cmd: Command) -> bool {
        let sent = self.queue(cmd);
        if sent {
            self.inner.doorbell.ring();
        }
        sent
    }

    /// Queues a command without waking the writer thread.
    fn queue(&self, cmd: Command) -> bool {
        let guard = self.inner.sender.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().is_some_and(|s| s.send(cmd).is_ok())
    }

    /// Queues `batch` for the writer without waking it, prepared already
    /// when it is small (see `Preparation`); `None` when the ledger is closed.
    fn hand_over(&self, batch: Vec<Submission>, capacity: Capacity, reply: AppendReply) -> Option<Arc<Preparation>> {
        let preparation = Arc::new(Preparation::new(batch));
        if preparation.len() < SHARED_PREPARE_MIN {
            preparation.work();
        }
        self.queue(Command::Append { batch: preparation.clone(), capacity, reply }).then_some(preparation)
    }

    /// Hands `batch` over to the writer thread and helps prepare it.
    fn send_batch(&self, batch: Vec<Submission>, capacity: Capacity, reply: AppendReply) -> bool {
        let Some(preparation) = self.hand_over(batch, capacity, reply) else { return false };
        self.inner.doorbell.ring();
        // For a shared batch: this thread and, once it takes the request, the writer.
        preparation.work();
        true
    }

    /// Appends a batch atomically: all events are stored, or none. The
    /// actors use every ledger role they hold (the operator's capacity).
    pub async fn append(&self, batch: Vec<Submission>) -> Result<Vec<Appended>, AppendError> {
        self.append_as(batch, Capacity::FULL).await
    }

    /// [`Ledger::append`] with the actors limited to `capacity`: the ledger
    /// roles their credential allows (SPEC 4).
    pub async fn append_as(&self, batch: Vec<Submission>, capacity: Capacity) -> Result<Vec<Appended>, AppendError> {
        if batch.is_empty() {
            return Err(AppendError::Rejected {
                index: 0,
                rejection: Rejection::new(ErrorCode::BatchEmpty, "the batch holds no event"),
            });
        }
        let (reply, rx) = oneshot::channel();
        if !self.send_batch(batch, capacity, reply) {
            return Err(AppendError::Closed);
        }
        rx.await.unwrap_or(Err(AppendError::Closed))
    }

    /// [`Ledger::append`] for callers outside an async runtime. When
    /// nobody is committing, the request is committed on this thread (see
    /// `Core`), which spares two thread hand-offs.
    pub fn append_blocking(&self, batch: Vec<Submission>) -> Result<Vec<Appended>, AppendError> {
        if batch.is_empty() {
            return Err(AppendError::Rejected {
                index: 0,
                rejection: Rejection::new(ErrorCode::BatchEmpty, "the batch holds no event"),
            });
        }
        let (reply, mut rx) = oneshot::channel();
        let Some(preparation) = self.hand_over(batch, Capacity::FULL, reply) else {
            return Err(AppendError::Closed);
        };
        let core = match self.inner.core.try_lock() {
            Ok(core) => Some(core),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        let Some(mut core) = core else {
            // Someone is committing: the writer thread takes it from here.
            self.inner.doorbell.ring();
            preparation.work();
            return rx.blocking_recv().unwrap_or(Err(AppendError::Closed));
        };
        // Nobody is committing: this thread commits its request itself (with
        // whatever else is queued), sparing the two thread hand-offs, while
        // the idle writer thread checks a large group and helps prepare it.
        // Every other request queued meanwhile was rung for by its caller,
        // who found the writer held.
        let mut outcome = None;
        while outcome.is_none() && core.run_one(Some(&self.inner.doorbell)) {
            outcome = rx.try_recv().ok();
        }
        drop(core);
        outcome.unwrap_or_else(|| rx.blocking_recv().unwrap_or(Err(AppendError::Closed)))
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

    /// Folds in the events other writers of a shared store (server replicas)
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
            written_ahead: s.written_ahead.load(Ordering::Relaxed),
            rewritten: s.rewritten.load(Ordering::Relaxed),
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
        self.inner.doorbell.ring_with(|bell| bell.closed = true);
        if let Some(t) = self.inner.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.sender.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        self.doorbell.ring_with(|bell| bell.closed = true);
        if let Some(t) = self.thread.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// A batch being prepared off the chain's sequential path (see `seal`), in
/// chunks, by two threads, so that both cores work on it without a thread
/// of its own (starting one per batch cost as much as it saved at 64
/// events): the caller and the writer thread, or, when a blocking caller
/// commits its batch itself (see [`Ledger::append_blocking`]), the writer
/// thread and that caller.
///
/// The committing thread (the writer) checks the rules on the submissions
/// while the other prepares (they do not need the preparation), then seals
/// and writes the batch chunk by chunk, each as soon as it is ready. (A
/// blocking caller's group is written ahead of its check instead: the
/// writer thread checks it first and then helps; see `CheckJob`.) The
/// helper claims chunks from the front, in the order the writer needs them;
/// while the chunk the writer needs next is still being prepared, the
/// writer prepares one from the back, and it prepares itself any chunk
/// nobody has got to. A chunk's mutex is held while it is prepared; a chunk
/// whose preparer panicked is prepared again.
struct Preparation {
    subs: Vec<Submission>,
    /// The events' ids: the client's, or a server-assigned UUIDv7.
    ids: Vec<Uuid>,
    /// The chunks nobody has claimed: `front..back`.
    unclaimed: Mutex<(usize, usize)>,
    /// Chunk `c` holds the preparation of `subs[c * PREPARE_CHUNK..]`, up to
    /// `PREPARE_CHUNK` of them; `None` until it is prepared.
    chunks: Vec<Mutex<Option<Vec<Presealed>>>>,
}

impl Preparation {
    fn new(subs: Vec<Submission>) -> Self {
        let n = subs.len().div_ceil(PREPARE_CHUNK);
        let chunks = (0..n).map(|_| Mutex::new(None)).collect();
        let ids = subs.iter().map(event_id).collect();
        Preparation { subs, ids, unclaimed: Mutex::new((0, n)), chunks }
    }

    /// Events in the batch.
    fn len(&self) -> usize {
        self.subs.len()
    }

    /// The submissions of chunk `c`.
    fn chunk_subs(&self, c: usize) -> &[Submission] {
        let start = c * PREPARE_CHUNK;
        &self.subs[start..self.subs.len().min(start + PREPARE_CHUNK)]
    }

    /// Prepares chunk `c` unless that is done.
    fn prepare(&self, c: usize, chunk: &mut Option<Vec<Presealed>>) {
        if chunk.is_none() {
            let start = c * PREPARE_CHUNK;
            let ids = self.ids.get(start..).unwrap_or_default();
            *chunk = Some(self.chunk_subs(c).iter().zip(ids).map(|(sub, id)| Presealed::new(sub, *id)).collect());
        }
    }

    fn prepare_chunk(&self, c: usize) {
        if let Some(chunk) = self.chunks.get(c) {
            self.prepare(c, &mut chunk.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    fn unclaimed(&self) -> std::sync::MutexGuard<'_, (usize, usize)> {
        self.unclaimed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims the first chunk nobody has claimed.
    fn claim_front(&self) -> Option<usize> {
        let mut u = self.unclaimed();
        (u.0 < u.1).then(|| {
            u.0 += 1;
            u.0 - 1
        })
    }

    /// Claims the last chunk nobody has claimed.
    fn claim_back(&self) -> Option<usize> {
        let mut u = self.unclaimed();
        (u.0 < u.1).then(|| {
            u.1 -= 1;
            u.1
        })
    }

    /// Prepares the chunks that nobody has claimed yet, from the front.
    fn work(&self) {
        while let Some(c) = self.claim_front() {
            self.prepare_chunk(c);
        }
    }

    /// Runs `f` on chunk `c`'s submissions and their preparation (the
    /// writer, taking the chunks in order). While another thread prepares
    /// chunk `c`, prepares chunks from the back; then waits for it.
    fn with_chunk<R>(&self, c: usize, f: impl FnOnce(&[Submission], &[Presealed]) -> R) -> R {
        {
            // Needed now: whoever claims from the front starts after it.
            let mut u = self.unclaimed();
            if c < u.1 {
                u.0 = u.0.max(c + 1);
            }
        }
        let mut chunk = loop {
            match self.chunks[c].try_lock() {
                Ok(chunk) => break chunk,
                Err(TryLockError::Poisoned(e)) => break e.into_inner(),
                Err(TryLockError::WouldBlock) => match self.claim_back() {
                    Some(b) => self.prepare_chunk(b),
                    None => break self.chunks[c].lock().unwrap_or_else(|e| e.into_inner()),
                },
            }
        };
        self.prepare(c, &mut chunk);
        f(self.chunk_subs(c), chunk.as_deref().unwrap_or_default())
    }
}

/// Seals `sub` at `seq` as the event after `head`, and moves `head` to it.
fn seal_next(presealed: &Presealed, sub: &Submission, seq: u64, recorded: &Recorded, head: &mut Head) -> Encoded {
    let encoded = presealed.seal(sub, seq, &recorded.text, &head.hash);
    head.seq = seq;
    head.hash.clone_from(&encoded.event.hash);
    encoded
}

/// An event's id: the client's, or a server-assigned UUIDv7 (SPEC 2.1).
fn event_id(sub: &Submission) -> Uuid {
    sub.id.unwrap_or_else(Uuid::now_v7)
}

fn closed_store() -> StoreError {
    StoreError::Io("the ledger is closed".into())
}

/// The state at the store's head: from the snapshot at `snapshot` if there
/// is a usable one, plus the events after it.
fn load_state(reader: &dyn LogReader, snapshot: Option<&std::path::Path>) -> Result<(State, Head), StoreError> {
    let loaded = match snapshot {
        Some(path) => snapshot::load(path, reader)?,
        None => None,
    };
    let (mut state, mut head) = loaded.unwrap_or_else(|| (State::new(), Head::genesis()));
    let from = head.seq;
    // Opening trusts the store's bytes (`verify` checks them); a follower
    // checks what other writers appended.
    let folded = fold_from(reader, &mut state, &mut head, false)?;
    // `snapshot_seq` 0: no usable snapshot, the whole log was folded.
    tracing::info!(snapshot_seq = from, folded, head_seq = head.seq, "opened the ledger");
    Ok((state, head))
}

/// Folds every stored event after `head` into `state` and moves `head` to
/// the last of them; returns how many were folded. With `check_chain`, each
/// event must sit at the next seq, link to the one before and hash to its
/// stored hash (what a replica checks of events another writer appended).
/// On an error, `state` and `head` still agree (on the events folded so far).
fn fold_from(reader: &dyn LogReader, state: &mut State, head: &mut Head, check_chain: bool) -> Result<u64, StoreError> {
    let mut failure = None;
    let mut folded = 0;
    // The head of the last event read; `head` follows it at each flush.
    let mut tip = head.clone();
    // Folding in chunks keeps few decoded events in memory.
    let mut pending: Vec<StoredEvent> = Vec::with_capacity(IMPORT_CHUNK);
    let flush = |state: &mut State, events: &mut Vec<StoredEvent>| -> Result<u64, StoreError> {
        let mut t = state.begin();
        for e in events.iter() {
            let sub = e.submission().map_err(|r| StoreError::Corrupt { seq: e.seq, reason: r.to_string() })?;
            t.replay(e.id, &sub);
        }
        t.commit();
        let n = events.len() as u64;
        events.clear();
        Ok(n)
    };
    reader.scan_raw(head.seq, &mut |row| {
        let event = StoredEvent::from_body(row.body, row.hash)
            .map_err(|e| StoreError::Corrupt { seq: row.seq, reason: e.to_string() })
            .and_then(|e| {
                if !check_chain {
                    return Ok(e);
                }
                let corrupt = |reason: String| Err(StoreError::Corrupt { seq: row.seq, reason });
                if e.seq != tip.seq + 1 || row.seq != e.seq {
                    corrupt(format!("expected the event at seq {}, found seq {}", tip.seq + 1, e.seq))
                } else if e.prev_hash != tip.hash {
                    corrupt(format!("prev_hash {} does not link to the event before ({})", e.prev_hash, tip.hash))
                } else if sha256_hex(row.body) != row.hash {
                    corrupt("the stored bytes do not hash to the stored hash".into())
                } else {
                    Ok(e)
                }
            });
        match event {
            Ok(e) => {
                tip = Head { seq: e.seq, hash: e.hash.clone(), recorded_at: e.recorded_at.clone() };
                pending.push(e);
                if pending.len() >= IMPORT_CHUNK {
                    match flush(state, &mut pending) {
                        Ok(n) => {
                            folded += n;
                            *head = tip.clone();
                        }
                        Err(err) => {
                            failure = Some(err);
                            return false;
                        }
                    }
                }
                true
            }
            Err(err) => {
                failure = Some(err);
                false
            }
        }
    })?;
    match failure {
        // The events before a bad one are good: keep them.
        Some(err) => {
            let good =
                pending.last().map(|e| Head { seq: e.seq, hash: e.hash.clone(), recorded_at: e.recorded_at.clone() });
            if let Some(good) = good
                && flush(state, &mut pending).is_ok()
            {
                *head = good;
            }
            Err(err)
        }
        None => {
            folded += flush(state, &mut pending)?;
            *head = tip;
            Ok(folded)
        }
    }
}

/// A number in `[0, 1)` that differs between writers and attempts.
fn jitter() -> f64 {
    // The low 62 bits of a v4 UUID are random; take 53 of them.
    (Uuid::new_v4().as_u128() as u64 & ((1 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

struct Writer {
    /// Shared with a check running on the writer thread for a committing
    /// caller (`CheckJob`); only whoever holds the `Core` uses it otherwise.
    state: Arc<Mutex<State>>,
    writer: Box<dyn LogWriter>,
    reader: Arc<dyn LogReader>,
    /// The head of the store as far as `state` knows it.
    head: Head,
    head_tx: watch::Sender<Head>,
    clock: Clock,
    retry: RetryPolicy,
    last_recorded: Option<Timestamp>,
    stats: Arc<StatCounters>,
    /// The store's largest transaction, if it has one.
    limit: Option<TransactionLimit>,
}

/// What checking one submission gave: its place in the request's reply.
enum Slot {
    /// A new event, admitted at `seq` with `id`; sealed and written after
    /// the whole group is checked, and moved into the reply once stored.
    New { seq: u64, id: Uuid },
    /// An idempotent retry of a stored event.
    Replayed(StoredEvent),
    /// An idempotent retry of an event new in the same group commit.
    ReplayedNew(Uuid),
}

/// Whether two submissions of one client id have the same content, as
/// [`StoredEvent::same_content`] compares a stored event with a submission.
fn same_content(first: &Submission, again: &Submission) -> bool {
    first.actor == again.actor
        && first.occurred_at == again.occurred_at
        && first.payload.event_type() == again.payload.event_type()
        && first.payload.to_json() == again.payload.to_json()
}

/// An accepted request: its outcome's index, its batch's index in the
/// group, its slots and, once sealed, its new events in order.
struct Accepted {
    outcome: usize,
    batch: usize,
    slots: Vec<Slot>,
    sealed: Vec<Encoded>,
}

/// What checking a group gave: each request's outcome (an accepted one's is
/// filled once it is stored), the accepted requests, and whether any of
/// them holds a new event.
struct Checked {
    outcomes: Outcomes,
    accepted: Vec<Accepted>,
    anything_new: bool,
}

/// Checks every request of a group on its own, within `txn`, against the
/// state including the group's earlier accepted requests; a refused request
/// leaves no trace in `txn`. `stored` looks up events in the store.
fn check_group(
    txn: &mut Txn<'_>,
    batches: &[(Arc<Preparation>, Capacity)],
    recorded_at: Timestamp,
    stored: &mut dyn FnMut(&Uuid) -> Result<Option<StoredEvent>, StoreError>,
) -> Checked {
    // Client ids new in this group: the store cannot show them yet.
    let mut unwritten: HashMap<Uuid, &Submission> = HashMap::new();
    let mut checked =
        Checked { outcomes: Vec::with_capacity(batches.len()), accepted: Vec::new(), anything_new: false };
    for (b, (batch, capacity)) in batches.iter().enumerate() {
        let before = txn.savepoint();
        let mut slots: Vec<Slot> = Vec::with_capacity(batch.len());
        let mut new_ids: Vec<Uuid> = Vec::new();
        let mut failure = None;
        for (index, (sub, &id)) in batch.subs.iter().zip(&batch.ids).enumerate() {
            let earlier = |id: &Uuid, sub: &Submission| unwritten.get(id).map(|first| same_content(first, sub));
            match Writer::check(txn, stored, earlier, sub, id, recorded_at, *capacity) {
                Ok(slot) => {
                    if let Slot::New { id, .. } = slot {
                        new_ids.push(id);
                        // Only a client's id can be sent again within the
                        // group; a server-assigned one is not known yet.
                        if sub.id.is_some() {
                            unwritten.insert(id, sub);
                        }
                    }
                    slots.push(slot);
                }
                Err(Failure::Rejected(rejection)) => {
                    failure = Some(AppendError::Rejected { index, rejection });
                    break;
                }
                Err(Failure::Store(e)) => {
                    failure = Some(AppendError::Store(e));
                    break;
                }
            }
        }
        match failure {
            Some(err) => {
                for id in &new_ids {
                    unwritten.remove(id);
                }
                // Undo this request's earlier events (a rejected event
                // itself leaves no trace); the group's others stay.
                txn.rollback_to(before);
                checked.outcomes.push(Err(err));
            }
            None => {
                checked.anything_new |= !new_ids.is_empty();
                let outcome = checked.outcomes.len();
                checked.accepted.push(Accepted { outcome, batch: b, slots, sealed: Vec::new() });
                checked.outcomes.push(Ok(Vec::new())); // filled by `fill_outcomes`
            }
        }
    }
    checked
}

/// Whether a group written ahead of its check (every request accepted, every
/// event new) is what the check accepted.
fn written_as_checked(written: &[Accepted], accepted: &[Accepted]) -> bool {
    written.len() == accepted.len()
        && written.iter().zip(accepted).all(|(w, a)| {
            w.outcome == a.outcome
                && w.slots.len() == a.slots.len()
                && w.slots.iter().zip(&a.slots).all(|(w, a)| match (w, a) {
                    (Slot::New { seq, id }, Slot::New { seq: s, id: i }) => seq == s && id == i,
                    _ => false,
                })
        })
}

/// A group's check, offered to the idle writer thread while a committing
/// caller writes the group ahead of it (see `Writer::attempt_group`).
/// Whoever claims it first runs it: the writer thread, or the committing
/// thread itself once it has written and nobody has.
struct CheckJob {
    batches: Vec<(Arc<Preparation>, Capacity)>,
    recorded_at: Timestamp,
    state: Arc<Mutex<State>>,
    reader: Arc<dyn LogReader>,
    progress: Mutex<JobProgress>,
    done: Condvar,
}

enum JobProgress {
    Offered,
    Running,
    /// The check, its change to the state set aside, and how long it took.
    Done(Box<(Checked, Detached, Duration)>),
    Taken,
}

impl CheckJob {
    fn new(
        batches: &[(Arc<Preparation>, Capacity)],
        recorded_at: Timestamp,
        state: Arc<Mutex<State>>,
        reader: Arc<dyn LogReader>,
    ) -> Self {
        CheckJob {
            batches: batches.to_vec(),
            recorded_at,
            state,
            reader,
            progress: Mutex::new(JobProgress::Offered),
            done: Condvar::new(),
        }
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, JobProgress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the check unless someone has claimed it. Should it panic, the
    /// job is offered again (its `Txn` undid what it had done).
    fn run(&self) {
        {
            let mut progress = self.progress();
            if !matches!(*progress, JobProgress::Offered) {
                return;
            }
            *progress = JobProgress::Running;
        }
        struct Reoffer<'a>(&'a CheckJob);
        impl Drop for Reoffer<'_> {
            fn drop(&mut self) {
                let mut progress = self.0.progress();
                if matches!(*progress, JobProgress::Running) {
                    *progress = JobProgress::Offered;
                }
                self.0.done.notify_all();
            }
        }
        let _reoffer = Reoffer(self);
        let started = Instant::now();
        let mut state = lock_state(&self.state);
        let mut txn = state.begin();
        let checked = check_group(&mut txn, &self.batches, self.recorded_at, &mut |id| self.reader.by_id(id));
        let change = txn.detach();
        drop(state);
        *self.progress() = JobProgress::Done(Box::new((checked, change, started.elapsed())));
    }

    /// The check's outcome, once it has run (here, if nobody has claimed it).
    fn wait_or_run(&self) -> (Checked, Detached, Duration) {
        loop {
            let mut progress = self.progress();
            while matches!(*progress, JobProgress::Running) {
                progress = self.done.wait(progress).unwrap_or_else(|e| e.into_inner());
            }
            match std::mem::replace(&mut *progress, JobProgress::Taken) {
                JobProgress::Done(done) => return *done,
                _ => {
                    *progress = JobProgress::Offered;
                    drop(progress);
                    self.run();
                }
            }
        }
    }

    /// Helps prepare the group's batches (after the check).
    fn help_prepare(&self) {
        for (batch, _) in &self.batches {
            batch.work();
        }
    }
}

fn lock_state(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fills the replies of accepted requests, moving each sealed event into its
/// place.
fn fill_outcomes(outcomes: &mut Outcomes, accepted: Vec<Accepted>) {
    // Retries of events new in this group get a copy of the event.
    let wanted: HashSet<Uuid> = accepted
        .iter()
        .flat_map(|a| &a.slots)
        .filter_map(|slot| match slot {
            Slot::ReplayedNew(id) => Some(*id),
            _ => None,
        })
        .collect();
    let copies: HashMap<Uuid, StoredEvent> = accepted
        .iter()
        .flat_map(|a| &a.sealed)
        .filter(|e| wanted.contains(&e.event.id))
        .map(|e| (e.event.id, e.event.clone()))
        .collect();
    for Accepted { outcome, slots, sealed, .. } in accepted {
        let mut new_events = sealed.into_iter().map(|e| e.event);
        let appended = slots
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::New { .. } => new_events.next().map(|event| Appended { event, replayed: false }),
                Slot::Replayed(event) => Some(Appended { event, replayed: true }),
                Slot::ReplayedNew(id) => copies.get(&id).map(|e| Appended { event: e.clone(), replayed: true }),
            })
            .collect();
        if let Some(o) = outcomes.get_mut(outcome) {
            *o = Ok(appended);
        }
    }
}

enum Failure {
    Rejected(Rejection),
    Store(StoreError),
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Self {
        Failure::Rejected(r)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// A group's `recorded_at`, and its RFC 3339 text, written once per group.
struct Recorded {
    at: Timestamp,
    text: String,
}

impl Recorded {
    fn new(at: Timestamp) -> Self {
        Recorded { at, text: at.to_rfc3339() }
    }
}

/// The writer and its queue. Whoever holds it runs the queued commands: the
/// writer thread when the doorbell rings, or a blocking caller that found it
/// free (see [`Ledger::append_blocking`]).
struct Core {
    writer: Writer,
    receiver: Receiver<Command>,
    /// A command taken off the queue that did not belong to the group before it.
    next: Option<Command>,
}

impl Core {
    fn take(&mut self) -> Option<Command> {
        self.next.take().or_else(|| self.receiver.try_recv().ok())
    }

    /// Whether a command is queued.
    #[cfg(test)]
    fn has_queued(&mut self) -> bool {
        if self.next.is_none() {
            self.next = self.receiver.try_recv().ok();
        }
        self.next.is_some()
    }

    /// Runs the next queued command, with the appends queued behind an
    /// append as one group commit; false when nothing is queued.
    fn run_one(&mut self, helper: Option<&Doorbell>) -> bool {
        let Some(cmd) = self.take() else { return false };
        match cmd {
            Command::Append { batch, capacity, reply } => {
                let mut events = batch.len();
                let mut group = vec![(batch, capacity, reply)];
                while events < MAX_GROUP_EVENTS {
                    match self.take() {
                        Some(Command::Append { batch, capacity, reply }) => {
                            events += batch.len();
                            group.push((batch, capacity, reply));
                        }
                        Some(other) => {
                            self.next = Some(other);
                            break;
                        }
                        None => break,
                    }
                }
                self.writer.commit_group(group, helper);
            }
            Command::Import { source, progress, reply } => {
                let _ = reply.send(self.writer.import(source, progress));
            }
            Command::CatchUp { reply } => {
                let _ = reply.send(self.writer.catch_up().map(|_| self.writer.head.clone()));
            }
            Command::Snapshot { reply } => {
                let _ = reply.send(snapshot::copy(&self.writer.state, &self.writer.head));
            }
        }
        true
    }
}

fn lock_core(core: &Mutex<Core>) -> std::sync::MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|e| e.into_inner())
}

/// How callers wake the writer thread: to run queued commands, to help
/// prepare a batch that a blocking caller is committing itself, or to stop.
#[derive(Default)]
struct Doorbell {
    bell: Mutex<Bell>,
    rung: Condvar,
}

#[derive(Default)]
struct Bell {
    queued: bool,
    checks: Vec<Arc<CheckJob>>,
    closed: bool,
}

impl Doorbell {
    fn ring_with(&self, f: impl FnOnce(&mut Bell)) {
        f(&mut self.bell.lock().unwrap_or_else(|e| e.into_inner()));
        self.rung.notify_one();
    }

    fn ring(&self) {
        self.ring_with(|bell| bell.queued = true);
    }

    /// Waits until rung, and takes what it was rung for.
    fn wait(&self) -> Bell {
        let bell = self.bell.lock().unwrap_or_else(|e| e.into_inner());
        let mut bell = self
            .rung
            .wait_while(bell, |b| !b.queued && b.checks.is_empty() && !b.closed)
            .unwrap_or_else(|e| e.into_inner());
        Bell { queued: std::mem::take(&mut bell.queued), checks: std::mem::take(&mut bell.checks), closed: bell.closed }
    }
}

/// The writer thread: runs what is queued whenever the doorbell rings and
/// nobody else is running it, and helps prepare batches; after `close`, runs
/// what is left and stops.
fn serve(core: &Mutex<Core>, doorbell: &Doorbell) {
    loop {
        let Bell { queued, checks, closed } = doorbell.wait();
        for job in checks {
            job.run();
            job.help_prepare();
        }
        if queued || closed {
            let mut core = lock_core(core);
            while core.run_one(None) {}
        }
        if closed {
            return;
        }
    }
}

/// The answer to each request of a group, in order.
type Outcomes = Vec<Result<Vec<Appended>, AppendError>>;

/// Why an attempt at a group commit is not the answer.
enum Again {
    /// Another writer appended first (`Conflict`), or the store may or may
    /// not have kept the group (`Ambiguous`): catch up and check again.
    Lost(StoreError),
    /// The group does not fit in one store transaction: nothing was written.
    TooLarge(Room),
}

impl Writer {
    /// `recorded_at` for the next transaction: the clock, never going back.
    fn tick(&mut self) -> Timestamp {
        let now = (self.clock)();
        let t = match self.last_recorded {
            Some(last) if last > now => last,
            _ => now,
        };
        self.last_recorded = Some(t);
        t
    }

    /// Folds in what other writers appended after `self.head` (see
    /// [`Ledger::catch_up`]); returns how many events that was.
    fn catch_up(&mut self) -> Result<u64, StoreError> {
        let before = self.head.seq;
        let result = fold_from(self.reader.as_ref(), &mut lock_state(&self.state), &mut self.head, true);
        if self.head.seq != before {
            self.stats.followed_events.fetch_add(self.head.seq - before, Ordering::Relaxed);
            // Other writers' clocks count too: `recorded_at` stays monotonic
            // along the whole chain, whichever replica appends next.
            if let Ok(t) = Timestamp::parse(&self.head.recorded_at)
                && self.last_recorded.is_none_or(|last| last < t)
            {
                self.last_recorded = Some(t);
            }
            self.head_tx.send_replace(self.head.clone());
            tracing::debug!(from_seq = before, to_seq = self.head.seq, "caught up with other writers");
        }
        if let Err(e) = &result {
            tracing::error!(error = %e, seq = self.head.seq, "cannot follow the shared store");
        }
        result
    }

    /// Checks one submission within `txn`; a new event is folded in and
    /// given its seq and id (it is sealed later, in chain order). A client id
    /// already taken is an idempotent retry when the content is the same:
    /// `unwritten` says whether it is for the events of the transaction that
    /// the store cannot show yet (`None` for an id not among them), `stored`
    /// looks the others up in the store.
    fn check(
        txn: &mut Txn<'_>,
        stored: &mut dyn FnMut(&Uuid) -> Result<Option<StoredEvent>, StoreError>,
        unwritten: impl Fn(&Uuid, &Submission) -> Option<bool>,
        sub: &Submission,
        id: Uuid,
        recorded_at: Timestamp,
        capacity: Capacity,
    ) -> Result<Slot, Failure> {
        // By the event's id, the client's or the one the server assigned
        // (an attempt whose outcome was unknown may have stored it).
        if let Some(seq) = txn.seq_of(&id) {
            let conflict = || {
                Failure::Rejected(Rejection::at(
                    ErrorCode::IdConflict,
                    "id",
                    format!(
                        "event {id} is already stored (seq {seq}) with different content; use a new id for a new event"
                    ),
                ))
            };
            if let Some(same) = unwritten(&id, sub) {
                return if same { Ok(Slot::ReplayedNew(id)) } else { Err(conflict()) };
            }
            return match stored(&id)? {
                Some(e) if e.same_content(sub) => Ok(Slot::Replayed(e)),
                Some(_) => Err(conflict()),
                None => Err(Failure::Store(StoreError::Corrupt {
                    seq: 0,
                    reason: format!("event {id} is indexed but not stored"),
                })),
            };
        }
        let seq = txn.admit_as(id, sub, recorded_at, capacity)?;
        Ok(Slot::New { seq, id })
    }

    /// Checks and stores a group of requests; on a lost race, catches up and
    /// tries again (bounded by the retry policy). `helper`: the doorbell of
    /// an idle writer thread, when the committing thread is a caller (see
    /// [`Ledger::append_blocking`]).
    fn commit_group(&mut self, group: Vec<(Arc<Preparation>, Capacity, AppendReply)>, helper: Option<&Doorbell>) {
        let batches: Vec<(Arc<Preparation>, Capacity)> =
            group.iter().map(|(batch, capacity, _)| (batch.clone(), *capacity)).collect();
        let mut attempt = 1;
        // The head before the first attempt whose outcome was unknown.
        let mut unsure_since = None;
        let mut outcomes = loop {
            let recorded = Recorded::new(self.tick());
            let lost = match self.attempt_group(&batches, &recorded, helper) {
                Ok(outcomes) => break outcomes,
                Err(Again::TooLarge(room)) if group.len() > 1 => {
                    // Never split a request; a group of several is committed
                    // as two smaller groups, in order.
                    tracing::debug!(
                        requests = group.len(),
                        bytes = room.used(),
                        "group too large for one store transaction"
                    );
                    let mut group = group;
                    let second = group.split_off(group.len() / 2);
                    self.commit_group(group, helper);
                    self.commit_group(second, helper);
                    return;
                }
                Err(Again::TooLarge(room)) => {
                    break vec![Err(AppendError::Rejected { index: 0, rejection: room.refusal("the batch") })];
                }
                Err(Again::Lost(e)) => e,
            };
            let unknown = matches!(lost, StoreError::Ambiguous(_));
            if unknown {
                unsure_since.get_or_insert(self.head.seq);
                tracing::warn!(error = %lost, "the store did not say whether it kept a group commit; reading it back");
            } else {
                self.stats.lost_races.fetch_add(1, Ordering::Relaxed);
            }
            attempt += 1;
            let Some(pause) = self.retry.backoff(attempt, jitter()) else {
                if unknown {
                    break batches
                        .iter()
                        .map(|_| Err(AppendError::Store(StoreError::Ambiguous(lost.to_string()))))
                        .collect();
                }
                self.stats.retries_exhausted.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(attempts = attempt - 1, error = %lost, "group commit kept losing the race to other writers");
                let message = format!(
                    "{lost}; {} attempts lost the race to other writers of the shared store, nothing was stored: retry",
                    attempt - 1
                );
                break batches.iter().map(|_| Err(AppendError::Store(StoreError::Io(message.clone())))).collect();
            };
            tracing::debug!(attempt, error = %lost, pause_ms = pause.as_secs_f64() * 1e3, "lost a race; catching up");
            std::thread::sleep(pause);
            // Another writer appended first, or the store may have kept the
            // group: fold in what is stored, then check every request again
            // against the state that includes it (a request stored by the
            // unknown attempt is then found by its ids, with its stored seq
            // and hash).
            if let Err(e) = self.catch_up() {
                let error = if unknown {
                    StoreError::Ambiguous(format!("{lost}; reading the store back failed too: {e}"))
                } else {
                    StoreError::Io(format!("cannot catch up with the shared store: {e}; nothing was stored: retry"))
                };
                let message = error.to_string();
                break batches
                    .iter()
                    .map(|_| {
                        Err(AppendError::Store(match error {
                            StoreError::Ambiguous(_) => StoreError::Ambiguous(message.clone()),
                            _ => StoreError::Io(message.clone()),
                        }))
                    })
                    .collect();
            }
        };
        if let Some(since) = unsure_since {
            // Stored by an attempt of this very commit: new to the client.
            let ids: HashSet<Uuid> = batches.iter().flat_map(|(batch, _)| batch.ids.iter().copied()).collect();
            for appended in outcomes.iter_mut().flatten().flatten() {
                if appended.replayed && appended.event.seq > since && ids.contains(&appended.event.id) {
                    appended.replayed = false;
                }
            }
        }
        for ((_, _, reply), outcome) in group.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }

    /// One attempt at a group commit. The check: every request is checked
    /// on its own against the state including the group's earlier accepted
    /// requests, in one `Txn` that is kept only when the store has
    /// committed. The write: the accepted requests' new events are sealed in
    /// chain order and written chunk by chunk, each chunk as soon as its
    /// preparation is ready; then the transaction is committed.
    ///
    /// Normally the check comes first, while the callers still prepare the
    /// seals. When an idle writer thread can help (`helper`) and the group
    /// is large enough to share, the writer thread checks while this thread
    /// writes the whole group ahead of the check, as if every request were
    /// accepted with only new events; when the check says otherwise (a
    /// refusal, a retry of a stored event), the write is rolled back and the
    /// accepted requests are written again. `Err` when another writer
    /// appended first.
    fn attempt_group(
        &mut self,
        batches: &[(Arc<Preparation>, Capacity)],
        recorded: &Recorded,
        helper: Option<&Doorbell>,
    ) -> Result<Outcomes, Again> {
        let Writer { state, writer, reader, head: committed, head_tx, stats, limit, .. } = self;
        let started = Instant::now();
        let events: usize = batches.iter().map(|(batch, _)| batch.len()).sum();
        let beside = helper.filter(|_| events >= SHARED_PREPARE_MIN).map(|doorbell| {
            let job = Arc::new(CheckJob::new(batches, recorded.at, state.clone(), reader.clone()));
            doorbell.ring_with(|bell| bell.checks.push(job.clone()));
            let ahead = Self::write_ahead(writer.as_mut(), batches, committed, recorded, &mut Room::new(limit));
            let wrote = started.elapsed();
            let (checked, change, took) = job.wait_or_run();
            (ahead, wrote, checked, change, took)
        });
        let mut state = lock_state(state);
        let (txn, checked, ahead, check_time, mut write_time) = match beside {
            Some((ahead, wrote, checked, change, took)) => (state.resume(change), checked, Some(ahead), took, wrote),
            None => {
                let mut txn = state.begin();
                let checked = check_group(&mut txn, batches, recorded.at, &mut |id| writer.by_id(id));
                (txn, checked, None, started.elapsed(), Duration::ZERO)
            }
        };
        let Checked { mut outcomes, accepted, anything_new } = checked;
        // The group as written ahead, when that is what the check accepted.
        let ahead = match ahead {
            Some(Ok((written, head))) if written_as_checked(&written, &accepted) => Some((written, head)),
            Some(_) => {
                writer.rollback();
                stats.rewritten.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => None,
        };

        if !anything_new {
            // Nothing new to store: every request was refused or replayed. A
            // refusal must rest on the store's current state, and on a shared
            // store another writer may have appended what makes the request
            // valid (or moot), so check that the store has not moved.
            let refused = outcomes.iter().any(|o| matches!(o, Err(AppendError::Rejected { .. })));
            if refused {
                match reader.anchor() {
                    Ok(anchor) => {
                        let found = anchor.map_or(0, |a| a.seq);
                        if found != committed.seq {
                            return Err(Again::Lost(StoreError::Conflict { expected: committed.seq, found }));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read the store's head to confirm a refusal"),
                }
            }
            fill_outcomes(&mut outcomes, accepted);
            return Ok(outcomes);
        }
        let mut room = Room::new(limit);
        let (written, mut accepted, head) = match ahead {
            Some((written, head)) => {
                stats.written_ahead.fetch_add(1, Ordering::Relaxed);
                (Ok(()), written, head)
            }
            None => {
                let writing = Instant::now();
                let mut accepted = accepted;
                let mut head = committed.clone();
                head.recorded_at.clone_from(&recorded.text);
                let written = writer.begin(committed.seq).and_then(|()| {
                    accepted.iter_mut().try_for_each(|a| {
                        Self::seal_and_write(writer.as_mut(), &batches[a.batch].0, a, &mut head, recorded, &mut room)
                    })
                });
                write_time += writing.elapsed();
                (written, accepted, head)
            }
        };
        let committing = Instant::now();
        match written.and_then(|()| writer.commit(&head)) {
            Ok(()) => {
                stats.committed(check_time, write_time, committing.elapsed());
                txn.commit();
                *committed = head;
                head_tx.send_replace(committed.clone());
                fill_outcomes(&mut outcomes, std::mem::take(&mut accepted));
                Ok(outcomes)
            }
            Err(e) => {
                writer.rollback();
                // Dropping the `Txn` puts the state back as it was.
                drop(txn);
                if room.exceeded() {
                    return Err(Again::TooLarge(room));
                }
                if let StoreError::Conflict { .. } | StoreError::Ambiguous(_) = e {
                    return Err(Again::Lost(e));
                }
                tracing::error!(error = %e, "group commit failed; nothing of it was stored");
                let message = e.to_string();
                for o in outcomes.iter_mut().filter(|o| o.is_ok()) {
                    *o = Err(AppendError::Store(StoreError::Io(message.clone())));
                }
                Ok(outcomes)
            }
        }
    }

    /// Writes every event of the group into a new store transaction, as if
    /// every request were accepted with only new events (see
    /// [`Writer::attempt_group`]); returns them and the head after them.
    fn write_ahead(
        writer: &mut dyn LogWriter,
        batches: &[(Arc<Preparation>, Capacity)],
        committed: &Head,
        recorded: &Recorded,
        room: &mut Room,
    ) -> Result<(Vec<Accepted>, Head), StoreError> {
        let mut head = committed.clone();
        head.recorded_at.clone_from(&recorded.text);
        writer.begin(committed.seq)?;
        let mut seq = committed.seq;
        let mut written = Vec::with_capacity(batches.len());
        for (i, (batch, _)) in batches.iter().enumerate() {
            let slots = batch
                .ids
                .iter()
                .map(|&id| {
                    seq += 1;
                    Slot::New { seq, id }
                })
                .collect();
            let mut request = Accepted { outcome: i, batch: i, slots, sealed: Vec::new() };
            Self::seal_and_write(writer, batch, &mut request, &mut head, recorded, room)?;
            written.push(request);
        }
        Ok((written, head))
    }

    /// Seals an accepted request's new events (of `batch`) after `head`,
    /// moving it along, and writes them chunk by chunk as their preparations
    /// become ready. Fails, writing no more, when they do not fit in the
    /// `room` left in the store's transaction.
    fn seal_and_write(
        writer: &mut dyn LogWriter,
        batch: &Preparation,
        request: &mut Accepted,
        head: &mut Head,
        recorded: &Recorded,
        room: &mut Room,
    ) -> Result<(), StoreError> {
        let Accepted { slots, sealed, .. } = request;
        sealed.clear();
        for (c, chunk_slots) in slots.chunks(PREPARE_CHUNK).enumerate() {
            let start = sealed.len();
            batch.with_chunk(c, |subs, presealed| {
                for ((slot, sub), presealed) in chunk_slots.iter().zip(subs).zip(presealed) {
                    if let Slot::New { seq, id } = *slot {
                        debug_assert_eq!(id, presealed.id());
                        sealed.push(seal_next(presealed, sub, seq, recorded, head));
                    }
                }
            });
            if sealed.len() > start {
                room.take(&sealed[start..])?;
                writer.write(&sealed[start..])?;
            }
        }
        writer.end_request();
        Ok(())
    }

    fn import(
        &mut self,
        source: Box<dyn Iterator<Item = ImportItem> + Send>,
        mut progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<ImportSummary, ImportError> {
        // The source can be read only once, so a lost race is retried only
        // before the first event is read: at `begin`.
        let mut attempt = 1;
        loop {
            match self.writer.begin(self.head.seq) {
                Ok(()) => break,
                Err(e @ StoreError::Conflict { .. }) => {
                    self.stats.lost_races.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                    let Some(pause) = self.retry.backoff(attempt, jitter()) else {
                        return Err(ImportError::Store(e));
                    };
                    std::thread::sleep(pause);
                    self.catch_up()?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let recorded = Recorded::new(self.tick());
        let mut head = self.head.clone();
        let mut summary = ImportSummary::default();
        let mut chunk: Vec<Encoded> = Vec::with_capacity(IMPORT_CHUNK);
        // Client ids of the chunk not yet written: `writer.by_id` cannot see
        // them, and a retry of one of them later in the file must be found.
        let mut unwritten: HashMap<Uuid, StoredEvent> = HashMap::new();
        let mut room = Room::new(&self.limit);
        let mut state = lock_state(&self.state);
        let mut txn = state.begin();
        let result = (|| {
            for item in source {
                let (line, sub) = item?;
                let earlier = |id: &Uuid, sub: &Submission| unwritten.get(id).map(|e| e.same_content(sub));
                // The operator imports, with every role the actors hold.
                let id = event_id(&sub);
                match Self::check(
                    &mut txn,
                    &mut |id| self.writer.by_id(id),
                    earlier,
                    &sub,
                    id,
                    recorded.at,
                    Capacity::FULL,
                ) {
                    Ok(Slot::New { seq, id }) => {
                        let enc = seal_next(&Presealed::new(&sub, id), &sub, seq, &recorded, &mut head);
                        if room.take(std::slice::from_ref(&enc)).is_err() {
                            return Err(ImportError::Rejected { line, rejection: room.refusal("the import") });
                        }
                        if sub.id.is_some() {
                            unwritten.insert(id, enc.event.clone());
                        }
                        chunk.push(enc);
                        summary.appended += 1;
                    }
                    Ok(Slot::Replayed(_) | Slot::ReplayedNew(_)) => summary.replayed += 1,
                    Err(Failure::Rejected(rejection)) => return Err(ImportError::Rejected { line, rejection }),
                    Err(Failure::Store(e)) => return Err(ImportError::Store(e)),
                }
                // Written rows are visible to `writer.by_id` within the
                // transaction, so retries later in the file are recognised.
                if chunk.len() >= IMPORT_CHUNK {
                    self.writer.write(&chunk)?;
                    chunk.clear();
                    unwritten.clear();
                    progress(summary.appended + summary.replayed);
                }
            }
            self.writer.write(&chunk)?;
            progress(summary.appended + summary.replayed);
            if summary.appended > 0 {
                head.recorded_at.clone_from(&recorded.text);
                self.writer.commit(&head)?;
            } else {
                self.writer.rollback();
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                txn.commit();
                drop(state);
                self.head = head.clone();
                self.head_tx.send_replace(head.clone());
                summary.head = Some(head);
                Ok(summary)
            }
            Err(e) => {
                drop(txn);
                drop(state);
                self.writer.rollback();
                if let ImportError::Store(StoreError::Conflict { .. } | StoreError::Ambiguous(_)) = e {
                    // Another writer of a shared store appended during the
                    // import (nothing of it was stored), or the store may
                    // have kept it: follow the store so that a rerun is
                    // checked against what is there now (a rerun of the same
                    // file then finds its events stored, by their ids).
                    let _ = self.catch_up();
                }
                Err(e)
            }
        }
    }
}

mod snapshot;
pub use snapshot::{SNAPSHOT_FILE, SnapshotError};

#[cfg(test)]
mod tests;
