//! The writer thread and its queue. The thread owns the `Core` and runs
//! what callers queue, in order: appends as group commits (the appends
//! waiting behind one join its group), imports, catch-ups and reads of the
//! state (snapshots). It is the only thread that commits, so every append —
//! async or blocking — is checked against exactly the state it is appended
//! to.

use std::sync::mpsc::Receiver;
use std::time::Instant;

use super::group::Committer;
use super::{Command, MAX_GROUP_EVENTS};

/// The writer's queue and what it commits with.
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
    pub(super) fn run_one(&mut self) -> bool {
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
                self.committer.commit_group(group, Instant::now());
            }
            Command::Import { source, progress, reply } => {
                let _ = reply.send(self.committer.import(source, progress));
            }
            Command::CatchUp { reply } => {
                let _ = reply.send(self.committer.catch_up().map(|_| self.committer.head.clone()));
            }
            Command::ReadState { read } => {
                let Committer { state, head, .. } = &self.committer;
                read((state.head_seq() == head.seq).then_some((state, head)));
            }
        }
        true
    }

    /// The writer thread's loop: waits for a command, runs it and whatever
    /// queued meanwhile; once the ledger is closed (every sender dropped),
    /// runs what is left and stops.
    pub(super) fn serve(mut self) {
        while let Ok(cmd) = self.receiver.recv() {
            self.next = Some(cmd);
            while self.run_one() {}
        }
    }
}
