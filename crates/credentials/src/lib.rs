//! Credentials (SPEC 4): bearer tokens, each bound to one agency and one
//! role, kept where the ledger is so that every server replica sees the
//! same tokens, and the passwords of connection strings, never printed.
//!
//! - [`TokenBackend`] is what a store keeps for tokens: records by id and
//!   by the SHA-256 of the token, revocations, last uses. One backend per
//!   store: the `tokens.sqlite` file of the embedded store ([`SqliteTokens`]),
//!   a `tokens` table in the PostgreSQL schema (`govledger-store-postgres`),
//!   a `<stream>-tokens` stream on KurrentDB (`govledger-store-kurrentdb`).
//!   Every backend passes the same cases (`conformance`, feature
//!   `conformance`).
//! - [`Tokens`] is the one front every command and server uses: it makes
//!   and hashes secrets, and remembers live tokens for at most
//!   [`REMEMBER_FOR`], so that a revocation through any replica is refused
//!   by every replica within [`REVOCATION_BOUND`].
//! - [`redact_url`] and [`Secrets`] keep passwords of `--store` URLs out of
//!   messages and log lines.
//!
//! Only the SHA-256 of a token is stored; the token itself is shown once,
//! when it is issued. A token is `glt_` followed by 64 hex digits of
//! operating-system randomness, so looking its hash up in an index leaks
//! nothing a timing attack could use.

#[cfg(feature = "conformance")]
pub mod conformance;
mod redact;
mod sqlite;
mod tokens;

use std::fmt;

use govledger_domain::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::redact::{Secrets, redact_url};
pub use crate::sqlite::{SqliteTokens, TOKENS_FILE};
pub use crate::tokens::{IssuedToken, LAST_USE_EVERY, REMEMBER_FOR, REVOCATION_BOUND, Tokens};

/// Every token starts with this, so that one found in a log or a paste is recognisable.
pub const TOKEN_PREFIX: &str = "glt_";

/// What a token is allowed to do (SPEC 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRole {
    /// Acts only as its own agency.
    Agency,
    /// Acts as its agency with the ledger's `coordinator` role.
    Coordinator,
    /// Acts as its agency with the ledger's `evaluator` role.
    Evaluator,
    /// Reads everything, writes nothing.
    Auditor,
}

impl TokenRole {
    pub const ALL: [TokenRole; 4] =
        [TokenRole::Agency, TokenRole::Coordinator, TokenRole::Evaluator, TokenRole::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenRole::Agency => "agency",
            TokenRole::Coordinator => "coordinator",
            TokenRole::Evaluator => "evaluator",
            TokenRole::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        TokenRole::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The role of a stored record. Only govledger writes it, with
    /// [`TokenRole::as_str`]; an unknown value (a newer version's role) gets
    /// the least power.
    pub fn stored(text: &str) -> Self {
        TokenRole::parse(text).unwrap_or(TokenRole::Auditor)
    }

    /// The ledger role (`AgencyRegistered.roles`) the agency must hold for this token.
    pub fn ledger_role(self) -> Option<govledger_domain::catalog::Role> {
        use govledger_domain::catalog::Role;
        match self {
            TokenRole::Coordinator => Some(Role::Coordinator),
            TokenRole::Evaluator => Some(Role::Evaluator),
            TokenRole::Agency | TokenRole::Auditor => None,
        }
    }
}

impl fmt::Display for TokenRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure of a token backend; each variant says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The backend cannot be read or written (`store` names it, never with a
    /// password): the request fails and may be retried.
    #[error("token store {store}: {message}")]
    Store { store: String, message: String },
    /// No token has this id: see `govledger token list`.
    #[error("no token with id {0:?}")]
    UnknownId(String),
    /// A token with this id or this hash is stored already (an import run twice).
    #[error("a token with id {0:?} or the same secret is stored already")]
    Duplicate(String),
}

/// One stored credential, as listed (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub agency: String,
    pub role: TokenRole,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// What the token is for, as the operator wrote it (e.g. "ICBC branch upload job").
    pub label: Option<String>,
    /// From this instant on the token is refused with `auth.token_expired`.
    pub expires_at: Option<String>,
    /// When it last authenticated a request, to within [`LAST_USE_EVERY`].
    pub last_used_at: Option<String>,
}

