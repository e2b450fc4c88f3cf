#!/usr/bin/env bash
# Renders the example animation (scene.pov) as a Hearth job: one task per
# chunk of frames, each task one POV-Ray call in its own scratch directory.
#
#   run.sh [--frames SET] [--chunk K] [--size WxH] [--last-frame N]
#          [--hearth PATH] [--job-dir DIR] [extra hearth options...]
#
# Defaults: frames 1-48, chunk 4, 640x360, the animation ends at the last frame
# of SET, hearth from PATH or ../../build/bin/hearth, job directory
# ./hearth-jobs/render-<timestamp>, tenant $HEARTH_TENANT or "studio".
# Options this script does not know (e.g. --slots 2 --json) go to `hearth run`
# unchanged; so does everything after a `--`.
set -euo pipefail

prog=run.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die_usage() {
    echo "$prog: $*" >&2
    exit 2
}
die() {
    echo "$prog: $*" >&2
    exit 1
}

# shellcheck source=frames.sh
. "$script_dir/frames.sh"

# The smallest and largest frame of SET: prints "MIN MAX", or why SET is not
# accepted (and returns 1).
frame_bounds() {
    local ranges a b min=0 max=0
    ranges=$(frame_ranges "$1") || { echo "$ranges"; return 1; }
    while read -r a b; do
        ((min == 0 || a < min)) && min=$a
        ((b > max)) && max=$b
    done <<<"$ranges"
    echo "$min $max"
}

frames=1-48
chunk=4
size=640x360
last_frame=
hearth=
job_dir=
extra=()

while (($# > 0)); do
    case $1 in
    -h | --help)
        sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    --frames | --chunk | --size | --last-frame | --hearth | --job-dir)
        (($# >= 2)) || die_usage "$1 needs a value"
        case $1 in
        --frames) frames=$2 ;;
        --chunk) chunk=$2 ;;
        --size) size=$2 ;;
        --last-frame) last_frame=$2 ;;
        --hearth) hearth=$2 ;;
        --job-dir) job_dir=$2 ;;
        esac
        shift 2
        ;;
    --frames=* | --chunk=* | --size=* | --last-frame=* | --hearth=* | --job-dir=*)
        opt=${1%%=*}
        set -- "$opt" "${1#*=}" "${@:2}"
        ;;
    --)
        shift
        extra+=("$@")
        break
        ;;
    *)
        extra+=("$1")
        shift
        ;;
    esac
done

bounds=$(frame_bounds "$frames") || die_usage "$bounds"
read -r min max <<<"$bounds"
[[ $chunk =~ ^[1-9][0-9]{0,8}$ ]] || die_usage "--chunk must be a whole number >= 1, got '$chunk'"
[[ $size =~ ^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$ ]] || die_usage "--size must be WIDTHxHEIGHT, e.g. 640x360, got '$size'"
width=${BASH_REMATCH[1]}
height=${BASH_REMATCH[2]}
if [[ -z $last_frame ]]; then
    last_frame=$max
else
    [[ $last_frame =~ ^[1-9][0-9]{0,8}$ ]] || die_usage "--last-frame must be a whole number >= 1, got '$last_frame'"
    last_frame=$((10#$last_frame))
    ((last_frame >= max)) || die_usage "--last-frame $last_frame is before frame $max of --frames $frames"
fi

# Which hearth: --hearth, else the one on PATH, else this checkout's build.
if [[ -n $hearth ]]; then
    if [[ $hearth != */* ]]; then
        hearth=$(command -v -- "$hearth") || die "--hearth $hearth: not found on PATH"
    fi
    [[ -x $hearth && ! -d $hearth ]] || die "--hearth $hearth: not an executable file"
elif command -v hearth >/dev/null 2>&1; then
    hearth=$(command -v hearth)
elif [[ -x $script_dir/../../build/bin/hearth ]]; then
    hearth=$script_dir/../../build/bin/hearth
else
    die "no hearth binary: build it (make), put it on PATH or pass --hearth PATH"
fi
command -v povray >/dev/null 2>&1 || die "povray is not installed (Debian: apt-get install povray)"

if [[ -z $job_dir ]]; then
    job_dir=hearth-jobs/render-$(date +%Y%m%d-%H%M%S)
    base=$job_dir
    n=1
    while [[ -e $job_dir ]]; do
        n=$((n + 1))
        job_dir=$base-$n
    done
fi
mkdir -p -- "$(dirname -- "$job_dir")"
tenant=${HEARTH_TENANT:-studio}

# POV-Ray names animation frames <base><frame>.png, the frame number
# zero-padded to the width of the final frame (+KFF): frame01..frame48.
# With a one-frame animation (+KFF1) it writes plain frame.png.
if ((last_frame == 1)); then
    first_name=frame.png
    last_name=frame.png
else
    first_name=$(printf 'frame%0*d.png' "${#last_frame}" "$min")
    last_name=$(printf 'frame%0*d.png' "${#last_frame}" "$max")
fi

povray_cmd=(povray -D -V -GS -GR +WT1 +Iscene.pov +Oframe.png "+W$width" "+H$height" +A0.3
    +KFI1 "+KFF$last_frame" '+SF{first}' '+EF{last}')

echo "$prog: rendering frames $frames of 1-$last_frame at ${width}x$height, $chunk per task, tenant $tenant"
echo "$prog: job directory $job_dir"
rc=0
# The repeatable options (--stage, --collect) come first and single-valued
# ones last, so a repeatable option never stands right before `--`.
"$hearth" run "${extra[@]}" --stage "$script_dir/scene.pov" --collect 'frame*.png' \
    --name orrery --tenant "$tenant" --frames "$frames" --chunk "$chunk" --job-dir "$job_dir" \
    -- "${povray_cmd[@]}" || rc=$?
if ((rc != 0)); then
    echo "$prog: hearth run failed (exit $rc); see the job directory $job_dir" >&2
    exit "$rc"
fi

echo "$prog: frames are in $job_dir/out/ ($first_name .. $last_name)"
echo "$prog: compare with a serial render: $script_dir/check.sh $job_dir/out --frames $frames --last-frame $last_frame --size $size"
