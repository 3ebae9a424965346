//! `govledger serve`: the server (SPEC 4) on the embedded store in the data
//! directory, or on a KurrentDB cluster or PostgreSQL (`--store`) as one of
//! several replicas, which share the store's tokens — HTTP and GraphQL from `govledger-api`, on tokio. On a shared
//! store a follower task keeps the ledger current with the other replicas'
//! events (`store::follow`).
//!
//! It prints `listening on http://ADDR` on standard output once the socket
//! is bound (with `--listen 127.0.0.1:0` the OS picks the port; scripts and
//! tests read the line). On SIGINT or SIGTERM it stops accepting
//! connections, ends subscriptions, lets in-flight requests finish (at most
//! `--grace-s` seconds), then closes the ledger, which completes every
//! append already handed to the writer, and exits 0. The listener and its
//! time and connection limits are `crate::listen`'s.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use govledger_api::{AgencyIndex, AppState, Limits, TokenRole, Tokens};
use tokio::sync::watch;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", env = "GOVLEDGER_LISTEN")]
    pub(crate) listen: SocketAddr,
    /// Start on a freshly generated demo city when the data directory holds no
    /// ledger yet, and print a coordinator token for it.
    #[arg(long, env = "GOVLEDGER_DEMO")]
    demo: bool,
    /// Seconds in-flight requests get to finish after a shutdown signal.
    #[arg(long, default_value_t = 30, env = "GOVLEDGER_GRACE_S")]
    pub(crate) grace_s: u64,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = Limits::default().max_body_bytes, env = "GOVLEDGER_MAX_BODY_BYTES")]
    pub(crate) max_body_bytes: usize,
    /// Most events in one batch.
    #[arg(long, default_value_t = Limits::default().max_batch_events, env = "GOVLEDGER_MAX_BATCH_EVENTS")]
    pub(crate) max_batch_events: usize,
    /// A request's headers must arrive within this many milliseconds (else the connection is closed).
    #[arg(long, default_value_t = 10_000, env = "GOVLEDGER_HEADER_TIMEOUT_MS")]
    pub(crate) header_timeout_ms: u64,
    /// At most this many milliseconds between two pieces of a request body (else the request is refused).
    #[arg(long, default_value_t = 30_000, env = "GOVLEDGER_BODY_TIMEOUT_MS")]
    pub(crate) body_timeout_ms: u64,
    /// Open connections at most (WebSockets included); a connection beyond it is closed at once.
    #[arg(long, default_value_t = 10_000, env = "GOVLEDGER_MAX_CONNECTIONS")]
    pub(crate) max_connections: u32,
    /// On a shared store (KurrentDB): at most this many milliseconds between
    /// catching up with other replicas (the store's notifications usually come first).
    #[arg(long, default_value_t = 1_000, env = "GOVLEDGER_FOLLOW_INTERVAL_MS")]
    pub(crate) follow_interval_ms: u64,
    /// The assessment model for the `assessment` and `scorecard` queries and
    /// the dashboard (default: the built-in schema/model-v1.toml).
    #[arg(long, env = "GOVLEDGER_MODEL")]
    pub(crate) model: Option<std::path::PathBuf>,
    /// The log's origin (checkpoint origin line and key name), used only when
    /// the first start creates the log key (SPEC 6.2).
    #[arg(long, default_value = crate::proofs::DEFAULT_ORIGIN, env = "GOVLEDGER_ORIGIN")]
    pub(crate) origin: String,
    /// While the head moves, sign a checkpoint at most this often (milliseconds).
    #[arg(long, default_value_t = 2_000, env = "GOVLEDGER_CHECKPOINT_INTERVAL_MS")]
    pub(crate) checkpoint_interval_ms: u64,
    /// A witness to submit checkpoints to, as `URL,VERIFIER_KEY` (repeat for several; SPEC 6.4;
    /// in the variable, separate them with `;`).
    #[arg(long = "witness", env = "GOVLEDGER_WITNESSES", value_delimiter = ';')]
    pub(crate) witnesses: Vec<String>,
    /// Cosignatures a checkpoint needs to count as witnessed (default: every configured witness).
    #[arg(long, env = "GOVLEDGER_QUORUM")]
    pub(crate) quorum: Option<usize>,
    /// A file holding the token a Prometheus scraper may present for `/metrics`
    /// (besides coordinator and auditor tokens). A file, so that the secret is
    /// never in the process's arguments.
    #[arg(long, env = "GOVLEDGER_METRICS_TOKEN_FILE")]
    pub(crate) metrics_token_file: Option<std::path::PathBuf>,
    /// While the head moves, save the validation state's snapshot and the
    /// projection's checkpoint at most this often (seconds), so that a restart
    /// folds only the events since; they are also saved at a clean stop.
    #[arg(long, default_value_t = 300, env = "GOVLEDGER_SNAPSHOT_INTERVAL_S")]
    pub(crate) snapshot_interval_s: u64,
    /// The dashboard's and error pages' language when the browser's Accept-Language names
    /// none we have: zh-CN (default) or en.
    #[arg(long, env = "GOVLEDGER_LANG", value_parser = crate::config::parse_lang)]
    pub(crate) lang: Option<govledger_i18n::Lang>,
    /// The time zone (IANA name) of the dashboard: its dates are midnight there, times and
    /// months are shown there (default Asia/Shanghai).
    #[arg(long, env = "GOVLEDGER_TZ", value_parser = crate::config::parse_zone)]
    pub(crate) tz: Option<govledger_i18n::Zone>,
}

