#!/usr/bin/env bash
# Hearth's soak benchmark on the test grid (needs root and `ip netns`).
#
#   bench/soak.sh BUILD_DIR
#
# 1. A test grid of 3 hosts with a grid-agent each (tests/grid/testgrid.sh up
#    3 --agents; the agents use the model energy source).
# 2. Two jobs at once, tenants bank and studio, SOAK_TASKS/2 tasks of `true`
#    each (default 50,000 + 50,000), both on the grid's hostfile. At set times
#    after they start (SOAK_EVENTS, seconds: "kill1 revive1 kill2 revive2",
#    default "60 100 160 200")
#    host h2 is killed (testgrid.sh kill: link down, every process of the host
#    SIGKILLed, its agent too) and revived (link up, agent restarted), then h3
#    the same. A running job leaves a dead host out of its relaunches, so the
#    second fault has to hit another host for the jobs to feel it.
# 3. Checks, from the journals and the ledgers: tasks lost (no "done" record)
#    and duplicates committed (more than one "done" for a task), both must be
#    0; per agent, its ledger's sum of interval energy against its node
#    counter (/v1/node energy_uj, the counter behind /metrics'
#    hearth_node_energy_joules_total) and against the sum of its charges, all
#    must be equal; per attempt with an energy figure in a journal, that figure
#    against the ledger's charges for that attempt on its node, must be equal.
# 4. The supervisors' peak RSS (VmHWM of each `hearth run`, sampled every
#    0.5 s), the dispatchers' (summary.json), and throughput: all tasks over
#    the wall time from the start of both jobs to the end of the last.
# 5. The peer, on the same grid after the jobs: GNU Parallel running
#    SOAK_PEER_TASKS (default 10,000, at most SOAK_TASKS: at about 100-200
#    tasks/s here, 100,000 would add 10-17 minutes) `true` tasks, a third in
#    each host's namespace (`ip netns exec NS parallel -j2`, 2 at a time per
#    host, as the two jobs run there), timed the same way; the throughput
#    ratio (tasks/s: Parallel's cost per task does not depend on the count).
#
# The whole script is bounded by SOAK_LIMIT_S (default 1500 s); the grid and
# every process started here are removed on exit, failure or interrupt.
# Exits 1 if a check fails or a run does not complete, 2 on usage errors or
# where a grid cannot be made.
set -uo pipefail

prog=bench/soak.sh
TASKS=${SOAK_TASKS:-100000}
PEER_TASKS=${SOAK_PEER_TASKS:-$((TASKS < 10000 ? TASKS : 10000))}
LIMIT_S=${SOAK_LIMIT_S:-1500}
EVENTS=${SOAK_EVENTS:-"60 100 160 200"}
PER_HOST=2   # tasks at once per host: one slot for each of the two jobs

