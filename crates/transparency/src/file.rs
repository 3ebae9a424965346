//! The tree's on-disk layout: a flat file of 32-byte hashes in tlog_tiles'
//! stored-hash order (Crosby and Wallach's linear order: leaf `n`'s hash,
//! then the hashes of the subtrees it completes), so a tree of `n` leaves is
//! exactly the first `stored_hash_count(n)` hashes (fewer than `2n`), and a
//! tree only ever grows at the end of its file.
//!
//! Reads are positioned reads (`read_at`) of the hashes tlog_tiles asks for,
//! so a root or a proof costs O(log n) reads and needs no lock. Appends go
//! through [`Pending`], a buffer of new hashes that tlog_tiles reads together
//! with the file while it computes them, written out in large chunks.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use tlog_tiles::{Hash, HashReader, node_hash, stored_hash_count, stored_hash_index};

use crate::TreeError;

/// Bytes of one stored hash.
pub(crate) const HASH_BYTES: u64 = 32;

/// The largest tree size whose stored hashes fit in `bytes` bytes: what a
/// file of that length holds whole (a torn tail beyond it is cut off).
pub(crate) fn whole_size(bytes: u64) -> u64 {
    let hashes = bytes / HASH_BYTES;
    // stored_hash_count(n) >= n and is increasing: search [0, hashes].
    let (mut lo, mut hi) = (0u64, hashes);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if stored_hash_count(mid) <= hashes {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The bytes of the stored hashes of a tree of `size` leaves.
pub(crate) fn bytes_of(size: u64) -> u64 {
    stored_hash_count(size) * HASH_BYTES
}

/// Reads the stored hash at `index`.
pub(crate) fn read_hash(file: &File, index: u64) -> io::Result<Hash> {
    let mut hash = [0u8; 32];
    file.read_exact_at(&mut hash, index * HASH_BYTES)?;
    Ok(Hash(hash))
}

/// The message of an IO failure on the tree file, for tlog_tiles' error type
/// (which has no IO variant) and ours.
fn read_failure(index: u64, e: &io::Error) -> String {
    format!("cannot read stored hash {index} of the tree file: {e}")
}

/// Turns tlog_tiles' errors (only our readers' failures and bad input reach
/// us) into ours.
pub(crate) fn tlog_error(e: tlog_tiles::Error) -> TreeError {
    match e {
        tlog_tiles::Error::InvalidInput(reason) => TreeError::OutOfRange { reason },
        other => TreeError::Io(other.to_string()),
    }
}

/// The stored hashes of a published tree, read from the file.
pub(crate) struct FileHashes<'a> {
    pub(crate) file: &'a File,
    /// How many stored hashes the published tree has; no index at or past
    /// it is read (it may be half written).
    pub(crate) count: u64,
}

impl HashReader for FileHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&index| {
                if index >= self.count {
                    return Err(tlog_tiles::Error::IndexesNotInTree);
                }
                read_hash(self.file, index).map_err(|e| tlog_tiles::Error::InvalidInput(read_failure(index, &e)))
            })
            .collect()
    }
}

/// Stored hashes being computed: those before `base` are in the file, those
/// from `base` on are in `buffer` (32 bytes each).
///
/// The subtree hashes a new leaf completes are computed from `frontier`, the
/// roots of the perfect subtrees the tree is made of (one per set bit of its
/// size, by level): the same hashes tlog_tiles' `stored_hashes_for_record_hash`
/// reads back from the stored ones (a unit test compares the two), without
/// reading or allocating per leaf.
pub(crate) struct Pending<'a> {
    file: &'a File,
    base: u64,
    buffer: Vec<u8>,
    /// Leaves in the tree so far.
    size: u64,
    /// `frontier[level]`: the root of the perfect subtree at `level` on the
    /// tree's right edge, for each set bit of `size`; others are stale.
    frontier: [Hash; 64],
}

impl<'a> Pending<'a> {
    /// New hashes after a tree of `size` leaves whose hashes are in `file`
    /// (reads the roots of its perfect subtrees from it).
    pub(crate) fn after(file: &'a File, size: u64, capacity_hashes: usize) -> Result<Self, TreeError> {
        let mut frontier = [Hash([0u8; 32]); 64];
        for (level, root) in frontier.iter_mut().enumerate() {
            if size >> level & 1 == 1 {
                let index = stored_hash_index(level as u8, (size >> level) - 1);
                *root = read_hash(file, index).map_err(|e| TreeError::Io(read_failure(index, &e)))?;
            }
        }
        Ok(Self {
            file,
            base: stored_hash_count(size),
            buffer: Vec::with_capacity(capacity_hashes * 32 + 64 * 32),
            size,
            frontier,
        })
    }

