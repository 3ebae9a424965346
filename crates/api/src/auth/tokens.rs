//! The token database (SPEC 4): `tokens.sqlite` in the data directory, apart
//! from `ledger.sqlite` (which the store crate owns). Only the SHA-256 of a
//! token is stored; the token itself is shown once, when it is issued. A
//! token is `glt_` followed by 64 hex digits of operating-system randomness,
//! so looking its hash up in an index leaks nothing a timing attack could use.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use govledger_domain::Timestamp;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{TOKEN_PREFIX, TOKENS_FILE, TokenRole};

/// A failure of the token store.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token store {path}: {message}")]
    Store { path: String, message: String },
    #[error("no token with id {0:?}")]
    UnknownId(String),
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
fn passed(expires_at: Option<&str>, now: Timestamp) -> bool {
    expires_at.is_some_and(|at| Timestamp::parse(at).map_or(true, |at| at.micros() <= now.micros()))
}

/// What a new token carries besides its agency and role.
#[derive(Debug, Clone, Default)]
pub struct IssueOptions {
    pub label: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// A token's last use is written at most this often (one fsync per token
/// per interval, however many requests it makes).
pub const LAST_USE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// A newly issued token: `secret` is shown to the operator once and never again.
#[derive(Debug)]
pub struct IssuedToken {
    pub record: TokenRecord,
    pub secret: String,
}

/// The token database (`tokens.sqlite`). Safe to share between threads; the
/// CLI may issue and revoke while a server runs on the same directory.
pub struct TokenStore {
    conn: Mutex<Connection>,
    path: String,
    /// Live tokens already looked up, by hash. Valid while the database's
    /// `data_version` (which moves when another connection, e.g. the CLI,
    /// commits) stays the same, and cleared by this handle's own writes.
    known: Mutex<Known>,
    /// When this handle last wrote each token's `last_used_at`.
    used: Mutex<std::collections::HashMap<String, std::time::Instant>>,
    /// [`LAST_USE_EVERY`], shorter in tests.
    last_use_every: std::time::Duration,
}

/// See [`TokenStore::known`].
#[derive(Default)]
struct Known {
    data_version: i64,
    records: std::collections::HashMap<String, TokenRecord>,
    /// Ids of tokens found live, with their expiry (for [`TokenStore::is_live`]).
    live_ids: std::collections::HashMap<String, Option<String>>,
}

impl Known {
    /// Forgets everything when the database changed since it was learnt.
    fn at(&mut self, data_version: i64) -> &mut Self {
        if self.data_version != data_version {
            self.records.clear();
            self.live_ids.clear();
            self.data_version = data_version;
        }
        self
    }
}

/// Tokens remembered at most (more are looked up in the database each time).
const KNOWN_TOKENS: usize = 4_096;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tokens (
    id         TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE,
    agency     TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
";

/// Columns added since the first version, added to an older file when it is opened.
const ADDED_COLUMNS: [&str; 3] = ["label", "expires_at", "last_used_at"];

/// What a [`TokenRecord`] is read from, in [`row_to_record`]'s order.
const COLUMNS: &str = "id, agency, role, created_at, revoked_at, label, expires_at, last_used_at";

impl TokenStore {
    /// Opens (creating if needed) the token store of a data directory.
    pub fn open(data_dir: &Path) -> Result<Self, TokenError> {
        let path = data_dir.join(TOKENS_FILE);
        let display = path.display().to_string();
        let fail = |e: &dyn fmt::Display| TokenError::Store { path: display.clone(), message: e.to_string() };
        std::fs::create_dir_all(data_dir).map_err(|e| fail(&e))?;
        let conn = Connection::open(&path).map_err(|e| fail(&e))?;
        restrict_permissions(&path);
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| fail(&e))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| fail(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| fail(&e))?;
        conn.execute_batch(SCHEMA).map_err(|e| fail(&e))?;
        add_columns(&conn).map_err(|e| fail(&e))?;
        Ok(TokenStore {
            conn: Mutex::new(conn),
            path: display,
            known: Mutex::default(),
            used: Mutex::default(),
            last_use_every: LAST_USE_EVERY,
        })
    }

    /// This store writing a token's last use at most every `interval` (tests).
    pub fn with_last_use_every(mut self, interval: std::time::Duration) -> Self {
        self.last_use_every = interval;
        self
    }

    fn fail(&self, e: impl fmt::Display) -> TokenError {
        TokenError::Store { path: self.path.clone(), message: e.to_string() }
    }

    /// Issues a token for `agency` with `role`. The caller checks that the
    /// agency exists and holds the role (see `AgencyIndex`).
    pub fn issue(&self, agency: &str, role: TokenRole) -> Result<IssuedToken, TokenError> {
        self.issue_with(agency, role, &IssueOptions::default())
    }

    /// [`TokenStore::issue`] with a label and an expiry.
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
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO tokens (id, sha256, agency, role, created_at, label, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                record.id,
                hash_token(&secret),
                record.agency,
                role.as_str(),
                record.created_at,
                record.label,
                record.expires_at
            ],
        )
        .map_err(|e| self.fail(e))?;
        self.forget_known();
        Ok(IssuedToken { record, secret })
    }

    /// Every token ever issued, oldest first.
    pub fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt =
            conn.prepare(&format!("SELECT {COLUMNS} FROM tokens ORDER BY created_at, id")).map_err(|e| self.fail(e))?;
        let rows = stmt.query_map([], row_to_record).map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }

    /// Revokes a token by id; revoking twice keeps the first time. Takes
    /// effect on the server's next request with that token.
    pub fn revoke(&self, id: &str) -> Result<TokenRecord, TokenError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, Timestamp::now().to_rfc3339()],
        )
        .map_err(|e| self.fail(e))?;
        self.forget_known();
        conn.query_row(&format!("SELECT {COLUMNS} FROM tokens WHERE id = ?1"), [id], row_to_record)
            .optional()
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| TokenError::UnknownId(id.to_owned()))
    }

    /// The unrevoked token whose secret is `presented`, if any; the caller
    /// refuses it when [`TokenRecord::expired`]. A token seen before is
    /// answered from memory unless the database changed since (one `PRAGMA
    /// data_version`, no table read): a revocation by the CLI takes effect on
    /// the next request all the same. A live token's use is recorded in
    /// `last_used_at`, at most once per [`LAST_USE_EVERY`].
    pub fn authenticate(&self, presented: &str) -> Result<Option<TokenRecord>, TokenError> {
        if !presented.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = hash_token(presented);
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let data_version = self.data_version(&conn)?;
        let remembered =
            self.known.lock().unwrap_or_else(|e| e.into_inner()).at(data_version).records.get(&hash).cloned();
        let record = match remembered {
            Some(record) => Some(record),
            None => conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE sha256 = ?1 AND revoked_at IS NULL"))
                .and_then(|mut stmt| stmt.query_row([&hash], row_to_record).optional())
                .map_err(|e| self.fail(e))?
                .inspect(|record| {
                    let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
                    if known.data_version == data_version && known.records.len() < KNOWN_TOKENS {
                        known.records.insert(hash, record.clone());
                    }
                }),
        };
        if let Some(record) = record.as_ref().filter(|r| !r.expired(Timestamp::now())) {
            self.note_use(&conn, &record.id);
        }
        Ok(record)
    }

    /// Writes `last_used_at` of token `id` unless this handle did within
    /// `last_use_every`. Failing to write it fails no request.
    fn note_use(&self, conn: &Connection, id: &str) {
        let now = std::time::Instant::now();
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if used.get(id).is_some_and(|at| now.duration_since(*at) < self.last_use_every) {
            return;
        }
        if used.len() >= KNOWN_TOKENS {
            used.clear();
        }
        used.insert(id.to_owned(), now);
        let written = conn
            .prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, Timestamp::now().to_rfc3339()]));
        if let Err(e) = written {
            tracing::warn!(error = %e, token = %id, "cannot record the token's last use");
        }
    }

    /// Whether the token with this id is still live (neither revoked nor
    /// expired), with the same memory as [`TokenStore::authenticate`]. For
    /// long-lived connections (subscriptions), which authenticated once.
    pub fn is_live(&self, id: &str) -> Result<bool, TokenError> {
        let unexpired = |expires_at: Option<String>| !passed(expires_at.as_deref(), Timestamp::now());
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let data_version = self.data_version(&conn)?;
        if let Some(expires_at) =
            self.known.lock().unwrap_or_else(|e| e.into_inner()).at(data_version).live_ids.get(id).cloned()
        {
            return Ok(unexpired(expires_at));
        }
        let found: Option<Option<String>> = conn
            .prepare_cached("SELECT expires_at FROM tokens WHERE id = ?1 AND revoked_at IS NULL")
            .and_then(|mut stmt| stmt.query_row([id], |row| row.get(0)).optional())
            .map_err(|e| self.fail(e))?;
        let Some(expires_at) = found else { return Ok(false) };
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.data_version == data_version && known.live_ids.len() < KNOWN_TOKENS {
            known.live_ids.insert(id.to_owned(), expires_at.clone());
        }
        Ok(unexpired(expires_at))
    }

    /// The database's `data_version`: it moves when another connection commits.
    fn data_version(&self, conn: &Connection) -> Result<i64, TokenError> {
        conn.query_row("PRAGMA data_version", [], |row| row.get(0)).map_err(|e| self.fail(e))
    }

    /// After this handle's own writes (which do not move its `data_version`).
    fn forget_known(&self) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.records.clear();
        known.live_ids.clear();
    }
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    let role: String = row.get(2)?;
    Ok(TokenRecord {
        id: row.get(0)?,
        agency: row.get(1)?,
        // Only this module writes the column, with `TokenRole::as_str`; an
        // unknown value (a newer version's role) gets the least power.
        role: TokenRole::parse(&role).unwrap_or(TokenRole::Auditor),
        created_at: row.get(3)?,
        revoked_at: row.get(4)?,
        label: row.get(5)?,
        expires_at: row.get(6)?,
        last_used_at: row.get(7)?,
    })
}

