#!/usr/bin/env python3
"""The risk job through the scheduler, from Python: submits it with the
hearth client (runner/python), waits, downloads the block files, merges
them with risk_merge and prints the VaR/ES report and the energy it cost.

    submit.py [--blocks N] [--paths P] [--chunk K] [--tenant T] [--server URL]
              [--bin-dir DIR] [--out DIR] [--priority N] [--urgent] [--json]

The job is the one run.sh runs through `hearth run`:

    seeds 0..N-1, K blocks a task, risk_mc staged, block_*.bin collected,
    ./risk_mc --blocks {first}-{last} --paths P

Needs a scheduler (HEARTH_SERVER or --server) and a token where hearth(1)
finds one (HEARTH_TOKEN, HEARTH_TOKEN_FILE, ~/.config/hearth/token).  The
report goes to standard output (and OUT/../result.txt), progress and energy
to standard error.  Exit status: 0 done, 1 the job or the merge failed,
2 refused (bad option, or the scheduler refused: 400/401/403/404/409),
4 the scheduler did not answer or failed.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import hearth
except ImportError:  # not installed: the package in this tree
    sys.path.insert(0, os.path.join(HERE, "..", "..", "runner", "python"))
    import hearth

PROG = "submit.py"


def say(*words):
    print(f"{PROG}:", *words, file=sys.stderr, flush=True)


def positive(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got '{text}'")
    return int(text)


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--blocks", type=positive, default=64, help="seed blocks 0..N-1 (default 64)")
    ap.add_argument("--paths", type=positive, default=20000, help="paths a block (default 20000)")
    ap.add_argument("--chunk", type=positive, default=1, help="blocks a task (default 1)")
    ap.add_argument("--tenant", default=None, help="default HEARTH_TENANT, else the token's tenant")
    ap.add_argument("--server", default=None, help="the scheduler's URL (default HEARTH_SERVER)")
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "..", "build", "examples", "risk-mc"),
                    help="where risk_mc and risk_merge are (default ../../build/examples/risk-mc)")
    ap.add_argument("--out", default=None, help="where the block files go (default hearth-jobs/JOB/out)")
    ap.add_argument("--priority", type=int, default=0)
    ap.add_argument("--urgent", action="store_true")
    ap.add_argument("--json", action="store_true", help="the report as one JSON line")
    ap.add_argument("--poll", type=float, default=1.0, help="seconds between status polls")
    a = ap.parse_args(argv)
    if a.paths > 10_000_000:
        ap.error(f"--paths must be at most 10000000, got {a.paths}")
    for b in ("risk_mc", "risk_merge"):
        if not os.access(os.path.join(a.bin_dir, b), os.X_OK):
            say(f"no {os.path.join(a.bin_dir, b)}: build it (make risk-mc) or pass --bin-dir DIR")
            return 1
    last = a.blocks - 1
    try:
        c = hearth.Client(server=a.server)
        say(f"blocks 0-{last} x {a.paths} paths, {a.chunk} block(s) a task, scheduler {c.server}")
        # risk_mc is staged into every task's scratch directory, so the sites'
        # nodes need QuantLib's shared library but no copy of this build.
        job = c.submit(["./risk_mc", "--blocks", "{first}-{last}", "--paths", str(a.paths)],
                       tenant=a.tenant, seeds=f"0-{last}", chunk=a.chunk,
                       stage=[os.path.join(a.bin_dir, "risk_mc")], collect=["block_*.bin"],
                       name="risk", priority=a.priority, urgent=a.urgent)
        say(f"job {job.id}: {job.total} tasks, tenant {job.tenant}")
        t0 = time.monotonic()

        def progress(j):
            say(f"job {j.id} {j.state}: {j.committed}/{j.total} done, {j.running} running, {j.failed} failed")

        job = c.wait(job.id, poll=a.poll, progress=progress)
        if job.state != "finished":
            failed = [t for t in c.tasks(job.id) if t.state == "failed"]
            for t in failed[:5]:
                say(f"task {t.task} (blocks {t.first}-{t.last}) failed: {t.reason or 'exit ' + str(t.exit_code)}; "
                    f"its log:\n{c.log(job.id, t.task).rstrip()}")
            say(f"job {job.id} {job.state}: {job.committed}/{job.total} tasks done, {job.failed} failed; "
                f"resume it with hearth resume {job.id} --server {c.server}")
            return 1
        out = a.out or os.path.join("hearth-jobs", job.id, "out")
        files = c.download(job.id, out)
        say(f"job {job.id} finished in {time.monotonic() - t0:.0f} s; {len(files)} block file(s) in {out}")
        energy = c.energy(job.id)
    except hearth.UsageError as e:
        say(e.reason)
        return 2
    except (hearth.Unreachable, hearth.ServerError) as e:
        say(str(e))
        return 4
    except hearth.HearthError as e:
        say(str(e))
        return 2
    except KeyboardInterrupt:
        say("interrupted: the job goes on at the scheduler (hearth cancel JOB stops it)")
        return 130

    merge = [os.path.join(a.bin_dir, "risk_merge"), "--blocks", f"0-{last}", "--paths", str(a.paths)]
    p = subprocess.run(merge + (["--json"] if a.json else []) + [out], stdout=subprocess.PIPE)
    sys.stdout.write(p.stdout.decode())
    sys.stdout.flush()
    if p.returncode != 0:
        say(f"the merge of {out} failed (exit {p.returncode})")
        return 1
    with open(os.path.join(os.path.dirname(os.path.abspath(out)), "result.txt"), "wb") as f:
        f.write(p.stdout)
    if energy.energy_uj == 0:
        say(f"energy: not measured: no grid-agent registered the tasks of job {job.id} at its sites")
    else:
        say(f"energy: {energy} charged to {job.tenant} for job {job.id}")
    say(f"compare with a serial run: {os.path.join(HERE, 'check.sh')} {out} --blocks 0-{last} --paths {a.paths}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
