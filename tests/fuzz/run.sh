#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS on a scratch copy of its seed corpus
# (BUILD/corpus/<target>; the committed tests/fuzz/corpus is never written)
# and prints one line a target, "fuzz <target>: N executions in S s, K crashes",
# a total line and "N passed, N failed, 0 skipped" (a target is one test: it
# fails when it crashed, leaked, timed out or ran out of memory).
# Usage: tests/fuzz/run.sh BUILD SECONDS BIN...
set -uo pipefail
build=$1; seconds=$2; shift 2
seeds=$(cd "$(dirname "$0")" && pwd)/corpus
passed=0; failed=0; all_runs=0; all_secs=0; all_crashes=0
for bin in "$@"; do
    name=$(basename "$bin"); target=${name#fuzz_}
    corpus=$build/corpus/$target; artifacts=$build/crashes/$target; log=$build/logs/$target.log
    rm -rf "$corpus"; mkdir -p "$corpus" "$artifacts" "$build/logs"
    [ -d "$seeds/$target" ] && cp "$seeds/$target"/* "$corpus"/
    # Long enough for a real file of its kind, short enough to keep runs fast.
    case $target in
        grid|scenario) max_len=8192 ;;
        journal|api_request|auth|wire_api) max_len=4096 ;;
        *) max_len=1024 ;;
    esac
    start=$(date +%s)
    # Targets that need files make them under TMPDIR: here, not /tmp, so a
    # crash (no atexit) leaves nothing behind outside BUILD.
    rm -rf "$build/tmp/$target"; mkdir -p "$build/tmp/$target"
    TMPDIR=$(cd "$build/tmp/$target" && pwd) "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    rc=$?
    # "Done N runs in S second(s)" ends a clean run; a crash ends with the stats only.
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
    secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n1)
    [ -z "$runs" ] && runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -n1)
    [ -z "$secs" ] && secs=$(( $(date +%s) - start ))
    runs=${runs:-0}
    # Slow units are reported, not failures (-timeout decides that).
    crash_files=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | grep -v '/slow-unit-')
    crashes=$(printf '%s' "$crash_files" | grep -c . || true)
    [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1  # died without writing its input
    echo "fuzz $target: $runs executions in $secs s, $crashes crashes"
    if [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        grep -m1 -A60 -E 'ERROR: |runtime error|fuzz invariant failed|terminate called|deadly signal' "$log" |
            grep -vE ' in fuzzer::|libc\.so|libstdc\+\+\.so|__sanitizer_print_stack_trace' | head -n 24 | sed 's/^/    /'
        for f in $crash_files; do echo "    crash input: $f (reproduce: $bin $f)"; done
        echo "    full log: $log"
    else
        passed=$((passed + 1))
    fi
    all_runs=$((all_runs + runs)); all_secs=$((all_secs + secs)); all_crashes=$((all_crashes + crashes))
done
echo "fuzz total: $all_runs executions in $all_secs s, $all_crashes crashes"
echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
