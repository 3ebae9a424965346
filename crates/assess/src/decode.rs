//! Reading stored events into the few facts the projections need.
//!
//! Events in the log were checked by every rule when they were appended, so
//! the projection does not check them again; it reads only the fields the
//! indicators use, borrowing strings from the input. Two inputs give the same
//! [`Decoded`] value: a [`StoredEvent`] (what the server has at hand) and a
//! canonical body straight from the store (the fast path of a full rebuild,
//! which skips building a `serde_json::Value` per event: the envelope is read
//! in place through the domain's [`EventView`], the payload by [`payload`]).

use std::borrow::Cow;

use govledger_domain::canonical::{EventView, Tail};
use govledger_domain::catalog::{AgencyKind, PenaltyKind, Role};
use govledger_domain::{EventType, Timestamp};
use govledger_ledger::StoredEvent;
use serde::Deserialize;
use uuid::Uuid;

/// Why an event could not be read. The log is unreadable by this version;
/// `verify` tells whether it was tampered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seq {seq}: {reason}")]
pub struct DecodeError {
    pub seq: u64,
    pub reason: String,
}

/// Every payload field the projections read, for all event types at once.
/// Canonical bodies sort keys, so `data` comes before `type`: one struct for
/// all types lets a body be read in a single pass. Unknown fields (titles,
/// reasons, texts) are skipped.
#[derive(Debug, Default, Deserialize)]
struct Data<'a> {
    agency_id: Option<&'a str>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    kind: Option<&'a str>,
    #[serde(borrow)]
    roles: Option<Vec<&'a str>>,
    meeting_id: Option<&'a str>,
    #[serde(borrow)]
    invitees: Option<Vec<&'a str>>,
    #[serde(borrow)]
    attendees: Option<Vec<&'a str>>,
    task_id: Option<&'a str>,
    assignee: Option<&'a str>,
    due_at: Option<&'a str>,
    case_id: Option<&'a str>,
    loss_minor: Option<u64>,
    freeze_id: Option<&'a str>,
    bank: Option<&'a str>,
    amount_minor: Option<u64>,
    clue_id: Option<&'a str>,
    to: Option<&'a str>,
    warning_id: Option<&'a str>,
    bank_cards: Option<u64>,
    phone_cards: Option<u64>,
    internet_accounts: Option<u64>,
    penalty_id: Option<&'a str>,
    target: Option<&'a str>,
    event_id: Option<&'a str>,
}

/// A canonical body, for the fast path.
#[derive(Debug, Deserialize)]
struct Body<'a> {
    actor: &'a str,
    #[serde(borrow)]
    data: Data<'a>,
    id: &'a str,
    occurred_at: &'a str,
    recorded_at: &'a str,
    seq: u64,
    #[serde(rename = "type")]
    event_type: &'a str,
}

/// What an event means for the projections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fact<'a> {
    AgencyRegistered {
        agency_id: &'a str,
        name: Cow<'a, str>,
        kind: AgencyKind,
        /// Whether `roles` holds `coordinator` (SPEC 3.2 v1.2 counts what a
        /// coordinator convened or assigned).
        coordinator: bool,
    },
    MeetingConvened {
        meeting_id: &'a str,
        invitees: Vec<&'a str>,
    },
    MeetingHeld {
        meeting_id: &'a str,
        attendees: Vec<&'a str>,
    },
    TaskAssigned {
        task_id: &'a str,
        assignee: &'a str,
        due_us: i64,
    },
    TaskExtended {
        task_id: &'a str,
        due_us: i64,
    },
    TaskAcknowledged {
        task_id: &'a str,
    },
    TaskCompleted {
        task_id: &'a str,
    },
    TaskCancelled {
        task_id: &'a str,
    },
    CaseReported {
        loss_minor: u64,
    },
    FreezeRequested {
        freeze_id: &'a str,
        bank: &'a str,
    },
    FreezeExecuted {
        freeze_id: &'a str,
    },
    FreezeRejected {
        freeze_id: &'a str,
    },
    FundsReturned {
        freeze_id: &'a str,
        amount_minor: u64,
    },
    ClueReferred {
        clue_id: &'a str,
        to: &'a str,
    },
    ClueFeedback {
        clue_id: &'a str,
    },
    WarningIssued {
        warning_id: &'a str,
        to: &'a str,
    },
    DissuasionRecorded {
        warning_id: &'a str,
    },
    CardBreaking {
        disposed: u64,
    },
    PenaltyImposed {
        penalty_id: &'a str,
        target: &'a str,
        kind: PenaltyKind,
    },
    PenaltyRevoked {
        penalty_id: &'a str,
    },
    /// No indicator reads it; its freeze's parties may read it (SPEC 4).
    FreezeReleased {
        freeze_id: &'a str,
    },
    Retracted {
        event_id: Uuid,
    },
    /// Publicity and published assessments: no indicator reads them,
    /// retracting them changes no figure, and only their actor is a party.
    Other,
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded<'a> {
    pub seq: u64,
    pub id: Uuid,
    pub actor: &'a str,
    pub occurred_us: i64,
    pub recorded_us: i64,
    pub fact: Fact<'a>,
}

