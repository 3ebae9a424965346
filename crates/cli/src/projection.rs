//! The projection checkpoint of a data directory (`projection.ckpt`), shared
//! by `govledger assess`/`scorecard` and `govledger serve`: load the
//! projection at the store's head from the checkpoint plus the events
//! appended since, and write the checkpoint back.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Result, bail};
use govledger_assess::Projection;
use govledger_ledger::LogReader;

/// The checkpoint's file name in the data directory.
pub const CHECKPOINT: &str = "projection.ckpt";

/// The projection at the store's head: the checkpoint in `dir` if the store
/// still holds the event it was taken at (same seq, same hash), plus the
/// events appended since; otherwise a rebuild from seq 1. Writes the
/// checkpoint back when it moved. `progress` gets the number of events folded
/// so far, now and then.
pub fn load(dir: &Path, reader: &dyn LogReader, progress: &mut dyn FnMut(u64)) -> Result<Projection> {
    let path = dir.join(CHECKPOINT);
    let mut projection = match std::fs::read(&path) {
        Ok(bytes) => match Projection::from_checkpoint(&bytes) {
            Ok(p) if checkpoint_matches(reader, &p)? => p,
            Ok(_) => {
                tracing::info!("the projection checkpoint does not match the ledger; rebuilding");
                Projection::new()
            }
            Err(e) => {
                tracing::info!("{e}; rebuilding the projection");
                Projection::new()
            }
        },
        Err(_) => Projection::new(),
    };
    let start = projection.head_seq();
    if let Some(anchor) = reader.anchor()? {
        projection.reserve(usize::try_from(anchor.seq.saturating_sub(start)).unwrap_or(0));
    }
    let mut failure = None;
    reader.scan_raw(start, &mut |row| match projection.apply_raw(row.body, row.hash) {
        Ok(()) => {
            if row.seq % 65_536 == 0 {
                progress(row.seq - start);
            }
            true
        }
        Err(e) => {
            failure = Some(e);
            false
        }
    })?;
    if let Some(e) = failure {
        bail!("cannot project the ledger: {e}; run `govledger verify` to check the chain");
    }
    if projection.head_seq() != start || !path.exists() {
        save(dir, &projection);
    }
    Ok(projection)
}

/// Writes the checkpoint of `projection` into `dir` as it is serialised (no
/// copy in memory), atomically (a temporary file renamed over the old one).
/// A checkpoint that cannot be written only costs the next start a rebuild:
/// logged, not fatal.
pub fn save(dir: &Path, projection: &Projection) {
    let path = dir.join(CHECKPOINT);
    // Unique per writer: replicas in containers sharing one data directory
    // all run as PID 1.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let tmp = dir.join(format!("{CHECKPOINT}.tmp-{}-{nanos}", std::process::id()));
    let written = File::create(&tmp)
        .and_then(|file| projection.write_checkpoint(BufWriter::with_capacity(64 << 10, file)))
        .and_then(|out| out.into_inner().map_err(std::io::IntoInnerError::into_error))
        .and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

fn checkpoint_matches(reader: &dyn LogReader, p: &Projection) -> Result<bool> {
    let seq = p.head_seq();
    if seq == 0 {
        return Ok(true);
    }
    let stored = reader.read(seq - 1, 1)?;
    Ok(stored.first().is_some_and(|e| e.seq == seq && Some(e.hash.as_str()) == p.head_hash().as_deref()))
}
