//! [`Tokens`]: the one front of a [`TokenBackend`] that commands and servers
//! use. It makes secrets, stores only their hash, and remembers the live
//! tokens it looked up so that a busy server does not ask its store on every
//! request.
//!
//! What it remembers is forgotten after [`REMEMBER_FOR`], and at once when the
//! backend's [`TokenBackend::generation`] moves (SQLite's `data_version`,
//! the tokens stream's length) or this handle writes. So a revocation made
//! through any handle (another replica, the CLI on another host) is refused
//! by every replica within [`REVOCATION_BOUND`]: the next lookup after the
//! remembered answer expired reads the store.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use govledger_domain::Timestamp;
use rand::RngCore;

use crate::{
    IssueOptions, StoredToken, TOKEN_PREFIX, TokenBackend, TokenError, TokenRecord, TokenRole, hash_token, passed,
};

/// The longest a revoked token is still accepted by a replica that looked
/// it up before the revocation (the promise of the README and RUNBOOK).
pub const REVOCATION_BOUND: Duration = Duration::from_secs(1);

/// How long a looked-up live token is remembered: half the bound, so that
/// the lookup after it expires fits in the other half.
pub const REMEMBER_FOR: Duration = Duration::from_millis(500);

// The lookup after a remembered answer expires fits in the bound.
const _: () = assert!(REMEMBER_FOR.as_millis() * 2 <= REVOCATION_BOUND.as_millis());

/// A token's last use is written at most this often per handle (one write
/// per token per interval, however many requests it makes).
pub const LAST_USE_EVERY: Duration = Duration::from_secs(60);

/// Tokens remembered at most (more are looked up in the store each time).
const KNOWN_TOKENS: usize = 4_096;

/// A newly issued token: `secret` is shown to the operator once and never again.
#[derive(Debug)]
pub struct IssuedToken {
    pub record: TokenRecord,
    pub secret: String,
}

/// The tokens of one store, through any backend. Safe to share between threads.
pub struct Tokens {
    backend: Box<dyn TokenBackend>,
    known: Mutex<Known>,
    /// When this handle last wrote each token's `last_used_at`.
    used: Mutex<HashMap<String, Instant>>,
    /// [`LAST_USE_EVERY`], shorter in tests.
    last_use_every: Duration,
    /// [`REMEMBER_FOR`], other in tests.
    remember_for: Duration,
}

/// Live tokens looked up, with when they were learnt.
#[derive(Default)]
struct Known {
    /// The backend's generation they were learnt at.
    generation: Option<u64>,
    by_hash: HashMap<String, (TokenRecord, Instant)>,
    /// Ids of tokens found live, with their expiry (for [`Tokens::is_live`]).
    live_ids: HashMap<String, (Option<String>, Instant)>,
}

impl Known {
    /// Forgets everything when the backend's tokens changed since it was learnt.
    fn at(&mut self, generation: Option<u64>) -> &mut Self {
        if self.generation != generation {
            self.forget();
            self.generation = generation;
        }
        self
    }

    fn forget(&mut self) {
        self.by_hash.clear();
        self.live_ids.clear();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tokens {
    pub fn new(backend: Box<dyn TokenBackend>) -> Self {
        Tokens {
            backend,
            known: Mutex::default(),
            used: Mutex::default(),
            last_use_every: LAST_USE_EVERY,
            remember_for: REMEMBER_FOR,
        }
    }

    /// The tokens of the embedded store: `tokens.sqlite` in `data_dir`.
    pub fn open_file(data_dir: &std::path::Path) -> Result<Self, TokenError> {
        Ok(Tokens::new(Box::new(crate::SqliteTokens::open(data_dir)?)))
    }

    /// These tokens writing a token's last use at most every `interval` (tests).
    pub fn with_last_use_every(mut self, interval: Duration) -> Self {
        self.last_use_every = interval;
        self
    }

    /// These tokens remembering a lookup for `interval` instead of [`REMEMBER_FOR`] (tests).
    pub fn with_remember_for(mut self, interval: Duration) -> Self {
        self.remember_for = interval;
        self
    }

    /// The backend, for copying its tokens (`govledger token import`).
    pub fn backend(&self) -> &dyn TokenBackend {
        self.backend.as_ref()
    }

    /// Issues a token for `agency` with `role`. The caller checks that the
    /// agency exists and holds the role (see `AgencyIndex`).
    pub fn issue(&self, agency: &str, role: TokenRole) -> Result<IssuedToken, TokenError> {
        self.issue_with(agency, role, &IssueOptions::default())
    }

    /// [`Tokens::issue`] with a label and an expiry.
    pub fn issue_with(&self, agency: &str, role: TokenRole, options: &IssueOptions) -> Result<IssuedToken, TokenError> {
        let mut secret_bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret_bytes);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(secret_bytes));
        let mut id_bytes = [0u8; 6];
        rand::rngs::OsRng.fill_bytes(&mut id_bytes);
        let record = TokenRecord {
            id: format!("tk-{}", hex::encode(id_bytes)),
            agency: agency.to_owned(),
            role,
            created_at: Timestamp::now().to_rfc3339(),
            revoked_at: None,
            label: options.label.clone(),
            expires_at: options.expires_at.map(Timestamp::to_rfc3339),
            last_used_at: None,
        };
        self.backend.insert(&StoredToken { record: record.clone(), sha256: hash_token(&secret) })?;
        lock(&self.known).forget();
        Ok(IssuedToken { record, secret })
    }

