//! Joint meetings and the tasks they assign: a plenary meeting of the member
//! agencies early each month, thematic meetings in between, and tasks the
//! coordination office assigns directly. Each task's lifecycle follows its
//! assignee's profile: acknowledged, then completed on time, late or never;
//! some are extended first, a few cancelled.

use govledger_domain::catalog::{
    AgencyKind, JointMeetingConvened, JointMeetingHeld, Payload, Resolution, ResponsibilityAssigned, TaskAcknowledged,
    TaskCancelled, TaskCompleted, TaskDeadlineExtended,
};
use govledger_domain::{EntityId, Timestamp};
use rand::rngs::SmallRng;

use crate::city::Ag;
use crate::dist::{chance, lognormal, pick, uniform};
use crate::sim::{
    DAY, HOUR, Hours, MINUTE, Plan, SECOND, Sim, days, entity_id, is_working_day, local_date, local_time_on, secs,
    text, working_day_at,
};
use crate::text::{self as words, Theme};

/// Thematic meetings per day at scale 1 (about one a month).
const THEMATIC_PER_DAY: f64 = 12.0 / 365.0;
/// Tasks the office assigns directly, per working day at scale 1.
const DIRECT_TASKS_PER_WORKING_DAY: f64 = 0.6;
/// Share of tasks cancelled, and of tasks whose deadline is extended.
const CANCEL_P: f64 = 0.03;
const EXTEND_P: f64 = 0.10;

/// The monthly plenary, convened in the first working days of the month
/// starting at `day_start` and held about a week later.
pub(crate) fn plan_plenary(sim: &mut Sim, day_start: i64) {
    // On the first day, not before every invitee is registered.
    let earliest = (day_start + days(uniform(&mut sim.rng, 0.0, 3.0))).max(sim.activity_start());
    let convened_at = working_day_at(earliest, 10, 0);
    let office = sim.city.office;
    let mut invitees = vec![sim.city.psb, sim.city.afc];
    for a in 0..sim.city.agencies.len() {
        let standing = sim.city.get(a).roles.is_empty() && !invitees.contains(&a);
        if standing && chance(&mut sim.rng, 0.6) {
            invitees.push(a);
        }
    }
    plan_meeting(sim, office, convened_at, &words::PLENARY, invitees, 4);
}

/// What the day brings: thematic meetings and the office's direct tasks.
pub(crate) fn plan_day(sim: &mut Sim, day_start: i64) {
    if !is_working_day(day_start) {
        return;
    }
    for _ in 0..sim.count(THEMATIC_PER_DAY * 7.0 / 5.0) {
        let theme = pick(&mut sim.rng, words::THEMES);
        // The police bureau convenes some of the operational meetings itself.
        let convener = if theme.kinds.contains(&AgencyKind::PublicSecurity) && chance(&mut sim.rng, 0.3) {
            sim.city.psb
        } else {
            sim.city.office
        };
        let mut invitees: Vec<Ag> = sim.city.of_kinds(theme.kinds);
        invitees.retain(|a| *a != convener && sim.city.get(*a).roles.is_empty());
        // Not every agency of the kinds concerned is invited every time.
        let keep: Vec<bool> = invitees.iter().map(|_| chance(&mut sim.rng, 0.8)).collect();
        let mut kept = keep.iter();
        invitees.retain(|_| kept.next().copied().unwrap_or(true));
        if invitees.is_empty() {
            invitees.push(sim.city.afc);
        }
        let convened_at = sim.time_in_day(day_start, Hours::Office);
        plan_meeting(sim, convener, convened_at, theme, invitees, 2);
    }
    for _ in 0..sim.count(DIRECT_TASKS_PER_WORKING_DAY) {
        let office = sim.city.office;
        let assignee = sim.city.pick_other(&mut sim.rng, AgencyKind::ALL, office);
        let at = sim.time_in_day(day_start, Hours::Office);
        let title = *pick(&mut sim.rng, words::DIRECT_TASKS);
        let legal_basis = chance(&mut sim.rng, 0.7).then(|| words::task_legal_basis(sim.city.kind(assignee)));
        plan_task(sim, TaskOrigin { assigner: office, meeting: None }, assignee, at, title, legal_basis);
    }
}

