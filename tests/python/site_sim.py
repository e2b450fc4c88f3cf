#!/usr/bin/env python3
"""A site of a test grid, played in Python: it asks `hearth serve` for work
(POST /v1/sites/NAME/work, as `hearth site` does), runs each granted attempt
for real in a scratch directory of its own (the job's staged blobs fetched
from /v1/blobs, the argv run there, the collect globs uploaded as blobs) and
returns the results with its next request.

Not Hearth's dispatcher: no MPI, no heat, no agents; one node, attempts run
one after another.  Used by tests/python/test_client.py and, as a script, to
give examples/risk-mc/submit.py a grid on a laptop:

    python3 tests/python/site_sim.py --server URL --token SITE_TOKEN \
        [--site home --node n1 --slots 2 --energy-uj 1000000]
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def _req(server, token, method, path, body=None, headers=None, timeout=120):
    h = {"Authorization": "Bearer " + token}
    h.update(headers or {})
    r = urllib.request.Request(server + path, data=body, method=method, headers=h)
    return urllib.request.urlopen(r, timeout=timeout)


class SiteSim:
    def __init__(self, server, token, site="home", node="n1", slots=4, energy_uj=0, workdir=None,
                 estimated=True):
        self.server = server.rstrip("/")
        self.token = token
        self.site = site
        self.node = node
        self.slots = slots
        self.energy_uj = energy_uj
        self.estimated = estimated
        self.workdir = workdir or tempfile.mkdtemp(prefix="hearth-site-")
        self.runtimes = {}
        # A new incarnation: the scheduler sends the settings of every job again.
        self.run = "sim-" + os.urandom(6).hex()
        self.results = []
        self.ran = []  # (job, task, attempt) of every attempt run
        self._stop = threading.Event()
        self._thread = None
        self.error = None

    # One exchange with the scheduler; the attempts it grants are run now
    # and their results go with the next exchange.
    def ask(self, want=None):
        want = self.slots if want is None else want
        body = {"site": self.site, "run": self.run,
                "nodes": [{"node": self.node, "host": "localhost", "slots": self.slots, "want": want}],
                "results": self.results, "held": [], "lost": []}
        with _req(self.server, self.token, "POST", f"/v1/sites/{self.site}/work", json.dumps(body).encode(),
                  {"Content-Type": "application/json"}) as r:
            reply = json.loads(r.read())
        if reply.get("acked") != len(self.results):
            raise RuntimeError(f"scheduler acked {reply.get('acked')} of {len(self.results)} results")
        self.results = []
        for rt in reply.get("jobs", []):
            self.runtimes[rt["job"]] = rt
        for g in reply.get("tasks", []):
            self.results.append(self._run(g))
        return reply

    def _blob(self, sha, dest, mode):
        with _req(self.server, self.token, "GET", "/v1/blobs/" + sha) as r, open(dest, "wb") as f:
            shutil.copyfileobj(r, f)
        os.chmod(dest, mode)

    def _put(self, path):
        with open(path, "rb") as f:
            data = f.read()
        sha = hashlib.sha256(data).hexdigest()
        with _req(self.server, self.token, "PUT", "/v1/blobs/" + sha, data,
                  {"Content-Type": "application/octet-stream"}) as r:
            r.read()
        return sha, len(data)

    def _run(self, g):
        rt = self.runtimes[g["job"]]
        scratch = os.path.join(self.workdir, f"{g['job']}.{g['task']}.{g['attempt']}")
        os.makedirs(scratch)
        for b in rt.get("stage", []):
            self._blob(b["sha256"], os.path.join(scratch, b["name"]), b.get("mode", 0o644))
        t0 = time.monotonic()
        timeout = rt.get("timeout_ms", 0) / 1000 or None
        res = {"job": g["job"], "task": g["task"], "attempt": g["attempt"], "node": g["node"],
               "status": 0, "exit": 0, "reason": "", "outputs": [],
               "energy_state": (2 if self.estimated else 1) if self.energy_uj else 0,
               "energy_uj": self.energy_uj}
        try:
            # The job's --env on top of this process's, as a site's worker adds it.
            env = dict(os.environ, **dict(e.split("=", 1) for e in rt.get("env", [])))
            p = subprocess.run(g["argv"], cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=timeout, env=env)
            res["log"] = p.stdout.decode("utf-8", "replace")[-1_000_000:]
            if p.returncode != 0:
                res.update(status=1 if p.returncode > 0 else 2, exit=abs(p.returncode),
                           reason=f"exited with status {p.returncode}")
        except subprocess.TimeoutExpired:
            res.update(status=3, log="", reason="timed out")
        except OSError as e:
            res.update(status=4, log="", reason=f"cannot start {g['argv'][0]}: {e.strerror}")
        res["wall_ms"] = int((time.monotonic() - t0) * 1000)
        self.ran.append((g["job"], g["task"], g["attempt"]))
        if res["status"] == 0:
            seen = set()
            for pattern in rt.get("collect", []):
                for path in sorted(glob.glob(os.path.join(scratch, pattern), recursive=True)):
                    rel = os.path.relpath(path, scratch)
                    if rel in seen or not os.path.isfile(path):
                        continue
                    seen.add(rel)
                    sha, size = self._put(path)
                    res["outputs"].append({"name": rel, "sha256": sha, "size": size,
                                           "mode": os.stat(path).st_mode & 0o777})
        shutil.rmtree(scratch, ignore_errors=True)
        return res

    # In the background: ask every `period` seconds until stopped.
    def start(self, period=0.1):
        def loop():
            try:
                while not self._stop.is_set():
                    self.ask()
                    self._stop.wait(period)
                if self.results:
                    self.ask(want=0)
            except Exception as e:  # the test reports it
                self.error = e
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(30)
        if self.error:
            raise self.error


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default=os.environ.get("HEARTH_SERVER"), required="HEARTH_SERVER" not in os.environ)
    ap.add_argument("--token", default=os.environ.get("HEARTH_SITE_TOKEN"))
    ap.add_argument("--site", default="home")
    ap.add_argument("--node", default="n1")
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--energy-uj", type=int, default=0, help="energy to report per attempt (estimated)")
    a = ap.parse_args()
    if not a.token:
        ap.error("give --token (a site:NAME token) or set HEARTH_SITE_TOKEN")
    s = SiteSim(a.server, a.token, a.site, a.node, a.slots, a.energy_uj)
    print(f"site_sim: site {a.site} asking {a.server} for work; Ctrl-C stops", file=sys.stderr)
    try:
        while True:
            s.ask()
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