    /// Every token ever issued, oldest first.
    pub fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        Ok(self.backend.all()?.into_iter().map(|t| t.record).collect())
    }

    /// Revokes a token by id; revoking twice keeps the first time. Every
    /// replica refuses it within [`REVOCATION_BOUND`].
    pub fn revoke(&self, id: &str) -> Result<TokenRecord, TokenError> {
        let record = self.backend.revoke(id, &Timestamp::now().to_rfc3339());
        lock(&self.known).forget();
        record
    }

    /// The unrevoked token whose secret is `presented`, if any; the caller
    /// refuses it when [`TokenRecord::expired`]. A live token's use is
    /// recorded in `last_used_at`, at most once per [`LAST_USE_EVERY`].
    pub fn authenticate(&self, presented: &str) -> Result<Option<TokenRecord>, TokenError> {
        if !presented.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = hash_token(presented);
        let generation = self.backend.generation()?;
        let remembered = lock(&self.known)
            .at(generation)
            .by_hash
            .get(&hash)
            .filter(|(_, learnt)| learnt.elapsed() < self.remember_for)
            .map(|(record, _)| record.clone());
        let record = match remembered {
            Some(record) => Some(record),
            None => self.backend.by_hash(&hash)?.filter(|r| r.revoked_at.is_none()).inspect(|record| {
                let mut known = lock(&self.known);
                if known.generation == generation && known.by_hash.len() < KNOWN_TOKENS {
                    known.by_hash.insert(hash, (record.clone(), Instant::now()));
                }
            }),
        };
        if let Some(record) = record.as_ref().filter(|r| !r.expired(Timestamp::now())) {
            self.note_use(&record.id);
        }
        Ok(record)
    }

    /// Writes `last_used_at` of token `id` unless this handle did within
    /// `last_use_every`. Failing to write it fails no request.
    fn note_use(&self, id: &str) {
        let now = Instant::now();
        {
            let mut used = lock(&self.used);
            if used.get(id).is_some_and(|at| now.duration_since(*at) < self.last_use_every) {
                return;
            }
            if used.len() >= KNOWN_TOKENS {
                used.clear();
            }
            used.insert(id.to_owned(), now);
        }
        if let Err(e) = self.backend.record_use(id, &Timestamp::now().to_rfc3339()) {
            tracing::warn!(error = %e, token = %id, "cannot record the token's last use");
        }
    }

    /// Whether the token with this id is still live (neither revoked nor
    /// expired), remembered as [`Tokens::authenticate`] remembers. For
    /// long-lived connections (subscriptions), which authenticated once.
    pub fn is_live(&self, id: &str) -> Result<bool, TokenError> {
        let unexpired = |expires_at: Option<String>| !passed(expires_at.as_deref(), Timestamp::now());
        let generation = self.backend.generation()?;
        let remembered = lock(&self.known)
            .at(generation)
            .live_ids
            .get(id)
            .filter(|(_, learnt)| learnt.elapsed() < self.remember_for)
            .map(|(expires_at, _)| expires_at.clone());
        if let Some(expires_at) = remembered {
            return Ok(unexpired(expires_at));
        }
        let Some(record) = self.backend.by_id(id)?.filter(|r| r.revoked_at.is_none()) else { return Ok(false) };
        let mut known = lock(&self.known);
        if known.generation == generation && known.live_ids.len() < KNOWN_TOKENS {
            known.live_ids.insert(id.to_owned(), (record.expires_at.clone(), Instant::now()));
        }
        Ok(unexpired(record.expires_at))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// A backend in memory that counts its lookups and can hide its generation.
    #[derive(Default)]
    struct Counted {
        tokens: Mutex<Vec<StoredToken>>,
        lookups: AtomicU64,
        uses: AtomicU64,
        generation: Option<Arc<AtomicU64>>,
    }

    impl TokenBackend for Arc<Counted> {
        fn describe(&self) -> String {
            "memory".into()
        }
        fn insert(&self, token: &StoredToken) -> Result<(), TokenError> {
            lock(&self.tokens).push(token.clone());
            Ok(())
        }
        fn all(&self) -> Result<Vec<StoredToken>, TokenError> {
            Ok(lock(&self.tokens).clone())
        }
        fn revoke(&self, id: &str, at: &str) -> Result<TokenRecord, TokenError> {
            let mut tokens = lock(&self.tokens);
            let t = tokens.iter_mut().find(|t| t.record.id == id).ok_or(TokenError::UnknownId(id.into()))?;
            t.record.revoked_at.get_or_insert_with(|| at.to_owned());
            Ok(t.record.clone())
        }
        fn by_hash(&self, sha256: &str) -> Result<Option<TokenRecord>, TokenError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(lock(&self.tokens).iter().find(|t| t.sha256 == sha256).map(|t| t.record.clone()))
        }
        fn by_id(&self, id: &str) -> Result<Option<TokenRecord>, TokenError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(lock(&self.tokens).iter().find(|t| t.record.id == id).map(|t| t.record.clone()))
        }
        fn record_use(&self, _id: &str, _at: &str) -> Result<(), TokenError> {
            self.uses.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        fn generation(&self) -> Result<Option<u64>, TokenError> {
            Ok(self.generation.as_ref().map(|g| g.load(Ordering::SeqCst)))
        }
    }

    #[test]
    fn a_live_token_is_remembered_for_a_while_then_read_again() {
        let backend = Arc::new(Counted::default());
        let tokens = Tokens::new(Box::new(backend.clone())).with_remember_for(Duration::from_secs(3_600));
        let issued = tokens.issue("bank-a", TokenRole::Agency).unwrap();
        assert!(issued.secret.starts_with(TOKEN_PREFIX) && issued.secret.len() == 68);
        for _ in 0..3 {
            assert_eq!(tokens.authenticate(&issued.secret).unwrap().unwrap().id, issued.record.id);
            assert!(tokens.is_live(&issued.record.id).unwrap());
        }
        assert_eq!(backend.lookups.load(Ordering::SeqCst), 2, "one lookup by hash, one by id");
        assert_eq!(backend.uses.load(Ordering::SeqCst), 1, "the last use is written once a minute");
        assert_eq!(tokens.authenticate("glt_00").unwrap(), None);
        assert_eq!(tokens.authenticate("no prefix").unwrap(), None);
        assert_eq!(
            backend.lookups.load(Ordering::SeqCst),
            3,
            "an unknown token is not remembered; no prefix, no lookup"
        );

        // Another handle revokes it: remembered here until the memory expires.
        backend.revoke(&issued.record.id, "2026-01-01T00:00:00Z").unwrap();
        assert!(tokens.authenticate(&issued.secret).unwrap().is_some(), "still remembered");
        let forgetful = Tokens::new(Box::new(backend.clone())).with_remember_for(Duration::ZERO);
        assert_eq!(forgetful.authenticate(&issued.secret).unwrap(), None);
        assert!(!forgetful.is_live(&issued.record.id).unwrap());
    }

    #[test]
    fn a_moved_generation_or_an_own_write_forgets_at_once() {
        let generation = Arc::new(AtomicU64::new(1));
        let backend = Arc::new(Counted { generation: Some(generation.clone()), ..Counted::default() });
        let tokens = Tokens::new(Box::new(backend.clone())).with_remember_for(Duration::from_secs(3_600));
        let issued = tokens.issue("bank-a", TokenRole::Agency).unwrap();
        assert!(tokens.authenticate(&issued.secret).unwrap().is_some());
        backend.revoke(&issued.record.id, "2026-01-01T00:00:00Z").unwrap();
        generation.fetch_add(1, Ordering::SeqCst);
        assert_eq!(tokens.authenticate(&issued.secret).unwrap(), None, "the generation moved");
        assert!(!tokens.is_live(&issued.record.id).unwrap());

        let second = tokens.issue("bank-a", TokenRole::Auditor).unwrap();
        assert!(tokens.authenticate(&second.secret).unwrap().is_some());
        assert!(tokens.is_live(&second.record.id).unwrap());
        tokens.revoke(&second.record.id).unwrap();
        assert_eq!(tokens.authenticate(&second.secret).unwrap(), None, "this handle's own revocation");
        assert!(!tokens.is_live(&second.record.id).unwrap());
    }
}
