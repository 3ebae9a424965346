//! Idempotent retries (SPEC 2.1): the same id with the same content returns
//! the stored event (HTTP 200 instead of 201, same seq and hash), through
//! HTTP and GraphQL, for single events, batches, and concurrent retries; the
//! same id with other content is `event.id_conflict`.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn retries_return_the_stored_event() {
    let fx = Fixture::new();
    let bank = fx.token("bank-0", "agency");
    let police = fx.token("police", "agency");
    let server = fx.serve(&[]);
    let bank_client = Client::new(&server, Some(&bank));
    let police_client = Client::new(&server, Some(&police));

    // HTTP, single envelope: 201, then 200 with the identical stored event.
    let id = new_id();
    let event = freeze_answer("F-CITY", "bank-0", true, Some(&id));
    let first = bank_client.append(&event).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["seq"], CITY_EVENTS + 1);
    for _ in 0..3 {
        let retry = bank_client.append(&event).await;
        assert_eq!(retry.status, StatusCode::OK);
        assert_eq!(retry.body, first.body);
    }
    // GraphQL retry of the same event: the same seq and hash.
    let g = bank_client.append_gql(&event).await;
    assert_eq!(g.body["data"]["event"]["seq"], first.body["seq"], "{}", g.text);
    assert_eq!(g.body["data"]["event"]["hash"], first.body["hash"]);
    // Same id, other content: a conflict, through both.
    let changed = freeze_answer("F-CITY", "bank-0", false, Some(&id));
    let r = bank_client.append(&changed).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "event.id_conflict"));
    assert_eq!(bank_client.append_gql(&changed).await.gql_code(), "event.id_conflict");
    // Without an id a repeat is a new submission, which the lifecycle refuses.
    let r = bank_client.append(&freeze_answer("F-CITY", "bank-0", true, None)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "freeze.already_answered"));
    assert_eq!(bank_client.head_seq().await, CITY_EVENTS + 1);

    // A batch retried whole, and a batch mixing a retry with a new event.
    let (a, b, c) = (new_id(), new_id(), new_id());
    let batch = vec![freeze_request("F-I1", "bank-1", Some(&a)), freeze_request("F-I2", "bank-1", Some(&b))];
    let first = police_client.append_batch(&batch).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let retry = police_client.append_batch(&batch).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body, first.body);
    let mixed = vec![batch[1].clone(), freeze_request("F-I3", "bank-1", Some(&c))];
    let r = police_client.append_batch(&mixed).await;
    assert_eq!(r.status, StatusCode::CREATED, "a batch with one new event is a creation");
    assert_eq!(r.body["events"][0], first.body["events"][1]);
    assert_eq!(r.body["events"][1]["seq"], CITY_EVENTS + 4);
    assert_eq!(police_client.head_seq().await, CITY_EVENTS + 4);
}

#[tokio::test]
async fn concurrent_retries_of_one_event_store_it_once() {
    let fx = Fixture::new();
    let police = fx.token("police", "agency");
    let server = fx.serve(&[]);
    let client = Client::new(&server, Some(&police));
    let id = new_id();
    let event = freeze_request("F-RACE", "bank-2", Some(&id));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            let event = event.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    client.append(&event).await
                } else {
                    let g = client.append_gql(&event).await;
                    Reply { status: StatusCode::OK, body: g.body["data"]["event"].clone(), text: g.text }
                }
            })
        })
        .collect();
    let mut created = 0;
    let mut seqs = std::collections::BTreeSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.status.is_success(), "{}", r.text);
        if r.status == StatusCode::CREATED {
            created += 1;
        }
        assert_eq!(r.body["id"], json!(id), "{}", r.text);
        seqs.insert(r.body["seq"].as_u64().unwrap());
    }
    assert!(created <= 1, "{created} clients were told they created the event");
    assert_eq!(seqs.len(), 1, "every retry got the same stored event");
    assert_eq!(client.head_seq().await, CITY_EVENTS + 1);
    let stored = client.all_events().await;
    assert_eq!(stored.iter().filter(|e| e["id"] == json!(id)).count(), 1);
}
