//! Credentials (SPEC 4): bearer tokens bound to one agency and one role (kept
//! by `govledger-credentials`, in whichever store the ledger is), and the
//! check of what a token may append.
//!
//! What a token may do:
//! - every token reads everything;
//! - `auditor` writes nothing;
//! - `evaluator` appends only `AssessmentPublished`, as its agency;
//! - `coordinator` appends anything, as its agency;
//! - `agency` appends as its agency, except the two event types that exist
//!   only through a ledger role: `AgencyRegistered` (coordinator) and
//!   `AssessmentPublished` (evaluator).
//!
//! Then the ledger's own rules decide what that agency may append. Whether an
//! agency holds the role a token claims is checked when the token is issued
//! and again on every request, against the ledger (a retracted registration
//! disables its tokens).

use govledger_domain::{EventType, Submission};
use sha2::{Digest, Sha256};

use crate::error::{ApiCode, AppError};
pub use govledger_credentials::{
    IssueOptions, IssuedToken, LAST_USE_EVERY, TOKEN_PREFIX, TOKENS_FILE, TokenError, TokenRecord, TokenRole, Tokens,
};

/// The authenticated caller of a request. Never holds the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's public id (safe to log).
    pub token_id: String,
    pub agency: String,
    pub role: TokenRole,
}

/// The ledger capacity (SPEC 4) in which a token's appends are checked by
/// the ledger's rules: an `agency` token acts as a plain agency even when its
/// agency holds the coordinator or evaluator role; a `coordinator` or
/// `evaluator` token acts in that role only. `None` for `auditor`, which
/// writes nothing. The one place a token role becomes a capacity.
pub fn capacity(role: TokenRole) -> Option<govledger_domain::Capacity> {
    use govledger_domain::Capacity;
    match role {
        TokenRole::Agency => Some(Capacity::AGENCY),
        TokenRole::Coordinator => Some(Capacity::COORDINATOR),
        TokenRole::Evaluator => Some(Capacity::EVALUATOR),
        TokenRole::Auditor => None,
    }
}

/// Checks that `principal` may append every event of `batch`, before the
/// ledger's rules run. The first refused event is named by its index.
pub fn authorize_append(principal: &Principal, batch: &[Submission]) -> Result<(), AppError> {
    if principal.role == TokenRole::Auditor {
        return Err(read_only());
    }
    for (index, sub) in batch.iter().enumerate() {
        authorize_event(principal, Some(index), sub.actor.as_str(), sub.event_type())?;
    }
    Ok(())
}

/// Checks that `principal` may publish a report (append `AssessmentPublished`
/// as its agency), before the server spends time rendering it.
pub fn authorize_publication(principal: &Principal) -> Result<(), AppError> {
    authorize_event(principal, None, &principal.agency, EventType::AssessmentPublished)
}

fn read_only() -> AppError {
    AppError::refused(ApiCode::ReadOnly, "this token has the auditor role: it reads everything and appends nothing")
}

/// Whether `principal` may append one event of type `ty` whose actor is
/// `actor` (the one statement of the table in the module docs).
fn authorize_event(principal: &Principal, index: Option<usize>, actor: &str, ty: EventType) -> Result<(), AppError> {
    if principal.role == TokenRole::Auditor {
        return Err(read_only());
    }
    let refuse = |code, field: Option<&str>, message: String| AppError::Refused {
        code,
        index,
        field: field.map(str::to_owned),
        message,
    };
    if actor != principal.agency {
        return Err(refuse(
            ApiCode::ActorMismatch,
            Some("actor"),
            format!("this token acts as {:?}; it cannot append an event whose actor is {actor:?}", principal.agency),
        ));
    }
    let needed = match ty {
        EventType::AgencyRegistered => Some(TokenRole::Coordinator),
        EventType::AssessmentPublished => Some(TokenRole::Evaluator),
        _ if principal.role == TokenRole::Evaluator => {
            return Err(refuse(
                ApiCode::RoleForbidden,
                Some("type"),
                format!("an evaluator token appends only AssessmentPublished, not {}", ty.as_str()),
            ));
        }
        _ => None,
    };
    if let Some(needed) = needed
        && principal.role != needed
    {
        return Err(refuse(
            ApiCode::RoleForbidden,
            Some("type"),
            format!("{} needs a token with the {needed} role; this token has the {} role", ty.as_str(), principal.role),
        ));
    }
    Ok(())
}

/// The secret a Prometheus scraper presents for `/metrics` (SPEC 4: a
/// scrape token configured for it), kept only as its SHA-256 digest and
/// compared digest to digest, so that the time a comparison takes says
/// nothing about the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ScrapeToken([u8; 32]);

impl ScrapeToken {
    /// Fewest characters a scrape token must have.
    pub const MIN_LEN: usize = 16;

