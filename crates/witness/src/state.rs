//! The witness's directory, the only place it keeps anything:
//!
//! ```text
//! <dir>/witness.key                      the private key (mode 0600), signed_note text
//! <dir>/checkpoints/<origin hash>.txt    per log: the latest cosigned checkpoint
//! <dir>/evidence/<origin hash>-<unix time>-<size>.txt
//!                                        a refused checkpoint signed by the log that
//!                                        contradicts the one cosigned before: a fork
//! ```
//!
//! `<origin hash>` is the lowercase hex SHA-256 of the log's origin line (as in the
//! C2SP tlog-witness monitoring URL). Every file is written whole to a temporary
//! name, flushed to disk and renamed, so a crash leaves the old file or the new one,
//! never half of one; the directory is flushed after the rename.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use govledger_tlog::Hash;
use govledger_tlog::keys::WitnessSigner;
use sha2::{Digest, Sha256};

/// The name of the key file in the witness directory.
pub const KEY_FILE: &str = "witness.key";
const CHECKPOINTS_DIR: &str = "checkpoints";
const EVIDENCE_DIR: &str = "evidence";

/// The latest checkpoint a witness cosigned for one log.
#[derive(Debug, Clone, PartialEq)]
pub struct CosignedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The note as the log sent it, with the witness's cosignature line added.
    pub note: String,
}

/// What can go wrong with the witness directory. Every variant is a fault of the
/// machine or of the files, not of a request: the operator has to look.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error(
        "{path} already holds a witness key; remove it first to make a new one (the old key's cosignatures stay valid)"
    )]
    KeyExists { path: PathBuf },
    #[error(
        "{path} holds no witness key; create one with `govledger witness key --dir DIR --name NAME` or start `serve` with --name"
    )]
    NoKey { path: PathBuf },
    #[error("the witness key in {path} cannot be read: {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error(
        "the saved checkpoint {path} is damaged: {reason}; restore it from a backup (deleting it lets the log roll back)"
    )]
    BadCheckpointFile { path: PathBuf, reason: String },
}

