//! The records of the projection: what the indicators read for each agency
//! (registrations, tasks, meetings, freezes, cases, clues, warnings,
//! card-breaking actions, penalties), each with the [`Life`] of its events.

use govledger_domain::catalog::{AgencyKind, PenaltyKind};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use uuid::Uuid;

/// A short list kept inline: most entities have one or two steps, and a
/// heap allocation per entity would cost both the fold and the scans of an
/// assessment (a pointer to chase per entity).
pub(crate) type Steps<T, const N: usize> = SmallVec<[T; N]>;

/// When an event took effect and, if it was retracted, when that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Life {
    /// The event's `seq`.
    pub seq: u64,
    /// The event's id, kept here (as well as by `seq`) so that listing the
    /// evidence of an indicator reads only the records it iterates anyway.
    pub id: Uuid,
    /// The `seq` of the `EventRetracted` that retracted it; 0 while it stands.
    pub retracted_at: u64,
}

impl Life {
    pub(crate) fn new(seq: u64, id: Uuid) -> Self {
        Life { seq, id, retracted_at: 0 }
    }

    /// Whether the event exists for an assessment as of `k`.
    #[inline]
    pub fn live(self, k: u64) -> bool {
        self.seq <= k && (self.retracted_at == 0 || k < self.retracted_at)
    }
}

/// One registration of an agency id (an id is registered again only after
/// its registration was retracted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Registration {
    pub life: Life,
    pub name: Box<str>,
    pub kind: AgencyKind,
    /// Whether it gives the agency the `coordinator` role.
    pub coordinator: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TaskStepKind {
    Acknowledged,
    Extended { due_us: i64 },
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaskStep {
    pub life: Life,
    pub at_us: i64,
    pub kind: TaskStepKind,
}

/// A task assigned to the agency that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Task {
    pub life: Life,
    pub due_us: i64,
    /// Whether the assigner held the `coordinator` role (see [`Projection::is_coordinator`]).
    pub by_coordinator: bool,
    pub steps: Steps<TaskStep, 2>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Held {
    pub life: Life,
    pub at_us: i64,
    pub attendees: Box<[u32]>,
}

/// A joint meeting; listed under each invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meeting {
    pub life: Life,
    /// Whether the convener held the `coordinator` role (see [`Projection::is_coordinator`]).
    pub by_coordinator: bool,
    pub held: Steps<Held, 1>,
}

/// A bank's answer to a freeze request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FreezeAnswer {
    pub life: Life,
    pub at_us: i64,
    pub executed: bool,
}

/// A freeze request as its bank sees it: the request and the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Freeze {
    pub life: Life,
    pub requested_us: i64,
    pub answers: Steps<FreezeAnswer, 1>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Return {
    pub life: Life,
    pub amount_minor: u64,
}

/// A freeze request as its requester sees it: the request and the funds
/// returned on it. (Each side keeps what its own indicators read, so that
/// an assessment scans each agency's records in order.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Request {
    pub life: Life,
    pub requested_us: i64,
    pub returns: Steps<Return, 1>,
}

/// A fraud case reported by the agency that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Case {
    pub life: Life,
    pub at_us: i64,
    pub loss_minor: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Answer {
    pub life: Life,
    pub at_us: i64,
}

/// A clue referred to, or a warning issued to, the agency that holds it,
/// with its feedback or dissuasion records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pair {
    pub life: Life,
    pub at_us: i64,
    pub answers: Steps<Answer, 1>,
}

/// A card-breaking action of the agency that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Card {
    pub life: Life,
    pub at_us: i64,
    pub disposed: u64,
}

/// A penalty on the agency that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Penalty {
    pub life: Life,
    pub at_us: i64,
    pub kind: PenaltyKind,
    pub revocations: Steps<Life, 1>,
}

/// Everything the indicators of one agency id read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Agency {
    pub id: Box<str>,
    pub registrations: Vec<Registration>,
    pub tasks: Vec<Task>,
    /// Meetings the agency was invited to (indexes into `meetings`).
    pub meetings: Vec<u32>,
    /// Freezes requested from this bank.
    pub freezes: Vec<Freeze>,
    /// Freezes this police agency requested.
    pub requests: Vec<Request>,
    pub cases: Vec<Case>,
    pub clues: Vec<Pair>,
    pub warnings: Vec<Pair>,
    pub cards: Vec<Card>,
    pub penalties: Vec<Penalty>,
}

impl Agency {
    /// How many records an assessment of this agency may scan.
    pub(crate) fn records(&self) -> usize {
        self.tasks.len()
            + self.meetings.len()
            + self.freezes.len()
            + self.requests.len()
            + self.cases.len()
            + self.clues.len()
            + self.warnings.len()
            + self.cards.len()
            + self.penalties.len()
    }
}
