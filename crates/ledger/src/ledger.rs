//! The append path: one writer thread owns the validation state and the
//! store's writer. Every append — HTTP, GraphQL, CLI, import — goes through
//! it, so each event is checked by the domain's rules against exactly the
//! state it is appended to, and the chain stays one total order.
//!
//! Group commit: while the store makes one transaction durable, further
//! requests queue up; the writer takes all that are waiting, checks each
//! request on its own (one bad request does not sink its neighbours),
//! writes the accepted ones in one transaction and acknowledges them all
//! after one fsync.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use govledger_domain::{ErrorCode, Rejection, State, Submission, Timestamp, Txn};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::backend::{LogReader, LogWriter, StoreError};
use crate::event::{Encoded, Head, StoredEvent};
use crate::verify::{VerifyReport, verify_with_progress};

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

/// Where the writer sends an append's outcome.
type AppendReply = oneshot::Sender<Result<Vec<Appended>, AppendError>>;

enum Command {
    Append {
        batch: Vec<Submission>,
        reply: oneshot::Sender<Result<Vec<Appended>, AppendError>>,
    },
    Import {
        source: Box<dyn Iterator<Item = ImportItem> + Send>,
        progress: Box<dyn FnMut(u64) + Send>,
        reply: oneshot::Sender<Result<ImportSummary, ImportError>>,
    },
}

