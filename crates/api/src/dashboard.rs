//! The live dashboard: `GET /` serves the HTML assessment report
//! (`govledger-report`) of a period (the current quarter by default; `?from=`
//! and `?to=` as `YYYY-MM-DD`, midnight in the server's time zone, Beijing
//! time unless `serve --tz` says otherwise) for every token, in the reader's
//! language (`?lang=`, else the browser's `Accept-Language`, else the
//! server's `--lang`, zh-CN by default), with a period picker and a
//! small inline script that polls `GET /dashboard/head` and reloads when the
//! ledger's head moves. The page holds assessments only (scores, rankings,
//! indicators and the ids of their evidence), which every token reads
//! (SPEC 4 v1.2); an agency token's page highlights its own agency.
//!
//! A browser cannot send `Authorization` when opening a link, so the token
//! may also come as `?token=`: the server checks it, keeps it in an
//! HttpOnly, same-site cookie (which the page's own requests then carry) and
//! redirects to the page without it.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use govledger_domain::Timestamp;
use govledger_i18n::{Lang, Locale};
use govledger_report::{Format, Live, ReportInput};

use crate::auth::{Principal, bearer};
use crate::scope::Scope;
use crate::{ApiCode, AppError, AppState};

use crate::http::SESSION_COOKIE as COOKIE;

/// The dashboard's routes, for any router state (they carry their own).
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    Router::new().route("/", get(page)).route("/dashboard/head", get(head)).with_state(state)
}

#[derive(serde::Deserialize)]
struct PageQuery {
    token: Option<String>,
    from: Option<String>,
    to: Option<String>,
    lang: Option<String>,
}

/// The language of a page for a browser: `?lang=` (a bad one is refused),
/// else the best of `Accept-Language` we have a catalog for, else the
/// server's default.
pub(crate) fn page_lang(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Result<Lang, AppError> {
    if let Some(text) = query.filter(|t| !t.is_empty()) {
        return Lang::parse(text).ok_or_else(|| {
            AppError::refused(ApiCode::InvalidQuery, format!("`lang` must be zh-CN or en, not {text:?}"))
        });
    }
    Ok(headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(state.locale().lang))
}

/// The token of a browser request: header, then query, then cookie.
fn token_of(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(t) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer) {
        return Some(t.to_owned());
    }
    if let Some(t) = query.filter(|t| !t.is_empty()) {
        return Some(t.to_owned());
    }
    crate::http::cookie_token(headers).map(str::to_owned)
}

/// Authenticates a dashboard reader (any token).
async fn reader(state: &AppState, token: Option<&str>) -> Result<Principal, AppError> {
    state.authenticate(token).await
}

fn date(name: &str, text: Option<&str>, default: NaiveDate) -> Result<NaiveDate, AppError> {
    match text {
        None | Some("") => Ok(default),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
            AppError::refused(ApiCode::InvalidQuery, format!("`{name}` must be a date like 2026-01-01, not {t:?}"))
        }),
    }
}

async fn page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    // A token in the link: check it, keep it in a cookie and redirect to the
    // same page without it, so it does not stay in the address bar or history.
    if let Some(token) = q.token.as_deref().filter(|t| !t.is_empty()) {
        if let Err(e) = reader(&state, Some(token)).await {
            return e.into_response();
        }
        let mut location = "/".to_owned();
        let period: Vec<String> = [("from", &q.from), ("to", &q.to), ("lang", &q.lang)]
            .iter()
            .filter_map(|(k, v)| v.as_deref().filter(|v| is_query_text(v)).map(|v| format!("{k}={v}")))
            .collect();
        if !period.is_empty() {
            location = format!("/?{}", period.join("&"));
        }
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        let mut response = StatusCode::SEE_OTHER.into_response();
        for (name, value) in [(header::LOCATION, location), (header::SET_COOKIE, cookie)] {
            match HeaderValue::from_str(&value) {
                Ok(v) => {
                    response.headers_mut().insert(name, v);
                }
                Err(_) => {
                    return AppError::refused(ApiCode::InvalidToken, "the token holds characters a token never has")
                        .into_response();
                }
            }
        }
        return response;
    }
    match render(&state, &headers, &q).await {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            html,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Only letters, digits and dashes (dates, language tags) go back into the redirect's query.
fn is_query_text(text: &str) -> bool {
    !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

async fn render(state: &AppState, headers: &HeaderMap, q: &PageQuery) -> Result<String, AppError> {
    let principal = reader(state, token_of(headers, q.token.as_deref()).as_deref()).await?;
    let zone = state.locale().zone;
    let locale = Locale { lang: page_lang(state, headers, q.lang.as_deref())?, zone };
    let (default_from, default_to) = zone.quarter_of(Timestamp::now().micros());
    let from = date("from", q.from.as_deref(), default_from)?;
    let to = date("to", q.to.as_deref(), default_to)?;
    let head_seq = state.ledger().head().seq;
    if head_seq == 0 {
        return Err(AppError::refused(ApiCode::InvalidQuery, "the ledger is empty; there is nothing to assess yet"));
    }
    // Dates are midnight in the server's zone: the period is those exact instants (SPEC 3).
    let (from_at, to_at) = (Timestamp::from_micros(zone.midnight(from)), Timestamp::from_micros(zone.midnight(to)));
    let query = govledger_assess::Query { from: from_at, to: to_at, as_of: Some(head_seq) };
    let live = Live {
        head_seq,
        head_url: "/dashboard/head".to_owned(),
        form_action: "/".to_owned(),
        from_date: from.format("%Y-%m-%d").to_string(),
        to_date: to.format("%Y-%m-%d").to_string(),
        checkpoint: checkpoint_at(state, head_seq).await,
        viewer: Scope::of(&principal).agency().map(str::to_owned),
        reader: (principal.agency.clone(), principal.role.as_str().to_owned()),
    };
    state
        .with_projection(move |projection, model| {
            let doc = projection.assess(model, &query).map_err(crate::assess::assess_error)?;
            let months =
                govledger_report::monthly(projection, model, &query, zone).map_err(crate::assess::assess_error)?;
            let input = ReportInput {
                assessment: &doc,
                model,
                months: &months,
                live: Some(live),
                proven: None,
                locale,
                title: None,
            };
            String::from_utf8(govledger_report::render(Format::Html, &input))
                .map_err(|e| AppError::Internal(format!("the report is not UTF-8: {e}")))
        })
        .await
}

/// The first signed checkpoint covering `seq`, for the page's proof line.
async fn checkpoint_at(state: &AppState, seq: u64) -> Option<govledger_report::LiveCheckpoint> {
    state.transparency().ok()?;
    let view = state.with_log(move |log, _| log.covering(seq)).await.ok().flatten()?;
    Some(govledger_report::LiveCheckpoint {
        size: view.size,
        root: govledger_tlog::merkle::to_hex(&view.root),
        cosigned_by: view.cosigned_by,
        witnessed: view.witnessed,
    })
}

#[derive(serde::Deserialize)]
struct HeadQuery {
    token: Option<String>,
}

/// `{"head_seq": N}`: what the dashboard polls to know when to reload.
async fn head(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<HeadQuery>) -> Response {
    match reader(&state, token_of(&headers, q.token.as_deref()).as_deref()).await {
        Ok(_) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            axum::Json(serde_json::json!({ "head_seq": state.ledger().head().seq })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
