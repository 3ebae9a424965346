//! `govledger assess` and `govledger scorecard`: the SPEC 3.4 document as
//! JSON, or for people a ranking table and a scorecard in plain language, in
//! the language of `--lang` with times in `--tz` (zh-CN and Beijing time by
//! default; `[report]` of the config file, `GOVLEDGER_LANG`, `GOVLEDGER_TZ`).
//! The words come from `govledger_report::explain`; dates of `--from`/`--to`
//! are midnight in `--tz`, as for `govledger report`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use govledger_assess::{Assessment, Model, Query};
use govledger_report::{Lang, Locale, Zone};

/// The period, position and model of an assessment, and the language and
/// zone it is shown in.
#[derive(clap::Args)]
pub struct PeriodArgs {
    /// Start of the period, inclusive: RFC 3339 with an offset (e.g. 2026-01-01T00:00:00+08:00), or a
    /// date (midnight in --tz).
    #[arg(long)]
    from: String,
    /// End of the period, exclusive: RFC 3339 with an offset, or a date (midnight in --tz).
    #[arg(long)]
    to: String,
    /// Assess as of this ledger seq (default: the head).
    #[arg(long)]
    as_of: Option<u64>,
    /// An assessment model TOML file (default: the built-in schema/model-v1.toml).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The language of the table and the scorecard: zh-CN (default) or en (JSON holds codes only).
    #[arg(long, env = "GOVLEDGER_LANG", value_parser = crate::config::parse_lang)]
    pub(crate) lang: Option<Lang>,
    /// The time zone (IANA name) dates of --from/--to are midnight in and times are shown in
    /// (default Asia/Shanghai).
    #[arg(long, env = "GOVLEDGER_TZ", value_parser = crate::config::parse_zone)]
    pub(crate) tz: Option<Zone>,
}

impl PeriodArgs {
    fn locale(&self) -> Locale {
        Locale { lang: self.lang.unwrap_or_default(), zone: self.tz.unwrap_or_default() }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum AssessFormat {
    Json,
    Table,
}

fn assessment(dir: &Path, args: &PeriodArgs) -> Result<(Assessment, Model)> {
    let zone = args.locale().zone;
    let query = Query {
        from: crate::report::time("from", &args.from, zone)?,
        to: crate::report::time("to", &args.to, zone)?,
        as_of: args.as_of,
    };
    let model = crate::load_model(args.model.as_deref())?;
    let projection = crate::load_projection(dir)?;
    let doc = projection.assess(&model, &query)?;
    Ok((doc, model))
}

pub fn assess(dir: &Path, args: &PeriodArgs, format: AssessFormat) -> Result<ExitCode> {
    let (doc, _) = assessment(dir, args)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = match format {
        AssessFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from).and_then(|()| writeln!(out))
        }
        AssessFormat::Table => out.write_all(govledger_report::explain::table(&doc, args.locale()).as_bytes()),
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

pub fn scorecard(dir: &Path, agency: &str, args: &PeriodArgs) -> Result<ExitCode> {
    let (doc, model) = assessment(dir, args)?;
    match govledger_report::explain::scorecard(&doc, &model, agency, args.locale()) {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        None => bail!(
            "agency {agency:?} is not registered as of seq {} (see `govledger assess --format table` for the agencies)",
            doc.as_of_seq
        ),
    }
}
