//! What a token may read (SPEC 4, v1.2), in one place for every interface.
//!
//! Coordinator, evaluator and auditor tokens read everything. An agency
//! token reads every assessment, ranking and scorecard, the agencies, the
//! head, checkpoints and proofs, and only those events and entities of which
//! its agency is a party: the actor, or a party of the event's entity
//! (`govledger_assess::Projection::is_party` says who, per event type).
//! REST and GraphQL event reads, the `events` subscription, entity listings
//! and receipts all judge events here ([`AppState::keep_readable`]);
//! an event the token may not read is answered as absent, so that ids and
//! seqs are no oracle.
//!
//! Parties are read from the server's projection, after it has folded the
//! events being judged (`AppState::with_projection` waits for the head as of
//! the call, which is at or past any event already read): a just-appended
//! event is judged like any other, and an event the projection does not hold
//! is never let through.

use govledger_assess::Projection;
use govledger_ledger::StoredEvent;

use crate::AppState;
use crate::auth::{Principal, TokenRole};
use crate::error::AppError;

/// What a token reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything (coordinator, evaluator and auditor tokens).
    All,
    /// The events and entities of which this agency is a party (agency tokens).
    PartyOf(String),
}

impl Scope {
    /// The scope of `principal`'s token.
    pub fn of(principal: &Principal) -> Scope {
        match principal.role {
            TokenRole::Agency => Scope::PartyOf(principal.agency.clone()),
            TokenRole::Coordinator | TokenRole::Evaluator | TokenRole::Auditor => Scope::All,
        }
    }

    /// The agency whose parties bound this scope, if any.
    pub fn agency(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::PartyOf(agency) => Some(agency),
        }
    }

    /// Whether this scope reads the event at `seq`; `projection` must have
    /// folded it (an event it has not folded is not read).
    pub fn reads(&self, projection: &Projection, seq: u64) -> bool {
        self.agency().is_none_or(|agency| is_party(projection, seq, agency))
    }
}

/// Whether `agency` is a party of the event at `seq`: the one meaning of
/// "its agency is the actor or a named party", for the read scope and for
/// the `agency` filter of event reads alike.
pub fn is_party(projection: &Projection, seq: u64, agency: &str) -> bool {
    projection.is_party(seq, agency) == Some(true)
}

impl AppState {
    /// The events of `events` (in order) that `scope` reads and, when
    /// `party` is given, of which that agency is a party.
    pub async fn keep_readable(
        &self,
        scope: &Scope,
        party: Option<&str>,
        events: Vec<StoredEvent>,
    ) -> Result<Vec<StoredEvent>, AppError> {
        if events.is_empty() || (scope.agency().is_none() && party.is_none()) {
            return Ok(events);
        }
        let (scope, party) = (scope.clone(), party.map(str::to_owned));
        self.with_projection(move |projection, _| {
            Ok(events
                .into_iter()
                .filter(|e| scope.reads(projection, e.seq))
                .filter(|e| party.as_deref().is_none_or(|a| is_party(projection, e.seq, a)))
                .collect())
        })
        .await
    }

    /// The event, if stored and `scope` reads it.
    pub async fn readable(&self, scope: &Scope, event: Option<StoredEvent>) -> Result<Option<StoredEvent>, AppError> {
        let Some(event) = event else { return Ok(None) };
        Ok(self.keep_readable(scope, None, vec![event]).await?.pop())
    }
}
