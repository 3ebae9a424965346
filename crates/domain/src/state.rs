//! The validation state: the fold of the log that the rules of SPEC 2.3 and
//! 2.4 are checked against, kept compact so that millions of events fit.
//!
//! Every entity keeps a stack of the non-retracted events that touched it,
//! each with the entity's state after it (or `None` when the event did not
//! change the state, e.g. a task assigned from a meeting, for the meeting).
//! Retraction is only ever of an entity's newest event (SPEC 2.4), so undoing
//! it is a pop.
//!
//! Changes are made in a [`Txn`], a copy-on-write overlay: a batch is checked
//! event by event against the state including its earlier events, and is
//! either committed (merged into the base) or dropped, leaving the base as it
//! was. Nothing else mutates the state.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use smallvec::SmallVec;
use uuid::Uuid;

use crate::catalog::{AgencyKind, EventType};

/// An interned identifier (agency or entity id).
pub type Sym = u32;

/// Interned ids: every distinct id text once, in one arena, found through
/// a table of symbols. At a million events the ledger holds about half a
/// million ids; a map of owned strings plus a reverse list cost four times
/// as much.
#[derive(Default)]
struct Interner {
    arena: String,
    /// `ends[sym]` is where the text of `sym` ends in `arena`.
    ends: Vec<u32>,
    table: HashTable<Sym>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner").field("ids", &self.ends.len()).finish()
    }
}

fn text_of<'a>(arena: &'a str, ends: &[u32], sym: Sym) -> &'a str {
    let end = ends.get(sym as usize).copied().unwrap_or(0) as usize;
    let start = if sym == 0 { 0 } else { ends.get(sym as usize - 1).copied().unwrap_or(0) as usize };
    arena.get(start..end).unwrap_or("")
}

impl Interner {
    fn get(&self, s: &str) -> Option<Sym> {
        let hash = self.hasher.hash_one(s);
        self.table.find(hash, |&sym| text_of(&self.arena, &self.ends, sym) == s).copied()
    }

    fn intern(&mut self, s: &str) -> Sym {
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
#[derive(Default)]
struct IdIndex {
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdIndex").field("len", &self.table.len()).finish()
    }
}

impl IdIndex {
    fn find(&self, id: &Uuid, events: &[EventMeta]) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        self.table.find(hash, |&i| events.get(i as usize).is_some_and(|e| e.id == *id)).map(|&i| i as usize)
    }

    /// Indexes `events[index]`.
    fn insert(&mut self, index: usize, events: &[EventMeta]) {
        let Some(meta) = events.get(index) else { return };
        let hasher = &self.hasher;
        let rehash = |&i: &u32| events.get(i as usize).map_or(0, |e| hasher.hash_one(e.id));
        self.table.insert_unique(hasher.hash_one(meta.id), u32::try_from(index).unwrap_or(u32::MAX), rehash);
    }
}

/// The namespaces of entity ids: a task and a freeze may share an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Meeting,
    Task,
    Case,
    Freeze,
    Clue,
    Warning,
    CardAction,
    Penalty,
    Activity,
    Assessment,
}

/// An entity: its namespace and interned id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntityKey {
    pub kind: EntityKind,
    pub sym: Sym,
}

/// What an event touches, recorded so that a retraction can undo it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    /// The event is a step of this entity's lifecycle.
    Entity(EntityKey),
    /// The event registers this agency (`AgencyRegistered`).
    Registers(Sym),
    /// The event names this agency (actor, invitee, assignee, bank …).
    Names(Sym),
}

/// A registered agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRec {
    pub kind: AgencyKind,
    pub coordinator: bool,
    pub evaluator: bool,
    /// Non-retracted events after the registration that name the agency; the
    /// registration can be retracted only while this is 0.
    pub naming: u32,
}

/// A meeting's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingState {
    pub convener: Sym,
    pub convened_at: i64,
    pub held_at: Option<i64>,
    pub resolutions: Box<[Sym]>,
}

/// Whether a task is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Open,
    Completed,
    Cancelled,
}

/// A task's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub assignee: Sym,
    pub assigner: Sym,
    pub assigned_at: i64,
    pub due_at: i64,
    pub acknowledged: bool,
    pub status: TaskStatus,
}

/// How a bank answered a freeze request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezeAnswer {
    Pending,
    Executed { at: i64, amount_frozen_minor: u64 },
    Rejected,
}

/// A freeze's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreezeState {
    pub requester: Sym,
    pub bank: Sym,
    pub requested_at: i64,
    pub answer: FreezeAnswer,
    pub released: bool,
    pub returned_minor: u64,
}

