//! `govledger report`: writes an assessment report (HTML, Markdown, CSV or
//! JSON; `govledger-report` renders it), optionally publishes its SHA-256 to
//! the ledger as `AssessmentPublished` — on the data directory (`--as`), or
//! through a running server (`--server`, `crate::publish`) — and
//! `govledger report verify FILE` regenerates a report from the ledger and
//! says whether it matches. A published report's file is written only once
//! its publication is recorded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use govledger_api::publish::ReportSettings;
use govledger_assess::{Assessment, Model, Projection, Query};
use govledger_domain::{Submission, Timestamp};
use govledger_report::{Format, Lang, Locale, Params, Proven, Zone};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: Option<ReportCommand>,
    /// Start of the period, inclusive: RFC 3339 with an offset, or a date (midnight in --tz).
    #[arg(long, required = true)]
    from: Option<String>,
    /// End of the period, exclusive: RFC 3339 with an offset, or a date (midnight in --tz).
    #[arg(long, required = true)]
    to: Option<String>,
    /// Report as of this ledger seq (default: the head).
    #[arg(long)]
    as_of: Option<u64>,
    /// An assessment model TOML file (default: the built-in schema/model-v1.toml).
    #[arg(long)]
    model: Option<PathBuf>,
    /// html (one self-contained file), md, csv (one row per agency) or json.
    #[arg(long, value_enum, default_value_t = FormatArg::Html)]
    format: FormatArg,
    /// Where to write the report; `-` writes it to standard output (the summary then goes to standard error).
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Append `AssessmentPublished` with the report's SHA-256: on the data directory (--as), or
    /// through a running server (--server, with an evaluator token).
    #[arg(long)]
    publish: bool,
    /// The publishing agency, when publishing on the data directory; the ledger checks it holds
    /// the evaluator role.
    #[arg(long = "as", id = "as_agency", value_name = "AGENCY", requires = "publish")]
    as_agency: Option<String>,
    /// The issuing agency named on the title page (its id; the name is the one registered in the
    /// ledger). Publishing names the publisher: --as AGENCY, or the token's agency through a server.
    #[arg(long, env = "GOVLEDGER_ISSUER", value_name = "AGENCY")]
    issuer: Option<String>,
    #[command(flatten)]
    server: crate::publish::ServerArgs,
    /// The report's language: zh-CN (default) or en (CSV and JSON hold codes and figures only).
    #[arg(long, env = "GOVLEDGER_LANG", value_parser = crate::config::parse_lang)]
    pub(crate) lang: Option<Lang>,
    /// The time zone (IANA name) dates of --from/--to are midnight in, and times, months and
    /// quarters are shown in (default Asia/Shanghai).
    #[arg(long, env = "GOVLEDGER_TZ", value_parser = crate::config::parse_zone)]
    pub(crate) tz: Option<Zone>,
}

#[derive(clap::Subcommand)]
enum ReportCommand {
    /// Regenerate a report file from the ledger and check it against its published hash.
    Verify {
        /// The report file (html, md, csv or json).
        file: PathBuf,
        /// The model file the report was made with, when it is not the built-in one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Html,
    Md,
    Csv,
    Json,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Html => Format::Html,
            FormatArg::Md => Format::Markdown,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
        }
    }
}

