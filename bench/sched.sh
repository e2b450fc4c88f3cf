#!/usr/bin/env bash
# The scheduler's benchmark (issue 16), in one run:
#
#   bench/sched.sh BUILD_DIR
#
# 1. Dispatch: BENCH_SCHED_TASKS (default 200,000) tasks of one job,
#    BENCH_SCHED_SITES (4) simulated sites of BENCH_SCHED_NODES (8) nodes of
#    BENCH_SCHED_SLOTS (16) slots asking for work as fast as they can
#    (bench/sched_dispatch.cpp, the real policy, every request one durable
#    SQLite transaction: WAL, synchronous=FULL), first in-process, then
#    through a real `hearth serve --no-auth` on loopback (every request an
#    HTTP round trip with its JSON; libcurl, keep-alive, one connection a
#    site). Peer: the sqlite3 shell inserting the same rows in the same
#    transactions into the same kind of database (the SQL each run wrote).
#    Prints assignments/s for both and the ratio hearth/sqlite3 (higher is
#    better for Hearth), against the issue's target of 20,000 assignments/s.
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
hearth=$1/bin/hearth
[[ -x $bin ]] || { echo "$prog: $bin not found: build it first (make $bin)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "$prog: the sqlite3 shell is the peer: apt-get install sqlite3" >&2; exit 1; }
TASKS=${BENCH_SCHED_TASKS:-200000}
SITES=${BENCH_SCHED_SITES:-4}
NODES=${BENCH_SCHED_NODES:-8}
SLOTS=${BENCH_SCHED_SLOTS:-16}
JOBS=${BENCH_SCHED_JOBS:-1000}
PER_JOB=${BENCH_SCHED_PER_JOB:-1000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench-sched.XXXXXX")
serve_pid=
cleanup() {
    [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
val() { sed -n "s/^$1 //p" "$2"; }

# ratio OUT_FILE PEER_SQL PEER_DB LABEL: times the sqlite3 shell on the run's
# rows and prints both rates and their ratio.
ratio() {
    local t0 t1 granted rate txns rows
    t0=$(date +%s.%N)
    sqlite3 "$3" <"$2" >/dev/null
    t1=$(date +%s.%N)
    granted=$(val granted "$1")
    rate=$(val assignments_per_s "$1")
    txns=$(grep -c '^COMMIT;' "$2")
    rows=$(sqlite3 "$3" 'SELECT count(*) FROM attempts')
    [[ $rows == "$granted" ]] || { echo "$prog: the peer inserted $rows rows, not $granted" >&2; exit 1; }
    awk -v h="$rate" -v n="$granted" -v t0="$t0" -v t1="$t1" -v x="$txns" -v l="$4" 'BEGIN {
        p = n / (t1 - t0)
        printf "%-22s %10.0f assignments/s (target 20000: %s)\n", l, h, (h >= 20000 ? "met" : "MISSED")
        printf "%-22s %10.0f rows/s, the same %d rows in the same %d transactions\n", "sqlite3 shell", p, n, x
        printf "%-22s %10.2f x\n", "ratio to sqlite3", h / p
    }'
}

echo "== dispatch in-process: $TASKS tasks, $SITES sites x $NODES nodes x $SLOTS slots"
"$bin" dispatch "$tmp/state" "$TASKS" "$SITES" "$NODES" "$SLOTS" "$tmp/peer.sql" >"$tmp/dispatch.out"
cat "$tmp/dispatch.out"
ratio "$tmp/dispatch.out" "$tmp/peer.sql" "$tmp/peer.db" "hearth (in-process)"

if [[ -x $hearth ]] && command -v curl >/dev/null; then
    echo "== dispatch over HTTP: the same through hearth serve on loopback"
    for ((s = 0; s < SITES; s++)); do
        printf '[[site]]\nname = "site%d"\nkind = "tank"\ntarget = 60\n' "$s"
        for ((n = 0; n < NODES; n++)); do
            printf '[[node]]\nname = "site%d-n%d"\nsite = "site%d"\nslots = %d\n' "$s" "$n" "$s" "$SLOTS"
        done
    done >"$tmp/grid.toml"
    port=$((20000 + RANDOM % 20000))
    "$hearth" serve --grid "$tmp/grid.toml" --state "$tmp/serve" --listen "127.0.0.1:$port" --no-auth \
        >"$tmp/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break
        kill -0 "$serve_pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
        sleep 0.1
    done
    cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$serve_pid/stat"; }
    cpu0=$(cpu_ticks)
    if ! "$bin" http "http://127.0.0.1:$port" "$TASKS" "$SITES" "$NODES" "$SLOTS" "$tmp/peer-http.sql" \
        >"$tmp/http.out"; then
        cat "$tmp/serve.log" >&2
        exit 1
    fi
    cpu1=$(cpu_ticks)
    cat "$tmp/http.out"
    ratio "$tmp/http.out" "$tmp/peer-http.sql" "$tmp/peer-http.db" "hearth serve (HTTP)"
    # The simulated sites share this machine's cores with the scheduler; a
    # real site runs on its own. The scheduler's own CPU time an assignment
    # tells what one core of its own would sustain.
    awk -v c="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" -v n="$(val granted "$tmp/http.out")" 'BEGIN {
        us = c / hz * 1e6 / n
        printf "%-22s %10.1f us of scheduler CPU an assignment (%.0f assignments/s on one core of its own)\n", "hearth serve CPU", us, 1e6 / us
    }'
    kill "$serve_pid"
    wait "$serve_pid" 2>/dev/null || true
    serve_pid=
else
    echo "== dispatch over HTTP: skipped (needs $hearth, make $hearth, and curl)"
fi

echo "== scale: $JOBS jobs x $PER_JOB tasks"
"$bin" scale "$tmp/state2" "$JOBS" "$PER_JOB" >"$tmp/scale.out"
cat "$tmp/scale.out"
awk -v p="$(val submit_p99_ms "$tmp/scale.out")" -v r="$(val peak_rss_kb "$tmp/scale.out")" 'BEGIN {
    printf "submit p99 %.2f ms (target 50: %s); peak RSS %.1f MB (target 256: %s)\n",
        p, (p < 50 ? "met" : "MISSED"), r / 1024, (r < 256 * 1024 ? "met" : "MISSED")
}'