impl ServeArgs {
    /// The scrape token of `--metrics-token-file`, if given.
    fn scrape_token(&self) -> Result<Option<govledger_api::ScrapeToken>> {
        let Some(path) = &self.metrics_token_file else { return Ok(None) };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the metrics token file {}", path.display()))?;
        govledger_api::ScrapeToken::new(&text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("the metrics token file {}: {e}", path.display()))
    }

    /// The transparency log's configuration: the key in `dir` (created at the
    /// first start), the witnesses and the quorum.
    fn log_config(&self, dir: &Path) -> Result<govledger_api::LogConfig> {
        let kept = crate::proofs::tlog_dir(dir).join(govledger_transparency::CHECKPOINTS_FILE);
        if !crate::proofs::key_path(dir).exists() && kept.exists() {
            let store = govledger_transparency::CheckpointStore::open(&crate::proofs::tlog_dir(dir))?;
            if let Some(latest) = store.latest()? {
                anyhow::bail!(
                    "{} is missing, but checkpoints up to size {} were signed with it: put the log's key back \
                     (ops/RUNBOOK.md, \"The log key\") instead of starting the log under a new key",
                    crate::proofs::key_path(dir).display(),
                    latest.size
                );
            }
        }
        let (signer, created) = crate::proofs::load_or_create_key(dir, &self.origin)?;
        if created {
            eprintln!("created the log key {} (keep it private; back it up)", crate::proofs::key_path(dir).display());
        }
        let witnesses = self
            .witnesses
            .iter()
            .map(|w| {
                let (url, vkey) =
                    w.split_once(',').with_context(|| format!("--witness {w:?}: give URL,VERIFIER_KEY"))?;
                let verifier = govledger_tlog::keys::WitnessVerifier::new(vkey.trim())
                    .map_err(|e| anyhow::anyhow!("--witness {w:?}: the verifier key is not valid: {e}"))?;
                Ok(govledger_api::WitnessConfig { url: url.trim().to_owned(), verifier })
            })
            .collect::<Result<Vec<_>>>()?;
        let quorum = self.quorum.unwrap_or(witnesses.len());
        if quorum > witnesses.len() {
            anyhow::bail!("--quorum {quorum} is more than the {} witnesses configured", witnesses.len());
        }
        Ok(govledger_api::LogConfig { signer, witnesses, quorum })
    }
}

