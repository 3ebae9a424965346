//! Online backup and verified restore of a data directory.
//!
//! `backup` takes a consistent snapshot of `ledger.sqlite` with SQLite's
//! `VACUUM INTO` while the server keeps appending: it runs in one read
//! transaction, so the copy holds exactly the events committed when the
//! snapshot began (every acknowledged one, since an append is acknowledged
//! only after its commit) and never half of a transaction. Other SQLite
//! databases of the directory (the token store) are snapshotted the same
//! way. A `BACKUP.json` manifest records the head and each file's SHA-256,
//! and the copy's chain is verified before `backup` returns.
//!
//! `restore` copies a backup into a new data directory (never over an
//! existing ledger): it checks the files against the manifest, verifies the
//! chain and that it ends at the manifest's head, and only then moves the
//! directory into place.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use govledger_ledger::{Head, LogReader, StoreError, sha256_hex, verify};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::{DB_FILE, EmbeddedReader};

/// The manifest file of a backup.
pub const MANIFEST_FILE: &str = "BACKUP.json";
const MANIFEST_FORMAT: u32 = 1;

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// When the snapshot was taken (RFC 3339 UTC).
    pub created_at: String,
    /// The head of the ledger in the backup; `None` for an empty ledger.
    pub head: Option<Head>,
    /// Events in the backup.
    pub events: u64,
    /// Each file of the backup with its SHA-256.
    pub files: Vec<BackupFile>,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFile {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

fn io(what: impl std::fmt::Display) -> StoreError {
    StoreError::Io(what.to_string())
}

/// Whether `dir` does not exist or is an empty directory.
fn absent_or_empty(dir: &Path) -> Result<bool, StoreError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(io(format!("cannot read {}: {e}", dir.display()))),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(format!("cannot sync {}: {e}", dir.display())))
}

/// Restricts a file to its owner (token hashes, ledger contents).
pub(crate) fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(error = %e, path = %path.display(), "cannot restrict a file to its owner");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn file_entry(dir: &Path, name: &str) -> Result<BackupFile, StoreError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| io(format!("cannot read {}: {e}", path.display())))?;
    Ok(BackupFile { name: name.to_owned(), sha256: sha256_hex(&bytes), bytes: bytes.len() as u64 })
}

