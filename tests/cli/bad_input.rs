//! SPEC 2.5 through `govledger import`: every bad line is rejected with exit
//! code 1, its stable error code, its field and its line number on stderr;
//! the file is atomic, so nothing of it is stored (the export is unchanged);
//! and the process never panics.

use serde_json::{Value, json};

use crate::support::{Fixture, envelope};

/// A valid new event for the city, put before bad lines so that each case
/// also proves that the good part of the file is not stored.
fn good_publicity(n: u32) -> Value {
    envelope(
        Some(format!("00000000-0000-4000-9000-{n:012}")),
        "PublicityDelivered",
        "jj-office",
        "2026-03-01T08:00:00Z",
        json!({"activity_id": format!("PUB-GOOD-{n}"), "audience": "市民", "reach": 10}),
    )
}

/// A `FreezeExecuted` of a freeze of the city, with `data` replaced.
fn executed(data: Value) -> Value {
    envelope(None, "FreezeExecuted", "icbc-jinjiang", "2026-03-01T08:00:00Z", data)
}

/// A `FreezeRequested` of a new freeze by the city's police, with one field of `data` replaced.
fn requested(field: &str, value: Value) -> Value {
    let mut data = json!({"freeze_id": "FRZ-NEW", "mode": "freeze", "bank": "icbc-jinjiang",
        "account_ref": "hmac:00ff", "amount_minor": 100});
    data[field] = value;
    envelope(None, "FreezeRequested", "jj-psb", "2026-03-01T08:00:00Z", data)
}

/// One rejection case: the file's lines, the bad line (1-based), its code and field.
struct Case {
    what: &'static str,
    lines: Vec<String>,
    line: usize,
    code: &'static str,
    field: Option<&'static str>,
}

/// A case whose file is a good line followed by `bad` (so the bad line is line 2).
fn after_good(what: &'static str, bad: impl Into<String>, code: &'static str, field: Option<&'static str>) -> Case {
    Case { what, lines: vec![good_publicity(1).to_string(), bad.into()], line: 2, code, field }
}