/// Decodes a canonical body (RFC 8785 bytes as stored).
pub(crate) fn decode_body(body: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if let Some(view) = EventView::parse(body)
        && let Some(data) = payload::read(view.data)
    {
        let id = uuid(view.id, view.seq)?;
        return build(view.seq, id, view.event_type, view.actor, view.occurred_at, view.recorded_at, data);
    }
    decode_body_serde(body)
}

/// Decodes a canonical body with serde_json (any JSON of the stored shape).
fn decode_body_serde(body: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let parsed: Body<'_> = serde_json::from_slice(body).map_err(|e| DecodeError {
        seq: Tail::parse(body).map_or(0, |t| t.seq),
        reason: format!("the stored body is not a readable event: {e}"),
    })?;
    let seq = parsed.seq;
    let id = uuid(parsed.id, seq)?;
    build(seq, id, parsed.event_type, parsed.actor, parsed.occurred_at, parsed.recorded_at, parsed.data)
}

/// Decodes a stored event.
pub(crate) fn decode_event(event: &StoredEvent) -> Result<Decoded<'_>, DecodeError> {
    let data = Data::deserialize(&event.data)
        .map_err(|e| DecodeError { seq: event.seq, reason: format!("the event's data is not readable: {e}") })?;
    build(event.seq, event.id, &event.event_type, &event.actor, &event.occurred_at, &event.recorded_at, data)
}

fn uuid(text: &str, seq: u64) -> Result<Uuid, DecodeError> {
    Uuid::try_parse(text).map_err(|_| DecodeError { seq, reason: format!("{text:?} is not an event id") })
}

