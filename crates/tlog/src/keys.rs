//! The keys of SPEC 6.2 and 6.4, as text: the log's Ed25519 note key
//! (signed-note signature type 0x01, named after the log's origin) and a
//! witness's Ed25519 cosigning key (tlog-cosignature `cosignature/v1`,
//! type 0x04, named after the witness).
//!
//! Verifier keys are `NAME+HEX8(key ID)+BASE64(type ‖ public key)`, with key
//! ID = `SHA-256(NAME ‖ "\n" ‖ type ‖ public key)[:4]`. Private keys mirror
//! `signed_note`'s `PRIVATE+KEY+NAME+HEX8+BASE64(type ‖ seed)` for both types.
//! The log key's text, signing and checking are `signed_note`'s own; the
//! witness key's are written here (see `cosignature`), as no crate has them.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::OsRng;
use signed_note::{StandardSigner, StandardVerifier};

use crate::cosignature;

/// Signed-note signature type of an Ed25519 note key.
pub const LOG_KEY_TYPE: u8 = 0x01;
/// tlog-cosignature signature type of an Ed25519 `cosignature/v1` key.
pub const WITNESS_KEY_TYPE: u8 = cosignature::KEY_TYPE;

/// The log's Ed25519 note key (signed-note algorithm 0x01). Key name = the log's origin.
#[derive(Clone)]
pub struct LogSigner {
    pub(crate) signer: StandardSigner,
    origin: String,
    verifier_key: String,
}

impl LogSigner {
    /// A new random key (from the operating system's generator) named `origin`,
    /// and its private key text, to be kept secret.
    pub fn generate(origin: &str) -> Result<(LogSigner, String), KeyError> {
        check_name(origin)?;
        let (private, _) = signed_note::generate_key(&mut OsRng, origin);
        let signer = LogSigner::from_private(&private)?;
        Ok((signer, private))
    }

    /// The key from its private key text (`PRIVATE+KEY+origin+HEX8+BASE64(0x01 ‖ seed)`);
    /// trailing whitespace (a file's final newline) is ignored.
    pub fn from_private(text: &str) -> Result<LogSigner, KeyError> {
        let text = text.trim_end();
        let parsed = parse_private(text, LOG_KEY_TYPE, "log")?;
        let signer = StandardSigner::new(text)
            .map_err(|e| KeyError::MalformedPrivateKey { reason: format!("signed_note refused it ({e})") })?;
        let verifier_key = signed_note::new_ed25519_verifier_key(&parsed.name, &parsed.key.verifying_key());
        Ok(LogSigner { signer, origin: parsed.name, verifier_key })
    }

    /// The log's origin, which is the key's name.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key text `origin+HEX8+BASE64(0x01 ‖ public key)`, to publish.
    pub fn verifier_key(&self) -> String {
        self.verifier_key.clone()
    }

    /// The key ID, as in the key text and in signature lines.
    pub fn key_id(&self) -> u32 {
        signed_note::Signer::key_id(&self.signer)
    }
}

impl fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSigner").field("verifier_key", &self.verifier_key).finish_non_exhaustive()
    }
}

/// The public half of the log's key, from its verifier key text.
#[derive(Clone)]
pub struct LogVerifier {
    pub(crate) verifier: StandardVerifier,
    origin: String,
    text: String,
}

impl LogVerifier {
    /// The verifier from its text `origin+HEX8+BASE64(0x01 ‖ public key)` (surrounding whitespace ignored).
    pub fn new(vkey: &str) -> Result<Self, KeyError> {
        let text = vkey.trim();
        let parsed = parse_verifier(text, LOG_KEY_TYPE, "log")?;
        let verifier = StandardVerifier::new(text)
            .map_err(|e| KeyError::MalformedVerifierKey { key: shorten(text), reason: e.to_string() })?;
        Ok(LogVerifier { verifier, origin: parsed.name, text: text.to_owned() })
    }

    /// The log's origin, which is the key's name.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The key ID, as in the key text and in signature lines.
    pub fn key_id(&self) -> u32 {
        signed_note::Verifier::key_id(&self.verifier)
    }
}

impl fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LogVerifier").field(&self.text).finish()
    }
}