pub fn run(dir: &Path, args: ReportArgs) -> Result<ExitCode> {
    if let Some(ReportCommand::Verify { file, model }) = &args.command {
        return verify(dir, file, model.as_deref());
    }
    let (Some(from), Some(to), Some(out)) = (&args.from, &args.to, &args.out) else {
        bail!("govledger report needs --from, --to and --out (or `govledger report verify FILE`)");
    };
    let locale = Locale { lang: args.lang.unwrap_or_default(), zone: args.tz.unwrap_or_default() };
    let query = Query { from: time("from", from, locale.zone)?, to: time("to", to, locale.zone)?, as_of: args.as_of };
    let format = args.format.format();
    if args.publish {
        let publisher = args.as_agency.as_deref().map_or("the token's agency", |a| a);
        if let Some(issuer) = args.issuer.as_deref()
            && Some(issuer) != args.as_agency.as_deref()
        {
            bail!(
                "a published report is issued by its publisher ({publisher}), not --issuer {issuer}; leave out --issuer"
            )
        }
        match (args.server.url(), args.as_agency.as_deref()) {
            (Some(_), Some(_)) => bail!(
                "--as publishes on the data directory and --server (or GOVLEDGER_SERVER) through a server, whose \
                 token names the agency: give one of them"
            ),
            (Some(_), None) if args.model.is_some() => {
                bail!("a report published through a server is made with the server's model; leave out --model")
            }
            (Some(url), None) => return crate::publish::through_server(url, &args.server, &query, format, locale, out),
            (None, None) => {
                bail!("--publish needs --as AGENCY (on the data directory) or --server URL (through a running server)")
            }
            (None, Some(_)) => {}
        }
    }
    let model = crate::load_model(args.model.as_deref())?;
    // An assessment used for incentives is never published from a ledger
    // whose chain does not verify (SPEC 6): checked before anything is written.
    if args.publish {
        let reader = crate::store::open_reader(dir)?;
        let report = govledger_ledger::verify(reader.as_ref())?;
        if let Some(f) = report.problem {
            eprintln!(
                "cannot publish: the ledger's chain does not verify at seq {} ({}: {}); nothing was written or \
                 published. Run `govledger verify` and restore the data directory from a verified backup.",
                f.seq, f.problem, f.detail
            );
            return Ok(ExitCode::from(1));
        }
    }
    let projection = crate::load_projection(dir)?;
    let issuer = args.as_agency.as_deref().or(args.issuer.as_deref());
    let settings = ReportSettings { format, locale, issuer };
    let (bytes, doc) = generate(&projection, &model, &query, settings, &|as_of| proven_at(dir, as_of))?;
    if let Some(issuer) = issuer
        && !doc.agencies.iter().any(|a| a.agency_id == issuer)
    {
        bail!(
            "the issuer {issuer:?} is not an agency registered as of seq {}; nothing was written (see `govledger \
             assess --format table` for the agencies)",
            doc.as_of_seq
        );
    }
    let sha = govledger_report::sha256_hex(&bytes);
    // The file of a published report is written only once the publication is recorded.
    if args.publish {
        let agency = args.as_agency.as_deref().unwrap_or_default();
        let code = publish(dir, agency, &doc, &sha, out.as_os_str() == "-")?;
        if code != ExitCode::SUCCESS {
            eprintln!("nothing was written");
            return Ok(code);
        }
    }
    let what = format!(
        "{} agencies, period {} to {}, as of seq {}",
        doc.agencies.len(),
        doc.period.from,
        doc.period.to,
        doc.as_of_seq
    );
    write_report(out, &bytes, &what)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a report to `out` (`-`: standard output) and prints its summary,
/// which ends with `what` it shows.
pub fn write_report(out: &Path, bytes: &[u8], what: &str) -> Result<()> {
    let to_stdout = out.as_os_str() == "-";
    if to_stdout {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(bytes).and_then(|()| stdout.flush()).context("cannot write the report to standard output")?;
    } else {
        std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let sha = govledger_report::sha256_hex(bytes);
    // With the report on standard output, the summary must not mix into it.
    let summary = format!(
        "wrote {} ({} bytes, sha256 {sha}): {what}",
        if to_stdout { "the report to standard output".into() } else { out.display().to_string() },
        bytes.len(),
    );
    if to_stdout {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    Ok(())
}

/// An instant (RFC 3339 with an offset), or a date: midnight in `zone`.
pub(crate) fn time(flag: &str, text: &str, zone: Zone) -> Result<Timestamp> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Timestamp::from_micros(zone.midnight(date)));
    }
    Timestamp::parse(text).map_err(|r| {
        anyhow::anyhow!("--{flag}: {} (or give a date like 2026-07-01: midnight in {})", r.message, zone.name())
    })
}

/// The report of `query` and the assessment it shows, stamped with
/// `proven(as_of_seq)` (made as the server makes it: `govledger_api::publish::render`).
pub fn generate(
    projection: &Projection,
    model: &Model,
    query: &Query,
    settings: ReportSettings<'_>,
    proven: &dyn Fn(u64) -> Result<Option<Proven>>,
) -> Result<(Vec<u8>, Assessment)> {
    govledger_api::publish::render(projection, model, query, settings, proven)
}

/// The first signed checkpoint covering `as_of` kept in the data directory
/// (SPEC 6.4), as a report's stamp; None when the log has signed none yet.
fn proven_at(dir: &Path, as_of: u64) -> Result<Option<Proven>> {
    let tlog = crate::proofs::tlog_dir(dir);
    if !tlog.join(govledger_transparency::CHECKPOINTS_FILE).exists() {
        return Ok(None);
    }
    let kept = govledger_transparency::CheckpointStore::open(&tlog)?.first_covering(as_of)?;
    Ok(kept.map(govledger_api::publish::stamp))
}

