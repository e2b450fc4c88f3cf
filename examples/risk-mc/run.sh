#!/usr/bin/env bash
# Computes the book's one-day 99% VaR and ES as a Hearth job: one task per
# chunk of seed blocks, each task one risk_mc call; then merges the blocks.
#
#   run.sh [--blocks N] [--paths P] [--chunk K] [--hosts FILE] [--tenant T]
#          [--agent] [--json] [--hearth PATH] [--bin-dir DIR] [--job-dir DIR]
#          [extra hearth options...]
#
# Defaults: blocks 0..63, 20000 paths a block, 1 block a task, this machine,
# tenant $HEARTH_TENANT or "bank", hearth from PATH or ../../build/bin/hearth,
# risk_mc and risk_merge from ../../build/examples/risk-mc, job directory
# ./hearth-jobs/risk-<timestamp>. --agent starts a private grid-agent for
# this machine so the job's energy is measured; --json prints the result as
# JSON. Other options (e.g. --slots 2) go to `hearth run` unchanged.
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

# A top-level field of a summary.json (as hearth writes it: one key a line).
summary_field() {
    sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$2" | head -n 1
}

blocks=64
paths=20000
chunk=1
hosts=
tenant=${HEARTH_TENANT:-bank}
agent=0
json=0
hearth=
bin_dir=
job_dir=
extra=()

while (($# > 0)); do
    case $1 in
    -h | --help)
        sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    --blocks | --paths | --chunk | --hosts | --tenant | --hearth | --bin-dir | --job-dir)
        (($# >= 2)) || die_usage "$1 needs a value"
        case $1 in
        --blocks) blocks=$2 ;;
        --paths) paths=$2 ;;
        --chunk) chunk=$2 ;;
        --hosts) hosts=$2 ;;
        --tenant) tenant=$2 ;;
        --hearth) hearth=$2 ;;
        --bin-dir) bin_dir=$2 ;;
        --job-dir) job_dir=$2 ;;
        esac
        shift 2
        ;;
    --blocks=* | --paths=* | --chunk=* | --hosts=* | --tenant=* | --hearth=* | --bin-dir=* | --job-dir=*)
        opt=${1%%=*}
        set -- "$opt" "${1#*=}" "${@:2}"
        ;;
    --agent)
        agent=1
        shift
        ;;
    --json)
        json=1
        shift
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

[[ $blocks =~ ^[1-9][0-9]{0,8}$ ]] || die_usage "--blocks must be a whole number from 1 to 999999999, got '$blocks'"
if [[ ! $paths =~ ^[1-9][0-9]{0,7}$ ]] || ((paths > 10000000)); then
    die_usage "--paths must be a whole number from 1 to 10000000, got '$paths'"
fi
[[ $chunk =~ ^[1-9][0-9]{0,8}$ ]] || die_usage "--chunk must be a whole number >= 1, got '$chunk'"
if [[ -n $hosts ]]; then
    [[ -f $hosts ]] || die_usage "--hosts '$hosts' is not a file"
    ((agent == 0)) || die_usage "--agent measures this machine only; with --hosts, run grid-agent on every host instead"
fi
last=$((blocks - 1))

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
bin_dir=${bin_dir:-$script_dir/../../build/examples/risk-mc}
for b in risk_mc risk_merge; do
    [[ -x $bin_dir/$b ]] || die "no $bin_dir/$b: build it (make risk-mc) or pass --bin-dir DIR"
done

if [[ -z $job_dir ]]; then
    job_dir=hearth-jobs/risk-$(date +%Y%m%d-%H%M%S)
    base=$job_dir
    n=1
    while [[ -e $job_dir ]]; do
        n=$((n + 1))
        job_dir=$base-$n
    done
fi
[[ ! -e $job_dir ]] || die_usage "--job-dir '$job_dir' already exists; hearth needs a new directory"
mkdir -p -- "$(dirname -- "$job_dir")"

