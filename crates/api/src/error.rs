//! The one error type of the server boundary, [`AppError`], and the one place
//! it becomes an HTTP response or a GraphQL error.
//!
//! Every client error carries a stable code: the domain's
//! ([`govledger_domain::ErrorCode`], e.g. `freeze.already_answered`) or one of
//! the server's own ([`ApiCode`], e.g. `auth.actor_mismatch`). The body is
//! always `{"error": {"code", "field", "index", "message"}}`. Server faults
//! (the store failed, the ledger is closing) are logged with their details and
//! answered with a generic sentence, never with internals.
//!
//! A browser (a request that prefers `text/html`) gets the same error as a
//! small page in its language ([`html_errors`]): the same status and stable
//! code, the same sentence, framed by words from the `govledger-i18n`
//! catalogs. JSON clients are answered as before.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use govledger_domain::{ErrorCode, Rejection};
use govledger_ledger::{AppendError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

macro_rules! api_codes {
    ($( $variant:ident => $code:literal, $status:ident : $doc:literal ),+ $(,)?) => {
        /// The server's own stable error codes (the domain's are [`ErrorCode`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ApiCode { $( #[doc = $doc] $variant ),+ }

        impl ApiCode {
            /// Every code, in declaration order (for documentation and metrics).
            pub const ALL: &'static [ApiCode] = &[$(ApiCode::$variant),+];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self { $(ApiCode::$variant => $code),+ }
            }

            /// The HTTP status it is answered with.
            pub fn status(self) -> StatusCode {
                match self { $(ApiCode::$variant => StatusCode::$status),+ }
            }

            /// One line saying when the code is returned.
            pub fn describe(self) -> &'static str {
                match self { $(ApiCode::$variant => $doc),+ }
            }
        }
    };
}

