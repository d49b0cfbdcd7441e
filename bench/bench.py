#!/usr/bin/env python3
"""glance-share benchmarks: the six measurements of issue #7, issue 14's directory and issue 15's access review, side by side in one run.

Run it with `bench/run` (which installs wrk and brotli if missing and starts the lab). It
prints a table with ratios and goals to stdout, writes docs/benchmarks.md (method, machine,
every figure of this run, what each means, which goals are missed), bench/README-table.md
(the short table for the README) and bench/last-run.json (the raw figures). Nothing here is
a test: a missed goal is reported, never a failure.

  1 overhead  members list (1, 32, 128 members): glance-share `members` vs direct Glance (real lab)
  2 render    image page (128 members) and 1000-image list, against the canned upstream
  3 cli       `openstack image member list` vs the signed-in image page (real lab)
  4 batch     20 images x 20 projects: batch vs sequential add-member loop vs the CLI (real lab)
  5 load      200 signed-in sessions, 200 connections, wrk, against the canned upstream
  6 bundle    wasm + js of the hydrate bundle, raw / gzip -9 / brotli -q 11
  7 directory image page (128 members) named by a directory reader: Keystone calls cold and warm,
              warm time beside the same page without a directory, against the canned upstream
  8 review    access review of 200 shared images x 10 members (`/access/export.json` and `/access`):
              wall time, Glance calls (listing pages + one member listing per image), Keystone
              calls and server CPU per view, against the canned upstream
  9 tti       time to interactive in Chromium (Playwright, DevTools protocol): navigation start to
              the image page's (128 members) copy buttons answering a click, unthrottled and at 4x
              CPU throttling, for this build and the "before" build of bench/build-before (0817ab3,
              fully hydrated), against the canned upstream
"""

import argparse
import concurrent.futures as cf
import gzip
import hashlib
import http.client
import json
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
from util import (  # noqa: E402
    Dashboard,
    Procs,
    Upstream,
    cpu_seconds,
    log,
    proc_status_kb,
    read_text,
    summary,
    tree_cpu_seconds,
    wait_for_line,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PREFIX = "glance-share-bench-"
PAYLOAD = b"glance-share benchmark image bytes\n"
# GLANCE_SHARE_BATCH_CONCURRENCY for the servers against the canned upstream (the server's default is 8).
BATCH_CONCURRENCY = 20
# ... and against the lab: the server's default. The lab Glance is CPU-bound on this machine's
# cores, and more calls in flight than its best level only queue there (benchmark 4's sweep).
LAB_BATCH_CONCURRENCY = 8
LAB_SERVER_ENV = {"GLANCE_SHARE_BATCH_CONCURRENCY": str(LAB_BATCH_CONCURRENCY)}
# The directory reader the canned Keystone knows (benchmark 7); its password is made per run.
DIRECTORY_USER = "glance-share-directory"
ALL = {1, 2, 3, 4, 5, 6, 7, 8, 9}
# Benchmark 9's "before": the fully hydrated build of 0817ab3 that bench/build-before makes.
BEFORE_COMMIT = "0817ab3"
BEFORE_TARGET = Path(os.environ.get("GLANCE_SHARE_BEFORE_TARGET", "/work/target-before"))
TTI_RATES = (1, 4)


class Run:
    def __init__(self, args):
        self.args = args
        self.id = uuid.uuid4().hex[:8]
        self.work = Path(tempfile.mkdtemp(prefix="glance-share-bench."))
        self.procs = Procs()
        self.created_images = []
        self.lab = None
        self.upstream = None
        self.results = {}
        self.fake = None
        self.fake_proc = None

    # ------------------------------------------------------------ servers

    def start_forwarder(self, upstream_url):
        """nginx forwarding every request to `upstream_url` and doing nothing else: benchmark 1's
        measure of what one more HTTP hop in front of Glance costs by itself. Returns its base URL,
        or None without nginx (bench/run installs it)."""
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if nginx is None:
            return None
        d = self.work / "nginx"
        d.mkdir(exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # One worker, no logs, no buffering: as little as a proxy can do. Like glance-share, it
        # opens a new connection to Glance for every call (Glance closes each).
        (d / "nginx.conf").write_text(
            f"worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/error.log warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; "
            f"uwsgi_temp_path {d}; scgi_temp_path {d};\n"
            f"  server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass {upstream_url.rstrip('/')}; "
            "proxy_buffering off; } } }\n")
        p = self.procs.spawn([nginx, "-c", str(d / "nginx.conf"), "-p", str(d)], self.work / "nginx.log")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    log(f"nginx (forwards to {upstream_url}) pid {p.pid} on {base}")
                    return base
            except OSError:
                if p.poll() is not None:
                    break
                time.sleep(0.05)
        log(f"nginx did not start: {read_text(d / 'error.log')[-300:]}")
        return None

    def clouds_yaml(self, name, auth_url):
        path = self.work / f"clouds-{name}.yaml"
        path.write_text(f"clouds:\n  lab:\n    auth:\n      auth_url: {auth_url}\n    region_name: RegionOne\n")
        return path

    def start_server(self, name, clouds, extra_env=None, bin=None, site=None):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "LEPTOS_SITE_ROOT": str(site or self.args.site),
            "LEPTOS_SITE_PKG_DIR": "pkg",
            "LEPTOS_OUTPUT_NAME": "glance-share",
            "GLANCE_SHARE_LISTEN": "127.0.0.1:0",
            "GLANCE_SHARE_SESSION_STORE": "memory",
            "GLANCE_SHARE_AUDIT_LOG": "memory",
            # Set, not left to the default (8): the canned-upstream benchmarks were always measured at 20.
            "GLANCE_SHARE_BATCH_CONCURRENCY": str(BATCH_CONCURRENCY),
            # 200 sessions sign in from one address within seconds.
            "GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE": "100000",
            "GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE": "100000",
            "OS_CLIENT_CONFIG_FILE": str(clouds),
            # warn, plus the one info line that says where the server listens.
            "RUST_LOG": "warn,glance_share::server=info",
            "NO_COLOR": "1",
        }
        env.update(extra_env or {})
        logp = self.work / f"server-{name}.log"
        p = self.procs.spawn([str(bin or self.args.bin)], logp, env=env, cwd=self.work)
        m = wait_for_line(logp, r"listening on (http://[0-9.:]+)", p, 30)
        base = m.group(1)
        log(f"glance-share ({name}) pid {p.pid} on {base}, "
            f"GLANCE_SHARE_BATCH_CONCURRENCY={env['GLANCE_SHARE_BATCH_CONCURRENCY']}")
        return p, base

    def directory_password(self):
        """A file holding the directory reader's password (made once per run, mode 0600): the
        canned Keystone and glance-share read the same file."""
        path = self.work / "directory-password"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(24) + "\n")
        return path

    def start_fake(self, fixtures):
        ready = self.work / "fake.json"
        argv = [sys.executable, str(BENCH / "fake_upstream.py"), "--workers", str(self.args.fake_workers),
                "--ready-file", str(ready), "--directory-user", DIRECTORY_USER,
                "--directory-password-file", str(self.directory_password()),
                "--review-hidden-every", str(self.args.review_hidden_every)]
        if fixtures:
            argv += ["--fixtures", str(fixtures)]
        p = self.procs.spawn(argv, self.work / "fake.log")
        deadline = time.monotonic() + 30
        while not ready.exists():
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("fake upstream did not start:\n" + read_text(self.work / "fake.log"))
            time.sleep(0.05)
        self.fake = json.loads(ready.read_text())
        self.fake_proc = p
        log(f"fake Keystone + Glance pid {p.pid} ({self.args.fake_workers} workers) on {self.fake['base']}, "
            f"{'recorded' if self.fake['recorded'] else 'built-in'} image with {self.fake['members']} members")
        return self.fake

    # ------------------------------------------------------------ lab

    def load_lab(self):
        env = {}
        for line in read_text(self.args.lab_env).splitlines():
            k, sep, v = line.partition("=")
            if sep:
                env[k.strip()] = v.strip()
        if "LAB_KEYSTONE_URL" not in env:
            raise RuntimeError(f"no lab environment in {self.args.lab_env} (run lab/lab.sh start)")
        self.lab = env
        self.upstream = Upstream(env["LAB_KEYSTONE_URL"], env["LAB_GLANCE_URL"])
        self.upstream.authenticate(env["LAB_PRODUCER_USER"], env["LAB_PRODUCER_PASSWORD"], env["LAB_PRODUCER_PROJECT"])
        self.sweep_images()

    def wait_for_lab(self, timeout=120):
        """Waits until Keystone and Glance answer: the lab is shared (tests stop and restart
        Glance), and a benchmark started while Glance restarts would only measure that."""
        from util import Http

        deadline = time.monotonic() + timeout
        said = False
        while True:
            try:
                g = Http(self.lab["LAB_GLANCE_URL"], timeout=5).request("GET", "/")[0]
                k = Http(self.lab["LAB_KEYSTONE_URL"], timeout=5).request(
                    "GET", urlsplit(self.lab["LAB_KEYSTONE_URL"]).path or "/")[0]
                if g in (200, 300) and k == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the lab's Keystone or Glance does not answer")
            if not said:
                log("waiting for the lab's Keystone and Glance to answer")
                said = True
            time.sleep(1)

    def thread_upstream(self):
        u = Upstream(self.lab["LAB_KEYSTONE_URL"], self.lab["LAB_GLANCE_URL"])
        u.token, u.project_id = self.upstream.token, self.upstream.project_id
        return u

    def sweep_images(self):
        """Deletes images an earlier, interrupted run left behind (by their name prefix)."""
        status, _, data = self.upstream.call("GET", f"/v2/images?owner={self.upstream.project_id}&limit=1000")
        if status != 200:
            return
        old = [i["id"] for i in json.loads(data)["images"] if i.get("name", "").startswith(PREFIX)]
        for iid in old:
            self.upstream.call("DELETE", f"/v2/images/{iid}")
        if old:
            log(f"deleted {len(old)} images left by an earlier run")

    @staticmethod
    def retrying(u, method, path, body=None, content_type="application/json", ok=(200,), tries=5):
        """Set-up calls are retried on a 5xx (a busy lab on 2 cores); the timed calls never are."""
        for attempt in range(tries):
            status, resp, data = u.call(method, path, body, content_type)
            if status in ok or status < 500 or attempt == tries - 1:
                return status, resp, data
            time.sleep(0.2 * (attempt + 1))

    def create_image(self, label, upstream=None, active=False):
        u = upstream or self.upstream
        body = {"name": f"{PREFIX}{self.id}-{label}", "disk_format": "raw", "container_format": "bare",
                "visibility": "shared"}
        status, _, data = self.retrying(u, "POST", "/v2/images", body, ok=(201,))
        if status != 201:
            raise RuntimeError(f"could not create an image: {status} {data[:300]!r}")
        iid = json.loads(data)["id"]
        self.created_images.append(iid)
        if active:
            status, _, data = self.retrying(u, "PUT", f"/v2/images/{iid}/file", PAYLOAD, "application/octet-stream",
                                            ok=(204,))
            if status != 204:
                raise RuntimeError(f"could not upload to {iid}: {status} {data[:300]!r}")
        return iid

    def add_members(self, iid, members, upstream=None):
        u = upstream or self.upstream
        for m in members:
            status, _, data = self.retrying(u, "POST", f"/v2/images/{iid}/members", {"member": m}, ok=(200,))
            if status not in (200, 409):
                raise RuntimeError(f"could not add member {m} to {iid}: {status} {data[:300]!r}")

    def delete_images(self):
        if not self.created_images or self.upstream is None:
            return
        failed = 0
        u = self.thread_upstream()
        for iid in list(self.created_images):
            try:
                status, _, _ = self.retrying(u, "DELETE", f"/v2/images/{iid}", ok=(204,))
                if status in (204, 404):
                    self.created_images.remove(iid)
                else:
                    failed += 1
            except Exception:  # noqa: BLE001 - keep deleting the others
                failed += 1
        log(f"deleted the run's lab images ({failed} could not be deleted)" if failed else "deleted the run's lab images")

    def cli_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            OS_AUTH_URL=self.lab["LAB_KEYSTONE_URL"],
            OS_USERNAME=self.lab["LAB_PRODUCER_USER"],
            OS_PASSWORD=self.lab["LAB_PRODUCER_PASSWORD"],
            OS_PROJECT_NAME=self.lab["LAB_PRODUCER_PROJECT"],
            OS_USER_DOMAIN_NAME="Default",
            OS_PROJECT_DOMAIN_NAME="Default",
            OS_IDENTITY_API_VERSION="3",
            OS_REGION_NAME=self.lab.get("LAB_REGION", "RegionOne"),
            OS_INTERFACE="public",
        )
        return env

    def openstack(self, *argv):
        cmd = [str(Path(self.lab["LAB_VENV"]) / "bin" / "openstack"), *argv]
        t = time.perf_counter()
        p = subprocess.run(cmd, env=self.cli_env(), capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - t
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr[-500:]}")
        return elapsed, p.stdout


