//! The token conformance cases (`govledger_credentials::conformance`)
//! against the embedded store's `tokens.sqlite`: one data directory per
//! case; every `open` is another connection to the file, as the CLI beside a
//! running server.

use govledger_credentials::conformance::TokenHarness;
use govledger_credentials::{SqliteTokens, TokenBackend};

struct File(tempfile::TempDir);

impl TokenHarness for File {
    fn open(&self) -> Box<dyn TokenBackend> {
        Box::new(SqliteTokens::open(self.0.path()).expect("open tokens.sqlite"))
    }
}

fn make() -> Option<Box<dyn TokenHarness>> {
    Some(Box::new(File(tempfile::tempdir().expect("a temporary directory"))))
}

govledger_credentials::token_backend_tests!("tokens.sqlite", make, "never skipped");
