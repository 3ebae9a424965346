//! The tokens stream (`<stream>-tokens`) of the KurrentDB store:
//!
//! - `emulated::*` — the token conformance cases
//!   (`govledger_credentials::conformance`) over an in-memory stream that
//!   follows KurrentDB's rules; every `open` is another replica's fold of
//!   it. Always runs. Also: a revocation decided on an old fold, and an
//!   append whose answer was lost, each leave one event.
//! - `live_kurrentdb_skipped_unless_url_set::*` — the same cases against a
//!   real cluster at `GOVLEDGER_KURRENTDB_URL`, each on a fresh stream.
//! - URLs with a password: refused or shown with `***`, never the password.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use govledger_credentials::TokenBackend;
use govledger_credentials::conformance::TokenHarness;
use govledger_store_kurrentdb::emulated::{EmulatedStream, Fault};
use govledger_store_kurrentdb::stream::Stream;
use govledger_store_kurrentdb::tokens::{KurrentTokens, tokens_stream};
use govledger_store_kurrentdb::{KurrentConfig, TransientRetry};

fn quick_retry() -> TransientRetry {
    TransientRetry {
        max_attempts: 3,
        first_pause: std::time::Duration::from_millis(1),
        max_pause: std::time::Duration::from_millis(2),
    }
}

mod emulated {
    use super::*;

    struct Emulated(Arc<EmulatedStream>);

    impl TokenHarness for Emulated {
        fn open(&self) -> Box<dyn TokenBackend> {
            Box::new(KurrentTokens::on_stream(self.0.clone(), "city-tokens", quick_retry()))
        }
    }

    fn make() -> Option<Box<dyn TokenHarness>> {
        Some(Box::new(Emulated(Arc::new(EmulatedStream::new()))))
    }

    govledger_credentials::token_backend_tests!("the KurrentDB tokens stream, emulated", make, "never skipped");

    fn token(id: &str) -> govledger_credentials::StoredToken {
        govledger_credentials::StoredToken {
            record: govledger_credentials::TokenRecord {
                id: id.into(),
                agency: "bank-a".into(),
                role: govledger_credentials::TokenRole::Agency,
                created_at: "2026-01-01T00:00:00Z".into(),
                revoked_at: None,
                label: None,
                expires_at: None,
                last_used_at: None,
            },
            sha256: govledger_credentials::hash_token(&format!("glt_{id}")),
        }
    }

    #[test]
    fn a_revocation_decided_on_an_old_fold_is_decided_again_and_written_once() {
        let stream = Arc::new(EmulatedStream::new());
        let (a, b) = (
            KurrentTokens::on_stream(stream.clone(), "t", quick_retry()),
            KurrentTokens::on_stream(stream.clone(), "t", quick_retry()),
        );
        a.insert(&token("tk-1")).unwrap();
        assert!(b.by_id("tk-1").unwrap().is_some(), "b's fold holds tk-1, at revision 0");
        a.insert(&token("tk-2")).unwrap();
        // b appends after revision 0, meets revision 1, catches up and decides again.
        let revoked = b.revoke("tk-1", "2026-02-01T00:00:00Z").unwrap();
        assert_eq!(revoked.revoked_at.as_deref(), Some("2026-02-01T00:00:00Z"));
        assert_eq!(a.revoke("tk-1", "2026-03-01T00:00:00Z").unwrap().revoked_at, revoked.revoked_at);
        let types: Vec<String> = stream.read(0, 10).unwrap().into_iter().map(|r| r.event_type).collect();
        assert_eq!(types, ["TokenIssued", "TokenIssued", "TokenRevoked"], "one revocation event");
    }

    #[test]
    fn an_issue_whose_answer_was_lost_is_stored_once() {
        let stream = Arc::new(EmulatedStream::new());
        let tokens = KurrentTokens::on_stream(stream.clone(), "t", quick_retry());
        stream.inject(&[Fault::LoseAck]);
        tokens.insert(&token("tk-1")).unwrap();
        assert_eq!(stream.read(0, 10).unwrap().len(), 1, "the retry with the same event id stored nothing");
        assert_eq!(tokens.all().unwrap(), vec![token("tk-1")]);
    }

    #[test]
    fn an_unreachable_cluster_is_an_error_that_names_the_stream() {
        let stream = Arc::new(EmulatedStream::new());
        let tokens = KurrentTokens::on_stream(stream.clone(), "city-tokens", quick_retry());
        stream.inject(&[Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
        let err = tokens.by_id("tk-1").unwrap_err().to_string();
        assert!(err.contains("KurrentDB stream \"city-tokens\"") && err.contains("unavailable"), "{err}");
    }
}

mod live_kurrentdb_skipped_unless_url_set {
    use super::*;

    struct Live(KurrentConfig);

    impl TokenHarness for Live {
        fn open(&self) -> Box<dyn TokenBackend> {
            Box::new(KurrentTokens::connect(&self.0).expect("a client for GOVLEDGER_KURRENTDB_URL"))
        }
    }

    fn make() -> Option<Box<dyn TokenHarness>> {
        let url = std::env::var("GOVLEDGER_KURRENTDB_URL").ok().filter(|u| !u.is_empty())?;
        let mut config = KurrentConfig::parse(&url).expect("GOVLEDGER_KURRENTDB_URL is a KurrentDB URL");
        config.stream = format!("govledger-tokens-conformance-{}", uuid::Uuid::now_v7());
        Some(Box::new(Live(config)))
    }

    govledger_credentials::token_backend_tests!("a KurrentDB cluster", make, "GOVLEDGER_KURRENTDB_URL not set");
}

#[test]
fn the_tokens_stream_is_named_after_the_ledgers() {
    assert_eq!(tokens_stream("govledger-ledger"), "govledger-ledger-tokens");
}

#[test]
fn kurrentdb_urls_with_a_password_are_never_shown_with_it() {
    let err = KurrentConfig::parse("kurrentdb://admin:pa55word@node1:2113?tls=false&stream=$bad").unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("pa55word") && text.contains("admin:***@node1"), "{text}");
    let config = KurrentConfig::parse("kurrentdb://admin:pa55word@node1:2113?tls=false").unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("pa55word") && debug.contains("admin:***@node1"), "{debug}");
    // A connection string the client refuses: its message is scrubbed too.
    let bad = KurrentConfig { connection: "kurrentdb://admin:pa55word@".into(), ..config };
    match govledger_store_kurrentdb::client::KurrentStream::connect(&bad) {
        Err(e) => assert!(!e.to_string().contains("pa55word"), "{e}"),
        Ok(_) => panic!("a connection string without a host was accepted"),
    }
}
