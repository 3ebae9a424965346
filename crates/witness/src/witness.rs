//! The witness itself: `add-checkpoint` as C2SP tlog-witness specifies it, with the
//! decision ([`decide`], pure: may refuse) kept apart from the state change
//! (cosign, save, then remember).
//!
//! Each log has its own mutex around its latest cosigned checkpoint. The check of
//! the old size and the saving of the new checkpoint happen under it, so two
//! concurrent requests cannot both pass the check and roll each other back (the
//! race the C2SP text warns about). The checkpoint is on disk before the
//! cosignature is returned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use govledger_tlog::Hash;
use govledger_tlog::checkpoint::{self, Checkpoint, CheckpointError};
use govledger_tlog::keys::{LogVerifier, WitnessSigner, WitnessVerifier};
use govledger_tlog::merkle::{self, ProofError};
use govledger_tlog::witness_wire::AddCheckpoint;

use crate::state::{CosignedCheckpoint, StateError, WitnessState, origin_hash};

/// Why an `add-checkpoint` request was not cosigned; each variant has its HTTP
/// status ([`AddError::status`]) and its text is the sentence sent back.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// 400: the body is not an add-checkpoint request; the client has a bug.
    #[error("the request is not a tlog-witness add-checkpoint body: {0}")]
    Malformed(String),
    /// 404: this witness does not witness that log.
    #[error("this witness does not witness the log {origin:?}; ask its operator to add the log's verifier key")]
    UnknownOrigin { origin: String },
    /// 403: no valid signature from the log's key.
    #[error("the checkpoint is not validly signed by the key this witness trusts for {origin:?}: {reason}")]
    NotSigned { origin: String, reason: String },
    /// 400: old size larger than the checkpoint's.
    #[error("the old size {old_size} is larger than the checkpoint's size {size}")]
    OldSizeTooLarge { old_size: u64, size: u64 },
    /// 409: the client's idea of the last cosigned size is wrong; it should retry from `size`.
    #[error("the last checkpoint this witness cosigned for the log has size {size}; send a proof from that size")]
    Conflict { size: u64 },
    /// 422: a checkpoint of size 0 whose root is not the empty tree's.
    #[error("a checkpoint of size 0 must have the empty tree's root (SHA-256 of nothing)")]
    NotEmptyRoot,
    /// 422: a proof was sent from the empty tree, which needs none.
    #[error("the old size is 0, so the consistency proof must be empty; it has {lines} lines")]
    ProofFromEmpty { lines: usize },
    /// 422: a proof was sent between equal sizes, which needs none.
    #[error(
        "the checkpoint has the size already cosigned, so the consistency proof must be empty; it has {lines} lines"
    )]
    ProofForSameSize { lines: usize },
    /// 422: the proof does not show the checkpoint extending the last cosigned one (a fork, or a bad proof).
    #[error("the checkpoint is not proven consistent with the one cosigned at size {old_size}: {reason}")]
    Inconsistent { old_size: u64, reason: String },
    /// 422: same size as the last cosigned checkpoint but another root: a split view.
    #[error(
        "the checkpoint has size {size} like the one already cosigned, but a different root: the log shows two views"
    )]
    RootMismatch { size: u64 },
    /// 500: the witness could not save its state, so it cosigned nothing.
    #[error("the witness could not save its state, so it cosigned nothing; try again later")]
    Storage(#[source] StateError),
}

impl AddError {
    /// The HTTP status code C2SP tlog-witness gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            AddError::Malformed(_) | AddError::OldSizeTooLarge { .. } => 400,
            AddError::NotSigned { .. } => 403,
            AddError::UnknownOrigin { .. } => 404,
            AddError::Conflict { .. } => 409,
            AddError::NotEmptyRoot
            | AddError::ProofFromEmpty { .. }
            | AddError::ProofForSameSize { .. }
            | AddError::Inconsistent { .. }
            | AddError::RootMismatch { .. } => 422,
            AddError::Storage(_) => 500,
        }
    }

    /// Whether the refused checkpoint, validly signed by the log, contradicts the
    /// one cosigned before: evidence of a fork, worth keeping.
    pub fn is_fork_evidence(&self) -> bool {
        matches!(self, AddError::Inconsistent { .. } | AddError::RootMismatch { .. })
    }
}

