//! Shared helpers for the black-box tests: running the `govledger` binary on
//! a data directory, the small valid city every test starts from, and
//! reading a directory's head and export.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tempfile::TempDir;

/// The binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_govledger");

/// Events in [`city`].
pub const CITY_EVENTS: u64 = 24;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole output unless the run exited 0.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "govledger failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self.no_panic()
    }

    /// Panics if the process panicked (a panic is never an acceptable answer).
    #[track_caller]
    pub fn no_panic(self) -> Self {
        assert!(!self.stderr.contains("panicked"), "govledger panicked:\n{}", self.stderr);
        self
    }
}

/// Runs `govledger --data-dir DIR ARGS…` and waits for it.
pub fn govledger(data: &Path, args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("GOVLEDGER_DATA_DIR")
        .env_remove("GOVLEDGER_STORE")
        .env_remove("GOVLEDGER_CONFIG")
        .env_remove("GOVLEDGER_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("cannot run the govledger binary");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A temporary root holding a data directory (`data/`) and input files.
pub struct Fixture {
    pub root: TempDir,
}

impl Fixture {
    /// An empty fixture: the data directory does not exist yet.
    pub fn new() -> Self {
        Self { root: tempfile::tempdir().expect("cannot create a temporary directory") }
    }

    /// A fixture whose data directory holds the imported [`city`].
    pub fn with_city() -> Self {
        let fx = Self::new();
        let run = fx.import(&city()).success();
        assert!(run.stdout.contains(&format!("imported {CITY_EVENTS} events (0 already stored)")), "{}", run.stdout);
        fx
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Writes `text` to a file next to the data directory.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, text).expect("cannot write a test file");
        path
    }

    /// Runs the binary on this fixture's data directory.
    pub fn run(&self, args: &[&str]) -> Run {
        govledger(&self.data(), args)
    }

    /// Imports `events` as one NDJSON file.
    pub fn import(&self, events: &[Value]) -> Run {
        self.import_text(&ndjson(events))
    }

    /// Imports NDJSON text as it is.
    pub fn import_text(&self, text: &str) -> Run {
        let path = self.file("import.ndjson", text);
        self.run(&["import", path.to_str().expect("temporary paths are UTF-8")])
    }

    /// The whole export, as text.
    pub fn export(&self) -> String {
        self.run(&["export"]).success().stdout
    }

    /// The head `(seq, hash)` according to `verify --json`, which must pass.
    pub fn head(&self) -> (u64, String) {
        let report = self.verify_json();
        assert!(report["problem"].is_null(), "the ledger does not verify: {report}");
        (report["head"]["seq"].as_u64().expect("head.seq"), report["head"]["hash"].as_str().expect("hash").to_owned())
    }

    /// `verify --json`, parsed.
    pub fn verify_json(&self) -> Value {
        let run = self.run(&["verify", "--json"]).no_panic();
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("verify --json is not JSON ({e}): {run:?}"))
    }
}

/// One JSON value per line.
pub fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// Parses NDJSON text into values.
pub fn parse_ndjson(text: &str) -> Vec<Value> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("an NDJSON line")).collect()
}

/// The client id of city event `n` (1-based).
pub fn event_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A submitted envelope.
pub fn envelope(id: Option<String>, event_type: &str, actor: &str, occurred_at: &str, data: Value) -> Value {
    let mut e = json!({"type": event_type, "actor": actor, "occurred_at": occurred_at, "data": data});
    if let Some(id) = id {
        e["id"] = json!(id);
    }
    e
}

