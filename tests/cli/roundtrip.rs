//! `export` and `import` fit together: the stored envelopes of an export,
//! stripped back to their submitted form (no `seq`, `recorded_at`,
//! `prev_hash`, `hash`), import into a fresh data directory with the same
//! ids, order and payloads; `export --after N` starts at `N + 1`.

use serde_json::{Value, json};

use crate::support::{CITY_EVENTS, Fixture, envelope, parse_ndjson};

#[test]
fn export_stripped_to_the_submitted_form_imports_with_the_same_ids_and_payloads() {
    let source = Fixture::with_city();
    // An event without a client id: its server-assigned id must survive too.
    source
        .import(&[envelope(
            None,
            "PublicityDelivered",
            "jj-psb",
            "2026-03-01T08:00:00.5Z",
            json!({"activity_id": "PUB-NOID", "audience": "学校", "reach": 7}),
        )])
        .success();
    let exported = parse_ndjson(&source.export());
    assert_eq!(exported.len() as u64, CITY_EVENTS + 1);

    let submitted: Vec<Value> = exported
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let obj = e.as_object_mut().unwrap();
            for stored_only in ["seq", "recorded_at", "prev_hash", "hash"] {
                assert!(obj.remove(stored_only).is_some(), "export lacks {stored_only}");
            }
            e
        })
        .collect();
    let target = Fixture::new();
    let run = target.import(&submitted).success();
    assert!(run.stdout.starts_with(&format!("imported {} events (0 already stored)", CITY_EVENTS + 1)), "{run:?}");

    let reimported = parse_ndjson(&target.export());
    assert_eq!(reimported.len(), exported.len());
    for (a, b) in exported.iter().zip(&reimported) {
        for field in ["seq", "id", "type", "actor", "occurred_at", "data"] {
            assert_eq!(a[field], b[field], "{field} differs at seq {}", a["seq"]);
        }
    }
    target.head();
}

#[test]
fn export_after_n_starts_at_n_plus_1() {
    let fx = Fixture::with_city();
    let full: Vec<String> = fx.export().lines().map(str::to_owned).collect();
    assert_eq!(full.len() as u64, CITY_EVENTS);
    for after in [0u64, 1, 10, CITY_EVENTS - 1, CITY_EVENTS, CITY_EVENTS + 100] {
        let run = fx.run(&["export", "--after", &after.to_string()]).success();
        let lines: Vec<&str> = run.stdout.lines().collect();
        let expected: Vec<&str> = full.iter().skip(after as usize).map(String::as_str).collect();
        assert_eq!(lines, expected, "export --after {after}");
        if let Some(first) = lines.first() {
            let first: Value = serde_json::from_str(first).unwrap();
            assert_eq!(first["seq"], after + 1);
        }
    }
}

#[test]
fn export_to_a_file_equals_export_to_stdout() {
    let fx = Fixture::with_city();
    let path = fx.root.path().join("out.ndjson");
    fx.run(&["export", "--out", path.to_str().unwrap()]).success();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fx.export());
}
