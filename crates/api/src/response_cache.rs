//! A small cache of whole GraphQL responses to read-only documents, keyed
//! by the request body, the caller's agency and role, and the ledger's head
//! when the request arrived.
//!
//! Why it is sound: every query field answers from the log alone, and the
//! log as of a head seq never changes; so the same document with the same
//! variables at the same head gets the same answer. The caller is part of the
//! key all the same, so that a field that ever depends on the caller cannot
//! leak across callers. Left out, conservatively by a substring of the body:
//! mutations and subscriptions (they change or follow the log), and `verify`
//! (it re-reads the stored bytes, which could have been tampered with at the
//! same head). Only responses without errors are kept.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::Bytes;

/// Responses kept.
const ENTRIES: usize = 32;
/// Largest response kept, in bytes (a whole-year assessment is not worth a slot).
const MAX_RESPONSE_BYTES: usize = 4 << 20;

#[derive(PartialEq, Eq)]
pub(crate) struct Key {
    head_seq: u64,
    agency: String,
    role: &'static str,
    body: Bytes,
}

#[derive(Default)]
pub(crate) struct ResponseCache {
    entries: Mutex<VecDeque<(Key, Bytes)>>,
}

/// Whether a request body may be answered from the cache.
fn cacheable(body: &[u8]) -> bool {
    const NEVER: [&[u8]; 3] = [b"mutation", b"subscription", b"verify"];
    !NEVER.iter().any(|word| body.windows(word.len()).any(|w| w == *word))
}

impl ResponseCache {
    /// The key of a request, or `None` when it must be executed.
    pub(crate) fn make_key(head_seq: u64, agency: &str, role: &'static str, body: &Bytes) -> Option<Key> {
        cacheable(body).then(|| Key { head_seq, agency: agency.to_owned(), role, body: body.clone() })
    }

    /// The response kept for `key`.
    pub(crate) fn get(&self, key: &Key) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    /// Keeps `response` (serialised, without errors) for `key`.
    pub(crate) fn put(&self, key: Key, response: Bytes) {
        if response.len() > MAX_RESPONSE_BYTES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Entries for older heads are never asked for again once the head moved.
        entries.retain(|(k, _)| k.head_seq >= key.head_seq);
        if entries.iter().any(|(k, _)| *k == key) {
            return;
        }
        if entries.len() == ENTRIES {
            entries.pop_front();
        }
        entries.push_back((key, response));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_documents_are_cached_and_keys_separate_callers_and_heads() {
        assert!(cacheable(br#"{"query":"{ head { seq } }"}"#));
        assert!(!cacheable(br#"{"query":"mutation { x }"}"#));
        assert!(!cacheable(br#"{"query":"subscription { events { seq } }"}"#));
        assert!(!cacheable(br#"{"query":"{ verify { ok } }"}"#));
        let body = Bytes::from_static(br#"{"query":"{ head { seq } }"}"#);
        let cache = ResponseCache::default();
        let k = |seq, agency| ResponseCache::make_key(seq, agency, "auditor", &body).unwrap();
        cache.put(k(5, "a"), Bytes::from_static(b"five"));
        assert_eq!(cache.get(&k(5, "a")), Some(Bytes::from_static(b"five")));
        assert_eq!(cache.get(&k(5, "b")), None);
        assert_eq!(cache.get(&k(6, "a")), None);
        cache.put(k(6, "a"), Bytes::from_static(b"six"));
        // The older head is dropped.
        assert_eq!(cache.get(&k(5, "a")), None);
        assert_eq!(cache.get(&k(6, "a")), Some(Bytes::from_static(b"six")));
        cache.put(k(7, "a"), Bytes::from(vec![0u8; MAX_RESPONSE_BYTES + 1]));
        assert_eq!(cache.get(&k(7, "a")), None);
    }
}
