//! Entity queries (SPEC 4): tasks, freezes, meetings, clues, warnings,
//! penalties, card-breaking actions and cases, read from the server's
//! projection (`govledger_assess::Projection::entities`), filtered by
//! agency, status and time, paged with a cursor (the creating event's seq).
//! Each entity carries its creating event's payload, read from the store.
//! An agency token lists only the entities of which its agency is a party
//! (SPEC 4 v1.2, `crate::scope`).

use crate::seq::Seq;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, Json, Object, Result, SimpleObject};
use govledger_assess::{EntityFilter, EntityKind, EntityStatus, EntityView};
use govledger_domain::Timestamp;

use super::principal;
use crate::AppState;
use crate::error::{ApiCode, AppError};
use crate::scope::Scope;

/// What kind of entity.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "EntityKind", remote = "govledger_assess::EntityKind")]
pub enum EntityKindObject {
    Task,
    Freeze,
    Meeting,
    Clue,
    Warning,
    Penalty,
    CardBreaking,
    Case,
}

/// An entity of the ledger as of its head.
#[derive(SimpleObject, Debug, Clone)]
pub struct Entity {
    pub kind: EntityKindObject,
    /// Its id in the payload (`task_id`, `freeze_id`, `meeting_id`,
    /// `clue_id`, `warning_id`, `penalty_id`, `action_id`, `case_id`).
    pub entity_id: String,
    /// The seq of the creating event (also the cursor).
    pub seq: Seq,
    /// The creating event's id.
    pub event_id: String,
    /// The holding agency (assignee, bank, receiving agency, penalised
    /// agency, or the actor of a case or card-breaking action); null for meetings.
    pub agency_id: Option<String>,
    /// Meetings: the invited agencies.
    pub invitees: Vec<String>,
    /// When it was created (tasks: the current due date; meetings: when
    /// the convening was recorded), UTC.
    pub at: String,
    /// `open`, `completed`, `cancelled` (tasks); `requested`, `executed`,
    /// `rejected` (freezes); `convened`, `held` (meetings); `referred`,
    /// `answered` (clues); `issued`, `dissuaded` (warnings); `imposed`,
    /// `revoked` (penalties); `recorded` (cases, card-breaking actions);
    /// `retracted` (any, once its creation is retracted).
    pub status: String,
    /// Live lifecycle steps since the creation.
    pub steps: u32,
    /// The creating event's actor.
    pub actor: String,
    /// The creating event's payload, as stored (snake_case keys).
    pub data: Json<serde_json::Value>,
}

const ID_FIELDS: [&str; 8] =
    ["task_id", "freeze_id", "meeting_id", "clue_id", "warning_id", "penalty_id", "action_id", "case_id"];

fn bad(field: &str, message: String) -> AppError {
    AppError::Refused { code: ApiCode::InvalidQuery, index: None, field: Some(field.into()), message }
}

fn time(field: &str, text: Option<String>) -> Result<Option<i64>, AppError> {
    text.map(|t| {
        Timestamp::parse(&t).map(Timestamp::micros).map_err(|mut rejection| {
            rejection.field = Some(field.to_owned());
            AppError::Rejected { index: 0, rejection }
        })
    })
    .transpose()
}