/// The state of a two-step entity: created by `from`, answered by `to` (a
/// clue and its feedback, a warning and its dissuasion, a penalty and its
/// revocation, a case and its freezes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairState {
    pub from: Sym,
    pub to: Sym,
    pub at: i64,
    pub answered: bool,
}

/// The state of an entity after one of its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityState {
    Meeting(MeetingState),
    Task(TaskState),
    Freeze(FreezeState),
    /// Cases, clues, warnings and penalties.
    Pair(PairState),
    /// Entities with a single event: card-breaking actions, publicity, assessments.
    Exists,
}

/// An entity's non-retracted events, oldest first, with the state after each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityRec {
    stack: Vec<(u64, Option<EntityState>)>,
}

impl EntityRec {
    /// The entity's current state.
    pub fn current(&self) -> Option<&EntityState> {
        self.stack.iter().rev().find_map(|(_, s)| s.as_ref())
    }

    /// The `seq` of the entity's newest non-retracted event.
    pub fn top_seq(&self) -> Option<u64> {
        self.stack.last().map(|(seq, _)| *seq)
    }
}

/// What an event touches; most events touch one entity and their actor.
pub type Refs = SmallVec<[Ref; 2]>;

/// What the state remembers of each event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub id: Uuid,
    pub event_type: EventType,
    pub actor: Sym,
    pub retracted: bool,
    pub refs: Refs,
}

/// The validation state of a ledger. See the module documentation.
#[derive(Debug, Default)]
pub struct State {
    interner: Interner,
    agencies: HashMap<Sym, Option<AgencyRec>>,
    live_agencies: usize,
    entities: HashMap<EntityKey, Option<EntityRec>>,
    events: Vec<EventMeta>,
    by_id: IdIndex,
}

impl State {
    /// An empty ledger's state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a change; drop the returned `Txn` to abandon it.
    pub fn begin(&mut self) -> Txn<'_> {
        Txn {
            base: self,
            agencies: HashMap::new(),
            live_delta: 0,
            entities: HashMap::new(),
            events: Vec::new(),
            retracted_base: HashSet::new(),
            by_id: IdIndex::default(),
        }
    }

    /// The `seq` of the last event folded in (0 for an empty ledger).
    pub fn head_seq(&self) -> u64 {
        self.events.len() as u64
    }

    /// The `seq` of the event with this id, if there is one.
    pub fn seq_of(&self, id: &Uuid) -> Option<u64> {
        self.by_id.find(id, &self.events).map(|i| i as u64 + 1)
    }

    /// Sizes of the state, for logs and capacity planning.
    pub fn stats(&self) -> StateStats {
        StateStats {
            events: self.events.len(),
            entities: self.entities.len(),
            entity_steps: self.entities.values().flatten().map(|e| e.stack.len()).sum(),
            interned: self.interner.ends.len(),
            interned_bytes: self.interner.arena.len(),
            agencies: self.live_agencies,
        }
    }
}

/// Sizes of a [`State`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateStats {
    pub events: usize,
    pub entities: usize,
    /// Non-retracted events kept on entity stacks.
    pub entity_steps: usize,
    pub interned: usize,
    pub interned_bytes: usize,
    pub agencies: usize,
}

/// A change to the [`State`] in progress. See the module documentation.
pub struct Txn<'a> {
    base: &'a mut State,
    agencies: HashMap<Sym, Option<AgencyRec>>,
    live_delta: isize,
    entities: HashMap<EntityKey, Option<EntityRec>>,
    /// Events of this change; `by_id` indexes them.
    events: Vec<EventMeta>,
    retracted_base: HashSet<u64>,
    by_id: IdIndex,
}