/// A meeting: convened, held on its scheduled day with the invitees who
/// came, and `resolution_count` resolutions, each assigned as tasks.
fn plan_meeting(
    sim: &mut Sim,
    convener: Ag,
    convened_at: i64,
    theme: &Theme,
    invitees: Vec<Ag>,
    resolution_count: usize,
) {
    sim.serials.meeting += 1;
    let meeting_id = entity_id("JM", convened_at, sim.serials.meeting);
    let scheduled_for = working_day_at(convened_at + days(uniform(&mut sim.rng, 4.0, 9.0)), 9, 30);
    let held_at = scheduled_for + 2 * HOUR + 30 * MINUTE;

    let mut plan = Plan::new();
    let title = if theme.kinds.is_empty() {
        format!("{}（{}）", theme.title, local_date(scheduled_for).format("%Y年%m月"))
    } else {
        theme.title.to_owned()
    };
    plan.step(
        sim,
        convened_at,
        convener,
        Payload::JointMeetingConvened(JointMeetingConvened {
            meeting_id: meeting_id.clone(),
            title: text(title),
            scheduled_for: Timestamp::from_micros(scheduled_for),
            invitees: invitees.iter().map(|a| sim.city.id(*a).clone()).collect(),
        }),
    );

    let mut attendees = vec![convener];
    for a in &invitees {
        if chance(&mut sim.rng, sim.city.profile(*a).attendance_p) {
            attendees.push(*a);
        }
    }
    let mut chosen: Vec<&'static str> = Vec::new();
    while chosen.len() < resolution_count.min(theme.resolutions.len()) {
        let r = *pick(&mut sim.rng, theme.resolutions);
        if !chosen.contains(&r) {
            chosen.push(r);
        }
    }
    let resolutions: Vec<(EntityId, &'static str)> =
        chosen.iter().enumerate().map(|(i, r)| (entity_id_of(&format!("{meeting_id}-R{}", i + 1)), *r)).collect();
    plan.step(
        sim,
        held_at,
        convener,
        Payload::JointMeetingHeld(JointMeetingHeld {
            meeting_id: meeting_id.clone(),
            attendees: attendees.iter().map(|a| sim.city.id(*a).clone()).collect(),
            resolutions: resolutions
                .iter()
                .map(|(id, t)| Resolution { resolution_id: id.clone(), text: text(*t) })
                .collect(),
        }),
    );
    sim.schedule(plan);

    // Each resolution is assigned to one to three invitees, absent or not,
    // in the working days after the meeting.
    for (resolution_id, resolution) in &resolutions {
        let n = 1 + (uniform(&mut sim.rng, 0.0, 3.0) as usize);
        let mut assignees: Vec<Ag> = Vec::new();
        while assignees.len() < n.min(invitees.len()) {
            let a = *pick(&mut sim.rng, &invitees);
            if !assignees.contains(&a) {
                assignees.push(a);
            }
        }
        for assignee in assignees {
            let at = held_at + HOUR + days(uniform(&mut sim.rng, 0.0, 2.0));
            let origin = TaskOrigin { assigner: convener, meeting: Some((meeting_id.clone(), resolution_id.clone())) };
            plan_task(sim, origin, assignee, at, resolution, None);
        }
    }
}

fn entity_id_of(raw: &str) -> EntityId {
    EntityId::parse(raw).unwrap_or_else(|r| panic!("demo generator built an invalid entity id {raw}: {r}"))
}

/// Who assigns a task, and from which meeting resolution if any.
struct TaskOrigin {
    assigner: Ag,
    meeting: Option<(EntityId, EntityId)>,
}

/// A task's whole lifecycle, following the assignee's profile.
fn plan_task(
    sim: &mut Sim,
    origin: TaskOrigin,
    assignee: Ag,
    assigned_at: i64,
    title: &str,
    legal_basis: Option<&str>,
) {
    sim.serials.task += 1;
    let task_id = entity_id("TASK", assigned_at, sim.serials.task);
    let due_at = local_time_on(assigned_at + days(uniform(&mut sim.rng, 7.0, 30.0)), 18, 0);
    let profile = sim.city.profile(assignee).clone();
    let assigner = origin.assigner;
    let (meeting_id, resolution_id) = origin.meeting.unzip();

    let mut plan = Plan::new();
    plan.step(
        sim,
        assigned_at,
        assigner,
        Payload::ResponsibilityAssigned(ResponsibilityAssigned {
            task_id: task_id.clone(),
            assignee: sim.city.id(assignee).clone(),
            title: text(title),
            due_at: Timestamp::from_micros(due_at),
            legal_basis: legal_basis.map(text),
            meeting_id,
            resolution_id,
        }),
    );

    // Decide the steps after acknowledgement first: the acknowledgement must
    // come before them, while the task is open.
    let rng = &mut sim.rng;
    let mut later: Vec<(i64, Step)> = Vec::new();
    if chance(rng, CANCEL_P) {
        let at = assigned_at + days(uniform(rng, 1.0, ((due_at - assigned_at) / DAY) as f64));
        later.push((at, Step::Cancel));
    } else {
        let mut due = due_at;
        let mut from = assigned_at;
        if chance(rng, EXTEND_P) {
            let at = (due - days(uniform(rng, 0.5, 3.0))).max(assigned_at + HOUR);
            due += days(uniform(rng, 7.0, 21.0).round());
            later.push((at, Step::Extend(due)));
            from = at;
        }
        let u = uniform(rng, 0.0, 1.0);
        if u < profile.task_on_time_p {
            later.push((from + secs_between(rng, from, due, 0.1, 0.95), Step::Complete));
        } else if u < profile.task_on_time_p + profile.task_late_p {
            later.push((due + days(lognormal(rng, 3.0, 0.8).max(0.01)), Step::Complete));
        }
    }
    if chance(rng, profile.task_ack_p) {
        let mut at = assigned_at + days(lognormal(rng, 0.2, 1.0));
        if let Some((first, _)) = later.first() {
            at = at.min(*first);
        }
        later.insert(0, (at, Step::Acknowledge));
    }

    for (at, step) in later {
        let rng = &mut sim.rng;
        let (actor, payload) = match step {
            Step::Acknowledge => (assignee, Payload::TaskAcknowledged(TaskAcknowledged { task_id: task_id.clone() })),
            Step::Complete => {
                let evidence = chance(rng, 0.7).then(|| text(*pick(rng, words::TASK_EVIDENCE)));
                (assignee, Payload::TaskCompleted(TaskCompleted { task_id: task_id.clone(), evidence }))
            }
            Step::Extend(due) => (
                assigner,
                Payload::TaskDeadlineExtended(TaskDeadlineExtended {
                    task_id: task_id.clone(),
                    due_at: Timestamp::from_micros(due),
                    reason: text(*pick(rng, words::TASK_EXTENSION_REASONS)),
                }),
            ),
            Step::Cancel => {
                let by = if chance(rng, 0.7) { assigner } else { sim.city.office };
                let reason = text(*pick(rng, words::TASK_CANCEL_REASONS));
                (by, Payload::TaskCancelled(TaskCancelled { task_id: task_id.clone(), reason }))
            }
        };
        plan.step(sim, at, actor, payload);
    }
    sim.schedule(plan);
}

/// A point between `from` and `to`, at a uniform fraction in `[lo, hi)`,
/// as an offset from `from`.
fn secs_between(rng: &mut SmallRng, from: i64, to: i64, lo: f64, hi: f64) -> i64 {
    let span_s = ((to - from).max(0) / SECOND) as f64;
    secs(span_s * uniform(rng, lo, hi))
}

enum Step {
    Acknowledge,
    Complete,
    Extend(i64),
    Cancel,
}
