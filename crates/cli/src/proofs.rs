//! SPEC 6 on the command line: the log key (`key`), the latest checkpoint
//! (`checkpoint`), proofs and receipts from a data directory (`proof
//! inclusion|consistency|receipt`), and offline verification with no data
//! directory at all (`proof verify FILE --key VKEY`), plus the wiring that
//! `serve` uses to open its transparency log.
//!
//! The log key lives in `<data-dir>/log.key` (mode 0600, C2SP signed-note
//! private key text); the tree and checkpoints in `<data-dir>/tlog/`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use govledger_tlog::checkpoint::{self, Checkpoint};
use govledger_tlog::keys::{LogSigner, LogVerifier, WitnessVerifier};
use govledger_tlog::merkle::{from_hex, leaf_hash, to_hex};
use govledger_tlog::proof::{ConsistencyProof, InclusionProof};
use govledger_tlog::receipt::Receipt;
use govledger_transparency::{CheckpointStore, Tree};

/// The default origin of a new log (the key's name); set your own with `--origin`.
pub const DEFAULT_ORIGIN: &str = "govledger.local/ledger";

/// Where the log's private key is kept.
pub fn key_path(dir: &Path) -> PathBuf {
    dir.join("log.key")
}

/// Where the tree and the checkpoints are kept.
pub fn tlog_dir(dir: &Path) -> PathBuf {
    dir.join("tlog")
}

