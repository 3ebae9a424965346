//! GraphQL output objects (stored events, the head, verification reports,
//! agencies), the catalog's enumerations as GraphQL enums, and the scalars
//! that keep numbers and timestamps exactly as the ledger checks them.
//!
//! Wire types stay here, at the edge: each converts by hand from the ledger's
//! or the domain's own type.

use crate::seq::Seq;
use async_graphql::{Enum, InputValueError, InputValueResult, Json, Scalar, ScalarType, SimpleObject, Value};
use govledger_ledger::{Head, StoredEvent};

use crate::agencies::AgencyInfo;

/// An RFC 3339 timestamp with an offset and at most 6 fractional digits,
/// e.g. `2026-03-02T16:17:30+08:00`. The ledger normalises it to UTC; a
/// malformed one is rejected with `time.invalid`, `time.too_precise` or
/// `time.leap_second`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp(pub String);

/// An RFC 3339 timestamp with an offset and at most 6 fractional digits,
/// seconds 00-59, from 2000-01-01 for `occurredAt`, e.g.
/// `2026-03-02T16:17:30+08:00` (pattern
/// `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$`).
#[Scalar(name = "Timestamp", specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339")]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Timestamp(s)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A JSON integer kept as written, for amounts (`AmountMinor`: minor units,
/// 0 to 10^15, beyond GraphQL's 32-bit `Int`) and counts (`Count`: 0 to
/// 2^53-1). The range is checked by the ledger, which answers
/// `amount.out_of_range` or `count.out_of_range` with the field's path.
macro_rules! number_scalar {
    ($(#[$m:meta])* $name:ident, $gql:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub serde_json::Number);

        $(#[$m])*
        #[Scalar(name = $gql)]
        impl ScalarType for $name {
            fn parse(value: Value) -> InputValueResult<Self> {
                match value {
                    Value::Number(n) => Ok($name(n)),
                    other => Err(InputValueError::expected_type(other)),
                }
            }

            fn to_value(&self) -> Value {
                Value::Number(self.0.clone())
            }
        }
    };
}

number_scalar!(
    /// An amount of money in minor units (fen): an integer from 0 to 10^15.
    AmountMinor,
    "AmountMinor"
);
number_scalar!(
    /// A count: an integer from 0 to 2^53-1.
    Count,
    "Count"
);

macro_rules! remote_enum {
    ($(#[$m:meta])* $name:ident = $remote:literal { $($variant:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
        #[graphql(remote = $remote)]
        pub enum $name { $($variant),+ }
    };
}

// The variants are the domain's; `remote` makes the conversions exhaustive,
// so a variant added to the catalog fails to compile here until added.
remote_enum!(
    /// What an agency is.
    AgencyKind = "govledger_domain::catalog::AgencyKind" {
        PublicSecurity, Bank, PaymentInstitution, TelecomOperator, InternetPlatform, Government, Regulator,
        Procuratorate, Court, Community, Other,
    }
);
remote_enum!(
    /// A ledger role an agency may hold.
    Role = "govledger_domain::catalog::Role" { Coordinator, Evaluator }
);
remote_enum!(
    /// How funds are held.
    FreezeMode = "govledger_domain::catalog::FreezeMode" { StopPayment, Freeze }
);
remote_enum!(
    /// What a clue points at.
    ClueKind = "govledger_domain::catalog::ClueKind" { PhoneNumber, BankAccount, Url, App, Other }
);
remote_enum!(
    /// What the receiving agency found.
    ClueOutcome = "govledger_domain::catalog::ClueOutcome" { Confirmed, Unfounded, Transferred }
);
remote_enum!(
    /// Risk level of an early warning.
    Risk = "govledger_domain::catalog::Risk" { Low, Medium, High }
);
remote_enum!(
    /// How a warned person was reached.
    DissuasionMethod = "govledger_domain::catalog::DissuasionMethod" { Call, Sms, InPerson }
);
remote_enum!(
    /// Result of a dissuasion.
    DissuasionOutcome = "govledger_domain::catalog::DissuasionOutcome" { Dissuaded, Unreachable, AlreadyDefrauded }
);
remote_enum!(
    /// Kind of penalty.
    PenaltyKind = "govledger_domain::catalog::PenaltyKind" { Warning, PublicCriticism, Fine, Suspension }
);

/// A stored event (SPEC 2.2): the submitted envelope with its place in the chain.
#[derive(SimpleObject, Debug, Clone)]
pub struct Event {
    /// Global position: 1, 2, 3 … with no gaps.
    pub seq: Seq,
    /// The event's UUID (the client's, or one the server assigned).
    pub id: String,
    /// The event type, e.g. `FreezeExecuted`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// The agency that performed the action.
    pub actor: String,
    /// When the action happened (UTC).
    pub occurred_at: String,
    /// When the ledger stored it (UTC).
    pub recorded_at: String,
    /// The payload exactly as stored and hashed (snake_case keys, as in exports).
    pub data: Json<serde_json::Value>,
    /// `hash` of the event before (64 zeros for seq 1).
    pub prev_hash: String,
    /// Lowercase hex SHA-256 of the event's RFC 8785 canonical form.
    pub hash: String,
}

impl From<StoredEvent> for Event {
    fn from(e: StoredEvent) -> Self {
        Event {
            seq: Seq(e.seq),
            id: e.id.to_string(),
            event_type: e.event_type,
            actor: e.actor,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            data: Json(e.data),
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// The chain's tip.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Head")]
pub struct HeadObject {
    /// The seq of the last event (0 for an empty ledger).
    pub seq: Seq,
    /// Its hash (64 zeros for an empty ledger).
    pub hash: String,
    /// Its `recorded_at` (empty for an empty ledger).
    pub recorded_at: String,
}

impl From<Head> for HeadObject {
    fn from(h: Head) -> Self {
        HeadObject { seq: Seq(h.seq), hash: h.hash, recorded_at: h.recorded_at }
    }
}

/// The first thing wrong with a chain.
#[derive(SimpleObject, Debug, Clone)]
pub struct VerifyProblem {
    /// The first seq at which the chain is wrong.
    pub seq: Seq,
    /// `hash_mismatch`, `broken_link`, `gap`, `reordering`, `unreadable` or `truncated`.
    pub problem: String,
    pub detail: String,
}

/// What the server's continuous verification says of the chain: checked
/// through seq `events` of head `ledgerHead`.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "VerifyReport")]
pub struct VerifyReportObject {
    /// True when every hash and link checked so far checks out.
    pub ok: bool,
    /// The last seq checked and found good: the head as of the request when ok.
    pub events: Count,
    /// The last good head (the event at seq `events`).
    pub head: HeadObject,
    pub problem: Option<VerifyProblem>,
    /// The ledger's head seq when the request arrived.
    pub ledger_head: Seq,
}

impl From<crate::Verification> for VerifyReportObject {
    fn from(r: crate::Verification) -> Self {
        VerifyReportObject {
            ok: r.ok,
            events: Count(r.events.into()),
            head: r.head.into(),
            problem: r.problem.map(|f| VerifyProblem { seq: Seq(f.seq), problem: f.problem, detail: f.detail }),
            ledger_head: Seq(r.ledger_head),
        }
    }
}

/// A registered agency.
#[derive(SimpleObject, Debug, Clone)]
pub struct Agency {
    pub agency_id: String,
    pub name: String,
    pub kind: AgencyKind,
    pub jurisdiction: Option<String>,
    /// Ledger roles (`COORDINATOR`, `EVALUATOR`) it holds.
    pub roles: Vec<Role>,
    /// The seq of its `AgencyRegistered` event.
    pub registered_seq: Seq,
    /// The `occurred_at` of its `AgencyRegistered` event.
    pub registered_at: String,
}

impl From<AgencyInfo> for Agency {
    fn from(a: AgencyInfo) -> Self {
        Agency {
            agency_id: a.agency_id,
            name: a.name,
            kind: a.kind.into(),
            jurisdiction: a.jurisdiction,
            roles: a.roles.into_iter().map(Role::from).collect(),
            registered_seq: Seq(a.registered_seq),
            registered_at: a.registered_at,
        }
    }
}
