//! The first hour of the demo year: the coordination office registers itself
//! (the bootstrap of SPEC 2.3), then every other agency — with one slip, a
//! mistyped agency id that the office retracts and registers correctly.

use govledger_domain::AgencyId;
use govledger_domain::catalog::{AgencyRegistered, Payload};

use crate::sim::{Plan, SECOND, Sim, text};

/// The agency whose id is mistyped first, and the mistyped id.
const SLIP: (&str, &str) = ("icbc-jinjiang", "icbc-jinjaing");

pub(crate) fn plan(sim: &mut Sim) {
    let mut plan = Plan::new();
    let office = sim.city.office;
    let mut at = sim.start;
    for a in 0..sim.city.agencies.len() {
        let agency = sim.city.get(a).clone();
        let register = |id: AgencyId| {
            Payload::AgencyRegistered(AgencyRegistered {
                agency_id: id,
                name: text(agency.name),
                kind: agency.kind,
                jurisdiction: Some(text(agency.jurisdiction)),
                roles: (!agency.roles.is_empty()).then(|| agency.roles.to_vec()),
            })
        };
        if agency.id.as_str() == SLIP.0 {
            // Nothing names the mistyped agency, so its registration may be
            // retracted (SPEC 2.4), which frees the id again.
            let wrong = AgencyId::parse(SLIP.1).unwrap_or_else(|r| panic!("demo slip id: {r}"));
            let mistaken = plan.step(sim, at, office, register(wrong));
            at += 90 * SECOND;
            let reason = format!("agency_id 录入错误（{}），撤回后按正确代码重新登记", SLIP.1);
            plan.retract(sim, at, office, mistaken, &reason);
            at += 30 * SECOND;
        }
        plan.step(sim, at, office, register(agency.id.clone()));
        at += 30 * SECOND;
    }
    sim.schedule(plan);
}
