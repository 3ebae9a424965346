//! Preparation: the part of sealing a batch that does not depend on the
//! events' places in the chain (`seal::Presealed`), done off the writer's
//! sequential path, in chunks, by the caller and the writer.

use std::sync::{Mutex, TryLockError};

use govledger_domain::Submission;
use uuid::Uuid;

use super::group::Recorded;
use crate::event::{Encoded, Head};
use crate::seal::Presealed;

/// Batches from this size on are handed over before they are prepared, so
/// that two threads prepare them (see `Preparation`); smaller ones are
/// prepared by the caller alone, so that many small requests do not load
/// the single writer.
pub(super) const SHARED_PREPARE_MIN: usize = 64;
/// Events per chunk of a batch's preparation.
pub(super) const PREPARE_CHUNK: usize = 16;

/// A batch being prepared off the chain's sequential path (see `seal`), in
/// chunks, by two threads, so that both cores work on it without a thread
/// of its own (starting one per batch cost as much as it saved at 64
/// events): the caller and the writer.
///
/// The writer checks the rules on the submissions while the caller prepares
/// (the check does not need the preparation), then seals and writes the
/// batch chunk by chunk, each as soon as it is ready. The caller claims
/// chunks from the front, in the order the writer needs them; while the
/// chunk the writer needs next is still being prepared, the writer prepares
/// one from the back, and it prepares itself any chunk nobody has got to. A
/// chunk's mutex is held while it is prepared; a chunk whose preparer
/// panicked is prepared again.
pub(super) struct Preparation {
    pub(super) subs: Vec<Submission>,
    /// The events' ids: the client's, or a server-assigned UUIDv7.
    pub(super) ids: Vec<Uuid>,
    /// The chunks nobody has claimed: `front..back`.
    pub(super) unclaimed: Mutex<(usize, usize)>,
    /// Chunk `c` holds the preparation of `subs[c * PREPARE_CHUNK..]`, up to
    /// `PREPARE_CHUNK` of them; `None` until it is prepared.
    pub(super) chunks: Vec<Mutex<Option<Vec<Presealed>>>>,
}

impl Preparation {
    pub(super) fn new(subs: Vec<Submission>) -> Self {
        let n = subs.len().div_ceil(PREPARE_CHUNK);
        let chunks = (0..n).map(|_| Mutex::new(None)).collect();
        let ids = subs.iter().map(event_id).collect();
        Preparation { subs, ids, unclaimed: Mutex::new((0, n)), chunks }
    }

    /// Events in the batch.
    pub(super) fn len(&self) -> usize {
        self.subs.len()
    }

    /// The submissions of chunk `c`.
    pub(super) fn chunk_subs(&self, c: usize) -> &[Submission] {
        let start = c * PREPARE_CHUNK;
        &self.subs[start..self.subs.len().min(start + PREPARE_CHUNK)]
    }

    /// Prepares chunk `c` unless that is done.
    pub(super) fn prepare(&self, c: usize, chunk: &mut Option<Vec<Presealed>>) {
        if chunk.is_none() {
            let start = c * PREPARE_CHUNK;
            let ids = self.ids.get(start..).unwrap_or_default();
            *chunk = Some(self.chunk_subs(c).iter().zip(ids).map(|(sub, id)| Presealed::new(sub, *id)).collect());
        }
    }

    pub(super) fn prepare_chunk(&self, c: usize) {
        if let Some(chunk) = self.chunks.get(c) {
            self.prepare(c, &mut chunk.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    pub(super) fn unclaimed(&self) -> std::sync::MutexGuard<'_, (usize, usize)> {
        self.unclaimed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims the first chunk nobody has claimed.
    pub(super) fn claim_front(&self) -> Option<usize> {
        let mut u = self.unclaimed();
        (u.0 < u.1).then(|| {
            u.0 += 1;
            u.0 - 1
        })
    }

    /// Claims the last chunk nobody has claimed.
    pub(super) fn claim_back(&self) -> Option<usize> {
        let mut u = self.unclaimed();
        (u.0 < u.1).then(|| {
            u.1 -= 1;
            u.1
        })
    }

    /// Prepares the chunks that nobody has claimed yet, from the front.
    pub(super) fn work(&self) {
        while let Some(c) = self.claim_front() {
            self.prepare_chunk(c);
        }
    }

    /// Runs `f` on chunk `c`'s submissions and their preparation (the
    /// writer, taking the chunks in order). While another thread prepares
    /// chunk `c`, prepares chunks from the back; then waits for it.
    pub(super) fn with_chunk<R>(&self, c: usize, f: impl FnOnce(&[Submission], &[Presealed]) -> R) -> R {
        {
            // Needed now: whoever claims from the front starts after it.
            let mut u = self.unclaimed();
            if c < u.1 {
                u.0 = u.0.max(c + 1);
            }
        }
        let mut chunk = loop {
            match self.chunks[c].try_lock() {
                Ok(chunk) => break chunk,
                Err(TryLockError::Poisoned(e)) => break e.into_inner(),
                Err(TryLockError::WouldBlock) => match self.claim_back() {
                    Some(b) => self.prepare_chunk(b),
                    None => break self.chunks[c].lock().unwrap_or_else(|e| e.into_inner()),
                },
            }
        };
        self.prepare(c, &mut chunk);
        f(self.chunk_subs(c), chunk.as_deref().unwrap_or_default())
    }
}

/// Seals `sub` at `seq` as the event after `head`, and moves `head` to it.
pub(super) fn seal_next(
    presealed: &Presealed,
    sub: &Submission,
    seq: u64,
    recorded: &Recorded,
    head: &mut Head,
) -> Encoded {
    let encoded = presealed.seal(sub, seq, &recorded.text, &head.hash);
    head.seq = seq;
    head.hash.clone_from(&encoded.event.hash);
    encoded
}

/// An event's id: the client's, or a server-assigned UUIDv7 (SPEC 2.1).
pub(super) fn event_id(sub: &Submission) -> Uuid {
    sub.id.unwrap_or_else(Uuid::now_v7)
}
