//! The room left in a store transaction: the ledger never hands a store a
//! transaction larger than its [`TransactionLimit`] (KurrentDB: one append),
//! and never splits a request to make one fit.

use govledger_domain::{ErrorCode, Rejection};

use crate::backend::{StoreError, TransactionLimit};
use crate::event::Encoded;

/// What one store transaction holds so far, against the store's limit.
pub(super) struct Room {
    limit: Option<TransactionLimit>,
    used: usize,
    exceeded: bool,
}

impl Room {
    pub(super) fn new(limit: &Option<TransactionLimit>) -> Self {
        Room { limit: limit.clone(), used: 0, exceeded: false }
    }

    /// Counts `events` into the transaction; an error (remembered) when the
    /// transaction no longer fits.
    pub(super) fn take(&mut self, events: &[Encoded]) -> Result<(), StoreError> {
        self.used += events.iter().map(TransactionLimit::bytes_of).sum::<usize>();
        match &self.limit {
            Some(limit) if self.used > limit.max_bytes => {
                self.exceeded = true;
                Err(StoreError::Io(format!(
                    "{} bytes do not fit in one store transaction of at most {}",
                    self.used, limit.max_bytes
                )))
            }
            _ => Ok(()),
        }
    }

    /// Whether a `take` found the transaction too large.
    pub(super) fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The bytes counted so far.
    pub(super) fn used(&self) -> usize {
        self.used
    }

    /// The refusal of `what` (a batch, an import) that does not fit whole.
    pub(super) fn refusal(&self, what: &str) -> Rejection {
        let (max, raise) = self.limit.as_ref().map_or((0, ""), |l| (l.max_bytes, l.raise_with.as_str()));
        Rejection::new(
            ErrorCode::BatchTooLarge,
            format!(
                "{what} needs more than {max} bytes in one store transaction, so it cannot be stored atomically \
                 ({} bytes counted so far); nothing was stored. Send it as smaller batches, or raise the limit: {raise}",
                self.used
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use govledger_domain::{Submission, Timestamp};
    use uuid::Uuid;

    use super::*;
    use crate::event::{GENESIS_HASH, StoredEvent};

    fn event() -> Encoded {
        let sub = Submission::parse_str(
            r#"{"type":"PublicityDelivered","actor":"psb","occurred_at":"2026-02-01T10:00:00Z",
                "data":{"activity_id":"P-1","audience":"residents","reach":10}}"#,
        )
        .unwrap();
        StoredEvent::seal(1, Uuid::now_v7(), &sub, Timestamp::parse("2026-03-01T00:00:00Z").unwrap(), GENESIS_HASH)
    }

    #[test]
    fn a_store_without_a_limit_takes_anything_and_one_with_a_limit_says_when_it_is_full() {
        let e = event();
        let size = TransactionLimit::bytes_of(&e);
        let mut unlimited = Room::new(&None);
        for _ in 0..1_000 {
            unlimited.take(std::slice::from_ref(&e)).unwrap();
        }
        assert!(!unlimited.exceeded());
        let limit = TransactionLimit { max_bytes: size * 2, raise_with: "raise SETTING".into() };
        let mut room = Room::new(&Some(limit));
        room.take(&[e.clone(), e.clone()]).unwrap();
        assert!(!room.exceeded(), "exactly full fits");
        assert!(room.take(std::slice::from_ref(&e)).is_err());
        assert!(room.exceeded());
        let refusal = room.refusal("the batch");
        assert_eq!(refusal.code, ErrorCode::BatchTooLarge);
        assert!(refusal.message.contains(&format!("more than {} bytes", size * 2)), "{}", refusal.message);
        assert!(refusal.message.contains("raise SETTING"), "{}", refusal.message);
    }
}
