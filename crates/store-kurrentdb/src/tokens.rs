//! The tokens of a ledger on KurrentDB: a second stream, `<stream>-tokens`
//! ([`tokens_stream`]), of token events — `TokenIssued`, `TokenRevoked` and
//! `TokenUsed` (at most once a minute per token and replica) — folded in
//! memory by each handle. Every change is appended with the expected
//! revision of the fold it was decided on, so a change decided on an old
//! fold (revoking twice, an id issued twice) meets a wrong expected
//! revision, catches up and is decided again. A lookup first reads what
//! the stream gained since (one read), so it answers the stream as it is;
//! the stream's length, moved by a catch-up subscription, is the
//! generation `Tokens` watches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use govledger_credentials::{StoredToken, TokenBackend, TokenError, TokenRecord, TokenRole};
use govledger_ledger::StoreError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::stream::{OutgoingEvent, RecordedRow, Stream, StreamError};
use crate::{KurrentConfig, TransientRetry};

/// Events per read.
const PAGE: usize = 4_096;
/// Changes decided again after a wrong expected revision, at most.
const CONFLICT_ATTEMPTS: usize = 32;

/// The stream of the tokens of the ledger in stream `ledger_stream`.
pub fn tokens_stream(ledger_stream: &str) -> String {
    format!("{ledger_stream}-tokens")
}

#[derive(Debug, Serialize, Deserialize)]
struct Issued {
    id: String,
    sha256: String,
    agency: String,
    role: String,
    created_at: String,
    label: Option<String>,
    expires_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Revoked {
    id: String,
    revoked_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Used {
    id: String,
    used_at: String,
}

const ISSUED: &str = "TokenIssued";
const REVOKED: &str = "TokenRevoked";
const USED: &str = "TokenUsed";

fn event(event_type: &str, data: &impl Serialize) -> OutgoingEvent {
    OutgoingEvent {
        id: Uuid::new_v4(),
        event_type: event_type.to_owned(),
        // Structs of strings always serialize.
        data: serde_json::to_vec(data).unwrap_or_default(),
        metadata: b"{}".to_vec(),
    }
}

/// The tokens as of revision `next - 1` of the stream.
#[derive(Default)]
struct Fold {
    next: u64,
    tokens: HashMap<String, StoredToken>,
    id_by_hash: HashMap<String, String>,
}

impl Fold {
    fn apply(&mut self, row: &RecordedRow) -> Result<(), String> {
        let bad = |e: serde_json::Error| format!("revision {}: an unreadable {} ({e})", row.revision, row.event_type);
        match row.event_type.as_str() {
            ISSUED => {
                let e: Issued = serde_json::from_slice(&row.data).map_err(bad)?;
                if !self.tokens.contains_key(&e.id) && !self.id_by_hash.contains_key(&e.sha256) {
                    self.id_by_hash.insert(e.sha256.clone(), e.id.clone());
                    let record = TokenRecord {
                        id: e.id.clone(),
                        agency: e.agency,
                        role: TokenRole::stored(&e.role),
                        created_at: e.created_at,
                        revoked_at: None,
                        label: e.label,
                        expires_at: e.expires_at,
                        last_used_at: None,
                    };
                    self.tokens.insert(e.id, StoredToken { record, sha256: e.sha256 });
                }
            }
            REVOKED => {
                let e: Revoked = serde_json::from_slice(&row.data).map_err(bad)?;
                if let Some(t) = self.tokens.get_mut(&e.id) {
                    t.record.revoked_at.get_or_insert(e.revoked_at);
                }
            }
            USED => {
                let e: Used = serde_json::from_slice(&row.data).map_err(bad)?;
                if let Some(t) = self.tokens.get_mut(&e.id) {
                    t.record.last_used_at = Some(e.used_at);
                }
            }
            // A newer version's event: what this version knows stays as it is.
            other => tracing::warn!(event_type = other, revision = row.revision, "an unknown token event; ignored"),
        }
        self.next = row.revision + 1;
        Ok(())
    }

    fn by_hash(&self, sha256: &str) -> Option<TokenRecord> {
        self.id_by_hash.get(sha256).and_then(|id| self.tokens.get(id)).map(|t| t.record.clone())
    }
}

/// The tokens stream of one ledger; each handle folds it on its own.
pub struct KurrentTokens {
    stream: Arc<dyn Stream>,
    name: String,
    retry: TransientRetry,
    fold: Mutex<Fold>,
}

impl KurrentTokens {
    /// The tokens of the ledger in `config` (stream [`tokens_stream`]) on its cluster.
    pub fn connect(config: &KurrentConfig) -> Result<Self, StoreError> {
        let config = KurrentConfig { stream: tokens_stream(&config.stream), ..config.clone() };
        let stream = crate::client::KurrentStream::connect(&config)?;
        Ok(Self::on_stream(Arc::new(stream), &config.stream, TransientRetry::default()))
    }

    /// The tokens in any [`Stream`] named `name` (the emulated one in tests).
    pub fn on_stream(stream: Arc<dyn Stream>, name: &str, retry: TransientRetry) -> Self {
        KurrentTokens { stream, name: name.to_owned(), retry, fold: Mutex::default() }
    }

    fn fail(&self, message: impl std::fmt::Display) -> TokenError {
        TokenError::Store { store: self.describe(), message: message.to_string() }
    }

    /// The fold, brought up to the stream's end.
    fn current(&self) -> Result<MutexGuard<'_, Fold>, TokenError> {
        let mut fold = self.fold.lock().unwrap_or_else(|e| e.into_inner());
        self.catch_up(&mut fold)?;
        Ok(fold)
    }

    fn catch_up(&self, fold: &mut Fold) -> Result<(), TokenError> {
        loop {
            let from = fold.next;
            let rows = self.retry.run("read the tokens", || self.stream.read(from, PAGE)).map_err(|e| self.fail(e))?;
            for row in &rows {
                fold.apply(row).map_err(|e| self.fail(e))?;
            }
            if rows.len() < PAGE {
                return Ok(());
            }
        }
    }

    /// Appends the events `decide` makes of the current fold (none: nothing
    /// to do), deciding again on the newer fold after a wrong expected revision.
    fn change(
        &self,
        mut decide: impl FnMut(&Fold) -> Result<Vec<OutgoingEvent>, TokenError>,
    ) -> Result<(), TokenError> {
        let mut fold = self.current()?;
        for _ in 0..CONFLICT_ATTEMPTS {
            let events = decide(&fold)?;
            if events.is_empty() {
                return Ok(());
            }
            let expected = fold.next.checked_sub(1);
            match self.retry.run("append a token event", || self.stream.append(expected, &events)) {
                Ok(_) | Err(StreamError::WrongExpectedRevision { .. }) => self.catch_up(&mut fold)?,
                Err(e) => return Err(self.fail(e)),
            }
            if events.iter().all(|e| fold_holds(&fold, e)) {
                return Ok(());
            }
        }
        Err(self.fail("the tokens stream kept moving under this change; retry"))
    }
}

/// Whether the fold holds the effect of `event` (so an append that was
/// stored, or decided the same by another handle, is not made again).
fn fold_holds(fold: &Fold, event: &OutgoingEvent) -> bool {
    match event.event_type.as_str() {
        ISSUED => serde_json::from_slice::<Issued>(&event.data)
            .is_ok_and(|e| fold.tokens.get(&e.id).is_some_and(|t| t.sha256 == e.sha256)),
        REVOKED => serde_json::from_slice::<Revoked>(&event.data)
            .is_ok_and(|e| fold.tokens.get(&e.id).is_none_or(|t| t.record.revoked_at.is_some())),
        USED => serde_json::from_slice::<Used>(&event.data).is_ok_and(|e| {
            fold.tokens.get(&e.id).is_none_or(|t| t.record.last_used_at.as_deref().is_some_and(|at| at >= &*e.used_at))
        }),
        _ => true,
    }
}

impl TokenBackend for KurrentTokens {
    fn describe(&self) -> String {
        format!("KurrentDB stream {:?}", self.name)
    }

