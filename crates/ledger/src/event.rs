//! The stored envelope (SPEC 2.2) and its canonical form: the RFC 8785 bytes
//! that are hashed and kept, byte for byte, by every store.

use govledger_domain::{Rejection, Submission, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// `prev_hash` of the first event: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event as the ledger stores and exports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredEvent {
    pub seq: u64,
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: String,
    pub occurred_at: String,
    pub recorded_at: String,
    pub data: serde_json::Value,
    pub prev_hash: String,
    /// Absent from the canonical form; present in exports.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

/// The chain's tip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
    pub recorded_at: String,
}

impl Head {
    /// The head of an empty ledger.
    pub fn genesis() -> Self {
        Head { seq: 0, hash: GENESIS_HASH.to_owned(), recorded_at: String::new() }
    }
}

/// A stored event with its canonical bytes, as handed to a store.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub event: StoredEvent,
    /// RFC 8785 serialization of the event without `hash`.
    pub body: Vec<u8>,
}

impl StoredEvent {
    /// Builds the stored form of an admitted submission and computes its hash.
    pub fn seal(seq: u64, id: Uuid, sub: &Submission, recorded_at: Timestamp, prev_hash: &str) -> Encoded {
        crate::seal::Presealed::new(sub, id).seal(sub, seq, &recorded_at.to_rfc3339(), prev_hash)
    }

    /// The canonical form: RFC 8785 of everything but `hash`.
    ///
    /// RFC 8785 orders an object's members by key, so the envelope's fixed
    /// keys always come in the order written here; its values are written
    /// with serde_json's string and integer writers, whose escaping and
    /// number forms are those of RFC 8785 (lowercase `\u00xx` for control
    /// characters, nothing else escaped; integers below 2^53 in plain
    /// decimal). Only `data`, whose keys vary, needs canonicalizing
    /// ([`write_canonical`]). Writing the frame directly halves the cost of
    /// sealing an event (BENCHMARKS.md); the unit test below and the
    /// independent recomputation with Python's `rfc8785`
    /// (tests/independent_hash.py) check the bytes.
    pub fn canonical_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        write_prefix(&mut out, &self.actor, &self.data, self.id, &self.occurred_at);
        write_tail(&mut out, &self.prev_hash, &self.recorded_at, self.seq, &self.event_type);
        out
    }

    /// Reads a stored event back from its canonical body and hash.
    pub fn from_body(body: &[u8], hash: &str) -> Result<Self, serde_json::Error> {
        let mut event: StoredEvent = serde_json::from_slice(body)?;
        event.hash = hash.to_owned();
        Ok(event)
    }

    /// The event as a checked submission, for folding into state. Fails only
    /// on a log written by an incompatible version.
    pub fn submission(&self) -> Result<Submission, Rejection> {
        Submission::parse(serde_json::json!({
            "id": self.id.to_string(),
            "type": self.event_type,
            "actor": self.actor,
            "occurred_at": self.occurred_at,
            "data": self.data,
        }))
    }

    /// Whether `sub` has the same content as this event (an idempotent retry).
    pub fn same_content(&self, sub: &Submission) -> bool {
        self.event_type == sub.event_type().as_str()
            && self.actor == sub.actor.as_str()
            && self.occurred_at == sub.occurred_at.to_rfc3339()
            && self.data == sub.payload.to_json()
    }
}

/// Writes `s` as a JSON string: serde_json's escaping is RFC 8785's.
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes the start of a canonical body, up to and including the value of
/// `occurred_at` (`{"actor":…,"data":…,"id":…,"occurred_at":…`): the part
/// that does not depend on the event's place in the chain.
pub(crate) fn write_prefix(out: &mut Vec<u8>, actor: &str, data: &serde_json::Value, id: Uuid, occurred_at: &str) {
    out.extend_from_slice(b"{\"actor\":");
    write_json_string(out, actor);
    out.extend_from_slice(b",\"data\":");
    write_canonical(out, data);
    out.extend_from_slice(b",\"id\":\"");
    out.extend_from_slice(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()).as_bytes());
    out.extend_from_slice(b"\",\"occurred_at\":");
    write_json_string(out, occurred_at);
}

/// Writes `value` in its RFC 8785 form.
///
/// For most values serde_json's compact writer already writes exactly those
/// bytes: it escapes strings as RFC 8785 section 3.2.2.2 asks (the envelope's
/// own strings go through it, in [`write_json_string`]) and writes integers
/// in plain decimal. What it does not do is sort keys by UTF-16 code units
/// or write numbers as ECMAScript doubles. So a value whose objects have
/// ASCII keys (where UTF-16 order is byte order) already in ascending order,
/// and whose numbers are integers within ±2^53 (exact as doubles, which
/// ECMAScript writes in plain decimal), is written by serde_json: about 11×
/// faster than the canonicalizer on catalog payloads, which always qualify.
/// Anything else is written by `serde_json_canonicalizer`.
pub(crate) fn write_canonical(out: &mut Vec<u8>, value: &serde_json::Value) {
    // Writing into a Vec cannot fail, nor can canonicalizing a Value (its
    // numbers are finite and its keys strings).
    if serde_json_writes_canonically(value) {
        let _ = serde_json::to_writer(&mut *out, value);
    } else {
        let _ = serde_json_canonicalizer::to_writer(value, &mut *out);
    }
}

