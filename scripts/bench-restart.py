#!/usr/bin/env python3
"""Restart benchmark (issue 18): how long `serve` takes from its start until
`/healthz` answers, and its peak memory then, on a demo ledger of SCALE
(25 is about a million events), with the state snapshot and projection
checkpoint the last stop saved, against the same start with the state
snapshot removed (the whole log folded, as before snapshots). Both sides use
the same binary and data directory and alternate, the order swapped each
round, so that a noisy machine weighs on both.

    cargo build --release -p govledger
    python3 scripts/bench-restart.py 25 [ROUNDS]

GOVLEDGER_BIN overrides the binary (default target/release/govledger),
GOVLEDGER_BENCH_DIR the parent of the data directory (default the system's
temporary directory). Talks only to 127.0.0.1 and stops every server it starts.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.path.abspath(os.environ.get("GOVLEDGER_BIN", "target/release/govledger"))
UNTIL = "2026-11-01T00:00:00Z"
TIMEOUT_S = 600


def run(data, *args):
    subprocess.run([BIN, "--data-dir", data, *args], check=True, stdout=subprocess.DEVNULL)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_once(data):
    """Starts `serve`, returns (seconds until /healthz answered, peak RSS MB, stderr log)."""
    log = tempfile.TemporaryFile()
    env = dict(os.environ, GOVLEDGER_LOG="info")
    started = time.monotonic()
    server = subprocess.Popen(
        [BIN, "--data-dir", data, "serve", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env,
    )
    try:
        base = None
        for line in server.stdout:
            if line.startswith("listening on "):
                base = line.split()[-1]
                break
        if base is None:
            raise SystemExit("the server did not start")
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                break
            except urllib.error.HTTPError:
                break  # it answered (a 503 while it still checks the chain counts)
            except OSError:
                if time.monotonic() - started > TIMEOUT_S:
                    raise SystemExit("/healthz did not answer")
                time.sleep(0.005)
        elapsed = time.monotonic() - started
        rss = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=TIMEOUT_S)
    log.seek(0)
    opened = [l for l in log.read().decode().splitlines() if "opened the ledger" in l]
    return elapsed, rss, opened[0] if opened else "(no 'opened the ledger' line)"


def main():
    scale = sys.argv[1] if len(sys.argv) > 1 else "25"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    root = tempfile.mkdtemp(prefix="govledger-bench-restart-", dir=os.environ.get("GOVLEDGER_BENCH_DIR"))
    data = os.path.join(root, "data")
    try:
        t = time.monotonic()
        run(data, "demo", "--scale", scale, "--until", UNTIL)
        print(f"demo --scale {scale}: {time.monotonic() - t:.1f} s")
        # A first start and clean stop, so that the tree, the checkpoints and
        # the projection checkpoint are kept as on any later restart.
        start_once(data)
        sides = {"snapshot": [], "full fold": []}
        for r in range(rounds):
            order = ["snapshot", "full fold"] if r % 2 == 0 else ["full fold", "snapshot"]
            for side in order:
                if side == "full fold":
                    os.remove(os.path.join(data, "state.snapshot"))  # the stop writes it again
                elapsed, rss, opened = start_once(data)
                sides[side].append((elapsed, rss))
                print(f"round {r + 1} {side:>9}: {elapsed:.3f} s to /healthz, peak RSS {rss:.0f} MB | {opened.split('opened the ledger')[-1].strip()}")
        print()
        print("| start | time to /healthz (median) | peak RSS (median) |")
        print("|---|---:|---:|")
        for side, xs in sides.items():
            print(f"| {side} | {statistics.median(x[0] for x in xs):.3f} s | {statistics.median(x[1] for x in xs):.0f} MB |")
        ratios = [f / s for (s, _), (f, _) in zip(sides["snapshot"], sides["full fold"])]
        print(f"full fold / snapshot time: median {statistics.median(ratios):.1f}x (min {min(ratios):.1f}, max {max(ratios):.1f})")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