api_codes! {
    MissingToken => "auth.missing_token", UNAUTHORIZED:
        "The request has no `Authorization: Bearer <token>` header (or WebSocket init payload).",
    InvalidToken => "auth.invalid_token", UNAUTHORIZED: "The bearer token is unknown or revoked.",
    TokenExpired => "auth.token_expired", UNAUTHORIZED:
        "The bearer token has expired (`token issue --expires-in/--expires-at`); ask the operator for a new one.",
    ActorMismatch => "auth.actor_mismatch", FORBIDDEN:
        "The event's actor is not the agency the token is bound to.",
    ReadOnly => "auth.read_only", FORBIDDEN: "An auditor token reads everything and writes nothing.",
    RoleForbidden => "auth.role_forbidden", FORBIDDEN:
        "The token's role may not append this event type (e.g. an evaluator token outside AssessmentPublished).",
    RoleNotHeld => "auth.role_not_held", FORBIDDEN:
        "The token's agency is no longer registered, or no longer holds the token's role, in the ledger.",
    RequestTooLarge => "request.too_large", PAYLOAD_TOO_LARGE: "The request body is larger than the server's limit.",
    UnsupportedMediaType => "request.unsupported_media_type", UNSUPPORTED_MEDIA_TYPE:
        "POST /v1/events takes application/json (one envelope) or application/x-ndjson (a batch).",
    UnreadableBody => "request.unreadable_body", BAD_REQUEST: "The request body could not be read to its end.",
    InvalidQuery => "request.invalid_query", BAD_REQUEST:
        "A query parameter is missing, unknown or out of range (e.g. limit above 1000).",
    InvalidCursor => "request.invalid_cursor", BAD_REQUEST: "A pagination cursor is not one this server issued.",
    NotFound => "request.not_found", NOT_FOUND: "No such route or record.",
    GraphqlParse => "graphql.parse_error", BAD_REQUEST: "The GraphQL document does not parse.",
    GraphqlInvalid => "graphql.invalid_query", BAD_REQUEST:
        "The GraphQL document is not valid against the schema (unknown field, wrong argument type …).",
    GraphqlTooDeep => "graphql.too_deep", BAD_REQUEST: "The GraphQL query is nested deeper than the server allows.",
    GraphqlTooComplex => "graphql.too_complex", BAD_REQUEST:
        "The GraphQL request (all documents of a batch together) is more complex than the server allows.",
    GraphqlBatchTooLarge => "graphql.batch_too_large", BAD_REQUEST:
        "The GraphQL batch array holds more documents than the server allows in one request.",
    GraphqlMultipleMutations => "graphql.multiple_mutations", BAD_REQUEST:
        "The GraphQL request holds more than one mutation field; use one `appendEvents` for an atomic batch.",
    GraphqlResponseTooLarge => "graphql.response_too_large", BAD_REQUEST:
        "The GraphQL response would be larger than the server sends; ask for fewer fields or smaller pages.",
    GraphqlInvalidInput => "graphql.invalid_input", BAD_REQUEST:
        "A GraphQL argument could not be converted to its declared type.",
    AssessEmptyLedger => "assessment.empty_ledger", CONFLICT: "The ledger holds no events yet; there is nothing to assess.",
    NoCheckpoint => "proof.no_checkpoint", NOT_FOUND:
        "No checkpoint was signed at that size (or none yet); GET /checkpoint names the latest.",
    ProofOutOfRange => "proof.out_of_range", BAD_REQUEST:
        "A proof was asked for a seq or size outside the tree (sizes run from 1 to the covered head).",
    ChainBroken => "ledger.chain_broken", SERVICE_UNAVAILABLE:
        "The ledger's hash chain does not verify; nothing past the last good position is signed or proven.",
    ProofsUnavailable => "proof.unavailable", SERVICE_UNAVAILABLE:
        "This server runs without a transparency log (no log key), so it signs and proves nothing.",
    Unavailable => "server.unavailable", SERVICE_UNAVAILABLE:
        "The store failed or the server is shutting down; nothing was stored; retry later.",
    StoreAmbiguous => "store.ambiguous", SERVICE_UNAVAILABLE:
        "The store did not say whether it kept the events (a timeout or a lost connection after they were sent); \
         send the same events again with the same ids: those already stored are answered as stored, the others \
         are stored once.",
    Internal => "server.internal", INTERNAL_SERVER_ERROR: "An unexpected server fault; it is logged.",
}

/// Why a request failed. Each variant says how the client should handle it.
///
/// Deliberately not `Display`: async-graphql converts any `Display` error
/// into a GraphQL error without extensions, so without `Display` the
/// compiler makes every `?` in a resolver go through [`AppError::into_graphql`],
/// which keeps the code.
#[derive(Debug)]
pub enum AppError {
    /// An event of the request breaks a rule of the ledger (SPEC 2.5):
    /// fix the event; retrying it unchanged fails the same way.
    Rejected { index: usize, rejection: Rejection },
    /// A server-level refusal (auth, limits, bad query parameters); the code says which.
    Refused { code: ApiCode, index: Option<usize>, field: Option<String>, message: String },
    /// The batch holds more events than the server accepts: split it.
    BatchTooLarge { events: usize, limit: usize },
    /// The store failed or the ledger is closing: nothing was stored; retry later.
    Unavailable(String),
    /// The store may or may not have kept the events: retry with the same ids.
    Ambiguous(String),
    /// A server fault: logged, answered with a generic sentence.
    Internal(String),
}

