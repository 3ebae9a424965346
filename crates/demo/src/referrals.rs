//! What agencies pass to each other: clues (a phone number, an account, a
//! website …) referred for action, answered with feedback after hours or
//! days or not at all; and early warnings of likely victims, sent by the
//! police to the agency best placed to reach them, which records its
//! dissuasion attempt — usually within the hour.

use govledger_domain::catalog::{
    AgencyKind, ClueFeedbackGiven, ClueKind, ClueOutcome, ClueReferred, DissuasionMethod, DissuasionOutcome,
    DissuasionRecorded, EarlyWarningIssued, Payload, Risk,
};

use crate::city::{ACCOUNT_HOLDERS, Ag};
use crate::dist::{chance, lognormal, pick, pick_weighted, weighted};
use crate::sim::{Hours, Plan, Sim, entity_id, secs, text};
use crate::text as words;

/// Clues referred per day at scale 1.
const CLUES_PER_DAY: f64 = 10.0;
/// Early warnings issued per day at scale 1.
const WARNINGS_PER_DAY: f64 = 18.0;

use AgencyKind as K;

pub(crate) fn plan_day(sim: &mut Sim, day_start: i64) {
    for _ in 0..sim.count(CLUES_PER_DAY) {
        let at = sim.time_in_day(day_start, Hours::Around);
        plan_clue(sim, at);
    }
    for _ in 0..sim.count(WARNINGS_PER_DAY) {
        let at = sim.time_in_day(day_start, Hours::Around);
        plan_warning(sim, at);
    }
}

/// Who refers a clue to whom, and what kind of clue it is.
fn route(sim: &mut Sim) -> (Ag, Ag, ClueKind) {
    let city = &sim.city;
    let rng = &mut sim.rng;
    let police = |rng: &mut _| city.pick(rng, &[K::PublicSecurity]);
    match weighted(rng, &[0.20, 0.25, 0.08, 0.07, 0.15, 0.10, 0.08, 0.04, 0.03]) {
        0 => (police(rng), city.pick(rng, &[K::TelecomOperator]), ClueKind::PhoneNumber),
        1 => (police(rng), city.pick(rng, ACCOUNT_HOLDERS), ClueKind::BankAccount),
        2 => (police(rng), city.pick(rng, &[K::InternetPlatform]), ClueKind::Url),
        3 => (police(rng), city.pick(rng, &[K::InternetPlatform]), ClueKind::App),
        4 => (city.pick(rng, ACCOUNT_HOLDERS), city.afc, ClueKind::BankAccount),
        5 => (city.pick(rng, &[K::TelecomOperator]), city.afc, ClueKind::PhoneNumber),
        6 => {
            let kind = if chance(rng, 0.5) { ClueKind::Url } else { ClueKind::App };
            (city.pick(rng, &[K::InternetPlatform]), city.afc, kind)
        }
        7 => {
            let regulator = city.pick(rng, &[K::Regulator]);
            if chance(rng, 0.5) {
                (regulator, city.pick(rng, &[K::InternetPlatform]), ClueKind::Url)
            } else {
                (regulator, city.pick(rng, &[K::TelecomOperator]), ClueKind::PhoneNumber)
            }
        }
        _ => (city.pick(rng, &[K::Procuratorate, K::Community, K::Other, K::Court]), city.psb, ClueKind::Other),
    }
}

