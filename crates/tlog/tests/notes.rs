//! Keys, signed checkpoints and cosignatures (SPEC 6.2, 6.4):
//!
//! - `keys`: key IDs and verifier key texts are SPEC 6.2's, computed by hand
//!   here; private key texts round-trip; swapped, altered or malformed keys
//!   are refused.
//! - `checkpoints`: a signed checkpoint opens with the log's key and no other;
//!   an altered one does not; cosignatures of known witnesses are listed, a
//!   tampered one is refused, an unknown witness's line is ignored.
//! - `cosignature`: the signed message is the C2SP `cosignature/v1` layout,
//!   and a cosignature line checks with ed25519-dalek directly.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use govledger_tlog::Hash;
use govledger_tlog::checkpoint::{self, CheckpointError, Cosigned};
use govledger_tlog::keys::{KeyError, LogSigner, LogVerifier, WitnessSigner, WitnessVerifier};
use govledger_tlog::merkle::leaf_hash;
use sha2::{Digest, Sha256};

const ORIGIN: &str = "gov.example/ledger";

/// SHA-256(name ‖ "\n" ‖ type ‖ public key)[:4], as SPEC 6.2 and tlog-cosignature write it.
fn key_id_by_hand(name: &str, key_type: u8, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([key_type]);
    h.update(public);
    h.finalize()[..4].try_into().unwrap()
}

/// A key text made by hand from a fixed seed: (private text, verifier text, public key).
fn key_by_hand(name: &str, key_type: u8, seed: u8) -> (String, String, VerifyingKey) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let public = key.verifying_key();
    let id = hex::encode(key_id_by_hand(name, key_type, public.as_bytes()));
    let private = format!("PRIVATE+KEY+{name}+{id}+{}", BASE64.encode([&[key_type][..], &[seed; 32]].concat()));
    let verifier = format!("{name}+{id}+{}", BASE64.encode([&[key_type][..], public.as_bytes()].concat()));
    (private, verifier, public)
}

/// The base64 payload of a note's signature line by `name`.
fn signature_bytes(note: &str, name: &str) -> Vec<u8> {
    let line = note.lines().find(|l| l.starts_with(&format!("— {name} "))).unwrap();
    BASE64.decode(line.rsplit(' ').next().unwrap()).unwrap()
}

fn root() -> Hash {
    leaf_hash(b"root")
}

mod keys {
    use super::*;

    #[test]
    fn the_log_key_text_and_key_id_are_those_of_spec_6_2() {
        let (private, verifier, public) = key_by_hand(ORIGIN, 0x01, 7);
        let signer = LogSigner::from_private(&format!("{private}\n")).unwrap();
        assert_eq!(signer.origin(), ORIGIN);
        assert_eq!(signer.key_id().to_be_bytes(), key_id_by_hand(ORIGIN, 0x01, public.as_bytes()));
        assert_eq!(signer.verifier_key(), verifier);
        let log = LogVerifier::new(&verifier).unwrap();
        assert_eq!((log.origin(), log.text()), (ORIGIN, verifier.as_str()));

        // The signature line: key ID, then Ed25519 over the checkpoint body.
        let note = checkpoint::sign(&signer, 3, &root()).unwrap();
        let body = format!("{ORIGIN}\n3\n{}\n", BASE64.encode(root().0));
        assert!(note.starts_with(&format!("{body}\n— {ORIGIN} ")), "{note}");
        let sig = signature_bytes(&note, ORIGIN);
        assert_eq!(sig[..4], key_id_by_hand(ORIGIN, 0x01, public.as_bytes()));
        public.verify_strict(body.as_bytes(), &Signature::from_slice(&sig[4..]).unwrap()).unwrap();
    }

    #[test]
    fn the_witness_key_text_and_key_id_are_those_of_tlog_cosignature() {
        let (private, verifier, public) = key_by_hand("witness.example/w1", 0x04, 9);
        let signer = WitnessSigner::from_private(&format!("{private}\n")).unwrap();
        assert_eq!(signer.key_id().to_be_bytes(), key_id_by_hand("witness.example/w1", 0x04, public.as_bytes()));
        assert_eq!(signer.name(), "witness.example/w1");
        assert_eq!(signer.verifier_key(), verifier);
        let witness = WitnessVerifier::new(&verifier).unwrap();
        assert_eq!((witness.name(), witness.text()), ("witness.example/w1", verifier.as_str()));
    }

