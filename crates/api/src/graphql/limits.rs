//! Bounded work per GraphQL request (SPEC 4, Limits): the rules that refuse a
//! request before any of it executes.
//!
//! - A batch array holds at most `max_batch_documents` documents.
//! - One complexity budget per request, shared by every document of a batch
//!   ([`RequestBudget`] in each document's data): each document is charged
//!   its complexity (async-graphql's, from validation) plus
//!   [`INTROSPECTION_SCHEMA_COST`] per `__schema` and
//!   [`INTROSPECTION_TYPE_COST`] per `__type` field, as introspection answers
//!   are large for the few complexity points async-graphql counts for them.
//!   A document that would take the request over the budget is refused
//!   before it runs; so the whole request never does more than the budget.
//! - At most one mutation field per request, counted over the whole batch
//!   before anything runs, so that a request never stores part of itself
//!   (`graphql.multiple_mutations`; `appendEvents` stores several events
//!   atomically).
//!
//! - The response is serialised into a buffer bounded by
//!   [`QueryLimits::max_response_bytes`] ([`bounded_json`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Request, ServerError, ServerResult, ValidationResult, Variables};

use super::QueryLimits;
use crate::error::{ApiCode, AppError};

/// Complexity charged for each `__schema` field (a whole introspection answer).
pub const INTROSPECTION_SCHEMA_COST: usize = 5_000;
/// Complexity charged for each `__type` field.
pub const INTROSPECTION_TYPE_COST: usize = 100;

/// The complexity one request has spent so far, shared by its documents.
#[derive(Debug, Default)]
pub struct RequestBudget {
    spent: AtomicUsize,
}

impl RequestBudget {
    /// A fresh budget for one request (put a clone in every document's data).
    pub fn new() -> Arc<Self> {
        Arc::new(RequestBudget::default())
    }

    /// Charges `cost` if the request stays within `limit`; otherwise charges
    /// nothing and returns what the request would have cost.
    fn charge(&self, cost: usize, limit: usize) -> Result<(), usize> {
        self.spent
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |spent| {
                spent.checked_add(cost).filter(|total| *total <= limit)
            })
            .map(|_| ())
            .map_err(|spent| spent.saturating_add(cost))
    }
}

/// Checks a batch array before any of it runs: the number of documents and
/// the mutation fields over all of them.
pub fn check_batch(requests: &[Request], limits: &QueryLimits) -> Result<(), AppError> {
    if requests.len() > limits.max_batch_documents {
        return Err(AppError::refused(
            ApiCode::GraphqlBatchTooLarge,
            format!(
                "the request holds {} GraphQL documents; the limit is {} per request: send the rest in further requests",
                requests.len(),
                limits.max_batch_documents
            ),
        ));
    }
    // Documents that do not parse are reported by their own execution.
    let mutations: usize = requests
        .iter()
        .filter_map(|r| {
            let doc = async_graphql::parser::parse_query(&r.query).ok()?;
            Some(mutation_fields(&doc, r.operation_name.as_deref()))
        })
        .sum();
    refuse_mutations(mutations).map_err(|message| AppError::refused(ApiCode::GraphqlMultipleMutations, message))
}

