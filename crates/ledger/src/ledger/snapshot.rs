//! Snapshots of the validation state, so that opening a ledger folds only
//! the events after the snapshot instead of the whole log (issue 18).
//!
//! The file: [`MAGIC`] (its version), the SHA-256 of the rest, then the rest:
//! the head the state stands at (postcard) and the state's bytes
//! (`State::write_snapshot`). It is written to a temporary file, synced and
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
//! The writer writes the state straight into the temporary file between two
//! commits (`Command::ReadState`), when it holds exactly the committed
//! events, so a snapshot never holds an event the store does not. Nothing is
//! copied: neither the state nor its bytes are ever held twice in memory,
//! writing or reading (a state grows with the log); the checksum is made as
//! the bytes go by, written into its place after them and checked once the
//! whole file is read, before the state read is used. The caller's thread
//! syncs and renames the file, so the writer waits for the serialisation
//! only, not for the disk.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt as _;
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
/// Version 2: the interned ids as a sequence of texts, readable piece by piece.
const MAGIC: &[u8; 18] = b"govledger-state-2\n";

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
    /// Runs `read` on the writer's thread with the state and the head it
    /// stands at, between two commits; `Err(Busy)` if the writer was in the
    /// middle of a group at that moment. Blocking; the writer waits for `read`.
    fn read_state<T: Send + 'static>(
        &self,
        read: impl FnOnce(&State, &Head) -> T + Send + 'static,
    ) -> Result<T, SnapshotError> {
        let (reply, rx) = oneshot::channel();
        let read = Box::new(move |at: Option<(&State, &Head)>| {
            let _ = reply.send(at.map(|(state, head)| read(state, head)));
        });
        if !self.send(Command::ReadState { read }) {
            return Err(closed_store().into());
        }
        rx.blocking_recv().map_err(|_| SnapshotError::from(closed_store()))?.ok_or(SnapshotError::Busy)
    }

    /// A copy of the validation state and the head it stands at (for tests
    /// and tools: a snapshot is written without one). Blocking.
    pub fn state_at_head(&self) -> Result<(State, Head), SnapshotError> {
        self.read_state(|state, head| (state.clone(), head.clone()))
    }

    /// Writes a snapshot of the validation state to `path` (atomically, see
    /// the module's doc) and returns the head it stands at. Blocking: the
    /// writer is held while it serialises the state into the file, not while
    /// the file is synced.
    pub fn save_snapshot(&self, path: &Path) -> Result<Head, SnapshotError> {
        let io = |source| SnapshotError::Io { path: path.to_owned(), source };
        let tmp = path.with_extension("snapshot.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            // The state names every agency and entity: the owner's only, as the store.
            options.mode(0o600);
        }
        let file = options.open(&tmp).map_err(io)?;
        let (file, head) = self.read_state(move |state, head| (write(file, state, head), head.clone()))?;
        file.and_then(|f| f.sync_all()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(head)
    }
}

/// Writes the snapshot of `state` at `head` into `file`: the magic, room for
/// the checksum, the rest through a [`Summing`] writer, then the checksum
/// into its room. Not synced.
fn write(file: File, state: &State, head: &Head) -> std::io::Result<File> {
    let stands = Stands { seq: head.seq, hash: head.hash.clone(), recorded_at: head.recorded_at.clone() };
    let mut out = BufWriter::with_capacity(64 << 10, file);
    out.write_all(MAGIC)?;
    out.write_all(&[0; 32])?;
    let mut rest = Summing { inner: out, sum: Sha256::new(), failed: None };
    let written = postcard::to_io(&stands, &mut rest)
        .map_err(|e| e.to_string())
        .and_then(|rest| state.write_snapshot(rest).map_err(|e| e.to_string()))
        .map(|_| ());
    if let Some(failed) = rest.failed.take() {
        return Err(failed);
    }
    written.map_err(std::io::Error::other)?;
    let Summing { inner, sum, .. } = rest;
    let file = inner.into_inner().map_err(std::io::IntoInnerError::into_error)?;
    file.write_all_at(&sum.finalize(), MAGIC.len() as u64)?;
    Ok(file)
}

/// A writer or reader that sums the bytes that go through it and keeps the
/// first error of the one under it (postcard reports any write error as
/// "buffer full", and a read error as the end of the input).
struct Summing<W> {
    inner: W,
    sum: Sha256,
    failed: Option<std::io::Error>,
}

impl<T> Summing<T> {
    /// Sums the `n` bytes of `buf` that passed, or keeps the error of the
    /// file under it and hands on only its kind (an interruption is retried).
    fn count(&mut self, buf: &[u8], passed: std::io::Result<usize>) -> std::io::Result<usize> {
        match passed {
            Ok(n) => {
                self.sum.update(&buf[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let kind = e.kind();
                self.failed.get_or_insert(e);
                Err(kind.into())
            }
        }
    }
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let passed = self.inner.write(buf);
        self.count(buf, passed)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Summing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let passed = self.inner.read(buf);
        self.count(buf, passed)
    }
}

/// The state and head of the snapshot at `path`, if there is one that this
/// store bears out (see the module's doc); `None` otherwise, with the reason
/// logged when a file was there.
pub(super) fn load(path: &Path, reader: &dyn LogReader) -> Result<Option<(State, Head)>, StoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the state snapshot; folding the whole log");
            return Ok(None);
        }
    };
    match read(file) {
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

/// Reads a snapshot file as it goes, summing its bytes; the state is used
/// only once the whole file is read and its checksum holds. `Err` says why
/// the file is not a snapshot.
fn read(file: File) -> Result<(State, Head), String> {
    let mut input = BufReader::with_capacity(64 << 10, file);
    let cut_short = |e: std::io::Error| format!("it is cut short ({e})");
    let mut magic = [0; MAGIC.len()];
    input.read_exact(&mut magic).map_err(cut_short)?;
    if &magic != MAGIC {
        return Err("it is of another version of govledger, or not a snapshot".into());
    }
    let mut sum = [0; 32];
    input.read_exact(&mut sum).map_err(cut_short)?;
    let mut rest = Summing { inner: input, sum: Sha256::new(), failed: None };
    let mut piece = [0; 256];
    let parsed = (|| {
        let (stands, _) = postcard::from_io::<Stands, _>((&mut rest, &mut piece[..])).map_err(|e| e.to_string())?;
        let (state, _) = State::read_snapshot(&mut rest).map_err(|e| e.to_string())?;
        Ok::<_, String>((stands, state))
    })();
    // Bytes after the state (there are none in a snapshot) count too.
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(cut_short)?;
    if let Some(e) = rest.failed {
        return Err(format!("it cannot be read: {e}"));
    }
    if rest.sum.finalize().as_slice() != sum {
        return Err("its checksum does not match (cut short or damaged)".into());
    }
    let (stands, state) = parsed?;
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
