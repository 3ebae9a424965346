//! The canonical layout against the RFC 8785 crate, and its readers against
//! the bytes its writers produce.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const ID: &str = "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn body(actor: &str, data: &Value, occurred_at: &str, seq: u64) -> Vec<u8> {
    let mut out = Vec::new();
    write_prefix(&mut out, actor, data, Uuid::parse_str(ID).unwrap(), occurred_at);
    write_tail(&mut out, GENESIS, "2026-03-02T08:20:00.500Z", seq, "FreezeExecuted");
    out
}

/// The whole envelope through the RFC 8785 crate.
fn reference(actor: &str, data: &Value, occurred_at: &str, seq: u64) -> Vec<u8> {
    let envelope = json!({
        "seq": seq, "id": ID, "type": "FreezeExecuted", "actor": actor, "occurred_at": occurred_at,
        "recorded_at": "2026-03-02T08:20:00.500Z", "data": data, "prev_hash": GENESIS,
    });
    serde_json_canonicalizer::to_vec(&envelope).unwrap()
}

#[test]
fn rfind_finds_the_last_occurrence_as_memmem_does() {
    let haystacks: [&[u8]; 6] =
        [b"", b",", b",\"seq\":", b"a,\"seq\":1,\"seq\":2", b",,\"se,\"seq\"", b",\"seq\":,\"seq"];
    for haystack in haystacks {
        for needle in [b",\"seq\":".as_slice(), b",", b",,", b"q"] {
            for end in 0..=haystack.len() {
                let h = &haystack[..end];
                assert_eq!(rfind(h, needle), memchr::memmem::rfind(h, needle), "{h:?} {needle:?}");
            }
        }
    }
}

#[test]
fn a_body_is_the_rfc8785_form_of_the_envelope_and_reads_back_in_place() {
    let data = json!({"freeze_id": "FRZ-1", "amount_frozen_minor": 1_250_000});
    let bytes = body("icbc-jinjiang", &data, "2026-03-02T08:17:30Z", 7);
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        format!(
            "{{\"actor\":\"icbc-jinjiang\",\"data\":{{\"amount_frozen_minor\":1250000,\"freeze_id\":\"FRZ-1\"}},\
             \"id\":\"{ID}\",\"occurred_at\":\"2026-03-02T08:17:30Z\",\"prev_hash\":\"{GENESIS}\",\
             \"recorded_at\":\"2026-03-02T08:20:00.500Z\",\"seq\":7,\"type\":\"FreezeExecuted\"}}"
        )
    );
    assert_eq!(bytes, reference("icbc-jinjiang", &data, "2026-03-02T08:17:30Z", 7));
    let tail = Tail {
        id: ID,
        prev_hash: GENESIS,
        recorded_at: "2026-03-02T08:20:00.500Z",
        seq: 7,
        event_type: "FreezeExecuted",
    };
    assert_eq!(Tail::parse(&bytes), Some(tail));
    assert_eq!(
        EventView::parse(&bytes),
        Some(EventView {
            actor: "icbc-jinjiang",
            data: r#"{"amount_frozen_minor":1250000,"freeze_id":"FRZ-1"}"#,
            id: ID,
            occurred_at: "2026-03-02T08:17:30Z",
            prev_hash: GENESIS,
            recorded_at: "2026-03-02T08:20:00.500Z",
            seq: 7,
            event_type: "FreezeExecuted",
        })
    );
}

#[test]
fn a_payload_that_mentions_envelope_keys_does_not_confuse_the_readers() {
    let data = json!({"x": {"id": "no", "occurred_at": "no", "seq": 1, "type": "no"}, "y": ",\"id\":\""});
    let bytes = body("bank-a", &data, "2026-03-02T08:17:30Z", 42);
    let view = EventView::parse(&bytes).unwrap();
    assert_eq!((view.id, view.seq, view.occurred_at), (ID, 42, "2026-03-02T08:17:30Z"));
    let mut written = Vec::new();
    write_value(&mut written, &data);
    assert_eq!(view.data.as_bytes(), written.as_slice());
    assert_eq!(serde_json::from_str::<Value>(view.data).unwrap(), data);
}

