//! The server's side of SPEC 6: keeps the Merkle tree at the ledger's head,
//! signs a checkpoint over each stretch of the log it has verified, submits
//! it to the configured witnesses and keeps their cosignatures with it, and
//! answers proofs and receipts from the kept tree.
//!
//! The formats are `govledger-tlog`'s, the tree and the checkpoint storage
//! `govledger-transparency`'s, the witness client `govledger-witness`'s; this
//! file only decides *when* (never over a chain that does not verify) and
//! keeps the chain's health for `/healthz`.
//!
//! Start-up: [`Transparency::open`] checks the kept tree against the store
//! (its last leaf, which changes with any rewrite of history, as bodies
//! carry `prev_hash`) and the latest signed checkpoint against the tree, so a
//! data directory whose history was rewritten while the server was down is
//! reported broken instead of being signed over. The health is `Checking`
//! until the caller has verified the whole chain once ([`Transparency::checked`]);
//! nothing is signed before that.
//!
//! The same continuous check answers `verify` (GraphQL and `GET /v1/verify`):
//! [`Transparency::check_through`] extends the checked stretch to the head
//! of the call, at most one extension at a time, instead of re-hashing the
//! whole chain per request.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use govledger_ledger::LogReader;
use govledger_tlog::Hash;
use govledger_tlog::checkpoint;
use govledger_tlog::keys::{LogSigner, LogVerifier, WitnessVerifier};
use govledger_tlog::merkle::to_hex;
use govledger_tlog::proof::{ConsistencyProof, InclusionProof};
use govledger_tlog::witness_wire::AddCheckpoint;
use govledger_transparency::{CheckpointStore, StoredCheckpoint, Tree, TreeError};
use govledger_witness::{SubmitOutcome, WitnessClient};
use serde::Serialize;

use crate::error::{ApiCode, AppError};

/// A witness the log submits its checkpoints to (SPEC 6.4).
pub struct WitnessConfig {
    pub url: String,
    pub verifier: WitnessVerifier,
}

/// How the server runs its log: the key, the witnesses and the quorum.
pub struct LogConfig {
    pub signer: LogSigner,
    pub witnesses: Vec<WitnessConfig>,
    /// Cosignatures a checkpoint needs to count as witnessed (0: none configured).
    pub quorum: usize,
}

/// Whether the chain verifies, as far as the server has checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainHealth {
    /// The whole chain is being verified after the start; nothing is signed yet.
    Checking,
    /// Every event up to `seq` verifies and is in the tree.
    Ok { seq: u64 },
    /// The chain (or the kept tree) does not verify at `seq`: nothing after
    /// the last good position is signed until an operator repairs the store.
    Broken { seq: u64, reason: String },
}

struct Witness {
    client: WitnessClient,
    /// The size this witness is known to have cosigned last (0: unknown).
    cosigned: Mutex<u64>,
}

impl Witness {
    fn name(&self) -> &str {
        self.client.verifier().name()
    }
}

/// The log's tree, key, kept checkpoints and witnesses.
pub struct Transparency {
    tree: Tree,
    checkpoints: CheckpointStore,
    signer: LogSigner,
    verifier: LogVerifier,
    witness_verifiers: Vec<WitnessVerifier>,
    witnesses: Vec<Witness>,
    quorum: usize,
    /// Watched, so that `check_through` can wait for the start-up check.
    health: tokio::sync::watch::Sender<ChainHealth>,
    /// One on-demand extension at a time; other callers wait here without a thread.
    on_demand: tokio::sync::Mutex<()>,
    /// One signer at a time (the loop, or a receipt asked for on demand).
    signing: Mutex<()>,
    /// The latest kept checkpoint was found to match the tree (once per start).
    reconciled: std::sync::atomic::AtomicBool,
    /// The size of the last checkpoint handed to the witnesses.
    submitted: Mutex<u64>,
}

/// `GET /v1/log` (SPEC 6.2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogInfo {
    pub origin: String,
    pub verifier_key: String,
    pub witnesses: Vec<WitnessInfo>,
    pub quorum: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WitnessInfo {
    pub name: String,
    pub verifier_key: String,
}

/// A kept checkpoint with what its cosignatures amount to.
#[derive(Debug, Clone)]
pub struct CheckpointView {
    pub size: u64,
    pub root: Hash,
    /// The signed note with every cosignature received.
    pub note: String,
    /// The configured witnesses whose cosignatures verify.
    pub cosigned_by: Vec<String>,
    /// At least `quorum` (> 0) cosignatures.
    pub witnessed: bool,
}