# ================================================================ 1. proxy overhead


def bench_overhead(run):
    a = run.args
    sizes = [1, 32, 128]
    log("1 overhead: creating 3 shared images with 1, 32 and 128 members in the lab")
    images = {}

    def prepare(n):
        u = run.thread_upstream()
        iid = run.create_image(f"overhead-{n}", u, active=True)
        run.add_members(iid, [uuid.uuid4().hex for _ in range(n)], u)
        return n, iid

    # One after another: the lab Glance's SQLite refuses concurrent writes now and then.
    for n in sizes:
        images[n] = prepare(n)[1]
    run.images_for_cli = images

    # Record the 128-member image as Glance serves it: the canned upstream serves these bytes.
    fixtures = run.work / "fixtures"
    fixtures.mkdir(exist_ok=True)
    for name, path in (("image.json", f"/v2/images/{images[128]}"), ("members.json", f"/v2/images/{images[128]}/members")):
        status, _, data = run.upstream.call("GET", path)
        if status == 200:
            (fixtures / name).write_bytes(data)
    run.fixtures = fixtures

    clouds = run.clouds_yaml("lab", run.lab["LAB_KEYSTONE_URL"])
    proc, base = run.start_server("lab", clouds, LAB_SERVER_ENV)
    run.lab_server = (proc, base)
    dash = Dashboard(base)
    dash.sign_in(run.lab["LAB_PRODUCER_USER"], run.lab["LAB_PRODUCER_PASSWORD"], run.lab["LAB_PRODUCER_PROJECT"])
    run.lab_dash = dash
    # The direct client: its own token of the same user and project (the dashboard's token
    # is a different one of the same user/project, held server-side).
    direct = run.thread_upstream()
    direct.authenticate(run.lab["LAB_PRODUCER_USER"], run.lab["LAB_PRODUCER_PASSWORD"], run.lab["LAB_PRODUCER_PROJECT"])
    # The same direct client's calls through nginx: the cost of a hop that only forwards.
    forwarder = run.start_forwarder(run.lab["LAB_GLANCE_URL"])
    forwarded = None
    if forwarder is not None:
        forwarded = Upstream(run.lab["LAB_KEYSTONE_URL"], forwarder)
        forwarded.token, forwarded.project_id = direct.token, direct.project_id

    out = {"samples": a.overhead_samples, "sizes": {}}
    rng = random.Random(7)
    for n in sizes:
        iid = images[n]
        path = f"/v2/images/{iid}/members"

        def glance_get(client, what):
            t = time.perf_counter()
            status, _, data = client.call("GET", path)
            ms = (time.perf_counter() - t) * 1000
            if status != 200:
                raise RuntimeError(f"{what}: {status} {data[:200]!r}")
            return ms, data

        def via_glance():
            return glance_get(direct, "direct members call")

        def via_nginx():
            return glance_get(forwarded, "members call through nginx")

        def via_dashboard():
            t = time.perf_counter()
            status, data = dash.call("members", {"image_id": iid})
            ms = (time.perf_counter() - t) * 1000
            if status != 200:
                raise RuntimeError(f"glance-share members call: {status} {data[:200]!r}")
            return ms, data

        errors = []

        def timed(f):
            try:
                return f()[0]
            except (OSError, http.client.HTTPException, RuntimeError) as e:
                errors.append(f"{f.__name__}: {type(e).__name__}: {e}")
                log(f"  {errors[-1]}")
                return None

        # Warm-up: both tokens validated and cached by Glance, connections and code paths warm.
        for _ in range(5):
            via_glance()
            via_dashboard()
            if forwarded is not None:
                via_nginx()
        _, d = via_glance()
        _, p = via_dashboard()
        got_direct, got_proxy = len(json.loads(d)["members"]), len(json.loads(p))
        if got_direct != n or got_proxy != n:
            raise RuntimeError(f"expected {n} members, got {got_direct} direct and {got_proxy} via glance-share")
        def hop():
            # The same kept-alive connection to the dashboard, a request that does nothing: the
            # loopback round trip and the server's HTTP handling, without a session or Glance.
            t = time.perf_counter()
            status, _, _ = dash.http.request("GET", "/healthz")
            ms = (time.perf_counter() - t) * 1000
            if status != 200:
                raise RuntimeError(f"glance-share /healthz: {status}")
            return ms, b""

        direct_ms, proxy_ms, hop_ms, nginx_ms = [], [], [], []
        proxy_cpu = 0.0
        series = {via_glance: direct_ms, via_dashboard: proxy_ms, via_nginx: nginx_ms}
        for _ in range(a.overhead_samples):
            # Interleaved, in random order per round: drift of the machine hits all alike.
            pair = [via_glance, via_dashboard] + ([via_nginx] if forwarded is not None else [])
            rng.shuffle(pair)
            for f in pair:
                cpu0 = cpu_seconds(proc.pid) if f is via_dashboard else 0.0
                ms = timed(f)
                if f is via_dashboard:
                    proxy_cpu += cpu_seconds(proc.pid) - cpu0
                if ms is not None:
                    series[f].append(ms)
            ms = timed(hop)
            if ms is not None:
                hop_ms.append(ms)
        ds, ps = summary(direct_ms), summary(proxy_ms)
        ns = summary(nginx_ms) if nginx_ms else None
        out["sizes"][str(n)] = {
            # What the dashboard adds, taken apart: its own CPU per call (utime + stime of the
            # server over the timed calls; 10 ms ticks, so exact to 10 ms / samples), and the
            # hop to it (a round trip that does nothing).
            "dashboard_cpu_ms_per_call": proxy_cpu * 1000 / max(1, len(proxy_ms)),
            "hop": summary(hop_ms),
            # The same calls through nginx, which only forwards them: what a hop costs by itself.
            **({"nginx": ns, "nginx_added_p50_ms": ns["p50"] - ds["p50"]} if ns else {}),
            # How far the p95 ratio moves by chance: 90 % interval over 1000 resamples of the pairs.
            "ratio_p95_interval": p95_ratio_interval(direct_ms, proxy_ms, rng),
            "direct": ds,
            "proxy": ps,
            "ratio_p50": ps["p50"] / ds["p50"],
            "ratio_p95": ps["p95"] / ds["p95"],
            "added_p50_ms": ps["p50"] - ds["p50"],
            "response_bytes_direct": len(d),
            "response_bytes_proxy": len(p),
            "errors": errors,
        }
        log(f"1 overhead: {n:3d} members  direct p50 {ds['p50']:.1f} ms p95 {ds['p95']:.1f} ms | "
            f"glance-share p50 {ps['p50']:.1f} ms p95 {ps['p95']:.1f} ms"
            + (f" | nginx p50 {ns['p50']:.1f} ms" if ns else ""))
    run.results["overhead"] = out


def p95_ratio_interval(direct_ms, proxy_ms, rng, resamples=1000):
    """(5th, 95th) percentile of the p95 ratio over bootstrap resamples of the timed calls."""
    from util import pct

    if not direct_ms or not proxy_ms:
        return None
    ratios = sorted(
        pct([rng.choice(proxy_ms) for _ in proxy_ms], 95) / pct([rng.choice(direct_ms) for _ in direct_ms], 95)
        for _ in range(resamples)
    )
    return ratios[int(0.05 * resamples)], ratios[int(0.95 * resamples) - 1]


# ================================================================ 3. against the CLI


def batch_concurrency_default():
    """The batch concurrency the benchmark's servers run with: set explicitly (BATCH_CONCURRENCY),
    not the server's default (8), so that runs stay comparable with earlier ones."""
    return BATCH_CONCURRENCY


