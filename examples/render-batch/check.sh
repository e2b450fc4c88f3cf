#!/usr/bin/env bash
# Checks frames rendered by Hearth against a plain serial render.
#
#   check.sh OUT_DIR --frames SET --last-frame N [--size WxH]
#
# Renders every frame of SET on its own (one povray call per frame, in a
# temporary directory, with the flags run.sh uses and the same +KFF N so the
# clock and the file names match) and compares each with OUT_DIR's copy byte
# for byte. SET is "A-B" or a comma list of numbers and ranges ("1-10,15").
#
# POV-Ray 3.7 stamps every PNG with the time of the render (a tIME chunk and a
# "Render Date:" line in the tEXt "Comment" chunk) and has no option to turn
# that off, so two renders of a frame are byte-identical only within the same
# second. A frame whose files differ counts as identical when they are equal
# byte for byte once those two chunks are dropped from both: header, pixel
# data and every other chunk still have to match exactly.
#
# Prints "check: N frames identical to the serial render" and exits 0, or names
# each missing or different frame and exits 1. Usage errors exit 2.
set -euo pipefail

prog=check.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage_line="usage: $prog OUT_DIR --frames SET --last-frame N [--size WxH]"
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

# Prints the frames of SET, one a line, ascending, each once; or prints why
# SET is not accepted and returns 1. Every frame is rendered serially here, so
# sets stay small.
expand_frames() {
    local ranges a b
    ranges=$(frame_ranges "$1") || { echo "$ranges"; return 1; }
    while read -r a b; do
        if ((b > 999999)); then
            echo "frame set '$1': frame numbers above 999999 are not supported by the check"
            return 1
        fi
        seq "$a" "$b"
    done <<<"$ranges" | sort -n -u
}

# Exit 0 when two PNG files are equal byte for byte after dropping the chunks
# POV-Ray fills with the render time (tIME, and the tEXt "Comment" chunk that
# starts "Render Date:"); 1 when they differ; 2 when a file is not a PNG.
same_but_timestamp() {
    python3 - "$1" "$2" <<'PY'
import struct, sys

def canonical(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(2)
    out, i = [data[:8]], 8
    while i + 12 <= len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        stamp = kind == b"tIME" or (kind == b"tEXt" and body.startswith(b"Comment\0Render Date:"))
        if not stamp:
            out.append(data[i:i + 12 + n])
        i += 12 + n
    out.append(data[i:])  # trailing garbage, if any, still has to match
    return b"".join(out)

sys.exit(0 if canonical(sys.argv[1]) == canonical(sys.argv[2]) else 1)
PY
}

out_dir=
frames=
last_frame=
size=640x360
while (($# > 0)); do
    case $1 in
    -h | --help)
        sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    --frames | --last-frame | --size)
        (($# >= 2)) || die_usage "$1 needs a value"
        case $1 in
        --frames) frames=$2 ;;
        --last-frame) last_frame=$2 ;;
        --size) size=$2 ;;
        esac
        shift 2
        ;;
    --frames=* | --last-frame=* | --size=*)
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

if [[ -z $out_dir || -z $frames || -z $last_frame ]]; then
    echo "$usage_line" >&2
    exit 2
fi
[[ -d $out_dir ]] || die_usage "OUT_DIR '$out_dir' is not a directory"
[[ $last_frame =~ ^[1-9][0-9]{0,5}$ ]] || die_usage "--last-frame must be a whole number >= 1, got '$last_frame'"
last_frame=$((10#$last_frame))
[[ $size =~ ^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$ ]] || die_usage "--size must be WIDTHxHEIGHT, e.g. 640x360, got '$size'"
width=${BASH_REMATCH[1]}
height=${BASH_REMATCH[2]}
list=$(expand_frames "$frames") || die_usage "$list"
mapfile -t frame_list <<<"$list"
((frame_list[-1] <= last_frame)) || die_usage "frame ${frame_list[-1]} of --frames $frames is after --last-frame $last_frame"
command -v povray >/dev/null 2>&1 || die "povray is not installed (Debian: apt-get install povray)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to compare PNGs past POV-Ray's render-time stamp"

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-check.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
cp -- "$script_dir/scene.pov" "$work/scene.pov"

# Same naming as POV-Ray: frame number zero-padded to the width of +KFF;
# a one-frame animation (+KFF1) is written as plain frame.png.
frame_name() {
    if ((last_frame == 1)); then
        echo frame.png
    else
        printf 'frame%0*d.png\n' "${#last_frame}" "$1"
    fi
}

echo "check: rendering ${#frame_list[@]} frames serially at ${width}x$height (+KFF$last_frame) in $work"
identical=0
stamp_only=0
bad=0
for f in "${frame_list[@]}"; do
    name=$(frame_name "$f")
    if ! (cd "$work" && povray -D -V -GS -GR +WT1 +Iscene.pov +Oframe.png "+W$width" "+H$height" +A0.3 \
        +KFI1 "+KFF$last_frame" "+SF$f" "+EF$f" 2>"$work/povray.log"); then
        tail -n 5 "$work/povray.log" >&2
        die "the serial render of frame $f failed (povray's last lines above)"
    fi
    [[ -f $work/$name ]] || die "povray did not write $name for frame $f"
    if [[ ! -f $out_dir/$name ]]; then
        echo "check: frame $f missing: $out_dir/$name"
        bad=$((bad + 1))
    elif cmp -s -- "$work/$name" "$out_dir/$name"; then
        identical=$((identical + 1))
    elif same_but_timestamp "$work/$name" "$out_dir/$name"; then
        identical=$((identical + 1))
        stamp_only=$((stamp_only + 1))
    else
        echo "check: frame $f differs: $out_dir/$name"
        bad=$((bad + 1))
    fi
    rm -f -- "$work/$name"
done

if ((bad > 0)); then
    echo "check: $bad of ${#frame_list[@]} frames missing or different from the serial render ($identical identical)"
    exit 1
fi
echo "check: $identical frames identical to the serial render"
if ((stamp_only > 0)); then
    echo "check: ($stamp_only of them differ only in the render-time stamp POV-Ray writes into every PNG; pixels and all other chunks match byte for byte)"
fi
