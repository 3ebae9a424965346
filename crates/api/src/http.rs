//! The axum router (SPEC 4): `POST /v1/events`, `GET /v1/events`,
//! `GET /v1/verify`, `POST /v1/publications` (`crate::publish`), `/healthz`
//! (liveness), `/readyz` (readiness, in `crate::readiness`), `/metrics`,
//! `/openapi.json`, and GraphQL at
//! `/graphql` (POST: queries and mutations; GET: GraphiQL, or a
//! graphql-transport-ws WebSocket for subscriptions; its handlers are in
//! `crate::graphql_http`), and the OpenAPI document of them all.
//!
//! [`app`] builds the whole router from an [`AppState`]; tests drive it with
//! `tower::ServiceExt::oneshot`, no socket needed. Every route but `/healthz`,
//! `/readyz` (and the static GraphiQL page, which holds no data) needs a bearer token.
//! Requests are logged (method, route, status, latency, error code; never a
//! header, so never a token) and measured. Answers to read-only GraphQL
//! documents are kept per ledger head (`crate::response_cache`), after the
//! token check.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use govledger_domain::{ErrorCode, Rejection, Submission};
use govledger_ledger::{Appended, Head, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::{Principal, bearer};
use crate::error::{ApiCode, AppError, ErrorBody, ErrorCodeTag};
use crate::graphql::{GovSchema, build_schema};
use crate::response_cache::ResponseCache;
use crate::seq::Seq;
use crate::{AppState, Limits};

/// The router's state: the service and the schema over it.
#[derive(Clone)]
pub(crate) struct Http {
    pub(crate) state: AppState,
    pub(crate) schema: GovSchema,
    /// Whole responses to read-only GraphQL documents, per ledger head.
    pub(crate) responses: std::sync::Arc<ResponseCache>,
}

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    let limits: Limits = *state.limits();
    let schema = build_schema(state.clone(), limits.graphql);
    let http = Http { state, schema, responses: Default::default() };
    Router::new()
        .route("/v1/events", post(post_events).get(get_events))
        .route("/v1/verify", get(get_verify))
        // Publishing a report while the server holds the data directory (evaluator tokens).
        .route("/v1/publications", post(crate::publish::post_publication))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .route("/graphql", post(crate::graphql_http::graphql_post).get(crate::graphql_http::graphql_get))
        .route("/healthz", get(healthz))
        .route("/readyz", get(crate::readiness::readyz))
        // The files of the GraphiQL page (no data, no token), served here rather than from a CDN.
        .route("/graphiql/{file}", get(crate::graphiql::file))
        // The live dashboard (`/`, `/dashboard/head`), over its own state.
        .merge(crate::dashboard::router(http.state.clone()))
        // Checkpoints, proofs, receipts and the log's key (SPEC 6.3).
        .merge(crate::proofs::router(http.state.clone()))
        .route_layer(middleware::from_fn_with_state(http.clone(), observe))
        .fallback(not_found)
        // A browser gets an error as a localised HTML page carrying the same code.
        .layer(middleware::from_fn_with_state(http.state.clone(), crate::error::html_errors))
        // Bodies above the limit are refused while reading, before being buffered whole.
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        // gzip for clients that accept it (the dashboard's page, assessments, exports of events).
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(http)
}

/// The caller, from `Authorization: Bearer <token>`.
pub(crate) struct Auth(pub(crate) Principal);

impl FromRequestParts<Http> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, http: &Http) -> Result<Self, Self::Rejection> {
        Ok(Auth(http.state.authenticate(token_of(&parts.headers)?).await?))
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Auth(state.authenticate(token_of(&parts.headers)?).await?))
    }
}

/// The token of the request: its `Authorization: Bearer` header, else the
/// dashboard's session cookie ([`cookie_token`]).
pub(crate) fn token_of(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    Ok(header_token(headers)?.or_else(|| cookie_token(headers)))
}

/// The bearer token of the `Authorization` header, if the request sent one.
pub(crate) fn header_token(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(v) => v.to_str().ok().and_then(bearer).map(Some).ok_or_else(|| {
            AppError::refused(ApiCode::InvalidToken, "the Authorization header is not `Bearer <token>`")
        }),
    }
}

