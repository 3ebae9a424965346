//! govledger reports: an assessment (SPEC 3.4) rendered for people, as one
//! self-contained HTML file (inline CSS, SVG charts drawn here, no scripts
//! unless it is the live dashboard), Markdown for a code-hosting page, CSV
//! for a spreadsheet and JSON for programs.
//!
//! Architecture invariant: pure functions of their inputs. No clock, no IO,
//! no randomness, stable ordering and fixed number formatting, so that the
//! same ledger position, period, model and format always give the same bytes
//! (`govledger report verify` depends on it). The language and the time
//! zone are inputs too (`Locale`, recorded in the parameters line); every
//! word comes from the `govledger-i18n` catalogs.

mod charts;
pub mod explain;
mod html;
mod methodology;
mod text;
mod title;
mod trends;

use govledger_assess::{AssessError, Assessment, IndicatorId, Model, Projection, Query};
use govledger_domain::Timestamp;
pub use govledger_i18n::{Lang, Locale, Zone};
pub use methodology::{SMALL_SAMPLE_BELOW, sample, small_sample};
use sha2::{Digest, Sha256};

/// The format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
    Csv,
    Json,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Html, Format::Markdown, Format::Csv, Format::Json];

    /// The name used on the command line (`--format`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// One month of the trend charts: the assessment of that month alone.
#[derive(Debug, Clone)]
pub struct MonthAssessment {
    /// `YYYY-MM`, a month of the report's time zone.
    pub label: String,
    pub assessment: Assessment,
}

/// Extras of the live dashboard (never part of a published report).
#[derive(Debug, Clone)]
pub struct Live {
    /// The ledger head the page was drawn at; the page reloads when it moves.
    pub head_seq: u64,
    /// Answers `{"head_seq": N}`; polled by the page.
    pub head_url: String,
    /// Where the period picker submits (GET with `from` and `to`).
    pub form_action: String,
    /// `YYYY-MM-DD` values of the picker: midnight in the page's time zone.
    pub from_date: String,
    pub to_date: String,
    /// The signed checkpoint the figures are proven by (SPEC 6.4), if one covers them yet.
    pub checkpoint: Option<LiveCheckpoint>,
    /// The agency of the reader (an agency token), whose ranking row and
    /// scorecard are highlighted; `None` for readers of every agency.
    pub viewer: Option<String>,
    /// Who reads the page: the token's agency and role (`agency`,
    /// `coordinator`, `evaluator`, `auditor`).
    pub reader: (String, String),
}

/// The first signed checkpoint covering the dashboard's head.
#[derive(Debug, Clone)]
pub struct LiveCheckpoint {
    pub size: u64,
    /// Root hash, lowercase hex.
    pub root: String,
    /// Witnesses whose cosignatures verify.
    pub cosigned_by: Vec<String>,
    /// A quorum of witnesses cosigned it.
    pub witnessed: bool,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    pub assessment: &'a Assessment,
    pub model: &'a Model,
    /// Month by month, oldest first (see [`monthly`]).
    pub months: &'a [MonthAssessment],
    /// `None` for a report; the dashboard's extras otherwise.
    pub live: Option<Live>,
    /// The signed checkpoint the figures were proven by when the report was
    /// made (SPEC 6.4); it is also in the parameters line, so that `report
    /// verify` makes the same bytes again and checks the checkpoint.
    pub proven: Option<Proven>,
    /// The language and time zone it is written in.
    pub locale: Locale,
    /// The title page of a report; `None` on the dashboard.
    pub title: Option<TitlePage>,
}

/// What a report's title page states besides the assessment's own figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitlePage {
    /// The issuing agency's id: the publishing evaluator (`--as`, or the
    /// token's agency through a server), or `--issuer` for a report that is
    /// not published; `None`: not stated. Its name is the one registered in
    /// the ledger as of the report's position. Recorded in the parameters
    /// line, and `report verify` checks it against the publication's actor.
    pub issuer: Option<String>,
    /// The issue date: `recorded_at` of the event at `as_of_seq` (RFC 3339),
    /// so that the report depends on the ledger, never on the wall clock.
    pub issued_at: String,
}

/// A report's stamp of the first signed checkpoint covering its `as_of_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub size: u64,
    /// Root hash, lowercase hex.
    pub root: String,
    /// Witness cosignatures it had when the report was made.
    pub cosignatures: u32,
}

