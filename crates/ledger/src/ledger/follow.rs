//! Following the store: folding stored events into the validation state,
//! at opening (from a snapshot or from the start) and when catching up with
//! what other replicas of a shared store appended.

use std::sync::atomic::Ordering;

use govledger_domain::{State, Timestamp};

use super::group::Committer;
use super::{IMPORT_CHUNK, snapshot};
use crate::backend::{LogReader, StoreError};
use crate::event::{Head, StoredEvent, sha256_hex};

/// The state at the store's head: from the snapshot at `snapshot` if there
/// is a usable one, plus the events after it.
pub(super) fn load_state(
    reader: &dyn LogReader,
    snapshot: Option<&std::path::Path>,
) -> Result<(State, Head), StoreError> {
    let loaded = match snapshot {
        Some(path) => snapshot::load(path, reader)?,
        None => None,
    };
    let (mut state, mut head) = loaded.unwrap_or_else(|| (State::new(), Head::genesis()));
    let from = head.seq;
    // Opening trusts the store's bytes (`verify` checks them); a follower
    // checks what other replicas appended.
    let folded = fold_from(reader, &mut state, &mut head, false)?;
    // `snapshot_seq` 0: no usable snapshot, the whole log was folded.
    tracing::info!(snapshot_seq = from, folded, head_seq = head.seq, "opened the ledger");
    Ok((state, head))
}

/// Folds every stored event after `head` into `state` and moves `head` to
/// the last of them; returns how many were folded. With `check_chain`, each
/// event must sit at the next seq, link to the one before and hash to its
/// stored hash (what a replica checks of events another replica appended).
/// On an error, `state` and `head` still agree (on the events folded so far).
pub(super) fn fold_from(
    reader: &dyn LogReader,
    state: &mut State,
    head: &mut Head,
    check_chain: bool,
) -> Result<u64, StoreError> {
    let mut failure = None;
    let mut folded = 0;
    // The head of the last event read; `head` follows it at each flush.
    let mut tip = head.clone();
    // Folding in chunks keeps few decoded events in memory.
    let mut pending: Vec<StoredEvent> = Vec::with_capacity(IMPORT_CHUNK);
    let flush = |state: &mut State, events: &mut Vec<StoredEvent>| -> Result<u64, StoreError> {
        let mut t = state.begin();
        for e in events.iter() {
            let sub = e.submission().map_err(|r| StoreError::Corrupt { seq: e.seq, reason: r.to_string() })?;
            t.replay(e.id, &sub);
        }
        t.commit();
        let n = events.len() as u64;
        events.clear();
        Ok(n)
    };
    reader.scan_raw(head.seq, &mut |row| {
        let event = StoredEvent::from_body(row.body, row.hash)
            .map_err(|e| StoreError::Corrupt { seq: row.seq, reason: e.to_string() })
            .and_then(|e| {
                if !check_chain {
                    return Ok(e);
                }
                let corrupt = |reason: String| Err(StoreError::Corrupt { seq: row.seq, reason });
                if e.seq != tip.seq + 1 || row.seq != e.seq {
                    corrupt(format!("expected the event at seq {}, found seq {}", tip.seq + 1, e.seq))
                } else if e.prev_hash != tip.hash {
                    corrupt(format!("prev_hash {} does not link to the event before ({})", e.prev_hash, tip.hash))
                } else if sha256_hex(row.body) != row.hash {
                    corrupt("the stored bytes do not hash to the stored hash".into())
                } else {
                    Ok(e)
                }
            });
        match event {
            Ok(e) => {
                tip = Head { seq: e.seq, hash: e.hash.clone(), recorded_at: e.recorded_at.clone() };
                pending.push(e);
                if pending.len() >= IMPORT_CHUNK {
                    match flush(state, &mut pending) {
                        Ok(n) => {
                            folded += n;
                            *head = tip.clone();
                        }
                        Err(err) => {
                            failure = Some(err);
                            return false;
                        }
                    }
                }
                true
            }
            Err(err) => {
                failure = Some(err);
                false
            }
        }
    })?;
    match failure {
        // The events before a bad one are good: keep them.
        Some(err) => {
            let good =
                pending.last().map(|e| Head { seq: e.seq, hash: e.hash.clone(), recorded_at: e.recorded_at.clone() });
            if let Some(good) = good
                && flush(state, &mut pending).is_ok()
            {
                *head = good;
            }
            Err(err)
        }
        None => {
            folded += flush(state, &mut pending)?;
            *head = tip;
            Ok(folded)
        }
    }
}

impl Committer {
    /// Folds in what other replicas appended after `self.head` (see
    /// [`Ledger::catch_up`]); returns how many events that was.
    pub(super) fn catch_up(&mut self) -> Result<u64, StoreError> {
        let before = self.head.seq;
        let result = fold_from(self.reader.as_ref(), &mut self.state, &mut self.head, true);
        if self.head.seq != before {
            self.stats.followed_events.fetch_add(self.head.seq - before, Ordering::Relaxed);
            // Other replicas' clocks count too: `recorded_at` stays monotonic
            // along the whole chain, whichever replica appends next.
            if let Ok(t) = Timestamp::parse(&self.head.recorded_at)
                && self.last_recorded.is_none_or(|last| last < t)
            {
                self.last_recorded = Some(t);
            }
            self.head_tx.send_replace(self.head.clone());
            tracing::debug!(from_seq = before, to_seq = self.head.seq, "caught up with other replicas");
        }
        if let Err(e) = &result {
            tracing::error!(error = %e, seq = self.head.seq, "cannot follow the shared store");
        }
        result
    }
}
