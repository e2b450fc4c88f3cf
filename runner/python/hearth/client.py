"""The client of `hearth serve`'s /v1 REST API (hearth-api(7)).

Standard library only (urllib, json, hashlib, ssl), Python 3.9 or later, so
Blender's bundled Python imports it as it is.

    from hearth import Client
    c = Client()                      # HEARTH_SERVER, HEARTH_TOKEN..., HEARTH_CACERT
    job = c.submit(["./render.sh", "{first}", "{last}"], frames="1-240", chunk=4,
                   stage=["render.sh", "scene.blend"], collect=["frames/*.png"])
    job = c.wait(job.id, progress=lambda j: print(j.committed, "/", j.total))
    c.download(job.id, "out")
"""

import datetime as _dt
import hashlib
import json
import os
import re
import socket
import ssl
import stat
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .errors import HearthError, Unreachable, UsageError, error_for_status

__all__ = ["Client", "Job", "Task", "Output", "Energy", "FINAL_STATES", "load_token"]

#: The states after which a job changes no more (until resumed).
FINAL_STATES = frozenset({"finished", "failed", "cancelled"})

_CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


# ---------------------------------------------------------------- records


def _from_json(cls, obj: Dict[str, Any]):
    """A record from the server's JSON object; fields this client does not
    know yet (a newer server) are kept in ``extra``."""
    known = {f.name for f in fields(cls)} - {"extra"}
    if cls is Task and "exit" in obj:  # the wire's name of exit_code
        obj = dict(obj)
        obj["exit_code"] = obj.pop("exit")
    rec = cls(**{k: v for k, v in obj.items() if k in known})
    rec.extra = {k: v for k, v in obj.items() if k not in known}
    return rec


@dataclass
class Job:
    """A job as ``GET /v1/jobs/ID`` answers it (hearth-api(7)).

    ``total`` tasks, of which ``committed`` are done, ``failed`` failed
    after their retries and ``running`` have attempts out at sites.  Times
    are Unix milliseconds (0: not yet).  ``energy_uj`` is the energy charged
    to the job's attempts so far, ``energy_estimated`` true when some of it
    came from a power model rather than a meter.
    """

    id: str = ""
    tenant: str = ""
    name: str = ""
    state: str = "queued"
    priority: int = 0
    urgent: bool = False
    deadline_ms: int = 0
    split: str = ""
    split_text: str = ""
    chunk: int = 1
    command: List[str] = field(default_factory=list)
    collect: List[str] = field(default_factory=list)
    total: int = 0
    committed: int = 0
    failed: int = 0
    running: int = 0
    submitted_ms: int = 0
    started_ms: int = 0
    finished_ms: int = 0
    energy_uj: int = 0
    energy_estimated: bool = False
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        """True once the job is finished, failed or cancelled."""
        return self.state in FINAL_STATES


@dataclass
class Task:
    """A task of a job in the user's terms (``GET /v1/jobs/ID/tasks``):
    its ``first`` and ``last`` items (frames 21 and 22), ``state``
    (waiting, running, done, failed), ``attempts``, where its last attempt
    ran, how long, its exit code and the reason it failed."""

    task: int = 0
    first: str = ""
    last: str = ""
    state: str = "waiting"
    attempts: int = 0
    site: str = ""
    node: str = ""
    wall_ms: int = 0
    exit_code: int = 0
    reason: str = ""
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Output:
    """A collected file of a job (``GET /v1/jobs/ID/outputs``): its relative
    ``path``, ``sha256``, ``size``, ``mode`` and the ``task`` that made it."""

    path: str = ""
    sha256: str = ""
    size: int = 0
    mode: int = 0o644
    task: int = 0
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Energy:
    """The energy charged to a job's attempts so far (from the job's
    ``energy_uj`` and ``energy_estimated``)."""

    job: str
    energy_uj: int
    estimated: bool

    @property
    def joules(self) -> float:
        return self.energy_uj / 1e6

    @property
    def kwh(self) -> float:
        return self.energy_uj / 3.6e12

    def __str__(self) -> str:
        est = " (estimated)" if self.estimated else ""
        return f"{self.joules:.1f} J{est} = {self.kwh:.3g} kWh"


# ---------------------------------------------------------------- credentials


