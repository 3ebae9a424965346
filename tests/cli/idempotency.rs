//! SPEC 2.1 through `govledger import`: an event whose client `id` is already
//! stored with the same content is an idempotent retry (counted as "already
//! stored", nothing appended); the same `id` with other content is
//! `event.id_conflict` and the whole file stores nothing.

use serde_json::json;

use crate::support::{CITY_EVENTS, Fixture, city, envelope, event_id};

#[test]
fn reimporting_a_file_of_client_ids_appends_nothing() {
    let fx = Fixture::with_city();
    let head = fx.head();
    let export = fx.export();
    let run = fx.import(&city()).success();
    assert!(
        run.stdout.starts_with(&format!("imported 0 events ({CITY_EVENTS} already stored)")),
        "second import: {}",
        run.stdout
    );
    assert_eq!(fx.head(), head, "the head must not move");
    assert_eq!(fx.export(), export);
}

#[test]
fn retry_is_recognised_after_normalisation_of_offset_and_key_order() {
    let fx = Fixture::with_city();
    let head = fx.head();
    // City event 1 was submitted at 09:00+08:00; the same instant in UTC,
    // keys in another order and extra whitespace, is the same content.
    let line = format!(
        "{{ \"data\": {{\"roles\": [\"coordinator\", \"evaluator\"], \"jurisdiction\": \"晋江市\", \"kind\": \"government\", \
         \"name\": \"晋江市打击治理电信网络新型违法犯罪工作领导小组办公室\", \"agency_id\": \"jj-office\"}}, \
         \"occurred_at\": \"2026-01-05T01:00:00.000Z\", \"actor\": \"jj-office\", \"type\": \"AgencyRegistered\", \
         \"id\": \"{}\" }}\n",
        event_id(1)
    );
    let run = fx.import_text(&line).success();
    assert!(run.stdout.starts_with("imported 0 events (1 already stored)"), "{}", run.stdout);
    assert_eq!(fx.head(), head);
}

#[test]
fn retries_mixed_with_new_events_append_only_the_new_ones() {
    let fx = Fixture::with_city();
    let (seq, _) = fx.head();
    let mut events = city();
    events.push(envelope(
        Some(event_id(100)),
        "PublicityDelivered",
        "jj-psb",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": "PUB-100", "audience": "x", "reach": 1}),
    ));
    let run = fx.import(&events).success();
    assert!(run.stdout.starts_with(&format!("imported 1 events ({CITY_EVENTS} already stored)")), "{}", run.stdout);
    assert_eq!(fx.head().0, seq + 1);
}

#[test]
fn same_id_with_different_content_is_an_id_conflict_and_stores_nothing() {
    let fx = Fixture::with_city();
    let export = fx.export();
    let mut events = city();
    events[6]["data"]["amount_frozen_minor"] = json!(2_999_999);
    let new = envelope(
        Some(event_id(100)),
        "PublicityDelivered",
        "jj-psb",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": "PUB-100", "audience": "x", "reach": 1}),
    );
    let run = fx.import(&[new, events[6].clone()]).no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("error: line 2: event.id_conflict (field id): "), "{}", run.stderr);
    assert!(run.stderr.contains("(seq 7)"), "the conflict names the stored event: {}", run.stderr);
    assert_eq!(fx.export(), export);
}

#[test]
fn same_id_twice_in_one_file_is_a_retry_within_the_file() {
    let fx = Fixture::with_city();
    let (seq, _) = fx.head();
    let new = envelope(
        Some(event_id(100)),
        "PublicityDelivered",
        "jj-psb",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": "PUB-100", "audience": "x", "reach": 1}),
    );
    let run = fx.import(&[new.clone(), new]).no_panic();
    assert_eq!(run.code, Some(0), "a repeated line with the same id and content is a retry: {run:?}");
    assert!(run.stdout.starts_with("imported 1 events (1 already stored)"), "{}", run.stdout);
    assert_eq!(fx.head().0, seq + 1);
}

#[test]
fn same_id_with_other_content_twice_in_one_file_is_an_id_conflict() {
    let fx = Fixture::with_city();
    let export = fx.export();
    let new = envelope(
        Some(event_id(100)),
        "PublicityDelivered",
        "jj-psb",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": "PUB-100", "audience": "x", "reach": 1}),
    );
    let mut other = new.clone();
    other["data"]["activity_id"] = json!("PUB-101");
    let run = fx.import(&[new, other]).no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("error: line 2: event.id_conflict (field id): "), "{}", run.stderr);
    assert_eq!(fx.export(), export);
}

#[test]
fn same_id_repeated_after_more_than_one_import_chunk_is_a_retry() {
    // The import writes in chunks of 1,024 events; a retry of an event of an
    // earlier chunk is found through the store's open transaction.
    let fx = Fixture::with_city();
    let (seq, _) = fx.head();
    let first = envelope(
        Some(event_id(100)),
        "PublicityDelivered",
        "jj-psb",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": "PUB-100", "audience": "x", "reach": 1}),
    );
    let mut events = vec![first.clone()];
    events.extend((0..1_100).map(|n| {
        envelope(
            None,
            "PublicityDelivered",
            "jj-psb",
            "2026-03-01T08:00:00Z",
            json!({"activity_id": format!("PUB-BULK-{n}"), "audience": "x", "reach": n}),
        )
    }));
    let mut conflicting = first.clone();
    conflicting["data"]["reach"] = json!(2);
    events.push(conflicting);
    let run = fx.import(&events).no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("error: line 1102: event.id_conflict (field id): "), "{}", run.stderr);
    assert_eq!(fx.head().0, seq);

    *events.last_mut().unwrap() = first;
    let run = fx.import(&events).success();
    assert!(run.stdout.starts_with("imported 1101 events (1 already stored)"), "{}", run.stdout);
    assert_eq!(fx.head().0, seq + 1_101);
}
