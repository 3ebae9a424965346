//! Mutations: one typed mutation per event type of the catalog (SPEC 2.3),
//! e.g. `executeFreeze(input: ExecuteFreezeInput!)`, and `appendEvents` for
//! an atomic batch. Each returns the stored event(s) with `seq` and `hash`;
//! an idempotent retry (same `id`, same content) returns the event already
//! stored.
//!
//! The GraphQL types only shape the input. The input is turned back into the
//! submitted envelope of SPEC 2.1 and goes through `Submission::parse` and the
//! ledger's rules like every other path, so format errors carry the domain's
//! codes and field paths (e.g. `data.amount_frozen_minor`). The test
//! `graphql_inputs_match_the_catalog` holds each `…Data` input to the
//! catalog's payload fields.

use async_graphql::{Context, InputObject, Object, OneofObject, Result};
use govledger_domain::{EventType, Submission};
use serde_json::{Map, Value};

use super::principal;
use super::types::{
    AgencyKind, AmountMinor, ClueKind, ClueOutcome, Count, DissuasionMethod, DissuasionOutcome, Event, FreezeMode,
    PenaltyKind, Risk, Role, Timestamp,
};
use crate::AppState;
use crate::error::AppError;

/// Turns a GraphQL input value back into the JSON the envelope carries;
/// `None` leaves an optional field out.
trait Wire {
    fn wire(&self) -> Option<Value>;
}

impl Wire for String {
    fn wire(&self) -> Option<Value> {
        Some(Value::String(self.clone()))
    }
}

