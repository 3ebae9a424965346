//! Queries over the log itself: the head, verification, events (cursor
//! pagination, filters by type and agency), single events, and agencies.
//! Every query needs a token of any role; events are those the token may
//! read (SPEC 4 v1.2, `crate::scope`): an agency token's are the events its
//! agency is a party of, and any other event is answered as absent.

use crate::seq::Seq;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, Result, SimpleObject};
use govledger_domain::values::parse_uuid;

use super::principal;
use super::types::{Agency, AgencyKind, Event, HeadObject, Role, VerifyReportObject};
use crate::AppState;
use crate::error::{ApiCode, AppError};
use crate::events::{EventFilter, page};
use crate::scope::Scope;

/// Default page size of `events`.
const DEFAULT_FIRST: i32 = 100;

/// Extra fields of an `events` page, beyond Relay's.
#[derive(SimpleObject, Debug, Clone)]
pub struct EventPageInfo {
    /// The cursor of the last event examined. With a filter, a page examines
    /// at most 10,000 events and may hold fewer than `first`; pass this as
    /// `after` to continue where it stopped.
    pub scanned_through: String,
}

/// Queries about the log: head, verification, events.
#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// The ledger's head: last seq and hash.
    async fn head(&self, ctx: &Context<'_>) -> Result<HeadObject> {
        principal(ctx)?;
        Ok(ctx.data::<AppState>()?.ledger().head().into())
    }

    /// The chain's verification (SPEC 2.2) from the server's continuous
    /// check: checked through seq `events` of head `ledgerHead`. The server
    /// verifies the whole chain at start and each new stretch before it
    /// signs; a call checks only the events not yet checked, so it is cheap.
    /// `govledger verify` (operator, offline) recomputes every hash.
    #[graphql(complexity = 10)]
    async fn verify(&self, ctx: &Context<'_>) -> Result<VerifyReportObject> {
        principal(ctx)?;
        Ok(ctx.data::<AppState>()?.verify().await?.into())
    }

    /// Stored events in `seq` order, after the cursor `after` (a seq, as a
    /// string; none: from the start), that this token may read (an agency
    /// token: the events its agency is a party of, SPEC 4). `types` keeps
    /// only those event types; `agency` keeps the events of which that
    /// agency is a party: their actor, or a party of their entity (a
    /// meeting's convener, invitees and attendees; a task's assigner and
    /// assignee; a freeze's requester and bank; a clue's or warning's sender
    /// and `to`; a penalty's imposer and target; a registered agency).
    /// Filtered or scoped, a page may hold fewer than `first` events:
    /// continue from `pageInfo.scannedThrough`.
    #[graphql(complexity = "first.clamp(0, 1000) as usize * child_complexity + 1")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 100, validator(minimum = 1, maximum = 1000))] first: i32,
        types: Option<Vec<String>>,
        agency: Option<String>,
    ) -> Result<Connection<String, Event, EventPageInfo>> {
        let scope = Scope::of(principal(ctx)?);
        let state = ctx.data::<AppState>()?;
        let after_seq = match after.as_deref() {
            None => 0,
            Some(c) => c.parse::<u64>().map_err(|_| AppError::Refused {
                code: ApiCode::InvalidCursor,
                index: None,
                field: Some("after".into()),
                message: format!("{c:?} is not an events cursor (a seq, e.g. \"1200\")"),
            })?,
        };
        let filter = EventFilter::new(types, agency)?;
        let first = usize::try_from(first).unwrap_or(DEFAULT_FIRST as usize);
        let page = page(state, &scope, after_seq, first, &filter).await?;
        let mut connection = Connection::with_additional_fields(
            after_seq > 0,
            page.more,
            EventPageInfo { scanned_through: page.scanned_through.to_string() },
        );
        connection.edges.extend(page.events.into_iter().map(|e| Edge::new(e.seq.to_string(), Event::from(e))));
        Ok(connection)
    }

    /// One event by its id; null when no such event is stored or this token
    /// may not read it (the two are not told apart, so that an id is no
    /// oracle for another agency's events).
    async fn event(&self, ctx: &Context<'_>, id: String) -> Result<Option<Event>> {
        let scope = Scope::of(principal(ctx)?);
        let state = ctx.data::<AppState>()?;
        let id = parse_uuid(&id).map_err(|rejection| AppError::Rejected { index: 0, rejection })?;
        let event = state.event_by_id(id).await?;
        Ok(state.readable(&scope, event).await?.map(Event::from))
    }

    /// One event by its seq; null when the log is shorter or this token may
    /// not read it (the two are not told apart, so that a seq is no oracle
    /// for another agency's events).
    async fn event_at(&self, ctx: &Context<'_>, seq: Seq) -> Result<Option<Event>> {
        let scope = Scope::of(principal(ctx)?);
        let state = ctx.data::<AppState>()?;
        let seq = seq.0;
        if seq == 0 {
            return Ok(None);
        }
        let event = state.read(seq - 1, 1).await?.into_iter().next().filter(|e| e.seq == seq);
        Ok(state.readable(&scope, event).await?.map(Event::from))
    }
}

/// Queries about agencies.
#[derive(Default)]
pub struct AgencyQuery;

#[Object]
impl AgencyQuery {
    /// Registered agencies (not retracted), ordered by `agencyId`, optionally
    /// only those of one kind or holding one role.
    async fn agencies(&self, ctx: &Context<'_>, kind: Option<AgencyKind>, role: Option<Role>) -> Result<Vec<Agency>> {
        principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        let kind = kind.map(govledger_domain::catalog::AgencyKind::from);
        let role = role.map(govledger_domain::catalog::Role::from);
        Ok(state
            .agencies()
            .await?
            .into_iter()
            .filter(|a| kind.is_none_or(|k| a.kind == k))
            .filter(|a| role.is_none_or(|r| a.has_role(r)))
            .map(Agency::from)
            .collect())
    }

    /// One agency by id, if registered.
    async fn agency(&self, ctx: &Context<'_>, agency_id: String) -> Result<Option<Agency>> {
        principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        Ok(state.agencies().await?.into_iter().find(|a| a.agency_id == agency_id).map(Agency::from))
    }
}
