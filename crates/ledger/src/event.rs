//! The stored envelope (SPEC 2.2) and its canonical form: the RFC 8785 bytes
//! that are hashed and kept, byte for byte, by every store.

pub use govledger_domain::canonical::Tail;
use govledger_domain::canonical::{write_prefix, write_tail};
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
    /// (`govledger_domain::canonical::write_value`). Writing the frame directly halves the cost of
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
