//! The registered agencies: what the `agencies` query lists and what token
//! checks consult (does this agency still exist, does it still hold the
//! coordinator or evaluator role?).
//!
//! Which registrations stand is the projection's answer
//! ([`Projection::standing_registrations`]: retractions are folded once,
//! there). This index only keeps the details of each standing registration
//! (name, jurisdiction, roles), read from its event the first time it is
//! seen, so following the projection costs one read per new registration.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use govledger_assess::Projection;
use govledger_domain::catalog::{AgencyKind, Role};
use govledger_ledger::{LogReader, StoreError, StoredEvent};
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

#[derive(Default)]
struct Standing {
    /// The projection's position these agencies stand at.
    seq: u64,
    by_id: BTreeMap<String, AgencyInfo>,
    /// The same registrations by the seq of their event: the details
    /// already read.
    by_seq: HashMap<u64, AgencyInfo>,
}

/// The agency index; share it behind an `Arc`.
#[derive(Default)]
pub struct AgencyIndex {
    standing: Mutex<Standing>,
}

impl AgencyIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// The projection's position the index stands at.
    pub fn seq(&self) -> u64 {
        self.standing.lock().unwrap_or_else(|e| e.into_inner()).seq
    }

    /// Brings the index to `projection`'s position: its standing
    /// registrations, with the details of those not seen before read from
    /// `reader`. Blocking (it may read the store); callers on an async
    /// runtime run it on a blocking thread.
    pub fn follow(&self, reader: &dyn LogReader, projection: &Projection) -> Result<(), StoreError> {
        let mut standing = self.standing.lock().unwrap_or_else(|e| e.into_inner());
        let at = projection.head_seq();
        if standing.seq == at {
            return Ok(());
        }
        let mut by_seq = HashMap::new();
        for seq in projection.standing_registrations() {
            let info = match standing.by_seq.remove(&seq) {
                Some(info) => info,
                None => registration_at(reader, seq)?,
            };
            by_seq.insert(seq, info);
        }
        let by_id = by_seq.values().map(|info| (info.agency_id.clone(), info.clone())).collect();
        *standing = Standing { seq: at, by_id, by_seq };
        Ok(())
    }

    /// The agency, if it is registered.
    pub fn get(&self, agency_id: &str) -> Option<AgencyInfo> {
        self.standing.lock().unwrap_or_else(|e| e.into_inner()).by_id.get(agency_id).cloned()
    }

    /// Every registered agency, ordered by `agency_id`.
    pub fn all(&self) -> Vec<AgencyInfo> {
        self.standing.lock().unwrap_or_else(|e| e.into_inner()).by_id.values().cloned().collect()
    }
}

/// The details of the `AgencyRegistered` event at `seq`.
fn registration_at(reader: &dyn LogReader, seq: u64) -> Result<AgencyInfo, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let mut found = Err(corrupt("no stored event at this seq".into()));
    reader.scan_raw(seq.saturating_sub(1), &mut |row| {
        if row.seq == seq {
            found = StoredEvent::from_body(row.body, row.hash).map_err(|e| corrupt(e.to_string()));
        }
        false
    })?;
    let event = found?;
    if event.event_type != "AgencyRegistered" {
        return Err(corrupt(format!("the projection has a registration here, the log a {}", event.event_type)));
    }
    let r: Registration = serde_json::from_value(event.data).map_err(|e| corrupt(e.to_string()))?;
    Ok(AgencyInfo {
        agency_id: r.agency_id,
        name: r.name,
        kind: r.kind,
        jurisdiction: r.jurisdiction,
        roles: r.roles.unwrap_or_default(),
        registered_seq: event.seq,
        registered_at: event.occurred_at,
        event_id: event.id,
    })
}

#[cfg(test)]
mod tests;