/// Whether serde_json's compact form of `value` is its RFC 8785 form (see
/// [`write_canonical`]).
pub(crate) fn serde_json_writes_canonically(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    /// 2^53: integers up to this magnitude are exact as doubles.
    const EXACT: u64 = 1 << 53;
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => {
            n.as_u64().is_some_and(|u| u <= EXACT) || n.as_i64().is_some_and(|i| i.unsigned_abs() <= EXACT)
        }
        Value::Array(items) => items.iter().all(serde_json_writes_canonically),
        Value::Object(map) => {
            let mut previous: Option<&str> = None;
            map.iter().all(|(key, item)| {
                let in_order = key.is_ascii() && previous.is_none_or(|p| p < key.as_str());
                previous = Some(key);
                in_order && serde_json_writes_canonically(item)
            })
        }
    }
}

/// Writes the end of a canonical body, from `prev_hash` on (the keys after
/// `occurred_at`, in RFC 8785 order), closing the object.
pub(crate) fn write_tail(out: &mut Vec<u8>, prev_hash: &str, recorded_at: &str, seq: u64, event_type: &str) {
    out.extend_from_slice(b",\"prev_hash\":");
    write_json_string(out, prev_hash);
    out.extend_from_slice(b",\"recorded_at\":");
    write_json_string(out, recorded_at);
    out.extend_from_slice(b",\"seq\":");
    // serde_json writes integers in plain decimal; a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &seq);
    out.extend_from_slice(b",\"type\":");
    write_json_string(out, event_type);
    out.push(b'}');
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    lower_hex(&Sha256::digest(bytes).into())
}

/// Lowercase hex of a SHA-256 digest, in one allocation (`hex::encode`
/// collects a `String` char by char, which showed in profiles).
pub(crate) fn lower_hex(digest: &[u8; 32]) -> String {
    let mut text = [0u8; 64];
    // The output is exactly twice the input's length, so this cannot fail.
    let _ = hex::encode_to_slice(digest, &mut text);
    String::from_utf8_lossy(&text).into_owned()
}

/// The fields at the end of a canonical body. RFC 8785 sorts keys, so a body
/// always ends `"id":…,"occurred_at":…,"prev_hash":…,"recorded_at":…,"seq":N,"type":…}`
/// with values that contain no quotes; reading them from the end avoids
/// parsing the payload, which keeps `verify` close to the speed of hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail<'a> {
    pub id: &'a str,
    pub prev_hash: &'a str,
    pub recorded_at: &'a str,
    pub seq: u64,
    pub event_type: &'a str,
}

impl<'a> Tail<'a> {
    /// Reads the tail of a canonical body; `None` if it is not of that shape.
    pub fn parse(body: &'a [u8]) -> Option<Tail<'a>> {
        // Each key is found as `memmem::rfind` finds it (its last
        // occurrence), but by looking back with `memrchr` for its leading
        // comma, which the tail's values do not contain, so the first
        // candidate is nearly always it. The reverse substring searchers
        // this replaces cost half as much as the event's SHA-256 (BENCHMARKS.md, verify).
        const KEYS: [&[u8]; 6] = [
            b",\"type\":\"",
            b",\"seq\":",
            b",\"recorded_at\":\"",
            b",\"prev_hash\":\"",
            b",\"occurred_at\":\"",
            b",\"id\":\"",
        ];
        let split = |rest: &'a [u8], key: usize| -> Option<(&'a [u8], &'a [u8])> {
            let needle = KEYS[key];
            let at = rfind(rest, needle)?;
            Some((&rest[..at], &rest[at + needle.len()..]))
        };
        let rest = body.strip_suffix(b"\"}")?;
        let (rest, event_type) = split(rest, 0)?;
        let (rest, seq) = split(rest, 1)?;
        let (rest, recorded_at) = split(rest, 2)?;
        let (rest, prev_hash) = split(rest, 3)?;
        let (rest, _occurred_at) = split(rest, 4)?;
        let (_, id) = split(rest, 5)?;
        let text = |b: &'a [u8]| std::str::from_utf8(b).ok();
        Some(Tail {
            id: text(id.strip_suffix(b"\"")?)?,
            prev_hash: text(prev_hash.strip_suffix(b"\"")?)?,
            recorded_at: text(recorded_at.strip_suffix(b"\"")?)?,
            seq: text(seq)?.parse().ok()?,
            event_type: text(event_type)?,
        })
    }
}

