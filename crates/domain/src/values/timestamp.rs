//! Timestamps (SPEC 2.1): RFC 3339 in, one canonical text per instant out.
//! The canonical text is read directly, without the general parser: it is
//! what every stored event holds, and reading it is on the path of every
//! rebuild.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{coded, shorten};
use crate::error::{ErrorCode, Rejection};

/// The earliest `occurred_at` a submission may carry (SPEC 2.1).
pub const EARLIEST_OCCURRED_AT: &str = "2000-01-01T00:00:00Z";
/// [`EARLIEST_OCCURRED_AT`] in microseconds since the Unix epoch.
pub const EARLIEST_OCCURRED_AT_MICROS: i64 = 946_684_800_000_000;

/// A point in time, UTC, with at most microsecond precision.
///
/// Parsed from RFC 3339 with any offset; written as RFC 3339 UTC with `Z`,
/// with 0, 3 or 6 fractional digits as needed, so the same instant always has
/// the same text (and the same hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Parses RFC 3339 with an offset and at most 6 fractional digits.
    ///
    /// Stricter than chrono, which also reads a space for `T` and U+2212 for
    /// the offset's minus: a ledger timestamp is the plain RFC 3339 form, so
    /// that every reader agrees on the instant. A leap second (`:60`, which
    /// chrono reads at any minute) is refused with its own code,
    /// `time.leap_second` (SPEC 2.1 v1.2).
    ///
    /// The canonical text ([`Timestamp::to_rfc3339`]) is read directly, several
    /// times faster than the general parser, which reads everything else.
    pub fn parse(raw: &str) -> Result<Self, Rejection> {
        if let Some(micros) = canonical_micros(raw) {
            return Ok(Self::from_micros(micros));
        }
        let plain = raw.is_ascii() && matches!(raw.as_bytes().get(10), Some(b'T' | b't'));
        let parsed = DateTime::parse_from_rfc3339(raw).ok().filter(|_| plain).ok_or_else(|| {
            Rejection::new(
                ErrorCode::InvalidTimestamp,
                format!("{:?} is not an RFC 3339 timestamp with an offset, e.g. 2026-03-02T08:17:30Z", shorten(raw)),
            )
        })?;
        // chrono reads `:60` (at any minute) as a nanosecond count of one
        // second or more. The ledger keeps one text per instant, so a leap
        // second is refused rather than moved; the plain form makes bytes
        // 17..19 the seconds.
        if parsed.timestamp_subsec_nanos() >= 1_000_000_000 {
            let at_59 = format!("{}59{}", &raw[..17], &raw[19..]);
            return Err(Rejection::new(
                ErrorCode::LeapSecond,
                format!(
                    "{:?} is a leap second (:60), which the ledger does not accept; write {:?} or the next second instead",
                    shorten(raw),
                    shorten(&at_59)
                ),
            ));
        }
        if let Some(dot) = raw.find('.') {
            let digits = raw[dot + 1..].bytes().take_while(u8::is_ascii_digit).count();
            if digits > 6 {
                return Err(Rejection::new(
                    ErrorCode::TimestampTooPrecise,
                    format!("{:?} has {digits} fractional digits; at most 6 (microseconds) are kept", shorten(raw)),
                ));
            }
        }
        Ok(Self(parsed.with_timezone(&Utc)))
    }

    /// Parses an envelope's `occurred_at`: a timestamp (as [`Timestamp::parse`])
    /// not before [`EARLIEST_OCCURRED_AT`] once normalised to UTC (SPEC 2.1:
    /// back-dated history is accepted, but not from before 2000).
    ///
    /// Only submissions are held to it: stored events and query bounds are
    /// read with [`Timestamp::parse`], and payload timestamps (`due_at`,
    /// `scheduled_for`, periods) have their own rules.
    pub fn parse_occurred_at(raw: &str) -> Result<Self, Rejection> {
        let t = Self::parse(raw)?;
        if t.micros() < EARLIEST_OCCURRED_AT_MICROS {
            return Err(Rejection::new(
                ErrorCode::OccurredTooEarly,
                format!(
                    "{:?} is {} in UTC, before {EARLIEST_OCCURRED_AT}; the ledger accepts back-dated events \
                     from {EARLIEST_OCCURRED_AT} on",
                    shorten(raw),
                    t.to_rfc3339()
                ),
            ));
        }
        Ok(t)
    }

    /// The current time, truncated to microseconds.
    pub fn now() -> Self {
        Self::from_micros(Utc::now().timestamp_micros())
    }

    /// From microseconds since the Unix epoch.
    pub fn from_micros(micros: i64) -> Self {
        Self(DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MIN_UTC))
    }

    /// Microseconds since the Unix epoch.
    pub fn micros(self) -> i64 {
        self.0.timestamp_micros()
    }

    /// The instant as a chrono value.
    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// The canonical text: RFC 3339, UTC, `Z`.
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self::from_micros(value.timestamp_micros())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Timestamp::parse(&raw).map_err(|r| coded(r.code, r.message))
    }
}