/// The dashboard's session cookie, set by `/?token=` (`crate::dashboard`):
/// HttpOnly and SameSite=Strict, so the browser sends it with the page's own
/// requests, GraphiQL's included (no token to paste).
pub(crate) const SESSION_COOKIE: &str = "govledger_token";

/// The token in the session cookie, when the request comes from a page of
/// this server. SameSite=Strict keeps other sites' requests out, but not a
/// page of the same site on another port or host name: a browser sends
/// `Origin` with every cross-origin request (POST, WebSocket), so the cookie
/// counts only when `Origin` is absent or names this very host.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(origin) = text(header::ORIGIN) {
        let host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if text(header::HOST).is_none_or(|h| !h.eq_ignore_ascii_case(host)) {
            return None;
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == SESSION_COOKIE && !v.is_empty())
        .map(|(_, v)| v)
}

/// Logs and measures every routed request. Never logs headers.
async fn observe(State(http): State<Http>, matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str).to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let latency_s = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let code = response.extensions().get::<ErrorCodeTag>().map(|t| t.0);
    if let Some(code) = code {
        http.state.metrics().rejected(code);
    }
    http.state.metrics().http_request(method.as_str(), &route, status, latency_s);
    // Whole microseconds: `0.355`, not `0.35503599999999996`.
    let latency_ms = (latency_s * 1e6).round() / 1e3;
    tracing::info!(method = %method, route = %route, status, latency_ms, code, "request");
    response
}

async fn not_found() -> AppError {
    AppError::refused(ApiCode::NotFound, "no such route; see /openapi.json")
}

