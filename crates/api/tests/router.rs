//! The router without sockets (axum `examples/testing` style): every request
//! goes through `app(state).oneshot(..)` on a real ledger in a temporary data
//! directory. What these tests pin: status codes and error bodies of each
//! class of bad input, idempotent retries (201, then 200 with the same event),
//! atomic batches, limits, auth on every route but `/healthz`, GraphQL error
//! codes and limits, and the metrics a scrape shows.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use govledger_api::{AppState, Limits, TokenRole, Tokens, app};
use govledger_domain::Submission;
use govledger_ledger::Ledger;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

struct Fixture {
    _dir: TempDir,
    ledger: Ledger,
    app: Router,
    office: String,
    police: String,
    bank: String,
    auditor: String,
    tokens: Tokens,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

fn env(id: Option<&str>, ty: &str, actor: &str, at: &str, data: Value) -> Value {
    let mut e = json!({"type": ty, "actor": actor, "occurred_at": at, "data": data});
    if let Some(id) = id {
        e["id"] = json!(id);
    }
    e
}

fn register(agency: &str, kind: &str, roles: Option<Value>) -> Value {
    let mut data = json!({"agency_id": agency, "name": agency, "kind": kind});
    if let Some(r) = roles {
        data["roles"] = r;
    }
    env(None, "AgencyRegistered", "office", "2026-01-01T00:00:00Z", data)
}

fn freeze_request(id: &str) -> Value {
    env(
        None,
        "FreezeRequested",
        "police",
        "2026-01-02T00:00:00Z",
        json!({"freeze_id": id, "mode": "freeze", "bank": "bank-a", "account_ref": "acct-ref-1", "amount_minor": 100}),
    )
}

async fn fixture_with(limits: Limits) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ledger = govledger_store_embedded::open_ledger(dir.path()).unwrap();
    let setup = [
        register("office", "government", Some(json!(["coordinator", "evaluator"]))),
        register("police", "public_security", None),
        register("bank-a", "bank", None),
        freeze_request("F-1"),
    ];
    ledger.append(setup.into_iter().map(|v| Submission::parse(v).unwrap()).collect()).await.unwrap();
    let tokens = Tokens::open_file(dir.path()).unwrap();
    let office = tokens.issue("office", TokenRole::Coordinator).unwrap().secret;
    let police = tokens.issue("police", TokenRole::Agency).unwrap().secret;
    let bank = tokens.issue("bank-a", TokenRole::Agency).unwrap().secret;
    let auditor = tokens.issue("office", TokenRole::Auditor).unwrap().secret;
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    let state = AppState::new(ledger.clone(), Tokens::open_file(dir.path()).unwrap(), limits, rx).unwrap();
    Fixture { _dir: dir, app: app(state), ledger, office, police, bank, auditor, tokens, _shutdown: shutdown }
}

async fn fixture() -> Fixture {
    fixture_with(Limits::default()).await
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error code of an HTTP error body.
    fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code: {}", self.text())).to_owned()
    }
}

impl Fixture {
    async fn send(&self, req: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
        Reply { status, headers, body }
    }

    async fn post(&self, token: Option<&str>, content_type: &str, body: impl Into<Body>) -> Reply {
        let mut req = Request::post("/v1/events").header(header::CONTENT_TYPE, content_type);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(body.into()).unwrap()).await
    }

    async fn post_one(&self, token: &str, envelope: &Value) -> Reply {
        self.post(Some(token), "application/json", envelope.to_string()).await
    }

    async fn get(&self, token: Option<&str>, uri: &str) -> Reply {
        let mut req = Request::get(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Reply {
        let mut req = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(json!({"query": query, "variables": variables}).to_string())).unwrap()).await
    }

    fn head(&self) -> u64 {
        self.ledger.head().seq
    }
}

fn execute(freeze: &str, id: Option<&str>, amount: u64) -> Value {
    env(
        id,
        "FreezeExecuted",
        "bank-a",
        "2026-01-03T00:00:00Z",
        json!({"freeze_id": freeze, "amount_frozen_minor": amount}),
    )
}

