//! Value types of the catalog: identifiers, timestamps, money, counts and
//! texts. Each format rule of SPEC 2.3 lives here, once, in a `parse`
//! constructor; deserialization goes through the same constructor, so a value
//! that exists has been checked. Each type also states its rule as JSON
//! Schema (`JsonSchema` impls at the end), for `schema/events/`.
//!
//! Deserialization errors carry their stable code inside the serde message
//! (see [`coded`]); `envelope::map_serde_error` takes it back out.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{ErrorCode, Rejection};

mod timestamp;

pub use timestamp::{EARLIEST_OCCURRED_AT, EARLIEST_OCCURRED_AT_MICROS, Timestamp};

/// Separator used to carry an [`ErrorCode`] through a serde error message.
pub(crate) const CODE_MARK: char = '\u{1}';

/// A serde custom error that carries its code, for `map_serde_error`.
pub(crate) fn coded<E: de::Error>(code: ErrorCode, message: impl fmt::Display) -> E {
    E::custom(format_args!("{CODE_MARK}{}{CODE_MARK}{message}", code.as_str()))
}

/// Largest amount of money, in minor units (fen).
pub const MAX_AMOUNT_MINOR: u64 = 1_000_000_000_000_000;
/// Largest count; integers in `data` stay below 2^53 (SPEC 2.2).
pub const MAX_COUNT: u64 = (1 << 53) - 1;
/// Longest text, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;

macro_rules! string_value {
    ($name:ident, $what:literal) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(|r| coded(r.code, r.message))
            }
        }
    };
}

/// An agency identifier: `[a-z0-9][a-z0-9-]{1,63}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyId(String);
string_value!(AgencyId, "agency id");

impl AgencyId {
    /// Checks the format of an agency id.
    pub fn parse(raw: &str) -> Result<Self, Rejection> {
        let b = raw.as_bytes();
        let ok = (2..=64).contains(&b.len())
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b[1..].iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Rejection::new(
                ErrorCode::InvalidAgencyId,
                format!(
                    "{:?} is not an agency id: use 2-64 characters of a-z, 0-9 and '-', starting with a letter or digit",
                    shorten(raw)
                ),
            ))
        }
    }
}

/// An entity identifier (task, freeze, meeting …): `[A-Za-z0-9][A-Za-z0-9._:-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(String);
string_value!(EntityId, "entity id");

impl EntityId {
    /// Checks the format of an entity id.
    pub fn parse(raw: &str) -> Result<Self, Rejection> {
        let b = raw.as_bytes();
        let ok = (1..=128).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b[1..].iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Rejection::new(
                ErrorCode::InvalidEntityId,
                format!(
                    "{:?} is not an entity id: use 1-128 characters of A-Z, a-z, 0-9 and . _ : -, starting with a letter or digit",
                    shorten(raw)
                ),
            ))
        }
    }
}

/// Free text of at most 4,000 characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text(String);
string_value!(Text, "text");

