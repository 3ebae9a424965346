//! The writer thread and its queue: whoever holds the `Core` runs the
//! queued commands (appends as group commits, imports, catch-ups, snapshot
//! copies).

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use govledger_domain::{Capacity, Detached, State, Timestamp};

use super::check::{Checked, check_group};
use super::group::Committer;
use super::prepare::Preparation;
use super::{Command, MAX_GROUP_EVENTS, lock_state, snapshot};
use crate::backend::LogReader;

/// A group's check, offered to the idle writer thread while a committing
/// caller writes the group ahead of it (see `Committer::attempt_group`).
/// Whoever claims it first runs it: the writer thread, or the committing
/// thread itself once it has written and nobody has.
pub(super) struct CheckJob {
    pub(super) batches: Vec<(Arc<Preparation>, Capacity)>,
    pub(super) recorded_at: Timestamp,
    pub(super) state: Arc<Mutex<State>>,
    pub(super) reader: Arc<dyn LogReader>,
    pub(super) progress: Mutex<JobProgress>,
    pub(super) done: Condvar,
}

pub(super) enum JobProgress {
    Offered,
    Running,
    /// The check, its change to the state set aside, and how long it took.
    Done(Box<(Checked, Detached, Duration)>),
    Taken,
}

impl CheckJob {
    pub(super) fn new(
        batches: &[(Arc<Preparation>, Capacity)],
        recorded_at: Timestamp,
        state: Arc<Mutex<State>>,
        reader: Arc<dyn LogReader>,
    ) -> Self {
        CheckJob {
            batches: batches.to_vec(),
            recorded_at,
            state,
            reader,
            progress: Mutex::new(JobProgress::Offered),
            done: Condvar::new(),
        }
    }

    pub(super) fn progress(&self) -> std::sync::MutexGuard<'_, JobProgress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the check unless someone has claimed it. Should it panic, the
    /// job is offered again (its `Txn` undid what it had done).
    pub(super) fn run(&self) {
        {
            let mut progress = self.progress();
            if !matches!(*progress, JobProgress::Offered) {
                return;
            }
            *progress = JobProgress::Running;
        }
        struct Reoffer<'a>(&'a CheckJob);
        impl Drop for Reoffer<'_> {
            fn drop(&mut self) {
                let mut progress = self.0.progress();
                if matches!(*progress, JobProgress::Running) {
                    *progress = JobProgress::Offered;
                }
                self.0.done.notify_all();
            }
        }
        let _reoffer = Reoffer(self);
        let started = Instant::now();
        let mut state = lock_state(&self.state);
        let mut txn = state.begin();
        let checked = check_group(&mut txn, &self.batches, self.recorded_at, &mut |id| self.reader.by_id(id));
        let change = txn.detach();
        drop(state);
        *self.progress() = JobProgress::Done(Box::new((checked, change, started.elapsed())));
    }

    /// The check's outcome, once it has run (here, if nobody has claimed it).
    pub(super) fn wait_or_run(&self) -> (Checked, Detached, Duration) {
        loop {
            let mut progress = self.progress();
            while matches!(*progress, JobProgress::Running) {
                progress = self.done.wait(progress).unwrap_or_else(|e| e.into_inner());
            }
            match std::mem::replace(&mut *progress, JobProgress::Taken) {
                JobProgress::Done(done) => return *done,
                _ => {
                    *progress = JobProgress::Offered;
                    drop(progress);
                    self.run();
                }
            }
        }
    }

    /// Helps prepare the group's batches (after the check).
    pub(super) fn help_prepare(&self) {
        for (batch, _) in &self.batches {
            batch.work();
        }
    }
}

/// The writer and its queue. Whoever holds it runs the queued commands: the
/// writer thread when the doorbell rings, or a blocking caller that found it
/// free (see [`Ledger::append_blocking`]).
pub(super) struct Core {
    pub(super) committer: Committer,
    pub(super) receiver: Receiver<Command>,
    /// A command taken off the queue that did not belong to the group before it.
    pub(super) next: Option<Command>,
}

impl Core {
    pub(super) fn take(&mut self) -> Option<Command> {
        self.next.take().or_else(|| self.receiver.try_recv().ok())
    }

    /// Whether a command is queued.
    #[cfg(test)]
    pub(super) fn has_queued(&mut self) -> bool {
        if self.next.is_none() {
            self.next = self.receiver.try_recv().ok();
        }
        self.next.is_some()
    }

    /// Runs the next queued command, with the appends queued behind an
    /// append as one group commit; false when nothing is queued.
    pub(super) fn run_one(&mut self, helper: Option<&Doorbell>) -> bool {
        let Some(cmd) = self.take() else { return false };
        match cmd {
            Command::Append { batch, capacity, reply } => {
                let mut events = batch.len();
                let mut group = vec![(batch, capacity, reply)];
                while events < MAX_GROUP_EVENTS {
                    match self.take() {
                        Some(Command::Append { batch, capacity, reply }) => {
                            events += batch.len();
                            group.push((batch, capacity, reply));
                        }
                        Some(other) => {
                            self.next = Some(other);
                            break;
                        }
                        None => break,
                    }
                }
                self.committer.commit_group(group, helper);
            }
            Command::Import { source, progress, reply } => {
                let _ = reply.send(self.committer.import(source, progress));
            }
            Command::CatchUp { reply } => {
                let _ = reply.send(self.committer.catch_up().map(|_| self.committer.head.clone()));
            }
            Command::Snapshot { reply } => {
                let _ = reply.send(snapshot::copy(&self.committer.state, &self.committer.head));
            }
        }
        true
    }
}

pub(super) fn lock_core(core: &Mutex<Core>) -> std::sync::MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|e| e.into_inner())
}

/// How callers wake the writer thread: to run queued commands, to help
/// prepare a batch that a blocking caller is committing itself, or to stop.
#[derive(Default)]
pub(super) struct Doorbell {
    pub(super) bell: Mutex<Bell>,
    pub(super) rung: Condvar,
}

#[derive(Default)]
pub(super) struct Bell {
    pub(super) queued: bool,
    pub(super) checks: Vec<Arc<CheckJob>>,
    pub(super) closed: bool,
}

impl Doorbell {
    pub(super) fn ring_with(&self, f: impl FnOnce(&mut Bell)) {
        f(&mut self.bell.lock().unwrap_or_else(|e| e.into_inner()));
        self.rung.notify_one();
    }

    pub(super) fn ring(&self) {
        self.ring_with(|bell| bell.queued = true);
    }

    /// Waits until rung, and takes what it was rung for.
    pub(super) fn wait(&self) -> Bell {
        let bell = self.bell.lock().unwrap_or_else(|e| e.into_inner());
        let mut bell = self
            .rung
            .wait_while(bell, |b| !b.queued && b.checks.is_empty() && !b.closed)
            .unwrap_or_else(|e| e.into_inner());
        Bell { queued: std::mem::take(&mut bell.queued), checks: std::mem::take(&mut bell.checks), closed: bell.closed }
    }
}

/// The writer thread: runs what is queued whenever the doorbell rings and
/// nobody else is running it, and helps prepare batches; after `close`, runs
/// what is left and stops.
pub(super) fn serve(core: &Mutex<Core>, doorbell: &Doorbell) {
    loop {
        let Bell { queued, checks, closed } = doorbell.wait();
        for job in checks {
            job.run();
            job.help_prepare();
        }
        if queued || closed {
            let mut core = lock_core(core);
            while core.run_one(None) {}
        }
        if closed {
            return;
        }
    }
}
