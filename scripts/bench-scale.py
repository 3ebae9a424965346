#!/usr/bin/env python3
"""Scale benchmark (issue 18): what a ledger of SCALE costs the user paths.

    cargo build --release -p govledger
    python3 scripts/bench-scale.py SCALE        # 25 is about a million events

In one run, on one machine:
  1. `demo --scale SCALE` writes a city, `export` it, strip it to submitted
     envelopes, and `import` them into a fresh data directory: wall time and
     peak RSS (GNU time);
  2. `verify` of the imported ledger: wall time;
  3. `assess` of one quarter, cold (no projection checkpoint) and warm: wall
     time and peak RSS;
  4. `serve`: its first start (the Merkle tree is built from the log) and a
     restart, each until `/healthz` answers, with the peak RSS then;
  5. HTTP ingest through that server, single events and batches of 100 at
     1/16/64 connections, side by side with a bare axum handler parsing the
     same JSON (`cargo bench -p govledger-api --bench ingest`, raw HTTP/1.1
     keep-alive client with TCP_NODELAY), then the server's peak RSS.

GOVLEDGER_BIN overrides the binary (default target/release/govledger),
GOVLEDGER_BENCH_DIR the parent of the working directory (default the
system's temporary directory; about 2 GB at scale 25), and
GOVLEDGER_BENCH_SECONDS, GOVLEDGER_BENCH_CONNECTIONS, GOVLEDGER_BENCH_BATCHES
pass to the ingest bench. Talks only to 127.0.0.1, and stops every server it
starts.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.path.abspath(os.environ.get("GOVLEDGER_BIN", "target/release/govledger"))
SEED = "2026"
UNTIL = "2026-11-01T00:00:00Z"
QUARTER = ("2026-07-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00")
TIMEOUT_S = 900


def timed(*args, stdout=subprocess.DEVNULL):
    """Runs the binary under GNU time: (wall seconds, peak RSS MB)."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.monotonic()
        subprocess.run(["/usr/bin/time", "-v", "-o", report.name, BIN, *args], check=True, stdout=stdout,
                       timeout=TIMEOUT_S)
        wall = time.monotonic() - started
        rss_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read())
    return wall, int(rss_kb.group(1)) / 1024 if rss_kb else float("nan")


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """`serve` on 127.0.0.1:0, started and timed until /healthz answers."""

    def __init__(self, data):
        self.log = tempfile.TemporaryFile()
        started = time.monotonic()
        self.process = subprocess.Popen([BIN, "--data-dir", data, "serve", "--listen", "127.0.0.1:0"],
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.base = None
        for line in self.process.stdout:
            if line.startswith("listening on "):
                self.base = line.split()[-1]
                break
        if self.base is None:
            self.stop()
            sys.exit(f"serve stopped before listening:\n{self.stderr()}")
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() - started > TIMEOUT_S or self.process.poll() is not None:
                self.stop()
                sys.exit(f"serve did not become healthy:\n{self.stderr()}")
            time.sleep(0.01)
        self.start_s = time.monotonic() - started
        self.start_rss_mb = vm_hwm_mb(self.process.pid)

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def stop(self):
        """SIGTERM, and the peak RSS of the whole run."""
        rss = vm_hwm_mb(self.process.pid) if self.process.poll() is None else float("nan")
        self.process.terminate()
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return rss


def banks_of(stored):
    """The ids of the banks an export registers, in order."""
    with open(stored) as lines:
        return [e["data"]["agency_id"] for e in map(json.loads, lines)
                if e["type"] == "AgencyRegistered" and e["data"].get("kind") == "bank"]


def bank_token(ledger, banks):
    """An agency token of the first bank whose registration stands: (bank, token)."""
    for bank in banks:
        issued = subprocess.run([BIN, "--data-dir", ledger, "token", "issue", "--agency", bank, "--role", "agency"],
                                capture_output=True, text=True)
        if issued.returncode == 0:
            return bank, issued.stdout.split()[-1]
    sys.exit("no bank of the demo ledger stands registered")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    scale = sys.argv[1]
    if not os.access(BIN, os.X_OK):
        sys.exit(f"{BIN} is missing: cargo build --release -p govledger")
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("/usr/bin/time (GNU time) is needed for peak memory: apt-get install time")
    work = tempfile.mkdtemp(prefix="govledger-bench-scale.", dir=os.environ.get("GOVLEDGER_BENCH_DIR"))
    rows = []
    try:
        demo, ledger = os.path.join(work, "demo"), os.path.join(work, "ledger")
        stored, submitted = os.path.join(work, "stored.ndjson"), os.path.join(work, "submitted.ndjson")
        print(f"== demo --scale {scale} into {demo}", file=sys.stderr)
        subprocess.run([BIN, "--data-dir", demo, "demo", "--scale", scale, "--seed", SEED, "--until", UNTIL],
                       check=True, stdout=subprocess.DEVNULL, timeout=TIMEOUT_S)
        subprocess.run([BIN, "--data-dir", demo, "export", "--out", stored], check=True, timeout=TIMEOUT_S)
        events = 0
        with open(stored) as src, open(submitted, "w") as dst:
            for line in src:
                e = json.loads(line)
                dst.write(json.dumps({k: e[k] for k in ("id", "type", "actor", "occurred_at", "data")}) + "\n")
                events += 1
        banks = banks_of(stored)
        shutil.rmtree(demo)
        os.remove(stored)

        print(f"== import of {events} events", file=sys.stderr)
        wall, rss = timed("--data-dir", ledger, "import", submitted)
        rows.append(("import", f"{wall:.1f} s ({events / wall:,.0f} events/s)", f"{rss:.0f} MB", "≤ 300 MB"))
        os.remove(submitted)
        wall, rss = timed("--data-dir", ledger, "verify")
        rows.append(("verify", f"{wall:.2f} s", f"{rss:.0f} MB", ""))
        ckpt = os.path.join(ledger, "projection.ckpt")
        if os.path.exists(ckpt):
            os.remove(ckpt)
        period = ["--from", QUARTER[0], "--to", QUARTER[1]]
        wall, rss = timed("--data-dir", ledger, "assess", *period)
        rows.append(("assess of a quarter, cold (no checkpoint)", f"{wall:.2f} s", f"{rss:.0f} MB", ""))
        wall, rss = timed("--data-dir", ledger, "assess", *period)
        rows.append(("assess of a quarter, warm (checkpoint)", f"{wall:.2f} s", f"{rss:.0f} MB", ""))

        bank, token = bank_token(ledger, banks)
        print("== serve: first start, then a restart", file=sys.stderr)
        first = Server(ledger)
        first.stop()
        rows.append(("serve, first start (tree built)", f"{first.start_s:.2f} s", f"{first.start_rss_mb:.0f} MB", ""))
        server = Server(ledger)
        rows.append(("serve, restart", f"{server.start_s:.2f} s", f"{server.start_rss_mb:.0f} MB", "≤ 1 s, ≤ 250 MB"))
        try:
            env = dict(os.environ, GOVLEDGER_BENCH_SERVER=server.base, GOVLEDGER_BENCH_TOKEN=token,
                       GOVLEDGER_BENCH_ACTOR=bank)
            print("== HTTP ingest (cargo bench -p govledger-api --bench ingest)", file=sys.stderr)
            ingest = subprocess.run(["cargo", "bench", "-q", "-p", "govledger-api", "--bench", "ingest"], env=env,
                                    check=True, capture_output=True, text=True, timeout=TIMEOUT_S).stdout
        finally:
            rss = server.stop()
        rows.append(("serve, after the ingest runs", "", f"{rss:.0f} MB", ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nScale {scale}: {events:,} events, seed {SEED}, until {UNTIL}.\n")
    print("| step | time | peak RSS | goal |\n|---|---:|---:|---|")
    for step, wall, rss, goal in rows:
        print(f"| {step} | {wall} | {rss} | {goal} |")
    print("\nHTTP ingest (`PublicityDelivered` of a bank; ratio = govledger / bare handler):\n")
    print(ingest.strip())


if __name__ == "__main__":
    main()
