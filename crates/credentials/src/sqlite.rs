//! The embedded store's tokens: `tokens.sqlite` in the data directory,
//! apart from `ledger.sqlite` (which the store crate owns). The file's
//! layout is the one every earlier version wrote; columns added since the
//! first version are added to an older file when it is opened.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoredToken, TokenBackend, TokenError, TokenRecord, TokenRole};

/// The token database inside a data directory.
pub const TOKENS_FILE: &str = "tokens.sqlite";

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

/// What a [`TokenRecord`] is read from, in [`row_to_record`]'s order, then the hash.
const COLUMNS: &str = "id, agency, role, created_at, revoked_at, label, expires_at, last_used_at, sha256";

/// `tokens.sqlite`. The CLI may issue and revoke while a server runs on the
/// same directory: SQLite's `data_version` is this backend's generation.
pub struct SqliteTokens {
    conn: Mutex<Connection>,
    path: String,
}

impl SqliteTokens {
    /// Opens (creating if needed) the token file of a data directory.
    pub fn open(data_dir: &Path) -> Result<Self, TokenError> {
        let path = data_dir.join(TOKENS_FILE);
        let display = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| TokenError::Store { store: display.clone(), message: e.to_string() };
        std::fs::create_dir_all(data_dir).map_err(|e| fail(&e))?;
        let conn = Connection::open(&path).map_err(|e| fail(&e))?;
        restrict_permissions(&path);
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| fail(&e))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| fail(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| fail(&e))?;
        conn.execute_batch(SCHEMA).map_err(|e| fail(&e))?;
        add_columns(&conn).map_err(|e| fail(&e))?;
        Ok(SqliteTokens { conn: Mutex::new(conn), path: display })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fail(&self, e: impl std::fmt::Display) -> TokenError {
        TokenError::Store { store: self.path.clone(), message: e.to_string() }
    }

    fn one(&self, conn: &Connection, column: &str, value: &str) -> Result<Option<TokenRecord>, TokenError> {
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE {column} = ?1"))
            .and_then(|mut stmt| stmt.query_row([value], row_to_record).optional())
            .map_err(|e| self.fail(e))
    }
}

impl TokenBackend for SqliteTokens {
    fn describe(&self) -> String {
        self.path.clone()
    }

    fn insert(&self, token: &StoredToken) -> Result<(), TokenError> {
        let r = &token.record;
        let inserted = self.conn().execute(
            "INSERT INTO tokens (id, sha256, agency, role, created_at, revoked_at, label, expires_at, last_used_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                r.id,
                token.sha256,
                r.agency,
                r.role.as_str(),
                r.created_at,
                r.revoked_at,
                r.label,
                r.expires_at,
                r.last_used_at
            ],
        );
        match inserted {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                Err(TokenError::Duplicate(r.id.clone()))
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn all(&self) -> Result<Vec<StoredToken>, TokenError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare(&format!("SELECT {COLUMNS} FROM tokens ORDER BY created_at, id")).map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map([], |row| Ok(StoredToken { record: row_to_record(row)?, sha256: row.get(8)? }))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }

    fn revoke(&self, id: &str, at: &str) -> Result<TokenRecord, TokenError> {
        let conn = self.conn();
        conn.execute("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![id, at])
            .map_err(|e| self.fail(e))?;
        self.one(&conn, "id", id)?.ok_or_else(|| TokenError::UnknownId(id.to_owned()))
    }

    fn by_hash(&self, sha256: &str) -> Result<Option<TokenRecord>, TokenError> {
        self.one(&self.conn(), "sha256", sha256)
    }

    fn by_id(&self, id: &str) -> Result<Option<TokenRecord>, TokenError> {
        self.one(&self.conn(), "id", id)
    }

    fn record_use(&self, id: &str, at: &str) -> Result<(), TokenError> {
        self.conn()
            .prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, at]))
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// `PRAGMA data_version`: it moves when another connection (the CLI, a
    /// second server) commits; this handle's own writes are forgotten by
    /// [`crate::Tokens`] itself.
    fn generation(&self) -> Result<Option<u64>, TokenError> {
        let version: i64 =
            self.conn().query_row("PRAGMA data_version", [], |row| row.get(0)).map_err(|e| self.fail(e))?;
        Ok(Some(version as u64))
    }
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    let role: String = row.get(2)?;
    Ok(TokenRecord {
        id: row.get(0)?,
        agency: row.get(1)?,
        role: TokenRole::stored(&role),
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
    use govledger_domain::Timestamp;

    use super::*;
    use crate::{IssueOptions, TOKEN_PREFIX, Tokens, hash_token};

    #[test]
    fn the_file_holds_hashes_only_and_a_second_handle_sees_revocations_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Tokens::open_file(dir.path()).unwrap();
        let issued = store.issue("bank-a", TokenRole::Agency).unwrap();
        let raw = std::fs::read(dir.path().join(TOKENS_FILE)).unwrap();
        let needle = issued.secret.as_bytes();
        assert!(!raw.windows(needle.len()).any(|w| w == needle), "the token itself is stored");
        assert_eq!(store.authenticate(&issued.secret).unwrap().unwrap().agency, "bank-a");
        // A second handle (the CLI while a server runs): its revocation moves
        // `data_version`, so the first handle refuses the token on its next
        // lookup, however long it would remember it.
        let store = store.with_remember_for(std::time::Duration::from_secs(3_600));
        assert!(store.authenticate(&issued.secret).unwrap().is_some());
        assert!(store.is_live(&issued.record.id).unwrap());
        let other = Tokens::open_file(dir.path()).unwrap();
        assert!(other.revoke(&issued.record.id).unwrap().revoked_at.is_some());
        assert_eq!(store.authenticate(&issued.secret).unwrap(), None);
        assert!(!store.is_live(&issued.record.id).unwrap());
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
        let store = Tokens::open_file(dir.path()).unwrap();
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
        let eager = Tokens::open_file(dir.path()).unwrap().with_last_use_every(std::time::Duration::ZERO);
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
        let store = Tokens::open_file(dir.path()).unwrap();
        let record = store.authenticate(&secret).unwrap().unwrap();
        assert_eq!((record.id.as_str(), record.label.clone(), record.expires_at.clone()), ("tk-old", None, None));
        assert!(last_used(dir.path(), "tk-old").is_some());
        // Opening it again (another process) finds the columns there.
        Tokens::open_file(dir.path()).unwrap();
    }
}