/// The checks of C2SP tlog-witness that follow the signature check, in its order,
/// on a checkpoint signed by the log. `last` is the latest cosigned checkpoint.
pub fn decide(
    last: Option<&CosignedCheckpoint>,
    old_size: u64,
    proof: &[Hash],
    new: &Checkpoint,
) -> Result<(), AddError> {
    if old_size > new.size {
        return Err(AddError::OldSizeTooLarge { old_size, size: new.size });
    }
    let last_size = last.map_or(0, |l| l.size);
    if old_size != last_size {
        return Err(AddError::Conflict { size: last_size });
    }
    if new.size == 0 && new.root != merkle::empty_root() {
        return Err(AddError::NotEmptyRoot);
    }
    if old_size == 0 && !proof.is_empty() {
        return Err(AddError::ProofFromEmpty { lines: proof.len() });
    }
    let Some(last) = last else { return Ok(()) };
    if last.size == new.size {
        if last.root != new.root {
            return Err(AddError::RootMismatch { size: new.size });
        }
        if !proof.is_empty() {
            // Same tree: nothing to prove. A proof here is a client bug, not a fork.
            return Err(AddError::ProofForSameSize { lines: proof.len() });
        }
        return Ok(());
    }
    merkle::verify_consistency(last.size, &last.root, new.size, &new.root, proof)
        .map_err(|e: ProofError| AddError::Inconsistent { old_size, reason: e.to_string() })
}

/// One witnessed log: its key and its latest cosigned checkpoint.
struct Log {
    verifier: LogVerifier,
    last: Mutex<Option<CosignedCheckpoint>>,
}

/// A witness: its key, the logs it witnesses and their state in its directory.
pub struct Witness {
    state: WitnessState,
    signer: WitnessSigner,
    verifier: WitnessVerifier,
    logs: HashMap<String, Log>,
    origin_by_hash: HashMap<String, String>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness").field("dir", &self.state.dir()).field("name", &self.name()).finish_non_exhaustive()
    }
}

/// Why a witness could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the log origin {origin:?} is configured twice; give each log's verifier key once")]
    DuplicateOrigin { origin: String },
    #[error("the witness's own verifier key does not parse: {0}")]
    OwnKey(String),
    #[error(
        "the saved checkpoint {path} of {origin:?} does not verify with the configured keys ({reason}); \
         if the log's key changed, move the file aside knowingly: the witness then accepts any history of that log"
    )]
    SavedCheckpoint { origin: String, path: PathBuf, reason: String },
}

impl Witness {
    /// Opens the witness in `dir` (its key must be there: see
    /// [`WitnessState::load_or_create_key`]) for the logs of these verifier keys,
    /// checking each saved checkpoint against the log's key and the witness's own.
    pub fn open(dir: &Path, logs: Vec<LogVerifier>) -> Result<Witness, OpenError> {
        let state = WitnessState::open(dir)?;
        let signer = state.load_key()?;
        let verifier = WitnessVerifier::new(&signer.verifier_key()).map_err(|e| OpenError::OwnKey(e.to_string()))?;
        let mut by_origin = HashMap::new();
        let mut origin_by_hash = HashMap::new();
        for log in logs {
            let origin = log.origin().to_owned();
            let last = state.load(&origin)?;
            if let Some(saved) = &last {
                check_saved(saved, &log, &verifier).map_err(|reason| OpenError::SavedCheckpoint {
                    origin: origin.clone(),
                    path: dir.join("checkpoints").join(format!("{}.txt", origin_hash(&origin))),
                    reason,
                })?;
            }
            origin_by_hash.insert(origin_hash(&origin), origin.clone());
            if by_origin.insert(origin.clone(), Log { verifier: log, last: Mutex::new(last) }).is_some() {
                return Err(OpenError::DuplicateOrigin { origin });
            }
        }
        Ok(Witness { state, signer, verifier, logs: by_origin, origin_by_hash })
    }

