//! The mapping between the ledger's stored events and KurrentDB events, and
//! the plan of a commit's appends. Pure functions, tested without a server.
//!
//! - ledger `seq` N is stream revision N − 1; a ledger whose head is `seq`
//!   H appends with expected revision H − 1 (no stream when H = 0);
//! - the KurrentDB event id is the ledger event's `id`, the event type its
//!   `type`;
//! - the JSON payload is the canonical body (RFC 8785) byte for byte — SPEC
//!   2.2 hashes exactly those bytes;
//! - the user metadata is `{"hash":"<sha-256 hex>"}`.

use govledger_ledger::{Encoded, StoreError, Tail};
use serde::{Deserialize, Serialize};

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

/// The KurrentDB event for a sealed ledger event.
pub fn to_outgoing(e: &Encoded) -> OutgoingEvent {
    OutgoingEvent {
        id: e.event.id,
        event_type: e.event.event_type.clone(),
        data: e.body.clone(),
        // A struct of one string field always serializes.
        metadata: serde_json::to_vec(&Metadata { hash: e.event.hash.clone() }).unwrap_or_default(),
    }
}

/// A row as the ledger keeps it: `(seq, canonical body, hash)`. Checks that
/// the row is a ledger event at the position its body names, with the id
/// and type its body names; anything else is a corrupt store.
pub fn from_row(row: RecordedRow) -> Result<(u64, Vec<u8>, String), StoreError> {
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
    if tail.id != row.id.to_string() {
        return Err(corrupt(format!("KurrentDB event id {} carries ledger event {}", row.id, tail.id)));
    }
    if tail.event_type != row.event_type {
        return Err(corrupt(format!("KurrentDB event type {} carries a {} event", row.event_type, tail.event_type)));
    }
    Ok((seq, row.data, metadata.hash))
}

