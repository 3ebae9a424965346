#!/usr/bin/env python3
"""Checks a running govledger server's checkpoints and proofs without govledger's code.

SPEC 6 promises that the log follows public standards so that "existing tools
can check it". This script is such a tool, written from the texts alone:
RFC 9162 (Merkle tree hash, inclusion and consistency proofs, section 2.1),
C2SP signed-note (Ed25519 signatures, key IDs), tlog-checkpoint (the note body)
and tlog-cosignature (cosignature/v1). It uses only Python's standard library,
the `cryptography` package for Ed25519 and the `rfc8785` package to recompute
the events' canonical bodies from `GET /v1/events`.

Usage: independent_proofs.py URL TOKEN

It
  1. reads GET /v1/log (origin, verifier key, witnesses) and GET /checkpoint;
  2. checks the checkpoint's log signature (key ID = SHA-256(name || "\\n" ||
     0x01 || public key)[:4]; signature over the note body) and the
     cosignatures of the witnesses /v1/log lists;
  3. reads every event and recomputes each canonical body (RFC 8785 of the
     stored envelope without `hash`), checking its SHA-256 against `hash`;
  4. checks inclusion proofs of a few seqs at the checkpoint's size, with
     leaf = SHA-256(0x00 || body);
  5. checks consistency proofs from a few older sizes, against the older signed
     checkpoint (GET /v1/checkpoints?size=M) when one was signed there, else
     against the root recomputed from the bodies;
  6. recomputes the checkpoint's root from all bodies with the RFC's MTH;
  7. checks the `prev_hash` links of the chain.

Prints `ok: ...` and exits 0; names the first failure on stderr and exits 1;
exits 2 on a usage error; exits 3 when a package is missing, saying
`pip install cryptography rfc8785`.
"""

import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

try:
    import rfc8785
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError as missing:
    print(
        f"a Python package this check needs is missing ({missing}): run `pip install cryptography rfc8785`",
        file=sys.stderr,
    )
    sys.exit(3)

GENESIS = "0" * 64
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
TIMEOUT_S = 30


class Failure(Exception):
    """A check that did not pass; its text is the reason."""


# --- HTTP -------------------------------------------------------------------


def fetch(base: str, token: str, path: str) -> tuple[int, bytes]:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except urllib.error.URLError as e:
        raise Failure(f"GET {path}: cannot reach the server: {e.reason}") from e


def fetch_ok(base: str, token: str, path: str) -> bytes:
    status, body = fetch(base, token, path)
    if status != 200:
        raise Failure(f"GET {path} answered {status}: {body[:300]!r}")
    return body


def fetch_json(base: str, token: str, path: str):
    body = fetch_ok(base, token, path)
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        raise Failure(f"GET {path} is not JSON: {e}") from e


# --- RFC 9162, section 2.1 ---------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(body: bytes) -> bytes:
    return sha256(b"\x00" + body)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1, over leaf hashes already computed."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = largest_power_of_two_below(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2 (with the trivial case of equal sizes: an empty proof and equal roots)."""
    if first == second:
        return not path and first_hash == second_hash
    if first == 0 or first > second or not path:
        return False
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# --- C2SP signed-note, tlog-checkpoint, tlog-cosignature ----------------------


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    return sha256(name.encode() + b"\n" + bytes([alg]) + public_key)[:4]


def parse_vkey(vkey: str, alg: int) -> tuple[str, bytes, Ed25519PublicKey]:
    """A verifier key `NAME+HEX8+BASE64(alg || public key)`: (name, key ID, key)."""
    parts = vkey.split("+", 2)  # the name has no "+"; the base64 may
    if len(parts) != 3:
        raise Failure(f"verifier key {vkey!r} is not NAME+HEX8+BASE64")
    name, hex8, b64 = parts
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != alg:
        raise Failure(f"verifier key {vkey!r} is not an Ed25519 key of signature type {alg:#04x}")
    kid = key_id(name, alg, raw[1:])
    if kid.hex() != hex8:
        raise Failure(f"verifier key {vkey!r}: its key ID {hex8} is not SHA-256(name || \\n || type || key)[:4] = {kid.hex()}")
    return name, kid, Ed25519PublicKey.from_public_bytes(raw[1:])