def ensure_lab_server(run):
    if not hasattr(run, "lab_dash"):
        clouds = run.clouds_yaml("lab", run.lab["LAB_KEYSTONE_URL"])
        proc, base = run.start_server("lab", clouds, LAB_SERVER_ENV)
        run.lab_server = (proc, base)
        run.lab_dash = Dashboard(base)
        run.lab_dash.sign_in(run.lab["LAB_PRODUCER_USER"], run.lab["LAB_PRODUCER_PASSWORD"], run.lab["LAB_PRODUCER_PROJECT"])


def bench_cli(run):
    a = run.args
    ensure_lab_server(run)
    if not hasattr(run, "images_for_cli"):
        iid = run.create_image("cli-32", active=True)
        run.add_members(iid, [uuid.uuid4().hex for _ in range(32)])
        run.images_for_cli = {32: iid}
    iid = run.images_for_cli[32]
    status, _, data = run.upstream.call("GET", f"/v2/images/{iid}/members")
    member_ids = [m["member_id"] for m in json.loads(data)["members"]]

    log(f"3 cli: `openstack image member list` x{a.cli_runs} (+1 warm-up)")
    run.openstack("image", "member", "list", iid)  # warm-up: the interpreter's files in the page cache
    cli_s = []
    for _ in range(a.cli_runs):
        s, out = run.openstack("image", "member", "list", iid)
        rows = sum(1 for m in member_ids if m in out)
        if rows != len(member_ids):
            raise RuntimeError(f"the CLI listed {rows} of {len(member_ids)} members")
        cli_s.append(s * 1000)

    dash = run.lab_dash
    page = f"/images/{iid}"
    for _ in range(3):
        page_or_error(dash, page)
    page_ms, size, shown, page_errors = [], 0, 0, []
    for _ in range(a.page_views):
        t = time.perf_counter()
        status, html = page_or_error(dash, page)
        if status != 200:
            page_errors.append(str(status or html))
            log(f"  image page: {page_errors[-1]}")
            continue
        page_ms.append((time.perf_counter() - t) * 1000)
        size = len(html)
        shown = sum(1 for m in member_ids if m.encode() in html)
    if shown != len(member_ids):
        raise RuntimeError(f"the image page shows {shown} of {len(member_ids)} members")
    # What the page waits for: the upstream calls it makes, timed directly with a token of the
    # same user (median of 5 each). The image, its members and the first project-name lookup
    # run one after another; the header's pending-offers count runs beside them.
    u = run.thread_upstream()
    ks = Upstream(run.lab["LAB_KEYSTONE_URL"], run.lab["LAB_GLANCE_URL"])
    ks.token = u.token
    ks_path = urlsplit(run.lab["LAB_KEYSTONE_URL"]).path.rstrip("/") + f"/projects/{member_ids[0]}"
    calls = {
        "GET image": lambda: u.call("GET", f"/v2/images/{iid}"),
        "GET members": lambda: u.call("GET", f"/v2/images/{iid}/members"),
        "Keystone GET project (first member's name)": lambda: ks.keystone.request(
            "GET", ks_path, None, {"X-Auth-Token": ks.token, "Accept": "application/json"}),
        "GET images (pending offers, header badge)": lambda: u.call(
            "GET", "/v2/images?visibility=shared&member_status=pending&limit=1000&sort_key=name&sort_dir=asc"),
    }
    upstream_ms = {}
    for name, f in calls.items():
        xs = []
        for _ in range(5):
            t = time.perf_counter()
            status = f()[0]
            xs.append((time.perf_counter() - t) * 1000)
        upstream_ms[name] = {"p50": summary(xs)["p50"], "status": status}
    cs, ps = summary(cli_s), summary(page_ms)
    run.results["cli"] = {
        "members": len(member_ids),
        "cli_ms": cs,
        "page_ms": ps,
        "page_bytes": size,
        "ratio": cs["p50"] / ps["p50"],
        "upstream_ms": upstream_ms,
        "page_errors": page_errors,
    }
    log(f"3 cli: CLI median {cs['p50']:.0f} ms, page median {ps['p50']:.1f} ms")


# ================================================================ 4. batch


def pairs_in_place(view):
    """The pairs of a finished batch view whose member is now in place: added, or there already."""
    return sum(1 for p in view["pairs"] if p["outcome"] in ("Done", "AlreadyMember"))


def share_in_one_batch(dash, images, projects, poll_s, limit_s):
    """The batch form's two steps, as a user takes them: the plan of every image with every
    project (shown to the user, not timed), then "Run": one `batch_start`, polled until finished.
    (wall seconds from `batch_start`, ms until it answered, polls, the finished batch view, ms the
    plan took)."""
    form = {"images": ",".join(images), "members": "\n".join(projects), "operation": "share"}
    t = time.perf_counter()
    status, data = dash.call("batch_plan", form)
    if status != 200:
        raise RuntimeError(f"batch_plan: {status} {data[:300]!r}")
    plan_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    status, data = dash.call("batch_start", form)
    if status != 200:
        raise RuntimeError(f"batch_start: {status} {data[:300]!r}")
    batch_id = json.loads(data)
    started_ms = (time.perf_counter() - t) * 1000
    deadline = time.monotonic() + limit_s
    polls = 0
    while True:
        status, data = dash.call("batch_status", {"batch_id": batch_id})
        polls += 1
        view = json.loads(data) if status == 200 else {}
        if view.get("finished"):
            return time.perf_counter() - t, started_ms, polls, view, plan_ms
        if time.monotonic() > deadline:
            raise RuntimeError(f"the batch did not finish in {limit_s} s")
        time.sleep(poll_s)


SWEEP_LEVELS = (1, 2, 4, 8, 16)
SWEEP_CALLS = 400  # per level: as many calls as the batch's 400 pairs, measured over as long a run
SWEEP_IMAGES = 20  # 5 x 400 calls spread over 20 images: 100 members each, under the quota of 128


def glance_capacity(run, images, levels=SWEEP_LEVELS):
    """Glance's own add-member capacity on this machine: direct calls (a token taken once, no
    dashboard) at 1, 2, 4, 8 and 16 in flight, SWEEP_CALLS at each level, each to a new project
    ID. The best level's rate is what any client can get from this Glance."""
    local = threading.local()

    def upstream():
        if not hasattr(local, "u"):
            local.u = run.thread_upstream()
        return local.u

    def add(job):
        iid, member = job
        status, _, _ = upstream().call("POST", f"/v2/images/{iid}/members", {"member": member})
        return status

    # Every uWSGI worker validates the token once (keystonemiddleware caches it per process):
    # done before timing, with reads.
    with cf.ThreadPoolExecutor(max(levels)) as pool:
        list(pool.map(lambda iid: upstream().call("GET", f"/v2/images/{iid}/members"), images * 4))
    rates = {}
    for c in levels:
        jobs = [(images[i % len(images)], uuid.uuid4().hex) for i in range(SWEEP_CALLS)]
        with cf.ThreadPoolExecutor(c) as pool:
            t = time.perf_counter()
            statuses = list(pool.map(add, jobs))
            elapsed = time.perf_counter() - t
        ok = sum(1 for st in statuses if st == 200)
        rates[str(c)] = {"calls": len(jobs), "ok": ok, "s": elapsed, "per_s": ok / elapsed,
                         "errors": {str(st): statuses.count(st) for st in set(statuses) if st != 200}}
        log(f"4 batch: Glance capacity, {c} in flight: {ok / elapsed:.0f} add-member calls/s ({ok}/{len(jobs)} ok)")
    best = max(rates, key=lambda k: rates[k]["per_s"])
    return {"levels": rates, "best_in_flight": int(best), "best_per_s": rates[best]["per_s"]}


# Rounds of the batch against direct calls at the sweep's best level, interleaved: this machine's
# lab Glance takes 15-30 % more or fewer calls a second from one minute to the next (in one run,
# 94 calls/s before a batch and 72 right after it), so a batch and a sweep a minute apart compare
# two different Glances. The goal compares the medians of the rounds.
BATCH_ROUNDS = 3