#[tokio::test]
async fn healthz_is_the_only_anonymous_route() {
    let fx = fixture().await;
    let r = fx.get(None, "/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    for uri in ["/v1/events", "/v1/verify", "/metrics", "/openapi.json"] {
        let r = fx.get(None, uri).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(r.code(), "auth.missing_token", "{uri}");
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer", "{uri}");
        let r = fx.get(Some("glt_not-a-token"), uri).await;
        assert_eq!((r.status, r.code().as_str()), (StatusCode::UNAUTHORIZED, "auth.invalid_token"), "{uri}");
    }
    let r = fx.post(None, "application/json", execute("F-1", None, 1).to_string()).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNAUTHORIZED, "auth.missing_token"));
    let r = fx.graphql(None, "{ head { seq } }", json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["errors"][0]["extensions"]["code"], "auth.missing_token");
    assert_eq!(fx.head(), 4, "nothing may be stored by anonymous requests");
}

#[tokio::test]
async fn a_retry_returns_the_stored_event_and_a_changed_retry_conflicts() {
    let fx = fixture().await;
    let id = "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e";
    let first = fx.post_one(&fx.bank, &execute("F-1", Some(id), 100)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let stored = first.json();
    assert_eq!(stored["seq"], 5);
    assert_eq!(stored["id"], id);
    assert_eq!(stored["hash"].as_str().unwrap().len(), 64);

    let retry = fx.post_one(&fx.bank, &execute("F-1", Some(id), 100)).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.json(), stored, "a retry returns the stored event unchanged");

    let changed = fx.post_one(&fx.bank, &execute("F-1", Some(id), 99)).await;
    assert_eq!((changed.status, changed.code().as_str()), (StatusCode::CONFLICT, "event.id_conflict"));
    assert_eq!(changed.json()["error"]["field"], "id");
    assert_eq!(fx.head(), 5);
}

#[tokio::test]
async fn bad_input_is_refused_with_its_code_and_stores_nothing() {
    let fx = fixture().await;
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        ("{not json".into(), StatusCode::BAD_REQUEST, "json.malformed", None),
        ("[1, 2]".into(), StatusCode::BAD_REQUEST, "json.malformed", None),
        (
            {
                let mut e = execute("F-1", None, 1);
                e["extra"] = json!(1);
                e.to_string()
            },
            StatusCode::BAD_REQUEST,
            "envelope.unknown_field",
            Some("extra"),
        ),
        (
            {
                let mut e = execute("F-1", None, 1);
                e["type"] = json!("FreezeTeleported");
                e.to_string()
            },
            StatusCode::BAD_REQUEST,
            "event.unknown_type",
            Some("type"),
        ),
        (
            env(None, "FreezeExecuted", "bank-a", "2026-01-03T00:00:00Z", json!({"freeze_id": "F-1"})).to_string(),
            StatusCode::BAD_REQUEST,
            "data.missing_field",
            Some("data.amount_frozen_minor"),
        ),
        (execute("F-1", None, 1_000_000_000_000_001).to_string(), StatusCode::BAD_REQUEST, "amount.out_of_range", None),
        (
            env(
                None,
                "FreezeExecuted",
                "bank-a",
                "2026-01-03T00:00:00.1234567Z",
                json!({"freeze_id": "F-1",
                "amount_frozen_minor": 1}),
            )
            .to_string(),
            StatusCode::BAD_REQUEST,
            "time.too_precise",
            Some("occurred_at"),
        ),
        (execute("F-404", None, 1).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "freeze.not_found", None),
        (
            env(
                None,
                "FreezeExecuted",
                "bank-a",
                "2025-12-01T00:00:00Z",
                json!({"freeze_id": "F-1",
                "amount_frozen_minor": 1}),
            )
            .to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lifecycle.out_of_order",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        let r = fx.post(Some(&fx.bank), "application/json", body.clone()).await;
        assert_eq!((r.status, r.code().as_str()), (status, code), "{body}\n→ {}", r.text());
        let error = &r.json()["error"];
        assert_eq!(error["index"], 0, "{body}");
        assert!(!error["message"].as_str().unwrap().is_empty());
        if let Some(field) = field {
            assert_eq!(error["field"], field, "{body}");
        }
    }
    assert_eq!(fx.head(), 4, "nothing was stored");
}

