#!/usr/bin/env bash
# Hearth's `hearth sim` benchmark.
#
#   bench/sim.sh BUILD_DIR
#
# Generates (bench/gen_sim_grid.py) a grid of 1,000 sites (tanks, rooms and
# heating loops with varied parameters, schedules on some) and 10,000 nodes
# (10 per site), and a winter week of jobs sized to its slots, then runs
# `BUILD_DIR/bin/hearth sim week.toml --policy P` for each policy: wall time
# (date +%s.%N around the command: process start to exit, the grid file's
# parse included), the simulation loop's own time (as hearth prints it), CPU
# time (user + system) and peak RSS (/usr/bin/time -v), median of
# BENCH_SIM_REPEATS runs (default 3). CPU time varies less than wall time
# on a shared machine. It
# prints simulated seconds per wall second, the week's wall time against the
# issue's target (60 s on one core; the simulator is single-threaded) and the
# peer: the unaware policy on the same engine and scenario.
#
# Exits 1 if a run fails; a missed target is reported, not an error. Usage
# errors exit 2. BENCH_SIM_SITES (default 1000) and BENCH_SIM_NODES_PER_SITE
# (default 10) change the grid (for testing the script itself). Takes about
# 30 s on a 2-core machine.
set -euo pipefail

prog=bench/sim.sh
SITES=${BENCH_SIM_SITES:-1000}
PER_SITE=${BENCH_SIM_NODES_PER_SITE:-10}
REPEATS=${BENCH_SIM_REPEATS:-3}
TARGET_S=60
WEEK_S=604800

if (($# != 1)) || [[ $1 == -* ]]; then
    echo "usage: $prog BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hearth=$1/bin/hearth
[[ -x $hearth ]] || { echo "$prog: $hearth not found: build it first (make $hearth)" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "$prog: python3 is needed to generate the grid" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "$prog: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench-sim.XXXXXX")
keep_work=0
cleanup() {
    if ((keep_work)); then
        echo "$prog: logs kept in $work" >&2
    else
        rm -rf -- "$work"
    fi
}
trap cleanup EXIT

gen=$(python3 "$here/gen_sim_grid.py" "$work" --sites "$SITES" --nodes-per-site "$PER_SITE") || {
    echo "$prog: FAILED: bench/gen_sim_grid.py" >&2
    keep_work=1
    exit 1
}
slots=$(sed -n 's/^\([0-9]*\) sites, \([0-9]*\) nodes, \([0-9]*\) slots.*/\3/p' <<<"$gen")

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One timed run; prints "WALL_S RSS_KB LOOP_S CPU_S" (LOOP_S: the
# simulation loop alone, as hearth reports it).
run_sim() { # POLICY RUN
    local out=$work/$1-$2.out tv=$work/$1-$2.time t0 t1 wall rss loop cpu
    t0=$(date +%s.%N)
    if ! /usr/bin/time -v "$hearth" sim "$work/week.toml" --policy "$1" >"$out" 2>"$tv"; then
        echo "$prog: FAILED: hearth sim --policy $1 exited non-zero; see $tv" >&2
        return 1
    fi
    t1=$(date +%s.%N)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tv")
    loop=$(sed -n 's/^simulated [0-9]* s in \([0-9.]*\) s of wall time.*/\1/p' "$out")
    cpu=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { printf "%.2f\n", s }' "$tv")
    if [[ -z $wall || -z $rss || -z $loop ]] || ! grep -q "^tasks .* done" "$out"; then
        echo "$prog: FAILED: cannot read the run's figures from $out and $tv" >&2
        return 1
    fi
    echo "$wall $rss $loop $cpu"
}

declare -A wall rss loop cpu
for policy in heat-aware unaware; do
    walls=() rsss=() loops=() cpus=()
    for ((i = 1; i <= REPEATS; i++)); do
        if ! fig=$(run_sim "$policy" "$i"); then
            keep_work=1
            exit 1
        fi
        read -r w r l c <<<"$fig"
        walls+=("$w") rsss+=("$r") loops+=("$l") cpus+=("$c")
    done
    wall[$policy]=$(median "${walls[@]}")
    rss[$policy]=$(median "${rsss[@]}")
    loop[$policy]=$(median "${loops[@]}")
    cpu[$policy]=$(median "${cpus[@]}")
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "hearth sim benchmark: $SITES sites, $((SITES * PER_SITE)) nodes, $slots slots, a week in 60 s steps, median of $REPEATS runs"
echo "machine: $(nproc) cores, Linux $(uname -r), ${cpu:-unknown CPU}"
echo
printf '%-12s %12s %12s %12s %20s %12s\n' policy "wall" "sim loop" "CPU" "simulated s/wall s" "peak RSS"
for policy in heat-aware unaware; do
    awk -v p="$policy" -v w="${wall[$policy]}" -v l="${loop[$policy]}" -v c="${cpu[$policy]}" \
        -v r="${rss[$policy]}" -v week=$WEEK_S \
        'BEGIN { printf "%-12s %10.3f s %10.2f s %10.2f s %20.0f %9.1f MB\n", p, w, l, c, week / w, r / 1024 }'
done
echo
awk -v w="${wall[heat-aware]}" -v t=$TARGET_S \
    'BEGIN { printf "week wall / %d s target   %.3f   (%s)\n", t, w / t, w <= t ? "met" : "MISSED" }'
awk -v a="${wall[heat-aware]}" -v u="${wall[unaware]}" -v ca="${cpu[heat-aware]}" -v cu="${cpu[unaware]}" \
    'BEGIN { printf "heat-aware/unaware        %.2f x wall, %.2f x CPU (the peer: the unaware policy, same engine)\n", a / u, ca / cu }'
echo
for policy in heat-aware unaware; do
    echo "$policy:"
    grep -E '^(heat delivered|setpoint error|tasks|makespan|deadline overrides)' "$work/$policy-1.out" | sed 's/^/  /'
done
