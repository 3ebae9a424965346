//! GraphQL over HTTP (SPEC 4): `POST /graphql` (a document or a batch
//! array, with the per-request limits of `graphql::limits`, answers to
//! read-only documents kept per head in the response cache) and `GET
//! /graphql` (the GraphiQL page, or a graphql-transport-ws WebSocket for
//! subscriptions, closed with 1001 at shutdown). Errors refused before
//! execution are shaped as GraphQL errors with the HTTP status of the error.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use crate::auth::bearer;
use crate::error::{ApiCode, AppError, ErrorBody, ErrorCodeTag};
use crate::http::{Http, body_bytes, cookie_token, header_token, token_of};
use crate::response_cache::ResponseCache;

/// GraphQL queries and mutations (a request, or a batch of requests).
#[utoipa::path(
    post, path = "/graphql", tag = "graphql",
    request_body(description = "`{query, variables?, operationName?}`, or a batch array of at most 16 of them; \
        schema in schema/govledger.graphql. Limits of one request (README, Limits): complexity 20,000 over all \
        documents of a batch (`graphql.too_complex`), at most one mutation field (`graphql.multiple_mutations`; \
        `appendEvents` stores several events atomically), a response of at most 32 MiB \
        (`graphql.response_too_large`).",
        content_type = "application/json"),
    responses(
        (status = 200, description = "GraphQL response; errors carry `extensions.code` (`graphql.too_complex` for \
            a document that would take the request over its complexity budget)."),
        (status = 400, description = "Refused before anything ran: `graphql.parse_error` (not a GraphQL request), \
            `graphql.batch_too_large` (more than 16 documents), `graphql.multiple_mutations` (more than one \
            mutation field in the request), `graphql.response_too_large`, `request.unreadable_body` (the body \
            stopped arriving)."),
        (status = 401, description = "GraphQL-shaped error with `extensions.code` `auth.*`."),
        (status = 413, description = "`request.too_large`."),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn graphql_post(
    State(http): State<Http>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match graphql_execute(&http, &headers, body).await {
        Ok(response) => response,
        Err(e) => graphql_error_response(e),
    }
}

async fn graphql_execute(
    http: &Http,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let principal = http.state.authenticate(token_of(headers)?).await?;
    let bytes = body_bytes(body, http.state.limits())?;
    // The head before execution: the answer reflects at least this head.
    let head_seq = http.state.ledger().head().seq;
    let key = ResponseCache::make_key(head_seq, &principal.agency, principal.role.as_str(), &bytes);
    let json = |body: Bytes| ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body);
    let cell = key.as_ref().map(|k| http.responses.cell(k));
    if let Some(hit) = cell.as_ref().and_then(|c| c.get()) {
        return Ok(json(hit.clone()).into_response());
    }
    let request: async_graphql::BatchRequest = serde_json::from_slice(&bytes).map_err(|e| {
        AppError::refused(ApiCode::GraphqlParse, format!("the body is not a GraphQL request ({{\"query\": …}}): {e}"))
    })?;
    let limits = http.state.limits().graphql;
    let documents = match &request {
        async_graphql::BatchRequest::Single(r) => std::slice::from_ref(r),
        async_graphql::BatchRequest::Batch(rs) => rs.as_slice(),
    };
    crate::graphql::limits::check_batch(documents, &limits)?;
    let execute = || async {
        // One complexity budget for every document of the request.
        let request = request.data(principal).data(crate::graphql::limits::RequestBudget::new());
        let response = http.schema.execute_batch(request).await;
        let body = crate::graphql::limits::bounded_json(&response, limits.max_response_bytes)
            .map(Bytes::from)
            .map_err(Unkept::Failed)?;
        if response.is_ok() { Ok(body) } else { Err(Unkept::Errors(body)) }
    };
    let (Some(key), Some(cell)) = (key, cell) else {
        return match execute().await {
            Ok(body) | Err(Unkept::Errors(body)) => Ok(json(body).into_response()),
            Err(Unkept::Failed(e)) => Err(e),
        };
    };
    // Requests with the same key that arrive meanwhile wait for this answer.
    match cell.get_or_try_init(execute).await {
        Ok(body) => {
            http.responses.keep(&key, body);
            Ok(json(body.clone()).into_response())
        }
        Err(Unkept::Errors(body)) => Ok(json(body).into_response()),
        Err(Unkept::Failed(e)) => Err(e),
    }
}