/// Adds the [`ADDED_COLUMNS`] a file made by an older version lacks, in one
/// write transaction (the CLI and a server may open it at once).
fn add_columns(conn: &Connection) -> rusqlite::Result<()> {
    let has = |conn: &Connection, column: &str| -> rusqlite::Result<bool> {
        conn.prepare("SELECT 1 FROM pragma_table_info('tokens') WHERE name = ?1")?.exists([column])
    };
    let mut missing = false;
    for column in ADDED_COLUMNS {
        missing |= !has(conn, column)?;
    }
    if !missing {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let added = ADDED_COLUMNS.iter().try_for_each(|column| {
        if has(conn, column)? {
            return Ok(());
        }
        conn.execute_batch(&format!("ALTER TABLE tokens ADD COLUMN {column} TEXT"))
    });
    match added {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token hashes are not secrets, but nobody else needs to read them.
#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        tracing::warn!(error = %e, "cannot restrict the permissions of the token store");
    }
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let issued = store.issue("bank-a", TokenRole::Agency).unwrap();
        assert!(issued.secret.starts_with(TOKEN_PREFIX) && issued.secret.len() == 68);
        let raw = std::fs::read(dir.path().join(TOKENS_FILE)).unwrap();
        let needle = issued.secret.as_bytes();
        assert!(!raw.windows(needle.len()).any(|w| w == needle), "the token itself is stored");
        assert_eq!(store.authenticate(&issued.secret).unwrap().unwrap().agency, "bank-a");
        assert_eq!(store.authenticate("glt_00").unwrap(), None);
        assert_eq!(store.authenticate("").unwrap(), None);
        // A second handle (the CLI while a server runs) sees the revocation.
        let other = TokenStore::open(dir.path()).unwrap();
        let revoked = other.revoke(&issued.record.id).unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(store.authenticate(&issued.secret).unwrap(), None);
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(matches!(other.revoke("tk-nope"), Err(TokenError::UnknownId(_))));
        // Revoking through the handle that authenticates (and remembers) it.
        let second = store.issue("bank-a", TokenRole::Auditor).unwrap();
        assert_eq!(store.authenticate(&second.secret).unwrap().unwrap().id, second.record.id);
        assert_eq!(store.authenticate(&second.secret).unwrap().unwrap().id, second.record.id);
        assert!(store.is_live(&second.record.id).unwrap());
        assert!(store.is_live(&second.record.id).unwrap());
        store.revoke(&second.record.id).unwrap();
        assert_eq!(store.authenticate(&second.secret).unwrap(), None);
        assert!(!store.is_live(&second.record.id).unwrap());
        assert!(!store.is_live("tk-nope").unwrap());
        // Through another handle too.
        let third = store.issue("bank-a", TokenRole::Auditor).unwrap();
        assert!(store.is_live(&third.record.id).unwrap());
        other.revoke(&third.record.id).unwrap();
        assert!(!store.is_live(&third.record.id).unwrap());
    }

    fn last_used(dir: &Path, id: &str) -> Option<String> {
        let conn = Connection::open(dir.join(TOKENS_FILE)).unwrap();
        conn.query_row("SELECT last_used_at FROM tokens WHERE id = ?1", [id], |r| r.get(0)).unwrap()
    }

    fn set_last_used(dir: &Path, id: &str, at: &str) {
        let conn = Connection::open(dir.join(TOKENS_FILE)).unwrap();
        conn.execute("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1", [id, at]).unwrap();
    }

    #[test]
    fn a_token_keeps_its_label_and_expiry_and_its_last_use_at_a_bounded_rate() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let in_an_hour = Timestamp::from_micros(Timestamp::now().micros() + 3_600_000_000);
        let options = IssueOptions { label: Some("upload job".into()), expires_at: Some(in_an_hour) };
        let issued = store.issue_with("bank-a", TokenRole::Agency, &options).unwrap();
        let id = issued.record.id.clone();
        assert_eq!(last_used(dir.path(), &id), None, "never used yet");
        let record = store.authenticate(&issued.secret).unwrap().unwrap();
        assert!(!record.expired(Timestamp::now()) && record.status(Timestamp::now()) == "active");
        let listed = store.list().unwrap().remove(0);
        assert_eq!(listed.label.as_deref(), Some("upload job"));
        assert_eq!(listed.expires_at, Some(in_an_hour.to_rfc3339()));
        assert!(listed.last_used_at.is_some(), "the first use is written");

        // Within the interval, further uses write nothing (an old value stays)…
        set_last_used(dir.path(), &id, "2020-01-01T00:00:00Z");
        store.authenticate(&issued.secret).unwrap().unwrap();
        assert_eq!(last_used(dir.path(), &id).as_deref(), Some("2020-01-01T00:00:00Z"));
        // …after it (here: no interval), the next use is written.
        let eager = TokenStore::open(dir.path()).unwrap().with_last_use_every(std::time::Duration::ZERO);
        eager.authenticate(&issued.secret).unwrap().unwrap();
        let written = last_used(dir.path(), &id).unwrap();
        assert!(written.as_str() > "2026", "{written}");

        // An expired token is found (so that it can be refused as expired), not live, and not recorded as used.
        let past =
            IssueOptions { label: None, expires_at: Some(Timestamp::from_micros(Timestamp::now().micros() - 1)) };
        let old = store.issue_with("bank-a", TokenRole::Agency, &past).unwrap();
        let record = store.authenticate(&old.secret).unwrap().unwrap();
        assert!(record.expired(Timestamp::now()));
        assert_eq!(record.status(Timestamp::now()), "expired");
        assert_eq!(last_used(dir.path(), &old.record.id), None);
        assert!(!store.is_live(&old.record.id).unwrap());
        assert!(store.is_live(&id).unwrap());
    }

    #[test]
    fn a_token_file_of_the_first_version_gains_the_new_columns() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(TOKENS_FILE)).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let secret = format!("{TOKEN_PREFIX}{}", "ab".repeat(32));
        conn.execute(
            "INSERT INTO tokens (id, sha256, agency, role, created_at) VALUES ('tk-old', ?1, 'bank-a', 'agency', '2025-01-01T00:00:00Z')",
            [hash_token(&secret)],
        )
        .unwrap();
        drop(conn);
        let store = TokenStore::open(dir.path()).unwrap();
        let record = store.authenticate(&secret).unwrap().unwrap();
        assert_eq!((record.id.as_str(), record.label.clone(), record.expires_at.clone()), ("tk-old", None, None));
        assert!(last_used(dir.path(), "tk-old").is_some());
        // Opening it again (another process) finds the columns there.
        TokenStore::open(dir.path()).unwrap();
    }
}
