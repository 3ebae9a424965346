//! The submitted envelope (SPEC 2.1): parsing untrusted JSON into a checked
//! [`Submission`], with every failure turned into a [`Rejection`] that names
//! its code and field.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::catalog::{EventType, Payload};
use crate::error::{ErrorCode, Rejection};
use crate::values::{AgencyId, CODE_MARK, Timestamp, parse_event_id, shorten};

/// A submitted event whose formats have been checked; the ledger's rules
/// (authority, lifecycle, references) are checked later against the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The client's idempotency id, if it chose one.
    pub id: Option<Uuid>,
    /// The agency that performed the action.
    pub actor: AgencyId,
    /// When the action happened, normalised to UTC.
    pub occurred_at: Timestamp,
    /// The typed payload; its variant is the event type.
    pub payload: Payload,
}

const ENVELOPE_FIELDS: [&str; 5] = ["id", "type", "actor", "occurred_at", "data"];

impl Submission {
    /// The event type.
    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// Parses one envelope from JSON text.
    ///
    /// A key repeated in any object is malformed: parsers disagree on which
    /// copy wins, and a ledger must not store what two readers see differently.
    pub fn parse_str(text: &str) -> Result<Self, Rejection> {
        let malformed = |e: serde_json::Error| {
            Rejection::new(ErrorCode::MalformedJson, format!("the input is not valid JSON: {e}"))
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let value = serde::Deserializer::deserialize_any(&mut de, StrictValue).map_err(malformed)?;
        de.end().map_err(malformed)?;
        Self::parse(value)
    }

    /// Parses one envelope from a JSON value.
    pub fn parse(value: Value) -> Result<Self, Rejection> {
        let Value::Object(mut obj) = value else {
            return Err(Rejection::new(ErrorCode::MalformedJson, "an event envelope must be a JSON object"));
        };
        if let Some(unknown) = obj.keys().find(|k| !ENVELOPE_FIELDS.contains(&k.as_str())) {
            return Err(Rejection::at(
                ErrorCode::EnvelopeUnknownField,
                unknown.clone(),
                format!(
                    "unknown envelope field {:?}; an envelope has only id, type, actor, occurred_at and data",
                    shorten(unknown)
                ),
            ));
        }
        let id = match obj.remove("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(parse_event_id(&s).map_err(|r| with_field(r, "id"))?),
            Some(_) => return Err(wrong_type("id", "a UUID string")),
        };
        let type_name = take_string(&mut obj, "type")?;
        let Some(event_type) = EventType::from_name(&type_name) else {
            return Err(Rejection::at(
                ErrorCode::UnknownEventType,
                "type",
                format!(
                    "{:?} is not an event type of the catalog (e.g. FreezeExecuted, TaskCompleted)",
                    shorten(&type_name)
                ),
            ));
        };
        let actor = AgencyId::parse(&take_string(&mut obj, "actor")?).map_err(|r| with_field(r, "actor"))?;
        let occurred_at = Timestamp::parse_occurred_at(&take_string(&mut obj, "occurred_at")?)
            .map_err(|r| with_field(r, "occurred_at"))?;
        let data = match obj.remove("data") {
            None => return Err(missing("data")),
            Some(v @ Value::Object(_)) => v,
            Some(_) => return Err(wrong_type("data", "a JSON object")),
        };
        let payload = Payload::from_json(event_type, data).map_err(|e| map_serde_error(event_type, e))?;
        Ok(Submission { id, actor, occurred_at, payload })
    }

    /// The envelope as submitted, normalised: what an idempotent retry must
    /// match. `id` is left out; it is the key, not the content.
    pub fn content_json(&self) -> Value {
        serde_json::json!({
            "type": self.event_type().as_str(),
            "actor": self.actor.as_str(),
            "occurred_at": self.occurred_at.to_rfc3339(),
            "data": self.payload.to_json(),
        })
    }
}

/// Builds a `serde_json::Value`, rejecting objects that repeat a key.
struct StrictValue;

impl<'de> serde::de::Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictSeed)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if obj.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "the key {:?} appears twice in one object",
                    shorten(&key)
                )));
            }
            let v = map.next_value_seed(StrictSeed)?;
            obj.insert(key, v);
        }
        Ok(Value::Object(obj))
    }
}

struct StrictSeed;

impl<'de> serde::de::DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictValue)
    }
}

