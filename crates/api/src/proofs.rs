//! The HTTP routes of SPEC 6.3: the log's key (`GET /v1/log`), checkpoints
//! (`GET /checkpoint`, `GET /v1/checkpoints?size=N`), inclusion and
//! consistency proofs, and receipts (`GET /v1/receipts/{id}`, and in bulk
//! `GET /v1/receipts?after=SEQ&limit=N`). Readable with any token; a receipt
//! carries an event's body, so it follows the read scope of SPEC 4
//! (`crate::scope`).
//!
//! Every answer comes from [`crate::transparency::Transparency`]; this file
//! only parses parameters and shapes responses.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use govledger_tlog::proof::{ConsistencyProof, InclusionProof};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiCode, AppError, ErrorBody};
use crate::http::Auth;
use crate::scope::Scope;
use crate::seq::Seq;
use crate::transparency::LogInfo;

/// The routes, over their own state (merged into [`crate::app`]).
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    Router::new()
        .route("/v1/log", get(get_log))
        .route("/checkpoint", get(get_checkpoint))
        .route("/v1/checkpoints", get(get_checkpoints))
        .route("/v1/proof/inclusion", get(get_inclusion))
        .route("/v1/proof/consistency", get(get_consistency))
        .route("/v1/receipts", get(get_receipts))
        .route("/v1/receipts/{id}", get(get_receipt))
        .with_state(state)
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], body).into_response()
}

fn bad_query(e: QueryRejection, usage: &str) -> AppError {
    AppError::refused(ApiCode::InvalidQuery, format!("{}; use {usage}", e.body_text()))
}

