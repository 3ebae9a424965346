//! The store's tables and their versions. The schema (a PostgreSQL schema,
//! `govledger` unless the URL names another) holds:
//!
//! - `govledger_schema(version)`: the layout's version, one row;
//! - `events(seq, id, body, hash)`: each event's canonical bytes (`body` as
//!   text: RFC 8785 is UTF-8), `seq` the primary key and `id` UNIQUE, so
//!   idempotency is as durable as the events;
//! - `anchor(seq, hash, recorded_at)`: the head as of the last commit, one
//!   row, updated in every transaction (so `verify` detects a truncated
//!   tail) and locked by a writer from `begin` to `commit`, which is what
//!   orders several writers (server replicas).
//!
//! Migrations run in one transaction under an advisory lock, so replicas
//! starting together do not race; a version newer than this build knows is
//! refused, never written to.

use tokio_postgres::Client;

use govledger_ledger::StoreError;

use crate::conn::describe;
use crate::{PgConfig, col};

/// The newest layout this build writes and reads.
pub const SCHEMA_VERSION: i32 = 2;

/// Migration `n` takes a schema at version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE events (
    seq  bigint PRIMARY KEY CHECK (seq > 0),
    id   uuid NOT NULL UNIQUE,
    body text NOT NULL,
    hash text NOT NULL
);
CREATE TABLE anchor (
    one         int PRIMARY KEY CHECK (one = 1),
    seq         bigint NOT NULL,
    hash        text NOT NULL,
    recorded_at text NOT NULL
);
INSERT INTO anchor (one, seq, hash, recorded_at) VALUES (1, 0, '', '');
",
    "
CREATE TABLE tokens (
    id           text PRIMARY KEY,
    sha256       text NOT NULL UNIQUE,
    agency       text NOT NULL,
    role         text NOT NULL,
    created_at   text NOT NULL,
    revoked_at   text,
    label        text,
    expires_at   text,
    last_used_at text
);
",
];

/// Creates or upgrades the schema, or refuses one from a newer govledger.
pub(crate) async fn migrate(client: &Client, config: &PgConfig) -> Result<(), StoreError> {
    let schema = &config.schema;
    // The key of the advisory lock: any constant; per schema would need a hash.
    let script = format!(
        "BEGIN;
         SELECT pg_advisory_xact_lock(7151031922);
         CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {schema}.govledger_schema (
             one     int PRIMARY KEY CHECK (one = 1),
             version int NOT NULL
         );
         INSERT INTO {schema}.govledger_schema (one, version) VALUES (1, 0) ON CONFLICT (one) DO NOTHING;"
    );
    client.batch_execute(&script).await.map_err(|e| describe(&e, config))?;
    let result = upgrade(client, config).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await.map_err(|e| describe(&e, config))?;
    result
}

async fn upgrade(client: &Client, config: &PgConfig) -> Result<(), StoreError> {
    let schema = &config.schema;
    let row = client
        .query_one(&format!("SELECT version FROM {schema}.govledger_schema WHERE one = 1"), &[])
        .await
        .map_err(|e| describe(&e, config))?;
    let found: i32 = col(&row, 0)?;
    check_version(found, config)?;
    for (from, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        client
            .batch_execute(&format!("SET LOCAL search_path TO {schema}; {migration}"))
            .await
            .map_err(|e| describe(&e, config))?;
        client
            .execute(&format!("UPDATE {schema}.govledger_schema SET version = $1 WHERE one = 1"), &[&(from as i32 + 1)])
            .await
            .map_err(|e| describe(&e, config))?;
    }
    Ok(())
}

/// Refuses a layout this build does not know.
pub(crate) fn check_version(found: i32, config: &PgConfig) -> Result<(), StoreError> {
    if !(0..=SCHEMA_VERSION).contains(&found) {
        return Err(StoreError::Corrupt {
            seq: 0,
            reason: format!(
                "schema {:?} in {} has govledger schema version {found}; this govledger knows versions up to \
                 {SCHEMA_VERSION}: run a newer govledger (a schema is never downgraded)",
                config.schema,
                config.target()
            ),
        });
    }
    Ok(())
}

/// Reads the version of an existing schema without changing anything (for
/// read-only opens, which may point at a standby).
pub(crate) async fn check_existing(client: &Client, config: &PgConfig) -> Result<(), StoreError> {
    let schema = &config.schema;
    let row = client
        .query_opt(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'govledger_schema'",
            &[schema],
        )
        .await
        .map_err(|e| describe(&e, config))?;
    let version: i32 = match row {
        Some(_) => {
            let row = client
                .query_one(&format!("SELECT version FROM {schema}.govledger_schema WHERE one = 1"), &[])
                .await
                .map_err(|e| describe(&e, config))?;
            col(&row, 0)?
        }
        None => 0,
    };
    if version == 0 {
        return Err(StoreError::Io(format!(
            "schema {schema:?} in {} holds no ledger; run `govledger import` or `govledger serve` against it first",
            config.target()
        )));
    }
    check_version(version, config)
}