#[test]
fn the_view_refuses_what_is_not_a_plain_canonical_body() {
    let data = json!({"a": 1});
    // An escape in an envelope string: the view would not be the value.
    let escaped = body("bank\\u0041", &data, "2026-03-02T08:17:30Z", 1);
    assert_eq!(EventView::parse(&escaped), None);
    let escaped_time = body("bank-a", &data, "2026-03-02T08:17:30\"Z", 1);
    assert!(Tail::parse(&escaped_time).is_some());
    assert_eq!(EventView::parse(&escaped_time), None);
    let good = body("bank-a", &data, "2026-03-02T08:17:30Z", 1);
    assert!(EventView::parse(&good).is_some());
    for cut in 0..good.len() {
        assert_eq!(EventView::parse(&good[..cut]), None, "cut at {cut}");
    }
    let spaced = String::from_utf8(good.clone()).unwrap().replace(",\"data\":", ", \"data\":");
    assert_eq!(EventView::parse(spaced.as_bytes()), None);
    let empty_data = String::from_utf8(good).unwrap().replace("{\"a\":1}", "");
    assert_eq!(EventView::parse(empty_data.as_bytes()), None);
}

#[test]
fn strings_that_need_escaping_are_written_as_rfc8785_writes_them() {
    let actor = "a\"\\\u{1}\u{7f}\u{2028}字😀";
    let data = json!({"z": "\n\t", "a": [1, {"y": 2, "b": 9_007_199_254_740_991u64}], "é": null});
    assert_eq!(
        String::from_utf8(body(actor, &data, "2026-03-02T08:17:30Z", 3)).unwrap(),
        String::from_utf8(reference(actor, &data, "2026-03-02T08:17:30Z", 3)).unwrap()
    );
}

#[test]
fn only_values_serde_json_writes_canonically_skip_the_canonicalizer() {
    let plain = json!({"a": [null, true, 9007199254740992u64, -9007199254740992i64, "\n\u{7f}字😀"], "b": {"c": 0}});
    assert!(serde_json_writes_canonically(&plain));
    for odd in [
        json!(1.0),
        json!(0.5),
        json!(9007199254740993u64),
        json!(-9007199254740993i64),
        json!([{"é": 1}]),
        json!({"a": {"\u{e000}": 1, "😀": 2}}),
    ] {
        assert!(!serde_json_writes_canonically(&odd), "{odd}");
        let mut ours = Vec::new();
        write_value(&mut ours, &odd);
        assert_eq!(ours, serde_json_canonicalizer::to_vec(&odd).unwrap(), "{odd}");
    }
    // Whatever order keys were inserted in (serde_json keeps insertion
    // order when built with `preserve_order`), they come out sorted.
    let mut unsorted = serde_json::Map::new();
    unsorted.insert("b".into(), json!(1));
    unsorted.insert("a".into(), json!(2));
    let unsorted = Value::Object(unsorted);
    let mut ours = Vec::new();
    write_value(&mut ours, &unsorted);
    assert_eq!(ours, br#"{"a":2,"b":1}"#);
}

/// Strings that exercise escaping and key order: quotes, backslashes,
/// control characters, DEL, U+2028, CJK, U+E000 (which sorts before U+1F600
/// in code points but after it in UTF-16) and an emoji.
fn json_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-d_\"\\\\\\x00-\\x1f\\x7f\u{2028}字\u{e000}😀]{0,6}").unwrap()
}

/// Keys from a small alphabet, so that keys differing first at U+E000
/// against an emoji are common.
fn json_key() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ab\"\u{e000}😀]{0,2}").unwrap()
}

fn json_value() -> impl Strategy<Value = Value> {
    const EXACT: i64 = 1 << 53;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-EXACT - 3..=EXACT + 3).prop_map(|i| json!(i)),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        prop_oneof![any::<f64>().prop_filter("finite", |f| f.is_finite()), Just(1.0), Just(1e21), Just(-0.0)]
            .prop_map(|f| json!(f)),
        json_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(json_key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// `write_value` gives the RFC 8785 crate's bytes for any value, on
    /// both of its paths.
    #[test]
    fn write_value_is_the_rfc8785_crates_form(value in json_value()) {
        let mut ours = Vec::new();
        write_value(&mut ours, &value);
        let theirs = serde_json_canonicalizer::to_vec(&value).unwrap();
        prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
    }

    /// A body with any payload reads back in place: the view's `data` is
    /// the payload's canonical text and its envelope fields are the written
    /// ones (seqs below 2^53, which RFC 8785 writes as plain integers).
    #[test]
    fn any_payload_reads_back_through_the_view(data in json_value(), seq in 1u64..(1 << 53)) {
        let bytes = body("bank-a", &data, "2026-03-02T08:17:30.5Z", seq);
        prop_assert_eq!(&bytes, &reference("bank-a", &data, "2026-03-02T08:17:30.5Z", seq));
        let view = EventView::parse(&bytes).unwrap();
        let mut written = Vec::new();
        write_value(&mut written, &data);
        prop_assert_eq!(view.data.as_bytes(), written.as_slice());
        prop_assert_eq!((view.actor, view.id, view.seq), ("bank-a", ID, seq));
        prop_assert_eq!(view.occurred_at, "2026-03-02T08:17:30.5Z");
    }
}
