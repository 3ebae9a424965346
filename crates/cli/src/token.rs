//! `govledger token issue|list|revoke|import`: credential management (SPEC 4)
//! on the selected store's tokens (`store::tokens`: `tokens.sqlite` in the
//! data directory, or the shared store itself). Works while servers run (it
//! only reads the ledger and writes the tokens); every server refuses a
//! revoked token within `REVOCATION_BOUND`. `import` copies the tokens of a
//! `tokens.sqlite` into a shared store, once, when a deployment moves to it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use govledger_api::auth::IssueOptions;
use govledger_api::auth::TokenError;
use govledger_api::{AgencyIndex, TokenRole, Tokens};
use govledger_domain::Timestamp;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Issue a bearer token for an agency and print it once (only its hash is kept).
    Issue {
        /// The agency the token acts as; it must be registered in the ledger.
        #[arg(long)]
        agency: String,
        /// What the token may do; `coordinator` and `evaluator` need the agency to hold that ledger role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// What the token is for (shown by `token list`), e.g. "ICBC upload job".
        #[arg(long)]
        label: Option<String>,
        /// Refuse the token (401 `auth.token_expired`) after this long, e.g. 90d, 12h, 30m.
        #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "expires_at")]
        expires_in: Option<std::time::Duration>,
        /// Refuse the token from this instant on (RFC 3339 with an offset).
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List issued tokens (ids, agencies, roles, labels, when issued, expiring, last used and
    /// revoked; never the tokens).
    List {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (as shown by `token list`).
    Revoke {
        /// The token id, e.g. tk-1a2b3c4d5e6f.
        id: String,
    },
    /// Copy the tokens of a tokens.sqlite into the shared store given with --store (PostgreSQL or
    /// KurrentDB), keeping ids, hashes, roles, revocations, labels, expiries and last uses: the
    /// tokens in use keep working after a move. Tokens already there are left as they are.
    Import {
        /// The data directory whose tokens.sqlite is copied (default: --data-dir).
        #[arg(long)]
        from: Option<std::path::PathBuf>,
    },
}

/// The roles of SPEC 4.
#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Acts only as its own agency.
    Agency,
    /// Acts as its agency with the ledger's coordinator role.
    Coordinator,
    /// Acts as its agency with the ledger's evaluator role.
    Evaluator,
    /// Reads everything, writes nothing.
    Auditor,
}

impl From<RoleArg> for TokenRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Agency => TokenRole::Agency,
            RoleArg::Coordinator => TokenRole::Coordinator,
            RoleArg::Evaluator => TokenRole::Evaluator,
            RoleArg::Auditor => TokenRole::Auditor,
        }
    }
}

pub fn run(dir: &Path, command: TokenCommand) -> Result<ExitCode> {
    match command {
        TokenCommand::Issue { agency, role, label, expires_in, expires_at } => {
            let options = issue_options(label, expires_in, expires_at.as_deref())?;
            issue(dir, &agency, role.into(), &options)
        }
        TokenCommand::List { json } => list(dir, json),
        TokenCommand::Revoke { id } => revoke(dir, &id),
        TokenCommand::Import { from } => import(dir, from.as_deref().unwrap_or(dir)),
    }
}

/// The label and expiry of a new token, checked: a label of at most 200
/// characters, an expiry in the future.
fn issue_options(
    label: Option<String>,
    expires_in: Option<std::time::Duration>,
    expires_at: Option<&str>,
) -> Result<IssueOptions> {
    let label = label.map(|l| l.trim().to_owned());
    if let Some(l) = &label
        && (l.is_empty() || l.chars().count() > 200)
    {
        bail!("--label must have 1 to 200 characters");
    }
    let now = Timestamp::now();
    let expires_at = match (expires_in, expires_at) {
        (Some(d), _) => {
            let micros = i64::try_from(d.as_micros()).ok().and_then(|m| now.micros().checked_add(m));
            Some(Timestamp::from_micros(micros.context("--expires-in is too long")?))
        }
        (None, Some(text)) => Some(Timestamp::parse(text).map_err(|r| anyhow::anyhow!("--expires-at: {}", r.message))?),
        (None, None) => None,
    };
    if let Some(at) = expires_at
        && at.micros() <= now.micros()
    {
        bail!("the expiry {at} is not in the future");
    }
    Ok(IssueOptions { label, expires_at })
}

fn open_store(dir: &Path) -> Result<Tokens> {
    crate::store::tokens(dir)
}

