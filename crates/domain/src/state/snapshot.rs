//! The validation state as bytes, for a snapshot (the file around them —
//! the head they stand at, a version and a checksum — is the ledger's).
//!
//! What is written is what the state knows: the interned ids (arena and
//! ends), the agencies, the entities with their stacks, and the events'
//! metadata, in postcard. The lookup tables (the interner's and the id
//! index) are not written: they are derived, and rebuilt on reading, which
//! also checks that no id is there twice. A state read back equals the one
//! written (`PartialEq`), and every symbol it holds names an interned id.

use std::hash::BuildHasher as _;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::{AgencyRec, Entities, EntityKind, EntityRec, EventMeta, IdIndex, Interner, Ref, State, Sym, SymMap};

/// Why bytes are not a state.
#[derive(Debug, thiserror::Error)]
#[error("not a validation state: {0}")]
pub struct SnapshotError(String);

/// One symbol's entities.
type OfSym = SmallVec<[(EntityKind, EntityRec); 1]>;

#[derive(Serialize)]
struct ImageRef<'a> {
    arena: &'a str,
    ends: &'a [u32],
    agencies: &'a SymMap<Sym, AgencyRec>,
    entities: &'a [OfSym],
    events: &'a [EventMeta],
}

#[derive(Deserialize)]
struct Image {
    arena: String,
    ends: Vec<u32>,
    agencies: SymMap<Sym, AgencyRec>,
    entities: Vec<OfSym>,
    events: Vec<EventMeta>,
}

impl State {
    /// The state as bytes; [`State::from_snapshot`] reads them back.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let image = ImageRef {
            arena: &self.interner.arena,
            ends: &self.interner.ends,
            agencies: &self.agencies,
            entities: &self.entities.by_sym,
            events: &self.events,
        };
        // Plain structs, vectors and maps into a Vec: this cannot fail.
        postcard::to_stdvec(&image).unwrap_or_default()
    }

    /// Reads bytes written by [`State::to_snapshot`], rebuilding the lookup
    /// tables; refuses bytes that do not make a consistent state.
    pub fn from_snapshot(bytes: &[u8]) -> Result<State, SnapshotError> {
        let image: Image = postcard::from_bytes(bytes).map_err(|e| SnapshotError(e.to_string()))?;
        let Image { arena, ends, agencies, entities, events } = image;
        check_ends(&arena, &ends)?;
        let known = |sym: Sym| (sym as usize) < ends.len();
        if let Some(sym) = agencies.keys().copied().find(|&s| !known(s)) {
            return Err(SnapshotError(format!("agency symbol {sym} names no id")));
        }
        if entities.len() > ends.len() {
            return Err(SnapshotError("more entity ids than ids".into()));
        }
        let names_unknown = |e: &EventMeta| {
            !known(e.actor)
                || e.refs.iter().any(|r| match r {
                    Ref::Entity(key) => !known(key.sym),
                    Ref::Registers(sym) | Ref::Names(sym) => !known(*sym),
                })
        };
        if let Some(at) = events.iter().position(names_unknown) {
            return Err(SnapshotError(format!("event {} names an id that is not interned", at + 1)));
        }
        if u32::try_from(events.len()).is_err() {
            return Err(SnapshotError("more events than a state holds".into()));
        }

        let mut interner = Interner { arena, ends, ..Interner::default() };
        let Interner { arena, ends, table, hasher } = &mut interner;
        for sym in 0..ends.len() {
            let text = super::tables::text_of(arena, ends, sym as Sym);
            let hash = hasher.hash_one(text);
            if table.find(hash, |&other| super::tables::text_of(arena, ends, other) == text).is_some() {
                return Err(SnapshotError(format!("the id {text} is interned twice")));
            }
            table.insert_unique(hash, sym as Sym, |&other| hasher.hash_one(super::tables::text_of(arena, ends, other)));
        }
        let mut by_id = IdIndex::default();
        for (i, e) in events.iter().enumerate() {
            if by_id.find(&e.id, &events).is_some() {
                return Err(SnapshotError(format!("the event id {} is there twice", e.id)));
            }
            by_id.insert(i, &events);
        }
        Ok(State { interner, agencies, entities: Entities { by_sym: entities }, events, by_id })
    }
}

/// The ends of the interned ids: non-decreasing, within the arena, on
/// character boundaries.
fn check_ends(arena: &str, ends: &[u32]) -> Result<(), SnapshotError> {
    let mut start = 0usize;
    for (sym, &end) in ends.iter().enumerate() {
        let end = end as usize;
        if end < start || arena.get(start..end).is_none() {
            return Err(SnapshotError(format!("interned id {sym} has no text")));
        }
        start = end;
    }
    Ok(())
}
