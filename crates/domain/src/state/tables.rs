//! The state's lookup tables: interned ids, the id index of events and the
//! entities by key. Private to the state; their layout is measured
//! (ARCHITECTURE.md, `crates/domain`).

use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use smallvec::SmallVec;
use uuid::Uuid;

use super::{EntityKey, EntityKind, EntityRec, EventMeta, Sym};

/// Interned ids: every distinct id text once, in one arena, found through
/// a table of symbols. At a million events the ledger holds about half a
/// million ids; a map of owned strings plus a reverse list cost four times
/// as much.
#[derive(Default, Clone)]
pub(super) struct Interner {
    pub(super) arena: String,
    /// `ends[sym]` is where the text of `sym` ends in `arena`.
    pub(super) ends: Vec<u32>,
    pub(super) table: HashTable<Sym>,
    pub(super) hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner").field("ids", &self.ends.len()).finish()
    }
}

pub(super) fn text_of<'a>(arena: &'a str, ends: &[u32], sym: Sym) -> &'a str {
    let end = ends.get(sym as usize).copied().unwrap_or(0) as usize;
    let start = if sym == 0 { 0 } else { ends.get(sym as usize - 1).copied().unwrap_or(0) as usize };
    arena.get(start..end).unwrap_or("")
}

impl Interner {
    pub(super) fn get(&self, s: &str) -> Option<Sym> {
        let hash = self.hasher.hash_one(s);
        self.table.find(hash, |&sym| text_of(&self.arena, &self.ends, sym) == s).copied()
    }

    pub(super) fn intern(&mut self, s: &str) -> Sym {
        if let Some(sym) = self.get(s) {
            return sym;
        }
        let Interner { arena, ends, table, hasher } = self;
        let sym = Sym::try_from(ends.len()).unwrap_or(Sym::MAX);
        arena.push_str(s);
        ends.push(u32::try_from(arena.len()).unwrap_or(u32::MAX));
        table.insert_unique(hasher.hash_one(s), sym, |&other| hasher.hash_one(text_of(arena, ends, other)));
        sym
    }
}

/// Finds events by id: a table of indexes into a list of [`EventMeta`],
/// which carries the id, so each id is stored once.
#[derive(Default, Clone)]
pub(super) struct IdIndex {
    pub(super) table: HashTable<u32>,
    pub(super) hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdIndex").field("len", &self.table.len()).finish()
    }
}

impl IdIndex {
    pub(super) fn find(&self, id: &Uuid, events: &[EventMeta]) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        self.table.find(hash, |&i| events.get(i as usize).is_some_and(|e| e.id == *id)).map(|&i| i as usize)
    }

    /// Indexes `events[index]`.
    pub(super) fn insert(&mut self, index: usize, events: &[EventMeta]) {
        let Some(meta) = events.get(index) else { return };
        let hasher = &self.hasher;
        let rehash = |&i: &u32| events.get(i as usize).map_or(0, |e| hasher.hash_one(e.id));
        self.table.insert_unique(hasher.hash_one(meta.id), u32::try_from(index).unwrap_or(u32::MAX), rehash);
    }

    /// Makes room for indexing every event of `events` (no table grown
    /// step by step, and no old table beside the new one meanwhile).
    pub(super) fn reserve(&mut self, events: &[EventMeta]) {
        let hasher = &self.hasher;
        let rehash = |&i: &u32| events.get(i as usize).map_or(0, |e| hasher.hash_one(e.id));
        self.table.reserve(events.len().saturating_sub(self.table.len()), rehash);
    }

    /// Removes `events[index]` from the index.
    pub(super) fn remove(&mut self, index: usize, events: &[EventMeta]) {
        let Some(meta) = events.get(index) else { return };
        if let Ok(entry) = self.table.find_entry(self.hasher.hash_one(meta.id), |&i| i as usize == index) {
            entry.remove();
        }
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

/// Entities by key, in a list indexed by their id's symbol: a new entity's
/// id is a new symbol, so it goes at the end of the list, where a hash map
/// would touch a random place of a large table (BENCHMARKS.md, append).
/// Each symbol holds the entities of that id, one per namespace: almost
/// always one.
#[derive(Debug, Default, Clone)]
pub(super) struct Entities {
    pub(super) by_sym: Vec<SmallVec<[(EntityKind, EntityRec); 1]>>,
}

/// Where the entity of `kind` is among one symbol's entities.
fn of_kind(of_sym: &[(EntityKind, EntityRec)], kind: EntityKind) -> Option<usize> {
    of_sym.iter().position(|(k, _)| *k == kind)
}

impl Entities {
    pub(super) fn get(&self, key: &EntityKey) -> Option<&EntityRec> {
        let of_sym = self.by_sym.get(key.sym as usize)?;
        of_kind(of_sym, key.kind).map(|i| &of_sym[i].1)
    }

    pub(super) fn get_mut(&mut self, key: &EntityKey) -> Option<&mut EntityRec> {
        let of_sym = self.by_sym.get_mut(key.sym as usize)?;
        of_kind(of_sym, key.kind).map(|i| &mut of_sym[i].1)
    }

    /// The entity at `key`, added without events if it is not there.
    pub(super) fn entry(&mut self, key: EntityKey) -> &mut EntityRec {
        let at = key.sym as usize;
        if self.by_sym.len() <= at {
            self.by_sym.resize_with(at + 1, SmallVec::new);
        }
        let of_sym = &mut self.by_sym[at];
        let i = of_kind(of_sym, key.kind).unwrap_or_else(|| {
            of_sym.push((key.kind, EntityRec::default()));
            of_sym.len() - 1
        });
        &mut of_sym[i].1
    }

    pub(super) fn remove(&mut self, key: &EntityKey) {
        if let Some(of_sym) = self.by_sym.get_mut(key.sym as usize)
            && let Some(i) = of_kind(of_sym, key.kind)
        {
            of_sym.remove(i);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.by_sym.iter().map(SmallVec::len).sum()
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &EntityRec> {
        self.by_sym.iter().flatten().map(|(_, rec)| rec)
    }
}

/// The same entities with the same events, whatever order they came in.
impl PartialEq for Entities {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.by_sym.iter().enumerate().all(|(sym, of_sym)| {
                of_sym.iter().all(|(kind, rec)| other.get(&EntityKey { kind: *kind, sym: sym as Sym }) == Some(rec))
            })
    }
}

/// Maps keyed by interned symbols: hashed with foldhash (seeded per
/// process), several times cheaper than SipHash for these small keys.
pub(super) type SymMap<K, V> = HashMap<K, V, DefaultHashBuilder>;