fn take_string(obj: &mut Map<String, Value>, field: &'static str) -> Result<String, Rejection> {
    match obj.remove(field) {
        None | Some(Value::Null) => Err(missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(wrong_type(field, "a string")),
    }
}

fn missing(field: &'static str) -> Rejection {
    Rejection::at(ErrorCode::EnvelopeMissingField, field, format!("the envelope needs a {field:?} field"))
}

fn wrong_type(field: &'static str, expected: &str) -> Rejection {
    Rejection::at(ErrorCode::EnvelopeInvalidType, field, format!("envelope field {field:?} must be {expected}"))
}

fn with_field(mut r: Rejection, field: &str) -> Rejection {
    r.field = Some(field.to_owned());
    r
}

/// Turns a serde error from a payload into a coded rejection. Codes carried
/// by the value types (`values::coded`) are taken as they are; serde's own
/// messages are classified by their stable prefixes.
fn map_serde_error(ty: EventType, err: serde_path_to_error::Error<serde_json::Error>) -> Rejection {
    let path = err.path().to_string();
    let message = err.inner().to_string();
    // serde_json appends " at line L column C"; data came from a Value, so
    // there is no position worth keeping.
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    let mut field = if path == "." { "data".to_owned() } else { format!("data.{path}") };

    if let Some(rest) = message.strip_prefix(CODE_MARK)
        && let Some((code, sentence)) = rest.split_once(CODE_MARK)
    {
        let code = ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code).unwrap_or(ErrorCode::DataInvalidValue);
        let message = format!("{field}: {sentence}");
        return Rejection::at(code, field, message);
    }
    let code = if let Some(rest) = message.strip_prefix("unknown field `") {
        // serde_path_to_error's path already ends with the unknown key.
        let name = rest.split('`').next().unwrap_or_default();
        return Rejection::at(
            ErrorCode::DataUnknownField,
            field,
            format!("{} has no field {name:?}; remove it ({})", ty.as_str(), message),
        );
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        field = if path == "." { format!("data.{name}") } else { format!("data.{path}.{name}") };
        return Rejection::at(ErrorCode::DataMissingField, field, format!("{} needs the field {name:?}", ty.as_str()));
    } else if message.starts_with("invalid type") {
        ErrorCode::DataInvalidType
    } else {
        ErrorCode::DataInvalidValue
    };
    Rejection::at(code, field.clone(), format!("{field}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(data: Value) -> Value {
        json!({"type": "FreezeExecuted", "actor": "icbc-jinjiang", "occurred_at": "2026-03-02T08:17:30Z", "data": data})
    }

    fn code_of(v: Value) -> (ErrorCode, Option<String>) {
        let r = Submission::parse(v).unwrap_err();
        (r.code, r.field)
    }

    #[test]
    fn parses_the_spec_example() {
        let s = Submission::parse(json!({
            "id": "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e", "type": "FreezeExecuted", "actor": "icbc-jinjiang",
            "occurred_at": "2026-03-02T16:17:30+08:00",
            "data": { "freeze_id": "FRZ-2026-000123", "amount_frozen_minor": 1250000 }
        }))
        .unwrap();
        assert_eq!(s.event_type(), EventType::FreezeExecuted);
        assert_eq!(s.occurred_at.to_rfc3339(), "2026-03-02T08:17:30Z");
        assert_eq!(s.content_json()["data"], json!({"freeze_id": "FRZ-2026-000123", "amount_frozen_minor": 1250000}));
    }

    #[test]
    fn payload_errors_carry_codes_and_fields() {
        let ok = json!({"freeze_id": "F1", "amount_frozen_minor": 5});
        assert!(Submission::parse(env(ok)).is_ok());
        assert_eq!(
            code_of(env(json!({"freeze_id": "F1", "amount_frozen_minor": 5, "x": 1}))),
            (ErrorCode::DataUnknownField, Some("data.x".into()))
        );
        assert_eq!(
            code_of(env(json!({"freeze_id": "F1"}))),
            (ErrorCode::DataMissingField, Some("data.amount_frozen_minor".into()))
        );
        assert_eq!(
            code_of(env(json!({"freeze_id": "F1", "amount_frozen_minor": -1}))),
            (ErrorCode::AmountOutOfRange, Some("data.amount_frozen_minor".into()))
        );
        assert_eq!(
            code_of(env(json!({"freeze_id": "F1", "amount_frozen_minor": 1_000_000_000_000_001u64}))).0,
            ErrorCode::AmountOutOfRange
        );
        assert_eq!(
            code_of(env(json!({"freeze_id": "F1", "amount_frozen_minor": 1e30}))).0,
            ErrorCode::AmountOutOfRange
        );
        assert_eq!(code_of(env(json!({"freeze_id": "F1", "amount_frozen_minor": 2.5}))).0, ErrorCode::AmountOutOfRange);
        assert_eq!(code_of(env(json!({"freeze_id": "F1", "amount_frozen_minor": "5"}))).0, ErrorCode::DataInvalidType);
        assert_eq!(
            code_of(env(json!({"freeze_id": " bad", "amount_frozen_minor": 5}))),
            (ErrorCode::InvalidEntityId, Some("data.freeze_id".into()))
        );
    }

    #[test]
    fn envelope_errors_carry_codes_and_fields() {
        assert_eq!(Submission::parse_str("{not json").unwrap_err().code, ErrorCode::MalformedJson);
        assert_eq!(Submission::parse_str("[1]").unwrap_err().code, ErrorCode::MalformedJson);
        let mut v = env(json!({"freeze_id": "F1", "amount_frozen_minor": 5}));
        v["extra"] = json!(1);
        assert_eq!(code_of(v).0, ErrorCode::EnvelopeUnknownField);
        let mut v = env(json!({}));
        v["type"] = json!("FreezeTeleported");
        assert_eq!(code_of(v).0, ErrorCode::UnknownEventType);
        let mut v = env(json!({}));
        v["id"] = json!("not-a-uuid");
        assert_eq!(code_of(v), (ErrorCode::InvalidEventId, Some("id".into())));
        let mut v = env(json!({}));
        v["id"] = json!("00000000-0000-0000-0000-000000000000");
        assert_eq!(code_of(v), (ErrorCode::NilEventId, Some("id".into())));
        let mut v = env(json!({}));
        v["occurred_at"] = json!("1999-12-31T23:59:59Z");
        assert_eq!(code_of(v), (ErrorCode::OccurredTooEarly, Some("occurred_at".into())));
        let mut v = env(json!({}));
        v["occurred_at"] = json!("2026-12-31T23:59:60Z");
        assert_eq!(code_of(v), (ErrorCode::LeapSecond, Some("occurred_at".into())));
        let mut v = env(json!({}));
        v["actor"] = json!("ICBC");
        assert_eq!(code_of(v), (ErrorCode::InvalidAgencyId, Some("actor".into())));
        let mut v = env(json!({}));
        v.as_object_mut().unwrap().remove("occurred_at");
        assert_eq!(code_of(v), (ErrorCode::EnvelopeMissingField, Some("occurred_at".into())));
        let mut v = env(json!({}));
        v["data"] = json!([1]);
        assert_eq!(code_of(v).0, ErrorCode::EnvelopeInvalidType);
    }

    #[test]
    fn repeated_keys_are_malformed_at_any_depth() {
        let top = r#"{"type":"PublicityDelivered","type":"AgencyRegistered","actor":"a1","occurred_at":"2026-01-01T00:00:00Z","data":{}}"#;
        assert_eq!(Submission::parse_str(top).unwrap_err().code, ErrorCode::MalformedJson);
        let nested = r#"{"type":"FreezeExecuted","actor":"a1","occurred_at":"2026-01-01T00:00:00Z","data":{"freeze_id":"F","amount_frozen_minor":1,"amount_frozen_minor":2}}"#;
        let r = Submission::parse_str(nested).unwrap_err();
        assert_eq!(r.code, ErrorCode::MalformedJson);
        assert!(r.message.contains("amount_frozen_minor"), "{}", r.message);
        let ok = r#"{"type":"FreezeExecuted","actor":"a1","occurred_at":"2026-01-01T00:00:00Z","data":{"freeze_id":"F","amount_frozen_minor":1}} "#;
        assert!(Submission::parse_str(ok).is_ok());
        assert_eq!(Submission::parse_str(&format!("{ok}{ok}")).unwrap_err().code, ErrorCode::MalformedJson);
    }

    #[test]
    fn nested_fields_are_named() {
        let v = json!({"type": "JointMeetingConvened", "actor": "office", "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"meeting_id": "M1", "title": "t", "scheduled_for": "2026-01-02T00:00:00Z", "invitees": ["ok-1", "BAD"]}});
        assert_eq!(code_of(v), (ErrorCode::InvalidAgencyId, Some("data.invitees[1]".into())));
        let v = json!({"type": "AgencyRegistered", "actor": "office", "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"agency_id": "office", "name": "n", "kind": "spaceship"}});
        assert_eq!(code_of(v), (ErrorCode::DataInvalidValue, Some("data.kind".into())));
    }
}