fn build<'a>(
    seq: u64,
    id: Uuid,
    type_name: &str,
    actor: &'a str,
    occurred_at: &str,
    recorded_at: &str,
    d: Data<'a>,
) -> Result<Decoded<'a>, DecodeError> {
    let fail = |reason: String| DecodeError { seq, reason };
    let Some(event_type) = EventType::from_name(type_name) else {
        return Err(fail(format!("{type_name:?} is not an event type of the catalog")));
    };
    let need = |field: &'static str, value: Option<&'a str>| {
        value.ok_or_else(|| DecodeError { seq, reason: format!("{} has no {field}", event_type.as_str()) })
    };
    let time = |field: &'static str, text: &str| {
        Timestamp::parse(text).map(Timestamp::micros).map_err(|_| DecodeError {
            seq,
            reason: format!("{field} {text:?} of {} is not a timestamp", event_type.as_str()),
        })
    };
    let amount = |field: &'static str, value: Option<u64>| {
        value.ok_or_else(|| DecodeError { seq, reason: format!("{} has no {field}", event_type.as_str()) })
    };
    use EventType as T;
    let fact = match event_type {
        T::AgencyRegistered => Fact::AgencyRegistered {
            agency_id: need("agency_id", d.agency_id)?,
            name: d.name.ok_or_else(|| fail("AgencyRegistered has no name".into()))?,
            kind: parse_enum::<AgencyKind>(need("kind", d.kind)?).ok_or_else(|| fail("unknown agency kind".into()))?,
            coordinator: d.roles.unwrap_or_default().into_iter().any(|r| parse_enum(r) == Some(Role::Coordinator)),
        },
        T::JointMeetingConvened => Fact::MeetingConvened {
            meeting_id: need("meeting_id", d.meeting_id)?,
            invitees: d.invitees.unwrap_or_default(),
        },
        T::JointMeetingHeld => Fact::MeetingHeld {
            meeting_id: need("meeting_id", d.meeting_id)?,
            attendees: d.attendees.unwrap_or_default(),
        },
        T::ResponsibilityAssigned => Fact::TaskAssigned {
            task_id: need("task_id", d.task_id)?,
            assignee: need("assignee", d.assignee)?,
            due_us: time("due_at", need("due_at", d.due_at)?)?,
        },
        T::TaskDeadlineExtended => Fact::TaskExtended {
            task_id: need("task_id", d.task_id)?,
            due_us: time("due_at", need("due_at", d.due_at)?)?,
        },
        T::TaskAcknowledged => Fact::TaskAcknowledged { task_id: need("task_id", d.task_id)? },
        T::TaskCompleted => Fact::TaskCompleted { task_id: need("task_id", d.task_id)? },
        T::TaskCancelled => Fact::TaskCancelled { task_id: need("task_id", d.task_id)? },
        T::FraudCaseReported => {
            need("case_id", d.case_id)?;
            Fact::CaseReported { loss_minor: amount("loss_minor", d.loss_minor)? }
        }
        T::FreezeRequested => {
            Fact::FreezeRequested { freeze_id: need("freeze_id", d.freeze_id)?, bank: need("bank", d.bank)? }
        }
        T::FreezeExecuted => Fact::FreezeExecuted { freeze_id: need("freeze_id", d.freeze_id)? },
        T::FreezeRejected => Fact::FreezeRejected { freeze_id: need("freeze_id", d.freeze_id)? },
        T::FundsReturned => Fact::FundsReturned {
            freeze_id: need("freeze_id", d.freeze_id)?,
            amount_minor: amount("amount_minor", d.amount_minor)?,
        },
        T::ClueReferred => Fact::ClueReferred { clue_id: need("clue_id", d.clue_id)?, to: need("to", d.to)? },
        T::ClueFeedbackGiven => Fact::ClueFeedback { clue_id: need("clue_id", d.clue_id)? },
        T::EarlyWarningIssued => {
            Fact::WarningIssued { warning_id: need("warning_id", d.warning_id)?, to: need("to", d.to)? }
        }
        T::DissuasionRecorded => Fact::DissuasionRecorded { warning_id: need("warning_id", d.warning_id)? },
        T::CardBreakingAction => Fact::CardBreaking {
            // Each count is below 2^53, so the sum of three fits in a u64.
            disposed: amount("bank_cards", d.bank_cards)?
                + amount("phone_cards", d.phone_cards)?
                + amount("internet_accounts", d.internet_accounts)?,
        },
        T::PenaltyImposed => Fact::PenaltyImposed {
            penalty_id: need("penalty_id", d.penalty_id)?,
            target: need("target", d.target)?,
            kind: parse_enum::<PenaltyKind>(need("kind", d.kind)?)
                .ok_or_else(|| fail("unknown penalty kind".into()))?,
        },
        T::PenaltyRevoked => Fact::PenaltyRevoked { penalty_id: need("penalty_id", d.penalty_id)? },
        T::EventRetracted => Fact::Retracted { event_id: uuid(need("event_id", d.event_id)?, seq)? },
        T::FreezeReleased => Fact::FreezeReleased { freeze_id: need("freeze_id", d.freeze_id)? },
        T::PublicityDelivered | T::AssessmentPublished => Fact::Other,
    };
    Ok(Decoded {
        seq,
        id,
        actor,
        occurred_us: time("occurred_at", occurred_at)?,
        recorded_us: time("recorded_at", recorded_at)?,
        fact,
    })
}

/// A direct reader of canonical payloads, several times faster than a
/// general JSON parser on the rebuild path. RFC 8785 fixes the shape: keys
/// sorted, no whitespace, integers without fraction or exponent. Anything it
/// does not expect (an escape inside a field it reads, a number in another
/// notation) makes it give up, and the body goes through serde_json instead,
/// so it is a shortcut, never a second interpretation. Both paths fill the
/// same [`Data`] and share `build`.
mod payload {
    use std::borrow::Cow;

    use super::Data;

