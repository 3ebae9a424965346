//! `govledger migrate --from STORE --to STORE`: moves a ledger between stores
//! (a data directory, a KurrentDB stream, a PostgreSQL schema: any store
//! implementing the storage contract) keeping every seq, `recorded_at` and hash. The stored
//! events are written as they are (`Encoded`: the stored bytes and hash)
//! through the target's `LogWriter` — never sealed again — after the chain
//! is checked event by event with the ledger's `Verifier`. The target must
//! be empty; a gap, a broken link or a hash mismatch in the source stops the
//! move before that event is written. Writes go in transactions that fit
//! the target's largest one, so an interrupted move leaves a verified prefix
//! of the chain in the target (remove it before moving again).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use govledger_ledger::{Encoded, Head, LogReader, LogWriter, StoredEvent, TransactionLimit, Verifier};

/// Events per target transaction unless its limit says fewer.
const CHUNK: usize = 4_096;

/// `govledger migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to read: a data directory (embedded store), a KurrentDB URL or a PostgreSQL URL.
    #[arg(long)]
    pub from: String,
    /// The empty store to write: a data directory (created if missing), a KurrentDB URL or a
    /// PostgreSQL URL (its schema is created if missing).
    #[arg(long)]
    pub to: String,
}

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The target's head after the move: the source's.
    pub head: Head,
    /// Target transactions written.
    pub transactions: u64,
}

/// Moves every event of `from` into the empty store of `to` (its reader and
/// writer), checking the chain as it goes; `progress` gets the events moved.
pub fn migrate(
    from: &dyn LogReader,
    to_reader: &dyn LogReader,
    to: &mut dyn LogWriter,
    progress: &mut dyn FnMut(u64),
) -> Result<Moved> {
    if let Some(head) = to_reader.anchor()? {
        bail!(
            "the target store is not empty (it holds events up to seq {}): migrate writes only into an empty store",
            head.seq
        );
    }
    let limit = to.transaction_limit();
    let mut verifier = Verifier::new();
    let mut committed = Head::genesis();
    let mut chunk: Vec<Encoded> = Vec::new();
    let mut bytes = 0;
    let mut transactions = 0;
    let mut failure: Option<anyhow::Error> = None;
    let mut flush = |chunk: &mut Vec<Encoded>, committed: &mut Head| -> Result<u64> {
        let Some(last) = chunk.last() else { return Ok(0) };
        let head =
            Head { seq: last.event.seq, hash: last.event.hash.clone(), recorded_at: last.event.recorded_at.clone() };
        to.begin(committed.seq)?;
        to.write(chunk).and_then(|()| to.commit(&head)).inspect_err(|_| to.rollback())?;
        *committed = head;
        chunk.clear();
        Ok(1)
    };
    from.scan_raw(0, &mut |row| {
        let step = (|| -> Result<()> {
            verifier.push(Some(row.seq), row.body, row.hash).map_err(|f| {
                anyhow::anyhow!(
                    "the source's chain does not verify at seq {}: {} ({})",
                    f.seq,
                    f.problem.code(),
                    f.detail
                )
            })?;
            let event = StoredEvent::from_body(row.body, row.hash)
                .map_err(|e| anyhow::anyhow!("seq {}: the stored event is unreadable: {e}", row.seq))?;
            let encoded = Encoded { event, body: row.body.to_vec() };
            let size = TransactionLimit::bytes_of(&encoded);
            if let Some(limit) = &limit {
                if size > limit.max_bytes {
                    bail!("seq {} alone does not fit in one transaction of the target: {}", row.seq, limit.raise_with);
                }
                if bytes + size > limit.max_bytes {
                    transactions += flush(&mut chunk, &mut committed)?;
                    bytes = 0;
                }
            }
            bytes += size;
            chunk.push(encoded);
            if chunk.len() >= CHUNK {
                transactions += flush(&mut chunk, &mut committed)?;
                bytes = 0;
                progress(committed.seq);
            }
            Ok(())
        })();
        match step {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e.context(format!("the target holds the verified events up to seq {}", committed.seq)));
    }
    transactions += flush(&mut chunk, &mut committed)?;
    progress(committed.seq);
    verifier
        .finish(from.anchor()?.as_ref())
        .map_err(|f| anyhow::anyhow!("the source's chain does not verify at seq {}: {}", f.seq, f.detail))?;
    let written = to_reader.anchor()?.unwrap_or_else(Head::genesis);
    if written != committed || committed != *verifier.head() {
        bail!(
            "the target's head (seq {}, {}) is not the source's (seq {}, {})",
            written.seq,
            written.hash,
            verifier.head().seq,
            verifier.head().hash
        );
    }
    Ok(Moved { head: committed, transactions })
}

/// A store named on the command line: its reader and writer.
fn open(spec: &str) -> Result<(Box<dyn LogWriter>, std::sync::Arc<dyn LogReader>)> {
    if govledger_store_kurrentdb::KurrentConfig::is_kurrentdb_url(spec) {
        let config = govledger_store_kurrentdb::KurrentConfig::parse(spec)?;
        let store = govledger_store_kurrentdb::KurrentStore::connect(&config)
            .with_context(|| format!("cannot connect to KurrentDB stream {:?}", config.stream))?;
        return Ok((Box::new(store.writer()), store.reader()));
    }
    if govledger_store_postgres::PgConfig::is_postgres_url(spec) {
        let config = govledger_store_postgres::PgConfig::parse(spec)?;
        let store = govledger_store_postgres::PgStore::connect(&config)
            .with_context(|| format!("cannot use PostgreSQL at {}", config.target()))?;
        let writer = store.writer().with_context(|| format!("cannot write to PostgreSQL at {}", config.target()))?;
        return Ok((Box::new(writer), store.reader()));
    }
    let dir = PathBuf::from(spec);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (writer, reader) =
        govledger_store_embedded::open(&dir).with_context(|| format!("cannot open the store in {}", dir.display()))?;
    Ok((Box::new(writer), reader))
}

/// Runs `govledger migrate`.
pub fn run(args: &MigrateArgs) -> Result<ExitCode> {
    let (_, from) = open(&args.from)?;
    let (mut writer, to_reader) = open(&args.to)?;
    let total = from.anchor()?.map_or(0, |h| h.seq);
    eprintln!("moving {total} events");
    let moved = migrate(from.as_ref(), to_reader.as_ref(), writer.as_mut(), &mut |done| {
        eprintln!("{done} / {total} events moved and verified");
    })?;
    println!(
        "moved {} events in {} transactions; head seq {} hash {}",
        moved.head.seq, moved.transactions, moved.head.seq, moved.head.hash
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests;
