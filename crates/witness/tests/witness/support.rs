//! Shared helpers: a fake log (made-up leaves in a tlog_tiles stored-hash tree,
//! signed by a `LogSigner`), a witness in a temporary directory, and requests
//! sent through the router with `oneshot`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use govledger_tlog::Hash;
use govledger_tlog::checkpoint;
use govledger_tlog::keys::{LogSigner, LogVerifier, WitnessVerifier};
use govledger_tlog::witness_wire::AddCheckpoint;
use govledger_witness::{Witness, WitnessState, router};
use tempfile::TempDir;
use tlog_tiles::{HashReader, prove_tree, stored_hashes, tree_hash};
use tower::ServiceExt;

pub const ORIGIN: &str = "log.example/govledger";
pub const WITNESS_NAME: &str = "witness.example/w1";

/// A Merkle tree of made-up leaves, in tlog_tiles' stored-hash layout.
#[derive(Default, Clone)]
pub struct Tree {
    stored: Vec<Hash>,
    size: u64,
}

impl HashReader for Tree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                let i = usize::try_from(i).map_err(|_| tlog_tiles::Error::InvalidInput("index".into()))?;
                self.stored.get(i).copied().ok_or_else(|| tlog_tiles::Error::InvalidInput("index".into()))
            })
            .collect()
    }
}

impl Tree {
    /// A tree of `n` leaves "leaf 0", "leaf 1", …, each prefixed by `variant`.
    pub fn of(variant: &str, n: u64) -> Tree {
        let mut tree = Tree::default();
        for i in 0..n {
            tree.push(format!("{variant}leaf {i}").as_bytes());
        }
        tree
    }

    pub fn push(&mut self, leaf: &[u8]) {
        let new = stored_hashes(self.size, leaf, self).unwrap();
        self.stored.extend(new);
        self.size += 1;
    }

    pub fn root(&self, size: u64) -> Hash {
        tree_hash(size, self).unwrap()
    }

    /// The consistency proof from `old` leaves to `new` leaves (empty from 0).
    pub fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        if old == 0 { Vec::new() } else { prove_tree(new, old, self).unwrap() }
    }
}

/// The log: its key and checkpoints.
pub struct Log {
    pub signer: LogSigner,
}

impl Log {
    pub fn new(origin: &str) -> Log {
        Log { signer: LogSigner::generate(origin).unwrap().0 }
    }

    pub fn verifier(&self) -> LogVerifier {
        LogVerifier::new(&self.signer.verifier_key()).unwrap()
    }

    /// The signed checkpoint of `tree` at `size`.
    pub fn checkpoint(&self, tree: &Tree, size: u64) -> String {
        checkpoint::sign(&self.signer, size, &tree.root(size)).unwrap()
    }

    /// The request from `old` to `new` leaves of `tree`, with its proof.
    pub fn request(&self, tree: &Tree, old: u64, new: u64) -> Vec<u8> {
        AddCheckpoint {
            old_size: old,
            proof: tree.proof(old, new),
            checkpoint: self.checkpoint(tree, new).into_bytes(),
        }
        .to_bytes()
    }
}

/// A witness of one log in a temporary directory.
pub struct Fixture {
    pub dir: TempDir,
    pub log: Log,
    pub witness: Arc<Witness>,
    pub app: Router,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        WitnessState::open(dir.path()).unwrap().create_key(WITNESS_NAME).unwrap();
        let log = Log::new(ORIGIN);
        let witness = Arc::new(Witness::open(dir.path(), vec![log.verifier()]).unwrap());
        let app = router(witness.clone());
        Fixture { dir, log, witness, app }
    }

    /// The same directory and log, opened again (a restart).
    pub fn reopen(self) -> Fixture {
        let Fixture { dir, log, witness, app } = self;
        drop(app);
        drop(witness);
        let witness = Arc::new(Witness::open(dir.path(), vec![log.verifier()]).unwrap());
        let app = router(witness.clone());
        Fixture { dir, log, witness, app }
    }

    pub fn witness_verifier(&self) -> WitnessVerifier {
        WitnessVerifier::new(&self.witness.verifier_key()).unwrap()
    }

    pub async fn add(&self, body: Vec<u8>) -> Answer {
        send(&self.app, Request::post("/add-checkpoint").body(Body::from(body)).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        send(&self.app, Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// The evidence files, sorted.
    pub fn evidence(&self) -> Vec<PathBuf> {
        list(&self.dir.path().join("evidence"))
    }
}

pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// A response: status, content type and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer { status, content_type, body: String::from_utf8(bytes.to_vec()).unwrap() }
}