/// Snapshots the SQLite database `source` into `target` (which must not
/// exist) and makes the copy durable. `progress` runs now and then during
/// the copy.
fn snapshot(source: &Path, target: &Path, progress: &mut Option<Box<dyn FnMut() + Send>>) -> Result<(), StoreError> {
    let mut conn =
        Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| io(format!("cannot open {}: {e}", source.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(io)?;
    if let Some(mut f) = progress.take() {
        // Returning false lets the statement go on.
        conn.progress_handler(
            100_000,
            Some(move || {
                f();
                false
            }),
        )
        .map_err(io)?;
    }
    let target_text = target.to_str().ok_or_else(|| io(format!("{} is not a UTF-8 path", target.display())))?;
    conn.execute("VACUUM INTO ?1", [target_text])
        .map_err(|e| io(format!("cannot snapshot {} into {}: {e}", source.display(), target.display())))?;
    drop(conn);
    File::open(target).and_then(|f| f.sync_all()).map_err(|e| io(format!("cannot sync {}: {e}", target.display())))?;
    owner_only(target);
    Ok(())
}

/// Takes an online backup of the data directory `data_dir` into `target`
/// (created; it must not exist or be empty): the ledger and every database
/// named in `also` that exists (e.g. the token store). Safe while a server
/// appends. Verifies the copy's chain; returns the manifest.
/// `progress`, if given, runs now and then while the ledger is copied.
pub fn backup(
    data_dir: &Path,
    target: &Path,
    also: &[&str],
    mut progress: Option<Box<dyn FnMut() + Send>>,
) -> Result<Manifest, StoreError> {
    let source = data_dir.join(DB_FILE);
    if !source.exists() {
        return Err(io(format!("{} holds no ledger (no {DB_FILE})", data_dir.display())));
    }
    if !absent_or_empty(target)? {
        return Err(io(format!("{} is not empty; back up into a new directory", target.display())));
    }
    std::fs::create_dir_all(target).map_err(|e| io(format!("cannot create {}: {e}", target.display())))?;
    let created_at = govledger_domain::Timestamp::now().to_rfc3339();
    snapshot(&source, &target.join(DB_FILE), &mut progress)?;
    let mut files = vec![file_entry(target, DB_FILE)?];
    for name in also {
        let path = data_dir.join(name);
        if path.exists() {
            snapshot(&path, &target.join(name), &mut None)?;
            files.push(file_entry(target, name)?);
        }
    }
    let (head, events) = check_chain(target)?;
    let manifest = Manifest { format: MANIFEST_FORMAT, created_at, head, events, files };
    write_manifest(target, &manifest)?;
    sync_dir(target)?;
    Ok(manifest)
}

/// Verifies the ledger in `dir`: the whole chain, and that it ends at the
/// anchor. Returns the head and the number of events.
fn check_chain(dir: &Path) -> Result<(Option<Head>, u64), StoreError> {
    let reader = EmbeddedReader::new(dir.join(DB_FILE));
    let report = verify(&reader)?;
    if let Some(problem) = report.problem {
        return Err(StoreError::Corrupt { seq: problem.seq, reason: format!("the copy does not verify: {problem}") });
    }
    let head = (report.events > 0).then_some(report.head);
    if reader.anchor()? != head {
        return Err(StoreError::Corrupt {
            seq: report.events,
            reason: "the copy's anchor is not its last event".into(),
        });
    }
    Ok((head, report.events))
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), StoreError> {
    let path = dir.join(MANIFEST_FILE);
    let text = serde_json::to_string_pretty(manifest).map_err(io)?;
    let mut f = File::create(&path).map_err(|e| io(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(|e| io(format!("cannot write {}: {e}", path.display())))
}

/// Reads and checks a backup's manifest and files.
pub fn read_backup(backup_dir: &Path) -> Result<Manifest, StoreError> {
    let path = backup_dir.join(MANIFEST_FILE);
    let text = std::fs::read(&path).map_err(|e| {
        io(format!("{} is not a govledger backup: cannot read {MANIFEST_FILE}: {e}", backup_dir.display()))
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| io(format!("{} is unreadable: {e}", path.display())))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(io(format!(
            "backup format {} is not supported (this govledger reads {MANIFEST_FORMAT})",
            manifest.format
        )));
    }
    if !manifest.files.iter().any(|f| f.name == DB_FILE) {
        return Err(io(format!("the backup in {} lists no {DB_FILE}", backup_dir.display())));
    }
    for f in &manifest.files {
        if f.name.contains(['/', '\\']) || f.name.starts_with('.') {
            return Err(io(format!("the manifest names a file outside the backup: {:?}", f.name)));
        }
        let found = file_entry(backup_dir, &f.name)?;
        if found != *f {
            return Err(io(format!(
                "{} does not match the manifest (sha256 {} / {} bytes, expected {} / {}): the backup is damaged",
                f.name, found.sha256, found.bytes, f.sha256, f.bytes
            )));
        }
    }
    Ok(manifest)
}

/// Restores the backup in `backup_dir` into the new data directory
/// `data_dir` (it must not exist or be empty). The files are checked against
/// the manifest, copied beside `data_dir`, the chain is verified and must
/// end at the manifest's head; only then is the copy moved into place.
pub fn restore(backup_dir: &Path, data_dir: &Path) -> Result<Manifest, StoreError> {
    let manifest = read_backup(backup_dir)?;
    if !absent_or_empty(data_dir)? {
        return Err(io(format!(
            "{} is not empty; restore into a new data directory (the ledger there is never overwritten)",
            data_dir.display()
        )));
    }
    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| io(format!("cannot create {}: {e}", parent.display())))?;
    let name = data_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "data".into());
    let staging = parent.join(format!(".{name}.restoring-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| io(format!("cannot create {}: {e}", staging.display())))?;
    let result = (|| {
        for f in &manifest.files {
            let to = staging.join(&f.name);
            std::fs::copy(backup_dir.join(&f.name), &to)
                .map_err(|e| io(format!("cannot copy {} into {}: {e}", f.name, staging.display())))?;
            File::open(&to).and_then(|file| file.sync_all()).map_err(io)?;
            owner_only(&to);
        }
        let (head, events) = check_chain(&staging)?;
        if head != manifest.head || events != manifest.events {
            return Err(StoreError::Corrupt {
                seq: events,
                reason: format!(
                    "the restored ledger ends at seq {} but the manifest says seq {}",
                    head.map_or(0, |h| h.seq),
                    manifest.head.as_ref().map_or(0, |h| h.seq)
                ),
            });
        }
        sync_dir(&staging)?;
        if data_dir.exists() {
            std::fs::remove_dir(data_dir).map_err(|e| io(format!("cannot replace {}: {e}", data_dir.display())))?;
        }
        std::fs::rename(&staging, data_dir)
            .map_err(|e| io(format!("cannot move {} to {}: {e}", staging.display(), data_dir.display())))?;
        sync_dir(&parent)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result.map(|()| manifest)
}
