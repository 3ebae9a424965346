//! Publishing a report (issue 17): `POST /v1/publications` renders the
//! report of a period on the server, records its SHA-256 as
//! `AssessmentPublished` with the caller's evaluator token, and only then
//! returns the file, so an evaluator publishes while `serve` holds the data
//! directory. `govledger report --publish --server URL` is its client.
//!
//! The report is made exactly as `govledger report` makes it ([`render`],
//! which the CLI calls too) and the event is the CLI's
//! ([`publication_envelope`]), so `govledger report verify` checks a file
//! published either way. A chain that does not verify as far as the server's
//! continuous check has reached is refused before anything is rendered
//! (`ledger.chain_broken`), as the CLI refuses it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use govledger_assess::{AssessError, Assessment, Model, Projection, Query};
use govledger_domain::{ErrorCode, Rejection, Submission, Timestamp};
use govledger_report::{Format, Locale, Proven, ReportInput, TitlePage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiCode, AppError, ErrorBody};
use crate::http::{Auth, Http, WireEvent, body_bytes};
use crate::seq::Seq;

/// The report of `query` as `format` and the assessment it shows, stamped
/// with `proven(as_of_seq)` and naming `issuer` (an agency id) on its title
/// page: the one way a report is made, for the CLI and the server alike.
/// Its issue date is the `recorded_at` of the event at its position.
pub fn render<E: From<AssessError>>(
    projection: &Projection,
    model: &Model,
    query: &Query,
    report: ReportSettings<'_>,
    proven: &dyn Fn(u64) -> Result<Option<Proven>, E>,
) -> Result<(Vec<u8>, Assessment), E> {
    let ReportSettings { format, locale, issuer } = report;
    let doc = projection.assess(model, query)?;
    // The trend months are computed at the same position as the report.
    let fixed = Query { as_of: Some(doc.as_of_seq), ..*query };
    let months = govledger_report::monthly(projection, model, &fixed, locale.zone)?;
    let issued_at = projection.recorded_at(doc.as_of_seq).map(|t| t.to_rfc3339()).unwrap_or_default();
    let title = TitlePage { issuer: issuer.map(str::to_owned), issued_at };
    let input = ReportInput {
        assessment: &doc,
        model,
        months: &months,
        live: None,
        proven: proven(doc.as_of_seq)?,
        locale,
        title: Some(title),
    };
    Ok((govledger_report::render(format, &input), doc))
}

/// How a report is written: its format, language and zone, and its issuer.
#[derive(Debug, Clone, Copy)]
pub struct ReportSettings<'a> {
    pub format: Format,
    pub locale: Locale,
    /// The issuing agency's id, named on the title page (`None`: not stated).
    pub issuer: Option<&'a str>,
}

/// A kept checkpoint as a report's stamp (SPEC 6.4).
pub fn stamp(kept: govledger_transparency::StoredCheckpoint) -> Proven {
    Proven { size: kept.size, root: govledger_tlog::merkle::to_hex(&kept.root), cosignatures: kept.cosignatures }
}

/// The `AssessmentPublished` envelope recording that `agency` published the
/// report of `doc` whose SHA-256 is `report_sha256`.
pub fn publication_envelope(agency: &str, doc: &Assessment, report_sha256: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "AssessmentPublished",
        "actor": agency,
        "occurred_at": Timestamp::now().to_rfc3339(),
        "data": {
            // One publication per report: publishing the same bytes twice is refused.
            "assessment_id": format!("report-{}", &report_sha256[..32]),
            "period_from": doc.period.from,
            "period_to": doc.period.to,
            "as_of_seq": doc.as_of_seq,
            "model_sha256": doc.model_sha256,
            "report_sha256": report_sha256,
        }
    })
}