impl AppError {
    /// A server-level refusal concerning no particular field or event.
    pub fn refused(code: ApiCode, message: impl Into<String>) -> Self {
        AppError::Refused { code, index: None, field: None, message: message.into() }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Rejected { rejection, .. } => rejection.code.as_str(),
            AppError::Refused { code, .. } => code.as_str(),
            AppError::BatchTooLarge { .. } => ErrorCode::BatchTooLarge.as_str(),
            AppError::Unavailable(_) => ApiCode::Unavailable.as_str(),
            AppError::Ambiguous(_) => ApiCode::StoreAmbiguous.as_str(),
            AppError::Internal(_) => ApiCode::Internal.as_str(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Rejected { rejection, .. } => status_of(rejection.code),
            AppError::Refused { code, .. } => code.status(),
            AppError::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) | AppError::Ambiguous(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this is the client's doing (counted as a rejection) rather than the server's.
    pub fn is_client_error(&self) -> bool {
        self.status().is_client_error()
    }

    /// What the client sees. Server faults are logged here, once, with their
    /// details, and described to the client only in general terms.
    pub fn body(&self) -> ErrorBody {
        let (field, index, message) = match self {
            AppError::Rejected { index, rejection } => {
                (rejection.field.clone(), Some(*index), rejection.message.clone())
            }
            AppError::Refused { index, field, message, .. } => (field.clone(), *index, message.clone()),
            AppError::BatchTooLarge { events, limit } => {
                (None, None, format!("the batch holds {events} events; the limit is {limit}; split it"))
            }
            AppError::Unavailable(detail) => {
                tracing::warn!(detail = %detail, "request failed: ledger unavailable");
                (
                    None,
                    None,
                    "the ledger is unavailable (storage failure or shutting down); nothing was stored; retry later"
                        .into(),
                )
            }
            AppError::Ambiguous(detail) => {
                tracing::warn!(detail = %detail, "request failed: the store did not say whether it kept the events");
                (
                    None,
                    None,
                    "the store did not confirm whether it kept the events (a timeout or a lost connection after \
                     they were sent); send the same events again with the same event ids: events already stored are \
                     answered with their seq and hash, the others are stored once. Events sent without an id may \
                     have been stored: look for them (GET /v1/events) before sending them again"
                        .into(),
                )
            }
            AppError::Internal(detail) => {
                tracing::error!(detail = %detail, "request failed: internal error");
                (None, None, "internal server error; it has been logged".into())
            }
        };
        ErrorBody { error: ErrorDetail { code: self.code().to_owned(), field, index, message } }
    }
}

/// The status a domain rejection is answered with. Exhaustive on purpose:
/// a new code must be given a status here before the server compiles.
///
/// - 400: the input is malformed on its own, whatever the ledger holds;
/// - 409: the input conflicts with what is already stored (a duplicate id, a
///   lifecycle step someone else took first) — concurrent clients see these;
/// - 413: too large;
/// - 422: well-formed, but the ledger's rules refuse it in the current state.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::MalformedJson
        | C::EnvelopeUnknownField
        | C::EnvelopeMissingField
        | C::EnvelopeInvalidType
        | C::InvalidEventId
        | C::NilEventId
        | C::UnknownEventType
        | C::DataUnknownField
        | C::DataMissingField
        | C::DataInvalidType
        | C::DataInvalidValue
        | C::InvalidAgencyId
        | C::InvalidEntityId
        | C::InvalidTimestamp
        | C::TimestampTooPrecise
        | C::LeapSecond
        | C::OccurredTooEarly
        | C::AmountOutOfRange
        | C::CountOutOfRange
        | C::TextTooLong
        | C::TextEmpty
        | C::ListEmpty
        | C::ListDuplicate
        | C::RawAccountNumber
        | C::InvalidHash
        | C::PenaltyAmountRequired
        | C::AssessmentPeriodEmpty
        | C::BatchEmpty => StatusCode::BAD_REQUEST,
        C::AgencyAlreadyRegistered
        | C::MeetingExists
        | C::MeetingAlreadyHeld
        | C::TaskExists
        | C::TaskNotOpen
        | C::TaskAlreadyAcknowledged
        | C::CaseExists
        | C::FreezeExists
        | C::FreezeAlreadyAnswered
        | C::FreezeAlreadyReleased
        | C::ClueExists
        | C::ClueFeedbackGiven
        | C::WarningExists
        | C::WarningAlreadyRecorded
        | C::CardActionExists
        | C::PenaltyExists
        | C::PenaltyAlreadyRevoked
        | C::PublicityExists
        | C::AssessmentExists
        | C::RetractionAlreadyRetracted
        | C::RetractionLaterEvents
        | C::IdConflict => StatusCode::CONFLICT,
        C::BatchTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::OccurredInFuture
        | C::BootstrapRequired
        | C::ActorUnknown
        | C::ActorNotAuthorised
        | C::ActorWrongKind
        | C::AgencyNotRegistered
        | C::AgencyWrongKind
        | C::MeetingNotFound
        | C::MeetingNotHeld
        | C::MeetingUnknownResolution
        | C::TaskNotFound
        | C::TaskDueNotAfterAssignment
        | C::TaskDueNotLater
        | C::CaseNotFound
        | C::FreezeNotFound
        | C::FreezeNotExecuted
        | C::FreezeReturnsExceedFrozen
        | C::ClueNotFound
        | C::ClueSelfReferral
        | C::WarningNotFound
        | C::PenaltyNotFound
        | C::AssessmentAsOfBeyondHead
        | C::LifecycleOutOfOrder
        | C::RetractionTargetNotFound
        | C::RetractionTargetIsRetraction => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The error body of every failed HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for machines (`code`, `field`, `index`) and people (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `freeze.already_answered` or `auth.actor_mismatch`.
    #[schema(example = "freeze.already_answered")]
    pub code: String,
    /// The offending field as a path, e.g. `data.invitees[2]`, when one is at fault.
    pub field: Option<String>,
    /// 0-based position of the offending event in the batch (0 for a single envelope).
    pub index: Option<usize>,
    /// A sentence saying what is wrong and what to do instead.
    pub message: String,
}

/// Marks a response with its error code, for the request log and metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCodeTag(pub &'static str);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body();
        let page = ErrorPage { code: body.error.code.clone(), message: body.error.message.clone() };
        let mut response = (status, axum::Json(body)).into_response();
        response.extensions_mut().insert(ErrorCodeTag(self.code()));
        response.extensions_mut().insert(page);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// What a browser's error page shows: the body's code and sentence.
#[derive(Debug, Clone)]
struct ErrorPage {
    code: String,
    message: String,
}

/// Whether a request prefers HTML to JSON (RFC 9110 12.5.1): a browser
/// opening a page asks for `text/html` first; `fetch`, curl and API clients
/// send `*/*` or `application/json`.
fn prefers_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return false };
    let quality = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let media = parts.next()?.trim();
                let q = parts.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.trim().parse::<f32>().ok());
                media.eq_ignore_ascii_case(wanted).then_some(q.unwrap_or(1.0))
            })
            .fold(0.0_f32, f32::max)
    };
    let html = quality("text/html");
    html > 0.0 && html >= quality("application/json")
}