/// The log's origin, verifier key, witnesses and quorum (SPEC 6.2).
#[utoipa::path(get, path = "/v1/log", tag = "proofs",
    responses((status = 200, body = LogInfo), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_log(State(state): State<AppState>, Auth(_): Auth) -> Result<Json<LogInfo>, AppError> {
    Ok(Json(state.transparency()?.info()))
}

/// The latest signed checkpoint with every cosignature it has (C2SP tlog-checkpoint in a signed note).
#[utoipa::path(get, path = "/checkpoint", tag = "proofs",
    responses((status = 200, description = "The signed note", content_type = "text/plain"),
        (status = 401, body = ErrorBody), (status = 404, description = "`proof.no_checkpoint`", body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_checkpoint(State(state): State<AppState>, Auth(_): Auth) -> Result<Response, AppError> {
    Ok(text(state.with_log(|log, _| log.latest()).await?.note))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SizeQuery {
    /// The tree size the checkpoint was signed at.
    size: Seq,
}

/// The checkpoint signed at exactly `size`.
#[utoipa::path(get, path = "/v1/checkpoints", tag = "proofs", params(SizeQuery),
    responses((status = 200, description = "The signed note", content_type = "text/plain"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "`proof.no_checkpoint`", body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_checkpoints(
    State(state): State<AppState>,
    Auth(_): Auth,
    query: Result<Query<SizeQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query.map_err(|e| bad_query(e, "?size=N"))?;
    Ok(text(state.with_log(move |log, _| log.at(q.size.0)).await?.note))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct InclusionQuery {
    /// The event's seq (leaf index seq − 1).
    seq: Seq,
    /// The tree size to prove it in (default: the latest checkpoint's).
    size: Option<Seq>,
}

/// The RFC 9162 inclusion proof of event `seq` in the tree of `size`.
#[utoipa::path(get, path = "/v1/proof/inclusion", tag = "proofs", params(InclusionQuery),
    responses((status = 200, description = "`{\"seq\",\"leaf_index\",\"tree_size\",\"leaf_hash\",\"path\":[hex…]}`, lowest level first",
        content_type = "application/json"), (status = 400, description = "`proof.out_of_range`", body = ErrorBody),
        (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_inclusion(
    State(state): State<AppState>,
    Auth(_): Auth,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<InclusionProof>, AppError> {
    let Query(q) = query.map_err(|e| bad_query(e, "?seq=S&size=N"))?;
    let proof = state
        .with_log(move |log, _| {
            let size = match q.size {
                Some(size) => size.0,
                None => log.latest()?.size,
            };
            log.inclusion(q.seq.0, size)
        })
        .await?;
    Ok(Json(proof))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    /// The older tree size.
    from: Seq,
    /// The newer tree size (default: the latest checkpoint's).
    to: Option<Seq>,
}

/// The RFC 9162 consistency proof from the tree of `from` to the tree of `to`.
#[utoipa::path(get, path = "/v1/proof/consistency", tag = "proofs", params(ConsistencyQuery),
    responses((status = 200, description = "`{\"from\",\"to\",\"path\":[hex…]}`",
        content_type = "application/json"), (status = 400, description = "`proof.out_of_range`", body = ErrorBody),
        (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_consistency(
    State(state): State<AppState>,
    Auth(_): Auth,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyProof>, AppError> {
    let Query(q) = query.map_err(|e| bad_query(e, "?from=M&to=N"))?;
    let proof = state
        .with_log(move |log, _| {
            let to = match q.to {
                Some(to) => to.0,
                None => log.latest()?.size,
            };
            log.consistency(q.from.0, to)
        })
        .await?;
    Ok(Json(proof))
}

/// The receipt of one event: a C2SP `tlog-proof@v1` whose `extra` is the event's canonical body.
#[utoipa::path(get, path = "/v1/receipts/{id}", tag = "proofs",
    params(("id" = String, Path, description = "The event's id (UUID)")),
    responses((status = 200, description = "The receipt (save it as `<id>.tlog-proof`)", content_type = "text/plain"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "No such event, or not one this token may read", body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_receipt(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::Refused {
        code: ApiCode::InvalidQuery,
        index: None,
        field: Some("id".into()),
        message: format!("{id:?} is not an event id (a UUID such as 018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e)"),
    })?;
    let unknown = || AppError::refused(ApiCode::NotFound, format!("no event {id} that this token may read"));
    let event = state.event_by_id(id).await?;
    let event = state.readable(&Scope::of(&principal), event).await?.ok_or_else(unknown)?;
    let seq = event.seq;
    let receipt = state.with_log(move |log, reader| log.receipt(reader, seq)).await?;
    let disposition = format!("attachment; filename=\"{id}.tlog-proof\"");
    let mut response = text(receipt);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ReceiptsQuery {
    /// Only events with a higher seq (default 0).
    after: Option<Seq>,
    /// Most events to scan: 1 to the server's page limit, 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// One line of `GET /v1/receipts`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptLine {
    pub seq: u64,
    pub id: String,
    /// The `tlog-proof@v1` text.
    pub receipt: String,
}

/// Receipts in bulk: NDJSON, one `{"seq","id","receipt"}` per event after `after` (up to `limit` events
/// scanned) that this token may read; the last line's seq (or `after + limit`) is where to continue.
#[utoipa::path(get, path = "/v1/receipts", tag = "proofs", params(ReceiptsQuery),
    responses((status = 200, description = "NDJSON of ReceiptLine", content_type = "application/x-ndjson"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_receipts(
    State(state): State<AppState>,
    Auth(principal): Auth,
    query: Result<Query<ReceiptsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let max = state.limits().max_page;
    let Query(q) = query.map_err(|e| bad_query(e, &format!("?after=SEQ&limit=1..{max}")))?;
    let limit = crate::http::page_limit(q.limit, max)?;
    let events = state.read(q.after.map_or(0, u64::from), limit).await?;
    let readable = state.keep_readable(&Scope::of(&principal), None, events).await?;
    let lines = state
        .with_log(move |log, reader| {
            let mut out = String::new();
            for event in readable {
                let receipt = log.receipt(reader, event.seq)?;
                let line = ReceiptLine { seq: event.seq, id: event.id.to_string(), receipt };
                let json = serde_json::to_string(&line)
                    .map_err(|e| AppError::Internal(format!("cannot serialise a receipt line: {e}")))?;
                out.push_str(&json);
                out.push('\n');
            }
            Ok(out)
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"))], lines).into_response())
}

#[derive(OpenApi)]
#[openapi(
    paths(get_log, get_checkpoint, get_checkpoints, get_inclusion, get_consistency, get_receipt, get_receipts),
    components(schemas(LogInfo, crate::transparency::WitnessInfo, ReceiptLine))
)]
pub(crate) struct ProofsDoc;
