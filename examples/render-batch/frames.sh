# Frame sets of the example scripts: "A-B", "C", and comma lists of them
# (frames >= 1, no steps; POV-Ray renders a task's frames as one range).
# Sourced by run.sh and check.sh.

# Prints one "A B" line per part of SET, or prints why SET is not accepted
# and returns 1.
frame_ranges() {
    local set=$1 part a b
    local -a parts
    if [[ ! $set =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]]; then
        if [[ $set =~ [0-9]x[0-9] ]]; then
            echo "frame set '$set': steps (AxS) are not supported here; list the frames, e.g. 1-10,15,20-24"
        else
            echo "frame set '$set' is not of the form A-B or a comma list of numbers and ranges, e.g. 1-48 or 1-10,15,20-24"
        fi
        return 1
    fi
    IFS=, read -ra parts <<<"$set"
    for part in "${parts[@]}"; do
        a=${part%%-*}
        b=${part##*-}
        if ((${#a} > 9 || ${#b} > 9)); then
            echo "frame set '$set': frame numbers above 999999999 are not supported"
            return 1
        fi
        a=$((10#$a))
        b=$((10#$b))
        if ((a < 1)); then
            echo "frame set '$set': frames start at 1 (the scene is rendered with +KFI1)"
            return 1
        fi
        if ((a > b)); then
            echo "frame set '$set': range '$part' is reversed; write $b-$a"
            return 1
        fi
        echo "$a $b"
    done
}
