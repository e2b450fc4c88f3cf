#!/usr/bin/env bash
# Hearth's runner benchmark (`make bench`).
#
#   bench/run.sh BUILD_DIR
#
# (a) hearth: 2,000 tasks of `true` on 2 slots
#     ($BUILD_DIR/bin/hearth run --tenant bench --count 2000 --slots 2 ...)
# (b) GNU Parallel: parallel -j2 true ::: 1..2000
# (c) the fork/exec floor: $BUILD_DIR/bench/spawn_floor 2000 2 true
# Each is timed by wall clock (date +%s.%N before and after: start to exit), run 3
# times (in turn: hearth, the floor, the grid, parallel, then again), and the
# median is reported as tasks/s, with hearth/floor and hearth/parallel. (a') the same job through the shared grid's path: a
# `hearth serve` and a `hearth site` of one node with 2 slots on loopback,
# already up (as a grid is), and `hearth run --server URL --count 2000 --
# true` timed from submit to the job's end (the scheduler's queue, HTTP, the
# site's dispatcher and worker). Then (d) one 100,000-task job of `true` reports the
# dispatcher's peak RSS from its summary.json against the 64 MB target.
#
# Exits 1 if a run failed or its summary does not add up; a missed target is
# reported, not an error. Usage errors exit 2. Takes about 1-3 minutes.
# BENCH_TASKS and BENCH_BIG_TASKS override the two task counts (for testing);
# BENCH_GRID_TLS=1 runs (a') over HTTPS.
set -euo pipefail

prog=bench/run.sh
TASKS=${BENCH_TASKS:-2000}
SLOTS=2
REPEATS=3
BIG_TASKS=${BENCH_BIG_TASKS:-100000}
RSS_TARGET_KB=$((64 * 1024))