    #[test]
    fn generated_keys_round_trip_through_their_texts() {
        let (log, private) = LogSigner::generate(ORIGIN).unwrap();
        assert!(private.starts_with(&format!("PRIVATE+KEY+{ORIGIN}+")));
        assert_eq!(LogSigner::from_private(&private).unwrap().verifier_key(), log.verifier_key());
        LogVerifier::new(&log.verifier_key()).unwrap();

        let (witness, private) = WitnessSigner::generate("w.example").unwrap();
        assert_eq!(WitnessSigner::from_private(&private).unwrap().verifier_key(), witness.verifier_key());
        WitnessVerifier::new(&witness.verifier_key()).unwrap();
        assert_ne!(LogSigner::generate(ORIGIN).unwrap().0.verifier_key(), log.verifier_key(), "keys are random");
    }

    #[test]
    fn swapped_altered_and_malformed_keys_are_refused() {
        let (log_private, log_vkey, _) = key_by_hand(ORIGIN, 0x01, 7);
        let (witness_private, witness_vkey, _) = key_by_hand("w.example", 0x04, 9);
        let wrong_type = |role, expected, found| KeyError::WrongKeyType { role, expected, found };
        assert_eq!(LogVerifier::new(&witness_vkey).unwrap_err(), wrong_type("log", 1, 4));
        assert_eq!(WitnessVerifier::new(&log_vkey).unwrap_err(), wrong_type("witness", 4, 1));
        assert_eq!(LogSigner::from_private(&witness_private).unwrap_err(), wrong_type("log", 1, 4));
        assert_eq!(WitnessSigner::from_private(&log_private).unwrap_err(), wrong_type("witness", 4, 1));

        // Renamed: the key ID no longer matches.
        let renamed = log_vkey.replacen(ORIGIN, "gov.example/other", 1);
        assert!(matches!(LogVerifier::new(&renamed), Err(KeyError::KeyIdMismatch { .. })));
        let renamed = witness_private.replacen("w.example", "w2.example", 1);
        assert!(matches!(WitnessSigner::from_private(&renamed), Err(KeyError::KeyIdMismatch { .. })));

        for bad in ["", "name", "name+1234abcd", "name+1234abcd+!!!", "name+zzzzzzzz+AQ==", "a b+1234abcd+AQ=="] {
            assert!(LogVerifier::new(bad).is_err(), "{bad:?}");
            assert!(WitnessVerifier::new(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(LogSigner::from_private(&log_vkey), Err(KeyError::MalformedPrivateKey { .. })));
        assert!(matches!(LogSigner::generate("has space"), Err(KeyError::BadName { .. })));
        assert!(matches!(WitnessSigner::generate("a+b"), Err(KeyError::BadName { .. })));
        let err = LogVerifier::new("name+1234abcd").unwrap_err().to_string();
        assert!(err.contains("NAME+HEX8+BASE64"), "{err}");
    }
}

mod checkpoints {
    use super::*;

    struct World {
        log: LogSigner,
        log_key: LogVerifier,
        w1: WitnessSigner,
        w2: WitnessSigner,
        known: Vec<WitnessVerifier>,
    }

    fn world() -> World {
        let log = LogSigner::generate(ORIGIN).unwrap().0;
        let log_key = LogVerifier::new(&log.verifier_key()).unwrap();
        let w1 = WitnessSigner::generate("w1.example").unwrap().0;
        let w2 = WitnessSigner::generate("w2.example").unwrap().0;
        let known = vec![WitnessVerifier::new(&w1.verifier_key()).unwrap()];
        World { log, log_key, w1, w2, known }
    }

    #[test]
    fn a_signed_checkpoint_opens_with_the_log_key() {
        let w = world();
        let note = checkpoint::sign(&w.log, 12, &root()).unwrap();
        let opened = checkpoint::open(note.as_bytes(), &w.log_key, &[]).unwrap();
        assert_eq!(opened.checkpoint.origin, ORIGIN);
        assert_eq!((opened.checkpoint.size, opened.checkpoint.root), (12, root()));
        assert!(opened.cosigned_by.is_empty());
        assert!(note.starts_with(&opened.checkpoint.body()));
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_or_altered_is_refused() {
        let w = world();
        let impostor = LogSigner::generate(ORIGIN).unwrap().0;
        let note = checkpoint::sign(&impostor, 12, &root()).unwrap();
        let err = checkpoint::open(note.as_bytes(), &w.log_key, &w.known).unwrap_err();
        assert_eq!(err, CheckpointError::NotSignedByLog { key: w.log.verifier_key() });
        assert!(err.to_string().contains(&w.log.verifier_key()), "{err}");

        let note = checkpoint::sign(&w.log, 12, &root()).unwrap();
        let altered = note.replacen("\n12\n", "\n13\n", 1);
        let err = checkpoint::open(altered.as_bytes(), &w.log_key, &[]).unwrap_err();
        assert_eq!(err, CheckpointError::BadLogSignature { key: w.log.verifier_key() });

        let other_log = LogSigner::generate("gov.example/other").unwrap().0;
        let note = checkpoint::sign(&other_log, 12, &root()).unwrap();
        assert!(matches!(checkpoint::open(note.as_bytes(), &w.log_key, &[]), Err(CheckpointError::WrongOrigin { .. })));

        // Signed only by a witness: still not the log's.
        let body = checkpoint::Checkpoint { origin: ORIGIN.into(), size: 12, root: root() }.body();
        let line = checkpoint::cosign(&w.w1, body.as_bytes(), 5).unwrap();
        let note = format!("{body}\n{line}");
        assert!(matches!(
            checkpoint::open(note.as_bytes(), &w.log_key, &w.known),
            Err(CheckpointError::NotSignedByLog { .. })
        ));

        for bad in ["", "no blank line\n", "x\n\n— x AAAA\n"] {
            assert_eq!(checkpoint::open(bad.as_bytes(), &w.log_key, &[]), Err(CheckpointError::MalformedNote));
        }
    }

    #[test]
    fn cosignatures_of_known_witnesses_are_listed_and_unknown_ones_ignored() {
        let w = world();
        let note = checkpoint::sign(&w.log, 12, &root()).unwrap();
        let line1 = checkpoint::cosign(&w.w1, note.as_bytes(), 1_700_000_000).unwrap();
        let line2 = checkpoint::cosign(&w.w2, note.as_bytes(), 1_700_000_001).unwrap();
        assert!(line1.starts_with("— w1.example ") && line1.ends_with('\n'), "{line1}");
        let cosigned = checkpoint::with_signature_lines(&note, &format!("{line1}{line2}")).unwrap();

        let opened = checkpoint::open(cosigned.as_bytes(), &w.log_key, &w.known).unwrap();
        assert_eq!(opened.cosigned_by, vec![Cosigned { name: "w1.example".into(), timestamp: 1_700_000_000 }]);

        let both = [w.known[0].clone(), WitnessVerifier::new(&w.w2.verifier_key()).unwrap()];
        let opened = checkpoint::open(cosigned.as_bytes(), &w.log_key, &both).unwrap();
        let names: Vec<&str> = opened.cosigned_by.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["w1.example", "w2.example"]);

        // The same witness listed twice counts once and is not "ambiguous".
        let twice = [w.known[0].clone(), w.known[0].clone()];
        assert_eq!(checkpoint::open(cosigned.as_bytes(), &w.log_key, &twice).unwrap().cosigned_by.len(), 1);
    }

    #[test]
    fn a_tampered_cosignature_of_a_known_witness_is_refused() {
        let w = world();
        let note = checkpoint::sign(&w.log, 12, &root()).unwrap();
        let line = checkpoint::cosign(&w.w1, note.as_bytes(), 1_700_000_000).unwrap();
        let payload = BASE64.decode(line.trim_end().rsplit(' ').next().unwrap()).unwrap();
        // Byte 4 + 7 is the timestamp's last byte; byte 4 + 8 + 10 is inside the Ed25519 signature.
        for at in [4 + 7, 4 + 8 + 10] {
            let mut tampered = payload.clone();
            tampered[at] ^= 1;
            let line = format!("— w1.example {}\n", BASE64.encode(&tampered));
            let note = checkpoint::with_signature_lines(&note, &line).unwrap();
            assert_eq!(
                checkpoint::open(note.as_bytes(), &w.log_key, &w.known),
                Err(CheckpointError::BadCosignature { name: "w1.example".into() }),
                "byte {at}"
            );
            // A witness not in the list: the same line is ignored.
            checkpoint::open(note.as_bytes(), &w.log_key, &[]).unwrap();
        }
    }

    #[test]
    fn signature_lines_are_added_once() {
        let w = world();
        let note = checkpoint::sign(&w.log, 12, &root()).unwrap();
        let line = checkpoint::cosign(&w.w1, note.as_bytes(), 7).unwrap();
        let once = checkpoint::with_signature_lines(&note, &line).unwrap();
        assert_eq!(once, format!("{note}{line}"));
        assert_eq!(checkpoint::with_signature_lines(&once, &format!("{line}\n{line}")).unwrap(), once);
        let log_line = note.lines().last().unwrap();
        assert_eq!(checkpoint::with_signature_lines(&note, log_line).unwrap(), note);
        assert_eq!(
            checkpoint::with_signature_lines(&note, "— not a line"),
            Err(CheckpointError::MalformedSignatureLine { line: 1 })
        );
        assert_eq!(checkpoint::with_signature_lines("no note", &line), Err(CheckpointError::MalformedNote));
    }

    #[test]
    fn the_claimed_checkpoint_reads_without_keys_and_a_broken_note_is_not_cosigned() {
        let w = world();
        let note = checkpoint::sign(&w.log, 12, &root()).unwrap();
        let claimed = checkpoint::read_unverified(note.as_bytes()).unwrap();
        assert_eq!(claimed, checkpoint::Checkpoint { origin: ORIGIN.into(), size: 12, root: root() });
        assert_eq!(checkpoint::read_unverified(b"x\n\n"), Err(CheckpointError::MalformedNote));
        let no_root = format!("{ORIGIN}\n12\n\n{}", note.lines().last().unwrap());
        assert_eq!(checkpoint::read_unverified(format!("{no_root}\n").as_bytes()), Err(CheckpointError::MalformedBody));

        // The body alone and the signed note give the same cosignature; a broken note none.
        let body = claimed.body();
        assert_eq!(
            checkpoint::cosign(&w.w1, body.as_bytes(), 9).unwrap(),
            checkpoint::cosign(&w.w1, note.as_bytes(), 9).unwrap()
        );
        let broken = format!("{body}\n— truncated");
        assert_eq!(checkpoint::cosign(&w.w1, broken.as_bytes(), 9), Err(CheckpointError::MalformedNote));
    }

    #[test]
    fn a_timestamp_above_2_63_is_refused() {
        let w = world();
        let note = checkpoint::sign(&w.log, 1, &root()).unwrap();
        assert_eq!(
            checkpoint::cosign(&w.w1, note.as_bytes(), 1 << 63),
            Err(CheckpointError::TimestampTooLarge { timestamp: 1 << 63 })
        );
        checkpoint::cosign(&w.w1, note.as_bytes(), (1 << 63) - 1).unwrap();
    }
}

mod cosignature {
    use super::*;
    use govledger_tlog::cosignature::message;

    /// The checkpoint of the tlog-cosignature example.
    const EXAMPLE_BODY: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_signed_message_is_the_c2sp_layout() {
        let expected = "cosignature/v1\n\
                        time 1679315147\n\
                        example.com/behind-the-sofa\n\
                        20852163\n\
                        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(message(1_679_315_147, EXAMPLE_BODY.as_bytes()), expected.as_bytes());
        assert_eq!(message(0, b"x\n"), b"cosignature/v1\ntime 0\nx\n");
    }

    #[test]
    fn a_cosignature_line_checks_with_ed25519_directly() {
        let (private, _, public) = key_by_hand("witness.example.com/w1", 0x04, 3);
        let witness = WitnessSigner::from_private(&private).unwrap();
        let line = checkpoint::cosign(&witness, EXAMPLE_BODY.as_bytes(), 1_679_315_147).unwrap();
        let (name, payload) = line.strip_prefix("— ").unwrap().trim_end().split_once(' ').unwrap();
        assert_eq!(name, "witness.example.com/w1");
        let payload = BASE64.decode(payload).unwrap();
        assert_eq!(payload.len(), 4 + 8 + 64);
        assert_eq!(payload[..4], key_id_by_hand(name, 0x04, public.as_bytes()));
        assert_eq!(payload[4..12], 1_679_315_147u64.to_be_bytes());
        let signed = format!("cosignature/v1\ntime 1679315147\n{EXAMPLE_BODY}");
        let signature = Signature::from_slice(&payload[12..]).unwrap();
        public.verify_strict(signed.as_bytes(), &signature).unwrap();
        // Not a plain note signature over the body.
        assert!(public.verify_strict(EXAMPLE_BODY.as_bytes(), &signature).is_err());
    }
}