/// Splits a commit into appends of at most `max_bytes` of payload and
/// metadata each. Each `write` call of the transaction (one request of a
/// group commit) stays in one append when it fits, so that a failure
/// between appends never splits a request; a write larger than the limit
/// is split by events (an import), and one event larger than the limit goes
/// alone (the server then refuses it).
pub fn plan_appends(writes: &[Vec<OutgoingEvent>], max_bytes: usize) -> Vec<Vec<OutgoingEvent>> {
    let size = |e: &OutgoingEvent| e.data.len() + e.metadata.len() + e.event_type.len() + 16;
    let mut appends: Vec<Vec<OutgoingEvent>> = Vec::new();
    let mut current: Vec<OutgoingEvent> = Vec::new();
    let mut current_bytes = 0;
    for write in writes {
        let write_bytes: usize = write.iter().map(size).sum();
        if current_bytes + write_bytes > max_bytes && !current.is_empty() {
            appends.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        for e in write {
            let bytes = size(e);
            if current_bytes + bytes > max_bytes && !current.is_empty() {
                appends.push(std::mem::take(&mut current));
                current_bytes = 0;
            }
            current.push(e.clone());
            current_bytes += bytes;
        }
    }
    if !current.is_empty() {
        appends.push(current);
    }
    appends
}

/// The store error for a failed append of the commit that expected ledger
/// head `expected_head`, when `stored_before` of its events were already
/// stored by earlier appends of the same commit.
pub fn append_error(e: StreamError, expected_head: u64, stored_before: u64) -> StoreError {
    match e {
        StreamError::WrongExpectedRevision { current } if stored_before == 0 => {
            StoreError::Conflict { expected: expected_head, found: head_seq(current) }
        }
        StreamError::WrongExpectedRevision { current } => StoreError::Io(format!(
            "another writer appended in the middle of a commit too large for one append: events up to seq {} \
             are stored, the rest is not (the log is at seq {}); retry the rest",
            expected_head + stored_before,
            head_seq(current)
        )),
        other if stored_before > 0 => StoreError::Io(format!(
            "{other}; events up to seq {} are stored, the rest of the commit is not; retry the rest",
            expected_head + stored_before
        )),
        other => StoreError::Io(other.to_string()),
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
        assert_eq!(out.id, enc.event.id);
        assert_eq!(out.event_type, "PublicityDelivered");
        assert_eq!(out.data, enc.body, "the payload is the hashed bytes, unchanged");
        assert_eq!(out.metadata, format!("{{\"hash\":\"{}\"}}", enc.event.hash).into_bytes());
        let (seq, body, hash) = from_row(RecordedRow::recorded(6, &out)).unwrap();
        assert_eq!((seq, &body, &hash), (7, &enc.body, &enc.event.hash));
        assert_eq!(StoredEvent::from_body(&body, &hash).unwrap(), enc.event);
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
        assert!(reason.contains("carries ledger event"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { event_type: "FreezeExecuted".into(), ..good.clone() });
        assert!(reason.contains("carries a PublicityDelivered event"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { metadata: b"{}".to_vec(), ..good.clone() });
        assert!(reason.contains("metadata"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { metadata: br#"{"hash":"ABC"}"#.to_vec(), ..good.clone() });
        assert!(reason.contains("not lowercase SHA-256"), "{reason}");
        let (_, reason) = corrupt(RecordedRow { data: b"{\"seq\":7}".to_vec(), ..good });
        assert!(reason.contains("not a canonical ledger event"), "{reason}");
    }

    fn event(bytes: usize) -> OutgoingEvent {
        OutgoingEvent { id: Uuid::now_v7(), event_type: String::new(), data: vec![b' '; bytes - 16], metadata: vec![] }
    }

    #[test]
    fn appends_split_between_requests_and_only_split_a_request_too_large_for_one() {
        let ids = |plan: &[Vec<OutgoingEvent>]| plan.iter().map(|a| a.len()).collect::<Vec<_>>();
        // Three requests of 40, 40 and 30 bytes under a 100-byte limit: the
        // third does not fit beside the first two and starts an append.
        let writes = vec![vec![event(20), event(20)], vec![event(40)], vec![event(30)]];
        assert_eq!(ids(&plan_appends(&writes, 100)), vec![3, 1]);
        // A request of 5 × 30 bytes alone exceeds the limit: split by events.
        let writes = vec![vec![event(30)], (0..5).map(|_| event(30)).collect()];
        assert_eq!(ids(&plan_appends(&writes, 100)), vec![1, 3, 2]);
        // An event larger than the limit goes alone.
        let writes = vec![vec![event(20), event(500), event(20)]];
        assert_eq!(ids(&plan_appends(&writes, 100)), vec![1, 1, 1]);
        // Order is kept.
        let writes = vec![vec![event(20), event(20)], vec![event(90)]];
        let flat: Vec<Uuid> = writes.iter().flatten().map(|e| e.id).collect();
        let planned: Vec<Uuid> = plan_appends(&writes, 100).iter().flatten().map(|e| e.id).collect();
        assert_eq!(planned, flat);
        assert!(plan_appends(&[], 100).is_empty());
    }

    #[test]
    fn a_wrong_expected_revision_is_a_conflict_only_before_anything_was_stored() {
        let wrong = StreamError::WrongExpectedRevision { current: Some(9) };
        assert!(matches!(append_error(wrong.clone(), 5, 0), StoreError::Conflict { expected: 5, found: 10 }));
        let none = StreamError::WrongExpectedRevision { current: None };
        assert!(matches!(append_error(none, 5, 0), StoreError::Conflict { expected: 5, found: 0 }));
        match append_error(wrong, 5, 3) {
            StoreError::Io(m) => assert!(m.contains("up to seq 8 are stored"), "{m}"),
            other => panic!("expected Io, got {other:?}"),
        }
        match append_error(StreamError::Unavailable("no leader".into()), 5, 0) {
            StoreError::Io(m) => assert!(m.contains("no leader"), "{m}"),
            other => panic!("expected Io, got {other:?}"),
        }
    }
}
