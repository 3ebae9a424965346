//! Read accessors over the projection for listing entities (tasks,
//! freezes, meetings, clues, warnings, penalties, card-breaking actions,
//! cases) by kind, holding agency, status and time, in the order they were
//! created, with a seq cursor: what the server's entity queries page through.
//!
//! Status is as of the projection's head. An entity whose creation was
//! retracted is `retracted`; a step that was retracted does not count.

use uuid::Uuid;

use crate::projection::{Life, Projection, TaskStepKind};

/// A kind of entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Task,
    Freeze,
    Meeting,
    Clue,
    Warning,
    Penalty,
    CardBreaking,
    Case,
}

/// Where an entity stands at the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityStatus {
    /// A task neither completed nor cancelled.
    Open,
    Completed,
    Cancelled,
    /// A freeze request not yet answered.
    Requested,
    Executed,
    Rejected,
    /// A meeting not yet held.
    Convened,
    Held,
    /// A clue without feedback.
    Referred,
    /// A clue with feedback.
    Answered,
    /// A warning without a dissuasion record.
    Issued,
    Dissuaded,
    /// A penalty in force.
    Imposed,
    Revoked,
    /// A case or card-breaking action (they have no lifecycle).
    Recorded,
    /// The creating event was retracted.
    Retracted,
}

