# Slurm on the test grid (sourced by testgrid.sh for `up N --slurm`).
#
# A login node h0 (PREFIX-h0 at SUBNET.254, not in hosts.map, never a
# compute node) runs munged and slurmctld; each test host hN runs a slurmd
# named after its namespace (NodeName = NodeHostname = PREFIX-hN, NodeAddr
# its address), in a UTS namespace of its own with that host name, so that
# what Slurm starts there (orted by srun, batch scripts) sees its node's name.
# Every daemon lives in a network namespace: each listens on its host's
# address and loopback only. One partition "grid" holds every node.
# All files (munge key and socket, slurm.conf, state, spool, logs, pids) are
# under STATEDIR/slurm and STATEDIR/hosts/NS: nothing in /etc, /var or /run.
# Commands read the cluster from SLURM_CONF (in the env file); run them on
# the login node with `testgrid.sh login STATEDIR -- CMD`.

slurm_missing() {
    local p
    for p in munged slurmctld slurmd salloc sbatch srun sinfo scontrol; do
        command -v "$p" >/dev/null || { echo "no '$p' (apt-get install slurmctld slurmd slurm-client munge)"; return; }
    done
}

slurm_conf() {
    local state=$1 prefix=$2 subnet=$3 slots=$4 dir=$state/slurm addr ns name link
    cat <<EOF
# test grid $prefix: written by tests/grid/testgrid.sh --slurm
ClusterName=$prefix
SlurmctldHost=$prefix-h0($subnet.254)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/ctld
SlurmctldPidFile=$dir/slurmctld.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdSpoolDir=$state/hosts/%n/slurmd
SlurmdPidFile=$state/hosts/%n/slurmd.pid
SlurmdLogFile=$state/hosts/%n/slurmd.log
# CPUs as written below, whatever the machine has (they all share it).
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
AcctGatherEnergyType=acct_gather_energy/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
# A lost node is down within seconds, and back in service when its slurmd is.
SlurmdTimeout=10
ReturnToService=2
KillWait=2
MinJobAge=10
InactiveLimit=0
MessageTimeout=5
# Each task finds its node's grid-agent (testgrid.sh --agents), as a site's
# TaskProlog can point it at a socket off the default path.
TaskProlog=$dir/task-prolog
EOF
    while read -r addr ns name link; do
        echo "NodeName=$ns NodeHostname=$ns NodeAddr=$addr CPUs=$slots State=UNKNOWN"
    done <"$state/hosts.map"
    echo "PartitionName=grid Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
}

slurm_cgroup_conf() {
    if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
        echo "CgroupPlugin=cgroup/v2"
    else
        echo "CgroupPlugin=cgroup/v1"
    fi
}

# Starts slurmd on host NS (NAME, ADDRESS) in its own UTS namespace.
slurm_start_slurmd() {
    local state=$1 ns=$2 dir=$state/hosts/$2
    mkdir -p "$dir/slurmd"
    ip netns exec "$ns" unshare --uts -- sh -c 'hostname "$1" && exec setsid slurmd -D -f "$2" -N "$1"' \
        slurmd "$ns" "$state/slurm/slurm.conf" </dev/null >>"$dir/slurmd.out" 2>&1 &
}

# Waits until every node of the grid is idle (or up to ~30 s).
slurm_wait_idle() {
    local state=$1 n i states
    n=$(wc -l <"$state/hosts.map")
    for i in $(seq 1 150); do
        states=$(SLURM_CONF=$state/slurm/slurm.conf sinfo -h -N -o '%T' 2>/dev/null)
        [ "$(grep -c '^idle$' <<<"$states")" -eq "$n" ] && return 0
        sleep 0.2
    done
    say "Slurm nodes not idle: $(tr '\n' ' ' <<<"$states")"
    return 1
}

slurm_up() {
    local state=$1 prefix=$2 subnet=$3 slots=$4 dir=$state/slurm ns=$2-h0
    mkdir -p "$dir/ctld"
    chmod 0755 "$state" "$state/hosts"   # munged refuses sockets in dirs it finds insecure
    make_host "$state" "$ns" "$subnet.254" "$prefix-h0" || return 1
    # One key for the whole grid, as a site copies one key to every node.
    (umask 077 && dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none)
    ip netns exec "$ns" munged --socket="$dir/munge.sock" --key-file="$dir/munge.key" \
        --log-file="$dir/munged.log" --pid-file="$dir/munged.pid" --seed-file="$dir/munged.seed" \
        --force >"$dir/munged.out" 2>&1 || { say "munged did not start: $(cat "$dir/munged.out")"; return 1; }
    slurm_conf "$state" "$prefix" "$subnet" "$slots" >"$dir/slurm.conf"
    # Run by slurmstepd before each task; "export NAME=VALUE" lines set its
    # environment. The host name is the node's (slurmd's UTS namespace).
    {
        echo '#!/bin/sh'
        echo "s=$state/hosts/\$(hostname)/agent.sock"
        echo '[ -S "$s" ] && echo "export HEARTH_AGENT_SOCKET=$s"'
        echo 'exit 0'
    } >"$dir/task-prolog"
    chmod 0755 "$dir/task-prolog"
    # Read from slurm.conf's directory. slurmd loads a cgroup plugin even with
    # proctrack/linuxproc; its autodetection fails on a tmpfs /sys/fs/cgroup
    # holding v1 controllers (as in this container), so it is named.
    slurm_cgroup_conf >"$dir/cgroup.conf"
    ip netns exec "$ns" unshare --uts -- sh -c 'hostname "$1" && exec setsid slurmctld -D -c -f "$2"' \
        slurmctld "$ns" "$dir/slurm.conf" </dev/null >>"$dir/slurmctld.out" 2>&1 &
    local addr h name link
    while read -r addr h name link; do
        slurm_start_slurmd "$state" "$h"
    done <"$state/hosts.map"
    {
        echo "export SLURM_CONF='$dir/slurm.conf'"
        echo "export HEARTH_GRID_LOGIN='$ns'"
    } >>"$state/env"
    slurm_wait_idle "$state" || { tail -n 5 "$dir/slurmctld.log" >&2; return 1; }
}
