//! The govledger domain: the event catalog of SPEC 2.3, the value formats,
//! and the rules that decide whether an event may be appended.
//!
//! Architecture invariant: this crate does no IO and knows nothing of
//! storage, hashing or transport. Every rule lives here once; the CLI, HTTP,
//! GraphQL and import paths all go through [`Txn::admit`].

pub mod canonical;
pub mod catalog;
pub mod envelope;
pub mod error;
pub mod rules;
pub mod state;
pub mod values;

pub use catalog::{EventType, Payload};
pub use envelope::Submission;
pub use error::{ErrorCode, Rejection};
pub use rules::Capacity;
pub use state::{Detached, Savepoint, State, Txn};
pub use values::{AgencyId, AmountMinor, Count, EntityId, Text, Timestamp};