def _checked_token(raw: str, origin: str) -> str:
    t = raw.strip()
    if not t:
        raise UsageError(f"{origin} holds no token; put the token 'hearth token new' printed in it")
    if len(t) > 512:
        raise UsageError(f"{origin} holds more than a token (over 512 characters); keep only the token")
    if any(ord(c) <= 32 or ord(c) >= 127 for c in t):
        raise UsageError(f"{origin} holds a space or control character inside the token; "
                         "keep only the one word 'hearth token new' printed")
    return t


def _token_file(path: str) -> str:
    # As the CLI: no symlink, nothing readable by group or others.
    try:
        st = os.lstat(path)
    except OSError as e:
        raise UsageError(f"cannot read token file {path}: {e.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise UsageError(f"{path} is a symbolic link; give the token file itself")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is not a regular file")
    if st.st_mode & 0o077:
        raise UsageError(f"{path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
                         f"chmod 600 {path}")
    with open(path, encoding="ascii", errors="replace") as f:
        return _checked_token(f.read(4096), path)


def load_token(env: Optional[Dict[str, str]] = None) -> Optional[str]:
    """The token, from where ``hearth`` (the CLI) reads it: ``HEARTH_TOKEN``,
    else the file ``HEARTH_TOKEN_FILE``, else ``$XDG_CONFIG_HOME/hearth/token``
    (``~/.config/hearth/token``) when it exists; None when none is set.  A
    token file must be mode 0600 or stricter and not a symlink."""
    env = os.environ if env is None else env
    if env.get("HEARTH_TOKEN"):
        return _checked_token(env["HEARTH_TOKEN"], "HEARTH_TOKEN")
    if env.get("HEARTH_TOKEN_FILE"):
        return _token_file(env["HEARTH_TOKEN_FILE"])
    conf = env.get("XDG_CONFIG_HOME") or (os.path.join(env["HOME"], ".config") if env.get("HOME") else "")
    if conf:
        path = os.path.join(conf, "hearth", "token")
        if os.path.lexists(path):
            return _token_file(path)
    return None


# ---------------------------------------------------------------- helpers


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


_DUR = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _duration_ms(value: Union[int, float, str, _dt.timedelta], what: str) -> int:
    """Seconds (a number), a timedelta, or the CLI's text: "90", "90s",
    "1500ms", "5m", "1h30m", "2d"."""
    if isinstance(value, bool):
        raise UsageError(f"{what}: give seconds, a timedelta or a duration such as '10m'")
    if isinstance(value, _dt.timedelta):
        ms = int(value.total_seconds() * 1000)
    elif isinstance(value, (int, float)):
        ms = int(value * 1000)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            ms = int(float(text) * 1000)
        else:
            parts = _DUR.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise UsageError(f"{what} '{value}' is not a duration; use e.g. 90, 90s, 1500ms, 5m, 1h30m, 2d")
            ms = int(sum(float(n) * _UNIT_MS[u] for n, u in parts))
    else:
        raise UsageError(f"{what}: give seconds, a timedelta or a duration such as '10m'")
    if ms <= 0:
        raise UsageError(f"{what} '{value}' is not positive; give a duration such as '10m'")
    return ms


def _deadline_ms(value: Union[int, float, str, _dt.datetime, _dt.timedelta]) -> int:
    """A datetime (naive ones are UTC), Unix seconds (a number), an ISO time
    "2027-01-04T06:00:00Z" / "2027-01-04", or a duration from now ("6h")."""
    now = int(time.time() * 1000)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        ms = int(value.timestamp() * 1000)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ms = int(value * 1000)
    elif isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        try:
            t = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(f"deadline '{value}' is not a time; use 2027-01-04T06:00:00Z, 2027-01-04 "
                             "or a duration such as 6h") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        ms = int(t.timestamp() * 1000)
    else:
        ms = now + _duration_ms(value, "deadline")
    if ms <= now:
        raise UsageError(f"deadline {value} is in the past; give a later time or a duration such as 6h")
    return ms


def _split_text(value: Union[str, int, range, Sequence[int]], what: str) -> str:
    if isinstance(value, bool):
        raise UsageError(f"{what}: give a set such as '1-240' or '1-10,20'")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, range):
        if value.step != 1 or len(value) == 0:
            raise UsageError(f"{what}: a range of step 1 with at least one item, e.g. range(1, 241)")
        return f"{value.start}-{value.stop - 1}"
    if isinstance(value, str):
        return value
    try:
        return ",".join(str(int(v)) for v in value)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: give a set such as '1-240', a range or a list of integers") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the token to wherever it points: refuse it.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# ---------------------------------------------------------------- the client



