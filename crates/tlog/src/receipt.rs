//! Receipts (SPEC 6.3): the C2SP `tlog-proof@v1` text of one event, whose
//! `extra` line is the event's canonical body, whose index is `seq − 1`, and
//! whose checkpoint is a signed, cosigned checkpoint covering it; and their
//! offline check against the log's key and a quorum of witness keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use tlog_tiles::Hash;

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::keys::{LogVerifier, WitnessVerifier};
use crate::merkle::{self, ProofError};
use crate::witness_wire::{parse_decimal, parse_hash};

/// The first line of a receipt.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// No inclusion proof in a tree of at most 2^64 leaves has more hashes.
const MAX_PATH_LINES: usize = 64;

/// One event's receipt: its canonical body, its leaf index, the inclusion
/// path (lowest level first) and the checkpoint note with its cosignatures.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub body: Vec<u8>,
    pub index: u64,
    pub path: Vec<Hash>,
    pub checkpoint: String,
}

/// What a valid receipt proves: the event `event_id` with chain hash
/// `event_hash` is at `seq` of the log in `checkpoint`, witnessed by these witnesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub seq: u64,
    pub event_id: String,
    pub event_hash: String,
    pub checkpoint: Checkpoint,
    pub witnessed_by: Vec<String>,
}

impl Receipt {
    /// The `tlog-proof@v1` text (file extension `.tlog-proof`).
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if !self.body.is_empty() {
            out.push_str(&format!("extra {}\n", BASE64.encode(&self.body)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.path {
            out.push_str(&format!("{hash}\n"));
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// A receipt from its text, checked for form only (`verify` checks what it says).
    pub fn parse(text: &[u8]) -> Result<Receipt, ReceiptError> {
        let text = std::str::from_utf8(text).map_err(|_| ReceiptError::NotText)?;
        let (head, checkpoint) = text.split_once("\n\n").ok_or(ReceiptError::MissingCheckpoint)?;
        let mut lines = head.split('\n').enumerate().map(|(i, line)| (i + 1, line)).peekable();
        if lines.next().map(|(_, line)| line) != Some(HEADER) {
            return Err(ReceiptError::BadHeader);
        }
        let mut body = Vec::new();
        if let Some((number, extra)) = lines.next_if(|(_, line)| line.starts_with("extra")) {
            let encoded = extra.strip_prefix("extra ").ok_or(ReceiptError::BadExtra { line: number })?;
            body = BASE64.decode(encoded).map_err(|_| ReceiptError::BadExtra { line: number })?;
        }
        let (number, index_line) = lines.next().ok_or(ReceiptError::MissingIndex)?;
        let index = index_line
            .strip_prefix("index ")
            .and_then(|digits| parse_decimal(digits.as_bytes()))
            .ok_or(ReceiptError::BadIndex { line: number })?;
        let mut path = Vec::new();
        for (number, line) in lines {
            if path.len() == MAX_PATH_LINES {
                return Err(ReceiptError::TooManyPathLines);
            }
            path.push(parse_hash(line.as_bytes()).ok_or(ReceiptError::BadPathLine { line: number })?);
        }
        if signed_note::Note::from_bytes(checkpoint.as_bytes()).is_err() {
            return Err(ReceiptError::Checkpoint(CheckpointError::MalformedNote));
        }
        Ok(Receipt { body, index, path, checkpoint: checkpoint.to_owned() })
    }

    /// Log signature, cosignatures of known witnesses (at least `quorum` of them), inclusion of
    /// leaf_hash(body) at `index`, and the body's "seq" field equals index + 1.
    pub fn verify(
        &self,
        log: &LogVerifier,
        witnesses: &[WitnessVerifier],
        quorum: usize,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        let opened = checkpoint::open(self.checkpoint.as_bytes(), log, witnesses)?;
        // Quorum counts witnesses, so a witness given with two keys counts once.
        let mut witnessed_by: Vec<String> = Vec::new();
        for cosigned in opened.cosigned_by {
            if !witnessed_by.contains(&cosigned.name) {
                witnessed_by.push(cosigned.name);
            }
        }
        if witnessed_by.len() < quorum {
            return Err(ReceiptError::QuorumNotMet { found: witnessed_by.len(), needed: quorum, witnessed_by });
        }
        let tree = opened.checkpoint;
        let leaf = merkle::leaf_hash(&self.body);
        merkle::verify_inclusion(&leaf, self.index, tree.size, &self.path, &tree.root).map_err(|e| match e {
            ProofError::InclusionMismatch { index, size } => ReceiptError::NotIncluded { index, size },
            other => ReceiptError::Proof(other),
        })?;
        let (seq, event_id) = event_fields(&self.body)?;
        if self.index.checked_add(1) != Some(seq) {
            return Err(ReceiptError::SeqMismatch { seq, index: self.index });
        }
        Ok(VerifiedReceipt {
            seq,
            event_id,
            event_hash: hex::encode(Sha256::digest(&self.body)),
            checkpoint: tree,
            witnessed_by,
        })
    }
}

/// The `seq` and `id` of a stored event's canonical body.
fn event_fields(body: &[u8]) -> Result<(u64, String), ReceiptError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ReceiptError::BodyNotJson { reason: e.to_string() })?;
    let seq =
        value.get("seq").and_then(serde_json::Value::as_u64).ok_or(ReceiptError::MissingField { field: "seq" })?;
    let id = value.get("id").and_then(serde_json::Value::as_str).ok_or(ReceiptError::MissingField { field: "id" })?;
    Ok((seq, id.to_owned()))
}

/// Why a receipt is malformed or does not prove what it says.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("the receipt is not UTF-8 text: it is not a tlog-proof file, or it was damaged")]
    NotText,
    #[error("the receipt does not start with the line {HEADER:?}: it is not a tlog-proof file")]
    BadHeader,
    #[error("line {line} is not \"extra \" followed by standard base64: the event body was damaged")]
    BadExtra { line: usize },
    #[error("the receipt has no \"index <n>\" line after its header")]
    MissingIndex,
    #[error("line {line} must be \"index \" and the leaf index in decimal without leading zeros")]
    BadIndex { line: usize },
    #[error("line {line} is not a base64 SHA-256 hash (an inclusion proof line)")]
    BadPathLine { line: usize },
    #[error("the receipt has more than {MAX_PATH_LINES} inclusion proof lines: it is not a proof")]
    TooManyPathLines,
    #[error("the receipt has no blank line followed by a checkpoint: it was truncated")]
    MissingCheckpoint,
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    #[error(
        "the receipt's checkpoint has {found} valid cosignatures from the given witnesses {witnessed_by:?}, \
         and {needed} are needed: ask the log for a newer receipt, once more witnesses have cosigned"
    )]
    QuorumNotMet { found: usize, needed: usize, witnessed_by: Vec<String> },
    #[error(
        "the inclusion proof does not lead to the checkpoint's root: the event is not at index {index} \
         of that tree of {size} leaves as shown, or its body or the proof was altered"
    )]
    NotIncluded { index: u64, size: u64 },
    #[error("{0}")]
    Proof(ProofError),
    #[error("the receipt's event body is not JSON ({reason}): it is not a stored event")]
    BodyNotJson { reason: String },
    #[error("the receipt's event body has no {field:?} field: it is not a stored event")]
    MissingField { field: &'static str },
    #[error("the event in the receipt has seq {seq}, but it is at leaf index {index}, which holds seq {index} + 1")]
    SeqMismatch { seq: u64, index: u64 },
}