/// A clue and, following the receiving agency's profile, its feedback.
fn plan_clue(sim: &mut Sim, at: i64) {
    let (from, mut to, kind) = route(sim);
    if to == from {
        to = sim.city.pick_other(&mut sim.rng, &[sim.city.kind(to)], from);
    }
    sim.serials.clue += 1;
    let clue_id = entity_id("CLUE", at, sim.serials.clue);
    let summary = words::CLUE_SUMMARIES.iter().find(|(k, _)| *k == kind.as_str()).map(|(_, s)| text(*s));
    let mut plan = Plan::new();
    let referred = ClueReferred { clue_id: clue_id.clone(), to: sim.city.id(to).clone(), kind, summary };
    plan.step(sim, at, from, Payload::ClueReferred(referred));

    let profile = sim.city.profile(to).clone();
    let rng = &mut sim.rng;
    if chance(rng, profile.clue_feedback_p) {
        let latency_s = lognormal(rng, profile.clue_feedback_median_s, 1.0).max(600.0);
        let outcome = *pick_weighted(
            rng,
            &[(ClueOutcome::Confirmed, 0.55), (ClueOutcome::Unfounded, 0.30), (ClueOutcome::Transferred, 0.15)],
        );
        let action = match outcome {
            ClueOutcome::Confirmed => Some(text(*pick(rng, words::CLUE_ACTIONS))),
            ClueOutcome::Transferred => Some(text("已转交属地公安机关处置")),
            ClueOutcome::Unfounded => None,
        };
        let feedback = ClueFeedbackGiven { clue_id, outcome, action };
        plan.step(sim, at + secs(latency_s), to, Payload::ClueFeedbackGiven(feedback));
    }
    sim.schedule(plan);
}

/// An early warning and, following the warned agency's profile, its
/// dissuasion record.
fn plan_warning(sim: &mut Sim, at: i64) {
    let rng = &mut sim.rng;
    // The anti-fraud centre runs the warning line; stations warn too.
    let from = if chance(rng, 0.7) { sim.city.afc } else { sim.city.pick(rng, &[K::PublicSecurity]) };
    let to_kinds: &[K] = pick_weighted::<&[K]>(
        rng,
        &[
            (&[K::TelecomOperator][..], 0.35),
            (&[K::Bank][..], 0.20),
            (&[K::PaymentInstitution][..], 0.05),
            (&[K::InternetPlatform][..], 0.20),
            (&[K::Community][..], 0.15),
        ],
    );
    let to = sim.city.pick(rng, to_kinds);
    let risk = *pick_weighted(rng, &[(Risk::High, 0.25), (Risk::Medium, 0.45), (Risk::Low, 0.30)]);
    sim.serials.warning += 1;
    let warning_id = entity_id("EW", at, sim.serials.warning);
    let mut plan = Plan::new();
    let issued = EarlyWarningIssued { warning_id: warning_id.clone(), to: sim.city.id(to).clone(), risk };
    plan.step(sim, at, from, Payload::EarlyWarningIssued(issued));

    let profile = sim.city.profile(to).clone();
    let rng = &mut sim.rng;
    if chance(rng, profile.dissuasion_p) {
        let urgency = match risk {
            Risk::High => 0.5,
            Risk::Medium => 1.0,
            Risk::Low => 2.0,
        };
        let latency_s = lognormal(rng, profile.dissuasion_median_s * urgency, 1.0).max(60.0);
        let method = match sim.city.kind(to) {
            K::Community => *pick_weighted(rng, &[(DissuasionMethod::InPerson, 0.7), (DissuasionMethod::Call, 0.3)]),
            K::Bank | K::PaymentInstitution => {
                *pick_weighted(rng, &[(DissuasionMethod::Call, 0.7), (DissuasionMethod::InPerson, 0.3)])
            }
            _ => *pick_weighted(rng, &[(DissuasionMethod::Call, 0.6), (DissuasionMethod::Sms, 0.4)]),
        };
        let outcome = *pick_weighted(
            rng,
            &[
                (DissuasionOutcome::Dissuaded, 0.80),
                (DissuasionOutcome::Unreachable, 0.12),
                (DissuasionOutcome::AlreadyDefrauded, 0.08),
            ],
        );
        let recorded = DissuasionRecorded { warning_id, method, outcome };
        plan.step(sim, at + secs(latency_s), to, Payload::DissuasionRecorded(recorded));
    }
    sim.schedule(plan);
}