/// Imports every case into the city and checks each is refused as promised.
fn assert_all_rejected(cases: Vec<Case>) {
    let fx = Fixture::with_city();
    let baseline = fx.export();
    let mut failures = Vec::new();
    for case in cases {
        let text: String = case.lines.iter().map(|l| format!("{l}\n")).collect();
        let run = fx.import_text(&text);
        let expected = match case.field {
            Some(field) => format!("error: line {}: {} (field {field}): ", case.line, case.code),
            None => format!("error: line {}: {}: ", case.line, case.code),
        };
        let ok = run.code == Some(1)
            && run.stderr.contains(&expected)
            && run.stderr.contains("nothing was imported")
            && !run.stderr.contains("panicked");
        if !ok {
            failures
                .push(format!("{}: expected exit 1 and {expected:?}, got {:?}: {}", case.what, run.code, run.stderr));
        }
        if fx.export() != baseline {
            // Stop here: later cases would run against a changed ledger.
            panic!("{}: the rejected import stored something", case.what);
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(fx.head().0, crate::support::CITY_EVENTS, "the city must be unchanged");
}

#[test]
fn malformed_envelopes_are_rejected_with_code_field_and_line() {
    let base = || executed(json!({"freeze_id": "FRZ-1", "amount_frozen_minor": 1}));
    let with = |k: &str, v: Value| {
        let mut e = base();
        e[k] = v;
        e.to_string()
    };
    let without = |k: &str| {
        let mut e = base();
        e.as_object_mut().unwrap().remove(k);
        e.to_string()
    };
    assert_all_rejected(vec![
        after_good("truncated JSON", r#"{"type": "FreezeExecuted", "actor":"#, "json.malformed", None),
        after_good("not an object", "[1, 2, 3]", "json.malformed", None),
        after_good("trailing garbage", format!("{} x", base()), "json.malformed", None),
        after_good("unknown type", with("type", json!("FreezeTeleported")), "event.unknown_type", Some("type")),
        after_good(
            "unknown envelope field",
            with("signature", json!("abc")),
            "envelope.unknown_field",
            Some("signature"),
        ),
        after_good("missing actor", without("actor"), "envelope.missing_field", Some("actor")),
        after_good("missing data", without("data"), "envelope.missing_field", Some("data")),
        after_good("actor is a number", with("actor", json!(42)), "envelope.invalid_type", Some("actor")),
        after_good("data is a string", with("data", json!("x")), "envelope.invalid_type", Some("data")),
        after_good("type is null", with("type", Value::Null), "envelope.missing_field", Some("type")),
        after_good("id is a number", with("id", json!(5)), "envelope.invalid_type", Some("id")),
        after_good("id is not a UUID", with("id", json!("1234")), "envelope.invalid_id", Some("id")),
        after_good(
            "id is the nil UUID",
            with("id", json!("00000000-0000-0000-0000-000000000000")),
            "envelope.nil_id",
            Some("id"),
        ),
        after_good(
            "actor id has capitals",
            with("actor", json!("ICBC-Jinjiang")),
            "id.invalid_agency_id",
            Some("actor"),
        ),
        after_good("actor id too short", with("actor", json!("a")), "id.invalid_agency_id", Some("actor")),
        after_good(
            "occurred_at without offset",
            with("occurred_at", json!("2026-03-01T08:00:00")),
            "time.invalid",
            Some("occurred_at"),
        ),
        after_good(
            "occurred_at before 2000",
            with("occurred_at", json!("0001-01-01T00:00:00Z")),
            "time.too_early",
            Some("occurred_at"),
        ),
        after_good(
            "occurred_at a leap second",
            with("occurred_at", json!("2016-12-31T23:59:60Z")),
            "time.leap_second",
            Some("occurred_at"),
        ),
        after_good(
            "occurred_at with 7 fractional digits",
            with("occurred_at", json!("2026-03-01T08:00:00.1234567Z")),
            "time.too_precise",
            Some("occurred_at"),
        ),
        Case {
            what: "bad line after a blank line",
            lines: vec![good_publicity(1).to_string(), String::new(), "{oops".into()],
            line: 3,
            code: "json.malformed",
            field: None,
        },
    ]);
}

#[test]
fn bad_payload_values_are_rejected_with_code_field_and_line() {
    let exec = |amount: Value| executed(json!({"freeze_id": "FRZ-1", "amount_frozen_minor": amount})).to_string();
    let cards = |n: Value| {
        envelope(
            None,
            "CardBreakingAction",
            "jj-psb",
            "2026-03-01T08:00:00Z",
            json!({"action_id": "CB-2", "bank_cards": n, "phone_cards": 0, "internet_accounts": 0, "suspects": 0}),
        )
        .to_string()
    };
    let amount = Some("data.amount_frozen_minor");
    assert_all_rejected(vec![
        after_good(
            "unknown data field",
            executed(json!({"freeze_id": "FRZ-1", "amount_frozen_minor": 1,
            "note": "x"}))
            .to_string(),
            "data.unknown_field",
            Some("data.note"),
        ),
        after_good(
            "missing data field",
            executed(json!({"freeze_id": "FRZ-1"})).to_string(),
            "data.missing_field",
            Some("data.amount_frozen_minor"),
        ),
        after_good("amount as a string", exec(json!("5")), "data.invalid_type", amount),
        after_good("negative amount", exec(json!(-1)), "amount.out_of_range", amount),
        after_good("amount above 10^15", exec(json!(1_000_000_000_000_001u64)), "amount.out_of_range", amount),
        after_good(
            "amount above u64",
            "{\"type\":\"FreezeExecuted\",\"actor\":\"icbc-jinjiang\",\
            \"occurred_at\":\"2026-03-01T08:00:00Z\",\"data\":{\"freeze_id\":\"FRZ-1\",\
            \"amount_frozen_minor\":18446744073709551616}}",
            "amount.out_of_range",
            amount,
        ),
        after_good("fractional amount", exec(json!(2.5)), "amount.out_of_range", amount),
        after_good("amount in exponent form", exec(json!(1e30)), "amount.out_of_range", amount),
        after_good(
            "count of 2^53",
            cards(json!(9_007_199_254_740_992u64)),
            "count.out_of_range",
            Some("data.bank_cards"),
        ),
        after_good("negative count", cards(json!(-3)), "count.out_of_range", Some("data.bank_cards")),
        after_good(
            "entity id with a space",
            exec(json!(1)).replace("FRZ-1", "FRZ 1"),
            "id.invalid_entity_id",
            Some("data.freeze_id"),
        ),
        after_good(
            "bank id with an underscore",
            requested("bank", json!("icbc_jinjiang")).to_string(),
            "id.invalid_agency_id",
            Some("data.bank"),
        ),
        after_good(
            "unknown freeze mode",
            requested("mode", json!("seize")).to_string(),
            "data.invalid_value",
            Some("data.mode"),
        ),
        after_good(
            "raw account number",
            requested("account_ref", json!("6222 0212 3456 7890")).to_string(),
            "account_ref.raw_account_number",
            Some("data.account_ref"),
        ),
        after_good(
            "blank text",
            envelope(
                None,
                "FreezeRejected",
                "icbc-jinjiang",
                "2026-03-01T08:00:00Z",
                json!({"freeze_id": "FRZ-1", "reason": "   "}),
            )
            .to_string(),
            "text.empty",
            Some("data.reason"),
        ),
        after_good(
            "text of 4,001 characters",
            envelope(
                None,
                "FreezeRejected",
                "icbc-jinjiang",
                "2026-03-01T08:00:00Z",
                json!({"freeze_id": "FRZ-1", "reason": "字".repeat(4001)}),
            )
            .to_string(),
            "text.too_long",
            Some("data.reason"),
        ),
        after_good(
            "occurred_at in the future",
            envelope(
                None,
                "PublicityDelivered",
                "jj-office",
                "2099-01-01T00:00:00Z",
                json!({"activity_id": "PUB-F", "audience": "x", "reach": 1}),
            )
            .to_string(),
            "time.in_future",
            Some("occurred_at"),
        ),
    ]);
}

#[test]
fn rule_violations_are_rejected_with_code_field_and_line() {
    let at = "2026-03-01T08:00:00Z";
    assert_all_rejected(vec![
        after_good("freeze not found", executed(json!({"freeze_id": "FRZ-404", "amount_frozen_minor": 1})).to_string(),
            "freeze.not_found", Some("data.freeze_id")),
        after_good("task not found", envelope(None, "TaskCompleted", "cm-jinjiang", at, json!({"task_id": "T-404"}))
            .to_string(), "task.not_found", Some("data.task_id")),
        after_good("actor not registered", envelope(None, "PublicityDelivered", "ghost-agency", at,
            json!({"activity_id": "PUB-G", "audience": "x", "reach": 1})).to_string(),
            "actor.unknown_agency", Some("actor")),
        after_good("clue to an unregistered agency", envelope(None, "ClueReferred", "jj-psb", at,
            json!({"clue_id": "CLUE-2", "to": "ghost-bank", "kind": "url"})).to_string(),
            "agency.not_registered", Some("data.to")),
        after_good("freeze answered twice", executed(json!({"freeze_id": "FRZ-1", "amount_frozen_minor": 1}))
            .to_string(), "freeze.already_answered", Some("data.freeze_id")),
        after_good("completed task completed again", envelope(None, "TaskCompleted", "cm-jinjiang", at,
            json!({"task_id": "T-1"})).to_string(), "task.not_open", Some("data.task_id")),
        after_good("returns above the frozen amount", envelope(None, "FundsReturned", "icbc-jinjiang", at,
            json!({"freeze_id": "FRZ-1", "amount_minor": 2_000_001})).to_string(),
            "freeze.returns_exceed_frozen", Some("data.amount_minor")),
        after_good("case id reused", envelope(None, "FraudCaseReported", "jj-psb", at,
            json!({"case_id": "CASE-2026-0001", "fraud_type": "x", "loss_minor": 1})).to_string(),
            "case.already_exists", Some("data.case_id")),
        Case {
            what: "execution before its request",
            lines: vec![
                good_publicity(1).to_string(),
                requested("freeze_id", json!("FRZ-9")).to_string(),
                envelope(None, "FreezeExecuted", "icbc-jinjiang", "2026-03-01T07:59:59.999999Z",
                    json!({"freeze_id": "FRZ-9", "amount_frozen_minor": 100})).to_string(),
            ],
            line: 3,
            code: "lifecycle.out_of_order",
            field: Some("occurred_at"),
        },
        after_good("task completed before its assignment", envelope(None, "TaskCompleted", "icbc-jinjiang",
            "2026-01-15T08:59:59Z", json!({"task_id": "T-2"})).to_string(), "lifecycle.out_of_order",
            Some("occurred_at")),
        Case {
            what: "freeze executed by another agency than the bank",
            lines: vec![
                good_publicity(1).to_string(),
                requested("freeze_id", json!("FRZ-8")).to_string(),
                envelope(None, "FreezeExecuted", "cm-jinjiang", at,
                    json!({"freeze_id": "FRZ-8", "amount_frozen_minor": 100})).to_string(),
            ],
            line: 3,
            code: "actor.not_authorised",
            field: Some("actor"),
        },
        after_good("agency registered by a non-coordinator", envelope(None, "AgencyRegistered", "jj-psb", at,
            json!({"agency_id": "rogue-bank", "name": "Rogue", "kind": "bank"})).to_string(),
            "actor.not_authorised", Some("actor")),
        after_good("task acknowledged by another agency", envelope(None, "TaskAcknowledged", "jj-psb", at,
            json!({"task_id": "T-2"})).to_string(), "actor.not_authorised", Some("actor")),
        after_good("assessment published by a non-evaluator", envelope(None, "AssessmentPublished", "jj-psb", at,
            json!({"assessment_id": "A-1", "period_from": "2026-01-01T00:00:00Z", "period_to": "2026-02-01T00:00:00Z",
                "as_of_seq": 1, "model_sha256": "a".repeat(64), "report_sha256": "b".repeat(64)})).to_string(),
            "actor.not_authorised", Some("actor")),
        after_good("case reported by a bank", envelope(None, "FraudCaseReported", "icbc-jinjiang", at,
            json!({"case_id": "CASE-B", "fraud_type": "x", "loss_minor": 1})).to_string(),
            "actor.wrong_kind", Some("actor")),
        after_good("freeze sent to a telecom operator", requested("bank", json!("cm-jinjiang")).to_string(),
            "agency.wrong_kind", Some("data.bank")),
    ]);
}

#[test]
fn one_bad_line_among_ten_good_ones_stores_none() {
    let fx = Fixture::with_city();
    let baseline = fx.export();
    let mut lines: Vec<String> = (1..=10).map(|n| good_publicity(n).to_string()).collect();
    lines.insert(5, executed(json!({"freeze_id": "FRZ-404", "amount_frozen_minor": 1})).to_string());
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let run = fx.import_text(&text).no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("error: line 6: freeze.not_found (field data.freeze_id): "), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was imported"), "{}", run.stderr);
    let after = fx.export();
    assert_eq!(after, baseline, "a rejected file must store nothing");
    assert!(!after.contains("PUB-GOOD-1\""), "the good lines before the bad one must not be stored");

    // The same ten good lines alone import, which shows the bad line was the only reason.
    lines.remove(5);
    let run = fx.import_text(&lines.iter().map(|l| format!("{l}\n")).collect::<String>()).success();
    assert!(run.stdout.starts_with("imported 10 events (0 already stored)"), "{}", run.stdout);
}

#[test]
fn first_event_of_an_empty_ledger_must_be_the_bootstrap() {
    let fx = Fixture::new();
    let run = fx
        .import(&[envelope(
            None,
            "PublicityDelivered",
            "jj-office",
            "2026-03-01T08:00:00Z",
            json!({"activity_id": "PUB-1", "audience": "x", "reach": 1}),
        )])
        .no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("error: line 1: bootstrap.required"), "{}", run.stderr);
    assert_eq!(fx.export(), "", "nothing may be stored");
}

#[test]
fn invalid_utf8_line_is_rejected_as_malformed_json_with_its_line() {
    let fx = Fixture::with_city();
    let baseline = fx.export();
    let mut bytes = format!("{}\n", good_publicity(1)).into_bytes();
    bytes.extend_from_slice(b"{\"type\":\"\xff\xfe\"}\n");
    let path = fx.root.path().join("latin1.ndjson");
    std::fs::write(&path, bytes).unwrap();
    let run = fx.run(&["import", path.to_str().unwrap()]).no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("error: line 2: json.malformed"), "{}", run.stderr);
    assert_eq!(fx.export(), baseline);
}

/// The demo's year may not end in the future: the ledger would refuse its
/// last months as `time.in_future` partway through. It is refused up front,
/// with a sentence, and nothing is written.
#[test]
fn demo_refuses_a_year_ending_in_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run =
        crate::support::govledger(&data, &["demo", "--scale", "0.01", "--until", "2999-01-01T00:00:00Z"]).no_panic();
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--until") && run.stderr.contains("in the future"), "{}", run.stderr);
    assert!(!data.join("ledger.sqlite").exists(), "nothing may be written");
}
