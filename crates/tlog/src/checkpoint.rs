//! Signed checkpoints (SPEC 6.2): the C2SP tlog-checkpoint body signed as a
//! C2SP signed note by the log's key, and cosigned by witnesses
//! (tlog-cosignature). Parsing, signing and checking of notes are
//! `signed_note`'s; the body is `tlog_tiles::Checkpoint`'s.

use std::collections::BTreeSet;

use signed_note::{Note, NoteError, Signature, VerificationError, Verifier, VerifierList};
use tlog_tiles::Hash;

use crate::cosignature;
use crate::keys::{LogSigner, LogVerifier, WitnessSigner, WitnessVerifier};

/// A checkpoint's body: which log, how many leaves, and the tree's root.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

// `tlog_tiles::Hash` is only `PartialEq`, but its equality is that of a byte
// array, which is an equivalence.
impl Eq for Checkpoint {}

impl Checkpoint {
    /// The checkpoint text `origin\nsize\nbase64(root)\n`, with no extension lines.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, self.root)
    }
}

/// The signed note text of a new checkpoint (body, blank line, one log signature line).
pub fn sign(signer: &LogSigner, size: u64, root: &Hash) -> Result<String, CheckpointError> {
    let body = tlog_tiles::Checkpoint::new(signer.origin(), size, *root, "")
        .map_err(|_| CheckpointError::BadOrigin { origin: signer.origin().to_owned() })?
        .to_bytes();
    let mut note =
        Note::new(&body, &[]).map_err(|_| CheckpointError::BadOrigin { origin: signer.origin().to_owned() })?;
    note.add_sigs(&[&signer.signer]).map_err(|e| CheckpointError::SigningFailed { reason: e.to_string() })?;
    note_text(note)
}

/// A witness whose cosignature was found valid, and the time it says it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    pub name: String,
    pub timestamp: u64,
}

/// A checkpoint whose log signature was checked, with the witnesses that cosigned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub checkpoint: Checkpoint,
    pub cosigned_by: Vec<Cosigned>,
}

/// Verifies the log's signature (required) and the cosignatures of the given witnesses
/// (listed when valid; a known witness's bad cosignature is an error; unknown lines ignored).
/// Extension lines after the root are allowed and not interpreted.
pub fn open(note: &[u8], log: &LogVerifier, witnesses: &[WitnessVerifier]) -> Result<Opened, CheckpointError> {
    let parsed = Note::from_bytes(note).map_err(|_| CheckpointError::MalformedNote)?;
    let body = tlog_tiles::Checkpoint::from_bytes(parsed.text()).map_err(|_| CheckpointError::MalformedBody)?;
    if body.origin() != log.origin() {
        return Err(CheckpointError::WrongOrigin {
            found: body.origin().to_owned(),
            expected: log.origin().to_owned(),
        });
    }

    let log_id = (log.origin().to_owned(), log.key_id());
    let mut seen = BTreeSet::from([log_id.clone()]);
    let mut known: Vec<Box<dyn Verifier>> = vec![Box::new(log.verifier.clone())];
    for witness in witnesses {
        // The same key listed twice would make signed_note call it ambiguous.
        if seen.insert((witness.name().to_owned(), witness.key_id())) {
            known.push(Box::new(witness.clone()));
        }
    }
    let (verified, _unknown) = match parsed.verify(&VerifierList::new(known)) {
        Ok(found) => found,
        Err(NoteError::InvalidSignature { name, id }) if (name.clone(), id) == log_id => {
            return Err(CheckpointError::BadLogSignature { key: log.text().to_owned() });
        }
        Err(NoteError::InvalidSignature { name, .. }) => return Err(CheckpointError::BadCosignature { name }),
        Err(NoteError::UnverifiedNote) => return Err(CheckpointError::NotSignedByLog { key: log.text().to_owned() }),
        Err(NoteError::VerificationError(VerificationError::AmbiguousKey { name, id })) => {
            return Err(CheckpointError::AmbiguousKey { name, id });
        }
        Err(_) => return Err(CheckpointError::MalformedNote),
    };

    let mut signed_by_log = false;
    let mut cosigned_by = Vec::new();
    for sig in &verified {
        if (sig.name().to_owned(), sig.id()) == log_id {
            signed_by_log = true;
        } else if let Some((timestamp, _)) = cosignature::split_signature(sig.signature()) {
            cosigned_by.push(Cosigned { name: sig.name().to_owned(), timestamp });
        }
    }
    if !signed_by_log {
        return Err(CheckpointError::NotSignedByLog { key: log.text().to_owned() });
    }
    Ok(Opened {
        checkpoint: Checkpoint { origin: body.origin().to_owned(), size: body.size(), root: *body.hash() },
        cosigned_by,
    })
}

