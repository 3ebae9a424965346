//! The tlog-witness `add-checkpoint` request body: it round-trips, the
//! protocol's own example parses, and malformed bodies (more than 63 proof
//! lines, no blank line, a bad or zero-padded old line, a bad proof line, no
//! checkpoint) are refused.

#![allow(clippy::unwrap_used)]

use govledger_tlog::merkle::leaf_hash;
use govledger_tlog::witness_wire::{AddCheckpoint, MAX_PROOF_LINES, SIZE_CONTENT_TYPE, WireError};

const EXAMPLE: &str = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
";

fn hash_line() -> String {
    format!("{}\n", leaf_hash(b"x"))
}

fn body(old: &str, proof_lines: usize) -> String {
    format!("{old}\n{}\n{}", hash_line().repeat(proof_lines), &EXAMPLE[EXAMPLE.find("example.com").unwrap()..])
}

#[test]
fn the_protocol_example_parses_and_round_trips() {
    let request = AddCheckpoint::parse(EXAMPLE.as_bytes()).unwrap();
    assert_eq!(request.old_size, 20_852_014);
    assert_eq!(request.proof.len(), 4);
    assert_eq!(request.proof[0].to_string(), "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=");
    assert!(request.checkpoint.starts_with(b"example.com/behind-the-sofa\n20852163\n"));
    assert_eq!(request.to_bytes(), EXAMPLE.as_bytes());

    let empty = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: b"c\n\n- x\n".to_vec() };
    assert_eq!(empty.to_bytes(), b"old 0\n\nc\n\n- x\n");
    assert_eq!(AddCheckpoint::parse(&empty.to_bytes()).unwrap(), empty);
    assert_eq!(SIZE_CONTENT_TYPE, "text/x.tlog.size");
}

#[test]
fn at_most_63_proof_lines_are_accepted() {
    assert_eq!(AddCheckpoint::parse(body("old 5", MAX_PROOF_LINES).as_bytes()).unwrap().proof.len(), 63);
    assert_eq!(AddCheckpoint::parse(body("old 5", 64).as_bytes()), Err(WireError::TooManyProofLines));
}

#[test]
fn a_body_without_the_blank_line_or_checkpoint_is_refused() {
    assert_eq!(AddCheckpoint::parse(b"old 5\n"), Err(WireError::MissingBlankLine));
    let no_blank = format!("old 5\n{}", hash_line().repeat(2));
    assert_eq!(AddCheckpoint::parse(no_blank.as_bytes()), Err(WireError::MissingBlankLine));
    // The checkpoint's origin line read as a proof line.
    let run_on = EXAMPLE.replacen("/0=\n\n", "/0=\n", 1);
    assert_eq!(AddCheckpoint::parse(run_on.as_bytes()), Err(WireError::BadProofLine { line: 6 }));
    assert_eq!(AddCheckpoint::parse(b"old 5\n\n"), Err(WireError::MissingCheckpoint));
    assert_eq!(AddCheckpoint::parse(b""), Err(WireError::MissingOldLine));
    assert_eq!(AddCheckpoint::parse(b"old 5"), Err(WireError::MissingOldLine));
}

#[test]
fn bad_old_lines_and_leading_zeros_are_refused() {
    for old in [
        "old 05",
        "old 00",
        "old",
        "old ",
        "old -1",
        "old 5 ",
        "old  5",
        "Old 5",
        "new 5",
        "old 0x5",
        "old 18446744073709551616",
    ] {
        assert_eq!(AddCheckpoint::parse(body(old, 0).as_bytes()), Err(WireError::BadOldLine), "{old:?}");
    }
    assert_eq!(AddCheckpoint::parse(body("old 0", 0).as_bytes()).unwrap().old_size, 0);
    assert_eq!(AddCheckpoint::parse(body("old 18446744073709551615", 0).as_bytes()).unwrap().old_size, u64::MAX);
}

#[test]
fn a_proof_line_that_is_not_a_base64_hash_is_refused() {
    for bad in [
        "not base64!",
        "AAAA",
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw",
        " PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
    ] {
        let text = EXAMPLE.replacen("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=", bad, 1);
        assert_eq!(AddCheckpoint::parse(text.as_bytes()), Err(WireError::BadProofLine { line: 2 }), "{bad:?}");
    }
}