/// A witness's Ed25519 cosigning key (C2SP tlog-cosignature, cosignature/v1, algorithm 0x04).
#[derive(Clone)]
pub struct WitnessSigner {
    pub(crate) key: SigningKey,
    pub(crate) key_id: u32,
    name: String,
    verifier_key: String,
}

impl WitnessSigner {
    /// A new random key (from the operating system's generator) named `name`,
    /// and its private key text, to be kept secret.
    pub fn generate(name: &str) -> Result<(WitnessSigner, String), KeyError> {
        check_name(name)?;
        let key = SigningKey::generate(&mut OsRng);
        let public = typed(WITNESS_KEY_TYPE, key.verifying_key().as_bytes());
        let private = format!(
            "PRIVATE+KEY+{name}+{:08x}+{}",
            signed_note::key_id(name, &public),
            BASE64.encode(typed(WITNESS_KEY_TYPE, key.as_bytes()))
        );
        let signer = WitnessSigner::from_private(&private)?;
        Ok((signer, private))
    }

    /// The key from its private key text (`PRIVATE+KEY+name+HEX8+BASE64(0x04 ‖ seed)`);
    /// trailing whitespace (a file's final newline) is ignored.
    pub fn from_private(text: &str) -> Result<WitnessSigner, KeyError> {
        let parsed = parse_private(text.trim_end(), WITNESS_KEY_TYPE, "witness")?;
        let verifying = parsed.key.verifying_key();
        let verifier_key = verifier_text(&parsed.name, WITNESS_KEY_TYPE, &verifying);
        Ok(WitnessSigner { key: parsed.key, key_id: parsed.key_id, name: parsed.name, verifier_key })
    }

    /// The witness's name, which is the key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key text `name+HEX8+BASE64(0x04 ‖ public key)`, to give to logs and verifiers.
    pub fn verifier_key(&self) -> String {
        self.verifier_key.clone()
    }

    /// The key ID, as in the key text and in cosignature lines.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// This key as a `signed_note` signer of cosignatures made at `timestamp`
    /// (POSIX seconds, at most 2^63 − 1).
    pub fn at(&self, timestamp: u64) -> cosignature::TimestampedSigner<'_> {
        cosignature::TimestampedSigner { witness: self, timestamp }
    }
}

impl fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WitnessSigner").field("verifier_key", &self.verifier_key).finish_non_exhaustive()
    }
}

/// The public half of a witness's key, from its verifier key text; a
/// `signed_note::Verifier` of `cosignature/v1` signatures.
#[derive(Clone)]
pub struct WitnessVerifier {
    pub(crate) key: VerifyingKey,
    pub(crate) key_id: u32,
    name: String,
    text: String,
}

impl WitnessVerifier {
    /// The verifier from its text `name+HEX8+BASE64(0x04 ‖ public key)` (surrounding whitespace ignored).
    pub fn new(vkey: &str) -> Result<Self, KeyError> {
        let text = vkey.trim();
        let parsed = parse_verifier(text, WITNESS_KEY_TYPE, "witness")?;
        Ok(WitnessVerifier { key: parsed.key, key_id: parsed.key_id, name: parsed.name, text: text.to_owned() })
    }

    /// The witness's name, which is the key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The key ID, as in the key text and in cosignature lines.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
}

impl fmt::Debug for WitnessVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WitnessVerifier").field(&self.text).finish()
    }
}

/// Why a key text was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("{name:?} cannot name a key: a key name must be non-empty and contain no spaces and no '+'")]
    BadName { name: String },
    #[error(
        "the private key text is malformed ({reason}): expected PRIVATE+KEY+NAME+HEX8+BASE64, \
         as written when the key was generated"
    )]
    MalformedPrivateKey { reason: String },
    #[error(
        "the verifier key {key:?} is malformed ({reason}): expected NAME+HEX8+BASE64, as the key's owner published it"
    )]
    MalformedVerifierKey { key: String, reason: String },
    #[error(
        "the key is of signature type 0x{found:02x}, but a {role} key must be of type 0x{expected:02x}: \
         check that the log's and the witnesses' keys are not swapped"
    )]
    WrongKeyType { role: &'static str, expected: u8, found: u8 },
    #[error(
        "the key ID {written:08x} in the key text does not match its name and public key \
         (computed {computed:08x}): the text was altered or truncated"
    )]
    KeyIdMismatch { written: u32, computed: u32 },
}

