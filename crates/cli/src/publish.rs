//! `govledger report --publish --server URL`: publishing through a running
//! server, which holds the data directory. The server renders the report,
//! records `AssessmentPublished` with the caller's evaluator token and
//! returns the file (`POST /v1/publications`, `govledger_api::publish`); the
//! file is written here only after that answer, and only when its bytes have
//! the SHA-256 the event records.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use govledger_api::publish::Publication;
use govledger_assess::Query;
use govledger_report::{Format, Locale};

/// Where and as whom to publish through a server.
#[derive(clap::Args)]
pub struct ServerArgs {
    /// Publish through the server at this URL (e.g. http://127.0.0.1:8080) instead of on the data
    /// directory: needed while `govledger serve` runs on it. The server makes the report with its model.
    #[arg(long = "server", env = "GOVLEDGER_SERVER", value_name = "URL")]
    server: Option<String>,
    /// A file holding the evaluator token to publish with (else the token in GOVLEDGER_TOKEN).
    #[arg(long, env = "GOVLEDGER_TOKEN_FILE", value_name = "FILE")]
    token_file: Option<PathBuf>,
}

impl ServerArgs {
    /// The server's URL, if one was given.
    pub fn url(&self) -> Option<&str> {
        self.server.as_deref().filter(|u| !u.trim().is_empty())
    }

    /// The token: from `--token-file`, else `GOVLEDGER_TOKEN`.
    fn token(&self) -> Result<String> {
        let token = match &self.token_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?,
            None => std::env::var("GOVLEDGER_TOKEN").unwrap_or_default(),
        };
        let token = token.trim();
        if token.is_empty() {
            bail!(
                "publishing through a server needs an evaluator token: --token-file FILE (or the token in \
                 GOVLEDGER_TOKEN); issue one with `govledger token issue --agency ID --role evaluator`"
            );
        }
        Ok(token.to_owned())
    }
}

/// Publishes the report of `query` through the server at `url`, then writes it to `out`.
pub fn through_server(
    url: &str,
    args: &ServerArgs,
    query: &Query,
    format: Format,
    locale: Locale,
    out: &Path,
) -> Result<ExitCode> {
    let token = args.token()?;
    let endpoint = format!("{}/v1/publications", url.trim_end_matches('/'));
    let body = serde_json::json!({
        "from": query.from.to_rfc3339(),
        "to": query.to.to_rfc3339(),
        "as_of": query.as_of,
        "format": format.as_str(),
        "lang": locale.lang.tag(),
        "tz": locale.zone.name(),
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start tokio")?;
    let (status, text) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(&endpoint)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {endpoint}; nothing was written"))?;
        let status = response.status();
        let text = response.text().await.with_context(|| format!("the answer of {endpoint} was cut off"))?;
        anyhow::Ok((status, text))
    })?;
    if !status.is_success() {
        let error: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let code = error["error"]["code"].as_str().unwrap_or("(no code)");
        let message = error["error"]["message"].as_str().unwrap_or(text.as_str());
        eprintln!("the server refused the publication ({status}): {code}: {message}");
        eprintln!("nothing was written");
        // Refusals exit 1 like every ledger refusal; a failing server is an error (2).
        let refused = status.is_client_error() || code == govledger_api::ApiCode::ChainBroken.as_str();
        return Ok(ExitCode::from(if refused { 1 } else { 2 }));
    }
    let publication: Publication = serde_json::from_str(&text)
        .with_context(|| format!("{endpoint} answered {status} with something other than a publication"))?;
    let bytes = publication.content.as_bytes();
    let sha = govledger_report::sha256_hex(bytes);
    if sha != publication.report_sha256 {
        bail!(
            "the server recorded a report of sha256 {} but sent one of sha256 {sha}; nothing was written",
            publication.report_sha256
        );
    }
    let event = &publication.event;
    let data = &event.data;
    let what = format!(
        "period {} to {}, as of seq {}",
        data["period_from"].as_str().unwrap_or("?"),
        data["period_to"].as_str().unwrap_or("?"),
        data["as_of_seq"]
    );
    crate::report::write_report(out, bytes, &what)?;
    let line = format!(
        "published as {} through {url}: AssessmentPublished seq {} id {} (report sha256 {sha})",
        event.actor, event.seq, event.id
    );
    if out.as_os_str() == "-" {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
