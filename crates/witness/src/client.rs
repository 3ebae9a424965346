//! The log's side of C2SP tlog-witness: [`WitnessClient`] submits a checkpoint
//! with its consistency proof to one witness and returns the witness's
//! cosignature lines, checked against the witness's key before they are
//! returned, or the size the witness last cosigned when it answers 409.

use std::time::Duration;

use govledger_tlog::keys::WitnessVerifier;
use govledger_tlog::witness_wire::{AddCheckpoint, SIZE_CONTENT_TYPE};
use signed_note::{Note, Signature, VerificationError, Verifier, Verifiers};

/// How long one request may take by default, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a witness answered to a well-formed submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// The witness's cosignature lines (each `— name base64…\n`), verified with its key
    /// over the submitted checkpoint; lines of other keys are dropped.
    Cosigned(String),
    /// 409: the witness last cosigned a checkpoint of this size; submit again with a
    /// proof from it.
    Conflict { size: u64 },
}

/// Why a submission did not give a cosignature or a conflict.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The witness could not be reached or did not answer in time: retry later.
    #[error("cannot reach the witness at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The witness refused the checkpoint (400, 403, 404, 422, …): the text says why.
    /// A 422 may mean the log forked: look before retrying.
    #[error("the witness at {url} refused the checkpoint with status {status}: {message}")]
    Refused { url: String, status: u16, message: String },
    /// The witness answered something the protocol does not allow, or a cosignature
    /// that does not verify with its configured key: check the witness's URL and key.
    #[error("the witness at {url} answered badly: {reason}")]
    BadAnswer { url: String, reason: String },
}

/// A client of one witness, identified by its submission URL prefix and its key.
#[derive(Debug, Clone)]
pub struct WitnessClient {
    url: String,
    verifier: WitnessVerifier,
    http: reqwest::Client,
    timeout: Duration,
}

impl WitnessClient {
    /// A client of the witness whose submission prefix is `url` (e.g.
    /// `http://127.0.0.1:8090`; `/add-checkpoint` is appended) and whose key is `verifier`.
    pub fn new(url: &str, verifier: WitnessVerifier) -> Self {
        let http = reqwest::Client::builder().timeout(DEFAULT_TIMEOUT).build().unwrap_or_default();
        WitnessClient { url: url.trim_end_matches('/').to_owned(), verifier, http, timeout: DEFAULT_TIMEOUT }
    }

    /// The same client with another time limit per request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The witness's submission prefix.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The witness's key.
    pub fn verifier(&self) -> &WitnessVerifier {
        &self.verifier
    }

    /// Submits `req` to the witness's `add-checkpoint`.
    pub async fn add_checkpoint(&self, req: &AddCheckpoint) -> Result<SubmitOutcome, SubmitError> {
        let endpoint = format!("{}/add-checkpoint", self.url);
        let unreachable = |e: reqwest::Error| SubmitError::Unreachable { url: endpoint.clone(), reason: e.to_string() };
        let response =
            self.http.post(&endpoint).timeout(self.timeout).body(req.to_bytes()).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.text().await.map_err(unreachable)?;
        let bad = |reason: String| SubmitError::BadAnswer { url: endpoint.clone(), reason };
        match status {
            200 => self.check_cosignatures(&req.checkpoint, &body).map(SubmitOutcome::Cosigned).map_err(bad),
            409 => {
                if !content_type.starts_with(SIZE_CONTENT_TYPE) {
                    return Err(bad(format!(
                        "a 409 answer with content type {content_type:?}, not {SIZE_CONTENT_TYPE}"
                    )));
                }
                let size = body.strip_suffix('\n').and_then(|digits| digits.parse::<u64>().ok()).ok_or_else(|| {
                    bad(format!("a 409 answer whose body {:?} is not a size and a newline", shorten(&body)))
                })?;
                Ok(SubmitOutcome::Conflict { size })
            }
            _ => Err(SubmitError::Refused { url: endpoint.clone(), status, message: shorten(body.trim_end()) }),
        }
    }

    /// The lines of `answer` by this witness's key, each verified over `checkpoint`'s
    /// body; an error if there is none, or one of them does not verify.
    fn check_cosignatures(&self, checkpoint: &[u8], answer: &str) -> Result<String, String> {
        let note = Note::from_bytes(checkpoint).map_err(|e| format!("the submitted checkpoint does not parse: {e}"))?;
        let mut lines = String::new();
        for (number, line) in answer.split_inclusive('\n').enumerate() {
            if !line.ends_with('\n') || !line.starts_with("— ") {
                return Err(format!("line {} of the answer is not a signature line \"— name base64\\n\"", number + 1));
            }
            let signature = Signature::from_bytes(line.trim_end_matches('\n').as_bytes())
                .map_err(|e| format!("line {} of the answer is not a signature line: {e}", number + 1))?;
            // Lines of keys we do not know are ignored, as the protocol says.
            if signature.name() == self.verifier.name() && signature.id() == self.verifier.key_id() {
                let timestamp = signature.signature().get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok());
                if timestamp.is_none_or(|t| u64::from_be_bytes(t) == 0) {
                    return Err(
                        "the cosignature has no timestamp; cosignatures must carry the time they were made".into()
                    );
                }
                // One line at a time: `Note::verify` checks only the first line of each key.
                Note::new(note.text(), &[signature])
                    .and_then(|cosigned| cosigned.verify(&OnlyKey(&self.verifier)))
                    .map_err(|e| {
                        format!("its cosignature does not verify with the key {}: {e}", self.verifier.text())
                    })?;
                lines.push_str(line);
            }
        }
        if lines.is_empty() {
            return Err(format!("no cosignature by the key {} in the answer", self.verifier.text()));
        }
        Ok(lines)
    }
}

/// `signed_note` verifiers holding exactly one witness key.
struct OnlyKey<'a>(&'a WitnessVerifier);

impl Verifiers for OnlyKey<'_> {
    fn verifier(&self, name: &str, id: u32) -> Result<&dyn Verifier, VerificationError> {
        if name == self.0.name() && id == self.0.key_id() {
            Ok(self.0)
        } else {
            Err(VerificationError::UnknownKey { name: name.to_owned(), id })
        }
    }
}

/// At most 200 characters of an answer quoted in an error.
fn shorten(s: &str) -> String {
    s.chars().take(200).collect()
}
