//! One-off actions: card-breaking operations (bank cards, phone cards and
//! internet accounts disposed of), publicity activities, and penalties that
//! regulators and the coordination office impose on lax agencies — a few of
//! them revoked later. Now and then a figure is mistyped, retracted and
//! entered again; once a penalty names the wrong agency and is re-issued.

use govledger_domain::catalog::{
    AgencyKind, CardBreakingAction, Payload, PenaltyImposed, PenaltyKind, PenaltyRevoked, PublicityDelivered,
};
use govledger_domain::{AmountMinor, Count};

use crate::city::{ACCOUNT_HOLDERS, Ag};
use crate::dist::{chance, lognormal, pick, pick_weighted, uniform};
use crate::sim::{HOUR, Hours, MINUTE, Plan, Sim, days, entity_id, is_working_day, secs, text};
use crate::text as words;

/// Card-breaking actions recorded per day at scale 1.
const CARD_ACTIONS_PER_DAY: f64 = 1.5;
/// Publicity activities per day at scale 1.
const PUBLICITY_PER_DAY: f64 = 1.0;
/// Penalties per working day at scale 1 (about 45 a year).
const PENALTIES_PER_WORKING_DAY: f64 = 0.17;
/// Chance that a recorded figure is mistyped and corrected by retraction.
const FIGURE_SLIP_P: f64 = 0.01;
/// Chance that a penalty first names the wrong agency.
const WRONG_TARGET_P: f64 = 0.03;
const REVOKE_P: f64 = 0.10;

use AgencyKind as K;

pub(crate) fn plan_day(sim: &mut Sim, day_start: i64) {
    for _ in 0..sim.count(CARD_ACTIONS_PER_DAY) {
        let at = sim.time_in_day(day_start, Hours::Office);
        plan_card_action(sim, at);
    }
    for _ in 0..sim.count(PUBLICITY_PER_DAY) {
        let at = sim.time_in_day(day_start, Hours::Office);
        plan_publicity(sim, at);
    }
    if is_working_day(day_start) {
        for _ in 0..sim.count(PENALTIES_PER_WORKING_DAY) {
            let at = sim.time_in_day(day_start, Hours::Office);
            plan_penalty(sim, at);
        }
    }
}

/// A count from a log-normal with this median, rounded.
fn about(sim: &mut Sim, median: f64) -> Count {
    Count(lognormal(&mut sim.rng, median, 0.8).round() as u64)
}

fn plan_card_action(sim: &mut Sim, at: i64) {
    let kinds: &[K] = pick_weighted::<&[K]>(
        &mut sim.rng,
        &[
            (&[K::PublicSecurity][..], 0.5),
            (ACCOUNT_HOLDERS, 0.2),
            (&[K::TelecomOperator][..], 0.18),
            (&[K::InternetPlatform][..], 0.12),
        ],
    );
    let actor = sim.city.pick(&mut sim.rng, kinds);
    // Each sector disposes of what it holds; the police of everything,
    // with the suspects behind it.
    let zero = Count(0);
    let (bank_cards, phone_cards, internet_accounts, suspects) = match sim.city.kind(actor) {
        K::PublicSecurity => (about(sim, 20.0), about(sim, 15.0), about(sim, 10.0), about(sim, 3.0)),
        K::Bank | K::PaymentInstitution => (about(sim, 30.0), zero, zero, zero),
        K::TelecomOperator => (zero, about(sim, 40.0), zero, zero),
        _ => (zero, zero, about(sim, 150.0), zero),
    };
    sim.serials.card_action += 1;
    let action_id = entity_id("CBA", at, sim.serials.card_action);
    let operation = chance(&mut sim.rng, 0.7).then(|| text(*pick(&mut sim.rng, words::CARD_OPERATIONS)));
    let action = |bank_cards: Count| {
        Payload::CardBreakingAction(CardBreakingAction {
            action_id: action_id.clone(),
            operation: operation.clone(),
            bank_cards,
            phone_cards,
            internet_accounts,
            suspects,
        })
    };
    let mut plan = Plan::new();
    if chance(&mut sim.rng, FIGURE_SLIP_P) {
        let slip = plan.step(sim, at, actor, action(Count(bank_cards.0 * 10 + 1)));
        let reason = "银行卡数量录入错误，撤回后重新登记";
        correct(sim, &mut plan, actor, slip, reason, action(bank_cards));
    } else {
        plan.step(sim, at, actor, action(bank_cards));
    }
    sim.schedule(plan);
}