if (($# != 1)) || [[ $1 == -* ]]; then
    echo "usage: $prog BUILD_DIR" >&2
    exit 2
fi
build=$1
hearth=$build/bin/hearth
floor=$build/bench/spawn_floor
[[ -x $hearth ]] || { echo "$prog: $hearth not found: build it first (make)" >&2; exit 1; }
hearth=$(realpath "$hearth")  # the grid's runs start in their own directory
[[ -x $floor ]] || { echo "$prog: $floor not found: build it first (make $floor)" >&2; exit 1; }
command -v parallel >/dev/null 2>&1 || { echo "$prog: GNU parallel is not installed (apt-get install parallel)" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "$prog: python3 is needed to read summary.json" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench.XXXXXX")
keep_work=0
cleanup() {
    stop_grid
    if ((keep_work)); then
        echo "$prog: logs kept in $work" >&2
    else
        rm -rf -- "$work"
    fi
}
trap cleanup EXIT

# Runs happen in command substitutions (subshells): they report a failure on
# stderr and return 1; the caller counts it.
failures=0
fail() { echo "$prog: FAILED: $*" >&2; }
failed_run() {
    failures=$((failures + 1))
    keep_work=1
}

now() { date +%s.%N; }

# summary_field JOB_DIR FIELD: prints one field of JOB_DIR/summary.json.
summary_field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/summary.json" "$2"
}

# check_summary JOB_DIR N: the job ran N tasks and committed them all.
check_summary() {
    local dir=$1 n=$2 tasks committed failed
    if [[ ! -f $dir/summary.json ]]; then
        fail "no summary.json in $dir"
        return 1
    fi
    if ! tasks=$(summary_field "$dir" tasks) || ! committed=$(summary_field "$dir" committed) ||
        ! failed=$(summary_field "$dir" failed); then
        fail "$dir/summary.json lacks tasks/committed/failed"
        return 1
    fi
    if [[ $tasks != "$n" || $committed != "$n" || $failed != 0 ]]; then
        fail "$dir/summary.json: tasks $tasks, committed $committed, failed $failed; expected $n, $n, 0"
        return 1
    fi
}

# One timed run of each peer; prints the wall seconds on success.
run_hearth() { # RUN_ID N
    local dir=$work/hearth-$1 log=$work/hearth-$1.log t0 t1
    t0=$(now)
    if ! "$hearth" run --tenant bench --count "$2" --slots "$SLOTS" --job-dir "$dir" -- true >"$log" 2>&1; then
        fail "hearth run ($2 tasks) exited non-zero; log: $log"
        return 1
    fi
    t1=$(now)
    check_summary "$dir" "$2" || return 1
    echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }'
}
# The shared grid (a'): one scheduler and one site, started once.
grid_url=
serve_pid=
site_pid=
start_grid() {
    local port=
    mkdir -p "$work/grid"
    printf '[[site]]\nname = "bench"\nkind = "tank"\ntarget = 60\n[[node]]\nname = "local"\nsite = "bench"\nhost = "localhost"\nslots = %d\n' \
        "$SLOTS" >"$work/grid/grid.toml"
    # BENCH_GRID_TLS=1: HTTPS between the site (and the client) and the
    # scheduler, as off loopback, with a CA of the run's own (hearth tls).
    local -a tls=() cacert=() curl_ca=()
    scheme=http
    if [[ ${BENCH_GRID_TLS:-0} == 1 ]]; then
        "$hearth" tls ca "$work/grid/ca" >/dev/null 2>&1 &&
            "$hearth" tls cert "$work/grid/ca" --host 127.0.0.1 --name serve >/dev/null 2>&1 ||
            { fail "hearth tls could not make a certificate"; return 1; }
        tls=(--tls-cert "$work/grid/ca/serve.pem" --tls-key "$work/grid/ca/serve.key")
        cacert=(--cacert "$work/grid/ca/ca.pem")
        curl_ca=(--cacert "$work/grid/ca/ca.pem")
        export HEARTH_CACERT=$work/grid/ca/ca.pem
        scheme=https
    fi
    # Port 0: the kernel picks a free one (a random pick could fall on the
    # ephemeral port of one of the many connections a previous run made).
    "$hearth" serve --grid "$work/grid/grid.toml" --state "$work/grid/state" --listen "127.0.0.1:0" --no-auth \
        "${tls[@]}" >"$work/grid/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 100); do
        port=$(sed -n 's/^listening on port \([0-9]*\).*/\1/p' "$work/grid/serve.log" | head -n 1)
        [[ -n $port ]] && break
        sleep 0.1
    done
    grid_url=$scheme://127.0.0.1:${port:-0}
    for _ in $(seq 100); do
        curl -sf "${curl_ca[@]}" "$grid_url/v1/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    (cd "$work/grid" && exec "$hearth" site --grid grid.toml --site bench --server "$grid_url" "${cacert[@]}") \
        >"$work/grid/site.log" 2>&1 &
    site_pid=$!
}
stop_grid() {
    [[ -n $site_pid ]] && kill "$site_pid" 2>/dev/null && wait "$site_pid" 2>/dev/null
    [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    site_pid= serve_pid=
    return 0
}
run_hearth_grid() { # RUN_ID N
    local log=$work/hearth-grid-$1.log t0 t1
    t0=$(now)
    if ! (cd "$work/grid" && "$hearth" run --server "$grid_url" --tenant bench --count "$2" -- true) >"$log" 2>&1; then
        fail "hearth run --server ($2 tasks) exited non-zero; log: $log"
        return 1
    fi
    t1=$(now)
    if ! grep -q "\"done\":$2,.*\"state\":\"finished\"" "$log"; then
        fail "hearth run --server: the job did not finish with $2 tasks done; log: $log"
        return 1
    fi
    echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }'
}
run_parallel() { # RUN_ID N
    local log=$work/parallel-$1.log t0 t1
    local -a args
    mapfile -t args < <(seq "$2")
    t0=$(now)
    if ! parallel --will-cite -j"$SLOTS" true ::: "${args[@]}" >"$log" 2>&1; then
        fail "parallel exited non-zero; log: $log"
        return 1
    fi
    t1=$(now)
    echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }'
}
run_floor() { # RUN_ID N
    local log=$work/floor-$1.log t0 t1
    t0=$(now)
    if ! "$floor" "$2" "$SLOTS" true >"$log" 2>&1; then
        fail "spawn_floor exited non-zero; log: $log"
        return 1
    fi
    t1=$(now)
    echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }'
}

