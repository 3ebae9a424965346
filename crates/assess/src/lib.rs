//! govledger assessment: projections of the log, the accountability
//! indicators of SPEC 3.2, the assessment model, scores and rankings of SPEC
//! 3.3 and the assessment document of SPEC 3.4.
//!
//! The flow: fold stored events into a [`Projection`] ([`Projection::apply`]
//! as they are appended, [`Projection::apply_raw`] for a rebuild from the
//! store's bytes; [`Projection::to_checkpoint`] to persist it), then ask it
//! for an [`Assessment`] with a [`Model`] and a [`Query`]. One projection at
//! the head answers every "as of" position without replaying the log.
//!
//! Architecture invariant: this crate is pure. It does no IO (the CLI and
//! the server read the store and the model file and keep the checkpoint
//! file) and knows nothing of storage, HTTP or GraphQL.

pub mod assessment;
mod decode;
pub mod entities;
pub mod exact;
pub mod indicators;
pub mod model;
mod parties;
pub mod projection;

pub use assessment::{AgencyAssessment, AssessError, Assessment, IndicatorResult, Period, Query};
pub use decode::DecodeError;
pub use entities::{EntityFilter, EntityKind, EntityPage, EntityStatus, EntityView};
pub use model::{DEFAULT_MODEL_TOML, IndicatorId, Model, ModelError};
pub use projection::{CheckpointError, Projection, ProjectionError};
