//! The Merkle tree of SPEC 6.1 as a follower of the log: leaf `i` is
//! `SHA-256(0x00 ‖ body)` of the stored event at seq `i + 1`, and the tree
//! is extended from the stored events, each new stretch checked with the
//! ledger's `Verifier` first.
//!
//! Files in the tree's directory:
//! - [`HASHES_FILE`]: the stored hashes (see `file.rs`), fewer than 2 × 32
//!   bytes per event;
//! - [`SYNCED_FILE`]: 8 bytes, the size (little-endian) whose hashes were
//!   last made durable. It is written only after the hashes are synced, so
//!   at start-up a file longer than it is cut back to it: a crash can leave
//!   a torn or never-written tail of the last `extend` behind the file's
//!   length, and that tail must not be taken for hashes. Without this file
//!   (a copied tree) the file's length alone decides.
//!
//! What a crash loses: at most the leaves added by the `extend` running at
//! the time; the next `extend` derives them again from the log.
//!
//! Concurrency: readers (roots, leaves, proofs) take no lock. They read the
//! published size (an atomic, published after the hashes under it are
//! written) and then only hashes under it, which never change: the layout
//! only grows at the end. The appending side (`extend`, `rebuild`) holds an
//! internal mutex, and an advisory lock on the file against another
//! process extending the same directory.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use govledger_ledger::{Finding, Head, LogReader, RawRow, Tail, Verifier};
use sha2::{Digest, Sha256};
use tlog_tiles::{Hash, prove_record, prove_tree, record_hash, stored_hash_count, stored_hash_index, tree_hash};

use crate::TreeError;
use crate::catch_up::{self, Sharding};
use crate::file::{FileHashes, Pending, bytes_of, read_hash, tlog_error, whole_size};

/// The stored hashes, in the tree's directory.
pub const HASHES_FILE: &str = "tree.hashes";
/// The size last made durable, in the tree's directory.
pub const SYNCED_FILE: &str = "tree.size";

/// New hashes are written out in chunks of this many (1 MiB), not per event.
const CHUNK_HASHES: usize = 32 * 1024;

/// The Merkle tree of SPEC 6.1, persisted as a flat file of 32-byte hashes in
/// tlog_tiles' stored-hash order (< 2 × 32 bytes per event), extended from
/// the stored events. Thread-safe (`&self` everywhere); reads use positioned
/// reads, so proofs take O(log n) reads and run while it extends. A crash
/// loses at most the leaves of the `extend` running at the time (see the
/// module's doc), which the next `extend` derives again.
pub struct Tree {
    hashes: File,
    synced: File,
    /// Leaves whose hashes are all in `hashes` (published with `Release`
    /// after they are written).
    size: AtomicU64,
    /// The appending side: one `extend` or `rebuild` at a time.
    appending: Mutex<()>,
}

