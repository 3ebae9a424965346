//! Reading the log in pages with an optional filter by event type and
//! agency, within the reader's scope (`crate::scope`): shared by `GET
//! /v1/events`, the GraphQL `events` query and the `events` subscription.
//!
//! A filtered or scoped page scans at most [`SCAN_LIMIT`] events, so a rare
//! filter on a long log cannot pin the server; the page then says how far it
//! scanned and the client continues from there.

use std::collections::HashSet;

use govledger_domain::EventType;
use govledger_ledger::StoredEvent;

use crate::AppState;
use crate::error::{ApiCode, AppError};
use crate::scope::Scope;

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
    /// A filter by event types (catalog names) and by an agency: the events
    /// of which it is a party (the actor, or a party of the event's entity:
    /// `crate::scope::is_party`).
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
    fn is_empty(&self) -> bool {
        self.types.is_none() && self.agency.is_none()
    }

    /// Whether `e` is of a wanted type (the agency is judged with the scope).
    fn wants_type(&self, e: &StoredEvent) -> bool {
        self.types.as_ref().is_none_or(|types| types.contains(e.event_type.as_str()))
    }

    /// The events of `chunk` (in order) that pass the filter and that
    /// `scope` reads.
    pub async fn select(
        &self,
        state: &AppState,
        scope: &Scope,
        chunk: Vec<StoredEvent>,
    ) -> Result<Vec<StoredEvent>, AppError> {
        let wanted = chunk.into_iter().filter(|e| self.wants_type(e)).collect();
        state.keep_readable(scope, self.agency.as_deref(), wanted).await
    }
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

/// Up to `first` events after `after` that match `filter` and that `scope` reads.
pub async fn page(
    state: &AppState,
    scope: &Scope,
    after: u64,
    first: usize,
    filter: &EventFilter,
) -> Result<Page, AppError> {
    let mut events = Vec::new();
    let mut cursor = after;
    if first == 0 {
        return Ok(Page { events, scanned_through: cursor, more: state.ledger().head().seq > cursor });
    }
    let every_event = filter.is_empty() && scope.agency().is_none();
    let mut scanned = 0usize;
    loop {
        let want = (if every_event { first - events.len() } else { READ_CHUNK }).min(READ_CHUNK);
        let chunk = state.read(cursor, want).await?;
        let exhausted = chunk.len() < want;
        scanned += chunk.len();
        let last = chunk.last().map(|e| e.seq);
        let kept = filter.select(state, scope, chunk).await?;
        let room = first - events.len();
        if kept.len() >= room {
            // Full: continue after the last event returned, not after the chunk.
            events.extend(kept.into_iter().take(room));
            cursor = events.last().map_or(cursor, |e| e.seq);
            break;
        }
        events.extend(kept);
        cursor = last.unwrap_or(cursor);
        if exhausted || scanned >= SCAN_LIMIT {
            break;
        }
    }
    let more = state.ledger().head().seq > cursor;
    Ok(Page { events, scanned_through: cursor, more })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_type_and_refuses_unknown_types() {
        let event = |ty: &str| StoredEvent {
            seq: 1,
            id: uuid::Uuid::nil(),
            event_type: ty.into(),
            actor: "police".into(),
            occurred_at: String::new(),
            recorded_at: String::new(),
            data: serde_json::json!({}),
            prev_hash: String::new(),
            hash: String::new(),
        };
        let f = EventFilter::new(Some(vec!["FreezeRequested".into()]), None).unwrap();
        assert!(f.wants_type(&event("FreezeRequested")) && !f.wants_type(&event("FreezeExecuted")));
        assert!(EventFilter::new(None, Some("bank-a".into())).unwrap().wants_type(&event("FreezeExecuted")));
        assert!(EventFilter::default().is_empty());
        let err = EventFilter::new(Some(vec!["FreezeTeleported".into()]), None).unwrap_err();
        assert_eq!(err.code(), "request.invalid_query");
    }
}
