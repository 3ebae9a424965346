//! The projection's checkpoint: the state in postcard behind a magic and
//! format version, so a restart need not fold the whole log again.

use std::io::Write;

use super::{IdIndex, Projection};

/// Why a checkpoint cannot be used; rebuild from the log instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Written by another version of the projection (or not a checkpoint).
    #[error("the checkpoint was written by another version of govledger")]
    Version,
    /// The bytes do not decode.
    #[error("the checkpoint is damaged: {0}")]
    Damaged(String),
}

/// Magic and format version at the start of a checkpoint. Bump the version
/// whenever a stored type changes: an old checkpoint is then rebuilt.
const CHECKPOINT_MAGIC: &[u8; 16] = b"govledger-proj-6";

impl Projection {
    /// Serializes the projection for a checkpoint file: a magic and version,
    /// then the state in postcard, a compact binary serde format with a
    /// stable, documented wire format. The caller stores it next to the log
    /// and, on start, uses it only if the log still has [`head_hash`] at
    /// [`head_seq`]. Written into `out` as it is made: neither the bytes nor
    /// a copy of the projection are held in memory. Fails only when `out`
    /// does.
    ///
    /// [`head_hash`]: Projection::head_hash
    /// [`head_seq`]: Projection::head_seq
    pub fn write_checkpoint<W: Write>(&self, mut out: W) -> std::io::Result<W> {
        out.write_all(CHECKPOINT_MAGIC)?;
        postcard::to_io(self, out).map_err(std::io::Error::other)
    }

    /// [`Projection::write_checkpoint`] into memory.
    pub fn to_checkpoint(&self) -> Vec<u8> {
        // Into a Vec, nothing can fail.
        self.write_checkpoint(Vec::new()).unwrap_or_default()
    }

    /// Reads a checkpoint written by [`Projection::write_checkpoint`]. (Read
    /// whole: postcard reads one value from a `Read` only through a buffer
    /// that holds all of its bytes.)
    pub fn from_checkpoint(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let body = bytes.strip_prefix(CHECKPOINT_MAGIC.as_slice()).ok_or(CheckpointError::Version)?;
        let mut p: Projection = postcard::from_bytes(body).map_err(|e| CheckpointError::Damaged(e.to_string()))?;
        let n = p.ids.len();
        if p.hashes.len() != n || p.recorded_us.len() != n || p.locs.len() != n || p.parties.len() != n {
            return Err(CheckpointError::Damaged("per-event tables differ in length".into()));
        }
        let mut index = IdIndex::default();
        index.increasing.reserve(n);
        for (i, id) in p.ids.iter().enumerate() {
            index.insert(&p.ids, *id, i as u64 + 1);
        }
        p.seq_by_id = index;
        Ok(p)
    }
}
