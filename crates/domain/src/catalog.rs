//! The event catalog of SPEC 2.3: the 24 event types, their payloads and the
//! enumerations they use. Payload structs reject unknown fields; value types
//! check their own formats (see `values`). Lifecycle and authority rules live
//! in `rules`, not here.
//!
//! Every type here derives `schemars::JsonSchema`; the files in
//! `schema/events/` are generated from them (see `tests/schemas.rs`).

use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::values::{AccountRef, AgencyId, AmountMinor, Count, EntityId, EventRef, Sha256Hex, Text, Timestamp};

macro_rules! enumeration {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        pub enum $name { $( #[serde(rename = $text)] $variant ),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The value as written in events.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
        }
    };
}

enumeration!(
    /// What an agency is.
    AgencyKind {
        PublicSecurity => "public_security", Bank => "bank", PaymentInstitution => "payment_institution",
        TelecomOperator => "telecom_operator", InternetPlatform => "internet_platform", Government => "government",
        Regulator => "regulator", Procuratorate => "procuratorate", Court => "court", Community => "community",
        Other => "other",
    }
);
enumeration!(
    /// Ledger roles an agency may hold.
    Role { Coordinator => "coordinator", Evaluator => "evaluator" }
);
enumeration!(
    /// How funds are held.
    FreezeMode { StopPayment => "stop_payment", Freeze => "freeze" }
);
enumeration!(
    /// What a clue points at.
    ClueKind { PhoneNumber => "phone_number", BankAccount => "bank_account", Url => "url", App => "app", Other => "other" }
);
enumeration!(
    /// What the receiving agency found.
    ClueOutcome { Confirmed => "confirmed", Unfounded => "unfounded", Transferred => "transferred" }
);
enumeration!(
    /// Risk level of an early warning.
    Risk { Low => "low", Medium => "medium", High => "high" }
);
enumeration!(
    /// How a warned person was reached.
    DissuasionMethod { Call => "call", Sms => "sms", InPerson => "in_person" }
);
enumeration!(
    /// Result of a dissuasion.
    DissuasionOutcome { Dissuaded => "dissuaded", Unreachable => "unreachable", AlreadyDefrauded => "already_defrauded" }
);
enumeration!(
    /// Kind of penalty; each has its own deduction in the model.
    PenaltyKind { Warning => "warning", PublicCriticism => "public_criticism", Fine => "fine", Suspension => "suspension" }
);

impl AgencyKind {
    /// Banks and payment institutions: the agencies that answer freeze requests.
    pub fn holds_accounts(self) -> bool {
        matches!(self, AgencyKind::Bank | AgencyKind::PaymentInstitution)
    }
}

/// A resolution adopted at a joint meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    pub resolution_id: EntityId,
    pub text: Text,
}

macro_rules! payloads {
    ($( $(#[$m:meta])* $name:ident { $( $field:ident : $ty:ty ),* $(,)? } )+) => {
        $(
            #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
            #[serde(deny_unknown_fields)]
            $(#[$m])*
            pub struct $name {
                $(
                    #[serde(skip_serializing_if = "crate::catalog::is_absent")]
                    pub $field: $ty,
                )*
            }
        )+

        /// The type of an event, as written in the envelope's `type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum EventType { $($name),+ }

        impl EventType {
            /// All 24 types, in catalog order.
            pub const ALL: &'static [EventType] = &[$(EventType::$name),+];

            /// The name used on the wire, e.g. `FreezeExecuted`.
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$name => stringify!($name)),+ }
            }

            /// Looks a wire name up in the catalog.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $(stringify!($name) => Some(EventType::$name),)+ _ => None }
            }
        }

        /// A typed, checked payload.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Payload { $( $name($name) ),+ }

        impl Payload {
            /// The payload's event type.
            pub fn event_type(&self) -> EventType {
                match self { $(Payload::$name(_) => EventType::$name),+ }
            }

            /// Deserializes `data` as the payload of `ty`.
            pub fn from_json<'de, D: serde::Deserializer<'de>>(
                ty: EventType,
                data: D,
            ) -> Result<Self, serde_path_to_error::Error<D::Error>> {
                Ok(match ty { $(EventType::$name => Payload::$name(serde_path_to_error::deserialize(data)?)),+ })
            }

            /// The normalised payload as JSON (absent optional fields omitted).
            pub fn to_json(&self) -> serde_json::Value {
                let v = match self { $(Payload::$name(p) => serde_json::to_value(p)),+ };
                // Serializing these plain structs into a Value cannot fail: no
                // maps with non-string keys, no fallible Serialize impls.
                v.unwrap_or(serde_json::Value::Null)
            }
        }
    };
}

