//! The kept checkpoints (SPEC 6.2): every size stays retrievable with its
//! note, the latest and the first covering a seq are found, cosignatures
//! replace the note without changing what it signs, a reopened store keeps
//! all of it, and a second root for a size already signed is refused.

use govledger_transparency::{CHECKPOINTS_FILE, CheckpointStore, Hash, TreeError};

fn root(byte: u8) -> Hash {
    Hash([byte; 32])
}

fn note(size: u64, byte: u8) -> String {
    format!("example.org/log\n{size}\n{}\n\n— example.org/log sig{byte}\n", root(byte))
}

#[test]
fn checkpoints_are_kept_by_size_and_found_by_seq() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = CheckpointStore::open(dir.path()).expect("open");
    assert!(store.latest().expect("latest").is_none());
    assert!(store.first_covering(1).expect("covering").is_none());
    for (size, byte) in [(5, 1), (12, 2), (30, 3)] {
        store.put(size, &root(byte), &note(size, byte)).expect("put");
    }
    let at = store.at(12).expect("at").expect("kept");
    assert_eq!((at.size, at.root, at.note.as_str(), at.cosignatures), (12, root(2), note(12, 2).as_str(), 0));
    assert!(at.signed_at.ends_with('Z'), "{}", at.signed_at);
    assert!(store.at(13).expect("at").is_none());
    assert_eq!(store.latest().expect("latest").expect("kept").size, 30);
    assert_eq!(store.first_covering(1).expect("covering").expect("kept").size, 5);
    assert_eq!(store.first_covering(5).expect("covering").expect("kept").size, 5);
    assert_eq!(store.first_covering(6).expect("covering").expect("kept").size, 12);
    assert_eq!(store.first_covering(30).expect("covering").expect("kept").size, 30);
    assert!(store.first_covering(31).expect("covering").is_none());
    // Sizes beyond SQLite's signed integers are misses, not failures.
    assert!(store.at(1 << 63).expect("at 2^63").is_none());
    assert!(store.at(u64::MAX).expect("at u64::MAX").is_none());
    assert!(store.first_covering(1 << 63).expect("covering 2^63").is_none());
}

#[test]
fn cosignatures_replace_the_note_but_not_what_it_signs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = CheckpointStore::open(dir.path()).expect("open");
    store.put(12, &root(2), &note(12, 2)).expect("put");
    let cosigned = format!("{}— witness.example cosig\n", note(12, 2));
    store.replace_note(12, &cosigned, 1).expect("add a cosignature");
    let at = store.at(12).expect("at").expect("kept");
    assert_eq!((at.note.as_str(), at.cosignatures), (cosigned.as_str(), 1));

    let other = note(12, 7);
    let err = store.replace_note(12, &other, 1).expect_err("another checkpoint");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
    let err = store.replace_note(13, &note(13, 2), 1).expect_err("nothing kept at 13");
    assert!(matches!(err, TreeError::OutOfRange { .. }), "{err}");
    assert_eq!(store.at(12).expect("at").expect("kept").note, cosigned);
}

#[test]
fn a_second_root_for_a_signed_size_is_refused_and_the_first_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = CheckpointStore::open(dir.path()).expect("open");
    store.put(12, &root(2), &note(12, 2)).expect("put");
    // The same checkpoint again (another signing of the same size): fine,
    // the first note stays.
    store.put(12, &root(2), "a later note of the same tree").expect("same root");
    assert_eq!(store.at(12).expect("at").expect("kept").note, note(12, 2));
    let err = store.put(12, &root(9), &note(12, 9)).expect_err("a fork");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
    let at = store.at(12).expect("at").expect("kept");
    assert_eq!((at.root, at.note), (root(2), note(12, 2)));
}

#[test]
fn a_reopened_store_keeps_every_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = CheckpointStore::open(dir.path()).expect("open");
        store.put(5, &root(1), &note(5, 1)).expect("put");
        store.put(9, &root(4), &note(9, 4)).expect("put");
        store.replace_note(9, &format!("{}— w cosig\n", note(9, 4)), 1).expect("cosign");
    }
    assert!(dir.path().join(CHECKPOINTS_FILE).exists());
    let store = CheckpointStore::open(dir.path()).expect("reopen");
    assert_eq!(store.at(5).expect("at").expect("kept").root, root(1));
    let latest = store.latest().expect("latest").expect("kept");
    assert_eq!((latest.size, latest.root, latest.cosignatures), (9, root(4), 1));
    assert!(latest.note.ends_with("— w cosig\n"));
    let err = store.put(9, &root(5), &note(9, 5)).expect_err("a fork, after a restart too");
    assert!(matches!(err, TreeError::Disagrees { .. }), "{err}");
}
