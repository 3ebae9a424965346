//! The JSON Schemas in `schema/events/` held to the Rust types they describe.
//!
//! - `schemas_match_rust_types`: every file is exactly what the types in
//!   `catalog.rs` and `values.rs` generate (a drift test). After changing a
//!   type, regenerate the files with
//!   `GOVLEDGER_UPDATE_SCHEMAS=1 cargo test -p govledger-domain --test schemas`
//!   and commit them.
//! - The agreement tests put an independent validator (the `jsonschema`
//!   crate, formats asserted and not) beside `Submission::parse` and
//!   `Txn::admit` on the same documents: a valid history with every event
//!   type, documents broken in each way a client can break them, the
//!   state-independent rules the schemas state, and edge cases of every value
//!   format. Each disagreement is either listed in `KNOWN_DIFFERENCES` (with
//!   the reason) or fails the test.
//!
//! The files: `envelope.json` (SPEC 2.1, the submitted envelope),
//! `stored-envelope.json` (SPEC 2.2, a line of `govledger export`) and one
//! `<Type>.json` per payload. Each is self-contained (its own `$defs`), so any
//! 2020-12 validator can use one file without resolving references; the
//! envelopes tie `type` to its payload with `if`/`then`.
//!
//! What the schemas cannot say, so only the Rust side checks it:
//! - a number written with a fraction or an exponent (`5.0`, `1e3`) is an
//!   integer to JSON Schema, which compares values, but the ledger wants
//!   integers written as integers;
//! - every rule that needs the ledger's state: ids new or known, who may act,
//!   lifecycles and their order, retractions, `as_of_seq` up to the head;
//! - rules that compare two values: `due_at` after `occurred_at`,
//!   `period_from` before `period_to`, a clue's `to` not the actor,
//!   resolution ids unique within a meeting, `occurred_at` at most 5 minutes
//!   after the ledger's clock.
//!
//! Timestamps: both sides take plain RFC 3339 without leap seconds; the
//! parser refuses what chrono alone would read (a space for `T`, U+2212 for
//! the offset's minus, `:60`), and the tables below keep those cases, so a
//! document the schemas accept is one the parser accepts, but for the `5.0`
//! case above. A submitted `occurred_at` is from 2000 on in UTC; the pattern
//! that says so is stricter than the parser on the bound's first day
//! (`OCCURRED_AT_STRICTER_IN_SCHEMA`). Python's `re` lets `$` match
//! before a final newline; validators that follow ECMA-262, as JSON Schema
//! asks, do not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::{env, fs};

use govledger_domain::catalog::*;
use govledger_domain::values::{AccountRef, EARLIEST_OCCURRED_AT, EventRef, MAX_COUNT, Sha256Hex};
use govledger_domain::{AgencyId, AmountMinor, Count, EntityId, ErrorCode, State, Submission, Text, Timestamp};
use jsonschema::Validator;
use schemars::Schema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};
use uuid::Uuid;

const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/events");
const UPDATE_VAR: &str = "GOVLEDGER_UPDATE_SCHEMAS";
const GENERATED_NOTE: &str = "Generated from the Rust types in crates/domain (catalog.rs, values.rs) by \
    crates/domain/tests/schemas.rs. Do not edit by hand: run GOVLEDGER_UPDATE_SCHEMAS=1 cargo test -p \
    govledger-domain --test schemas.";
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

// ---------------------------------------------------------------------------
// The generator: schema files from the Rust types.

/// Runs `$body` with `$T` naming the payload struct of event type `$ty`. The
/// match is exhaustive, so a new event type cannot be forgotten here.
macro_rules! with_payload_type {
    ($ty:expr, $T:ident => $body:expr) => {
        match $ty {
            EventType::AgencyRegistered => {
                type $T = AgencyRegistered;
                $body
            }
            EventType::JointMeetingConvened => {
                type $T = JointMeetingConvened;
                $body
            }
            EventType::JointMeetingHeld => {
                type $T = JointMeetingHeld;
                $body
            }
            EventType::ResponsibilityAssigned => {
                type $T = ResponsibilityAssigned;
                $body
            }
            EventType::TaskAcknowledged => {
                type $T = TaskAcknowledged;
                $body
            }
            EventType::TaskCompleted => {
                type $T = TaskCompleted;
                $body
            }
            EventType::TaskDeadlineExtended => {
                type $T = TaskDeadlineExtended;
                $body
            }
            EventType::TaskCancelled => {
                type $T = TaskCancelled;
                $body
            }
            EventType::FraudCaseReported => {
                type $T = FraudCaseReported;
                $body
            }
            EventType::FreezeRequested => {
                type $T = FreezeRequested;
                $body
            }
            EventType::FreezeExecuted => {
                type $T = FreezeExecuted;
                $body
            }
            EventType::FreezeRejected => {
                type $T = FreezeRejected;
                $body
            }
            EventType::FreezeReleased => {
                type $T = FreezeReleased;
                $body
            }
            EventType::FundsReturned => {
                type $T = FundsReturned;
                $body
            }
            EventType::ClueReferred => {
                type $T = ClueReferred;
                $body
            }
            EventType::ClueFeedbackGiven => {
                type $T = ClueFeedbackGiven;
                $body
            }
            EventType::EarlyWarningIssued => {
                type $T = EarlyWarningIssued;
                $body
            }
            EventType::DissuasionRecorded => {
                type $T = DissuasionRecorded;
                $body
            }
            EventType::CardBreakingAction => {
                type $T = CardBreakingAction;
                $body
            }
            EventType::PenaltyImposed => {
                type $T = PenaltyImposed;
                $body
            }
            EventType::PenaltyRevoked => {
                type $T = PenaltyRevoked;
                $body
            }
            EventType::PublicityDelivered => {
                type $T = PublicityDelivered;
                $body
            }
            EventType::EventRetracted => {
                type $T = EventRetracted;
                $body
            }
            EventType::AssessmentPublished => {
                type $T = AssessmentPublished;
                $body
            }
        }
    };
}

/// Every schema file, by file name, as the types generate it.
fn generated() -> &'static BTreeMap<String, Value> {
    static FILES: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    FILES.get_or_init(|| {
        let history = history();
        let mut files = BTreeMap::new();
        for &ty in EventType::ALL {
            let schema = with_payload_type!(ty, T => SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>());
            let mut schema = schema.to_value();
            schema["$comment"] = GENERATED_NOTE.into();
            let example = history.iter().find(|e| e["type"] == ty.as_str()).map(|e| e["data"].clone());
            schema["examples"] = json!([example.expect("the history has an event of every type")]);
            files.insert(format!("{}.json", ty.as_str()), schema);
        }
        let spec_example = history.iter().find(|e| e["type"] == "FreezeExecuted").cloned();
        let mut envelope = envelope_schema(false);
        envelope["examples"] = json!([spec_example]);
        files.insert("envelope.json".to_owned(), envelope);
        files.insert("stored-envelope.json".to_owned(), envelope_schema(true));
        files
    })
}

/// `schema` with a description next to it (a `$ref` may have siblings in 2020-12).
fn described(schema: Schema, description: &str) -> Value {
    let mut v = schema.to_value();
    v["description"] = description.into();
    v
}

