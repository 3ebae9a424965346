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
}

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
}

/// See [`TokenStore::known`].
#[derive(Default)]
struct Known {
    data_version: i64,
    records: std::collections::HashMap<String, TokenRecord>,
    /// Ids of tokens found live (for [`TokenStore::is_live`]).
    live_ids: std::collections::HashSet<String>,
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
        Ok(TokenStore { conn: Mutex::new(conn), path: display, known: Mutex::default() })
    }

    fn fail(&self, e: impl fmt::Display) -> TokenError {
        TokenError::Store { path: self.path.clone(), message: e.to_string() }
    }

    /// Issues a token for `agency` with `role`. The caller checks that the
    /// agency exists and holds the role (see `AgencyIndex`).
    pub fn issue(&self, agency: &str, role: TokenRole) -> Result<IssuedToken, TokenError> {
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
        };
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO tokens (id, sha256, agency, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![record.id, hash_token(&secret), record.agency, role.as_str(), record.created_at],
        )
        .map_err(|e| self.fail(e))?;
        self.forget_known();
        Ok(IssuedToken { record, secret })
    }

    /// Every token ever issued, oldest first.
    pub fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare("SELECT id, agency, role, created_at, revoked_at FROM tokens ORDER BY created_at, id")
            .map_err(|e| self.fail(e))?;
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
        conn.query_row("SELECT id, agency, role, created_at, revoked_at FROM tokens WHERE id = ?1", [id], row_to_record)
            .optional()
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| TokenError::UnknownId(id.to_owned()))
    }

    /// The live token whose secret is `presented`, if any. A token seen
    /// before is answered from memory unless the database changed since
    /// (one `PRAGMA data_version`, no table read): a revocation by the CLI
    /// takes effect on the next request all the same.
    pub fn authenticate(&self, presented: &str) -> Result<Option<TokenRecord>, TokenError> {
        if !presented.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = hash_token(presented);
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let data_version = self.data_version(&conn)?;
        if let Some(record) = self.known.lock().unwrap_or_else(|e| e.into_inner()).at(data_version).records.get(&hash) {
            return Ok(Some(record.clone()));
        }
        let record = conn
            .prepare_cached(
                "SELECT id, agency, role, created_at, revoked_at FROM tokens WHERE sha256 = ?1 AND revoked_at IS NULL",
            )
            .and_then(|mut stmt| stmt.query_row([&hash], row_to_record).optional())
            .map_err(|e| self.fail(e))?;
        if let Some(record) = &record {
            let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            if known.data_version == data_version && known.records.len() < KNOWN_TOKENS {
                known.records.insert(hash, record.clone());
            }
        }
        Ok(record)
    }

    /// Whether the token with this id is still live (not revoked), with the
    /// same memory as [`TokenStore::authenticate`]. For long-lived
    /// connections (subscriptions), which authenticated once.
    pub fn is_live(&self, id: &str) -> Result<bool, TokenError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let data_version = self.data_version(&conn)?;
        if self.known.lock().unwrap_or_else(|e| e.into_inner()).at(data_version).live_ids.contains(id) {
            return Ok(true);
        }
        let live = conn
            .prepare_cached("SELECT 1 FROM tokens WHERE id = ?1 AND revoked_at IS NULL")
            .and_then(|mut stmt| stmt.exists([id]))
            .map_err(|e| self.fail(e))?;
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if live && known.data_version == data_version && known.live_ids.len() < KNOWN_TOKENS {
            known.live_ids.insert(id.to_owned());
        }
        Ok(live)
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
    })
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
}
