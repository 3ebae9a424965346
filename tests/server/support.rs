//! Shared helpers of the server tests: a running `govledger serve` on a
//! temporary data directory, tokens issued through the binary, an HTTP and
//! GraphQL client, and the small city every test imports first.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_govledger");
/// How long a server may take to start or stop before the test fails.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `govledger --data-dir DIR ARGS…` to completion; returns (exit code, stdout, stderr).
pub fn govledger(data: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("GOVLEDGER_DATA_DIR")
        .env_remove("GOVLEDGER_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("cannot run the govledger binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issues a token through the binary; panics unless it succeeds.
pub fn issue_token(data: &Path, agency: &str, role: &str) -> String {
    let (code, stdout, stderr) = govledger(data, &["token", "issue", "--agency", agency, "--role", role]);
    assert_eq!(code, Some(0), "token issue {agency} {role} failed: {stderr}");
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("glt_"), "unexpected token output {stdout:?}");
    token
}

/// A temporary data directory holding the imported [`city`].
pub struct Fixture {
    pub root: TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let fx = Fixture { root: tempfile::tempdir().expect("cannot create a temporary directory") };
        let path = fx.root.path().join("city.ndjson");
        std::fs::write(&path, ndjson(&city())).unwrap();
        let (code, _, stderr) = govledger(&fx.data(), &["import", path.to_str().unwrap()]);
        assert_eq!(code, Some(0), "import failed: {stderr}");
        fx
    }

    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn token(&self, agency: &str, role: &str) -> String {
        issue_token(&self.data(), agency, role)
    }

    pub fn serve(&self, extra: &[&str]) -> Server {
        Server::start(&self.data(), self.root.path(), extra)
    }
}

/// A running `govledger serve`, stopped (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    /// What the server printed before `listening on` (e.g. the demo token).
    pub preamble: Vec<String>,
    lines: Receiver<String>,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts the binary on `data` with `--listen 127.0.0.1:0` and waits
    /// for the `listening on http://…` line.
    pub fn start(data: &Path, scratch: &Path, extra: &[&str]) -> Server {
        Self::start_with_env(data, scratch, extra, &[])
    }

    /// [`Server::start`] with environment variables `env` set.
    pub fn start_with_env(data: &Path, scratch: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let stderr_path = scratch.join(format!("serve-{n}.log"));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("GOVLEDGER_DATA_DIR")
            .env("GOVLEDGER_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("cannot start govledger serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server { child: Some(child), base: String::new(), preamble: Vec::new(), lines, stderr_path };
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match server.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("listening on ") {
                        server.base = addr.trim().to_owned();
                        return server;
                    }
                    server.preamble.push(line);
                }
                Err(e) => panic!("the server did not start ({e:?}); its log:\n{}", server.log()),
            }
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("the server is running")
    }

    /// Sends SIGTERM and waits for the exit; returns its status and the rest of stdout.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.pid();
        let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("cannot run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the server did not stop after SIGTERM; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        };
        // The process has exited, so its stdout ends; the bound only guards a stuck reader thread.
        let mut rest = String::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            rest.push_str(&line);
            rest.push('\n');
        }
        (status, rest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP and GraphQL client acting with one token.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

/// A reply: status and JSON body (Null when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The stable code of an HTTP error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("(no code)")
    }

    /// The stable code of the first GraphQL error.
    pub fn gql_code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("(no code)")
    }
}

