//! The validation state as bytes, for a snapshot (the file around them —
//! the head they stand at, a version and a checksum — is the ledger's).
//!
//! What is written is what the state knows: the interned ids (each id's
//! text, in symbol order), the agencies, the entities with their stacks, and
//! the events' metadata. The lookup tables (the interner's and
//! the id index) are not written: they are derived, and rebuilt on reading,
//! which also checks that no id is there twice. A state read back equals the
//! one written (`PartialEq`), and every symbol it holds names an interned id.
//!
//! Both ways stream: the state is written into a `Write` and read from a
//! `Read` piece by piece — the counts, then each id, agency, entity and
//! event as its own postcard value — so neither its bytes nor a second copy
//! of it are ever held in memory (postcard reads one value from a `Read`
//! through a buffer that must hold all of that value's bytes).

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::{AgencyRec, Entities, EntityKind, EntityRec, EventMeta, IdIndex, Interner, Ref, State, Sym, SymMap};

/// Why bytes are not a state, or why the state could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a validation state: {0}")]
    Invalid(String),
    #[error("cannot write the state: {0}")]
    Write(String),
}

/// One symbol's entities.
type OfSym = SmallVec<[(EntityKind, EntityRec); 1]>;

/// The most bytes one piece of a state (an id, an agency, an entity with its
/// steps, an event's metadata) may take when read.
const MAX_PIECE_BYTES: usize = 64 << 10;

/// How many of each piece follow, in this order.
#[derive(Serialize, Deserialize)]
struct Counts {
    ids: u64,
    agencies: u64,
    entities: u64,
    events: u64,
}

/// The state's parts, as read.
struct Image {
    interner: Interner,
    agencies: SymMap<Sym, AgencyRec>,
    entities: Vec<OfSym>,
    events: Vec<EventMeta>,
}

fn write_piece<W: Write, T: Serialize + ?Sized>(out: W, piece: &T) -> Result<W, SnapshotError> {
    postcard::to_io(piece, out).map_err(|e| SnapshotError::Write(e.to_string()))
}

/// Reads the next piece; `buffer` holds its bytes meanwhile.
fn read_piece<R: Read, T: DeserializeOwned>(input: &mut R, buffer: &mut [u8]) -> Result<T, SnapshotError> {
    postcard::from_io::<T, _>((input, buffer))
        .map(|(piece, _)| piece)
        .map_err(|e| SnapshotError::Invalid(e.to_string()))
}

/// Reads `count` pieces, without trusting `count` for the room it reserves.
fn read_pieces<R: Read, T: DeserializeOwned>(
    input: &mut R,
    buffer: &mut [u8],
    count: u64,
) -> Result<Vec<T>, SnapshotError> {
    let mut pieces = Vec::with_capacity(usize::try_from(count.min(1 << 16)).unwrap_or(0));
    for _ in 0..count {
        pieces.push(read_piece(input, buffer)?);
    }
    Ok(pieces)
}

impl State {
    /// Writes the state's bytes into `out` as they are made, without a copy
    /// of the state or of its bytes in memory; [`State::read_snapshot`]
    /// reads them back. Fails only when `out` does (postcard does not keep
    /// the writer's error: a writer that needs it keeps it itself).
    pub fn write_snapshot<W: Write>(&self, out: W) -> Result<W, SnapshotError> {
        let Interner { arena, ends, .. } = &self.interner;
        let counts = Counts {
            ids: ends.len() as u64,
            agencies: self.agencies.len() as u64,
            entities: self.entities.by_sym.len() as u64,
            events: self.events.len() as u64,
        };
        let mut out = write_piece(out, &counts)?;
        for sym in 0..ends.len() {
            out = write_piece(out, super::tables::text_of(arena, ends, sym as Sym))?;
        }
        for agency in &self.agencies {
            out = write_piece(out, &agency)?;
        }
        for of_sym in &self.entities.by_sym {
            out = write_piece(out, of_sym)?;
        }
        for event in &self.events {
            out = write_piece(out, event)?;
        }
        Ok(out)
    }

    /// Reads a state written by [`State::write_snapshot`] from `input`,
    /// piece by piece, rebuilding the lookup tables; refuses bytes that do
    /// not make a consistent state. Returns `input`, after the state's bytes.
    pub fn read_snapshot<R: Read>(mut input: R) -> Result<(State, R), SnapshotError> {
        let mut buffer = vec![0; MAX_PIECE_BYTES];
        let counts: Counts = read_piece(&mut input, &mut buffer)?;
        let mut interner = Interner::default();
        for _ in 0..counts.ids {
            let text: String = read_piece(&mut input, &mut buffer)?;
            if interner.get(&text).is_some() {
                return Err(SnapshotError::Invalid(format!("the id {text} is interned twice")));
            }
            interner.intern(&text);
        }
        let agencies: Vec<(Sym, AgencyRec)> = read_pieces(&mut input, &mut buffer, counts.agencies)?;
        let entities = read_pieces(&mut input, &mut buffer, counts.entities)?;
        let events = read_pieces(&mut input, &mut buffer, counts.events)?;
        let image = Image { interner, agencies: agencies.into_iter().collect(), entities, events };
        Ok((Self::from_image(image)?, input))
    }

    /// [`State::read_snapshot`] of bytes in memory.
    pub fn from_snapshot(bytes: &[u8]) -> Result<State, SnapshotError> {
        Self::read_snapshot(bytes).map(|(state, _)| state)
    }

    fn from_image(image: Image) -> Result<State, SnapshotError> {
        let Image { interner, agencies, entities, events } = image;
        let known = |sym: Sym| (sym as usize) < interner.ends.len();
        if let Some(sym) = agencies.keys().copied().find(|&s| !known(s)) {
            return Err(SnapshotError::Invalid(format!("agency symbol {sym} names no id")));
        }
        if entities.len() > interner.ends.len() {
            return Err(SnapshotError::Invalid("more entity ids than ids".into()));
        }
        let names_unknown = |e: &EventMeta| {
            !known(e.actor)
                || e.refs.iter().any(|r| match r {
                    Ref::Entity(key) => !known(key.sym),
                    Ref::Registers(sym) | Ref::Names(sym) => !known(*sym),
                })
        };
        if let Some(at) = events.iter().position(names_unknown) {
            return Err(SnapshotError::Invalid(format!("event {} names an id that is not interned", at + 1)));
        }
        if u32::try_from(events.len()).is_err() {
            return Err(SnapshotError::Invalid("more events than a state holds".into()));
        }
        let mut by_id = IdIndex::default();
        by_id.reserve(&events);
        for (i, e) in events.iter().enumerate() {
            if by_id.find(&e.id, &events).is_some() {
                return Err(SnapshotError::Invalid(format!("the event id {} is there twice", e.id)));
            }
            by_id.insert(i, &events);
        }
        Ok(State { interner, agencies, entities: Entities { by_sym: entities }, events, by_id })
    }
}
