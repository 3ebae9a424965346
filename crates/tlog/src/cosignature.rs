//! The C2SP tlog-cosignature `cosignature/v1` algorithm (Ed25519), as
//! `signed_note` `Signer` and `Verifier` implementations, so cosignature lines
//! are made and checked by `signed_note::Note` like any other signature.
//!
//! Key ID = `SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4]`. A signature is
//! `u64 timestamp (big-endian) ‖ Ed25519 signature` over
//! `"cosignature/v1\ntime <timestamp>\n" ‖ note body`.

use ed25519_dalek::{Signature, SignatureError, Signer as _, Verifier as _};

use crate::keys::{WitnessSigner, WitnessVerifier};

/// The tlog-cosignature signature type of Ed25519 `cosignature/v1` keys.
pub const KEY_TYPE: u8 = 0x04;
/// The largest timestamp a cosignature may carry (2^63 − 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;
/// Length of a `cosignature/v1` signature: 8-byte timestamp and 64-byte Ed25519 signature.
pub const SIGNATURE_LEN: usize = 8 + 64;

/// The bytes a witness signs for a note body at `timestamp`:
/// `"cosignature/v1\ntime <timestamp>\n" ‖ body`.
pub fn message(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let header = format!("cosignature/v1\ntime {timestamp}\n");
    let mut out = Vec::with_capacity(header.len() + body.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

/// The timestamp and Ed25519 signature of a `cosignature/v1` signature (the
/// bytes after the key ID), or `None` if it is not 72 bytes.
pub fn split_signature(sig: &[u8]) -> Option<(u64, Signature)> {
    let (timestamp, ed25519) = sig.split_at_checked(8)?;
    let timestamp = u64::from_be_bytes(timestamp.try_into().ok()?);
    let ed25519 = Signature::from_slice(ed25519).ok()?;
    Some((timestamp, ed25519))
}

/// A witness key fixed to one timestamp: a `signed_note::Signer` of cosignatures.
/// Made by `WitnessSigner::at`.
pub struct TimestampedSigner<'a> {
    pub(crate) witness: &'a WitnessSigner,
    pub(crate) timestamp: u64,
}

impl signed_note::Signer for TimestampedSigner<'_> {
    fn name(&self) -> &str {
        self.witness.name()
    }

    fn key_id(&self) -> u32 {
        self.witness.key_id
    }

    /// Refuses a timestamp above 2^63 − 1, which the format forbids.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignatureError> {
        if self.timestamp > MAX_TIMESTAMP {
            return Err(SignatureError::new());
        }
        let signature = self.witness.key.try_sign(&message(self.timestamp, msg))?;
        let mut out = Vec::with_capacity(SIGNATURE_LEN);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&signature.to_bytes());
        Ok(out)
    }
}

impl signed_note::Verifier for WitnessVerifier {
    fn name(&self) -> &str {
        WitnessVerifier::name(self)
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match split_signature(sig) {
            Some((timestamp, signature)) if timestamp <= MAX_TIMESTAMP => {
                self.key.verify(&message(timestamp, msg), &signature).is_ok()
            }
            _ => false,
        }
    }
}