/// Pages through one kind of entity.
#[allow(clippy::too_many_arguments)]
async fn list(
    ctx: &Context<'_>,
    kind: EntityKind,
    agency: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    first: i32,
) -> Result<Connection<String, Entity>> {
    let scope = Scope::of(principal(ctx)?);
    let state = ctx.data::<AppState>()?.clone();
    let status = match status {
        None => None,
        Some(s) => Some(EntityStatus::from_name(&s).ok_or_else(|| {
            let names: Vec<_> = EntityStatus::ALL.iter().map(|s| s.as_str()).collect();
            bad("status", format!("{s:?} is not a status; use one of {}", names.join(", ")))
        })?),
    };
    let after_seq = match after.as_deref() {
        None => 0,
        Some(c) => c.parse::<u64>().map_err(|_| AppError::Refused {
            code: ApiCode::InvalidCursor,
            index: None,
            field: Some("after".into()),
            message: format!("{c:?} is not an entity cursor (a seq, e.g. \"1200\")"),
        })?,
    };
    let filter = EntityFilter {
        agency,
        status,
        from_us: time("from", from)?,
        to_us: time("to", to)?,
        reader: scope.agency().map(str::to_owned),
    };
    let first = usize::try_from(first).unwrap_or(0);
    let page = state.with_projection(move |p, _| Ok(p.entities(kind, &filter, after_seq, first))).await?;
    let seqs: Vec<u64> = page.entities.iter().map(|v| v.seq).collect();
    // The creating events, for ids and payloads; one point read each.
    let events = state
        .blocking(move |s| {
            seqs.iter()
                .map(|seq| {
                    s.ledger.read(seq - 1, 1).map_err(AppError::from)?.into_iter().next().ok_or_else(|| {
                        AppError::Internal(format!("the projection lists seq {seq}, which the store does not hold"))
                    })
                })
                .collect::<Result<Vec<_>, AppError>>()
        })
        .await?;
    let mut connection = Connection::new(after_seq > 0, page.more);
    connection.edges.extend(page.entities.into_iter().zip(events).map(|(v, e): (EntityView, _)| {
        let entity_id =
            ID_FIELDS.iter().find_map(|f| e.data.get(*f).and_then(|x| x.as_str())).unwrap_or_default().to_owned();
        Edge::new(
            v.seq.to_string(),
            Entity {
                kind: v.kind.into(),
                entity_id,
                seq: Seq(v.seq),
                event_id: v.event_id.to_string(),
                agency_id: v.agency,
                invitees: v.invitees,
                at: Timestamp::from_micros(v.at_us).to_rfc3339(),
                status: v.status.as_str().to_owned(),
                steps: v.steps,
                actor: e.actor,
                data: Json(e.data),
            },
        )
    }));
    Ok(connection)
}

/// The entity queries; every role may ask them, an agency token for the
/// entities of which its agency is a party.
#[derive(Default)]
pub struct EntityQuery;

macro_rules! entity_queries {
    ($($(#[$doc:meta])* $name:ident => $kind:ident),+ $(,)?) => {
        #[Object]
        impl EntityQuery {
            $(
                $(#[$doc])*
                #[graphql(complexity = "first.clamp(0, 1000) as usize * child_complexity + 10")]
                #[allow(clippy::too_many_arguments)]
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    #[graphql(desc = "Only those held by (or, for freezes, requested by; for meetings, invited) this agency.")]
                    agency: Option<String>,
                    #[graphql(desc = "Only those with this status (see `Entity.status`).")]
                    status: Option<String>,
                    #[graphql(desc = "Only those whose `at` is at or after this RFC 3339 time.")]
                    from: Option<String>,
                    #[graphql(desc = "Only those whose `at` is before this RFC 3339 time.")]
                    to: Option<String>,
                    #[graphql(desc = "The cursor of the last entity of the previous page.")]
                    after: Option<String>,
                    #[graphql(default = 100, validator(minimum = 1, maximum = 1000))] first: i32,
                ) -> Result<Connection<String, Entity>> {
                    list(ctx, EntityKind::$kind, agency, status, from, to, after, first).await
                }
            )+
        }
    };
}

entity_queries! {
    /// Tasks (`ResponsibilityAssigned`), in creation order.
    tasks => Task,
    /// Freeze requests, in creation order.
    freezes => Freeze,
    /// Joint meetings, in creation order.
    meetings => Meeting,
    /// Referred clues, in creation order.
    clues => Clue,
    /// Early warnings, in creation order.
    warnings => Warning,
    /// Penalties, in creation order.
    penalties => Penalty,
    /// Card-breaking actions, in creation order.
    card_breaking_actions => CardBreaking,
    /// Fraud cases, in creation order.
    cases => Case,
}