/// The submitted envelope (SPEC 2.1) or, with `stored`, the stored one (SPEC 2.2).
fn envelope_schema(stored: bool) -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    for &ty in EventType::ALL {
        // Registers the payload's schema (and those it uses) in `$defs`.
        with_payload_type!(ty, T => { let _ = generator.subschema_for::<T>(); });
    }
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    let mut properties = serde_json::Map::new();
    properties.insert(
        "type".into(),
        json!({"description": "The event type, one of the catalog of SPEC 2.3.", "enum": names}),
    );
    properties.insert(
        "actor".into(),
        described(generator.subschema_for::<AgencyId>(), "The agency that performed the action."),
    );
    properties.insert(
        "data".into(),
        json!({"description": "The payload of `type`: the schema in $defs named after the type.", "type": "object"}),
    );
    let links: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"properties": {"data": {"$ref": format!("#/$defs/{name}")}}},
            })
        })
        .collect();
    let mut all_of = links;
    let (title, description, required);
    if stored {
        title = "Stored event envelope";
        description = "One event as the ledger stores and exports it (SPEC 2.2): a line of `govledger export`. \
            The hashed canonical form is this object without `hash`, serialised with RFC 8785 (JCS).";
        properties.insert(
            "seq".into(),
            json!({"description": "The event's position in the one log: 1, 2, 3 ... with no gaps.",
                   "type": "integer", "minimum": 1, "maximum": MAX_COUNT}),
        );
        properties.insert(
            "id".into(),
            described(
                generator.subschema_for::<EventRef>(),
                "The event's id: the client's, or a UUIDv7 the ledger assigned.",
            ),
        );
        properties.insert(
            "occurred_at".into(),
            json!({"description": "When the action happened, normalised to UTC.", "$ref": "#/$defs/UtcTimestamp"}),
        );
        properties.insert(
            "recorded_at".into(),
            json!({"description": "The ledger's time of the append.", "$ref": "#/$defs/UtcTimestamp"}),
        );
        properties.insert(
            "prev_hash".into(),
            described(generator.subschema_for::<Sha256Hex>(), "`hash` of event seq - 1; 64 zeros for seq 1."),
        );
        properties.insert(
            "hash".into(),
            described(
                generator.subschema_for::<Sha256Hex>(),
                "SHA-256 of the canonical form: this object without `hash`, serialised with RFC 8785.",
            ),
        );
        all_of.push(json!({
            "if": {"properties": {"seq": {"const": 1}}, "required": ["seq"]},
            "then": {"properties": {"prev_hash": {"const": GENESIS_HASH}}},
        }));
        required = vec!["seq", "id", "type", "actor", "occurred_at", "recorded_at", "data", "prev_hash", "hash"];
    } else {
        title = "Submitted event envelope";
        description = "One event as a client submits it (SPEC 2.1), e.g. a line of a `govledger import` file.";
        properties.insert(
            "id".into(),
            json!({
                "description": "Optional idempotency key chosen by the client, not the nil UUID; the ledger assigns a UUIDv7 when it is absent or null.",
                "anyOf": [
                    {"$ref": generator.subschema_for::<EventRef>().to_value()["$ref"], "not": {"const": Uuid::nil().hyphenated().to_string()}},
                    {"type": "null"},
                ],
            }),
        );
        let mut occurred_at = described(
            generator.subschema_for::<Timestamp>(),
            &format!(
                "When the action happened: not before {EARLIEST_OCCURRED_AT} once normalised to UTC, and rejected when \
                 more than 5 minutes after the ledger's time. The pattern is stricter than the ledger, which compares \
                 the instant, near the bound: on 2000-01-01 it takes only Z, +00:00 or a negative offset (a positive \
                 one may still be 1999 in UTC), and it refuses 1999-12-31 (which a negative offset may make 2000)."
            ),
        );
        occurred_at["pattern"] = OCCURRED_AT_BOUND_PATTERN.into();
        properties.insert("occurred_at".into(), occurred_at);
        required = vec!["type", "actor", "occurred_at", "data"];
    }
    let mut defs = generator.take_definitions(true);
    if stored {
        defs.insert(
            "UtcTimestamp".into(),
            json!({
                "description": "A timestamp as the ledger writes it: UTC with Z, and 0, 3 or 6 fractional digits.",
                "$ref": "#/$defs/Timestamp",
                "pattern": r"T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3}|\.[0-9]{6})?Z$",
            }),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": GENERATED_NOTE,
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
        "allOf": all_of,
        "$defs": defs,
    })
}

/// A submitted `occurred_at` from 2000 on (SPEC 2.1), as far as a pattern can
/// say it: any later year, any later day of 2000, and 2000-01-01 with an offset
/// that keeps it in 2000 in UTC whatever the time of day.
const OCCURRED_AT_BOUND_PATTERN: &str = concat!(
    "^(?:(?:200[1-9]|20[1-9][0-9]|2[1-9][0-9]{2}|[3-9][0-9]{3})-",
    "|2000-(?:0[2-9]|1[0-2])-",
    "|2000-01-(?:0[2-9]|[12][0-9]|3[01])[Tt]",
    "|2000-01-01[Tt][^+]*(?:[Zz]|[+]00:00|-[0-9]{2}:[0-9]{2})$)",
);

/// Where a JSON value sits in a schema: it decides the order of its keys.
#[derive(Clone, Copy)]
enum Place {
    /// A schema: keywords in reading order (`KEYWORD_ORDER`).
    Schema,
    /// A map from names to schemas (`properties`, `$defs`): names sorted.
    Names,
    /// Instance data (`examples`, `enum`, `const`, `required`): keys sorted.
    Data,
}

/// Keywords first in this order; others after them, alphabetically, before `examples` and `$defs`.
const KEYWORD_ORDER: &[&str] = &[
    "$schema",
    "$comment",
    "title",
    "description",
    "$ref",
    "type",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "enum",
    "const",
    "items",
    "minItems",
    "uniqueItems",
    "anyOf",
    "not",
    "properties",
    "required",
    "additionalProperties",
    "if",
    "then",
    "else",
    "allOf",
];

fn keyword_rank(key: &str) -> (usize, usize, &str) {
    match (KEYWORD_ORDER.iter().position(|k| *k == key), key) {
        (Some(i), _) => (0, i, key),
        (None, "examples") => (2, 0, key),
        (None, "$defs") => (3, 0, key),
        (None, _) => (1, 0, key),
    }
}

/// Serializes a `Value` with keys in a fixed order, whatever order the map
/// keeps (serde_json's `preserve_order` may be on in some builds), so the
/// files are stable and read top-down.
struct Ordered<'a>(&'a Value, Place);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
                match self.1 {
                    Place::Schema => keys.sort_by_key(|k| keyword_rank(k)),
                    Place::Names | Place::Data => keys.sort_unstable(),
                }
                let mut out = s.serialize_map(Some(keys.len()))?;
                for key in keys {
                    let place = match (self.1, key) {
                        (Place::Schema, "properties" | "$defs" | "patternProperties" | "dependentSchemas") => {
                            Place::Names
                        }
                        (Place::Schema, "examples" | "enum" | "const" | "default" | "required") => Place::Data,
                        (Place::Schema | Place::Names, _) => Place::Schema,
                        (Place::Data, _) => Place::Data,
                    };
                    out.serialize_entry(key, &Ordered(&map[key], place))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Ordered(item, self.1))?;
                }
                out.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The text of a schema file: pretty JSON, two-space indent, final newline.
fn render(schema: &Value) -> String {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"  "));
    Ordered(schema, Place::Schema).serialize(&mut ser).expect("a Value serializes");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// The schema files now in `schema/events/`, by name.
fn files_on_disk() -> BTreeMap<String, String> {
    let Ok(entries) = fs::read_dir(SCHEMA_DIR) else { return BTreeMap::new() };
    entries
        .map(|e| e.expect("list schema/events").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name").to_owned();
            let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            (name, text)
        })
        .collect()
}

/// A short diff of the first difference between two texts.
fn first_difference(on_disk: &str, generated: &str) -> String {
    let old: Vec<&str> = on_disk.lines().collect();
    let new: Vec<&str> = generated.lines().collect();
    let at = old.iter().zip(&new).position(|(a, b)| a != b).unwrap_or(old.len().min(new.len()));
    let from = at.saturating_sub(2);
    let mut out = format!("  first difference at line {} (- in the file, + generated):\n", at + 1);
    for (i, line) in old.iter().enumerate().skip(from).take(at - from) {
        out += &format!("  {:>5}   {line}\n", i + 1);
    }
    for line in old.iter().skip(at).take(4) {
        out += &format!("        - {line}\n");
    }
    for line in new.iter().skip(at).take(4) {
        out += &format!("        + {line}\n");
    }
    out
}

