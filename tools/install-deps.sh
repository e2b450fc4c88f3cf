#!/usr/bin/env bash
# Installs the Debian packages Hearth builds, tests and demos with. Idempotent:
# only missing packages are installed, so a second run costs a dpkg query.
# `install-deps.sh fuzz` adds what `make fuzz` needs: clang-14 and its libFuzzer
# and sanitizer runtimes (libclang_rt.fuzzer, asan, ubsan). chromium: the
# dashboard's browser test (tests/browser, driven by playwright-core from npm).
set -euo pipefail
pkgs=(g++ make pkg-config openmpi-bin libopenmpi-dev hwloc libhwloc-dev libpapi-dev papi-tools
      libcurl4-openssl-dev libcli11-dev libboost-test-dev libsqlite3-dev sqlite3 nlohmann-json3-dev
      libcpp-httplib-dev libtomlplusplus-dev libspdlog-dev libquantlib0-dev povray povray-includes parallel mandoc iproute2 procps curl util-linux
      chromium gnuplot-nox)
pkgs+=(python3 openssl)  # the tests' fake HTTP(S) servers and their certificates
pkgs+=(ipmitool)  # energy source ipmi: the BMC's DCMI power reading
pkgs+=(openipmi libopenipmi-dev)  # the ipmi tests' BMC (ipmi_sim) and its DCMI module's headers
pkgs+=(freeipmi-tools)  # energy source ipmi through FreeIPMI's ipmi-dcmi; tested against ipmi_sim over LAN
pkgs+=(slurmctld slurmd slurm-client munge)  # the Slurm test cluster (testgrid.sh --slurm, grid_slurm tests)
pkgs+=(python3-venv python3-setuptools python3-wheel)  # pip install of the Python client (runner/python), offline
pkgs+=(blender ffmpeg)  # examples/blender-batch (Cycles renders merged into a video), the task-world test (Blender run directly as a task); ffmpeg: hearth serve's thumbnails
[ "${1:-}" = fuzz ] && pkgs+=(clang-14 libfuzzer-14-dev libclang-rt-14-dev libssl-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "hearth: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "hearth: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
