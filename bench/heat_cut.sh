#!/bin/bash
# A heat cut (issue 16): how many tasks still start on a node after its
# grid-agent cuts its budget to 0 slots (its site stops wanting heat). A
# 2-slot node runs 20 ms tasks that log their start time; the room turns
# warm at a random phase; tasks started after the agent answers 0 slots are
# counted. Usage: bench/heat_cut.sh BIN_DIR LABEL (BIN_DIR holds hearth
# and grid-agent); run it for two builds, alternating.
set -u
BIN=$1; L=$2
D=$(mktemp -d)
cd $D; chmod 755 $D; touch starts; chmod 666 starts
cat > grid.toml <<G
[[site]]
name = "lab"
kind = "room"
target = 20
min = 10
max = 30
[site.source]
type = "static"
measured = 15
[[node]]
name = "n1"
site = "lab"
host = "localhost"
slots = 2
G
$BIN/grid-agent --node n1 --grid grid.toml --energy model --throttle slots --control 0.2 --listen 127.0.0.1:0 --no-auth --socket $D/agent.sock --ledger $D/ledger.db 2>agent.log &
AG=$!
for i in $(seq 100); do grep -q "http 127" agent.log 2>/dev/null && [ -S agent.sock ] && break; sleep 0.1; done
PORT=$(grep -o "http 127.0.0.1:[0-9]*" agent.log | head -1 | cut -d: -f2)
budget() { python3 - "$D/agent.sock" <<'P'
import socket,sys,time,json
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f=s.makefile('rw')
while True:
    f.write('{"op":"budget"}\n'); f.flush(); r=json.loads(f.readline())
    if r.get('slots',1)==0: print(time.time_ns()); break
    time.sleep(0.002)
P
}
for i in $(seq 50); do curl -s http://127.0.0.1:$PORT/v1/heat | grep -q '"mode":"open"' && break; sleep 0.1; done
HEARTH_AGENT_SOCKET=$D/agent.sock $BIN/hearth run --tenant studio --count 3000 --job-dir j -- sh -c 'date +%s%N >> '$D'/starts; sleep 0.02' >run.out 2>run.err &
JOB=$!
for i in $(seq 300); do [ -f starts ] && [ $(wc -l < starts) -ge 100 ] && break; sleep 0.05; done
# Cut at a random phase of the worker's once-a-second reading.
sleep 0.$((RANDOM % 10))
budget > cut.txt &
BP=$!
curl -s -H 'Content-Type: application/json' -X POST -d '{"measured": 25}' http://127.0.0.1:$PORT/v1/heat/measured >/dev/null
wait $BP
sleep 3
T=$(cat cut.txt)
AFTER=$(awk -v t=$T '$1>t' starts | wc -l)
LAST=$(awk -v t=$T '$1>t{d=($1-t)/1e6; if(d>m)m=d} END{printf "%.0f", m}' starts)
echo "$L after_cut=$AFTER last_start_ms_after_cut=${LAST:-0} total_starts=$(wc -l < starts)"
kill $JOB 2>/dev/null; wait $JOB 2>/dev/null
kill $AG; wait $AG 2>/dev/null
rm -rf "$D"
