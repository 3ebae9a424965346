//! The registered agencies, folded from the log: what the `agencies` query
//! lists and what token checks consult (does this agency still exist, does it
//! still hold the coordinator or evaluator role?).
//!
//! It is a deliberately small projection: only `AgencyRegistered` and the
//! `EventRetracted` events that retract one matter, and both are recognised
//! from the tail of the canonical bytes without parsing the payload, so
//! catching up on a million-event log costs about as much as reading it.
//! The full projections (tasks, freezes, scores) belong to `govledger-assess`;
//! when they land, this index can be answered from them instead, behind the
//! same methods.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use govledger_domain::catalog::{AgencyKind, Role};
use govledger_ledger::{LogReader, StoreError, StoredEvent, Tail};
use serde::Deserialize;
use uuid::Uuid;

/// One registered (and not retracted) agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyInfo {
    pub agency_id: String,
    pub name: String,
    pub kind: AgencyKind,
    pub jurisdiction: Option<String>,
    pub roles: Vec<Role>,
    /// The `seq` of its `AgencyRegistered` event.
    pub registered_seq: u64,
    /// The `occurred_at` of its `AgencyRegistered` event.
    pub registered_at: String,
    /// The id of its `AgencyRegistered` event.
    pub event_id: Uuid,
}

impl AgencyInfo {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Deserialize)]
struct Registration {
    agency_id: String,
    name: String,
    kind: AgencyKind,
    #[serde(default)]
    jurisdiction: Option<String>,
    #[serde(default)]
    roles: Option<Vec<Role>>,
}

#[derive(Deserialize)]
struct Retraction {
    event_id: Uuid,
}

#[derive(Default)]
struct Folded {
    /// The last seq folded in.
    seq: u64,
    by_id: BTreeMap<String, AgencyInfo>,
    /// Registration event id → agency id, to undo a retracted registration.
    by_event: HashMap<Uuid, String>,
}

/// The agency index; share it behind an `Arc`.
#[derive(Default)]
pub struct AgencyIndex {
    folded: Mutex<Folded>,
}

/// Rows read per call while catching up.
const CHUNK: usize = 4_096;

impl AgencyIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last seq folded in.
    pub fn seq(&self) -> u64 {
        self.folded.lock().unwrap_or_else(|e| e.into_inner()).seq
    }

    /// Folds every event after the last one seen, up to the store's end.
    /// Blocking (it reads the store); callers on an async runtime run it on
    /// a blocking thread.
    pub fn catch_up(&self, reader: &dyn LogReader) -> Result<(), StoreError> {
        let mut folded = self.folded.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let mut failure = None;
            let mut rows = 0usize;
            let after = folded.seq;
            reader.scan_raw(after, &mut |row| {
                rows += 1;
                if let Err(e) = fold_row(&mut folded, row.seq, row.body, row.hash) {
                    failure = Some(e);
                    return false;
                }
                folded.seq = row.seq;
                rows < CHUNK
            })?;
            if let Some(e) = failure {
                return Err(e);
            }
            if rows < CHUNK {
                return Ok(());
            }
        }
    }

    /// Starts an index that has folded nothing at `at`, from the seqs of the
    /// registrations standing there (`Projection::standing_registrations` of
    /// a projection at `at`): it reads only those events, instead of every
    /// event up to `at`, and `catch_up` goes on from `at`. An index that has
    /// folded anything already is left as it is.
    pub fn seed(&self, reader: &dyn LogReader, standing: &[u64], at: u64) -> Result<(), StoreError> {
        let mut folded = self.folded.lock().unwrap_or_else(|e| e.into_inner());
        if folded.seq != 0 {
            return Ok(());
        }
        let mut seeded = Folded::default();
        for &seq in standing.iter().filter(|&&seq| seq >= 1 && seq <= at) {
            let mut outcome = Err(StoreError::Corrupt { seq, reason: "no stored event at this seq".into() });
            reader.scan_raw(seq - 1, &mut |row| {
                outcome = if row.seq == seq {
                    fold_row(&mut seeded, row.seq, row.body, row.hash)
                } else {
                    Err(StoreError::Corrupt { seq, reason: "no stored event at this seq".into() })
                };
                false
            })?;
            outcome?;
        }
        seeded.seq = at;
        *folded = seeded;
        Ok(())
    }

    /// The agency, if it is registered.
    pub fn get(&self, agency_id: &str) -> Option<AgencyInfo> {
        self.folded.lock().unwrap_or_else(|e| e.into_inner()).by_id.get(agency_id).cloned()
    }

    /// Every registered agency, ordered by `agency_id`.
    pub fn all(&self) -> Vec<AgencyInfo> {
        self.folded.lock().unwrap_or_else(|e| e.into_inner()).by_id.values().cloned().collect()
    }
}

