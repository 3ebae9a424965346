//! Seeded generator of a realistic year of a mid-size city's anti-fraud
//! governance: agencies of every kind, joint meetings, tasks, freezes,
//! clues, warnings, card-breaking actions, penalties and a few retractions.
//!
//! The generator only produces submitted envelopes; they are appended
//! through the ledger like any import, so every rule checks them.

use chrono::{DateTime, Utc};
use govledger_domain::Submission;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Seed of the random generator: the same seed gives the same events.
    pub seed: u64,
    /// Multiplies the volume of events (1.0 ≈ a year of a mid-size city).
    pub scale: f64,
    /// The end of the generated year (exclusive).
    pub until: DateTime<Utc>,
}

/// The events of the demo city, in append order.
pub fn events(_config: &DemoConfig) -> Box<dyn Iterator<Item = Submission> + Send> {
    Box::new(std::iter::empty())
}
