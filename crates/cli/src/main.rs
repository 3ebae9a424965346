//! The `govledger` command line: argument parsing and wiring only. Every
//! command works on the embedded store in `--data-dir` (default `./data`),
//! on a KurrentDB cluster with `--store kurrentdb://…`, or on PostgreSQL with
//! `--store postgres://…` (`store.rs`);
//! `--config FILE` supplies defaults (`config.rs`).

mod assess;
mod backup;
mod config;
mod init;
mod listen;
mod migrate;
mod projection;
mod proofs;
mod publish;
mod redact;
mod report;
mod serve;
mod snapshots;
mod store;
mod token;

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, TimeZone, Utc};
use clap::{Parser, Subcommand};
use govledger_domain::{ErrorCode, Rejection, Submission};
use govledger_ledger::{ImportError, ImportItem, Ledger};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(name = "govledger", version, about = "Tamper-evident ledger of anti-fraud governance actions")]
struct Cli {
    /// The data directory of the embedded store.
    #[arg(long, global = true, default_value = "./data", env = "GOVLEDGER_DATA_DIR")]
    data_dir: PathBuf,
    /// Where the ledger is: `embedded` (the data directory; the default), a KurrentDB
    /// cluster, e.g. kurrentdb://127.0.0.1:2113?tls=false (also stream=NAME, max_append_bytes=N),
    /// or PostgreSQL, e.g. postgres://govledger@db:5432/govledger (also schema=NAME, commit_timeout=SECONDS).
    /// Its password is never printed (nor the variable's value in this help).
    #[arg(long, global = true, env = "GOVLEDGER_STORE", hide_env_values = true)]
    store: Option<String>,
    /// A govledger.toml with data_dir, store and [serve] settings; flags and variables win over it.
    #[arg(long, global = true, env = "GOVLEDGER_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines on standard error as `text` (for people) or `json` (one object a line: timestamp,
    /// level, target, message and the event's fields). Which lines: GOVLEDGER_LOG, an EnvFilter
    /// directive such as `info` or `warn,govledger_api=debug` (default: info for serve, warn otherwise).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "GOVLEDGER_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Append the events of an NDJSON file (or - for stdin) as one atomic batch.
    Import {
        /// NDJSON of submitted envelopes, one per line; `-` reads standard input.
        file: PathBuf,
    },
    /// Write every stored event as NDJSON (stored envelopes with seq and hash).
    Export {
        /// Only events after this seq.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Recompute the hash chain; exits 1 and names the first bad seq if it is broken.
    Verify {
        /// Print the report as JSON (codes, in no language).
        #[arg(long)]
        json: bool,
        /// The language of the answer: zh-CN (default) or en.
        #[arg(long, env = "GOVLEDGER_LANG", value_parser = config::parse_lang)]
        lang: Option<govledger_i18n::Lang>,
    },
    /// Write a seeded, realistic year of a mid-size city into an empty data directory.
    Demo {
        /// Seed of the generator.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Volume multiplier (1 ≈ 40,000 events; 25 ≈ 1,000,000).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// End of the generated year (RFC 3339); default: the start of the current month.
        #[arg(long)]
        until: Option<String>,
    },
    /// Assess every agency for a period (SPEC 3): indicators, scores, grades, ranking, evidence.
    Assess {
        #[command(flatten)]
        period: assess::PeriodArgs,
        /// Output: the JSON document of SPEC 3.4, or a ranking table (in --lang, times in --tz).
        #[arg(long, value_enum, default_value_t = assess::AssessFormat::Json)]
        format: assess::AssessFormat,
    },
    /// Explain one agency's score, indicator by indicator, in plain language.
    Scorecard {
        /// The agency id.
        agency: String,
        #[command(flatten)]
        period: assess::PeriodArgs,
    },
    /// Write an assessment report (html, md, csv, json), optionally publish its hash; `report verify FILE` checks one.
    Report(report::ReportArgs),
    /// Bootstrap an empty ledger: register the first coordinator and print its token (once).
    Init(init::InitArgs),
    /// Serve HTTP and GraphQL on the data directory (SPEC 4); `--demo` starts on a demo city.
    Serve(serve::ServeArgs),
    /// Manage bearer tokens: issue (printed once), list, revoke.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Move a ledger between stores (a data directory or a KurrentDB URL) keeping every seq, recorded_at and hash.
    Migrate(migrate::MigrateArgs),
    /// Back up the data directory while it is in use (ledger and tokens) into a new directory, verified.
    Backup(backup::BackupArgs),
    /// Restore a backup into a new, empty data directory (--data-dir), verified before it is put in place.
    Restore(backup::RestoreArgs),
    /// Create the log's signing key if there is none (serve does at its first start); print its verifier key.
    Key(proofs::KeyArgs),
    /// Print the latest signed checkpoint (or the one at --size) kept in the data directory.
    Checkpoint(proofs::CheckpointArgs),
    /// Inclusion and consistency proofs and receipts (SPEC 6.3); `proof verify` checks one offline.
    Proof {
        #[command(subcommand)]
        command: proofs::ProofCommand,
    },
    /// Run a witness for an agency (SPEC 6.4): cosigns the log's checkpoints while they stay consistent.
    Witness {
        #[command(subcommand)]
        command: govledger_witness::WitnessCommand,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// mimalloc instead of glibc's malloc: allocating and freeing were a fifth to
/// a half of the append writer's time (BENCHMARKS.md, durable append).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(e) = config::apply(&mut cli, &matches) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    // A server logs its requests by default; one-shot commands only warnings.
    let default_log = if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GOVLEDGER_LOG");
    let bad_filter =
        filter.as_ref().err().filter(|_| std::env::var_os("GOVLEDGER_LOG").is_some()).map(|e| e.to_string());
    let filter = filter.unwrap_or_else(|_| default_log.into());
    // The passwords of the store URLs this process was given: scrubbed from
    // every log line and error it prints (a client library may quote a URL).
    let secrets = secrets_of(&cli);
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(redact::Scrubbed::stderr(secrets.clone()));
    match cli.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(false).init(),
    }
    if let Some(e) = bad_filter {
        tracing::warn!(error = %e, default = default_log, "GOVLEDGER_LOG is not a valid filter; logging at the default level");
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", secrets.scrub(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// The passwords of every store URL on the command line, in the variables
/// and in the config file (`--store`, `migrate --from/--to`).
fn secrets_of(cli: &Cli) -> govledger_credentials::Secrets {
    let mut urls: Vec<&str> = cli.store.as_deref().into_iter().collect();
    if let Command::Migrate(args) = &cli.command {
        urls.extend([args.from.as_str(), args.to.as_str()]);
    }
    govledger_credentials::Secrets::of_urls(urls)
}

fn run(cli: Cli) -> Result<ExitCode> {
    let dir = cli.data_dir.as_path();
    store::select(store::Selection::parse(cli.store.as_deref())?);
    match cli.command {
        Command::Import { file } => import(dir, &file),
        Command::Export { after, out } => export(dir, after, out.as_deref()),
        Command::Verify { json, lang } => verify(dir, json, lang.unwrap_or_default()),
        Command::Demo { seed, scale, until } => demo(dir, seed, scale, until.as_deref()),
        Command::Assess { period, format } => assess::assess(dir, &period, format),
        Command::Scorecard { agency, period } => assess::scorecard(dir, &agency, &period),
        Command::Report(args) => report::run(dir, args),
        Command::Init(args) => init::init(dir, args),
        Command::Serve(args) => serve::serve(dir, args),
        Command::Token { command } => token::run(dir, command),
        Command::Migrate(args) => migrate::run(&args),
        Command::Backup(args) => backup::backup(dir, args),
        Command::Restore(args) => backup::restore(dir, args),
        Command::Key(args) => proofs::key(dir, args),
        Command::Checkpoint(args) => proofs::print_checkpoint(dir, args),
        Command::Proof { command } => proofs::proof(dir, command),
        Command::Witness { command } => govledger_witness::run(command),
    }
}

fn open_ledger(dir: &Path) -> Result<Ledger> {
    store::open_ledger(dir)
}

fn progress_bar(len: Option<u64>, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let template = if len.is_some() {
        format!("{what} {{bar:40}} {{pos}}/{{len}} events ({{per_sec}}, {{eta}} left)")
    } else {
        format!("{what} {{spinner}} {{pos}} events ({{per_sec}})")
    };
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

/// Appends `items` as one atomic import, with a progress bar on a terminal,
/// saves the state snapshot of `dir` when it stored anything (so that the
/// next start folds nothing), then closes the ledger (finishing its writer)
/// so the command can exit.
fn import_with_progress(
    dir: &Path,
    ledger: &Ledger,
    items: impl Iterator<Item = ImportItem> + Send + 'static,
    what: &str,
) -> Result<govledger_ledger::ImportSummary, ImportError> {
    let bar = progress_bar(None, what);
    let shown = bar.clone();
    let outcome = ledger.import_blocking(items, move |n| shown.set_position(n));
    bar.finish_and_clear();
    if outcome.as_ref().is_ok_and(|summary| summary.appended > 0) {
        // A failure is logged; the next start then folds the log.
        let _ = snapshots::save_state(&store::snapshot_path(dir), ledger);
    }
    ledger.close();
    outcome
}

/// Reads NDJSON lines lazily: blank lines are skipped, each other line is
/// parsed and checked for format; an error names its line.
fn ndjson_items(reader: impl BufRead + Send + 'static) -> impl Iterator<Item = ImportItem> + Send {
    reader.lines().enumerate().filter_map(|(i, line)| {
        let line_no = i as u64 + 1;
        match line {
            // JSON text is UTF-8 (RFC 8259), so a line that is not is malformed
            // input with a stable code, not a read failure.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Some(Err(ImportError::Rejected {
                line: line_no,
                rejection: Rejection::new(
                    ErrorCode::MalformedJson,
                    "the line is not valid UTF-8; JSON text must be UTF-8",
                ),
            })),
            Err(e) => Some(Err(ImportError::Read { line: line_no, message: e.to_string() })),
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => Some(
                Submission::parse_str(&text)
                    .map(|s| (line_no, s))
                    .map_err(|rejection| ImportError::Rejected { line: line_no, rejection }),
            ),
        }
    })
}

fn describe_rejection(line: u64, r: &Rejection) -> String {
    match &r.field {
        Some(field) => format!("line {line}: {} (field {field}): {}", r.code, r.message),
        None => format!("line {line}: {}: {}", r.code, r.message),
    }
}

fn import(dir: &Path, file: &Path) -> Result<ExitCode> {
    let input: Box<dyn Read + Send> = if file == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?)
    };
    let ledger = open_ledger(dir)?;
    let items = ndjson_items(BufReader::with_capacity(1 << 20, input));
    match import_with_progress(dir, &ledger, items, "importing") {
        Ok(summary) => {
            let head = summary.head.map(|h| format!("head seq {} hash {}", h.seq, h.hash)).unwrap_or_default();
            println!("imported {} events ({} already stored); {head}", summary.appended, summary.replayed);
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Rejected { line, rejection }) => {
            eprintln!("error: {}", describe_rejection(line, &rejection));
            eprintln!("nothing was imported");
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("nothing was imported");
            Ok(ExitCode::from(1))
        }
    }
}

