//! Reading the log in pages with an optional filter by event type and
//! agency: shared by the GraphQL `events` query and the `events`
//! subscription.
//!
//! A filtered page scans at most [`SCAN_LIMIT`] events, so a rare filter on
//! a long log cannot pin the server; the page then says how far it scanned
//! and the client continues from there.

use std::collections::HashSet;

use govledger_domain::EventType;
use govledger_ledger::StoredEvent;

use crate::AppState;
use crate::error::{ApiCode, AppError};

/// Most events one page examines.
pub const SCAN_LIMIT: usize = 10_000;
/// Events read from the store per call.
const READ_CHUNK: usize = 1_000;

/// Which events a reader wants.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    types: Option<HashSet<&'static str>>,
    agency: Option<String>,
}

impl EventFilter {
    /// A filter by event types (catalog names) and by an agency: the actor,
    /// or any agency the payload names (`agency_id`, `assignee`, `bank`,
    /// `to`, `target`, `invitees`, `attendees`).
    pub fn new(types: Option<Vec<String>>, agency: Option<String>) -> Result<Self, AppError> {
        let types = match types {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        EventType::from_name(n).map(EventType::as_str).ok_or_else(|| AppError::Refused {
                            code: ApiCode::InvalidQuery,
                            index: None,
                            field: Some("types".into()),
                            message: format!("{n:?} is not an event type of the catalog (e.g. FreezeExecuted)"),
                        })
                    })
                    .collect::<Result<HashSet<_>, _>>()?,
            ),
        };
        Ok(EventFilter { types, agency })
    }

    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.types.is_none() && self.agency.is_none()
    }

    pub fn matches(&self, e: &StoredEvent) -> bool {
        if let Some(types) = &self.types
            && !types.contains(e.event_type.as_str())
        {
            return false;
        }
        match &self.agency {
            None => true,
            Some(a) => involves(e, a),
        }
    }
}

/// Whether `agency` performed `e` or its payload names it: the events an
/// agency is a party to (this filter, and the read scope of receipts).
pub(crate) fn involves(e: &StoredEvent, agency: &str) -> bool {
    e.actor == agency || names_agency(&e.data, agency)
}

/// Whether a payload names `agency` in one of its agency fields.
fn names_agency(data: &serde_json::Value, agency: &str) -> bool {
    const SINGLE: [&str; 5] = ["agency_id", "assignee", "bank", "to", "target"];
    const LISTS: [&str; 2] = ["invitees", "attendees"];
    SINGLE.iter().any(|f| data.get(f).and_then(|v| v.as_str()) == Some(agency))
        || LISTS.iter().any(|f| {
            data.get(f).and_then(|v| v.as_array()).is_some_and(|items| items.iter().any(|v| v.as_str() == Some(agency)))
        })
}

/// One page of events.
#[derive(Debug, Clone)]
pub struct Page {
    pub events: Vec<StoredEvent>,
    /// The last seq examined: pass it as `after` to continue.
    pub scanned_through: u64,
    /// Whether the log holds events after `scanned_through`.
    pub more: bool,
}

/// Up to `first` events after `after` that match `filter`.
pub async fn page(state: &AppState, after: u64, first: usize, filter: &EventFilter) -> Result<Page, AppError> {
    let mut events = Vec::new();
    let mut cursor = after;
    if first == 0 {
        return Ok(Page { events, scanned_through: cursor, more: state.ledger().head().seq > cursor });
    }
    let mut scanned = 0usize;
    loop {
        let want = if filter.is_empty() { first - events.len() } else { READ_CHUNK };
        let chunk = state.read(cursor, want.min(READ_CHUNK)).await?;
        let exhausted = chunk.len() < want.min(READ_CHUNK);
        for e in chunk {
            scanned += 1;
            cursor = e.seq;
            if filter.matches(&e) {
                events.push(e);
                if events.len() == first {
                    break;
                }
            }
        }
        if events.len() == first || exhausted || scanned >= SCAN_LIMIT {
            break;
        }
    }
    let more = state.ledger().head().seq > cursor;
    Ok(Page { events, scanned_through: cursor, more })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(ty: &str, actor: &str, data: serde_json::Value) -> StoredEvent {
        StoredEvent {
            seq: 1,
            id: uuid::Uuid::nil(),
            event_type: ty.into(),
            actor: actor.into(),
            occurred_at: String::new(),
            recorded_at: String::new(),
            data,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn filters_by_type_and_named_agency() {
        let f = EventFilter::new(Some(vec!["FreezeRequested".into()]), Some("bank-a".into())).unwrap();
        assert!(f.matches(&event("FreezeRequested", "police", json!({"bank": "bank-a"}))));
        assert!(!f.matches(&event("FreezeRequested", "police", json!({"bank": "bank-b"}))));
        assert!(!f.matches(&event("FreezeExecuted", "bank-a", json!({}))));
        let f = EventFilter::new(None, Some("bank-a".into())).unwrap();
        assert!(f.matches(&event("JointMeetingConvened", "office", json!({"invitees": ["x", "bank-a"]}))));
        assert!(f.matches(&event("FreezeExecuted", "bank-a", json!({}))));
        assert!(!f.matches(&event("JointMeetingConvened", "office", json!({"invitees": ["x"]}))));
        let err = EventFilter::new(Some(vec!["FreezeTeleported".into()]), None).unwrap_err();
        assert_eq!(err.code(), "request.invalid_query");
    }
}
