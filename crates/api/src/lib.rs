//! The govledger server (SPEC 4): the GraphQL schema ([`graphql`], no HTTP in
//! it), the axum router ([`app`], testable without sockets), bearer-token
//! auth ([`auth`]) and metrics.
//!
//! [`AppState`] is the one service both HTTP and GraphQL call: it
//! authenticates tokens, checks what a token may append, hands appends to the
//! ledger's single writer (where the domain's rules run), reads, verifies and
//! counts. Errors are one type, [`AppError`], mapped to responses in one place.
//!
//! Architecture invariant: no rule of the ledger is checked here. The server
//! checks credentials and limits; every event goes through
//! `Submission::parse` and `Ledger::append`, like an import.

pub mod agencies;
pub mod assess;
pub mod auth;
pub mod dashboard;
pub mod error;
pub mod events;
mod graphiql;
pub mod graphql;
mod graphql_http;
pub mod http;
pub mod metrics;
pub mod proofs;
pub mod publish;
mod readiness;
mod response_cache;
pub mod scope;
pub mod seq;
pub mod transparency;

use std::sync::Arc;
use std::time::Instant;

use govledger_domain::Submission;
use govledger_ledger::{Appended, Head, Ledger, StoredEvent, VerifyReport};
use tokio::sync::watch;
use uuid::Uuid;

pub use crate::agencies::{AgencyIndex, AgencyInfo};
pub use crate::assess::Assessor;
pub use crate::auth::{Principal, ScrapeToken, TokenRole, Tokens};
pub use crate::error::{ApiCode, AppError};
pub use crate::graphql::QueryLimits;
pub use crate::http::app;
pub use crate::metrics::Metrics;
pub use crate::transparency::{ChainHealth, LogConfig, Transparency, WitnessConfig};

/// Sizes the server accepts; larger requests are refused with a clear code.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body (`request.too_large`, 413).
    pub max_body_bytes: usize,
    /// Most events in one batch (`batch.too_large`, 413).
    pub max_batch_events: usize,
    /// Largest `limit` of `GET /v1/events`.
    pub max_page: usize,
    /// GraphQL depth and complexity limits.
    pub graphql: QueryLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body_bytes: 8 << 20, max_batch_events: 10_000, max_page: 1_000, graphql: QueryLimits::default() }
    }
}

/// The answer to `verify` (GraphQL and `GET /v1/verify`): the chain was
/// checked through seq `events` of the ledger's head `ledger_head`.
#[derive(Debug, Clone)]
pub struct Verification {
    /// No problem found in the checked stretch.
    pub ok: bool,
    /// The last seq checked and found good (the head as of the call when ok).
    pub events: u64,
    /// The event at seq `events` (the last good head).
    pub head: Head,
    pub problem: Option<VerifyFinding>,
    /// The ledger's head seq when `verify` was called.
    pub ledger_head: u64,
}

/// The first problem found.
#[derive(Debug, Clone)]
pub struct VerifyFinding {
    pub seq: u64,
    /// A `govledger verify` code (`hash_mismatch` …), or `chain_broken` from the server's continuous check.
    pub problem: String,
    pub detail: String,
}

impl Verification {
    fn from_report(report: VerifyReport, ledger_head: u64) -> Self {
        Verification {
            ok: report.ok(),
            events: report.events,
            problem: report.problem.map(|f| VerifyFinding {
                seq: f.seq,
                problem: f.problem.code().to_owned(),
                detail: f.detail,
            }),
            head: report.head,
            ledger_head,
        }
    }
}

/// The server's shared state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    ledger: Ledger,
    /// The tokens, in whichever store the ledger is (a trait object inside).
    tokens: Arc<Tokens>,
    agencies: Arc<AgencyIndex>,
    metrics: Metrics,
    limits: Limits,
    shutdown: watch::Receiver<bool>,
    /// The projection the assessment and entity queries read.
    assessor: Arc<Assessor>,
    /// The Merkle tree, checkpoints and witnesses of SPEC 6 (None: the
    /// server signs and proves nothing).
    transparency: Option<Arc<Transparency>>,
    /// The token a scraper may present for `/metrics` besides coordinator
    /// and auditor tokens (None: only those).
    scrape_token: Option<ScrapeToken>,
    /// The dashboard's and error pages' language when the browser names
    /// none of ours, and the time zone of their dates and times.
    locale: govledger_i18n::Locale,
}

