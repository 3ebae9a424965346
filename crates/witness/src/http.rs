//! The witness's HTTP interface (C2SP tlog-witness), testable without sockets:
//!
//! - `POST /add-checkpoint`: 200 with the cosignature line(s); 400, 403, 404, 409
//!   (body `<size>\n`, `Content-Type: text/x.tlog.size`) or 422 with a sentence;
//! - `GET /<origin hash>/checkpoint`: the latest cosigned checkpoint of that log,
//!   with the log's signature and the witness's cosignature; 404 when none.
//!
//! Errors are plain-text sentences. A storage failure is logged with its details
//! and answered with a generic 500. Request bodies are limited to
//! [`MAX_BODY_BYTES`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use govledger_tlog::witness_wire::SIZE_CONTENT_TYPE;

use crate::witness::{AddError, Witness};

/// The largest request body accepted: a checkpoint with many signatures and 63
/// proof lines fits many times over.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const TEXT: &str = "text/plain; charset=utf-8";

/// The witness's routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(latest_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let now = unix_now_s();
    // Saving the checkpoint waits for the disk: off the async workers.
    let result = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now)).await;
    match result {
        Ok(Ok(lines)) => (StatusCode::OK, [(header::CONTENT_TYPE, TEXT)], lines).into_response(),
        Ok(Err(refusal)) => refusal_response(&refusal),
        Err(e) => {
            tracing::error!(error = %e, "the add-checkpoint task failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "the witness failed while handling the request; try again later\n")
        }
    }
}

async fn latest_checkpoint(State(witness): State<Arc<Witness>>, Path(origin_hash): Path<String>) -> Response {
    match witness.latest_by_origin_hash(&origin_hash) {
        Some(cosigned) => (StatusCode::OK, [(header::CONTENT_TYPE, TEXT)], cosigned.note).into_response(),
        None => text(
            StatusCode::NOT_FOUND,
            "this witness has cosigned no checkpoint of a log with that origin hash (lowercase hex SHA-256 of the origin)\n",
        ),
    }
}

/// The one place a refusal becomes a response.
fn refusal_response(refusal: &AddError) -> Response {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match refusal {
        AddError::Conflict { size } => {
            (status, [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)], format!("{size}\n")).into_response()
        }
        // A storage failure's sentence is generic; its details were logged where it happened.
        _ => text(status, &format!("{refusal}\n")),
    }
}

fn text(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, TEXT)], body.to_owned()).into_response()
}

fn unix_now_s() -> u64 {
    // A clock before 1970 would give timestamp 0, which cosignatures must not carry.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_secs().max(1))
}