    /// The witness's name (its key's name).
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The witness's verifier key text, for the logs' configuration.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// The origins witnessed.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.logs.keys().map(String::as_str)
    }

    /// The latest checkpoint cosigned for `origin`.
    pub fn latest(&self, origin: &str) -> Option<CosignedCheckpoint> {
        self.logs.get(origin).and_then(|log| lock(&log.last).clone())
    }

    /// The latest checkpoint cosigned for the origin whose SHA-256 in lowercase hex is `hash`.
    pub fn latest_by_origin_hash(&self, hash: &str) -> Option<CosignedCheckpoint> {
        self.origin_by_hash.get(hash).and_then(|origin| self.latest(origin))
    }

    /// Handles an `add-checkpoint` request body. On success the new checkpoint is
    /// saved and the witness's cosignature line(s), timestamped `now_unix_s`, are returned.
    /// A refused checkpoint that contradicts the last cosigned one is kept as evidence.
    pub fn add_checkpoint(&self, body: &[u8], now_unix_s: u64) -> Result<String, AddError> {
        let request = AddCheckpoint::parse(body).map_err(|e| AddError::Malformed(e.to_string()))?;
        let origin = origin_line(&request.checkpoint)?;
        let log = self.logs.get(origin).ok_or_else(|| AddError::UnknownOrigin { origin: origin.to_owned() })?;
        let opened = checkpoint::open(&request.checkpoint, &log.verifier, &[]).map_err(|e| match e {
            CheckpointError::MalformedNote | CheckpointError::MalformedBody => AddError::Malformed(e.to_string()),
            _ => AddError::NotSigned { origin: origin.to_owned(), reason: e.to_string() },
        })?;
        let new = opened.checkpoint;

        let mut last = lock(&log.last);
        if let Err(refusal) = decide(last.as_ref(), request.old_size, &request.proof, &new) {
            if refusal.is_fork_evidence() {
                self.keep_evidence(&new, last.as_ref(), body, &refusal, now_unix_s);
            }
            return Err(refusal);
        }
        let note = std::str::from_utf8(&request.checkpoint)
            .map_err(|_| AddError::Malformed("the checkpoint is not UTF-8 text".into()))?;
        let lines = checkpoint::cosign(&self.signer, note.as_bytes(), now_unix_s)
            .map_err(|e| AddError::Malformed(e.to_string()))?;
        let cosigned_note =
            checkpoint::with_signature_lines(note, &lines).map_err(|e| AddError::Malformed(e.to_string()))?;
        let saved =
            CosignedCheckpoint { origin: new.origin.clone(), size: new.size, root: new.root, note: cosigned_note };
        self.state.save(&saved).map_err(|e| {
            tracing::error!(error = %e, origin = %new.origin, size = new.size, "cannot save the cosigned checkpoint");
            AddError::Storage(e)
        })?;
        *last = Some(saved);
        tracing::info!(origin = %new.origin, size = new.size, "cosigned");
        Ok(lines)
    }

    fn keep_evidence(
        &self,
        new: &Checkpoint,
        last: Option<&CosignedCheckpoint>,
        body: &[u8],
        refusal: &AddError,
        now_unix_s: u64,
    ) {
        let reason = refusal.to_string();
        match self.state.write_evidence(&new.origin, last, body, &reason, now_unix_s, new.size) {
            Ok(path) => tracing::warn!(
                origin = %new.origin,
                size = new.size,
                cosigned_size = last.map_or(0, |l| l.size),
                evidence = %path.display(),
                "refused a checkpoint signed by the log that contradicts the one cosigned before: evidence of a fork"
            ),
            Err(e) => tracing::error!(
                origin = %new.origin,
                size = new.size,
                error = %e,
                "refused a checkpoint that shows a fork, but cannot keep the evidence"
            ),
        }
    }

    /// The witness's own verifier.
    pub fn verifier(&self) -> &WitnessVerifier {
        &self.verifier
    }
}

/// The first line of the checkpoint: the log's origin.
fn origin_line(note: &[u8]) -> Result<&str, AddError> {
    let end = note
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| AddError::Malformed("the checkpoint has no origin line".into()))?;
    let line =
        std::str::from_utf8(&note[..end]).map_err(|_| AddError::Malformed("the origin line is not UTF-8".into()))?;
    if line.is_empty() {
        return Err(AddError::Malformed("the checkpoint's origin line is empty".into()));
    }
    Ok(line)
}

/// The saved note verifies with the log's key and carries this witness's
/// cosignature, and its size and root are those saved alongside.
fn check_saved(saved: &CosignedCheckpoint, log: &LogVerifier, own: &WitnessVerifier) -> Result<(), String> {
    let opened = checkpoint::open(saved.note.as_bytes(), log, std::slice::from_ref(own)).map_err(|e| e.to_string())?;
    if !opened.cosigned_by.iter().any(|c| c.name == own.name()) {
        return Err("it carries no cosignature of this witness's key".into());
    }
    if opened.checkpoint.size != saved.size || opened.checkpoint.root != saved.root {
        return Err("its header's size or root differ from the note's".into());
    }
    Ok(())
}

/// A poisoned lock still holds a consistent value: the checkpoint is replaced
/// only after it is saved, in one assignment.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