def bench_batch(run):
    a = run.args
    n_img, n_proj = 20, 20
    projects = [uuid.uuid4().hex for _ in range(n_proj)]
    n_made = (BATCH_ROUNDS + 1) * n_img + 1 + 2 * SWEEP_IMAGES
    log(f"4 batch: creating {n_made} images in the lab")
    labels = ([f"batch-{r}-{i:02d}" for r in range(BATCH_ROUNDS) for i in range(n_img)]
              + [f"loop-{i:02d}" for i in range(n_img)] + ["cli-add"]
              + [f"sweep-{i:02d}" for i in range(SWEEP_IMAGES)] + [f"direct-{i:02d}" for i in range(SWEEP_IMAGES)])

    def make(label):
        return run.create_image(label, run.thread_upstream())

    made = iter([make(label) for label in labels])
    batch_images = [[next(made) for _ in range(n_img)] for _ in range(BATCH_ROUNDS)]
    loop_images, cli_image = [next(made) for _ in range(n_img)], next(made)
    sweep_images = [next(made) for _ in range(SWEEP_IMAGES)]
    direct_images = list(made)

    log("4 batch: Glance's own add-member capacity, direct calls at " + ", ".join(map(str, SWEEP_LEVELS)) + " in flight")
    capacity = glance_capacity(run, sweep_images)
    best = capacity["best_in_flight"]

    ensure_lab_server(run)
    dash = run.lab_dash
    rounds = []
    for r in range(BATCH_ROUNDS):
        # Every round its own projects (each pair a new member) and images for the batch.
        round_projects = projects if r == 0 else [uuid.uuid4().hex for _ in range(n_proj)]

        def direct():
            return glance_capacity(run, direct_images, [best])["best_per_s"]

        def batch():
            log(f"4 batch: round {r + 1}: sharing {n_img} images x {n_proj} projects with one batch")
            return share_in_one_batch(dash, batch_images[r], round_projects, a.batch_poll, 300)

        # Alternating which goes first, so that neither always follows the other.
        if r % 2 == 0:
            direct_per_s, result = direct(), batch()
        else:
            result, direct_per_s = batch(), direct()
        per_s = pairs_in_place(result[3]) / result[0]
        rounds.append({"direct_per_s": direct_per_s, "batch_s": result[0], "batch_per_s": per_s,
                       "ratio": per_s / direct_per_s, "result": result})
        log(f"4 batch: round {r + 1}: batch {per_s:.0f} pairs/s, direct {direct_per_s:.0f} calls/s "
            f"at {best} in flight: {per_s / direct_per_s:.0%}")
    # The round of the median batch stands for the batch's figures (time, outcomes, polls).
    middle = sorted(rounds, key=lambda x: x["batch_per_s"])[len(rounds) // 2]
    batch_s, started_ms, polls, view, plan_ms = middle.pop("result")
    for x in rounds:
        x.pop("result", None)
    direct_median = statistics.median(x["direct_per_s"] for x in rounds)
    outcomes = {}
    for pair in view["pairs"]:
        o = pair["outcome"]
        key = o if isinstance(o, str) else next(iter(o)) if isinstance(o, dict) else str(o)
        outcomes[key] = outcomes.get(key, 0) + 1
    ok = pairs_in_place(view)

    log(f"4 batch: the same with {n_img * n_proj} add-member calls to Glance, one after another")
    u = run.thread_upstream()
    t = time.perf_counter()
    loop_ok = 0
    for iid in loop_images:
        for p in projects:
            status, _, _ = u.call("POST", f"/v2/images/{iid}/members", {"member": p})
            loop_ok += status == 200
    loop_s = time.perf_counter() - t

    log(f"4 batch: `openstack image add project` x{a.cli_adds} (extrapolated to {n_img * n_proj})")
    cli_s = []
    cli_deadline = time.monotonic() + a.cli_add_budget
    for p in projects[: a.cli_adds]:
        s, _ = run.openstack("image", "add", "project", cli_image, p)
        cli_s.append(s)
        if time.monotonic() > cli_deadline:
            break
    cli_total = sum(cli_s) / len(cli_s) * n_img * n_proj

    run.results["batch"] = {
        "images": n_img,
        "projects": n_proj,
        "pairs": n_img * n_proj,
        "batch_s": batch_s,
        "batch_start_ms": started_ms,
        "batch_plan_ms": plan_ms,
        "batch_polls": polls,
        "batch_outcomes": outcomes,
        "batch_ok": ok,
        "loop_s": loop_s,
        "loop_ok": loop_ok,
        "loop_call_ms": loop_s * 1000 / (n_img * n_proj),
        "cli_runs": len(cli_s),
        "cli_each_s": summary(cli_s),
        "cli_total_s": cli_total,
        "cli_extrapolated": len(cli_s) < n_img * n_proj,
        "ratio_loop": loop_s / batch_s,
        "ratio_cli": cli_total / batch_s,
        "batch_concurrency": LAB_BATCH_CONCURRENCY,
        "poll_ms": a.batch_poll * 1000,
        "capacity": capacity,
        "rounds": rounds,
        "direct_per_s": direct_median,
        "batch_per_s": ok / batch_s,
        "ratio_capacity": ok / batch_s / direct_median,
        "ratio_sweep": ok / batch_s / capacity["best_per_s"],
    }
    log(f"4 batch: batch {batch_s:.2f} s ({ok}/{n_img * n_proj} ok, {ok / batch_s:.0f}/s, "
        f"{ok / batch_s / direct_median:.0%} of Glance's capacity in its rounds), loop {loop_s:.2f} s, CLI ~{cli_total:.0f} s")


def batch_canned(run, dash):
    """Benchmark 4 again against the canned upstream, whose add-member calls take a fixed time
    and overlap freely (a Glance with room for every call): what the batch itself achieves."""
    from util import Http

    a, fake = run.args, run.fake
    n_img, n_proj = 20, 20
    images = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"glance-share-bench/mine/{i}")) for i in range(n_img)]
    projects = [uuid.uuid4().hex for _ in range(n_proj)]
    log(f"4 batch (canned upstream, add-member {fake['write_delay_ms']:g} ms): {n_img} x {n_proj} with one batch")
    batch_s, _, _, view, _ = share_in_one_batch(dash, images, projects, a.batch_poll, 120)
    ok = pairs_in_place(view)

    log(f"4 batch (canned upstream): the same {n_img * n_proj} add-member calls one after another")
    u = Http(fake["base"])
    t = time.perf_counter()
    loop_ok = 0
    for iid in images:
        for p in projects:
            status, _, _ = u.request("POST", f"/v2/images/{iid}/members", json.dumps({"member": p}).encode(),
                                     {"Content-Type": "application/json", "X-Auth-Token": "bench"})
            loop_ok += status == 200
    loop_s = time.perf_counter() - t
    u.close()
    run.results["batch_canned"] = {
        "images": n_img, "pairs": n_img * n_proj, "write_delay_ms": fake["write_delay_ms"], "batch_s": batch_s, "batch_ok": ok,
        "loop_s": loop_s, "loop_ok": loop_ok, "ratio_loop": loop_s / batch_s,
        "batch_concurrency": batch_concurrency_default(), "poll_ms": a.batch_poll * 1000,
    }
    log(f"4 batch (canned): batch {batch_s:.2f} s ({ok} ok), loop {loop_s:.2f} s: {loop_s / batch_s:.1f}x")


# ================================================================ 2. render


def fake_stats(run):
    """Requests the canned upstream has served so far, by kind."""
    from util import Http

    status, _, data = Http(run.fake["base"]).request("GET", "/_stats")
    return json.loads(data) if status == 200 else {}


def stats_delta(before, after, n):
    return {k: (after[k] - before.get(k, 0)) / n for k in after if after[k] - before.get(k, 0)}


