//! `GET /readyz`: whether this replica should take traffic (a load
//! balancer's check), as opposed to `/healthz`, which says the process is
//! alive. Ready means, within [`READY_TIMEOUT`]:
//!
//! - the store answers (its head can be read);
//! - the ledger follows it: after catching up, its head is the store's
//!   (catching up checks each followed event's seq, link and hash, so a
//!   replica that cannot fold another writer's event is not ready);
//! - the chain verifies as far as the server's continuous check has got
//!   (SPEC 6.2; with a transparency log), and that check is not still at
//!   its start-up pass.
//!
//! Anything else is 503 with the reason. The body names no store address or
//! error detail (the route needs no token); the log has them.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::ChainHealth;
use crate::http::Http;

/// How long the store may take to answer and the ledger to catch up.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a replica is not ready.
struct NotReady(String);

/// Readiness: 200 `{"status":"ready","head","chain"}`, or 503
/// `{"status":"not_ready","reason"}`.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "`{\"status\":\"ready\",\"head\":seq,\"chain\":…}`: the store answers, this replica \
        follows it up to its head, and the chain verifies as far as the server has checked it"),
    (status = 503, description = "`{\"status\":\"not_ready\",\"reason\":…}`: the store does not answer, this replica \
        cannot follow it, or the chain does not verify (or its start-up check still runs)"),
))]
pub(crate) async fn readyz(State(http): State<Http>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, check(&http)).await {
        Ok(Ok(ready)) => (StatusCode::OK, Json(ready)).into_response(),
        Ok(Err(NotReady(reason))) => not_ready(reason),
        Err(_) => not_ready(format!("the store did not answer within {} s", READY_TIMEOUT.as_secs())),
    }
}

fn not_ready(reason: String) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "not_ready", "reason": reason}))).into_response()
}

async fn check(http: &Http) -> Result<serde_json::Value, NotReady> {
    let ledger = http.state.ledger().clone();
    let reader = ledger.reader().clone();
    let anchor = tokio::task::spawn_blocking(move || reader.anchor())
        .await
        .map_err(|e| NotReady(format!("the store check failed: {e}")))?;
    let store_head = match anchor {
        Ok(anchor) => anchor.map_or(0, |a| a.seq),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the store cannot be read");
            return Err(NotReady("the store cannot be read (the server log says why)".into()));
        }
    };
    let mut head = ledger.head().seq;
    if head < store_head {
        match ledger.catch_up().await {
            Ok(h) => head = h.seq,
            Err(e) => {
                tracing::warn!(error = %e, "not ready: cannot follow the store");
                return Err(NotReady(format!(
                    "this replica cannot follow the store past seq {} (the server log says why)",
                    ledger.head().seq
                )));
            }
        }
    }
    if head < store_head {
        return Err(NotReady(format!("this replica is at seq {head}, the store at seq {store_head}")));
    }
    let chain = match http.state.transparency() {
        Err(_) => json!({"status": "not_checked"}),
        Ok(log) => match log.health() {
            ChainHealth::Ok { seq } => json!({"status": "ok", "seq": seq}),
            ChainHealth::Checking => return Err(NotReady("the start-up check of the chain still runs".into())),
            ChainHealth::Broken { seq, .. } => {
                return Err(NotReady(format!("the chain does not verify at seq {seq}")));
            }
        },
    };
    Ok(json!({"status": "ready", "head": head, "chain": chain}))
}
