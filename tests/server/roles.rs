//! Every token role against every kind of operation, allowed and denied,
//! through HTTP and through GraphQL's typed mutations (SPEC 4).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// What an operation should answer: stored, or refused with (status, code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Stored,
    Denied(u16, &'static str),
}
use Expect::*;

const ROLE_FORBIDDEN: Expect = Denied(403, "auth.role_forbidden");
const READ_ONLY: Expect = Denied(403, "auth.read_only");
const MISMATCH: Expect = Denied(403, "auth.actor_mismatch");
const NOT_AUTHORISED: Expect = Denied(422, "actor.not_authorised");

struct Caller {
    name: &'static str,
    agency: &'static str,
    token: String,
}

/// One kind of write, as the caller's own agency (or as another, for `as_other`).
fn operation(kind: &str, agency: &str, tag: &str) -> Value {
    match kind {
        "own_action" => publicity(agency, &format!("PUB-{tag}"), None),
        "as_other_agency" => publicity("regulator", &format!("PUB-{tag}"), None),
        "coordinator_action" => envelope(
            None,
            "AgencyRegistered",
            agency,
            "2024-03-01T00:00:00Z",
            json!({"agency_id": format!("new-{}", tag.to_lowercase().replace('_', "-")), "name": "New", "kind": "community"}),
        ),
        "evaluator_action" => envelope(
            None,
            "AssessmentPublished",
            agency,
            "2024-03-01T00:00:00Z",
            json!({"assessment_id": format!("A-{tag}"), "period_from": "2024-01-01T00:00:00Z",
                   "period_to": "2024-02-01T00:00:00Z", "as_of_seq": 1, "model_sha256": "a".repeat(64),
                   "report_sha256": "b".repeat(64)}),
        ),
        "assign_task" => envelope(
            None,
            "ResponsibilityAssigned",
            agency,
            "2024-03-01T00:00:00Z",
            json!({"task_id": format!("T-{tag}"), "assignee": "bank-1", "title": "Check the accounts",
                   "due_at": "2024-04-01T00:00:00Z"}),
        ),
        "ledger_rule" => envelope(
            None,
            "PenaltyImposed",
            agency,
            "2024-03-01T00:00:00Z",
            json!({"penalty_id": format!("P-{tag}"), "target": "bank-1", "kind": "warning",
                   "legal_basis": "Anti-Telecom Fraud Law art. 40", "reason": "late freeze answers"}),
        ),
        other => panic!("unknown operation {other}"),
    }
}

#[tokio::test]
async fn every_role_against_every_operation() {
    let fx = Fixture::new();
    let callers = [
        Caller { name: "coordinator", agency: "office", token: fx.token("office", "coordinator") },
        Caller { name: "agency(office)", agency: "office", token: fx.token("office", "agency") },
        Caller { name: "agency(police)", agency: "police", token: fx.token("police", "agency") },
        Caller { name: "agency(bank)", agency: "bank-0", token: fx.token("bank-0", "agency") },
        Caller { name: "evaluator", agency: "eval-bureau", token: fx.token("eval-bureau", "evaluator") },
        Caller { name: "auditor", agency: "regulator", token: fx.token("regulator", "auditor") },
    ];
    let server = fx.serve(&[]);

    // Reads: every token, every read route and GraphQL; `/metrics` only coordinator and auditor tokens.
    for c in &callers {
        let client = Client::new(&server, Some(&c.token));
        for path in ["/v1/events?limit=5", "/v1/verify", "/openapi.json", "/healthz"] {
            assert_eq!(client.get(path).await.status, StatusCode::OK, "{} GET {path}", c.name);
        }
        let metrics = client.get("/metrics").await;
        let allowed = c.name == "coordinator" || c.name == "auditor";
        let expected =
            if allowed { (StatusCode::OK, "(no code)") } else { (StatusCode::FORBIDDEN, "auth.role_forbidden") };
        assert_eq!((metrics.status, metrics.code()), expected, "{} GET /metrics", c.name);
        let r = client
            .graphql("{ head { seq } agencies { agencyId } events(first: 3) { edges { cursor } } }", json!({}))
            .await;
        assert_eq!(r.body["errors"], Value::Null, "{} GraphQL read: {}", c.name, r.text);
        assert_eq!(r.body["data"]["agencies"].as_array().unwrap().len(), 8);
    }
    // Anonymous: only /healthz.
    let anonymous = Client::new(&server, None);
    assert_eq!(anonymous.get("/healthz").await.status, StatusCode::OK);
    for path in ["/v1/events", "/v1/verify", "/metrics", "/openapi.json"] {
        let r = anonymous.get(path).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "auth.missing_token"), "anonymous GET {path}");
    }
    let r = anonymous.append(&publicity("police", "PUB-anon", None)).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "auth.missing_token"));
    let r = anonymous.graphql("{ head { seq } }", json!({})).await;
    assert_eq!((r.status, r.gql_code()), (StatusCode::UNAUTHORIZED, "auth.missing_token"));

    // Writes: (operation, expectation per caller in the order above).
    let matrix: [(&str, [Expect; 6]); 6] = [
        ("own_action", [Stored, Stored, Stored, Stored, ROLE_FORBIDDEN, READ_ONLY]),
        ("as_other_agency", [MISMATCH, MISMATCH, MISMATCH, MISMATCH, MISMATCH, READ_ONLY]),
        ("coordinator_action", [Stored, ROLE_FORBIDDEN, ROLE_FORBIDDEN, ROLE_FORBIDDEN, ROLE_FORBIDDEN, READ_ONLY]),
        ("evaluator_action", [ROLE_FORBIDDEN, ROLE_FORBIDDEN, ROLE_FORBIDDEN, ROLE_FORBIDDEN, Stored, READ_ONLY]),
        // The token may append these; the ledger's rules decide, in the capacity the token
        // allows (SPEC 4): only the coordinator assigns tasks, and an `agency` token of the
        // coordination office acts as a plain agency, without the office's coordinator role.
        ("assign_task", [Stored, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, ROLE_FORBIDDEN, READ_ONLY]),
        // A regulator or the coordinator imposes penalties.
        ("ledger_rule", [Stored, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, ROLE_FORBIDDEN, READ_ONLY]),
    ];
    let reader = Client::new(&server, Some(&callers[5].token));
    let mut stored = CITY_EVENTS;
    for (kind, expectations) in matrix {
        for (c, expect) in callers.iter().zip(expectations) {
            let client = Client::new(&server, Some(&c.token));
            for transport in ["http", "graphql"] {
                let tag = format!("{kind}-{}-{transport}", c.name.replace(['(', ')'], "-"));
                let event = operation(kind, c.agency, &tag);
                let (status, code, seq) = if transport == "http" {
                    let r = client.append(&event).await;
                    (r.status.as_u16(), r.code().to_owned(), r.body["seq"].as_u64())
                } else {
                    let r = client.append_gql(&event).await;
                    let status = r.body["errors"][0]["extensions"]["status"].as_u64().map_or(201, |s| s as u16);
                    (status, r.gql_code().to_owned(), r.body["data"]["event"]["seq"].as_u64())
                };
                match expect {
                    Stored => {
                        stored += 1;
                        assert_eq!((status, seq), (201, Some(stored)), "{} {kind} via {transport}: {code}", c.name);
                    }
                    Denied(want_status, want_code) => {
                        assert_eq!(
                            (status, code.as_str()),
                            (want_status, want_code),
                            "{} {kind} via {transport}",
                            c.name
                        );
                        assert_eq!(seq, None);
                    }
                }
                assert_eq!(reader.head_seq().await, stored, "{} {kind} via {transport}: head", c.name);
            }
        }
    }
    let report = reader.get("/v1/verify").await.body;
    assert_eq!((report["ok"].clone(), report["events"].clone()), (json!(true), json!(stored)));
}