def thread_cpu(pid):
    """CPU seconds per thread ("name/tid": tokio workers, blocking threads, ...) of a process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = read_text(f"/proc/{pid}/task/{tid}/comm").strip()
            out[f"{name}/{tid}"] = cpu_seconds(f"{pid}/task/{tid}")
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def machine_cpu():
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    fields = [int(x) for x in read_text("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def fake_member_ids(run):
    from util import Http

    h = Http(run.fake["base"])
    status, _, data = h.request("GET", f"/v2/images/{run.fake['image_id']}/members")
    return [m["member_id"] for m in json.loads(data)["members"]]


def page_or_error(dash, path):
    """(status, html), or (None, error text) when the request failed or timed out."""
    try:
        return dash.page(path)
    except (OSError, http.client.HTTPException) as e:
        return None, f"{type(e).__name__}: {e}"


def timed_pages(dash, path, warm, max_n, max_s, server_pid, fake_pid, run=None):
    html = b""
    for _ in range(warm):
        status, html = page_or_error(dash, path)
        if status is None:
            log(f"  {path}: warm-up request failed: {html}")
        elif status != 200:
            raise RuntimeError(f"{path}: {status} {html[:300]!r}")
    lat, errors = [], 0
    calls0 = fake_stats(run) if run else {}
    rss0 = proc_status_kb(server_pid, "VmRSS")
    cpu0, fcpu0 = cpu_seconds(server_pid), tree_cpu_seconds(fake_pid)
    end = time.monotonic() + max_s
    while len(lat) + errors < max_n and time.monotonic() < end:
        t = time.perf_counter()
        status, body = page_or_error(dash, path)
        if status == 200:
            lat.append((time.perf_counter() - t) * 1000)
            html = body
        else:
            errors += 1
            log(f"  {path}: {status or body}")
    cpu1, fcpu1 = cpu_seconds(server_pid), tree_cpu_seconds(fake_pid)
    n = len(lat) + errors
    calls = stats_delta(calls0, fake_stats(run), n) if run else {}
    return {
        "upstream_calls_per_request": calls,
        "latency_ms": summary(lat),
        "cpu_ms_per_request": (cpu1 - cpu0) * 1000 / n,
        "cpu_total_s": cpu1 - cpu0,
        "upstream_cpu_ms_per_request": (fcpu1 - fcpu0) * 1000 / n,
        "errors": errors,
        "html_bytes": len(html),
        "rss_kb_before": rss0,
        "rss_kb_after": proc_status_kb(server_pid, "VmRSS"),
    }, html


def small_image_id(fake):
    """An image of the canned upstream with 2 members (any of its lists' images has)."""
    from util import Http

    status, _, data = Http(fake["base"]).request("GET", "/v2/images?owner=none&limit=1")
    return json.loads(data)["images"][0]["id"]


def members_call_cpu(run, dash, pid):
    """The dashboard's CPU for one `members` call (an image with 2 members, canned upstream), made
    back to back and made once every Glance-median milliseconds (the lab's, from benchmark 1):
    the same work, warm and after a wait. At the lab, the dashboard waits on Glance between calls
    while Glance's processes run on the same two cores."""
    small_id = small_image_id(run.fake)
    lab = run.results.get("overhead", {}).get("sizes", {}).get("1", {})
    pace_ms = lab.get("direct", {}).get("p50") or 17.0

    def call():
        status, body = dash.call("members", {"image_id": small_id})
        if status != 200:
            raise RuntimeError(f"members call: {status} {body[:200]!r}")

    for _ in range(50):
        call()
    back_n, paced_n = 1000, 400
    cpu0 = cpu_seconds(pid)
    for _ in range(back_n):
        call()
    back = (cpu_seconds(pid) - cpu0) * 1000 / back_n
    cpu0 = cpu_seconds(pid)
    for _ in range(paced_n):
        call()
        time.sleep(pace_ms / 1000)
    paced = (cpu_seconds(pid) - cpu0) * 1000 / paced_n
    log(f"2 render: members call, dashboard CPU {back:.2f} ms back to back, {paced:.2f} ms one every {pace_ms:.0f} ms")
    # utime + stime in 10 ms ticks: exact to 0.01 ms (back to back) and 0.025 ms (paced) a call.
    return {"back_to_back_ms": back, "paced_ms": paced, "pace_ms": pace_ms, "calls": [back_n, paced_n]}


def bench_render(run):
    a = run.args
    fake = run.fake
    clouds = run.clouds_yaml("fake", fake["base"] + "/v3")
    proc, base = run.start_server("render", clouds)
    dash = Dashboard(base)
    dash.sign_in("producer-user", "any", "producer")
    member_ids = fake_member_ids(run)
    out = {"canned": {"recorded": fake["recorded"], "members": fake["members"], "workers": a.fake_workers}}

    # The same data through the server functions the page uses, called as the browser does
    # after hydration: how many upstream requests one call makes.
    api_calls = {}
    for endpoint in ("image", "members"):
        before = fake_stats(run)
        status, _ = dash.call(endpoint, {"image_id": fake["image_id"]})
        api_calls[endpoint] = {"status": status, "calls": stats_delta(before, fake_stats(run), 1)}
    out["api_calls"] = api_calls
    out["members_call_cpu"] = members_call_cpu(run, dash, proc.pid)

    log("2 render: image page with 128 members")
    r, html = timed_pages(dash, f"/images/{fake['image_id']}", 20, a.render_max, a.render_seconds, proc.pid,
                          run.fake_proc.pid, run)
    r["members_shown"] = sum(1 for m in member_ids if m.encode() in html)
    out["image_page"] = r

    # The same page for an image with 2 members: the page's fixed cost, apart from the rows'.
    small_id = small_image_id(fake)
    log("2 render: image page with 2 members (the page's fixed cost)")
    r, html = timed_pages(dash, f"/images/{small_id}", 20, a.render_max, a.render_seconds / 2, proc.pid,
                          run.fake_proc.pid, run)
    r["members"] = 2
    out["image_page_small"] = r

    log("2 render: All images, a name search over 1000 images (a page of it shown)")
    r, html = timed_pages(dash, "/images?tab=all&q=bench-image", 5, a.render_max, a.render_seconds, proc.pid,
                          run.fake_proc.pid, run)
    r["rows_shown"] = len(set(re.findall(rb"bench-image-all-(\d{4})", html)))
    out["list_1000"] = r

    log("2 render: 'My images', a search over 1000 owned shared images (member counts of the rows shown)")
    r, html = timed_pages(dash, "/images?tab=mine&q=bench-image", 2, 30, a.render_seconds / 2, proc.pid,
                          run.fake_proc.pid, run)
    r["rows_shown"] = len(set(re.findall(rb"bench-image-mine-(\d{4})", html)))
    out["list_1000_mine"] = r
    out["rss_kb_peak"] = proc_status_kb(proc.pid, "VmHWM")
    batch_canned(run, dash)
    run.procs.stop(proc)

    # Allocations: the same requests on a second server that counts its allocations
    # (src/allocator.rs, on only with BENCH_ALLOC_COUNTERS; it writes its counters every 10 ms).
    log("2 render: allocations per request (the server's own counters)")
    counters = run.work / "alloc.bin"
    proc, base = run.start_server("alloc", clouds, {"BENCH_ALLOC_COUNTERS": str(counters)})
    dash = Dashboard(base)
    dash.sign_in("producer-user", "any", "producer")

    def read():
        import struct

        # The server is idle between batches: after a few of its 10 ms writes the file is final.
        time.sleep(0.1)
        data = counters.read_bytes()[:32]
        if len(data) < 32:
            raise RuntimeError(f"{counters} holds {len(data)} bytes, not the 4 counters")
        return struct.unpack("<QQQQ", data)

    for key, path, warm, n in (("image_page", f"/images/{fake['image_id']}", 20, 100),
                               ("list_1000", "/images?tab=all&q=bench-image", 3, 20)):
        for _ in range(warm):
            dash.page(path)
        c0 = read()
        for _ in range(n):
            dash.page(path)
        c1 = read()
        if c1[0] == c0[0]:
            raise RuntimeError("the allocation counters did not move: is BENCH_ALLOC_COUNTERS read by this build?")
        out[key]["allocs_per_request"] = (c1[0] - c0[0]) / n
        out[key]["alloc_bytes_per_request"] = (c1[1] - c0[1]) / n
        out[key]["reallocs_per_request"] = (c1[3] - c0[3]) / n
        out[key]["net_allocs_per_request"] = ((c1[0] - c0[0]) - (c1[2] - c0[2])) / n
    run.procs.stop(proc)
    run.results["render"] = out
    ip, ls = out["image_page"], out["list_1000"]
    log(f"2 render: image page p50 {ip['latency_ms']['p50']:.2f} ms, {ip['cpu_ms_per_request']:.2f} ms CPU; "
        f"list p50 {ls['latency_ms']['p50']:.1f} ms, {ls['cpu_ms_per_request']:.1f} ms CPU")


# ================================================================ 7. directory


def keystone_calls(calls):
    """Only the Keystone requests of a stats delta (kind -> count)."""
    return {k: v for k, v in calls.items() if k.startswith("keystone")}


def names_shown(html, names):
    """How many of `names` the page shows as a project's name (the label's text, `>name<`)."""
    return sum(1 for n in names if f">{n}<".encode() in html)


def bench_directory(run):
    """Issue 14: the member page of 128 members with the operator's directory reader. One cold
    load (the reader signs in and looks every project up), then warm loads, which must make no
    Keystone call at all; and the warm page's time beside the same page without a directory."""
    a, fake = run.args, run.fake
    d = fake.get("directory")
    if not d:
        raise RuntimeError("the canned upstream knows no directory reader")
    clouds = run.clouds_yaml("fake", fake["base"] + "/v3")
    page = f"/images/{fake['image_id']}"
    member_ids = fake_member_ids(run)
    member_names = [d["projects"][m] for m in member_ids if m in d["projects"]]
    if len(member_names) != len(member_ids):
        raise RuntimeError(f"the canned Keystone names {len(member_names)} of {len(member_ids)} members")
    # Every project the page names, each looked up once when cold: the owner and the members.
    page_projects = len({fake["project_id"], *member_ids})
    password_file = run.directory_password()
    password = password_file.read_text().splitlines()[0]

    plain_proc, plain_base = run.start_server("plain", clouds)
    plain = Dashboard(plain_base)
    plain.sign_in("producer-user", "any", "producer")

    before_start = fake_stats(run)
    proc, base = run.start_server("directory", clouds, {
        "GLANCE_SHARE_DIRECTORY_USER": d["user"],
        "GLANCE_SHARE_DIRECTORY_USER_DOMAIN": d["user_domain"],
        "GLANCE_SHARE_DIRECTORY_PASSWORD_FILE": str(password_file),
        "GLANCE_SHARE_DIRECTORY_SCOPE": "system",
        "GLANCE_SHARE_DIRECTORY_TTL_SECONDS": "900",
    })
    at_start = keystone_calls(stats_delta(before_start, fake_stats(run), 1))
    dash = Dashboard(base)
    before_sign_in = fake_stats(run)
    dash.sign_in("producer-user", "any", "producer")
    sign_in = keystone_calls(stats_delta(before_sign_in, fake_stats(run), 1))

    log(f"7 directory: image page with {len(member_ids)} members, cold (the reader signs in and looks them up)")
    before = fake_stats(run)
    t = time.perf_counter()
    status, html = page_or_error(dash, page)
    cold_ms = (time.perf_counter() - t) * 1000
    if status != 200:
        raise RuntimeError(f"the cold page: {status} {html[:300]!r}")
    cold = keystone_calls(stats_delta(before, fake_stats(run), 1))
    cold_shown = names_shown(html, member_names)

    log(f"7 directory: {a.directory_views} warm loads")
    warm_ms, errors = [], 0
    before = fake_stats(run)
    for _ in range(a.directory_views):
        t = time.perf_counter()
        status, body = page_or_error(dash, page)
        if status == 200:
            warm_ms.append((time.perf_counter() - t) * 1000)
            html = body
        else:
            errors += 1
            log(f"  {page}: {status or body}")
    warm = keystone_calls(stats_delta(before, fake_stats(run), a.directory_views))
    warm_shown = names_shown(html, member_names)
    warm_html_bytes = len(html)

    log(f"7 directory: the same page with and without a directory, {a.directory_views} pairs in random order")
    for _ in range(5):
        page_or_error(plain, page)
    status, plain_html = page_or_error(plain, page)
    if status != 200:
        raise RuntimeError(f"the page without a directory: {status} {plain_html[:300]!r}")
    rng = random.Random(14)
    pair_ms = {"directory": [], "plain": []}
    before = fake_stats(run)
    for _ in range(a.directory_views):
        pair = [("directory", dash), ("plain", plain)]
        rng.shuffle(pair)
        for name, client in pair:
            t = time.perf_counter()
            status, body = page_or_error(client, page)
            if status == 200:
                pair_ms[name].append((time.perf_counter() - t) * 1000)
            else:
                errors += 1
                log(f"  {page} ({name}): {status or body}")
    paired = keystone_calls(stats_delta(before, fake_stats(run), 2 * a.directory_views))

    server_log = read_text(run.work / "server-directory.log")
    ds, ps = summary(pair_ms["directory"]), summary(pair_ms["plain"])
    run.procs.stop(proc)
    run.procs.stop(plain_proc)
    warm_total = sum(warm.values())
    run.results["directory"] = {
        "members": len(member_ids),
        "page_projects": page_projects,
        "recorded": fake["recorded"],
        "keystone_at_start": at_start,
        "keystone_sign_in": sign_in,
        "cold_keystone": cold,
        "cold_sign_ins": cold.get("keystone POST auth/tokens (directory)", 0),
        "cold_project_lookups": cold.get("keystone GET projects/{id} (directory)", 0),
        "cold_domain_lookups": cold.get("keystone GET domains/{id} (directory)", 0),
        "cold_ms": cold_ms,
        "cold_names_shown": cold_shown,
        "warm_loads": a.directory_views,
        "warm_keystone_per_load": warm,
        "warm_keystone_total_per_load": warm_total,
        "warm_keystone_per_member": warm_total / len(member_ids),
        "warm_ms": summary(warm_ms),
        "warm_names_shown": warm_shown,
        "warm_html_bytes": warm_html_bytes,
        "plain_names_shown": names_shown(plain_html, member_names),
        "plain_html_bytes": len(plain_html),
        "paired_keystone_per_load": paired,
        "paired_directory_ms": ds,
        "paired_plain_ms": ps,
        "ratio_p50": ds["p50"] / ps["p50"],
        "errors": errors,
        # The issue: the directory's secret appears in no log and no page.
        "secret_in_log": password in server_log,
        "secret_in_page": password.encode() in html,
    }
    x = run.results["directory"]
    log(f"7 directory: cold {x['cold_sign_ins']:g} sign-in + {x['cold_project_lookups']:g} project + "
        f"{x['cold_domain_lookups']:g} domain lookups, {cold_shown}/{len(member_ids)} names; warm "
        f"{warm_total:g} Keystone calls/load, {warm_shown}/{len(member_ids)} names; p50 {ds['p50']:.2f} ms "
        f"vs {ps['p50']:.2f} ms without a directory")


# ================================================================ 8. access review


def review_page_size():
    """The `limit` the review asks Glance for per page: `const PAGE` in src/sharing/review.rs
    (the binary measured is built from that tree; the figure is checked against the calls)."""
    m = re.search(r"^const PAGE: u32 = (\d+);", read_text(ROOT / "src/sharing/review.rs"), re.M)
    if not m:
        raise RuntimeError("no `const PAGE: u32 = …;` in src/sharing/review.rs: the review's page size is unknown")
    return int(m.group(1))


def glance_pages(n, limit):
    """Requests it takes to list n images from Glance at `limit` a page: every full page links
    to a next one, even when nothing follows (then an empty page ends the listing)."""
    return n // limit + 1


def review_views(run, dash, path, views, server_pid, allowed=None):
    """The review at `path` for one signed-in session: its first view (the session's first
    review: the project-names lookup is asked of Keystone then), one untimed view, then `views`
    timed ones, one at a time. Upstream requests, server CPU and the canned upstream's CPU are
    counted over the timed views. `allowed`: Glance requests per view that are not the review's
    (the page header's pending-offers count)."""
    before = fake_stats(run)
    t = time.perf_counter()
    status, body = page_or_error(dash, path)
    first_ms = (time.perf_counter() - t) * 1000
    if status != 200:
        raise RuntimeError(f"{path}, first view: {status} {body[:300]!r}")
    first = stats_delta(before, fake_stats(run), 1)
    page_or_error(dash, path)
    lat, errors = [], 0
    calls0 = fake_stats(run)
    cpu0, fcpu0 = cpu_seconds(server_pid), tree_cpu_seconds(run.fake_proc.pid)
    for _ in range(views):
        t = time.perf_counter()
        status, body = page_or_error(dash, path)
        if status == 200:
            lat.append((time.perf_counter() - t) * 1000)
            last = body
        else:
            errors += 1
            log(f"  {path}: {status or body}")
    cpu1, fcpu1 = cpu_seconds(server_pid), tree_cpu_seconds(run.fake_proc.pid)
    calls = stats_delta(calls0, fake_stats(run), views)
    if not lat:
        raise RuntimeError(f"{path}: every timed view failed")
    glance = {k: v for k, v in calls.items() if k.startswith("glance")}
    listing = calls.get("glance GET images (review list)", 0.0)
    hidden = calls.get("glance GET images (review list, os_hidden)", 0.0)
    members = calls.get("glance GET images/{id}/members", 0.0)
    allowance = sum(min(glance.get(k, 0.0), v) for k, v in (allowed or {}).items())
    return {
        "path": path,
        "views": views,
        "first_ms": first_ms,
        "first_calls": first,
        "first_keystone": sum(v for k, v in first.items() if k.startswith("keystone")),
        "ms": summary(lat),
        "errors": errors,
        "calls_per_view": calls,
        "glance_per_view": sum(glance.values()),
        "listing_pages_per_view": listing + hidden,
        "listing_visible_per_view": listing,
        "listing_hidden_per_view": hidden,
        "member_listings_per_view": members,
        # Glance requests that are neither the review's listings nor its member listings
        # (beyond what `allowed` lets through): none expected.
        "other_glance_per_view": sum(glance.values()) - listing - hidden - members - allowance,
        "not_review_per_view": allowance,
        "keystone_per_view": sum(v for k, v in calls.items() if k.startswith("keystone")),
        "server_cpu_ms_per_view": (cpu1 - cpu0) * 1000 / views,
        "upstream_cpu_ms_per_view": (fcpu1 - fcpu0) * 1000 / views,
        "bytes": len(last),
    }, last


def bench_review(run):
    """Issue 15: the access review of 200 shared images × 10 members against the canned
    upstream, as `/access/export.json` and as the page `/access`, each in its own signed-in
    session: wall time, Glance requests (listing pages and member listings), Keystone requests
    and server CPU per view."""
    a, fake = run.args, run.fake
    rv = fake.get("review")
    if not rv:
        raise RuntimeError("the canned upstream has no review set (bench/fake_upstream.py too old?)")
    page_size = review_page_size()
    limit = min(page_size, rv["limit_max"])
    visible = rv["images"] - rv["hidden"]
    pages = {"visible": glance_pages(visible, limit), "hidden": glance_pages(rv["hidden"], limit)}
    clouds = run.clouds_yaml("fake", fake["base"] + "/v3")
    proc, base = run.start_server("review", clouds)
    out = {
        "images": rv["images"], "members": rv["members"], "hidden": rv["hidden"], "consumers": rv["consumers"],
        "memberships": rv["images"] * rv["members"], "page_size": page_size, "limit_max": rv["limit_max"],
        "expected_pages": pages, "expected_pages_total": sum(pages.values()),
        "expected_glance": sum(pages.values()) + rv["images"], "concurrency": batch_concurrency_default(),
    }

    log(f"8 review: {path_text(rv)}, /access/export.json x{a.review_views}")
    dash = Dashboard(base)
    dash.sign_in("producer-user", "any", "producer")
    x, body = review_views(run, dash, "/access/export.json", a.review_views, proc.pid)
    export = json.loads(body)
    rows = export.get("memberships", [])
    ids = sorted({m["image_id"] for m in rows})
    x["memberships_listed"] = len(rows)
    x["images_listed"] = len(ids)
    x["hidden_listed"] = len({m["image_id"] for m in rows if m.get("image_hidden")})
    x["unread_images"] = len(export.get("unread_images", []))
    out["export"] = x

    log(f"8 review: the page /access x{a.review_views} (another session)")
    dash = Dashboard(base)
    dash.sign_in("producer-user", "any", "producer")
    x, html = review_views(run, dash, "/access", a.review_views, proc.pid,
                           allowed={"glance GET images (offers)": 1})
    said = re.search(rb"shares (\d+) images? with (\d+) memberships?", html)
    x["images_said"] = int(said.group(1)) if said else None
    x["memberships_said"] = int(said.group(2)) if said else None
    x["images_shown"] = sum(1 for i in ids if i.encode() in html)
    out["page"] = x
    out["rss_kb_peak"] = proc_status_kb(proc.pid, "VmHWM")
    run.procs.stop(proc)
    run.results["review"] = out
    for key in ("export", "page"):
        x = out[key]
        log(f"8 review: {x['path']} p50 {x['ms']['p50']:.1f} ms, {x['glance_per_view']:g} Glance calls/view "
            f"({x['listing_pages_per_view']:g} listing pages + {x['member_listings_per_view']:g} member listings"
            + (f" + {x['not_review_per_view']:g} header" if x["not_review_per_view"] else "")
            + f"; expected {out['expected_pages_total']} + {out['images']}), "
            f"{x['keystone_per_view']:g} Keystone/view (first view {x['first_keystone']:g}), "
            f"server CPU {x['server_cpu_ms_per_view']:.1f} ms/view")


def path_text(rv):
    return (f"{rv['images']} shared images ({rv['hidden']} hidden from lists) x {rv['members']} members "
            f"of {rv['consumers']} projects")


# ================================================================ 9. time to interactive


def before_build():
    """The "before" build of benchmark 9 (bench/build-before): (bin, site, info), or None when it
    is not there."""
    bin_ = Path(os.environ.get("GLANCE_SHARE_BEFORE_BIN", str(BEFORE_TARGET / "release/glance-share")))
    site = Path(os.environ.get("GLANCE_SHARE_BEFORE_SITE", str(BEFORE_TARGET / "site")))
    if not bin_.is_file() or not (site / "pkg/glance-share.wasm").is_file():
        return None
    info = {}
    try:
        info = json.loads((site / "before.json").read_text())
    except (OSError, ValueError):
        pass
    return bin_, site, info


def bundle_gzip(site):
    """wasm + js of a site's pkg/, gzip -9 (as benchmark 6 counts them)."""
    total = 0
    for kind in ("wasm", "js"):
        path = Path(site) / "pkg" / f"glance-share.{kind}"
        if path.is_file():
            total += len(gzip.compress(path.read_bytes(), 9))
    return total


def median(xs):
    xs = [x for x in xs if x is not None]
    return summary(xs)["p50"] if xs else None


def bench_tti(run):
    """Issue 17 item 2: time to interactive of the image page with 128 members in Chromium, from
    navigation start to the moment a click on the page's last copy button is handled (the islands
    live, or the app hydrated), unthrottled and at 4x CPU throttling (DevTools protocol), for this
    build and for the fully hydrated build of 0817ab3 when bench/build-before has made it. The
    browser side is bench/tti.cjs (Playwright from end2end/node_modules)."""
    a, fake = run.args, run.fake
    node = shutil.which("node")
    if not node:
        raise RuntimeError("node is not installed (Playwright runs on it; see end2end/README.md)")
    if not (ROOT / "end2end/node_modules/playwright-core").is_dir():
        raise RuntimeError("Playwright is not installed in end2end/ (cd end2end && npm ci)")
    chromium = os.environ.get("GLANCE_SHARE_E2E_CHROMIUM", "/usr/bin/chromium")
    clouds = run.clouds_yaml("fake", fake["base"] + "/v3")
    page = f"/images/{fake['image_id']}"
    member_ids = fake_member_ids(run)

    builds = {"after": {"bin": str(a.bin), "site": str(a.site), "bundle_gzip": bundle_gzip(a.site),
                        "git": run.results.get("machine", {}).get("git")}}
    before = before_build()
    if before:
        bin_, site, info = before
        builds["before"] = {"bin": str(bin_), "site": str(site), "bundle_gzip": bundle_gzip(site),
                            "commit": (info.get("commit") or BEFORE_COMMIT)[:7], "built": info.get("built")}
    else:
        builds["before"] = {"missing": "not built, run bench/build-before",
                            "looked_for": [os.environ.get("GLANCE_SHARE_BEFORE_BIN", str(BEFORE_TARGET / "release/glance-share")),
                                           os.environ.get("GLANCE_SHARE_BEFORE_SITE", str(BEFORE_TARGET / "site"))]}
        log(f"9 tti: the before build ({BEFORE_COMMIT}) is not there: run bench/build-before; measuring this build only")

    targets, procs = [], []
    for label in ("before", "after"):
        b = builds[label]
        if "missing" in b:
            continue
        proc, base = run.start_server(f"tti-{label}", clouds, bin=b["bin"], site=b["site"])
        dash = Dashboard(base)
        dash.sign_in("producer-user", "any", "producer")
        status, html = page_or_error(dash, page)
        if status != 200:
            raise RuntimeError(f"the {label} build's image page: {status} {html[:300]!r}")
        b["members_shown"] = sum(1 for m in member_ids if m.encode() in html)
        b["html_bytes"] = len(html)
        b["islands_in_html"] = html.count(b"<leptos-island")
        procs.append(proc)
        targets.append({"label": label, "base": base, "path": page,
                        "cookie": {"name": dash.cookie_name, "value": dash.cookie}})

    spec = {"chromium": chromium, "runs": a.tti_runs, "rates": list(TTI_RATES), "timeout_ms": 30000,
            "probe_ms": a.tti_probe_ms, "targets": targets}
    log(f"9 tti: {a.tti_runs} runs x {len(TTI_RATES)} CPU rates x {len(targets)} builds in Chromium "
        f"(+1 warm-up visit each)")
    # Its own process group: Chromium goes with it if the run is interrupted or times out.
    p = subprocess.Popen([node, str(BENCH / "tti.cjs")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
    try:
        stdout, stderr = p.communicate(json.dumps(spec),
                                       timeout=120 + a.tti_runs * max(1, len(targets)) * len(TTI_RATES) * 65)
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(10)
        raise
    (run.work / "tti.log").write_text(stderr)
    for proc in procs:
        run.procs.stop(proc)
    if p.returncode != 0:
        raise RuntimeError(f"bench/tti.cjs failed ({p.returncode}): {stderr[-1500:]}")
    out = json.loads(stdout)
    samples = out["samples"]
    for label, w in (out.get("warmup_failed") or {}).items():
        builds[label]["not_interactive"] = "; ".join(w.get("page_errors") or []) or "no answer within 30 s"

    cells = {}
    for t in targets:
        label = t["label"]
        for rate in TTI_RATES:
            xs = [x for x in samples if x["label"] == label and x["rate"] == rate]
            ok = [x for x in xs if x["interactive"] is not None and not x["timed_out"] and x["status"] == 200]
            tti = [x["interactive"] for x in ok]
            cells.setdefault(label, {})[str(rate)] = {
                "runs": len(xs),
                "failed": len(xs) - len(ok),
                "interactive_ms": summary(tti),
                "interactive_ms_all": tti,
                # What the median visit waited for, in ms since navigation start.
                "response_end_ms": median([x["response_end"] for x in ok]),
                "dom_content_loaded_ms": median([x["dom_content_loaded"] for x in ok]),
                "load_ms": median([x["load"] for x in ok]),
                "js_fetch_start_ms": median([(x["js"] or {}).get("start") for x in ok]),
                "wasm_fetch_start_ms": median([(x["wasm"] or {}).get("start") for x in ok]),
                "wasm_fetched_ms": median([(x["wasm"] or {}).get("end") for x in ok]),
                # The moment lies between the last unanswered click and the first answered one.
                "resolution_ms": median([x["interactive"] - x["missed"] for x in ok if x["missed"] is not None]),
                # Answered at the very first click: interactive before probing began (an upper bound only).
                "first_click_answered": sum(1 for x in ok if x["missed"] is None),
                # From the answered click to its effect on the page (the handler's own time).
                "handled_in_ms": median([x["seen"] - x["interactive"] for x in ok]),
                "probes": median([x["probes"] for x in ok]),
                "copy_buttons": median([x["copy_buttons"] for x in ok]),
                "islands": median([x["islands"] for x in ok]),
                "page_errors": sorted({e for x in xs for e in x["page_errors"]})[:5],
                "transfer_bytes": median([((x["wasm"] or {}).get("bytes") or 0) + ((x["js"] or {}).get("bytes") or 0)
                                          for x in ok]),
            }
    run.results["tti"] = {
        "page": "image page, 128 members",
        "path": "/images/{id}",
        "members": fake["members"],
        "runs": a.tti_runs,
        "rates": list(TTI_RATES),
        "probe_ms": a.tti_probe_ms,
        "chromium": out.get("chromium"),
        "builds": builds,
        "cells": cells,
        "samples": samples,
    }
    parts = []
    for label in ("before", "after"):
        if label in cells:
            parts.append(f"{label} " + ", ".join(f"{r}x {ms_text(cells[label][str(r)]['interactive_ms']['p50'])}"
                                                  for r in TTI_RATES))
        else:
            parts.append(f"{label}: {builds[label]['missing']}")
    log("9 tti: median time to interactive: " + "; ".join(parts))


def ms_text(x):
    return "n/a" if x is None or x != x else f"{x:.0f} ms"


# ================================================================ 5. load


def bench_load(run):
    a = run.args
    fake = run.fake
    clouds = run.clouds_yaml("fake", fake["base"] + "/v3")
    proc, base = run.start_server("load", clouds)
    path = f"/images/{fake['image_id']}"
    log(f"5 load: signing in {a.sessions} sessions")

    def session(_):
        d = Dashboard(base)
        d.sign_in("producer-user", "any", "producer")
        status, _ = d.page(path)
        if status != 200:
            raise RuntimeError(f"a new session's page: {status}")
        return d.cookie

    with cf.ThreadPoolExecutor(8) as pool:
        cookies = list(pool.map(session, range(a.sessions)))
    if len(set(cookies)) != a.sessions:
        raise RuntimeError("sessions share cookies")
    cookie_file = run.work / "cookies.txt"
    cookie_file.write_text("\n".join(cookies) + "\n")
    rss_signed_in = proc_status_kb(proc.pid, "VmRSS")

    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(proc_status_kb(proc.pid, "VmRSS"))
            except FileNotFoundError:
                return
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    log(f"5 load: wrk, {a.connections} connections, {a.load_seconds} s")
    env = dict(os.environ, BENCH_COOKIES=str(cookie_file), BENCH_PATH=path)
    cmd = ["wrk", f"-t{a.wrk_threads}", f"-c{a.connections}", f"-d{a.load_seconds}s", "--timeout", "10s",
           "--latency", "-s", str(BENCH / "sessions.lua"), base + path]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0, fcpu0 = cpu_seconds(proc.pid), tree_cpu_seconds(run.fake_proc.pid)
    threads0, calls0, mach0 = thread_cpu(proc.pid), fake_stats(run), machine_cpu()
    sampler.start()
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=a.load_seconds + 60)
    wall = time.perf_counter() - t
    stop.set()
    sampler.join()
    cpu1, fcpu1 = cpu_seconds(proc.pid), tree_cpu_seconds(run.fake_proc.pid)
    threads1, calls1, mach1 = thread_cpu(proc.pid), fake_stats(run), machine_cpu()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = p.stdout + p.stderr
    (run.work / "wrk.txt").write_text(text)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {text[-1000:]}")

    def num(pattern, default=0.0):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else default

    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    sock = [int(x) for x in sock.groups()] if sock else [0, 0, 0, 0]
    non200 = int(num(r"BENCH responses=\d+ non200=(\d+)"))
    statuses = re.search(r"statuses=(\S*)", text)
    hwm = proc_status_kb(proc.pid, "VmHWM")
    run.results["load"] = {
        "sessions": a.sessions,
        "connections": a.connections,
        "wrk_threads": a.wrk_threads,
        "seconds": a.load_seconds,
        "wall_s": wall,
        "requests": int(num(r"(\d+) requests in")),
        "rps": num(r"Requests/sec:\s+([\d.]+)"),
        "p50_ms": num(r"BENCH p50_us=(\d+)") / 1000,
        "p90_ms": num(r"p90_us=(\d+)") / 1000,
        "p99_ms": num(r"p99_us=(\d+)") / 1000,
        "max_ms": num(r"max_us=(\d+)") / 1000,
        "non200": non200,
        "statuses": statuses.group(1) if statuses else "",
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), sock)),
        "errors": non200 + sum(sock),
        # The kernel updates VmHWM lazily: the peak is the larger of it and the sampled VmRSS.
        "rss_kb_peak": max([hwm, *[x for x in samples if x]]),
        "rss_kb_hwm": hwm,
        "rss_kb_signed_in": rss_signed_in,
        "rss_kb_max_sampled": max(samples) if samples else None,
        "server_cpu_pct": (cpu1 - cpu0) / wall * 100,
        "upstream_cpu_pct": (fcpu1 - fcpu0) / wall * 100,
        "wrk_cpu_pct": ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) / wall * 100,
        "wrk_output": text.strip(),
        "server_threads_cpu_pct": {k: (v - threads0.get(k, 0.0)) / wall * 100 for k, v in threads1.items()
                                   if v - threads0.get(k, 0.0) > 0},
        "upstream_calls_per_s": (sum(calls1.values()) - sum(calls0.values())) / wall,
        # All cores busy, in % of one core (like the per-process figures).
        "machine_busy_pct": (mach1[0] - mach0[0]) / max(1, mach1[1] - mach0[1]) * os.cpu_count() * 100,
    }
    run.procs.stop(proc)
    ld = run.results["load"]
    log(f"5 load: {ld['rps']:.0f} req/s, p99 {ld['p99_ms']:.1f} ms, {ld['errors']} errors, "
        f"peak RSS {run.results['load']['rss_kb_peak'] / 1024:.1f} MiB")


