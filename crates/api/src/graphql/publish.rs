//! `publishReport`: the GraphQL form of `POST /v1/publications`
//! (`crate::publish`): renders a report on the server, records its hash as
//! `AssessmentPublished` with the caller's evaluator token, and returns the
//! event and the file once it is stored.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use govledger_report::Format;

use super::principal;
use super::types::Event;
use crate::AppState;
use crate::seq::Seq;

/// The format of a report file, as `govledger report --format`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// One self-contained HTML file.
    Html,
    /// Markdown.
    Md,
    /// One row per agency.
    Csv,
    /// The report's JSON.
    Json,
}

impl From<ReportFormat> for Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Html => Format::Html,
            ReportFormat::Md => Format::Markdown,
            ReportFormat::Csv => Format::Csv,
            ReportFormat::Json => Format::Json,
        }
    }
}

/// The language and time zone of a report; each defaults to the server's.
#[derive(InputObject, Default)]
pub struct ReportLocale {
    /// `zh-CN` or `en`.
    pub lang: Option<String>,
    /// An IANA time zone name (like `Asia/Shanghai`) its times, months and quarters are shown in.
    pub tz: Option<String>,
}

/// A recorded publication and the report it names.
#[derive(SimpleObject)]
pub struct PublishedReport {
    /// The stored `AssessmentPublished` event.
    pub event: Event,
    /// SHA-256 of `content`'s bytes (UTF-8), as the event records it.
    pub report_sha256: String,
    pub format: ReportFormat,
    /// The report file, byte for byte.
    pub content: String,
}

/// Publishing reports.
#[derive(Default)]
pub struct PublishMutations;

#[Object]
impl PublishMutations {
    /// Renders the report of `[from, to)` as of `asOf` (default: the head)
    /// with the server's model, records its SHA-256 as `AssessmentPublished`
    /// (evaluator tokens only; refused with `ledger.chain_broken` when the
    /// chain does not verify) and returns it once the event is stored. The
    /// same report twice is `assessment.already_exists`.
    async fn publish_report(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        as_of: Option<Seq>,
        #[graphql(default_with = "ReportFormat::Html")] format: ReportFormat,
        #[graphql(default)] locale: ReportLocale,
    ) -> Result<PublishedReport> {
        let principal = principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        // The token's role first, as over REST: nobody else learns what is wrong with a request.
        crate::auth::authorize_publication(principal)?;
        let query = crate::publish::period(&from, &to, as_of)?;
        let locale = crate::publish::locale(state, locale.lang.as_deref(), locale.tz.as_deref())?;
        let published = crate::publish::publish(state, principal, query, format.into(), locale).await?;
        Ok(PublishedReport {
            event: published.event.into(),
            report_sha256: published.report_sha256,
            format,
            content: published.content,
        })
    }
}
