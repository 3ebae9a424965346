//! The server's published contracts held to the code:
//!
//! - `sdl_matches_the_schema_file`: `schema/govledger.graphql` is exactly the
//!   SDL of the GraphQL schema; `openapi_matches_the_schema_file`: likewise
//!   `schema/openapi.json` and the served OpenAPI document. After changing
//!   the API, regenerate both with
//!   `GOVLEDGER_UPDATE_SCHEMA=1 cargo test -p govledger-api --test schema`
//!   and commit them.
//! - `graphql_inputs_match_the_catalog`: every typed mutation's `…Data` input
//!   has exactly the fields of the catalog's payload (names and which are
//!   required), so the GraphQL inputs cannot drift from `catalog.rs`.
//! - `every_event_type_has_one_mutation`.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use async_graphql::Schema;
use govledger_api::graphql::mutation::MUTATIONS;
use govledger_api::graphql::{MutationRoot, QueryRoot, SubscriptionRoot};
use govledger_domain::EventType;
use govledger_domain::catalog;

const UPDATE_VAR: &str = "GOVLEDGER_UPDATE_SCHEMA";
const SDL_HEADER: &str = "# The govledger GraphQL schema (SPEC 4), served at /graphql.\n\
    # Generated from crates/api by crates/api/tests/schema.rs; do not edit by hand:\n\
    # GOVLEDGER_UPDATE_SCHEMA=1 cargo test -p govledger-api --test schema\n\n";

fn schema_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema"))
}

/// Compares `generated` with the file, or rewrites the file when asked to.
fn check_file(name: &str, generated: &str) {
    let path = schema_dir().join(name);
    if std::env::var_os(UPDATE_VAR).is_some() {
        std::fs::write(&path, generated).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if stored != generated {
        let line = stored.lines().zip(generated.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "{} differs from the code (first difference near line {line}); if the change is intended, run \
             {UPDATE_VAR}=1 cargo test -p govledger-api --test schema and commit the file",
            path.display()
        );
    }
}

#[test]
fn sdl_matches_the_schema_file() {
    check_file("govledger.graphql", &format!("{SDL_HEADER}{}", govledger_api::graphql::sdl()));
}

#[test]
fn openapi_matches_the_schema_file() {
    let doc = govledger_api::http::openapi();
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    check_file("openapi.json", &text);
    let paths: BTreeSet<&str> = doc.paths.paths.keys().map(String::as_str).collect();
    for route in ["/v1/events", "/v1/verify", "/healthz", "/metrics", "/openapi.json", "/graphql"] {
        assert!(paths.contains(route), "{route} is not documented: {paths:?}");
    }
}

#[test]
fn every_event_type_has_one_mutation() {
    let types: BTreeSet<&str> = MUTATIONS.iter().map(|(t, _)| t.as_str()).collect();
    let all: BTreeSet<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(types, all);
    assert_eq!(MUTATIONS.len(), EventType::ALL.len());
    let sdl = govledger_api::graphql::sdl();
    for (_, method) in MUTATIONS {
        let camel = camel_case(method);
        assert!(sdl.contains(&format!("\t{camel}(input: ")), "no mutation {camel} in the SDL");
    }
    assert!(sdl.contains("executeFreeze(input: ExecuteFreezeInput!): Event!"), "SPEC example missing");
}

fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `(type name, field → required)` of every catalog payload, from the domain's JSON Schemas.
fn catalog_fields() -> BTreeMap<String, BTreeMap<String, bool>> {
    macro_rules! payloads {
        ($($t:ident),+ $(,)?) => {
            vec![$((stringify!($t), schemars::schema_for!(catalog::$t).to_value())),+]
        };
    }
    let schemas = payloads!(
        AgencyRegistered,
        JointMeetingConvened,
        JointMeetingHeld,
        ResponsibilityAssigned,
        TaskAcknowledged,
        TaskCompleted,
        TaskDeadlineExtended,
        TaskCancelled,
        FraudCaseReported,
        FreezeRequested,
        FreezeExecuted,
        FreezeRejected,
        FreezeReleased,
        FundsReturned,
        ClueReferred,
        ClueFeedbackGiven,
        EarlyWarningIssued,
        DissuasionRecorded,
        CardBreakingAction,
        PenaltyImposed,
        PenaltyRevoked,
        PublicityDelivered,
        EventRetracted,
        AssessmentPublished,
    );
    schemas
        .into_iter()
        .map(|(name, schema)| {
            let required: BTreeSet<String> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let fields = schema["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{name} has no properties"))
                .keys()
                .map(|k| (k.clone(), required.contains(k)))
                .collect();
            (name.to_owned(), fields)
        })
        .collect()
}

#[tokio::test]
async fn graphql_inputs_match_the_catalog() {
    let catalog = catalog_fields();
    assert_eq!(catalog.len(), EventType::ALL.len(), "the test's list of payloads misses a type");
    // Introspection needs no server state.
    let schema = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot).finish();
    for (name, fields) in &catalog {
        let query = format!(r#"{{ __type(name: "{name}Data") {{ inputFields {{ name type {{ kind }} }} }} }}"#);
        let response = schema.execute(query.as_str()).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        let input_fields = data["__type"]["inputFields"]
            .as_array()
            .unwrap_or_else(|| panic!("no GraphQL input type {name}Data: {data}"));
        let graphql: BTreeMap<String, bool> = input_fields
            .iter()
            .map(|f| (snake_case(f["name"].as_str().unwrap()), f["type"]["kind"] == "NON_NULL"))
            .collect();
        assert_eq!(&graphql, fields, "{name}Data (GraphQL) differs from catalog::{name} (field → required)");
    }
}
