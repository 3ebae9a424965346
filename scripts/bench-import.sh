#!/usr/bin/env bash
# bench-import.sh — the import benchmark of BENCHMARKS.md: `govledger import`
# of 1,000,000 demo events into a fresh data directory, with its wall time,
# rate and peak memory (maximum resident set size, from GNU time).
# Goal: peak memory under 300 MB.
#
# Steps:
#   1. `govledger demo --scale $SCALE` writes the demo city into a data dir
#      (scale 25 ≈ 1,000,000 events);
#   2. `govledger export` writes it as NDJSON of *stored* envelopes;
#   3. the stored-only fields (seq, recorded_at, prev_hash, hash) are
#      stripped, leaving submitted envelopes (id, type, actor, occurred_at,
#      data) — `import` rejects stored envelopes (unknown envelope fields);
#   4. `/usr/bin/time -v govledger import FILE` into a fresh data dir;
#   5. `govledger verify` on the result, and the event count compared.
#
# Usage: scripts/bench-import.sh            (from anywhere in the checkout)
#   SCALE=25      demo volume multiplier
#   SEED=2026     demo seed
#   UNTIL=2026-01-01T00:00:00Z   end of the demo year (fixed: same events every run)
#   BENCH_DIR=…   where to put the data dirs and files (default: a new temp dir,
#                 removed at the end unless KEEP=1). Needs about 2 GB at scale 25.
#   INPUT=FILE    skip steps 1–3 and import this NDJSON of submitted envelopes.
#   BIN=…         the govledger binary (default: build target/release/govledger).
set -euo pipefail

SCALE=${SCALE:-25}
SEED=${SEED:-2026}
UNTIL=${UNTIL:-2026-01-01T00:00:00Z}
GOAL_RSS_MB=300

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ ! -x /usr/bin/time ]]; then
    echo "error: /usr/bin/time (GNU time) is needed for the peak memory: apt-get install time" >&2
    exit 2
fi

if [[ -z ${BIN:-} ]]; then
    echo "== building govledger (release)" >&2
    (cd "$root" && cargo build --release -p govledger >&2)
    BIN="$root/target/release/govledger"
    if [[ -n ${CARGO_TARGET_DIR:-} ]]; then BIN="$CARGO_TARGET_DIR/release/govledger"; fi
fi

if [[ -n ${BENCH_DIR:-} ]]; then
    work=$BENCH_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/govledger-bench-import.XXXXXX")
    if [[ ${KEEP:-0} != 1 ]]; then trap 'rm -rf "$work"' EXIT; fi
fi
echo "== working in $work" >&2

# Seconds since the epoch with fractions, for the preparation steps.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if [[ -z ${INPUT:-} ]]; then
    rm -rf "$work/demo"
    echo "== demo --scale $SCALE --seed $SEED --until $UNTIL" >&2
    t0=$(now)
    "$BIN" --data-dir "$work/demo" demo --scale "$SCALE" --seed "$SEED" --until "$UNTIL" >&2
    t1=$(now)
    echo "   demo written in $(elapsed "$t0" "$t1") s" >&2

    echo "== export and strip to submitted envelopes" >&2
    "$BIN" --data-dir "$work/demo" export --out "$work/stored.ndjson"
    # Key order does not matter to import; only these five fields are allowed.
    if command -v jq >/dev/null; then
        jq -c '{id, type, actor, occurred_at, data}' "$work/stored.ndjson" >"$work/submitted.ndjson"
    else
        python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        e = json.loads(line)
        print(json.dumps({k: e[k] for k in ("id", "type", "actor", "occurred_at", "data")}, ensure_ascii=False, separators=(",", ":")))
' <"$work/stored.ndjson" >"$work/submitted.ndjson"
    fi
    rm -f "$work/stored.ndjson"
    INPUT="$work/submitted.ndjson"
    rm -rf "$work/demo"
fi

events=$(grep -c . "$INPUT")
size_mb=$(du -m "$INPUT" | cut -f1)
echo "== import of $events events ($size_mb MB NDJSON) into a fresh data dir" >&2
rm -rf "$work/imported"
timelog="$work/time.log"
status=0
/usr/bin/time -v -o "$timelog" "$BIN" --data-dir "$work/imported" import "$INPUT" >&2 || status=$?
if [[ $status -ne 0 ]]; then
    echo "error: import failed with exit status $status" >&2
    cat "$timelog" >&2
    exit 1
fi

wall=$(awk -F': ' '/Elapsed \(wall clock\) time/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$timelog")
rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$timelog")
user_s=$(awk -F': ' '/User time \(seconds\)/ { print $2 }' "$timelog")
sys_s=$(awk -F': ' '/System time \(seconds\)/ { print $2 }' "$timelog")
db_mb=$(du -m "$work/imported" | tail -1 | cut -f1)

echo "== verify the imported ledger" >&2
verified=$("$BIN" --data-dir "$work/imported" verify --json)
verified_events=$(printf '%s' "$verified" | sed -n 's/^  "events": \([0-9]*\),*$/\1/p')
if [[ "$verified_events" != "$events" ]]; then
    echo "error: the imported ledger verifies $verified_events events, expected $events" >&2
    printf '%s\n' "$verified" >&2
    exit 1
fi

rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
rate=$(awk -v n="$events" -v s="$wall" 'BEGIN { printf "%.0f", n / s }')
met=$(awk -v m="$rss_mb" -v g="$GOAL_RSS_MB" 'BEGIN { print (m < g) ? "yes" : "no" }')
echo
echo "import benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs"
echo "| events | NDJSON MB | wall s | events/s | user s | sys s | peak RSS MB | goal | met | store MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|"
echo "| $events | $size_mb | $wall | $rate | $user_s | $sys_s | $rss_mb | < $GOAL_RSS_MB | $met | $db_mb |"
echo "verified: $verified_events events, chain ok"
