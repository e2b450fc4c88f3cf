#!/usr/bin/env bash
# A test grid on one machine: N test hosts as network namespaces on a bridge,
# reached by mpirun through tests/grid/netns-ssh (an ssh look-alike).
#
#   testgrid.sh up N [--agents] [--slots S] [--slurm]
#                                             make the grid; prints its state dir. --slurm:
#                                             a Slurm cluster on it (tests/grid/slurm.sh):
#                                             a login node h0 with slurmctld, slurmd on each
#                                             host, S CPUs each, partition "grid"
#   testgrid.sh login STATEDIR -- CMD...      CMD on the Slurm grid's login node h0, with
#                                             the grid's env (salloc, sbatch, hearth run ...)
#   testgrid.sh down STATEDIR                 remove it all (idempotent)
#   testgrid.sh run N [--agents] [--slots S] -- CMD...
#                                             up, CMD with the grid's env, down (always)
#   testgrid.sh kill STATEDIR HOST            HOST dies: its processes killed, its link down
#   testgrid.sh cut STATEDIR HOST             HOST's link goes down; its processes run on
#   testgrid.sh revive STATEDIR HOST          HOST comes back (link up, its agent restarted)
#   testgrid.sh mend STATEDIR HOST            HOST's link comes back up; nothing else changes
#   testgrid.sh uplink STATEDIR HOST          HOST gets a second link, its own way to the
#                                             bridge's address (a site's line to a scheduler there)
#   testgrid.sh cut-uplink|mend-uplink STATEDIR HOST
#                                             that line goes down, or up again; the grid's
#                                             links (and mpirun's traffic) are untouched
#   testgrid.sh check [--slurm]               exit 0 if a grid (with Slurm) can be made here,
#                                             else say why
#
# The state dir holds: env (source it: Open MPI's launch agent and interface
# limits), hostfile ("ADDRESS slots=S", for hearth run --hosts), hosts.map
# (ADDRESS NAMESPACE NAME LINK, read by netns-ssh) and hosts/NS/ (a host's
# grid-agent socket, ledger and log, and agent_args: extra options for it). HOST is an address, a namespace or a
# short name (h1..hN).
#
# Addresses come from 198.18.0.0/15 only (RFC 2544, reserved for network
# benchmarks): each grid takes the first free /24 of 198.18.0.0/16, so two
# grids can exist at once. Names start with a per-grid prefix
# (HEARTH_GRID_PREFIX, default hg<pid>). Needs root and `ip netns`.
# Environment: GRID_AGENT_BIN (default build/bin/grid-agent), HEARTH_GRID_KEEP=1
# keeps the state dir at teardown.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lock_file=/run/lock/hearth-testgrid.lock
agent_port=9750

# shellcheck source=tests/grid/slurm.sh
. "$here/slurm.sh"

die() { echo "testgrid: $*" >&2; exit 2; }
say() { echo "testgrid: $*" >&2; }

