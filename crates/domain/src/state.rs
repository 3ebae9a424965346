//! The validation state: the fold of the log that the rules of SPEC 2.3 and
//! 2.4 are checked against, kept compact so that millions of events fit.
//!
//! Every entity keeps a stack of the non-retracted events that touched it,
//! each with the entity's state after it (or `None` when the event did not
//! change the state, e.g. a task assigned from a meeting, for the meeting).
//! Retraction is only ever of an entity's newest event (SPEC 2.4), so undoing
//! it is a pop.
//!
//! Changes are made in a [`Txn`]: a batch is checked event by event against
//! the state including its earlier events, and is either committed or
//! dropped, leaving the state exactly as it was. A `Txn` changes the state in
//! place, so reads see one map and committing costs nothing; dropping it
//! undoes its events newest first. Each event's own effects are undone from
//! the references it records (the same ones a retraction undoes); what a
//! retraction in the change took away is kept aside to be put back. Nothing
//! else mutates the state.

use uuid::Uuid;

mod records;
mod snapshot;
mod tables;

pub use records::{
    AgencyRec, EntityKey, EntityKind, EntityRec, EntityState, EventMeta, FreezeAnswer, FreezeState, MeetingState,
    PairState, Ref, Refs, TaskState, TaskStatus,
};
pub use snapshot::SnapshotError;
use tables::{Entities, IdIndex, Interner, SymMap};

/// An interned identifier (agency or entity id).
pub type Sym = u32;

/// The validation state of a ledger. See the module documentation.
///
/// Two states are equal when they hold the same agencies, entities and
/// events; interned ids are not part of the comparison (an id interned by a
/// dropped change stays interned, and means nothing until it is used).
#[derive(Debug, Default, Clone)]
pub struct State {
    interner: Interner,
    /// Registered agencies (a retracted registration is removed).
    agencies: SymMap<Sym, AgencyRec>,
    /// Entities with at least one non-retracted event.
    entities: Entities,
    events: Vec<EventMeta>,
    by_id: IdIndex,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.agencies == other.agencies
            && self.entities == other.entities
            && self.events == other.events
            && self.by_id.len() == other.by_id.len()
            && self.events.iter().enumerate().all(|(i, e)| self.by_id.find(&e.id, &self.events) == Some(i))
    }
}

impl State {
    /// An empty ledger's state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a change; drop the returned `Txn` to abandon it.
    pub fn begin(&mut self) -> Txn<'_> {
        let start = self.events.len();
        Txn { base: self, start, undone: Vec::new(), committed: false }
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
            entity_steps: self.entities.values().map(|e| e.stack.len()).sum(),
            interned: self.interner.ends.len(),
            interned_bytes: self.interner.arena.len(),
            agencies: self.agencies.len(),
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

/// What a retraction in a [`Txn`] took away from the state, to put back if
/// the change is dropped.
#[derive(Debug)]
enum Undone {
    /// A name count it lowered.
    Named(Sym),
    /// A registration it retracted.
    Registration(Sym, AgencyRec),
    /// An entity's newest event (and the state after it) it took off.
    Step(EntityKey, Box<(u64, Option<EntityState>)>),
    /// The event it marked retracted.
    Retracted(u64),
}

/// A change to the [`State`] in progress. See the module documentation.
pub struct Txn<'a> {
    base: &'a mut State,
    /// Events in the state before this change.
    start: usize,
    /// What retractions of this change took away, with the retraction's `seq`.
    undone: Vec<(u64, Undone)>,
    committed: bool,
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.undo_to(self.start);
        }
    }
}

/// A point in a [`Txn`] (see [`Txn::savepoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint(usize);

/// A [`Txn`] set aside by [`Txn::detach`]: the change stays in its state,
/// undecided, until [`State::resume`] takes it up again. It must be resumed
/// on the state it came from before anything else changes that state.
#[derive(Debug)]
#[must_use = "a detached change is neither kept nor dropped until it is resumed"]
pub struct Detached {
    start: usize,
    undone: Vec<(u64, Undone)>,
}

