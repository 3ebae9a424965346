//! Sealing an event in two steps, so that the single writer thread does only
//! the part that depends on the event's place in the chain.
//!
//! RFC 8785 orders the envelope's keys `actor, data, id, occurred_at,
//! prev_hash, recorded_at, seq, type`, so a canonical body starts with
//! `{"actor":…,"data":…,"id":…,"occurred_at":…` whatever its `seq`,
//! `prev_hash` or `recorded_at`. [`Presealed::new`] writes that prefix —
//! canonicalizing `data`, most of the cost of sealing — and feeds it to
//! SHA-256, on the caller's thread (`Ledger::append`). [`Presealed::seal`],
//! on the writer thread, writes the rest from `prev_hash` on and finishes the
//! hash from the saved SHA-256 state. The bytes are those of
//! [`StoredEvent::canonical_body`] (tests below), and `StoredEvent::seal` goes
//! through here too.
//!
//! So the id is chosen before the event reaches the writer: the client's, or
//! a server-assigned UUIDv7 made when the batch is handed over (SPEC 2.1
//! asks for a UUIDv7, not for ids in chain order).

use std::cell::Cell;

use govledger_domain::Submission;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::event::{Encoded, StoredEvent};

/// The position-independent part of a submission's seal. It belongs to
/// the submission it was made from: pass that same one to [`Presealed::seal`].
pub(crate) struct Presealed {
    id: Uuid,
    /// SHA-256 after the prefix.
    prefix_state: Sha256,
    /// The canonical body up to and including the value of `occurred_at`,
    /// and the event's owned fields: moved into the first sealed event (the
    /// prefix becomes its body); a second seal (after a lost race or a
    /// rejected neighbour) builds them again.
    first: Cell<Option<(Vec<u8>, Fields)>>,
}

/// Bytes reserved after a prefix for the rest of the body: `prev_hash`,
/// `recorded_at`, `seq` and `type` with their keys.
const TAIL_ROOM: usize = 192;

/// The stored event's fields that come from the submission alone.
#[derive(Default)]
struct Fields {
    actor: String,
    occurred_at: String,
    data: serde_json::Value,
}

impl Fields {
    fn of(sub: &Submission) -> Self {
        Fields {
            actor: sub.actor.as_str().to_owned(),
            occurred_at: sub.occurred_at.to_rfc3339(),
            data: sub.payload.to_json(),
        }
    }
}

impl Presealed {
    /// Does the work of sealing `sub` as event `id` that does not depend on
    /// its place in the chain.
    pub fn new(sub: &Submission, id: Uuid) -> Self {
        let fields = Fields::of(sub);
        let mut prefix = Vec::with_capacity(512);
        govledger_domain::canonical::write_prefix(&mut prefix, &fields.actor, &fields.data, id, &fields.occurred_at);
        let prefix_state = Sha256::new_with_prefix(&prefix);
        // Room for the tail (about 150 bytes), so the body is never moved.
        prefix.reserve(TAIL_ROOM);
        Presealed { id, prefix_state, first: Cell::new(Some((prefix, fields))) }
    }

    /// The event's id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Seals `sub` (the submission this was made from) at `seq` after
    /// `prev_hash`, recorded at `recorded_at` (RFC 3339, as
    /// [`govledger_domain::Timestamp::to_rfc3339`] writes it).
    pub fn seal(&self, sub: &Submission, seq: u64, recorded_at: &str, prev_hash: &str) -> Encoded {
        let (mut body, Fields { actor, occurred_at, data }) =
            self.first.take().or_else(|| Presealed::new(sub, self.id).first.take()).unwrap_or_default();
        let event_type = sub.event_type().as_str();
        let rest = body.len();
        govledger_domain::canonical::write_tail(&mut body, prev_hash, recorded_at, seq, event_type);
        let mut state = self.prefix_state.clone();
        state.update(&body[rest..]);
        let hash = crate::event::lower_hex(&state.finalize().into());
        let event = StoredEvent {
            seq,
            id: self.id,
            event_type: event_type.to_owned(),
            actor,
            occurred_at,
            recorded_at: recorded_at.to_owned(),
            data,
            prev_hash: prev_hash.to_owned(),
            hash,
        };
        Encoded { event, body }
    }
}

#[cfg(test)]
mod tests {
    use govledger_domain::Timestamp;

    use super::*;
    use crate::event::{GENESIS_HASH, sha256_hex};

    /// One submission of every catalog type, its data the example of the
    /// type's schema (`schema/events/`), without and with a client id.
    fn every_type() -> Vec<Submission> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/events");
        let mut subs = Vec::new();
        for ty in govledger_domain::EventType::ALL {
            let path = dir.join(format!("{}.json", ty.as_str()));
            let schema: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).expect("read the schema")).expect("a schema is JSON");
            let data = schema["examples"][0].clone();
            let envelope = |id: Option<Uuid>| {
                let mut e = serde_json::json!({"type": ty.as_str(), "actor": "icbc-jinjiang",
                    "occurred_at": "2026-03-02T16:17:30.25+08:00", "data": data});
                if let Some(id) = id {
                    e["id"] = id.to_string().into();
                }
                Submission::parse(e).unwrap_or_else(|r| panic!("{}: {r}", ty.as_str()))
            };
            subs.push(envelope(None));
            subs.push(envelope(Some(Uuid::new_v4())));
        }
        subs
    }

    /// The body and hash `StoredEvent::canonical_body` gives (the path
    /// before the split), and the RFC 8785 crate's form of the whole envelope.
    fn reference(event: &StoredEvent) -> (Vec<u8>, String) {
        let body = event.canonical_body();
        let mut whole = serde_json::to_value(event).expect("an event serializes");
        if let Some(o) = whole.as_object_mut() {
            o.remove("hash");
        }
        assert_eq!(body, serde_json_canonicalizer::to_vec(&whole).expect("canonical"));
        let hash = sha256_hex(&body);
        (body, hash)
    }

    /// Sealing's costliest step takes the fast path for every type.
    #[test]
    fn every_catalog_payload_is_written_without_the_canonicalizer() {
        for sub in every_type() {
            let data = sub.payload.to_json();
            assert!(
                govledger_domain::canonical::serde_json_writes_canonically(&data),
                "{}: {data}",
                sub.event_type().as_str()
            );
        }
    }

    #[test]
    fn prepared_seal_equals_the_canonical_body_for_every_type() {
        let recorded_at = Timestamp::parse("2026-03-02T08:20:00.5Z").expect("timestamp").to_rfc3339();
        let mut prev = GENESIS_HASH.to_owned();
        for (i, sub) in every_type().into_iter().enumerate() {
            let id = sub.id.unwrap_or_else(Uuid::now_v7);
            let prepared = Presealed::new(&sub, id);
            let seq = i as u64 + 1;
            let first = prepared.seal(&sub, seq, &recorded_at, &prev);
            assert_eq!(first.event.id, id);
            let (body, hash) = reference(&first.event);
            assert_eq!(first.body, body, "{}", sub.event_type().as_str());
            assert_eq!(first.event.hash, hash);
            assert!(first.event.same_content(&sub));
            // A second seal (a retry at another place) rebuilds the moved
            // fields and gives the reference bytes for that place.
            let again = prepared.seal(&sub, seq + 1000, &recorded_at, &first.event.hash);
            assert_eq!(again.event.data, first.event.data);
            let (body, hash) = reference(&again.event);
            assert_eq!((again.body, again.event.hash), (body, hash));
            prev = first.event.hash;
        }
    }
}