impl Wire for Timestamp {
    fn wire(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl Wire for AmountMinor {
    fn wire(&self) -> Option<Value> {
        Some(Value::Number(self.0.clone()))
    }
}

impl Wire for Count {
    fn wire(&self) -> Option<Value> {
        Some(Value::Number(self.0.clone()))
    }
}

impl<T: Wire> Wire for Option<T> {
    fn wire(&self) -> Option<Value> {
        self.as_ref().and_then(Wire::wire)
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn wire(&self) -> Option<Value> {
        Some(Value::Array(self.iter().filter_map(Wire::wire).collect()))
    }
}

macro_rules! wire_enum {
    ($($t:ident => $remote:path),+ $(,)?) => {
        $(impl Wire for $t {
            fn wire(&self) -> Option<Value> {
                Some(Value::String(<$remote>::from(*self).as_str().to_owned()))
            }
        })+
    };
}

wire_enum!(
    AgencyKind => govledger_domain::catalog::AgencyKind,
    Role => govledger_domain::catalog::Role,
    FreezeMode => govledger_domain::catalog::FreezeMode,
    ClueKind => govledger_domain::catalog::ClueKind,
    ClueOutcome => govledger_domain::catalog::ClueOutcome,
    Risk => govledger_domain::catalog::Risk,
    DissuasionMethod => govledger_domain::catalog::DissuasionMethod,
    DissuasionOutcome => govledger_domain::catalog::DissuasionOutcome,
    PenaltyKind => govledger_domain::catalog::PenaltyKind,
);

/// A resolution adopted at a joint meeting.
#[derive(InputObject, Debug, Clone)]
pub struct ResolutionInput {
    pub resolution_id: String,
    pub text: String,
}

impl Wire for ResolutionInput {
    fn wire(&self) -> Option<Value> {
        Some(serde_json::json!({"resolution_id": self.resolution_id, "text": self.text}))
    }
}

/// The envelope of SPEC 2.1 for `data`.
fn envelope(ty: EventType, id: Option<String>, actor: String, occurred_at: Timestamp, data: Value) -> Value {
    let mut e = Map::new();
    if let Some(id) = id {
        e.insert("id".into(), Value::String(id));
    }
    e.insert("type".into(), Value::String(ty.as_str().to_owned()));
    e.insert("actor".into(), Value::String(actor));
    e.insert("occurred_at".into(), Value::String(occurred_at.0));
    e.insert("data".into(), data);
    Value::Object(e)
}

/// Parses the envelopes and appends them as one batch, as the caller's token.
async fn append(ctx: &Context<'_>, envelopes: Vec<Value>) -> Result<Vec<Event>> {
    let state = ctx.data::<AppState>()?;
    let principal = principal(ctx)?;
    let limit = state.limits().max_batch_events;
    if envelopes.len() > limit {
        return Err(AppError::BatchTooLarge { events: envelopes.len(), limit }.into());
    }
    let batch = envelopes
        .into_iter()
        .enumerate()
        .map(|(index, e)| Submission::parse(e).map_err(|rejection| AppError::Rejected { index, rejection }))
        .collect::<Result<Vec<_>, _>>()?;
    let appended = state.append(principal, batch).await?;
    Ok(appended.into_iter().map(|a| Event::from(a.event)).collect())
}

async fn append_one(ctx: &Context<'_>, envelope: Value) -> Result<Event> {
    let mut events = append(ctx, vec![envelope]).await?;
    // A successful append of one envelope returns exactly one event.
    events.pop().ok_or_else(|| AppError::Internal("an append of one event returned none".into()).into())
}

macro_rules! catalog_mutations {
    ($(
        $(#[doc = $doc:literal])*
        $method:ident($input:ident) => $ty:ident($data:ident) { $($field:ident : $fty:ty),* $(,)? }
    )+) => {
        $(
            #[doc = concat!("The payload of `", stringify!($ty), "` (SPEC 2.3).")]
            #[derive(InputObject, Debug, Clone)]
            pub struct $data { $(pub $field: $fty),* }

            impl Wire for $data {
                fn wire(&self) -> Option<Value> {
                    let mut data = Map::new();
                    $(
                        if let Some(v) = self.$field.wire() {
                            data.insert(stringify!($field).to_owned(), v);
                        }
                    )*
                    Some(Value::Object(data))
                }
            }

            #[doc = concat!("A `", stringify!($ty), "` envelope.")]
            #[derive(InputObject, Debug, Clone)]
            pub struct $input {
                /// Optional client UUID that makes retries safe (SPEC 2.1).
                pub id: Option<String>,
                /// The agency performing the action; must be the token's agency.
                pub actor: String,
                /// When the action happened.
                pub occurred_at: Timestamp,
                pub data: $data,
            }
        )+

        /// The payload of one event of a batch: exactly one field, named after its type.
        #[derive(OneofObject, Debug, Clone)]
        pub enum EventData { $( $ty($data) ),+ }

        impl EventData {
            fn event_type(&self) -> EventType {
                match self { $(EventData::$ty(_) => EventType::$ty),+ }
            }

            fn wire(&self) -> Value {
                match self { $(EventData::$ty(d) => d.wire().unwrap_or(Value::Null)),+ }
            }
        }

        /// The typed mutations, one per event type.
        #[derive(Default)]
        pub struct EventMutations;

        #[Object]
        impl EventMutations {
            $(
                $(#[doc = $doc])*
                async fn $method(&self, ctx: &Context<'_>, input: $input) -> Result<Event> {
                    let data = input.data.wire().unwrap_or(Value::Null);
                    append_one(ctx, envelope(EventType::$ty, input.id, input.actor, input.occurred_at, data)).await
                }
            )+
        }

        /// Every event type with its mutation's name, for tests and docs.
        pub const MUTATIONS: &[(EventType, &str)] = &[$((EventType::$ty, stringify!($method))),+];
    };
}

catalog_mutations! {
    /// Registers an agency (coordinator token).
    register_agency(RegisterAgencyInput) => AgencyRegistered(AgencyRegisteredData) {
        agency_id: String, name: String, kind: AgencyKind, jurisdiction: Option<String>, roles: Option<Vec<Role>>,
    }
    /// Convenes a joint meeting.
    convene_joint_meeting(ConveneJointMeetingInput) => JointMeetingConvened(JointMeetingConvenedData) {
        meeting_id: String, title: String, scheduled_for: Timestamp, invitees: Vec<String>,
    }
    /// Records that a convened meeting was held.
    hold_joint_meeting(HoldJointMeetingInput) => JointMeetingHeld(JointMeetingHeldData) {
        meeting_id: String, attendees: Vec<String>, resolutions: Vec<ResolutionInput>,
    }
    /// Assigns a responsibility (task) with a deadline.
    assign_responsibility(AssignResponsibilityInput) => ResponsibilityAssigned(ResponsibilityAssignedData) {
        task_id: String, assignee: String, title: String, due_at: Timestamp, legal_basis: Option<String>,
        meeting_id: Option<String>, resolution_id: Option<String>,
    }
    /// The assignee acknowledges a task.
    acknowledge_task(AcknowledgeTaskInput) => TaskAcknowledged(TaskAcknowledgedData) { task_id: String }
    /// The assignee completes a task.
    complete_task(CompleteTaskInput) => TaskCompleted(TaskCompletedData) { task_id: String, evidence: Option<String> }
    /// The assigner moves a task's deadline later.
    extend_task_deadline(ExtendTaskDeadlineInput) => TaskDeadlineExtended(TaskDeadlineExtendedData) {
        task_id: String, due_at: Timestamp, reason: String,
    }
    /// The assigner cancels a task.
    cancel_task(CancelTaskInput) => TaskCancelled(TaskCancelledData) { task_id: String, reason: String }
    /// Police report a fraud case.
    report_fraud_case(ReportFraudCaseInput) => FraudCaseReported(FraudCaseReportedData) {
        case_id: String, fraud_type: String, loss_minor: AmountMinor,
    }
    /// Police ask a bank to stop a payment or freeze funds.
    request_freeze(RequestFreezeInput) => FreezeRequested(FreezeRequestedData) {
        freeze_id: String, mode: FreezeMode, bank: String, account_ref: String, amount_minor: AmountMinor,
        case_id: Option<String>,
    }
    /// The requested bank executed the freeze.
    execute_freeze(ExecuteFreezeInput) => FreezeExecuted(FreezeExecutedData) {
        freeze_id: String, amount_frozen_minor: AmountMinor,
    }
    /// The requested bank rejected the freeze request.
    reject_freeze(RejectFreezeInput) => FreezeRejected(FreezeRejectedData) { freeze_id: String, reason: String }
    /// Frozen funds were released.
    release_freeze(ReleaseFreezeInput) => FreezeReleased(FreezeReleasedData) { freeze_id: String, reason: String }
    /// Frozen funds were returned to the victim.
    return_funds(ReturnFundsInput) => FundsReturned(FundsReturnedData) { freeze_id: String, amount_minor: AmountMinor }
    /// Refers a clue to another agency.
    refer_clue(ReferClueInput) => ClueReferred(ClueReferredData) {
        clue_id: String, to: String, kind: ClueKind, summary: Option<String>,
    }
    /// The receiving agency reports what it found.
    give_clue_feedback(GiveClueFeedbackInput) => ClueFeedbackGiven(ClueFeedbackGivenData) {
        clue_id: String, outcome: ClueOutcome, action: Option<String>,
    }
    /// Police warn an agency of a likely victim.
    issue_early_warning(IssueEarlyWarningInput) => EarlyWarningIssued(EarlyWarningIssuedData) {
        warning_id: String, to: String, risk: Risk,
    }
    /// The warned agency records its dissuasion attempt.
    record_dissuasion(RecordDissuasionInput) => DissuasionRecorded(DissuasionRecordedData) {
        warning_id: String, method: DissuasionMethod, outcome: DissuasionOutcome,
    }
    /// Records the cards and accounts disposed of in a card-breaking action.
    record_card_breaking_action(RecordCardBreakingActionInput) => CardBreakingAction(CardBreakingActionData) {
        action_id: String, operation: Option<String>, bank_cards: Count, phone_cards: Count,
        internet_accounts: Count, suspects: Count,
    }
    /// A regulator or the coordinator penalises an agency.
    impose_penalty(ImposePenaltyInput) => PenaltyImposed(PenaltyImposedData) {
        penalty_id: String, target: String, kind: PenaltyKind, amount_minor: Option<AmountMinor>,
        legal_basis: String, reason: String,
    }
    /// Revokes a penalty.
    revoke_penalty(RevokePenaltyInput) => PenaltyRevoked(PenaltyRevokedData) { penalty_id: String, reason: String }
    /// Records an anti-fraud publicity activity.
    deliver_publicity(DeliverPublicityInput) => PublicityDelivered(PublicityDeliveredData) {
        activity_id: String, audience: String, reach: Count,
    }
    /// Retracts a mistaken event (SPEC 2.4).
    retract_event(RetractEventInput) => EventRetracted(EventRetractedData) { event_id: String, reason: String }
    /// Publishes an assessment report's hash (evaluator token).
    publish_assessment(PublishAssessmentInput) => AssessmentPublished(AssessmentPublishedData) {
        assessment_id: String, period_from: Timestamp, period_to: Timestamp, as_of_seq: Count,
        model_sha256: String, report_sha256: String,
    }
}

/// One event of an `appendEvents` batch.
#[derive(InputObject, Debug, Clone)]
pub struct EventInput {
    /// Optional client UUID that makes retries safe (SPEC 2.1).
    pub id: Option<String>,
    /// The agency performing the action; must be the token's agency.
    pub actor: String,
    /// When the action happened.
    pub occurred_at: Timestamp,
    /// The payload, under the name of its event type, e.g. `{freezeExecuted: {…}}`.
    pub data: EventData,
}

/// `appendEvents`.
#[derive(Default)]
pub struct BatchMutations;

#[Object]
impl BatchMutations {
    /// Appends a batch atomically (SPEC 2.5): all events are stored, or none;
    /// each is checked against the state including the batch's earlier
    /// events. An error names the offending event by `extensions.index`.
    async fn append_events(&self, ctx: &Context<'_>, batch: Vec<EventInput>) -> Result<Vec<Event>> {
        let envelopes = batch
            .into_iter()
            .map(|e| envelope(e.data.event_type(), e.id, e.actor, e.occurred_at, e.data.wire()))
            .collect();
        append(ctx, envelopes).await
    }
}