impl TokenRecord {
    /// Whether the token has expired at `now`. An expiry that does not
    /// parse (written by hand) counts as passed: the least power.
    pub fn expired(&self, now: Timestamp) -> bool {
        passed(self.expires_at.as_deref(), now)
    }

    /// `active`, `expired` or `revoked` at `now`.
    pub fn status(&self, now: Timestamp) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expired(now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// Whether the expiry `expires_at` (None: never) has passed at `now`; one
/// that does not parse counts as passed.
pub(crate) fn passed(expires_at: Option<&str>, now: Timestamp) -> bool {
    expires_at.is_some_and(|at| Timestamp::parse(at).map_or(true, |at| at.micros() <= now.micros()))
}

/// A record with the SHA-256 (hex) of its token: what a backend stores,
/// and what `govledger token import` copies from one backend to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub record: TokenRecord,
    pub sha256: String,
}

/// What a new token carries besides its agency and role.
#[derive(Debug, Clone, Default)]
pub struct IssueOptions {
    pub label: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// Where a store keeps tokens. Every handle answers from the store as it is
/// now (no memory of its own beyond what reading requires): remembering is
/// [`Tokens`]'s, with one bound for every backend. Safe to share between
/// threads; several handles (replicas, the CLI) may use one store at once.
pub trait TokenBackend: Send + Sync {
    /// Where the tokens are, for messages (never with a password).
    fn describe(&self) -> String;

    /// Stores `token` as it is (a new one, or one copied from another
    /// backend, revoked or used). An id or hash already stored:
    /// [`TokenError::Duplicate`], and nothing changes.
    fn insert(&self, token: &StoredToken) -> Result<(), TokenError>;

    /// Every token ever stored, oldest first (by `created_at`, then id).
    fn all(&self) -> Result<Vec<StoredToken>, TokenError>;

    /// Marks token `id` revoked at `at`, unless it already is (the first
    /// time stays); returns the record as stored.
    fn revoke(&self, id: &str, at: &str) -> Result<TokenRecord, TokenError>;

    /// The token whose secret has this SHA-256 (hex), revoked or not.
    fn by_hash(&self, sha256: &str) -> Result<Option<TokenRecord>, TokenError>;

    /// The token with this id, revoked or not.
    fn by_id(&self, id: &str) -> Result<Option<TokenRecord>, TokenError>;

    /// Sets the last use of token `id` to `at` (an unknown id changes nothing).
    fn record_use(&self, id: &str, at: &str) -> Result<(), TokenError>;

    /// A number that moves whenever any handle changes this store's tokens,
    /// when the backend can tell without reading them (SQLite's
    /// `data_version`, a stream's length); `None` when it cannot. [`Tokens`]
    /// forgets what it remembered when it moves.
    fn generation(&self) -> Result<Option<u64>, TokenError> {
        Ok(None)
    }
}

/// The SHA-256 (hex) under which a token is stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_as_written_and_unknown_ones_get_the_least_power() {
        for role in TokenRole::ALL {
            assert_eq!(TokenRole::parse(role.as_str()), Some(role));
            assert_eq!(TokenRole::stored(role.as_str()), role);
        }
        assert_eq!(TokenRole::parse("root"), None);
        assert_eq!(TokenRole::stored("root"), TokenRole::Auditor);
    }

    #[test]
    fn an_expiry_that_does_not_parse_has_passed() {
        let now = Timestamp::now();
        assert!(!passed(None, now));
        assert!(passed(Some("tomorrow"), now));
        assert!(passed(Some("2020-01-01T00:00:00Z"), now));
        assert!(!passed(Some("2999-01-01T00:00:00Z"), now));
    }
}
