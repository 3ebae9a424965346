//! The config file (`--config FILE` or `GOVLEDGER_CONFIG`, e.g.
//! `/etc/govledger/govledger.toml`): the data directory, the store and the
//! server's settings of a deployment, so that a service unit only says
//! `govledger --config FILE serve`. A flag or environment variable wins over
//! the file, the file over the built-in default. Unknown keys are refused,
//! so that a typo does not silently fall back to a default. Relative paths
//! in the file are relative to the file's directory. See
//! `ops/systemd/govledger.toml` for every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;

use crate::{Cli, Command};

/// The file's contents.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--store`: `embedded`, a KurrentDB URL or a PostgreSQL URL.
    pub store: Option<String>,
    #[serde(default)]
    pub serve: ServeConfig,
    #[serde(default)]
    pub report: ReportConfig,
}

/// The `[report]` table: the language and time zone of `govledger report`,
/// and of the tables of `assess` and `scorecard`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// `--lang`: `zh-CN` or `en`.
    pub lang: Option<String>,
    /// `--tz`: an IANA time zone name.
    pub tz: Option<String>,
}

/// The `[serve]` table: the flags of `govledger serve`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub listen: Option<SocketAddr>,
    pub grace_s: Option<u64>,
    pub max_body_bytes: Option<usize>,
    pub max_batch_events: Option<usize>,
    /// SPEC 4, Limits: the listener's time and connection limits.
    pub header_timeout_ms: Option<u64>,
    pub body_timeout_ms: Option<u64>,
    pub max_connections: Option<u32>,
    pub follow_interval_ms: Option<u64>,
    /// SPEC 6: the origin of a new log key, the signing interval, the witnesses (`URL,VERIFIER_KEY`) and quorum.
    pub origin: Option<String>,
    pub checkpoint_interval_ms: Option<u64>,
    pub witnesses: Option<Vec<String>>,
    pub quorum: Option<usize>,
    /// The file holding the `/metrics` scrape token (relative to the config file's directory).
    pub metrics_token_file: Option<PathBuf>,
    /// The assessment model file (relative to the config file's directory).
    pub model: Option<PathBuf>,
    /// The pages' default language (`zh-CN`, `en`) and time zone (IANA name).
    pub lang: Option<String>,
    pub tz: Option<String>,
}

/// `--lang`: a language with a catalog.
pub fn parse_lang(text: &str) -> Result<govledger_i18n::Lang, String> {
    govledger_i18n::Lang::parse(text).ok_or_else(|| format!("{text:?} is not a language of govledger: use zh-CN or en"))
}

/// `--tz`: an IANA time zone name.
pub fn parse_zone(text: &str) -> Result<govledger_i18n::Zone, String> {
    govledger_i18n::Zone::parse(text)
        .ok_or_else(|| format!("{text:?} is not an IANA time zone name (like Asia/Shanghai or UTC)"))
}

/// A `lang` and `tz` of the file, checked like the flags.
fn locale_keys(
    table: &str,
    lang: Option<&str>,
    tz: Option<&str>,
) -> Result<(Option<govledger_i18n::Lang>, Option<govledger_i18n::Zone>)> {
    let lang = lang.map(parse_lang).transpose().map_err(|e| anyhow::anyhow!("[{table}] lang: {e}"))?;
    let tz = tz.map(parse_zone).transpose().map_err(|e| anyhow::anyhow!("[{table}] tz: {e}"))?;
    Ok((lang, tz))
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<ConfigFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the config file {}", path.display()))?;
    let mut config: ConfigFile = toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    if let Some(d) = &config.data_dir
        && d.is_relative()
    {
        config.data_dir = Some(base.join(d));
    }
    for file in [&mut config.serve.metrics_token_file, &mut config.serve.model] {
        if let Some(f) = file.as_ref()
            && f.is_relative()
        {
            *file = Some(base.join(f));
        }
    }
    Ok(config)
}

/// Whether the argument `id` took its built-in default (no flag, no variable).
fn defaulted(matches: &ArgMatches, id: &str) -> bool {
    matches!(matches.value_source(id), None | Some(ValueSource::DefaultValue))
}

