//! Receipts (SPEC 6.3, C2SP tlog-proof@v1): the text round-trips; malformed
//! texts are refused with the line at fault; a receipt verifies offline
//! against the log's key and a quorum of witnesses, and each way of breaking
//! it (altered body, wrong index, another log's checkpoint, too few
//! cosignatures, a body whose seq is not index + 1) is refused.

#![allow(clippy::unwrap_used)]

mod support;

use govledger_tlog::checkpoint::{self, CheckpointError};
use govledger_tlog::keys::{LogSigner, LogVerifier, WitnessSigner, WitnessVerifier};
use govledger_tlog::receipt::{HEADER, Receipt, ReceiptError};
use sha2::{Digest, Sha256};
use support::MemTree;

const ORIGIN: &str = "gov.example/ledger";

fn event(seq: u64) -> Vec<u8> {
    format!(r#"{{"actor":"a","data":{{}},"id":"EV-{seq}","prev_hash":"00","seq":{seq},"type":"t"}}"#).into_bytes()
}

struct World {
    log_key: LogVerifier,
    witnesses: Vec<WitnessVerifier>,
    bodies: Vec<Vec<u8>>,
    tree: MemTree,
    note: String,
}

/// A log of 11 events with a checkpoint at size 11 cosigned by two witnesses.
fn world() -> World {
    let bodies: Vec<Vec<u8>> = (1..=11).map(event).collect();
    let tree = MemTree::from_leaves(&bodies);
    let log = LogSigner::generate(ORIGIN).unwrap().0;
    let note = checkpoint::sign(&log, 11, &tree.root(11)).unwrap();
    let signers = [WitnessSigner::generate("w1.example").unwrap().0, WitnessSigner::generate("w2.example").unwrap().0];
    let lines: String =
        signers.iter().map(|w| checkpoint::cosign(w, note.as_bytes(), 1_700_000_000).unwrap()).collect();
    let note = checkpoint::with_signature_lines(&note, &lines).unwrap();
    let witnesses = signers.iter().map(|w| WitnessVerifier::new(&w.verifier_key()).unwrap()).collect();
    World { log_key: LogVerifier::new(&log.verifier_key()).unwrap(), witnesses, bodies, tree, note }
}

fn receipt(w: &World, index: u64) -> Receipt {
    Receipt {
        body: w.bodies[index as usize].clone(),
        index,
        path: w.tree.inclusion(index, 11),
        checkpoint: w.note.clone(),
    }
}

mod text {
    use super::*;

    #[test]
    fn the_text_is_tlog_proof_v1_and_round_trips() {
        let w = world();
        let r = receipt(&w, 6);
        let text = r.to_text();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(HEADER));
        assert_eq!(lines.next().unwrap(), format!("extra {}", base64_of(&r.body)));
        assert_eq!(lines.next(), Some("index 6"));
        assert_eq!(lines.next().unwrap(), r.path[0].to_string());
        assert!(text.ends_with(&format!("{}\n\n{}", r.path.last().unwrap(), w.note)));
        assert_eq!(Receipt::parse(text.as_bytes()).unwrap(), r);

        // A single-leaf tree has an empty path; an empty body has no extra line.
        let lone = Receipt { body: vec![], index: 0, path: vec![], checkpoint: w.note.clone() };
        assert_eq!(lone.to_text(), format!("{HEADER}\nindex 0\n\n{}", w.note));
        assert_eq!(Receipt::parse(lone.to_text().as_bytes()).unwrap(), lone);
    }

    fn base64_of(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn malformed_texts_are_refused_with_the_line_at_fault() {
        let w = world();
        let good = receipt(&w, 6).to_text();
        let parse = |text: &str| Receipt::parse(text.as_bytes()).unwrap_err();
        assert_eq!(parse(&good.replacen(HEADER, "c2sp.org/tlog-proof@v2", 1)), ReceiptError::BadHeader);
        assert_eq!(parse(&good.replacen("index 6\n", "", 1)), ReceiptError::BadIndex { line: 3 });
        let no_index = format!("{HEADER}\nextra e30=\n\n{}", w.note);
        assert_eq!(parse(&no_index), ReceiptError::MissingIndex);
        assert_eq!(parse(&good.replacen("index 6", "index 06", 1)), ReceiptError::BadIndex { line: 3 });
        assert_eq!(parse(&good.replacen("index 6", "index -6", 1)), ReceiptError::BadIndex { line: 3 });
        assert_eq!(parse(&good.replacen("extra ", "extra !", 1)), ReceiptError::BadExtra { line: 2 });
        let first_hash = receipt(&w, 6).path[0].to_string();
        assert_eq!(parse(&good.replacen(&first_hash, "not*base64", 1)), ReceiptError::BadPathLine { line: 4 });
        assert_eq!(parse(&good.replacen(&first_hash, "AAAA", 1)), ReceiptError::BadPathLine { line: 4 });
        assert_eq!(parse(&good[..good.find("\n\n").unwrap()]), ReceiptError::MissingCheckpoint);
        assert_eq!(parse(&good.replace("— ", "- ")), ReceiptError::Checkpoint(CheckpointError::MalformedNote));
        assert_eq!(Receipt::parse(b"\xff\xfe").unwrap_err(), ReceiptError::NotText);
        let long = format!("{HEADER}\nindex 0\n{}\n{}", format!("{first_hash}\n").repeat(65), w.note);
        assert_eq!(parse(&long), ReceiptError::TooManyPathLines);
    }
}

mod verify {
    use super::*;

    #[test]
    fn a_good_receipt_verifies_and_names_the_event() {
        let w = world();
        for index in 0..11 {
            let v = receipt(&w, index).verify(&w.log_key, &w.witnesses, 2).unwrap();
            assert_eq!(v.seq, index + 1);
            assert_eq!(v.event_id, format!("EV-{}", index + 1));
            assert_eq!(v.event_hash, hex::encode(Sha256::digest(&w.bodies[index as usize])));
            assert_eq!((v.checkpoint.origin.as_str(), v.checkpoint.size), (ORIGIN, 11));
            assert_eq!(v.checkpoint.root, w.tree.root(11));
            assert_eq!(v.witnessed_by, ["w1.example", "w2.example"]);
        }
        // Through the text, as an agency would hold it.
        let text = receipt(&w, 3).to_text();
        Receipt::parse(text.as_bytes()).unwrap().verify(&w.log_key, &w.witnesses, 2).unwrap();
    }

    #[test]
    fn an_altered_body_or_a_wrong_index_is_not_included() {
        let w = world();
        let mut r = receipt(&w, 4);
        r.body = String::from_utf8(r.body).unwrap().replace("\"actor\":\"a\"", "\"actor\":\"b\"").into_bytes();
        let err = r.verify(&w.log_key, &w.witnesses, 0).unwrap_err();
        assert_eq!(err, ReceiptError::NotIncluded { index: 4, size: 11 });
        assert!(err.to_string().starts_with("the inclusion proof does not lead to the checkpoint's root"), "{err}");

        let r = Receipt { index: 5, ..receipt(&w, 4) };
        assert_eq!(r.verify(&w.log_key, &w.witnesses, 0), Err(ReceiptError::NotIncluded { index: 5, size: 11 }));

        let r = Receipt { index: 11, ..receipt(&w, 4) };
        assert!(matches!(r.verify(&w.log_key, &w.witnesses, 0), Err(ReceiptError::Proof(_))));

        let mut r = receipt(&w, 4);
        r.path.pop();
        assert!(r.verify(&w.log_key, &w.witnesses, 0).is_err());
    }

    #[test]
    fn a_checkpoint_of_another_log_is_refused() {
        let w = world();
        let other = world();
        let r = Receipt { checkpoint: other.note.clone(), ..receipt(&w, 2) };
        let err = r.verify(&w.log_key, &w.witnesses, 0).unwrap_err();
        assert_eq!(err, ReceiptError::Checkpoint(CheckpointError::NotSignedByLog { key: w.log_key.text().into() }));
        assert!(
            err.to_string().starts_with("the checkpoint is not signed by the log key gov.example/ledger+"),
            "{err}"
        );
    }

    #[test]
    fn too_few_valid_cosignatures_of_the_given_witnesses_is_refused() {
        let w = world();
        let r = receipt(&w, 2);
        let err = r.verify(&w.log_key, &w.witnesses, 3).unwrap_err();
        assert_eq!(
            err,
            ReceiptError::QuorumNotMet {
                found: 2,
                needed: 3,
                witnessed_by: vec!["w1.example".into(), "w2.example".into()]
            }
        );
        assert!(err.to_string().contains("has 2 valid cosignatures") && err.to_string().contains("3 are needed"));

        // Cosignatures of witnesses not given do not count.
        let only_one = &w.witnesses[..1];
        assert!(matches!(
            r.verify(&w.log_key, only_one, 2),
            Err(ReceiptError::QuorumNotMet { found: 1, needed: 2, .. })
        ));
        let stranger = WitnessVerifier::new(&WitnessSigner::generate("w3.example").unwrap().0.verifier_key()).unwrap();
        assert!(matches!(r.verify(&w.log_key, &[stranger], 1), Err(ReceiptError::QuorumNotMet { found: 0, .. })));
        r.verify(&w.log_key, only_one, 1).unwrap();

        // A witness with two keys (say, before and after a rotation) is one witness.
        let rotated = WitnessSigner::generate("w1.example").unwrap().0;
        let line = checkpoint::cosign(&rotated, w.note.as_bytes(), 1_700_000_100).unwrap();
        let note = checkpoint::with_signature_lines(&w.note, &line).unwrap();
        let both_keys = [w.witnesses[0].clone(), WitnessVerifier::new(&rotated.verifier_key()).unwrap()];
        let r = Receipt { checkpoint: note, ..r };
        assert!(matches!(r.verify(&w.log_key, &both_keys, 2), Err(ReceiptError::QuorumNotMet { found: 1, .. })));
    }

    #[test]
    fn a_body_whose_seq_is_not_index_plus_one_is_refused() {
        // A log whose first leaf claims seq 5: included, but not the event at seq 1.
        let bodies = vec![event(5), event(2)];
        let tree = MemTree::from_leaves(&bodies);
        let log = LogSigner::generate(ORIGIN).unwrap().0;
        let note = checkpoint::sign(&log, 2, &tree.root(2)).unwrap();
        let log_key = LogVerifier::new(&log.verifier_key()).unwrap();
        let r = Receipt { body: bodies[0].clone(), index: 0, path: tree.inclusion(0, 2), checkpoint: note.clone() };
        assert_eq!(r.verify(&log_key, &[], 0), Err(ReceiptError::SeqMismatch { seq: 5, index: 0 }));
        let ok = Receipt { body: bodies[1].clone(), index: 1, path: tree.inclusion(1, 2), checkpoint: note };
        assert_eq!(ok.verify(&log_key, &[], 0).unwrap().seq, 2);
    }

    #[test]
    fn a_body_that_is_not_a_stored_event_is_refused() {
        let bodies = vec![b"not json".to_vec(), br#"{"seq":2}"#.to_vec()];
        let tree = MemTree::from_leaves(&bodies);
        let log = LogSigner::generate(ORIGIN).unwrap().0;
        let note = checkpoint::sign(&log, 2, &tree.root(2)).unwrap();
        let log_key = LogVerifier::new(&log.verifier_key()).unwrap();
        let r = |i: u64| Receipt {
            body: bodies[i as usize].clone(),
            index: i,
            path: tree.inclusion(i, 2),
            checkpoint: note.clone(),
        };
        assert!(matches!(r(0).verify(&log_key, &[], 0), Err(ReceiptError::BodyNotJson { .. })));
        assert_eq!(r(1).verify(&log_key, &[], 0), Err(ReceiptError::MissingField { field: "id" }));
    }
}
