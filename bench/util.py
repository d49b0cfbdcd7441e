"""Small helpers of the benchmarks: HTTP clients, processes, /proc readings, statistics."""

import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

CLK_TCK = os.sysconf("SC_CLK_TCK")
T0 = time.monotonic()


def log(msg):
    """Progress goes to stderr; stdout carries only the results."""
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- statistics


def pct(values, p):
    """Percentile with linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(values):
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "min": min(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
        "mean": sum(values) / len(values) if values else float("nan"),
    }


# ---------------------------------------------------------------- HTTP


class Http:
    """One HTTP/1.1 connection to one server, kept alive while the server allows it."""

    def __init__(self, base, timeout=20):
        u = urlsplit(base)
        self.host, self.port, self.timeout = u.hostname, u.port or 80, timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None):
        """Returns (status, response, body bytes). A connection the server closed while idle
        is reopened once (never during a timed request: servers here close only with
        `Connection: close`, which http.client sees)."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
                continue
            except BaseException:
                # A timeout or an interruption leaves the connection mid-request: start afresh.
                self.close()
                raise
            if resp.will_close:
                self.close()
            return resp.status, resp, data
        raise RuntimeError("unreachable")


class Upstream:
    """Keystone and Glance called directly, as a script or the CLI would."""

    def __init__(self, keystone_url, glance_url):
        self.keystone_url = keystone_url.rstrip("/")
        self.keystone = Http(self.keystone_url)
        self.glance = Http(glance_url)
        self.token = None
        self.project_id = None

    def authenticate(self, user, password, project):
        body = json.dumps(
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
                    },
                    "scope": {"project": {"name": project, "domain": {"id": "default"}}},
                }
            }
        )
        path = urlsplit(self.keystone_url).path + "/auth/tokens"
        status, resp, data = self.keystone.request(
            "POST", path, body, {"Content-Type": "application/json", "Accept": "application/json"}
        )
        if status != 201:
            raise RuntimeError(f"Keystone refused {user}: {status} {data[:200]!r}")
        self.token = resp.getheader("X-Subject-Token")
        self.project_id = json.loads(data)["token"]["project"]["id"]
        return self.token

    def call(self, method, path, body=None, content_type="application/json"):
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        return self.glance.request(method, path, body, headers)


class Dashboard:
    """A browser's session with glance-share: the session cookie, server functions, pages."""

    def __init__(self, base, cookie_name="glance_share_session"):
        self.base = base
        self.http = Http(base)
        self.cookie_name = cookie_name
        self.cookie = None

    def _remember(self, resp):
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            if name.strip() == self.cookie_name:
                self.cookie = rest.split(";", 1)[0]

    def call(self, endpoint, form):
        headers = {
            "Origin": self.base,
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if self.cookie:
            headers["Cookie"] = f"{self.cookie_name}={self.cookie}"
        status, resp, data = self.http.request("POST", f"/api/{endpoint}", urlencode(form), headers)
        self._remember(resp)
        return status, data

    def page(self, path):
        headers = {"Accept": "text/html,application/xhtml+xml"}
        if self.cookie:
            headers["Cookie"] = f"{self.cookie_name}={self.cookie}"
        status, resp, data = self.http.request("GET", path, None, headers)
        self._remember(resp)
        return status, data

    def sign_in(self, user, password, project, cloud="lab"):
        status, data = self.call(
            "sign_in",
            {"cloud": cloud, "method": "password", "user_name": user, "password": password, "project": project},
        )
        if status != 200 or not self.cookie:
            raise RuntimeError(f"glance-share sign-in failed: {status} {data[:300]!r}")
        return self.cookie


# ---------------------------------------------------------------- processes


class Procs:
    """Processes this run started; each in its own process group, ended by that group's id."""

    def __init__(self):
        self.started = []

    def spawn(self, argv, log_path, env=None, cwd=None):
        logf = open(log_path, "ab")
        p = subprocess.Popen(
            argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
            start_new_session=True,
        )
        logf.close()
        self.started.append(p)
        return p

    def stop(self, p, grace=8.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        if p in self.started:
            self.started.remove(p)

    def stop_all(self):
        for p in list(reversed(self.started)):
            try:
                self.stop(p)
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                log(f"could not stop pid {p.pid}: {e}")


def wait_for_line(path, pattern, proc, timeout):
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{path.name}: process exited with {proc.returncode}:\n{path.read_text()[-2000:]}")
        text = path.read_text(errors="replace") if path.exists() else ""
        m = rx.search(text)
        if m:
            return m
        time.sleep(0.05)
    raise RuntimeError(f"{path.name}: no line matching {pattern!r} after {timeout}s:\n{path.read_text()[-2000:]}")


# ---------------------------------------------------------------- /proc


def cpu_seconds(pid):
    """utime + stime of a process, all its threads (also finished ones), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    rest = stat[stat.rfind(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def children_of(pid):
    """Direct children of pid (for the fake upstream's pre-forked workers)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
    except FileNotFoundError:
        pass
    return out


def tree_cpu_seconds(pid):
    total = 0.0
    for p in [pid, *children_of(pid)]:
        try:
            total += cpu_seconds(p)
        except FileNotFoundError:
            pass
    return total


def read_text(path, default=""):
    try:
        return Path(path).read_text()
    except OSError:
        return default
