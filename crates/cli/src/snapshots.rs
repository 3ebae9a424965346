//! What `serve` keeps beside the log so that the next start folds only the
//! tail (issue 18): the validation state's snapshot (`state.snapshot`, see
//! `govledger_ledger::SNAPSHOT_FILE`) and the assessment projection's
//! checkpoint (`projection.ckpt`, see `projection.rs`). Both are written in
//! the background at an interval while the head moves, and once more at a
//! clean stop; each is written atomically, so a kill at any moment leaves the
//! previous one usable. Either one that does not match the log at start is
//! ignored and rebuilt from the log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use govledger_api::Assessor;
use govledger_ledger::{Ledger, SnapshotError};
use tokio::sync::watch;

/// Saves the state snapshot and the projection checkpoint of `dir` now
/// (blocking). Failures are logged, not fatal: they only cost time at the
/// next start. Returns whether the state snapshot was saved.
pub fn save(dir: &Path, ledger: &Ledger, assessor: &Assessor) -> bool {
    let saved = save_state(&crate::store::snapshot_path(dir), ledger);
    // Under the projection's read lock: folding new events waits meanwhile.
    crate::projection::save(dir, &assessor.read());
    saved
}

/// Saves the state snapshot at `path` now (blocking); a failure is logged.
/// Returns whether it was saved.
pub fn save_state(path: &Path, ledger: &Ledger) -> bool {
    match ledger.save_snapshot(path) {
        Ok(head) => {
            tracing::info!(seq = head.seq, path = %path.display(), "saved the state snapshot");
            true
        }
        // The next round tries again.
        Err(SnapshotError::Busy) => {
            tracing::debug!("the ledger was committing; the state snapshot waits for the next round");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot save the state snapshot; the next start folds more of the log");
            false
        }
    }
}

/// Saves both every `interval` while the head moves, until `stop` turns true.
pub async fn keep(
    dir: PathBuf,
    ledger: Ledger,
    assessor: Arc<Assessor>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut saved_at = ledger.head().seq;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let head = ledger.head().seq;
        if head == saved_at {
            continue;
        }
        let (dir, ledger, assessor) = (dir.clone(), ledger.clone(), assessor.clone());
        match tokio::task::spawn_blocking(move || save(&dir, &ledger, &assessor)).await {
            Ok(true) => saved_at = head,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "the snapshot task failed"),
        }
    }
}