/// The most months a trend chart shows (the latest ones).
pub const MAX_TREND_MONTHS: usize = 36;

/// The most evidence ids listed per indicator in HTML and Markdown; the JSON
/// report always has them all.
pub const EVIDENCE_SHOWN: usize = 20;

/// The marker of the line that states how a report was made; `verify` reads
/// it back from HTML, Markdown and JSON reports.
pub const PARAMS_MARKER: &str = "govledger-report-params:";

impl Proven {
    /// `SIZE:ROOT:COSIGNATURES`, as in the parameters line.
    fn parse(text: &str) -> Option<Proven> {
        let mut parts = text.split(':');
        let size = parts.next()?.parse().ok()?;
        let root = parts.next()?.to_owned();
        let cosignatures = parts.next()?.parse().ok()?;
        let hex = root.len() == 64 && root.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        (hex && parts.next().is_none()).then_some(Proven { size, root, cosignatures })
    }
}

/// How a report was made: what `govledger report verify` needs to make it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub from: String,
    pub to: String,
    pub as_of_seq: u64,
    pub model_sha256: String,
    pub format: Format,
    /// The checkpoint stamp, when the report has one.
    pub proven: Option<Proven>,
    /// The language and time zone (`lang=`, `tz=`); a report made before
    /// they were recorded reads as English and UTC.
    pub locale: Locale,
    /// The issuer named on the title page (`issuer=`), if any.
    pub issuer: Option<String>,
}

impl Params {
    pub fn of(a: &Assessment, format: Format) -> Params {
        Params {
            from: a.period.from.clone(),
            to: a.period.to.clone(),
            as_of_seq: a.as_of_seq,
            model_sha256: a.model_sha256.clone(),
            format,
            proven: None,
            locale: Locale::default(),
            issuer: None,
        }
    }

    /// The parameters of `input`'s report in `format`.
    pub fn of_input(input: &ReportInput<'_>, format: Format) -> Params {
        Params {
            proven: input.proven.clone(),
            locale: input.locale,
            issuer: input.title.as_ref().and_then(|t| t.issuer.clone()),
            ..Params::of(input.assessment, format)
        }
    }

    /// `from=… to=… as_of_seq=… model_sha256=… format=… lang=… tz=…`, then
    /// `issuer=…` and `checkpoint=…` when there are (after [`PARAMS_MARKER`]).
    pub fn line(&self) -> String {
        format!(
            "{PARAMS_MARKER} from={} to={} as_of_seq={} model_sha256={} format={} lang={} tz={}",
            self.from,
            self.to,
            self.as_of_seq,
            self.model_sha256,
            self.format.as_str(),
            self.locale.lang.tag(),
            self.locale.zone.name()
        ) + &self.issuer.as_ref().map(|i| format!(" issuer={i}")).unwrap_or_default()
            + &self
                .proven
                .as_ref()
                .map(|p| format!(" checkpoint={}:{}:{}", p.size, p.root, p.cosignatures))
                .unwrap_or_default()
    }

    /// Finds the parameters line in a report's bytes.
    pub fn find(report: &[u8]) -> Option<Params> {
        let text = std::str::from_utf8(report).ok()?;
        let start = text.find(PARAMS_MARKER)? + PARAMS_MARKER.len();
        let rest = &text[start..];
        // A line ends the parameters, as do the quote of a JSON string, the
        // tag after an HTML text and the next cell of a CSV row.
        let end = rest.find(['\n', '"', '<', ',']).unwrap_or(rest.len());
        let (mut from, mut to, mut as_of, mut model, mut format) = (None, None, None, None, None);
        let (mut proven, mut issuer) = (None, None);
        let mut locale = Locale { lang: Lang::En, zone: Zone::UTC };
        for pair in rest[..end].split_whitespace() {
            let Some((k, v)) = pair.split_once('=') else { continue };
            match k {
                "from" => from = Some(v.to_owned()),
                "to" => to = Some(v.to_owned()),
                "as_of_seq" => as_of = v.parse().ok(),
                "model_sha256" => model = Some(v.to_owned()),
                "format" => format = Format::parse(v),
                "checkpoint" => proven = Proven::parse(v),
                "issuer" => issuer = Some(v.to_owned()),
                "lang" => locale.lang = Lang::parse(v)?,
                "tz" => locale.zone = Zone::parse(v)?,
                _ => {}
            }
        }
        Some(Params {
            from: from?,
            to: to?,
            as_of_seq: as_of?,
            model_sha256: model?,
            format: format?,
            proven,
            locale,
            issuer,
        })
    }