/// Issues a token for `agency`, checking against the ledger that the agency
/// is registered and holds the role's ledger role. Prints the token alone on
/// standard output (so `TOKEN=$(govledger token issue …)` works) and the rest
/// on standard error.
pub fn issue(dir: &Path, agency: &str, role: TokenRole, options: &IssueOptions) -> Result<ExitCode> {
    let reader = crate::store::open_reader(dir)?;
    let projection = crate::projection::load(dir, reader.as_ref(), &mut |_| {})?;
    let index = AgencyIndex::new();
    index.follow(reader.as_ref(), &projection).context("cannot read the ledger")?;
    let Some(info) = index.get(agency) else {
        eprintln!(
            "error: agency {agency:?} is not registered in the ledger in {} (as of seq {}); register it first",
            dir.display(),
            index.seq()
        );
        return Ok(ExitCode::from(1));
    };
    if let Some(ledger_role) = role.ledger_role()
        && !info.has_role(ledger_role)
    {
        eprintln!(
            "error: agency {agency:?} does not hold the {} role in the ledger, so it cannot have a {role} token",
            ledger_role.as_str()
        );
        return Ok(ExitCode::from(1));
    }
    let issued = open_store(dir)?.issue_with(agency, role, options)?;
    println!("{}", issued.secret);
    let expiry = issued.record.expires_at.as_deref().map(|at| format!(", expiring at {at}")).unwrap_or_default();
    eprintln!(
        "issued token {} for agency {agency} with role {role}{expiry}; it is shown only now: store it safely, \
         send it as `Authorization: Bearer <token>`, revoke it with `govledger token revoke {}`",
        issued.record.id, issued.record.id
    );
    Ok(ExitCode::SUCCESS)
}

fn list(dir: &Path, json: bool) -> Result<ExitCode> {
    let tokens = open_store(dir)?.list()?;
    if json {
        for t in &tokens {
            let mut line = serde_json::to_value(t)?;
            line["status"] = t.status(Timestamp::now()).into();
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let now = Timestamp::now();
    println!(
        "{:<16} {:<24} {:<12} {:<26} {:<26} {:<26} {:<8} label",
        "id", "agency", "role", "created_at", "expires_at", "last_used_at", "status"
    );
    for t in &tokens {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        println!(
            "{:<16} {:<24} {:<12} {:<26} {:<26} {:<26} {:<8} {}",
            t.id,
            t.agency,
            t.role.as_str(),
            t.created_at,
            or_dash(&t.expires_at),
            or_dash(&t.last_used_at),
            t.status(now),
            or_dash(&t.label)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn revoke(dir: &Path, id: &str) -> Result<ExitCode> {
    match open_store(dir)?.revoke(id) {
        Ok(record) => {
            println!(
                "revoked {} ({} as {}) at {}",
                record.id,
                record.agency,
                record.role,
                record.revoked_at.unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(TokenError::UnknownId(_)) => {
            eprintln!("error: no token with id {id:?}; see `govledger token list`");
            Ok(ExitCode::from(1))
        }
        Err(e) => bail!(e),
    }
}

/// Copies every token of `from`'s `tokens.sqlite` into the selected shared
/// store; a token whose id or hash is there already is skipped, so running
/// it twice copies nothing twice.
fn import(dir: &Path, from: &Path) -> Result<ExitCode> {
    if matches!(crate::store::selected(), crate::store::Selection::Embedded) {
        eprintln!(
            "error: `token import` copies a tokens.sqlite into a shared store: give the target with --store \
             postgres://… or --store kurrentdb://… (the embedded store reads tokens.sqlite itself)"
        );
        return Ok(ExitCode::from(2));
    }
    let file = from.join(govledger_api::auth::TOKENS_FILE);
    if !file.exists() {
        eprintln!("error: there is no {} to import", file.display());
        return Ok(ExitCode::from(1));
    }
    let source = govledger_credentials::SqliteTokens::open(from)
        .with_context(|| format!("cannot open the token store {}", file.display()))?;
    let target = open_store(dir)?;
    let (mut copied, mut present) = (0, 0);
    for token in govledger_credentials::TokenBackend::all(&source)? {
        match target.backend().insert(&token) {
            Ok(()) => copied += 1,
            Err(TokenError::Duplicate(_)) => present += 1,
            Err(e) => bail!(e),
        }
    }
    println!(
        "copied {copied} tokens from {} into {} ({present} were there already)",
        file.display(),
        target.backend().describe()
    );
    Ok(ExitCode::SUCCESS)
}