/// Where the last occurrence of `needle` (not empty) in `haystack` starts.
fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut end = (haystack.len() + 1).checked_sub(needle.len())?;
    while let Some(at) = memchr::memrchr(first, &haystack[..end]) {
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        end = at;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub() -> Submission {
        Submission::parse_str(
            r#"{"type":"FreezeExecuted","actor":"icbc-jinjiang","occurred_at":"2026-03-02T16:17:30+08:00",
                "data":{"freeze_id":"FRZ-1","amount_frozen_minor":1250000}}"#,
        )
        .unwrap()
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

    /// Strings that exercise escaping and key order: quotes, backslashes,
    /// control characters, DEL, U+2028, CJK, U+E000 (which sorts before
    /// U+1F600 in code points but after it in UTF-16) and an emoji.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex("[a-d_\"\\\\\\x00-\\x1f\\x7f\u{2028}字\u{e000}😀]{0,6}").unwrap()
    }

    /// Keys from a small alphabet, so that keys differing first at U+E000
    /// against an emoji are common.
    fn json_key() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex("[ab\"\u{e000}😀]{0,2}").unwrap()
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::{Value, json};
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

    proptest::proptest! {
        /// `write_canonical` gives the RFC 8785 crate's bytes for any value,
        /// on both of its paths.
        #[test]
        fn write_canonical_is_the_rfc8785_crates_form(value in json_value()) {
            let mut ours = Vec::new();
            write_canonical(&mut ours, &value);
            let theirs = serde_json_canonicalizer::to_vec(&value).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
        }
    }

    #[test]
    fn only_values_serde_json_writes_canonically_skip_the_canonicalizer() {
        use serde_json::json;
        let plain =
            json!({"a": [null, true, 9007199254740992u64, -9007199254740992i64, "\n\u{7f}字😀"], "b": {"c": 0}});
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
            write_canonical(&mut ours, &odd);
            assert_eq!(ours, serde_json_canonicalizer::to_vec(&odd).unwrap(), "{odd}");
        }
        // Whatever order keys were inserted in (serde_json keeps insertion
        // order when built with `preserve_order`), they come out sorted.
        let mut unsorted = serde_json::Map::new();
        unsorted.insert("b".into(), json!(1));
        unsorted.insert("a".into(), json!(2));
        let unsorted = serde_json::Value::Object(unsorted);
        let mut ours = Vec::new();
        write_canonical(&mut ours, &unsorted);
        assert_eq!(ours, br#"{"a":2,"b":1}"#);
    }

    #[test]
    fn canonical_body_is_rfc8785_and_tail_reads_back() {
        let id = Uuid::parse_str("018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e").unwrap();
        let rec = Timestamp::parse("2026-03-02T08:20:00.5Z").unwrap();
        let enc = StoredEvent::seal(7, id, &sub(), rec, GENESIS_HASH);
        let body = String::from_utf8(enc.body.clone()).unwrap();
        assert_eq!(
            body,
            format!(
                "{{\"actor\":\"icbc-jinjiang\",\"data\":{{\"amount_frozen_minor\":1250000,\"freeze_id\":\"FRZ-1\"}},\
                 \"id\":\"{id}\",\"occurred_at\":\"2026-03-02T08:17:30Z\",\"prev_hash\":\"{GENESIS_HASH}\",\
                 \"recorded_at\":\"2026-03-02T08:20:00.500Z\",\"seq\":7,\"type\":\"FreezeExecuted\"}}"
            )
        );
        assert_eq!(enc.event.hash, sha256_hex(body.as_bytes()));
        let tail = Tail::parse(&enc.body).unwrap();
        assert_eq!(
            tail,
            Tail {
                id: &id.to_string(),
                prev_hash: GENESIS_HASH,
                recorded_at: "2026-03-02T08:20:00.500Z",
                seq: 7,
                event_type: "FreezeExecuted"
            }
        );
        // The direct writer gives exactly what the RFC 8785 crate gives for
        // the whole envelope, also for strings that need escaping.
        let mut odd = enc.event.clone();
        odd.actor = "a\"\\\u{1}\u{7f}\u{2028}字😀".into();
        odd.data = serde_json::json!({"z": "\n\t", "a": [1, {"y": 2, "b": 9007199254740991u64}], "é": null});
        let mut whole = serde_json::to_value(&odd).unwrap();
        whole.as_object_mut().unwrap().remove("hash");
        assert_eq!(
            String::from_utf8(odd.canonical_body()).unwrap(),
            String::from_utf8(serde_json_canonicalizer::to_vec(&whole).unwrap()).unwrap()
        );
        let back = StoredEvent::from_body(&enc.body, &enc.event.hash).unwrap();
        assert_eq!(back, enc.event);
        assert!(back.same_content(&sub()));
    }
}
