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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};

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

/// An assessment computed once for its key (see [`Assessor::assess`]).
type Computed = Result<Arc<Assessment>, AssessError>;

/// The projection, the model it is assessed with, and the catch-up lock.
pub struct Assessor {
    projection: RwLock<Projection>,
    catching_up: Mutex<()>,
    model: Model,
    /// Recent documents, newest last, each computed once (a cell that
    /// concurrent askers wait on). An assessment as of seq `k` never
    /// changes as the log grows (SPEC 3.1: later events, retractions
    /// included, do not alter what existed as of `k`), so entries never go
    /// stale; the cache only spares recomputing (and re-reading every
    /// agency's entities) for the same period and position.
    cache: Mutex<VecDeque<(AssessmentKey, Arc<OnceLock<Computed>>)>>,
    /// Documents computed from the projection, and documents reused.
    computed: AtomicU64,
    reused: AtomicU64,
}

impl Assessor {
    /// An assessor starting from `projection` (empty, or loaded from a
    /// checkpoint at some earlier position of the same ledger).
    pub fn new(projection: Projection, model: Model) -> Self {
        Assessor {
            projection: RwLock::new(projection),
            catching_up: Mutex::new(()),
            model,
            cache: Mutex::default(),
            computed: AtomicU64::new(0),
            reused: AtomicU64::new(0),
        }
    }

    /// How many assessment documents were computed from the projection, and
    /// how many were reused from an earlier position (see [`Assessor::assess`]).
    pub fn counts(&self) -> (u64, u64) {
        (self.computed.load(Ordering::Relaxed), self.reused.load(Ordering::Relaxed))
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
    /// no position). Blocking: call it off the async threads.
    ///
    /// Computed once per period and position: concurrent askers of the same
    /// one wait for the first. When the cache holds the same period at an
    /// earlier position and no event since then can change its figures
    /// ([`Projection::same_figures`]: typically a closed period while
    /// agencies log today's actions), that document is reused with only its
    /// position (`as_of_seq`, `head_hash`) moved.
    pub fn assess(&self, query: &Query) -> Result<Arc<Assessment>, AppError> {
        let projection = self.read();
        // A wrong query (or an empty ledger) is refused before the cache: nothing is kept for it.
        let as_of = projection.position(query).map_err(assess_error)?;
        let key = (query.from.micros(), query.to.micros(), as_of);
        let cell = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            match cache.iter().rev().find(|(k, _)| *k == key) {
                Some((_, cell)) => cell.clone(),
                None => {
                    if cache.len() == CACHED_ASSESSMENTS {
                        cache.pop_front();
                    }
                    let cell = Arc::new(OnceLock::new());
                    cache.push_back((key, cell.clone()));
                    cell
                }
            }
        };
        // With the period valid and `as_of` within the head, the outcome is
        // fixed for the key (SPEC 3.1), errors included.
        cell.get_or_init(|| self.compute(&projection, query, key)).clone().map_err(assess_error)
    }

    fn compute(&self, projection: &Projection, query: &Query, key: AssessmentKey) -> Computed {
        let (from_us, to_us, as_of) = key;
        let base = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .iter()
                .rev()
                .filter(|((from, to, seq), _)| (*from, *to) == (from_us, to_us) && *seq < as_of)
                .find_map(|(_, cell)| cell.get().and_then(|done| done.as_ref().ok()).cloned())
        };
        if let Some(base) = base
            && projection.same_figures(from_us, to_us, base.as_of_seq, as_of)
            && let Some(head_hash) = projection.hash_at(as_of)
        {
            let mut doc = Assessment::clone(&base);
            doc.as_of_seq = as_of;
            doc.head_hash = head_hash;
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::new(doc));
        }
        self.computed.fetch_add(1, Ordering::Relaxed);
        projection.assess(&self.model, &Query { as_of: Some(as_of), ..*query }).map(Arc::new)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{TimeZone, Utc};
    use govledger_domain::{Submission, Timestamp};
    use govledger_ledger::memory::MemoryLog;
    use serde_json::json;

    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    /// A closed period's document is reused across events that cannot touch
    /// it, recomputed after one that can, and equal to a fresh computation
    /// either way.
    #[test]
    fn a_closed_period_is_reused_across_events_outside_it_and_recomputed_after_one_inside() {
        let log = MemoryLog::new();
        let ledger = Ledger::open(Box::new(log.writer()), log.clone()).unwrap();
        let until = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let config = govledger_demo::DemoConfig { seed: 7, scale: 0.05, until };
        let items = govledger_demo::events(&config).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
        ledger.import_blocking(items, |_| {}).unwrap();
        let page = ledger.read(0, usize::MAX).unwrap();
        let police = page.iter().find(|e| e.event_type == "FraudCaseReported").unwrap().actor.clone();
        let publicity = page.iter().find(|e| e.event_type == "PublicityDelivered").unwrap();

        let assessor = Assessor::new(Projection::new(), Model::default_v1());
        let query = Query { from: at("2026-01-01T00:00:00Z"), to: at("2026-02-01T00:00:00Z"), as_of: None };
        let append_and_assess = |envelope: serde_json::Value| {
            ledger.append_blocking(vec![Submission::parse(envelope).unwrap()]).unwrap();
            assessor.catch_up(&ledger, ledger.head().seq).unwrap();
            let doc = assessor.assess(&query).unwrap();
            let fresh = assessor.read().assess(assessor.model(), &query).unwrap();
            assert_eq!(*doc, fresh);
            assert_eq!(doc.as_of_seq, ledger.head().seq);
            (assessor.counts(), doc)
        };
        // Today's outreach: after the period, touching nothing in it.
        let mut data = publicity.data.clone();
        data["activity_id"] = json!("REUSE-1");
        let outreach = json!({"type": "PublicityDelivered", "actor": publicity.actor, "occurred_at": "2026-03-02T00:00:00Z", "data": data});
        let (counts, first) = append_and_assess(outreach.clone());
        assert_eq!(counts, (1, 0));
        let mut again = outreach;
        again["data"]["activity_id"] = json!("REUSE-2");
        let (counts, second) = append_and_assess(again);
        assert_eq!(counts, (1, 1), "the document is reused");
        assert_eq!((&first.agencies, second.as_of_seq), (&second.agencies, first.as_of_seq + 1));
        // A case reported late but dated in the period changes its loss figures.
        let case = json!({"type": "FraudCaseReported", "actor": police, "occurred_at": "2026-01-15T00:00:00Z",
            "data": {"case_id": "REUSE-CASE", "fraud_type": "impersonation", "loss_minor": 123_456}});
        let (counts, third) = append_and_assess(case);
        assert_eq!(counts, (2, 1), "the document is computed again");
        assert_ne!(second.agencies, third.agencies);
    }
}