impl Client {
    pub fn new(server: &Server, token: Option<&str>) -> Self {
        Client { http: reqwest::Client::new(), base: server.base.clone(), token: token.map(str::to_owned) }
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let text = resp.text().await.expect("cannot read a response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let req = self.authed(self.http.get(format!("{}{path}", self.base)));
        Self::reply(req.send().await.expect("GET failed")).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Reply {
        let req = self
            .authed(self.http.post(format!("{}{path}", self.base)))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        Self::reply(req.send().await.expect("POST failed")).await
    }

    /// `POST /v1/events` with one envelope.
    pub async fn append(&self, envelope: &Value) -> Reply {
        self.post_raw("/v1/events", "application/json", envelope.to_string()).await
    }

    /// `POST /v1/events` with an NDJSON batch.
    pub async fn append_batch(&self, envelopes: &[Value]) -> Reply {
        self.post_raw("/v1/events", "application/x-ndjson", ndjson(envelopes)).await
    }

    pub async fn graphql(&self, query: &str, variables: Value) -> Reply {
        let body = json!({"query": query, "variables": variables}).to_string();
        self.post_raw("/graphql", "application/json", body).await
    }

    /// Every stored event this token may read, paging through `GET /v1/events`
    /// (each page continues from the last seq the previous one scanned).
    pub async fn all_events(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let r = self.get(&format!("/v1/events?after={after}&limit=1000")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            out.extend(r.body["events"].as_array().unwrap().iter().cloned());
            let scanned = r.body["scanned_through"].as_u64().unwrap();
            if scanned >= r.body["head"]["seq"].as_u64().unwrap() {
                return out;
            }
            assert!(scanned > after, "a page scanned nothing before the head");
            after = scanned;
        }
    }

    /// The head seq, as `GET /v1/events` reports it.
    pub async fn head_seq(&self) -> u64 {
        let r = self.get("/v1/events?limit=1").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["head"]["seq"].as_u64().unwrap()
    }
}

/// One JSON value per line.
pub fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// A submitted envelope.
pub fn envelope(id: Option<&str>, event_type: &str, actor: &str, occurred_at: &str, data: Value) -> Value {
    let mut e = json!({"type": event_type, "actor": actor, "occurred_at": occurred_at, "data": data});
    if let Some(id) = id {
        e["id"] = json!(id);
    }
    e
}

/// A fresh random client id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The banks of the city.
pub const BANKS: [&str; 4] = ["bank-0", "bank-1", "bank-2", "bank-3"];
/// Events in [`city`].
pub const CITY_EVENTS: u64 = 10;

/// The agencies every test starts with: the coordination office, an
/// evaluation bureau, police, a regulator and four banks; and one requested
/// freeze (`F-CITY`, to bank-0).
pub fn city() -> Vec<Value> {
    let reg = |agency: &str, kind: &str, roles: Value| {
        let mut data = json!({"agency_id": agency, "name": format!("{agency} 名称"), "kind": kind});
        if roles != Value::Null {
            data["roles"] = roles;
        }
        envelope(None, "AgencyRegistered", "office", "2024-01-01T00:00:00Z", data)
    };
    let mut events = vec![
        reg("office", "government", json!(["coordinator"])),
        reg("eval-bureau", "government", json!(["evaluator"])),
        reg("police", "public_security", Value::Null),
        reg("regulator", "regulator", Value::Null),
    ];
    events.extend(BANKS.iter().map(|b| reg(b, "bank", Value::Null)));
    events.push(envelope(
        None,
        "FraudCaseReported",
        "police",
        "2024-01-02T00:00:00Z",
        json!({"case_id": "CASE-1", "fraud_type": "刷单返利", "loss_minor": 1_000_000}),
    ));
    events.push(freeze_request("F-CITY", "bank-0", None));
    assert_eq!(events.len() as u64, CITY_EVENTS);
    events
}

/// A `FreezeRequested` by the police.
pub fn freeze_request(freeze_id: &str, bank: &str, id: Option<&str>) -> Value {
    envelope(
        id,
        "FreezeRequested",
        "police",
        "2024-01-03T00:00:00Z",
        json!({"freeze_id": freeze_id, "mode": "freeze", "bank": bank, "account_ref": format!("acct:{freeze_id}"),
               "amount_minor": 50_000, "case_id": "CASE-1"}),
    )
}

/// A bank's answer to a freeze request.
pub fn freeze_answer(freeze_id: &str, bank: &str, execute: bool, id: Option<&str>) -> Value {
    if execute {
        envelope(
            id,
            "FreezeExecuted",
            bank,
            "2024-01-03T00:10:00Z",
            json!({"freeze_id": freeze_id, "amount_frozen_minor": 50_000}),
        )
    } else {
        envelope(
            id,
            "FreezeRejected",
            bank,
            "2024-01-03T00:10:00Z",
            json!({"freeze_id": freeze_id, "reason": "account already closed"}),
        )
    }
}

/// A `PublicityDelivered` by `actor` (no lifecycle, always appendable once).
pub fn publicity(actor: &str, activity_id: &str, id: Option<&str>) -> Value {
    envelope(
        id,
        "PublicityDelivered",
        actor,
        "2024-02-01T00:00:00Z",
        json!({"activity_id": activity_id, "audience": "residents", "reach": 120}),
    )
}

/// The typed GraphQL mutation for an event type: (mutation field, input type).
fn mutation_of(event_type: &str) -> (&'static str, &'static str) {
    match event_type {
        "AgencyRegistered" => ("registerAgency", "RegisterAgencyInput"),
        "FraudCaseReported" => ("reportFraudCase", "ReportFraudCaseInput"),
        "FreezeRequested" => ("requestFreeze", "RequestFreezeInput"),
        "FreezeExecuted" => ("executeFreeze", "ExecuteFreezeInput"),
        "FreezeRejected" => ("rejectFreeze", "RejectFreezeInput"),
        "PenaltyImposed" => ("imposePenalty", "ImposePenaltyInput"),
        "PublicityDelivered" => ("deliverPublicity", "DeliverPublicityInput"),
        "CardBreakingAction" => ("recordCardBreakingAction", "RecordCardBreakingActionInput"),
        "ResponsibilityAssigned" => ("assignResponsibility", "AssignResponsibilityInput"),
        "AssessmentPublished" => ("publishAssessment", "PublishAssessmentInput"),
        other => panic!("the tests have no GraphQL mapping for {other}"),
    }
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// The GraphQL form of a payload: camelCase keys, enum values in GraphQL's UPPER_CASE.
fn gql_data(data: &Value) -> Value {
    const ENUM_FIELDS: [&str; 6] = ["kind", "roles", "mode", "outcome", "method", "risk"];
    let upper = |v: &Value| match v {
        Value::String(s) => Value::String(s.to_uppercase()),
        Value::Array(items) => Value::Array(
            items.iter().map(|i| i.as_str().map_or(i.clone(), |s| Value::String(s.to_uppercase()))).collect(),
        ),
        other => other.clone(),
    };
    let obj = data.as_object().expect("a payload is an object");
    Value::Object(
        obj.iter()
            .map(|(k, v)| (camel(k), if ENUM_FIELDS.contains(&k.as_str()) { upper(v) } else { v.clone() }))
            .collect(),
    )
}

/// The typed mutation (query text, variables) that appends `envelope`,
/// selecting the stored event's `seq id type actor hash`.
pub fn typed_mutation(envelope: &Value) -> (String, Value) {
    let (field, input_type) = mutation_of(envelope["type"].as_str().unwrap());
    let mut input = json!({
        "actor": envelope["actor"], "occurredAt": envelope["occurred_at"], "data": gql_data(&envelope["data"]),
    });
    if let Some(id) = envelope.get("id") {
        input["id"] = id.clone();
    }
    let query =
        format!("mutation($input: {input_type}!) {{ event: {field}(input: $input) {{ seq id type actor hash }} }}");
    (query, json!({"input": input}))
}

impl Client {
    /// Appends `envelope` through its typed GraphQL mutation.
    pub async fn append_gql(&self, envelope: &Value) -> Reply {
        let (query, variables) = typed_mutation(envelope);
        self.graphql(&query, variables).await
    }
}