# ================================================================ 6. bundle


def wasm_sections(b):
    """Bytes per section of a wasm module (custom sections by name): where the size is."""
    names = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
             7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "datacount"}

    def leb(i):
        r = s = 0
        while True:
            x = b[i]
            i += 1
            r |= (x & 0x7F) << s
            s += 7
            if x < 0x80:
                return r, i

    out, i = {}, 8
    try:
        while i < len(b):
            sid = b[i]
            n, i = leb(i + 1)
            name = names.get(sid, str(sid))
            if sid == 0:
                ln, j = leb(i)
                name = "custom:" + b[j : j + ln].decode(errors="replace")
            out[name] = out.get(name, 0) + n
            i += n
    except IndexError:
        pass
    return out


def bench_bundle(run):
    pkg = Path(run.args.site) / "pkg"
    files = {}
    for kind in ("wasm", "js", "css"):
        path = pkg / f"glance-share.{kind}"
        if not path.exists():
            cands = sorted(pkg.glob(f"*.{kind}"))
            if not cands:
                continue
            path = cands[0]
        raw = path.read_bytes()
        entry = {"file": str(path), "raw": len(raw), "gzip": len(gzip.compress(raw, 9)), "brotli": None}
        if shutil.which("brotli"):
            p = subprocess.run(["brotli", "-q", "11", "-c", str(path)], capture_output=True, timeout=300)
            if p.returncode == 0:
                entry["brotli"] = len(p.stdout)
        entry["mtime"] = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
        files[kind] = entry
    if "wasm" not in files or "js" not in files:
        raise RuntimeError(f"no glance-share.wasm / .js in {pkg}")
    files["wasm"]["sections"] = wasm_sections(Path(files["wasm"]["file"]).read_bytes())
    total = {k: files["wasm"][k] + files["js"][k] for k in ("raw", "gzip")}
    total["brotli"] = (files["wasm"]["brotli"] + files["js"]["brotli"]) if files["wasm"]["brotli"] else None
    run.results["bundle"] = {"files": files, "total": total}
    log(f"6 bundle: wasm+js {total['raw'] / 1000:.0f} kB raw, {total['gzip'] / 1000:.0f} kB gzip")


