//! `govledger backup` and `govledger restore`: online backup of the
//! embedded store's data directory (the ledger and the token store) while a
//! server runs, and restore into a new data directory, verified before it
//! is put in place (see `govledger_store_embedded::backup`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use govledger_store_embedded::backup::Manifest;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The new directory to write the backup into (must not exist or be empty).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup directory (as written by `govledger backup`).
    #[arg(long)]
    from: PathBuf,
}

fn describe(m: &Manifest) -> String {
    match &m.head {
        Some(h) => format!("{} events, head seq {} hash {}", m.events, h.seq, h.hash),
        None => "an empty ledger".to_owned(),
    }
}

/// Backs up the data directory `dir` into `--out`.
pub fn backup(dir: &Path, args: BackupArgs) -> Result<ExitCode> {
    crate::store::require_embedded("backup")?;
    let bar = crate::progress_bar(None, "backing up");
    let tick = bar.clone();
    let manifest = govledger_store_embedded::backup::backup(
        dir,
        &args.out,
        &[govledger_api::auth::TOKENS_FILE],
        Some(Box::new(move || tick.tick())),
    );
    bar.finish_and_clear();
    let manifest = manifest.with_context(|| format!("cannot back up {} into {}", dir.display(), args.out.display()))?;
    println!(
        "backup written to {} and verified: {}; files: {}",
        args.out.display(),
        describe(&manifest),
        manifest.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Restores `--from` into the new data directory `dir`.
pub fn restore(dir: &Path, args: RestoreArgs) -> Result<ExitCode> {
    crate::store::require_embedded("restore")?;
    match govledger_store_embedded::backup::restore(&args.from, dir) {
        Ok(manifest) => {
            println!(
                "restored {} into {} and verified: {} (backup taken {})",
                args.from.display(),
                dir.display(),
                describe(&manifest),
                manifest.created_at
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: cannot restore {} into {}: {e}", args.from.display(), dir.display());
            eprintln!("nothing was restored");
            Ok(ExitCode::from(1))
        }
    }
}
