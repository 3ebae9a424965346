//! The projection: the log folded into the entities the indicators read
//! (agencies, meetings, tasks, freezes, cases, clues, warnings, card-breaking
//! actions, penalties), kept so that one projection at the head answers an
//! assessment **as of any earlier position** without replaying the log.
//!
//! How "as of" works: every creating event and every lifecycle step keeps
//! its `seq` and, once retracted, the `seq` of the retraction ([`Life`]). As
//! of `k`, a step exists iff `seq ≤ k` and it was not retracted at or before
//! `k` (SPEC 3.1). Retractions never delete anything here, so the state at
//! the head holds every earlier state. An id freed by a retracted creation
//! (SPEC 2.4) may be created again; the new entity is a new record, and the
//! old one stays for positions before its retraction.
//!
//! Folding cannot fail on a log whose events passed the domain's rules; an
//! event that refers to an entity the projection does not know means the log
//! was not written by these rules, and is reported as [`ProjectionError`]
//! before anything changes.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use govledger_ledger::StoredEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::decode::{DecodeError, Decoded, decode_body, decode_event};
use crate::entities::EntityKind;
use crate::parties::Parties;

mod checkpoint;
mod fold;
mod records;

pub use checkpoint::CheckpointError;
pub(crate) use fold::unknown;
pub use records::Life;
pub(crate) use records::{
    Agency, Answer, Card, Case, Freeze, FreezeAnswer, Held, Meeting, Pair, Penalty, Registration, Request, Return,
    Steps, Task, TaskStep, TaskStepKind,
};

type Map<K, V> = HashMap<K, V, RandomState>;

/// Why an event could not be folded. Nothing of it was folded; the
/// projection is as before. Handle by verifying the log (`govledger verify`)
/// and rebuilding; these do not happen on a log written by govledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectionError {
    /// The event cannot be read (an incompatible or corrupted log).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Events must be folded in `seq` order with no gaps.
    #[error("expected the event at seq {expected}, got seq {found}")]
    OutOfOrder { expected: u64, found: u64 },
    /// The event refers to something the log does not contain.
    #[error("seq {seq}: {reason}")]
    Inconsistent { seq: u64, reason: String },
}

/// Where an entity held by an agency lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Slot {
    pub agency: u32,
    pub idx: u32,
}

/// Where an event's effect was recorded, so that a retraction can find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Loc {
    /// The event changes no figure (and neither does retracting it).
    Nothing,
    Registration(u32),
    Task(Slot),
    Meeting(u32),
    /// A freeze request: both records of it.
    FreezeRequest {
        bank: Slot,
        requester: Slot,
    },
    /// An answer, on the bank's record.
    FreezeAnswer(Slot),
    /// A return, on the requester's record.
    FundsReturned(Slot),
    Case(Slot),
    Clue(Slot),
    Warning(Slot),
    Card(Slot),
    Penalty(Slot),
    /// An `EventRetracted`, with the seq of the event it retracted.
    Retraction(u64),
}

/// The projection. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    /// Per event, by `seq - 1`: its id (for evidence and retractions).
    pub(crate) ids: Vec<Uuid>,
    /// Per event: its hash (the `head_hash` of an assessment as of it).
    pub(crate) hashes: Vec<[u8; 32]>,
    /// Per event: its `recorded_at` (the assessment clock as of it).
    pub(crate) recorded_us: Vec<i64>,
    locs: Vec<Loc>,
    pub(crate) agencies: Vec<Agency>,
    pub(crate) meetings: Vec<Meeting>,
    /// Interned agency ids: index into `agencies`.
    pub(crate) agency_index: Map<Box<str>, u32>,
    /// The newest entity created with each id. An entry may point at an
    /// entity whose creation was retracted: no valid event refers to the id
    /// again until it is created anew, which replaces the entry.
    tasks_by_id: Map<Box<str>, Slot>,
    meetings_by_id: Map<Box<str>, u32>,
    freezes_by_id: Map<Box<str>, (Slot, Slot)>,
    clues_by_id: Map<Box<str>, Slot>,
    warnings_by_id: Map<Box<str>, Slot>,
    penalties_by_id: Map<Box<str>, Slot>,
    /// Who is party to each event (SPEC 4's read scope; `crate::parties`).
    pub(crate) parties: Parties,
    /// Derived from `ids`; not stored in checkpoints.
    #[serde(skip)]
    seq_by_id: IdIndex,
}

