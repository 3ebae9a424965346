//! The tokens of a ledger on PostgreSQL: the `tokens` table of its schema
//! (migration 2, [`crate::schema`]), so that every replica reads the tokens
//! that `govledger token` writes from any host. Each call is one statement
//! on the store's pool; nothing is remembered here (`Tokens` does that,
//! within its bound).

use std::sync::Arc;

use govledger_credentials::{StoredToken, TokenBackend, TokenError, TokenRecord, TokenRole};
use govledger_ledger::StoreError;

use crate::conn::{describe, is_unique_violation, pooled};
use crate::{Shared, col};

/// What a [`TokenRecord`] is read from, in [`record`]'s order, then the hash.
const COLUMNS: &str = "id, agency, role, created_at, revoked_at, label, expires_at, last_used_at, sha256";

/// The `tokens` table of one ledger's schema.
pub struct PgTokens {
    pub(crate) shared: Arc<Shared>,
}

fn record(row: &tokio_postgres::Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: col(row, 0)?,
        agency: col(row, 1)?,
        role: TokenRole::stored(col::<&str>(row, 2)?),
        created_at: col(row, 3)?,
        revoked_at: col(row, 4)?,
        label: col(row, 5)?,
        expires_at: col(row, 6)?,
        last_used_at: col(row, 7)?,
    })
}

enum Insert {
    Done,
    Duplicate,
}

impl PgTokens {
    fn fail(&self, e: StoreError) -> TokenError {
        TokenError::Store { store: self.describe(), message: e.to_string() }
    }

    /// The token whose `column` is `value`.
    fn one(&self, column: &'static str, value: &str) -> Result<Option<TokenRecord>, TokenError> {
        let value = value.to_owned();
        self.shared
            .block(move |pool, config| async move {
                let client = pooled(&pool, &config).await?;
                let stmt = client
                    .prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE {column} = $1"))
                    .await
                    .map_err(|e| describe(&e, &config))?;
                let row = client.query_opt(&stmt, &[&value]).await.map_err(|e| describe(&e, &config))?;
                row.as_ref().map(record).transpose()
            })
            .map_err(|e| self.fail(e))
    }
}

impl TokenBackend for PgTokens {
    fn describe(&self) -> String {
        format!("PostgreSQL at {} (schema {:?}, table tokens)", self.shared.config.target(), self.shared.config.schema)
    }

    fn insert(&self, token: &StoredToken) -> Result<(), TokenError> {
        let t = token.clone();
        let outcome = self
            .shared
            .block(move |pool, config| async move {
                let client = pooled(&pool, &config).await?;
                let r = &t.record;
                let inserted = client
                    .execute(
                        "INSERT INTO tokens (id, sha256, agency, role, created_at, revoked_at, label, expires_at, \
                         last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        &[
                            &r.id,
                            &t.sha256,
                            &r.agency,
                            &r.role.as_str(),
                            &r.created_at,
                            &r.revoked_at,
                            &r.label,
                            &r.expires_at,
                            &r.last_used_at,
                        ],
                    )
                    .await;
                match inserted {
                    Ok(_) => Ok(Insert::Done),
                    Err(e) if is_unique_violation(&e) => Ok(Insert::Duplicate),
                    Err(e) => Err(describe(&e, &config)),
                }
            })
            .map_err(|e| self.fail(e))?;
        match outcome {
            Insert::Done => Ok(()),
            Insert::Duplicate => Err(TokenError::Duplicate(token.record.id.clone())),
        }
    }

    fn all(&self) -> Result<Vec<StoredToken>, TokenError> {
        self.shared
            .block(|pool, config| async move {
                let client = pooled(&pool, &config).await?;
                let rows = client
                    .query(&format!("SELECT {COLUMNS} FROM tokens ORDER BY created_at, id"), &[])
                    .await
                    .map_err(|e| describe(&e, &config))?;
                rows.iter().map(|row| Ok(StoredToken { record: record(row)?, sha256: col(row, 8)? })).collect()
            })
            .map_err(|e| self.fail(e))
    }

    fn revoke(&self, id: &str, at: &str) -> Result<TokenRecord, TokenError> {
        let (id_owned, at) = (id.to_owned(), at.to_owned());
        self.shared
            .block(move |pool, config| async move {
                let client = pooled(&pool, &config).await?;
                let row = client
                    .query_opt(
                        &format!(
                            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING {COLUMNS}"
                        ),
                        &[&id_owned, &at],
                    )
                    .await
                    .map_err(|e| describe(&e, &config))?;
                row.as_ref().map(record).transpose()
            })
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| TokenError::UnknownId(id.to_owned()))
    }

    fn by_hash(&self, sha256: &str) -> Result<Option<TokenRecord>, TokenError> {
        self.one("sha256", sha256)
    }

    fn by_id(&self, id: &str) -> Result<Option<TokenRecord>, TokenError> {
        self.one("id", id)
    }

    fn record_use(&self, id: &str, at: &str) -> Result<(), TokenError> {
        let (id, at) = (id.to_owned(), at.to_owned());
        self.shared
            .block(move |pool, config| async move {
                let client = pooled(&pool, &config).await?;
                client
                    .execute("UPDATE tokens SET last_used_at = $2 WHERE id = $1", &[&id, &at])
                    .await
                    .map(drop)
                    .map_err(|e| describe(&e, &config))
            })
            .map_err(|e| self.fail(e))
    }
}