impl Text {
    /// Checks length and blankness of a text.
    pub fn parse(raw: &str) -> Result<Self, Rejection> {
        if raw.trim().is_empty() {
            return Err(Rejection::new(
                ErrorCode::TextEmpty,
                "the text is empty; write at least one visible character",
            ));
        }
        let n = raw.chars().count();
        if n > MAX_TEXT_CHARS {
            return Err(Rejection::new(
                ErrorCode::TextTooLong,
                format!("the text has {n} characters; at most {MAX_TEXT_CHARS} are allowed"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// An opaque reference to a bank account; never the raw account number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountRef(String);
string_value!(AccountRef, "account reference");

impl AccountRef {
    /// Rejects what looks like a raw account number: without spaces and
    /// hyphens, 8-30 digits and nothing else (SPEC 2.3).
    pub fn parse(raw: &str) -> Result<Self, Rejection> {
        let text = Text::parse(raw)?;
        let digits: Vec<char> = raw.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if (8..=30).contains(&digits.len()) && digits.iter().all(|c| c.is_ascii_digit()) {
            return Err(Rejection::new(
                ErrorCode::RawAccountNumber,
                "account_ref looks like a raw account number; send an opaque reference instead, \
                 for example hex(HMAC-SHA256(agency key, account number))",
            ));
        }
        Ok(Self(text.0))
    }
}

/// A lowercase hex SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha256Hex(String);
string_value!(Sha256Hex, "SHA-256");

impl Sha256Hex {
    /// Checks for 64 lowercase hex characters.
    pub fn parse(raw: &str) -> Result<Self, Rejection> {
        if raw.len() == 64 && raw.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Rejection::new(ErrorCode::InvalidHash, "expected 64 lowercase hex characters (a SHA-256 digest)"))
        }
    }
}

/// An event id inside a payload (`EventRetracted.event_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventRef(pub uuid::Uuid);

impl Serialize for EventRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.hyphenated())
    }
}

impl<'de> Deserialize<'de> for EventRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        parse_uuid(&raw).map(EventRef).map_err(|r| coded(r.code, r.message))
    }
}

/// Parses an event id chosen by a client (the envelope's `id`): a UUID in
/// its hyphenated form, not the nil UUID (SPEC 2.1).
pub fn parse_event_id(raw: &str) -> Result<uuid::Uuid, Rejection> {
    let id = parse_uuid(raw)?;
    if id.is_nil() {
        return Err(Rejection::new(
            ErrorCode::NilEventId,
            "the event id is the nil UUID 00000000-0000-0000-0000-000000000000, which no event may have; \
             choose another UUID or leave `id` out and the ledger assigns one",
        ));
    }
    Ok(id)
}

/// Parses a UUID in its hyphenated form.
pub fn parse_uuid(raw: &str) -> Result<uuid::Uuid, Rejection> {
    if raw.len() == 36
        && let Ok(u) = uuid::Uuid::try_parse(raw)
    {
        return Ok(u);
    }
    Err(Rejection::new(
        ErrorCode::InvalidEventId,
        format!("{:?} is not a UUID in the form 8-4-4-4-12 hex digits", shorten(raw)),
    ))
}

/// An amount of money in minor units (fen): an integer from 0 to 10^15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AmountMinor(pub u64);

/// A non-negative count below 2^53.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Count(pub u64);

struct BoundedInt {
    max: u64,
    code: ErrorCode,
    what: &'static str,
}

impl<'de> Visitor<'de> for BoundedInt {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an integer from 0 to {}", self.max)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        if v <= self.max {
            Ok(v)
        } else {
            Err(coded(self.code, format_args!("{} {v} is above the maximum {}", self.what, self.max)))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => {
                Err(coded(self.code, format_args!("{} {v} is negative; it must be from 0 to {}", self.what, self.max)))
            }
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        Err(coded(
            self.code,
            format_args!(
                "{} {v} is not a whole number from 0 to {}; amounts are integers in minor units",
                self.what, self.max
            ),
        ))
    }
}

impl<'de> Deserialize<'de> for AmountMinor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoundedInt { max: MAX_AMOUNT_MINOR, code: ErrorCode::AmountOutOfRange, what: "amount" })
            .map(AmountMinor)
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoundedInt { max: MAX_COUNT, code: ErrorCode::CountOutOfRange, what: "count" }).map(Count)
    }
}

// JSON Schema (schema/events/). Each schema states the same rule as the
// type's `parse` above, as exactly as JSON Schema can; where it cannot, the
// description says what the ledger checks besides. Patterns use only syntax
// that ECMA-262 and the Rust `regex` crate read alike: ASCII classes, `(?:)`
// groups, `\uXXXX` escapes, no `\d`/`\s`/`\w` (whose meaning differs).
// `crates/domain/tests/schemas.rs` holds the schemas to the parsers.

