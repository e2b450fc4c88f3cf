#!/usr/bin/env bash
# grid-agent's benchmark (`make bench-agent`).
#
#   bench/agent.sh BUILD_DIR
#
# Everything runs against a fake RAPL tree in a temporary --fsroot: one
# package-0 zone with a 50 J wrap range whose energy_uj a separate feeder
# process (bench/agent_load.py feed) advances in place (the agent keeps it
# open) by 1 J every 50 ms (20 W, so the counter wraps every 2.5 s), and
# /proc symlinked to the real /proc. 16 long-lived `sleep` processes are
# registered as tasks over the agent's Unix socket (bench/agent_load.py hold
# keeps that connection open).
#
# 1. Agent cost at 10 Hz over 60 s: the agent's CPU (utime+stime from
#    /proc/PID/stat, as % of one core), its peak RSS (VmHWM) and its start-up
#    time (spawn until GET /v1/health answers), against the targets < 1% of a
#    core, < 20 MB and < 1 s. The feeder and the client are separate
#    processes: they are not charged to the agent. The peer is a shell loop
#    doing the agent's reads once per interval (cat of energy_uj, /proc/stat
#    and each task's stat and children files, then sleep 0.1), charged with
#    its children (utime+stime+cutime+cstime of the loop's bash). The ledger's
#    sum(energy_uj) must equal what the feeder added while the agent ran.
# 2. Durable ledger commits: the sqlite3 shell running 500 transactions of the
#    agent's shape (1 interval, 17 charges, 2 state upserts; WAL,
#    synchronous=FULL, the agent's schema) back to back, against the agent at
#    --rate 100 for 10 s (bound by its sampling rate) and the agent answering
#    250 register/unregister round trips (each closes and commits an interval
#    before the answer: its unthrottled commit rate, socket round trip
#    included).
#
# BENCH_AGENT_FLAGS adds grid-agent flags (e.g. "--commit 0").
# BENCH_AGENT_METER=1 adds a node meter beside RAPL (an ACPI power_meter
# under hwmon reading a steady 60 W): the agent then reads both and splits
# the meter's energy into RAPL's part and the platform overhead; the peer
# reads the meter's file too, and the ledger check is that every interval's
# charges add up to it (the meter's watts are integrated, not fed).
# Exits 1 if a run fails or the ledger does not add up; a missed target is
# reported, not an error. Usage errors exit 2. Takes 2-2.5 minutes;
# BENCH_AGENT_SECONDS (default 60) shortens part 1 (and part 2's sampling
# window to at most that).
set -euo pipefail

prog=bench/agent.sh
RUN_S=${BENCH_AGENT_SECONDS:-60}
# Extra grid-agent flags, e.g. "--commit 0" for one transaction per interval
# (the agent before grouped commits), to compare both against the same peer.
AGENT_FLAGS=${BENCH_AGENT_FLAGS:-}
METER=${BENCH_AGENT_METER:-0}
TASKS=16
RANGE_UJ=50000000       # the zone's wrap range: 50 J
STEP_UJ=1000000         # the feeder's step at 10 Hz: 1 J every 50 ms = 20 W
STEP_FAST_UJ=100000     # at 100 Hz: 0.1 J every 50 ms = 2 W
FEED_PERIOD_S=0.05
SQL_TX=500
CHURN_PAIRS=250
CPU_TARGET_PCT=1
RSS_TARGET_KB=$((20 * 1024))
START_TARGET_S=1

