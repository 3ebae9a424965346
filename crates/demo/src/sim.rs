//! The engine of the demo city: plans lifecycles day by day and hands their
//! events out in time order.
//!
//! Each day, the activity modules plan what starts that day (a fraud case
//! and its freezes, a clue and its feedback …) as [`Plan`]s: the whole
//! lifecycle of one entity, its steps in time order, decided up front. The
//! steps go into a priority queue keyed by `occurred_at`; an event leaves the
//! queue only once every day that could still produce an earlier event has
//! been planned. So the output is in time order while memory holds only the
//! lifecycles in flight (answers scheduled for later days), never the year.
//!
//! Steps at or after `until` are dropped when scheduled: those answers have
//! not happened yet, and their entities stay open.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use chrono::{DateTime, Datelike, NaiveDate, Weekday};
use govledger_domain::catalog::{EventRetracted, Payload};
use govledger_domain::values::{AccountRef, EventRef};
use govledger_domain::{EntityId, Submission, Text, Timestamp};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::city::{Ag, City};
use crate::dist::{uniform, weighted};
use crate::{activities, bootstrap, funds, meetings, referrals};

pub(crate) const SECOND: i64 = 1_000_000;
pub(crate) const MINUTE: i64 = 60 * SECOND;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;
/// The generated period: the 365 days before `until`.
pub(crate) const YEAR_DAYS: i64 = 365;
/// The city keeps China Standard Time (UTC+8); office hours and calendar
/// days are local.
pub(crate) const LOCAL_OFFSET: i64 = 8 * HOUR;

/// A duration in seconds as microseconds, rounded to whole seconds (people
/// and bank systems record seconds).
pub(crate) fn secs(s: f64) -> i64 {
    (s.max(0.0).round() as i64).saturating_mul(SECOND)
}

/// Days as microseconds, rounded to whole seconds.
pub(crate) fn days(d: f64) -> i64 {
    secs(d * 86_400.0)
}

/// The local calendar date of an instant.
pub(crate) fn local_date(at: i64) -> NaiveDate {
    DateTime::from_timestamp_micros(at + LOCAL_OFFSET).map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// The instant of a local wall-clock time on the local date of `at`.
pub(crate) fn local_time_on(at: i64, hour: i64, minute: i64) -> i64 {
    let local = at + LOCAL_OFFSET;
    local - local.rem_euclid(DAY) + hour * HOUR + minute * MINUTE - LOCAL_OFFSET
}

/// Whether the local date of `at` is Monday to Friday.
pub(crate) fn is_working_day(at: i64) -> bool {
    !matches!(local_date(at).weekday(), Weekday::Sat | Weekday::Sun)
}

/// The first instant at or after `at` that is the given local time of a
/// working day.
pub(crate) fn working_day_at(at: i64, hour: i64, minute: i64) -> i64 {
    let mut day = local_time_on(at, hour, minute);
    if day < at {
        day += DAY;
    }
    while !is_working_day(day) {
        day += DAY;
    }
    day
}

/// An entity id such as `FRZ-2026-000123`: prefix, local year of creation
/// and a serial number unique over the whole run.
pub(crate) fn entity_id(prefix: &str, at: i64, serial: u64) -> EntityId {
    let raw = format!("{prefix}-{}-{serial:06}", local_date(at).year());
    EntityId::parse(&raw).unwrap_or_else(|r| panic!("demo generator built an invalid entity id {raw}: {r}"))
}

/// A text of the generator's own; a blank or oversized one is a bug here.
pub(crate) fn text(raw: impl Into<String>) -> Text {
    let raw = raw.into();
    Text::parse(&raw).unwrap_or_else(|r| panic!("demo generator built an invalid text {raw:?}: {r}"))
}

/// How heavy each local hour of the day is, for activity sampled within a day.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hours {
    /// Fraud and policing: all day, busiest in the afternoon and evening.
    Around,
    /// Offices: 09:00–12:00 and 14:00–18:00 local.
    Office,
}