/// The checkpoint a note claims, its signatures NOT checked: for choosing the key
/// to check it with (by origin) or for reporting; never trust it as is, use `open`.
pub fn read_unverified(note: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let parsed = Note::from_bytes(note).map_err(|_| CheckpointError::MalformedNote)?;
    let body = tlog_tiles::Checkpoint::from_bytes(parsed.text()).map_err(|_| CheckpointError::MalformedBody)?;
    Ok(Checkpoint { origin: body.origin().to_owned(), size: body.size(), root: *body.hash() })
}

/// A witness's cosignature line ("— name base64(keyid||timestamp||sig)\n") over the note's body.
/// `note` may be the body alone or a signed note; its signatures are not checked here.
pub fn cosign(witness: &WitnessSigner, note: &[u8], timestamp: u64) -> Result<String, CheckpointError> {
    // A text with a blank line is a signed note: its body is what is cosigned. Without one,
    // the text is the body itself.
    let body = if note.windows(2).any(|w| w == b"\n\n") {
        Note::from_bytes(note).map_err(|_| CheckpointError::MalformedNote)?.text().to_vec()
    } else {
        Note::new(note, &[]).map_err(|_| CheckpointError::MalformedNote)?.text().to_vec()
    };
    if timestamp > cosignature::MAX_TIMESTAMP {
        return Err(CheckpointError::TimestampTooLarge { timestamp });
    }
    let signer = witness.at(timestamp);
    let sig = signed_note::Signer::sign(&signer, &body)
        .map_err(|e| CheckpointError::SigningFailed { reason: e.to_string() })?;
    let line = Signature::new(witness.name().to_owned(), signed_note::Signer::key_id(&signer), sig)
        .map_err(|e| CheckpointError::SigningFailed { reason: e.to_string() })?
        .to_bytes();
    String::from_utf8(line).map_err(|_| CheckpointError::MalformedNote)
}

/// The note with these signature lines added (duplicates of lines already there dropped).
pub fn with_signature_lines(note: &str, lines: &str) -> Result<String, CheckpointError> {
    let parsed = Note::from_bytes(note.as_bytes()).map_err(|_| CheckpointError::MalformedNote)?;
    let mut signatures = existing_signatures(note)?;
    for (number, line) in lines.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let signature = Signature::from_bytes(line.as_bytes())
            .map_err(|_| CheckpointError::MalformedSignatureLine { line: number + 1 })?;
        if !signatures.contains(&signature) {
            signatures.push(signature);
        }
    }
    note_text(Note::new(parsed.text(), &signatures).map_err(|_| CheckpointError::MalformedNote)?)
}

/// The signature lines of a well-formed note, in order (`signed_note::Note` keeps them private).
fn existing_signatures(note: &str) -> Result<Vec<Signature>, CheckpointError> {
    let (_, block) = note.rsplit_once("\n\n").ok_or(CheckpointError::MalformedNote)?;
    block
        .lines()
        .map(|line| Signature::from_bytes(line.as_bytes()).map_err(|_| CheckpointError::MalformedNote))
        .collect()
}

fn note_text(note: Note) -> Result<String, CheckpointError> {
    String::from_utf8(note.to_bytes()).map_err(|_| CheckpointError::MalformedNote)
}

/// Why a checkpoint could not be made or was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    #[error(
        "the checkpoint is not a well-formed signed note (text lines, a blank line, then lines \
         \"— name base64\"): it was truncated or altered"
    )]
    MalformedNote,
    #[error("the checkpoint's text is not an origin line, a decimal tree size and a base64 root hash")]
    MalformedBody,
    #[error("{origin:?} cannot be a checkpoint origin: it must be a non-empty single line")]
    BadOrigin { origin: String },
    #[error("the checkpoint is for the log {found:?}, but the key given is for {expected:?}: use that log's key")]
    WrongOrigin { found: String, expected: String },
    #[error("the checkpoint is not signed by the log key {key}: it was not issued by this log")]
    NotSignedByLog { key: String },
    #[error("the checkpoint's signature by the log key {key} does not verify: the checkpoint was altered")]
    BadLogSignature { key: String },
    #[error("the cosignature of witness {name} does not verify: the checkpoint or its cosignature was altered")]
    BadCosignature { name: String },
    #[error("two of the given keys are both named {name} with key ID {id:08x}: give each key once")]
    AmbiguousKey { name: String, id: u32 },
    #[error("signature line {line} is not \"— name base64(key ID ‖ signature)\"")]
    MalformedSignatureLine { line: usize },
    #[error("the cosignature timestamp {timestamp} is above 2^63 - 1: use POSIX seconds")]
    TimestampTooLarge { timestamp: u64 },
    #[error("signing failed: {reason}")]
    SigningFailed { reason: String },
}
