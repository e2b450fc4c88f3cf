#!/bin/bash
# A far site (issue 16): one `hearth site` (one node, 2 slots) whose link to
# its `hearth serve` has a round trip of DELAY_S (bench/delay_proxy.py on
# loopback); a job of COUNT tasks of `sleep SLEEP`. Prints the scheduler's
# first-grant-to-last-commit time for each build, alternating, and the
# ratio BEFORE / AFTER.
# Usage: bench/site_far.sh BEFORE_BIN_DIR AFTER_BIN_DIR [DELAY_S COUNT SLEEP PAIRS]
set -u
before=$1 after=$2 delay=${3:-0.4} count=${4:-100} sleep_s=${5:-0.055} pairs=${6:-2}
here=$(cd "$(dirname "$0")" && pwd)
one() { # BIN_DIR -> seconds
    local bin=$1 w port pp sp px si id
    w=$(mktemp -d) && chmod 755 "$w" && cd "$w" || return 1
    printf '[[site]]\nname = "far"\nkind = "tank"\ntarget = 60\n[[node]]\nname = "n1"\nsite = "far"\nhost = "localhost"\nslots = 2\n' >grid.toml
    "$bin/hearth" serve --grid grid.toml --state state --listen 127.0.0.1:0 --no-auth >serve.log 2>&1 & sp=$!
    for _ in $(seq 100); do port=$(sed -n 's/^listening on port \([0-9]*\).*/\1/p' serve.log | head -1); [[ -n $port ]] && break; sleep 0.1; done
    python3 "$here/delay_proxy.py" proxy.port "$port" "$delay" & px=$!
    for _ in $(seq 100); do [[ -f proxy.port ]] && curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
    pp=$(cat proxy.port)
    "$bin/hearth" site --grid grid.toml --site far --server "http://127.0.0.1:$pp" >site.log 2>&1 & si=$!
    "$bin/hearth" run --server "http://127.0.0.1:$port" --tenant bench --count 4 -- true >warm.log 2>&1
    "$bin/hearth" run --server "http://127.0.0.1:$port" --tenant bench --count "$count" -- sleep "$sleep_s" >job.log 2>&1
    id=$(grep -m1 '"state":"started"' job.log | sed -n 's/.*"job":"\([^"]*\)".*/\1/p')
    "$bin/hearth" status "$id" --server "http://127.0.0.1:$port" --json |
        python3 -c 'import json, sys; print("%.3f" % json.load(sys.stdin)["seconds"])'
    kill "$si" "$px" "$sp" 2>/dev/null; wait "$si" "$px" "$sp" 2>/dev/null
    cd / && rm -rf "$w"
}
echo "far site: round trip ${delay} s, $count tasks of sleep $sleep_s on 2 slots (ideal $(python3 -c "print($count * $sleep_s / 2)") s)"
for _ in $(seq "$pairs"); do
    b=$(one "$before") a=$(one "$after")
    echo "before ${b} s, after ${a} s, before/after $(python3 -c "print('%.2f' % ($b / $a))") x"
done