# ================================================================ machine, main


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


def machine(run):
    lscpu = sh("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    mem = re.search(r"Mem:\s+(\d+)", sh("free -m"))
    binp = Path(run.args.bin)
    h = hashlib.sha256()
    with open(binp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    versions = {}
    venv = run.lab.get("LAB_VENV") if run.lab else None
    if venv:
        for dist in ("keystone", "glance", "python_openstackclient", "openstacksdk", "uWSGI", "uwsgi"):
            for d in Path(venv).glob(f"lib/python*/site-packages/{dist}-*.dist-info"):
                versions[dist.lower().replace("_", "-")] = d.name[len(dist) + 1 : -len(".dist-info")]
    wrk_v = sh("wrk --version 2>&1 | head -1")
    lab_sh = read_text(ROOT / "lab/lab.sh")
    # Glance's own line: `a+=(--threads N)` (Keystone's carries its module on the same line); its
    # processes counted as they run (uWSGI names them), its database from its config.
    threads = re.search(r"^\s*a\+=\(--threads (\d+)\)\s*$", lab_sh, re.M)
    workers = sh("ps -eo args | grep -c '^glance-share-lab-glance uWSGI worker' || true")
    conf = read_text(Path(run.lab["LAB_STATE_DIR"]) / "glance" / "glance-api.conf") if run.lab else ""
    db = re.search(r"^connection = ([\w+]+)://", conf, re.M)
    db = {"mysql+pymysql": sh("/usr/sbin/mariadbd --version 2>/dev/null | awk '{print $3}'")}.get(db.group(1) if db else "")
    uw = {"processes": int(workers or 0), "threads": int(threads.group(1)),
          "database": f"MariaDB {db}" if db else "SQLite"} if threads and run.lab else None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "nproc": sh("nproc"),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "hypervisor": (re.search(r"Hypervisor vendor:\s*(.+)", lscpu) or [None, ""])[1],
        "mem_mb": int(mem.group(1)) if mem else None,
        "kernel": platform.release(),
        "os": read_text("/etc/debian_version").strip(),
        "python": platform.python_version(),
        "loadavg_start": read_text("/proc/loadavg").split()[:3],
        "binary": str(binp),
        "binary_sha256": h.hexdigest()[:16],
        "binary_mtime": datetime.fromtimestamp(binp.stat().st_mtime, timezone.utc).isoformat(timespec="seconds"),
        "site": str(run.args.site),
        "git": sh(f"git -C {ROOT} rev-parse --short HEAD"),
        "git_dirty": bool(sh(f"git -C {ROOT} status --porcelain --untracked-files=no")),
        "versions": versions,
        "wrk": wrk_v,
        "lab_uwsgi": uw,
    }


def incidents(run):
    """Panics and errors the servers logged during the run (they run with RUST_LOG=warn)."""
    found = []
    for logp in sorted(run.work.glob("server-*.log")):
        lines = read_text(logp).splitlines()
        for i, line in enumerate(lines):
            if "panicked at" in line or " ERROR " in line:
                text = line.strip()
                if "panicked at" in line and i + 1 < len(lines):
                    text += " " + lines[i + 1].strip()
                found.append({"server": logp.stem.removeprefix("server-"), "line": text[:400]})
    return found


def parse_args():
    ap = argparse.ArgumentParser(description="glance-share benchmarks (issue #7)")
    ap.add_argument("--bin", default=os.environ.get("GLANCE_SHARE_BIN", str(ROOT / "target/release/glance-share")))
    ap.add_argument("--site", default=os.environ.get("GLANCE_SHARE_SITE", str(ROOT / "target/site")))
    ap.add_argument("--lab-env", default=os.environ.get("BENCH_LAB_ENV", str(ROOT / ".lab/lab.env")))
    ap.add_argument("--only", default=",".join(map(str, sorted(ALL))),
                    help="comma-separated benchmarks to run (docs only when all)")
    ap.add_argument("--docs", default=str(ROOT / "docs/benchmarks.md"))
    ap.add_argument("--no-docs", action="store_true", help="print the table only")
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary directory (logs, wrk output)")
    ap.add_argument("--report-only", action="store_true",
                    help="measure nothing: write docs/benchmarks.md again from bench/last-run.json")
    ap.add_argument("--overhead-samples", type=int, default=200)
    ap.add_argument("--cli-runs", type=int, default=5)
    ap.add_argument("--page-views", type=int, default=30)
    ap.add_argument("--cli-adds", type=int, default=20)
    ap.add_argument("--cli-add-budget", type=float, default=90.0, help="seconds for the CLI add loop")
    ap.add_argument("--batch-poll", type=float, default=0.05)
    ap.add_argument("--render-seconds", type=float, default=10.0)
    ap.add_argument("--render-max", type=int, default=500)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--load-seconds", type=int, default=30)
    ap.add_argument("--fake-workers", type=int, default=2)
    ap.add_argument("--directory-views", type=int, default=100,
                    help="benchmark 7: warm loads, and pairs with/without a directory")
    ap.add_argument("--review-views", type=int, default=10,
                    help="benchmark 8: timed views of the access review, each of the export and the page")
    ap.add_argument("--review-hidden-every", type=int, default=20,
                    help="benchmark 8: every n-th of the 200 shared images is hidden from lists (0: none, so the "
                    "first listing is one full page and Glance's `next` link asks for a second, empty one)")
    ap.add_argument("--tti-runs", type=int, default=7,
                    help="benchmark 9: visits per build and CPU rate (the median is reported)")
    ap.add_argument("--tti-probe-ms", type=int, default=4,
                    help="benchmark 9: how often the page's copy button is clicked until it answers")
    args = ap.parse_args()
    args.only = {int(x) for x in args.only.split(",") if x.strip()}
    args.bin, args.site = Path(args.bin).resolve(), Path(args.site).resolve()
    return args


def interrupted(*_):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, interrupted)
    args = parse_args()
    if args.report_only:
        # The text around the figures changed, not the figures: render the last run again.
        results = json.loads((BENCH / "last-run.json").read_text())
        Path(args.docs).write_text(report.docs(results))
        (BENCH / "README-table.md").write_text(report.readme_table(results) + "\n")
        print(report.summary_table(results))
        log(f"wrote {args.docs} and bench/README-table.md from bench/last-run.json ({results['machine']['date']})")
        return 0
    for what, path in (("GLANCE_SHARE_BIN", args.bin), ("GLANCE_SHARE_SITE", args.site / "pkg")):
        if not path.exists():
            sys.exit(f"bench: {path} does not exist (build the release first, or set {what})")
    run = Run(args)
    started = time.monotonic()
    failures = {}
    try:
        if args.only & {1, 3, 4}:
            run.load_lab()
        run.results["machine"] = machine(run)
        m0 = machine_cpu()
        time.sleep(2)
        m1 = machine_cpu()
        idle_busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) * os.cpu_count() * 100
        run.results["machine"]["busy_before_pct"] = idle_busy
        if idle_busy > 30:
            log(f"warning: the machine is {idle_busy:.0f} % busy (of one core) before the benchmarks start; "
                "the figures will show it")
        phases = [
            (6, "bundle", bench_bundle),
            (1, "overhead", bench_overhead),
            (3, "cli", bench_cli),
            (4, "batch", bench_batch),
            (2, "render", bench_render),
            (7, "directory", bench_directory),
            (8, "review", bench_review),
            (9, "tti", bench_tti),
            (5, "load", bench_load),
        ]
        for num, name, fn in phases:
            if num not in args.only:
                continue
            if num in (2, 5, 7, 8, 9) and run.fake is None:
                fixtures = getattr(run, "fixtures", None)
                if fixtures is not None and not (fixtures / "members.json").exists():
                    fixtures = None
                run.start_fake(fixtures)
            if num == 2 and hasattr(run, "lab_server"):
                # The lab server is done with; the rest runs against the canned upstream.
                run.procs.stop(run.lab_server[0])
                run.delete_images()
            try:
                if num in (1, 3, 4):
                    run.wait_for_lab()
                m0, t0 = machine_cpu(), time.monotonic()
                fn(run)
                m1 = machine_cpu()
                run.results.setdefault("phase", {})[name] = {
                    "seconds": time.monotonic() - t0,
                    "machine_busy_pct": (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) * os.cpu_count() * 100,
                }
            except Exception as e:  # noqa: BLE001 - one benchmark failing leaves the others
                failures[name] = f"{type(e).__name__}: {e}"
                log(f"{num} {name} FAILED: {e}")
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        failures["interrupted"] = "the run was interrupted"
    finally:
        run.procs.stop_all()
        try:
            run.delete_images()
        except Exception as e:  # noqa: BLE001
            log(f"could not delete the lab images: {e}")
    run.results["incidents"] = incidents(run)
    run.results.setdefault("machine", {"loadavg_start": []})["loadavg_end"] = read_text("/proc/loadavg").split()[:3]
    run.results["failures"] = failures
    run.results["runtime_s"] = time.monotonic() - started
    run.results["only"] = sorted(args.only)

    (run.work / "results.json").write_text(json.dumps(run.results, indent=1, default=str) + "\n")
    table = report.summary_table(run.results)
    print(table)
    readme = report.readme_table(run.results)
    print("\nFor the README:\n")
    print(readme)
    complete = args.only == ALL and not failures
    if complete and not args.no_docs:
        Path(args.docs).parent.mkdir(parents=True, exist_ok=True)
        Path(args.docs).write_text(report.docs(run.results))
        (BENCH / "README-table.md").write_text(readme + "\n")
        (BENCH / "last-run.json").write_text(json.dumps(run.results, indent=1, default=str) + "\n")
        log(f"wrote {args.docs}, bench/README-table.md and bench/last-run.json")
    elif not args.no_docs:
        log("docs/benchmarks.md left as it was: only a complete run without failures writes it")
    if args.keep_work:
        log(f"kept the run's files in {run.work}")
    else:
        shutil.rmtree(run.work, ignore_errors=True)
    log(f"done in {run.results['runtime_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
