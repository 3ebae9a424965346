//! Import: a stream of envelopes checked and written as one store
//! transaction, in chunks, holding only the validation state and a chunk.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use govledger_domain::{Capacity, Submission};
use uuid::Uuid;

use super::check::{Failure, Slot};
use super::group::{Committer, Recorded, jitter};
use super::prepare::{event_id, seal_next};
use super::room::Room;
use super::{IMPORT_CHUNK, ImportError, ImportItem, ImportSummary};
use crate::backend::StoreError;
use crate::event::{Encoded, StoredEvent};
use crate::seal::Presealed;

impl Committer {
    pub(super) fn import(
        &mut self,
        source: Box<dyn Iterator<Item = ImportItem> + Send>,
        mut progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<ImportSummary, ImportError> {
        // The source can be read only once, so a lost race is retried only
        // before the first event is read: at `begin`.
        let mut attempt = 1;
        loop {
            match self.log.begin(self.head.seq) {
                Ok(()) => break,
                Err(e @ StoreError::Conflict { .. }) => {
                    self.stats.lost_races.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                    let Some(pause) = self.retry.backoff(attempt, jitter()) else {
                        return Err(ImportError::Store(e));
                    };
                    std::thread::sleep(pause);
                    self.catch_up()?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let recorded = Recorded::new(self.tick());
        let mut head = self.head.clone();
        let mut summary = ImportSummary::default();
        let mut chunk: Vec<Encoded> = Vec::with_capacity(IMPORT_CHUNK);
        // Client ids of the chunk not yet written: `log.by_id` cannot see
        // them, and a retry of one of them later in the file must be found.
        let mut unwritten: HashMap<Uuid, StoredEvent> = HashMap::new();
        let mut room = Room::new(&self.limit);
        let mut txn = self.state.begin();
        let result = (|| {
            for item in source {
                let (line, sub) = item?;
                let earlier = |id: &Uuid, sub: &Submission| unwritten.get(id).map(|e| e.same_content(sub));
                // The operator imports, with every role the actors hold.
                let id = event_id(&sub);
                match Self::check(
                    &mut txn,
                    &mut |id| self.log.by_id(id),
                    earlier,
                    &sub,
                    id,
                    recorded.at,
                    Capacity::FULL,
                ) {
                    Ok(Slot::New { seq, id }) => {
                        let enc = seal_next(&Presealed::new(&sub, id), &sub, seq, &recorded, &mut head);
                        if room.take(std::slice::from_ref(&enc)).is_err() {
                            return Err(ImportError::Rejected { line, rejection: room.refusal("the import") });
                        }
                        if sub.id.is_some() {
                            unwritten.insert(id, enc.event.clone());
                        }
                        chunk.push(enc);
                        summary.appended += 1;
                    }
                    Ok(Slot::Replayed(_) | Slot::ReplayedNew(_)) => summary.replayed += 1,
                    Err(Failure::Rejected(rejection)) => return Err(ImportError::Rejected { line, rejection }),
                    Err(Failure::Store(e)) => return Err(ImportError::Store(e)),
                }
                // Written rows are visible to `log.by_id` within the
                // transaction, so retries later in the file are recognised.
                if chunk.len() >= IMPORT_CHUNK {
                    self.log.write(&chunk)?;
                    chunk.clear();
                    unwritten.clear();
                    progress(summary.appended + summary.replayed);
                }
            }
            self.log.write(&chunk)?;
            progress(summary.appended + summary.replayed);
            if summary.appended > 0 {
                head.recorded_at.clone_from(&recorded.text);
                self.log.commit(&head)?;
            } else {
                self.log.rollback();
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                txn.commit();
                self.head = head.clone();
                self.head_tx.send_replace(head.clone());
                summary.head = Some(head);
                Ok(summary)
            }
            Err(e) => {
                drop(txn);
                self.log.rollback();
                if let ImportError::Store(StoreError::Conflict { .. } | StoreError::Ambiguous(_)) = e {
                    // Another replica of a shared store appended during the
                    // import (nothing of it was stored), or the store may
                    // have kept it: follow the store so that a rerun is
                    // checked against what is there now (a rerun of the same
                    // file then finds its events stored, by their ids).
                    let _ = self.catch_up();
                }
                Err(e)
            }
        }
    }
}
