//! Snapshots of the validation state, so that opening a ledger folds only
//! the events after the snapshot instead of the whole log (issue 18).
//!
//! The file: [`MAGIC`] (its version), the SHA-256 of the rest, then the rest:
//! the head the state stands at (postcard) and the state's bytes
//! (`State::to_snapshot`). It is written to a temporary file, synced and
//! renamed over the old one, so a crash while writing leaves the old
//! snapshot (or none) in place, never a torn one.
//!
//! A snapshot is only a shortcut: at opening it is used when its checksum
//! holds, its version is this one, and the store holds the event at its
//! seq with its hash (so a snapshot of another ledger, or of a log that was
//! cut or rewritten since, is not used). Otherwise it is ignored, with the
//! reason in the log, and the state is folded from the whole log as
//! without one.
//!
//! The state is copied by the writer between two commits (`Command::Snapshot`),
//! when it holds exactly the committed events, so a snapshot never holds an
//! event the store does not.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use govledger_domain::State;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::{Command, Ledger, closed_store};
use crate::backend::{LogReader, StoreError};
use crate::event::Head;

/// The snapshot's file name in a data directory.
pub const SNAPSHOT_FILE: &str = "state.snapshot";

/// The first bytes of a snapshot of this version. A file of another version
/// is ignored (the state is folded from the log and a new one is written).
const MAGIC: &[u8] = b"govledger-state-1\n";

/// Where the state of a snapshot stands.
#[derive(Serialize, Deserialize)]
struct Stands {
    seq: u64,
    hash: String,
    recorded_at: String,
}

/// A snapshot that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The writer was between the check and the commit of a group (the
    /// state held events not yet stored); try again later.
    #[error("the ledger was in the middle of a commit; try again")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the snapshot {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl Ledger {
    /// A copy of the validation state and the head it stands at, taken by
    /// the writer between two commits. `Err(Busy)` if the writer was in the
    /// middle of a group at that moment. Blocking.
    pub fn state_at_head(&self) -> Result<(State, Head), SnapshotError> {
        let (reply, rx) = oneshot::channel();
        if !self.send(Command::Snapshot { reply }) {
            return Err(closed_store().into());
        }
        rx.blocking_recv().map_err(|_| SnapshotError::from(closed_store()))?.ok_or(SnapshotError::Busy)
    }

    /// Writes a snapshot of the validation state to `path` (atomically, see
    /// the module's doc) and returns the head it stands at. Blocking: the
    /// writer is held only for the copy, not for the writing.
    pub fn save_snapshot(&self, path: &Path) -> Result<Head, SnapshotError> {
        let (state, head) = self.state_at_head()?;
        write(path, &state, &head)?;
        Ok(head)
    }
}

/// The writer's side of `Command::Snapshot`: a copy of `state` if it holds
/// exactly the events up to `head`.
pub(super) fn copy(state: &State, head: &Head) -> Option<(State, Head)> {
    (state.head_seq() == head.seq).then(|| (state.clone(), head.clone()))
}

fn write(path: &Path, state: &State, head: &Head) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Io { path: path.to_owned(), source };
    let stands = Stands { seq: head.seq, hash: head.hash.clone(), recorded_at: head.recorded_at.clone() };
    // A small struct of numbers and strings into a Vec: this cannot fail.
    let mut rest = postcard::to_stdvec(&stands).unwrap_or_default();
    rest.extend_from_slice(&state.to_snapshot());
    let tmp = path.with_extension("snapshot.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // The state names every agency and entity: the owner's only, as the store.
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(MAGIC).map_err(io)?;
    file.write_all(&Sha256::digest(&rest)).map_err(io)?;
    file.write_all(&rest).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

/// The state and head of the snapshot at `path`, if there is one that this
/// store bears out (see the module's doc); `None` otherwise, with the reason
/// logged when a file was there.
pub(super) fn load(path: &Path, reader: &dyn LogReader) -> Result<Option<(State, Head)>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the state snapshot; folding the whole log");
            return Ok(None);
        }
    };
    match read(&bytes) {
        Ok((state, head)) => {
            if bears_out(reader, &head)? {
                return Ok(Some((state, head)));
            }
            tracing::warn!(
                path = %path.display(), seq = head.seq,
                "the state snapshot is not of this log (the store holds another event at its seq, or none); \
                 folding the whole log"
            );
        }
        Err(reason) => {
            tracing::warn!(path = %path.display(), %reason, "the state snapshot is not usable; folding the whole log");
        }
    }
    Ok(None)
}

/// Reads a snapshot file's bytes; `Err` says why they are not one.
fn read(bytes: &[u8]) -> Result<(State, Head), String> {
    let Some(body) = bytes.strip_prefix(MAGIC) else {
        return Err("it is of another version of govledger, or not a snapshot".into());
    };
    let (sum, rest) = body.split_at_checked(32).ok_or("it is cut short")?;
    if Sha256::digest(rest).as_slice() != sum {
        return Err("its checksum does not match (cut short or damaged)".into());
    }
    let (stands, state) = postcard::take_from_bytes::<Stands>(rest).map_err(|e| e.to_string())?;
    let state = State::from_snapshot(state).map_err(|e| e.to_string())?;
    if state.head_seq() != stands.seq {
        return Err(format!("it holds {} events but says it stands at seq {}", state.head_seq(), stands.seq));
    }
    Ok((state, Head { seq: stands.seq, hash: stands.hash, recorded_at: stands.recorded_at }))
}

/// Whether the store holds the snapshot's head: the event at its seq, with
/// its hash (the anchor decides where the log ends).
fn bears_out(reader: &dyn LogReader, head: &Head) -> Result<bool, StoreError> {
    if head.seq == 0 || reader.anchor()?.is_none_or(|anchor| anchor.seq < head.seq) {
        return Ok(false);
    }
    let mut found = false;
    reader.scan_raw(head.seq - 1, &mut |row| {
        found = row.seq == head.seq && row.hash == head.hash;
        false
    })?;
    Ok(found)
}
