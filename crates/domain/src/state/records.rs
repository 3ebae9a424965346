//! The records the state keeps: agencies, entities and their lifecycle
//! states, and what it remembers of each event.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use uuid::Uuid;

use super::Sym;
use crate::catalog::{AgencyKind, EventType};

/// The namespaces of entity ids: a task and a freeze may share an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityKey {
    pub kind: EntityKind,
    pub sym: Sym,
}

/// What an event touches, recorded so that a retraction can undo it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ref {
    /// The event is a step of this entity's lifecycle.
    Entity(EntityKey),
    /// The event registers this agency (`AgencyRegistered`).
    Registers(Sym),
    /// The event names this agency (actor, invitee, assignee, bank …).
    Names(Sym),
}

/// A registered agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyRec {
    pub kind: AgencyKind,
    pub coordinator: bool,
    pub evaluator: bool,
    /// Non-retracted events after the registration that name the agency; the
    /// registration can be retracted only while this is 0.
    pub naming: u32,
}

/// A meeting's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingState {
    pub convener: Sym,
    pub convened_at: i64,
    pub held_at: Option<i64>,
    pub resolutions: Box<[Sym]>,
}

/// Whether a task is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    Open,
    Completed,
    Cancelled,
}

/// A task's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskState {
    pub assignee: Sym,
    pub assigner: Sym,
    pub assigned_at: i64,
    pub due_at: i64,
    pub acknowledged: bool,
    pub status: TaskStatus,
}

/// How a bank answered a freeze request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FreezeAnswer {
    Pending,
    Executed { at: i64, amount_frozen_minor: u64 },
    Rejected,
}

/// A freeze's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairState {
    pub from: Sym,
    pub to: Sym,
    pub at: i64,
    pub answered: bool,
}

/// The state of an entity after one of its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRec {
    pub(super) stack: Vec<(u64, Option<EntityState>)>,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    pub id: Uuid,
    pub event_type: EventType,
    pub actor: Sym,
    pub retracted: bool,
    pub refs: Refs,
}