/// Whether the stamp `proven` of a report as of `as_of` is the data
/// directory's: the first checkpoint covering `as_of`, with that root, and at
/// least that many cosignatures now. Returns what is wrong.
fn check_stamp(dir: &Path, as_of: u64, proven: &Proven) -> Result<Option<String>> {
    let Some(now) = proven_at(dir, as_of)? else {
        return Ok(Some(format!("the log keeps no checkpoint covering seq {as_of}, but the report names one")));
    };
    Ok(if now.size != proven.size || now.root != proven.root {
        Some(format!(
            "the report names the checkpoint of size {} (root {}), but the log's first checkpoint covering seq {as_of} \
             is of size {} (root {})",
            proven.size, proven.root, now.size, now.root
        ))
    } else if now.cosignatures < proven.cosignatures {
        Some(format!(
            "the report says its checkpoint had {} cosignatures; the log keeps {}",
            proven.cosignatures, now.cosignatures
        ))
    } else {
        None
    })
}

/// Records the report's hash as `AssessmentPublished` as `agency`, through
/// the ledger's rules. A publication the ledger's rules refuse (no evaluator
/// role, the same report published before) exits 1 with the rule's code,
/// like every ledger refusal.
/// With the report on standard output (`report_on_stdout`), the message goes
/// to standard error.
fn publish(
    dir: &Path,
    agency: &str,
    doc: &Assessment,
    report_sha256: &str,
    report_on_stdout: bool,
) -> Result<ExitCode> {
    let envelope = govledger_api::publish::publication_envelope(agency, doc, report_sha256);
    let submission = Submission::parse(envelope).map_err(|r| anyhow::anyhow!("cannot publish: {r}"))?;
    let ledger = crate::open_ledger(dir).map_err(|e| {
        e.context(
            "cannot publish on the data directory; while `govledger serve` runs on it, publish through the \
                   server: --server URL --token-file FILE (an evaluator token)",
        )
    })?;
    let outcome = ledger.append_blocking(vec![submission]);
    ledger.close();
    match outcome {
        Ok(appended) => {
            let event = appended.first().map(|a| &a.event).context("the ledger returned no event")?;
            let line = format!(
                "published as {agency}: AssessmentPublished seq {} id {} (report sha256 {report_sha256})",
                event.seq, event.id
            );
            if report_on_stdout {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(govledger_ledger::AppendError::Rejected { rejection, .. }) => {
            eprintln!("the ledger refused the publication: {rejection}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// A published report: the parameters of its `AssessmentPublished` event.
struct Published {
    seq: u64,
    actor: String,
    params: Params,
}

/// The `AssessmentPublished` events whose `report_sha256` is `sha`.
fn find_published(dir: &Path, sha: &str, format: Format) -> Result<Option<Published>> {
    let reader = crate::store::open_reader(dir)?;
    let mut found = None;
    let mut failure = None;
    let needle = format!("\"report_sha256\":\"{sha}\"");
    reader.scan_raw(0, &mut |row| {
        let body = row.body;
        // Cheap filters before parsing: canonical JSON has no spaces.
        if memmem(body, b"\"AssessmentPublished\"") && memmem(body, needle.as_bytes()) {
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(v) => {
                    let d = &v["data"];
                    let text = |k: &str| d[k].as_str().map(str::to_owned);
                    match (text("period_from"), text("period_to"), d["as_of_seq"].as_u64(), text("model_sha256")) {
                        (Some(from), Some(to), Some(as_of_seq), Some(model_sha256)) => {
                            found = Some(Published {
                                seq: row.seq,
                                actor: v["actor"].as_str().unwrap_or_default().to_owned(),
                                params: Params {
                                    from,
                                    to,
                                    as_of_seq,
                                    model_sha256,
                                    format,
                                    proven: None,
                                    locale: Locale::default(),
                                    issuer: None,
                                },
                            });
                            return false;
                        }
                        _ => failure = Some(format!("seq {}: an AssessmentPublished without its fields", row.seq)),
                    }
                }
                Err(e) => failure = Some(format!("seq {}: unreadable event: {e}", row.seq)),
            }
        }
        true
    })?;
    if let Some(f) = failure {
        bail!("{f}");
    }
    Ok(found)
}

fn memmem(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The format of a report file: from the parameters line, else its extension.
fn format_of(file: &Path, bytes: &[u8]) -> Option<Format> {
    if let Some(p) = Params::find(bytes) {
        return Some(p.format);
    }
    match file.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => Some(Format::Html),
        Some("md" | "markdown") => Some(Format::Markdown),
        Some("csv") => Some(Format::Csv),
        Some("json") => Some(Format::Json),
        _ => None,
    }
}

fn verify(dir: &Path, file: &Path, model_path: Option<&Path>) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let sha = govledger_report::sha256_hex(&bytes);
    let Some(format) = format_of(file, &bytes) else {
        bail!("{} is not a govledger report (no parameters line, and not .html, .md, .csv or .json)", file.display());
    };
    let published = find_published(dir, &sha, format)?;
    let params = match (&published, Params::find(&bytes)) {
        (Some(p), in_file) => {
            println!("{} (sha256 {sha}) was published by {} at seq {}.", file.display(), p.actor, p.seq);
            // The checkpoint stamp, the language, the time zone and the issuer are
            // not in the published event: the file's own are used (the stamp is
            // checked below; the issuer must be the publisher).
            match in_file {
                Some(f) => {
                    if let Some(issuer) = f.issuer.as_deref().filter(|i| *i != p.actor) {
                        println!("MISMATCH: the report names {issuer} as its issuer, but {} published it.", p.actor);
                        return Ok(ExitCode::from(1));
                    }
                    Params { proven: f.proven, locale: f.locale, issuer: f.issuer, ..p.params.clone() }
                }
                None => p.params.clone(),
            }
        }
        (None, Some(params)) => {
            println!(
                "NOT PUBLISHED: no AssessmentPublished in the ledger has the sha256 of {} ({sha}); \
                 regenerating it from the parameters in its footer to see what differs.",
                file.display()
            );
            params
        }
        (None, None) => {
            println!(
                "NOT PUBLISHED: no AssessmentPublished in the ledger has the sha256 of {} ({sha}), and the file names no parameters to regenerate it from.",
                file.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let model = crate::load_model(model_path)?;
    if model.sha256 != params.model_sha256 {
        println!(
            "MISMATCH: the report was made with the model of sha256 {}, but the model given has sha256 {}; pass that model with --model.",
            params.model_sha256, model.sha256
        );
        return Ok(ExitCode::from(1));
    }
    // The regenerated report is evidence only if the log it reads is intact.
    let chain = govledger_ledger::verify::verify_with_progress(crate::store::open_reader(dir)?.as_ref(), &mut |_| {})?;
    if let Some(problem) = &chain.problem {
        println!(
            "MISMATCH: the ledger's hash chain is broken at seq {} ({}), so nothing regenerated from it proves the report; run `govledger verify`.",
            problem.seq, problem.problem
        );
        return Ok(ExitCode::from(1));
    }
    let projection = crate::load_projection(dir)?;
    let zone = params.locale.zone;
    let query = Query {
        from: time("from", &params.from, zone)?,
        to: time("to", &params.to, zone)?,
        as_of: Some(params.as_of_seq),
    };
    if let Some(proven) = &params.proven
        && let Some(wrong) = check_stamp(dir, params.as_of_seq, proven)?
    {
        println!("MISMATCH: {wrong}.");
        return Ok(ExitCode::from(1));
    }
    let stamp = params.proven.clone();
    let settings = ReportSettings { format: params.format, locale: params.locale, issuer: params.issuer.as_deref() };
    let (again, _) = generate(&projection, &model, &query, settings, &|_| Ok(stamp.clone()))?;
    let again_sha = govledger_report::sha256_hex(&again);
    if again == bytes && published.is_some() {
        println!(
            "OK: regenerated from the ledger (period {} to {}, as of seq {}, model {}, format {}), the report is identical byte for byte (sha256 {sha}).",
            params.from,
            params.to,
            params.as_of_seq,
            params.model_sha256,
            params.format.as_str()
        );
        Ok(ExitCode::SUCCESS)
    } else if again == bytes {
        println!(
            "NOT PUBLISHED: the file is what the ledger gives for its parameters (sha256 {sha}), but it was never published; publish it with `govledger report ... --publish --as AGENCY`."
        );
        Ok(ExitCode::from(1))
    } else {
        println!(
            "MISMATCH: regenerated from the ledger as of seq {}, the report has sha256 {again_sha}, not {sha}: \
             the file or the ledger it was made from is not what was published.",
            params.as_of_seq
        );
        Ok(ExitCode::from(1))
    }
}