/// Finds an event's `seq` by its id (for retractions) without a hash entry
/// per event: ids the server assigns (UUIDv7) grow with time, so most events
/// extend a run of increasing ids that is searched by bisection; an id out
/// of that order (a client's own) goes into a map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct IdIndex {
    /// Seqs whose ids increase with the seq.
    increasing: Vec<u64>,
    others: Map<Uuid, u64>,
}

impl IdIndex {
    /// Records `id` at `seq`; `ids` holds the ids up to `seq`.
    fn insert(&mut self, ids: &[Uuid], id: Uuid, seq: u64) {
        let after_last = self.increasing.last().is_none_or(|last| ids.get((*last - 1) as usize) < Some(&id));
        if after_last {
            self.increasing.push(seq);
        } else {
            self.others.insert(id, seq);
        }
    }

    fn get(&self, ids: &[Uuid], id: &Uuid) -> Option<u64> {
        if let Some(seq) = self.others.get(id) {
            return Some(*seq);
        }
        let i = self.increasing.partition_point(|seq| ids.get((*seq - 1) as usize) < Some(id));
        let seq = *self.increasing.get(i)?;
        (ids.get((seq - 1) as usize) == Some(id)).then_some(seq)
    }
}

impl Projection {
    /// An empty projection (of an empty ledger).
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes room for `additional` more events, so that a rebuild of a known
    /// number of events does not grow its tables step by step.
    pub fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional);
        self.hashes.reserve(additional);
        self.recorded_us.reserve(additional);
        self.locs.reserve(additional);
        self.parties.reserve(additional);
        self.seq_by_id.increasing.reserve(additional);
    }

    /// The `seq` of the last event folded in; 0 when none.
    pub fn head_seq(&self) -> u64 {
        self.ids.len() as u64
    }

    /// The seqs of the `AgencyRegistered` events that stand at the head (not
    /// retracted), ascending: the registered agencies, as of `head_seq`.
    pub fn standing_registrations(&self) -> Vec<u64> {
        let head = self.head_seq();
        let mut seqs: Vec<u64> = self
            .agencies
            .iter()
            .flat_map(|a| &a.registrations)
            .filter(|r| r.life.live(head))
            .map(|r| r.life.seq)
            .collect();
        seqs.sort_unstable();
        seqs
    }

    /// The hash of the last event folded in, lowercase hex; `None` when none.
    pub fn head_hash(&self) -> Option<String> {
        self.hashes.last().map(hex::encode)
    }

    /// The hash of the event at `seq`, lowercase hex.
    pub fn hash_at(&self, seq: u64) -> Option<String> {
        self.hashes.get(usize::try_from(seq.checked_sub(1)?).ok()?).map(hex::encode)
    }

    /// The `recorded_at` of the event at `seq`: the assessment clock as of
    /// it (SPEC 3.1), and the issue date of a report made as of it.
    pub fn recorded_at(&self, seq: u64) -> Option<govledger_domain::Timestamp> {
        let us = *self.recorded_us.get(usize::try_from(seq.checked_sub(1)?).ok()?)?;
        Some(govledger_domain::Timestamp::from_micros(us))
    }

    /// The id of the event at `seq`.
    pub fn id_at(&self, seq: u64) -> Option<Uuid> {
        self.ids.get(usize::try_from(seq.checked_sub(1)?).ok()?).copied()
    }

    /// Folds in the next event of the log.
    pub fn apply(&mut self, event: &StoredEvent) -> Result<(), ProjectionError> {
        let decoded = decode_event(event)?;
        self.fold(decoded, &event.hash)
    }

    /// Folds in the next event from its canonical body and hash, as the store
    /// keeps them (the fast path of a rebuild).
    pub fn apply_raw(&mut self, body: &[u8], hash: &str) -> Result<(), ProjectionError> {
        let decoded = decode_body(body)?;
        self.fold(decoded, hash)
    }

    fn fold(&mut self, ev: Decoded<'_>, hash_hex: &str) -> Result<(), ProjectionError> {
        let expected = self.head_seq() + 1;
        if ev.seq != expected {
            return Err(ProjectionError::OutOfOrder { expected, found: ev.seq });
        }
        let hash = hash_bytes(hash_hex).ok_or_else(|| {
            ProjectionError::Decode(DecodeError { seq: ev.seq, reason: format!("{hash_hex:?} is not a SHA-256 hash") })
        })?;
        // Decided before anything changes, like every lookup of the fold.
        let parties = self.plan_parties(&ev)?;
        let loc = self.fold_fact(&ev)?;
        let retracted = match loc {
            Loc::Retraction(target) => Some(target),
            _ => None,
        };
        self.record_parties(ev.actor, parties, retracted);
        self.ids.push(ev.id);
        self.hashes.push(hash);
        self.recorded_us.push(ev.recorded_us);
        self.locs.push(loc);
        self.seq_by_id.insert(&self.ids, ev.id, ev.seq);
        Ok(())
    }

    pub(crate) fn agency_sym(&mut self, id: &str) -> u32 {
        if let Some(sym) = self.agency_index.get(id) {
            return *sym;
        }
        let sym = u32::try_from(self.agencies.len()).unwrap_or(u32::MAX);
        self.agencies.push(Agency { id: id.into(), ..Agency::default() });
        self.agency_index.insert(id.into(), sym);
        sym
    }

    /// The seq of the event that created the newest entity `id` of `kind`
    /// (None for kinds without an id index: cases and card-breaking actions).
    pub(crate) fn created_at(&self, kind: EntityKind, id: &str) -> Option<u64> {
        let at = |s: &Slot| self.agencies.get(s.agency as usize);
        let life = match kind {
            EntityKind::Task => self.tasks_by_id.get(id).and_then(|s| at(s)?.tasks.get(s.idx as usize)).map(|x| x.life),
            EntityKind::Freeze => {
                self.freezes_by_id.get(id).and_then(|(s, _)| at(s)?.freezes.get(s.idx as usize)).map(|x| x.life)
            }
            EntityKind::Meeting => {
                self.meetings_by_id.get(id).and_then(|m| self.meetings.get(*m as usize)).map(|x| x.life)
            }
            EntityKind::Clue => self.clues_by_id.get(id).and_then(|s| at(s)?.clues.get(s.idx as usize)).map(|x| x.life),
            EntityKind::Warning => {
                self.warnings_by_id.get(id).and_then(|s| at(s)?.warnings.get(s.idx as usize)).map(|x| x.life)
            }
            EntityKind::Penalty => {
                self.penalties_by_id.get(id).and_then(|s| at(s)?.penalties.get(s.idx as usize)).map(|x| x.life)
            }
            EntityKind::CardBreaking | EntityKind::Case => None,
        };
        life.map(|l| l.seq)
    }

    /// Whether an assessment of the period `[from_us, to_us)` as of `later`
    /// has the same figures — every agency, score, rank, indicator and
    /// evidence id — as one as of `earlier` (`earlier < later ≤ head`), so
    /// that only `as_of_seq` and `head_hash` differ. Conservative: `false`
    /// may be answered when the figures happen to be equal.
    ///
    /// True when the assessment clock as of `earlier` is already at or past
    /// `to` (so no task falls due between the two clocks; SPEC 3.2 counts a
    /// task once its due time has passed) and none of the events in
    /// `(earlier, later]` registers an agency, retracts an event, or records
    /// anything about an item whose deciding instant — a task's due time
    /// (any of them, extensions included), a meeting's holding, a freeze's
    /// request, a case, clue, warning, card-breaking action or penalty's
    /// `occurred_at` — lies in the period. The items are read at the head,
    /// which holds every due time and holding an earlier position knows,
    /// and more. Costs O(`later − earlier`): meant for a server answering
    /// the same period as the log grows.
    pub fn same_figures(&self, from_us: i64, to_us: i64, earlier: u64, later: u64) -> bool {
        if earlier == 0 || earlier >= later || later > self.head_seq() {
            return false;
        }
        if self.recorded_us[(earlier - 1) as usize] < to_us {
            return false;
        }
        let inside = |at_us: i64| from_us <= at_us && at_us < to_us;
        self.locs[earlier as usize..later as usize].iter().all(|loc| !self.touches(*loc, &inside))
    }

    /// Whether the event recorded at `loc` can change a figure of a period
    /// (`inside` tells an instant in it).
    fn touches(&self, loc: Loc, inside: &impl Fn(i64) -> bool) -> bool {
        let agency = |s: Slot| &self.agencies[s.agency as usize];
        match loc {
            Loc::Nothing => false,
            Loc::Registration(_) | Loc::Retraction(_) => true,
            Loc::Task(s) => {
                let task = &agency(s).tasks[s.idx as usize];
                inside(task.due_us)
                    || task
                        .steps
                        .iter()
                        .any(|st| matches!(st.kind, TaskStepKind::Extended { due_us } if inside(due_us)))
            }
            Loc::Meeting(idx) => self.meetings[idx as usize].held.iter().any(|h| inside(h.at_us)),
            Loc::FreezeRequest { bank, .. } | Loc::FreezeAnswer(bank) => {
                inside(agency(bank).freezes[bank.idx as usize].requested_us)
            }
            Loc::FundsReturned(s) => inside(agency(s).requests[s.idx as usize].requested_us),
            Loc::Case(s) => inside(agency(s).cases[s.idx as usize].at_us),
            Loc::Clue(s) => inside(agency(s).clues[s.idx as usize].at_us),
            Loc::Warning(s) => inside(agency(s).warnings[s.idx as usize].at_us),
            Loc::Card(s) => inside(agency(s).cards[s.idx as usize].at_us),
            Loc::Penalty(s) => inside(agency(s).penalties[s.idx as usize].at_us),
        }
    }
}