    /// The scrape token `secret` (surrounding whitespace, such as a file's
    /// final newline, is not part of it). Refused when shorter than [`Self::MIN_LEN`].
    pub fn new(secret: &str) -> Result<Self, String> {
        let secret = secret.trim();
        if secret.chars().count() < Self::MIN_LEN {
            return Err(format!(
                "a scrape token needs at least {} characters (e.g. `openssl rand -hex 32`)",
                Self::MIN_LEN
            ));
        }
        Ok(ScrapeToken(Sha256::digest(secret.as_bytes()).into()))
    }

    /// Whether `presented` (the text after `Bearer `) is this token.
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest == self.0
    }
}

impl std::fmt::Debug for ScrapeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScrapeToken(…)")
    }
}

/// The token of an `Authorization: Bearer …` header value, if it is one.
pub fn bearer(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sub(ty: &str, actor: &str, data: serde_json::Value) -> Submission {
        Submission::parse(json!({"type": ty, "actor": actor, "occurred_at": "2026-01-01T00:00:00Z", "data": data}))
            .unwrap()
    }

    fn principal(agency: &str, role: TokenRole) -> Principal {
        Principal { token_id: "tk-1".into(), agency: agency.into(), role }
    }

    #[test]
    fn a_scrape_token_matches_only_itself_and_is_never_printed() {
        let token = ScrapeToken::new("s3cret-scrape-token-0123\n").unwrap();
        assert!(token.matches("s3cret-scrape-token-0123"));
        assert!(!token.matches("s3cret-scrape-token-0124") && !token.matches(""));
        assert_eq!(format!("{token:?}"), "ScrapeToken(…)");
        assert!(ScrapeToken::new("  short \n").unwrap_err().contains("at least 16"));
    }

    fn code(r: Result<(), AppError>) -> Option<&'static str> {
        r.err().map(|e| e.code())
    }

    #[test]
    fn each_token_role_acts_in_its_own_capacity() {
        use govledger_domain::Capacity;
        assert_eq!(capacity(TokenRole::Agency), Some(Capacity::AGENCY));
        assert_eq!(capacity(TokenRole::Coordinator), Some(Capacity::COORDINATOR));
        assert_eq!(capacity(TokenRole::Evaluator), Some(Capacity::EVALUATOR));
        assert_eq!(capacity(TokenRole::Auditor), None);
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer("Bearer glt_ab"), Some("glt_ab"));
        assert_eq!(bearer("bearer  glt_ab "), Some("glt_ab"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("glt_ab"), None);
    }

    #[test]
    fn roles_gate_what_a_token_appends() {
        let publicity = sub("PublicityDelivered", "bank-a", json!({"activity_id": "P1", "audience": "x", "reach": 1}));
        let register = sub("AgencyRegistered", "office", json!({"agency_id": "bank-b", "name": "B", "kind": "bank"}));
        let assessment = sub(
            "AssessmentPublished",
            "office",
            json!({"assessment_id": "A1", "period_from": "2026-01-01T00:00:00Z", "period_to": "2026-02-01T00:00:00Z",
                   "as_of_seq": 1, "model_sha256": "0".repeat(64), "report_sha256": "0".repeat(64)}),
        );
        let ok = |p: &Principal, s: &Submission| authorize_append(p, std::slice::from_ref(s));

        assert_eq!(code(ok(&principal("bank-a", TokenRole::Agency), &publicity)), None);
        assert_eq!(code(ok(&principal("bank-b", TokenRole::Agency), &publicity)), Some("auth.actor_mismatch"));
        assert_eq!(code(ok(&principal("bank-a", TokenRole::Auditor), &publicity)), Some("auth.read_only"));
        assert_eq!(code(ok(&principal("bank-a", TokenRole::Evaluator), &publicity)), Some("auth.role_forbidden"));

        assert_eq!(code(ok(&principal("office", TokenRole::Coordinator), &register)), None);
        assert_eq!(code(ok(&principal("office", TokenRole::Agency), &register)), Some("auth.role_forbidden"));
        assert_eq!(code(ok(&principal("office", TokenRole::Evaluator), &register)), Some("auth.role_forbidden"));

        assert_eq!(code(ok(&principal("office", TokenRole::Evaluator), &assessment)), None);
        assert_eq!(code(ok(&principal("office", TokenRole::Coordinator), &assessment)), Some("auth.role_forbidden"));

        // Publishing a report through the server: the evaluator token only, checked before rendering.
        let publish = |role| code(authorize_publication(&principal("office", role)));
        assert_eq!(publish(TokenRole::Evaluator), None);
        assert_eq!(publish(TokenRole::Coordinator), Some("auth.role_forbidden"));
        assert_eq!(publish(TokenRole::Agency), Some("auth.role_forbidden"));
        assert_eq!(publish(TokenRole::Auditor), Some("auth.read_only"));

        // The first refused event of a batch is named by its index.
        let err =
            authorize_append(&principal("office", TokenRole::Coordinator), &[register.clone(), publicity.clone()])
                .unwrap_err();
        assert!(matches!(err, AppError::Refused { code: ApiCode::ActorMismatch, index: Some(1), .. }), "{err:?}");
    }
}
