# The .blend checks of run.sh and check.sh (sourced): refuse a file that is
# missing or not a Blender file, read a file's frame range, refuse frames
# outside it. Each prints one line naming the problem and the fix.

# Returns 1 and prints why when FILE is not a readable Blender file. A .blend
# starts with "BLENDER" or, saved compressed, with zstd's (Blender 3.0 on)
# or gzip's magic number.
blend_check_file() {
    local f=$1 magic
    [[ -e $f ]] || { echo "'$f' does not exist; give the path of a .blend file"; return 1; }
    [[ -f $f && -r $f ]] || { echo "'$f' is not a readable file; give the path of a .blend file"; return 1; }
    magic=$(head -c 7 -- "$f" | od -An -tx1 | tr -d ' \n')
    case $magic in
    424c454e444552 | 28b52ffd* | 1f8b*) return 0 ;;
    esac
    echo "'$f' is not a Blender file (no BLENDER header); save the scene from Blender as a .blend"
    return 1
}

# Prints "START END" of FILE's scene, or why not (returns 1).
blend_frame_range() {
    local out line
    out=$(blender -b --factory-startup "$(realpath -- "$1")" --python "$script_dir/blend_info.py" 2>&1) || true
    line=$(grep -m1 '^hearth-blend-info ' <<<"$out") || {
        echo "blender could not read '$1': $(grep -m1 -i 'error\|warning' <<<"$out" || echo "no frame range printed")"
        return 1
    }
    read -r _ a b _ <<<"$line"
    echo "$a $b"
}

# Prints "MIN MAX" of a Hearth frame set (A, A-B, A-BxS, comma lists), or
# why it is not one (returns 1). Hearth itself parses the set again.
frame_set_bounds() {
    local set=$1 part a b s min= max=
    local -a parts
    [[ $set =~ ^[0-9]+(-[0-9]+(x[0-9]+)?)?(,[0-9]+(-[0-9]+(x[0-9]+)?)?)*$ ]] || {
        echo "frame set '$set' is not of the form A-B, A-BxSTEP or a comma list of them, e.g. 1-240 or 1-10,15"
        return 1
    }
    IFS=, read -ra parts <<<"$set"
    for part in "${parts[@]}"; do
        s=1
        [[ $part == *x* ]] && s=$((10#${part##*x})) && part=${part%x*}
        a=$((10#${part%%-*}))
        b=$((10#${part##*-}))
        ((s >= 1 && b >= a)) || { echo "frame set '$set': '$part' runs backwards or has step 0"; return 1; }
        b=$((a + (b - a) / s * s))
        [[ -z $min ]] || ((a < min)) && min=$a
        [[ -z $max ]] || ((b > max)) && max=$b
    done
    echo "$min $max"
}
