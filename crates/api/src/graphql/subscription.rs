//! The `events` subscription: new events as they are appended, optionally
//! filtered by type and agency, over WebSocket (graphql-transport-ws).
//!
//! It follows the ledger's head (`Ledger::watch_head`) and reads what was
//! appended since the last event it sent, so a subscriber sees every matching
//! event it may read (SPEC 4 v1.2, `crate::scope`: an agency token, the
//! events its agency is a party of) exactly once and in `seq` order, however
//! appends are grouped. Given
//! `after`, it first replays what came after that seq (a reconnecting client
//! resumes without gaps). Streams end when the server shuts down, and when
//! the subscriber's token is revoked (checked whenever the head moves,
//! before anything new is sent).

use crate::seq::Seq;
use std::collections::VecDeque;

use async_graphql::{Context, Result, Subscription};
use futures_util::Stream;
use govledger_ledger::StoredEvent;

use super::principal;
use super::types::Event;
use crate::AppState;
use crate::auth::Principal;
use crate::events::EventFilter;
use crate::scope::Scope;

/// Events read from the store per catch-up.
const CHUNK: usize = 256;

/// The subscription root.
#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Events appended from now on (or after seq `after`) that this token
    /// may read, filtered like the `events` query: `types` by event type,
    /// `agency` to the events of which that agency is a party.
    async fn events(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        agency: Option<String>,
        after: Option<Seq>,
    ) -> Result<impl Stream<Item = Event> + use<>> {
        let principal = principal(ctx)?.clone();
        let state = ctx.data::<AppState>()?.clone();
        let filter = EventFilter::new(types, agency)?;
        let start = after.map_or_else(|| state.ledger().head().seq, u64::from);
        Ok(follow(state, principal, start, filter))
    }
}

struct Follower {
    state: AppState,
    principal: Principal,
    scope: Scope,
    cursor: u64,
    filter: EventFilter,
    buffer: VecDeque<StoredEvent>,
    head: tokio::sync::watch::Receiver<govledger_ledger::Head>,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

fn follow(state: AppState, principal: Principal, start: u64, filter: EventFilter) -> impl Stream<Item = Event> {
    let follower = Follower {
        scope: Scope::of(&principal),
        principal,
        head: state.ledger().watch_head(),
        shutdown: state.shutdown_signal(),
        state,
        cursor: start,
        filter,
        buffer: VecDeque::new(),
    };
    futures_util::stream::unfold(follower, |mut f| async move {
        loop {
            if let Some(e) = f.buffer.pop_front() {
                return Some((Event::from(e), f));
            }
            if *f.shutdown.borrow_and_update() {
                return None;
            }
            // Marking the head as seen before reading means an append that
            // lands during the read wakes the `changed()` below.
            if f.head.borrow_and_update().seq > f.cursor {
                if !f.state.still_live(&f.principal).await {
                    tracing::info!(token = %f.principal.token_id, "subscription ends: its token was revoked");
                    return None;
                }
                match f.state.read(f.cursor, CHUNK).await {
                    Ok(chunk) if !chunk.is_empty() => {
                        let last = chunk.last().map_or(f.cursor, |e| e.seq);
                        match f.filter.select(&f.state, &f.scope, chunk).await {
                            Ok(kept) => f.buffer.extend(kept),
                            Err(e) => {
                                tracing::warn!(error = ?e, "subscription ends: cannot judge what it may read");
                                return None;
                            }
                        }
                        f.cursor = last;
                        continue;
                    }
                    // The head is published after the commit, so this does
                    // not happen; if it did, wait for the next head.
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = ?e, "subscription ends: cannot read the log");
                        return None;
                    }
                }
            }
            tokio::select! {
                changed = f.head.changed() => if changed.is_err() { return None },
                changed = f.shutdown.changed() => if changed.is_err() { return None },
            }
        }
    })
}
