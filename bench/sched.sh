#!/usr/bin/env bash
# The scheduler's benchmark (issue 16), in one run:
#
#   bench/sched.sh BUILD_DIR
#
# 1. Dispatch: BENCH_SCHED_TASKS (default 200,000) tasks of one job,
#    BENCH_SCHED_SITES (4) simulated sites of BENCH_SCHED_NODES (8) nodes of
#    BENCH_SCHED_SLOTS (16) slots asking for work as fast as they
#    can (bench/sched_dispatch.cpp, in-process, the real policy, every request
#    one durable SQLite transaction: WAL, synchronous=FULL). Peer: the sqlite3
#    shell inserting the same rows in the same transactions into the same
#    kind of database (the SQL the benchmark wrote). Prints assignments/s for
#    both and the ratio hearth/sqlite3 (higher is better for Hearth), against
#    the issue's target of 20,000 assignments/s.
# 2. Scale: BENCH_SCHED_JOBS (default 1,000) jobs of BENCH_SCHED_PER_JOB
#    (default 1,000,000) tasks each (10^9 in all) submitted one by one:
#    submit latency p50/p99 and peak RSS, against 50 ms and 256 MB.
#
# Exits 1 when a run fails; a missed target is reported, not an error.
# Takes about a minute on a 2-core machine.
set -euo pipefail
prog=bench/sched.sh
if (($# != 1)) || [[ $1 == -* ]]; then
    echo "usage: $prog BUILD_DIR" >&2
    exit 2
fi
bin=$1/bench/sched_dispatch
[[ -x $bin ]] || { echo "$prog: $bin not found: build it first (make $bin)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "$prog: the sqlite3 shell is the peer: apt-get install sqlite3" >&2; exit 1; }
TASKS=${BENCH_SCHED_TASKS:-200000}
SITES=${BENCH_SCHED_SITES:-4}
NODES=${BENCH_SCHED_NODES:-8}
SLOTS=${BENCH_SCHED_SLOTS:-16}
JOBS=${BENCH_SCHED_JOBS:-1000}
PER_JOB=${BENCH_SCHED_PER_JOB:-1000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench-sched.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
val() { sed -n "s/^$1 //p" "$2"; }

echo "== dispatch: $TASKS tasks, $SITES sites x $NODES nodes x $SLOTS slots"
"$bin" dispatch "$tmp/state" "$TASKS" "$SITES" "$NODES" "$SLOTS" "$tmp/peer.sql" >"$tmp/dispatch.out"
cat "$tmp/dispatch.out"
t0=$(date +%s.%N)
sqlite3 "$tmp/peer.db" <"$tmp/peer.sql" >/dev/null
t1=$(date +%s.%N)
granted=$(val granted "$tmp/dispatch.out")
hearth_rate=$(val assignments_per_s "$tmp/dispatch.out")
txns=$(grep -c '^COMMIT;' "$tmp/peer.sql")
peer_rows=$(sqlite3 "$tmp/peer.db" 'SELECT count(*) FROM attempts')
[[ $peer_rows == "$granted" ]] || { echo "$prog: the peer inserted $peer_rows rows, not $granted" >&2; exit 1; }
python3 - "$hearth_rate" "$granted" "$t0" "$t1" "$txns" <<'EOF'
import sys
hearth, rows, t0, t1, txns = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
peer = rows / (t1 - t0)
print(f"hearth:  {hearth:10.0f} assignments/s (target 20000: {'met' if hearth >= 20000 else 'MISSED'})")
print(f"sqlite3: {peer:10.0f} rows/s, the same {rows} rows in the same {txns} transactions")
print(f"ratio hearth/sqlite3: {hearth / peer:.2f}")
EOF

echo "== scale: $JOBS jobs x $PER_JOB tasks"
"$bin" scale "$tmp/state2" "$JOBS" "$PER_JOB" >"$tmp/scale.out"
cat "$tmp/scale.out"
p99=$(val submit_p99_ms "$tmp/scale.out")
rss=$(val peak_rss_kb "$tmp/scale.out")
python3 - "$p99" "$rss" <<'EOF'
import sys
p99, rss = float(sys.argv[1]), int(sys.argv[2])
print(f"submit p99 {p99:.2f} ms (target 50: {'met' if p99 < 50 else 'MISSED'}); "
      f"peak RSS {rss / 1024:.1f} MB (target 256: {'met' if rss < 256 * 1024 else 'MISSED'})")
EOF