pub fn serve(dir: &Path, args: ServeArgs) -> Result<ExitCode> {
    // A bad model stops the start before anything is written.
    let model = crate::load_model(args.model.as_deref())?;
    let mut demo_token = None;
    let empty = crate::store::holds_no_event(dir)?;
    if empty && !args.demo {
        // Served as it is, an empty ledger refuses every request: say how to begin instead.
        eprintln!("error: {}", crate::init::how_to_bootstrap(dir));
        return Ok(ExitCode::from(2));
    }
    if args.demo && empty {
        // The same path as `govledger demo`: every event through the ledger's rules.
        let code = crate::demo(dir, 2026, 1.0, None)?;
        if code != ExitCode::SUCCESS {
            return Ok(code);
        }
        demo_token = Some(issue_demo_token(dir)?);
    } else if args.demo {
        eprintln!(
            "{} already holds a ledger; serving it as it is (--demo writes only into an empty one)",
            dir.display()
        );
    }

    let log_config = args.log_config(dir)?;
    let scrape_token = args.scrape_token()?;
    println!("log verifier key: {}", log_config.signer.verifier_key());
    let crate::store::Opened { ledger, follow } = crate::store::open(dir)?;
    let log = govledger_api::Transparency::open(&crate::proofs::tlog_dir(dir), log_config, ledger.reader().as_ref())
        .context("cannot open the transparency log (tree and checkpoints)")?;
    // The assessment queries' projection: the checkpoint plus the events since.
    let projection = crate::projection::load(dir, ledger.reader().as_ref(), &mut |_| {})?;
    let tokens = crate::store::tokens(dir)?;
    crate::store::warn_of_unread_token_file(dir);
    let limits =
        Limits { max_body_bytes: args.max_body_bytes, max_batch_events: args.max_batch_events, ..Limits::default() };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start tokio")?;
    let assessor = std::sync::Arc::new(govledger_api::Assessor::new(projection, model));
    let log = std::sync::Arc::new(log);
    let derived = Derived { assessor: assessor.clone(), log, scrape_token, dir: dir.to_owned() };
    let served = runtime.block_on(run(ledger.clone(), tokens, limits, &args, demo_token, follow, derived));
    // Every request has finished or been abandoned. The snapshots at the
    // final head, so that the next start folds nothing (appends still queued
    // are folded then); then `close` completes those appends and waits for
    // the writer, so each one that was accepted is durable before the
    // process exits.
    if let Err(e) = assessor.catch_up(&ledger, ledger.head().seq) {
        tracing::warn!(error = ?e, "cannot bring the projection to the head; saving it where it is");
    }
    let _ = crate::snapshots::save(dir, &ledger, &assessor);
    ledger.close();
    runtime.shutdown_timeout(Duration::from_secs(1));
    served?;
    let head = ledger.head();
    println!("stopped; head seq {} hash {}", head.seq, head.hash);
    Ok(ExitCode::SUCCESS)
}

/// What the server keeps derived from the log beside it: the assessment
/// projection and the transparency log (Merkle tree and checkpoints).
struct Derived {
    assessor: std::sync::Arc<govledger_api::Assessor>,
    log: std::sync::Arc<govledger_api::Transparency>,
    /// The `/metrics` scrape token, if configured (not derived from the log; kept with what the state is built from).
    scrape_token: Option<govledger_api::ScrapeToken>,
    /// The data directory, where the state snapshot and the projection checkpoint are kept.
    dir: std::path::PathBuf,
}