/// Microseconds since the epoch of a timestamp in the canonical form
/// `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z`; `None` for any other text (which
/// [`Timestamp::parse`] hands to the general parser, so this is a shortcut,
/// never a second interpretation).
fn canonical_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[range] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac_micros = match (b.len(), b[19]) {
        (20, b'Z') => 0,
        (24, b'.') if b[23] == b'Z' => num(20..23)? * 1000,
        (27, b'.') if b[26] == b'Z' => num(20..26)?,
        _ => return None,
    };
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days_in_month = match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days_in_month).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + frac_micros)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    /// The instant chrono's RFC 3339 parser reads, for comparison.
    fn general(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp_micros()
    }

    #[test]
    fn canonical_timestamps_read_directly_agree_with_the_general_parser() {
        for s in [
            "2026-03-02T08:17:30Z",
            "2026-03-02T08:17:30.500Z",
            "2026-03-02T08:17:30.000001Z",
            "2024-02-29T23:59:59.999999Z",
            "2000-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999Z",
        ] {
            assert_eq!(canonical_micros(s), Some(general(s)), "{s}");
        }
        // Every day of several years, at a varying time of day, in the text
        // the ledger writes.
        let mut t = general("1900-01-01T00:00:00Z");
        while t < general("2101-01-01T00:00:00Z") {
            let text = Timestamp::from_micros(t).to_rfc3339();
            assert_eq!(canonical_micros(&text), Some(t), "{text}");
            assert_eq!(Timestamp::parse(&text).map(Timestamp::micros), Ok(t), "{text}");
            t += 86_400_000_000 + 3_723_004_005;
        }
    }

    #[test]
    fn other_forms_are_left_to_the_general_parser() {
        for s in [
            "2026-03-02T16:17:30+08:00",
            "2026-03-02t08:17:30Z",
            "2026-03-02T08:17:30z",
            "2026-03-02T08:17:30.5Z",
            "2026-03-02T08:17:30.1234567Z",
            "2026-02-30T00:00:00Z",
            "2026-03-02T08:17:60Z",
            "2026-03-02T24:00:00Z",
            "2026-13-02T08:17:30Z",
            "2026-03-02 08:17:30Z",
            "yesterday",
        ] {
            assert_eq!(canonical_micros(s), None, "{s}");
        }
        assert_eq!(
            Timestamp::parse("2026-03-02T16:17:30+08:00"),
            Timestamp::parse("2026-03-02T08:17:30Z"),
            "an offset is read by the general parser"
        );
        assert_eq!(
            Timestamp::parse("2026-03-02T08:17:30.5Z").map(Timestamp::micros),
            Ok(general("2026-03-02T08:17:30.5Z"))
        );
        assert_eq!(Timestamp::parse("2026-03-02T08:17:60Z").unwrap_err().code, ErrorCode::LeapSecond);
        assert_eq!(Timestamp::parse("2026-02-30T00:00:00Z").unwrap_err().code, ErrorCode::InvalidTimestamp);
    }
}