/// A GraphQL response that is not kept in the response cache.
enum Unkept {
    /// A response with errors (sent, never kept).
    Errors(Bytes),
    /// No response could be made.
    Failed(AppError),
}

/// Errors before execution, shaped as GraphQL clients expect them, with the HTTP status of the error.
fn graphql_error_response(e: AppError) -> Response {
    let status = e.status();
    let code = e.code();
    let body = e.body().error;
    let classification = crate::graphql::classification(&body.code);
    let mut extensions =
        serde_json::json!({"code": body.code, "classification": classification, "status": status.as_u16()});
    if let Some(field) = body.field {
        extensions["field"] = field.into();
    }
    let mut response =
        (status, Json(serde_json::json!({"errors": [{"message": body.message, "extensions": extensions}]})))
            .into_response();
    response.extensions_mut().insert(ErrorCodeTag(code));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// GraphiQL for a browser, or a WebSocket (graphql-transport-ws or
/// graphql-ws) for subscriptions. The WebSocket authenticates with the
/// `Authorization` header or, as browsers cannot set headers on WebSockets,
/// with `{"Authorization": "Bearer <token>"}` in the `connection_init`
/// payload, or else with the dashboard's session cookie.
#[utoipa::path(
    get, path = "/graphql", tag = "graphql",
    responses(
        (status = 200, description = "Without a WebSocket upgrade: the GraphiQL page (HTML, no data, no token needed).",
            content_type = "text/html"),
        (status = 101, description = "A WebSocket upgrade with the subprotocol graphql-transport-ws (or graphql-ws) \
            for subscriptions; the token goes in `Authorization` or in the `connection_init` payload."),
        (status = 400, description = "`request.invalid_query`: an upgrade without a GraphQL subprotocol.",
            body = ErrorBody),
    ),
)]
pub(crate) async fn graphql_get(
    State(http): State<Http>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    protocol: Result<GraphQLProtocol, StatusCode>,
) -> Response {
    let Ok(ws) = ws else {
        return crate::graphiql::page();
    };
    let Ok(protocol) = protocol else {
        return AppError::refused(
            ApiCode::InvalidQuery,
            "the WebSocket needs the subprotocol graphql-transport-ws (or graphql-ws)",
        )
        .into_response();
    };
    let header_token = match header_token(&headers) {
        Ok(t) => t.map(str::to_owned),
        Err(e) => return e.into_response(),
    };
    let cookie_token = cookie_token(&headers).map(str::to_owned);
    let state = http.state.clone();
    let schema = http.schema.clone();
    let mut shutdown = state.shutdown_signal();
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| async move {
        let (mut sink, stream) = socket.split();
        // Ending the client's stream at shutdown closes the connection, so a
        // subscriber cannot hold the server open.
        let stopping = shutdown.clone();
        let stream = stream.take_until(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        });
        GraphQLWebSocket::new_with_pair(&mut sink, stream, schema, protocol)
            .on_connection_init(move |payload| async move {
                // The page's session cookie last: a token the client names wins.
                let token = header_token.or_else(|| init_token(&payload)).or(cookie_token);
                let principal = state.authenticate(token.as_deref()).await.map_err(AppError::into_graphql)?;
                let mut data = async_graphql::Data::default();
                data.insert(principal);
                Ok(data)
            })
            .serve()
            .await;
        if *stopping.borrow() {
            // "Going away" (RFC 6455, 1001): the client should reconnect, to this
            // server once it is back or to another replica.
            let frame = CloseFrame { code: 1001, reason: "the server is shutting down; reconnect".into() };
            let _ = sink.send(Message::Close(Some(frame))).await;
        }
        let _ = sink.close().await;
    })
}

/// The bearer token in a `connection_init` payload: `Authorization` (any case) or `token`.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    obj.iter().find_map(|(k, v)| {
        let v = v.as_str()?;
        if k.eq_ignore_ascii_case("authorization") {
            bearer(v).map(str::to_owned)
        } else if k == "token" {
            Some(v.to_owned())
        } else {
            None
        }
    })
}