/// Value of each hex digit byte (lower or upper case); 0xff for any other.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The 32 bytes of a hex SHA-256. A table lookup per digit: the `hex`
/// crate's branchy decoder was a tenth of the whole rebuild.
fn hash_bytes(text: &str) -> Option<[u8; 32]> {
    let b = text.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let (hi, lo) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        bad |= (hi | lo) & 0xf0;
        out[i] = (hi << 4) | (lo & 0x0f);
    }
    (bad == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_decode_like_the_hex_crate() {
        let h = "00ff7f80a5c3e1d2b4968778695a4b3c2d1e0f00112233445566778899aabbcc";
        assert_eq!(hash_bytes(h).map(|b| b.to_vec()), hex::decode(h).ok());
        assert_eq!(hash_bytes(&h.to_uppercase()).map(|b| b.to_vec()), hex::decode(h).ok());
        assert_eq!(hash_bytes(&h[..62]), None);
        assert_eq!(hash_bytes(&format!("{}g", &h[..63])), None);
        assert_eq!(hash_bytes(&format!("{}:", &h[..63])), None);
        assert_eq!(hash_bytes(&format!("{}é", &h[..62])), None);
    }

    #[test]
    fn the_id_index_finds_ids_in_and_out_of_order() {
        let ids: Vec<Uuid> = [5u128, 9, 3, 12, 12_000, 7, 13, 1, 14].into_iter().map(Uuid::from_u128).collect();
        let mut index = IdIndex::default();
        for (i, id) in ids.iter().enumerate() {
            index.insert(&ids[..=i], *id, i as u64 + 1);
        }
        assert_eq!(index.increasing, [1, 2, 4, 5]);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.get(&ids, id), Some(i as u64 + 1), "{id}");
        }
        assert_eq!(index.get(&ids, &Uuid::from_u128(10)), None);
        assert_eq!(index.get(&ids, &Uuid::from_u128(99_999)), None);
        assert_eq!(IdIndex::default().get(&[], &Uuid::from_u128(1)), None);
    }
}
