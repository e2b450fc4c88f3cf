#!/usr/bin/env python3
"""Load generator for bench/agent.sh (the grid-agent benchmark).

  agent_load.py hold SOCKET N
      Starts N `sleep 86400` tasks of its own (the agent registers only
      processes that descend from the registering one), prints "pids P...",
      registers each with the agent over its Unix socket (one connection,
      one JSON object a line), prints "registered N" and keeps the connection
      open until SIGTERM or SIGINT. The tasks outlive it: the caller ends them.

  agent_load.py churn SOCKET COUNT
      COUNT register+unregister round trips of a `sleep` task of its own on
      one connection. Every
      request closes an interval and commits it to the ledger before the
      agent answers, so a round trip's time includes one durable commit.
      Prints "ops N wall_s X mean_ms Y p50_ms Y p99_ms Y".

  agent_load.py feed ZONE_DIR STEP_UJ PERIOD_S
      A fake RAPL counter: every PERIOD_S adds STEP_UJ to ZONE_DIR/energy_uj,
      wrapping at ZONE_DIR/max_energy_range_uj, by writing a temporary file
      and renaming it into place (the agent never reads half a value). On
      SIGTERM or SIGINT it stops between steps and prints the microjoules it
      added in total.

Exits 2 on a usage error, 1 if the agent refuses a request.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def usage(msg):
    print(f"bench/agent_load.py: {msg}; usage: agent_load.py hold|churn|feed ARGS (see the file)",
          file=sys.stderr)
    sys.exit(2)


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")

    def call(self, req):
        self.sock.sendall((json.dumps(req) + "\n").encode())
        line = self.file.readline()
        if not line:
            raise SystemExit("bench/agent_load.py: the agent closed the connection")
        reply = json.loads(line)
        if not reply.get("ok"):
            print(f"bench/agent_load.py: agent refused {req}: {reply}", file=sys.stderr)
            sys.exit(1)
        return reply

    def register(self, pid, task):
        return self.call({"op": "register", "tenant": "bench", "job": "agent-bench",
                          "task": task, "attempt": 0, "pid": pid, "cores": 1})["id"]


def hold(args):
    if len(args) != 2 or not args[1].isdigit() or int(args[1]) < 1:
        usage("hold needs SOCKET and a number of tasks")
    client = Client(args[0])
    tasks = [subprocess.Popen(["sleep", "86400"]) for _ in range(int(args[1]))]
    print("pids " + " ".join(str(t.pid) for t in tasks), flush=True)
    for task, t in enumerate(tasks):
        client.register(t.pid, task)
    print(f"registered {len(tasks)}", flush=True)
    while not stop:
        time.sleep(0.2)
    client.sock.close()


def churn(args):
    if len(args) != 2 or not args[1].isdigit():
        usage("churn needs SOCKET COUNT")
    client = Client(args[0])
    task = subprocess.Popen(["sleep", "86400"])
    pid, count = task.pid, int(args[1])
    lat = []
    t0 = time.monotonic()
    for i in range(count):
        for req in ("register", "unregister"):
            a = time.monotonic()
            if req == "register":
                rid = client.register(pid, 1000 + i)
            else:
                client.call({"op": "unregister", "id": rid})
            lat.append(time.monotonic() - a)
    wall = time.monotonic() - t0
    task.kill()
    task.wait()
    lat.sort()
    n = len(lat)
    print(f"ops {n} wall_s {wall:.6f} mean_ms {1000 * sum(lat) / n:.3f} "
          f"p50_ms {1000 * lat[n // 2]:.3f} p99_ms {1000 * lat[min(n - 1, (n * 99) // 100)]:.3f}",
          flush=True)


def feed(args):
    if len(args) != 3:
        usage("feed needs ZONE_DIR STEP_UJ PERIOD_S")
    zone, step, period = args[0], int(args[1]), float(args[2])
    with open(os.path.join(zone, "max_energy_range_uj")) as f:
        wrap = int(f.read())
    with open(os.path.join(zone, "energy_uj")) as f:
        raw = int(f.read())
    # Changed in place, as the kernel's counter is: the agent keeps the file
    # open and rereads it, so a renamed-over file would never be seen. One
    # pwrite of a fixed width (zero-padded, never truncated): a concurrent
    # read never finds the file empty or short of digits.
    fd = os.open(os.path.join(zone, "energy_uj"), os.O_WRONLY | os.O_CLOEXEC)
    added = 0
    try:
        while not stop:
            raw = (raw + step) % wrap
            os.pwrite(fd, f"{raw:020d}\n".encode(), 0)
            added += step
            time.sleep(period)
    finally:
        os.close(fd)
    print(added, flush=True)


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if len(sys.argv) < 2:
        usage("no command")
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        {"hold": hold, "churn": churn, "feed": feed}.get(cmd, lambda _: usage(f"unknown command {cmd!r}"))(args)
    except ValueError as e:
        usage(str(e))


if __name__ == "__main__":
    main()
