#!/usr/bin/env bash
# Renders a .blend with Cycles as a Hearth job and merges the frames into a
# video: one task per chunk of frames, the .blend staged into each task's
# scratch directory, the PNGs collected.
#
#   run.sh [--blend FILE] [--frames SET] [--chunk K] [--threads N]
#          [--server URL] [--out DIR] [--video FILE] [--hearth PATH] [extra hearth options...]
#
# Without --blend, builds the example scene (make_scene.py: 64x48, 8 samples,
# frames 1-6) into ./scene.blend. --frames defaults to the file's range, and
# a set outside it is refused before anything is queued. Without --server
# (or HEARTH_SERVER) the job runs here (`hearth run`); with one, it is sent
# with `hearth submit`, followed with `hearth status` and its frames fetched
# with `hearth fetch`. Frames land in --out (default ./frames), the video
# (H.264, 24 fps, ffmpeg) in --video (default ./video.mp4). Tenant:
# $HEARTH_TENANT or "studio".
set -euo pipefail

prog=run.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die_usage() { echo "$prog: $*" >&2; exit 2; }
die() { echo "$prog: $*" >&2; exit 1; }
# shellcheck source=blend.sh
. "$script_dir/blend.sh"

blend= frames= chunk=2 threads=1 server=${HEARTH_SERVER:-} out=frames video=video.mp4 hearth=
extra=()
while (($# > 0)); do
    case $1 in
    -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --blend | --frames | --chunk | --threads | --server | --out | --video | --hearth)
        (($# >= 2)) || die_usage "$1 needs a value"
        v=$2
        case $1 in
        --blend) blend=$v ;; --frames) frames=$v ;; --chunk) chunk=$v ;; --threads) threads=$v ;;
        --server) server=$v ;; --out) out=$v ;; --video) video=$v ;; --hearth) hearth=$v ;;
        esac
        shift 2 ;;
    *) extra+=("$1"); shift ;;
    esac
done

command -v blender >/dev/null 2>&1 || die "blender is not installed (Debian: apt-get install blender)"
command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg is not installed (Debian: apt-get install ffmpeg)"
[[ $chunk =~ ^[1-9][0-9]{0,8}$ ]] || die_usage "--chunk must be a whole number >= 1, got '$chunk'"
[[ $threads =~ ^[0-9]{1,4}$ ]] || die_usage "--threads must be a whole number (0: Blender picks), got '$threads'"
if [[ -n $hearth ]]; then
    [[ -x $hearth && ! -d $hearth ]] || die "--hearth $hearth: not an executable file"
elif command -v hearth >/dev/null 2>&1; then
    hearth=$(command -v hearth)
elif [[ -x $script_dir/../../build/bin/hearth ]]; then
    hearth=$script_dir/../../build/bin/hearth
else
    die "no hearth binary: build it (make), put it on PATH or pass --hearth PATH"
fi

if [[ -z $blend ]]; then
    blend=$PWD/scene.blend
    blender -b --factory-startup --python "$script_dir/make_scene.py" -- "$blend" >/dev/null 2>&1 ||
        die "building the example scene failed: blender -b --python $script_dir/make_scene.py -- $blend"
fi
why=$(blend_check_file "$blend") || die_usage "--blend $why"
range=$(blend_frame_range "$blend") || die_usage "$range"
read -r file_first file_last <<<"$range"
[[ -n $frames ]] || frames=$file_first-$file_last
bounds=$(frame_set_bounds "$frames") || die_usage "--frames: $bounds"
read -r min max <<<"$bounds"
((min >= file_first && max <= file_last)) ||
    die_usage "--frames $frames is outside $(basename -- "$blend")'s frames $file_first-$file_last; pick frames in that range (or change the scene's range in Blender)"

# Blender resolves relative paths against $PWD, which a task inherits from
# whoever started Hearth, not its scratch directory: sh resets $PWD to the
# real working directory, and the paths Blender sees are absolute.
# {items} is the task's frames, comma-separated: Blender's -f takes that list.
# -o comes after the .blend, or loading the file would reset it.
task=(sh -c "exec blender -b \"\$PWD/$(basename -- "$blend")\" -o \"\$PWD/frame_####\" -F PNG -t $threads -f {items}")
tenant=${HEARTH_TENANT:-studio}
echo "$prog: rendering frames $frames of $(basename -- "$blend") ($file_first-$file_last), $chunk a task, tenant $tenant"
mkdir -p -- "$out"
rc=0
if [[ -z $server ]]; then
    job_dir=$out.job
    rm -rf -- "$job_dir"
    "$hearth" run "${extra[@]}" --stage "$(realpath -- "$blend")" --collect 'frame_*.png' --tenant "$tenant" \
        --frames "$frames" --chunk "$chunk" --job-dir "$job_dir" -- "${task[@]}" || rc=$?
    ((rc == 0)) || die "hearth run failed (exit $rc); see $job_dir (hearth logs $job_dir TASK)"
    cp -- "$job_dir"/out/frame_*.png "$out"/
else
    job=$("$hearth" submit "${extra[@]}" --stage "$(realpath -- "$blend")" --collect 'frame_*.png' \
        --tenant "$tenant" --frames "$frames" --chunk "$chunk" --server "$server" -- "${task[@]}") ||
        die "hearth submit failed"
    echo "$prog: job $job queued at $server"
    while :; do
        state=$("$hearth" status "$job" --server "$server" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
        case $state in finished | failed | cancelled) break ;; esac
        sleep 1
    done
    [[ $state == finished ]] || die "job $job $state; see: hearth logs $job TASK --server $server"
    "$hearth" fetch "$job" --server "$server" --out "$out" >/dev/null
fi

echo "$prog: frames in $out/; merging into $video"
# A glob, not frame_%04d.png: a stepped set (1-240x2) has gaps.
ffmpeg -v error -y -framerate 24 -pattern_type glob -i "$out/frame_*.png" \
    -c:v libx264 -pix_fmt yuv420p "$video" || die "ffmpeg could not merge the frames of $out"
echo "$prog: compare with a serial render: $script_dir/check.sh $out --blend $blend --frames $frames"