/// Skips `None` and other defaults that mean "absent" when serializing.
pub(crate) fn is_absent<T: Absent>(v: &T) -> bool {
    v.is_absent()
}

/// Marks field types whose value can mean "absent": only `Option`s.
pub(crate) trait Absent {
    fn is_absent(&self) -> bool {
        false
    }
}
impl<T> Absent for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}
macro_rules! never_absent { ($($t:ty),*) => { $(impl Absent for $t {})* } }
never_absent!(
    AgencyId,
    EntityId,
    Text,
    AccountRef,
    Sha256Hex,
    EventRef,
    Timestamp,
    AmountMinor,
    Count,
    AgencyKind,
    FreezeMode,
    ClueKind,
    ClueOutcome,
    Risk,
    DissuasionMethod,
    DissuasionOutcome,
    PenaltyKind,
    Vec<AgencyId>,
    Vec<Resolution>
);

// serde treats a missing `Option` field as `None`; any other missing field
// is reported as missing (`data.missing_field`).
payloads! {
    /// A coordinator registers an agency (or the first coordinator registers itself).
    #[schemars(transform = schema_rules::roles)]
    AgencyRegistered { agency_id: AgencyId, name: Text, kind: AgencyKind,
        jurisdiction: Option<Text>, roles: Option<Vec<Role>> }
    /// An agency convenes a joint meeting.
    #[schemars(transform = schema_rules::invitees)]
    JointMeetingConvened { meeting_id: EntityId, title: Text, scheduled_for: Timestamp,
        invitees: Vec<AgencyId> }
    /// A convened meeting took place.
    #[schemars(transform = schema_rules::attendees)]
    JointMeetingHeld { meeting_id: EntityId, attendees: Vec<AgencyId>,
        resolutions: Vec<Resolution> }
    /// A responsibility (task) is assigned with a deadline.
    #[schemars(transform = schema_rules::resolution_needs_meeting)]
    ResponsibilityAssigned { task_id: EntityId, assignee: AgencyId, title: Text,
        due_at: Timestamp, legal_basis: Option<Text>, meeting_id: Option<EntityId>,
        resolution_id: Option<EntityId> }
    /// The assignee acknowledges a task.
    TaskAcknowledged { task_id: EntityId }
    /// The assignee completes a task.
    TaskCompleted { task_id: EntityId, evidence: Option<Text> }
    /// The assigner moves a task's deadline later.
    TaskDeadlineExtended { task_id: EntityId, due_at: Timestamp, reason: Text }
    /// The assigner cancels a task.
    TaskCancelled { task_id: EntityId, reason: Text }
    /// Police report a fraud case.
    FraudCaseReported { case_id: EntityId, fraud_type: Text, loss_minor: AmountMinor }
    /// Police ask a bank to stop a payment or freeze funds.
    FreezeRequested { freeze_id: EntityId, mode: FreezeMode, bank: AgencyId,
        account_ref: AccountRef, amount_minor: AmountMinor, case_id: Option<EntityId> }
    /// The bank executed the freeze.
    FreezeExecuted { freeze_id: EntityId, amount_frozen_minor: AmountMinor }
    /// The bank rejected the freeze request.
    FreezeRejected { freeze_id: EntityId, reason: Text }
    /// Frozen funds were released.
    FreezeReleased { freeze_id: EntityId, reason: Text }
    /// Frozen funds were returned to the victim.
    FundsReturned { freeze_id: EntityId, amount_minor: AmountMinor }
    /// An agency refers a clue to another agency.
    ClueReferred { clue_id: EntityId, to: AgencyId, kind: ClueKind, summary: Option<Text> }
    /// The receiving agency reports what it found.
    ClueFeedbackGiven { clue_id: EntityId, outcome: ClueOutcome, action: Option<Text> }
    /// Police warn an agency of a likely victim.
    EarlyWarningIssued { warning_id: EntityId, to: AgencyId, risk: Risk }
    /// The warned agency records its dissuasion attempt.
    DissuasionRecorded { warning_id: EntityId, method: DissuasionMethod,
        outcome: DissuasionOutcome }
    /// Cards and accounts disposed of in a card-breaking action.
    CardBreakingAction { action_id: EntityId, operation: Option<Text>, bank_cards: Count,
        phone_cards: Count, internet_accounts: Count, suspects: Count }
    /// A regulator or the coordinator penalises an agency.
    #[schemars(transform = schema_rules::amount_only_for_fines)]
    PenaltyImposed { penalty_id: EntityId, target: AgencyId, kind: PenaltyKind,
        amount_minor: Option<AmountMinor>, legal_basis: Text, reason: Text }
    /// A penalty is revoked.
    PenaltyRevoked { penalty_id: EntityId, reason: Text }
    /// An anti-fraud publicity activity.
    PublicityDelivered { activity_id: EntityId, audience: Text, reach: Count }
    /// A mistaken event is retracted (SPEC 2.4).
    EventRetracted { event_id: EventRef, reason: Text }
    /// An evaluator publishes an assessment report's hash.
    AssessmentPublished { assessment_id: EntityId, period_from: Timestamp,
        period_to: Timestamp, as_of_seq: Count, model_sha256: Sha256Hex,
        report_sha256: Sha256Hex }
}

