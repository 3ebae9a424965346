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
    /// decimal). Only `data`, whose keys vary, goes through the RFC 8785
    /// canonicalizer. Writing the frame directly halves the cost of sealing an
    /// event (BENCHMARKS.md); the unit test below and the independent
    /// recomputation with Python's `rfc8785` (tests/independent_hash.py) check
    /// the bytes.
    pub fn canonical_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        write_head(&mut out, &self.actor, &self.data);
        out.extend_from_slice(self.id.hyphenated().encode_lower(&mut Uuid::encode_buffer()).as_bytes());
        out.extend_from_slice(b"\",\"occurred_at\":");
        write_json_string(&mut out, &self.occurred_at);
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

/// Writes the start of a canonical body, up to and including the opening
/// quote of the id (`{"actor":…,"data":…,"id":"`): the part that does not
/// depend on the event's id or place in the chain.
pub(crate) fn write_head(out: &mut Vec<u8>, actor: &str, data: &serde_json::Value) {
    out.extend_from_slice(b"{\"actor\":");
    write_json_string(out, actor);
    out.extend_from_slice(b",\"data\":");
    // Canonicalizing a Value of strings, integers, arrays and objects cannot fail.
    let _ = serde_json_canonicalizer::to_writer(data, &mut *out);
    out.extend_from_slice(b",\"id\":\"");
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