if (($# != 1)) || [[ $1 == -* ]]; then
    echo "usage: $prog BUILD_DIR" >&2
    exit 2
fi
if [[ ! $RUN_S =~ ^[1-9][0-9]*$ ]]; then
    echo "$prog: BENCH_AGENT_SECONDS must be a whole number of seconds > 0, not '$RUN_S'" >&2
    exit 2
fi
FAST_S=$((RUN_S < 10 ? RUN_S : 10))
build=$1
agent=$build/bin/grid-agent
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
load=$here/agent_load.py
[[ -x $agent ]] || { echo "$prog: $agent not found: build it first (make)" >&2; exit 1; }
[[ -f $load ]] || { echo "$prog: $load is missing" >&2; exit 1; }
for tool in python3 sqlite3 curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$prog: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
agent=$(cd "$(dirname "$agent")" && pwd)/grid-agent
tck=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-agent-bench.XXXXXX")
root=$work/root
zone=$root/sys/class/powercap/intel-rapl:0
meter=$root/sys/class/hwmon/hwmon0

# Every process this script starts, so that the trap can end them by pid.
tracked=()
track() { tracked+=("$1"); }
untrack() {
    local keep=() p
    for p in "${tracked[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    tracked=("${keep[@]}")
}
cleanup() {
    local p
    for p in "${tracked[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${tracked[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failures=0
fail() {
    echo "$prog: FAILED: $*" >&2
    failures=$((failures + 1))
}
# die MESSAGE [LOG]: a run that cannot go on; shows the log's tail first.
die() {
    echo "$prog: FAILED: $1" >&2
    if [[ -n ${2:-} && -f $2 ]]; then
        echo "--- last lines of $2:" >&2
        tail -n 20 "$2" >&2
    fi
    exit 1
}

now() { date +%s.%N; }
now_ms() { date +%s%3N; }
# calc FORMAT EXPR: awk arithmetic (EXPR in parentheses: a bare '>' would be
# a redirection in awk's printf).
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }

# ticks PID [children]: CPU clock ticks of PID: utime+stime, plus cutime+cstime
# (its waited-for children) with `children`. Fields are counted after the last
# ')', as the command name may hold spaces.
ticks() {
    local stat rest f
    stat=$(<"/proc/$1/stat") || return 1
    rest=${stat##*) }
    read -r -a f <<<"$rest"
    # After ')': f[0] is field 3 (state), so field N is f[N-3].
    if [[ ${2:-} == children ]]; then
        echo $((f[11] + f[12] + f[13] + f[14]))
    else
        echo $((f[11] + f[12]))
    fi
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# run_ns PID: nanoseconds PID's threads have run (the first field of each
# thread's schedstat): the same CPU as ticks, without its 10 ms steps, which
# are a tenth of the agent's CPU over 30 s. Threads are counted while they
# live; the agent's threads all live from start to stop.
run_ns() {
    local t ns=0 f
    for t in /proc/"$1"/task/*/schedstat; do
        read -r f _ <"$t" 2>/dev/null || continue
        ns=$((ns + f))
    done
    echo "$ns"
}

# pause SECONDS: sleep in the background and wait for it, so that a signal
# runs the trap at once (bash defers traps until a foreground child exits).
pause() {
    local p
    sleep "$1" &
    p=$!
    track "$p"
    wait "$p" || true
    untrack "$p"
}

# stop_pid PID: SIGTERM, wait; sets stopped_rc.
stop_pid() {
    stopped_rc=0
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" || stopped_rc=$?
    untrack "$1"
}

# wait_for_line FILE REGEX PID WHAT: until FILE has a line matching REGEX
# (10 s at most, and as long as PID lives).
wait_for_line() {
    local i
    for ((i = 0; i < 1000; i++)); do
        grep -Eq "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || die "$4 exited early" "$1"
        sleep 0.01
    done
    die "$4 did not get ready within 10 s" "$1"
}

# start_agent DIR RATE: sets agent_pid, agent_url and startup_s (spawn until
# /v1/health answers, polled every 10 ms).
start_agent() {
    local dir=$1 rate=$2 t0 t1 port='' i
    mkdir -p "$dir"
    : >"$dir/agent.log"
    t0=$(now)
    # shellcheck disable=SC2086 # the extra flags are words
    "$agent" --node bench --site bench --fsroot "$root" --rate "$rate" --listen 127.0.0.1:0 --no-auth \
        --socket "$dir/agent.sock" --ledger "$dir/ledger.db" $AGENT_FLAGS >"$dir/agent.log" 2>&1 &
    agent_pid=$!
    track "$agent_pid"
    for ((i = 0; i < 1000; i++)); do
        [[ -n $port ]] || port=$(sed -n 's/.*http 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$dir/agent.log" | tail -n 1)
        if [[ -n $port ]] && curl -sf --max-time 1 "http://127.0.0.1:$port/v1/health" >"$dir/health.json" 2>/dev/null; then
            t1=$(now)
            grep -q '"ok":true' "$dir/health.json" || die "/v1/health answered $(cat "$dir/health.json")" "$dir/agent.log"
            agent_url=http://127.0.0.1:$port
            startup_s=$(calc '%.3f' "$t1 - $t0")
            return 0
        fi
        kill -0 "$agent_pid" 2>/dev/null || die "grid-agent exited during start-up" "$dir/agent.log"
        sleep 0.01
    done
    die "grid-agent did not answer /v1/health within 10 s" "$dir/agent.log"
}

# stop_agent DIR: SIGTERM; the agent must exit 0 after committing its last interval.
stop_agent() {
    stop_pid "$agent_pid"
    ((stopped_rc == 0)) || fail "grid-agent exited $stopped_rc on SIGTERM; log: $1/agent.log"
}

# hold DIR: starts and registers the tasks and keeps the connection open
# (sets hold_pid and task_pids; the agent takes only tasks that descend from
# the client registering them).
hold() {
    python3 "$load" hold "$1/agent.sock" "$TASKS" >"$1/hold.out" 2>&1 &
    hold_pid=$!
    track "$hold_pid"
    wait_for_line "$1/hold.out" "^registered $TASKS\$" "$hold_pid" "the registering client"
    local words p
    read -r -a words < <(grep '^pids ' "$1/hold.out")
    task_pids=("${words[@]:1}")
    for p in "${task_pids[@]}"; do track "$p"; done
}

# feed OUT STEP: starts the feeder (sets feed_pid); feed_stop OUT stops it and
# sets fed_uj to what it added.
feed() {
    python3 "$load" feed "$zone" "$2" "$FEED_PERIOD_S" >"$1" 2>&1 &
    feed_pid=$!
    track "$feed_pid"
}
feed_stop() {
    stop_pid "$feed_pid"
    ((stopped_rc == 0)) || die "the feeder exited $stopped_rc" "$1"
    fed_uj=$(tail -n 1 "$1")
    [[ $fed_uj =~ ^[0-9]+$ ]] || die "the feeder did not report what it added" "$1"
}

sql() { sqlite3 "$1" "$2"; }

# report_agent_log DIR: counts the log's warnings and errors and shows them,
# and any other line beyond the usual start and stop lines, as notes.
report_agent_log() {
    local bad other
    bad=$(grep -iE 'warn|error|fail' "$1/agent.log" || true)
    other=$(grep -viE 'warn|error|fail' "$1/agent.log" | grep -v -e '^grid-agent: energy source: ' \
        -e '^grid-agent: node ' -e '^grid-agent: stopped after committing the last interval$' || true)
    if [[ -n $bad ]]; then
        echo "agent log: $(wc -l <<<"$bad") warning/error line(s):"
        head -n 10 <<<"$bad" | sed 's/^/    /'
    else
        echo "agent log: no warnings or errors"
    fi
    if [[ -n $other ]]; then
        echo "agent log notes:"
        head -n 10 <<<"$other" | sed 's/^/    /'
    fi
}

# check_ledger DIR ADDED: the ledger's intervals add up to ADDED, and each
# interval's charges to the interval.
check_ledger() {
    local db=$1/ledger.db sum bad
    sum=$(sql "$db" 'SELECT coalesce(sum(energy_uj), 0) FROM intervals')
    bad=$(sql "$db" 'SELECT count(*) FROM intervals i WHERE energy_uj != (SELECT coalesce(sum(static_uj + dynamic_uj), 0) FROM charges c WHERE c.interval_id = i.id)')
    if [[ $METER == 1 ]]; then
        local src
        src=$(sql "$db" 'SELECT group_concat(DISTINCT source) FROM intervals')
        if [[ $bad == 0 && $src == hwmon+powercap ]]; then
            printf '%-34s %s uJ from %s, every interval'"'"'s charges equal to it (%s)\n' \
                "ledger sum(intervals.energy_uj)" "$sum" "$src" "$3"
        else
            printf '%-34s %s uJ from %s, %s interval(s) whose charges differ: MISMATCH (%s)\n' \
                "ledger sum(intervals.energy_uj)" "$sum" "$src" "$bad" "$3"
            fail "ledger of $3 does not add up"
        fi
        return
    fi
    if [[ $sum == "$2" && $bad == 0 ]]; then
        printf '%-34s %s uJ = %s uJ fed: equal (%s)\n' "ledger sum(intervals.energy_uj)" "$sum" "$2" "$3"
    else
        printf '%-34s %s uJ, feeder added %s uJ, %s interval(s) whose charges differ: MISMATCH (%s)\n' \
            "ledger sum(intervals.energy_uj)" "$sum" "$2" "$bad" "$3"
        fail "ledger of $3 does not add up"
    fi
}

met() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t ? "met" : "MISSED") }'; }

# --- the fake RAPL tree, the tasks ------------------------------------------
mkdir -p "$zone"
echo package-0 >"$zone/name"
echo "$RANGE_UJ" >"$zone/max_energy_range_uj"
echo 200000000 >"$zone/constraint_0_max_power_uw"
echo $((RANGE_UJ - 1000000)) >"$zone/energy_uj" # 1 J before the wrap
if [[ $METER == 1 ]]; then
    mkdir -p "$meter"
    echo power_meter >"$meter/name"
    echo 60000000 >"$meter/power1_average" # 60 W
    echo 1000 >"$meter/power1_average_interval"
fi
ln -s /proc "$root/proc"

task_pids=() # set by hold: the tasks descend from the registering client

echo "Hearth grid-agent benchmark: $TASKS registered tasks (sleep), fake RAPL zone (50 J wrap, fed 20 W)"
[[ $METER == 1 ]] && echo "node meter: ACPI power_meter (hwmon0, 60 W power1_average) split by RAPL (BENCH_AGENT_METER=1)"
echo "grid-agent flags: --rate N${AGENT_FLAGS:+ $AGENT_FLAGS} (ledger commits grouped: --commit, default 1 s)"
echo "machine: $(nproc) cores, $(uname -sr), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "ledgers on: $(df -PT "$work" | awk 'NR == 2 { print $2 " (" $7 ")" }'), sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
echo

# --- 1. the agent at 10 Hz --------------------------------------------------
a10=$work/a10
start_agent "$a10" 10
start10_s=$startup_s
hold "$a10"
feed "$work/feed10.out" "$STEP_UJ"
w0=$(now_ms)
c0=$(ticks "$agent_pid")
n0=$(run_ns "$agent_pid")
t0=$(now)
pause "$RUN_S"
c1=$(ticks "$agent_pid")
n1=$(run_ns "$agent_pid")
t1=$(now)
w1=$(now_ms)
rss_kb=$(hwm_kb "$agent_pid")
node_tasks=$(curl -sf "$agent_url/v1/node" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["tasks"]))')
feed_stop "$work/feed10.out"
added10=$fed_uj
sleep 0.2 # two intervals: the last step is in the ledger before SIGTERM
stop_agent "$a10"
stop_pid "$hold_pid"
agent_ticks=$((c1 - c0))
agent_pct=$(calc '%.3f' "$agent_ticks / $tck / ($t1 - $t0) * 100")
agent_run_pct=$(calc '%.4f' "($n1 - $n0) / 1e9 / ($t1 - $t0) * 100")
n10=$(sql "$a10/ledger.db" "SELECT count(*) FROM intervals WHERE t0_ms >= $w0 AND t1_ms <= $w1")

# The peer: the same reads from a shell loop, once per 0.1 s.
files=("$zone/energy_uj" /proc/stat)
[[ $METER == 1 ]] && files+=("$meter/power1_average")
for p in "${task_pids[@]}"; do files+=("/proc/$p/stat" "/proc/$p/task/$p/children"); done
# shellcheck disable=SC2016 # expanded by the loop's bash, not here
bash -c 'while :; do cat "$@" >/dev/null; sleep 0.1; done' shell-peer "${files[@]}" &
peer_pid=$!
track "$peer_pid"
c0=$(ticks "$peer_pid" children)
t0=$(now)
pause "$RUN_S"
c1=$(ticks "$peer_pid" children)
t1=$(now)
stop_pid "$peer_pid"
shell_pct=$(calc '%.3f' "($c1 - $c0) / $tck / ($t1 - $t0) * 100")

echo "1. Agent cost at 10 Hz over $RUN_S s, $node_tasks tasks registered"
printf '%-34s %8s %% of a core  (%s intervals committed: %s Hz, %s ms of CPU per interval)\n' \
    "grid-agent --rate 10" "$agent_pct" "$n10" "$(calc '%.1f' "$n10 * 1000 / ($w1 - $w0)")" \
    "$(calc '%.3f' "$n10 > 0 ? $agent_ticks / $tck * 1000 / $n10 : 0")"
printf '%-34s %8s %% of a core  (run time of its threads from schedstat, in ns: %s ms of CPU per interval)\n' \
    "grid-agent --rate 10, precise" "$agent_run_pct" \
    "$(calc '%.3f' "$n10 > 0 ? ($n1 - $n0) / 1e6 / $n10 : 0")"
printf '%-34s %8s %% of a core  (bash + its cat and sleep children)\n' "shell loop: cat the same files" "$shell_pct"
printf '%-34s %8s x  (precise: %s x)\n' "agent/shell" "$(calc '%.2f' "$shell_pct > 0 ? $agent_pct / $shell_pct : 0")" \
    "$(calc '%.3f' "$shell_pct > 0 ? $agent_run_pct / $shell_pct : 0")"
printf '%-34s %8s %% of a core  (target < %s%%): %s\n' "agent CPU" "$agent_pct" "$CPU_TARGET_PCT" \
    "$(met "$agent_pct" "$CPU_TARGET_PCT")"
printf '%-34s %8s kB (%s MB)  (target < %s MB): %s\n' "agent peak RSS (VmHWM)" "$rss_kb" \
    "$(calc '%.1f' "$rss_kb / 1024")" $((RSS_TARGET_KB / 1024)) "$(met "$rss_kb" "$RSS_TARGET_KB")"
printf '%-34s %8s s  (target < %s s): %s\n' "agent start-up (spawn to /v1/health)" "$start10_s" \
    "$START_TARGET_S" "$(met "$start10_s" "$START_TARGET_S")"
check_ledger "$a10" "$added10" "10 Hz run"
report_agent_log "$a10"
echo

# --- 2. durable ledger commits ----------------------------------------------
# The agent at 100 Hz: its sampling-bound rate, then register/unregister churn.
a100=$work/a100
start_agent "$a100" 100
hold "$a100"
feed "$work/feed100.out" "$STEP_FAST_UJ"
w0=$(now_ms)
c0=$(ticks "$agent_pid")
t0=$(now)
pause "$FAST_S"
c1=$(ticks "$agent_pid")
t1=$(now)
w1=$(now_ms)
feed_stop "$work/feed100.out"
added100=$fed_uj
sleep 0.05
cw0=$(now_ms)
python3 "$load" churn "$a100/agent.sock" "$CHURN_PAIRS" >"$work/churn.out" 2>&1 ||
    die "the churn client failed" "$work/churn.out"
cw1=$(now_ms)
read -r _ churn_ops _ _ _ churn_mean _ _ _ churn_p99 <"$work/churn.out"
sleep 0.05
stop_agent "$a100"
stop_pid "$hold_pid"
db=$a100/ledger.db
# Rows whose interval lies in a window: intervals plus their charges.
rows_in() { sql "$db" "SELECT count(*) + (SELECT count(*) FROM charges c JOIN intervals i ON c.interval_id = i.id WHERE i.t0_ms >= $1 AND i.t1_ms <= $2) FROM intervals WHERE t0_ms >= $1 AND t1_ms <= $2"; }
tx_in() { sql "$db" "SELECT count(*) FROM intervals WHERE t0_ms >= $1 AND t1_ms <= $2"; }
s_tx=$(tx_in "$w0" "$w1")
s_rows=$(rows_in "$w0" "$w1")
s_dur=$(calc '%.6f' "($w1 - $w0) / 1000")
s_cpu_ms=$(calc '%.3f' "$s_tx > 0 ? ($c1 - $c0) / $tck * 1000 / $s_tx : 0")
s_pct=$(calc '%.2f' "($c1 - $c0) / $tck / ($t1 - $t0) * 100")
ch_tx=$(tx_in "$cw0" "$cw1")
ch_rows=$(rows_in "$cw0" "$cw1")
ch_dur=$(calc '%.6f' "($cw1 - $cw0) / 1000")

# The sqlite3 shell: the same transactions, back to back, on a fresh database
# with the agent's schema.
peer_db=$work/sqlite-peer.db
{
    sqlite3 "$a10/ledger.db" .schema
    echo 'PRAGMA journal_mode=WAL;'
} | sqlite3 "$peer_db" >/dev/null
awk -v n="$SQL_TX" -v tasks="$TASKS" 'BEGIN {
    print "PRAGMA journal_mode=WAL;"
    print "PRAGMA synchronous=FULL;"
    print "PRAGMA foreign_keys=ON;"
    t = 1790000000000
    for (i = 1; i <= n; i++) {
        print "BEGIN IMMEDIATE;"
        printf "INSERT INTO intervals(id, node, site, source, estimated, kind, t0_ms, t1_ms, energy_uj) VALUES (%d, \x27bench\x27, \x27bench\x27, \x27powercap\x27, 0, \x27sample\x27, %d, %d, 2000000);\n", i, t, t + 100
        for (k = 0; k < tasks; k++)
            printf "INSERT INTO charges(interval_id, tenant, job, task, attempt, static_uj, dynamic_uj) VALUES (%d, \x27bench\x27, \x27agent-bench\x27, %d, 0, %d, %d);\n", i, k, 50000 + k, 62500 - k
        printf "INSERT INTO charges(interval_id, tenant, job, task, attempt, static_uj, dynamic_uj) VALUES (%d, \x27\x27, \x27\x27, -1, 0, 100000, 0);\n", i
        printf "INSERT OR REPLACE INTO state(key, value) VALUES (\x27last_t1_ms\x27, \x27%d\x27);\n", t + 100
        print "INSERT OR REPLACE INTO state(key, value) VALUES (\x27source\x27, \x27powercap\x27);"
        print "COMMIT;"
        t += 100
    }
}' >"$work/peer.sql"
TIMEFORMAT='%3U %3S'
t0=$(now)
{ time sqlite3 "$peer_db" <"$work/peer.sql" >"$work/peer.out" 2>&1; } 2>"$work/peer.time" ||
    die "sqlite3 failed on the peer script" "$work/peer.out"
t1=$(now)
read -r q_user q_sys <"$work/peer.time"
q_dur=$(calc '%.6f' "$t1 - $t0")
q_tx=$(sql "$peer_db" 'SELECT count(*) FROM intervals')
q_rows=$(sql "$peer_db" 'SELECT (SELECT count(*) FROM intervals) + (SELECT count(*) FROM charges)')
((q_tx == SQL_TX)) || fail "the sqlite3 peer committed $q_tx transactions, not $SQL_TX"

echo "2. Durable ledger commits: WAL, synchronous=FULL; the shell: one transaction per interval;"
echo "   the agent: intervals per second written (grouped, one transaction a second, unless --commit 0)"
echo "   (1 interval row + $((TASKS + 1)) charge rows + 2 state upserts; rows counted = interval + charge rows)"
printf '%-34s %8s %10s\n' "writer" "tx/s" "rows/s"
q_rps=$(calc '%.0f' "$q_rows / $q_dur")
s_rps=$(calc '%.0f' "$s_rows / $s_dur")
ch_rps=$(calc '%.0f' "$ch_rows / $ch_dur")
printf '%-34s %8s %10s  (%d tx back to back: %s ms per tx, %s ms of CPU per tx; process start included)\n' \
    "sqlite3 shell, same transactions" "$(calc '%.1f' "$q_tx / $q_dur")" "$q_rps" "$q_tx" \
    "$(calc '%.2f' "$q_dur * 1000 / $q_tx")" "$(calc '%.3f' "($q_user + $q_sys) * 1000 / $q_tx")"
printf '%-34s %8s %10s  (sampling-bound: at most 100 intervals/s; %s ms of agent CPU per interval, %s%% of a core)\n' \
    "grid-agent --rate 100, ${FAST_S} s" "$(calc '%.1f' "$s_tx / $s_dur")" "$s_rps" "$s_cpu_ms" "$s_pct"
printf '%-34s %8s %10s  (%s requests, sampling at 100 Hz too: mean %s ms, p99 %s ms per request, commit and round trip)\n' \
    "grid-agent, register/unregister" "$(calc '%.1f' "$ch_tx / $ch_dur")" "$ch_rps" "$churn_ops" \
    "$churn_mean" "$churn_p99"
printf '%-34s %8s x   (rows/s; the agent is capped by --rate, not by SQLite)\n' "agent sampling/sqlite3" \
    "$(calc '%.2f' "$s_rps / $q_rps")"
printf '%-34s %8s x   (rows/s; each commit also samples /proc and answers over the socket)\n' \
    "agent register-unregister/sqlite3" "$(calc '%.2f' "$ch_rps / $q_rps")"
check_ledger "$a100" "$added100" "100 Hz run"
report_agent_log "$a100"

if ((failures > 0)); then
    echo "$prog: $failures check(s) failed" >&2
    exit 1
fi
