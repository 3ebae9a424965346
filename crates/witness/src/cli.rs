//! `govledger witness ...`: the witness's commands, for the `govledger` binary
//! to mount as a subcommand. `key` creates the witness key; `serve` runs the
//! witness until SIGINT or SIGTERM.
//!
//! `serve` prints the witness's verifier key, then `listening on http://ADDR`
//! once the socket is bound (with `--listen 127.0.0.1:0` the OS picks the
//! port; scripts and tests read the line).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use govledger_tlog::keys::LogVerifier;

use crate::state::{StateError, WitnessState};
use crate::witness::Witness;

/// The key name `serve` gives a key it creates when no `--name` is given.
pub const DEFAULT_NAME: &str = "govledger-witness";

#[derive(clap::Subcommand, Debug)]
pub enum WitnessCommand {
    /// Create the witness's key (DIR/witness.key, readable only by its owner) and print its verifier key.
    Key {
        /// The witness directory.
        #[arg(long)]
        dir: PathBuf,
        /// The witness's name: a schema-less URL naming it, e.g. witness.agency.example/w1.
        #[arg(long)]
        name: String,
    },
    /// Run the witness (C2SP tlog-witness: POST /add-checkpoint, GET /ORIGIN_HASH/checkpoint).
    Serve {
        /// The witness directory: key, latest cosigned checkpoints, evidence of forks.
        #[arg(long)]
        dir: PathBuf,
        /// Address to listen on (port 0: any free port; the bound address is printed).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// The verifier key of a log to witness (NAME+HEX8+BASE64, as `govledger` prints it;
        /// the name is the log's origin). Repeat for several logs.
        #[arg(long = "log-key", required = true)]
        log_key: Vec<String>,
        /// The name of the key to create when DIR holds none.
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
}

/// Runs one witness command.
pub fn run(cmd: WitnessCommand) -> Result<ExitCode> {
    match cmd {
        WitnessCommand::Key { dir, name } => key(&dir, &name),
        WitnessCommand::Serve { dir, listen, log_key, name } => serve(dir, listen, &log_key, &name),
    }
}

fn key(dir: &std::path::Path, name: &str) -> Result<ExitCode> {
    let state = WitnessState::open(dir)?;
    match state.create_key(name) {
        Ok(signer) => {
            println!("{}", signer.verifier_key());
            eprintln!(
                "created the witness key {}; give the verifier key above to the logs",
                state.key_path().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ StateError::KeyExists { .. }) => {
            eprintln!("{e}");
            if let Ok(existing) = state.load_key() {
                eprintln!("its verifier key: {}", existing.verifier_key());
            }
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

fn serve(dir: PathBuf, listen: SocketAddr, log_keys: &[String], name: &str) -> Result<ExitCode> {
    let logs = log_keys
        .iter()
        .map(|k| LogVerifier::new(k).with_context(|| format!("the log key {k:?} is not a log verifier key")))
        .collect::<Result<Vec<_>>>()?;
    let state = WitnessState::open(&dir)?;
    let (_, created) = state.load_or_create_key(name)?;
    let witness = Arc::new(Witness::open(&dir, logs)?);
    if created {
        eprintln!("created the witness key {}", state.key_path().display());
    }
    println!("witness verifier key: {}", witness.verifier_key());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start tokio")?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let local = listener.local_addr()?;
        println!("listening on http://{local}");
        tracing::info!(address = %local, logs = ?witness.origins().collect::<Vec<_>>(), "witness listening");
        axum::serve(listener, crate::http::router(witness))
            .with_graceful_shutdown(async {
                let signal = shutdown_signal().await;
                tracing::info!(signal, "shutting down");
            })
            .await
            .context("the witness server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM; returns its name.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the witness");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}
