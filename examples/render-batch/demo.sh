#!/usr/bin/env bash
# `make demo`: renders a short animation through Hearth and proves the frames
# match a serial render.
#
#   demo.sh PATH_TO_HEARTH
#
# 12 frames at 320x180, 2 frames per task, into ./hearth-jobs/demo-<timestamp>;
# then check.sh compares every frame with a serial render; then, if ImageMagick
# `montage` or `ffmpeg` is installed, a 4x3 contact sheet of the frames.
# Exits non-zero if any step fails.
set -euo pipefail

prog=demo.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if (($# != 1)) || [[ $1 == -* ]]; then
    [[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0; }
    echo "usage: $prog PATH_TO_HEARTH" >&2
    exit 2
fi
hearth=$1

frames=1-12
last=12
size=320x180
job_dir=hearth-jobs/demo-$(date +%Y%m%d-%H%M%S)
base=$job_dir
n=1
while [[ -e $job_dir ]]; do
    n=$((n + 1))
    job_dir=$base-$n
done
out=$job_dir/out

# Energy accounting: a grid-agent for this machine, with a private socket and
# ledger. On a machine without readable RAPL (VMs) it falls back to the power
# model and says so; every figure is then marked estimated.
agent_bin=$(dirname "$hearth")/grid-agent
agent_pid=
if [[ -x $agent_bin ]]; then
    mkdir -p "$job_dir.agent"
    agent_dir=$(cd "$job_dir.agent" && pwd)
    "$agent_bin" --node demo --site studio-basement --listen 127.0.0.1:0 --no-auth \
        --socket "$agent_dir/agent.sock" --ledger "$agent_dir/ledger.db" 2>"$agent_dir/agent.log" &
    agent_pid=$!
    trap '[[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null; wait 2>/dev/null' EXIT
    for _ in $(seq 50); do [[ -S $agent_dir/agent.sock ]] && break; sleep 0.1; done
    export HEARTH_AGENT_SOCKET=$agent_dir/agent.sock
    echo "== demo: grid-agent is measuring this machine's energy ($(grep -m1 'energy source' "$agent_dir/agent.log" | sed 's/^grid-agent: //'))"
fi

echo "== demo: rendering $frames at $size through hearth ($hearth)"
"$script_dir/run.sh" --frames "$frames" --chunk 2 --size "$size" --hearth "$hearth" --job-dir "$job_dir"

if [[ -n $agent_pid ]]; then
    kill "$agent_pid" && wait "$agent_pid" || true
    agent_pid=
    echo "== demo: energy charged, from the ledger ($agent_dir/ledger.db)"
    "$hearth" energy --ledger "$agent_dir/ledger.db" --by tenant
fi

echo "== demo: checking against a serial render"
"$script_dir/check.sh" "$out" --frames "$frames" --last-frame "$last" --size "$size"

sheet=
if command -v montage >/dev/null 2>&1; then
    sheet=$job_dir/contact-sheet.png
    montage "$out"/frame*.png -tile 4x3 -geometry +2+2 -background '#202020' "$sheet"
elif command -v ffmpeg >/dev/null 2>&1; then
    sheet=$job_dir/contact-sheet.png
    ffmpeg -nostdin -loglevel error -y -start_number 1 -i "$out/frame%02d.png" \
        -vf 'tile=4x3:padding=2:margin=2:color=0x202020' -frames:v 1 "$sheet"
else
    echo "demo: no montage/ffmpeg: skipped the contact sheet"
fi

abs_out=$(cd "$out" && pwd)
count=$(find "$abs_out" -maxdepth 1 -name 'frame*.png' | wc -l)
echo
echo "demo: done. $count frames are in $abs_out/"
if [[ -n $sheet ]]; then
    echo "demo: contact sheet: $(cd "$(dirname "$sheet")" && pwd)/$(basename "$sheet")"
fi
echo "demo: job summary: $(cd "$job_dir" && pwd)/summary.json"