#[tokio::test]
async fn a_batch_is_atomic_and_names_the_bad_event() {
    let fx = fixture().await;
    let good = freeze_request("F-2");
    let mut bad = freeze_request("F-3");
    bad["data"]["account_ref"] = json!("6222 0212 3456 7890");
    let body = format!("{good}\n\n{bad}\n");
    let r = fx.post(Some(&fx.police), "application/x-ndjson", body).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "account_ref.raw_account_number"));
    assert_eq!(r.json()["error"]["index"], 1, "index counts events, not lines");
    assert!(r.json()["error"]["message"].as_str().unwrap().starts_with("line 3: "), "{}", r.text());
    assert_eq!(fx.head(), 4);

    // A rule failure later in the batch also sinks the earlier events.
    let body = format!("{}\n{}\n", freeze_request("F-2"), freeze_request("F-2"));
    let r = fx.post(Some(&fx.police), "application/x-ndjson", body).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "freeze.already_exists"));
    assert_eq!(r.json()["error"]["index"], 1);
    assert_eq!(fx.head(), 4);

    let body = format!("{}\n{}\n", freeze_request("F-2"), freeze_request("F-3"));
    let r = fx.post(Some(&fx.police), "application/x-ndjson", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let seqs: Vec<u64> = r.json()["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [5, 6]);
    // Events without client ids are new events each time: the retry conflicts on the freeze ids.
    let r = fx.post(Some(&fx.police), "application/x-ndjson", body).await;
    assert_eq!(r.code(), "freeze.already_exists");
}

#[tokio::test]
async fn limits_and_media_types_have_clear_errors() {
    let fx = fixture_with(Limits { max_body_bytes: 2_000, max_batch_events: 3, ..Limits::default() }).await;
    let r = fx.post(Some(&fx.police), "application/x-ndjson", "x".repeat(5_000)).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "request.too_large"));
    let body: String = (0..4).map(|i| format!("{}\n", freeze_request(&format!("F-{}", i + 10)))).collect();
    let r = fx.post(Some(&fx.police), "application/x-ndjson", body).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "batch.too_large"));
    let r = fx.post(Some(&fx.police), "text/plain", freeze_request("F-9").to_string()).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "request.unsupported_media_type"));
    let r = fx.post(Some(&fx.police), "application/x-ndjson", "").await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "batch.empty"));
    assert_eq!(fx.head(), 4);
}

#[tokio::test]
async fn events_are_paged_with_validated_parameters() {
    let fx = fixture().await;
    let r = fx.get(Some(&fx.auditor), "/v1/events?after=1&limit=2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.json();
    let seqs: Vec<u64> = page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(page["head"]["seq"], 4);
    assert_eq!(page["events"][0]["type"], "AgencyRegistered");
    assert_eq!(page["events"][1]["prev_hash"], page["events"][0]["hash"]);
    for uri in ["/v1/events?limit=0", "/v1/events?limit=1001", "/v1/events?after=abc", "/v1/events?from=1"] {
        let r = fx.get(Some(&fx.auditor), uri).await;
        assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "request.invalid_query"), "{uri}");
    }
    let r = fx.get(Some(&fx.auditor), "/v1/events?after=4").await;
    assert_eq!(r.json()["events"], json!([]));
}

#[tokio::test]
async fn tokens_are_bound_to_their_agency_and_role() {
    let fx = fixture().await;
    // The police token cannot answer a freeze as the bank.
    let r = fx.post_one(&fx.police, &execute("F-1", None, 1)).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "auth.actor_mismatch"));
    assert_eq!(r.json()["error"]["field"], "actor");
    let r = fx.post_one(&fx.auditor, &execute("F-1", None, 1)).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "auth.read_only"));
    // A coordinator token registers agencies; an agency token of the same agency does not.
    let agency_token = fx.tokens.issue("office", TokenRole::Agency).unwrap().secret;
    let r = fx.post_one(&agency_token, &register("bank-b", "bank", None)).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "auth.role_forbidden"));
    let r = fx.post_one(&fx.office, &register("bank-b", "bank", None)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(fx.head(), 5);

    // Revocation takes effect on the next request.
    let id = fx.tokens.list().unwrap().into_iter().find(|t| t.agency == "bank-a").unwrap().id;
    fx.tokens.revoke(&id).unwrap();
    let r = fx.post_one(&fx.bank, &execute("F-1", None, 1)).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNAUTHORIZED, "auth.invalid_token"));

    // A token whose agency's registration is retracted stops working.
    let newcomer = fx.tokens.issue("bank-b", TokenRole::Agency).unwrap().secret;
    assert_eq!(fx.get(Some(&newcomer), "/v1/verify").await.status, StatusCode::OK);
    let registration = fx.get(Some(&fx.office), "/v1/events?after=4&limit=1").await.json()["events"][0]["id"].clone();
    let retract = env(
        None,
        "EventRetracted",
        "office",
        "2026-01-05T00:00:00Z",
        json!({"event_id": registration, "reason": "registered by mistake"}),
    );
    assert_eq!(fx.post_one(&fx.office, &retract).await.status, StatusCode::CREATED);
    let r = fx.get(Some(&newcomer), "/v1/verify").await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "auth.role_not_held"));
}

