#!/usr/bin/env bash
# Checks a Hearth run of the risk example against a single-process run.
#
#   check.sh OUT_DIR --blocks SET --paths P [--bin-dir DIR]
#
# Merges OUT_DIR's block files with risk_merge, computes the same blocks in
# one process with `risk_mc --serial` (every loss in one sorted vector, no
# block files, no per-block tails), and compares the two reports byte for
# byte. Losses are integer millionths of a currency unit, so every figure is
# exact integer arithmetic and "equal" means identical text.
#
# Prints the report and "check: ... identical to the serial run" and exits 0;
# prints both reports and exits 1 when they differ or the merge fails. Usage
# errors exit 2.
set -euo pipefail

prog=check.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage_line="usage: $prog OUT_DIR --blocks SET --paths P [--bin-dir DIR]"

die_usage() {
    echo "$prog: $*" >&2
    exit 2
}
die() {
    echo "$prog: $*" >&2
    exit 1
}

out_dir=
blocks=
paths=
bin_dir=$script_dir/../../build/examples/risk-mc
while (($# > 0)); do
    case $1 in
    -h | --help)
        sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    --blocks | --paths | --bin-dir)
        (($# >= 2)) || die_usage "$1 needs a value"
        case $1 in
        --blocks) blocks=$2 ;;
        --paths) paths=$2 ;;
        --bin-dir) bin_dir=$2 ;;
        esac
        shift 2
        ;;
    --blocks=* | --paths=* | --bin-dir=*)
        opt=${1%%=*}
        set -- "$opt" "${1#*=}" "${@:2}"
        ;;
    -*)
        die_usage "unknown option '$1' ($usage_line)"
        ;;
    *)
        [[ -z $out_dir ]] || die_usage "one OUT_DIR only, got '$out_dir' and '$1'"
        out_dir=$1
        shift
        ;;
    esac
done
if [[ -z $out_dir || -z $blocks || -z $paths ]]; then
    echo "$usage_line" >&2
    exit 2
fi
[[ -d $out_dir ]] || die_usage "OUT_DIR '$out_dir' is not a directory"
for b in risk_mc risk_merge; do
    [[ -x $bin_dir/$b ]] || die "no $bin_dir/$b: build it (make risk-mc) or pass --bin-dir DIR"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/risk-check.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

rc=0
"$bin_dir/risk_merge" --blocks "$blocks" --paths "$paths" "$out_dir" >"$work/merged.txt" 2>"$work/merge.err" || rc=$?
if ((rc == 2)); then
    die_usage "$(cat "$work/merge.err")"
elif ((rc != 0)); then
    cat "$work/merge.err" >&2
    die "the merge of $out_dir failed (above); nothing to compare"
fi
rc=0
"$bin_dir/risk_mc" --serial --blocks "$blocks" --paths "$paths" >"$work/serial.txt" 2>"$work/serial.err" || rc=$?
if ((rc == 2)); then
    die_usage "$(cat "$work/serial.err")"
elif ((rc != 0)); then
    cat "$work/serial.err" >&2
    die "the serial run failed (above)"
fi

if cmp -s -- "$work/merged.txt" "$work/serial.txt"; then
    cat "$work/merged.txt"
    echo "check: merged result of $out_dir identical to the serial run (blocks $blocks, $paths paths each)"
    exit 0
fi
echo "check: merged result of $out_dir DIFFERS from the serial run"
echo "--- merged ($out_dir)"
cat "$work/merged.txt"
echo "--- serial"
cat "$work/serial.txt"
exit 1