/// What to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Start of the period, inclusive (RFC 3339 with an offset).
    #[schema(example = "2026-07-01T00:00:00+08:00")]
    pub from: String,
    /// End of the period, exclusive (RFC 3339 with an offset).
    #[schema(example = "2026-10-01T00:00:00+08:00")]
    pub to: String,
    /// The ledger position the report is made at (default: the head).
    pub as_of: Option<Seq>,
    /// `html` (default), `md`, `csv` or `json`, as `govledger report --format`.
    #[schema(example = "html")]
    pub format: Option<String>,
    /// The report's language, `zh-CN` or `en` (default: the server's `--lang`).
    #[schema(example = "zh-CN")]
    pub lang: Option<String>,
    /// The time zone (IANA name) its times, months and quarters are shown in
    /// (default: the server's `--tz`).
    #[schema(example = "Asia/Shanghai")]
    pub tz: Option<String>,
}

/// A recorded publication and the report it names.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Publication {
    /// The stored `AssessmentPublished` event.
    pub event: WireEvent,
    /// SHA-256 of `content`'s bytes (UTF-8), as recorded in the event.
    pub report_sha256: String,
    pub format: String,
    /// The report file, byte for byte.
    pub content: String,
}

/// A malformed field of the request, with the domain's code.
fn bad(field: &str, code: ErrorCode, message: String) -> AppError {
    AppError::Rejected { index: 0, rejection: Rejection::at(code, field, message) }
}

/// Renders a report on the server, records its hash as `AssessmentPublished`
/// (evaluator tokens only) and returns it; the file is returned only once
/// the event is stored.
#[utoipa::path(
    post, path = "/v1/publications", tag = "reports",
    request_body(content = PublishRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded: the event and the report file (write it only now).",
            body = Publication),
        (status = 400, description = "`json.malformed`, `data.unknown_field`, `time.invalid` … with the field; \
            `assessment.empty_period`; nothing stored.", body = ErrorBody),
        (status = 401, description = "`auth.missing_token`, `auth.invalid_token`.", body = ErrorBody),
        (status = 403, description = "`auth.role_forbidden` (not an evaluator token), `auth.read_only`, \
            `auth.role_not_held`.", body = ErrorBody),
        (status = 409, description = "`assessment.already_exists`: this very report was published before.",
            body = ErrorBody),
        (status = 422, description = "The ledger's rules refuse it (e.g. `assessment.as_of_beyond_head`).",
            body = ErrorBody),
        (status = 503, description = "`ledger.chain_broken`: the chain does not verify, nothing is published; \
            `server.unavailable`: retry.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn post_publication(
    State(http): State<Http>,
    Auth(principal): Auth,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Publication>), AppError> {
    crate::auth::authorize_publication(&principal)?;
    let bytes = body_bytes(body, http.state.limits())?;
    let request: PublishRequest = serde_json::from_slice(&bytes).map_err(|e| {
        let text = e.to_string();
        let code = match () {
            _ if !e.is_data() => ErrorCode::MalformedJson,
            _ if text.starts_with("unknown field") => ErrorCode::DataUnknownField,
            _ if text.starts_with("missing field") => ErrorCode::DataMissingField,
            _ => ErrorCode::DataInvalidType,
        };
        AppError::Rejected {
            index: 0,
            rejection: Rejection::new(
                code,
                format!("the body is not a publication request ({{\"from\", \"to\", \"as_of\"?, \"format\"?}}): {e}"),
            ),
        }
    })?;
    let query = period(&request.from, &request.to, request.as_of)?;
    let format = match request.format.as_deref() {
        None => Format::Html,
        Some(text) => Format::parse(text).ok_or_else(|| {
            bad("format", ErrorCode::DataInvalidValue, format!("format {text:?} is not one of html, md, csv, json"))
        })?,
    };
    let locale = locale(&http.state, request.lang.as_deref(), request.tz.as_deref())?;
    let published = publish(&http.state, &principal, query, format, locale).await?;
    let publication = Publication {
        event: published.event.into(),
        report_sha256: published.report_sha256,
        format: format.as_str().to_owned(),
        content: published.content,
    };
    Ok((StatusCode::CREATED, Json(publication)))
}

