//! The cases every [`TokenBackend`] passes, the way `govledger-store-conformance`
//! checks every log store: a store's tests call [`token_backend_tests!`]
//! with a function that makes a [`TokenHarness`] (one fresh, empty token
//! store per case), which generates one `#[test]` per case. Each
//! [`TokenHarness::open`] is another handle on the same store, as another
//! replica (or the CLI on another host) would open it. A store that needs a
//! server returns `None` when it is not configured; its tests then print a
//! `SKIPPED:` line instead of passing silently.

// A test suite: a panic with the failing value is its report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use govledger_domain::Timestamp;

use crate::{
    IssueOptions, REVOCATION_BOUND, StoredToken, TokenBackend, TokenError, TokenRecord, TokenRole, Tokens, hash_token,
};

/// One fresh, empty token store.
pub trait TokenHarness: Send + Sync {
    /// Another handle on the store.
    fn open(&self) -> Box<dyn TokenBackend>;
}

/// A case of the suite.
pub type Case = fn(&dyn TokenHarness);

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    ("issued_tokens_are_found_by_hash_and_id_through_every_handle", issued_tokens_are_found_by_hash_and_id),
    ("revoking_keeps_the_first_time_and_every_handle_sees_it", revoking_keeps_the_first_time),
    ("a_copied_record_keeps_every_field", a_copied_record_keeps_every_field),
    ("a_duplicate_id_or_hash_is_refused_and_changes_nothing", a_duplicate_is_refused),
    ("the_last_use_is_seen_by_every_handle", the_last_use_is_seen_by_every_handle),
    ("tokens_are_listed_oldest_first", tokens_are_listed_oldest_first),
    ("handles_issuing_at_once_lose_no_token", handles_issuing_at_once_lose_no_token),
    ("a_revocation_reaches_another_replica_within_the_bound", a_revocation_reaches_another_replica_within_the_bound),
];

/// Runs one case on a fresh store from `make`, or says loudly that it was skipped.
pub fn run_case(store: &str, case: &str, make: &dyn Fn() -> Option<Box<dyn TokenHarness>>, skip_reason: &str) {
    let Some((_, run)) = CASES.iter().find(|(name, _)| *name == case) else {
        panic!("no token conformance case named {case}");
    };
    match make() {
        Some(harness) => run(harness.as_ref()),
        None => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {skip_reason}; token conformance case `{case}` did not run against {store}"
            );
        }
    }
}

/// Generates one `#[test]` per case. `$make` is a function
/// `fn() -> Option<Box<dyn TokenHarness>>`; `$skip` says why it may give `None`.
#[macro_export]
macro_rules! token_backend_tests {
    ($store:expr, $make:expr, $skip:expr) => {
        $crate::token_backend_tests!(@cases $store, $make, $skip;
            issued_tokens_are_found_by_hash_and_id_through_every_handle,
            revoking_keeps_the_first_time_and_every_handle_sees_it, a_copied_record_keeps_every_field,
            a_duplicate_id_or_hash_is_refused_and_changes_nothing, the_last_use_is_seen_by_every_handle,
            tokens_are_listed_oldest_first, handles_issuing_at_once_lose_no_token,
            a_revocation_reaches_another_replica_within_the_bound);
    };
    (@cases $store:expr, $make:expr, $skip:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::run_case($store, stringify!($case), &$make, $skip);
            }
        )*
    };
}

fn record(id: &str, created_at: &str) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        agency: "bank-a".into(),
        role: TokenRole::Agency,
        created_at: created_at.into(),
        revoked_at: None,
        label: None,
        expires_at: None,
        last_used_at: None,
    }
}

fn stored(id: &str, created_at: &str) -> StoredToken {
    StoredToken { record: record(id, created_at), sha256: hash_token(&format!("glt_{id}")) }
}

fn issued_tokens_are_found_by_hash_and_id(h: &dyn TokenHarness) {
    let (a, b) = (Tokens::new(h.open()), h.open());
    let in_a_day = Timestamp::from_micros(Timestamp::now().micros() + 86_400_000_000);
    let options = IssueOptions { label: Some("ICBC 上传任务".into()), expires_at: Some(in_a_day) };
    let issued = a.issue_with("bank-a", TokenRole::Coordinator, &options).unwrap();
    let found = b.by_hash(&hash_token(&issued.secret)).unwrap().expect("found by hash through another handle");
    assert_eq!(found, issued.record);
    assert_eq!(found.label.as_deref(), Some("ICBC 上传任务"));
    assert_eq!(found.expires_at, Some(in_a_day.to_rfc3339()));
    assert_eq!(b.by_id(&issued.record.id).unwrap(), Some(issued.record.clone()));
    assert_eq!(b.by_hash(&hash_token("glt_unknown")).unwrap(), None);
    assert_eq!(b.by_id("tk-unknown").unwrap(), None);
    let all = b.all().unwrap();
    assert_eq!(all, vec![StoredToken { record: issued.record.clone(), sha256: hash_token(&issued.secret) }]);
    assert!(!format!("{all:?}").contains(&issued.secret), "the token itself is never stored");
    assert_eq!(Tokens::new(h.open()).authenticate(&issued.secret).unwrap().map(|r| r.id), Some(issued.record.id));
}

