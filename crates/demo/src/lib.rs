//! Seeded generator of a realistic year of a mid-size city's anti-fraud
//! governance: agencies of every kind, joint meetings, tasks, freezes,
//! clues, warnings, card-breaking actions, penalties and a few retractions.
//!
//! The generator only produces submitted envelopes; they are appended
//! through the ledger like any import, so every rule checks them.
//!
//! Code map: `sim` is the engine (day-by-day planning, a priority queue of
//! scheduled steps, time-ordered output); `city` holds the agencies and
//! their diligence profiles; one module per concern plans lifecycles —
//! `bootstrap` (registrations), `meetings` (meetings and tasks),
//! `funds` (cases and freezes), `referrals` (clues and warnings),
//! `activities` (card-breaking, publicity, penalties); `dist` and
//! `text` supply random draws and words.
//!
//! The generator never emits `AssessmentPublished`: an assessment is
//! published with the SHA-256 of a report computed from the ledger as of a
//! `seq`, and a generator of submissions knows neither the `seq`s nor the
//! report. Evaluators publish after running the assessment on the demo data,
//! as they would on real data.

mod activities;
mod bootstrap;
mod city;
mod dist;
mod funds;
mod meetings;
mod referrals;
mod sim;
mod text;

use chrono::{DateTime, Utc};
use govledger_domain::Submission;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Seed of the random generator: the same seed gives the same events
    /// (with the same build of `rand`; `SmallRng` is not portable across
    /// its versions or pointer widths).
    pub seed: u64,
    /// Multiplies the volume of day-to-day events (1.0 ≈ 40,000 events, a
    /// year of a mid-size city; 25 ≈ 1,000,000). The agencies and the
    /// monthly plenary meetings do not scale. A scale that is not a positive
    /// number counts as 0.
    pub scale: f64,
    /// The end of the generated year (exclusive): events occur in the 365
    /// days before it, and answers that would come later are not emitted.
    pub until: DateTime<Utc>,
}

/// The events of the demo city, in append order: ordered by `occurred_at`
/// (ties in a fixed order), each with an `id` drawn from the seed. The first
/// is the coordination office registering itself.
///
/// The iterator is lazy: it plans one day at a time and keeps only the
/// lifecycles in flight, so a million events need little memory.
pub fn events(config: &DemoConfig) -> Box<dyn Iterator<Item = Submission> + Send> {
    Box::new(sim::Events(sim::Sim::new(config.seed, config.scale, config.until)))
}
