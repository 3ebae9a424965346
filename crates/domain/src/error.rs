//! Rejections: the stable error codes of the domain, each with the field it
//! concerns and a sentence a person can act on.
//!
//! Codes are part of the product contract (clients branch on them), so a code
//! is never renamed; new codes may be added. `ErrorCode::ALL` lists them for
//! documentation and for the metrics that count rejections by code.

use std::fmt;

macro_rules! codes {
    ($( $variant:ident => $code:literal : $doc:literal ),+ $(,)?) => {
        /// A stable, machine-readable rejection code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode { $( #[doc = $doc] $variant ),+ }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as clients see it, e.g. `freeze.already_answered`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),+ }
            }

            /// One line saying when the code is returned.
            pub fn describe(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc),+ }
            }
        }
    };
}

codes! {
    MalformedJson => "json.malformed": "The input is not valid JSON, or not a JSON object.",
    EnvelopeUnknownField => "envelope.unknown_field": "The envelope has a field other than id, type, actor, occurred_at, data.",
    EnvelopeMissingField => "envelope.missing_field": "A required envelope field (type, actor, occurred_at, data) is absent.",
    EnvelopeInvalidType => "envelope.invalid_type": "An envelope field has the wrong JSON type.",
    InvalidEventId => "envelope.invalid_id": "The event id is not a UUID.",
    NilEventId => "envelope.nil_id": "The event id is the nil UUID (all zeros); choose another id or leave it out.",
    UnknownEventType => "event.unknown_type": "The event type is not in the catalog.",
    DataUnknownField => "data.unknown_field": "The payload has a field the event type does not define.",
    DataMissingField => "data.missing_field": "A required payload field is absent.",
    DataInvalidType => "data.invalid_type": "A payload field has the wrong JSON type.",
    DataInvalidValue => "data.invalid_value": "A payload field has a value outside its allowed set.",
    InvalidAgencyId => "id.invalid_agency_id": "An agency id does not match [a-z0-9][a-z0-9-]{1,63}.",
    InvalidEntityId => "id.invalid_entity_id": "An entity id does not match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}.",
    InvalidTimestamp => "time.invalid": "A timestamp is not RFC 3339 with an offset.",
    TimestampTooPrecise => "time.too_precise": "A timestamp has more than 6 fractional digits.",
    LeapSecond => "time.leap_second": "A timestamp is a leap second (:60); use :59 or the next second.",
    OccurredTooEarly => "time.too_early": "occurred_at is before 2000-01-01T00:00:00Z (after normalising to UTC).",
    OccurredInFuture => "time.in_future": "occurred_at is more than 5 minutes after the ledger's time.",
    AmountOutOfRange => "amount.out_of_range": "An amount is not an integer from 0 to 10^15 (minor units).",
    CountOutOfRange => "count.out_of_range": "A count is not an integer from 0 to 2^53-1.",
    TextTooLong => "text.too_long": "A text is longer than 4,000 characters.",
    TextEmpty => "text.empty": "A required text is empty or blank.",
    ListEmpty => "list.empty": "A list that needs at least one element is empty.",
    ListDuplicate => "list.duplicate": "A list names the same element twice.",
    RawAccountNumber => "account_ref.raw_account_number": "account_ref looks like a raw account number (8-30 digits); send an opaque reference.",
    InvalidHash => "hash.invalid": "A SHA-256 value is not 64 lowercase hex characters.",
    BootstrapRequired => "bootstrap.required": "An empty ledger must start with a coordinator registering itself.",
    ActorUnknown => "actor.unknown_agency": "The actor is not a registered agency.",
    ActorNotAuthorised => "actor.not_authorised": "The actor may not perform this action on this entity.",
    ActorWrongKind => "actor.wrong_kind": "The actor's agency kind may not perform this action.",
    AgencyAlreadyRegistered => "agency.already_registered": "The agency_id is already registered.",
    AgencyNotRegistered => "agency.not_registered": "A referenced agency is not registered.",
    AgencyWrongKind => "agency.wrong_kind": "A referenced agency is of the wrong kind.",
    MeetingExists => "meeting.already_exists": "The meeting_id is already used.",
    MeetingNotFound => "meeting.not_found": "No meeting with this meeting_id was convened.",
    MeetingAlreadyHeld => "meeting.already_held": "The meeting was already held.",
    MeetingNotHeld => "meeting.not_held": "The meeting has not been held yet.",
    MeetingUnknownResolution => "meeting.unknown_resolution": "The resolution_id is not a resolution of the meeting.",
    TaskExists => "task.already_exists": "The task_id is already used.",
    TaskNotFound => "task.not_found": "No task with this task_id was assigned.",
    TaskNotOpen => "task.not_open": "The task is already completed or cancelled.",
    TaskAlreadyAcknowledged => "task.already_acknowledged": "The task was already acknowledged.",
    TaskDueNotAfterAssignment => "task.due_not_after_assignment": "due_at must be after the assignment's occurred_at.",
    TaskDueNotLater => "task.due_not_later": "An extension's due_at must be later than the current due_at.",
    CaseExists => "case.already_exists": "The case_id is already used.",
    CaseNotFound => "case.not_found": "No case with this case_id was reported.",
    FreezeExists => "freeze.already_exists": "The freeze_id is already used.",
    FreezeNotFound => "freeze.not_found": "No freeze with this freeze_id was requested.",
    FreezeAlreadyAnswered => "freeze.already_answered": "The freeze request was already executed or rejected.",
    FreezeNotExecuted => "freeze.not_executed": "The freeze was not executed.",
    FreezeAlreadyReleased => "freeze.already_released": "The freeze was already released.",
    FreezeReturnsExceedFrozen => "freeze.returns_exceed_frozen": "Total funds returned would exceed the amount frozen.",
    ClueExists => "clue.already_exists": "The clue_id is already used.",
    ClueNotFound => "clue.not_found": "No clue with this clue_id was referred.",
    ClueFeedbackGiven => "clue.feedback_already_given": "Feedback was already given for the clue.",
    ClueSelfReferral => "clue.self_referral": "A clue cannot be referred to the referring agency itself.",
    WarningExists => "warning.already_exists": "The warning_id is already used.",
    WarningNotFound => "warning.not_found": "No warning with this warning_id was issued.",
    WarningAlreadyRecorded => "warning.already_recorded": "A dissuasion was already recorded for the warning.",
    CardActionExists => "card_action.already_exists": "The action_id is already used.",
    PenaltyExists => "penalty.already_exists": "The penalty_id is already used.",
    PenaltyNotFound => "penalty.not_found": "No penalty with this penalty_id was imposed.",
    PenaltyAlreadyRevoked => "penalty.already_revoked": "The penalty was already revoked.",
    PenaltyAmountRequired => "penalty.amount_required": "A fine needs amount_minor.",
    PublicityExists => "publicity.already_exists": "The activity_id is already used.",
    AssessmentExists => "assessment.already_exists": "The assessment_id is already used.",
    AssessmentAsOfBeyondHead => "assessment.as_of_beyond_head": "as_of_seq must be from 1 to the seq of the event before this one.",
    AssessmentPeriodEmpty => "assessment.period_empty": "period_from must be before period_to.",
    LifecycleOutOfOrder => "lifecycle.out_of_order": "A lifecycle step is earlier (occurred_at) than the step it answers.",
    RetractionTargetNotFound => "retraction.target_not_found": "No event with the retracted event_id exists.",
    RetractionTargetIsRetraction => "retraction.target_is_retraction": "A retraction cannot be retracted.",
    RetractionAlreadyRetracted => "retraction.already_retracted": "The event is already retracted.",
    RetractionLaterEvents => "retraction.later_events": "The event's entity has later, non-retracted events; retract newest first.",
    IdConflict => "event.id_conflict": "An event with this id is stored with different content.",
    BatchEmpty => "batch.empty": "The batch holds no event.",
    BatchTooLarge => "batch.too_large": "The batch or request is larger than the limit.",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a submission was not accepted. Nothing is stored when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// The stable code clients branch on.
    pub code: ErrorCode,
    /// The offending field, as a path such as `data.invitees[2]`, when one is at fault.
    pub field: Option<String>,
    /// A sentence saying what is wrong and what to do instead.
    pub message: String,
}

impl Rejection {
    /// A rejection concerning no particular field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, field: None, message: message.into() }
    }

    /// A rejection of one field.
    pub fn at(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code, field: Some(field.into()), message: message.into() }
    }
}