impl Txn<'_> {
    /// Merges the change into the state.
    pub fn commit(self) {
        let Txn { base, agencies, live_delta, entities, events, retracted_base, by_id } = self;
        merge_map(&mut base.agencies, agencies);
        merge_map(&mut base.entities, entities);
        if base.events.is_empty() {
            // Indexes into an empty base are indexes into the overlay.
            base.events = events;
            base.by_id = by_id;
        } else {
            let first = base.events.len();
            base.events.extend(events);
            for index in first..base.events.len() {
                base.by_id.insert(index, &base.events);
            }
        }
        for seq in retracted_base {
            if let Some(meta) = base.events.get_mut(seq as usize - 1) {
                meta.retracted = true;
            }
        }
        base.live_agencies = base.live_agencies.saturating_add_signed(live_delta);
    }

    // ---- reads -------------------------------------------------------------

    /// The `seq` the next admitted event will get.
    pub fn next_seq(&self) -> u64 {
        (self.base.events.len() + self.events.len()) as u64 + 1
    }

    /// How many agencies are registered (not retracted).
    pub fn live_agencies(&self) -> usize {
        self.base.live_agencies.saturating_add_signed(self.live_delta)
    }

    /// The interned form of an id, if it was ever seen.
    pub fn sym(&self, s: &str) -> Option<Sym> {
        self.base.interner.get(s)
    }

    /// Interns an id.
    pub fn intern(&mut self, s: &str) -> Sym {
        self.base.interner.intern(s)
    }

    /// A registered agency, by id.
    pub fn agency(&self, id: &str) -> Option<&AgencyRec> {
        let sym = self.sym(id)?;
        self.agency_by_sym(sym)
    }

    /// A registered agency, by interned id.
    pub fn agency_by_sym(&self, sym: Sym) -> Option<&AgencyRec> {
        match self.agencies.get(&sym) {
            Some(slot) => slot.as_ref(),
            None => self.base.agencies.get(&sym).and_then(Option::as_ref),
        }
    }

    /// An entity, by namespace and id.
    pub fn entity(&self, kind: EntityKind, id: &str) -> Option<&EntityRec> {
        let key = EntityKey { kind, sym: self.sym(id)? };
        self.entity_by_key(key)
    }

    /// An entity, by key.
    pub fn entity_by_key(&self, key: EntityKey) -> Option<&EntityRec> {
        match self.entities.get(&key) {
            Some(slot) => slot.as_ref(),
            None => self.base.entities.get(&key).and_then(Option::as_ref),
        }
    }

    /// The `seq` of the event with this id, in the state or earlier in this change.
    pub fn seq_of(&self, id: &Uuid) -> Option<u64> {
        let base_len = self.base.events.len();
        match self.by_id.find(id, &self.events) {
            Some(i) => Some((base_len + i) as u64 + 1),
            None => self.base.seq_of(id),
        }
    }

    /// What the state remembers of the event at `seq`, with its current
    /// retraction flag.
    pub fn event(&self, seq: u64) -> Option<(&EventMeta, bool)> {
        let base_len = self.base.events.len() as u64;
        if seq == 0 {
            None
        } else if seq <= base_len {
            let meta = &self.base.events[(seq - 1) as usize];
            Some((meta, meta.retracted || self.retracted_base.contains(&seq)))
        } else {
            self.events.get((seq - base_len - 1) as usize).map(|m| (m, m.retracted))
        }
    }

    // ---- writes (used by `rules::apply` only) -------------------------------

    pub(crate) fn agency_slot(&mut self, sym: Sym) -> &mut Option<AgencyRec> {
        let base = &self.base.agencies;
        self.agencies.entry(sym).or_insert_with(|| base.get(&sym).cloned().flatten())
    }

    pub(crate) fn entity_slot(&mut self, key: EntityKey) -> &mut Option<EntityRec> {
        let base = &self.base.entities;
        self.entities.entry(key).or_insert_with(|| base.get(&key).cloned().flatten())
    }

    pub(crate) fn push_entity(&mut self, key: EntityKey, seq: u64, state: Option<EntityState>) {
        let stack = &mut self.entity_slot(key).get_or_insert_with(EntityRec::default).stack;
        // Entities have a handful of events: grow by one, not by doubling
        // (a Vec's first push reserves four), which keeps a million-event
        // state well inside the memory budget.
        stack.reserve_exact(1);
        stack.push((seq, state));
    }

    pub(crate) fn pop_entity(&mut self, key: EntityKey) {
        let slot = self.entity_slot(key);
        if let Some(rec) = slot {
            rec.stack.pop();
            if rec.stack.is_empty() {
                // A retracted creating event frees the id (SPEC 2.4).
                *slot = None;
            }
        }
    }

    pub(crate) fn register_agency(&mut self, sym: Sym, rec: AgencyRec) {
        *self.agency_slot(sym) = Some(rec);
        self.live_delta += 1;
    }

    pub(crate) fn unregister_agency(&mut self, sym: Sym) {
        *self.agency_slot(sym) = None;
        self.live_delta -= 1;
    }

    pub(crate) fn push_event(&mut self, meta: EventMeta) -> u64 {
        let seq = self.next_seq();
        self.events.push(meta);
        self.by_id.insert(self.events.len() - 1, &self.events);
        seq
    }

    pub(crate) fn mark_retracted(&mut self, seq: u64) {
        let base_len = self.base.events.len() as u64;
        if seq <= base_len {
            self.retracted_base.insert(seq);
        } else if let Some(meta) = self.events.get_mut((seq - base_len - 1) as usize) {
            meta.retracted = true;
        }
    }
}

fn merge_map<K: std::hash::Hash + Eq, V>(base: &mut HashMap<K, V>, overlay: HashMap<K, V>) {
    if base.is_empty() {
        // The first import into an empty ledger: take the overlay whole rather
        // than copying it entry by entry, so peak memory is not doubled.
        *base = overlay;
    } else {
        base.extend(overlay);
    }
}
