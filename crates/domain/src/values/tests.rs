//! Unit tests of the value formats in `values.rs`.

use super::*;

#[test]
fn agency_ids() {
    assert!(AgencyId::parse("icbc-jinjiang").is_ok());
    assert!(AgencyId::parse("a").is_err());
    assert!(AgencyId::parse("-ab").is_err());
    assert!(AgencyId::parse("Abc").is_err());
    assert!(AgencyId::parse(&"a".repeat(64)).is_ok());
    assert!(AgencyId::parse(&"a".repeat(65)).is_err());
}

#[test]
fn entity_ids() {
    assert!(EntityId::parse("FRZ-2026-000123").is_ok());
    assert!(EntityId::parse("a:b.c_d").is_ok());
    assert!(EntityId::parse(".a").is_err());
    assert!(EntityId::parse("").is_err());
    assert!(EntityId::parse("a b").is_err());
    assert!(EntityId::parse(&"A".repeat(129)).is_err());
}

#[test]
fn timestamps_normalise_to_utc_and_keep_microseconds() {
    let t = Timestamp::parse("2026-03-02T16:17:30.5+08:00").unwrap();
    assert_eq!(t.to_rfc3339(), "2026-03-02T08:17:30.500Z");
    let t = Timestamp::parse("2026-03-02T08:17:30.123456Z").unwrap();
    assert_eq!(t.to_rfc3339(), "2026-03-02T08:17:30.123456Z");
    assert_eq!(Timestamp::parse("2026-03-02T08:17:30Z").unwrap().to_rfc3339(), "2026-03-02T08:17:30Z");
    assert_eq!(Timestamp::parse("2026-03-02T08:17:30.1234567Z").unwrap_err().code, ErrorCode::TimestampTooPrecise);
    assert_eq!(Timestamp::parse("2026-03-02T08:17:30").unwrap_err().code, ErrorCode::InvalidTimestamp);
    assert_eq!(Timestamp::parse("2026-03-02").unwrap_err().code, ErrorCode::InvalidTimestamp);
    for not_plain in ["2026-03-02 08:17:30Z", "2026-03-02T08:17:30\u{2212}08:00", "2026-03-02 23:59:60Z"] {
        assert_eq!(Timestamp::parse(not_plain).unwrap_err().code, ErrorCode::InvalidTimestamp, "{not_plain}");
    }
    assert_eq!(Timestamp::parse("2026-03-02T08:17:61Z").unwrap_err().code, ErrorCode::InvalidTimestamp);
}

#[test]
fn leap_seconds_are_refused_with_their_own_code() {
    for (leap, at_59) in [
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"),
        ("2017-01-01T07:59:60+08:00", "2017-01-01T07:59:59+08:00"),
        ("2026-03-02T10:00:60.5Z", "2026-03-02T10:00:59.5Z"),
        ("2026-03-02t10:00:60.123456z", "2026-03-02t10:00:59.123456z"),
    ] {
        let r = Timestamp::parse(leap).unwrap_err();
        assert_eq!(r.code, ErrorCode::LeapSecond, "{leap}");
        assert!(r.message.contains("leap second") && r.message.contains(at_59), "{leap}: {}", r.message);
    }
    // The leap second is found before the precision: one fix at a time, the first one named.
    assert_eq!(Timestamp::parse("2016-12-31T23:59:60.1234567Z").unwrap_err().code, ErrorCode::LeapSecond);
}

#[test]
fn occurred_at_is_not_before_2000_in_utc() {
    let earliest = Timestamp::parse_occurred_at(EARLIEST_OCCURRED_AT).unwrap();
    assert_eq!(earliest.micros(), EARLIEST_OCCURRED_AT_MICROS);
    assert_eq!(Timestamp::parse(EARLIEST_OCCURRED_AT).unwrap(), earliest);
    for ok in ["2000-01-01T08:00:00+08:00", "1999-12-31T19:00:00-05:00", "2026-03-02T08:17:30Z"] {
        assert!(Timestamp::parse_occurred_at(ok).is_ok(), "{ok}");
    }
    for early in [
        "1999-12-31T23:59:59.999999Z",
        "2000-01-01T07:59:59+08:00",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
    ] {
        let r = Timestamp::parse_occurred_at(early).unwrap_err();
        assert_eq!(r.code, ErrorCode::OccurredTooEarly, "{early}");
        assert!(r.message.contains(EARLIEST_OCCURRED_AT), "{}", r.message);
        // The bound is occurred_at's alone: the format itself still reads these.
        assert!(Timestamp::parse(early).is_ok(), "{early}");
    }
    // A format error is reported as such, not as an early time.
    assert_eq!(Timestamp::parse_occurred_at("1999-13-01T00:00:00Z").unwrap_err().code, ErrorCode::InvalidTimestamp);
}

#[test]
fn event_ids_are_not_nil() {
    let nil = "00000000-0000-0000-0000-000000000000";
    assert_eq!(parse_event_id(nil).unwrap_err().code, ErrorCode::NilEventId);
    assert!(parse_uuid(nil).is_ok(), "a nil reference is a format-valid UUID; only an event's own id refuses it");
    assert!(parse_event_id("018f3c7e-6b1a-7c3e-9d2a-0f6a1c2b3d4e").is_ok());
    assert_eq!(parse_event_id("not-a-uuid").unwrap_err().code, ErrorCode::InvalidEventId);
}

#[test]
fn account_refs() {
    assert_eq!(AccountRef::parse("6222 0212-3456 7890").unwrap_err().code, ErrorCode::RawAccountNumber);
    assert_eq!(AccountRef::parse("12345678").unwrap_err().code, ErrorCode::RawAccountNumber);
    assert!(AccountRef::parse("1234567").is_ok());
    assert!(AccountRef::parse(&"1".repeat(31)).is_ok());
    assert!(AccountRef::parse("hmac:9f2c1a").is_ok());
}

#[test]
fn texts() {
    assert_eq!(Text::parse("  ").unwrap_err().code, ErrorCode::TextEmpty);
    assert!(Text::parse(&"字".repeat(4000)).is_ok());
    assert_eq!(Text::parse(&"字".repeat(4001)).unwrap_err().code, ErrorCode::TextTooLong);
}