/// `response` as JSON, or `graphql.response_too_large` as soon as it passes
/// `max_bytes` (the rest is never serialised).
pub(crate) fn bounded_json(response: &async_graphql::BatchResponse, max_bytes: usize) -> Result<Vec<u8>, AppError> {
    struct Bounded {
        buf: Vec<u8>,
        max_bytes: usize,
    }
    impl std::io::Write for Bounded {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.buf.len() + bytes.len() > self.max_bytes {
                return Err(std::io::Error::other("the response is over the limit"));
            }
            self.buf.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Bounded { buf: Vec::new(), max_bytes };
    match serde_json::to_writer(&mut out, response) {
        Ok(()) => Ok(out.buf),
        Err(e) if e.is_io() => Err(AppError::refused(
            ApiCode::GraphqlResponseTooLarge,
            format!(
                "the response would be larger than {max_bytes} bytes, the most this server sends for one request: \
                 select fewer fields, ask for smaller pages (`first`), or split the request"
            ),
        )),
        Err(e) => Err(AppError::Internal(format!("cannot serialise a response: {e}"))),
    }
}

/// The rule on mutations per request, in one place: `Err(sentence)` when more than one.
fn refuse_mutations(fields: usize) -> Result<(), String> {
    if fields > 1 {
        return Err(format!(
            "the request holds {fields} mutation fields; a request may store at most one, so that it is stored \
             whole or not at all: put several events in one `appendEvents(batch: […])`, which stores them atomically"
        ));
    }
    Ok(())
}

/// The operation `name` selects (the only one when unnamed).
fn operation<'d>(doc: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| &op.node),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Root fields of the selected operation when it is a mutation (fragments
/// expanded; `@skip`/`@include` ignored, so the count never falls short).
fn mutation_fields(doc: &ExecutableDocument, name: Option<&str>) -> usize {
    match operation(doc, name) {
        Some(op) if op.ty == OperationType::Mutation => {
            Walk { doc, into_fields: false, memo: HashMap::new() }.count(&op.selection_set.node, &|_| true)
        }
        _ => 0,
    }
}

/// The extra complexity of the selected operation's introspection fields.
fn introspection_cost(doc: &ExecutableDocument, name: Option<&str>) -> usize {
    let Some(op) = operation(doc, name) else { return 0 };
    let count = |field: &'static str| {
        Walk { doc, into_fields: true, memo: HashMap::new() }.count(&op.selection_set.node, &|name| name == field)
    };
    count("__schema")
        .saturating_mul(INTROSPECTION_SCHEMA_COST)
        .saturating_add(count("__type").saturating_mul(INTROSPECTION_TYPE_COST))
}

/// Counts the fields of a selection set that match, expanding fragments once
/// each (a fragment spread many times is counted from its memo, so a
/// document of nested spreads cannot make the count itself expensive).
struct Walk<'d> {
    doc: &'d ExecutableDocument,
    /// Also count inside the matched and unmatched fields' own selections.
    into_fields: bool,
    memo: HashMap<&'d str, usize>,
}

impl<'d> Walk<'d> {
    fn count(&mut self, set: &'d SelectionSet, matches: &dyn Fn(&str) -> bool) -> usize {
        let mut n = 0usize;
        for item in &set.items {
            let found = match &item.node {
                Selection::Field(f) => {
                    let own = usize::from(matches(f.node.name.node.as_str()));
                    let inner = if self.into_fields { self.count(&f.node.selection_set.node, matches) } else { 0 };
                    own.saturating_add(inner)
                }
                Selection::InlineFragment(f) => self.count(&f.node.selection_set.node, matches),
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    match self.memo.get(name) {
                        Some(n) => *n,
                        None => {
                            // Mark before descending: a cycle (refused by validation) counts 0.
                            self.memo.insert(name, 0);
                            let n = match self.doc.fragments.get(name) {
                                Some(fragment) => self.count(&fragment.node.selection_set.node, matches),
                                None => 0,
                            };
                            self.memo.insert(name, n);
                            n
                        }
                    }
                }
            };
            n = n.saturating_add(found);
        }
        n
    }
}

/// The extension that applies the limits to each document.
pub(crate) struct RequestLimits(pub(crate) QueryLimits);

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimits { limits: self.0, operation: Mutex::default(), costs: Mutex::default() })
    }
}

/// One document's run of the limits (async-graphql creates one per document).
struct DocumentLimits {
    limits: QueryLimits,
    /// The operation name of the request, from `prepare_request`.
    operation: Mutex<Option<String>>,
    /// From the parsed document: (introspection cost, mutation fields).
    costs: Mutex<(usize, usize)>,
}

