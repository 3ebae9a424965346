//! The index against the log: following the projection gives the agencies a
//! plain fold of the whole log gives, at every position.

use std::collections::{BTreeMap, HashMap};

use govledger_domain::Submission;
use serde_json::json;

use super::*;

fn sub(id: u32, ty: &str, actor: &str, data: serde_json::Value) -> Submission {
    Submission::parse(json!({"id": format!("00000000-0000-4000-8000-{id:012}"), "type": ty, "actor": actor,
        "occurred_at": "2026-01-01T00:00:00Z", "data": data}))
    .unwrap()
}

fn retract(id: u32, of: u32) -> Submission {
    sub(
        id,
        "EventRetracted",
        "office",
        json!({"event_id": format!("00000000-0000-4000-8000-{of:012}"), "reason": "typo"}),
    )
}

fn office() -> Submission {
    sub(
        1,
        "AgencyRegistered",
        "office",
        json!({"agency_id": "office", "name": "Office", "kind": "government", "roles": ["coordinator"]}),
    )
}

/// The projection of the first `at` stored events.
fn projection_at(stored: &[StoredEvent], at: usize) -> Projection {
    let mut projection = Projection::new();
    for e in &stored[..at] {
        projection.apply(e).unwrap();
    }
    projection
}

/// The registered agencies by a plain fold of the events, independent of
/// the projection: a registration adds its agency, a retraction of a
/// registration removes it.
fn folded(stored: &[StoredEvent]) -> Vec<AgencyInfo> {
    let mut by_id = BTreeMap::new();
    let mut by_event = HashMap::new();
    for e in stored {
        match e.event_type.as_str() {
            "AgencyRegistered" => {
                let r: Registration = serde_json::from_value(e.data.clone()).unwrap();
                by_event.insert(e.id, r.agency_id.clone());
                let info = AgencyInfo {
                    agency_id: r.agency_id.clone(),
                    name: r.name,
                    kind: r.kind,
                    jurisdiction: r.jurisdiction,
                    roles: r.roles.unwrap_or_default(),
                    registered_seq: e.seq,
                    registered_at: e.occurred_at.clone(),
                    event_id: e.id,
                };
                by_id.insert(r.agency_id, info);
            }
            "EventRetracted" => {
                let target: Uuid = e.data["event_id"].as_str().unwrap().parse().unwrap();
                if let Some(agency_id) = by_event.remove(&target) {
                    by_id.remove(&agency_id);
                }
            }
            _ => {}
        }
    }
    by_id.into_values().collect()
}

#[test]
fn follows_registrations_and_their_retractions() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = govledger_store_embedded::open_ledger(dir.path()).unwrap();
    ledger
        .append_blocking(vec![
            office(),
            sub(2, "AgencyRegistered", "office", json!({"agency_id": "bank-a", "name": "Bank A", "kind": "bank"})),
        ])
        .unwrap();
    let reader = ledger.reader();
    let index = AgencyIndex::new();
    index.follow(reader.as_ref(), &projection_at(&reader.read(0, 100).unwrap(), 2)).unwrap();
    assert_eq!(index.all().iter().map(|a| a.agency_id.as_str()).collect::<Vec<_>>(), ["bank-a", "office"]);
    assert!(index.get("office").unwrap().has_role(Role::Coordinator));
    assert_eq!(index.get("bank-a").unwrap().kind, AgencyKind::Bank);
    assert_eq!(index.seq(), 2);

    ledger.append_blocking(vec![retract(3, 2)]).unwrap();
    index.follow(reader.as_ref(), &projection_at(&reader.read(0, 100).unwrap(), 3)).unwrap();
    assert_eq!(index.get("bank-a"), None);
    assert_eq!(index.all().len(), 1);
    assert_eq!(index.seq(), 3);
}

/// Issue 18: the index answers from the projection; at every seq, a fresh
/// index and one that followed every earlier position equal the fold of
/// the whole log up to that seq.
#[test]
fn an_index_following_the_projection_equals_the_folded_one_at_every_seq() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = govledger_store_embedded::open_ledger(dir.path()).unwrap();
    let events = vec![
        office(),
        sub(2, "AgencyRegistered", "office", json!({"agency_id": "bank-a", "name": "Bank A", "kind": "bank"})),
        sub(3, "AgencyRegistered", "office", json!({"agency_id": "bank-b", "name": "Bank B", "kind": "bank"})),
        retract(4, 2),
        sub(
            5,
            "AgencyRegistered",
            "office",
            json!({"agency_id": "bank-a", "name": "Bank A (again)", "kind": "bank", "jurisdiction": "north"}),
        ),
        sub(6, "PublicityDelivered", "bank-b", json!({"activity_id": "P1", "audience": "residents", "reach": 3})),
        sub(
            7,
            "AgencyRegistered",
            "office",
            json!({"agency_id": "psb", "name": "PSB", "kind": "public_security", "roles": ["evaluator"]}),
        ),
        retract(8, 7),
    ];
    for e in events {
        ledger.append_blocking(vec![e]).unwrap();
    }
    let reader = ledger.reader();
    let stored = reader.read(0, 100).unwrap();
    let following = AgencyIndex::new();
    for at in 0..=stored.len() {
        let projection = projection_at(&stored, at);
        let fresh = AgencyIndex::new();
        fresh.follow(reader.as_ref(), &projection).unwrap();
        following.follow(reader.as_ref(), &projection).unwrap();
        assert_eq!(fresh.seq(), at as u64);
        assert_eq!(fresh.all(), folded(&stored[..at]), "at seq {at}");
        assert_eq!(following.all(), folded(&stored[..at]), "followed to seq {at}");
    }
    assert_eq!(
        following.all().iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["Bank A (again)", "Bank B", "Office"]
    );
}

/// A projection of another log (it names a registration where this log has
/// none, or has another event) is refused as corrupt, and the index stays
/// as it was.
#[test]
fn a_projection_that_does_not_match_the_log_is_refused_and_changes_nothing() {
    let publicity = |id: u32| {
        sub(id, "PublicityDelivered", "office", json!({"activity_id": format!("P{id}"), "audience": "all", "reach": 1}))
    };
    let (dir, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ledger = govledger_store_embedded::open_ledger(dir.path()).unwrap();
    ledger.append_blocking(vec![office(), publicity(2)]).unwrap();
    let elsewhere = govledger_store_embedded::open_ledger(other.path()).unwrap();
    elsewhere
        .append_blocking(vec![
            office(),
            publicity(2),
            sub(3, "AgencyRegistered", "office", json!({"agency_id": "bank-a", "name": "Bank A", "kind": "bank"})),
        ])
        .unwrap();
    let reader = ledger.reader();
    let index = AgencyIndex::new();
    index.follow(reader.as_ref(), &projection_at(&reader.read(0, 10).unwrap(), 2)).unwrap();
    let before = index.all();
    let foreign = projection_at(&elsewhere.reader().read(0, 10).unwrap(), 3);

    let err = index.follow(reader.as_ref(), &foreign).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { seq: 3, reason } if reason.contains("no stored event")), "{err:?}");
    ledger.append_blocking(vec![publicity(3)]).unwrap();
    let err = index.follow(reader.as_ref(), &foreign).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { seq: 3, reason } if reason.contains("PublicityDelivered")), "{err:?}");
    assert_eq!((index.all(), index.seq()), (before, 2));
}
