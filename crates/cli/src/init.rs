//! `govledger init`: bootstraps an empty ledger (SPEC 2.4: the first event is
//! a coordinator registering itself) and issues that coordinator's token, so
//! a new deployment can be used at once. `serve` on an empty ledger refuses
//! to start and names this command.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use govledger_api::TokenRole;
use govledger_domain::{Submission, Timestamp};

#[derive(clap::Args)]
pub struct InitArgs {
    /// The first coordinator's agency id (e.g. the municipal coordination office).
    #[arg(long)]
    agency: String,
    /// Its name as people read it.
    #[arg(long)]
    name: String,
    /// Its kind (SPEC 2.3), e.g. government.
    #[arg(long, default_value = "government")]
    kind: String,
    /// Its jurisdiction, if the ledger records one.
    #[arg(long)]
    jurisdiction: Option<String>,
}

/// The sentence `serve` and the tests show on an empty ledger.
pub fn how_to_bootstrap(dir: &Path) -> String {
    format!(
        "the ledger in {dir} is empty, so no token could be used with this server (every request would be \
         refused). Register the first coordinator, which prints its token, then start the server again:\n  \
         govledger --data-dir {dir} init --agency ID --name NAME\n(or `govledger serve --demo` for a demo city)",
        dir = dir.display()
    )
}

pub fn init(dir: &Path, args: InitArgs) -> Result<ExitCode> {
    let mut data = serde_json::json!({
        "agency_id": args.agency, "name": args.name, "kind": args.kind, "roles": ["coordinator"],
    });
    if let Some(j) = &args.jurisdiction {
        data["jurisdiction"] = j.as_str().into();
    }
    let envelope = serde_json::json!({
        "type": "AgencyRegistered", "actor": args.agency, "occurred_at": Timestamp::now().to_rfc3339(), "data": data,
    });
    let submission = match Submission::parse(envelope) {
        Ok(s) => s,
        Err(rejection) => {
            eprintln!("error: {rejection}; nothing was stored");
            return Ok(ExitCode::from(1));
        }
    };
    let ledger = crate::open_ledger(dir)?;
    let head = ledger.head().seq;
    if head > 0 {
        ledger.close();
        bail!(
            "{} already holds a ledger (head seq {head}); `init` only bootstraps an empty one (register further \
             agencies with a coordinator token)",
            dir.display()
        );
    }
    let outcome = ledger.append_blocking(vec![submission]);
    ledger.close();
    match outcome {
        Ok(_) => {
            eprintln!("registered {} as the ledger's first coordinator", args.agency);
            crate::token::issue(dir, &args.agency, TokenRole::Coordinator, &Default::default())
        }
        Err(govledger_ledger::AppendError::Rejected { rejection, .. }) => {
            eprintln!("error: the ledger refused the bootstrap: {rejection}; nothing was stored");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