fn error(code: ApiCode, message: String) -> ServerError {
    let mut e = ServerError::new(message, None);
    let ext = e.extensions.get_or_insert_with(Default::default);
    ext.set("code", code.as_str());
    ext.set("status", code.status().as_u16());
    e
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.operation.lock().unwrap_or_else(|p| p.into_inner()) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let name = self.operation.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let costs = (introspection_cost(&doc, name.as_deref()), mutation_fields(&doc, name.as_deref()));
        // Introspection alone over the limit: refused before the (costlier) validation.
        if costs.0 > self.limits.max_complexity {
            return Err(too_complex(costs.0, costs.0, costs.0, self.limits.max_complexity));
        }
        *self.costs.lock().unwrap_or_else(|p| p.into_inner()) = costs;
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let (introspection, mutations) = *self.costs.lock().unwrap_or_else(|p| p.into_inner());
        refuse_mutations(mutations).map_err(|m| vec![error(ApiCode::GraphqlMultipleMutations, m)])?;
        let cost = result.complexity.saturating_add(introspection);
        let limit = self.limits.max_complexity;
        // A document run on its own (a WebSocket message, a test) has a budget of its own.
        let own = RequestBudget::default();
        let budget = ctx.data_opt::<Arc<RequestBudget>>().map_or(&own, |b| b.as_ref());
        budget.charge(cost, limit).map_err(|total| vec![too_complex(total, cost, introspection, limit)])?;
        Ok(result)
    }
}

/// `graphql.too_complex`, with the figures and how to stay under the limit.
fn too_complex(total: usize, cost: usize, introspection: usize, limit: usize) -> ServerError {
    error(
        ApiCode::GraphqlTooComplex,
        format!(
            "this request would cost at least {total} complexity points (this document {cost}, of which \
             {introspection} for introspection: {INTROSPECTION_SCHEMA_COST} per `__schema`, \
             {INTROSPECTION_TYPE_COST} per `__type`); the limit is {limit} per request, over all documents of a \
             batch: select fewer fields, ask for smaller pages (`first`), or split the work over several requests"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    #[test]
    fn mutation_fields_count_fragments_and_only_the_selected_operation() {
        let d = doc("mutation { a: cancelTask(input: $x) { seq } b: cancelTask(input: $y) { seq } }");
        assert_eq!(mutation_fields(&d, None), 2);
        let d = doc("mutation M { ...F ... on Mutation { c: x } } fragment F on Mutation { a: x b: x }");
        assert_eq!(mutation_fields(&d, None), 3);
        let d = doc("query Q { head { seq } } mutation M { x } mutation N { x y }");
        assert_eq!((mutation_fields(&d, Some("Q")), mutation_fields(&d, Some("M"))), (0, 1));
        assert_eq!(mutation_fields(&d, Some("N")), 2);
    }

    #[test]
    fn introspection_is_charged_per_field_and_nested_spreads_stay_cheap_to_count() {
        let d =
            doc("{ a: __schema { types { name } } b: __schema { types { name } } t: __type(name: \"X\") { name } }");
        assert_eq!(introspection_cost(&d, None), 2 * INTROSPECTION_SCHEMA_COST + INTROSPECTION_TYPE_COST);
        // 2^30 expansions if counted naively.
        let mut q = String::from("{ ...F0 } fragment F30 on Query { __schema { queryType { name } } }");
        for i in 0..30 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        assert_eq!(introspection_cost(&doc(&q), None), (1usize << 30) * INTROSPECTION_SCHEMA_COST);
    }

    #[test]
    fn the_budget_is_shared_and_refusals_charge_nothing() {
        let b = RequestBudget::default();
        assert_eq!(b.charge(15, 20), Ok(()));
        assert_eq!(b.charge(10, 20), Err(25));
        assert_eq!(b.charge(5, 20), Ok(()));
        assert_eq!(b.charge(1, 20), Err(21));
    }
}
