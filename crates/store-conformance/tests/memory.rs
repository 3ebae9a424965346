//! The suite against the in-memory reference store (`govledger_ledger::memory`),
//! which shows the cases themselves hold for a store that keeps the contract.

use std::sync::Arc;

use govledger_ledger::StoreError;
use govledger_ledger::memory::MemoryLog;
use govledger_store_conformance::{Harness, Opened};

struct Memory(Arc<MemoryLog>);

impl Harness for Memory {
    fn open(&self) -> Result<Opened, StoreError> {
        Ok((Box::new(self.0.writer()), self.0.clone()))
    }
}

fn memory() -> Option<Box<dyn Harness>> {
    Some(Box::new(Memory(MemoryLog::new())))
}

govledger_store_conformance::conformance_tests!("the in-memory store", memory, "never skipped");
