//! Every signed checkpoint, kept (SPEC 6.2: "every signed checkpoint stays
//! retrievable with its size"), with the cosignatures added later. One
//! SQLite file, `checkpoints.sqlite` in the given directory (WAL), one table:
//! `checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL, root BLOB,
//! signed_at TEXT, cosignatures INTEGER)`.
//!
//! A size is signed once: a second checkpoint of the same size keeps the
//! first, and one with another root is refused (the log would have forked).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Row, params};
use tlog_tiles::Hash;

use crate::TreeError;

/// The database file inside the directory.
pub const CHECKPOINTS_FILE: &str = "checkpoints.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS checkpoints (
    size         INTEGER PRIMARY KEY,
    note         TEXT NOT NULL,
    root         BLOB,
    signed_at    TEXT,
    cosignatures INTEGER
);
";

const COLUMNS: &str = "size, root, note, signed_at, cosignatures";

/// One kept checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    /// The tree size it signs.
    pub size: u64,
    pub root: Hash,
    /// The signed note, with every cosignature it has so far.
    pub note: String,
    /// Cosignatures of configured witnesses in `note`.
    pub cosignatures: u32,
    /// When it was kept (UTC, RFC 3339 with milliseconds, SQLite's clock).
    pub signed_at: String,
}

/// The kept checkpoints of one log.
pub struct CheckpointStore {
    conn: Mutex<Connection>,
}

fn db_error(e: rusqlite::Error) -> TreeError {
    TreeError::Io(format!("checkpoint database: {e}"))
}

/// The signed body of a note: everything up to and including the blank
/// line before the signatures (the whole text when there is none).
fn note_body(note: &str) -> &str {
    note.find("\n\n").map_or(note, |i| &note[..i + 2])
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<RawCheckpoint> {
    Ok((row.get(0)?, row.get::<_, Option<Vec<u8>>>(1)?.unwrap_or_default(), row.get(2)?, row.get(3)?, row.get(4)?))
}

type RawCheckpoint = (u64, Vec<u8>, String, Option<String>, Option<u32>);

fn to_checkpoint((size, root, note, signed_at, cosignatures): RawCheckpoint) -> Result<StoredCheckpoint, TreeError> {
    let root: [u8; 32] = root.try_into().map_err(|_| {
        TreeError::Io(format!(
            "checkpoint database: the root kept for size {size} is not 32 bytes; the file is damaged"
        ))
    })?;
    Ok(StoredCheckpoint {
        size,
        root: Hash(root),
        note,
        cosignatures: cosignatures.unwrap_or(0),
        signed_at: signed_at.unwrap_or_default(),
    })
}

impl CheckpointStore {
    /// Opens (creating if needed) `dir/checkpoints.sqlite`.
    pub fn open(dir: &Path) -> Result<CheckpointStore, TreeError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| TreeError::Io(format!("cannot create the directory {}: {e}", dir.display())))?;
        let conn = Connection::open(dir.join(CHECKPOINTS_FILE)).map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db_error)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(CheckpointStore { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps a newly signed checkpoint of `size` with `root`. The same size
    /// twice keeps the first (Ok when the roots agree); a different root for
    /// a size already kept is `Disagrees`: the log's history changed.
    pub fn put(&self, size: u64, root: &Hash, note: &str) -> Result<(), TreeError> {
        let conn = self.conn();
        let added = conn
            .execute(
                "INSERT OR IGNORE INTO checkpoints (size, note, root, signed_at, cosignatures)
                 VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 0)",
                params![size, note, root.0.as_slice()],
            )
            .map_err(db_error)?;
        if added == 1 {
            return Ok(());
        }
        let kept: Option<Vec<u8>> =
            conn.query_row("SELECT root FROM checkpoints WHERE size = ?1", [size], |r| r.get(0)).map_err(db_error)?;
        if kept.as_deref() == Some(root.0.as_slice()) {
            return Ok(());
        }
        Err(TreeError::Disagrees {
            reason: format!(
                "a checkpoint of size {size} with another root was signed before ({}, now {}): the log's history \
                 changed since; keep both checkpoints as evidence",
                kept.map_or_else(|| "no root".into(), hex::encode),
                hex::encode(root.0)
            ),
        })
    }

    /// Replaces the note kept at `size` with the same checkpoint carrying
    /// more cosignatures (`cosignatures` = how many of the configured
    /// witnesses). The signed body must be the same; there must be one.
    pub fn replace_note(&self, size: u64, note: &str, cosignatures: u32) -> Result<(), TreeError> {
        let conn = self.conn();
        let kept: Option<String> = conn
            .query_row("SELECT note FROM checkpoints WHERE size = ?1", [size], |r| r.get(0))
            .optional()
            .map_err(db_error)?;
        let Some(kept) = kept else {
            return Err(TreeError::OutOfRange {
                reason: format!("no checkpoint of size {size} is kept; put it first"),
            });
        };
        if note_body(&kept) != note_body(note) {
            return Err(TreeError::Disagrees {
                reason: format!(
                    "the new note for size {size} signs another checkpoint than the one kept; only signature lines \
                     may be added"
                ),
            });
        }
        conn.execute(
            "UPDATE checkpoints SET note = ?2, cosignatures = ?3 WHERE size = ?1",
            params![size, note, cosignatures],
        )
        .map_err(db_error)?;
        Ok(())
    }

    /// The one checkpoint `sql` selects with `arg` as its size bound (`=` or
    /// `>=`). SQLite keeps sizes as signed 64-bit integers: above those, no
    /// size is kept (a query such as `?size=2^63` is an ordinary miss).
    fn one(&self, sql: &str, arg: u64) -> Result<Option<StoredCheckpoint>, TreeError> {
        if i64::try_from(arg).is_err() {
            return Ok(None);
        }
        let conn = self.conn();
        let raw = conn.query_row(sql, [arg], from_row).optional().map_err(db_error)?;
        raw.map(to_checkpoint).transpose()
    }

    /// The checkpoint signed at `size`, if any.
    pub fn at(&self, size: u64) -> Result<Option<StoredCheckpoint>, TreeError> {
        self.one(&format!("SELECT {COLUMNS} FROM checkpoints WHERE size = ?1"), size)
    }

    /// The checkpoint of the largest size.
    pub fn latest(&self) -> Result<Option<StoredCheckpoint>, TreeError> {
        self.one(&format!("SELECT {COLUMNS} FROM checkpoints WHERE size >= ?1 ORDER BY size DESC LIMIT 1"), 0)
    }

    /// The smallest checkpoint that covers the event at `seq` (size >= seq).
    pub fn first_covering(&self, seq: u64) -> Result<Option<StoredCheckpoint>, TreeError> {
        self.one(&format!("SELECT {COLUMNS} FROM checkpoints WHERE size >= ?1 ORDER BY size ASC LIMIT 1"), seq)
    }
}
