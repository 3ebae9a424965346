//! The mapping between the ledger's stored events and KurrentDB events, and
//! the store errors of a failed append. Pure functions, tested without a
//! server.
//!
//! - ledger `seq` N is stream revision N − 1; a ledger whose head is `seq`
//!   H appends with expected revision H − 1 (no stream when H = 0);
//! - the KurrentDB event id is derived from the sealed event's hash
//!   ([`content_id`]), not the ledger's id: KurrentDB's idempotency compares
//!   event ids only, so only a byte-identical retry may count as the stored
//!   append; an event sealed again (another `recorded_at`, another hash) is
//!   another KurrentDB event and meets a wrong expected revision;
//! - the event type is the ledger event's `type`;
//! - the JSON payload is the canonical body (RFC 8785) byte for byte — SPEC
//!   2.2 hashes exactly those bytes; the ledger's id is in it;
//! - the user metadata is `{"hash":"<sha-256 hex>"}`.

use govledger_ledger::{Encoded, StoreError, Tail};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::stream::{OutgoingEvent, RecordedRow, StreamError};

/// The user metadata of each event.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    hash: String,
}

/// The expected revision of an append after ledger head `head_seq`.
pub fn expected_revision(head_seq: u64) -> Option<u64> {
    head_seq.checked_sub(1)
}

/// The ledger head after the stream's last revision.
pub fn head_seq(last_revision: Option<u64>) -> u64 {
    last_revision.map_or(0, |r| r + 1)
}

/// The KurrentDB event id of the event whose hash is `hash` (64 lowercase
/// hex digits): its first 128 bits as a version 8 (custom) UUID. Two events
/// share it only when their hashes share 122 bits.
pub fn content_id(hash: &str) -> Option<Uuid> {
    let bits = u128::from_str_radix(hash.get(..32)?, 16).ok()?;
    Some(uuid::Builder::from_custom_bytes(bits.to_be_bytes()).into_uuid())
}

/// The KurrentDB event for a sealed ledger event.
pub fn to_outgoing(e: &Encoded) -> OutgoingEvent {
    OutgoingEvent {
        // The ledger's hashes are SHA-256 hex; the ledger id is the fallback
        // only for a hash that is not (which the ledger never produces).
        id: content_id(&e.event.hash).unwrap_or(e.event.id),
        event_type: e.event.event_type.clone(),
        data: e.body.clone(),
        // A struct of one string field always serializes.
        metadata: serde_json::to_vec(&Metadata { hash: e.event.hash.clone() }).unwrap_or_default(),
    }
}

/// A stored row as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub seq: u64,
    /// The ledger event's id (from its body).
    pub id: Uuid,
    /// The canonical body.
    pub body: Vec<u8>,
    pub hash: String,
}

/// A row as the ledger keeps it. Checks that the row is a ledger event at
/// the position its body names, with the type its body names and the
/// KurrentDB id its hash gives; anything else is a corrupt store.
pub fn from_row(row: RecordedRow) -> Result<LedgerRow, StoreError> {
    let seq = row.revision + 1;
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let metadata: Metadata = serde_json::from_slice(&row.metadata)
        .map_err(|e| corrupt(format!("the event's metadata is not {{\"hash\": …}}: {e}")))?;
    if metadata.hash.len() != 64 || !metadata.hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(corrupt(format!("the metadata's hash {:?} is not lowercase SHA-256 hex", metadata.hash)));
    }
    let tail = Tail::parse(&row.data).ok_or_else(|| corrupt("the payload is not a canonical ledger event".into()))?;
    if tail.seq != seq {
        return Err(corrupt(format!("stream revision {} holds the event of seq {}", row.revision, tail.seq)));
    }
    let id = Uuid::parse_str(tail.id).map_err(|_| corrupt(format!("the event's id {:?} is not a UUID", tail.id)))?;
    if content_id(&metadata.hash) != Some(row.id) {
        return Err(corrupt(format!("KurrentDB event id {} is not the one of hash {}", row.id, metadata.hash)));
    }
    if tail.event_type != row.event_type {
        return Err(corrupt(format!("KurrentDB event type {} carries a {} event", row.event_type, tail.event_type)));
    }
    Ok(LedgerRow { seq, id, body: row.data, hash: metadata.hash })
}

