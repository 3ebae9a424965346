//! The ledger's rules (SPEC 2.3, 2.4): who may append what, in which state,
//! in which order. [`Txn::admit`] checks a submission against the state and,
//! when it passes, folds it in; [`Txn::replay`] folds an event already in the
//! log. Each rule is written once, here: what each event type requires
//! (`checks.rs`) and what it changes (`fold.rs`).

use uuid::Uuid;

use crate::envelope::Submission;
use crate::error::{ErrorCode as C, Rejection};
use crate::state::{Sym, Txn};
use crate::values::Timestamp;

mod checks;
mod fold;

use checks::{Ctx, check_bootstrap};

/// How far `occurred_at` may be after the ledger's clock (SPEC 2.1).
pub const MAX_FUTURE_MICROS: i64 = 5 * 60 * 1_000_000;

type Check = Result<(), Rejection>;

/// The ledger roles an actor may use for one submission (SPEC 4).
///
/// Authority lives in the log: an agency holds the roles its
/// `AgencyRegistered` gave it. A credential can narrow that: an `agency`
/// token acts as its agency without any ledger role, a `coordinator` token
/// with the coordinator role only. The operator (the CLI on a data
/// directory) acts with every role the agency holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// May use the coordinator role, if the agency holds it.
    pub coordinator: bool,
    /// May use the evaluator role, if the agency holds it.
    pub evaluator: bool,
}

impl Capacity {
    /// Every role the actor holds in the ledger.
    pub const FULL: Capacity = Capacity { coordinator: true, evaluator: true };
    /// The agency itself, without ledger roles.
    pub const AGENCY: Capacity = Capacity { coordinator: false, evaluator: false };
    /// The agency with its coordinator role.
    pub const COORDINATOR: Capacity = Capacity { coordinator: true, evaluator: false };
    /// The agency with its evaluator role.
    pub const EVALUATOR: Capacity = Capacity { coordinator: false, evaluator: true };
}

fn reject(code: C, field: &str, message: impl Into<String>) -> Rejection {
    Rejection::at(code, field, message)
}

impl Txn<'_> {
    /// Checks `sub` against the state (including this change's earlier
    /// events) and, if every rule holds, folds it in as the next event.
    /// Returns its `seq`. On rejection the change is as it was.
    pub fn admit(&mut self, id: Uuid, sub: &Submission, recorded_at: Timestamp) -> Result<u64, Rejection> {
        self.admit_as(id, sub, recorded_at, Capacity::FULL)
    }

    /// [`Txn::admit`] for an actor acting in a narrower [`Capacity`].
    pub fn admit_as(
        &mut self,
        id: Uuid,
        sub: &Submission,
        recorded_at: Timestamp,
        capacity: Capacity,
    ) -> Result<u64, Rejection> {
        self.check_as(sub, recorded_at, capacity)?;
        Ok(self.apply(id, sub))
    }

    /// Folds in an event that is already in the log, without checking it.
    pub fn replay(&mut self, id: Uuid, sub: &Submission) -> u64 {
        self.apply(id, sub)
    }

    /// Checks every rule for `sub` as the next event, with the actor acting
    /// in `capacity`. Does not change anything.
    pub fn check_as(&self, sub: &Submission, recorded_at: Timestamp, capacity: Capacity) -> Check {
        if sub.occurred_at.micros() > recorded_at.micros().saturating_add(MAX_FUTURE_MICROS) {
            return Err(reject(
                C::OccurredInFuture,
                "occurred_at",
                format!(
                    "occurred_at {} is more than 5 minutes after the ledger's time {}; check the client's clock and time zone",
                    sub.occurred_at, recorded_at
                ),
            ));
        }
        if self.live_agencies() == 0 {
            if !capacity.coordinator {
                return Err(reject(
                    C::ActorNotAuthorised,
                    "actor",
                    "only the operator or a coordinator may bootstrap the ledger",
                ));
            }
            return check_bootstrap(sub);
        }
        let actor_id = sub.actor.as_str();
        let actor_sym = self.sym(actor_id);
        let Some(actor) = actor_sym.and_then(|sym| self.agency_by_sym(sym)) else {
            return Err(reject(C::ActorUnknown, "actor", format!("actor {actor_id:?} is not a registered agency")));
        };
        let ctx = Ctx {
            tx: self,
            sub,
            actor,
            actor_sym: actor_sym.unwrap_or(Sym::MAX),
            coordinator: actor.coordinator && capacity.coordinator,
            evaluator: actor.evaluator && capacity.evaluator,
        };
        ctx.check()
    }
}