fn plan_publicity(sim: &mut Sim, at: i64) {
    let kinds: &[K] = pick_weighted::<&[K]>(
        &mut sim.rng,
        &[
            (&[K::Community][..], 0.25),
            (&[K::PublicSecurity][..], 0.2),
            (ACCOUNT_HOLDERS, 0.15),
            (&[K::TelecomOperator][..], 0.1),
            (&[K::InternetPlatform][..], 0.05),
            (&[K::Government][..], 0.1),
            (&[K::Other][..], 0.15),
        ],
    );
    let actor = sim.city.pick(&mut sim.rng, kinds);
    let median_reach = if sim.city.kind(actor) == K::InternetPlatform { 50_000.0 } else { 200.0 };
    let reach = Count(lognormal(&mut sim.rng, median_reach, 0.9).round().max(5.0) as u64);
    let audience = text(*pick(&mut sim.rng, words::PUBLICITY_AUDIENCES));
    sim.serials.activity += 1;
    let activity_id = entity_id("PUB", at, sim.serials.activity);
    let delivered = |reach: Count| {
        Payload::PublicityDelivered(PublicityDelivered {
            activity_id: activity_id.clone(),
            audience: audience.clone(),
            reach,
        })
    };
    let mut plan = Plan::new();
    if chance(&mut sim.rng, FIGURE_SLIP_P) {
        let slip = plan.step(sim, at, actor, delivered(Count(reach.0 * 100)));
        correct(sim, &mut plan, actor, slip, "覆盖人数多录两位，撤回后重新登记", delivered(reach));
    } else {
        plan.step(sim, at, actor, delivered(reach));
    }
    sim.schedule(plan);
}

/// Retracts the plan's newest step (by its actor, sometimes by the office
/// that spots the slip) and enters `corrected` under the same entity id,
/// which the retraction freed.
fn correct(sim: &mut Sim, plan: &mut Plan, actor: Ag, slip: uuid::Uuid, reason: &str, corrected: Payload) {
    let noticed_at = plan.last_at() + secs(uniform(&mut sim.rng, 600.0, 6.0 * 3_600.0));
    let by = if chance(&mut sim.rng, 0.8) { actor } else { sim.city.office };
    plan.retract(sim, noticed_at, by, slip, reason);
    let again_at = plan.last_at() + secs(uniform(&mut sim.rng, 60.0, 1_800.0));
    plan.step(sim, again_at, actor, corrected);
}

fn plan_penalty(sim: &mut Sim, at: i64) {
    let city = &sim.city;
    let rng = &mut sim.rng;
    let regulator = |id: &str| city.agencies.iter().position(|a| a.id.as_str() == id).unwrap_or(city.office);
    let (imposer, target_kinds): (Ag, &[K]) = match crate::dist::weighted(rng, &[0.25, 0.2, 0.15, 0.15, 0.25]) {
        0 => (regulator("pboc-jinjiang"), ACCOUNT_HOLDERS),
        1 => (regulator("nfra-quanzhou"), &[K::Bank]),
        2 => (regulator("fj-comms-admin"), &[K::TelecomOperator]),
        3 => (regulator("jj-cac-office"), &[K::InternetPlatform]),
        // The office names and shames any member agency that falls behind.
        _ => (city.office, &[K::PublicSecurity, K::Bank, K::PaymentInstitution, K::TelecomOperator, K::Community]),
    };
    let target = city.pick_lax(rng, target_kinds);
    let by_office = imposer == city.office;
    let kind = if by_office {
        *pick_weighted(rng, &[(PenaltyKind::Warning, 0.6), (PenaltyKind::PublicCriticism, 0.4)])
    } else {
        *pick_weighted(
            rng,
            &[
                (PenaltyKind::Warning, 0.45),
                (PenaltyKind::PublicCriticism, 0.2),
                (PenaltyKind::Fine, 0.25),
                (PenaltyKind::Suspension, 0.1),
            ],
        )
    };
    // Fines run from tens of thousands to about a million yuan, in whole
    // thousands of yuan.
    let amount_minor = (kind == PenaltyKind::Fine)
        .then(|| AmountMinor((lognormal(rng, 200.0, 0.8).round().max(10.0) as u64) * 100_000));
    let legal_basis = text(if by_office { words::CITY_PENALTIES } else { words::LAW_PENALTIES });
    let reason = text(*pick(rng, words::PENALTY_REASONS));
    sim.serials.penalty += 1;
    let penalty_id = entity_id("PEN", at, sim.serials.penalty);
    let imposed = |target: &govledger_domain::AgencyId| {
        Payload::PenaltyImposed(PenaltyImposed {
            penalty_id: penalty_id.clone(),
            target: target.clone(),
            kind,
            amount_minor,
            legal_basis: legal_basis.clone(),
            reason: reason.clone(),
        })
    };

    let mut plan = Plan::new();
    let wrong = sim.city.pick_other(&mut sim.rng, target_kinds, target);
    if wrong != target && chance(&mut sim.rng, WRONG_TARGET_P) {
        let slip = plan.step(sim, at, imposer, imposed(&sim.city.id(wrong).clone()));
        let noticed_at = at + HOUR + secs(uniform(&mut sim.rng, 0.0, 4.0 * 3_600.0));
        plan.retract(sim, noticed_at, imposer, slip, "处罚对象录入错误，撤回后重新作出");
        let again_at = plan.last_at() + 10 * MINUTE;
        plan.step(sim, again_at, imposer, imposed(&sim.city.id(target).clone()));
    } else {
        plan.step(sim, at, imposer, imposed(&sim.city.id(target).clone()));
    }

    if chance(&mut sim.rng, REVOKE_P) {
        let at = plan.last_at() + days(uniform(&mut sim.rng, 7.0, 60.0));
        let by = if chance(&mut sim.rng, 0.7) { imposer } else { sim.city.office };
        let reason = text(*pick(&mut sim.rng, words::PENALTY_REVOKE_REASONS));
        plan.step(sim, at, by, Payload::PenaltyRevoked(PenaltyRevoked { penalty_id, reason }));
    }
    sim.schedule(plan);
}