fn fold_row(folded: &mut Folded, seq: u64, body: &[u8], hash: &str) -> Result<(), StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let tail = Tail::parse(body).ok_or_else(|| corrupt("not a canonical event".into()))?;
    if tail.event_type != "AgencyRegistered" && tail.event_type != "EventRetracted" {
        return Ok(());
    }
    let event = StoredEvent::from_body(body, hash).map_err(|e| corrupt(e.to_string()))?;
    match tail.event_type {
        "AgencyRegistered" => {
            let r: Registration = serde_json::from_value(event.data).map_err(|e| corrupt(e.to_string()))?;
            folded.by_event.insert(event.id, r.agency_id.clone());
            folded.by_id.insert(
                r.agency_id.clone(),
                AgencyInfo {
                    agency_id: r.agency_id,
                    name: r.name,
                    kind: r.kind,
                    jurisdiction: r.jurisdiction,
                    roles: r.roles.unwrap_or_default(),
                    registered_seq: event.seq,
                    registered_at: event.occurred_at,
                    event_id: event.id,
                },
            );
        }
        _ => {
            let r: Retraction = serde_json::from_value(event.data).map_err(|e| corrupt(e.to_string()))?;
            if let Some(agency_id) = folded.by_event.remove(&r.event_id) {
                folded.by_id.remove(&agency_id);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use govledger_domain::Submission;
    use serde_json::json;

    fn sub(id: u32, ty: &str, actor: &str, data: serde_json::Value) -> Submission {
        Submission::parse(json!({"id": format!("00000000-0000-4000-8000-{id:012}"), "type": ty, "actor": actor,
            "occurred_at": "2026-01-01T00:00:00Z", "data": data}))
        .unwrap()
    }

    #[test]
    fn follows_registrations_and_their_retractions() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = govledger_store_embedded::open_ledger(dir.path()).unwrap();
        ledger
            .append_blocking(vec![
                sub(
                    1,
                    "AgencyRegistered",
                    "office",
                    json!({"agency_id": "office", "name": "Office", "kind": "government",
                    "roles": ["coordinator"]}),
                ),
                sub(2, "AgencyRegistered", "office", json!({"agency_id": "bank-a", "name": "Bank A", "kind": "bank"})),
            ])
            .unwrap();
        let index = AgencyIndex::new();
        index.catch_up(ledger.reader().as_ref()).unwrap();
        assert_eq!(index.all().iter().map(|a| a.agency_id.as_str()).collect::<Vec<_>>(), ["bank-a", "office"]);
        assert!(index.get("office").unwrap().has_role(Role::Coordinator));
        assert_eq!(index.get("bank-a").unwrap().kind, AgencyKind::Bank);
        assert_eq!(index.seq(), 2);

        ledger
            .append_blocking(vec![sub(
                3,
                "EventRetracted",
                "office",
                json!({"event_id": "00000000-0000-4000-8000-000000000002", "reason": "typo"}),
            )])
            .unwrap();
        index.catch_up(ledger.reader().as_ref()).unwrap();
        assert_eq!(index.get("bank-a"), None);
        assert_eq!(index.all().len(), 1);
        assert_eq!(index.seq(), 3);
    }

    /// Issue 18: an index started from a projection's standing registrations
    /// at any seq, then caught up, equals one that folded the whole log.
    #[test]
    fn an_index_seeded_from_the_projection_equals_the_folded_one_at_every_seq() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = govledger_store_embedded::open_ledger(dir.path()).unwrap();
        let office = json!({"agency_id": "office", "name": "Office", "kind": "government", "roles": ["coordinator"]});
        let retract = |id: u32, of: u32| {
            sub(
                id,
                "EventRetracted",
                "office",
                json!({"event_id": format!("00000000-0000-4000-8000-{of:012}"), "reason": "typo"}),
            )
        };
        let events = vec![
            sub(1, "AgencyRegistered", "office", office),
            sub(2, "AgencyRegistered", "office", json!({"agency_id": "bank-a", "name": "Bank A", "kind": "bank"})),
            sub(3, "AgencyRegistered", "office", json!({"agency_id": "bank-b", "name": "Bank B", "kind": "bank"})),
            retract(4, 2),
            sub(
                5,
                "AgencyRegistered",
                "office",
                json!({"agency_id": "bank-a", "name": "Bank A (again)", "kind": "bank",
                "jurisdiction": "north"}),
            ),
            sub(6, "PublicityDelivered", "bank-b", json!({"activity_id": "P1", "audience": "residents", "reach": 3})),
            sub(
                7,
                "AgencyRegistered",
                "office",
                json!({"agency_id": "psb", "name": "PSB", "kind": "public_security",
                "roles": ["evaluator"]}),
            ),
            retract(8, 7),
        ];
        for e in events {
            ledger.append_blocking(vec![e]).unwrap();
        }
        let reader = ledger.reader();
        let stored = reader.read(0, 100).unwrap();
        let full = AgencyIndex::new();
        full.catch_up(reader.as_ref()).unwrap();
        for at in 0..=stored.len() {
            let mut projection = govledger_assess::Projection::new();
            for e in &stored[..at] {
                projection.apply(e).unwrap();
            }
            let seeded = AgencyIndex::new();
            seeded.seed(reader.as_ref(), &projection.standing_registrations(), at as u64).unwrap();
            assert_eq!(seeded.seq(), at as u64);
            // The whole log folded up to `at`.
            let folded_to_at = AgencyIndex::new();
            reader
                .scan_raw(0, &mut |row| {
                    let mut f = folded_to_at.folded.lock().unwrap();
                    row.seq <= at as u64 && fold_row(&mut f, row.seq, row.body, row.hash).is_ok()
                })
                .unwrap();
            assert_eq!(seeded.all(), folded_to_at.all(), "at seq {at}");
            seeded.catch_up(reader.as_ref()).unwrap();
            assert_eq!(seeded.all(), full.all(), "seeded at seq {at}, then caught up");
        }
        assert_eq!(
            full.all().iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["Bank A (again)", "Bank B", "Office"]
        );
    }
}