fn export(dir: &Path, after: u64, out: Option<&Path>) -> Result<ExitCode> {
    let reader = store::open_reader(dir)?;
    let sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = BufWriter::with_capacity(1 << 20, sink);
    let mut failure: Option<anyhow::Error> = None;
    reader.scan_raw(after, &mut |row| {
        // The export line is the canonical body with `hash` added; writing it
        // from the stored bytes keeps every byte the hash covers.
        let result = match row.body.strip_suffix(b"}") {
            Some(open) => sink
                .write_all(open)
                .and_then(|()| writeln!(sink, ",\"hash\":\"{}\"}}", row.hash))
                .map_err(anyhow::Error::from),
            None => Err(anyhow::anyhow!("seq {}: stored event is unreadable", row.seq)),
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    })?;
    if let Some(e) = failure {
        // A closed pipe (e.g. `| head`) is not an error worth a message.
        if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(e);
    }
    sink.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn verify(dir: &Path, json: bool, lang: govledger_i18n::Lang) -> Result<ExitCode> {
    let reader = store::open_reader(dir)?;
    let bar = progress_bar(None, "verifying");
    let report = govledger_ledger::verify::verify_with_progress(reader.as_ref(), &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    // The kept Merkle tree and the latest signed checkpoint (SPEC 6.1), when the data directory has them.
    let tree = proofs::verify_tree(dir, reader.as_ref())?;
    let tree_ok = tree.as_ref().is_none_or(|t| t.is_ok());
    if json {
        let mut value = serde_json::to_value(&report)?;
        // One field a script can test: the chain, and the tree when there is one.
        value["ok"] = (report.ok() && tree_ok).into();
        if let Some(tree) = &tree {
            value["tree"] = match tree {
                Ok(detail) => serde_json::json!({"ok": true, "detail": detail}),
                Err(detail) => serde_json::json!({"ok": false, "detail": detail}),
            };
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        let events = report.events.to_string();
        if let Some(f) = &report.problem {
            let problem = lang.term("problem", f.problem.code());
            let seq = f.seq.to_string();
            println!("{}", lang.t("verify-failed", &[("seq", &seq), ("problem", &problem), ("detail", &f.detail)]));
            println!("{}", lang.t("verify-before", &[("events", &events)]));
        } else {
            let seq = report.head.seq.to_string();
            println!("{}", lang.t("verify-ok", &[("events", &events), ("seq", &seq), ("hash", &report.head.hash)]));
        }
        match &tree {
            Some(Ok(detail)) => println!("{}", lang.t("verify-tree-ok", &[("detail", detail)])),
            Some(Err(detail)) => println!("{}", lang.t("verify-tree-failed", &[("detail", detail)])),
            None => {}
        }
    }
    Ok(if report.ok() && tree_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn demo(dir: &Path, seed: u64, scale: f64, until: Option<&str>) -> Result<ExitCode> {
    if !(scale > 0.0 && scale <= 1000.0) {
        bail!("--scale must be above 0 and at most 1000");
    }
    let until = match until {
        Some(text) => govledger_domain::Timestamp::parse(text)
            .map_err(|r| anyhow::anyhow!("--until: {}", r.message))?
            .as_datetime(),
        None => {
            let now = Utc::now();
            Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now)
        }
    };
    // The ledger refuses events more than 5 minutes after its clock, so a
    // year ending later would be refused partway through.
    if until > Utc::now() {
        bail!("--until {} is in the future; the demo year must end now or earlier", until.to_rfc3339());
    }
    let ledger = open_ledger(dir)?;
    if ledger.head().seq > 0 {
        bail!(
            "{} already holds a ledger (head seq {}); the demo writes into an empty data directory",
            dir.display(),
            ledger.head().seq
        );
    }
    let config = govledger_demo::DemoConfig { seed, scale, until };
    let items = govledger_demo::events(&config).enumerate().map(|(i, s)| Ok((i as u64 + 1, s)));
    match import_with_progress(dir, &ledger, items, "writing demo city") {
        Ok(summary) => {
            let head = summary.head.map(|h| format!("head seq {} hash {}", h.seq, h.hash)).unwrap_or_default();
            println!("demo city written: {} events; {head}", summary.appended);
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Rejected { line, rejection }) => {
            bail!("the demo generator produced an invalid event #{line}: {rejection} (a bug; please report it)")
        }
        Err(e) => Err(e.into()),
    }
}

// ---- the projection and the model (assess, scorecard, report) ---------------

/// The projection at the store's head, from the data directory's checkpoint
/// plus the events since (see `projection::load`).
fn load_projection(dir: &Path) -> Result<govledger_assess::Projection> {
    let reader = store::open_reader(dir)?;
    let bar = progress_bar(None, "projecting");
    let projection = projection::load(dir, reader.as_ref(), &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    projection
}

fn load_model(path: Option<&Path>) -> Result<govledger_assess::Model> {
    match path {
        None => Ok(govledger_assess::Model::default_v1()),
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read the model file {}", p.display()))?;
            govledger_assess::Model::from_toml(&bytes).map_err(|e| anyhow::anyhow!("model {}: {e}", p.display()))
        }
    }
}
