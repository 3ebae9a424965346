//! SPEC 6.4: a report names the signed checkpoint its figures were proven by
//! and how many witnesses had cosigned it, in its footer and its parameters
//! line, so `report verify` makes the same bytes again and checks that the
//! checkpoint is the log's; a report whose stamp was altered is refused.

use crate::support::*;
use crate::tlog_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_names_its_checkpoint_and_verify_checks_it() {
    let fx = Fixture::new();
    let token = fx.token("police", "agency");
    let server = fx.serve(&["--checkpoint-interval-ms", INTERVAL_MS]);
    let client = Client::new(&server, Some(&token));
    let vkey = log_key(&client).await;
    let note = wait_for_size(&client, CITY_EVENTS).await;
    let root = hex::encode(open_note(&note, &vkey, &[]).checkpoint.root.0);
    assert!(server.stop().0.success());

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let out = out.to_str().unwrap();
    let period = ["--from", "2024-01-01T00:00:00+08:00", "--to", "2024-04-01T00:00:00+08:00"];
    let mut args = vec!["report"];
    args.extend(period);
    args.extend(["--format", "html", "--out", out, "--publish", "--as", "eval-bureau"]);
    let (code, stdout, stderr) = govledger(&fx.data(), &args);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let html = std::fs::read_to_string(out).unwrap();
    let stamp = format!("checkpoint={CITY_EVENTS}:{root}:0");
    assert!(html.contains(&stamp), "the parameters line names the checkpoint: {stamp}");
    assert!(html.contains(&format!("GET /v1/checkpoints?size={CITY_EVENTS}")), "the footer names it too");

    let (code, stdout, stderr) = govledger(&fx.data(), &["report", "verify", out]);
    assert_eq!(code, Some(0), "the published report regenerates with its stamp: {stdout}{stderr}");
    assert!(stdout.contains("OK: regenerated"), "{stdout}");

    // Another root in the stamp: not the log's checkpoint.
    let forged = html.replace(&stamp, &format!("checkpoint={CITY_EVENTS}:{}:0", "0".repeat(64)));
    let forged_path = dir.path().join("forged.html");
    std::fs::write(&forged_path, forged).unwrap();
    let (code, stdout, _) = govledger(&fx.data(), &["report", "verify", forged_path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("MISMATCH: the report names the checkpoint of size"), "{stdout}");
}
