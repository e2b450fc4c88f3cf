#!/usr/bin/env bash
# Runs the Boost.Test suites named on the command line (unit, integration)
# from build dir $1 and ends with the line "N passed, N failed[, N skipped]".
# Boost.Test's XML report gives per-module counts; we add them up.
set -uo pipefail
build=$1; shift
passed=0; failed=0; skipped=0; status=0
for suite in "$@"; do
    bin="$build/tests/${suite}_tests"; only=(--report_level=short)
    # The grid suites (grid, grid_shared, grid_slurm) live in the integration binary; their own counts are in the detailed report.
    grid_suite=0
    case $suite in grid | grid_shared | grid_slurm) grid_suite=1 ;; esac
    [ $grid_suite = 1 ] && bin="$build/tests/integration_tests" && only=(--run_test="$suite" --report_level=detailed)
    report="$build/tests/${suite}_report.xml"
    echo "== $suite tests ($bin)"
    HEARTH_ROOT="$PWD" HEARTH_BIN="$build/bin/hearth" GRID_AGENT_BIN="$build/bin/grid-agent" "$bin" "${only[@]}" --log_level=unit_scope --color_output=no --report_format=XML \
        --report_sink="$report" 2>&1 | grep -vE '(Entering test|Leaving test suite|Leaving test module|Running [0-9]+ test|skipped because disabled)' ; rc=${PIPESTATUS[0]}
    [ "$rc" -ne 0 ] && status=1
    if [ -s "$report" ]; then
        # The first TestSuite element is the module: its counters cover everything.
        line=$(grep -o '<TestSuite [^>]*>' "$report" | head -n1)
        # A suite run out of a larger binary: its own counters, not the others' skips.
        [ $grid_suite = 1 ] && line=$(grep -o "<TestSuite name=\"$suite\"[^>]*>" "$report" | head -n1)
        get() { echo "$line" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
        # Aborted test cases are counted among the failed ones already.
        p=$(get test_cases_passed); f=$(get test_cases_failed)
        s=$(get test_cases_skipped)
        passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
    else
        echo "$suite: no report written (the runner crashed)"; failed=$((failed + 1)); status=1
    fi
done
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