def split_note(note: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(body including its final newline, [(key name, decoded signature)])."""
    text = note.decode("utf-8")
    at = text.find("\n\n")
    if at < 0:
        raise Failure("the checkpoint is not a signed note: no blank line before the signatures")
    body, sigs = text[: at + 1], text[at + 2 :]
    lines = []
    for line in sigs.split("\n"):
        if not line:
            continue
        if not line.startswith("\u2014 "):
            raise Failure(f"signature line {line!r} does not start with an em dash and a space")
        name, _, b64 = line[2:].rpartition(" ")
        lines.append((name, base64.b64decode(b64, validate=True)))
    return body.encode("utf-8"), lines


def open_checkpoint(note: bytes, log_vkey: str, witness_vkeys: list[str]) -> tuple[str, int, bytes, list[str]]:
    """Checks the log's signature and known witnesses' cosignatures; returns (origin, size, root, cosigners)."""
    body, signatures = split_note(note)
    name, kid, key = parse_vkey(log_vkey, ALG_ED25519)
    signed = False
    for sig_name, sig in signatures:
        if sig_name == name and sig[:4] == kid:
            try:
                key.verify(sig[4:], body)
            except InvalidSignature as e:
                raise Failure(f"the log's signature on the checkpoint does not verify with {log_vkey}") from e
            signed = True
    if not signed:
        raise Failure(f"the checkpoint carries no signature of the log key {log_vkey}")
    cosigners = []
    for wkey in witness_vkeys:
        wname, wkid, wpub = parse_vkey(wkey, ALG_COSIGNATURE_V1)
        for sig_name, sig in signatures:
            if sig_name == wname and sig[:4] == wkid:
                if len(sig) != 4 + 8 + 64:
                    raise Failure(f"the cosignature of {wname} is not key ID || timestamp || signature")
                timestamp = int.from_bytes(sig[4:12], "big")
                message = b"cosignature/v1\n" + f"time {timestamp}\n".encode() + body
                try:
                    wpub.verify(sig[12:], message)
                except InvalidSignature as e:
                    raise Failure(f"the cosignature of witness {wname} does not verify") from e
                cosigners.append(wname)
    lines = body.decode("utf-8").split("\n")
    if len(lines) < 4 or not lines[0] or not lines[1].isdigit() or (lines[1] != "0" and lines[1].startswith("0")):
        raise Failure(f"the checkpoint body {body!r} is not origin, size and root hash lines")
    if lines[0] != name:
        raise Failure(f"the checkpoint's origin {lines[0]!r} is not the key name {name!r}")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Failure("the checkpoint's root hash is not 32 bytes")
    return lines[0], int(lines[1]), root, cosigners


# --- the events ----------------------------------------------------------------


def read_events(base: str, token: str) -> list[dict]:
    """Every stored event, paging through GET /v1/events."""
    events: list[dict] = []
    while True:
        page = fetch_json(base, token, f"/v1/events?after={len(events)}&limit=1000")["events"]
        if not page:
            return events
        for event in page:
            if event.get("seq") != len(events) + 1:
                raise Failure(f"GET /v1/events gave seq {event.get('seq')} where {len(events) + 1} was expected")
            events.append(event)


def canonical_body(event: dict) -> bytes:
    """SPEC 2.2: RFC 8785 of the stored envelope without `hash`; its SHA-256 must be `hash`."""
    envelope = {k: v for k, v in event.items() if k != "hash"}
    body = rfc8785.dumps(envelope)
    computed = hashlib.sha256(body).hexdigest()
    if computed != event["hash"]:
        raise Failure(f"seq {event['seq']}: hash {event['hash']} but the RFC 8785 form hashes to {computed}")
    return body


def check_links(events: list[dict]) -> None:
    """Each prev_hash is the previous event's hash (64 zeros for seq 1)."""
    prev_hash = GENESIS
    for event in events:
        if event["prev_hash"] != prev_hash:
            raise Failure(f"seq {event['seq']}: prev_hash {event['prev_hash']} is not the hash of seq {event['seq'] - 1}")
        prev_hash = event["hash"]


def hexes(path: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in path]


def check(base: str, token: str) -> str:
    log = fetch_json(base, token, "/v1/log")
    log_vkey = log["verifier_key"]
    witness_vkeys = [w["verifier_key"] for w in log.get("witnesses", [])]
    origin, size, root, cosigners = open_checkpoint(fetch_ok(base, token, "/checkpoint"), log_vkey, witness_vkeys)
    if origin != log["origin"]:
        raise Failure(f"the checkpoint's origin {origin!r} is not /v1/log's {log['origin']!r}")
    if size == 0:
        raise Failure("the latest checkpoint is of the empty tree: nothing to prove")

    events = read_events(base, token)
    if len(events) < size:
        raise Failure(f"the checkpoint is at size {size} but the server lists only {len(events)} events")
    bodies = [canonical_body(e) for e in events]
    leaves = [leaf_hash(b) for b in bodies[:size]]

    # Inclusion proofs at the checkpoint's size.
    seqs = sorted({1, 2, (size + 1) // 3, size // 2, size - 1, size} & set(range(1, size + 1)))
    for seq in seqs:
        proof = fetch_json(base, token, f"/v1/proof/inclusion?seq={seq}&size={size}")
        if proof["seq"] != seq or proof["leaf_index"] != seq - 1 or proof["tree_size"] != size:
            raise Failure(f"seq {seq}: the inclusion proof is for seq {proof['seq']}, index {proof['leaf_index']}, size {proof['tree_size']}")
        if bytes.fromhex(proof["leaf_hash"]) != leaves[seq - 1]:
            raise Failure(f"seq {seq}: the proof's leaf_hash {proof['leaf_hash']} is not SHA-256(0x00 || body) = {leaves[seq - 1].hex()}")
        if not verify_inclusion(leaves[seq - 1], seq - 1, size, hexes(proof["path"]), root):
            raise Failure(f"seq {seq}: the inclusion proof does not lead to the checkpoint's root at size {size}")

    # Consistency proofs from older sizes.
    olds = sorted({1, 2, 3, size // 3, size // 2, size - 1} & set(range(1, size)))
    signed_olds = []
    for old in olds:
        status, note = fetch(base, token, f"/v1/checkpoints?size={old}")
        if status == 200:
            _, old_size, old_root, _ = open_checkpoint(note, log_vkey, witness_vkeys)
            if old_size != old:
                raise Failure(f"GET /v1/checkpoints?size={old} returned a checkpoint of size {old_size}")
            if old_root != mth(leaves[:old]):
                raise Failure(f"the signed checkpoint of size {old} has a root the bodies do not give")
            signed_olds.append(old)
        elif status == 404:
            old_root = mth(leaves[:old])
        else:
            raise Failure(f"GET /v1/checkpoints?size={old} answered {status}: {note[:300]!r}")
        proof = fetch_json(base, token, f"/v1/proof/consistency?from={old}&to={size}")
        if proof["from"] != old or proof["to"] != size:
            raise Failure(f"the consistency proof asked for {old} -> {size} is for {proof['from']} -> {proof['to']}")
        if not verify_consistency(old, size, old_root, root, hexes(proof["path"])):
            raise Failure(f"the consistency proof from size {old} to {size} does not verify")

    # The root from every body, by the RFC's definition.
    recomputed = mth(leaves)
    if recomputed != root:
        raise Failure(f"the root recomputed from the {size} bodies is {recomputed.hex()}, the checkpoint says {root.hex()}")

    # Last, the hash chain itself (a broken link would also have changed the bodies proven above).
    check_links(events)

    witnessed = f", cosigned by {', '.join(cosigners)}" if cosigners else ""
    return (
        f"ok: checkpoint of {origin} at size {size} signed{witnessed}; root recomputed from {size} bodies; "
        f"{len(seqs)} inclusion proofs and {len(olds)} consistency proofs verified "
        f"({len(signed_olds)} against older signed checkpoints)"
    )


def main() -> None:
    if len(sys.argv) != 3:
        print("usage: independent_proofs.py URL TOKEN", file=sys.stderr)
        sys.exit(2)
    try:
        print(check(sys.argv[1].rstrip("/"), sys.argv[2]))
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
    except (KeyError, TypeError, ValueError) as e:
        print(f"FAILED: the server's answer is not in the documented form: {e!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