/// The log key of `dir`, created (mode 0600) with `origin` when there is none.
/// Returns the key and whether it was created now.
pub fn load_or_create_key(dir: &Path, origin: &str) -> Result<(LogSigner, bool)> {
    let path = key_path(dir);
    if path.exists() {
        let mode = fs::metadata(&path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by others (mode {mode:o}); the log's private key must be private: chmod 600 it",
                path.display()
            );
        }
        let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let signer = LogSigner::from_private(text.trim())
            .map_err(|e| anyhow::anyhow!("{} is not a log key: {e}", path.display()))?;
        return Ok((signer, false));
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (signer, private) =
        LogSigner::generate(origin).map_err(|e| anyhow::anyhow!("cannot create a log key for {origin:?}: {e}"))?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(private.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok((signer, true))
}

#[derive(clap::Args)]
pub struct KeyArgs {
    /// The log's origin (checkpoint origin line and key name), used only when the key is created.
    #[arg(long, default_value = DEFAULT_ORIGIN)]
    origin: String,
}

/// `govledger key`: creates the log key if there is none; prints the verifier key.
pub fn key(dir: &Path, args: KeyArgs) -> Result<ExitCode> {
    let (signer, created) = load_or_create_key(dir, &args.origin)?;
    if created {
        eprintln!("created the log key {} (keep it private; back it up)", key_path(dir).display());
    } else if args.origin != DEFAULT_ORIGIN && args.origin != signer.origin() {
        eprintln!("the existing key's origin is {:?}; --origin applies only to a new key", signer.origin());
    }
    println!("{}", signer.verifier_key());
    Ok(ExitCode::SUCCESS)
}

/// `verify`'s check of the kept Merkle tree and the latest signed checkpoint
/// (SPEC 6.1: a store that holds the tree must agree with a rebuild from the
/// bodies). None when the data directory keeps no tree.
pub fn verify_tree(dir: &Path, reader: &dyn govledger_ledger::LogReader) -> Result<Option<Result<String, String>>> {
    let tlog = tlog_dir(dir);
    if !tlog.join(govledger_transparency::HASHES_FILE).exists() {
        return Ok(None);
    }
    let tree = Tree::open(&tlog)?;
    if let Err(e) = tree.verify_against(reader) {
        return Ok(Some(Err(format!("the kept Merkle tree does not match the log: {e}"))));
    }
    let mut detail = format!("the Merkle tree's {} leaves match the log", tree.size());
    let Some(latest) = CheckpointStore::open(&tlog)?.latest()? else { return Ok(Some(Ok(detail))) };
    if latest.size > tree.size() {
        return Ok(Some(Err(format!(
            "a checkpoint was signed at size {} but the tree covers only {} events",
            latest.size,
            tree.size()
        ))));
    }
    if tree.root(latest.size)? != latest.root {
        return Ok(Some(Err(format!(
            "the latest signed checkpoint (size {}) has another root than the log's tree of that size: \
             the log was rewritten after it was signed",
            latest.size
        ))));
    }
    if key_path(dir).exists() {
        let (signer, _) = load_or_create_key(dir, DEFAULT_ORIGIN)?;
        let verifier = LogVerifier::new(&signer.verifier_key()).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Err(e) = checkpoint::open(latest.note.as_bytes(), &verifier, &[]) {
            return Ok(Some(Err(format!(
                "the latest checkpoint (size {}) does not open with the log key: {e}",
                latest.size
            ))));
        }
    }
    detail.push_str(&format!("; the latest signed checkpoint (size {}) matches", latest.size));
    Ok(Some(Ok(detail)))
}

#[derive(clap::Args)]
pub struct CheckpointArgs {
    /// The checkpoint signed at this tree size (default: the latest).
    #[arg(long)]
    size: Option<u64>,
}

/// `govledger checkpoint`: prints a signed checkpoint kept in the data directory.
pub fn print_checkpoint(dir: &Path, args: CheckpointArgs) -> Result<ExitCode> {
    let store = CheckpointStore::open(&tlog_dir(dir))?;
    let kept = match args.size {
        Some(size) => store.at(size)?.with_context(|| format!("no checkpoint was signed at size {size}"))?,
        None => store.latest()?.context("no checkpoint has been signed yet; `govledger serve` signs them")?,
    };
    print!("{}", kept.note);
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand)]
pub enum ProofCommand {
    /// The inclusion proof (JSON, SPEC 6.3) of event SEQ in the tree of SIZE (default: the latest checkpoint's).
    Inclusion {
        #[arg(long)]
        seq: u64,
        #[arg(long)]
        size: Option<u64>,
    },
    /// The consistency proof (JSON) from the tree of FROM to the tree of TO (default: the latest checkpoint's).
    Consistency {
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: Option<u64>,
    },
    /// The receipt (C2SP tlog-proof, SPEC 6.3) of event ID against the latest checkpoint, to keep and check later.
    Receipt {
        /// The event's id.
        id: String,
        /// Write it here (e.g. ID.tlog-proof) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify offline, with no data directory: a receipt (.tlog-proof), an inclusion proof or a
    /// consistency proof (JSON), against the log's verifier key. Exit 0 valid, 1 invalid.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The receipt or proof file.
    file: PathBuf,
    /// The log's verifier key (from `govledger key` or GET /v1/log).
    #[arg(long)]
    key: String,
    /// A witness verifier key whose cosignatures count (repeat for several).
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// Cosignatures required from those witnesses (default 0).
    #[arg(long, default_value_t = 0)]
    quorum: usize,
    /// Signed checkpoint file(s): the tree an inclusion proof is in, the two trees of a consistency proof,
    /// or, with a receipt, a later checkpoint of the log to check the receipt's against.
    #[arg(long = "checkpoint")]
    checkpoints: Vec<PathBuf>,
    /// With a receipt and a later --checkpoint: the consistency proof (JSON) between the two.
    #[arg(long)]
    consistency: Option<PathBuf>,
    /// With an inclusion proof: the event's canonical body, to check it is the proven leaf.
    #[arg(long)]
    body: Option<PathBuf>,
}

/// `govledger proof …`.
pub fn proof(dir: &Path, command: ProofCommand) -> Result<ExitCode> {
    match command {
        ProofCommand::Verify(args) => verify(&args),
        ProofCommand::Inclusion { seq, size } => {
            let (tree, latest) = open_tree(dir)?;
            let proof = tree.inclusion_proof(seq, size.unwrap_or(latest))?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(ExitCode::SUCCESS)
        }
        ProofCommand::Receipt { id, out } => {
            let text = receipt(dir, &id)?;
            match out {
                Some(path) => fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        ProofCommand::Consistency { from, to } => {
            let (tree, latest) = open_tree(dir)?;
            let proof = tree.consistency_proof(from, to.unwrap_or(latest))?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The receipt of event `id` from the kept tree and latest checkpoint.
fn receipt(dir: &Path, id: &str) -> Result<String> {
    let uuid = uuid::Uuid::parse_str(id).with_context(|| format!("{id:?} is not an event id (a UUID)"))?;
    let reader = crate::store::open_reader(dir)?;
    let event = reader.by_id(&uuid)?.with_context(|| format!("no event {id} in this ledger"))?;
    let (tree, latest) = open_tree(dir)?;
    let kept = CheckpointStore::open(&tlog_dir(dir))?.at(latest)?.context("the latest checkpoint vanished")?;
    Ok(tree.receipt(reader.as_ref(), event.seq, &kept)?.to_text())
}

/// The kept tree and the size of the latest checkpoint.
fn open_tree(dir: &Path) -> Result<(Tree, u64)> {
    let tlog = tlog_dir(dir);
    let latest = CheckpointStore::open(&tlog)?
        .latest()?
        .context("no checkpoint has been signed yet; `govledger serve` signs them")?;
    Ok((Tree::open(&tlog)?, latest.size))
}

/// What an offline check found wrong: printed, exit 1.
struct Invalid(String);

fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let log = LogVerifier::new(args.key.trim()).map_err(|e| anyhow::anyhow!("--key is not a verifier key: {e}"))?;
    let witnesses = args
        .witnesses
        .iter()
        .map(|w| WitnessVerifier::new(w.trim()).map_err(|e| anyhow::anyhow!("--witness {w:?}: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let bytes = fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let outcome = if bytes.starts_with(b"c2sp.org/tlog-proof@v1") {
        verify_receipt(args, &bytes, &log, &witnesses)?
    } else if let Ok(proof) = serde_json::from_slice::<InclusionProof>(&bytes) {
        verify_inclusion(args, &proof, &log)?
    } else if let Ok(proof) = serde_json::from_slice::<ConsistencyProof>(&bytes) {
        verify_consistency(args, &proof, &log)?
    } else {
        bail!(
            "{} is neither a receipt (c2sp.org/tlog-proof@v1) nor an inclusion or consistency proof (JSON)",
            args.file.display()
        );
    };
    match outcome {
        Ok(message) => {
            println!("valid: {message}");
            Ok(ExitCode::SUCCESS)
        }
        Err(Invalid(reason)) => {
            println!("INVALID: {reason}");
            Ok(ExitCode::from(1))
        }
    }
}

/// A signed checkpoint file, opened against the log key (an invalid one is a finding, not a usage error).
fn open_checkpoint(path: &Path, log: &LogVerifier) -> Result<Result<Checkpoint, Invalid>> {
    let note = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(checkpoint::open(&note, log, &[]).map(|o| o.checkpoint).map_err(|e| Invalid(format!("{}: {e}", path.display()))))
}

fn verify_receipt(
    args: &VerifyArgs,
    bytes: &[u8],
    log: &LogVerifier,
    witnesses: &[WitnessVerifier],
) -> Result<Result<String, Invalid>> {
    let receipt = Receipt::parse(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let verified = match receipt.verify(log, witnesses, args.quorum) {
        Ok(v) => v,
        Err(e) => return Ok(Err(Invalid(e.to_string()))),
    };
    let mut message = format!(
        "event {} (seq {}, hash {}) is in the log {} at tree size {}",
        verified.event_id, verified.seq, verified.event_hash, verified.checkpoint.origin, verified.checkpoint.size
    );
    if !verified.witnessed_by.is_empty() {
        message.push_str(&format!(", cosigned by {}", verified.witnessed_by.join(", ")));
    }
    // Checked against a later view of the log: the same history, or a rewrite.
    for path in &args.checkpoints {
        let later = match open_checkpoint(path, log)? {
            Ok(c) => c,
            Err(invalid) => return Ok(Err(invalid)),
        };
        let ours = &verified.checkpoint;
        if later.size == ours.size {
            if later.root != ours.root {
                return Ok(Err(Invalid(format!(
                    "the log signed two different trees of size {}: the receipt's root {} and {}'s root {}; \
                     history was rewritten (keep both files as evidence)",
                    ours.size,
                    to_hex(&ours.root),
                    path.display(),
                    to_hex(&later.root)
                ))));
            }
            continue;
        }
        let (old, new) = if later.size > ours.size { (ours, &later) } else { (&later, ours) };
        let Some(proof_path) = &args.consistency else {
            bail!(
                "{} is at size {} and the receipt at {}: give --consistency with the proof between them \
                 (GET /v1/proof/consistency?from={}&to={})",
                path.display(),
                later.size,
                ours.size,
                old.size,
                new.size
            );
        };
        let proof: ConsistencyProof = serde_json::from_slice(&fs::read(proof_path)?)
            .with_context(|| format!("{} is not a consistency proof (JSON)", proof_path.display()))?;
        if proof.from != old.size || proof.to != new.size {
            bail!("{} proves {} → {}, not {} → {}", proof_path.display(), proof.from, proof.to, old.size, new.size);
        }
        if let Err(e) = proof.verify(&old.root, &new.root) {
            return Ok(Err(Invalid(format!(
                "the log's tree of size {} is not an extension of the tree of size {} ({e}): \
                 history was rewritten between them; the receipt's event may have been changed or removed",
                new.size, old.size
            ))));
        }
        message.push_str(&format!("; consistent with {} (size {})", path.display(), later.size));
    }
    Ok(Ok(message))
}

fn verify_inclusion(args: &VerifyArgs, proof: &InclusionProof, log: &LogVerifier) -> Result<Result<String, Invalid>> {
    let [path] = args.checkpoints.as_slice() else {
        bail!("an inclusion proof is checked against one signed checkpoint: give --checkpoint FILE");
    };
    let cp = match open_checkpoint(path, log)? {
        Ok(c) => c,
        Err(invalid) => return Ok(Err(invalid)),
    };
    if cp.size != proof.tree_size {
        bail!("the proof is for tree size {} but {} is at size {}", proof.tree_size, path.display(), cp.size);
    }
    if let Some(body) = &args.body {
        let body = fs::read(body).with_context(|| format!("cannot read {}", body.display()))?;
        let leaf = from_hex(&proof.leaf_hash).map_err(|e| anyhow::anyhow!("leaf_hash: {e}"))?;
        if leaf_hash(&body) != leaf {
            return Ok(Err(Invalid("the event body given is not the proof's leaf".into())));
        }
    }
    Ok(match proof.verify(&cp.root) {
        Ok(()) => Ok(format!("seq {} is in the log {} at tree size {}", proof.seq, cp.origin, cp.size)),
        Err(e) => Err(Invalid(e.to_string())),
    })
}

fn verify_consistency(
    args: &VerifyArgs,
    proof: &ConsistencyProof,
    log: &LogVerifier,
) -> Result<Result<String, Invalid>> {
    let [old, new] = args.checkpoints.as_slice() else {
        bail!("a consistency proof is checked between two signed checkpoints: give --checkpoint OLD --checkpoint NEW");
    };
    let (old, new) = match (open_checkpoint(old, log)?, open_checkpoint(new, log)?) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(invalid), _) | (_, Err(invalid)) => return Ok(Err(invalid)),
    };
    if old.size != proof.from || new.size != proof.to {
        bail!("the proof is {} → {}, the checkpoints are at {} and {}", proof.from, proof.to, old.size, new.size);
    }
    Ok(match proof.verify(&old.root, &new.root) {
        Ok(()) => Ok(format!("the log's tree of size {} extends the tree of size {}", new.size, old.size)),
        Err(e) => {
            Err(Invalid(format!("the tree of size {} does not extend the tree of size {}: {e}", new.size, old.size)))
        }
    })
}
