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
//! (its answer is the server's continuous check, which can find the stored
//! bytes tampered with at the same head). Only responses without errors are kept.
//!
//! Each entry is a cell filled once: requests that arrive together with the
//! same key wait for the first one's answer instead of executing the same
//! document side by side (the common case while appends move the head: a
//! dashboard's or many clients' identical queries all miss at once).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use tokio::sync::OnceCell;

/// Responses kept.
const ENTRIES: usize = 32;
/// Largest response kept, in bytes (a whole-year assessment is not worth a slot).
const MAX_RESPONSE_BYTES: usize = 4 << 20;

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Key {
    head_seq: u64,
    agency: String,
    role: &'static str,
    body: Bytes,
}

/// A response, filled once by the first request with its key.
pub(crate) type Cell = Arc<OnceCell<Bytes>>;

#[derive(Default)]
pub(crate) struct ResponseCache {
    entries: Mutex<VecDeque<(Key, Cell)>>,
}

/// Whether a request body may be answered from the cache. Checkpoints,
/// proofs against them and receipts change without the head moving (a
/// checkpoint is signed, cosignatures arrive), so they are never kept.
fn cacheable(body: &[u8]) -> bool {
    const NEVER: [&[u8]; 6] = [b"mutation", b"subscription", b"verify", b"checkpoint", b"Proof", b"receipt"];
    !NEVER.iter().any(|word| body.windows(word.len()).any(|w| w == *word))
}

impl ResponseCache {
    /// The key of a request, or `None` when it must be executed.
    pub(crate) fn make_key(head_seq: u64, agency: &str, role: &'static str, body: &Bytes) -> Option<Key> {
        cacheable(body).then(|| Key { head_seq, agency: agency.to_owned(), role, body: body.clone() })
    }

    /// The cell for `key`: filled, being filled by another request, or new.
    /// Fill it with `OnceCell::get_or_try_init`, failing (so that it stays
    /// empty and the next waiter executes the request itself) for a response
    /// that must not be kept, then call [`ResponseCache::keep`].
    pub(crate) fn cell(&self, key: &Key) -> Cell {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, cell)) = entries.iter().rev().find(|(k, _)| k == key) {
            return cell.clone();
        }
        // Entries for older heads are never asked for again once the head moved.
        entries.retain(|(k, _)| k.head_seq >= key.head_seq);
        if entries.len() == ENTRIES {
            entries.pop_front();
        }
        let cell = Cell::default();
        entries.push_back((key.clone(), cell.clone()));
        cell
    }

    /// After filling `key`'s cell with `response`: forgets it when it is too
    /// large to keep (a whole-year assessment is not worth a slot; requests
    /// already waiting still get it).
    pub(crate) fn keep(&self, key: &Key, response: &Bytes) {
        if response.len() > MAX_RESPONSE_BYTES {
            self.entries.lock().unwrap_or_else(|p| p.into_inner()).retain(|(k, _)| k != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_read_only_documents_are_cached_and_keys_separate_callers_and_heads() {
        assert!(cacheable(br#"{"query":"{ head { seq } }"}"#));
        assert!(!cacheable(br#"{"query":"mutation { x }"}"#));
        assert!(!cacheable(br#"{"query":"subscription { events { seq } }"}"#));
        assert!(!cacheable(br#"{"query":"{ verify { ok } }"}"#));
        let body = Bytes::from_static(br#"{"query":"{ head { seq } }"}"#);
        let cache = ResponseCache::default();
        let k = |seq, agency| ResponseCache::make_key(seq, agency, "auditor", &body).unwrap();
        let put = |key: Key, response: &'static [u8]| {
            let cell = cache.cell(&key);
            cell.set(Bytes::from_static(response)).unwrap();
            cache.keep(&key, &Bytes::from_static(response));
        };
        let get = |key: Key| cache.cell(&key).get().cloned();
        put(k(5, "a"), b"five");
        assert_eq!(get(k(5, "a")), Some(Bytes::from_static(b"five")));
        assert_eq!(get(k(5, "b")), None);
        assert_eq!(get(k(6, "a")), None);
        put(k(6, "a"), b"six");
        // The older head is dropped.
        assert_eq!(get(k(5, "a")), None);
        assert_eq!(get(k(6, "a")), Some(Bytes::from_static(b"six")));
        let big = Bytes::from(vec![0u8; MAX_RESPONSE_BYTES + 1]);
        let cell = cache.cell(&k(7, "a"));
        cell.set(big.clone()).unwrap();
        cache.keep(&k(7, "a"), &big);
        assert_eq!(cell.get(), Some(&big), "a request that holds the cell still gets it");
        assert_eq!(get(k(7, "a")), None, "but it is not kept");
    }

    /// Requests with the same key that arrive together execute once; a
    /// response that must not be kept (errors) lets the next one execute.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_with_one_key_execute_once() {
        let cache = Arc::new(ResponseCache::default());
        let body = Bytes::from_static(br#"{"query":"{ head { seq } }"}"#);
        let key = ResponseCache::make_key(9, "a", "auditor", &body).unwrap();
        let executed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let mut requests = Vec::new();
        for _ in 0..8 {
            let (cell, executed, mut released) = (cache.cell(&key), executed.clone(), released.clone());
            requests.push(tokio::spawn(async move {
                let response = cell
                    .get_or_try_init(|| async {
                        executed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        // Hold the first execution until every request has its cell.
                        released.wait_for(|r| *r).await.map_err(|_| ())?;
                        Ok::<_, ()>(Bytes::from_static(b"answer"))
                    })
                    .await;
                response.cloned()
            }));
        }
        release.send(true).unwrap();
        for r in requests {
            assert_eq!(r.await.unwrap(), Ok(Bytes::from_static(b"answer")));
        }
        assert_eq!(executed.load(std::sync::atomic::Ordering::SeqCst), 1);
        // A failed fill leaves the cell empty for the next request.
        let other = ResponseCache::make_key(10, "a", "auditor", &body).unwrap();
        let cell = cache.cell(&other);
        assert_eq!(cell.get_or_try_init(|| async { Err::<Bytes, _>("errors") }).await, Err("errors"));
        let filled = cell.get_or_try_init(|| async { Ok::<_, ()>(Bytes::from_static(b"ok")) }).await;
        assert_eq!(filled, Ok(&Bytes::from_static(b"ok")));
    }
}
