//! Helpers of the SPEC 6 server tests (`proofs`, `rewrite`): witness
//! processes (`govledger witness serve`), polling the server's checkpoint
//! with a deadline, running `govledger proof verify` offline, reading the
//! log's keys, and rewriting a stored chain as a dishonest operator would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use govledger_tlog::checkpoint::{self, Opened};
use govledger_tlog::keys::{LogVerifier, WitnessVerifier};
use reqwest::StatusCode;
use rusqlite::{Connection, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{BIN, Client};

/// How often a condition is polled.
pub const POLL: Duration = Duration::from_millis(50);
/// How long a condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// How long a process may take to start or stop.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(120);
/// The signing interval the tests give the server, so checkpoints follow appends quickly.
pub const INTERVAL_MS: &str = "50";

/// The tree size of a checkpoint note (its second line).
pub fn note_size(note: &str) -> u64 {
    note.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("not a checkpoint note: {note:?}"))
}

/// The note's body: origin, size and root lines (what the signatures cover).
pub fn note_body(note: &str) -> &str {
    let end = note.find("\n\n").unwrap_or_else(|| panic!("not a signed note: {note:?}"));
    &note[..=end]
}

/// The log's verifier key, as `GET /v1/log` serves it.
pub async fn log_key(client: &Client) -> String {
    let r = client.get("/v1/log").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["verifier_key"].as_str().expect("verifier_key").to_owned()
}

/// Opens a note with the log key (required) and the witness keys.
pub fn open_note(note: &str, vkey: &str, witnesses: &[&str]) -> Opened {
    let log = LogVerifier::new(vkey).expect("a log verifier key");
    let witnesses: Vec<WitnessVerifier> =
        witnesses.iter().map(|w| WitnessVerifier::new(w).expect("a witness verifier key")).collect();
    checkpoint::open(note.as_bytes(), &log, &witnesses).unwrap_or_else(|e| panic!("{e}: {note}"))
}

/// Polls `GET /checkpoint` every [`POLL`] until `done(note)`, for at most [`DEADLINE`].
pub async fn wait_for_checkpoint(client: &Client, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let r = client.get("/checkpoint").await;
        if r.status == StatusCode::OK && done(&r.text) {
            return r.text;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint {what} within {DEADLINE:?}; the last answer: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits for a checkpoint at exactly `size`.
pub async fn wait_for_size(client: &Client, size: u64) -> String {
    wait_for_checkpoint(client, &format!("at size {size}"), |n| note_size(n) == size).await
}

/// Polls `GET /healthz` until `done(status, body)`, for at most [`DEADLINE`].
pub async fn wait_for_health(client: &Client, what: &str, done: impl Fn(StatusCode, &Value) -> bool) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let r = client.get("/healthz").await;
        if done(r.status, &r.body) {
            return r.body;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz did not report {what} within {DEADLINE:?}: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Polls `cond` (a blocking check) every [`POLL`] for at most [`DEADLINE`].
pub async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "{what} did not happen within {DEADLINE:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// What `govledger proof verify` did.
#[derive(Debug)]
pub struct Verified {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `govledger proof verify ARGS…` offline: no `--data-dir`, no data
/// directory variable, in an empty working directory, which must stay empty.
pub fn proof_verify(args: &[&str]) -> Verified {
    let cwd = tempfile::tempdir().expect("cannot create a temporary directory");
    let out = Command::new(BIN)
        .args(["proof", "verify"])
        .args(args)
        .current_dir(cwd.path())
        .env_remove("GOVLEDGER_DATA_DIR")
        .env_remove("GOVLEDGER_STORE")
        .env_remove("GOVLEDGER_CONFIG")
        .env_remove("GOVLEDGER_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("cannot run the govledger binary");
    let left: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "`proof verify` must work offline without a data directory, but it created {left:?}");
    let v = Verified {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!v.stderr.contains("panicked"), "proof verify panicked: {v:?}");
    v
}

/// A running `govledger witness serve`, killed when dropped.
pub struct Witness {
    child: Option<Child>,
    pub dir: PathBuf,
    pub base: String,
    pub verifier_key: String,
    log_path: PathBuf,
}

impl Witness {
    /// Starts a witness of the log `log_key` with its state in `dir`, on `listen`.
    pub fn start(dir: &Path, name: &str, log_key: &str, listen: &str) -> Witness {
        let log_path = dir.with_extension("log");
        let stderr = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).unwrap();
        let mut child = Command::new(BIN)
            .args(["witness", "serve", "--dir"])
            .arg(dir)
            .args(["--listen", listen, "--log-key", log_key, "--name", name])
            .env("GOVLEDGER_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("cannot start govledger witness serve");
        let lines = read_lines(child.stdout.take().unwrap());
        let mut w = Witness {
            child: Some(child),
            dir: dir.to_owned(),
            base: String::new(),
            verifier_key: String::new(),
            log_path,
        };
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(key) = line.strip_prefix("witness verifier key: ") {
                        w.verifier_key = key.trim().to_owned();
                    } else if let Some(addr) = line.strip_prefix("listening on ") {
                        w.base = addr.trim().to_owned();
                        assert!(!w.verifier_key.is_empty(), "the witness printed no verifier key before listening");
                        return w;
                    }
                }
                Err(e) => panic!("the witness did not start ({e:?}); its log:\n{}", w.log()),
            }
        }
    }

    /// `URL,VERIFIER_KEY`, as `serve --witness` takes it.
    pub fn flag(&self) -> String {
        format!("{},{}", self.base, self.verifier_key)
    }

    /// The `127.0.0.1:PORT` it listens on.
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Files in its evidence directory, with their contents.
    pub fn evidence(&self) -> Vec<(PathBuf, String)> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("evidence")) else { return Vec::new() };
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect()
    }

    /// Sends SIGTERM and waits for the exit (0).
    pub fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the witness did not stop after SIGTERM; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "the witness exited with {status:?}; log:\n{}", self.log());
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_lines(stdout: std::process::ChildStdout) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The data directory's database, opened behind the product's back.
pub fn database(data: &Path) -> Connection {
    Connection::open(data.join("ledger.sqlite")).unwrap()
}