fn io_error(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> TreeError {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |e| TreeError::Io(format!("cannot {what} {path}: {e}"))
}

/// Holds the file's advisory lock while the tree is appended to.
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    fn take(file: &'a File) -> Result<Self, TreeError> {
        file.lock().map_err(|e| TreeError::Io(format!("cannot lock the tree file: {e}")))?;
        Ok(Self(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Tree {
    /// Opens the tree kept in `dir`, creating the directory and an empty
    /// tree if missing. A torn tail (part of a hash, or of the hashes of a
    /// leaf, or anything past the last size made durable) is cut off; the
    /// log is not read.
    pub fn open(dir: &Path) -> Result<Tree, TreeError> {
        std::fs::create_dir_all(dir).map_err(io_error("create the tree directory", dir))?;
        let open = |name: &str| {
            let path = dir.join(name);
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_error("open", &path))
        };
        let tree = Tree {
            hashes: open(HASHES_FILE)?,
            synced: open(SYNCED_FILE)?,
            size: AtomicU64::new(0),
            appending: Mutex::new(()),
        };
        {
            let _lock = FileLock::take(&tree.hashes)?;
            let size = tree.size_on_disk()?;
            tree.size.store(size, Ordering::Release);
        }
        Ok(tree)
    }

    /// The whole size the files hold, cutting the hashes file back to it
    /// (and recording it) when it is longer. Under the file lock.
    fn size_on_disk(&self) -> Result<u64, TreeError> {
        let len = self.hashes.metadata().map_err(|e| TreeError::Io(format!("cannot read the tree file: {e}")))?.len();
        let mut recorded = [0u8; 8];
        let synced = match self.synced.read_exact_at(&mut recorded, 0) {
            Ok(()) => Some(u64::from_le_bytes(recorded)),
            // Missing or short: a tree without the record; trust the length.
            Err(_) => None,
        };
        let size = synced.map_or(whole_size(len), |s| s.min(whole_size(len)));
        if len != bytes_of(size) {
            self.hashes.set_len(bytes_of(size)).map_err(|e| TreeError::Io(format!("cannot cut the tree file: {e}")))?;
            self.hashes.sync_data().map_err(|e| TreeError::Io(format!("cannot sync the tree file: {e}")))?;
        }
        if synced != Some(size) {
            self.record_synced(size)?;
        }
        Ok(size)
    }

    fn record_synced(&self, size: u64) -> Result<(), TreeError> {
        self.synced
            .write_all_at(&size.to_le_bytes(), 0)
            .map_err(|e| TreeError::Io(format!("cannot record the tree's size: {e}")))
    }

    /// Leaves in the tree: the events it covers (seqs 1 to size).
    pub fn size(&self) -> u64 {
        self.size.load(Ordering::Acquire)
    }

    fn append_guard(&self) -> MutexGuard<'_, ()> {
        self.appending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Extends the tree with the stored events after its size, up to `to`
    /// (inclusive seq; `u64::MAX` for all), checking each new stretch first
    /// with `govledger_ledger::Verifier` (body SHA-256 = stored hash,
    /// prev_hash link, seq order), after the stored event at the tree's size
    /// (whose leaf must be the tree's last, or the log was rewritten under
    /// it: `Disagrees`). On the first problem it stops: the leaves before it
    /// stay (written and published), nothing after it is added, and it
    /// returns `TreeError::Broken`. Returns the new size.
    ///
    /// New hashes are written in 1 MiB chunks, the size published after each
    /// chunk (so proofs of the new leaves are served during a long catch-up),
    /// and the file is synced once at the end.
    pub fn extend(&self, reader: &dyn LogReader, to: u64) -> Result<u64, TreeError> {
        self.extend_with(reader, to, Sharding::for_this_machine())
    }

    /// [`Tree::extend`], with the stretch split as `sharding` says.
    pub(crate) fn extend_with(&self, reader: &dyn LogReader, to: u64, sharding: Sharding) -> Result<u64, TreeError> {
        let _guard = self.append_guard();
        let _lock = FileLock::take(&self.hashes)?;
        // Another process may have extended the same directory meanwhile.
        let start = self.size_on_disk()?;
        self.size.store(start, Ordering::Release);
        if to <= start {
            return Ok(start);
        }

        let mut follower = Follower {
            tree: self,
            pending: Pending::after(&self.hashes, start, CHUNK_HASHES)?,
            verifier: (start == 0).then(Verifier::new),
            leaves: start,
            to,
            stop: None,
        };
        // A long stretch is walked on every core first (see `catch_up.rs`),
        // with the outcome of the one-thread walk, which then goes on from
        // where it ended (to the events appended meanwhile, or to find the
        // problem where its shards did not join).
        let mut scanned = match sharding.end(reader, start, to) {
            Ok(Some(end)) => {
                catch_up::run(&mut follower, reader, end, sharding);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if scanned.is_ok() && follower.stop.is_none() && follower.leaves < to {
            let after = if follower.verifier.is_some() { follower.leaves } else { follower.leaves.saturating_sub(1) };
            scanned = reader.scan_raw(after, &mut |row| follower.visit(row));
        }
        if scanned.is_ok() && follower.verifier.is_none() && follower.stop.is_none() {
            follower.stop = Some(TreeError::Disagrees {
                reason: format!("the tree covers {start} events but the log has no event at seq {start}"),
            });
        }
        // Keep the good prefix, whatever stopped the scan.
        if follower.leaves > start {
            follower.pending.write_out()?;
            self.hashes.sync_data().map_err(|e| TreeError::Io(format!("cannot sync the tree file: {e}")))?;
            self.record_synced(follower.leaves)?;
            self.size.store(follower.leaves, Ordering::Release);
        }
        scanned?;
        match follower.stop {
            Some(stop) => Err(stop),
            None => Ok(follower.leaves),
        }
    }

    /// Start-up check: the tree's last leaf equals the leaf hash of the
    /// stored body at that seq, and that body hashes to its stored hash. Any
    /// rewrite and rehash of history changes the last body (bodies carry
    /// `prev_hash`), so this catches it in one read. A tree longer than the
    /// log, or that disagrees, is `Err(TreeError::Disagrees)`; `rebuild`
    /// starts over. (The tree file itself is checked whole by
    /// [`Tree::verify_against`].)
    pub fn check_against(&self, reader: &dyn LogReader) -> Result<(), TreeError> {
        let size = self.size();
        if size == 0 {
            return Ok(());
        }
        let mut outcome = Err(TreeError::Disagrees {
            reason: format!("the tree covers {size} events but the log has no event at seq {size}"),
        });
        reader.scan_raw(size - 1, &mut |row| {
            outcome = self.check_seam(size, row).map(|_| ());
            false
        })?;
        outcome
    }

    /// Checks the stored row that should be the tree's last leaf (`seq` =
    /// `size`), and returns the head a `Verifier` continues after.
    pub(crate) fn check_seam(&self, size: u64, row: RawRow<'_>) -> Result<Head, TreeError> {
        if row.seq != size {
            return Err(TreeError::Disagrees {
                reason: format!("the tree covers {size} events but the log has no event at seq {size}"),
            });
        }
        let leaf = self.leaf(size - 1)?;
        if record_hash(row.body) != leaf {
            return Err(TreeError::Disagrees {
                reason: format!(
                    "the stored event at seq {size} is not the one the tree holds as its last leaf: the log's history \
                     was rewritten (or the tree belongs to another log)"
                ),
            });
        }
        let digest: [u8; 32] = Sha256::digest(row.body).into();
        let mut stored = [0u8; 32];
        if hex::decode_to_slice(row.hash, &mut stored).is_err() || stored != digest {
            return Err(TreeError::Broken {
                seq: size,
                reason: format!(
                    "hash mismatch: stored hash {} but the stored event hashes to {}",
                    row.hash,
                    hex::encode(digest)
                ),
            });
        }
        let recorded_at = Tail::parse(row.body).map(|t| t.recorded_at.to_owned()).unwrap_or_default();
        Ok(Head { seq: size, hash: hex::encode(digest), recorded_at })
    }

    /// Empties the tree (for a log whose history changed, after
    /// `check_against` said so); the next `extend` derives it again.
    pub fn rebuild(&self) -> Result<(), TreeError> {
        let _guard = self.append_guard();
        let _lock = FileLock::take(&self.hashes)?;
        self.size.store(0, Ordering::Release);
        // The record first: a crash before the cut then still opens empty.
        self.record_synced(0)?;
        self.synced.sync_data().map_err(|e| TreeError::Io(format!("cannot sync the tree's size: {e}")))?;
        self.hashes.set_len(0).map_err(|e| TreeError::Io(format!("cannot empty the tree file: {e}")))?;
        self.hashes.sync_data().map_err(|e| TreeError::Io(format!("cannot sync the tree file: {e}")))
    }

    /// The published tree's hashes, for tlog_tiles to read.
    fn reader(&self) -> (u64, FileHashes<'_>) {
        let size = self.size();
        (size, FileHashes { file: &self.hashes, count: stored_hash_count(size) })
    }

    /// The root of the tree of the first `size` leaves, any `size` up to
    /// [`Tree::size`] (the empty tree's root is `SHA-256("")`).
    pub fn root(&self, size: u64) -> Result<Hash, TreeError> {
        let (have, hashes) = self.reader();
        if size > have {
            return Err(TreeError::OutOfRange {
                reason: format!("no tree of size {size} yet: the tree covers {have} events"),
            });
        }
        tree_hash(size, &hashes).map_err(tlog_error)
    }

    /// The leaf hash at `index` (the event at seq `index + 1`).
    pub fn leaf(&self, index: u64) -> Result<Hash, TreeError> {
        let have = self.size();
        if index >= have {
            return Err(TreeError::OutOfRange {
                reason: format!("no leaf {index} (seq {}) yet: the tree covers {have} events", index.saturating_add(1)),
            });
        }
        read_hash(&self.hashes, stored_hash_index(0, index))
            .map_err(|e| TreeError::Io(format!("cannot read leaf {index} of the tree file: {e}")))
    }

    /// The RFC 9162 inclusion proof (audit path, lowest level first) of leaf
    /// `index` in the tree of `size` leaves; `index < size <= self.size()`.
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        let (have, hashes) = self.reader();
        if index >= size || size > have {
            return Err(TreeError::OutOfRange {
                reason: format!(
                    "cannot prove leaf {index} in a tree of size {size}: the leaf must be below the size and the \
                     size at most {have}, the events the tree covers"
                ),
            });
        }
        prove_record(size, index, &hashes).map_err(tlog_error)
    }

    /// The RFC 9162 consistency proof from the tree of `from` leaves to the
    /// tree of `to` leaves; `from <= to <= self.size()`. From 0 (or to the
    /// same size) the proof is empty, as C2SP tlog-witness expects.
    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, TreeError> {
        let (have, hashes) = self.reader();
        if from > to || to > have {
            return Err(TreeError::OutOfRange {
                reason: format!(
                    "cannot prove size {from} consistent with size {to}: need from <= to <= {have}, the events the \
                     tree covers"
                ),
            });
        }
        if from == 0 || from == to {
            return Ok(Vec::new());
        }
        prove_tree(to, from, &hashes).map_err(tlog_error)
    }

    /// `verify`'s check of the tree: recomputes every leaf from the stored
    /// bodies, and every stored hash from them, and compares each with the
    /// file (so the roots of every size agree). Reads the file in chunks
    /// beside the scan; holds no lock, so the tree may extend meanwhile (the
    /// size checked is the one at the start). The chain itself is
    /// `govledger_ledger::verify`'s to check.
    pub fn verify_against(&self, reader: &dyn LogReader) -> Result<(), TreeError> {
        let size = self.size();
        let mut check = Pending::after(&self.hashes, 0, CHUNK_HASHES)?;
        let mut leaves = 0u64;
        let mut stop = None;
        reader.scan_raw(0, &mut |row| {
            if leaves == size {
                return false;
            }
            let outcome = if row.seq == leaves + 1 {
                check.add_leaf(leaves, record_hash(row.body)).and_then(|()| {
                    leaves += 1;
                    if check.buffered() >= CHUNK_HASHES { check.compare_out() } else { Ok(()) }
                })
            } else {
                Err(TreeError::Disagrees {
                    reason: format!(
                        "the log has no event at seq {} (the next stored one is seq {}) but the tree has a leaf for it",
                        leaves + 1,
                        row.seq
                    ),
                })
            };
            match outcome {
                Ok(()) => true,
                Err(e) => {
                    stop = Some(e);
                    false
                }
            }
        })?;
        if let Some(stop) = stop {
            return Err(stop);
        }
        if leaves < size {
            return Err(TreeError::Disagrees {
                reason: format!("the tree covers {size} events but the log holds {leaves}"),
            });
        }
        check.compare_out()
    }
}

/// One `extend`'s walk over the stored rows.
pub(crate) struct Follower<'a> {
    pub(crate) tree: &'a Tree,
    pending: Pending<'a>,
    /// `None` until the row at the tree's size (the seam) was checked.
    pub(crate) verifier: Option<Verifier>,
    /// Leaves computed (written out or pending).
    pub(crate) leaves: u64,
    to: u64,
    /// Why the walk stopped early, if it did.
    pub(crate) stop: Option<TreeError>,
}

/// The error for the first problem the ledger's `Verifier` found.
pub(crate) fn broken(finding: Finding) -> TreeError {
    TreeError::Broken { seq: finding.seq, reason: format!("{}: {}", finding.problem, finding.detail) }
}

impl Follower<'_> {
    fn visit(&mut self, row: RawRow<'_>) -> bool {
        match self.step(row) {
            Ok(more) => more,
            Err(e) => {
                self.stop = Some(e);
                false
            }
        }
    }

    fn step(&mut self, row: RawRow<'_>) -> Result<bool, TreeError> {
        let Some(verifier) = self.verifier.as_mut() else {
            let head = self.tree.check_seam(self.leaves, row)?;
            self.verifier = Some(Verifier::after(head));
            return Ok(true);
        };
        if row.seq > self.to {
            return Ok(false);
        }
        verifier.push(Some(row.seq), row.body, row.hash).map_err(broken)?;
        self.add_leaf(record_hash(row.body))?;
        Ok(self.leaves < self.to)
    }

    /// Adds the next leaf, writing out (and publishing) a full chunk.
    pub(crate) fn add_leaf(&mut self, leaf: Hash) -> Result<(), TreeError> {
        self.pending.add_leaf(self.leaves, leaf)?;
        self.leaves += 1;
        if self.pending.buffered() >= CHUNK_HASHES {
            self.pending.write_out()?;
            self.tree.size.store(self.leaves, Ordering::Release);
        }
        Ok(())
    }
}
