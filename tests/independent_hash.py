#!/usr/bin/env python3
"""Recomputes a govledger export's hash chain without govledger's code.

SPEC 2.2 promises that anyone holding an export can recompute every hash with
any RFC 8785 library. This script is that "anyone": it uses the `rfc8785`
package from PyPI (William Woodruff's implementation, unrelated to the Rust
`serde_json_canonicalizer` the product uses) and Python's own SHA-256.

For every line of the export it checks that
  - the object has exactly the stored-envelope fields of SPEC 2.2;
  - SHA-256 of RFC 8785(object without `hash`) equals `hash`;
  - `seq` is 1, 2, 3 ... with no gaps;
  - `prev_hash` is the previous line's `hash` (64 zeros for the first).

Usage: independent_hash.py EXPORT.ndjson
Prints `ok: N events verified independently, head seq S hash H` and exits 0,
or names the first bad line on stderr and exits 1. Exits 3 when the
`rfc8785` package is missing, saying how to install it.
"""

import hashlib
import json
import sys

try:
    import rfc8785
except ImportError:
    print(
        "the Python package rfc8785 is not installed: run `pip install rfc8785` "
        "(the independent RFC 8785 implementation this check relies on)",
        file=sys.stderr,
    )
    sys.exit(3)

GENESIS = "0" * 64
FIELDS = {"seq", "id", "type", "actor", "occurred_at", "recorded_at", "data", "prev_hash", "hash"}


def fail(line_no: int, message: str) -> None:
    print(f"line {line_no}: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    if len(sys.argv) != 2:
        print("usage: independent_hash.py EXPORT.ndjson", file=sys.stderr)
        sys.exit(2)
    prev_hash = GENESIS
    count = 0
    with open(sys.argv[1], "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                fail(line_no, f"not a JSON line: {e}")
            if not isinstance(event, dict):
                fail(line_no, "not a JSON object")
            if set(event) != FIELDS:
                fail(line_no, f"fields are {sorted(event)}, expected {sorted(FIELDS)}")
            stored_hash = event.pop("hash")
            canonical = rfc8785.dumps(event)
            computed = hashlib.sha256(canonical).hexdigest()
            if computed != stored_hash:
                fail(line_no, f"seq {event['seq']}: hash {stored_hash} but RFC 8785 form hashes to {computed}")
            if event["seq"] != count + 1:
                fail(line_no, f"seq {event['seq']} where {count + 1} was expected")
            if event["prev_hash"] != prev_hash:
                fail(line_no, f"seq {event['seq']}: prev_hash {event['prev_hash']} is not {prev_hash}")
            prev_hash = stored_hash
            count += 1
    print(f"ok: {count} events verified independently, head seq {count} hash {prev_hash}")


if __name__ == "__main__":
    main()