/// Applies the config file named by `--config`, if any, under the flags and
/// environment variables in `matches`.
pub fn apply(cli: &mut Cli, matches: &ArgMatches) -> Result<()> {
    let Some(path) = cli.config.clone() else { return Ok(()) };
    let file = load(&path)?;
    if let Some(d) = file.data_dir
        && defaulted(matches, "data_dir")
    {
        cli.data_dir = d;
    }
    if let Some(s) = file.store
        && defaulted(matches, "store")
    {
        cli.store = Some(s);
    }
    let (lang, tz) = locale_keys("report", file.report.lang.as_deref(), file.report.tz.as_deref())?;
    // `[report]` holds the language and zone of every command that writes for people from an assessment.
    if let Some((args_lang, args_tz)) = match &mut cli.command {
        Command::Report(args) => Some((&mut args.lang, &mut args.tz)),
        Command::Assess { period, .. } | Command::Scorecard { period, .. } => Some((&mut period.lang, &mut period.tz)),
        _ => None,
    } {
        *args_lang = args_lang.or(lang);
        *args_tz = args_tz.or(tz);
    }
    if let Command::Serve(args) = &mut cli.command {
        let Some(m) = matches.subcommand_matches("serve") else { return Ok(()) };
        let c = file.serve;
        if let Some(v) = c.listen
            && defaulted(m, "listen")
        {
            args.listen = v;
        }
        if let Some(v) = c.grace_s
            && defaulted(m, "grace_s")
        {
            args.grace_s = v;
        }
        if let Some(v) = c.max_body_bytes
            && defaulted(m, "max_body_bytes")
        {
            args.max_body_bytes = v;
        }
        if let Some(v) = c.max_batch_events
            && defaulted(m, "max_batch_events")
        {
            args.max_batch_events = v;
        }
        if let Some(v) = c.header_timeout_ms
            && defaulted(m, "header_timeout_ms")
        {
            args.header_timeout_ms = v;
        }
        if let Some(v) = c.body_timeout_ms
            && defaulted(m, "body_timeout_ms")
        {
            args.body_timeout_ms = v;
        }
        if let Some(v) = c.max_connections
            && defaulted(m, "max_connections")
        {
            args.max_connections = v;
        }
        if let Some(v) = c.follow_interval_ms
            && defaulted(m, "follow_interval_ms")
        {
            args.follow_interval_ms = v;
        }
        if let Some(v) = c.origin
            && defaulted(m, "origin")
        {
            args.origin = v;
        }
        if let Some(v) = c.checkpoint_interval_ms
            && defaulted(m, "checkpoint_interval_ms")
        {
            args.checkpoint_interval_ms = v;
        }
        if let Some(v) = c.witnesses
            && defaulted(m, "witnesses")
        {
            args.witnesses = v;
        }
        if c.quorum.is_some() && defaulted(m, "quorum") {
            args.quorum = c.quorum;
        }
        if c.metrics_token_file.is_some() && defaulted(m, "metrics_token_file") {
            args.metrics_token_file = c.metrics_token_file;
        }
        if c.model.is_some() && defaulted(m, "model") {
            args.model = c.model;
        }
        let (lang, tz) = locale_keys("serve", c.lang.as_deref(), c.tz.as_deref())?;
        args.lang = args.lang.or(lang);
        args.tz = args.tz.or(tz);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli> {
        let matches = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        apply(&mut cli, &matches)?;
        Ok(cli)
    }

    fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("govledger.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn the_file_fills_in_what_no_flag_gives_and_flags_win() {
        let (dir, path) = write_config(
            "data_dir = \"ledger-data\"\nstore = \"kurrentdb://db:2113?tls=false\"\n\
             [serve]\nlisten = \"127.0.0.1:9090\"\nfollow_interval_ms = 250\n",
        );
        let config = path.to_str().unwrap();
        let cli = parse(&["govledger", "--config", config, "serve"]).unwrap();
        assert_eq!(cli.data_dir, dir.path().join("ledger-data"), "relative to the file");
        assert_eq!(cli.store.as_deref(), Some("kurrentdb://db:2113?tls=false"));
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!(args.listen, "127.0.0.1:9090".parse().unwrap());
        assert_eq!(args.follow_interval_ms, 250);
        assert_eq!(args.grace_s, 30, "not in the file: the default");
        assert_eq!(args.model, None);

        let cli = parse(&[
            "govledger",
            "--config",
            config,
            "serve",
            "--data-dir",
            "/srv/other",
            "--store",
            "embedded",
            "--listen",
            "127.0.0.1:7070",
        ])
        .unwrap();
        assert_eq!(cli.data_dir, PathBuf::from("/srv/other"), "a flag after the subcommand wins too");
        assert_eq!(cli.store.as_deref(), Some("embedded"));
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!(args.listen, "127.0.0.1:7070".parse().unwrap());
        assert_eq!(args.follow_interval_ms, 250);
    }

    #[test]
    fn the_transparency_log_settings_come_from_the_file_and_flags_win() {
        let (_dir, path) = write_config(
            "[serve]\norigin = \"ledger.example.gov.cn/2026\"\ncheckpoint_interval_ms = 500\n\
             witnesses = [\"http://127.0.0.1:7380,w+00000000+AA\"]\nquorum = 1\n",
        );
        let config = path.to_str().unwrap();
        let cli = parse(&["govledger", "--config", config, "serve"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!(args.origin, "ledger.example.gov.cn/2026");
        assert_eq!(args.checkpoint_interval_ms, 500);
        assert_eq!(args.witnesses, vec!["http://127.0.0.1:7380,w+00000000+AA".to_owned()]);
        assert_eq!(args.quorum, Some(1));
        let cli =
            parse(&["govledger", "--config", config, "serve", "--checkpoint-interval-ms", "9000", "--quorum", "0"])
                .unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!((args.checkpoint_interval_ms, args.quorum), (9000, Some(0)));
    }

    #[test]
    fn the_metrics_token_and_model_files_come_from_the_file_relative_to_it_and_flags_win() {
        let (dir, path) =
            write_config("[serve]\nmetrics_token_file = \"secrets/metrics.token\"\nmodel = \"model.toml\"\n");
        let config = path.to_str().unwrap();
        let cli = parse(&["govledger", "--config", config, "serve"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!(args.metrics_token_file, Some(dir.path().join("secrets/metrics.token")));
        assert_eq!(args.model, Some(dir.path().join("model.toml")));
        let cli = parse(&[
            "govledger",
            "--config",
            config,
            "serve",
            "--metrics-token-file",
            "/run/m.token",
            "--model",
            "/etc/m.toml",
        ])
        .unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!(args.metrics_token_file, Some(PathBuf::from("/run/m.token")));
        assert_eq!(args.model, Some(PathBuf::from("/etc/m.toml")));
    }

    #[test]
    fn the_listener_limits_come_from_the_file_and_flags_win() {
        let (_dir, path) =
            write_config("[serve]\nheader_timeout_ms = 2500\nbody_timeout_ms = 7000\nmax_connections = 64\n");
        let config = path.to_str().unwrap();
        let cli = parse(&["govledger", "--config", config, "serve"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!((args.header_timeout_ms, args.body_timeout_ms, args.max_connections), (2500, 7000, 64));
        let cli = parse(&["govledger", "--config", config, "serve", "--max-connections", "8"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!((args.header_timeout_ms, args.max_connections), (2500, 8));
        let cli = parse(&["govledger", "serve"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!((args.header_timeout_ms, args.body_timeout_ms, args.max_connections), (10_000, 30_000, 10_000));
    }

    #[test]
    fn the_language_and_time_zone_come_from_the_file_and_flags_win() {
        use govledger_i18n::{Lang, Zone};
        let (_dir, path) =
            write_config("[report]\nlang = \"en\"\ntz = \"UTC\"\n[serve]\nlang = \"en\"\ntz = \"Asia/Urumqi\"\n");
        let config = path.to_str().unwrap();
        let cli = parse(&["govledger", "--config", config, "serve"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!((args.lang, args.tz), (Some(Lang::En), Zone::parse("Asia/Urumqi")));
        let cli =
            parse(&["govledger", "--config", config, "serve", "--lang", "zh-CN", "--tz", "Asia/Shanghai"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!((args.lang, args.tz), (Some(Lang::ZhCn), Some(Zone::DEFAULT)));
        let report = ["govledger", "--config", config, "report", "--from", "2026-07-01", "--to", "2026-10-01"];
        let cli = parse(&[&report[..], &["--out", "r.html"]].concat()).unwrap();
        let Command::Report(args) = &cli.command else { panic!("report") };
        assert_eq!((args.lang, args.tz), (Some(Lang::En), Some(Zone::UTC)));
        let cli = parse(&[&report[..], &["--out", "r.html", "--lang", "zh"]].concat()).unwrap();
        let Command::Report(args) = &cli.command else { panic!("report") };
        assert_eq!(args.lang, Some(Lang::ZhCn));
        // `[report]` also sets the language and zone of the tables of `assess` and `scorecard`.
        let period = ["--from", "2026-07-01", "--to", "2026-10-01"];
        let cli = parse(&[&["govledger", "--config", config, "assess"][..], &period].concat()).unwrap();
        let Command::Assess { period: args, .. } = &cli.command else { panic!("assess") };
        assert_eq!((args.lang, args.tz), (Some(Lang::En), Some(Zone::UTC)));
        let cli =
            parse(&[&["govledger", "--config", config, "scorecard", "bank", "--lang", "zh-CN"][..], &period].concat())
                .unwrap();
        let Command::Scorecard { period: args, .. } = &cli.command else { panic!("scorecard") };
        assert_eq!((args.lang, args.tz), (Some(Lang::ZhCn), Some(Zone::UTC)));

        let (_dir, bad) = write_config("[report]\ntz = \"Beijing\"\n");
        let err = match parse(&["govledger", "--config", bad.to_str().unwrap(), "report", "verify", "r.html"]) {
            Err(e) => format!("{e:#}"),
            Ok(_) => panic!("a bad time zone was accepted"),
        };
        assert!(err.contains("[report] tz") && err.contains("IANA"), "{err}");
        assert!(parse(&["govledger", "serve", "--lang", "fr"]).is_err());
    }

    #[test]
    fn a_typo_or_a_missing_file_is_an_error() {
        let (_dir, path) = write_config("data_dri = \"/srv\"\n");
        let err = |args: &[&str]| match parse(args) {
            Err(e) => format!("{e:#}"),
            Ok(_) => panic!("{args:?} was accepted"),
        };
        let err1 = err(&["govledger", "--config", path.to_str().unwrap(), "verify"]);
        assert!(err1.contains("unknown field") && err1.contains("data_dri"), "{err1}");
        let err2 = err(&["govledger", "--config", "/nonexistent/govledger.toml", "verify"]);
        assert!(err2.contains("cannot read the config file"), "{err2}");
    }
}