async fn run(
    ledger: govledger_ledger::Ledger,
    tokens: Tokens,
    limits: Limits,
    args: &ServeArgs,
    demo_token: Option<(String, String)>,
    follow: Option<watch::Receiver<u64>>,
    derived: Derived,
) -> Result<()> {
    let Derived { assessor, log, scrape_token, dir } = derived;
    let (stop_tx, stop_rx) = watch::channel(false);
    if let Some(known) = follow {
        let interval = Duration::from_millis(args.follow_interval_ms.max(10));
        tokio::spawn(crate::store::follow(ledger.clone(), known, interval, stop_rx.clone()));
    }
    let state = AppState::new(ledger.clone(), tokens, limits, stop_rx.clone())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .with_assessor(assessor.clone())
        .with_transparency(log.clone())
        .with_locale(govledger_i18n::Locale { lang: args.lang.unwrap_or_default(), zone: args.tz.unwrap_or_default() });
    let state = match scrape_token {
        Some(token) => state.with_scrape_token(token),
        None => state,
    };
    tokio::spawn(govledger_api::assess::follow(ledger.clone(), assessor.clone(), stop_rx.clone()));
    if args.snapshot_interval_s > 0 {
        let interval = Duration::from_secs(args.snapshot_interval_s);
        tokio::spawn(crate::snapshots::keep(dir, ledger.clone(), assessor, interval, stop_rx.clone()));
    }
    tokio::spawn(govledger_api::transparency::follow(
        log,
        ledger.clone(),
        Duration::from_millis(args.checkpoint_interval_ms.max(10)),
        stop_rx.clone(),
    ));
    // Warm the agency index before the first request.
    state.agencies().await.map_err(|e| anyhow::anyhow!("cannot read the ledger: {e:?}"))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let head = ledger.head();
    if let Some((agency, token)) = demo_token {
        println!("demo coordinator token (agency {agency}), shown once: {token}");
    }
    println!("listening on http://{local}");
    tracing::info!(address = %local, head_seq = head.seq, "listening");

    let connections = crate::listen::ConnectionLimits {
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
        max_connections: args.max_connections,
    };
    let server = crate::listen::serve_http(listener, govledger_api::app(state), connections, stop_rx.clone());
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => result.context("the server failed")?,
        signal = shutdown_signal() => {
            tracing::info!(signal, "shutting down: no new connections; finishing in-flight requests");
            stop_tx.send_replace(true);
            match tokio::time::timeout(Duration::from_secs(args.grace_s), &mut server).await {
                Ok(result) => result.context("the server failed")?,
                Err(_) => tracing::warn!(grace_s = args.grace_s, "requests still running after the grace period; stopping"),
            }
        }
    }
    Ok(())
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM; returns its name.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// A coordinator token for the demo city's coordination office, so that a
/// new user can query at once. Returns (agency, token).
fn issue_demo_token(dir: &Path) -> Result<(String, String)> {
    let reader = crate::store::open_reader(dir)?;
    let projection = crate::projection::load(dir, reader.as_ref(), &mut |_| {})?;
    let index = AgencyIndex::new();
    index.follow(reader.as_ref(), &projection)?;
    let coordinator = index
        .all()
        .into_iter()
        .find(|a| a.has_role(govledger_domain::catalog::Role::Coordinator))
        .context("the demo city has no coordinator agency")?;
    let issued = crate::store::tokens(dir)?.issue(&coordinator.agency_id, TokenRole::Coordinator)?;
    Ok((coordinator.agency_id, issued.secret))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_serve_flag_has_a_govledger_variable_shown_in_help() {
        let mut command = <crate::Cli as clap::CommandFactory>::command();
        let serve = command.find_subcommand_mut("serve").expect("the serve command");
        let mut seen = 0;
        for arg in serve.get_arguments().filter(|a| a.get_long().is_some() && !a.is_global_set()) {
            let long = arg.get_long().unwrap_or_default();
            if long == "help" {
                continue;
            }
            let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_else(|| panic!("--{long} has no variable"));
            assert!(env.starts_with("GOVLEDGER_"), "--{long}: {env}");
            assert!(!arg.is_hide_env_set(), "--{long}: its variable is hidden from --help");
            seen += 1;
        }
        assert_eq!(seen, 18, "every flag of ServeArgs is examined");
        let help = serve.render_long_help().to_string();
        assert!(help.contains("[env: GOVLEDGER_LISTEN=]") && help.contains("[env: GOVLEDGER_WITNESSES=]"), "{help}");
    }
}