    fn insert(&self, token: &StoredToken) -> Result<(), TokenError> {
        let r = &token.record;
        let issued = event(
            ISSUED,
            &Issued {
                id: r.id.clone(),
                sha256: token.sha256.clone(),
                agency: r.agency.clone(),
                role: r.role.as_str().to_owned(),
                created_at: r.created_at.clone(),
                label: r.label.clone(),
                expires_at: r.expires_at.clone(),
            },
        );
        let mut events = vec![issued];
        if let Some(at) = &r.revoked_at {
            events.push(event(REVOKED, &Revoked { id: r.id.clone(), revoked_at: at.clone() }));
        }
        if let Some(at) = &r.last_used_at {
            events.push(event(USED, &Used { id: r.id.clone(), used_at: at.clone() }));
        }
        let mut first = true;
        self.change(|fold| {
            let taken = fold.tokens.contains_key(&r.id) || fold.id_by_hash.contains_key(&token.sha256);
            match (taken, first) {
                (false, _) => {
                    first = false;
                    Ok(events.clone())
                }
                // Ours, stored by an append whose answer was a conflict or lost.
                (true, false) if fold_holds(fold, &events[0]) => Ok(Vec::new()),
                (true, _) => Err(TokenError::Duplicate(r.id.clone())),
            }
        })
    }

    fn all(&self) -> Result<Vec<StoredToken>, TokenError> {
        let fold = self.current()?;
        let mut all: Vec<StoredToken> = fold.tokens.values().cloned().collect();
        all.sort_by(|a, b| (&a.record.created_at, &a.record.id).cmp(&(&b.record.created_at, &b.record.id)));
        Ok(all)
    }

    fn revoke(&self, id: &str, at: &str) -> Result<TokenRecord, TokenError> {
        self.change(|fold| match fold.tokens.get(id) {
            None => Err(TokenError::UnknownId(id.to_owned())),
            Some(t) if t.record.revoked_at.is_some() => Ok(Vec::new()),
            Some(_) => Ok(vec![event(REVOKED, &Revoked { id: id.to_owned(), revoked_at: at.to_owned() })]),
        })?;
        self.by_id(id)?.ok_or_else(|| TokenError::UnknownId(id.to_owned()))
    }

    fn by_hash(&self, sha256: &str) -> Result<Option<TokenRecord>, TokenError> {
        Ok(self.current()?.by_hash(sha256))
    }

    fn by_id(&self, id: &str) -> Result<Option<TokenRecord>, TokenError> {
        Ok(self.current()?.tokens.get(id).map(|t| t.record.clone()))
    }

    fn record_use(&self, id: &str, at: &str) -> Result<(), TokenError> {
        self.change(|fold| {
            Ok(match fold.tokens.get(id) {
                Some(_) => vec![event(USED, &Used { id: id.to_owned(), used_at: at.to_owned() })],
                None => Vec::new(),
            })
        })
    }

    /// The stream's length as the catch-up subscription knows it.
    fn generation(&self) -> Result<Option<u64>, TokenError> {
        Ok(Some(*self.stream.watch().borrow()))
    }
}