def _env_list(env: Union[Mapping[str, str], Iterable[str]]) -> List[str]:
    """NAME=VALUE words, as ``--env`` resolves them; the server checks the names."""
    if isinstance(env, Mapping):
        return [f"{k}={v}" for k, v in env.items()]
    if isinstance(env, str):
        env = [env]
    out = []
    for w in env:
        if "=" in w:
            out.append(w)
        elif w in os.environ:
            out.append(f"{w}={os.environ[w]}")
        else:
            raise UsageError(f"env: '{w}' is not set here; give it a value ('{w}=VALUE')")
    return out

class Client:
    """A connection to `hearth serve` (its /v1 REST API, hearth-api(7)).

    Args:
        server: the scheduler's URL; default ``HEARTH_SERVER``.
        token: the bearer token; default as the CLI finds it:
            ``HEARTH_TOKEN``, the file ``HEARTH_TOKEN_FILE``, or
            ``~/.config/hearth/token`` (``$XDG_CONFIG_HOME/hearth/token``).
        cacert: a PEM file of the CA that signed the scheduler's certificate
            (https); default ``HEARTH_CACERT``, else the system's CAs.
        timeout: seconds each request may take to answer (transfers of large
            files get more).
        tenant: the default tenant of :meth:`submit`; default
            ``HEARTH_TENANT``, else the token's own tenant.

    Raises :class:`~hearth.errors.UsageError` when no server is given or a
    token file is unsafe.  Every method raises a
    :class:`~hearth.errors.HearthError` subclass on failure.
    """

    def __init__(self, server: Optional[str] = None, token: Optional[str] = None,
                 cacert: Optional[str] = None, timeout: float = 60.0, tenant: Optional[str] = None):
        server = server or os.environ.get("HEARTH_SERVER", "")
        if not server:
            raise UsageError("no scheduler: pass server='https://host:9770' or set HEARTH_SERVER")
        parsed = urllib.parse.urlsplit(server)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"bad server URL '{server}': give http://host:port or https://host:port")
        self.server = server.rstrip("/")
        self.token = _checked_token(token, "token") if token else load_token()
        self.tenant = tenant if tenant is not None else os.environ.get("HEARTH_TENANT") or None
        self.timeout = timeout
        origin = "cacert=" if cacert else "HEARTH_CACERT="
        cacert = cacert or os.environ.get("HEARTH_CACERT") or None
        if cacert and not (os.path.isfile(cacert) and os.access(cacert, os.R_OK)):
            raise UsageError(f"{origin}{cacert}: cannot read it; give the PEM file of the CA "
                             "that signed the scheduler's certificate")
        self.cacert = cacert
        handlers: List[Any] = [_NoRedirect()]
        if parsed.scheme == "https":
            ctx = ssl.create_default_context(cafile=cacert)
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"Client({self.server!r})"

    # ------------------------------------------------------------ transport

    def _open(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
              timeout: Optional[float] = None):
        url = self.server + path
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(url, data=body, method=method, headers=h)
        try:
            return self._opener.open(req, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as e:
            raw = e.read(65536)
            e.close()
            try:
                reason = json.loads(raw.decode("utf-8", "replace")).get("error") or ""
            except (ValueError, AttributeError):
                reason = ""
            if not reason:
                reason = raw.decode("utf-8", "replace").strip()[:300] or (e.reason if isinstance(e.reason, str) else "")
            if e.code == 401 and not self.token:
                reason += ("; no token was sent: set HEARTH_TOKEN, HEARTH_TOKEN_FILE or "
                           "~/.config/hearth/token, or pass token=")
            raise error_for_status(e.code, reason, method, url) from None
        except urllib.error.URLError as e:
            why = e.reason if not isinstance(e.reason, BaseException) else (
                getattr(e.reason, "strerror", None) or str(e.reason))
            raise Unreachable(f"the scheduler does not answer ({why}); check HEARTH_SERVER and that "
                              "hearth serve runs", None, method, url) from None
        except (socket.timeout, ConnectionError, ssl.SSLError, OSError) as e:
            raise Unreachable(f"the scheduler does not answer ({e})", None, method, url) from None

    def _read(self, r, method: str, path: str, size: Optional[int] = None) -> bytes:
        # A connection that breaks or stalls mid-answer is no answer.
        try:
            return r.read() if size is None else r.read(size)
        except (socket.timeout, ConnectionError, ssl.SSLError, OSError) as e:
            raise Unreachable(f"the scheduler stopped answering mid-reply ({e})", None, method,
                              self.server + path) from None

    def _json(self, method: str, path: str, obj: Any = None) -> Any:
        body = None
        headers = {"Accept": "application/json"}
        if obj is not None:
            body = json.dumps(obj).encode()
            headers["Content-Type"] = "application/json"
        with self._open(method, path, body, headers) as r:
            data = self._read(r, method, path)
        try:
            return json.loads(data)
        except ValueError:
            raise HearthError(f"the scheduler answered something that is not JSON: {data[:100]!r}",
                              None, method, self.server + path) from None

    @staticmethod
    def _id(job_id: Union[str, Job]) -> str:
        if isinstance(job_id, Job):
            job_id = job_id.id
        if not isinstance(job_id, str) or not job_id:
            raise UsageError("give a job id (the id submit returned)")
        return urllib.parse.quote(job_id, safe="")

    # ------------------------------------------------------------ API

    def whoami(self) -> Dict[str, Any]:
        """``GET /v1/whoami``: the token's role, kind and tenant."""
        return self._json("GET", "/v1/whoami")

    def upload(self, path: str) -> Dict[str, Any]:
        """Uploads a file to the content store (``PUT /v1/blobs/SHA256``)
        unless the server has it; returns ``{"sha256", "size", "mode"}``."""
        try:
            st = os.stat(path)
        except OSError as e:
            raise UsageError(f"cannot read '{path}': {e.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"'{path}' is not a file; through a server only files travel "
                             "(tar a directory and stage the archive)")
        sha = _sha256_file(path)
        big = max(self.timeout, 60.0 + st.st_size / 1e6)  # a megabyte a second at worst
        headers = {"Content-Length": str(st.st_size), "Content-Type": "application/octet-stream"}
        try:
            with open(path, "rb") as f, self._open("PUT", "/v1/blobs/" + sha, f, headers, timeout=big) as r:
                r.read()
        except Unreachable:
            # The server refuses a token before it reads a body (401, 403,
            # 413): the refusal then reaches us as a broken pipe. An empty
            # upload (the empty blob) gets the same refusal with its reason.
            with self._open("PUT", "/v1/blobs/" + hashlib.sha256(b"").hexdigest(), b"",
                            {"Content-Length": "0", "Content-Type": "application/octet-stream"}) as r:
                r.read()
            raise
        return {"sha256": sha, "size": st.st_size, "mode": stat.S_IMODE(st.st_mode)}

    def submit(self, command: Union[str, Sequence[str]], tenant: Optional[str] = None, *,
               frames: Union[str, range, Sequence[int], None] = None,
               seeds: Union[str, range, Sequence[int], None] = None,
               count: Optional[int] = None, items: Optional[str] = None,
               chunk: int = 1, retries: int = 2,
               timeout: Union[int, float, str, _dt.timedelta, None] = None,
               stage: Iterable[str] = (), collect: Iterable[str] = (),
               deadline: Union[int, float, str, _dt.datetime, _dt.timedelta, None] = None,
               urgent: bool = False, priority: int = 0, name: Optional[str] = None,
               env: Union[Mapping[str, str], Iterable[str], None] = None) -> Job:
        """Queues a job, as ``hearth submit`` does; returns it (state queued).

        Args:
            command: the words of the command (a list; a string is split on
                white space), with hearth(1)'s placeholders: ``{item}``,
                ``{first}``, ``{last}``, ``{task}``...
            tenant: whom the job is for; default the client's tenant
                (``HEARTH_TENANT``), else the token's own.
            frames, seeds, count, items: exactly one, how to split: a frame
                set ``"1-240"`` / ``"1-10,20"`` (or a ``range``), a seed range,
                a number of items, or the path of an items file (one item a
                line; uploaded first).
            chunk: items a task.
            retries: attempts after the first (0-100).
            timeout: a task attempt's limit: seconds, a timedelta or ``"30m"``.
            stage: files copied into every task's scratch directory (uploaded
                first, under their base names, modes kept).
            collect: relative globs of the files each task leaves to keep.
            deadline: a datetime, Unix seconds, ``"2027-01-04T06:00:00Z"``
                or a duration from now (``"6h"``).
            urgent: run past the sites' heat budgets.
            priority: -1000..1000, within the tenant (higher first).
            name: a label (letters, digits, ``.``, ``_``, ``-``).
            env: more variables for every task, as ``hearth submit --env``:
                a mapping ``{"CURVE": "eur"}`` or words ``"CURVE=eur"``; a
                bare ``"NAME"`` takes this process's value.

        The server checks every field; a refusal raises
        :class:`~hearth.errors.BadRequest` naming it, and nothing is queued.
        """
        if isinstance(command, str):
            command = command.split()
        command = [str(w) for w in command]
        if not command:
            raise UsageError("no command: give the program to run, e.g. ['echo', '{item}']")
        ways = [(k, v) for k, v in (("frames", frames), ("seeds", seeds), ("count", count), ("items", items))
                if v is not None]
        if len(ways) != 1:
            raise UsageError(("more than one way to split" if ways else "nothing to split") +
                             ": give exactly one of frames=, seeds=, count=, items=")
        split, value = ways[0]
        stage = [os.fspath(p) for p in ([stage] if isinstance(stage, (str, os.PathLike)) else stage)]
        collect = [collect] if isinstance(collect, str) else list(collect)
        # Every name is checked before the first byte is sent.
        names = set()
        for p in stage:
            if not os.path.isfile(p):
                raise UsageError(f"stage '{p}' is not a file; through a server only files travel "
                                 "(tar a directory and stage the archive)")
            base = os.path.basename(p)
            if base in names:
                raise UsageError(f"stage: two inputs are named '{base}'; rename one")
            names.add(base)
        if split == "items" and not os.path.isfile(os.fspath(value)):
            raise UsageError(f"cannot read items file '{value}'; check the path")
        body: Dict[str, Any] = {
            "split": split,
            "split_text": "items" if split == "items" else _split_text(value, split),
            "chunk": chunk,
            "command": command,
            "retries": retries,
            "timeout_ms": _duration_ms(timeout, "timeout") if timeout is not None else 0,
            "collect": collect,
            "deadline_ms": _deadline_ms(deadline) if deadline is not None else 0,
            "urgent": bool(urgent),
            "priority": priority,
        }
        if env is not None:
            body["env"] = _env_list(env)
        tenant = tenant if tenant is not None else self.tenant
        if tenant:
            body["tenant"] = tenant
        if name:
            body["name"] = name
        if split == "items":
            body["items_sha256"] = self.upload(os.fspath(value))["sha256"]
        body["stage"] = []
        for p in stage:
            b = self.upload(p)
            body["stage"].append({"name": os.path.basename(p), "sha256": b["sha256"],
                                  "mode": b["mode"], "size": b["size"]})
        return _from_json(Job, self._json("POST", "/v1/jobs", body))

    def jobs(self, tenant: Optional[str] = None, state: Optional[str] = None,
             limit: Optional[int] = None) -> List[Job]:
        """``GET /v1/jobs``: the jobs the token may see, optionally one
        tenant's (a tenant's token may name only itself) or in one state
        (queued, running, finished, failed, cancelled)."""
        q = {k: v for k, v in (("tenant", tenant), ("state", state), ("limit", limit)) if v is not None}
        path = "/v1/jobs" + ("?" + urllib.parse.urlencode(q) if q else "")
        return [_from_json(Job, j) for j in self._json("GET", path)["jobs"]]

    def job(self, job_id: Union[str, Job]) -> Job:
        """``GET /v1/jobs/ID``: where the job stands."""
        return _from_json(Job, self._json("GET", "/v1/jobs/" + self._id(job_id)))

    status = job

    def wait(self, job_id: Union[str, Job], poll: float = 1.0, timeout: Optional[float] = None,
             progress: Optional[Callable[[Job], None]] = None) -> Job:
        """Polls the job until it is finished, failed or cancelled; returns it.

        Args:
            poll: seconds between polls.
            timeout: give up after this many seconds (raises ``TimeoutError``;
                the job goes on).
            progress: called with the :class:`Job` after the first poll and
                whenever its counts or state change.

        A failed job is returned, not raised: look at ``state`` and
        :meth:`tasks`.
        """
        start = time.monotonic()
        last = None
        while True:
            j = self.job(job_id)
            seen = (j.state, j.committed, j.failed, j.running, j.total)
            if progress is not None and seen != last:
                progress(j)
            last = seen
            if j.done:
                return j
            if timeout is not None and time.monotonic() - start + poll > timeout:
                raise TimeoutError(f"job {j.id} is still {j.state} after {timeout} s "
                                   f"({j.committed}/{j.total} tasks done)")
            time.sleep(poll)

    def tasks(self, job_id: Union[str, Job], start: int = 0, limit: Optional[int] = None) -> List[Task]:
        """``GET /v1/jobs/ID/tasks``: every task (paged through, 1000 at a
        time) from task ``start``, or at most ``limit`` of them."""
        out: List[Task] = []
        jid = self._id(job_id)
        at = start
        while limit is None or len(out) < limit:
            page = 1000 if limit is None else min(1000, limit - len(out))
            got = self._json("GET", f"/v1/jobs/{jid}/tasks?from={at}&limit={page}")["tasks"]
            out.extend(_from_json(Task, t) for t in got)
            if len(got) < page:
                break
            at = out[-1].task + 1
        return out

    def log(self, job_id: Union[str, Job], task: int, attempt: Optional[int] = None) -> str:
        """A task's output (stdout and stderr): its last attempt's, or that
        of ``attempt`` (1 is the first)."""
        path = f"/v1/jobs/{self._id(job_id)}/tasks/{int(task)}/log"
        if attempt is not None:
            path += f"?attempt={int(attempt)}"
        with self._open("GET", path) as r:
            return self._read(r, "GET", path).decode("utf-8", "replace")

    def outputs(self, job_id: Union[str, Job]) -> List[Output]:
        """``GET /v1/jobs/ID/outputs``: the files the job's tasks collected."""
        return [_from_json(Output, o)
                for o in self._json("GET", f"/v1/jobs/{self._id(job_id)}/outputs")["outputs"]]

    def download(self, job_id: Union[str, Job], dest: str) -> List[str]:
        """Downloads the job's outputs into the directory ``dest`` (made when
        missing) under their relative paths, byte for byte; returns the paths
        written.

        Each file is written under a temporary name beside its place, checked
        against its size and SHA-256, given its mode, then renamed: a file in
        ``dest`` is never half-written.  A file already there with the same
        SHA-256 is not fetched again.  An output whose path would leave
        ``dest`` is refused (:class:`~hearth.errors.HearthError`).
        """
        outs = self.outputs(job_id)
        root = os.path.realpath(dest)
        os.makedirs(root, exist_ok=True)
        written = []
        for o in outs:
            parts = o.path.split("/")
            if (not o.path or o.path.startswith("/") or any(p in ("", ".", "..") for p in parts)
                    or "\0" in o.path or not _SHA256.match(o.sha256)):
                raise HearthError(f"the scheduler named an output '{o.path[:100]}' outside the job's "
                                  "directory (or without a SHA-256); refusing it")
            target = os.path.join(root, *parts)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isfile(target) and os.path.getsize(target) == o.size and _sha256_file(target) == o.sha256:
                written.append(target)
                continue
            self._fetch_blob(o, target)
            written.append(target)
        return written

    def _fetch_blob(self, o: Output, target: str) -> None:
        d = os.path.dirname(target)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".part", dir=d)
        try:
            h = hashlib.sha256()
            n = 0
            with os.fdopen(fd, "wb") as f:
                with self._open("GET", "/v1/blobs/" + o.sha256,
                                timeout=max(self.timeout, 60.0 + o.size / 1e6)) as r:
                    for block in iter(lambda: self._read(r, "GET", "/v1/blobs/" + o.sha256, _CHUNK), b""):
                        h.update(block)
                        n += len(block)
                        f.write(block)
                f.flush()
                os.fsync(f.fileno())
            if n != o.size or h.hexdigest() != o.sha256:
                raise HearthError(f"the download of {o.path} does not match its SHA-256 and size "
                                  f"({n} bytes, expected {o.size}); download it again")
            os.chmod(tmp, o.mode & 0o777)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def cancel(self, job_id: Union[str, Job]) -> Job:
        """Cancels the job (its attempts stop when their sites next ask for
        work); returns it."""
        return _from_json(Job, self._json("POST", f"/v1/jobs/{self._id(job_id)}/cancel", {}))

    def resume(self, job_id: Union[str, Job]) -> Job:
        """Gives the job's failed tasks fresh retries, and queues a cancelled
        job again; returns it."""
        return _from_json(Job, self._json("POST", f"/v1/jobs/{self._id(job_id)}/resume", {}))

    def energy(self, job_id: Union[str, Job]) -> Energy:
        """The energy charged to the job's attempts so far."""
        j = self.job(job_id)
        return Energy(job=j.id, energy_uj=int(j.energy_uj), estimated=bool(j.energy_estimated))
