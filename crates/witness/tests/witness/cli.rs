//! `govledger witness key`: the key file is created readable only by its owner,
//! holds a usable private key, and is never replaced.

use std::os::unix::fs::PermissionsExt;
use std::process::ExitCode;

use govledger_tlog::keys::WitnessSigner;
use govledger_witness::{KEY_FILE, WitnessCommand, run};

#[test]
fn key_creates_a_private_key_file_with_mode_0600_and_never_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let witness_dir = dir.path().join("w");
    let cmd = WitnessCommand::Key { dir: witness_dir.clone(), name: "witness.example/cli".into() };

    assert_eq!(run(cmd).unwrap(), ExitCode::SUCCESS);

    let path = witness_dir.join(KEY_FILE);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let text = std::fs::read_to_string(&path).unwrap();
    let signer = WitnessSigner::from_private(&text).unwrap();
    assert_eq!(signer.name(), "witness.example/cli");

    let again = WitnessCommand::Key { dir: witness_dir.clone(), name: "witness.example/other".into() };
    assert_eq!(run(again).unwrap(), ExitCode::FAILURE);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "the key is unchanged");
}
