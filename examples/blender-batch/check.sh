#!/usr/bin/env bash
# Checks frames rendered through Hearth against a serial render of the same
# .blend on this machine:
#
#   check.sh OUT_DIR --blend FILE [--frames SET]
#
# Renders SET (default: the file's range) in one Blender call, frame after
# frame, into a temporary directory, and compares each frame_NNNN.png with
# OUT_DIR's copy pixel for pixel: both PNGs are decoded by ffmpeg and the MD5
# of the decoded pixels (ffmpeg's framemd5 muxer) must match. Cycles with a
# fixed seed and sample count, adaptive sampling and the denoiser off, and the
# render stamps off (make_scene.py) gives the same pixels on every run; the
# files usually match byte for byte too, which is reported.
#
# Prints "check: N frames identical to the serial render" and exits 0, or
# names each missing or different frame and exits 1. Usage errors exit 2.
set -euo pipefail

prog=check.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die_usage() { echo "$prog: $*" >&2; exit 2; }
die() { echo "$prog: $*" >&2; exit 1; }
# shellcheck source=blend.sh
. "$script_dir/blend.sh"

out_dir= blend= frames=
while (($# > 0)); do
    case $1 in
    -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --blend | --frames)
        (($# >= 2)) || die_usage "$1 needs a value"
        [[ $1 == --blend ]] && blend=$2 || frames=$2
        shift 2 ;;
    -*) die_usage "unknown option '$1' (usage: $prog OUT_DIR --blend FILE [--frames SET])" ;;
    *) [[ -z $out_dir ]] || die_usage "one OUT_DIR only"; out_dir=$1; shift ;;
    esac
done
[[ -n $out_dir && -n $blend ]] || die_usage "usage: $prog OUT_DIR --blend FILE [--frames SET]"
[[ -d $out_dir ]] || die_usage "OUT_DIR '$out_dir' is not a directory"
why=$(blend_check_file "$blend") || die_usage "--blend $why"
command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg is not installed (Debian: apt-get install ffmpeg)"
if [[ -z $frames ]]; then
    range=$(blend_frame_range "$blend") || die_usage "$range"
    read -r a b <<<"$range"
    frames=$a-$b
fi
frame_set_bounds "$frames" >/dev/null || die_usage "--frames: $(frame_set_bounds "$frames")"
# The frames of SET, one a line (Blender's -f takes A..B, not Hearth's A-BxS).
list=$(IFS=,; for part in $frames; do
    s=1; [[ $part == *x* ]] && s=${part##*x} && part=${part%x*}
    seq "$((10#${part%%-*}))" "$s" "$((10#${part##*-}))"
done | sort -n -u)

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-blend-check.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
echo "check: rendering $(wc -l <<<"$list") frames serially in $work"
blender -b "$(realpath -- "$blend")" -o "$work/frame_####" -F PNG -f "$(paste -sd, <<<"$list")" \
    >"$work/blender.log" 2>&1 || { tail -n 5 "$work/blender.log" >&2; die "the serial render failed"; }

pixels() { ffmpeg -v error -i "$1" -f framemd5 - 2>/dev/null | grep -v '^#'; }
same=0 bytes=0 bad=0
for f in $list; do
    name=$(printf 'frame_%04d.png' "$f")
    if [[ ! -f $out_dir/$name ]]; then
        echo "check: frame $f missing: $out_dir/$name"; bad=$((bad + 1))
    elif a=$(pixels "$work/$name") && [[ -n $a && $a == "$(pixels "$out_dir/$name")" ]]; then
        same=$((same + 1))
        cmp -s -- "$work/$name" "$out_dir/$name" && bytes=$((bytes + 1))
    else
        echo "check: frame $f differs: $out_dir/$name"; bad=$((bad + 1))
    fi
done
if ((bad > 0)); then
    echo "check: $bad of $((same + bad)) frames missing or different from the serial render ($same identical)"
    exit 1
fi
echo "check: $same frames identical to the serial render (decoded pixels, ffmpeg framemd5; $bytes of them byte for byte)"
