#!/usr/bin/env python3
"""Plays the dishonest operator of SPEC 6, for the README's walk-through.

It does what whoever holds a stopped server's data directory could do: it
changes one stored event, then recomputes the hash of that event and of
every later one (each body carries the previous hash), updates the anchor,
so that `govledger verify` finds nothing wrong, and with --hide-tlog moves
the Merkle tree and the signed checkpoints (`tlog/`) aside, as an operator
hiding the old history would. It uses Python's sqlite3 and the `rfc8785`
package, not govledger's code.

What catches it is not this data directory: it is a witness that cosigned an
older checkpoint, and an agency holding a receipt from before (README,
"Checking the log without trusting its operator").

Usage: play-dishonest-operator.py DATA_DIR SEQ --set data.FIELD=JSON [--hide-tlog]
Stop the server first. Never run this on a ledger you care about.
"""

import argparse
import hashlib
import json
import os
import sqlite3
import sys

try:
    import rfc8785
except ImportError:
    print("the Python package rfc8785 is not installed: run `pip install rfc8785`", file=sys.stderr)
    sys.exit(3)


def set_path(obj, path, value):
    """Sets a dotted path (e.g. data.reach) in a JSON object."""
    keys = path.split(".")
    for key in keys[:-1]:
        obj = obj[key]
    if keys[-1] not in obj:
        raise SystemExit(f"the event has no field {path}; its fields: {sorted(obj)}")
    obj[keys[-1]] = value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("seq", type=int)
    parser.add_argument("--set", required=True, help="PATH=JSON, e.g. data.reach=0")
    parser.add_argument("--hide-tlog", action="store_true", help="move <data-dir>/tlog aside")
    args = parser.parse_args()
    path, _, raw = args.set.partition("=")
    value = json.loads(raw)

    db = sqlite3.connect(os.path.join(args.data_dir, "ledger.sqlite"))
    rows = db.execute("SELECT seq, body FROM events WHERE seq >= ? ORDER BY seq", (args.seq,)).fetchall()
    if not rows or rows[0][0] != args.seq:
        raise SystemExit(f"no event at seq {args.seq}")
    prev = None
    with db:
        for seq, body in rows:
            event = json.loads(body)
            if seq == args.seq:
                set_path(event, path, value)
            if prev is not None:
                event["prev_hash"] = prev
            canonical = rfc8785.dumps(event)
            prev = hashlib.sha256(canonical).hexdigest()
            db.execute("UPDATE events SET body = ?, hash = ? WHERE seq = ?", (canonical.decode("utf-8"), prev, seq))
        db.execute("UPDATE anchor SET hash = ?", (prev,))
    print(f"rewrote seq {args.seq} ({path} = {raw}) and rehashed {len(rows)} events; new head hash {prev}")
    if args.hide_tlog:
        tlog = os.path.join(args.data_dir, "tlog")
        if os.path.isdir(tlog):
            os.rename(tlog, tlog + ".hidden")
            print(f"moved {tlog} to {tlog}.hidden")


if __name__ == "__main__":
    main()
