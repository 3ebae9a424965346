//! Fraud cases and the money trail: police report a case, then ask banks
//! and payment institutions to stop payments or freeze the accounts the
//! money went through. Each bank answers in its own time (its profile): most
//! in minutes, some after hours, some reject, a few never answer. Executed
//! freezes are later partly returned to victims and released.
//!
//! The few mistakes — an amount typed with an extra zero, a return entered
//! short — are retracted by the bank and entered again, as SPEC 2.4 allows
//! for the newest step of a freeze.

use govledger_domain::catalog::{
    AgencyKind, FraudCaseReported, FreezeExecuted, FreezeMode, FreezeRejected, FreezeReleased, FreezeRequested,
    FundsReturned, Payload,
};
use govledger_domain::{AmountMinor, EntityId};

use crate::city::{ACCOUNT_HOLDERS, Ag};
use crate::dist::{chance, lognormal, pick, pick_weighted, uniform};
use crate::sim::{Hours, Plan, Sim, days, entity_id, secs, text};
use crate::text as words;

/// Fraud cases reported per day at scale 1.
const CASES_PER_DAY: f64 = 12.0;
/// Freezes of accounts found through clue work, without a case, per day.
const FREEZES_WITHOUT_CASE_PER_DAY: f64 = 0.8;
/// How many accounts a case's money went through, with their shares.
const FREEZES_PER_CASE: &[(usize, f64)] = &[(0, 0.25), (1, 0.45), (2, 0.20), (3, 0.10)];
/// Chance that a bank mistypes an executed amount, and a returned amount.
const EXECUTION_SLIP_P: f64 = 0.0015;
const RETURN_SLIP_P: f64 = 0.002;

pub(crate) fn plan_day(sim: &mut Sim, day_start: i64) {
    for _ in 0..sim.count(CASES_PER_DAY) {
        let at = sim.time_in_day(day_start, Hours::Around);
        plan_case(sim, at);
    }
    for _ in 0..sim.count(FREEZES_WITHOUT_CASE_PER_DAY) {
        let at = sim.time_in_day(day_start, Hours::Around);
        let requester = sim.city.pick(&mut sim.rng, &[AgencyKind::PublicSecurity]);
        let amount_minor = lognormal(&mut sim.rng, 1_500_000.0, 1.0).clamp(10_000.0, 1e10) as u64;
        plan_freeze(sim, requester, at, None, amount_minor);
    }
}

/// A case and the freeze requests that follow it within the hour.
fn plan_case(sim: &mut Sim, at: i64) {
    let rng = &mut sim.rng;
    let reporter = sim.city.pick(rng, &[AgencyKind::PublicSecurity]);
    // Losses are right-skewed: a median of ¥30,000, a few in the millions.
    let loss_minor = lognormal(rng, 3_000_000.0, 1.2).clamp(20_000.0, 1e10) as u64;
    let fraud_type = *pick_weighted(rng, words::FRAUD_TYPES);
    sim.serials.case += 1;
    let case_id = entity_id("CASE", at, sim.serials.case);
    let mut plan = Plan::new();
    plan.step(
        sim,
        at,
        reporter,
        Payload::FraudCaseReported(FraudCaseReported {
            case_id: case_id.clone(),
            fraud_type: text(fraud_type),
            loss_minor: AmountMinor(loss_minor),
        }),
    );
    sim.schedule(plan);

    let accounts = *pick_weighted(&mut sim.rng, FREEZES_PER_CASE);
    let mut request_at = at;
    for _ in 0..accounts {
        // The reporting station asks, or the anti-fraud centre's desk does.
        let requester = if chance(&mut sim.rng, 0.8) { reporter } else { sim.city.afc };
        request_at += secs(lognormal(&mut sim.rng, 1_200.0, 0.9).max(30.0));
        let share = uniform(&mut sim.rng, 0.3, 1.0) / accounts as f64;
        let amount_minor = ((loss_minor as f64 * share) as u64).max(10_000);
        plan_freeze(sim, requester, request_at, Some(case_id.clone()), amount_minor);
    }
}