# Seconds from the dispatcher's start to the job's end, from the journal's
# timestamps: hearth's throughput without Open MPI's launch and teardown
# (MPI_Init and MPI_Finalize cost about 0.1 s here whatever the job).
in_job_s() { # JOB_DIR
    local a b
    a=$(grep -m1 '"e":"launch"' "$1/journal" | sed -n 's/.*"ts":\([0-9]*\).*/\1/p')
    b=$(grep '"e":"end"' "$1/journal" | tail -n 1 | sed -n 's/.*"ts":\([0-9]*\).*/\1/p')
    [[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", (b - a) / 1000 }'
}

# The grid's job from its first grant to its last commit, as the scheduler
# recorded them (`hearth status --json`'s seconds): the client polls every
# 0.5 s, so its wall time rounds the job's end up by as much.
grid_in_job_s() { # RUN_ID
    local id
    id=$(grep -m1 '"state":"started"' "$work/hearth-grid-$1.log" | sed -n 's/.*"job":"\([^"]*\)".*/\1/p')
    [[ -n $id ]] && (cd "$work/grid" && "$hearth" status "$id" --server "$grid_url" --json) |
        python3 -c 'import json, sys; print("%.6f" % json.load(sys.stdin)["seconds"])'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "Hearth runner benchmark: $TASKS tasks of \`true\`, $SLOTS slots, median of $REPEATS runs"
echo "machine: $(nproc) cores, $(uname -sr), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo

declare -A median_s=()
in_job=()
grid_in_job=()
start_grid
# The site's first mpirun launch is not the job's cost: one warm-up job.
run_hearth_grid warmup 10 >/dev/null || failed_run
# Round-robin, the floor next to each hearth run: the machine's load drifts
# over a minute (other jobs, other sessions), and peers timed in blocks of
# their own then compare different machines.
declare -A times=()
for ((i = 1; i <= REPEATS; i++)); do
    for peer in hearth floor hearth_grid parallel; do
        if t=$("run_$peer" "$i" "$TASKS"); then
            times[$peer]+="$t "
            if [[ $peer == hearth ]] && ij=$(in_job_s "$work/hearth-$i"); then in_job+=("$ij"); fi
            if [[ $peer == hearth_grid ]] && ij=$(grid_in_job_s "$i"); then grid_in_job+=("$ij"); fi
            rm -rf -- "$work/hearth-$i"
        else
            failed_run
        fi
    done
done
for peer in hearth hearth_grid parallel floor; do
    read -r -a ts <<<"${times[$peer]:-}"
    if ((${#ts[@]} == REPEATS)); then
        median_s[$peer]=$(median "${ts[@]}")
    fi
done

label() {
    case $1 in
    hearth) echo "hearth" ;;
    hearth_grid) echo "hearth serve+site$([[ ${BENCH_GRID_TLS:-0} == 1 ]] && echo " (https)")" ;;
    parallel) echo "GNU Parallel" ;;
    floor) echo "fork/exec floor" ;;
    esac
}
printf '%-18s %12s %14s\n' "runner" "median wall" "throughput"
for peer in hearth hearth_grid parallel floor; do
    if [[ -n ${median_s[$peer]:-} ]]; then
        s=${median_s[$peer]}
        printf '%-18s %10.3f s %8.0f tasks/s\n' "$(label "$peer")" "$s" "$(awk -v n="$TASKS" -v s="$s" 'BEGIN { print n / s }')"
    else
        printf '%-18s %12s %14s\n' "$(label "$peer")" "failed" "-"
    fi
done
if ((${#in_job[@]} == REPEATS)); then
    median_s[hearth_in_job]=$(median "${in_job[@]}")
    printf '%-18s %10.3f s %8.0f tasks/s   (dispatcher start to job end, from the journal)\n' \
        "hearth in-job" "${median_s[hearth_in_job]}" \
        "$(awk -v n="$TASKS" -v s="${median_s[hearth_in_job]}" 'BEGIN { print n / s }')"
fi
if ((${#grid_in_job[@]} == REPEATS)); then
    median_s[hearth_grid_in_job]=$(median "${grid_in_job[@]}")
    printf '%-18s %10.3f s %8.0f tasks/s   (first grant to last commit, from the scheduler)\n' \
        "hearth grid in-job" "${median_s[hearth_grid_in_job]}" \
        "$(awk -v n="$TASKS" -v s="${median_s[hearth_grid_in_job]}" 'BEGIN { print n / s }')"
fi
echo
# Ratios of throughput (tasks/s): hearth / peer.
for h in hearth hearth_grid; do
    for peer in floor parallel; do
        if [[ -n ${median_s[$h]:-} && -n ${median_s[$peer]:-} ]]; then
            printf '%-18s %10.2f x   (throughput ratio)\n' "${h/_grid/ grid}/$peer" \
                "$(awk -v h="${median_s[$h]}" -v p="${median_s[$peer]}" 'BEGIN { print p / h }')"
        else
            printf '%-18s %12s\n' "${h/_grid/ grid}/$peer" "n/a"
        fi
    done
done
if [[ -n ${median_s[hearth_in_job]:-} && -n ${median_s[floor]:-} ]]; then
    printf '%-18s %10.2f x   (in-job throughput ratio, launch excluded)\n' "hearth in-job/floor" \
        "$(awk -v h="${median_s[hearth_in_job]}" -v p="${median_s[floor]}" 'BEGIN { print p / h }')"
fi
# Spawn cost on these machines moves 4x between days, so the ratio alone
# misleads: the time each task costs beyond the floor's is the runner's own.
for run in hearth hearth_in_job hearth_grid hearth_grid_in_job; do
    if [[ -n ${median_s[$run]:-} && -n ${median_s[floor]:-} ]]; then
        printf '%-18s %10.3f ms  (overhead per task beyond the fork/exec floor%s)\n' "${run//_/ }" \
            "$(awk -v h="${median_s[$run]}" -v f="${median_s[floor]}" -v n="$TASKS" \
                'BEGIN { print (h - f) * 1000 / n }')" "$(case $run in hearth) echo ", launch included" ;; hearth_grid) echo ", serve+site already up" ;; hearth_grid_in_job) echo ", the scheduler's own record" ;; esac)"
    fi
done
echo

echo "Dispatcher memory: one job of $BIG_TASKS tasks of \`true\`, $SLOTS slots"
if s=$(run_hearth big "$BIG_TASKS"); then
    rss=
    if rss=$(summary_field "$work/hearth-big" dispatcher_peak_rss_kb); then
        awk -v r="$rss" -v t="$RSS_TARGET_KB" -v s="$s" -v n="$BIG_TASKS" 'BEGIN {
            printf "%-18s %10d kB  (%.1f MB)\n", "peak RSS", r, r / 1024
            printf "%-18s %10d kB  (%.0f MB): %s\n", "target", t, t / 1024, (r <= t ? "met" : "MISSED")
            printf "%-18s %10.1f s   (%.0f tasks/s)\n", "wall time", s, n / s
        }'
        if [[ -n ${median_s[floor]:-} ]]; then
            printf '%-18s %10.2f x   (throughput ratio at %d tasks, launch included)\n' \
                "hearth/floor" "$(awk -v n="$BIG_TASKS" -v s="$s" -v f="${median_s[floor]}" -v m="$TASKS" \
                'BEGIN { print (n / s) / (m / f) }')" "$BIG_TASKS"
        fi
    else
        fail "$work/hearth-big/summary.json has no dispatcher_peak_rss_kb"
        failed_run
    fi
else
    failed_run
fi
((keep_work)) || rm -rf -- "$work/hearth-big"

if ((failures > 0)); then
    echo "$prog: $failures run(s) failed" >&2
    exit 1
fi