/// The store error for an append after ledger head `expected_head` that
/// failed with `e` after `attempts` attempts. A wrong expected revision is
/// a conflict even after earlier attempts whose answer was lost: had one of
/// them been stored, the same ids would sit after the expected revision and
/// the server would have answered "idempotent success". Any other failure
/// after an attempt whose answer was lost leaves the outcome unknown.
pub fn append_error(e: StreamError, expected_head: u64, attempts: u32) -> StoreError {
    match e {
        StreamError::WrongExpectedRevision { current } => {
            StoreError::Conflict { expected: expected_head, found: head_seq(current) }
        }
        StreamError::Unavailable(_) => StoreError::Ambiguous(format!(
            "{e}; the append may have been stored before the connection failed; \
             read the stream back (catch up) to learn whether it was"
        )),
        StreamError::Failed(_) if attempts > 1 => StoreError::Ambiguous(format!(
            "{e}, after an attempt whose answer was lost; read the stream back (catch up) to learn whether it was stored"
        )),
        StreamError::Failed(_) => StoreError::Io(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use govledger_domain::{Submission, Timestamp};
    use govledger_ledger::{GENESIS_HASH, StoredEvent};
    use uuid::Uuid;

    use super::*;

    fn sealed(seq: u64) -> Encoded {
        let sub = Submission::parse_str(
            r#"{"type":"PublicityDelivered","actor":"psb","occurred_at":"2026-02-01T10:00:00Z",
                "data":{"activity_id":"P-1","audience":"residents","reach":10}}"#,
        )
        .unwrap();
        StoredEvent::seal(seq, Uuid::now_v7(), &sub, Timestamp::parse("2026-03-01T00:00:00Z").unwrap(), GENESIS_HASH)
    }

    #[test]
    fn seq_and_revision_are_one_apart() {
        assert_eq!(expected_revision(0), None, "an empty ledger appends to a stream that does not exist");
        assert_eq!(expected_revision(1), Some(0));
        assert_eq!(expected_revision(42), Some(41));
        assert_eq!(head_seq(None), 0);
        assert_eq!(head_seq(Some(41)), 42);
    }

    #[test]
    fn an_event_travels_as_its_exact_canonical_bytes_and_comes_back() {
        let enc = sealed(7);
        let out = to_outgoing(&enc);
        assert_eq!(out.id, content_id(&enc.event.hash).unwrap());
        assert_ne!(out.id, enc.event.id, "the KurrentDB id is the content's, not the ledger's");
        assert_eq!(out.event_type, "PublicityDelivered");
        assert_eq!(out.data, enc.body, "the payload is the hashed bytes, unchanged");
        assert_eq!(out.metadata, format!("{{\"hash\":\"{}\"}}", enc.event.hash).into_bytes());
        let row = from_row(RecordedRow::recorded(6, &out)).unwrap();
        assert_eq!((row.seq, row.id, &row.body, &row.hash), (7, enc.event.id, &enc.body, &enc.event.hash));
        assert_eq!(StoredEvent::from_body(&row.body, &row.hash).unwrap(), enc.event);
    }

    #[test]
    fn rows_that_are_not_the_ledger_event_at_their_position_are_corrupt() {
        let enc = sealed(7);
        let good = RecordedRow::recorded(6, &to_outgoing(&enc));
        let corrupt = |row: RecordedRow| match from_row(row) {
            Err(StoreError::Corrupt { seq, reason }) => (seq, reason),
            other => panic!("expected Corrupt, got {other:?}"),
        };
        let (seq, reason) = corrupt(RecordedRow { revision: 9, ..good.clone() });
        assert_eq!(seq, 10);
        assert!(reason.contains("holds the event of seq 7"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { id: Uuid::now_v7(), ..good.clone() });
        assert!(reason.contains("is not the one of hash"), "{reason}");
        // The ledger's own id as the KurrentDB id (a re-sealed retry could
        // not be told from it) is not a row this store writes.
        let (_, reason) = corrupt(RecordedRow { id: enc.event.id, ..good.clone() });
        assert!(reason.contains("is not the one of hash"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { event_type: "FreezeExecuted".into(), ..good.clone() });
        assert!(reason.contains("carries a PublicityDelivered event"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { metadata: b"{}".to_vec(), ..good.clone() });
        assert!(reason.contains("metadata"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { metadata: br#"{"hash":"ABC"}"#.to_vec(), ..good.clone() });
        assert!(reason.contains("not lowercase SHA-256"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { data: b"{\"seq\":7}".to_vec(), ..good });
        assert!(reason.contains("not a canonical ledger event"), "{reason}");
    }

    #[test]
    fn the_kurrentdb_id_follows_the_content_so_a_resealed_event_gets_another() {
        let a = sealed(7);
        let b = StoredEvent::seal(
            7,
            a.event.id,
            &a.event.submission().unwrap(),
            Timestamp::parse("2026-03-01T00:00:01Z").unwrap(),
            GENESIS_HASH,
        );
        assert_eq!(a.event.id, b.event.id);
        assert_ne!(to_outgoing(&a).id, to_outgoing(&b).id, "another recorded_at, another KurrentDB id");
        assert_eq!(to_outgoing(&a).id, to_outgoing(&a.clone()).id, "the same bytes, the same id");
        let id = content_id(&a.event.hash).unwrap();
        assert_eq!(id.get_version_num(), 8);
        assert_eq!(content_id("xyz"), None);
    }

    #[test]
    fn a_failed_append_is_a_conflict_a_refusal_or_of_unknown_outcome() {
        let wrong = StreamError::WrongExpectedRevision { current: Some(9) };
        assert!(matches!(append_error(wrong.clone(), 5, 1), StoreError::Conflict { expected: 5, found: 10 }));
        assert!(matches!(append_error(wrong, 5, 3), StoreError::Conflict { expected: 5, found: 10 }));
        let none = StreamError::WrongExpectedRevision { current: None };
        assert!(matches!(append_error(none, 5, 1), StoreError::Conflict { expected: 5, found: 0 }));
        match append_error(StreamError::Unavailable("deadline exceeded".into()), 5, 5) {
            StoreError::Ambiguous(m) => assert!(m.contains("deadline exceeded"), "{m}"),
            other => panic!("expected Ambiguous, got {other:?}"),
        }
        let denied = StreamError::Failed("access denied".into());
        assert!(matches!(append_error(denied.clone(), 5, 1), StoreError::Io(_)), "refused at once: nothing stored");
        assert!(matches!(append_error(denied, 5, 2), StoreError::Ambiguous(_)), "after a lost answer: unknown");
    }
}
