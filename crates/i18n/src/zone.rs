//! The time zone of pages and reports (an IANA name, `chrono-tz`): a date a
//! person enters means midnight there, times are shown there, and months and
//! quarters are counted there (Q3 in `Asia/Shanghai` is 2026-07-01T00:00+08:00
//! up to 2026-10-01T00:00+08:00). Instants are microseconds since the Unix
//! epoch, as `govledger_domain::Timestamp` keeps them.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::Lang;

/// A time zone by its IANA name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

/// What a period `[from, to)` is in a zone, for its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Period {
    /// A calendar quarter (1–4), midnight to midnight in the zone.
    Quarter { year: i32, quarter: u32 },
    /// A calendar month (1–12).
    Month { year: i32, month: u32 },
    /// Whole days: the first and the last (inclusive) date.
    Days { first: NaiveDate, last: NaiveDate },
    /// Anything else: the instants as shown in the zone.
    Instants,
}

impl Zone {
    /// The zone when nothing (flag, config) says otherwise: Beijing time.
    pub const DEFAULT: Zone = Zone(Tz::Asia__Shanghai);
    pub const UTC: Zone = Zone(Tz::UTC);

    /// An IANA name such as `Asia/Shanghai` or `UTC`.
    pub fn parse(name: &str) -> Option<Zone> {
        name.trim().parse::<Tz>().ok().map(Zone)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    fn local(self, micros: i64) -> DateTime<Tz> {
        DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default().with_timezone(&self.0)
    }

    /// Midnight at the start of `date` in the zone, in microseconds since
    /// the epoch; where a zone skips midnight (a daylight-saving jump), the
    /// first instant of the day that exists.
    pub fn midnight(self, date: NaiveDate) -> i64 {
        for minutes in (0..24 * 60).step_by(15) {
            let local = date.and_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default();
            if let Some(t) = self.0.from_local_datetime(&local).earliest() {
                return t.timestamp_micros();
            }
        }
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default()).timestamp_micros()
    }

    /// `2026-07-01 00:00:00 +08:00`: an instant as people in the zone read it.
    pub fn show(self, micros: i64) -> String {
        self.local(micros).format("%Y-%m-%d %H:%M:%S %:z").to_string()
    }

    /// The zone's date at an instant.
    pub fn date(self, micros: i64) -> NaiveDate {
        self.local(micros).date_naive()
    }

    /// The calendar quarter holding the instant, as `[first day, first day of the next)`.
    pub fn quarter_of(self, micros: i64) -> (NaiveDate, NaiveDate) {
        let today = self.date(micros);
        let first_month = (today.month0() / 3) * 3 + 1;
        let from = NaiveDate::from_ymd_opt(today.year(), first_month, 1).unwrap_or(today);
        (from, add_months(from, 3))
    }

    /// The calendar months of the zone that overlap `[from, to)`, each
    /// clipped to it: `(YYYY-MM, from, to)`.
    pub fn months(self, from: i64, to: i64) -> Vec<(String, i64, i64)> {
        let mut out = Vec::new();
        let start = self.date(from);
        let mut month = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
        while self.midnight(month) < to {
            let next = add_months(month, 1);
            let (lo, hi) = (self.midnight(month).max(from), self.midnight(next).min(to));
            out.push((format!("{:04}-{:02}", month.year(), month.month()), lo, hi));
            month = next;
        }
        out
    }

    /// What `[from, to)` is in the zone.
    pub fn period(self, from: i64, to: i64) -> Period {
        let (first, end) = (self.date(from), self.date(to));
        if self.midnight(first) != from || self.midnight(end) != to || end <= first {
            return Period::Instants;
        }
        if first.day() == 1 && end == add_months(first, 3) && first.month0() % 3 == 0 {
            return Period::Quarter { year: first.year(), quarter: first.month0() / 3 + 1 };
        }
        if first.day() == 1 && end == add_months(first, 1) {
            return Period::Month { year: first.year(), month: first.month() };
        }
        Period::Days { first, last: end.pred_opt().unwrap_or(end) }
    }

    /// The period's name in `lang`: "2026年第三季度（北京时间）", "2026 Q3
    /// (Asia/Shanghai)", or its first and last day, or its instants.
    pub fn describe(self, lang: Lang, from: i64, to: i64) -> String {
        let zone = lang.term("zone", self.name());
        match self.period(from, to) {
            Period::Quarter { year, quarter } => lang.t(
                "period-quarter",
                &[("year", &year.to_string()), ("quarter", &format!("q{quarter}")), ("zone", &zone)],
            ),
            Period::Month { year, month } => {
                lang.t("period-month", &[("year", &year.to_string()), ("month", &month.to_string()), ("zone", &zone)])
            }
            Period::Days { first, last } => {
                lang.t("period-days", &[("first", &first.to_string()), ("last", &last.to_string()), ("zone", &zone)])
            }
            Period::Instants => {
                lang.t("period-instants", &[("from", &self.show(from)), ("to", &self.show(to)), ("zone", &zone)])
            }
        }
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::DEFAULT
    }
}

fn add_months(first_of_month: NaiveDate, months: u32) -> NaiveDate {
    first_of_month.checked_add_months(chrono::Months::new(months)).unwrap_or(first_of_month)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_micros()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_date_means_midnight_in_the_zone() {
        let beijing = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(beijing.midnight(date(2026, 7, 1)), micros("2026-07-01T00:00:00+08:00"));
        assert_eq!(Zone::UTC.midnight(date(2026, 7, 1)), micros("2026-07-01T00:00:00Z"));
        // São Paulo skipped midnight on 2018-11-04 (clocks went to 01:00).
        let sao_paulo = Zone::parse("America/Sao_Paulo").unwrap();
        assert_eq!(sao_paulo.midnight(date(2018, 11, 4)), micros("2018-11-04T01:00:00-02:00"));
        assert_eq!(Zone::parse("Mars/Olympus"), None);
    }

    #[test]
    fn quarters_and_months_are_counted_in_the_zone() {
        let beijing = Zone::DEFAULT;
        let (from, to) = (micros("2026-07-01T00:00:00+08:00"), micros("2026-10-01T00:00:00+08:00"));
        assert_eq!(beijing.period(from, to), Period::Quarter { year: 2026, quarter: 3 });
        assert_eq!(Zone::UTC.period(from, to), Period::Instants, "not midnight in UTC");
        assert_eq!(beijing.describe(Lang::ZhCn, from, to), "2026年第三季度（北京时间）");
        assert_eq!(beijing.describe(Lang::En, from, to), "2026 Q3 (Beijing time)");
        assert_eq!(beijing.quarter_of(micros("2026-09-30T17:00:00Z")), (date(2026, 10, 1), date(2027, 1, 1)));
        let months = beijing.months(from, to);
        let labels: Vec<&str> = months.iter().map(|(l, _, _)| l.as_str()).collect();
        assert_eq!(labels, ["2026-07", "2026-08", "2026-09"]);
        assert_eq!(months[1].1, micros("2026-08-01T00:00:00+08:00"));
        assert_eq!(beijing.show(from), "2026-07-01 00:00:00 +08:00");
        let days = beijing.period(from, micros("2026-07-15T00:00:00+08:00"));
        assert_eq!(days, Period::Days { first: date(2026, 7, 1), last: date(2026, 7, 14) });
    }
}