impl State {
    /// Takes up a change set aside by [`Txn::detach`] (on this state, with
    /// nothing changed since): commit the returned `Txn` to keep it, drop it
    /// to undo it.
    pub fn resume(&mut self, change: Detached) -> Txn<'_> {
        let Detached { start, undone } = change;
        let start = start.min(self.events.len());
        Txn { base: self, start, undone, committed: false }
    }
}

impl Txn<'_> {
    /// Keeps the change.
    pub fn commit(mut self) {
        self.committed = true;
    }

    /// Sets the change aside without deciding it, releasing the state (to
    /// check on one thread and decide on another, once the store has
    /// answered). Its events stay in the state meanwhile.
    pub fn detach(mut self) -> Detached {
        self.committed = true;
        Detached { start: self.start, undone: std::mem::take(&mut self.undone) }
    }

    /// The change as it stands, to come back to with [`Txn::rollback_to`].
    pub fn savepoint(&self) -> Savepoint {
        Savepoint(self.base.events.len())
    }

    /// Undoes the events admitted since `point`, as if they had never been.
    pub fn rollback_to(&mut self, point: Savepoint) {
        self.undo_to(point.0.max(self.start));
    }

    /// Undoes events newest first until `len` are left: each event's
    /// references in reverse order, then what it retracted (an event's
    /// effects were made the other way round).
    fn undo_to(&mut self, len: usize) {
        let State { agencies, entities, events, by_id, .. } = &mut *self.base;
        while events.len() > len {
            let seq = events.len() as u64;
            if let Some(meta) = events.last() {
                // What references alone give back needs no record.
                take_back(agencies, entities, &meta.refs, |_| {});
            }
            while let Some((_, undone)) = self.undone.pop_if(|(at, _)| *at == seq) {
                match undone {
                    Undone::Named(agency) => {
                        if let Some(rec) = agencies.get_mut(&agency) {
                            rec.naming += 1;
                        }
                    }
                    Undone::Registration(agency, rec) => {
                        agencies.insert(agency, rec);
                    }
                    Undone::Step(key, step) => entities.entry(key).stack.push(*step),
                    Undone::Retracted(target) => {
                        if let Some(meta) = events.get_mut(target as usize - 1) {
                            meta.retracted = false;
                        }
                    }
                }
            }
            by_id.remove(events.len() - 1, events);
            events.pop();
        }
    }

    // ---- reads -------------------------------------------------------------

    /// The `seq` the next admitted event will get.
    pub fn next_seq(&self) -> u64 {
        self.base.events.len() as u64 + 1
    }

    /// How many agencies are registered (not retracted).
    pub fn live_agencies(&self) -> usize {
        self.base.agencies.len()
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
        self.base.agencies.get(&sym)
    }

    /// An entity, by namespace and id.
    pub fn entity(&self, kind: EntityKind, id: &str) -> Option<&EntityRec> {
        let key = EntityKey { kind, sym: self.sym(id)? };
        self.entity_by_key(key)
    }

    /// An entity, by key.
    pub fn entity_by_key(&self, key: EntityKey) -> Option<&EntityRec> {
        self.base.entities.get(&key)
    }

    /// The `seq` of the event with this id, in the state or earlier in this change.
    pub fn seq_of(&self, id: &Uuid) -> Option<u64> {
        self.base.seq_of(id)
    }

    /// What the state remembers of the event at `seq`, with its current
    /// retraction flag.
    pub fn event(&self, seq: u64) -> Option<(&EventMeta, bool)> {
        let meta = self.base.events.get(usize::try_from(seq).ok()?.checked_sub(1)?)?;
        Some((meta, meta.retracted))
    }

    // ---- writes (used by `rules::apply` only) -------------------------------
    //
    // Each write is either undone from the event's references on rollback
    // (`undo_to`), or, when a retraction makes it, recorded in `undone`.

    /// Counts an event naming `sym` (when it is registered).
    pub(crate) fn name_agency(&mut self, sym: Sym) {
        if let Some(rec) = self.base.agencies.get_mut(&sym) {
            rec.naming += 1;
        }
    }

    pub(crate) fn register_agency(&mut self, sym: Sym, rec: AgencyRec) {
        self.base.agencies.insert(sym, rec);
    }

    pub(crate) fn push_entity(&mut self, key: EntityKey, seq: u64, state: Option<EntityState>) {
        let stack = &mut self.base.entities.entry(key).stack;
        // Entities have a handful of events: grow by one, not by doubling
        // (a Vec's first push reserves four), which keeps a million-event
        // state well inside the memory budget.
        stack.reserve_exact(1);
        stack.push((seq, state));
    }

    pub(crate) fn push_event(&mut self, meta: EventMeta) -> u64 {
        let seq = self.next_seq();
        let State { events, by_id, .. } = &mut *self.base;
        events.push(meta);
        by_id.insert(events.len() - 1, events);
        seq
    }

    /// Retracts the event at `seq` (SPEC 2.4): takes back what it added and
    /// marks it retracted, keeping what was taken to put back if the change
    /// is dropped.
    pub(crate) fn retract(&mut self, seq: u64) {
        let at = self.next_seq();
        let Txn { base, undone, .. } = self;
        let State { agencies, entities, events, .. } = &mut **base;
        let Some(meta) = usize::try_from(seq).ok().and_then(|s| s.checked_sub(1)).and_then(|i| events.get_mut(i))
        else {
            return;
        };
        take_back(agencies, entities, &meta.refs, |taken| undone.push((at, taken)));
        if !meta.retracted {
            meta.retracted = true;
            undone.push((at, Undone::Retracted(seq)));
        }
    }
}