    /// Adds leaf `index` (the event at seq `index + 1`, the next leaf) with
    /// hash `leaf`, and the subtree hashes it completes.
    pub(crate) fn add_leaf(&mut self, index: u64, leaf: Hash) -> Result<(), TreeError> {
        if index != self.size {
            return Err(TreeError::Io(format!("leaf {index} added to a tree of {} leaves", self.size)));
        }
        let mut hash = leaf;
        self.buffer.extend_from_slice(&hash.0);
        // Each trailing 1 bit of the size completes a subtree with the one
        // at its level on the right edge.
        let completed = index.trailing_ones() as usize;
        for left in &self.frontier[..completed] {
            hash = node_hash(*left, hash);
            self.buffer.extend_from_slice(&hash.0);
        }
        if let Some(root) = self.frontier.get_mut(completed) {
            *root = hash;
        }
        self.size += 1;
        Ok(())
    }

    /// Hashes waiting in the buffer.
    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len() / 32
    }

    /// Writes the buffered hashes at their place in the file.
    pub(crate) fn write_out(&mut self) -> Result<(), TreeError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.file
            .write_all_at(&self.buffer, self.base * HASH_BYTES)
            .map_err(|e| TreeError::Io(format!("cannot write the tree file: {e}")))?;
        self.advance();
        Ok(())
    }

    /// Compares the buffered hashes with those the file holds at their place
    /// (the file must hold them), then drops them: the file's are now known
    /// to be right, so later hashes may be computed from them.
    pub(crate) fn compare_out(&mut self) -> Result<(), TreeError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut stored = vec![0u8; self.buffer.len()];
        self.file
            .read_exact_at(&mut stored, self.base * HASH_BYTES)
            .map_err(|e| TreeError::Io(format!("cannot read the tree file: {e}")))?;
        let differs = stored.chunks_exact(32).zip(self.buffer.chunks_exact(32)).position(|(a, b)| a != b);
        if let Some(offset) = differs {
            let (level, n) = tlog_tiles::split_stored_hash_index(self.base + offset as u64);
            let first = (n << level) + 1;
            let last = (n + 1) << level;
            let reason = if level == 0 {
                format!("the tree's leaf for seq {first} is not the leaf hash of the stored event")
            } else {
                format!("the tree's hash over seqs {first}–{last} is not the hash of the stored events")
            };
            return Err(TreeError::Disagrees {
                reason: format!("{reason}: the tree file was altered or damaged; rebuild it"),
            });
        }
        self.advance();
        Ok(())
    }

    fn advance(&mut self) {
        self.base += self.buffered() as u64;
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlog_tiles::{record_hash, stored_hashes_for_record_hash};

    /// The stored hashes so far, in memory, for tlog_tiles to read.
    struct Stored(Vec<Hash>);

    impl HashReader for Stored {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
            indexes
                .iter()
                .map(|&i| usize::try_from(i).ok().and_then(|i| self.0.get(i)).copied())
                .collect::<Option<_>>()
                .ok_or(tlog_tiles::Error::IndexesNotInTree)
        }
    }

    #[test]
    fn the_hashes_a_leaf_completes_are_tlog_tiles_own_from_any_start() {
        const LEAVES: u64 = 700;
        let mut stored = Stored(Vec::new());
        for n in 0..LEAVES {
            let leaf = record_hash(&n.to_le_bytes());
            stored.0.extend(stored_hashes_for_record_hash(n, leaf, &stored).expect("tlog_tiles appends"));
        }
        let bytes: Vec<u8> = stored.0.iter().flat_map(|h| h.0).collect();
        for start in [0, 1, 2, 3, 7, 8, 255, 256, 300, 511] {
            let dir = tempfile::tempdir().expect("temp dir");
            let file = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(dir.path().join("hashes"))
                .expect("create");
            file.write_all_at(&bytes[..bytes_of(start) as usize], 0).expect("write the start");
            let mut pending = Pending::after(&file, start, 16).expect("read the frontier");
            for n in start..LEAVES {
                pending.add_leaf(n, record_hash(&n.to_le_bytes())).expect("add");
                if pending.buffered() >= 16 {
                    pending.write_out().expect("write");
                }
            }
            pending.write_out().expect("write");
            let mut written = vec![0u8; bytes.len()];
            file.read_exact_at(&mut written, 0).expect("read back");
            assert!(written == bytes, "from a tree of {start} leaves");
        }
    }

    #[test]
    fn whole_size_is_the_largest_tree_that_fits() {
        for n in 0..2000u64 {
            let bytes = bytes_of(n);
            assert_eq!(whole_size(bytes), n, "exact length of {n} leaves");
            // Any torn tail short of the next whole tree is cut back to n.
            let next = bytes_of(n + 1);
            for torn in [bytes + 1, bytes + 31, bytes + 32, next - 1] {
                if torn < next {
                    assert_eq!(whole_size(torn), n, "{torn} bytes after {n} leaves");
                }
            }
        }
    }
}
