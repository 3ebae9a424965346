//! Numbers and errors on the wire (issue 21): log positions beyond GraphQL's
//! 32-bit `Int` travel in the `Seq` scalar, REST and GraphQL refuse a
//! position beyond 2^53-1 with the same sentence, and every GraphQL error
//! says whether the caller or the server is at fault
//! (`extensions.classification`), so generic clients and fuzzers can tell;
//! the request log's latencies carry no float noise.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, Fixture};

const MAX_SEQ: u64 = (1 << 53) - 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_beyond_int_are_seqs_and_beyond_2_53_are_refused_everywhere() {
    let fx = Fixture::new();
    let auditor = fx.token("regulator", "auditor");
    let server = fx.serve(&[]);
    let client = Client::new(&server, Some(&auditor));

    // REST: the last position is an ordinary (empty) page; one more is refused, nothing else is said.
    let r = client.get(&format!("/v1/events?after={MAX_SEQ}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["events"], json!([]));
    for path in [format!("/v1/events?after={}", MAX_SEQ + 1), format!("/v1/checkpoints?size={}", 1u64 << 63)] {
        let r = client.get(&path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        assert_eq!(r.code(), "request.invalid_query", "{path}");
        assert!(r.text.contains("from 0 to 2^53-1"), "{path}: {}", r.text);
    }
    let r = client.get("/v1/events?limit=0").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "request.invalid_query"));

    // GraphQL: 2^31 is no longer too big for `eventAt`; 2^53 is, with the same sentence.
    let r = client.graphql("{ eventAt(seq: 2147483648) { seq } head { seq } }", json!({})).await;
    assert_eq!(r.body["errors"], serde_json::Value::Null, "{}", r.text);
    assert_eq!(r.body["data"]["eventAt"], serde_json::Value::Null);
    assert!(r.body["data"]["head"]["seq"].as_u64().is_some_and(|s| s > 0), "a Seq is a JSON number: {}", r.text);
    let r = client.graphql("query($s: Seq!) { eventAt(seq: $s) { seq } }", json!({"s": MAX_SEQ + 1})).await;
    assert_eq!(r.gql_code(), "graphql.invalid_input", "{}", r.text);
    assert!(r.text.contains("from 0 to 2^53-1"), "{}", r.text);
    assert_eq!(r.body["errors"][0]["extensions"]["classification"], "ValidationError", "{}", r.text);

    // A refusal inside a resolver is the caller's too; a refusal before execution as well.
    let r = client.graphql("{ events(first: 0) { edges { cursor } } }", json!({})).await;
    assert_eq!(r.body["errors"][0]["extensions"]["classification"], "ValidationError", "{}", r.text);
    let r = client.post_raw("/graphql", "application/json", "null").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["errors"][0]["extensions"]["classification"], "ValidationError", "{}", r.text);

    // The request log gives latencies in whole microseconds, without float noise (issue 17).
    let log = server.log();
    let latencies: Vec<&str> =
        log.split("latency_ms=").skip(1).map(|rest| rest.split_whitespace().next().unwrap_or("")).collect();
    assert!(latencies.len() >= 5, "{log}");
    for l in latencies {
        let decimals = l.split_once('.').map_or(0, |(_, d)| d.len());
        assert!(l.parse::<f64>().is_ok() && decimals <= 3, "latency_ms={l}");
    }
    assert!(server.stop().0.success());
}