fn revoking_keeps_the_first_time(h: &dyn TokenHarness) {
    let (a, b) = (h.open(), h.open());
    a.insert(&stored("tk-1", "2026-01-01T00:00:00Z")).unwrap();
    let first = a.revoke("tk-1", "2026-02-01T00:00:00Z").unwrap();
    assert_eq!(first.revoked_at.as_deref(), Some("2026-02-01T00:00:00Z"));
    assert_eq!(b.by_hash(&hash_token("glt_tk-1")).unwrap().unwrap().revoked_at, first.revoked_at);
    let again = b.revoke("tk-1", "2026-03-01T00:00:00Z").unwrap();
    assert_eq!(again.revoked_at, first.revoked_at, "the first revocation stays");
    assert_eq!(a.by_id("tk-1").unwrap().unwrap().revoked_at, first.revoked_at);
    assert_eq!(b.revoke("tk-nope", "2026-03-01T00:00:00Z"), Err(TokenError::UnknownId("tk-nope".into())));
}

fn a_copied_record_keeps_every_field(h: &dyn TokenHarness) {
    let (a, b) = (h.open(), h.open());
    let token = StoredToken {
        record: TokenRecord {
            id: "tk-old".into(),
            agency: "psb".into(),
            role: TokenRole::Evaluator,
            created_at: "2025-01-01T00:00:00Z".into(),
            revoked_at: Some("2025-06-01T00:00:00Z".into()),
            label: Some("old job".into()),
            expires_at: Some("2027-01-01T00:00:00+08:00".into()),
            last_used_at: Some("2025-05-31T23:59:00Z".into()),
        },
        sha256: hash_token("glt_old"),
    };
    a.insert(&token).unwrap();
    a.insert(&stored("tk-live", "2025-02-01T00:00:00Z")).unwrap();
    assert_eq!(b.all().unwrap(), vec![token.clone(), stored("tk-live", "2025-02-01T00:00:00Z")]);
    assert_eq!(b.by_hash(&token.sha256).unwrap(), Some(token.record));
}

fn a_duplicate_is_refused(h: &dyn TokenHarness) {
    let (a, b) = (h.open(), h.open());
    let first = stored("tk-1", "2026-01-01T00:00:00Z");
    a.insert(&first).unwrap();
    let same_id = StoredToken { sha256: hash_token("glt_other"), ..first.clone() };
    assert_eq!(b.insert(&same_id), Err(TokenError::Duplicate("tk-1".into())));
    let same_hash = StoredToken { record: record("tk-2", "2026-01-02T00:00:00Z"), sha256: first.sha256.clone() };
    assert_eq!(b.insert(&same_hash), Err(TokenError::Duplicate("tk-2".into())));
    assert_eq!(a.all().unwrap(), vec![first]);
}

fn the_last_use_is_seen_by_every_handle(h: &dyn TokenHarness) {
    let (a, b) = (h.open(), h.open());
    a.insert(&stored("tk-1", "2026-01-01T00:00:00Z")).unwrap();
    b.record_use("tk-1", "2026-01-05T10:00:00Z").unwrap();
    assert_eq!(a.by_id("tk-1").unwrap().unwrap().last_used_at.as_deref(), Some("2026-01-05T10:00:00Z"));
    a.record_use("tk-1", "2026-01-06T10:00:00Z").unwrap();
    assert_eq!(b.all().unwrap()[0].record.last_used_at.as_deref(), Some("2026-01-06T10:00:00Z"));
    b.record_use("tk-unknown", "2026-01-06T10:00:00Z").unwrap();
    assert_eq!(a.all().unwrap().len(), 1, "an unknown id changes nothing");
}

fn tokens_are_listed_oldest_first(h: &dyn TokenHarness) {
    let (a, b) = (h.open(), h.open());
    for (id, at) in
        [("tk-c", "2026-03-01T00:00:00Z"), ("tk-b", "2026-01-01T00:00:00Z"), ("tk-a", "2026-03-01T00:00:00Z")]
    {
        a.insert(&stored(id, at)).unwrap();
    }
    let ids: Vec<String> = b.all().unwrap().into_iter().map(|t| t.record.id).collect();
    assert_eq!(ids, ["tk-b", "tk-a", "tk-c"]);
}

fn handles_issuing_at_once_lose_no_token(h: &dyn TokenHarness) {
    const EACH: usize = 10;
    let ids: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let tokens = Tokens::new(h.open());
                scope.spawn(move || {
                    (0..EACH).map(|_| tokens.issue("bank-a", TokenRole::Agency).unwrap().record.id).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let mut listed: Vec<String> = h.open().all().unwrap().into_iter().map(|t| t.record.id).collect();
    let mut issued = ids;
    listed.sort();
    issued.sort();
    assert_eq!(listed, issued);
    assert_eq!(listed.len(), 2 * EACH);
}

fn a_revocation_reaches_another_replica_within_the_bound(h: &dyn TokenHarness) {
    let (a, b) = (Tokens::new(h.open()), Tokens::new(h.open()));
    let issued = a.issue("bank-a", TokenRole::Agency).unwrap();
    // Replica B uses the token (and remembers it), then A revokes it.
    assert!(b.authenticate(&issued.secret).unwrap().is_some());
    assert!(b.is_live(&issued.record.id).unwrap());
    a.revoke(&issued.record.id).unwrap();
    let revoked_at = Instant::now();
    loop {
        let refused = b.authenticate(&issued.secret).unwrap().is_none() && !b.is_live(&issued.record.id).unwrap();
        if refused {
            break;
        }
        assert!(revoked_at.elapsed() < REVOCATION_BOUND, "replica B still accepts the revoked token");
        std::thread::sleep(Duration::from_millis(10));
    }
}
