//! Each class of bad input, through HTTP and through GraphQL: a clear error
//! with its stable code (and field or batch index where one is at fault),
//! and nothing stored (SPEC 2.5).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// `e` with the member at `pointer` (a JSON pointer; the last member may be new) set to `value`.
fn with(mut e: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    let Some(Value::Object(obj)) = e.pointer_mut(parent) else { panic!("no object at {parent:?}") };
    obj.insert(key.to_owned(), value);
    e
}

fn executed() -> Value {
    freeze_answer("F-CITY", "bank-0", true, None)
}

#[tokio::test]
async fn every_class_of_bad_input_is_refused_and_stores_nothing() {
    let fx = Fixture::new();
    let bank = fx.token("bank-0", "agency");
    let police = fx.token("police", "agency");
    let server = fx.serve(&["--max-body-bytes", "8192", "--max-batch-events", "5"]);
    let bank_client = Client::new(&server, Some(&bank));
    let police_client = Client::new(&server, Some(&police));

    // (what, envelope, HTTP status, code, field) — each also sent through its typed GraphQL mutation,
    // where the same code must come back (the input reaches the same parser and rules).
    let far_future = "2999-01-01T00:00:00Z";
    let cases: Vec<(&str, Value, u16, &str, Option<&str>)> = vec![
        (
            "entity id format",
            with(executed(), "/data/freeze_id", json!("bad id!")),
            400,
            "id.invalid_entity_id",
            Some("data.freeze_id"),
        ),
        ("agency id format", with(executed(), "/actor", json!("Bank 0")), 400, "id.invalid_agency_id", Some("actor")),
        ("event id format", with(executed(), "/id", json!("not-a-uuid")), 400, "envelope.invalid_id", Some("id")),
        (
            "amount out of range",
            with(executed(), "/data/amount_frozen_minor", json!(1_000_000_000_000_001_u64)),
            400,
            "amount.out_of_range",
            Some("data.amount_frozen_minor"),
        ),
        (
            "negative amount",
            with(executed(), "/data/amount_frozen_minor", json!(-5)),
            400,
            "amount.out_of_range",
            Some("data.amount_frozen_minor"),
        ),
        (
            "fractional amount",
            with(executed(), "/data/amount_frozen_minor", json!(2.5)),
            400,
            "amount.out_of_range",
            Some("data.amount_frozen_minor"),
        ),
        (
            "timestamp format",
            with(executed(), "/occurred_at", json!("yesterday")),
            400,
            "time.invalid",
            Some("occurred_at"),
        ),
        (
            "timestamp without offset",
            with(executed(), "/occurred_at", json!("2024-01-03T00:10:00")),
            400,
            "time.invalid",
            Some("occurred_at"),
        ),
        (
            "timestamp too precise",
            with(executed(), "/occurred_at", json!("2024-01-03T00:10:00.1234567Z")),
            400,
            "time.too_precise",
            Some("occurred_at"),
        ),
        (
            "occurred in the future",
            with(executed(), "/occurred_at", json!(far_future)),
            422,
            "time.in_future",
            Some("occurred_at"),
        ),
        (
            "blank text",
            freeze_answer("F-CITY", "bank-0", false, None).pipe(|e| with(e, "/data/reason", json!("   "))),
            400,
            "text.empty",
            Some("data.reason"),
        ),
        (
            "text too long",
            freeze_answer("F-CITY", "bank-0", false, None).pipe(|e| with(e, "/data/reason", json!("x".repeat(4001)))),
            400,
            "text.too_long",
            Some("data.reason"),
        ),
        (
            "unknown entity",
            with(executed(), "/data/freeze_id", json!("F-NOPE")),
            422,
            "freeze.not_found",
            Some("data.freeze_id"),
        ),
        (
            "lifecycle out of order",
            with(executed(), "/occurred_at", json!("2024-01-02T23:00:00Z")),
            422,
            "lifecycle.out_of_order",
            None,
        ),
    ];
    for (what, event, status, code, field) in &cases {
        let r = bank_client.append(event).await;
        assert_eq!((r.status.as_u16(), r.code()), (*status, *code), "HTTP {what}: {}", r.text);
        assert_eq!(r.body["error"]["index"], 0, "HTTP {what}");
        assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.len() > 10), "HTTP {what}: {}", r.text);
        if let Some(field) = field {
            assert_eq!(r.body["error"]["field"], *field, "HTTP {what}");
        }
        let g = bank_client.append_gql(event).await;
        assert_eq!(g.status, StatusCode::OK, "GraphQL {what}");
        assert_eq!(g.gql_code(), *code, "GraphQL {what}: {}", g.text);
        assert_eq!(g.body["errors"][0]["extensions"]["status"], *status, "GraphQL {what}");
        if let Some(field) = field {
            assert_eq!(g.body["errors"][0]["extensions"]["field"], *field, "GraphQL {what}");
        }
        assert_eq!(g.body["data"], Value::Null, "GraphQL {what}");
    }

    // The account rule is the police's (FreezeRequested).
    let raw =
        freeze_request("F-RAW", "bank-1", None).pipe(|e| with(e, "/data/account_ref", json!("6222-0212-3456-7890")));
    let r = police_client.append(&raw).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "account_ref.raw_account_number"));
    assert_eq!(police_client.append_gql(&raw).await.gql_code(), "account_ref.raw_account_number");
    let dup = freeze_request("F-CITY", "bank-1", None);
    let r = police_client.append(&dup).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "freeze.already_exists"));
    assert_eq!(police_client.append_gql(&dup).await.gql_code(), "freeze.already_exists");

    // Shapes only HTTP can send: GraphQL's types refuse them before any resolver, with graphql.* codes.
    let http_only: Vec<(&str, String, &str, Option<&str>)> = vec![
        ("not JSON", "{\"type\": ".into(), "json.malformed", None),
        ("not an object", "[]".into(), "json.malformed", None),
        (
            "unknown envelope field",
            with(executed(), "/data", json!({"freeze_id": "F-CITY", "amount_frozen_minor": 1}))
                .pipe(|mut e| {
                    e["via"] = json!("fax");
                    e
                })
                .to_string(),
            "envelope.unknown_field",
            Some("via"),
        ),
        (
            "unknown event type",
            with(executed(), "/type", json!("FreezeMelted")).to_string(),
            "event.unknown_type",
            Some("type"),
        ),
        (
            "missing envelope field",
            executed()
                .pipe(|mut e| {
                    e.as_object_mut().unwrap().remove("actor");
                    e
                })
                .to_string(),
            "envelope.missing_field",
            Some("actor"),
        ),
        (
            "unknown payload field",
            with(executed(), "/data/note", json!("x")).to_string(),
            "data.unknown_field",
            Some("data.note"),
        ),
        (
            "missing payload field",
            executed()
                .pipe(|mut e| {
                    e["data"].as_object_mut().unwrap().remove("amount_frozen_minor");
                    e
                })
                .to_string(),
            "data.missing_field",
            Some("data.amount_frozen_minor"),
        ),
        (
            "wrong payload type",
            with(executed(), "/data/amount_frozen_minor", json!("5")).to_string(),
            "data.invalid_type",
            Some("data.amount_frozen_minor"),
        ),
        (
            "value outside its set",
            freeze_request("F-X", "bank-1", None).pipe(|e| with(e, "/data/mode", json!("melt"))).to_string(),
            "data.invalid_value",
            Some("data.mode"),
        ),
    ];
    for (what, body, code, field) in &http_only {
        let client = if body.contains("FreezeRequested") { &police_client } else { &bank_client };
        let r = client.post_raw("/v1/events", "application/json", body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, *code), "HTTP {what}: {}", r.text);
        if let Some(field) = field {
            assert_eq!(r.body["error"]["field"], *field, "HTTP {what}");
        }
    }
    let (mutation, variables) = typed_mutation(&executed());
    let gql_cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "unknown input field",
            mutation.clone(),
            with(variables.clone(), "/input/data/note", json!("x")),
            "graphql.invalid_input",
        ),
        (
            "missing input field",
            mutation.clone(),
            variables.clone().pipe(|mut v| {
                v["input"]["data"].as_object_mut().unwrap().remove("amountFrozenMinor");
                v
            }),
            "graphql.invalid_input",
        ),
        (
            "wrong input type",
            mutation.clone(),
            with(variables.clone(), "/input/data/amountFrozenMinor", json!("5")),
            "graphql.invalid_input",
        ),
        (
            "enum value outside its set",
            typed_mutation(&freeze_request("F-X", "bank-1", None)).0,
            typed_mutation(&freeze_request("F-X", "bank-1", None))
                .1
                .pipe(|v| with(v, "/input/data/mode", json!("MELT"))),
            "graphql.invalid_input",
        ),
        ("unknown mutation", "mutation { meltFreeze(input: {}) { seq } }".into(), json!({}), "graphql.invalid_query"),
        ("unparsable document", "mutation { executeFreeze(".into(), json!({}), "graphql.parse_error"),
    ];
    for (what, query, vars, code) in &gql_cases {
        let client = if query.contains("RequestFreeze") { &police_client } else { &bank_client };
        let g = client.graphql(query, vars.clone()).await;
        assert_eq!(g.gql_code(), *code, "GraphQL {what}: {}", g.text);
        assert!(g.body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = bank_client.post_raw("/graphql", "application/json", "{\"query\": ").await;
    assert_eq!((r.status, r.gql_code()), (StatusCode::BAD_REQUEST, "graphql.parse_error"), "{}", r.text);

    // Batches: atomic, the bad event named by its index.
    let batch = vec![
        freeze_request("F-B1", "bank-1", None),
        freeze_request("F-B2", "bank-2", None),
        freeze_request("F-B1", "bank-3", None),
    ];
    let r = police_client.append_batch(&batch).await;
    assert_eq!(
        (r.status.as_u16(), r.code(), r.body["error"]["index"].clone()),
        (409, "freeze.already_exists", json!(2))
    );
    let items: Vec<Value> = batch
        .iter()
        .map(|e| {
            let input = typed_mutation(e).1["input"].clone();
            json!({"actor": input["actor"], "occurredAt": input["occurredAt"], "data": {"freezeRequested": input["data"]}})
        })
        .collect();
    let q = "mutation($batch: [EventInput!]!) { appendEvents(batch: $batch) { seq } }";
    let g = police_client.graphql(q, json!({"batch": items})).await;
    assert_eq!(
        (g.gql_code(), g.body["errors"][0]["extensions"]["index"].clone()),
        ("freeze.already_exists", json!(2)),
        "{}",
        g.text
    );

    // Limits and media types.
    let six: Vec<Value> = (0..6).map(|i| freeze_request(&format!("F-L{i}"), "bank-1", None)).collect();
    let r = police_client.append_batch(&six).await;
    assert_eq!((r.status.as_u16(), r.code()), (413, "batch.too_large"), "{}", r.text);
    let six_items: Vec<Value> = items.iter().cycle().take(6).cloned().collect();
    let g = police_client.graphql(q, json!({"batch": six_items})).await;
    assert_eq!(g.gql_code(), "batch.too_large", "{}", g.text);
    let big = publicity("police", &"A".repeat(100), None).pipe(|e| with(e, "/data/audience", json!("x".repeat(9000))));
    let r = police_client.append(&big).await;
    assert_eq!((r.status.as_u16(), r.code()), (413, "request.too_large"), "{}", r.text);
    let g = police_client.append_gql(&big).await;
    assert_eq!((g.status.as_u16(), g.gql_code()), (413, "request.too_large"), "{}", g.text);
    let r = police_client.post_raw("/v1/events", "text/csv", "a,b\n").await;
    assert_eq!((r.status.as_u16(), r.code()), (415, "request.unsupported_media_type"));
    let r = police_client.post_raw("/v1/events", "application/x-ndjson", "\n\n").await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "batch.empty"));
    for query in ["?limit=0", "?limit=5000", "?after=-1", "?cursor=3"] {
        let r = police_client.get(&format!("/v1/events{query}")).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "request.invalid_query"), "{query}");
    }

    // Nothing of all that was stored.
    assert_eq!(police_client.head_seq().await, CITY_EVENTS);
    let report = police_client.get("/v1/verify").await.body;
    assert_eq!((report["ok"].clone(), report["events"].clone()), (json!(true), json!(CITY_EVENTS)));
    // And every refusal was counted by its code.
    // `/metrics` is for coordinator and auditor tokens (SPEC 4 v1.2).
    let auditor = Client::new(&server, Some(&fx.token("regulator", "auditor")));
    let metrics = auditor.get("/metrics").await.text;
    for code in ["freeze.not_found", "time.in_future", "batch.too_large", "request.too_large", "graphql.invalid_input"]
    {
        assert!(metrics.contains(&format!("govledger_rejections_total{{code=\"{code}\"}}")), "{code} not counted");
    }
}