/// Takes back what an event with `refs` added, newest reference first: for
/// its retraction, or for a rollback of it. `taken` hears of what references
/// alone cannot give back: a lowered name count, a registration, an
/// entity's step.
fn take_back(
    agencies: &mut SymMap<Sym, AgencyRec>,
    entities: &mut Entities,
    refs: &[Ref],
    mut taken: impl FnMut(Undone),
) {
    for r in refs.iter().rev() {
        match *r {
            Ref::Names(agency) => {
                if let Some(rec) = agencies.get_mut(&agency)
                    && rec.naming > 0
                {
                    rec.naming -= 1;
                    taken(Undone::Named(agency));
                }
            }
            Ref::Registers(agency) => {
                if let Some(rec) = agencies.remove(&agency) {
                    taken(Undone::Registration(agency, rec));
                }
            }
            Ref::Entity(key) => {
                if let Some(step) = pop_step(entities, key) {
                    taken(Undone::Step(key, Box::new(step)));
                }
            }
        }
    }
}

/// Takes the newest event off `key`'s stack; an entity left without events
/// is removed, which frees its id (SPEC 2.4).
fn pop_step(entities: &mut Entities, key: EntityKey) -> Option<(u64, Option<EntityState>)> {
    let rec = entities.get_mut(&key)?;
    let step = rec.stack.pop();
    if rec.stack.is_empty() {
        entities.remove(&key);
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_of_one_id_in_two_namespaces_are_kept_apart_and_compared_in_any_order() {
        let task = EntityKey { kind: EntityKind::Task, sym: 3 };
        let freeze = EntityKey { kind: EntityKind::Freeze, sym: 3 };
        let mut a = Entities::default();
        a.entry(task).stack.push((1, None));
        a.entry(freeze).stack.push((2, None));
        let mut b = Entities::default();
        b.entry(freeze).stack.push((2, None));
        b.entry(task).stack.push((1, None));
        assert_eq!(a.len(), 2);
        assert_eq!(a.get(&task).and_then(EntityRec::top_seq), Some(1));
        assert_eq!(a.get(&freeze).and_then(EntityRec::top_seq), Some(2));
        assert!(a.get(&EntityKey { kind: EntityKind::Case, sym: 3 }).is_none());
        assert!(a.get(&EntityKey { kind: EntityKind::Task, sym: 9 }).is_none());
        assert_eq!(a, b);
        if let Some(rec) = b.get_mut(&task) {
            rec.stack.push((5, None));
        }
        assert_ne!(a, b);
        a.remove(&task);
        assert_eq!((a.len(), a.get(&task), a.get(&freeze).is_some()), (1, None, true));
        assert_eq!(a.values().count(), 1);
        // A removed entity's key can be used again.
        a.entry(task);
        assert_eq!(a.len(), 2);
    }
}
