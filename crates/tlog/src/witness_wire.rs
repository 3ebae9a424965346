//! The body of a C2SP tlog-witness `add-checkpoint` request: `old <size>`,
//! up to 63 base64 consistency-proof lines, a blank line, then the signed
//! checkpoint. Also the content type of a 409 answer's size body.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tlog_tiles::Hash;

/// Content type of the body of a 409 answer: the witness's latest size in decimal and a newline.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The most consistency-proof lines a request may carry (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// An `add-checkpoint` request: the size the client believes the witness last
/// cosigned, the consistency proof from it, and the new checkpoint note.
#[derive(Debug, Clone, PartialEq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    pub checkpoint: Vec<u8>,
}

impl AddCheckpoint {
    /// The request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size).into_bytes();
        for hash in &self.proof {
            out.extend_from_slice(BASE64.encode(hash.0).as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// A request body, checked for form only: the checkpoint's signatures and
    /// the proof are for the witness to check.
    pub fn parse(body: &[u8]) -> Result<Self, WireError> {
        let (old_line, mut rest) = next_line(body).ok_or(WireError::MissingOldLine)?;
        let old_size = parse_old_line(old_line)?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = next_line(rest).ok_or(WireError::MissingBlankLine)?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(WireError::TooManyProofLines);
            }
            proof.push(parse_hash(line).ok_or(WireError::BadProofLine { line: proof.len() + 2 })?);
        }
        if rest.is_empty() {
            return Err(WireError::MissingCheckpoint);
        }
        Ok(AddCheckpoint { old_size, proof, checkpoint: rest.to_vec() })
    }
}

/// The line before the next newline and the bytes after it, or `None` if there is no newline.
fn next_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..end], &bytes[end + 1..]))
}

fn parse_old_line(line: &[u8]) -> Result<u64, WireError> {
    let digits = line.strip_prefix(b"old ").ok_or(WireError::BadOldLine)?;
    parse_decimal(digits).ok_or(WireError::BadOldLine)
}

/// ASCII decimal with no leading zeros (`0` itself allowed), fitting in a u64.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// One standard-base64 SHA-256 hash.
pub(crate) fn parse_hash(line: &[u8]) -> Option<Hash> {
    let bytes = BASE64.decode(line).ok()?;
    Some(Hash(bytes.try_into().ok()?))
}

/// Why an `add-checkpoint` body is malformed (answer 400 Bad Request).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("the request body is empty or has no newline: it must start with a line \"old <size>\"")]
    MissingOldLine,
    #[error("the first line must be \"old \" and the old tree size in decimal without leading zeros")]
    BadOldLine,
    #[error("the request has more than {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
    #[error("line {line} is not a base64 SHA-256 hash (a consistency proof line)")]
    BadProofLine { line: usize },
    #[error("the proof lines are not followed by a blank line and the checkpoint")]
    MissingBlankLine,
    #[error("there is no checkpoint after the blank line")]
    MissingCheckpoint,
}
