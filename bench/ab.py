#!/usr/bin/env python3
"""Interleaved A/B of the server's CPU per page view, for changes smaller than this machine's noise.

    python3 bench/ab.py old=/path/to/old/glance-share new=target/release/glance-share
    python3 bench/ab.py --page small --rounds 10 a=bin b=bin,GLANCE_SHARE_SERVER_THREADS=1

Every build named (name=binary[,VAR=value...]) runs at once against one canned upstream (benchmark 2's,
bench/fake_upstream.py), signed in as the same user; the load moves from one to the next in rounds of
--secs seconds (reversed every other round), so a slow minute of a shared machine falls on all of them.
Prints, per build, the median over the rounds of its CPU per request (utime + stime from /proc) and of
the wall time. Pages: image (128 members), small (2 members), list (a 1000-image search), or a path.
Figures from one run compare builds with each other; `bench/run` remains the place for goals.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from util import Dashboard, Http, cpu_seconds  # noqa: E402


def page_path(which, fake):
    if which == "image":
        return f"/images/{fake['image_id']}"
    if which == "small":
        _, _, body = Http(fake["base"]).request("GET", "/v2/images?owner=x&limit=1")
        return "/images/" + json.loads(body)["images"][0]["id"]
    if which == "list":
        return "/images?tab=all&q=bench-image"
    return which


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("builds", nargs="+", help="name=binary[,VAR=value...]")
    p.add_argument("--page", default="image")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--secs", type=float, default=3.0)
    a = p.parse_args()
    builds = []
    for spec in a.builds:
        name, rest = spec.split("=", 1)
        binary, *env = rest.split(",")
        builds.append((name, str(Path(binary).resolve()), dict(e.split("=", 1) for e in env)))
    sys.argv = ["bench"]
    run = bench.Run(bench.parse_args())
    try:
        fake = run.start_fake(None)
        clouds = run.clouds_yaml("fake", fake["base"] + "/v3")
        path = page_path(a.page, fake)
        servers = []
        for name, binary, env in builds:
            proc, base = run.start_server(name, clouds, extra_env=env, bin=binary)
            dash = Dashboard(base)
            dash.sign_in("producer-user", "any", "producer")
            for _ in range(50):
                dash.page(path)
            servers.append((name, proc, dash))
        cpu = {name: [] for name, _, _ in servers}
        wall = {name: [] for name, _, _ in servers}
        for r in range(a.rounds):
            for name, proc, dash in servers if r % 2 == 0 else servers[::-1]:
                c0, t0, n = cpu_seconds(proc.pid), time.monotonic(), 0
                while time.monotonic() - t0 < a.secs:
                    dash.page(path)
                    n += 1
                cpu[name].append((cpu_seconds(proc.pid) - c0) * 1000 / n)
                wall[name].append((time.monotonic() - t0) * 1000 / n)
        for name in cpu:
            xs = cpu[name]
            print(f"{name:16} CPU per request: median {statistics.median(xs):.3f} ms "
                  f"(rounds {min(xs):.3f}-{max(xs):.3f}); wall median {statistics.median(wall[name]):.2f} ms")
    finally:
        run.procs.stop_all()


if __name__ == "__main__":
    main()