impl Transparency {
    /// Opens the tree and checkpoints kept in `dir` and checks the tree's
    /// last leaf against the store (see the module docs). A tree that
    /// disagrees with the store is rebuilt from it; the first `keep_up`
    /// then compares the latest kept checkpoint with the rebuilt tree and
    /// marks the chain broken when they differ (`reconcile`).
    pub fn open(dir: &Path, config: LogConfig, reader: &dyn LogReader) -> Result<Self, TreeError> {
        let tree = Tree::open(dir)?;
        let checkpoints = CheckpointStore::open(dir)?;
        let verifier = LogVerifier::new(&config.signer.verifier_key())
            .map_err(|e| TreeError::Io(format!("the log key does not give a verifier key: {e}")))?;
        let witnesses = config
            .witnesses
            .iter()
            .map(|w| Witness { client: WitnessClient::new(&w.url, w.verifier.clone()), cosigned: Mutex::new(0) })
            .collect();
        let witness_verifiers = config.witnesses.into_iter().map(|w| w.verifier).collect();
        let log = Transparency {
            tree,
            checkpoints,
            signer: config.signer,
            verifier,
            witness_verifiers,
            witnesses,
            quorum: config.quorum,
            health: tokio::sync::watch::Sender::new(ChainHealth::Checking),
            on_demand: tokio::sync::Mutex::new(()),
            signing: Mutex::new(()),
            reconciled: std::sync::atomic::AtomicBool::new(false),
            submitted: Mutex::new(0),
        };
        match log.tree.check_against(reader) {
            Ok(()) => {}
            // The tree and the log part ways (a rewrite, or a tree of another
            // log): derive it again; the first `keep_up` then compares the
            // kept checkpoints with it (`reconcile`).
            Err(e @ (TreeError::Disagrees { .. } | TreeError::Broken { .. })) => {
                tracing::warn!(error = %e, "the kept Merkle tree disagrees with the store; rebuilding it from the log");
                log.tree.rebuild()?;
            }
            // The store or the file could not be read: no reason to throw the tree away.
            Err(e) => return Err(e),
        }
        Ok(log)
    }

    /// Records the result of the start-up verification of the whole chain:
    /// `Ok(head)` lets signing begin; `Err((seq, reason))` marks it broken.
    pub fn checked(&self, result: Result<u64, (u64, String)>) {
        match result {
            Ok(seq) => self.set_health(ChainHealth::Ok { seq }),
            Err((seq, reason)) => self.set_broken(seq, reason),
        }
    }

    /// The chain's health as the server knows it.
    pub fn health(&self) -> ChainHealth {
        self.health.borrow().clone()
    }

    fn set_health(&self, health: ChainHealth) {
        self.health.send_replace(health);
    }

    fn set_broken(&self, seq: u64, reason: String) {
        tracing::error!(seq, reason = %reason, "the ledger's chain does not verify; no checkpoint will be signed");
        self.set_health(ChainHealth::Broken { seq, reason });
    }

    /// Extends the tree to `head` (checking the new stretch) and signs a
    /// checkpoint when it grew past the latest one. Blocking. Returns the
    /// newly signed size, if any.
    pub fn keep_up(&self, reader: &dyn LogReader, head: u64) -> Result<Option<u64>, AppError> {
        self.advance(reader, head, true)
    }