/// The lowercase hex SHA-256 of a log's origin: its name in URLs and file names.
pub fn origin_hash(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// The witness directory (see the module documentation for its layout).
#[derive(Debug, Clone)]
pub struct WitnessState {
    dir: PathBuf,
}

impl WitnessState {
    /// Opens `dir`, creating it and its subdirectories when missing.
    pub fn open(dir: &Path) -> Result<WitnessState, StateError> {
        for d in [dir.to_path_buf(), dir.join(CHECKPOINTS_DIR), dir.join(EVIDENCE_DIR)] {
            fs::create_dir_all(&d).map_err(|source| io_error("create the directory", &d, source))?;
        }
        Ok(WitnessState { dir: dir.to_path_buf() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    pub fn evidence_dir(&self) -> PathBuf {
        self.dir.join(EVIDENCE_DIR)
    }

    /// Generates a key named `name` and saves it with mode 0600. Refuses to
    /// replace an existing key: a witness that changes key loses its identity.
    pub fn create_key(&self, name: &str) -> Result<WitnessSigner, StateError> {
        let path = self.key_path();
        if path.exists() {
            return Err(StateError::KeyExists { path });
        }
        let (signer, private) = WitnessSigner::generate(name)
            .map_err(|e| StateError::BadKey { path: path.clone(), reason: e.to_string() })?;
        let tmp = self.dir.join(format!("{KEY_FILE}.tmp"));
        write_synced(&tmp, format!("{}\n", private.trim_end()).as_bytes(), 0o600)?;
        // A hard link does not replace an existing file, unlike rename: two
        // concurrent `key` commands cannot overwrite each other's key.
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(StateError::KeyExists { path }),
            Err(source) => return Err(io_error("save the key as", &path, source)),
        }
        sync_dir(&self.dir)?;
        Ok(signer)
    }

    /// Reads the saved key.
    pub fn load_key(&self) -> Result<WitnessSigner, StateError> {
        let path = self.key_path();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StateError::NoKey { path }),
            Err(source) => return Err(io_error("read", &path, source)),
        };
        if let Ok(meta) = fs::metadata(&path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the witness key is readable by other users; chmod 600 it");
        }
        WitnessSigner::from_private(text.trim_end()).map_err(|e| StateError::BadKey { path, reason: e.to_string() })
    }

    /// The saved key, or a new one named `name` when there is none. Returns
    /// whether it was created.
    pub fn load_or_create_key(&self, name: &str) -> Result<(WitnessSigner, bool), StateError> {
        match self.load_key() {
            Ok(signer) => Ok((signer, false)),
            Err(StateError::NoKey { .. }) => match self.create_key(name) {
                Ok(signer) => Ok((signer, true)),
                // Another process created it between the two calls.
                Err(StateError::KeyExists { .. }) => Ok((self.load_key()?, false)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    fn checkpoint_path(&self, origin: &str) -> PathBuf {
        self.dir.join(CHECKPOINTS_DIR).join(format!("{}.txt", origin_hash(origin)))
    }

    /// The latest checkpoint cosigned for `origin`, if any. The file's contents are
    /// checked for form only; [`crate::Witness::open`] checks the signatures.
    pub fn load(&self, origin: &str) -> Result<Option<CosignedCheckpoint>, StateError> {
        let path = self.checkpoint_path(origin);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error("read", &path, source)),
        };
        let bad = |reason: &str| StateError::BadCheckpointFile { path: path.clone(), reason: reason.to_owned() };
        let (header, note) = text.split_once("\n\n").ok_or_else(|| bad("no blank line after the header"))?;
        let mut lines = header.lines();
        let mut field = |key: &str| {
            lines
                .next()
                .and_then(|line| line.strip_prefix(key))
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or_else(|| bad(&format!("the header has no `{key}` line where expected")))
        };
        let saved_origin = field("origin")?.to_owned();
        let size = field("size")?.parse::<u64>().map_err(|_| bad("the size is not a decimal number"))?;
        let root =
            govledger_tlog::merkle::from_hex(field("root")?).map_err(|_| bad("the root is not 64 hex digits"))?;
        if saved_origin != origin {
            return Err(bad(&format!("it belongs to origin {saved_origin:?}, not {origin:?}")));
        }
        Ok(Some(CosignedCheckpoint { origin: saved_origin, size, root, note: note.to_owned() }))
    }

    /// Saves `checkpoint` as the latest cosigned for its origin; on return it is on disk.
    pub fn save(&self, checkpoint: &CosignedCheckpoint) -> Result<(), StateError> {
        let path = self.checkpoint_path(&checkpoint.origin);
        let text = format!(
            "origin {}\nsize {}\nroot {}\n\n{}",
            checkpoint.origin,
            checkpoint.size,
            govledger_tlog::merkle::to_hex(&checkpoint.root),
            checkpoint.note
        );
        replace_file(&path, text.as_bytes())
    }

    /// Keeps evidence of a fork: the last cosigned checkpoint and the refused
    /// request (old size, proof and note, exactly as received). Returns the file's path.
    pub fn write_evidence(
        &self,
        origin: &str,
        last: Option<&CosignedCheckpoint>,
        request: &[u8],
        reason: &str,
        unix_time_s: u64,
        size: u64,
    ) -> Result<PathBuf, StateError> {
        let mut text = format!(
            "govledger witness: evidence of a fork of the log {origin:?}\n\
             refused at unix time {unix_time_s}: {reason}\n\n"
        )
        .into_bytes();
        match last {
            Some(last) => {
                text.extend(format!("== the last cosigned checkpoint (size {}) ==\n", last.size).bytes());
                text.extend(last.note.bytes());
            }
            None => text.extend(b"== no checkpoint was cosigned before ==\n"),
        }
        text.extend(b"== the refused add-checkpoint request body ==\n");
        text.extend(request);
        let stem = format!("{}-{unix_time_s}-{size}", origin_hash(origin));
        // Two refusals in the same second at the same size: number the later ones.
        let mut path = self.evidence_dir().join(format!("{stem}.txt"));
        let mut n = 1;
        while path.exists() {
            n += 1;
            path = self.evidence_dir().join(format!("{stem}-{n}.txt"));
        }
        replace_file(&path, &text)?;
        Ok(path)
    }
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync of the directory.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let tmp = path.with_extension("tmp");
    write_synced(&tmp, bytes, 0o644)?;
    fs::rename(&tmp, path).map_err(|source| io_error("rename into place", path, source))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StateError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|source| io_error("create", path, source))?;
    // `mode` applies only to a new file; a leftover temporary file keeps its own.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|source| io_error("set the mode of", path, source))?;
    file.write_all(bytes).map_err(|source| io_error("write", path, source))?;
    file.sync_all().map_err(|source| io_error("flush to disk", path, source))
}

fn sync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|source| io_error("flush the directory", dir, source))
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> StateError {
    StateError::Io { action, path: path.to_path_buf(), source }
}