impl AppState {
    /// State over an open ledger and token store. Subscriptions end when
    /// `shutdown` turns true (or its sender is dropped).
    pub fn new(
        ledger: Ledger,
        tokens: Tokens,
        limits: Limits,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self, AppError> {
        let metrics = Metrics::new().map_err(|e| AppError::Internal(format!("cannot register metrics: {e}")))?;
        Ok(AppState {
            inner: Arc::new(Shared {
                ledger,
                tokens: Arc::new(tokens),
                agencies: Arc::new(AgencyIndex::new()),
                metrics,
                limits,
                shutdown,
                // Empty until `assessor().replace` installs a loaded one;
                // queries fold whatever it lacks from the ledger.
                assessor: Arc::new(Assessor::new(
                    govledger_assess::Projection::new(),
                    govledger_assess::Model::default_v1(),
                )),
                transparency: None,
                scrape_token: None,
                locale: govledger_i18n::Locale::default(),
            }),
        })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// This state with `assessor` (e.g. one loaded from a checkpoint, shared
    /// with the caller to save it at shutdown) in place of its empty one.
    /// Call before the state is cloned.
    pub fn with_assessor(mut self, assessor: Arc<Assessor>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(shared) => shared.assessor = assessor,
            // Already shared: keep the state as it is, but fold the loaded
            // projection into the one in use.
            None => self.inner.assessor.replace(assessor.read().clone()),
        }
        self
    }

    /// This state with the transparency log of SPEC 6. Call before the state is cloned.
    pub fn with_transparency(mut self, log: Arc<Transparency>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(shared) => shared.transparency = Some(log),
            None => tracing::error!("with_transparency called on a shared state; the log is not installed"),
        }
        self
    }