/// The stored (canonical) body of `seq`.
pub fn stored_body(db: &Connection, seq: u64) -> String {
    db.query_row("SELECT body FROM events WHERE seq = ?1", [seq], |r| r.get(0)).unwrap()
}

/// The dishonest operator (SPEC 6 threat model): replaces the body of `seq`
/// with `edit(body)`, then rehashes the whole chain from there — each later
/// body gets the new `prev_hash`, every hash is recomputed (RFC 8785 with
/// `serde_json_canonicalizer`) and the anchor names the new head — so that
/// `verify` finds nothing wrong. Returns the new head hash.
pub fn rewrite_and_rehash(data: &Path, seq: u64, edit: impl Fn(&mut Value)) -> String {
    let mut db = database(data);
    let tx = db.transaction().unwrap();
    let rows: Vec<(u64, String)> = {
        let mut stmt = tx.prepare("SELECT seq, body FROM events WHERE seq >= ?1 ORDER BY seq").unwrap();
        stmt.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    assert!(!rows.is_empty() && rows[0].0 == seq, "no event at seq {seq}");
    let mut prev: Option<String> = None;
    for (n, body) in rows {
        let mut value: Value = serde_json::from_str(&body).unwrap();
        value.as_object_mut().unwrap().remove("hash");
        if n == seq {
            edit(&mut value);
        }
        if let Some(prev) = &prev {
            value["prev_hash"] = Value::String(prev.clone());
        }
        let canonical = serde_json_canonicalizer::to_string(&value).unwrap();
        let hash = sha256_hex(canonical.as_bytes());
        let changed =
            tx.execute("UPDATE events SET body = ?1, hash = ?2 WHERE seq = ?3", params![canonical, hash, n]).unwrap();
        assert_eq!(changed, 1);
        prev = Some(hash);
    }
    let head = prev.unwrap();
    assert_eq!(tx.execute("UPDATE anchor SET hash = ?1", [&head]).unwrap(), 1, "no anchor row");
    tx.commit().unwrap();
    head
}
