#!/usr/bin/env python3
"""The Python client (runner/python/hearth) against a real `hearth serve` on
loopback with a tokens file (tenants bank and studio, an operator, the site
home), the test playing the site (tests/python/site_sim.py runs each granted
attempt for real and uploads what it collects).

    HEARTH_BIN=build/bin/hearth python3 tests/python/test_client.py [-v]

Run by the integration test python_client (tests/integration/test_python_client.cpp).
"""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.environ.get("HEARTH_ROOT") or os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "runner", "python"))
sys.path.insert(0, HERE)

import hearth  # noqa: E402
from hearth import (BadRequest, Client, Conflict, Forbidden, HearthError, NotFound,  # noqa: E402
                    Unauthorized, Unreachable, UsageError)
from site_sim import SiteSim  # noqa: E402

HEARTH = os.path.abspath(os.environ.get("HEARTH_BIN") or os.path.join(ROOT, "build", "bin", "hearth"))

GRID = """
[[site]]
name = "home"
kind = "room"
target = 20
min = 10
max = 30
[site.source]
type = "static"
measured = 15

[[node]]
name = "n1"
site = "home"
host = "localhost"
slots = 4
"""

ROLES = ["tenant:bank", "tenant:studio", "operator", "site:home"]


class Server:
    """`hearth serve` on 127.0.0.1, a free port, killed at the end."""

    def __init__(self, d, extra=(), scheme="http"):
        self.dir = d
        with open(os.path.join(d, "grid.toml"), "w") as f:
            f.write(GRID)
        self.token = {}
        for role in ROLES:
            out = subprocess.run([HEARTH, "token", "new", "--role", role, "--tokens", os.path.join(d, "tokens")],
                                 cwd=d, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.token[role] = out.stdout.decode().split("\n")[0].strip()
        self.err = open(os.path.join(d, "serve.err"), "w+")
        self.proc = subprocess.Popen([HEARTH, "serve", "--grid", os.path.join(d, "grid.toml"), "--state",
                                      os.path.join(d, "state"), "--listen", "127.0.0.1:0", "--tokens",
                                      os.path.join(d, "tokens"), *extra], cwd=d, stderr=self.err,
                                     stdout=subprocess.DEVNULL)
        port = None
        for _ in range(300):
            with open(self.err.name) as f:
                text = f.read()
            if "listening on port " in text:
                port = text.split("listening on port ", 1)[1].split("\n", 1)[0].strip()
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not port:
            self.stop()
            raise RuntimeError("hearth serve did not start: " + open(self.err.name).read())
        self.url = f"{scheme}://127.0.0.1:" + port

    def client(self, role, **kw):
        return Client(self.url, token=self.token[role], **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.err.close()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hearth-pyclient-")
        cls.srv = Server(cls.tmp)
        cls.bank = cls.srv.client("tenant:bank")
        cls.studio = cls.srv.client("tenant:studio")
        cls.op = cls.srv.client("operator")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        if not os.environ.get("HEARTH_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def site(self, **kw):
        s = SiteSim(self.srv.url, self.srv.token["site:home"], workdir=tempfile.mkdtemp(dir=self.tmp), **kw)
        self.addCleanup(s.stop)
        return s.start()

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    # -------------------------------------------------------------- the life of a job

    def test_submit_staged_wait_download_log_energy(self):
        # Binary input: every byte value, zero bytes, high bytes.
        data = bytes(range(256)) * 300 + os.urandom(50_000) + b"\0\0end"
        os.makedirs(self.path("in"), exist_ok=True)
        with open(self.path("in", "input.bin"), "wb") as f:
            f.write(data)
        with open(self.path("in", "work.sh"), "w") as f:
            f.write('#!/bin/sh\nset -e\nmkdir -p frames\n'
                    'for i in $(seq "$1" "$2"); do cp input.bin "frames/f$i.bin"; printf "%s" "$i" >> "frames/f$i.bin"; done\n'
                    'echo "frames $1-$2 done"\n')
        os.chmod(self.path("in", "work.sh"), 0o755)
        job = self.bank.submit(["./work.sh", "{first}", "{last}"], frames="1-5", chunk=2,
                               stage=[self.path("in", "work.sh"), self.path("in", "input.bin")],
                               collect=["frames/*.bin"], name="life", priority=5, timeout="5m", retries=1)
        self.assertIsInstance(job, hearth.Job)
        self.assertEqual(job.tenant, "bank")
        self.assertEqual(job.name, "life")
        self.assertEqual(job.state, "queued")
        self.assertEqual(job.total, 3)
        self.assertEqual((job.split, job.split_text, job.chunk, job.priority), ("frames", "1-5", 2, 5))
        # Listed while queued, by its tenant and by the operator, not by another tenant.
        self.assertIn(job.id, [j.id for j in self.bank.jobs()])
        self.assertIn(job.id, [j.id for j in self.bank.jobs(state="queued")])
        self.assertIn(job.id, [j.id for j in self.op.jobs(tenant="bank")])
        self.assertNotIn(job.id, [j.id for j in self.studio.jobs()])

        self.site(energy_uj=2_500_000)
        seen = []
        done = self.bank.wait(job.id, poll=0.1, timeout=60, progress=seen.append)
        self.assertEqual(done.state, "finished")
        self.assertEqual((done.committed, done.failed), (3, 0))
        self.assertTrue(seen and seen[-1].state == "finished")
        self.assertIn(job.id, [j.id for j in self.bank.jobs(state="finished")])

        tasks = self.bank.tasks(job.id)
        self.assertEqual([(t.task, t.first, t.last, t.state) for t in tasks],
                         [(0, "1", "2", "done"), (1, "3", "4", "done"), (2, "5", "5", "done")])
        self.assertEqual(tasks[0].node, "n1")
        self.assertIn("frames 3-4 done", self.bank.log(job.id, 1))
        self.assertIn("frames 5-5 done", self.bank.log(job.id, 2, attempt=1))

        out = self.path("out-life")
        paths = self.bank.download(job.id, out)
        self.assertEqual(sorted(os.path.relpath(p, out) for p in paths),
                         [f"frames/f{i}.bin" for i in range(1, 6)])
        for i in range(1, 6):
            with open(os.path.join(out, "frames", f"f{i}.bin"), "rb") as f:
                self.assertEqual(f.read(), data + str(i).encode(), f"frame {i} byte for byte")
        self.assertEqual([n for n in os.listdir(os.path.join(out, "frames")) if n.startswith(".")], [],
                         "no temporary files left")
        # Again: the files are there already and stay the same.
        self.assertEqual(len(self.bank.download(job.id, out)), 5)
        outs = self.bank.outputs(job.id)
        self.assertEqual(sorted(o.sha256 for o in outs), sorted(sha(data + str(i).encode()) for i in range(1, 6)))

        # A finished job can be neither cancelled nor resumed: 409.
        for act in (self.bank.resume, self.bank.cancel):
            with self.assertRaises(Conflict) as cm:
                act(job.id)
            self.assertEqual(cm.exception.status, 409)
            self.assertIn(job.id, cm.exception.reason)

        e = self.bank.energy(job.id)
        self.assertEqual(e.energy_uj, 3 * 2_500_000)
        self.assertTrue(e.estimated)
        self.assertAlmostEqual(e.joules, 7.5)
        self.assertIn("7.5 J (estimated)", str(e))

    def test_items_file_is_uploaded_and_split(self):
        with open(self.path("items.txt"), "w") as f:
            f.write("alpha\nbeta gamma\ndelta\n")
        job = self.bank.submit(["sh", "-c", 'echo "item=$0" > "out_{task}.txt"; cat "out_{task}.txt"', "{item}"],
                               items=self.path("items.txt"), collect=["out_*.txt"])
        self.assertEqual((job.split, job.total), ("items", 3))
        self.site()
        self.assertEqual(self.bank.wait(job, poll=0.1, timeout=60).state, "finished")
        self.assertEqual(self.bank.log(job, 1).strip(), "item=beta gamma")
        out = self.path("out-items")
        self.bank.download(job, out)
        with open(os.path.join(out, "out_2.txt")) as f:
            self.assertEqual(f.read(), "item=delta\n")

    def test_a_failing_task_fails_the_job_and_resume_retries_it(self):
        job = self.bank.submit(["sh", "-c", "echo try; exit 3"], count=1, retries=0)
        self.site()
        j = self.bank.wait(job.id, poll=0.1, timeout=60)
        self.assertEqual((j.state, j.failed), ("failed", 1))
        t = self.bank.tasks(job.id)[0]
        self.assertEqual((t.state, t.exit_code, t.attempts), ("failed", 3, 1))
        self.assertIn("try", self.bank.log(job.id, 0))
        r = self.bank.resume(job.id)
        self.assertIn(r.state, ("queued", "running"))
        self.bank.cancel(job.id)

    def test_cancel(self):
        job = self.bank.submit(["true"], count=1000, name="big")
        c = self.bank.cancel(job.id)
        self.assertEqual(c.id, job.id)
        self.assertEqual(c.state, "cancelled")
        self.assertEqual(self.bank.job(job.id).state, "cancelled")
        self.assertIn(job.id, [j.id for j in self.bank.jobs(state="cancelled")])
        # Waiting on a cancelled job returns at once.
        self.assertEqual(self.bank.wait(job.id, timeout=5).state, "cancelled")
        # Another tenant can neither see nor cancel it.
        with self.assertRaises(NotFound):
            self.studio.cancel(job.id)
        r = self.bank.resume(job.id)
        self.assertEqual(r.state, "queued")
        self.bank.cancel(job.id)

    def test_deadline_and_timeout_forms(self):
        import datetime as dt
        now = time.time()
        t2099 = int(dt.datetime(2099, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc).timestamp())
        cases = [("2h", now + 7200), (dt.timedelta(minutes=90), now + 5400),
                 ("2099-01-02T03:04:05Z", t2099), ("2099-01-02 03:04:05+01:00", t2099 - 3600),
                 (dt.datetime(2099, 1, 2, 3, 4, 5), t2099), (t2099, t2099)]
        for given, want_s in cases:
            j = self.bank.submit(["true"], count=1, deadline=given, timeout=90, urgent=True)
            self.addCleanup(self.bank.cancel, j.id)
            self.assertLess(abs(j.deadline_ms / 1000 - want_s), 60, given)
            self.assertTrue(j.urgent)

    def test_wait_times_out_with_the_job_going_on(self):
        job = self.studio.submit(["true"], count=3)
        with self.assertRaises(TimeoutError):
            self.studio.wait(job.id, poll=0.1, timeout=0.3)
        self.studio.cancel(job.id)

    def test_env_reaches_the_tasks_and_a_reserved_name_is_refused(self):
        os.environ["CLIENT_TEST_CURVE"] = "eur 2026"
        try:
            job = self.bank.submit(["sh", "-c", 'echo "greeting=$GREETING curve=$CLIENT_TEST_CURVE"'],
                                   count=1, env=["GREETING=hello hearth", "CLIENT_TEST_CURVE"])
        finally:
            del os.environ["CLIENT_TEST_CURVE"]
        self.site()
        self.assertEqual(self.bank.wait(job.id, poll=0.1, timeout=60).state, "finished")
        self.assertIn("greeting=hello hearth curve=eur 2026", self.bank.log(job.id, 0))
        # A Hearth variable is the server's to set: 400, nothing queued.
        before = len(self.bank.jobs())
        with self.assertRaises(BadRequest) as cm:
            self.bank.submit(["true"], count=1, env={"HEARTH_TOKEN": "stolen"})
        self.assertIn("HEARTH_TOKEN", cm.exception.reason)
        self.assertEqual(len(self.bank.jobs()), before)
        # A bare name that is not set is refused before anything is sent.
        with self.assertRaises(UsageError):
            self.bank.submit(["true"], count=1, env=["CLIENT_TEST_UNSET_NAME"])

    # -------------------------------------------------------------- refusals

    def test_bad_frame_range_is_a_400_naming_it(self):
        with self.assertRaises(BadRequest) as cm:
            self.bank.submit(["echo", "{item}"], frames="1-x")
        e = cm.exception
        self.assertEqual(e.status, 400)
        self.assertIn("1-x", e.reason)
        self.assertTrue("frame" in e.reason or "split_text" in e.reason, e.reason)
        self.assertIsInstance(e, HearthError)
        # Nothing queued.
        self.assertFalse([j for j in self.bank.jobs() if j.split_text == "1-x"])
        with self.assertRaises(BadRequest) as cm:
            self.bank.submit(["echo"], count=2, priority=5000)
        self.assertIn("priority", cm.exception.reason)

    def test_another_tenants_job_is_404(self):
        job = self.studio.submit(["true"], count=1)
        self.addCleanup(self.studio.cancel, job.id)
        for call in (lambda: self.bank.job(job.id), lambda: self.bank.tasks(job.id),
                     lambda: self.bank.log(job.id, 0), lambda: self.bank.download(job.id, self.path("x")),
                     lambda: self.bank.energy(job.id)):
            with self.assertRaises(NotFound) as cm:
                call()
            self.assertEqual(cm.exception.status, 404)
            self.assertTrue(cm.exception.reason)
        with self.assertRaises(NotFound):
            self.bank.job("no-such-job")
        # The operator sees it.
        self.assertEqual(self.op.job(job.id).tenant, "studio")

    def test_other_tenant_listing_is_403_and_submitting_as_another_tenant_refused(self):
        with self.assertRaises(Forbidden) as cm:
            self.bank.jobs(tenant="studio")
        self.assertEqual(cm.exception.status, 403)
        with self.assertRaises(HearthError) as cm:
            self.bank.submit(["true"], tenant="studio", count=1)
        self.assertIn(cm.exception.status, (400, 403))

    def test_bad_token_is_401(self):
        c = Client(self.srv.url, token="not-a-token-anyone-made")
        with self.assertRaises(Unauthorized) as cm:
            c.jobs()
        self.assertEqual(cm.exception.status, 401)
        self.assertTrue(cm.exception.reason)
        # Also when a large staged file is on its way as the server refuses.
        with open(self.path("big.bin"), "wb") as f:
            f.write(os.urandom(8 << 20))
        with self.assertRaises(Unauthorized):
            c.submit(["true"], count=1, stage=[self.path("big.bin")])
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_TOKEN")}
        env["HOME"] = self.path("empty-home")
        env.pop("XDG_CONFIG_HOME", None)
        old = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(env)
            anon = Client(self.srv.url)
        finally:
            os.environ.clear()
            os.environ.update(old)
        self.assertIsNone(anon.token)
        with self.assertRaises(Unauthorized) as cm:
            anon.jobs()
        self.assertIn("no token was sent", cm.exception.reason)

    def test_bad_state_filter_is_a_400(self):
        with self.assertRaises(BadRequest) as cm:
            self.bank.jobs(state="sleeping")
        self.assertIn("sleeping", cm.exception.reason)

    def test_unreachable(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with self.assertRaises(Unreachable) as cm:
            Client(f"http://127.0.0.1:{port}", token="x").jobs()
        self.assertIsNone(cm.exception.status)

    def test_client_side_refusals_send_nothing(self):
        for kw in ({}, {"count": 1, "frames": "1-2"}):
            with self.assertRaises(UsageError):
                self.bank.submit(["true"], **kw)
        with self.assertRaises(UsageError):
            self.bank.submit(["true"], count=1, stage=[self.path("missing.bin")])
        with self.assertRaises(UsageError):
            self.bank.submit(["true"], count=1, timeout="soon")
        with self.assertRaises(UsageError):
            self.bank.submit(["true"], count=1, deadline="2001-01-01")
        with self.assertRaises(ValueError):  # UsageError is a ValueError
            self.bank.submit([], count=1)

    # -------------------------------------------------------------- credentials

    def test_token_from_the_same_places_as_the_cli(self):
        tok = self.srv.token["tenant:bank"]
        home = self.path("home")
        os.makedirs(os.path.join(home, ".config", "hearth"), exist_ok=True)
        tf = os.path.join(home, ".config", "hearth", "token")
        with open(tf, "w") as f:
            f.write(tok + "\n")
        os.chmod(tf, 0o600)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_") and k != "XDG_CONFIG_HOME"}
        self.assertEqual(hearth.load_token(dict(clean, HOME=home)), tok)
        self.assertEqual(hearth.load_token(dict(clean, HOME=home, HEARTH_TOKEN="abc")), "abc")
        self.assertEqual(hearth.load_token(dict(clean, HEARTH_TOKEN_FILE=tf)), tok)
        self.assertIsNone(hearth.load_token(dict(clean, HOME=self.path("nohome"))))
        os.chmod(tf, 0o644)
        with self.assertRaises(UsageError) as cm:
            hearth.load_token(dict(clean, HOME=home))
        self.assertIn("chmod 600", cm.exception.reason)
        os.chmod(tf, 0o600)
        old = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(clean, HOME=home, HEARTH_SERVER=self.srv.url)
            c = Client()
        finally:
            os.environ.clear()
            os.environ.update(old)
        self.assertEqual(c.whoami()["tenant"], "bank")
        with self.assertRaises(UsageError):
            Client("ftp://example")


class TlsTest(unittest.TestCase):
    """Over https the client verifies the scheduler against HEARTH_CACERT or
    cacert=, as the CLI does; without the CA nothing is sent."""

    def test_https_with_the_ca(self):
        if not shutil.which("openssl"):
            self.skipTest("no openssl to make test certificates")
        d = tempfile.mkdtemp(prefix="hearth-pytls-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "srv.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        subprocess.run(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            " -keyout ca.key -out ca.pem -days 2 -subj /CN=hearth-test-ca"
            " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign"
            " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            " -keyout srv.key -out srv.csr -subj /CN=127.0.0.1"
            " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
            " -out srv.pem -days 2 -extfile srv.ext", shell=True, cwd=d, check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        srv = Server(d, ["--tls-cert", os.path.join(d, "srv.pem"), "--tls-key", os.path.join(d, "srv.key")],
                     scheme="https")
        self.addCleanup(srv.stop)
        ca = os.path.join(d, "ca.pem")
        c = srv.client("tenant:bank", cacert=ca)
        job = c.submit(["echo", "{item}"], count=2)
        self.assertEqual([j.id for j in c.jobs()], [job.id])
        old = os.environ.get("HEARTH_CACERT")
        os.environ["HEARTH_CACERT"] = ca
        try:
            self.assertEqual(srv.client("tenant:bank").job(job.id).total, 2)
        finally:
            if old is None:
                del os.environ["HEARTH_CACERT"]
            else:
                os.environ["HEARTH_CACERT"] = old
        with self.assertRaises(Unreachable) as cm:
            Client(srv.url, token=srv.token["tenant:bank"], cacert=None).jobs()
        self.assertIn("CERTIFICATE_VERIFY_FAILED", cm.exception.reason)
        with self.assertRaises(UsageError):
            Client(srv.url, token="x", cacert=os.path.join(d, "missing.pem"))


class RiskDriverTest(unittest.TestCase):
    """examples/risk-mc/submit.py end to end, when risk_mc and risk_merge are
    built (make risk-mc): the site runs the real risk_mc."""

    def test_driver(self):
        bin_dir = os.environ.get("RISK_MC_BIN_DIR") or os.path.join(os.path.dirname(HEARTH), "..", "examples",
                                                                     "risk-mc")
        if not all(os.access(os.path.join(bin_dir, b), os.X_OK) for b in ("risk_mc", "risk_merge")):
            self.skipTest(f"risk_mc and risk_merge are not built in {bin_dir} (make risk-mc)")
        tmp = tempfile.mkdtemp(prefix="hearth-pyrisk-")
        self.addCleanup(shutil.rmtree, tmp, True)
        srv = Server(tmp)
        self.addCleanup(srv.stop)
        site = SiteSim(srv.url, srv.token["site:home"], workdir=tmp, energy_uj=400_000).start()
        self.addCleanup(site.stop)
        env = dict(os.environ, HEARTH_SERVER=srv.url, HEARTH_TOKEN=srv.token["tenant:bank"])
        p = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "risk-mc", "submit.py"), "--blocks", "4",
                            "--paths", "500", "--chunk", "2", "--bin-dir", bin_dir, "--out", os.path.join(tmp, "o")],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertEqual(p.returncode, 0, err)
        serial = subprocess.run([os.path.join(bin_dir, "risk_mc"), "--serial", "--blocks", "0-3", "--paths", "500"],
                                stdout=subprocess.PIPE, check=True).stdout.decode()
        self.assertEqual(out, serial, "the merged report is the serial run's, to the last digit")
        self.assertIn("VaR 99% 1-day", out)
        self.assertIn("energy: 0.8 J (estimated)", err)


if __name__ == "__main__":
    if not os.access(HEARTH, os.X_OK):
        print(f"no hearth binary at {HEARTH}: build it (make) or set HEARTH_BIN", file=sys.stderr)
        sys.exit(2)
    unittest.main()