    /// The command that makes this report again from the same ledger. A
    /// model other than the built-in one is named by its hash: the reader
    /// supplies the file.
    pub fn command(&self, default_model_sha256: &str) -> String {
        let model = if self.model_sha256 == default_model_sha256 {
            String::new()
        } else {
            format!(" --model MODEL.toml (sha256 {})", self.model_sha256)
        };
        let issuer = self.issuer.as_ref().map(|i| format!(" --issuer {i}")).unwrap_or_default();
        format!(
            "govledger report --from {} --to {} --as-of {}{model}{issuer} --lang {} --tz {} --format {} --out report.{}",
            self.from,
            self.to,
            self.as_of_seq,
            self.locale.lang.tag(),
            self.locale.zone.name(),
            self.format.as_str(),
            self.format.as_str()
        )
    }
}

/// Renders a report. Same input, same bytes.
pub fn render(format: Format, input: &ReportInput<'_>) -> Vec<u8> {
    match format {
        Format::Html => html::render(input).into_bytes(),
        Format::Markdown => text::markdown(input).into_bytes(),
        Format::Csv => text::csv(input),
        Format::Json => text::json(input),
    }
}

/// Lowercase hex SHA-256 of a report's bytes (`report_sha256`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The calendar months of `zone` that overlap `[from, to)`, each clipped to
/// the period, at most the latest [`MAX_TREND_MONTHS`].
pub fn months(zone: Zone, from: Timestamp, to: Timestamp) -> Vec<(String, Timestamp, Timestamp)> {
    let mut out: Vec<(String, Timestamp, Timestamp)> = zone
        .months(from.micros(), to.micros())
        .into_iter()
        .map(|(label, lo, hi)| (label, Timestamp::from_micros(lo), Timestamp::from_micros(hi)))
        .collect();
    let skip = out.len().saturating_sub(MAX_TREND_MONTHS);
    out.split_off(skip)
}

/// The month-by-month assessments of `query`'s period (months of `zone`), at the same position.
pub fn monthly(
    projection: &Projection,
    model: &Model,
    query: &Query,
    zone: Zone,
) -> Result<Vec<MonthAssessment>, AssessError> {
    months(zone, query.from, query.to)
        .into_iter()
        .map(|(label, from, to)| {
            let assessment = projection.assess(model, &Query { from, to, as_of: query.as_of })?;
            Ok(MonthAssessment { label, assessment })
        })
        .collect()
}

/// The name of an indicator in `lang`.
pub(crate) fn indicator_name(lang: Lang, id: IndicatorId) -> String {
    lang.term("indicator", id.as_str())
}

/// Its short label (chart legends and table columns).
pub(crate) fn indicator_short(lang: Lang, id: IndicatorId) -> String {
    lang.t(&format!("indicator-{}-short", id.as_str()), &[])
}

/// An RFC 3339 instant of the assessment as shown in `zone` (as it is when it does not parse).
pub(crate) fn shown(zone: Zone, rfc3339: &str) -> String {
    Timestamp::parse(rfc3339).map_or_else(|_| rfc3339.to_owned(), |t| zone.show(t.micros()))
}

/// The name of the assessment's period in the locale (a quarter, a month, days or instants).
pub(crate) fn period_name(locale: Locale, a: &Assessment) -> String {
    match (Timestamp::parse(&a.period.from), Timestamp::parse(&a.period.to)) {
        (Ok(from), Ok(to)) => locale.zone.describe(locale.lang, from.micros(), to.micros()),
        _ => format!("{} – {}", a.period.from, a.period.to),
    }
}

/// Formats a number with a fixed count of decimals (deterministic, `-` for none).
pub(crate) fn fixed(x: Option<f64>, decimals: usize) -> String {
    match x {
        Some(v) => format!("{v:.decimals$}"),
        None => "-".to_owned(),
    }
}