impl EntityStatus {
    /// Every status, for documentation and parsing.
    pub const ALL: [EntityStatus; 16] = [
        EntityStatus::Open,
        EntityStatus::Completed,
        EntityStatus::Cancelled,
        EntityStatus::Requested,
        EntityStatus::Executed,
        EntityStatus::Rejected,
        EntityStatus::Convened,
        EntityStatus::Held,
        EntityStatus::Referred,
        EntityStatus::Answered,
        EntityStatus::Issued,
        EntityStatus::Dissuaded,
        EntityStatus::Imposed,
        EntityStatus::Revoked,
        EntityStatus::Recorded,
        EntityStatus::Retracted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityStatus::Open => "open",
            EntityStatus::Completed => "completed",
            EntityStatus::Cancelled => "cancelled",
            EntityStatus::Requested => "requested",
            EntityStatus::Executed => "executed",
            EntityStatus::Rejected => "rejected",
            EntityStatus::Convened => "convened",
            EntityStatus::Held => "held",
            EntityStatus::Referred => "referred",
            EntityStatus::Answered => "answered",
            EntityStatus::Issued => "issued",
            EntityStatus::Dissuaded => "dissuaded",
            EntityStatus::Imposed => "imposed",
            EntityStatus::Revoked => "revoked",
            EntityStatus::Recorded => "recorded",
            EntityStatus::Retracted => "retracted",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Which entities to list. `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityFilter {
    /// The holding agency (assignee, bank, receiving agency, target, actor)
    /// or, for freezes, the requesting one; for meetings, an invitee.
    pub agency: Option<String>,
    pub status: Option<EntityStatus>,
    /// The entity's time (see [`EntityView::at_us`]) is at or after this (µs since the epoch).
    pub from_us: Option<i64>,
    /// … and before this.
    pub to_us: Option<i64>,
    /// Only entities this agency is a party of (SPEC 4's read scope of an
    /// agency token; see [`Projection::is_party`]).
    pub reader: Option<String>,
}

/// One entity as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityView {
    pub kind: EntityKind,
    /// The `seq` of the creating event: the listing order and the cursor.
    pub seq: u64,
    /// The creating event's id.
    pub event_id: Uuid,
    /// The holding agency (for meetings: none; see `invitees`).
    pub agency: Option<String>,
    /// Meetings: the invited agencies.
    pub invitees: Vec<String>,
    /// The entity's time, µs since the epoch: when it was created
    /// (`occurred_at`), except tasks, whose time is their current due date,
    /// and meetings, whose time is when the convening was recorded.
    pub at_us: i64,
    pub status: EntityStatus,
    /// Live lifecycle steps recorded since the creation.
    pub steps: u32,
}

/// A page of entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityPage {
    pub entities: Vec<EntityView>,
    /// More entities match after the last one listed.
    pub more: bool,
}

fn live_count<'a>(lives: impl Iterator<Item = &'a Life>, head: u64) -> u32 {
    lives.filter(|l| l.live(head)).count() as u32
}

impl Projection {
    /// Up to `first` entities of `kind` matching `filter`, created after seq
    /// `after`, in creation order. Scans every entity of the kind (a
    /// listing, not an index lookup).
    pub fn entities(&self, kind: EntityKind, filter: &EntityFilter, after: u64, first: usize) -> EntityPage {
        let head = self.head_seq();
        let mut all = self.views(kind, head);
        all.retain(|v| {
            v.seq > after
                && filter.status.is_none_or(|s| v.status == s)
                && filter.from_us.is_none_or(|f| v.at_us >= f)
                && filter.to_us.is_none_or(|t| v.at_us < t)
        });
        if let Some(reader) = &filter.reader {
            all.retain(|v| self.is_party(v.seq, reader) == Some(true));
        }
        if let Some(agency) = &filter.agency {
            let requesters = (kind == EntityKind::Freeze).then(|| self.requesters());
            all.retain(|v| {
                v.agency.as_deref() == Some(agency.as_str())
                    || v.invitees.iter().any(|i| i == agency)
                    || requesters.as_ref().is_some_and(|r| r.get(&v.seq).is_some_and(|a| a == agency))
            });
        }
        all.sort_unstable_by_key(|v| v.seq);
        let more = all.len() > first;
        all.truncate(first);
        EntityPage { entities: all, more }
    }

    /// The requesting agency of each freeze request, by seq.
    fn requesters(&self) -> std::collections::HashMap<u64, &str> {
        self.agencies.iter().flat_map(|a| a.requests.iter().map(move |r| (r.life.seq, a.id.as_ref()))).collect()
    }

    fn views(&self, kind: EntityKind, head: u64) -> Vec<EntityView> {
        let mut out = Vec::new();
        let view = |agency: &str, life: Life, at_us: i64, status: EntityStatus, steps: u32| EntityView {
            kind,
            seq: life.seq,
            event_id: life.id,
            agency: Some(agency.to_owned()),
            invitees: Vec::new(),
            at_us,
            status: if life.live(head) { status } else { EntityStatus::Retracted },
            steps,
        };
        if kind == EntityKind::Meeting {
            let mut invitees: Vec<Vec<String>> = vec![Vec::new(); self.meetings.len()];
            for a in &self.agencies {
                for m in &a.meetings {
                    if let Some(list) = invitees.get_mut(*m as usize) {
                        list.push(a.id.to_string());
                    }
                }
            }
            for (m, names) in self.meetings.iter().zip(invitees) {
                let held = live_count(m.held.iter().map(|h| &h.life), head);
                let status = if held > 0 { EntityStatus::Held } else { EntityStatus::Convened };
                let at_us = self.recorded_us.get((m.life.seq - 1) as usize).copied().unwrap_or_default();
                let mut v = view("", m.life, at_us, status, held);
                v.agency = None;
                v.invitees = names;
                out.push(v);
            }
            return out;
        }
        for a in &self.agencies {
            let id = a.id.as_ref();
            match kind {
                EntityKind::Task => out.extend(a.tasks.iter().map(|t| {
                    let live = || t.steps.iter().filter(|s| s.life.live(head));
                    let mut due_us = t.due_us;
                    let mut status = EntityStatus::Open;
                    for s in live() {
                        match s.kind {
                            TaskStepKind::Acknowledged => {}
                            TaskStepKind::Extended { due_us: d } => due_us = d,
                            TaskStepKind::Completed => status = EntityStatus::Completed,
                            TaskStepKind::Cancelled => status = EntityStatus::Cancelled,
                        }
                    }
                    view(id, t.life, due_us, status, live().count() as u32)
                })),
                EntityKind::Freeze => out.extend(a.freezes.iter().map(|f| {
                    let answer = f.answers.iter().find(|x| x.life.live(head));
                    let status = match answer {
                        None => EntityStatus::Requested,
                        Some(x) if x.executed => EntityStatus::Executed,
                        Some(_) => EntityStatus::Rejected,
                    };
                    view(id, f.life, f.requested_us, status, live_count(f.answers.iter().map(|x| &x.life), head))
                })),
                EntityKind::Clue | EntityKind::Warning => {
                    let (pairs, answered, waiting) = if kind == EntityKind::Clue {
                        (&a.clues, EntityStatus::Answered, EntityStatus::Referred)
                    } else {
                        (&a.warnings, EntityStatus::Dissuaded, EntityStatus::Issued)
                    };
                    out.extend(pairs.iter().map(|p| {
                        let n = live_count(p.answers.iter().map(|x| &x.life), head);
                        view(id, p.life, p.at_us, if n > 0 { answered } else { waiting }, n)
                    }));
                }
                EntityKind::Penalty => out.extend(a.penalties.iter().map(|p| {
                    let n = live_count(p.revocations.iter(), head);
                    view(id, p.life, p.at_us, if n > 0 { EntityStatus::Revoked } else { EntityStatus::Imposed }, n)
                })),
                EntityKind::CardBreaking => {
                    out.extend(a.cards.iter().map(|c| view(id, c.life, c.at_us, EntityStatus::Recorded, 0)))
                }
                EntityKind::Case => {
                    out.extend(a.cases.iter().map(|c| view(id, c.life, c.at_us, EntityStatus::Recorded, 0)))
                }
                EntityKind::Meeting => {}
            }
        }
        out
    }
}