#[tokio::test]
async fn verify_metrics_and_openapi_answer_any_token() {
    let fx = fixture().await;
    assert_eq!(fx.post_one(&fx.bank, &execute("F-1", None, 7)).await.status, StatusCode::CREATED);
    assert_eq!(fx.post_one(&fx.bank, &execute("F-1", None, 7)).await.code(), "freeze.already_answered");
    let r = fx.get(Some(&fx.auditor), "/v1/verify").await;
    assert_eq!(r.status, StatusCode::OK);
    let report = r.json();
    assert_eq!(
        (report["ok"].clone(), report["events"].clone(), report["head"]["seq"].clone()),
        (json!(true), json!(5), json!(5))
    );
    assert!(report["problem"].is_null());

    let r = fx.get(Some(&fx.auditor), "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = r.text();
    for line in [
        "govledger_appended_events_total 1",
        "govledger_rejections_total{code=\"freeze.already_answered\"} 1",
        "govledger_head_seq 5",
        "govledger_append_latency_seconds_count 2",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        text.contains(
            "govledger_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/events\",status=\"201\"} 1"
        ),
        "{text}"
    );

    let r = fx.get(Some(&fx.auditor), "/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["paths"]["/v1/events"]["post"].is_object());
    assert_eq!(fx.get(Some(&fx.auditor), "/nope").await.code(), "request.not_found");
}

const EXECUTE: &str =
    "mutation($input: ExecuteFreezeInput!) { executeFreeze(input: $input) { seq hash type actor data } }";

#[tokio::test]
async fn graphql_typed_mutations_store_events_and_errors_carry_codes() {
    let fx = fixture().await;
    let input = json!({"id": "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e", "actor": "bank-a", "occurredAt": "2026-01-03T08:00:00+08:00",
        "data": {"freezeId": "F-1", "amountFrozenMinor": 1_000_000_000_000_u64}});
    let r = fx.graphql(Some(&fx.bank), EXECUTE, json!({"input": input})).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["errors"], Value::Null, "{body}");
    let event = &body["data"]["executeFreeze"];
    assert_eq!((event["seq"].clone(), event["type"].clone()), (json!(5), json!("FreezeExecuted")));
    assert_eq!(event["data"], json!({"freeze_id": "F-1", "amount_frozen_minor": 1_000_000_000_000_u64}));
    // Idempotent retry through GraphQL: the same stored event.
    let again = fx.graphql(Some(&fx.bank), EXECUTE, json!({"input": input})).await.json();
    assert_eq!(again["data"]["executeFreeze"], *event);

    let code_of = |body: &Value| body["errors"][0]["extensions"]["code"].as_str().unwrap_or("(none)").to_owned();
    // A conflict, a domain format error with its field, an actor mismatch.
    let mut other = input.clone();
    other["id"] = Value::Null;
    let r = fx.graphql(Some(&fx.bank), EXECUTE, json!({"input": other})).await.json();
    assert_eq!(code_of(&r), "freeze.already_answered", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["status"], 409);
    other["data"]["freezeId"] = json!(" bad id");
    let r = fx.graphql(Some(&fx.bank), EXECUTE, json!({"input": other})).await.json();
    assert_eq!(code_of(&r), "id.invalid_entity_id");
    assert_eq!(r["errors"][0]["extensions"]["field"], "data.freeze_id");
    let r = fx.graphql(Some(&fx.police), EXECUTE, json!({"input": input})).await.json();
    assert_eq!(code_of(&r), "auth.actor_mismatch");
    // Type errors before any resolver runs.
    let mut wrong = input.clone();
    wrong["data"]["amountFrozenMinor"] = json!("5");
    let r = fx.graphql(Some(&fx.bank), EXECUTE, json!({"input": wrong})).await.json();
    assert_eq!(code_of(&r), "graphql.invalid_input", "{r}");
    let r = fx.graphql(Some(&fx.bank), "{ head { seq nope } }", json!({})).await.json();
    assert_eq!(code_of(&r), "graphql.invalid_query");
    let r = fx.graphql(Some(&fx.bank), "{ head { seq ", json!({})).await.json();
    assert_eq!(code_of(&r), "graphql.parse_error");
    assert_eq!(fx.head(), 5, "only the first mutation stored anything");
}

#[tokio::test]
async fn graphql_batches_are_atomic() {
    let fx = fixture().await;
    let q = "mutation($batch: [EventInput!]!) { appendEvents(batch: $batch) { seq type } }";
    let item = |freeze: &str, account: &str| {
        json!({"actor": "police", "occurredAt": "2026-01-02T00:00:00Z",
        "data": {"freezeRequested": {"freezeId": freeze, "mode": "FREEZE", "bank": "bank-a", "accountRef": account,
        "amountMinor": 5}}})
    };
    let r = fx
        .graphql(Some(&fx.police), q, json!({"batch": [item("F-7", "ref-7"), item("F-8", "12345678901")]}))
        .await
        .json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "account_ref.raw_account_number", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["index"], 1);
    assert_eq!(fx.head(), 4);
    let r =
        fx.graphql(Some(&fx.police), q, json!({"batch": [item("F-7", "ref-7"), item("F-8", "ref-8")]})).await.json();
    assert_eq!(
        r["data"]["appendEvents"],
        json!([{"seq": 5, "type": "FreezeRequested"}, {"seq": 6, "type": "FreezeRequested"}])
    );
}