/// A stored publication and the report it names.
pub(crate) struct Published {
    pub(crate) event: govledger_ledger::StoredEvent,
    pub(crate) report_sha256: String,
    pub(crate) content: String,
}

/// The period `[from, to)` as of `as_of` of a publication request, its
/// malformed parts named by field.
pub(crate) fn period(from: &str, to: &str, as_of: Option<Seq>) -> Result<Query, AppError> {
    let time = |field: &str, text: &str| Timestamp::parse(text).map_err(|r| bad(field, r.code, r.message));
    Ok(Query { from: time("from", from)?, to: time("to", to)?, as_of: as_of.map(u64::from) })
}

/// The report's language and time zone: those asked for, else the server's.
pub(crate) fn locale(state: &crate::AppState, lang: Option<&str>, tz: Option<&str>) -> Result<Locale, AppError> {
    let default = state.locale();
    let lang = match lang {
        None => default.lang,
        Some(text) => govledger_i18n::Lang::parse(text).ok_or_else(|| {
            bad("lang", ErrorCode::DataInvalidValue, format!("lang {text:?} is not one of zh-CN, en"))
        })?,
    };
    let zone = match tz {
        None => default.zone,
        Some(text) => govledger_i18n::Zone::parse(text).ok_or_else(|| {
            bad(
                "tz",
                ErrorCode::DataInvalidValue,
                format!("tz {text:?} is not an IANA time zone name (like Asia/Shanghai)"),
            )
        })?,
    };
    Ok(Locale { lang, zone })
}

/// Checks the chain, renders, records, answers: `POST /v1/publications`
/// and the GraphQL mutation `publishReport`.
pub(crate) async fn publish(
    state: &crate::AppState,
    principal: &crate::Principal,
    query: Query,
    format: Format,
    locale: Locale,
) -> Result<Published, AppError> {
    crate::auth::authorize_publication(principal)?;
    // SPEC 6: an assessment used for incentives is never published from a
    // ledger whose chain does not verify.
    let chain = state.verify().await?;
    if let Some(problem) = chain.problem {
        return Err(AppError::refused(
            ApiCode::ChainBroken,
            format!(
                "cannot publish: the ledger's chain does not verify at seq {} ({}); nothing was published. \
                 The operator runs `govledger verify` and restores a verified backup.",
                problem.seq, problem.detail
            ),
        ));
    }
    let log = state.transparency().ok().cloned();
    let issuer = principal.agency.clone();
    let query = Query { as_of: Some(query.as_of.unwrap_or(chain.ledger_head)), ..query };
    let (content, doc) = state
        .with_projection(move |projection, model| {
            let proven = |seq| match &log {
                Some(log) => log.first_covering(seq).map(|kept| kept.map(stamp)),
                None => Ok(None),
            };
            // The publishing evaluator's agency issues the report.
            let settings = ReportSettings { format, locale, issuer: Some(&issuer) };
            let (bytes, doc) = render(projection, model, &query, settings, &proven)?;
            let content = String::from_utf8(bytes)
                .map_err(|e| AppError::Internal(format!("the {} report is not UTF-8: {e}", format.as_str())))?;
            Ok((content, doc))
        })
        .await?;
    let sha = govledger_report::sha256_hex(content.as_bytes());
    let submission = Submission::parse(publication_envelope(&principal.agency, &doc, &sha))
        .map_err(|rejection| AppError::Rejected { index: 0, rejection })?;
    let appended = state.append(principal, vec![submission]).await?;
    let event = appended
        .into_iter()
        .next()
        .map(|a| a.event)
        .ok_or_else(|| AppError::Internal("the ledger stored the publication but returned no event".into()))?;
    tracing::info!(token = %principal.token_id, agency = %principal.agency, seq = event.seq, report_sha256 = %sha,
        format = format.as_str(), "report published");
    Ok(Published { event, report_sha256: sha, content })
}

impl From<AssessError> for AppError {
    fn from(e: AssessError) -> Self {
        crate::assess::assess_error(e)
    }
}