#[test]
fn schemas_match_rust_types() {
    let expected: BTreeMap<&String, String> = generated().iter().map(|(name, v)| (name, render(v))).collect();
    assert_eq!(expected.len(), EventType::ALL.len() + 2, "one file per event type and the two envelopes");
    let on_disk = files_on_disk();

    if env::var(UPDATE_VAR).is_ok_and(|v| v == "1") {
        fs::create_dir_all(SCHEMA_DIR).expect("create schema/events");
        for (name, text) in &expected {
            if on_disk.get(*name) != Some(text) {
                fs::write(Path::new(SCHEMA_DIR).join(name), text).expect("write a schema file");
                eprintln!("schema/events/{name}: written");
            }
        }
        for name in on_disk.keys().filter(|n| !expected.contains_key(n)) {
            fs::remove_file(Path::new(SCHEMA_DIR).join(name)).expect("remove a stale schema file");
            eprintln!("schema/events/{name}: removed (no type generates it)");
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, text) in &expected {
        match on_disk.get(*name) {
            None => problems.push(format!("schema/events/{name}: missing")),
            Some(actual) if actual != text => problems.push(format!(
                "schema/events/{name}: differs from what the types generate\n{}",
                first_difference(actual, text)
            )),
            Some(_) => {}
        }
    }
    for name in on_disk.keys().filter(|n| !expected.contains_key(n)) {
        problems.push(format!("schema/events/{name}: no type generates it (stale?)"));
    }
    assert!(
        problems.is_empty(),
        "schema/events/ has drifted from the Rust types:\n\n{}\n\nIf the change to the types is intended, regenerate \
         the files with\n    {UPDATE_VAR}=1 cargo test -p govledger-domain --test schemas\nand commit them.",
        problems.join("\n")
    );
}

#[test]
fn every_schema_is_valid_json_schema_2020_12() {
    for (name, schema) in generated() {
        if let Err(e) = jsonschema::meta::validate(schema) {
            panic!("{name} is not a valid JSON Schema: {e}");
        }
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name}");
    }
    // Payloads reject unknown fields and require exactly their non-Option fields.
    for &ty in EventType::ALL {
        let schema = &generated()[&format!("{}.json", ty.as_str())];
        assert_eq!(schema["additionalProperties"], false, "{}", ty.as_str());
        let required: BTreeSet<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let optional: BTreeSet<&str> = schema["properties"]
            .as_object()
            .expect("payload properties")
            .keys()
            .map(String::as_str)
            .filter(|k| !required.contains(k))
            .collect();
        let expected_optional: BTreeSet<&str> = optional_fields(ty).iter().copied().collect();
        assert_eq!(optional, expected_optional, "optional fields of {}", ty.as_str());
    }
}

/// The `Option` fields of each payload, as SPEC 2.3 marks them with `?`.
fn optional_fields(ty: EventType) -> &'static [&'static str] {
    match ty {
        EventType::AgencyRegistered => &["jurisdiction", "roles"],
        EventType::ResponsibilityAssigned => &["legal_basis", "meeting_id", "resolution_id"],
        EventType::TaskCompleted => &["evidence"],
        EventType::FreezeRequested => &["case_id"],
        EventType::ClueReferred => &["summary"],
        EventType::ClueFeedbackGiven => &["action"],
        EventType::CardBreakingAction => &["operation"],
        EventType::PenaltyImposed => &["amount_minor"],
        _ => &[],
    }
}

// ---------------------------------------------------------------------------
// Validators and verdicts.

/// A validator for `schema`; with `formats`, `format` is asserted too (2020-12
/// leaves that to the validator, so the schemas must be right either way).
fn validator(schema: &Value, formats: bool) -> Validator {
    jsonschema::options()
        .should_validate_formats(formats)
        .build(schema)
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}"))
}

/// Why the validator rejects `doc`, or an empty list if it accepts it.
fn schema_errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {:?}", e, e.instance_path().to_string())).collect()
}

struct Validators {
    /// envelope.json, formats asserted and not.
    envelope: [Validator; 2],
    stored: [Validator; 2],
    payload: BTreeMap<EventType, [Validator; 2]>,
}

fn validators() -> &'static Validators {
    static V: OnceLock<Validators> = OnceLock::new();
    V.get_or_init(|| {
        let files = generated();
        let both = |name: &str| [validator(&files[name], true), validator(&files[name], false)];
        Validators {
            envelope: both("envelope.json"),
            stored: both("stored-envelope.json"),
            payload: EventType::ALL.iter().map(|&t| (t, both(&format!("{}.json", t.as_str())))).collect(),
        }
    })
}

/// The verdict of a pair of validators; they must agree with each other.
fn schema_accepts(pair: &[Validator; 2], doc: &Value) -> Result<bool, String> {
    let with_formats = schema_errors(&pair[0], doc);
    let without = schema_errors(&pair[1], doc);
    if with_formats.is_empty() != without.is_empty() {
        return Err(format!(
            "asserting formats changes the verdict on {doc}: with formats {with_formats:?}, without {without:?}"
        ));
    }
    Ok(with_formats.is_empty())
}

// ---------------------------------------------------------------------------
// A valid history with every event type.

fn ev(ty: &str, actor: &str, occurred_at: &str, data: Value) -> Value {
    json!({"type": ty, "actor": actor, "occurred_at": occurred_at, "data": data})
}

const RETRACTED_ID: &str = "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e";