if (($# != 1)) || [[ $1 == -* ]]; then
    echo "usage: $prog BUILD_DIR" >&2
    exit 2
fi
for v in TASKS PEER_TASKS LIMIT_S; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "$prog: SOAK_$v must be a whole number > 0, not '${!v}'" >&2; exit 2; }
done
((TASKS >= 2)) || { echo "$prog: SOAK_TASKS must be at least 2 (two tenants)" >&2; exit 2; }
read -r -a ev <<<"$EVENTS"
if ((${#ev[@]} != 4)) || ! [[ "${ev[*]}" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]] ||
    ((ev[0] >= ev[1] || ev[1] >= ev[2] || ev[2] >= ev[3])); then
    echo "$prog: SOAK_EVENTS must be 4 increasing whole seconds: kill1 revive1 kill2 revive2, e.g. '20 40 60 80'" >&2
    exit 2
fi
build=$1
hearth=$build/bin/hearth
agent=$build/bin/grid-agent
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
grid=$here/../tests/grid/testgrid.sh
[[ -x $hearth ]] || { echo "$prog: $hearth not found: build it first (make)" >&2; exit 1; }
[[ -x $agent ]] || { echo "$prog: $agent not found: build it first (make)" >&2; exit 1; }
for tool in parallel python3 curl mpirun; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$prog: $tool is needed (make deps installs it)" >&2; exit 1; }
done
if ! why=$("$grid" check); then
    echo "$prog: cannot make a test grid here: $why" >&2
    exit 2
fi
hearth=$(cd "$(dirname "$hearth")" && pwd)/hearth
agent=$(cd "$(dirname "$agent")" && pwd)/grid-agent

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-soak.XXXXXX")
state=''
keep_work=0
# Every process this script starts, so that the trap can end them by pid.
tracked=()
cleanup() {
    local p f i id
    trap - EXIT INT TERM
    # A `hearth run` still going: SIGTERM cancels its job, a second one stops mpirun.
    for f in "$work"/*.pid; do
        [[ -e $f ]] || continue
        p=$(<"$f")
        kill -TERM "$p" 2>/dev/null || continue
        for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${tracked[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${tracked[@]}"; do wait "$p" 2>/dev/null; done
    [[ -n $state ]] && "$grid" down "$state"
    # Scratch directories of workers that a fault killed (SIGKILL leaves them).
    for f in "$work"/*/job.json; do
        [[ -e $f ]] || continue
        id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$f" 2>/dev/null)
        [[ -n $id ]] && rm -rf -- "${TMPDIR:-/tmp}/hearth-$id-r"*
    done
    if ((keep_work)); then echo "$prog: logs kept in $work" >&2; else rm -rf -- "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "$prog: FAILED: stopped after SOAK_LIMIT_S=$LIMIT_S s" >&2; keep_work=1; exit 1' TERM
# The time limit: SIGTERM to this script, whose trap tears everything down.
main_pid=$$
(
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep "$LIMIT_S" &
    s=$!
    wait "$s" && kill -TERM "$main_pid"
) 2>/dev/null &
tracked+=($!)

failures=0
fail() {
    echo "$prog: FAILED: $*" >&2
    failures=$((failures + 1))
    keep_work=1
}
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
# pause SECONDS: in the background, so that a signal runs the trap at once.
pause() {
    sleep "$1" &
    wait $! 2>/dev/null
}

# --- 1. The grid
state=$(HEARTH_GRID_PREFIX=soak$$ GRID_AGENT_BIN=$agent "$grid" up 3 --agents --slots 1 2>"$work/grid.log") ||
    { cat "$work/grid.log" >&2; state=''; echo "$prog: cannot make the test grid" >&2; exit 2; }
mapfile -t hosts < <(cut -d' ' -f1 "$state/hosts.map")
mapfile -t namespaces < <(cut -d' ' -f2 "$state/hosts.map")

# --- 2. Two jobs at once, and the faults
per_job=$((TASKS / 2))
counts=(["0"]=$per_job ["1"]=$((TASKS - per_job)))
# run_job TENANT COUNT: `hearth run` in the background; its pid goes to
# TENANT.pid, its end time to TENANT.end and its exit status to TENANT.rc
# when it ends, and the last VmHWM seen (every 0.5 s) to TENANT.hwm.
run_job() {
    local tenant=$1 count=$2
    (
        # shellcheck disable=SC1091
        . "$state/env" || exit 2
        "$hearth" run --tenant "$tenant" --name "soak-$tenant" --count "$count" \
            --hosts "$state/hostfile" --job-dir "$work/$tenant" --json -- true \
            >"$work/$tenant.events" 2>"$work/$tenant.err" </dev/null &
        pid=$!
        echo "$pid" >"$work/$tenant.pid"
        wait "$pid"
        rc=$?
        now >"$work/$tenant.end"
        echo "$rc" >"$work/$tenant.rc"
    ) &
    tracked+=($!)
    (
        until [[ -e $work/$tenant.rc ]]; do
            [[ -e $work/$tenant.pid ]] &&
                v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$(<"$work/$tenant.pid")/status" 2>/dev/null) &&
                [[ -n $v ]] && echo "$v" >"$work/$tenant.hwm"
            sleep 0.5
        done
    ) &
    tracked+=($!)
}
t0=$(now)
run_job bank "${counts[0]}"
run_job studio "${counts[1]}"
running() { [[ ! -e $work/bank.rc || ! -e $work/studio.rc ]]; }
both_running() { [[ ! -e $work/bank.rc && ! -e $work/studio.rc ]]; }
done_count() { grep -c '"e":"done"' "$work/$1/journal" 2>/dev/null || echo 0; }

actions=("kill ${hosts[1]}" "revive ${hosts[1]}" "kill ${hosts[2]}" "revive ${hosts[2]}")
event_log=()
next=0
while running; do
    elapsed=$(calc '%.1f' "$(now) - $t0")
    if ((next < 4)) && awk "BEGIN { exit !($elapsed >= ${ev[$next]}) }"; then
        read -r verb host <<<"${actions[$next]}"
        line=$(printf '%6.1f s  %-6s %-12s  committed so far: bank %s, studio %s' "$elapsed" "$verb" \
            "$host" "$(done_count bank)" "$(done_count studio)")
        both_running || line+="  (a job had ended already)"
        "$grid" "$verb" "$state" "$host" 2>>"$work/grid.log" || fail "testgrid.sh $verb $host failed"
        event_log+=("$line")
        next=$((next + 1))
    fi
    pause 0.2
done
t1=$(sort -n "$work"/bank.end "$work"/studio.end | tail -n 1)
for tenant in bank studio; do
    rc=$(<"$work/$tenant.rc")
    ((rc == 0)) || fail "the $tenant job exited $rc: $(tail -n 3 "$work/$tenant.err")"
done
((failures == 0)) || { echo "$prog: the jobs did not complete; nothing to check" >&2; exit 1; }
((next == 4)) || fail "the jobs ended after $(calc '%.1f' "$t1 - $t0") s, before all faults (SOAK_EVENTS='$EVENTS'); give earlier SOAK_EVENTS"
# A revived host's agent must be up for the energy checks.
for ns in "${namespaces[@]}"; do
    [[ -S $state/hosts/$ns/agent.sock ]] || fail "the grid-agent of $ns is not running"
done

# --- 3. Checks, from the journals and the ledgers
python3 - "$work" "$state" "${hosts[@]}" >"$work/checks.txt" 2>"$work/checks.err" <<'PY'
import json, sqlite3, sys, urllib.request
work, state, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
ns_of = {}
for line in open(f"{state}/hosts.map"):
    addr, ns, *_ = line.split()
    ns_of[addr] = ns
bad = 0
attempt_uj = {}   # (node, job id, task, attempt) -> uj from the journal
for tenant in ("bank", "studio"):
    spec = json.load(open(f"{work}/{tenant}/job.json"))
    summ = json.load(open(f"{work}/{tenant}/summary.json"))
    total = summ["tasks"]
    done = {}
    lines = 0
    for line in open(f"{work}/{tenant}/journal"):
        if not line.endswith("\n"):
            break  # a torn last line (none expected)
        r = json.loads(line)
        lines += 1
        if r["e"] == "done":
            done[r["t"]] = done.get(r["t"], 0) + 1
        if r["e"] in ("done", "fail") and "uj" in r:
            attempt_uj[(r["n"], spec["id"], r["t"], r["a"])] = r["uj"]
    lost = sum(1 for t in range(total) if t not in done)
    dups = sum(n - 1 for n in done.values() if n > 1)
    lost_hosts = ", ".join(f'{h["host"]} ({len(h["attempts"])} attempts)' for h in summ["lost_hosts"])
    print(f"job {tenant}: {total} tasks, committed {len(done)}, lost {lost}, duplicates {dups}, "
          f"launches {summ['launches']}, {summ['seconds']:.1f} s, dispatcher peak RSS "
          f"{summ['dispatcher_peak_rss_kb']} kB, energy {summ['energy_uj']} uJ over "
          f"{summ['energy_attempts']} attempts, lost hosts: {lost_hosts or 'none'}")
    if lost or dups or summ["committed"] != total:
        bad += 1

def node_counter(addr):
    with urllib.request.urlopen(f"http://{addr}:9750/v1/node", timeout=5) as r:
        return json.load(r)["energy_uj"]

for addr in hosts:
    try:
        node_counter(addr)
    except OSError as e:
        print(f"agent {addr}: not answering ({e})")
        bad += 1
        continue
    db = sqlite3.connect(f"file:{state}/hosts/{ns_of[addr]}/ledger.db?mode=ro", uri=True)
    # The agent commits an interval every 0.1 s, and moves its counter in the
    # same locked step: read the counter on both sides of the ledger's sum
    # until no commit fell in between.
    for _ in range(200):
        c0 = node_counter(addr)
        ledger = db.execute("SELECT COALESCE(SUM(energy_uj), 0) FROM intervals").fetchone()[0]
        c1 = node_counter(addr)
        if c0 == c1:
            break
    else:
        print(f"agent {addr}: its counter never held still for a read")
        bad += 1
        continue
    # Intervals and charges from one snapshot of the ledger.
    with db:
        db.execute("BEGIN")
        total, n, gaps = db.execute(
            "SELECT COALESCE(SUM(energy_uj), 0), COUNT(*), SUM(kind = 'gap') FROM intervals").fetchone()
        charged = db.execute(
            "SELECT COALESCE(SUM(static_uj + dynamic_uj), 0) FROM charges").fetchone()[0]
    ok = ledger == c1 and charged == total
    print(f"agent {addr}: ledger {ledger} uJ, node counter {c1} uJ; later {total} uJ over {n} "
          f"intervals ({gaps or 0} gaps), charged {charged} uJ: {'equal' if ok else 'MISMATCH'}")
    bad += not ok
    # Each attempt's figure in a journal against the ledger's charges for it.
    got, span = {}, {}
    for job, task, attempt, uj, s in db.execute(
            "SELECT job, task, attempt, SUM(static_uj + dynamic_uj), MAX(t1_ms) - MIN(t0_ms) "
            "FROM charges JOIN intervals ON intervals.id = interval_id "
            "WHERE tenant != '' GROUP BY job, task, attempt"):
        got[(job, task, attempt)] = uj
        span[(job, task, attempt)] = s / 1000
    mine = {k[1:]: v for k, v in attempt_uj.items() if k[0] == addr}
    differ = sum(1 for k, v in mine.items() if got.get(k) != v)
    orphans = {k: v for k, v in got.items() if k not in mine}
    print(f"agent {addr}: {len(mine)} journaled attempts, {differ} whose energy differs from the "
          f"ledger's charges")
    if orphans:
        top = max(orphans, key=lambda k: orphans[k])
        print(f"agent {addr}: {len(orphans)} attempts charged with no outcome in a journal (in "
              f"flight when a fault relaunched the job): {sum(orphans.values())} uJ; the most, "
              f"{orphans[top]} uJ over {span[top]:.1f} s, to task {top[1]} of {top[0]}")
    bad += differ > 0
print(f"checks failed: {bad}")
PY
[[ -s $work/checks.txt ]] || fail "the checks did not run: $(tail -n 3 "$work/checks.err")"
grep -q '^checks failed: 0$' "$work/checks.txt" || fail "a check failed (see below)"

# --- 4. The peer: GNU Parallel, the same number of tasks over the same hosts
pt0=$(now)
ppids=()
for k in 0 1 2; do
    n=$((PEER_TASKS / 3 + (k < PEER_TASKS % 3 ? 1 : 0)))
    seq 1 "$n" | ip netns exec "${namespaces[$k]}" parallel --will-cite -j "$PER_HOST" true \
        >"$work/parallel.$k.log" 2>&1 &
    ppids+=($!)
    tracked+=($!)
done
for p in "${ppids[@]}"; do wait "$p" || fail "GNU Parallel exited $? (see $work/parallel.*.log)"; done
pt1=$(now)

# --- Report
wall=$(calc '%.1f' "$t1 - $t0")
pwall=$(calc '%.1f' "$pt1 - $pt0")
tput=$(calc '%.0f' "$TASKS / ($t1 - $t0)")
ptput=$(calc '%.0f' "$PEER_TASKS / ($pt1 - $pt0)")
echo "Hearth soak benchmark: $TASKS tasks of \`true\` (bank and studio, $per_job + $((TASKS - per_job))) at once"
echo "machine: $(nproc) cores, Linux $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "grid: 3 hosts (${hosts[*]}), 1 slot per host for each job, a grid-agent (model source) on each"
echo
echo "faults (seconds after the jobs started):"
printf '  %s\n' "${event_log[@]}"
echo
cat "$work/checks.txt"
echo
for tenant in bank studio; do
    printf 'supervisor peak RSS %-7s %8s kB  (VmHWM of hearth run, sampled every 0.5 s)\n' "$tenant" \
        "$(cat "$work/$tenant.hwm" 2>/dev/null || echo '?')"
done
echo
printf '%-28s %9s s  %6s tasks/s\n' "hearth (2 jobs, 4 faults)" "$wall" "$tput"
printf '%-28s %9s s  %6s tasks/s  (%s tasks, no faults)\n' "GNU Parallel (3 x -j$PER_HOST)" "$pwall" "$ptput" "$PEER_TASKS"
printf '%-28s %9s x  (throughput ratio)\n' "hearth/parallel" "$(calc '%.2f' "$tput / $ptput")"
if ((failures)); then
    echo "$prog: $failures check(s) FAILED" >&2
    exit 1
fi