/// A ledger over a store. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    sender: Mutex<Option<Sender<Command>>>,
    reader: Arc<dyn LogReader>,
    head: watch::Receiver<Head>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Ledger {
    /// Opens a ledger: folds the stored log into the validation state and
    /// starts the writer.
    pub fn open(writer: Box<dyn LogWriter>, reader: Arc<dyn LogReader>) -> Result<Self, StoreError> {
        Self::open_with_clock(writer, reader, Arc::new(Timestamp::now))
    }

    /// Opens a ledger whose `recorded_at` comes from `clock` (tests use a
    /// fixed clock; `recorded_at` never goes backwards whatever the clock says).
    pub fn open_with_clock(
        writer: Box<dyn LogWriter>,
        reader: Arc<dyn LogReader>,
        clock: Clock,
    ) -> Result<Self, StoreError> {
        let (state, head) = load_state(reader.as_ref())?;
        let (head_tx, head_rx) = watch::channel(head.clone());
        let (sender, receiver) = mpsc::channel();
        let last_recorded = Timestamp::parse(&head.recorded_at).ok();
        let mut worker = Writer { state, writer, head, head_tx, clock, last_recorded, reader: reader.clone() };
        let thread = std::thread::Builder::new()
            .name("govledger-writer".into())
            .spawn(move || worker.run(receiver))
            .map_err(|e| StoreError::Io(format!("cannot start the writer thread: {e}")))?;
        Ok(Ledger {
            inner: Arc::new(Inner {
                sender: Mutex::new(Some(sender)),
                reader,
                head: head_rx,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    fn send(&self, cmd: Command) -> bool {
        let guard = self.inner.sender.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().is_some_and(|s| s.send(cmd).is_ok())
    }

    /// Appends a batch atomically: all events are stored, or none.
    pub async fn append(&self, batch: Vec<Submission>) -> Result<Vec<Appended>, AppendError> {
        if batch.is_empty() {
            return Err(AppendError::Rejected {
                index: 0,
                rejection: Rejection::new(ErrorCode::BatchEmpty, "the batch holds no event"),
            });
        }
        let (reply, rx) = oneshot::channel();
        if !self.send(Command::Append { batch, reply }) {
            return Err(AppendError::Closed);
        }
        rx.await.unwrap_or(Err(AppendError::Closed))
    }

    /// [`Ledger::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, batch: Vec<Submission>) -> Result<Vec<Appended>, AppendError> {
        if batch.is_empty() {
            return Err(AppendError::Rejected {
                index: 0,
                rejection: Rejection::new(ErrorCode::BatchEmpty, "the batch holds no event"),
            });
        }
        let (reply, rx) = oneshot::channel();
        if !self.send(Command::Append { batch, reply }) {
            return Err(AppendError::Closed);
        }
        rx.blocking_recv().unwrap_or(Err(AppendError::Closed))
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

    /// The current head.
    pub fn head(&self) -> Head {
        self.inner.head.borrow().clone()
    }

    /// A receiver that sees every new head (for followers and subscriptions).
    pub fn watch_head(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
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

/// Folds the whole stored log into a fresh validation state.
fn load_state(reader: &dyn LogReader) -> Result<(State, Head), StoreError> {
    let mut state = State::new();
    let mut head = Head::genesis();
    let mut failure = None;
    // Folding in chunks keeps each overlay small.
    let mut pending: Vec<StoredEvent> = Vec::with_capacity(IMPORT_CHUNK);
    let flush = |state: &mut State, events: &mut Vec<StoredEvent>| -> Result<(), StoreError> {
        let mut t = state.begin();
        for e in events.drain(..) {
            let sub = e.submission().map_err(|r| StoreError::Corrupt { seq: e.seq, reason: r.to_string() })?;
            t.replay(e.id, &sub);
        }
        t.commit();
        Ok(())
    };
    reader.scan_raw(0, &mut |row| match StoredEvent::from_body(row.body, row.hash) {
        Ok(e) => {
            head = Head { seq: e.seq, hash: e.hash.clone(), recorded_at: e.recorded_at.clone() };
            pending.push(e);
            if pending.len() >= IMPORT_CHUNK
                && let Err(err) = flush(&mut state, &mut pending)
            {
                failure = Some(err);
                return false;
            }
            true
        }
        Err(e) => {
            failure = Some(StoreError::Corrupt { seq: row.seq, reason: e.to_string() });
            false
        }
    })?;
    if let Some(err) = failure {
        return Err(err);
    }
    flush(&mut state, &mut pending)?;
    Ok((state, head))
}

struct Writer {
    state: State,
    writer: Box<dyn LogWriter>,
    reader: Arc<dyn LogReader>,
    head: Head,
    head_tx: watch::Sender<Head>,
    clock: Clock,
    last_recorded: Option<Timestamp>,
}

/// What checking one submission gave.
enum Admitted {
    New(Encoded),
    Replayed(StoredEvent),
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

impl Writer {
    fn run(&mut self, receiver: Receiver<Command>) {
        let mut next: Option<Command> = None;
        loop {
            let cmd = match next.take() {
                Some(cmd) => cmd,
                None => match receiver.recv() {
                    Ok(cmd) => cmd,
                    Err(_) => return, // every sender is gone: shut down
                },
            };
            match cmd {
                Command::Append { batch, reply } => {
                    let mut events = batch.len();
                    let mut group = vec![(batch, reply)];
                    while events < MAX_GROUP_EVENTS {
                        match receiver.try_recv() {
                            Ok(Command::Append { batch, reply }) => {
                                events += batch.len();
                                group.push((batch, reply));
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                        }
                    }
                    self.commit_group(group);
                }
                Command::Import { source, progress, reply } => {
                    let _ = reply.send(self.import(source, progress));
                }
            }
        }
    }

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

    /// Checks one submission within `txn`; on success it is folded in and sealed.
    fn admit(
        txn: &mut Txn<'_>,
        writer: &mut dyn LogWriter,
        unwritten: &HashMap<Uuid, StoredEvent>,
        head: &mut Head,
        sub: &Submission,
        recorded_at: Timestamp,
    ) -> Result<Admitted, Failure> {
        if let Some(id) = sub.id
            && txn.seq_of(&id).is_some()
        {
            let stored = match unwritten.get(&id) {
                Some(e) => Some(e.clone()),
                None => writer.by_id(&id)?,
            };
            return match stored {
                Some(e) if e.same_content(sub) => Ok(Admitted::Replayed(e)),
                Some(e) => Err(Failure::Rejected(Rejection::at(
                    ErrorCode::IdConflict,
                    "id",
                    format!(
                        "event {id} is already stored (seq {}) with different content; use a new id for a new event",
                        e.seq
                    ),
                ))),
                None => Err(Failure::Store(StoreError::Corrupt {
                    seq: 0,
                    reason: format!("event {id} is indexed but not stored"),
                })),
            };
        }
        let id = sub.id.unwrap_or_else(Uuid::now_v7);
        let seq = txn.admit(id, sub, recorded_at)?;
        let encoded = StoredEvent::seal(seq, id, sub, recorded_at, &head.hash);
        *head = Head { seq, hash: encoded.event.hash.clone(), recorded_at: encoded.event.recorded_at.clone() };
        Ok(Admitted::New(encoded))
    }

    fn commit_group(&mut self, group: Vec<(Vec<Submission>, AppendReply)>) {
        let recorded_at = self.tick();
        let mut head = self.head.clone();
        let mut to_write: Vec<Encoded> = Vec::new();
        let mut unwritten: HashMap<Uuid, StoredEvent> = HashMap::new();
        let mut outcomes: Vec<Result<Vec<Appended>, AppendError>> = Vec::with_capacity(group.len());

        for (batch, _) in &group {
            let mut txn = self.state.begin();
            let mut batch_head = head.clone();
            let mut accepted = Vec::with_capacity(batch.len());
            let mut written: Vec<Encoded> = Vec::new();
            let mut failure = None;
            for (index, sub) in batch.iter().enumerate() {
                match Self::admit(&mut txn, self.writer.as_mut(), &unwritten, &mut batch_head, sub, recorded_at) {
                    Ok(Admitted::New(enc)) => {
                        accepted.push(Appended { event: enc.event.clone(), replayed: false });
                        unwritten.insert(enc.event.id, enc.event.clone());
                        written.push(enc);
                    }
                    Ok(Admitted::Replayed(event)) => accepted.push(Appended { event, replayed: true }),
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
                    // The txn is dropped, so the state is unchanged; forget
                    // this batch's events too.
                    for e in &written {
                        unwritten.remove(&e.event.id);
                    }
                    outcomes.push(Err(err));
                }
                None => {
                    txn.commit();
                    head = batch_head;
                    to_write.extend(written);
                    outcomes.push(Ok(accepted));
                }
            }
        }

        if !to_write.is_empty() {
            let result = self
                .writer
                .begin(self.head.seq)
                .and_then(|()| self.writer.write(&to_write))
                .and_then(|()| self.writer.commit(&head));
            match result {
                Ok(()) => {
                    self.head = head;
                    self.head_tx.send_replace(self.head.clone());
                }
                Err(e) => {
                    self.writer.rollback();
                    tracing::error!(error = %e, "group commit failed; reloading state from the store");
                    self.reload();
                    let message = e.to_string();
                    for o in outcomes.iter_mut().filter(|o| o.is_ok()) {
                        *o = Err(AppendError::Store(StoreError::Io(message.clone())));
                    }
                }
            }
        }
        for ((_, reply), outcome) in group.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }

    /// After a failed commit the state holds events the store does not: fold
    /// the store again so the two agree.
    fn reload(&mut self) {
        match load_state(self.reader.as_ref()) {
            Ok((state, head)) => {
                self.state = state;
                self.head = head;
            }
            Err(e) => tracing::error!(error = %e, "cannot reload the state; appends will fail until restart"),
        }
    }

    fn import(
        &mut self,
        source: Box<dyn Iterator<Item = ImportItem> + Send>,
        mut progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<ImportSummary, ImportError> {
        let recorded_at = self.tick();
        let mut head = self.head.clone();
        let mut summary = ImportSummary::default();
        let mut chunk: Vec<Encoded> = Vec::with_capacity(IMPORT_CHUNK);
        // Client ids of the chunk not yet written: `writer.by_id` cannot see
        // them, and a retry of one of them later in the file must be found.
        let mut unwritten: HashMap<Uuid, StoredEvent> = HashMap::new();
        self.writer.begin(self.head.seq)?;
        let mut txn = self.state.begin();
        let result = (|| {
            for item in source {
                let (line, sub) = item?;
                match Self::admit(&mut txn, self.writer.as_mut(), &unwritten, &mut head, &sub, recorded_at) {
                    Ok(Admitted::New(enc)) => {
                        if sub.id.is_some() {
                            unwritten.insert(enc.event.id, enc.event.clone());
                        }
                        chunk.push(enc);
                        summary.appended += 1;
                    }
                    Ok(Admitted::Replayed(_)) => summary.replayed += 1,
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
                self.writer.commit(&head)?;
            } else {
                self.writer.rollback();
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                txn.commit();
                self.head = head.clone();
                self.head_tx.send_replace(head.clone());
                summary.head = Some(head);
                Ok(summary)
            }
            Err(e) => {
                drop(txn);
                self.writer.rollback();
                Err(e)
            }
        }
    }
}