#[tokio::test]
async fn graphql_queries_read_the_log_with_cursors_and_filters() {
    let fx = fixture().await;
    let q = "query($after: String, $types: [String!], $agency: String) {
        events(after: $after, first: 2, types: $types, agency: $agency) {
            edges { cursor node { seq type actor } } pageInfo { hasNextPage endCursor } scannedThrough } }";
    let r = fx.graphql(Some(&fx.auditor), q, json!({})).await.json();
    let page = &r["data"]["events"];
    assert_eq!(page["edges"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(page["pageInfo"], json!({"hasNextPage": true, "endCursor": "2"}));
    let r = fx.graphql(Some(&fx.auditor), q, json!({"after": "2"})).await.json();
    assert_eq!(r["data"]["events"]["edges"][1]["node"]["seq"], 4);
    assert_eq!(r["data"]["events"]["pageInfo"]["hasNextPage"], false);
    // bank-a is named by its registration (agency_id) and the freeze request (bank).
    let r = fx.graphql(Some(&fx.auditor), q, json!({"agency": "bank-a", "types": ["FreezeRequested"]})).await.json();
    assert_eq!(
        r["data"]["events"]["edges"],
        json!([{"cursor": "4", "node": {"seq": 4, "type": "FreezeRequested", "actor": "police"}}])
    );
    let r = fx.graphql(Some(&fx.auditor), q, json!({"after": "x"})).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "request.invalid_cursor");
    let r = fx.graphql(Some(&fx.auditor), q, json!({"types": ["Nope"]})).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "request.invalid_query");

    let r = fx
        .graphql(
            Some(&fx.auditor),
            "{ head { seq hash } verify { ok events } agencies(kind: BANK) { agencyId kind roles } }",
            json!({}),
        )
        .await
        .json();
    assert_eq!(r["data"]["head"]["seq"], 4, "{r}");
    assert_eq!(r["data"]["verify"], json!({"ok": true, "events": 4}));
    assert_eq!(r["data"]["agencies"], json!([{"agencyId": "bank-a", "kind": "BANK", "roles": []}]));
    let r = fx
        .graphql(Some(&fx.auditor), "{ agency(agencyId: \"office\") { roles } eventAt(seq: 4) { type } }", json!({}))
        .await
        .json();
    assert_eq!(
        r["data"],
        json!({"agency": {"roles": ["COORDINATOR", "EVALUATOR"]}, "eventAt": {"type": "FreezeRequested"}})
    );
}

#[tokio::test]
async fn graphql_limits_have_their_own_codes() {
    let fx = fixture_with(Limits {
        graphql: govledger_api::QueryLimits { max_depth: 5, max_complexity: 50, ..Default::default() },
        ..Limits::default()
    })
    .await;
    let deep = "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }";
    // Introspection is priced (5,000 per `__schema`): over a budget of 50 before its depth is looked at.
    let r = fx.graphql(Some(&fx.auditor), deep, json!({})).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "graphql.too_complex", "{r}");
    let roomy = fixture_with(Limits {
        graphql: govledger_api::QueryLimits { max_depth: 5, ..Default::default() },
        ..Limits::default()
    })
    .await;
    let r = roomy.graphql(Some(&roomy.auditor), deep, json!({})).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "graphql.too_deep", "{r}");
    let costly = "{ events(first: 100) { edges { node { seq } } } }";
    let r = fx.graphql(Some(&fx.auditor), costly, json!({})).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "graphql.too_complex", "{r}");
    let fine = "{ events(first: 5) { edges { node { seq } } } }";
    let r = fx.graphql(Some(&fx.auditor), fine, json!({})).await.json();
    assert_eq!(r["errors"], Value::Null, "{r}");
}