/// The characters `str::trim` removes (Unicode White_Space): a text made only
/// of these is blank. The schema test checks this list against `char::is_whitespace`.
const WHITESPACE_CLASS: &str = r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// A full date with its real month lengths and leap years (chrono rejects 2026-02-29).
const DATE_PATTERN: &str = concat!(
    "(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)",
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))",
    "|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)",
);

/// Hours, minutes and seconds, at most 6 fractional digits. No leap second: chrono reads `:60` at
/// any minute, `format: date-time` only where UTC is 23:59:60; a pattern cannot follow the offset.
const TIME_PATTERN: &str = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?";

/// `Z` or a numeric offset up to ±23:59.
const OFFSET_PATTERN: &str = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";

/// Implements `JsonSchema` for a value type with a fixed schema.
macro_rules! value_schema {
    ($name:ident, $schema:expr) => {
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn schema_id() -> Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

value_schema!(
    AgencyId,
    json_schema!({
        "description": "An agency identifier: 2-64 characters of a-z, 0-9 and '-', starting with a letter or digit.",
        "type": "string",
        "pattern": "^[a-z0-9][a-z0-9-]{1,63}$",
    })
);

value_schema!(
    EntityId,
    json_schema!({
        "description": "An entity identifier (task, freeze, meeting ...): 1-128 characters of A-Z, a-z, 0-9 and . _ : -, starting with a letter or digit.",
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
    })
);

/// The schema of a text; `AccountRef` adds to it.
fn text_schema() -> Schema {
    json_schema!({
        "description": format!(
            "Free text of at most {MAX_TEXT_CHARS} characters (Unicode code points); blank text (empty or only whitespace) is rejected."
        ),
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TEXT_CHARS,
        "pattern": format!("[^{WHITESPACE_CLASS}]"),
    })
}

value_schema!(Text, text_schema());

value_schema!(AccountRef, {
    let mut schema = text_schema();
    schema.insert(
        "description".into(),
        "An opaque reference to a bank account, never the raw account number: a text that, without spaces and \
         hyphens, is 8-30 digits and nothing else is rejected. Derive it, e.g. as hex(HMAC-SHA256(agency key, \
         account number))."
            .into(),
    );
    schema.insert("not".into(), serde_json::json!({ "pattern": "^[- ]*(?:[0-9][- ]*){8,30}$" }));
    schema
});

value_schema!(
    Sha256Hex,
    json_schema!({
        "description": "A SHA-256 digest: 64 lowercase hex characters.",
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
    })
);

value_schema!(
    EventRef,
    json_schema!({
        "description": "An event id: a UUID in the hyphenated 8-4-4-4-12 form (hex digits in either case).",
        "type": "string",
        "format": "uuid",
        "pattern": "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
    })
);

value_schema!(
    Timestamp,
    json_schema!({
        "description": "An RFC 3339 date-time with an offset (Z or ±hh:mm) and at most 6 fractional digits (more are rejected, never rounded); the ledger normalises it to UTC.",
        "type": "string",
        "format": "date-time",
        "pattern": format!("^{DATE_PATTERN}[Tt]{TIME_PATTERN}{OFFSET_PATTERN}$"),
    })
);

value_schema!(
    AmountMinor,
    json_schema!({
        "description": "An amount of money in minor units (fen): an integer from 0 to 10^15, written without a fraction or exponent.",
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_AMOUNT_MINOR,
    })
);

value_schema!(
    Count,
    json_schema!({
        "description": "A count: an integer from 0 to 2^53 - 1, written without a fraction or exponent.",
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_COUNT,
    })
);

/// Cuts a user-supplied string for quoting in an error message.
pub(crate) fn shorten(raw: &str) -> String {
    const MAX: usize = 80;
    if raw.chars().count() <= MAX {
        raw.to_owned()
    } else {
        let mut s: String = raw.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests;