    /// This state with a scrape token for `/metrics`. Call before the state is cloned.
    pub fn with_scrape_token(mut self, token: ScrapeToken) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(shared) => shared.scrape_token = Some(token),
            None => tracing::error!("with_scrape_token called on a shared state; the scrape token is not installed"),
        }
        self
    }

    /// This state with the pages' default language and time zone. Call before the state is cloned.
    pub fn with_locale(mut self, locale: govledger_i18n::Locale) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(shared) => shared.locale = locale,
            None => tracing::error!("with_locale called on a shared state; the locale is not installed"),
        }
        self
    }

    /// The pages' default language and their time zone.
    pub fn locale(&self) -> govledger_i18n::Locale {
        self.inner.locale
    }

    /// Whether `/metrics` may answer the bearer `token` (None: none sent):
    /// the configured scrape token, or a coordinator or auditor token.
    pub async fn authorize_metrics(&self, token: Option<&str>) -> Result<(), AppError> {
        if let (Some(presented), Some(scrape)) = (token, &self.inner.scrape_token)
            && scrape.matches(presented)
        {
            return Ok(());
        }
        let principal = self.authenticate(token).await?;
        match principal.role {
            TokenRole::Coordinator | TokenRole::Auditor => Ok(()),
            TokenRole::Agency | TokenRole::Evaluator => Err(AppError::refused(
                ApiCode::RoleForbidden,
                format!(
                    "`/metrics` needs a coordinator or auditor token, or the server's scrape token; a {} token \
                     reads assessments, scorecards, checkpoints and proofs, and events within its scope, instead",
                    principal.role
                ),
            )),
        }
    }

    /// The transparency log, or `proof.unavailable` when the server runs without one.
    pub fn transparency(&self) -> Result<&Arc<Transparency>, AppError> {
        self.inner.transparency.as_ref().ok_or_else(|| {
            AppError::refused(
                ApiCode::ProofsUnavailable,
                "this server runs without a transparency log: start it with `govledger serve`, which creates the log key",
            )
        })
    }

    /// Runs `work` on the transparency log off the async threads.
    pub async fn with_log<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transparency, &dyn govledger_ledger::LogReader) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let log = self.transparency()?.clone();
        self.blocking(move |s| work(&log, s.ledger.reader().as_ref())).await
    }

    /// The projection and model behind the assessment queries.
    pub fn assessor(&self) -> &Arc<Assessor> {
        &self.inner.assessor
    }

    /// Runs `work` on the projection once it holds every event up to the
    /// ledger's head as of this call (so a client sees its own appends), off
    /// the async threads.
    pub async fn with_projection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&govledger_assess::Projection, &govledger_assess::Model) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let target = self.inner.ledger.head().seq;
        self.blocking(move |s| {
            s.assessor.catch_up(&s.ledger, target)?;
            let projection = s.assessor.read();
            work(&projection, s.assessor.model())
        })
        .await
    }

    /// The assessment document (SPEC 3.4) of `query`.
    pub async fn assessment(
        &self,
        query: govledger_assess::Query,
    ) -> Result<Arc<govledger_assess::Assessment>, AppError> {
        let target = self.inner.ledger.head().seq;
        self.blocking(move |s| {
            s.assessor.catch_up(&s.ledger, target)?;
            s.assessor.assess(&query)
        })
        .await
    }

    /// A receiver that turns true when the server starts shutting down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.clone()
    }

    /// Runs blocking store work off the async runtime's threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Shared) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| AppError::Internal(format!("a blocking task failed: {e}")))?
    }

    /// Brings the agency index up to the ledger's head: the projection
    /// first, then the index from it.
    async fn catch_up_agencies(&self) -> Result<(), AppError> {
        let target = self.inner.ledger.head().seq;
        if self.inner.agencies.seq() >= target {
            return Ok(());
        }
        self.blocking(move |s| {
            s.assessor.catch_up(&s.ledger, target)?;
            let projection = s.assessor.read();
            s.agencies.follow(s.ledger.reader().as_ref(), &projection).map_err(AppError::from)
        })
        .await
    }

    /// Whether the token a long-lived connection authenticated with is
    /// still live (not revoked since). A failing token store counts as
    /// revoked: the connection ends rather than outliving a revocation.
    pub async fn still_live(&self, principal: &Principal) -> bool {
        let id = principal.token_id.clone();
        let live = self
            .blocking(move |s| s.tokens.is_live(&id).map_err(|e| AppError::Unavailable(format!("token store: {e}"))))
            .await;
        live.unwrap_or_else(|e| {
            tracing::warn!(error = ?e, token = %principal.token_id, "cannot check a token; ending its connection");
            false
        })
    }

    /// Who presents `token` (the text after `Bearer `). The token must be
    /// live, and its agency must still be registered and hold the token's role.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Principal, AppError> {
        let Some(token) = token else {
            return Err(AppError::refused(
                ApiCode::MissingToken,
                "this endpoint needs `Authorization: Bearer <token>`; issue one with `govledger token issue`",
            ));
        };
        let token = token.to_owned();
        let record = self
            .blocking(move |s| {
                s.tokens.authenticate(&token).map_err(|e| AppError::Unavailable(format!("token store: {e}")))
            })
            .await?
            .ok_or_else(|| AppError::refused(ApiCode::InvalidToken, "the bearer token is unknown or revoked"))?;
        if record.expired(govledger_domain::Timestamp::now()) {
            return Err(AppError::refused(
                ApiCode::TokenExpired,
                format!(
                    "token {} expired at {}; ask the operator for a new one (`govledger token issue`)",
                    record.id,
                    record.expires_at.as_deref().unwrap_or_default()
                ),
            ));
        }
        self.catch_up_agencies().await?;
        let holds = match self.inner.agencies.get(&record.agency) {
            None => false,
            Some(agency) => record.role.ledger_role().is_none_or(|role| agency.has_role(role)),
        };
        if !holds {
            return Err(AppError::refused(
                ApiCode::RoleNotHeld,
                format!(
                    "token {} is bound to {:?} as {}, but the ledger no longer registers that agency with that role",
                    record.id, record.agency, record.role
                ),
            ));
        }
        Ok(Principal { token_id: record.id, agency: record.agency, role: record.role })
    }

    /// Appends a batch atomically as `principal`: the token's rights are
    /// checked first, then the ledger's rules.
    pub async fn append(&self, principal: &Principal, batch: Vec<Submission>) -> Result<Vec<Appended>, AppError> {
        let limit = self.inner.limits.max_batch_events;
        if batch.len() > limit {
            return Err(AppError::BatchTooLarge { events: batch.len(), limit });
        }
        auth::authorize_append(principal, &batch)?;
        let Some(capacity) = auth::capacity(principal.role) else {
            // `authorize_append` refuses auditors first; kept total.
            return Err(AppError::refused(ApiCode::ReadOnly, "an auditor token appends nothing"));
        };
        let events = batch.len();
        let started = Instant::now();
        // The ledger's rules run with the roles this token may use (SPEC 4):
        // an `agency` token of the coordination office cannot assign tasks.
        let outcome = self.inner.ledger.append_as(batch, capacity).await;
        let latency_s = started.elapsed().as_secs_f64();
        match outcome {
            Ok(appended) => {
                let replayed = appended.iter().filter(|a| a.replayed).count() as u64;
                let new = appended.len() as u64 - replayed;
                self.inner.metrics.appended(new, replayed, latency_s);
                let last_seq = appended.last().map(|a| a.event.seq).unwrap_or_default();
                tracing::info!(token = %principal.token_id, agency = %principal.agency, events, new, replayed,
                    last_seq, latency_ms = latency_s * 1e3, "append");
                Ok(appended)
            }
            Err(e) => {
                self.inner.metrics.append_failed(latency_s);
                let e = AppError::from(e);
                tracing::info!(token = %principal.token_id, agency = %principal.agency, events, code = e.code(),
                    "append refused");
                Err(e)
            }
        }
    }

    /// Up to `limit` events after seq `after`.
    pub async fn read(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, AppError> {
        self.blocking(move |s| s.ledger.read(after, limit).map_err(AppError::from)).await
    }

    /// The event with this id, if stored.
    pub async fn event_by_id(&self, id: Uuid) -> Result<Option<StoredEvent>, AppError> {
        self.blocking(move |s| s.ledger.reader().by_id(&id).map_err(AppError::from)).await
    }

    /// What the server's continuous verification (SPEC 6.2, [`Transparency::check_through`])
    /// says of the chain up to the head as of this call: cheap, whatever the
    /// number of callers. Without a transparency log (library use) the whole
    /// chain is recomputed instead.
    pub async fn verify(&self) -> Result<Verification, AppError> {
        let head = self.inner.ledger.head();
        let Some(log) = self.inner.transparency.clone() else {
            let report = self.blocking(|s| s.ledger.verify(&mut |_| {}).map_err(AppError::from)).await?;
            return Ok(Verification::from_report(report, head.seq));
        };
        let health = log.check_through(self.inner.ledger.reader().clone(), head.seq).await?;
        let (checked, problem) = match health {
            ChainHealth::Ok { seq } => (seq.min(head.seq), None),
            ChainHealth::Broken { seq, reason } => {
                (seq.saturating_sub(1), Some(VerifyFinding { seq, problem: "chain_broken".into(), detail: reason }))
            }
            ChainHealth::Checking => {
                return Err(AppError::Unavailable("the chain's start-up check has not finished".into()));
            }
        };
        let last_good = if checked == head.seq {
            head.clone()
        } else if checked == 0 {
            Head::genesis()
        } else {
            let event = self.read(checked - 1, 1).await?.into_iter().next().filter(|e| e.seq == checked);
            event.map_or_else(Head::genesis, |e| Head { seq: e.seq, hash: e.hash, recorded_at: e.recorded_at })
        };
        Ok(Verification { ok: problem.is_none(), events: checked, head: last_good, problem, ledger_head: head.seq })
    }

    /// Registered agencies as of the head, ordered by id.
    pub async fn agencies(&self) -> Result<Vec<AgencyInfo>, AppError> {
        self.catch_up_agencies().await?;
        Ok(self.inner.agencies.all())
    }
}