usage() {
    sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# Why namespaces cannot be made here, or nothing if they can.
cannot_run() {
    [ "$(id -u)" = 0 ] || { echo "not root (network namespaces need root)"; return; }
    command -v ip >/dev/null || { echo "no 'ip' command (install iproute2)"; return; }
    ip netns list >/dev/null 2>&1 || { echo "'ip netns' does not work here"; return; }
}

# The first /24 of 198.18.0.0/16 that no address or route of this machine uses.
free_subnet() {
    local x used
    used=$( { ip -4 -o addr show; ip -4 route show; } 2>/dev/null)
    for x in $(seq 0 255); do
        if ! grep -qE "(^|[^0-9])198\.18\.$x\.[0-9]" <<<"$used"; then
            echo "198.18.$x"; return 0
        fi
    done
    return 1
}

host_pids() { ip netns pids "$1" 2>/dev/null; }

# Kills every process in namespace $1: TERM, then KILL what is left.
kill_ns_processes() {
    local ns=$1 pids i
    mapfile -t pids < <(host_pids "$ns")
    [ ${#pids[@]} -eq 0 ] && return 0
    kill -TERM "${pids[@]}" 2>/dev/null
    for i in $(seq 1 20); do
        mapfile -t pids < <(host_pids "$ns")
        [ ${#pids[@]} -eq 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null
    for i in $(seq 1 20); do
        [ -z "$(host_pids "$ns")" ] && return 0
        sleep 0.1
    done
    say "processes left in $ns: $(host_pids "$ns" | tr '\n' ' ')"
}

start_agent() {
    local state=$1 ns=$2 addr=$3 name=$4 dir
    dir=$state/hosts/$ns
    mkdir -p "$dir"
    rm -f "$dir/agent.sock"
    # The model source: these VMs have no RAPL; it is labelled "estimated".
    # The node is named as the hostfile names it, like the job's journal does.
    # A private test subnet: tokens are required, TLS is not (--insecure-http).
    # On a Slurm grid the node is named as Slurm (and so the journal) names it.
    local node=$addr
    [ -n "${slurm_names:-}" ] && node=$ns
    # A test may give a host's agent more options (heat control: --grid,
    # --node, --control), one word a line in hosts/NS/agent_args; they
    # apply from the next start (revive). A --node there names the node.
    local extra=() w node_args=(--node "$node")
    [ -r "$dir/agent_args" ] && mapfile -t extra <"$dir/agent_args"
    for w in "${extra[@]}"; do [ "$w" = --node ] && node_args=(); done
    ip netns exec "$ns" setsid "$agent_bin" "${node_args[@]}" --listen "$addr:$agent_port" \
        --tokens "$state/tokens" --insecure-http \
        --socket "$dir/agent.sock" --ledger "$dir/ledger.db" --energy model --rate 10 \
        "${extra[@]}" </dev/null >>"$dir/agent.log" 2>&1 &
    echo $! >"$dir/agent.pid"
}

wait_agent() {
    local state=$1 ns=$2 i
    for i in $(seq 1 100); do
        [ -S "$state/hosts/$ns/agent.sock" ] && return 0
        kill -0 "$(cat "$state/hosts/$ns/agent.pid")" 2>/dev/null || break
        sleep 0.05
    done
    say "grid-agent of $ns did not start; its log:"
    tail -n 5 "$state/hosts/$ns/agent.log" >&2
    return 1
}

# Host NS at ADDRESS on the grid's bridge through link VETH (its end: eth0).
make_host() {
    local state=$1 ns=$2 addr=$3 veth=$4 br
    br=$(cat "$state/prefix")-br
    if ! { ip netns add "$ns" &&
        ip link add "$veth" type veth peer name "${veth}p" &&
        ip link set "${veth}p" netns "$ns" &&
        ip -n "$ns" link set "${veth}p" name eth0 &&
        ip -n "$ns" addr add "$addr/24" dev eth0 &&
        ip -n "$ns" link set eth0 up &&
        ip -n "$ns" link set lo up &&
        ip link set "$veth" master "$br" &&
        ip link set "$veth" up; } 2>"$state/up.err"; then
        say "cannot make host $ns: $(cat "$state/up.err")"
        return 1
    fi
    rm -f "$state/up.err"
}

cmd_up() {
    local n='' agents=0 slots=1 slurm=0
    while [ $# -gt 0 ]; do
        case $1 in
        --agents) agents=1 ;;
        --slurm) slurm=1 ;;
        --slots) slots=${2:-}; shift ;;
        -*) die "unknown option '$1'; see: testgrid.sh --help" ;;
        *) if [ -z "$n" ]; then n=$1; else die "unexpected argument '$1'"; fi ;;
        esac
        shift
    done
    if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 200 ]; then
        die "give the number of hosts, 1-200: testgrid.sh up 3"
    fi
    if ! [[ "$slots" =~ ^[0-9]+$ ]] || [ "$slots" -lt 1 ]; then
        die "--slots needs a number >= 1"
    fi
    local why
    why=$(cannot_run)
    [ -n "$why" ] && die "cannot make a test grid: $why"
    if [ "$slurm" = 1 ]; then
        why=$(slurm_missing)
        [ -n "$why" ] && die "cannot make a Slurm test grid: $why"
    fi
    local prefix=${HEARTH_GRID_PREFIX:-hg$$}
    [[ "$prefix" =~ ^[a-z][a-z0-9]{0,8}$ ]] ||
        die "HEARTH_GRID_PREFIX '$prefix' must be 1-9 lower-case letters or digits, starting with a letter (link names are at most 15 characters)"
    ip netns list | grep -q "^$prefix-h" &&
        die "namespaces named $prefix-h* exist already; tear that grid down first or set another HEARTH_GRID_PREFIX"
    agent_bin=${GRID_AGENT_BIN:-build/bin/grid-agent}
    if [ "$agents" = 1 ]; then
        [ -x "$agent_bin" ] || die "no grid-agent at '$agent_bin'; build it (make) or set GRID_AGENT_BIN"
        agent_bin=$(cd "$(dirname "$agent_bin")" && pwd)/$(basename "$agent_bin")
    fi

    local state
    state=$(mktemp -d "${TMPDIR:-/tmp}/hearth-grid-$prefix-XXXXXX") || die "cannot make a state dir"
    echo "$prefix" >"$state/prefix"
    local br=$prefix-br subnet
    # Taking a subnet and making the bridge that holds it is one step, so
    # two grids made at once do not pick the same /24.
    exec 9>"$lock_file"
    flock 9
    subnet=$(free_subnet) || { exec 9>&-; cmd_down "$state"; die "no free /24 left in 198.18.0.0/16"; }
    echo "$subnet" >"$state/subnet"
    if ! ip link add "$br" type bridge 2>"$state/up.err" ||
        ! ip addr add "$subnet.1/24" dev "$br" 2>>"$state/up.err" ||
        ! ip link set "$br" up 2>>"$state/up.err"; then
        exec 9>&-
        local err; err=$(cat "$state/up.err")
        cmd_down "$state"
        die "cannot make bridge $br: $err"
    fi
    exec 9>&-

    : >"$state/hosts.map"
    : >"$state/hostfile"
    mkdir -p "$state/hosts"
    local i ns addr
    for i in $(seq 1 "$n"); do
        ns=$prefix-h$i
        addr=$subnet.$((i + 1))
        make_host "$state" "$ns" "$addr" "$prefix-h$i" || { cmd_down "$state"; die "cannot make host $ns"; }
        echo "$addr $ns h$i $prefix-h$i" >>"$state/hosts.map"
        echo "$addr slots=$slots" >>"$state/hostfile"
        mkdir -p "$state/hosts/$ns"
    done

    {
        echo "# test grid $prefix: source this file before running mpirun or hearth"
        echo "export HEARTH_GRID_STATE='$state'"
        echo "export HEARTH_GRID_HOSTFILE='$state/hostfile'"
        echo "export HEARTH_GRID_HOSTS='$(cut -d' ' -f1 "$state/hosts.map" | tr '\n' ' ' | sed 's/ $//')'"
        # Under Slurm mpirun starts its daemons with srun, as on a real cluster.
        [ "$slurm" = 1 ] || echo "export OMPI_MCA_plm_rsh_agent='$here/netns-ssh'"
        echo "export OMPI_MCA_btl_tcp_if_include=$subnet.0/24"
        echo "export OMPI_MCA_oob_tcp_if_include=$subnet.0/24"
        # Every daemon is started by mpirun itself, not by other daemons.
        echo "export OMPI_MCA_plm_rsh_no_tree_spawn=1"
        echo "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
    } >"$state/env"

    [ "$slurm" = 1 ] && slurm_names=1 && : >"$state/slurm_names"
    if [ "$agents" = 1 ]; then
        echo "$agent_bin" >"$state/agent_bin"
        # One operator token for the whole test grid, as `hearth token new`
        # would write it: only its hash is in the tokens file.
        local token
        token=hearth_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
        (umask 027 && printf 'sha256:%s operator testgrid\n' \
            "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" >"$state/tokens")
        echo "export HEARTH_TOKEN='$token'" >>"$state/env"
        while read -r addr ns name veth; do
            start_agent "$state" "$ns" "$addr" "$name"
        done <"$state/hosts.map"
        while read -r addr ns name veth; do
            wait_agent "$state" "$ns" || { cmd_down "$state"; die "grid-agent failed on $ns"; }
        done <"$state/hosts.map"
        echo "export HEARTH_GRID_AGENTS='$(cut -d' ' -f1 "$state/hosts.map" | sed "s/\$/:$agent_port/" | tr '\n' ' ' | sed 's/ $//')'" >>"$state/env"
    fi
    if [ "$slurm" = 1 ]; then
        slurm_up "$state" "$prefix" "$subnet" "$slots" || { cmd_down "$state"; die "Slurm did not start; see above"; }
    fi
    say "$n hosts on $br ($subnet.0/24)$([ "$agents" = 1 ] && echo ", a grid-agent on each")$([ "$slurm" = 1 ] && echo ", Slurm (slurmctld on $prefix-h0)"); state in $state"
    echo "$state"
}