/// A refusal as expected: code, field, and words its sentence must hold.
type Expected = (&'static str, &'static str, &'static [&'static str]);

/// SPEC 2.1 v1.2: `occurred_at` before 2000 in UTC, a leap second in any
/// timestamp field, and the nil UUID as an event id are refused with their own
/// codes and a sentence saying what to do, through HTTP (alone and inside an
/// NDJSON batch after a good event) and through GraphQL; nothing is stored.
#[tokio::test]
async fn spec_2_1_edges_get_their_own_codes_and_store_nothing() {
    let fx = Fixture::new();
    let bank = fx.token("bank-0", "agency");
    let office = fx.token("office", "coordinator");
    let server = fx.serve(&[]);
    let bank_client = Client::new(&server, Some(&bank));
    let office_client = Client::new(&server, Some(&office));
    let assignment = envelope(
        None,
        "ResponsibilityAssigned",
        "office",
        "2024-02-01T00:00:00Z",
        json!({"task_id": "T-LEAP", "assignee": "bank-1", "title": "Report on F-CITY",
               "due_at": "2024-02-29T23:59:60+08:00"}),
    );
    let occurred = |at: &str| with(executed(), "/occurred_at", json!(at));
    let too_early = ("time.too_early", "occurred_at", &["2000-01-01T00:00:00Z"][..]);
    // (what, client, envelope, (code, field, words the sentence must hold))
    let cases: Vec<(&str, &Client, Value, Expected)> = vec![
        ("before 2000", &bank_client, occurred("1999-12-31T23:59:59Z"), too_early),
        ("before 2000 once in UTC", &bank_client, occurred("2000-01-01T07:59:59.999999+08:00"), too_early),
        ("year 0001", &bank_client, occurred("0001-01-01T00:00:00Z"), too_early),
        ("year 0000", &bank_client, occurred("0000-01-01T00:00:00Z"), too_early),
        (
            "leap second in occurred_at",
            &bank_client,
            occurred("2024-01-03T23:59:60Z"),
            ("time.leap_second", "occurred_at", &["leap second", "2024-01-03T23:59:59Z"]),
        ),
        (
            "leap second in due_at",
            &office_client,
            assignment,
            ("time.leap_second", "data.due_at", &["leap second", "2024-02-29T23:59:59+08:00"]),
        ),
        (
            "nil event id",
            &bank_client,
            with(executed(), "/id", json!("00000000-0000-0000-0000-000000000000")),
            ("envelope.nil_id", "id", &["nil UUID", "leave `id` out"]),
        ),
    ];
    for (what, client, event, (code, field, words)) in &cases {
        let r = client.append(event).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, *code), "HTTP {what}: {}", r.text);
        assert_eq!(r.body["error"]["field"], *field, "HTTP {what}");
        assert_eq!(r.body["error"]["index"], 0, "HTTP {what}");
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(words.iter().all(|w| message.contains(w)), "HTTP {what}: {message:?} should say {words:?}");

        // In a batch after a good event: the whole batch is refused, the bad event named.
        let good = publicity(event["actor"].as_str().unwrap(), "PUB-EDGE", None);
        let r = client.append_batch(&[good, event.clone()]).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, *code), "NDJSON {what}: {}", r.text);
        assert_eq!(r.body["error"]["index"], 1, "NDJSON {what}");

        let g = client.append_gql(event).await;
        assert_eq!(g.gql_code(), *code, "GraphQL {what}: {}", g.text);
        assert_eq!(g.body["errors"][0]["extensions"]["field"], *field, "GraphQL {what}");
        assert_eq!(g.body["data"], Value::Null, "GraphQL {what}");
    }
    // Nothing was stored.
    assert_eq!(bank_client.head_seq().await, CITY_EVENTS);

    // Next to the edges all is as before: a second earlier, and 2000 in UTC.
    let r = bank_client.append(&occurred("2024-01-03T23:59:59Z")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let first_of_2000 = with(publicity("bank-0", "PUB-2000", None), "/occurred_at", json!("2000-01-01T08:00:00+08:00"));
    let r = bank_client.append(&first_of_2000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(bank_client.head_seq().await, CITY_EVENTS + 2);
}

/// `value.pipe(f)`: builds a case from a base envelope in one expression.
trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl Pipe for Value {}