/// A small city's events, in order, that the ledger admits one after another.
fn history() -> Vec<Value> {
    let mut publicity = ev(
        "PublicityDelivered",
        "chinamobile-jinjiang",
        "2026-03-05T10:00:00+08:00",
        json!({"activity_id": "PUB-2026-07", "audience": "Retirees of Xiyuan community", "reach": 320}),
    );
    publicity["id"] = RETRACTED_ID.into();
    vec![
        ev(
            "AgencyRegistered",
            "office",
            "2026-01-05T09:00:00+08:00",
            json!({"agency_id": "office", "name": "Jinjiang anti-fraud coordination office", "kind": "government",
                   "jurisdiction": "Jinjiang", "roles": ["coordinator", "evaluator"]}),
        ),
        ev(
            "AgencyRegistered",
            "office",
            "2026-01-05T09:01:00+08:00",
            json!({"agency_id": "psb-jinjiang", "name": "Jinjiang Public Security Bureau", "kind": "public_security"}),
        ),
        ev(
            "AgencyRegistered",
            "office",
            "2026-01-05T09:02:00+08:00",
            json!({"agency_id": "icbc-jinjiang", "name": "ICBC Jinjiang branch", "kind": "bank", "jurisdiction": null}),
        ),
        ev(
            "AgencyRegistered",
            "office",
            "2026-01-05T09:03:00+08:00",
            json!({"agency_id": "chinamobile-jinjiang", "name": "China Mobile Jinjiang", "kind": "telecom_operator"}),
        ),
        ev(
            "AgencyRegistered",
            "office",
            "2026-01-05T09:04:00+08:00",
            json!({"agency_id": "pboc-jinjiang", "name": "PBoC Jinjiang sub-branch", "kind": "regulator"}),
        ),
        ev(
            "JointMeetingConvened",
            "office",
            "2026-01-10T09:00:00+08:00",
            json!({"meeting_id": "JM-2026-01", "title": "Q1 joint anti-fraud meeting",
                   "scheduled_for": "2026-01-15T14:30:00+08:00", "invitees": ["psb-jinjiang", "icbc-jinjiang"]}),
        ),
        ev(
            "JointMeetingHeld",
            "office",
            "2026-01-15T17:00:00+08:00",
            json!({"meeting_id": "JM-2026-01", "attendees": ["psb-jinjiang", "icbc-jinjiang"],
                   "resolutions": [{"resolution_id": "R1", "text": "Banks answer freeze requests within 10 minutes."}]}),
        ),
        ev(
            "ResponsibilityAssigned",
            "office",
            "2026-01-16T09:00:00+08:00",
            json!({"task_id": "TASK-2026-001", "assignee": "icbc-jinjiang", "title": "Set up a 24/7 freeze desk",
                   "due_at": "2026-02-16T00:00:00+08:00", "legal_basis": "Anti-Telecom and Online Fraud Law, art. 18",
                   "meeting_id": "JM-2026-01", "resolution_id": "R1"}),
        ),
        ev("TaskAcknowledged", "icbc-jinjiang", "2026-01-16T10:00:00.5+08:00", json!({"task_id": "TASK-2026-001"})),
        ev(
            "TaskDeadlineExtended",
            "office",
            "2026-02-10T09:00:00+08:00",
            json!({"task_id": "TASK-2026-001", "due_at": "2026-03-01T00:00:00+08:00", "reason": "Staff training"}),
        ),
        ev(
            "TaskCompleted",
            "icbc-jinjiang",
            "2026-02-20T18:00:00.123456+08:00",
            json!({"task_id": "TASK-2026-001", "evidence": "Desk roster and phone line published on 20 Feb."}),
        ),
        ev(
            "ResponsibilityAssigned",
            "office",
            "2026-02-01T09:00:00Z",
            json!({"task_id": "TASK-2026-002", "assignee": "psb-jinjiang", "title": "Map mule-account networks",
                   "due_at": "2026-04-01T00:00:00Z"}),
        ),
        ev(
            "TaskCancelled",
            "office",
            "2026-02-02T09:00:00Z",
            json!({"task_id": "TASK-2026-002", "reason": "Merged into the provincial operation"}),
        ),
        ev(
            "FraudCaseReported",
            "psb-jinjiang",
            "2026-03-02T08:00:00Z",
            json!({"case_id": "CASE-2026-0042", "fraud_type": "fake investment platform", "loss_minor": 5_000_000}),
        ),
        ev(
            "FreezeRequested",
            "psb-jinjiang",
            "2026-03-02T08:10:00Z",
            json!({"freeze_id": "FRZ-2026-000123", "mode": "freeze", "bank": "icbc-jinjiang",
                   "account_ref": "hmac:9f2c1a7e55d0", "amount_minor": 1_250_000, "case_id": "CASE-2026-0042"}),
        ),
        ev(
            "FreezeExecuted",
            "icbc-jinjiang",
            "2026-03-02T08:17:30Z",
            json!({"freeze_id": "FRZ-2026-000123", "amount_frozen_minor": 1_250_000}),
        ),
        ev(
            "FundsReturned",
            "icbc-jinjiang",
            "2026-03-20T10:00:00Z",
            json!({"freeze_id": "FRZ-2026-000123", "amount_minor": 1_000_000}),
        ),
        ev(
            "FreezeReleased",
            "psb-jinjiang",
            "2026-03-21T10:00:00Z",
            json!({"freeze_id": "FRZ-2026-000123", "reason": "Case closed; remaining funds belong to the holder"}),
        ),
        ev(
            "FreezeRequested",
            "psb-jinjiang",
            "2026-03-03T08:00:00Z",
            json!({"freeze_id": "FRZ-2026-000124", "mode": "stop_payment", "bank": "icbc-jinjiang",
                   "account_ref": "acct-ref-77", "amount_minor": 0}),
        ),
        ev(
            "FreezeRejected",
            "icbc-jinjiang",
            "2026-03-03T08:05:00Z",
            json!({"freeze_id": "FRZ-2026-000124", "reason": "The account was closed in 2024"}),
        ),
        ev(
            "ClueReferred",
            "psb-jinjiang",
            "2026-03-04T08:00:00Z",
            json!({"clue_id": "CLUE-2026-9", "to": "chinamobile-jinjiang", "kind": "phone_number",
                   "summary": "Number used in 14 impersonation calls"}),
        ),
        ev(
            "ClueFeedbackGiven",
            "chinamobile-jinjiang",
            "2026-03-04T12:00:00Z",
            json!({"clue_id": "CLUE-2026-9", "outcome": "confirmed", "action": "Number suspended"}),
        ),
        ev(
            "EarlyWarningIssued",
            "psb-jinjiang",
            "2026-03-04T13:00:00Z",
            json!({"warning_id": "EW-2026-311", "to": "icbc-jinjiang", "risk": "high"}),
        ),
        ev(
            "DissuasionRecorded",
            "icbc-jinjiang",
            "2026-03-04T13:20:00Z",
            json!({"warning_id": "EW-2026-311", "method": "in_person", "outcome": "dissuaded"}),
        ),
        ev(
            "CardBreakingAction",
            "psb-jinjiang",
            "2026-03-05T08:00:00Z",
            json!({"action_id": "CB-2026-03", "operation": "Spring sweep", "bank_cards": 41, "phone_cards": 17,
                   "internet_accounts": 9, "suspects": 6}),
        ),
        ev(
            "PenaltyImposed",
            "pboc-jinjiang",
            "2026-03-05T09:00:00Z",
            json!({"penalty_id": "PEN-2026-004", "target": "icbc-jinjiang", "kind": "fine", "amount_minor": 20_000_000,
                   "legal_basis": "Anti-Telecom and Online Fraud Law, art. 38", "reason": "Late freeze responses"}),
        ),
        ev(
            "PenaltyRevoked",
            "pboc-jinjiang",
            "2026-03-06T09:00:00Z",
            json!({"penalty_id": "PEN-2026-004", "reason": "Reconsidered on appeal"}),
        ),
        publicity,
        ev(
            "EventRetracted",
            "chinamobile-jinjiang",
            "2026-03-05T11:00:00+08:00",
            json!({"event_id": RETRACTED_ID, "reason": "Entered twice; the audience count was wrong"}),
        ),
        ev(
            "AssessmentPublished",
            "office",
            "2026-04-01T09:00:00+08:00",
            json!({"assessment_id": "ASM-2026-Q1", "period_from": "2026-01-01T00:00:00+08:00",
                   "period_to": "2026-04-01T00:00:00+08:00", "as_of_seq": 29,
                   "model_sha256": "9a2f6b0c4d1e8f7a3b5c2d9e0f1a4b6c8d7e2f3a5b9c1d0e4f6a8b2c3d5e7f90",
                   "report_sha256": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d"}),
        ),
    ]
}

/// The ledger's clock for the history: later than every event in it.
fn recorded_at() -> Timestamp {
    Timestamp::parse("2026-06-30T00:00:00Z").expect("a valid timestamp")
}

fn event_id(sub: &Submission, seq: usize) -> Uuid {
    sub.id.unwrap_or_else(|| Uuid::from_u128(seq as u128))
}

/// The state after the whole history.
fn state_after_history() -> State {
    let mut state = State::new();
    let mut txn = state.begin();
    for (i, doc) in history().into_iter().enumerate() {
        let sub = Submission::parse(doc.clone()).unwrap_or_else(|r| panic!("{doc}: {r:?}"));
        txn.admit(event_id(&sub, i + 1), &sub, recorded_at()).unwrap_or_else(|r| panic!("{doc}: {r:?}"));
    }
    txn.commit();
    state
}

#[test]
fn a_valid_history_of_every_type_is_accepted_by_schemas_parser_and_rules() {
    let history = history();
    let covered: BTreeSet<&str> = history.iter().filter_map(|e| e["type"].as_str()).collect();
    let all: BTreeSet<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(covered, all, "the history covers every event type");

    let v = validators();
    let state = state_after_history(); // admits every event, panicking with the rejection otherwise
    assert_eq!(state.head_seq(), history.len() as u64);

    let mut prev_hash = GENESIS_HASH.to_owned();
    for (i, doc) in history.iter().enumerate() {
        let sub = Submission::parse(doc.clone()).unwrap();
        assert_eq!(schema_accepts(&v.envelope, doc), Ok(true), "{doc}: {:?}", schema_errors(&v.envelope[0], doc));
        let payload = &v.payload[&sub.event_type()];
        assert_eq!(schema_accepts(payload, &doc["data"]), Ok(true), "{doc}");

        // The stored form, as the ledger writes it (hash values are stand-ins:
        // the schema checks their shape, `govledger verify` their content).
        let hash = format!("{:064x}", i + 1);
        let stored = json!({
            "seq": i + 1, "id": event_id(&sub, i + 1).to_string(), "type": doc["type"], "actor": doc["actor"],
            "occurred_at": sub.occurred_at.to_rfc3339(), "recorded_at": recorded_at().to_rfc3339(),
            "data": sub.payload.to_json(), "prev_hash": prev_hash, "hash": hash,
        });
        assert_eq!(
            schema_accepts(&v.stored, &stored),
            Ok(true),
            "{stored}: {:?}",
            schema_errors(&v.stored[0], &stored)
        );
        prev_hash = hash;
    }
}

#[test]
fn optional_fields_may_be_absent_or_null() {
    let v = validators();
    for doc in history() {
        let ty = EventType::from_name(doc["type"].as_str().unwrap()).unwrap();
        for field in optional_fields(ty).iter().filter(|f| doc["data"].get(**f).is_some()) {
            for replacement in [None, Some(Value::Null)] {
                let mut changed = doc.clone();
                let data = changed["data"].as_object_mut().unwrap();
                match &replacement {
                    None => data.remove(*field),
                    Some(null) => data.insert((*field).to_owned(), null.clone()),
                };
                assert!(Submission::parse(changed.clone()).is_ok(), "{changed}");
                // Two optional fields are required in some cases, by the
                // rules the schemas state; `stateless_rules_in_the_schemas_match_admit`
                // holds those to `Txn::admit`.
                let ruled = matches!(
                    (ty, *field),
                    (EventType::PenaltyImposed, "amount_minor") | (EventType::ResponsibilityAssigned, "meeting_id")
                );
                assert_eq!(schema_accepts(&v.envelope, &changed), Ok(!ruled), "{changed}");
            }
        }
    }
    let mut with_null_id = history()[0].clone();
    with_null_id["id"] = Value::Null;
    assert!(Submission::parse(with_null_id.clone()).is_ok());
    assert_eq!(schema_accepts(&v.envelope, &with_null_id), Ok(true));
}

// ---------------------------------------------------------------------------
// Invalid documents: rejected by the schema and by the parser.

/// The first history event of type `ty`, changed by `change`.
fn broken(ty: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut doc = history().into_iter().find(|e| e["type"] == ty).expect("the history has every type");
    change(&mut doc);
    doc
}

#[test]
fn invalid_documents_are_rejected_by_schema_and_parser() {
    let long_text = "字".repeat(4001);
    let cases: Vec<(&str, Value, ErrorCode)> = vec![
        (
            "unknown payload field",
            broken("FreezeExecuted", |d| d["data"]["note"] = "x".into()),
            ErrorCode::DataUnknownField,
        ),
        (
            "unknown field in a nested object",
            broken("JointMeetingHeld", |d| d["data"]["resolutions"][0]["votes"] = 5.into()),
            ErrorCode::DataUnknownField,
        ),
        (
            "unknown envelope field",
            broken("FreezeExecuted", |d| d["hash"] = "x".into()),
            ErrorCode::EnvelopeUnknownField,
        ),
        (
            "missing payload field",
            broken("FreezeRequested", |d| _ = d["data"].as_object_mut().unwrap().remove("account_ref")),
            ErrorCode::DataMissingField,
        ),
        (
            "missing envelope field",
            broken("FreezeExecuted", |d| _ = d.as_object_mut().unwrap().remove("actor")),
            ErrorCode::EnvelopeMissingField,
        ),
        ("null type", broken("FreezeExecuted", |d| d["type"] = Value::Null), ErrorCode::EnvelopeMissingField),
        (
            "payload field of the wrong type",
            broken("FreezeExecuted", |d| d["data"]["amount_frozen_minor"] = "1250000".into()),
            ErrorCode::DataInvalidType,
        ),
        (
            "list element of the wrong type",
            broken("JointMeetingConvened", |d| d["data"]["invitees"] = json!([5])),
            ErrorCode::DataInvalidType,
        ),
        (
            "envelope field of the wrong type",
            broken("FreezeExecuted", |d| d["occurred_at"] = 1_772_439_450.into()),
            ErrorCode::EnvelopeInvalidType,
        ),
        ("data not an object", broken("FreezeExecuted", |d| d["data"] = json!([1])), ErrorCode::EnvelopeInvalidType),
        (
            "unknown event type",
            broken("FreezeExecuted", |d| d["type"] = "FreezeTeleported".into()),
            ErrorCode::UnknownEventType,
        ),
        ("bad actor id", broken("FreezeExecuted", |d| d["actor"] = "ICBC".into()), ErrorCode::InvalidAgencyId),
        (
            "bad agency id in data",
            broken("FreezeRequested", |d| d["data"]["bank"] = "icbc_jinjiang".into()),
            ErrorCode::InvalidAgencyId,
        ),
        (
            "bad entity id",
            broken("FreezeExecuted", |d| d["data"]["freeze_id"] = ".FRZ".into()),
            ErrorCode::InvalidEntityId,
        ),
        (
            "entity id too long",
            broken("FreezeExecuted", |d| d["data"]["freeze_id"] = "F".repeat(129).into()),
            ErrorCode::InvalidEntityId,
        ),
        (
            "amount above 10^15",
            broken("FreezeExecuted", |d| d["data"]["amount_frozen_minor"] = 1_000_000_000_000_001u64.into()),
            ErrorCode::AmountOutOfRange,
        ),
        (
            "negative amount",
            broken("FundsReturned", |d| d["data"]["amount_minor"] = (-1).into()),
            ErrorCode::AmountOutOfRange,
        ),
        (
            "fractional amount",
            broken("FundsReturned", |d| d["data"]["amount_minor"] = 2.5.into()),
            ErrorCode::AmountOutOfRange,
        ),
        (
            "count at 2^53",
            broken("CardBreakingAction", |d| d["data"]["bank_cards"] = (1u64 << 53).into()),
            ErrorCode::CountOutOfRange,
        ),
        (
            "unknown enum value",
            broken("FreezeRequested", |d| d["data"]["mode"] = "seize".into()),
            ErrorCode::DataInvalidValue,
        ),
        (
            "unknown role",
            broken("AgencyRegistered", |d| d["data"]["roles"] = json!(["coordinator", "auditor"])),
            ErrorCode::DataInvalidValue,
        ),
        (
            "seven fractional digits",
            broken("FreezeExecuted", |d| d["occurred_at"] = "2026-03-02T08:17:30.1234567Z".into()),
            ErrorCode::TimestampTooPrecise,
        ),
        (
            "seven fractional digits in data",
            broken("TaskDeadlineExtended", |d| d["data"]["due_at"] = "2026-03-01T00:00:00.0000001+08:00".into()),
            ErrorCode::TimestampTooPrecise,
        ),
        (
            "timestamp without offset",
            broken("FreezeExecuted", |d| d["occurred_at"] = "2026-03-02T08:17:30".into()),
            ErrorCode::InvalidTimestamp,
        ),
        (
            "no such day",
            broken("JointMeetingConvened", |d| d["data"]["scheduled_for"] = "2026-02-29T14:30:00+08:00".into()),
            ErrorCode::InvalidTimestamp,
        ),
        ("envelope id not a UUID", broken("FreezeExecuted", |d| d["id"] = "FRZ-1".into()), ErrorCode::InvalidEventId),
        (
            "envelope id the nil UUID",
            broken("FreezeExecuted", |d| d["id"] = "00000000-0000-0000-0000-000000000000".into()),
            ErrorCode::NilEventId,
        ),
        (
            "occurred_at before 2000",
            broken("FreezeExecuted", |d| d["occurred_at"] = "1999-12-31T23:59:59Z".into()),
            ErrorCode::OccurredTooEarly,
        ),
        (
            "occurred_at in year 0",
            broken("FreezeExecuted", |d| d["occurred_at"] = "0000-01-01T00:00:00Z".into()),
            ErrorCode::OccurredTooEarly,
        ),
        (
            "leap second",
            broken("FreezeExecuted", |d| d["occurred_at"] = "2016-12-31T23:59:60Z".into()),
            ErrorCode::LeapSecond,
        ),
        (
            "leap second in data",
            broken("JointMeetingConvened", |d| d["data"]["scheduled_for"] = "2026-03-10T09:59:60+08:00".into()),
            ErrorCode::LeapSecond,
        ),
        (
            "event_id not a UUID",
            broken("EventRetracted", |d| d["data"]["event_id"] = "018f3c7e6b1a7c3e9d2a0f6a1c2b3d4e".into()),
            ErrorCode::InvalidEventId,
        ),
        (
            "raw account number",
            broken("FreezeRequested", |d| d["data"]["account_ref"] = "6222 0212-3456 7890".into()),
            ErrorCode::RawAccountNumber,
        ),
        (
            "text too long",
            broken("FreezeRejected", |d| d["data"]["reason"] = long_text.clone().into()),
            ErrorCode::TextTooLong,
        ),
        ("blank text", broken("FreezeRejected", |d| d["data"]["reason"] = " \u{3000}\n".into()), ErrorCode::TextEmpty),
        ("empty text", broken("TaskCompleted", |d| d["data"]["evidence"] = "".into()), ErrorCode::TextEmpty),
        (
            "uppercase hash",
            broken("AssessmentPublished", |d| d["data"]["model_sha256"] = "A".repeat(64).into()),
            ErrorCode::InvalidHash,
        ),
    ];
    let v = validators();
    let mut failures = Vec::new();
    for (what, doc, code) in &cases {
        match Submission::parse(doc.clone()) {
            Ok(_) => failures.push(format!("{what}: the parser accepts it")),
            Err(r) if r.code != *code => failures.push(format!("{what}: the parser says {}, expected {code}", r.code)),
            Err(_) => {}
        }
        match schema_accepts(&v.envelope, doc) {
            Ok(false) => {}
            Ok(true) => failures.push(format!("{what}: envelope.json accepts it")),
            Err(e) => failures.push(format!("{what}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// The state-independent rules the payload schemas state (catalog::schema_rules).

#[test]
fn stateless_rules_in_the_schemas_match_admit() {
    let meeting = ev(
        "JointMeetingConvened",
        "office",
        "2026-05-01T09:00:00Z",
        json!({"meeting_id": "JM-2026-05", "title": "Follow-up", "scheduled_for": "2026-05-02T09:00:00Z",
               "invitees": ["psb-jinjiang"]}),
    );
    let held = |attendees: Value| {
        ev(
            "JointMeetingHeld",
            "office",
            "2026-05-02T12:00:00Z",
            json!({"meeting_id": "JM-2026-05", "attendees": attendees, "resolutions": []}),
        )
    };
    let convene = |invitees: Value| {
        ev(
            "JointMeetingConvened",
            "office",
            "2026-05-01T09:00:00Z",
            json!({"meeting_id": "JM-2026-06", "title": "Card-breaking review", "scheduled_for": "2026-05-03T09:00:00Z",
                   "invitees": invitees}),
        )
    };
    let register = |roles: Value| {
        ev(
            "AgencyRegistered",
            "office",
            "2026-05-01T09:00:00Z",
            json!({"agency_id": "cbirc-jinjiang", "name": "NFRA Jinjiang", "kind": "regulator", "roles": roles}),
        )
    };
    let assign = |extra: Value| {
        let mut data = json!({"task_id": "TASK-2026-009", "assignee": "psb-jinjiang", "title": "Report on R1",
                              "due_at": "2026-06-01T00:00:00Z"});
        data.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        ev("ResponsibilityAssigned", "office", "2026-05-01T09:00:00Z", data)
    };
    let penalty = |kind: &str, amount: Option<Value>| {
        let mut data = json!({"penalty_id": "PEN-2026-009", "target": "icbc-jinjiang", "kind": kind,
                              "legal_basis": "art. 38", "reason": "Repeated late answers"});
        if let Some(amount) = amount {
            data["amount_minor"] = amount;
        }
        ev("PenaltyImposed", "pboc-jinjiang", "2026-05-01T09:00:00Z", data)
    };

    // (what, events admitted first, the document, None if admitted, else the code)
    let cases: Vec<(&str, Vec<Value>, Value, Option<ErrorCode>)> = vec![
        ("roles listed twice", vec![], register(json!(["evaluator", "evaluator"])), Some(ErrorCode::ListDuplicate)),
        ("roles once each", vec![], register(json!(["evaluator", "coordinator"])), None),
        ("no invitee", vec![], convene(json!([])), Some(ErrorCode::ListEmpty)),
        ("an invitee twice", vec![], convene(json!(["psb-jinjiang", "psb-jinjiang"])), Some(ErrorCode::ListDuplicate)),
        ("invitees once each", vec![], convene(json!(["psb-jinjiang", "icbc-jinjiang"])), None),
        (
            "an attendee twice",
            vec![meeting.clone()],
            held(json!(["psb-jinjiang", "psb-jinjiang"])),
            Some(ErrorCode::ListDuplicate),
        ),
        ("no attendee", vec![meeting.clone()], held(json!([])), None),
        (
            "resolution without meeting",
            vec![],
            assign(json!({"resolution_id": "R1"})),
            Some(ErrorCode::DataMissingField),
        ),
        (
            "resolution with a null meeting",
            vec![],
            assign(json!({"resolution_id": "R1", "meeting_id": null})),
            Some(ErrorCode::DataMissingField),
        ),
        ("null resolution without meeting", vec![], assign(json!({"resolution_id": null})), None),
        ("a fine without amount", vec![], penalty("fine", None), Some(ErrorCode::PenaltyAmountRequired)),
        (
            "a fine with a null amount",
            vec![],
            penalty("fine", Some(Value::Null)),
            Some(ErrorCode::PenaltyAmountRequired),
        ),
        ("a fine with an amount", vec![], penalty("fine", Some(json!(500_000))), None),
        (
            "a warning with an amount",
            vec![],
            penalty("warning", Some(json!(500_000))),
            Some(ErrorCode::DataInvalidValue),
        ),
        ("a warning with a null amount", vec![], penalty("warning", Some(Value::Null)), None),
        ("a warning without amount", vec![], penalty("warning", None), None),
    ];

    let v = validators();
    let mut state = state_after_history();
    let mut failures = Vec::new();
    for (what, before, doc, expected) in &cases {
        let sub = Submission::parse(doc.clone()).unwrap_or_else(|r| panic!("{what}: the parser rejects it: {r:?}"));
        let mut txn = state.begin();
        for (i, e) in before.iter().enumerate() {
            let s = Submission::parse(e.clone()).unwrap();
            txn.admit(Uuid::from_u128(1000 + i as u128), &s, recorded_at()).unwrap();
        }
        let admitted = txn.admit(Uuid::from_u128(999), &sub, recorded_at()).map(|_| ()).map_err(|r| r.code);
        drop(txn); // abandon: each case starts from the history
        if admitted != expected.map_or(Ok(()), Err) {
            failures.push(format!("{what}: admit gives {admitted:?}, expected {expected:?}"));
        }
        let schema = schema_accepts(&v.envelope, doc);
        let payload_schema = schema_accepts(&v.payload[&sub.event_type()], &doc["data"]);
        if schema != Ok(expected.is_none()) || payload_schema != schema {
            failures.push(format!(
                "{what}: envelope.json says {schema:?}, the payload schema {payload_schema:?}; admit {admitted:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// Edge cases of every value format.

/// Where the schema and the Rust type disagree on purpose or by necessity:
/// (schema name, value, the Rust verdict, the schema's verdict, why).
/// Listed verdicts are checked too, so a fix on either side shows up here.
const KNOWN_DIFFERENCES: &[(&str, &str, bool, bool, &str)] = &[
    ("AmountMinor", "5.0", false, true, "JSON Schema compares values: 5.0 is an integer"),
    ("AmountMinor", "1e3", false, true, "JSON Schema compares values: 1e3 is an integer"),
    ("Count", "1.0", false, true, "JSON Schema compares values: 1.0 is an integer"),
];

/// Compares the Rust type `T` with the schema `name` (from stored-envelope.json's
/// `$defs`) on every value; returns the disagreements.
fn compare_format<T: DeserializeOwned>(name: &str, values: &[Value]) -> Vec<String> {
    let defs = &generated()["stored-envelope.json"]["$defs"];
    assert!(defs.get(name).is_some(), "no schema named {name}");
    let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": format!("#/$defs/{name}"), "$defs": defs});
    let pair = [validator(&schema, true), validator(&schema, false)];
    let mut out = Vec::new();
    for value in values {
        let rust = serde_json::from_value::<T>(value.clone()).is_ok();
        let schema = match schema_accepts(&pair, value) {
            Ok(verdict) => verdict,
            Err(e) => {
                out.push(format!("{name}: {e}"));
                continue;
            }
        };
        let known = KNOWN_DIFFERENCES
            .iter()
            .find(|k| k.0 == name && serde_json::from_str::<Value>(k.1).is_ok_and(|v| v == *value));
        match known {
            Some(&(_, _, rust_says, schema_says, why)) if (rust, schema) != (rust_says, schema_says) => out.push(format!(
                "{name} {value}: known difference ({why}) changed: Rust {rust}, schema {schema}; update KNOWN_DIFFERENCES"
            )),
            Some(_) => {}
            None if rust != schema => out.push(format!("{name} {value}: Rust accepts: {rust}, schema accepts: {schema}")),
            None => {}
        }
    }
    out
}

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Vec<Value> {
    items.into_iter().map(|s| Value::String(s.into())).collect()
}

/// Every printable ASCII character and a few others, before and after `base`.
fn around(base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in (' '..='~').chain(['\n', '\t', 'é', '字', '\u{0}']) {
        out.push(format!("{c}{base}"));
        out.push(format!("{base}{c}"));
    }
    out
}

#[test]
fn identifier_formats_agree() {
    let mut failures = Vec::new();
    let mut agency = strings(["icbc-jinjiang", "ab", "a", "", "-ab", "Abc", "a_b", "0-", "00", "中国"]);
    agency.extend(strings([&"a".repeat(64), &"a".repeat(65)]));
    agency.extend(strings(around("ab")));
    agency.extend([json!(5), Value::Null, json!(["ab"])]);
    failures.extend(compare_format::<AgencyId>("AgencyId", &agency));

    let mut entity = strings(["FRZ-2026-000123", "a:b.c_d", "a", "", ".a", "_a", "a b", "x/y", "9"]);
    entity.extend(strings([&"A".repeat(128), &"A".repeat(129)]));
    entity.extend(strings(around("A")));
    entity.push(json!(7));
    failures.extend(compare_format::<EntityId>("EntityId", &entity));

    let mut hashes = strings([&"a".repeat(64), &"A".repeat(64), &"a".repeat(63), &"g".repeat(64), &"0".repeat(65)]);
    hashes.extend(strings([format!("{}\n", "a".repeat(63)), format!(" {}", "a".repeat(63))]));
    failures.extend(compare_format::<Sha256Hex>("Sha256Hex", &hashes));

    let uuids = strings([
        "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e",
        "018F3C7E-6B1A-7C3E-9D2A-0F6A1C2B3D4E",
        "00000000-0000-0000-0000-000000000000",
        "018f3c7e6b1a7c3e9d2a0f6a1c2b3d4e",
        "{018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e}",
        "urn:uuid:018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e",
        "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4g",
        "018f3c7e-6b1a7-c3e-9d2a-0f6a1c2b3d4e",
        "018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4",
        "018f3c7e-6b1a-7c3e-9d2a+0f6a1c2b3d4e",
        "",
    ]);
    failures.extend(compare_format::<EventRef>("EventRef", &uuids));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn text_formats_agree() {
    // The schema's list of blank characters is Rust's, exactly.
    let whitespace: Vec<char> = (0..=0x10FFFF).filter_map(char::from_u32).filter(|c| c.is_whitespace()).collect();
    assert!(whitespace.iter().all(|c| (*c as u32) < 0x3100), "a whitespace character beyond the range tested below");

    let mut texts = strings(["x", "", " ", "\t\n", " x ", "\u{FEFF}", "\u{200B}", "😀"]);
    texts.extend(strings(["字".repeat(4000), "字".repeat(4001), "😀".repeat(4000), "😀".repeat(4001)]));
    texts.extend(strings([" ".repeat(3999) + "x", " ".repeat(4000) + "x"]));
    // Every character up to U+3100 alone and next to a blank: covers all of Unicode's whitespace.
    for c in (0..0x3100).filter_map(char::from_u32) {
        texts.extend(strings([c.to_string(), format!("{c}\u{3000}")]));
    }
    texts.push(json!(5));
    let mut failures = compare_format::<Text>("Text", &texts);

    let mut refs = strings([
        "hmac:9f2c1a",
        "12345678",
        "1234567",
        "6222 0212-3456 7890",
        "--12345678--",
        " 1 2 3 4 5 6 7 8 ",
        "12345678x",
        "x12345678",
        "1234\t5678",
        "１２３４５６７８",
        "- -",
        "-",
        "",
        "   ",
    ]);
    refs.extend(strings(["1".repeat(30), "1".repeat(31), "1-".repeat(30), "1-".repeat(31), "1".repeat(7) + "-"]));
    refs.extend(strings(around("1234567")));
    failures.extend(compare_format::<AccountRef>("AccountRef", &refs));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn timestamp_formats_agree() {
    let mut stamps = strings([
        "2026-03-02T08:17:30Z",
        "2026-03-02t08:17:30z",
        "2026-03-02T08:17:30+08:00",
        "2026-03-02T08:17:30-00:00",
        "2026-03-02T08:17:30+23:59",
        "2026-03-02T08:17:30+24:00",
        "2026-03-02T08:17:30+08:60",
        "2026-03-02T08:17:30+0800",
        "2026-03-02T08:17:30+08",
        "2026-03-02T08:17:30",
        "2026-03-02T08:17Z",
        "2026-03-02",
        "2026-03-02T08:17:30.Z",
        "2026-03-02T08:17:30.5Z",
        "2026-03-02T08:17:30.123456Z",
        "2026-03-02T08:17:30.1234567Z",
        "2026-03-02T08:17:30.123456789Z",
        "2026-03-02T08:17:30,5Z",
        "2026-03-02T24:00:00Z",
        "2026-03-02T23:60:00Z",
        "2026-03-02T23:59:60Z",
        "2026-03-02T23:59:60.5+08:00",
        "2026-03-02T10:00:60Z",
        "2026-03-02T08:17:61Z",
        "2026-03-02 08:17:30Z",
        "2026-03-02T08:17:30−08:00",
        "2026-03-02_08:17:30Z",
        " 2026-03-02T08:17:30Z",
        "2026-03-02T08:17:30Z ",
        "2026-03-02T08:17:30Z\n",
        "2026-3-2T08:17:30Z",
        "+2026-03-02T08:17:30Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "２０２６-03-02T08:17:30Z",
    ]);
    // Every day number 0-32 of every month 0-13, in common, leap and century years.
    for year in ["1900", "2000", "2023", "2024", "2100", "0000", "0004", "1600"] {
        for month in 0..=13 {
            for day in 0..=32 {
                stamps.push(format!("{year}-{month:02}-{day:02}T12:00:00Z").into());
            }
        }
    }
    // The leap-year rule in every year from 0 to 2500, and the largest.
    for year in (0..=2500).chain([9996, 9999]) {
        for day in 28..=30 {
            stamps.push(format!("{year:04}-02-{day}T12:00:00Z").into());
        }
    }
    stamps.push(json!(1_772_439_450));
    let failures = compare_format::<Timestamp>("Timestamp", &stamps);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Stored timestamps are the canonical UTC text the ledger writes.
    let v = validators();
    let sub = Submission::parse(history()[0].clone()).unwrap();
    let mut stored = json!({
        "seq": 1, "id": RETRACTED_ID, "type": "AgencyRegistered", "actor": "office",
        "occurred_at": sub.occurred_at.to_rfc3339(), "recorded_at": "2026-01-05T01:00:00.500Z",
        "data": sub.payload.to_json(), "prev_hash": GENESIS_HASH, "hash": "a".repeat(64),
    });
    assert_eq!(schema_accepts(&v.stored, &stored), Ok(true));
    for bad in
        ["2026-01-05T09:00:00+08:00", "2026-01-05T01:00:00.5Z", "2026-01-05T01:00:00.12345Z", "2026-01-05 01:00:00Z"]
    {
        stored["recorded_at"] = bad.into();
        assert_eq!(schema_accepts(&v.stored, &stored), Ok(false), "{bad} is not how the ledger writes time");
    }
}

/// Submitted `occurred_at` values near the 2000 bound that the schema refuses
/// and the ledger accepts (the pattern cannot compare a time with its offset).
const OCCURRED_AT_STRICTER_IN_SCHEMA: &[&str] = &[
    "2000-01-01T10:00:00+08:00",
    "2000-01-01T23:59:59+00:01",
    "1999-12-31T20:00:00-05:00",
    "1999-12-31T00:00:01-23:59",
];

#[test]
fn occurred_at_bound_agrees() {
    let v = validators();
    let mut failures = Vec::new();
    let mut stamps = vec![
        "2000-01-01T00:00:00Z",
        "2000-01-01t00:00:00z",
        "2000-01-01T00:00:00+00:00",
        "2000-01-01T00:00:00-00:00",
        "2000-01-01T00:00:00.000001-08:00",
        "2000-01-02T00:00:00+23:59",
        "2000-02-01T00:00:00+08:00",
        "2000-12-31T23:59:59Z",
        "2001-01-01T00:00:00+23:59",
        "2010-06-01T00:00:00Z",
        "2100-01-01T00:00:00Z",
        "3000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "1999-12-31T23:59:59.999999Z",
        "1999-12-31T23:59:59Z",
        "2000-01-01T07:59:59+08:00",
        "2000-01-01T00:00:00+00:01",
        "1999-12-30T23:59:59-23:59",
        "1999-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2000-01-01T00:00:60Z",
    ];
    stamps.extend(OCCURRED_AT_STRICTER_IN_SCHEMA);
    for stamp in stamps {
        let doc = broken("FreezeExecuted", |d| d["occurred_at"] = stamp.into());
        let rust = Submission::parse(doc.clone()).is_ok();
        let schema = match schema_accepts(&v.envelope, &doc) {
            Ok(verdict) => verdict,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let expected_schema = rust && !OCCURRED_AT_STRICTER_IN_SCHEMA.contains(&stamp);
        if schema != expected_schema {
            failures.push(format!("{stamp}: Rust accepts: {rust}, schema accepts: {schema}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn number_formats_agree() {
    let numbers: Vec<Value> = [
        "0",
        "1",
        "1000000000000000",
        "1000000000000001",
        "-1",
        "2.5",
        "5.0",
        "1e3",
        "1e30",
        "18446744073709551615",
        "18446744073709551616",
        "\"5\"",
        "null",
        "true",
    ]
    .iter()
    .map(|s| serde_json::from_str(s).unwrap())
    .collect();
    let mut failures = compare_format::<AmountMinor>("AmountMinor", &numbers);
    let counts: Vec<Value> = ["0", "9007199254740991", "9007199254740992", "-1", "1.0", "0.5", "\"1\""]
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect();
    failures.extend(compare_format::<Count>("Count", &counts));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn enumerations_agree() {
    let v = validators();
    let kinds: Vec<&str> = AgencyKind::ALL.iter().map(|k| k.as_str()).collect();
    let schema_kinds = generated()["AgencyRegistered.json"]["$defs"]["AgencyKind"]["enum"].clone();
    assert_eq!(schema_kinds, json!(kinds));
    // Each enumeration's values, and a near miss, through a payload that uses it.
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("AgencyRegistered", "kind", kinds.clone()),
        ("FreezeRequested", "mode", FreezeMode::ALL.iter().map(|k| k.as_str()).collect()),
        ("ClueReferred", "kind", ClueKind::ALL.iter().map(|k| k.as_str()).collect()),
        ("ClueFeedbackGiven", "outcome", ClueOutcome::ALL.iter().map(|k| k.as_str()).collect()),
        ("EarlyWarningIssued", "risk", Risk::ALL.iter().map(|k| k.as_str()).collect()),
        ("DissuasionRecorded", "method", DissuasionMethod::ALL.iter().map(|k| k.as_str()).collect()),
        ("DissuasionRecorded", "outcome", DissuasionOutcome::ALL.iter().map(|k| k.as_str()).collect()),
        ("PenaltyImposed", "kind", PenaltyKind::ALL.iter().map(|k| k.as_str()).collect()),
    ];
    let mut failures = Vec::new();
    for (ty, field, values) in cases {
        let near_misses = values.iter().map(|s| s.to_uppercase()).chain(["".to_owned(), "other ".to_owned()]);
        for (value, valid) in values.iter().map(|s| (s.to_string(), true)).chain(near_misses.map(|s| (s, false))) {
            let doc = broken(ty, |d| {
                d["data"][field] = value.clone().into();
                // The penalty rule ties amount_minor to fines; keep to the enumeration here.
                if ty == "PenaltyImposed" && value != "fine" {
                    d["data"].as_object_mut().unwrap().remove("amount_minor");
                }
            });
            let parsed = Submission::parse(doc.clone()).is_ok();
            let schema = schema_accepts(&v.envelope, &doc);
            if parsed != valid || schema != Ok(valid) {
                failures
                    .push(format!("{ty}.{field} = {value:?}: parser {parsed}, schema {schema:?}, expected {valid}"));
            }
        }
    }
    let roles_ok = broken("AgencyRegistered", |d| {
        d["data"]["roles"] = json!(Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>())
    });
    assert!(Submission::parse(roles_ok.clone()).is_ok());
    assert_eq!(schema_accepts(&v.envelope, &roles_ok), Ok(true));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn envelope_types_are_the_catalog() {
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    for file in ["envelope.json", "stored-envelope.json"] {
        let schema = &generated()[file];
        assert_eq!(schema["properties"]["type"]["enum"], json!(names), "{file}");
        for name in &names {
            assert_eq!(
                schema["$defs"][*name],
                generated()[&format!("{name}.json")]
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        for root_only in ["$schema", "$comment", "title", "examples", "$defs"] {
                            o.remove(root_only);
                        }
                        Value::Object(o)
                    })
                    .unwrap(),
                "{file}: $defs/{name} is the payload schema"
            );
        }
    }
    // A valid payload under another type's name is rejected by the link.
    let v = validators();
    let doc = broken("FreezeExecuted", |d| d["type"] = "FreezeRejected".into());
    assert_eq!(Submission::parse(doc.clone()).unwrap_err().code, ErrorCode::DataUnknownField);
    assert_eq!(schema_accepts(&v.envelope, &doc), Ok(false));
}
