//! Entity queries over GraphQL (SPEC 4): every kind lists exactly the
//! entities the log created, each with its payload; filters by agency,
//! status and time keep exactly the matching ones; pages of any size walk
//! the same list without gaps or repeats; bad filters get their codes.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::*;

/// (GraphQL field, creating event type, payload field naming the holding agency; None: the actor).
const KINDS: [(&str, &str, Option<&str>); 8] = [
    ("tasks", "ResponsibilityAssigned", Some("assignee")),
    ("freezes", "FreezeRequested", Some("bank")),
    ("meetings", "JointMeetingConvened", None),
    ("clues", "ClueReferred", Some("to")),
    ("warnings", "EarlyWarningIssued", Some("to")),
    ("penalties", "PenaltyImposed", Some("target")),
    ("cardBreakingActions", "CardBreakingAction", None),
    ("cases", "FraudCaseReported", None),
];

fn query(field: &str) -> String {
    format!(
        "query($agency: String, $status: String, $from: String, $to: String, $after: String, $first: Int!) {{
          page: {field}(agency: $agency, status: $status, from: $from, to: $to, after: $after, first: $first) {{
            pageInfo {{ hasNextPage endCursor }}
            edges {{ cursor node {{ kind entityId seq eventId agencyId invitees at status steps actor data }} }}
          }} }}"
    )
}

/// Every entity of `field` matching `vars`, paging `first` at a time.
async fn walk(client: &Client, field: &str, vars: Value, first: u32) -> Vec<Value> {
    let (q, mut out, mut after) = (query(field), Vec::new(), Value::Null);
    loop {
        let mut v = vars.clone();
        v["first"] = json!(first);
        v["after"] = after.clone();
        let r = client.graphql(&q, v).await;
        assert!(r.body["errors"].is_null(), "{field}: {}", r.text);
        let page = &r.body["data"]["page"];
        let edges = page["edges"].as_array().unwrap();
        assert!(edges.len() <= first as usize);
        out.extend(edges.iter().map(|e| e["node"].clone()));
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn entities_list_filter_and_page_as_the_log_says() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (code, _, stderr) = govledger(&data, &["demo", "--scale", "0.05"]);
    assert_eq!(code, Some(0), "demo failed: {stderr}");
    let (code, export, _) = govledger(&data, &["export"]);
    assert_eq!(code, Some(0));
    let log: Vec<Value> = export.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let retracted: BTreeSet<&str> =
        log.iter().filter(|e| e["type"] == "EventRetracted").map(|e| e["data"]["event_id"].as_str().unwrap()).collect();
    let token = issue_token(&data, log[0]["actor"].as_str().unwrap(), "auditor");
    let server = Server::start(&data, root.path(), &[]);
    let client = Client::new(&server, Some(&token));

    for (field, creating, holder) in KINDS {
        let created: Vec<&Value> = log.iter().filter(|e| e["type"] == creating).collect();
        let all = walk(&client, field, json!({}), 1000).await;
        // Exactly the creating events, in log order, with their payloads.
        let seqs: Vec<u64> = all.iter().map(|n| n["seq"].as_u64().unwrap()).collect();
        let expected: Vec<u64> = created.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, expected, "{field}");
        for (node, event) in all.iter().zip(&created) {
            assert_eq!(node["eventId"], event["id"], "{field}");
            assert_eq!(node["data"], event["data"], "{field}");
            assert_eq!(node["actor"], event["actor"], "{field}");
            let agency = holder.map_or(&event["actor"], |h| &event["data"][h]);
            if field == "meetings" {
                assert_eq!(node["agencyId"], Value::Null);
                assert_eq!(
                    node["invitees"].as_array().unwrap().len(),
                    event["data"]["invitees"].as_array().unwrap().len()
                );
            } else {
                assert_eq!(&node["agencyId"], agency, "{field}");
            }
            let is_retracted = retracted.contains(event["id"].as_str().unwrap());
            assert_eq!(node["status"] == "retracted", is_retracted, "{field}: {node}");
        }
        // Small pages walk the same list.
        assert_eq!(walk(&client, field, json!({}), 7).await, all, "{field}");
        if all.is_empty() {
            continue;
        }

        // By agency: exactly that agency's (for freezes: also those it requested).
        let agency = all[all.len() / 2]["agencyId"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| all[0]["invitees"][0].as_str().unwrap().to_owned());
        let mine = walk(&client, field, json!({"agency": agency}), 50).await;
        let expected: Vec<&Value> = all
            .iter()
            .filter(|n| {
                n["agencyId"] == agency.as_str()
                    || n["invitees"].as_array().unwrap().iter().any(|i| i == agency.as_str())
                    || (field == "freezes" && n["actor"] == agency.as_str())
            })
            .collect();
        assert!(!mine.is_empty(), "{field}");
        assert_eq!(mine.iter().collect::<Vec<_>>(), expected, "{field} of {agency}");

        // By status: the statuses partition the list.
        let statuses: BTreeSet<String> = all.iter().map(|n| n["status"].as_str().unwrap().to_owned()).collect();
        let mut total = 0;
        for s in &statuses {
            let some = walk(&client, field, json!({"status": s}), 1000).await;
            assert!(some.iter().all(|n| n["status"] == s.as_str()), "{field} {s}");
            total += some.len();
        }
        assert_eq!(total, all.len(), "{field}");

        // By time: [from, to) on `at`.
        let mut ats: Vec<&str> = all.iter().map(|n| n["at"].as_str().unwrap()).collect();
        ats.sort_unstable();
        let (from, to) = (ats[ats.len() / 4], ats[ats.len() * 3 / 4]);
        let window = walk(&client, field, json!({"from": from, "to": to}), 1000).await;
        let expected: Vec<&Value> = all
            .iter()
            .filter(|n| {
                let at = n["at"].as_str().unwrap();
                // Canonical UTC texts of equal precision compare like instants.
                at >= from && at < to
            })
            .collect();
        assert_eq!(window.iter().collect::<Vec<_>>(), expected, "{field} in [{from}, {to})");
    }

    // Bad filters and cursors get their codes.
    let q = query("tasks");
    for (vars, code, field) in [
        (json!({"status": "finished", "first": 5}), "request.invalid_query", "status"),
        (json!({"from": "last week", "first": 5}), "time.invalid", "from"),
        (json!({"after": "x", "first": 5}), "request.invalid_cursor", "after"),
    ] {
        let r = client.graphql(&q, vars).await;
        assert_eq!(r.gql_code(), code, "{}", r.text);
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field, "{}", r.text);
    }
    let r = client.graphql(&q, json!({"first": 1001})).await;
    assert_eq!(r.gql_code(), "graphql.invalid_input", "{}", r.text);
}