    /// The chain's health once the server has checked it through `head`
    /// (or found it broken): waits for the start-up check (at most
    /// `START_WAIT`), then extends the checked stretch to `head` without
    /// signing (the follower signs it at its next turn). Costs the events
    /// not yet checked, once, whatever the number of callers.
    pub async fn check_through(
        self: &Arc<Self>,
        reader: Arc<dyn LogReader>,
        head: u64,
    ) -> Result<ChainHealth, AppError> {
        const START_WAIT: Duration = Duration::from_secs(10);
        let covers = |h: &ChainHealth| match h {
            ChainHealth::Checking => false,
            ChainHealth::Ok { seq } => *seq >= head,
            ChainHealth::Broken { .. } => true,
        };
        let mut health = self.health.subscribe();
        let started = tokio::time::timeout(START_WAIT, health.wait_for(|h| !matches!(h, ChainHealth::Checking)))
            .await
            .is_ok_and(|checked| checked.is_ok());
        if !started {
            return Err(AppError::Unavailable(
                "the server is still verifying the whole chain after its start; retry in a few seconds".into(),
            ));
        }
        if covers(&self.health()) {
            return Ok(self.health());
        }
        let _one = self.on_demand.lock().await;
        if covers(&self.health()) {
            return Ok(self.health());
        }
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.advance(reader.as_ref(), head, false))
            .await
            .map_err(|e| AppError::Internal(format!("the chain check failed: {e}")))??;
        Ok(self.health())
    }

    /// Extends the tree to `head`, checking the new stretch, and signs a
    /// checkpoint over it when `sign` and it grew past the latest one.
    fn advance(&self, reader: &dyn LogReader, head: u64, sign: bool) -> Result<Option<u64>, AppError> {
        let _one = self.signing.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(self.health(), ChainHealth::Ok { .. }) {
            return Ok(None);
        }
        let size = match self.tree.extend(reader, head) {
            Ok(size) => size,
            Err(TreeError::Broken { seq, reason }) => {
                self.set_broken(seq, reason);
                return Ok(None);
            }
            Err(TreeError::Disagrees { reason }) => {
                self.set_broken(self.tree.size(), reason);
                return Ok(None);
            }
            Err(e) => return Err(internal(e)),
        };
        if !self.reconcile(reader, size)? {
            return Ok(None);
        }
        self.set_health(ChainHealth::Ok { seq: size });
        if !sign {
            return Ok(None);
        }
        let latest = self.checkpoints.latest().map_err(internal)?.map_or(0, |c| c.size);
        if size == 0 || size <= latest {
            return Ok(None);
        }
        let root = self.tree.root(size).map_err(internal)?;
        let note = checkpoint::sign(&self.signer, size, &root)
            .map_err(|e| AppError::Internal(format!("cannot sign a checkpoint: {e}")))?;
        self.checkpoints.put(size, &root, &note).map_err(internal)?;
        tracing::info!(size, root = %to_hex(&root), "signed a checkpoint");
        Ok(Some(size))
    }

    /// Once per start: the latest checkpoint this server signed must still
    /// match the log (same root at its size). If it does not, the store's
    /// history was rewritten or cut back since: broken, nothing more is
    /// signed. Returns whether signing may go on.
    fn reconcile(&self, reader: &dyn LogReader, size: u64) -> Result<bool, AppError> {
        use std::sync::atomic::Ordering;
        if self.reconciled.load(Ordering::Acquire) {
            return Ok(true);
        }
        let Some(latest) = self.checkpoints.latest().map_err(internal)? else {
            self.reconciled.store(true, Ordering::Release);
            return Ok(true);
        };
        if size < latest.size {
            let stored = reader.anchor().map_err(AppError::from)?.map_or(0, |h| h.seq);
            if stored < latest.size {
                self.set_broken(
                    stored,
                    format!(
                        "the log holds {stored} events but this server signed a checkpoint at size {}: signed events \
                         were removed (a restore from an older backup, or a cut); see the runbook",
                        latest.size
                    ),
                );
                return Ok(false);
            }
            return Ok(true); // not extended that far yet
        }
        if self.tree.root(latest.size).map_err(internal)? != latest.root {
            self.set_broken(
                latest.size,
                format!(
                    "the log's first {} events are not the ones this server signed in its checkpoint at that size: \
                     history was rewritten",
                    latest.size
                ),
            );
            return Ok(false);
        }
        self.reconciled.store(true, Ordering::Release);
        Ok(true)
    }

    /// The latest checkpoint when it has not been handed to the witnesses yet
    /// (signed by the loop, or on demand for a receipt), marked as handed.
    pub fn to_submit(&self) -> Result<Option<u64>, AppError> {
        if self.witnesses.is_empty() {
            return Ok(None);
        }
        let latest = self.checkpoints.latest().map_err(internal)?.map_or(0, |c| c.size);
        let mut submitted = self.submitted.lock().unwrap_or_else(|p| p.into_inner());
        if latest <= *submitted {
            return Ok(None);
        }
        *submitted = latest;
        Ok(Some(latest))
    }

    /// Submits the checkpoint of `size` to every witness and keeps the
    /// cosignatures that verify. A witness that is down or refuses is logged
    /// and tried again with the next checkpoint.
    pub async fn collect_cosignatures(&self, size: u64) -> Result<(), AppError> {
        let Some(kept) = self.checkpoints.at(size).map_err(internal)? else { return Ok(()) };
        let answers = futures_util::future::join_all(self.witnesses.iter().map(|w| self.submit(w, &kept))).await;
        let lines: String = answers.into_iter().flatten().collect();
        if lines.is_empty() {
            return Ok(());
        }
        let _one = self.signing.lock().unwrap_or_else(|p| p.into_inner());
        // Re-read: another collection may have added lines meanwhile.
        let Some(kept) = self.checkpoints.at(size).map_err(internal)? else { return Ok(()) };
        let note = checkpoint::with_signature_lines(&kept.note, &lines)
            .map_err(|e| AppError::Internal(format!("cannot add cosignatures: {e}")))?;
        let cosigned = self.cosigners(&note).len();
        self.checkpoints.replace_note(size, &note, cosigned as u32).map_err(internal)?;
        Ok(())
    }

    /// One witness's cosignature lines for `kept`, or None.
    async fn submit(&self, witness: &Witness, kept: &StoredCheckpoint) -> Option<String> {
        let mut old = *witness.cosigned.lock().unwrap_or_else(|p| p.into_inner());
        // A 409 tells the size the witness holds; one more try from there.
        for _ in 0..2 {
            if old > kept.size {
                tracing::warn!(witness = %witness.name(), old, size = kept.size, "witness is ahead of this checkpoint");
                return None;
            }
            let proof = match self.tree.consistency(old, kept.size) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(witness = %witness.name(), error = %e, "cannot prove consistency for a witness");
                    return None;
                }
            };
            let request = AddCheckpoint { old_size: old, proof, checkpoint: kept.note.as_bytes().to_vec() };
            match witness.client.add_checkpoint(&request).await {
                Ok(SubmitOutcome::Cosigned(lines)) => {
                    *witness.cosigned.lock().unwrap_or_else(|p| p.into_inner()) = kept.size;
                    return Some(lines);
                }
                Ok(SubmitOutcome::Conflict { size }) => old = size,
                // A witness that verified the log's signature and still refuses
                // holds another signed view of this log: a fork. Nothing more is
                // signed or proven until an operator looks (runbook).
                Err(govledger_witness::SubmitError::Refused { status: 422, message, .. }) => {
                    self.set_broken(
                        kept.size,
                        format!(
                            "witness {} refused the checkpoint at size {} as inconsistent with one it cosigned \
                             before: {message}",
                            witness.name(),
                            kept.size
                        ),
                    );
                    return None;
                }
                Err(e) => {
                    tracing::warn!(witness = %witness.name(), size = kept.size, error = %e, "witness did not cosign");
                    return None;
                }
            }
        }
        None
    }

    fn cosigners(&self, note: &str) -> Vec<String> {
        match checkpoint::open(note.as_bytes(), &self.verifier, &self.witness_verifiers) {
            Ok(opened) => opened.cosigned_by.into_iter().map(|c| c.name).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn view(&self, kept: StoredCheckpoint) -> CheckpointView {
        let cosigned_by = self.cosigners(&kept.note);
        let witnessed = self.quorum > 0 && cosigned_by.len() >= self.quorum;
        CheckpointView { size: kept.size, root: kept.root, note: kept.note, cosigned_by, witnessed }
    }

    /// `GET /v1/log`.
    pub fn info(&self) -> LogInfo {
        LogInfo {
            origin: self.signer.origin().to_owned(),
            verifier_key: self.signer.verifier_key(),
            witnesses: self
                .witnesses
                .iter()
                .map(|w| WitnessInfo { name: w.name().to_owned(), verifier_key: w.client.verifier().text().to_owned() })
                .collect(),
            quorum: self.quorum,
        }
    }

    /// The latest signed checkpoint.
    pub fn latest(&self) -> Result<CheckpointView, AppError> {
        let kept = self.checkpoints.latest().map_err(internal)?.ok_or_else(|| {
            AppError::refused(
                ApiCode::NoCheckpoint,
                "no checkpoint has been signed yet: the ledger is empty or its chain is still being checked",
            )
        })?;
        Ok(self.view(kept))
    }

    /// The checkpoint signed at exactly `size`.
    pub fn at(&self, size: u64) -> Result<CheckpointView, AppError> {
        let kept = self.checkpoints.at(size).map_err(internal)?.ok_or_else(|| {
            let latest = self.checkpoints.latest().ok().flatten().map_or(0, |c| c.size);
            AppError::refused(
                ApiCode::NoCheckpoint,
                format!("no checkpoint was signed at size {size}; the latest is at size {latest} (GET /checkpoint)"),
            )
        })?;
        Ok(self.view(kept))
    }

    /// The kept checkpoint first covering `seq`, as stored: what a report as
    /// of `seq` is stamped with (the CLI reads the same row from the same file).
    pub fn first_covering(&self, seq: u64) -> Result<Option<StoredCheckpoint>, AppError> {
        self.checkpoints.first_covering(seq).map_err(internal)
    }

    /// The first checkpoint covering `seq` (the one an assessment as of `seq` is proven by).
    pub fn covering(&self, seq: u64) -> Result<Option<CheckpointView>, AppError> {
        Ok(self.checkpoints.first_covering(seq).map_err(internal)?.map(|k| self.view(k)))
    }

    /// Refuses proofs while the chain is broken: the kept tree may then hold
    /// another history than the signed checkpoints (it is rebuilt from the
    /// store at start), and a proof must never contradict a signed root.
    fn provable(&self) -> Result<(), AppError> {
        match self.health() {
            ChainHealth::Broken { seq, reason } => Err(AppError::refused(
                ApiCode::ChainBroken,
                format!(
                    "the ledger's chain does not verify at seq {seq} ({reason}); no proof is given until it is repaired"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The inclusion proof of event `seq` in the tree of `size` (SPEC 6.3).
    pub fn inclusion(&self, seq: u64, size: u64) -> Result<InclusionProof, AppError> {
        self.provable()?;
        self.tree.inclusion_proof(seq, size).map_err(proof_error)
    }

    /// The consistency proof from the tree of `from` to the tree of `to` (SPEC 6.3).
    pub fn consistency(&self, from: u64, to: u64) -> Result<ConsistencyProof, AppError> {
        self.provable()?;
        self.tree.consistency_proof(from, to).map_err(proof_error)
    }

    /// The receipt (C2SP tlog-proof) of the event at `seq`, against the
    /// latest checkpoint. Signs one on demand when none covers it yet.
    pub fn receipt(&self, reader: &dyn LogReader, seq: u64) -> Result<String, AppError> {
        self.provable()?;
        let mut latest = self.checkpoints.latest().map_err(internal)?;
        if latest.as_ref().is_none_or(|c| c.size < seq) {
            self.keep_up(reader, u64::MAX)?;
            latest = self.checkpoints.latest().map_err(internal)?;
        }
        let kept = latest.filter(|c| c.size >= seq).ok_or_else(|| match self.health() {
            ChainHealth::Broken { seq: at, reason } => AppError::refused(
                ApiCode::ChainBroken,
                format!("no checkpoint covers this event: the chain does not verify at seq {at} ({reason})"),
            ),
            _ => AppError::Unavailable("no checkpoint covers this event yet; retry in a few seconds".into()),
        })?;
        Ok(self.tree.receipt(reader, seq, &kept).map_err(internal)?.to_text())
    }
}

/// A proof asked for outside the tree is the caller's mistake; anything else is ours.
fn proof_error(e: TreeError) -> AppError {
    match e {
        TreeError::OutOfRange { reason } => AppError::refused(ApiCode::ProofOutOfRange, reason),
        e => internal(e),
    }
}

fn internal(e: TreeError) -> AppError {
    AppError::Internal(format!("transparency log: {e}"))
}

/// Keeps the log at the ledger's head while the server runs. First it
/// verifies the whole chain (the data directory may have been changed while
/// no server ran; nothing is signed before this passes, SPEC 6.2), then it
/// extends the tree and signs at most every `interval` while the head moves,
/// and collects cosignatures. Ends when `stop` turns true.
pub async fn follow(
    log: std::sync::Arc<Transparency>,
    ledger: govledger_ledger::Ledger,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let checker = ledger.clone();
    let checked = tokio::task::spawn_blocking(move || checker.verify(&mut |_| {})).await;
    log.checked(match checked {
        Ok(Ok(report)) => match report.problem {
            None => Ok(report.head.seq),
            Some(f) => Err((f.seq, format!("{}: {}", f.problem, f.detail))),
        },
        Ok(Err(e)) => Err((0, format!("the store could not be read: {e}"))),
        Err(e) => Err((0, format!("the check failed: {e}"))),
    });
    let mut head = ledger.watch_head();
    loop {
        let target = head.borrow_and_update().seq;
        let keeper = log.clone();
        let reader = ledger.reader().clone();
        let signed = tokio::task::spawn_blocking(move || {
            keeper.keep_up(reader.as_ref(), target)?;
            keeper.to_submit()
        })
        .await;
        match signed {
            Ok(Ok(Some(size))) => {
                if let Err(e) = log.collect_cosignatures(size).await {
                    tracing::warn!(error = ?e, size, "cannot keep cosignatures");
                }
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!(error = ?e, "cannot keep the transparency log up"),
            Err(e) => tracing::warn!(error = %e, "the transparency log task failed"),
        }
        // At most one signature per interval; then wait for the head to move.
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if head.borrow().seq == target {
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}
