use govledger_domain::{State, Submission, Timestamp};
use std::time::Instant;
fn parse(v: serde_json::Value) -> Submission {
    Submission::parse(v).unwrap()
}
fn main() {
    let oc = "2026-03-02T08:00:00Z";
    let pre = vec![
        parse(serde_json::json!({"type": "AgencyRegistered", "actor": "office", "occurred_at": oc,
            "data": {"agency_id": "office", "name": "Office", "kind": "government", "roles": ["coordinator", "evaluator"]}})),
        parse(serde_json::json!({"type": "AgencyRegistered", "actor": "office", "occurred_at": oc,
            "data": {"agency_id": "psb", "name": "PSB", "kind": "public_security", "jurisdiction": "Jinjiang district"}})),
    ];
    let action = |n: u64| {
        if n % 2 == 0 {
            parse(serde_json::json!({"type": "PublicityDelivered", "actor": "psb", "occurred_at": oc,
            "data": {"activity_id": format!("PUB-2026-{n:09}"), "audience": "Residents of Jinjiang district community centres", "reach": 120 + n % 1000}}))
        } else {
            parse(serde_json::json!({"type": "CardBreakingAction", "actor": "psb", "occurred_at": oc,
            "data": {"action_id": format!("CBA-2026-{n:09}"), "operation": "Operation Duanka spring sweep",
                     "bank_cards": n % 37, "phone_cards": n % 23, "internet_accounts": n % 11, "suspects": n % 5}}))
        }
    };
    let rec = Timestamp::parse("2026-03-02T09:00:00Z").unwrap();
    let mut state = State::new();
    {
        let mut t = state.begin();
        for s in &pre {
            t.admit(uuid::Uuid::now_v7(), s, rec).unwrap();
        }
        t.commit();
    }
    let subs: Vec<Submission> = (0..600_000).map(action).collect();
    let ids: Vec<uuid::Uuid> = (0..600_000).map(|_| uuid::Uuid::now_v7()).collect();
    let started = Instant::now();
    let mut last = Instant::now();
    for (k, (chunk, idc)) in subs.chunks(512).zip(ids.chunks(512)).enumerate() {
        let mut t = state.begin();
        for (s, id) in chunk.iter().zip(idc) {
            t.admit(*id, s, rec).unwrap();
        }
        t.commit();
        if (k + 1) % 200 == 0 {
            println!(
                "{:>7} events: {:.3} us/event (last 102400)",
                (k + 1) * 512,
                last.elapsed().as_secs_f64() * 1e6 / 102_400.0
            );
            last = Instant::now();
        }
    }
    println!("all: {:.3} us/event", started.elapsed().as_secs_f64() * 1e6 / 600_000.0);
}