    struct Cursor<'a> {
        /// The payload's text (UTF-8, checked by the view); strings are sliced from it at
        /// the positions of ASCII quotes, which are always char boundaries.
        text: &'a str,
        b: &'a [u8],
        at: usize,
    }

    impl<'a> Cursor<'a> {
        fn expect(&mut self, lit: &[u8]) -> Option<()> {
            if self.b.get(self.at..self.at + lit.len())? == lit {
                self.at += lit.len();
                Some(())
            } else {
                None
            }
        }

        fn peek(&self) -> Option<u8> {
            self.b.get(self.at).copied()
        }

        /// The rest of a string whose opening quote was read, without escapes.
        fn plain_str(&mut self) -> Option<&'a str> {
            let start = self.at;
            let len = memchr::memchr2(b'"', b'\\', self.b.get(start..)?)?;
            if self.b[start + len] != b'"' {
                return None;
            }
            self.at = start + len + 1;
            self.text.get(start..start + len)
        }

        fn string(&mut self) -> Option<&'a str> {
            self.expect(b"\"")?;
            self.plain_str()
        }

        fn uint(&mut self) -> Option<u64> {
            let start = self.at;
            let len = self.b[start..].iter().position(|c| !c.is_ascii_digit())?;
            if len == 0 || len > 19 || matches!(self.b.get(start + len), Some(b'.' | b'e' | b'E')) {
                return None;
            }
            self.at = start + len;
            self.text.get(start..start + len)?.parse().ok()
        }

        fn strings(&mut self) -> Option<Vec<&'a str>> {
            self.expect(b"[")?;
            let mut out = Vec::new();
            if self.peek()? == b']' {
                self.at += 1;
                return Some(out);
            }
            loop {
                out.push(self.string()?);
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        return Some(out);
                    }
                    _ => return None,
                }
            }
        }

        /// Skips any JSON value.
        fn skip_value(&mut self) -> Option<()> {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    loop {
                        let rel = memchr::memchr2(b'"', b'\\', self.b.get(self.at..)?)?;
                        self.at += rel;
                        if self.b[self.at] == b'\\' {
                            self.at += 2;
                        } else {
                            self.at += 1;
                            return Some(());
                        }
                    }
                }
                b'{' | b'[' => {
                    let mut depth = 0usize;
                    loop {
                        match self.peek()? {
                            b'"' => self.skip_value()?,
                            b'{' | b'[' => {
                                depth += 1;
                                self.at += 1;
                            }
                            b'}' | b']' => {
                                depth -= 1;
                                self.at += 1;
                                if depth == 0 {
                                    return Some(());
                                }
                            }
                            _ => self.at += 1,
                        }
                    }
                }
                _ => {
                    let rel = self.b[self.at..].iter().position(|c| matches!(c, b',' | b'}' | b']'))?;
                    self.at += rel;
                    Some(())
                }
            }
        }

        fn data(&mut self) -> Option<Data<'a>> {
            let mut d = Data::default();
            self.expect(b"{")?;
            if self.peek()? == b'}' {
                self.at += 1;
                return Some(d);
            }
            loop {
                let key = self.string()?;
                self.expect(b":")?;
                match key {
                    "agency_id" => d.agency_id = Some(self.string()?),
                    "name" => d.name = Some(Cow::Borrowed(self.string()?)),
                    "kind" => d.kind = Some(self.string()?),
                    "roles" => d.roles = Some(self.strings()?),
                    "meeting_id" => d.meeting_id = Some(self.string()?),
                    "invitees" => d.invitees = Some(self.strings()?),
                    "attendees" => d.attendees = Some(self.strings()?),
                    "task_id" => d.task_id = Some(self.string()?),
                    "assignee" => d.assignee = Some(self.string()?),
                    "due_at" => d.due_at = Some(self.string()?),
                    "case_id" => d.case_id = Some(self.string()?),
                    "loss_minor" => d.loss_minor = Some(self.uint()?),
                    "freeze_id" => d.freeze_id = Some(self.string()?),
                    "bank" => d.bank = Some(self.string()?),
                    "amount_minor" => d.amount_minor = Some(self.uint()?),
                    "clue_id" => d.clue_id = Some(self.string()?),
                    "to" => d.to = Some(self.string()?),
                    "warning_id" => d.warning_id = Some(self.string()?),
                    "bank_cards" => d.bank_cards = Some(self.uint()?),
                    "phone_cards" => d.phone_cards = Some(self.uint()?),
                    "internet_accounts" => d.internet_accounts = Some(self.uint()?),
                    "penalty_id" => d.penalty_id = Some(self.string()?),
                    "target" => d.target = Some(self.string()?),
                    "event_id" => d.event_id = Some(self.string()?),
                    _ => self.skip_value()?,
                }
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        return Some(d);
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Reads a payload's canonical text; `None` when it is not of the
    /// expected shape.
    pub(super) fn read(text: &str) -> Option<Data<'_>> {
        let mut c = Cursor { text, b: text.as_bytes(), at: 0 };
        let data = c.data()?;
        (c.at == text.len()).then_some(data)
    }
}

/// A catalog enumeration from its wire text.
fn parse_enum<T: for<'de> Deserialize<'de>>(text: &str) -> Option<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text)).ok()
}

#[cfg(test)]
mod tests;