/// A stored event as returned by the API: the stored envelope of SPEC 2.2,
/// as in `govledger export`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WireEvent {
    pub seq: u64,
    #[schema(example = "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e")]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(example = "FreezeExecuted")]
    pub event_type: String,
    pub actor: String,
    pub occurred_at: String,
    pub recorded_at: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<StoredEvent> for WireEvent {
    fn from(e: StoredEvent) -> Self {
        WireEvent {
            seq: e.seq,
            id: e.id.to_string(),
            event_type: e.event_type,
            actor: e.actor,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            data: e.data,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A submitted envelope (SPEC 2.1); `data` is the payload of `type`, whose
/// JSON Schema is `schema/events/<type>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubmittedEnvelope {
    /// Optional client UUID; the same id with the same content is an idempotent retry.
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: String,
    /// RFC 3339 with an offset, at most 6 fractional digits.
    pub occurred_at: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The events a batch stored (or found already stored), in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppendedBatch {
    pub events: Vec<WireEvent>,
}

/// The chain's tip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WireHead {
    pub seq: u64,
    pub hash: String,
    pub recorded_at: String,
}

impl From<Head> for WireHead {
    fn from(h: Head) -> Self {
        WireHead { seq: h.seq, hash: h.hash, recorded_at: h.recorded_at }
    }
}

/// A page of stored events.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    /// Events with `seq > after` that this token may read, in order.
    pub events: Vec<WireEvent>,
    /// The last seq examined: continue with `after` = this. An agency token
    /// reads only the events its agency is a party of (SPEC 4), so its page
    /// may hold fewer than `limit` events (none, even) before the head;
    /// a page examines at most 10,000 events.
    pub scanned_through: u64,
    /// The head when the page was read.
    pub head: WireHead,
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WireFinding {
    pub seq: u64,
    /// `hash_mismatch`, `broken_link`, `gap`, `reordering`, `unreadable` or `truncated`; `chain_broken`
    /// when the server's continuous check found it (`detail` says why).
    pub problem: String,
    pub detail: String,
}

/// What the server's continuous verification says of the chain: checked
/// through seq `events` of head `ledger_head` (the fields of `govledger verify --json`, plus `ok` and `ledger_head`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WireVerifyReport {
    pub ok: bool,
    /// The last seq checked and found good: the head as of the request when ok.
    pub events: u64,
    /// The last good head (the event at seq `events`).
    pub head: WireHead,
    pub problem: Option<WireFinding>,
    /// The ledger's head seq when the request arrived.
    pub ledger_head: u64,
}

impl From<crate::Verification> for WireVerifyReport {
    fn from(r: crate::Verification) -> Self {
        WireVerifyReport {
            ok: r.ok,
            events: r.events,
            head: r.head.into(),
            problem: r.problem.map(|f| WireFinding { seq: f.seq, problem: f.problem, detail: f.detail }),
            ledger_head: r.ledger_head,
        }
    }
}

/// What a body holds, from its Content-Type.
enum BodyKind {
    One,
    Batch,
}

fn body_kind(headers: &HeaderMap) -> Result<BodyKind, AppError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/json") => Ok(BodyKind::One),
        Some("application/x-ndjson") | Some("application/jsonl") => Ok(BodyKind::Batch),
        other => Err(AppError::refused(
            ApiCode::UnsupportedMediaType,
            format!(
                "Content-Type {:?} is not accepted: send application/json (one envelope) or \
                 application/x-ndjson (a batch, one envelope per line)",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

/// The body, or `request.too_large` when it exceeds the limit.
pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>, limits: &Limits) -> Result<Bytes, AppError> {
    use axum::extract::rejection::FailedToBufferBody;
    match body {
        Ok(b) => Ok(b),
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => Err(AppError::refused(
            ApiCode::RequestTooLarge,
            format!("the request body is larger than {} bytes; split the batch", limits.max_body_bytes),
        )),
        Err(e) => Err(AppError::Refused {
            code: ApiCode::UnreadableBody,
            index: None,
            field: None,
            message: format!("the request body could not be read: {}", e.body_text()),
        }),
    }
}

fn malformed(index: usize, message: String) -> AppError {
    AppError::Rejected { index, rejection: Rejection::new(ErrorCode::MalformedJson, message) }
}

/// Parses one envelope (JSON) or a batch (NDJSON; blank lines are skipped and
/// `index` counts events, not lines).
fn parse_body(kind: &BodyKind, bytes: &[u8], limits: &Limits) -> Result<Vec<Submission>, AppError> {
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(0, format!("the body is not UTF-8: {e}")))?;
    match kind {
        BodyKind::One => {
            Ok(vec![Submission::parse_str(text).map_err(|rejection| AppError::Rejected { index: 0, rejection })?])
        }
        BodyKind::Batch => {
            let lines: Vec<(usize, &str)> =
                text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| (i + 1, l)).collect();
            if lines.len() > limits.max_batch_events {
                return Err(AppError::BatchTooLarge { events: lines.len(), limit: limits.max_batch_events });
            }
            lines
                .into_iter()
                .enumerate()
                .map(|(index, (line, l))| {
                    Submission::parse_str(l).map_err(|mut rejection| {
                        rejection.message = format!("line {line}: {}", rejection.message);
                        AppError::Rejected { index, rejection }
                    })
                })
                .collect()
        }
    }
}

fn status_for(appended: &[Appended]) -> StatusCode {
    if appended.iter().any(|a| !a.replayed) { StatusCode::CREATED } else { StatusCode::OK }
}

/// Appends one envelope or an atomic batch.
#[utoipa::path(
    post, path = "/v1/events", tag = "events",
    request_body(
        description = "One envelope (application/json), or a batch: one envelope per line (application/x-ndjson). \
            A batch is atomic: all stored, or none.",
        content(
            (SubmittedEnvelope = "application/json"),
            (String = "application/x-ndjson"),
        ),
    ),
    responses(
        (status = 201, description = "Stored. One envelope: the stored event; a batch: `{events}`.", body = WireEvent),
        (status = 200, description = "Every event was an idempotent retry: the events already stored.", body = WireEvent),
        (status = 400, description = "Malformed input (e.g. `data.unknown_field`); nothing stored.", body = ErrorBody),
        (status = 401, description = "`auth.missing_token` or `auth.invalid_token`.", body = ErrorBody),
        (status = 403, description = "`auth.actor_mismatch`, `auth.read_only`, `auth.role_forbidden`.", body = ErrorBody),
        (status = 409, description = "Conflicts with the stored state (e.g. `freeze.already_answered`, \
            `event.id_conflict`); nothing stored.", body = ErrorBody),
        (status = 413, description = "`request.too_large` or `batch.too_large`.", body = ErrorBody),
        (status = 415, description = "`request.unsupported_media_type`.", body = ErrorBody),
        (status = 422, description = "The ledger's rules refuse it (e.g. `lifecycle.out_of_order`); nothing stored.",
            body = ErrorBody),
        (status = 503, description = "`server.unavailable`: nothing stored; retry. `store.ambiguous`: the store did not \
            say whether it kept the events; send them again with the same ids (stored ones are answered as stored).",
            body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn post_events(
    State(http): State<Http>,
    Auth(principal): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let kind = body_kind(&headers)?;
    let limits = *http.state.limits();
    let bytes = body_bytes(body, &limits)?;
    let batch = parse_body(&kind, &bytes, &limits)?;
    let appended = http.state.append(&principal, batch).await?;
    let status = status_for(&appended);
    let events: Vec<WireEvent> = appended.into_iter().map(|a| a.event.into()).collect();
    Ok(match kind {
        BodyKind::One => (status, Json(events.into_iter().next())).into_response(),
        BodyKind::Batch => (status, Json(AppendedBatch { events })).into_response(),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// Only events with a higher seq (default 0: from the start).
    after: Option<Seq>,
    /// Most events to return: 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// Reads stored events in seq order: every event for coordinator, evaluator and auditor tokens; for an
/// agency token the events its agency is a party of (SPEC 4 v1.2: their actor, or a party of their entity).
/// Continue with `after` = `scanned_through`.
#[utoipa::path(
    get, path = "/v1/events", tag = "events", params(EventsQuery),
    responses(
        (status = 200, body = EventsPage),
        (status = 400, description = "`request.invalid_query`.", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn get_events(
    State(http): State<Http>,
    Auth(principal): Auth,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventsPage>, AppError> {
    let max = http.state.limits().max_page;
    let Query(q) = query.map_err(|e| {
        AppError::refused(ApiCode::InvalidQuery, format!("{}; use ?after=SEQ&limit=1..{max}", e.body_text()))
    })?;
    let limit = page_limit(q.limit, max)?;
    let scope = crate::scope::Scope::of(&principal);
    let page =
        crate::events::page(&http.state, &scope, q.after.map_or(0, u64::from), limit, &Default::default()).await?;
    // Read after the events, so the head is never behind the page.
    let head = http.state.ledger().head();
    Ok(Json(EventsPage {
        events: page.events.into_iter().map(WireEvent::from).collect(),
        scanned_through: page.scanned_through,
        head: head.into(),
    }))
}

/// A page's `limit` (default 100): from 1 to the server's `max`.
pub(crate) fn page_limit(limit: Option<usize>, max: usize) -> Result<usize, AppError> {
    let limit = limit.unwrap_or(100.min(max));
    if limit == 0 || limit > max {
        return Err(AppError::Refused {
            code: ApiCode::InvalidQuery,
            index: None,
            field: Some("limit".into()),
            message: format!("limit must be from 1 to {max}, not {limit}"),
        });
    }
    Ok(limit)
}

/// The chain's verification, from the server's continuous check (SPEC 6.2):
/// at start the server verifies the whole chain, then checks every new
/// stretch before it extends the Merkle tree; this request extends that check
/// to the head as of the request (only the events not checked yet) and
/// answers "checked through seq `events` of head `ledger_head`". It does not
/// re-hash the whole chain per request; `govledger verify` (operator,
/// offline) does.
#[utoipa::path(
    get, path = "/v1/verify", tag = "ledger",
    responses(
        (status = 200, description = "The report; `ok` is false and `problem` names the first bad seq when the \
            chain is broken.", body = WireVerifyReport),
        (status = 401, body = ErrorBody),
        (status = 503, description = "`server.unavailable`: the start-up check of the whole chain still runs; retry.",
            body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn get_verify(State(http): State<Http>, Auth(_): Auth) -> Result<Json<WireVerifyReport>, AppError> {
    Ok(Json(http.state.verify().await?.into()))
}

/// Health: answers without a token. 503 when the ledger's chain does not
/// verify (SPEC 6.2: the server checks every stretch before it signs).
#[utoipa::path(get, path = "/healthz", tag = "ops", responses(
    (status = 200, description = "`{\"status\":\"ok\"}`; with a transparency log also `chain`: `{\"status\":\"ok\",\"seq\"}` \
        (verified and in the tree up to seq) or `{\"status\":\"checking\"}` (the start-up check runs)"),
    (status = 503, description = "`{\"status\":\"broken\",\"chain\":{\"status\":\"broken\",\"seq\",\"reason\"}}`: \
        the chain does not verify at seq; nothing after the last good position is signed"),
))]
async fn healthz(State(http): State<Http>) -> Response {
    let Ok(log) = http.state.transparency() else {
        return Json(serde_json::json!({"status": "ok"})).into_response();
    };
    let chain = log.health();
    let broken = matches!(chain, crate::ChainHealth::Broken { .. });
    let status = if broken { "broken" } else { "ok" };
    let code = if broken { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (code, Json(serde_json::json!({"status": status, "chain": chain}))).into_response()
}

/// Prometheus metrics (text format 0.0.4), for a coordinator or auditor token or the server's scrape token
/// (`--metrics-token-file`).
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "appends, replays, rejections by code, latencies, head seq, and the \
        process (`process_resident_memory_bytes`, `process_cpu_seconds_total`, `process_open_fds`, \
        `process_start_time_seconds` …)",
        content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "`auth.missing_token` or `auth.invalid_token` (a wrong scrape token too).",
            body = ErrorBody),
        (status = 403, description = "`auth.role_forbidden`: an agency or evaluator token.", body = ErrorBody)),
    security(("bearer" = [])),
)]
async fn metrics(State(http): State<Http>, headers: HeaderMap) -> Result<Response, AppError> {
    http.state.authorize_metrics(token_of(&headers)?).await?;
    http.state.metrics().ledger_stats(&http.state.ledger().stats());
    if http.state.transparency().is_ok() {
        let state = http
            .state
            .with_log(|log, _| {
                let broken = matches!(log.health(), crate::ChainHealth::Broken { .. });
                Ok((!broken, log.latest().map_or(0, |c| c.size)))
            })
            .await;
        if let Ok((chain_ok, size)) = state {
            http.state.metrics().transparency(chain_ok, size);
        }
    }
    let head = http.state.ledger().head();
    http.state.metrics().head_hash(&head.hash);
    let text = http.state.metrics().render(head.seq);
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], text)
        .into_response())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", responses((status = 200, description = "OpenAPI 3.1"),
        (status = 401, description = "`auth.missing_token` or `auth.invalid_token`.", body = ErrorBody)),
    security(("bearer" = [])))]
async fn openapi_json(Auth(_): Auth) -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "govledger",
        description = "HTTP interface of the govledger server (SPEC 4). Errors are always \
            `{\"error\": {\"code\", \"field\", \"index\", \"message\"}}` with a stable code. GraphQL is at /graphql; its \
            SDL is schema/govledger.graphql."
    ),
    paths(post_events, get_events, get_verify, crate::publish::post_publication, healthz, crate::readiness::readyz,
        metrics, openapi_json,
        crate::graphql_http::graphql_post, crate::graphql_http::graphql_get, crate::graphiql::file),
    components(schemas(
        WireEvent, SubmittedEnvelope, AppendedBatch, EventsPage, WireHead, WireVerifyReport, WireFinding, ErrorBody,
        crate::error::ErrorDetail, crate::seq::Seq, crate::publish::PublishRequest, crate::publish::Publication
    )),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `govledger token issue --agency ID --role ROLE`."))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of the HTTP routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::proofs::ProofsDoc::openapi());
    doc
}