/// The state-independent rules of `rules` that JSON Schema can state, added
/// to the payload schemas so that clients learn them from `schema/events/`.
/// `rules` stays the authority (these are descriptions, not checks);
/// `tests/schemas.rs` proves each one agrees with what `Txn::admit` rejects.
mod schema_rules {
    use super::*;

    /// Merges `keywords` into the schema of property `field`.
    fn property(schema: &mut Schema, field: &str, keywords: serde_json::Value) {
        let target = schema.get_mut("properties").and_then(|p| p.get_mut(field)).and_then(|f| f.as_object_mut());
        if let (Some(target), serde_json::Value::Object(keywords)) = (target, keywords) {
            target.extend(keywords);
        }
    }

    /// `ListDuplicate` on `data.roles`.
    pub(super) fn roles(schema: &mut Schema) {
        property(schema, "roles", json!({ "description": "Each role at most once.", "uniqueItems": true }));
    }

    /// `ListEmpty` and `ListDuplicate` on `data.invitees`.
    pub(super) fn invitees(schema: &mut Schema) {
        property(
            schema,
            "invitees",
            json!({ "description": "At least one agency, each once.", "minItems": 1, "uniqueItems": true }),
        );
    }

    /// `ListDuplicate` on `data.attendees`.
    pub(super) fn attendees(schema: &mut Schema) {
        property(schema, "attendees", json!({ "description": "Each agency at most once.", "uniqueItems": true }));
    }

    /// `DataMissingField` on `data.meeting_id`: a resolution belongs to a meeting.
    pub(super) fn resolution_needs_meeting(schema: &mut Schema) {
        schema.insert(
            "if".into(),
            json!({ "required": ["resolution_id"], "properties": { "resolution_id": { "not": { "type": "null" } } } }),
        );
        schema.insert(
            "then".into(),
            json!({
                "description": "resolution_id needs the meeting_id it belongs to.",
                "required": ["meeting_id"],
                "properties": { "meeting_id": { "not": { "type": "null" } } },
            }),
        );
    }

    /// `PenaltyAmountRequired` and `DataInvalidValue` on `data.amount_minor`.
    pub(super) fn amount_only_for_fines(schema: &mut Schema) {
        schema.insert("if".into(), json!({ "required": ["kind"], "properties": { "kind": { "const": "fine" } } }));
        schema.insert(
            "then".into(),
            json!({
                "description": "A fine needs amount_minor.",
                "required": ["amount_minor"],
                "properties": { "amount_minor": { "not": { "type": "null" } } },
            }),
        );
        schema.insert(
            "else".into(),
            json!({
                "description": "amount_minor is only for fines.",
                "properties": { "amount_minor": { "type": "null" } },
            }),
        );
    }
}