/// `type ‖ bytes`.
fn typed(key_type: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + bytes.len());
    out.push(key_type);
    out.extend_from_slice(bytes);
    out
}

/// `name+HEX8+BASE64(type ‖ public key)`.
pub(crate) fn verifier_text(name: &str, key_type: u8, key: &VerifyingKey) -> String {
    let public = typed(key_type, key.as_bytes());
    format!("{name}+{:08x}+{}", signed_note::key_id(name, &public), BASE64.encode(&public))
}

fn check_name(name: &str) -> Result<(), KeyError> {
    if signed_note::is_key_name_valid(name) { Ok(()) } else { Err(KeyError::BadName { name: shorten(name) }) }
}

fn shorten(s: &str) -> String {
    s.chars().take(120).collect()
}

struct ParsedPrivate {
    name: String,
    key_id: u32,
    key: SigningKey,
}

/// `PRIVATE+KEY+name+HEX8+BASE64(type ‖ 32-byte seed)`, its type checked and its ID recomputed.
fn parse_private(text: &str, key_type: u8, role: &'static str) -> Result<ParsedPrivate, KeyError> {
    let malformed = |reason: &str| KeyError::MalformedPrivateKey { reason: reason.to_owned() };
    let rest = text.strip_prefix("PRIVATE+KEY+").ok_or_else(|| malformed("it does not start with PRIVATE+KEY+"))?;
    let (name, id_hex, key_b64) =
        split3(rest).ok_or_else(|| malformed("it does not have the three parts after PRIVATE+KEY+"))?;
    check_name(name)?;
    let written = parse_key_id(id_hex).ok_or_else(|| malformed("the key ID is not 8 hex digits"))?;
    let bytes = BASE64.decode(key_b64).map_err(|_| malformed("the key is not standard base64"))?;
    let (&found, seed) = bytes.split_first().ok_or_else(|| malformed("the key is empty"))?;
    if found != key_type {
        return Err(KeyError::WrongKeyType { role, expected: key_type, found });
    }
    let seed: [u8; 32] = seed.try_into().map_err(|_| malformed("an Ed25519 private key is 32 bytes"))?;
    let key = SigningKey::from_bytes(&seed);
    let computed = signed_note::key_id(name, &typed(key_type, key.verifying_key().as_bytes()));
    if computed != written {
        return Err(KeyError::KeyIdMismatch { written, computed });
    }
    Ok(ParsedPrivate { name: name.to_owned(), key_id: written, key })
}

struct ParsedVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

/// `name+HEX8+BASE64(type ‖ 32-byte public key)`, its type checked and its ID recomputed.
fn parse_verifier(text: &str, key_type: u8, role: &'static str) -> Result<ParsedVerifier, KeyError> {
    let malformed = |reason: &str| KeyError::MalformedVerifierKey { key: shorten(text), reason: reason.to_owned() };
    let (name, id_hex, key_b64) =
        split3(text).ok_or_else(|| malformed("it does not have three parts joined by '+'"))?;
    check_name(name)?;
    let written = parse_key_id(id_hex).ok_or_else(|| malformed("the key ID is not 8 hex digits"))?;
    let bytes = BASE64.decode(key_b64).map_err(|_| malformed("the key is not standard base64"))?;
    let (&found, public) = bytes.split_first().ok_or_else(|| malformed("the key is empty"))?;
    if found != key_type {
        return Err(KeyError::WrongKeyType { role, expected: key_type, found });
    }
    let public: [u8; 32] = public.try_into().map_err(|_| malformed("an Ed25519 public key is 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| malformed("it is not an Ed25519 public key"))?;
    let computed = signed_note::key_id(name, &bytes);
    if computed != written {
        return Err(KeyError::KeyIdMismatch { written, computed });
    }
    Ok(ParsedVerifier { name: name.to_owned(), key_id: written, key })
}

/// `a+b+c` (base64 may itself contain '+', so the third part is the rest).
fn split3(text: &str) -> Option<(&str, &str, &str)> {
    let (name, rest) = text.split_once('+')?;
    let (id, key) = rest.split_once('+')?;
    Some((name, id, key))
}

fn parse_key_id(hex8: &str) -> Option<u32> {
    if hex8.len() != 8 || !hex8.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex8, 16).ok()
}
