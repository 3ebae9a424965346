//! govledger reports: an assessment (SPEC 3.4) rendered for people, as one
//! self-contained HTML file (inline CSS, SVG charts drawn here, no scripts
//! unless it is the live dashboard), Markdown for a code-hosting page, CSV
//! for a spreadsheet and JSON for programs.
//!
//! Architecture invariant: pure functions of their inputs. No clock, no IO,
//! no randomness, stable ordering and fixed number formatting, so that the
//! same ledger position, period, model and format always give the same bytes
//! (`govledger report verify` depends on it).

mod charts;
mod html;
mod text;

use govledger_assess::{AssessError, Assessment, Model, Projection, Query};
use govledger_domain::Timestamp;
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
    /// `YYYY-MM` (UTC).
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
    /// `YYYY-MM-DD` values of the picker.
    pub from_date: String,
    pub to_date: String,
    /// The signed checkpoint the figures are proven by (SPEC 6.4), if one covers them yet.
    pub checkpoint: Option<LiveCheckpoint>,
    /// The agency of the reader (an agency token), whose ranking row and
    /// scorecard are highlighted; `None` for readers of every agency.
    pub viewer: Option<String>,
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
        }
    }

    /// The parameters of `input`'s report in `format`.
    pub fn of_input(input: &ReportInput<'_>, format: Format) -> Params {
        Params { proven: input.proven.clone(), ..Params::of(input.assessment, format) }
    }

    /// `from=… to=… as_of_seq=… model_sha256=… format=…` (after [`PARAMS_MARKER`]).
    pub fn line(&self) -> String {
        format!(
            "{PARAMS_MARKER} from={} to={} as_of_seq={} model_sha256={} format={}",
            self.from,
            self.to,
            self.as_of_seq,
            self.model_sha256,
            self.format.as_str()
        ) + &self
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
        let end = rest.find(['\n', '"', '<']).unwrap_or(rest.len());
        let (mut from, mut to, mut as_of, mut model, mut format) = (None, None, None, None, None);
        let mut proven = None;
        for pair in rest[..end].split_whitespace() {
            let Some((k, v)) = pair.split_once('=') else { continue };
            match k {
                "from" => from = Some(v.to_owned()),
                "to" => to = Some(v.to_owned()),
                "as_of_seq" => as_of = v.parse().ok(),
                "model_sha256" => model = Some(v.to_owned()),
                "format" => format = Format::parse(v),
                "checkpoint" => proven = Proven::parse(v),
                _ => {}
            }
        }
        Some(Params { from: from?, to: to?, as_of_seq: as_of?, model_sha256: model?, format: format?, proven })
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
        format!(
            "govledger report --from {} --to {} --as-of {}{model} --format {} --out report.{}",
            self.from,
            self.to,
            self.as_of_seq,
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

/// The calendar months (UTC) that overlap `[from, to)`, each clipped to the
/// period, at most the latest [`MAX_TREND_MONTHS`].
pub fn months(from: Timestamp, to: Timestamp) -> Vec<(String, Timestamp, Timestamp)> {
    use chrono::{Datelike, TimeZone, Utc};
    let mut out = Vec::new();
    let start = from.as_datetime();
    let Some(mut month) = Utc.with_ymd_and_hms(start.year(), start.month(), 1, 0, 0, 0).single() else {
        return out;
    };
    while month < to.as_datetime() {
        let (y, m) = if month.month() == 12 { (month.year() + 1, 1) } else { (month.year(), month.month() + 1) };
        let Some(next) = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single() else { break };
        let lo = Timestamp::from_micros(month.timestamp_micros().max(from.micros()));
        let hi = Timestamp::from_micros(next.timestamp_micros().min(to.micros()));
        out.push((format!("{:04}-{:02}", month.year(), month.month()), lo, hi));
        month = next;
    }
    let skip = out.len().saturating_sub(MAX_TREND_MONTHS);
    out.split_off(skip)
}

/// The month-by-month assessments of `query`'s period, at the same position.
pub fn monthly(projection: &Projection, model: &Model, query: &Query) -> Result<Vec<MonthAssessment>, AssessError> {
    months(query.from, query.to)
        .into_iter()
        .map(|(label, from, to)| {
            let assessment = projection.assess(model, &Query { from, to, as_of: query.as_of })?;
            Ok(MonthAssessment { label, assessment })
        })
        .collect()
}

/// Formats a number with a fixed count of decimals (deterministic, `-` for none).
pub(crate) fn fixed(x: Option<f64>, decimals: usize) -> String {
    match x {
        Some(v) => format!("{v:.decimals$}"),
        None => "-".to_owned(),
    }
}
