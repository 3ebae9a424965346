//! The GraphQL schema (SPEC 4), with no HTTP in it: the HTTP layer
//! (`crate::http`) authenticates the caller, puts its [`Principal`] in the
//! request data and executes; tests execute the schema directly.
//!
//! The roots are merged from parts, one per concern, so that a new part is
//! one more member of a tuple:
//! - `QueryRoot(LedgerQuery, AgencyQuery, AssessQuery, EntityQuery)`: head, verify,
//!   events, agencies; `assessment` and `scorecard`; the entity lists
//!   (`tasks`, `freezes` …), read from the server's projection
//!   (`crate::assess`, reached through `AppState`); checkpoints, proofs and
//!   receipts (`ProofQuery`, SPEC 6.3).
//! - `MutationRoot(EventMutations, BatchMutations, PublishMutations)`: one
//!   typed mutation per event type, `appendEvents`, and `publishReport`
//!   (`crate::publish`).
//! - `SubscriptionRoot`: `events`.
//!
//! Every error carries a stable code in `extensions.code`: the domain's or the
//! server's (see `crate::error`), or, for documents refused before any
//! resolver runs, `graphql.parse_error`, `graphql.invalid_query`,
//! `graphql.too_deep`, `graphql.too_complex`, `graphql.invalid_input`,
//! `graphql.multiple_mutations` (the limits of one request: [`limits`]).

pub mod assess;
pub mod entities;
pub mod limits;
pub mod mutation;
pub mod proofs;
pub mod publish;
pub mod query;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe, NextValidation,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    Context, MergedObject, Response, Schema, SchemaBuilder, ServerError, ServerResult, ValidationResult, Variables,
};
use futures_util::StreamExt;

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiCode, AppError};

pub use assess::AssessQuery;
pub use entities::EntityQuery;
pub use mutation::{BatchMutations, EventMutations};
pub use proofs::ProofQuery;
pub use query::{AgencyQuery, LedgerQuery};
pub use subscription::SubscriptionRoot;

/// The query root. Add a part here to add queries (see the module docs).
#[derive(MergedObject, Default)]
pub struct QueryRoot(LedgerQuery, AgencyQuery, AssessQuery, EntityQuery, ProofQuery);

/// The mutation root.
#[derive(MergedObject, Default)]
pub struct MutationRoot(EventMutations, BatchMutations, publish::PublishMutations);

/// The server's GraphQL schema.
pub type GovSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Nesting, cost and size limits that bound the work of one request (SPEC 4, Limits; see [`limits`]).
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Deepest selection nesting (GraphiQL's introspection query needs 13).
    pub max_depth: usize,
    /// Highest complexity of one request, over every document of a batch:
    /// each field costs 1; `events(first: N)` costs N times its selection;
    /// `assessment` 500; `__schema` 5,000 and `__type` 100 (introspection
    /// answers are large).
    pub max_complexity: usize,
    /// Most documents in one batch array (`graphql.batch_too_large`).
    pub max_batch_documents: usize,
    /// Largest response body, in bytes (`graphql.response_too_large`).
    pub max_response_bytes: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits { max_depth: 16, max_complexity: 20_000, max_batch_documents: 16, max_response_bytes: 32 << 20 }
    }
}

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot).extension(ErrorCodes)
}

/// The schema over `state`, with `limits`.
pub fn build_schema(state: AppState, limits: QueryLimits) -> GovSchema {
    // The complexity limit is the request's budget (`limits::RequestLimits`), not async-graphql's per document.
    builder().extension(limits::RequestLimits(limits)).limit_depth(limits.max_depth).data(state).finish()
}

/// The schema's SDL, as kept in `schema/govledger.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The caller of this request; every field needs one (no anonymous access).
pub(crate) fn principal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    ctx.data_opt::<Principal>().ok_or_else(|| {
        AppError::refused(ApiCode::MissingToken, "send `Authorization: Bearer <token>` (HTTP) or an init payload")
            .into()
    })
}

/// Gives every error a stable code and counts errors by code in the metrics.
struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

fn set_default_code(errors: &mut [ServerError], code: ApiCode) {
    for e in errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", code.as_str());
        }
        if let Some(async_graphql::Value::String(code)) = ext.get("code") {
            let class = classification(code);
            ext.set("classification", class);
        }
    }
}

/// `extensions.classification` of an error with `code`, in the vocabulary
/// of graphql-java that generic clients and fuzzers read:
/// `DataFetchingException` when the server failed (`server.*`: retry or
/// report it), `ValidationError` when the request was refused (every other
/// code: the caller can change the request or its token).
pub(crate) fn classification(code: &str) -> &'static str {
    if code.starts_with("server.") { "DataFetchingException" } else { "ValidationError" }
}

fn count(ctx: &ExtensionContext<'_>, errors: &[ServerError]) {
    if let Some(state) = ctx.data_opt::<AppState>() {
        for e in errors {
            if let Some(async_graphql::Value::String(code)) = e.extensions.as_ref().and_then(|x| x.get("code")) {
                state.metrics().rejected(code);
            }
        }
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        // Left without a code: a resolver argument that failed to convert
        // (e.g. a string where an `AmountMinor` is expected).
        set_default_code(&mut response.errors, ApiCode::GraphqlInvalidInput);
        count(ctx, &response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut r| {
                set_default_code(&mut r.errors, ApiCode::GraphqlInvalidInput);
                r
            })
            .boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut e| {
            set_default_code(std::slice::from_mut(&mut e), ApiCode::GraphqlParse);
            e
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for e in &mut errors {
                // async-graphql reports these with fixed sentences (pinned by
                // the router tests `graphql_limits_have_their_own_codes` and
                // the server tests of bad input).
                let code = match e.message.as_str() {
                    "Query is nested too deep." => ApiCode::GraphqlTooDeep,
                    "Query is too complex." => ApiCode::GraphqlTooComplex,
                    // A variable's value does not fit its declared input type.
                    m if m.starts_with("Invalid value for argument") => ApiCode::GraphqlInvalidInput,
                    _ => ApiCode::GraphqlInvalid,
                };
                set_default_code(std::slice::from_mut(e), code);
            }
            errors
        })
    }
}
