//! The server's projection of the log (`govledger-assess`), kept current with
//! the ledger, and the assessment queries answered from it.
//!
//! Reads never see a state older than the ledger's head at the moment they
//! were asked: every query first brings the projection up to that head
//! ([`Assessor::catch_up`]), so a client that appended and then queries sees
//! its own events. A follower task ([`follow`]) catches up whenever the head
//! moves, so that queries usually find nothing left to fold.
//!
//! Locking: folding takes the write lock only for the events of one page
//! (read from the store before the lock is taken); an assessment holds the
//! read lock while it computes. A mutex serialises catch-ups so that two of
//! them never read the same page twice.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use govledger_assess::{AssessError, Assessment, Model, Projection, Query};
use govledger_domain::{ErrorCode, Rejection};
use govledger_ledger::Ledger;
use tokio::sync::watch;

use crate::error::{ApiCode, AppError};

/// Events read from the store per page while catching up.
const CATCH_UP_PAGE: usize = 4_096;

/// Assessment documents kept for repeated queries.
const CACHED_ASSESSMENTS: usize = 16;

/// What determines an assessment document: the period's instants and the
/// position (the model is fixed per server).
type AssessmentKey = (i64, i64, u64);

/// The projection, the model it is assessed with, and the catch-up lock.
pub struct Assessor {
    projection: RwLock<Projection>,
    catching_up: Mutex<()>,
    model: Model,
    /// Recent documents, newest last. An assessment as of seq `k` never
    /// changes as the log grows (SPEC 3.1: later events, retractions
    /// included, do not alter what existed as of `k`), so entries never go
    /// stale; the cache only spares recomputing (and re-reading every
    /// agency's entities) for the same period and position.
    cache: Mutex<VecDeque<(AssessmentKey, Arc<Assessment>)>>,
}

impl Assessor {
    /// An assessor starting from `projection` (empty, or loaded from a
    /// checkpoint at some earlier position of the same ledger).
    pub fn new(projection: Projection, model: Model) -> Self {
        Assessor { projection: RwLock::new(projection), catching_up: Mutex::new(()), model, cache: Mutex::default() }
    }

    /// The model assessments use.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The seq of the last event folded in.
    pub fn head_seq(&self) -> u64 {
        self.read().head_seq()
    }

    /// Read access to the projection. A poisoned lock (a panic while
    /// folding) still holds a consistent projection: folding changes nothing
    /// before it has checked the event.
    pub fn read(&self) -> RwLockReadGuard<'_, Projection> {
        self.projection.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces the projection (e.g. with one loaded from a checkpoint before
    /// the server starts answering).
    pub fn replace(&self, projection: Projection) {
        *self.projection.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = projection;
    }

    /// The assessment of `query` (as of the projection's head when it names
    /// no position), from the cache when the same period and position were
    /// asked before. Blocking: call it off the async threads.
    pub fn assess(&self, query: &Query) -> Result<Arc<Assessment>, AppError> {
        let projection = self.read();
        let as_of = query.as_of.unwrap_or(projection.head_seq());
        let key = (query.from.micros(), query.to.micros(), as_of);
        let cached = |cache: &VecDeque<(AssessmentKey, Arc<Assessment>)>| {
            cache.iter().rev().find(|(k, _)| *k == key).map(|(_, doc)| doc.clone())
        };
        if let Some(doc) = cached(&self.cache.lock().unwrap_or_else(|p| p.into_inner())) {
            return Ok(doc);
        }
        let doc =
            Arc::new(projection.assess(&self.model, &Query { as_of: Some(as_of), ..*query }).map_err(assess_error)?);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cached(&cache).is_none() {
            if cache.len() == CACHED_ASSESSMENTS {
                cache.pop_front();
            }
            cache.push_back((key, doc.clone()));
        }
        Ok(doc)
    }

    /// A copy of the projection for a checkpoint (taken under the read lock).
    pub fn checkpoint(&self) -> Vec<u8> {
        self.read().to_checkpoint()
    }

    /// Folds the ledger's events until the projection holds at least `seq`
    /// (or the whole log). Blocking: call it off the async threads.
    pub fn catch_up(&self, ledger: &Ledger, seq: u64) -> Result<u64, AppError> {
        if self.head_seq() >= seq {
            return Ok(self.head_seq());
        }
        let _one_at_a_time = self.catching_up.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            let after = self.head_seq();
            if after >= seq {
                return Ok(after);
            }
            let page = ledger.read(after, CATCH_UP_PAGE).map_err(AppError::from)?;
            if page.is_empty() {
                // The head was read before the events became readable, or
                // the log is shorter than asked: what is there is folded.
                return Ok(after);
            }
            let mut projection = self.projection.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            for event in &page {
                projection.apply(event).map_err(|e| {
                    AppError::Internal(format!("cannot fold the event at seq {} into the projection: {e}", event.seq))
                })?;
            }
        }
    }
}

/// Keeps `assessor` at the ledger's head until `stop` turns true: folds
/// whenever the head moves. Errors are logged and retried at the next move
/// (queries catch up on their own and report them).
pub async fn follow(ledger: Ledger, assessor: std::sync::Arc<Assessor>, mut stop: watch::Receiver<bool>) {
    let mut head = ledger.watch_head();
    loop {
        let target = head.borrow_and_update().seq;
        if assessor.head_seq() < target {
            let (ledger, assessor) = (ledger.clone(), assessor.clone());
            let folded = tokio::task::spawn_blocking(move || assessor.catch_up(&ledger, target)).await;
            match folded {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = ?e, "the projection could not follow the ledger"),
                Err(e) => tracing::warn!(error = %e, "the projection follower failed"),
            }
        }
        tokio::select! {
            changed = head.changed() => if changed.is_err() { return },
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The error a client sees for an assessment it asked wrongly. A position
/// or period that is wrong gets the domain's code for the same mistake in an
/// `AssessmentPublished` payload (`assessment.as_of_beyond_head`,
/// `assessment.period_empty`), with the GraphQL argument as its field.
pub fn assess_error(e: AssessError) -> AppError {
    // The assess crate words these for the command line (`--as-of`).
    let message = e.to_string().replace("--as-of", "asOf");
    let rejection = match e {
        AssessError::EmptyLedger => return AppError::refused(ApiCode::AssessEmptyLedger, message),
        AssessError::AsOfBeyondHead { .. } | AssessError::AsOfZero => {
            Rejection::at(ErrorCode::AssessmentAsOfBeyondHead, "asOf", message)
        }
        AssessError::EmptyPeriod { .. } => Rejection::at(ErrorCode::AssessmentPeriodEmpty, "to", message),
    };
    AppError::Rejected { index: 0, rejection }
}