impl Hours {
    fn weight(self, local_hour: usize) -> f64 {
        match self {
            Hours::Around => [
                0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 1.0, 1.3, 1.5, 1.5, 1.3, 1.3, 1.5, 1.6, 1.6, 1.5, 1.4, 1.5,
                1.6, 1.4, 1.0, 0.6,
            ][local_hour % 24],
            Hours::Office => {
                if (9..12).contains(&local_hour) || (14..18).contains(&local_hour) {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// Counters behind the entity ids, one per kind of entity.
#[derive(Debug, Default)]
pub(crate) struct Serials {
    pub meeting: u64,
    pub task: u64,
    pub case: u64,
    pub freeze: u64,
    pub clue: u64,
    pub warning: u64,
    pub card_action: u64,
    pub penalty: u64,
    pub activity: u64,
}

/// One lifecycle's events, in time order, decided when it starts.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    events: Vec<Submission>,
    last_at: i64,
}

impl Plan {
    pub fn new() -> Self {
        Self { events: Vec::new(), last_at: i64::MIN }
    }

    /// Adds the next step at `at` — never earlier than the plan's previous
    /// step, so every answer follows its request — and returns the event's
    /// id, which a later retraction step names.
    pub fn step(&mut self, sim: &mut Sim, at: i64, actor: Ag, payload: Payload) -> Uuid {
        let at = at.max(self.last_at);
        self.last_at = at;
        let id = sim.event_id();
        self.events.push(Submission {
            id: Some(id),
            actor: sim.city.id(actor).clone(),
            occurred_at: Timestamp::from_micros(at),
            payload,
        });
        id
    }

    /// Adds a retraction of `target` — the newest step of its entity, so
    /// that SPEC 2.4 allows it — by `actor`, its actor or the coordinator.
    pub fn retract(&mut self, sim: &mut Sim, at: i64, actor: Ag, target: Uuid, reason: &str) {
        let payload = Payload::EventRetracted(EventRetracted { event_id: EventRef(target), reason: text(reason) });
        self.step(sim, at, actor, payload);
    }

    /// When the latest step happens.
    pub fn last_at(&self) -> i64 {
        self.last_at
    }
}

/// A scheduled event. The queue is a max-heap, so the order is reversed:
/// earliest `at` first, and among equal instants the one scheduled first.
/// The event is boxed so that sifting moves 24 bytes, not a whole payload.
#[derive(Debug)]
struct Pending {
    at: i64,
    order: u64,
    event: Box<Submission>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

/// The state of the generator.
pub(crate) struct Sim {
    pub rng: SmallRng,
    pub city: City,
    /// Volume multiplier of the day-to-day activity.
    pub scale: f64,
    /// The first instant of the year, in microseconds.
    pub start: i64,
    /// The end of the year (exclusive), in microseconds.
    pub until: i64,
    pub serials: Serials,
    /// When the registrations are over and everyday activity may begin.
    activity_start: i64,
    queue: BinaryHeap<Pending>,
    next_order: u64,
    /// Days `0..next_day` have been planned.
    next_day: i64,
}

impl Sim {
    pub fn new(seed: u64, scale: f64, until: DateTime<chrono::Utc>) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let city = City::new(&mut rng);
        let until = until.timestamp_micros();
        let start = until - YEAR_DAYS * DAY;
        let scale = if scale.is_finite() && scale > 0.0 { scale } else { 0.0 };
        Self {
            rng,
            city,
            scale,
            start,
            until,
            serials: Serials::default(),
            activity_start: start + HOUR,
            queue: BinaryHeap::new(),
            next_order: 0,
            next_day: 0,
        }
    }

    /// A fresh event id, drawn from the seeded generator so that the same
    /// seed gives the same ids.
    pub fn event_id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.r#gen()).into_uuid()
    }

    /// An opaque account reference, like the keyed hash a bank would send.
    pub fn account_ref(&mut self) -> AccountRef {
        let raw = format!("acct:{:016x}{:016x}", self.rng.r#gen::<u64>(), self.rng.r#gen::<u64>());
        AccountRef::parse(&raw).unwrap_or_else(|r| panic!("demo generator built an invalid account_ref {raw}: {r}"))
    }

    /// When the registrations are over and everyday activity may begin.
    pub fn activity_start(&self) -> i64 {
        self.activity_start
    }

    /// How many times something with `rate_per_day` (at scale 1) happens today.
    pub fn count(&mut self, rate_per_day: f64) -> u64 {
        crate::dist::poisson(&mut self.rng, rate_per_day * self.scale)
    }

    /// A random instant of the day starting at `day_start`, by local hour,
    /// never before the registrations are over.
    pub fn time_in_day(&mut self, day_start: i64, hours: Hours) -> i64 {
        let first_hour = ((day_start + LOCAL_OFFSET).rem_euclid(DAY) / HOUR) as usize;
        let weights: Vec<f64> = (0..24).map(|i| hours.weight(first_hour + i)).collect();
        let hour = weighted(&mut self.rng, &weights) as i64;
        let at = day_start + hour * HOUR + secs(uniform(&mut self.rng, 0.0, 3_600.0));
        if at >= self.activity_start { at } else { self.activity_start + secs(uniform(&mut self.rng, 0.0, 3_600.0)) }
    }

    /// Queues a plan's events; those at or after `until` have not happened
    /// yet and are dropped (with every later step of the same plan).
    pub fn schedule(&mut self, plan: Plan) {
        for event in plan.events {
            let at = event.occurred_at.micros();
            if at >= self.until {
                break;
            }
            debug_assert!(at >= self.start + (self.next_day - 1).max(0) * DAY, "a plan reaches into a planned day");
            self.queue.push(Pending { at, order: self.next_order, event: Box::new(event) });
            self.next_order += 1;
        }
    }

    /// Plans the next day: everything that starts on it.
    fn plan_day(&mut self) {
        let day = self.next_day;
        self.next_day += 1;
        let day_start = self.start + day * DAY;
        if day == 0 {
            bootstrap::plan(self);
        }
        if day == 0 || local_date(day_start).day() == 1 {
            meetings::plan_plenary(self, day_start);
        }
        meetings::plan_day(self, day_start);
        funds::plan_day(self, day_start);
        referrals::plan_day(self, day_start);
        activities::plan_day(self, day_start);
    }

    /// The next event in time order, or `None` after the last one.
    fn next_event(&mut self) -> Option<Submission> {
        loop {
            // Days not yet planned only produce events at or after their start.
            let planned_until = self.start + self.next_day * DAY;
            let ready = self.queue.peek().is_some_and(|p| p.at < planned_until);
            if ready || self.next_day >= YEAR_DAYS {
                return self.queue.pop().map(|p| *p.event);
            }
            self.plan_day();
        }
    }
}

/// The demo city's events as an iterator.
pub(crate) struct Events(pub Sim);

impl Iterator for Events {
    type Item = Submission;

    fn next(&mut self) -> Option<Submission> {
        self.0.next_event()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_helpers_use_china_standard_time() {
        // 2026-03-02T00:00:00Z is 08:00 on Monday 2 March in Jinjiang.
        let at = DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z").unwrap().timestamp_micros();
        assert_eq!(local_date(at).to_string(), "2026-03-02");
        let nine = local_time_on(at, 9, 30);
        assert_eq!(nine - at, HOUR + 30 * MINUTE);
        // Saturday 7 March 10:00 local moves to Monday 9 March.
        let saturday = at + 5 * DAY;
        assert!(!is_working_day(saturday));
        assert_eq!(local_date(working_day_at(saturday, 10, 0)).to_string(), "2026-03-09");
    }
}