#[tokio::test]
async fn tokens_need_the_role_in_the_ledger_and_die_when_revoked() {
    let fx = Fixture::new();
    let data = fx.data();
    // The CLI refuses roles the agency does not hold, and unknown agencies.
    let (code, _, err) = govledger(&data, &["token", "issue", "--agency", "police", "--role", "coordinator"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("does not hold the coordinator role"), "{err}");
    let (code, _, err) = govledger(&data, &["token", "issue", "--agency", "office", "--role", "evaluator"]);
    assert_eq!(code, Some(1), "{err}");
    let (code, _, err) = govledger(&data, &["token", "issue", "--agency", "nobody", "--role", "agency"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not registered"), "{err}");

    let police = fx.token("police", "agency");
    let server = fx.serve(&[]);
    // Issued while the server runs: usable at once.
    let bank = fx.token("bank-1", "agency");
    let bank_client = Client::new(&server, Some(&bank));
    assert_eq!(bank_client.get("/v1/verify").await.status, StatusCode::OK);

    // The list shows ids and roles, never a token or its hash.
    let (code, list, _) = govledger(&data, &["token", "list", "--json"]);
    assert_eq!(code, Some(0));
    assert!(!list.contains(&police) && !list.contains("glt_"), "{list}");
    let entries: Vec<Value> = list.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(entries.len(), 2);
    let police_id = entries.iter().find(|e| e["agency"] == "police").unwrap()["id"].as_str().unwrap().to_owned();

    let police_client = Client::new(&server, Some(&police));
    assert_eq!(police_client.append(&publicity("police", "PUB-1", None)).await.status, StatusCode::CREATED);
    let (code, out, err) = govledger(&data, &["token", "revoke", &police_id]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&format!("revoked {police_id}")), "{out}");
    let r = police_client.append(&publicity("police", "PUB-2", None)).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "auth.invalid_token"));
    let r = police_client.graphql("{ head { seq } }", json!({})).await;
    assert_eq!(r.gql_code(), "auth.invalid_token");
    let (code, _, _) = govledger(&data, &["token", "revoke", "tk-000000000000"]);
    assert_eq!(code, Some(1));

    // The server's log names token ids, never tokens.
    let (status, _) = server.stop();
    assert!(status.success());
    let log = std::fs::read_dir(fx.root.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(log.contains("route=/v1/events"), "no request log:\n{log}");
    assert!(!log.contains(&police) && !log.contains(&bank) && !log.contains("glt_"), "a token leaked into the log");
}