#[tokio::test]
async fn default_limits_admit_graphiqls_introspection() {
    let fx = fixture().await;
    // GraphiQL's introspection query nests `ofType` seven levels deep inside `__schema.types.fields.type`.
    let q = "query { __schema { queryType { name } types { name fields(includeDeprecated: true) { name args { name type { ...T } }
        type { ...T } } inputFields { name type { ...T } } } } }
        fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
        ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
    let r = fx.graphql(Some(&fx.auditor), q, json!({})).await.json();
    assert_eq!(r["errors"], Value::Null, "{}", r["errors"]);
    assert!(r["data"]["__schema"]["types"].as_array().unwrap().len() > 50);
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let fx = fixture().await;
    let r = fx.get(None, "/graphql").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("GraphiQL"), "{}", r.text());
    assert!(!r.text().contains("glt_0"), "the page holds no token");
}

#[tokio::test]
async fn assessment_and_entity_queries_count_against_the_complexity_limit() {
    let fx = fixture().await;
    // 40 assessments cost 40 × 500: above the default 20,000.
    let many: String = (0..40)
        .map(|i| {
            format!("a{i}: assessment(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") {{ asOfSeq }} ")
        })
        .collect();
    let r = fx.graphql(Some(&fx.auditor), &format!("{{ {many} }}"), json!({})).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "graphql.too_complex", "{r}");
    // An entity page is priced by `first`, like `events`.
    let pages: String =
        (0..30).map(|i| format!("p{i}: freezes(first: 1000) {{ edges {{ node {{ seq }} }} }} ")).collect();
    let r = fx.graphql(Some(&fx.auditor), &format!("{{ {pages} }}"), json!({})).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "graphql.too_complex", "{r}");
    let one = "{ assessment(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { asOfSeq }
        freezes(agency: \"bank-a\") { edges { node { entityId status agencyId } } } }";
    let r = fx.graphql(Some(&fx.auditor), one, json!({})).await.json();
    assert_eq!(r["errors"], Value::Null, "{r}");
    assert_eq!(r["data"]["assessment"]["asOfSeq"], json!(fx.head()));
    let node = &r["data"]["freezes"]["edges"][0]["node"];
    assert_eq!(node, &json!({"entityId": "F-1", "status": "requested", "agencyId": "bank-a"}));

    // The bank answers; the very next query sees it.
    let r = fx.post_one(&fx.bank, &execute("F-1", None, 100)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = fx.graphql(Some(&fx.auditor), one, json!({})).await.json();
    assert_eq!(r["data"]["freezes"]["edges"][0]["node"]["status"], "executed", "{r}");
    assert_eq!(r["data"]["assessment"]["asOfSeq"], json!(fx.head()));
}

#[tokio::test]
async fn a_graphql_response_over_the_limit_is_refused_with_its_code() {
    let fx = fixture_with(Limits {
        graphql: govledger_api::QueryLimits { max_response_bytes: 200, ..Default::default() },
        ..Limits::default()
    })
    .await;
    let r = fx.graphql(Some(&fx.auditor), "{ head { seq } }", json!({})).await.json();
    assert_eq!(r["errors"], Value::Null, "a small answer passes: {r}");
    let r = fx.graphql(Some(&fx.auditor), "{ agencies { agencyId name kind roles registeredAt } }", json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = r.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "graphql.response_too_large", "{r}");
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("200 bytes"), "{r}");
}

#[tokio::test]
async fn answers_are_gzip_compressed_for_clients_that_accept_it() {
    let fx = fixture().await;
    let ask = |gzip: bool| {
        let mut req = Request::get("/openapi.json").header(header::AUTHORIZATION, format!("Bearer {}", fx.auditor));
        if gzip {
            req = req.header(header::ACCEPT_ENCODING, "gzip");
        }
        fx.send(req.body(Body::empty()).unwrap())
    };
    let plain = ask(false).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none(), "no gzip unless asked for");
    let packed = ask(true).await;
    assert_eq!(packed.status, StatusCode::OK);
    assert_eq!(packed.headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()), Some("gzip"));
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed.body[..]), &mut unpacked).unwrap();
    assert_eq!(unpacked, plain.body, "the same document");
    assert!(packed.body.len() * 3 < plain.body.len(), "{} bytes packed of {}", packed.body.len(), plain.body.len());
}