/// A small valid city of 24 events, every one with a client id: a
/// coordination office, police, a bank and a telecom operator; a case with two
/// freezes (executed with a partial return, rejected); a meeting with a
/// task, a task extended by the office; a clue, a warning, card breaking,
/// publicity and a fine. Texts hold Chinese, quotes, backslashes, control
/// characters, U+2028 and an emoji; integers go up to 2^53 - 1; timestamps
/// have offsets and fractional seconds; so canonicalization is exercised.
pub fn city() -> Vec<Value> {
    let e = |n: u32, ty: &str, actor: &str, at: &str, data: Value| envelope(Some(event_id(n)), ty, actor, at, data);
    vec![
        e(
            1,
            "AgencyRegistered",
            "jj-office",
            "2026-01-05T09:00:00+08:00",
            json!({
            "agency_id": "jj-office", "name": "晋江市打击治理电信网络新型违法犯罪工作领导小组办公室",
            "kind": "government", "jurisdiction": "晋江市", "roles": ["coordinator", "evaluator"]}),
        ),
        e(
            2,
            "AgencyRegistered",
            "jj-office",
            "2026-01-05T09:01:00.5+08:00",
            json!({
            "agency_id": "jj-psb", "name": "晋江市公安局反诈中心", "kind": "public_security"}),
        ),
        e(
            3,
            "AgencyRegistered",
            "jj-office",
            "2026-01-05T09:02:00.25+08:00",
            json!({
            "agency_id": "icbc-jinjiang", "name": "中国工商银行晋江支行", "kind": "bank"}),
        ),
        e(
            4,
            "AgencyRegistered",
            "jj-office",
            "2026-01-05T09:03:00.125+08:00",
            json!({
            "agency_id": "cm-jinjiang", "name": "中国移动晋江分公司", "kind": "telecom_operator"}),
        ),
        e(
            5,
            "FraudCaseReported",
            "jj-psb",
            "2026-01-06T10:00:00.123456Z",
            json!({
            "case_id": "CASE-2026-0001", "fraud_type": "刷单返利 \"order brushing\"", "loss_minor": 5_000_000}),
        ),
        e(
            6,
            "FreezeRequested",
            "jj-psb",
            "2026-01-06T10:05:00Z",
            json!({
            "freeze_id": "FRZ-1", "mode": "freeze", "bank": "icbc-jinjiang", "account_ref": "hmac:9f2c1a77",
            "amount_minor": 3_000_000, "case_id": "CASE-2026-0001"}),
        ),
        e(
            7,
            "FreezeExecuted",
            "icbc-jinjiang",
            "2026-01-06T10:12:30.25Z",
            json!({
            "freeze_id": "FRZ-1", "amount_frozen_minor": 3_000_000}),
        ),
        e(
            8,
            "FundsReturned",
            "icbc-jinjiang",
            "2026-02-01T00:00:00Z",
            json!({
            "freeze_id": "FRZ-1", "amount_minor": 1_000_000}),
        ),
        e(
            9,
            "FreezeRequested",
            "jj-psb",
            "2026-01-07T08:00:00Z",
            json!({
            "freeze_id": "FRZ-2", "mode": "stop_payment", "bank": "icbc-jinjiang", "account_ref": "ref-77",
            "amount_minor": 999}),
        ),
        e(
            10,
            "FreezeRejected",
            "icbc-jinjiang",
            "2026-01-07T09:00:00Z",
            json!({
            "freeze_id": "FRZ-2", "reason": "账户已销户 (account closed)"}),
        ),
        e(
            11,
            "JointMeetingConvened",
            "jj-office",
            "2026-01-08T09:00:00+08:00",
            json!({
            "meeting_id": "M-2026-01", "title": "联席会议 第一次", "scheduled_for": "2026-01-10T09:00:00+08:00",
            "invitees": ["jj-psb", "icbc-jinjiang", "cm-jinjiang"]}),
        ),
        e(
            12,
            "JointMeetingHeld",
            "jj-office",
            "2026-01-10T11:30:00+08:00",
            json!({
            "meeting_id": "M-2026-01", "attendees": ["jj-psb", "cm-jinjiang"],
            "resolutions": [{"resolution_id": "R-1", "text": "运营商 48 小时内完成涉诈号码核查"}]}),
        ),
        e(
            13,
            "ResponsibilityAssigned",
            "jj-office",
            "2026-01-10T12:00:00+08:00",
            json!({
            "task_id": "T-1", "assignee": "cm-jinjiang", "title": "核查涉诈号码", "due_at": "2026-01-12T12:00:00+08:00",
            "meeting_id": "M-2026-01", "resolution_id": "R-1"}),
        ),
        e(14, "TaskAcknowledged", "cm-jinjiang", "2026-01-10T13:00:00+08:00", json!({"task_id": "T-1"})),
        e(
            15,
            "TaskCompleted",
            "cm-jinjiang",
            "2026-01-11T18:00:00.000001+08:00",
            json!({
            "task_id": "T-1", "evidence": "已核查 1,024 个号码\n附件: report.pdf"}),
        ),
        e(
            16,
            "ResponsibilityAssigned",
            "jj-office",
            "2026-01-15T09:00:00Z",
            json!({
            "task_id": "T-2", "assignee": "icbc-jinjiang", "title": "Stop-payment drill",
            "due_at": "2026-01-31T09:00:00Z", "legal_basis": "《反电信网络诈骗法》第十八条"}),
        ),
        e(
            17,
            "TaskDeadlineExtended",
            "jj-office",
            "2026-01-30T09:00:00Z",
            json!({
            "task_id": "T-2", "due_at": "2026-02-15T09:00:00Z", "reason": "core banking upgrade"}),
        ),
        e(
            18,
            "ClueReferred",
            "jj-psb",
            "2026-01-16T09:00:00Z",
            json!({
            "clue_id": "CLUE-1", "to": "cm-jinjiang", "kind": "phone_number", "summary": "+86 170 **** 0000"}),
        ),
        e(
            19,
            "ClueFeedbackGiven",
            "cm-jinjiang",
            "2026-01-16T15:00:00Z",
            json!({
            "clue_id": "CLUE-1", "outcome": "confirmed", "action": "号码已停机"}),
        ),
        e(
            20,
            "EarlyWarningIssued",
            "jj-psb",
            "2026-01-17T09:00:00Z",
            json!({
            "warning_id": "W-1", "to": "cm-jinjiang", "risk": "high"}),
        ),
        e(
            21,
            "DissuasionRecorded",
            "cm-jinjiang",
            "2026-01-17T09:20:00Z",
            json!({
            "warning_id": "W-1", "method": "call", "outcome": "dissuaded"}),
        ),
        e(
            22,
            "CardBreakingAction",
            "jj-psb",
            "2026-01-20T00:00:00Z",
            json!({
            "action_id": "CB-1", "operation": "断卡行动 2026", "bank_cards": 9_007_199_254_740_991u64,
            "phone_cards": 4_503_599_627_370_496u64, "internet_accounts": 0, "suspects": 12}),
        ),
        e(
            23,
            "PublicityDelivered",
            "jj-office",
            "2026-01-21T00:00:00.999999-03:30",
            json!({
            "activity_id": "PUB-1",
            "audience": "escapes: \"quoted\" back\\slash /slash tab\t nl\n nul\u{0} ctl\u{1f} del\u{7f} \
                         ls\u{2028} emoji 😀 é 𝄞",
            "reach": 123_456_789_012_345u64}),
        ),
        e(
            24,
            "PenaltyImposed",
            "jj-office",
            "2026-01-25T00:00:00Z",
            json!({
            "penalty_id": "PEN-1", "target": "icbc-jinjiang", "kind": "fine", "amount_minor": 1_000_000_000_000_000u64,
            "legal_basis": "《反电信网络诈骗法》第三十八条", "reason": "逾期未执行冻结"}),
        ),
    ]
}