cmd_down() {
    local state=${1:-}
    [ -n "$state" ] || die "give the state dir: testgrid.sh down STATEDIR"
    [ -r "$state/prefix" ] || return 0   # never made, or gone already
    local prefix ns link
    prefix=$(cat "$state/prefix")
    [[ "$prefix" =~ ^[a-z][a-z0-9]{0,8}$ ]] || die "$state/prefix is not a grid prefix; remove the grid by hand"
    # By name, not by hosts.map: a grid that failed half-way has no complete map.
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-h[0-9]+$"); do
        kill_ns_processes "$ns"
        ip netns del "$ns" 2>/dev/null || say "cannot delete namespace $ns"
    done
    # What killed daemons could not clean: Open MPI's session directories and
    # shared-memory segments, named after the host (netns-ssh names it $ns).
    rm -rf "${TMPDIR:-/tmp}/ompi.$prefix-h"[0-9]* /dev/shm/*."$prefix-h"[0-9]*.* 2>/dev/null
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
        grep -E "^$prefix-(br|[hu][0-9]+p?)$"); do
        ip link del "$link" 2>/dev/null
    done
    if [ -z "${HEARTH_GRID_KEEP:-}" ]; then
        rm -rf "$state"
    else
        rm -f "$state/prefix"
        say "kept $state (HEARTH_GRID_KEEP)"
    fi
    return 0
}

# Finds HOST in the state dir's map: sets h_addr h_ns h_name h_link.
find_host() {
    local state=$1 host=$2 addr ns name link
    [ -r "$state/hosts.map" ] || die "$state is not a test grid state dir"
    while read -r addr ns name link; do
        if [ "$host" = "$addr" ] || [ "$host" = "$ns" ] || [ "$host" = "$name" ]; then
            h_addr=$addr h_ns=$ns h_name=$name h_link=$link
            return 0
        fi
    done <"$state/hosts.map"
    die "no host '$host' in $state/hosts.map"
}

cmd_kill() {
    [ $# -eq 2 ] || die "usage: testgrid.sh kill STATEDIR HOST"
    find_host "$1" "$2"
    # Link first: the host vanishes from the network as a board losing power
    # does, with no goodbye (no FIN, no RST) from its processes.
    ip link set "$h_link" down
    ip -n "$h_ns" link set eth0 down
    local pids
    mapfile -t pids < <(host_pids "$h_ns")
    [ ${#pids[@]} -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
    say "host $h_name ($h_addr) killed"
}

cmd_cut() {
    [ $# -eq 2 ] || die "usage: testgrid.sh cut STATEDIR HOST"
    find_host "$1" "$2"
    ip link set "$h_link" down
    ip -n "$h_ns" link set eth0 down
    say "host $h_name ($h_addr) cut off the network; its processes run on"
}

# The end of a cut: the link is up again, its processes (which ran on) untouched.
cmd_mend() {
    [ $# -eq 2 ] || die "usage: testgrid.sh mend STATEDIR HOST"
    find_host "$1" "$2"
    ip -n "$h_ns" link set eth0 up
    ip link set "$h_link" up
    say "host $h_name ($h_addr) back on the network"
}

# HOST's uplink: a veth pair of its own (host side up0, this side PREFIX-uN)
# on a /30 of 198.19.X.0/24 (X: the grid's /24 in 198.18.0.0/16, so grids do
# not collide; still RFC 2544 space), outside the grid's subnet, so that Open
# MPI (limited to the grid's subnet) never uses it. The host reaches the
# bridge's address over it; while it is cut, an unreachable route says so
# at once instead of falling back to the grid's link.
uplink_names() {
    local state=$1 n
    up_prefix=$(cat "$state/prefix") up_subnet=$(cat "$state/subnet")
    n=${h_name#h}
    [ "$n" -le 63 ] || die "uplinks are for hosts h1..h63"
    up_link=$up_prefix-u$n
    up_near=198.19.${up_subnet##*.}.$((4 * n + 1)) up_far=198.19.${up_subnet##*.}.$((4 * n + 2))
}

cmd_uplink() {
    [ $# -eq 2 ] || die "usage: testgrid.sh uplink STATEDIR HOST"
    find_host "$1" "$2"
    uplink_names "$1"
    if ! { ip link add "$up_link" type veth peer name "${up_link}p" &&
        ip link set "${up_link}p" netns "$h_ns" &&
        ip -n "$h_ns" link set "${up_link}p" name up0 &&
        ip addr add "$up_near/30" dev "$up_link" &&
        ip link set "$up_link" up &&
        ip -n "$h_ns" addr add "$up_far/30" dev up0 &&
        ip -n "$h_ns" link set up0 up &&
        ip -n "$h_ns" route add unreachable "$up_subnet.1/32" metric 100 &&
        ip -n "$h_ns" route replace "$up_subnet.1/32" via "$up_near" dev up0; }; then
        die "cannot make the uplink of $h_name"
    fi
    say "host $h_name ($h_addr) reaches $up_subnet.1 over its uplink $up_link ($up_far)"
}

cmd_cut_uplink() {
    [ $# -eq 2 ] || die "usage: testgrid.sh cut-uplink STATEDIR HOST"
    find_host "$1" "$2"
    uplink_names "$1"
    ip link set "$up_link" down
    ip -n "$h_ns" link set up0 down
    say "host $h_name ($h_addr) uplink cut"
}

cmd_mend_uplink() {
    [ $# -eq 2 ] || die "usage: testgrid.sh mend-uplink STATEDIR HOST"
    find_host "$1" "$2"
    uplink_names "$1"
    ip link set "$up_link" up
    ip -n "$h_ns" link set up0 up
    # The route through it went with the link.
    ip -n "$h_ns" route replace "$up_subnet.1/32" via "$up_near" dev up0 || die "cannot route over the uplink of $h_name"
    say "host $h_name ($h_addr) uplink back"
}

cmd_revive() {
    [ $# -eq 2 ] || die "usage: testgrid.sh revive STATEDIR HOST"
    local state=$1
    find_host "$state" "$2"
    kill_ns_processes "$h_ns"
    ip -n "$h_ns" link set eth0 up
    ip link set "$h_link" up
    if [ -r "$state/agent_bin" ]; then
        agent_bin=$(cat "$state/agent_bin")
        [ -e "$state/slurm_names" ] && slurm_names=1
        start_agent "$state" "$h_ns" "$h_addr" "$h_name"
        wait_agent "$state" "$h_ns" || die "grid-agent failed on $h_ns"
    fi
    if [ -r "$state/slurm/slurm.conf" ]; then
        slurm_start_slurmd "$state" "$h_ns"
    fi
    say "host $h_name ($h_addr) back"
}

cmd_login() {
    local state=${1:-}
    shift
    [ "${1:-}" = "--" ] && shift
    [ -r "$state/slurm/slurm.conf" ] || die "$state is not a Slurm test grid (make it with: testgrid.sh up N --slurm)"
    [ $# -gt 0 ] || die "no command: testgrid.sh login STATEDIR -- CMD..."
    local ns
    ns=$(cat "$state/prefix")-h0
    # shellcheck disable=SC2016  # expanded by the inner shell
    exec ip netns exec "$ns" unshare --uts -- sh -c 'hostname "$1" && . "$2/env" && shift 2 && exec "$@"' \
        login "$ns" "$state" "$@"
}

cmd_run() {
    local up_args=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do up_args+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || die "no command: testgrid.sh run 3 -- CMD..."
    # Global, not local: the EXIT trap runs after this function has returned.
    run_state=$(cmd_up "${up_args[@]}") || exit 2
    # Down always: on success, failure and the usual signals. The command runs
    # in the background so that a signal is handled at once, not after it ends.
    child=
    trap 'stop_child; cmd_down "$run_state"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    exec 3<&0
    # shellcheck disable=SC1091
    (. "$run_state/env" && exec "$@") <&3 &
    child=$!
    wait "$child"
    local rc=$?
    child=
    return $rc
}

stop_child() {
    [ -n "${child:-}" ] || return 0
    kill -TERM "$child" 2>/dev/null || return 0
    local i
    for i in $(seq 1 50); do
        kill -0 "$child" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$child" 2>/dev/null
}

case ${1:-} in
up) shift; cmd_up "$@" ;;
down) shift; cmd_down "$@" ;;
run) shift; cmd_run "$@"; exit $? ;;
kill) shift; cmd_kill "$@" ;;
cut) shift; cmd_cut "$@" ;;
revive) shift; cmd_revive "$@" ;;
mend) shift; cmd_mend "$@" ;;
uplink) shift; cmd_uplink "$@" ;;
cut-uplink) shift; cmd_cut_uplink "$@" ;;
mend-uplink) shift; cmd_mend_uplink "$@" ;;
login) shift; cmd_login "$@" ;;
check)
    why=$(cannot_run)
    [ -z "$why" ] && [ "${2:-}" = --slurm ] && why=$(slurm_missing)
    [ -z "$why" ] || { echo "$why"; exit 1; } ;;
-h | --help | help) usage ;;
*) usage ;;
esac