/// A freeze request and everything the bank does about it.
fn plan_freeze(sim: &mut Sim, requester: Ag, at: i64, case_id: Option<EntityId>, amount_minor: u64) {
    let bank = sim.city.pick(&mut sim.rng, ACCOUNT_HOLDERS);
    let mode = if chance(&mut sim.rng, 0.6) { FreezeMode::StopPayment } else { FreezeMode::Freeze };
    sim.serials.freeze += 1;
    let freeze_id = entity_id("FRZ", at, sim.serials.freeze);
    let account_ref = sim.account_ref();
    let mut plan = Plan::new();
    plan.step(
        sim,
        at,
        requester,
        Payload::FreezeRequested(FreezeRequested {
            freeze_id: freeze_id.clone(),
            mode,
            bank: sim.city.id(bank).clone(),
            account_ref,
            amount_minor: AmountMinor(amount_minor),
            case_id,
        }),
    );

    let profile = sim.city.profile(bank).clone();
    let rng = &mut sim.rng;
    if chance(rng, profile.freeze_silent_p) {
        return sim.schedule(plan);
    }
    let latency_s = if chance(rng, profile.freeze_slow_p) {
        uniform(rng, 3_600.0, 12.0 * 3_600.0)
    } else {
        lognormal(rng, profile.freeze_median_s, 0.9).max(20.0)
    };
    let answered_at = at + secs(latency_s);
    if chance(rng, profile.freeze_reject_p) {
        let reason = text(*pick(rng, words::FREEZE_REJECT_REASONS));
        plan.step(sim, answered_at, bank, Payload::FreezeRejected(FreezeRejected { freeze_id, reason }));
        return sim.schedule(plan);
    }

    // The account may hold less than was asked for.
    let left = match mode {
        FreezeMode::StopPayment => uniform(rng, 0.5, 1.0),
        FreezeMode::Freeze => uniform(rng, 0.3, 1.0),
    };
    let frozen_minor = (amount_minor as f64 * left) as u64;
    let executed = |amount: u64| {
        Payload::FreezeExecuted(FreezeExecuted {
            freeze_id: freeze_id.clone(),
            amount_frozen_minor: AmountMinor(amount),
        })
    };
    if chance(rng, EXECUTION_SLIP_P) {
        let slip = plan.step(sim, answered_at, bank, executed(frozen_minor * 10));
        let noticed_at = answered_at + secs(uniform(&mut sim.rng, 300.0, 2_400.0));
        plan.retract(sim, noticed_at, bank, slip, "冻结金额录入多一位，撤回后按实际冻结金额重新登记");
        let again_at = plan.last_at() + secs(uniform(&mut sim.rng, 60.0, 300.0));
        plan.step(sim, again_at, bank, executed(frozen_minor));
    } else {
        plan.step(sim, answered_at, bank, executed(frozen_minor));
    }

    // Part of the frozen money goes back to the victim, in one to three
    // instalments over the following weeks.
    let rng = &mut sim.rng;
    if frozen_minor > 0 && chance(rng, 0.45) {
        let total_minor = (frozen_minor as f64 * uniform(rng, 0.5, 1.0)) as u64;
        let instalments = *pick_weighted(rng, &[(1usize, 0.7), (2, 0.25), (3, 0.05)]);
        let weights: Vec<f64> = (0..instalments).map(|_| uniform(rng, 0.5, 1.5)).collect();
        let weight_sum: f64 = weights.iter().sum();
        for w in weights {
            // Rounding down keeps the total returned within the amount frozen.
            let part_minor = (total_minor as f64 * w / weight_sum) as u64;
            let at = plan.last_at() + days(uniform(&mut sim.rng, 3.0, 30.0));
            let returned = |amount: u64| {
                Payload::FundsReturned(FundsReturned {
                    freeze_id: freeze_id.clone(),
                    amount_minor: AmountMinor(amount),
                })
            };
            if part_minor >= 10 && chance(&mut sim.rng, RETURN_SLIP_P) {
                let slip = plan.step(sim, at, bank, returned(part_minor / 10));
                let noticed_at = at + secs(uniform(&mut sim.rng, 600.0, 2.0 * 3_600.0));
                plan.retract(sim, noticed_at, bank, slip, "返还金额少录一位，撤回后重新登记");
                let again_at = plan.last_at() + secs(uniform(&mut sim.rng, 60.0, 600.0));
                plan.step(sim, again_at, bank, returned(part_minor));
            } else {
                plan.step(sim, at, bank, returned(part_minor));
            }
        }
    }

    // Stop-payments lapse or become freezes; freezes end with the case.
    let release_p = if mode == FreezeMode::StopPayment { 0.5 } else { 0.3 };
    if chance(&mut sim.rng, release_p) {
        let at = plan.last_at() + days(uniform(&mut sim.rng, 2.0, 90.0));
        let by = if chance(&mut sim.rng, 0.6) { requester } else { bank };
        let reason = text(*pick(&mut sim.rng, words::FREEZE_RELEASE_REASONS));
        plan.step(sim, at, by, Payload::FreezeReleased(FreezeReleased { freeze_id, reason }));
    }
    sim.schedule(plan);
}