/// Turns an [`AppError`]'s JSON answer into a small localised HTML page when
/// the request prefers HTML (the browser's `Accept-Language`, else the
/// server's language); the status, the `WWW-Authenticate` header and the
/// code stay. Every other response passes unchanged.
pub(crate) async fn html_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = prefers_html(request.headers())
        .then(|| crate::dashboard::page_lang(&state, request.headers(), None).unwrap_or(govledger_i18n::Lang::DEFAULT));
    let response = next.run(request).await;
    let (Some(lang), Some(page)) = (lang, response.extensions().get::<ErrorPage>().cloned()) else {
        return response;
    };
    let (mut parts, _json) = response.into_parts();
    let status = parts.status;
    let t = |id: &str| lang.t(id, &[]);
    let headline = match status.as_u16() {
        401 => "error-page-unauthorized",
        403 => "error-page-forbidden",
        404 => "error-page-not-found",
        429 | 503 => "error-page-busy",
        500.. => "error-page-server",
        _ => "error-page-bad-request",
    };
    let title = lang.t("error-page-title", &[("status", &status.as_u16().to_string())]);
    let html = maud::html! {
        (maud::DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (maud::PreEscaped(ERROR_PAGE_CSS)) }
            }
            body {
                h1 { (title) }
                p.headline { (t(headline)) }
                @if status == StatusCode::UNAUTHORIZED { p { (t("error-page-unauthorized-hint")) } }
                dl {
                    dt { (t("error-page-code")) } dd { code.error-code { (page.code) } }
                    dt { (t("error-page-detail")) } dd { (page.message) }
                }
                p { a href="/" { (t("error-page-back")) } }
            }
        }
    };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(html.into_string()))
}