# Energy: a private grid-agent with its own socket and ledger next to the job
# directory (hearth wants the job directory itself to be new).
agent_pid=
agent_dir=
if ((agent)); then
    [[ -x $(dirname "$hearth")/grid-agent ]] || die "--agent: no grid-agent next to $hearth; build it (make)"
    mkdir -p "$job_dir.agent"
    agent_dir=$(cd "$job_dir.agent" && pwd)
    "$(dirname "$hearth")/grid-agent" --node "$(hostname -s)" --site risk-example --listen 127.0.0.1:0 --no-auth \
        --socket "$agent_dir/agent.sock" --ledger "$agent_dir/ledger.db" 2>"$agent_dir/agent.log" &
    agent_pid=$!
    trap '[[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null; wait 2>/dev/null' EXIT
    for _ in $(seq 50); do [[ -S $agent_dir/agent.sock ]] && break; sleep 0.1; done
    [[ -S $agent_dir/agent.sock ]] || die "--agent: grid-agent did not start; see $agent_dir/agent.log"
    export HEARTH_AGENT_SOCKET=$agent_dir/agent.sock
    echo "$prog: grid-agent is measuring this machine ($(grep -m1 'energy source' "$agent_dir/agent.log" | sed 's/^grid-agent: //; s/; .*//'))" >&2
fi

echo "$prog: blocks 0-$last x $paths paths, $chunk block(s) a task, tenant $tenant" >&2
echo "$prog: job directory $job_dir" >&2
hosts_opt=()
[[ -n $hosts ]] && hosts_opt=(--hosts "$hosts")
# risk_mc is staged (copied into every task's scratch directory), so nodes
# need QuantLib's shared library but no copy of this build.
events=$(mktemp "${TMPDIR:-/tmp}/risk-events.XXXXXX")
rc=0
"$hearth" run "${extra[@]}" --stage "$bin_dir/risk_mc" --collect 'block_*.bin' \
    --name risk --tenant "$tenant" --seeds "0-$last" --chunk "$chunk" "${hosts_opt[@]}" \
    --job-dir "$job_dir" -- ./risk_mc --blocks '{first}-{last}' --paths "$paths" >"$events" || rc=$?
if [[ -d $job_dir ]]; then mv -- "$events" "$job_dir/events.jsonl"; else rm -f -- "$events"; fi
if ((rc != 0)); then
    echo "$prog: hearth run failed (exit $rc); see $job_dir (hearth status $job_dir)" >&2
    exit "$rc"
fi

merge_opt=()
((json)) && merge_opt=(--json)
"$bin_dir/risk_merge" --blocks "0-$last" --paths "$paths" "${merge_opt[@]}" "$job_dir/out" | tee "$job_dir/result.txt"

# The job's energy, when a grid-agent measured its tasks.
summary=$job_dir/summary.json
job_id=$(summary_field job "$summary")
attempts=$(summary_field energy_attempts "$summary")
if [[ -n $agent_pid ]]; then
    # Stopping the agent commits its last interval to the ledger.
    kill "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
    agent_pid=
fi
if [[ ${attempts:-0} == 0 ]]; then
    echo "$prog: energy: not measured: no grid-agent registered the tasks (none at ${HEARTH_AGENT_SOCKET:-/run/hearth/agent.sock}); rerun with --agent, or run grid-agent on every node" >&2
elif [[ -n $agent_dir ]]; then
    # The private ledger saw only this job: "house" is the capacity it left idle.
    echo "$prog: energy per tenant during job $job_id, from $agent_dir/ledger.db:" >&2
    "$hearth" energy --ledger "$agent_dir/ledger.db" --by tenant >&2
elif [[ -n $hosts ]]; then
    echo "$prog: energy of job $job_id, from the grid-agents of $hosts:" >&2
    "$hearth" energy --hosts "$hosts" --job "$job_id" --by tenant >&2 ||
        echo "$prog: energy: the agents did not answer; summary.json has energy_uj $(summary_field energy_uj "$summary")" >&2
else
    ledger=${HEARTH_LEDGER:-/var/lib/hearth/ledger.db}
    if [[ -r $ledger ]]; then
        echo "$prog: energy of job $job_id, from $ledger:" >&2
        "$hearth" energy --ledger "$ledger" --job "$job_id" --by tenant >&2
    else
        echo "$prog: energy: $(summary_field energy_uj "$summary") uJ in summary.json; the ledger $ledger is not readable here (set HEARTH_LEDGER, or run hearth energy --job $job_id where the agent runs)" >&2
    fi
fi
echo "$prog: compare with a serial run: $script_dir/check.sh $job_dir/out --blocks 0-$last --paths $paths" >&2