const ERROR_PAGE_CSS: &str = "body { margin: 40px auto; max-width: 720px; padding: 0 16px; color: #1b1f24; \
    font: 15px/1.5 system-ui, \"Noto Sans CJK SC\", \"PingFang SC\", \"Microsoft YaHei\", \"WenQuanYi Micro Hei\", sans-serif; } \
    h1 { color: #1f4e79; font-size: 22px; } dt { color: #5a6270; } dd { margin: 0 0 8px; } \
    code { font-family: ui-monospace, monospace; background: #f3f5f8; padding: 1px 4px; }";

impl From<AppendError> for AppError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Rejected { index, rejection } => AppError::Rejected { index, rejection },
            AppendError::Store(e) => AppError::from(e),
            AppendError::Closed => AppError::Unavailable("the ledger is closed".into()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt { .. } => AppError::Internal(e.to_string()),
            StoreError::Conflict { .. } | StoreError::Locked(_) | StoreError::Io(_) => {
                AppError::Unavailable(e.to_string())
            }
            StoreError::Ambiguous(_) => AppError::Ambiguous(e.to_string()),
        }
    }
}

impl AppError {
    /// The error as GraphQL reports it: the message, and `code`, `field`,
    /// `index` and `status` in `extensions`.
    pub fn into_graphql(self) -> async_graphql::Error {
        let status = self.status().as_u16();
        let body = self.body().error;
        let mut error = async_graphql::Error::new(body.message);
        let ext = error.extensions.get_or_insert_with(Default::default);
        ext.set("code", body.code);
        if let Some(field) = body.field {
            ext.set("field", field);
        }
        if let Some(index) = body.index {
            ext.set("index", index as u64);
        }
        ext.set("status", status);
        error
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        e.into_graphql()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_code_has_a_client_error_status() {
        for code in ErrorCode::ALL {
            let status = status_of(*code);
            assert!(status.is_client_error(), "{code} maps to {status}");
        }
        assert_eq!(status_of(ErrorCode::FreezeAlreadyAnswered), StatusCode::CONFLICT);
        assert_eq!(status_of(ErrorCode::IdConflict), StatusCode::CONFLICT);
        assert_eq!(status_of(ErrorCode::DataUnknownField), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(ErrorCode::LifecycleOutOfOrder), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn api_codes_are_unique_and_namespaced() {
        let mut seen = std::collections::HashSet::new();
        for code in ApiCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert!(code.as_str().contains('.'), "{} has no namespace", code.as_str());
            assert!(
                ErrorCode::ALL.iter().all(|c| c.as_str() != code.as_str()),
                "{} clashes with the domain",
                code.as_str()
            );
        }
    }

    #[test]
    fn server_faults_do_not_leak_details() {
        let e = AppError::from(StoreError::Io("disk /dev/sda1 on fire at /secret/path".into()));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = serde_json::to_string(&e.body()).unwrap();
        assert!(!body.contains("/secret/path"), "{body}");
        assert!(body.contains("server.unavailable"), "{body}");
        let e = AppError::from(AppendError::Store(StoreError::Ambiguous(
            "deadline exceeded at kurrentdb://admin:secret@node1:2113".into(),
        )));
        assert_eq!((e.status(), e.code()), (StatusCode::SERVICE_UNAVAILABLE, "store.ambiguous"));
        let body = serde_json::to_string(&e.body()).unwrap();
        assert!(!body.contains("secret"), "{body}");
        assert!(body.contains("same event ids"), "{body}");
        let e = AppError::Internal("stack trace here".into());
        assert!(!serde_json::to_string(&e.body()).unwrap().contains("stack trace"));
    }
}
