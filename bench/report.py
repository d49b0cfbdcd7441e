"""Turns one run's figures into the stdout table, the README table and docs/benchmarks.md.

Every number in the output comes from the results of the run; the text around them is fixed
or chosen by comparing figures with the goals of issue #7 (and issue 14's, benchmark 7; issue
15's, benchmark 8; issue 17's time to interactive, benchmark 9).
"""

GOAL_OVERHEAD = 1.05  # glance-share / direct Glance, p50 and p95
GOAL_CLI = 20.0  # CLI time per view / page time per view
GOAL_BATCH = 10.0  # sequential loop / batch, canned upstream
GOAL_CAPACITY = 0.9  # batch pairs per second / the lab Glance's best add-member rate (issue 17)
GOAL_ERRORS = 0
GOAL_RSS_MB = 60.0  # MB = 1,000,000 bytes
GOAL_BUNDLE_KB = 200.0  # kB = 1,000 bytes, wasm + js, gzip -9 (issue 17)
GOAL_RENDER_CPU_MS = 1.0  # server CPU per request, image page with 128 members, canned upstream (issue 17)
GOAL_PAGE_SIZE = 50  # rows of a list page (GLANCE_SHARE_PAGE_SIZE's default): member calls of a search page
MEMBER_LISTINGS = "glance GET images/{id}/members"
GOAL_DIRECTORY_WARM = 0  # Keystone calls per member of a warm member page with a directory (issue 14)

OK, MISS, NONE = "✓", "✗", "–"


def ms(x):
    if x is None or x != x:
        return "n/a"
    if x >= 10000:
        return f"{x / 1000:.1f} s"
    if x >= 100:
        return f"{x:.0f} ms"
    if x >= 10:
        return f"{x:.1f} ms"
    return f"{x:.2f} ms"


def secs(x):
    return f"{x:.1f} s" if x < 100 else f"{x:.0f} s"


def times(x):
    return f"{x:.2f}×" if x < 10 else f"{x:.0f}×"


def kb(b):
    if b is None:
        return "n/a"
    return f"{b / 1e6:.2f} MB" if b >= 1e6 else f"{b / 1000:.1f} kB"


def mb_kib(kib):
    """VmRSS/VmHWM (KiB) as MB (10^6 bytes)."""
    return kib * 1024 / 1e6


def mark(ok):
    return OK if ok else MISS


def count(x):
    """A count from the canned upstream's statistics (a float when it is per request)."""
    return f"{x:g}" if x == int(x) else f"{x:.2f}"


def directory_met(x):
    """Issue 14's goal, from the figures: no Keystone call once warm, and the names were shown
    (a page that makes no call because it names nothing would prove nothing)."""
    return (x["warm_keystone_per_member"] <= GOAL_DIRECTORY_WARM and x["warm_names_shown"] == x["members"]
            and x["errors"] == 0)


def directory_figure(x):
    return (f"{count(x['warm_keystone_per_member'])} per member ({count(x['warm_keystone_total_per_load'])} per load), "
            f"{x['warm_names_shown']} of {x['members']} names shown")


REVIEW_VIEWS = (("export", "`/access/export.json`"), ("page", "the page `/access`"))


def same(a, b):
    """Per-view figures are means over the views: equal when every view made the same calls."""
    return a is not None and b is not None and abs(a - b) < 1e-9


def review_complete(rv, key):
    """The view showed the whole review (a view that read fewer images would make fewer calls)."""
    x = rv[key]
    if key == "export":
        return x["memberships_listed"] == rv["memberships"] and x["images_listed"] == rv["images"] \
            and x["hidden_listed"] == rv["hidden"] and x["unread_images"] == 0
    return x["images_said"] == rv["images"] and x["memberships_said"] == rv["memberships"]


def review_met(rv, key):
    """Issue 15's goal, from the figures: the review's Glance calls per view are the listing
    pages Glance's paging takes plus one member listing per shared image, nothing more (the
    page's header may add its one pending-offers count, shown apart), and the view was whole."""
    x = rv[key]
    return (same(x["glance_per_view"] - x["not_review_per_view"], rv["expected_glance"])
            and same(x["listing_pages_per_view"], rv["expected_pages_total"])
            and same(x["member_listings_per_view"], rv["images"])
            and x["errors"] == 0 and review_complete(rv, key))


def review_figure(rv, key):
    x = rv[key]
    header = (f" (+ {count(x['not_review_per_view'])} pending-offers count of the page header)"
              if x["not_review_per_view"] else "")
    return (f"{count(x['glance_per_view'] - x['not_review_per_view'])} Glance calls/view = "
            f"{count(x['listing_pages_per_view'])} listing pages + {count(x['member_listings_per_view'])} member "
            f"listings{header}; expected {rv['expected_pages_total']} + {rv['images']} = {rv['expected_glance']}")


TTI_LABELS = {"after": "this build (islands)", "before": "before the islands (fully hydrated)"}


def tti_cell(x, label, rate):
    """The summary of one build at one CPU rate, or None when it was not measured."""
    return x.get("cells", {}).get(label, {}).get(str(rate))


def tti_median(x, label, rate):
    c = tti_cell(x, label, rate)
    if not c or not c["interactive_ms"]["n"]:
        return None
    return c["interactive_ms"]["p50"]


def tti_missing(x, label):
    """Why a build has no figures: not built (the before build), or every visit failed."""
    b = x["builds"].get(label, {})
    if "missing" in b:
        return f"{label}: {b['missing']}"
    if "not_interactive" in b:
        return f"{label}: the page never answered a click ({b['not_interactive']})"
    if any(tti_median(x, label, r) is None for r in x["rates"]):
        return f"{label}: not interactive within the timeout in some cell"
    return None


def tti_met(x):
    """Issue 17 item 2 asks for the figures before and after: every cell measured, no visit failed."""
    return all(tti_median(x, label, r) is not None and tti_cell(x, label, r)["failed"] == 0
               for label in ("before", "after") for r in x["rates"])


def tti_text(x, label):
    """`1× 123 ms, 4× 456 ms` for one build, or why there is none."""
    if tti_missing(x, label) and all(tti_median(x, label, r) is None for r in x["rates"]):
        return tti_missing(x, label)
    return ", ".join(f"{r}× {ms(tti_median(x, label, r))}" for r in x["rates"])


def tti_figure(x):
    return f"after {tti_text(x, 'after')}; before {tti_text(x, 'before')}".replace("before before: ", "before: ")


def table(rows, header):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# ------------------------------------------------------------------ goals


def goals(r):
    """(name, met, figure text) for every goal of the issue whose benchmark ran."""
    g = []
    if "overhead" in r:
        for n, s in r["overhead"]["sizes"].items():
            g.append((f"proxy overhead, {n} member{'s' if n != '1' else ''}: p50 ratio ≤ {GOAL_OVERHEAD}",
                      s["ratio_p50"] <= GOAL_OVERHEAD, times(s["ratio_p50"])))
            g.append((f"proxy overhead, {n} member{'s' if n != '1' else ''}: p95 ratio ≤ {GOAL_OVERHEAD}",
                      s["ratio_p95"] <= GOAL_OVERHEAD, times(s["ratio_p95"])))
    if "cli" in r:
        g.append((f"member page ≥ {GOAL_CLI:.0f}× faster per view than the CLI", r["cli"]["ratio"] >= GOAL_CLI,
                  times(r["cli"]["ratio"])))
    if "batch" in r and "ratio_capacity" in r["batch"]:
        g.append((f"batch ≥ {GOAL_CAPACITY:.0%} of the lab Glance's add-member capacity",
                  r["batch"]["ratio_capacity"] >= GOAL_CAPACITY, f"{r['batch']['ratio_capacity']:.0%}"))
    if "batch_canned" in r:
        bc = r["batch_canned"]
        g.append((f"batch ≥ {GOAL_BATCH:.0f}× faster than the sequential loop, upstream with room for every call",
                  bc["ratio_loop"] >= GOAL_BATCH, times(bc["ratio_loop"])))
    if "load" in r:
        ld = r["load"]
        g.append(("0 errors at 200 sessions", ld["errors"] == GOAL_ERRORS, str(ld["errors"])))
        g.append((f"peak RSS ≤ {GOAL_RSS_MB:.0f} MB at 200 sessions", mb_kib(ld["rss_kb_peak"]) <= GOAL_RSS_MB,
                  f"{mb_kib(ld['rss_kb_peak']):.1f} MB"))
    if "bundle" in r:
        gz = r["bundle"]["total"]["gzip"]
        g.append((f"hydrate bundle ≤ {GOAL_BUNDLE_KB:.0f} kB gzipped", gz / 1000 <= GOAL_BUNDLE_KB, kb(gz)))
    if "directory" in r:
        x = r["directory"]
        g.append((f"{GOAL_DIRECTORY_WARM} Keystone calls per member once warm (member page, {x['members']} members, "
                  "directory)", directory_met(x), directory_figure(x)))
    if "render" in r:
        g.append((f"server CPU ≤ {GOAL_RENDER_CPU_MS:g} ms per image page with 128 members", render_met(r["render"]),
                  ms(r["render"]["image_page"]["cpu_ms_per_request"])))
    if "render" in r and "list_1000_mine" in r["render"]:
        lm = r["render"]["list_1000_mine"]
        calls = lm.get("upstream_calls_per_request", {}).get(MEMBER_LISTINGS, 0)
        g.append((f"My images, a name search over 1000 owned shared images: member calls ≤ a page "
                  f"({GOAL_PAGE_SIZE} rows)", calls <= GOAL_PAGE_SIZE and lm["errors"] == 0,
                  f"{calls:,.0f} member calls, {lm['rows_shown']} rows shown"))
    if "tti" in r:
        x = r["tti"]
        g.append((f"time to interactive reported before and after (image page, {x['members']} members, Chromium, "
                  + " and ".join(f"{k}×" for k in x["rates"]) + " CPU)", tti_met(x), tti_figure(x)))
    if "review" in r:
        rv = r["review"]
        for key, what in REVIEW_VIEWS:
            if key in rv:
                g.append((f"access review ({rv['images']} images × {rv['members']} members), {what}: upstream Glance "
                          "calls per view = listing pages + shared images", review_met(rv, key), review_figure(rv, key)))
    return g


# ------------------------------------------------------------------ tables


def summary_rows(r):
    rows = []
    if "overhead" in r:
        for n, s in r["overhead"]["sizes"].items():
            d, p = s["direct"], s["proxy"]
            ok = s["ratio_p50"] <= GOAL_OVERHEAD and s["ratio_p95"] <= GOAL_OVERHEAD
            rows.append(("1", f"members list, {n} member{'s' if n != '1' else ''} (p50 / p95)",
                         f"{ms(p['p50'])} / {ms(p['p95'])}", f"{ms(d['p50'])} / {ms(d['p95'])} Glance direct",
                         f"{times(s['ratio_p50'])} / {times(s['ratio_p95'])}", f"≤ {GOAL_OVERHEAD}×", mark(ok)))
    if "render" in r:
        rd = r["render"]
        for key, what in (("image_page", "SSR image page, 128 members"), ("list_1000", "SSR image list, a search over 1000 images")):
            x = rd[key]
            allocs = (f", {x['allocs_per_request']:,.0f} allocs ({kb(x['alloc_bytes_per_request'])})/req"
                      if "allocs_per_request" in x else "")
            calls = x.get("upstream_calls_per_request")
            upstream = f", {sum(calls.values()):.0f} upstream req/req" if calls else ""
            rows.append(("2", f"{what} (canned upstream)",
                         f"p50 {ms(x['latency_ms']['p50'])}, CPU {ms(x['cpu_ms_per_request'])}/req{allocs}{upstream}",
                         "–", "–", "measured", NONE))
    if "cli" in r:
        c = r["cli"]
        rows.append(("3", f"view the members ({c['members']}) of an image (median)", ms(c["page_ms"]["p50"]),
                     f"{ms(c['cli_ms']['p50'])} `openstack image member list`", f"{times(c['ratio'])} faster",
                     f"≥ {GOAL_CLI:.0f}×", mark(c["ratio"] >= GOAL_CLI)))
    if "batch" in r:
        b = r["batch"]
        if "capacity" in b:
            cap = b["capacity"]
            direct = batch_direct_per_s(b)
            rows.append(("4", f"share {b['images']} images × {b['projects']} projects: batch vs Glance's capacity",
                         f"{b['batch_per_s']:.0f} pairs/s", f"{direct:.0f} calls/s direct at the best of "
                         f"{'/'.join(cap['levels'])} in flight ({cap['best_in_flight']})"
                         + (f", median of {len(b['rounds'])} rounds beside the batch's" if "rounds" in b else ""),
                         f"{b['ratio_capacity']:.0%}", f"≥ {GOAL_CAPACITY:.0%}", mark(b["ratio_capacity"] >= GOAL_CAPACITY)))
        rows.append(("4", f"… vs {b['pairs']} sequential add-member calls", f"{secs(b['batch_s'])} batch",
                     f"{secs(b['loop_s'])} sequential add-member calls", f"{times(b['ratio_loop'])} faster", "–", NONE))
        extra = f" (extrapolated from {b['cli_runs']})" if b["cli_extrapolated"] else ""
        rows.append(("4", f"… vs {b['pairs']} `openstack image add project`", f"{secs(b['batch_s'])} batch",
                     f"{secs(b['cli_total_s'])}{extra}", f"{times(b['ratio_cli'])} faster", "–", NONE))
    if "batch_canned" in r:
        bc = r["batch_canned"]
        rows.append(("4", f"… the same {bc['pairs']} pairs, canned upstream (add-member {bc['write_delay_ms']:g} ms, "
                     "calls overlap)", f"{secs(bc['batch_s'])} batch", f"{secs(bc['loop_s'])} sequential calls",
                     f"{times(bc['ratio_loop'])} faster", f"≥ {GOAL_BATCH:.0f}×", mark(bc["ratio_loop"] >= GOAL_BATCH)))
    if "load" in r:
        ld = r["load"]
        rows.append(("5", f"image page, {ld['sessions']} sessions, {ld['connections']} connections, {ld['seconds']} s",
                     f"{ld['rps']:.0f} req/s, p99 {ms(ld['p99_ms'])}, {ld['errors']} errors", "–", "–",
                     "0 errors", mark(ld["errors"] == 0)))
        rows.append(("5", "server peak RSS under that load", f"{mb_kib(ld['rss_kb_peak']):.1f} MB", "–", "–",
                     f"≤ {GOAL_RSS_MB:.0f} MB", mark(mb_kib(ld["rss_kb_peak"]) <= GOAL_RSS_MB)))
    if "bundle" in r:
        t = r["bundle"]["total"]
        br = f", {kb(t['brotli'])} brotli" if t["brotli"] else ""
        rows.append(("6", "hydrate bundle (wasm + js)", f"{kb(t['raw'])} raw, {kb(t['gzip'])} gzip{br}", "–", "–",
                     f"≤ {GOAL_BUNDLE_KB:.0f} kB gzip", mark(t["gzip"] / 1000 <= GOAL_BUNDLE_KB)))
    if "directory" in r:
        x = r["directory"]
        rows.append(("7", f"image page, {x['members']} members named by the directory, warm (canned upstream)",
                     f"{count(x['warm_keystone_total_per_load'])} Keystone calls/load, "
                     f"{x['warm_names_shown']} of {x['members']} names shown, p50 {ms(x['paired_directory_ms']['p50'])}",
                     f"p50 {ms(x['paired_plain_ms']['p50'])} without a directory (IDs only)", times(x["ratio_p50"]),
                     f"{GOAL_DIRECTORY_WARM} Keystone calls per member", mark(directory_met(x))))
        rows.append(("7", "… the same page cold (first view after start)",
                     f"{count(x['cold_sign_ins'])} sign-in + {count(x['cold_project_lookups'])} project + "
                     f"{count(x['cold_domain_lookups'])} domain lookups, {ms(x['cold_ms'])}",
                     f"{x['page_projects']} projects on the page (owner + members)", "–", "–", NONE))
    if "review" in r:
        rv = r["review"]
        for key, what in REVIEW_VIEWS:
            if key not in rv:
                continue
            x = rv[key]
            header = f" + {count(x['not_review_per_view'])} header" if x["not_review_per_view"] else ""
            rows.append(("8", f"access review, {rv['images']} images × {rv['members']} members, {what} (canned upstream)",
                         f"p50 {ms(x['ms']['p50'])}, CPU {ms(x['server_cpu_ms_per_view'])}/view; "
                         f"{count(x['glance_per_view'] - x['not_review_per_view'])} Glance calls/view "
                         f"({count(x['listing_pages_per_view'])} listing pages + "
                         f"{count(x['member_listings_per_view'])} member listings{header}), "
                         f"{count(x['keystone_per_view'])} Keystone",
                         f"{rv['expected_glance']} = {rv['expected_pages_total']} listing pages + {rv['images']} images",
                         "–", "Glance calls = listing pages + images", mark(review_met(rv, key))))
    if "tti" in r:
        x = r["tti"]
        for k, rate in enumerate(x["rates"]):
            a, b = tti_median(x, "after", rate), tti_median(x, "before", rate)
            what = (f"time to interactive, image page, {x['members']} members, Chromium (median of {x['runs']})"
                    if k == 0 else "… the same")
            cpu = "unthrottled" if rate == 1 else f"at {rate}× CPU throttling"
            base = (f"{ms(b)} before the islands ({x['builds']['before'].get('commit', '')}, fully hydrated)"
                    if b is not None else tti_missing(x, "before") or "n/a")
            rows.append(("9", f"{what}, {cpu}", ms(a) if a is not None else (tti_missing(x, "after") or "n/a"), base,
                         (f"{times(b / a)} faster" if a <= b else f"{times(a / b)} slower") if a and b else "–",
                         "before and after",
                         mark(tti_median(x, "after", rate) is not None and b is not None)))
    return rows


def summary_table(r):
    out = [table(summary_rows(r), ["#", "measure", "glance-share", "baseline", "ratio", "goal", ""])]
    missed = [g for g in goals(r) if not g[1]]
    out.append("")
    out.append(f"Goals met: {sum(1 for g in goals(r) if g[1])} of {len(goals(r))}."
               + (" Missed: " + "; ".join(f"{n} ({v})" for n, _, v in missed) + "." if missed else ""))
    for name, err in r.get("failures", {}).items():
        out.append(f"FAILED: {name}: {err}")
    out.append(f"Runtime: {r['runtime_s']:.0f} s.")
    return "\n".join(out)


def readme_table(r):
    rows = []
    if "overhead" in r:
        s = r["overhead"]["sizes"]
        ok = all(x["ratio_p50"] <= GOAL_OVERHEAD and x["ratio_p95"] <= GOAL_OVERHEAD for x in s.values())
        rows.append(("Proxy overhead, members list of " + " / ".join(s) + " members (p50; p95)",
                     " / ".join(times(x["ratio_p50"]) for x in s.values()) + "; "
                     + " / ".join(times(x["ratio_p95"]) for x in s.values()) + " of direct Glance",
                     f"≤ {GOAL_OVERHEAD}×", mark(ok)))
    if "render" in r:
        ip, ls = r["render"]["image_page"], r["render"]["list_1000"]
        rows.append(("Server render: image page with 128 members; a search over 1000 images",
                     f"{ms(ip['latency_ms']['p50'])}, {ms(ip['cpu_ms_per_request'])} CPU; "
                     f"{ms(ls['latency_ms']['p50'])}, {ms(ls['cpu_ms_per_request'])} CPU",
                     f"≤ {GOAL_RENDER_CPU_MS:g} ms CPU (128 members)", mark(render_met(r["render"]))))
        lm = r["render"].get("list_1000_mine")
        if lm:
            calls = lm.get("upstream_calls_per_request", {}).get(MEMBER_LISTINGS, 0)
            rows.append(("My images, a name search over 1000 owned shared images",
                         f"{calls:,.0f} member calls, {lm['rows_shown']} rows shown",
                         f"≤ {GOAL_PAGE_SIZE} member calls", mark(calls <= GOAL_PAGE_SIZE and lm["errors"] == 0)))
    if "cli" in r:
        c = r["cli"]
        rows.append(("Member page vs `openstack image member list`",
                     f"{times(c['ratio'])} faster ({ms(c['page_ms']['p50'])} vs {ms(c['cli_ms']['p50'])})",
                     f"≥ {GOAL_CLI:.0f}×", mark(c["ratio"] >= GOAL_CLI)))
    if "batch" in r:
        b = r["batch"]
        if "capacity" in b:
            rows.append((f"Batch share {b['images']} images × {b['projects']} projects vs the lab Glance's capacity",
                         f"{b['ratio_capacity']:.0%} ({b['batch_per_s']:.0f} pairs/s vs "
                         f"{batch_direct_per_s(b):.0f} direct calls/s at "
                         f"{b['capacity']['best_in_flight']} in flight"
                         + (f", medians of {len(b['rounds'])} interleaved rounds" if "rounds" in b else "")
                         + f"; {times(b['ratio_loop'])} the "
                         f"sequential loop, {times(b['ratio_cli'])} the CLI)", f"≥ {GOAL_CAPACITY:.0%}",
                         mark(b["ratio_capacity"] >= GOAL_CAPACITY)))
    if "batch_canned" in r:
        bc = r["batch_canned"]
        rows.append(("… the same, upstream with room for every call (canned, 10 ms writes)",
                     f"{times(bc['ratio_loop'])} faster ({secs(bc['batch_s'])} vs {secs(bc['loop_s'])})",
                     f"≥ {GOAL_BATCH:.0f}×", mark(bc["ratio_loop"] >= GOAL_BATCH)))
    if "load" in r:
        ld = r["load"]
        ok = ld["errors"] == 0 and mb_kib(ld["rss_kb_peak"]) <= GOAL_RSS_MB
        rows.append((f"{ld['sessions']} signed-in sessions, {ld['seconds']} s",
                     f"{ld['rps']:.0f} req/s, p99 {ms(ld['p99_ms'])}, {ld['errors']} errors, "
                     f"peak RSS {mb_kib(ld['rss_kb_peak']):.1f} MB", f"0 errors, ≤ {GOAL_RSS_MB:.0f} MB", mark(ok)))
    if "bundle" in r:
        t = r["bundle"]["total"]
        rows.append(("Hydrate bundle (wasm + js)", f"{kb(t['gzip'])} gzip ({kb(t['raw'])} raw)",
                     f"≤ {GOAL_BUNDLE_KB:.0f} kB gzip", mark(t["gzip"] / 1000 <= GOAL_BUNDLE_KB)))
    if "directory" in r:
        x = r["directory"]
        rows.append((f"Project names from the directory: member page of {x['members']} members, warm",
                     f"{count(x['warm_keystone_total_per_load'])} Keystone calls per load "
                     f"(cold: {count(x['cold_sign_ins'] + x['cold_project_lookups'] + x['cold_domain_lookups'])}); "
                     f"{ms(x['paired_directory_ms']['p50'])} vs {ms(x['paired_plain_ms']['p50'])} without names",
                     f"{GOAL_DIRECTORY_WARM} Keystone calls per member", mark(directory_met(x))))
    if "review" in r:
        rv = r["review"]
        keys = [k for k, _ in REVIEW_VIEWS if k in rv]
        if keys:
            x = rv[keys[0]]
            times_ = "; ".join(f"{'page' if k == 'page' else 'JSON export'} {ms(rv[k]['ms']['p50'])}, "
                               f"{ms(rv[k]['server_cpu_ms_per_view'])} CPU" for k in keys)
            rows.append((f"Access review, {rv['images']} shared images × {rv['members']} members",
                         f"{count(x['glance_per_view'] - x['not_review_per_view'])} Glance calls per view "
                         f"({count(x['listing_pages_per_view'])} listing pages + "
                         f"{count(x['member_listings_per_view'])} member listings), "
                         f"{count(x['keystone_per_view'])} Keystone; {times_}",
                         "Glance calls = listing pages + images", mark(all(review_met(rv, k) for k in keys))))
    if "tti" in r:
        x = r["tti"]
        rates = " / ".join("unthrottled" if k == 1 else f"{k}× CPU" for k in x["rates"])
        after = " / ".join(ms(tti_median(x, "after", k)) for k in x["rates"])
        if all(tti_median(x, "before", k) is not None for k in x["rates"]):
            before = "before the islands (fully hydrated) " + " / ".join(ms(tti_median(x, "before", k)) for k in x["rates"])
        else:
            before = tti_missing(x, "before")
        rows.append((f"Time to interactive, image page with {x['members']} members, Chromium ({rates}, median)",
                     f"{after}; {before}", "before and after", mark(tti_met(x))))
    m = r.get("machine", {})
    head = table(rows, ["Benchmark", "Result", "Goal", ""])
    return (head + f"\n\n{m.get('nproc', '?')} cores ({m.get('cpu', '?')}), {m.get('date', '')[:10]}; "
            "`bench/run` prints these, [docs/benchmarks.md](docs/benchmarks.md) has the method and every figure.")


# ------------------------------------------------------------------ docs


def stats_rows(label_stats):
    rows = []
    for label, s in label_stats:
        rows.append((label, s["n"], ms(s["p50"]), ms(s["p95"]), ms(s["p99"]), ms(s["min"]), ms(s["mean"]), ms(s["max"])))
    return table(rows, ["", "n", "p50", "p95", "p99", "min", "mean", "max"])


def docs(r):
    m = r["machine"]
    o, rd, c, b, ld, bu = r["overhead"], r["render"], r["cli"], r["batch"], r["load"], r["bundle"]
    g = goals(r)
    missed = [x for x in g if not x[1]]
    L = []
    w = L.append
    w("# Benchmarks")
    w("")
    w(f"*Generated by `bench/run` on {m['date']} in {r['runtime_s']:.0f} s. Every figure below was inserted by the "
      "script from that run; run `bench/run` again to replace them. Do not edit by hand.*")
    w("")
    w("A dashboard in front of Glance should add nearly nothing to Glance's own latency and be far quicker to use "
      "than the alternatives (issue #7). These benchmarks print figures: they are not timed tests and never fail "
      "CI on a number. A missed goal is reported here for whoever profiles and fixes it.")
    w("")
    w("## Running them")
    w("")
    w("```sh")
    w(f"bench/run                      # all of them ({r['runtime_s']:.0f} s this time); prints the table, rewrites this file")
    w("GLANCE_SHARE_BIN=... GLANCE_SHARE_SITE=... bench/run   # another build than target/release + target/site")
    w("bench/run --only 1,6 --no-docs # some of them, table only")
    w("bench/run --report-only        # this file again from bench/last-run.json, when only the text changed")
    w("bench/build-before             # once: the build before the islands (0817ab3) that benchmark 9 compares with")
    w("```")
    w("")
    w("`bench/run` needs a release build (`target/release/glance-share`, `target/site`); it installs `wrk` and "
      "`brotli` with apt-get when they are missing, starts the lab (`lab/lab.sh start`, idempotent), and cleans up "
      "after itself: the lab images it created are deleted (images with the `glance-share-bench-` name prefix left "
      "by an interrupted run are deleted at the next start), and every process it started is stopped. Everything "
      "runs on 127.0.0.1. Python 3 standard library only, plus `wrk` and `brotli`.")
    w("")
    w("## Summary")
    w("")
    w(table(summary_rows(r), ["#", "measure", "glance-share", "baseline", "ratio", "goal", ""]))
    w("")
    w(f"Goals met: **{len(g) - len(missed)} of {len(g)}**. Units: kB = 1,000 bytes, MB = 1,000,000 bytes; "
      "ratios are glance-share ÷ baseline for times where lower is better (benchmark 1), baseline ÷ glance-share "
      "where they say \"faster\".")
    w("")
    w("## Goals missed")
    w("")
    if not missed:
        w("None in this run.")
    for name, _, value in missed:
        w(f"- **{name}**: {value}. {why(name, r)}")
    w("")
    w("## The machine")
    w("")
    v = m.get("versions", {})
    rows = [
        ("CPU", f"{m['nproc']} × {m['cpu']}" + (f" ({m['hypervisor']} guest)" if m.get("hypervisor") else "")),
        ("memory", f"{m['mem_mb']} MiB"),
        ("OS", f"Debian {m['os']}, Linux {m['kernel']}"),
        ("load average (1, 5, 15 min) at start / end", f"{' '.join(m['loadavg_start'])} / {' '.join(m['loadavg_end'])}"),
        ("CPU busy, whole machine, 2 s before the run (% of one core)", f"{m.get('busy_before_pct', float('nan')):.0f} %"),
        ("CPU busy, whole machine, during each benchmark (% of one core)",
         ", ".join(f"{k} {v['machine_busy_pct']:.0f} % ({v['seconds']:.0f} s)" for k, v in r.get("phase", {}).items())
         or "n/a"),
        ("Python (benchmark driver, canned upstream)", m["python"]),
        ("lab", ", ".join(f"{k} {x}" for k, x in sorted(v.items())) or "n/a"),
        ("glance-share binary", f"`{m['binary']}` (sha256 {m['binary_sha256']}…, built {m['binary_mtime']})"),
        ("site (hydrate bundle)", f"`{m['site']}`"),
        ("source tree when run (the binary may be older)", f"git {m['git']}" + (" with uncommitted changes" if m["git_dirty"] else "")),
        ("load generator", m["wrk"]),
    ]
    w(table(rows, ["", ""]))
    w("")
    w(f"Everything shares these cores: Keystone (uWSGI, SQLite) and Glance (uWSGI, {uw_text(m)}), the "
      "dashboard, the canned upstream, the load generator and the benchmark driver, and whatever else runs on the "
      "machine (the \"CPU busy\" rows show how much did). Figures from another machine, or from this one under "
      "other load, differ; compare ratios from the same run rather than absolute times across runs.")
    w("")

    # 1
    w("## 1. Proxy overhead")
    w("")
    w("**Method.** Three shared images are created in the real lab Glance (RegionOne, `image_member_quota` 128) with "
      "1, 32 and 128 members. For each, the benchmark calls glance-share's `members` server function "
      "(`POST /api/members`, form `image_id`, with the session cookie and `Origin`), which makes exactly one Glance "
      "call, `GET /v2/images/{id}/members`; and calls that same URL directly with a token of the same user and project "
      "taken from Keystone. "
      f"After 5 warm-up calls of each, {o['samples']} pairs are timed, each pair in random order, so that drift of the "
      "machine hits both alike. Times are wall-clock from the client (Python `http.client`, request sent to body "
      "read). The dashboard is reached over a kept-alive connection, as a browser would; Glance (uWSGI "
      "`--http-socket` with `Connection: close`) opens a new connection per call, for the direct client and for the "
      "dashboard alike. A third series, interleaved with the other two, sends the direct client's calls through "
      "nginx (one worker, no logs, no buffering, `proxy_pass` to Glance, a new connection to Glance per call like "
      "the dashboard's): what one more HTTP hop in front of Glance costs by itself, to tell the hop from "
      "glance-share's own work.")
    w("")
    for n, s in o["sizes"].items():
        w(f"**{n} member{'s' if n != '1' else ''}**: ratio p50 {times(s['ratio_p50'])}, p95 {times(s['ratio_p95'])}"
          + (f" (90 % bootstrap interval {times(s['ratio_p95_interval'][0])}–{times(s['ratio_p95_interval'][1])})"
             if s.get("ratio_p95_interval") else "")
          + f"; glance-share adds {ms(s['added_p50_ms'])} at the median"
          + (f", of which its own CPU is {ms(s['dashboard_cpu_ms_per_call'])} per call and a round trip to it that "
             f"does nothing (`GET /healthz`) {ms(s['hop']['p50'])}" if "hop" in s else "")
          + (f"; nginx forwarding the same calls to Glance adds {ms(s['nginx_added_p50_ms'])}"
             if "nginx_added_p50_ms" in s else "")
          + f". Response bodies: {s['response_bytes_direct']} bytes "
          f"from Glance, {s['response_bytes_proxy']} bytes from glance-share.")
        w("")
        w(stats_rows([("Glance direct", s["direct"]), ("through glance-share", s["proxy"])]
                     + ([("through nginx, which only forwards", s["nginx"])] if "nginx" in s else [])))
        w("")
        if s.get("errors"):
            w(f"Calls that failed and are not in the figures: {len(s['errors'])} ({'; '.join(s['errors'][:3])}).")
            w("")
    cold = r.get("render", {}).get("members_call_cpu")
    if cold:
        w(f"**Its CPU, warm and after a wait** {warm_and_after_a_wait(cold)} Most of what a call costs "
          "after a wait is the wait's: the thread woken again, its code and data brought back into the caches "
          "that other processes (at the lab, Glance's) used meanwhile.")
        w("")
    w("**What it means.** The ratio is what a user of the dashboard pays over calling Glance themselves for the same "
      "data: session lookup, the Glance call from the server, parsing Glance's JSON into typed members and serialising "
      "them again. Glance's own time (policy checks, SQLite) dominates both columns; the difference of the medians is "
      "the dashboard's own cost per call. At p95 both columns are dominated by Glance's and the machine's variance, so "
      "the p95 ratio moves more from run to run than the p50 ratio.")
    w("")

    # 2
    ip, ls, lm = rd["image_page"], rd["list_1000"], rd["list_1000_mine"]
    cn = rd["canned"]
    w("## 2. Page render")
    w("")
    w("**Method.** A second server runs against a canned upstream (`bench/fake_upstream.py`): a Keystone + Glance on "
      "one port that answers from bytes prepared in advance, in "
      f"{cn['workers']} pre-forked asyncio processes. Its image and member list are "
      + ("the JSON recorded from the real lab Glance in benchmark 1 (the 128-member image)"
         if cn["recorded"] else "built-in bodies of the shapes recorded from the lab's Glance")
      + "; its image lists are 1000 images of the same shape. Keystone answers `GET /v3/projects/{id}` with 403, as the "
      "lab does for an ordinary member, so the image page asks for one project name and stops. One signed-in session "
      "requests the full server-rendered page (`GET` with `Accept: text/html`, as a browser's first visit), one request "
      "at a time, after a warm-up. CPU time per request is the server's `utime + stime` (`/proc/<pid>/stat`, all "
      "threads) over the timed requests divided by their number (10 ms clock ticks, so the figure is exact only to "
      "10 ms ÷ n). The upstream's CPU per request is shown apart: it is not glance-share's cost. Allocations are "
      "counted on a third server started with `BENCH_ALLOC_COUNTERS=<file>`: glance-share's global allocator "
      "(`src/allocator.rs`, jemalloc) then counts every allocation, free and realloc, and writes the counts to the "
      "file every 10 ms; the benchmark reads it with the server idle before and after the timed requests.")
    w("")
    rows = []
    pages = [("image page, 128 members", ip, f"{ip['members_shown']} of 128 members on the page")]
    if "image_page_small" in rd:
        pages.append(("image page, 2 members (the page's fixed cost)", rd["image_page_small"], "2 members"))
    for label, x, shown in (*pages,
                            ("All images, a name search over 1000 images", ls, f"{ls['rows_shown']} rows shown"),
                            ("My images, a name search over 1000 owned shared images", lm, f"{lm['rows_shown']} rows shown")):
        rows.append((label, x["latency_ms"]["n"], ms(x["latency_ms"]["p50"]), ms(x["latency_ms"]["p95"]),
                     ms(x["cpu_ms_per_request"]), ms(x["upstream_cpu_ms_per_request"]),
                     (f"{x['allocs_per_request']:,.0f}" + (f" (+{x['reallocs_per_request']:,.0f} reallocs)"
                                                           if "reallocs_per_request" in x else ""))
                     if "allocs_per_request" in x else "n/a",
                     kb(x.get("alloc_bytes_per_request")) if "alloc_bytes_per_request" in x else "n/a",
                     kb(x["html_bytes"]), shown))
    errs = sum(x["errors"] for x in (ip, ls, lm))
    if errs:
        w(f"Requests that failed or timed out (not in the latency figures): {errs}. See \"Incidents\" below.")
        w("")
    w(table(rows, ["page", "n", "p50", "p95", "server CPU / req", "upstream CPU / req", "allocations / req",
                   "bytes allocated / req", "HTML", "check"]))
    w("")
    rows = []
    for label, x in (("image page, 128 members", ip), ("image list, 1000 images", ls), ("My images, 1000 owned", lm)):
        calls = x.get("upstream_calls_per_request", {})
        rows.append((label, f"{sum(calls.values()):,.1f}",
                     ", ".join(f"{k} {v:,.1f}" for k, v in sorted(calls.items())) or "n/a"))
    for endpoint, x in rd.get("api_calls", {}).items():
        calls = x["calls"]
        rows.append((f"server function `{endpoint}` (one call, as after hydration)", f"{sum(calls.values()):,.1f}",
                     ", ".join(f"{k} {v:,.1f}" for k, v in sorted(calls.items())) or "none"))
    w("Upstream requests per page, as the canned upstream counted them over the timed requests:")
    w("")
    w(table(rows, ["request", "upstream requests", "by kind"]))
    w("")
    net = ip.get("net_allocs_per_request")
    w(f"Resident memory of the render server: {mb_kib(ip['rss_kb_before']):.1f} MB before the image-page requests, "
      f"{mb_kib(ip['rss_kb_after']):.1f} MB after; {mb_kib(ls['rss_kb_after']):.1f} MB after the 1000-image lists; "
      f"peak {mb_kib(rd['rss_kb_peak']):.1f} MB."
      + (f" New blocks minus frees per image-page request: {net:,.1f} (what a request leaves allocated on "
         "average, e.g. in the session store and connection pools; near 0 means no leak)." if net is not None else ""))
    w("")
    w("**What it means.** This is glance-share's own cost of a page, with the upstream answering from memory: the "
      "session lookup, the upstream calls' JSON parsing, the Leptos server render and the HTML. "
      + calls_text(ip, ls, r.get("load"))
      + " The lists read their images with `GET /v2/images?limit=1000` (a name search reads up to 1000 "
      "images, Glance matching whole names only) and show what matched a page at a time (50 rows, as without a "
      "search). \"My images\" counts the members of the owned shared images it shows, one Glance call each "
      f"({b['batch_concurrency']} at a time, the batch concurrency), and of no other: with 1000 such images "
      f"the page made {lm.get('upstream_calls_per_request', {}).get(MEMBER_LISTINGS, 0):,.0f} "
      "member-list calls (third row); against a real Glance each of those calls costs what benchmark 1 measured.")
    w("")
    small = rd.get("image_page_small")
    if small:
        per_member = (ip["cpu_ms_per_request"] - small["cpu_ms_per_request"]) / (128 - small["members"])
        w(f"**The image page taken apart.** With {small['members']} members the page took "
          f"{ms(small['cpu_ms_per_request'])} of CPU, with 128 {ms(ip['cpu_ms_per_request'])}: "
          f"{per_member * 1000:.1f} µs per member (its JSON read, its flags, its row: the rows are plain HTML written "
          "by `maud`, `src/ui/images/member_rows.rs`) on top of a fixed cost that is itself above the goal of "
          f"{GOAL_RENDER_CPU_MS:g} ms: the session, the three upstream calls (each made with reqwest, its response "
          "read as JSON), and Leptos' render of the page around the table (its resources, suspense boundaries "
          "and islands, and the page streamed through tachys and leptos_axum to hyper).")
        w("")

    # 3
    w("## 3. Against the CLI")
    w("")
    w(f"**Method.** The same image with {c['members']} members in the real lab. "
      f"`openstack image member list IMAGE` (python-openstackclient from the lab venv, the password in `OS_*` "
      f"environment variables) is run {c['cli_ms']['n']} times after one untimed run; each run is a "
      "new process that starts the interpreter, gets a token from Keystone and calls Glance. The glance-share side is "
      f"{c['page_ms']['n']} requests of the full server-rendered image page (`GET /images/{{id}}`, "
      f"{kb(c['page_bytes'])} of HTML with every member) in a session signed in beforehand. Median per view.")
    w("")
    w(stats_rows([("openstack image member list", c["cli_ms"]), ("glance-share image page", c["page_ms"])]))
    w("")
    up = c.get("upstream_ms", {})
    if up:
        rows = [(name, ms(x["p50"]), x["status"]) for name, x in up.items()]
        w("What the page waits for: the upstream calls it makes, timed directly with a token of the same user "
          "(median of 5 each). The first three run one after another (the image, then its members, then the "
          "first member's project name, which Keystone refuses an ordinary user); the header's pending-offers "
          "count is a separate resource of the page.")
        w("")
        w(table(rows, ["upstream call", "median", "status"]))
        w("")
        seq = sum(x["p50"] for name, x in up.items() if "pending" not in name)
        w(f"Sum of the sequential ones: {ms(seq)}, of the page's {ms(c['page_ms']['p50'])}.")
        w("")
    if c.get("page_errors"):
        w(f"Page requests that failed: {len(c['page_errors'])} ({'; '.join(c['page_errors'][:3])}).")
        w("")
    w(f"**What it means.** Looking at who an image is shared with takes {ms(c['page_ms']['p50'])} in the dashboard "
      f"and {ms(c['cli_ms']['p50'])} with the CLI: {times(c['ratio'])}. The CLI pays for a Python start-up, its "
      "plugin loading and a new token on every command; the dashboard keeps the token in the session and answers "
      "with the page already rendered. The page figure is the HTML only: a browser's first visit also loads the "
      "hydrate bundle (benchmark 6) once, and later pages reuse it.")
    w("")

    # 4
    w("## 4. Batch")
    w("")
    w(f"**Method.** {b['projects']} project IDs (random, Glance does not check them against Keystone) and three sets "
      "of fresh shared images in the real lab. (a) glance-share's batch feature, in the form's two steps: the plan "
      f"(`batch_plan`, `operation=share`, {b['images']} images, {b['projects']} projects: what the user reads before "
      "Run; not timed"
      + (f", it took {ms(b['batch_plan_ms'])}" if "batch_plan_ms" in b else "")
      + "), then Run: one `batch_start` with the same form, then `batch_status` polled every "
      f"{b.get('poll_ms', 50):.0f} ms until `finished`; wall time from the `batch_start` request to the first "
      "finished answer. The batch plans again first (the browser's plan is not trusted: it reads every image; "
      "the members only for a plan shown), then keeps "
      f"`GLANCE_SHARE_BATCH_CONCURRENCY` pairs in flight ({b['batch_concurrency']} here, the server's default; 20 against "
      "the canned upstream below), never two of one image (Glance's member quota check is not safe against "
      "concurrent adds), the next pair always from the idle image with the most pairs left. (b) The same {b['pairs']} pairs as direct "
      "`POST /v2/images/{id}/members` calls, one after another, with a token taken once: the fastest sequential "
      f"script. (c) `openstack image add project IMAGE PROJECT`, {b['cli_runs']} runs"
      + (f", extrapolated to {b['pairs']} by their mean." if b["cli_extrapolated"] else ".") + "")
    w("")
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(b["batch_outcomes"].items()))
    rows = [
        ("glance-share batch", secs(b["batch_s"]), ms(b["batch_s"] * 1000 / b["pairs"]), f"{b['batch_ok']} of {b['pairs']} ({outcomes})"),
        ("sequential add-member calls", secs(b["loop_s"]), ms(b["loop_call_ms"]), f"{b['loop_ok']} of {b['pairs']} answered 200"),
        ("`openstack image add project`", secs(b["cli_total_s"]) + (" (extrapolated)" if b["cli_extrapolated"] else ""),
         ms(b["cli_each_s"]["p50"] * 1000) + " (median run)", f"{b['cli_runs']} runs"),
    ]
    w(table(rows, ["", "wall time", "per pair", "outcome"]))
    w("")
    cap = b.get("capacity")
    if cap:
        w(f"**Glance's own capacity.** Direct `POST /v2/images/{{id}}/members` calls (a token taken once, each call to "
          f"a new project ID, at {len(cap['levels'])} levels of "
          f"concurrency, {next(iter(cap['levels'].values()))['calls']} calls each, after every Glance worker has "
          "validated the token once), from a pool of Python threads:")
        w("")
        rows = [(k, secs(x["s"]), f"{x['per_s']:.0f}", f"{x['ok']} of {x['calls']}"
                 + (" (" + ", ".join(f"{st}: {n}" for st, n in x["errors"].items()) + ")" if x["errors"] else ""))
                for k, x in cap["levels"].items()]
        w(table(rows, ["in flight", "wall time", "calls/s", "answered 200"]))
        w("")
        if "rounds" not in b:
            w(f"The best is {cap['best_per_s']:.0f} calls/s at {cap['best_in_flight']} in flight: Glance's capacity on "
              f"this machine, as the lab runs it ({uw_text(m)}). The batch shared {b['batch_ok']} pairs in "
              f"{secs(b['batch_s'])}, planning and polling included: {b['batch_per_s']:.0f} pairs/s, "
              f"**{b['ratio_capacity']:.0%}** of that capacity (goal ≥ {GOAL_CAPACITY:.0%}).")
        else:
            w(f"The best level is {cap['best_in_flight']} in flight ({cap['best_per_s']:.0f} calls/s in the sweep), "
              f"as the lab runs it ({uw_text(m)}). This Glance takes 15–30 % more or fewer calls a second from one "
              "minute to the next, so the batch is compared with direct calls at that level made in the same "
              f"minutes: {len(b['rounds'])} rounds, each a batch of {b['pairs']} fresh pairs and {next(iter(cap['levels'].values()))['calls']} direct "
              "calls, in turns (which goes first alternates):")
            w("")
            rows = [(str(i + 1), f"{x['direct_per_s']:.0f}", f"{x['batch_per_s']:.0f}", secs(x["batch_s"]),
                     f"{x['ratio']:.0%}") for i, x in enumerate(b["rounds"])]
            w(table(rows, ["round", f"direct calls/s at {cap['best_in_flight']} in flight", "batch pairs/s",
                           "batch wall time", "batch vs direct"]))
            w("")
            w(f"Medians: the batch {b['batch_per_s']:.0f} pairs/s (planning and polling included), direct calls "
              f"{b['direct_per_s']:.0f} calls/s: **{b['ratio_capacity']:.0%}** of Glance's capacity (goal ≥ "
              f"{GOAL_CAPACITY:.0%}); against the sweep's best alone it is {b['ratio_sweep']:.0%}. The figures "
              "below are the median round's.")
        w("")
    w(f"Ratios: batch vs sequential calls **{times(b['ratio_loop'])}**, batch vs the CLI **{times(b['ratio_cli'])}**. "
      f"The `batch_start` request itself (planning again: {b['images']} image reads) "
      f"answered after {ms(b['batch_start_ms'])}.")
    w("")
    w("**What it means.** The sequential loop's time per pair is Glance's add-member latency; the batch's time per "
      "pair shows how many of those calls overlap. The batch cannot be faster than Glance can take concurrent "
      "member writes, and it never runs more images at once than its concurrency setting, so against the fastest "
      "sequential script its speed-up is bounded by min(concurrency, Glance's parallel capacity): on 2 cores "
      "Glance's own CPU is the limit, which is why the goal compares the batch with Glance's measured capacity. "
      "Against the CLI, which pays a process start and a token per pair, the batch is the difference between "
      "minutes and seconds.")
    w("")
    bc = r.get("batch_canned")
    if bc:
        w(f"**The same against an upstream with room for every call.** The lab's Glance is bound by the machine's "
          f"2 cores, so (a) and (b) above measure Glance more than the batch. Here the canned upstream (benchmark 2) "
          f"answers every add-member call after {bc['write_delay_ms']:g} ms (the lab's time per call, rounded) and "
          f"lets calls overlap, as a Glance with several API workers does. {bc['pairs']} pairs: batch "
          f"{secs(bc['batch_s'])} ({bc['batch_ok']} done), sequential calls {secs(bc['loop_s'])} "
          f"({bc['loop_ok']} answered 200): **{times(bc['ratio_loop'])}**. The batch keeps up to "
          f"{bc['batch_concurrency']} pairs in flight, never two of one image, so its ceiling "
          f"here is about min(images, concurrency) = {min(bc['batch_concurrency'], bc['images'])}×, less its planning "
          f"and up to one poll interval ({bc['poll_ms']:.0f} ms).")
        w("")

    # 5
    w("## 5. Load")
    w("")
    w(f"**Method.** A fresh server against the canned upstream; {ld['sessions']} sessions signed in (each its own "
      f"Keystone token) and each used once. Then `wrk -t{ld['wrk_threads']} -c{ld['connections']} -d{ld['seconds']}s "
      "--timeout 10s --latency` requests the 128-member image page (full SSR HTML) with a Lua script "
      "(`bench/sessions.lua`) that gives every request the next of the session cookies; any answer but 200 counts as "
      "an error (a redirect to sign-in would mean a lost session), and so do wrk's socket errors. Peak RSS is the "
      "larger of the server's `VmHWM` after the run (since start: start-up, sign-ins and load) and its `VmRSS` "
      "sampled every 0.2 s during the load (the kernel updates `VmHWM` lazily).")
    w("")
    se = ld["socket_errors"]
    rows = [
        ("requests", f"{ld['requests']:,} in {ld['seconds']} s"),
        ("requests per second", f"{ld['rps']:.0f}"),
        ("latency p50 / p90 / p99 / max", f"{ms(ld['p50_ms'])} / {ms(ld['p90_ms'])} / {ms(ld['p99_ms'])} / {ms(ld['max_ms'])}"),
        ("errors", f"{ld['errors']} (non-200: {ld['non200']}{' ' + ld['statuses'] if ld['statuses'] else ''}; "
                   f"socket connect {se['connect']}, read {se['read']}, write {se['write']}, timeout {se['timeout']})"),
        ("server peak RSS (larger of VmHWM and the samples)", f"{mb_kib(ld['rss_kb_peak']):.1f} MB"
         + (f" (VmHWM {mb_kib(ld['rss_kb_hwm']):.1f} MB)" if "rss_kb_hwm" in ld else "")),
        ("server RSS after the sign-ins, before the load", f"{mb_kib(ld['rss_kb_signed_in']):.1f} MB"),
        ("server RSS, highest 0.2 s sample during the load",
         f"{mb_kib(ld['rss_kb_max_sampled']):.1f} MB" if ld["rss_kb_max_sampled"] else "n/a"),
        ("upstream requests per second (canned upstream)",
         f"{ld.get('upstream_calls_per_s', 0):,.0f}, i.e. {ld.get('upstream_calls_per_s', 0) / max(ld['rps'], 1e-9):.1f} per page"),
        ("server CPU by thread", ", ".join(f"{k} {v:.0f} %" for k, v in
                                          sorted(ld.get("server_threads_cpu_pct", {}).items(), key=lambda kv: -kv[1])
                                          if v >= 1) or "n/a"),
        ("CPU during the load: server / canned upstream / wrk / whole machine",
         f"{ld['server_cpu_pct']:.0f} % / {ld['upstream_cpu_pct']:.0f} % / {ld['wrk_cpu_pct']:.0f} % / "
         f"{ld.get('machine_busy_pct', float('nan')):.0f} % "
         f"(% of one core; {m['nproc']} cores = {int(m['nproc']) * 100} %)"),
    ]
    w(table(rows, ["", ""]))
    w("")
    w("**What it means.** Requests per second is how many full member pages the dashboard renders per second on this "
      "machine while also hosting the load generator and the upstream; with 200 connections always waiting, latency "
      "is mostly queueing (Little's law: connections ÷ throughput), so p99 says how evenly the server shares itself "
      "between sessions rather than how fast one page is (benchmark 2). The CPU split shows who the bottleneck was: "
      + load_bottleneck(ld, m) + ".")
    w("")
    w("<details><summary>wrk output</summary>")
    w("")
    w("```")
    w(ld["wrk_output"])
    w("```")
    w("")
    w("</details>")
    w("")

    # 6
    f = bu["files"]
    w("## 6. The hydrate bundle")
    w("")
    w(f"**Method.** The files of the site directory (`{m['site']}/pkg`), compressed with Python's gzip at level 9 and "
      "with `brotli -q 11`, as a server or CDN would serve them. The goal counts wasm + js.")
    w("")
    rows = []
    for kind in ("wasm", "js", "css"):
        if kind in f:
            x = f[kind]
            rows.append((f"`{x['file'].rsplit('/', 1)[-1]}`", kb(x["raw"]), kb(x["gzip"]), kb(x["brotli"]), x["mtime"]))
    t = bu["total"]
    rows.append(("**wasm + js**", kb(t["raw"]), kb(t["gzip"]), kb(t["brotli"]), ""))
    w(table(rows, ["file", "raw", "gzip -9", "brotli -q 11", "modified"]))
    w("")
    sec = f["wasm"].get("sections", {})
    if sec:
        big = sorted(sec.items(), key=lambda kv: -kv[1])
        w("Sections of the wasm module (raw bytes, those over 1 kB): "
          + ", ".join(f"{k} {kb(v)}" for k, v in big if v >= 1000) + ".")
        w("")
    code_share = sec.get("code", 0) / f["wasm"]["raw"] * 100 if sec else None
    w("**What it means.** This is what a browser downloads once, when idle, for the islands (the copy buttons): "
      "pages are rendered by the server and work without it, and links and forms work before it arrives "
      "(`src/ui/navigation.js` is inline in every page). Gzip is what most servers send; brotli what a CDN can."
      + (f" The code section is {code_share:.0f} % of the module: the size is compiled Rust (the islands runtime, "
         "the browser bindings and the islands) rather than data or debug names." if code_share else ""))
    w("")
    w("Where the size of the fully hydrated bundle went, and why islands: [bundle-size.md](bundle-size.md) "
      "(a one-off analysis, not measured by this run).")
    w("")

    # 7
    if "directory" in r:
        docs_directory(r["directory"], w)
    # 8
    if "review" in r:
        docs_review(r["review"], w)
    # 9
    docs_tti(r.get("tti"), w, r.get("phase", {}).get("tti"), r.get("machine", {}))
    w("## Incidents")
    w("")
    inc = r.get("incidents", [])
    if not inc:
        w("The servers logged no panic and no error during this run.")
    else:
        w(f"The servers (run with `RUST_LOG=warn`) logged {len(inc)} panic or error line(s) during this run:")
        w("")
        w("```")
        for x in inc[:20]:
            w(f"[{x['server']}] {x['line']}")
        w("```")
        if any("reactive_graph" in x["line"] for x in inc):
            w("")
            w("These are panics inside Leptos' reactive system (`reactive_graph`) on a tokio worker: a task of the "
              "render ran after what it needed was gone (\"expected context … to be present\": the request's "
              "context; \"already been disposed\": a reactive value of a finished render). A panic ends only that "
              "task; when the response was waiting for it, the request never completes, which the benchmark counts "
              "as a timed-out request. This suggests resource tasks outliving their render, which fits the repeated "
              "server-function runs that benchmark 2 counts. It is intermittent: a page requested a few hundred "
              "times in a row, alternating the image page and the image list, shows it within minutes.")
    w("")
    w("## Caveats")
    w("")
    w("- One run on a shared 2-core VM. Ratios within a run are meaningful; absolute times move with load.")
    w("- The canned upstream is Python: under load it competes with the dashboard for the same two cores (see the CPU "
      "split in benchmark 5), so benchmark 5's throughput is a lower bound for the dashboard alone.")
    w(f"- The lab's Glance is uWSGI with {uw_text(m)}, as production runs it, but on the same 2 cores as "
      "everything else: benchmarks 1, 3 and 4 measure against a Glance whose CPU is shared with the dashboard, the "
      "driver and Keystone; a production Glance on its own machines answers faster and takes more concurrent "
      "writes, which makes the ratio of benchmark 1 stricter and lets the batch of benchmark 4 gain more.")
    w("- CPU time per request has 10 ms resolution over the whole measured interval (it is divided by the number of "
      "requests).")
    w("")
    return "\n".join(L) + "\n"


def docs_directory(x, w):
    """Benchmark 7's section of docs/benchmarks.md."""
    n = x["members"]
    w("## 7. Project names from the directory")
    w("")
    w("**Method.** Issue 14: with an operator's directory reader (`GLANCE_SHARE_DIRECTORY_USER`, a Keystone user "
      "with `reader` at system scope; its password in a file of mode 0600), the server names every project for every "
      "user, from a cache of ID → name shared by all sessions (here in the process; in Redis when sessions are "
      "there). The canned upstream of benchmark 2 answers the reader: a system-scoped password sign-in, "
      "`GET /v3/projects/{id}` for the image's owner and members, `GET /v3/domains/{id}`; an ordinary user's token "
      "still gets 403 on `/v3/projects/{id}`, and it counts every Keystone request by kind. A server with the "
      f"directory settings is started fresh, the ordinary user signs in, and the {n}-member image page is loaded "
      f"once (cold), then {x['warm_loads']} times (warm), counting the Keystone requests of each. Then the same page "
      "from that server and from a second server without a directory, in pairs in random order "
      f"({x['paired_directory_ms']['n']} each), for the time. Each page is checked for the members' names (the text "
      "of their project labels), so a page that asked Keystone nothing because it named nothing would not pass.")
    w("")
    def ks(calls):
        return ", ".join(f"{k.removeprefix('keystone ')} {count(v)}" for k, v in sorted(calls.items())) or "none"

    rows = [
        ("server start", ks(x["keystone_at_start"]), "–"),
        ("the ordinary user signs in", ks(x["keystone_sign_in"]), "–"),
        ("cold page (first view)", ks(x["cold_keystone"]), f"{x['cold_names_shown']} of {n}"),
        (f"warm page, per load ({x['warm_loads']} loads)", ks(x["warm_keystone_per_load"]),
         f"{x['warm_names_shown']} of {n}"),
        ("with and without a directory, per load (pairs)", ks(x["paired_keystone_per_load"]), "–"),
        ("the same page without a directory", "–", f"{x['plain_names_shown']} of {n}"),
    ]
    w(table(rows, ["", "Keystone requests", "members named on the page"]))
    w("")
    w(stats_rows([("warm, with the directory", x["paired_directory_ms"]),
                  ("the same page without a directory", x["paired_plain_ms"])]))
    w("")
    w(f"Cold page: {ms(x['cold_ms'])}, {kb(x['warm_html_bytes'])} of HTML warm with names "
      f"({kb(x['plain_html_bytes'])} without). The directory's password appeared in the server's log: "
      f"{'**yes**' if x['secret_in_log'] else 'no'}; in the page: {'**yes**' if x['secret_in_page'] else 'no'}."
      + (f" Page loads that failed: {x['errors']}." if x["errors"] else ""))
    w("")
    expected = 1 + x["page_projects"] + 1
    got = x["cold_sign_ins"] + x["cold_project_lookups"] + x["cold_domain_lookups"]
    w(f"**What it means.** The first view after a start costs the reader one sign-in, one lookup per project the "
      f"page names ({x['page_projects']}: the owner and {n} members) and one per domain: {expected} Keystone "
      f"requests expected, {count(got)} made. After that the names come from the cache for every session until "
      f"the TTL (`GLANCE_SHARE_DIRECTORY_TTL_SECONDS`, 900 s by default): "
      f"{count(x['warm_keystone_total_per_load'])} Keystone requests per warm load, "
      f"{count(x['warm_keystone_per_member'])} per member (goal: {GOAL_DIRECTORY_WARM}) "
      f"{'— met' if directory_met(x) else '— missed'}. The warm page with names took {times(x['ratio_p50'])} the "
      f"time of the page that shows bare IDs ({ms(x['paired_directory_ms']['p50'])} vs "
      f"{ms(x['paired_plain_ms']['p50'])} at the median, measured in pairs): the cache lookups, the domain names "
      "and the larger HTML, with no upstream request.")
    w("")


def uw_text(m):
    uw = m.get("lab_uwsgi")
    if not uw:
        return "processes and threads as lab/lab.sh sets them"
    p, t = uw["processes"], uw["threads"]
    db = f" on {uw['database']}" if uw.get("database") else ""
    return f"{p} process{'es' if p != 1 else ''} × {t} thread{'s' if t != 1 else ''}{db}"


def load_bottleneck(ld, m):
    cores = int(m.get("nproc", 2)) * 100
    ours = ld["server_cpu_pct"] + ld["upstream_cpu_pct"] + ld["wrk_cpu_pct"]
    busy = ld.get("machine_busy_pct")
    text = f"the server, the canned upstream and wrk used {ours:.0f} % of the {cores} % the machine has"
    if busy is not None:
        text += f", and the whole machine was {busy:.0f} % busy (other processes: {max(0.0, busy - ours):.0f} %)"
    workers = sorted((v for k, v in ld.get("server_threads_cpu_pct", {}).items() if k.startswith("tokio")),
                     reverse=True)
    if busy is not None and busy < cores * 0.85:
        text += (f". The machine was not saturated, yet the server used only {ld['server_cpu_pct']:.0f} % "
                 "while 200 requests waited")
        if workers:
            text += (" (its tokio workers: " + ", ".join(f"{v:.0f} %" for v in workers) + ")")
        text += (": something other than CPU paces the renders. Candidates to profile: a lock held across "
                 "awaits (the session store), the upstream connection pool, or render work confined to one thread")
    elif busy is not None:
        text += ("; the machine was saturated, so the throughput is bounded by sharing the cores among the server, "
                 "the upstream, wrk and the other processes")
    return text


def repeats(x):
    """How many times each upstream request of a page was made, if every kind was made equally often."""
    calls = x.get("upstream_calls_per_request", {})
    counts = {round(v, 1) for v in calls.values()}
    return counts.pop() if len(counts) == 1 else None


def calls_text(ip, ls, ld=None):
    n_ip = sum(ip.get("upstream_calls_per_request", {}).values())
    kinds = len(ip.get("upstream_calls_per_request", {}))
    rep = repeats(ip)
    text = (f"The image page makes {n_ip:.1f} upstream requests per view, of {kinds} kinds (the image, its "
            "members, the first member's project name, the header's pending-offers count)")
    if rep and rep > 1:
        rep_ls = repeats(ls)
        per_page_load = ld["upstream_calls_per_s"] / ld["rps"] if ld and ld.get("rps") else None
        text += (f": **each one {rep:g} times**. Every server function of the page runs {rep:g} times during one "
                 "server render" + (f" (the image list's too: {rep_ls:g}×)" if rep_ls else "")
                 + f", so a page pays for its upstream calls {rep:g} times over, while the same server functions "
                 "called directly make each call once (last two rows).")
        if per_page_load:
            text += (f" How often they repeat depends on timing: under load (benchmark 5) a page made "
                     f"{per_page_load:.1f} upstream requests on average.")
        text += (" This is the first thing to fix: one run per resource cuts the upstream work, and most of a "
                 "page's latency against a real Glance, by the same factor.")
    else:
        text += "."
    return text


def render_met(rd):
    return rd["image_page"]["cpu_ms_per_request"] <= GOAL_RENDER_CPU_MS and rd["image_page"]["errors"] == 0


def warm_and_after_a_wait(cold):
    """Benchmark 2's `members` call CPU, back to back and paced at Glance's median, in words."""
    return (f"(benchmark 2, canned upstream, an image with 2 members): the dashboard's CPU per `members` call is "
            f"{ms(cold['back_to_back_ms'])} made back to back and {ms(cold['paced_ms'])} made once every "
            f"{ms(cold['pace_ms'])} (Glance's median in benchmark 1), "
            f"{times(cold['paced_ms'] / cold['back_to_back_ms'])} for the same work.")


def batch_direct_per_s(b):
    """The direct calls a batch is compared with: the median of its rounds (a run before the rounds:
    the sweep's best)."""
    return b.get("direct_per_s", b["capacity"]["best_per_s"])


def overhead_parts(s, cold=None):
    """What the dashboard adds per call, taken apart from the run's own figures; `cold`: the
    members call's CPU warm and after a wait (benchmark 2), when it ran."""
    if "hop" not in s:
        return ("To profile: run the server with `RUST_LOG=info,tower_http=debug` (its request log then carries "
                "each request's latency) and compare the `members` calls with Glance's uWSGI log of the same calls.")
    text = (f"Taken apart: the dashboard's own CPU per call is {ms(s['dashboard_cpu_ms_per_call'])} (session, the "
            f"Glance call made from the server, the JSON read and written again), and a round trip to it that does "
            f"nothing (`GET /healthz` on the same kept-alive connection) takes {ms(s['hop']['p50'])} at the median "
            f"and {ms(s['hop']['p95'])} at p95: together {ms(s['dashboard_cpu_ms_per_call'] + s['hop']['p50'])}, "
            f"where {ms(s['added_p50_ms'])} was added at the median. "
            + ("They can exceed what is added because the direct column pays work the dashboard's column does not: "
               "the Python client's own side of each new connection to Glance (Glance closes every connection), which "
               "in the dashboard's column the server does instead, inside its own CPU figure. "
               if s["dashboard_cpu_ms_per_call"] + s["hop"]["p50"] > s["added_p50_ms"] else ""))
    if "nginx_added_p50_ms" in s:
        hop = s["nginx_added_p50_ms"]
        own = s["added_p50_ms"] - hop
        text += (f"A proxy that only forwards (nginx, the same calls, interleaved) added {ms(hop)} at the median: "
                 f"that is the hop itself. The other {ms(own)} of what glance-share adds is its own work per call "
                 "(the HTTP handling, the session, the server function, its own connection to Glance, the JSON "
                 "read and written again), done with cold caches: between two calls the dashboard waits on Glance "
                 "while Glance's processes run, so each call starts on caches that hold their code, not its own. ")
    if cold:
        text += f"Measured {warm_and_after_a_wait(cold)} "
    lo_hi = s.get("ratio_p95_interval")
    if lo_hi:
        text += (f"The p95 ratio of {s['proxy']['n']} calls a side is known only to within "
                 f"{times(lo_hi[0])}–{times(lo_hi[1])} (90 % of 1000 bootstrap resamples of this run's calls).")
    return text


def why(name, r):
    """A reasoned explanation of a missed goal, from the run's own figures."""
    if name.startswith("proxy overhead"):
        n = name.split(",")[1].strip().split()[0]
        s_ = r["overhead"]["sizes"][n]
        which = "p95" if "p95" in name else "p50"
        added = s_["proxy"][which] - s_["direct"][which]
        budget = s_["direct"][which] * (GOAL_OVERHEAD - 1)
        return (f"At {which} glance-share took {ms(s_['proxy'][which])} against Glance's {ms(s_['direct'][which])}: "
                f"{ms(added)} more, where the {GOAL_OVERHEAD - 1:.0%} budget is {ms(budget)}. "
                + ("The smaller Glance's own time, the smaller that budget: the dashboard's fixed cost per call (one "
                   "more HTTP hop on loopback, the session lookup, Glance's JSON parsed and serialised again) is "
                   "what is left over. " if which == "p50" else
                   "At p95 the difference mixes the dashboard's cost with both columns' tails on a shared machine; "
                   "a repeat run tells a real cost from noise. ")
                + overhead_parts(s_, r.get("render", {}).get("members_call_cpu")))
    if name.startswith("member page"):
        c = r["cli"]
        up = c.get("upstream_ms", {})
        seq = sum(x["p50"] for n, x in up.items() if "pending" not in n)
        ip = r.get("render", {}).get("image_page", {})
        own = ip.get("latency_ms", {}).get("p50")
        rep = repeats(ip)
        text = f"The page took {ms(c['page_ms']['p50'])} and the CLI {ms(c['cli_ms']['p50'])}."
        if seq:
            text += (f" One view needs three upstream calls, {ms(seq)} together when called one after another "
                     f"directly (table in benchmark 3), and the dashboard's own work on the page is "
                     f"{ms(own)} (benchmark 2, instant upstream).")
            if rep and rep > 1:
                text += (f" But the page makes every upstream call {rep:g} times (benchmark 2 counted them), so it "
                         f"waits for up to {rep:g} × {ms(seq)} = {ms(rep * seq)} of upstream time: that is where "
                         f"the page's time goes. With each call made once the page would take about "
                         f"{ms(seq + (own or 0))}, {c['cli_ms']['p50'] / (seq + (own or 0)):.0f}× faster than the CLI.")
            else:
                text += (f" Even a dashboard costing nothing would reach only about {c['cli_ms']['p50'] / seq:.0f}× "
                         "here: the time is upstream latency of the lab.")
            text += (" The page already reads the image and its members at once and remembers in the session "
                     "that Keystone refused project lookups; what is left is the lab's latency per call.")
        return text
    if name.startswith("batch ≥") and "capacity" in name:
        b = r["batch"]
        cap, conc = b["capacity"], b["batch_concurrency"]
        return (f"The batch shared {b['batch_per_s']:.0f} pairs/s where direct calls reached "
                f"{batch_direct_per_s(b):.0f}/s "
                f"at {cap['best_in_flight']} in flight. It keeps up to {conc} pairs in flight, never two of one image "
                f"(with {b['images']} images that is never short of work until the last pairs); its planning took {ms(b['batch_start_ms'])} of its {secs(b['batch_s'])}, and it "
                f"learns that it finished up to one poll interval ({b.get('poll_ms', 50):.0f} ms) late. The dashboard "
                "itself shares the 2 cores with Glance, which the direct calls do not pay for.")
    if name.startswith("server CPU"):
        rd = r["render"]
        ip, small = rd["image_page"], rd.get("image_page_small")
        text = f"The image page with 128 members took {ms(ip['cpu_ms_per_request'])} of server CPU per request."
        if small:
            per = (ip["cpu_ms_per_request"] - small["cpu_ms_per_request"]) / (128 - small["members"])
            text += (f" The same page of an image with {small['members']} members took "
                     f"{ms(small['cpu_ms_per_request'])}: the page's fixed cost alone (the session, its "
                     f"{sum(small['upstream_calls_per_request'].values()):g} upstream calls, Leptos' render of the "
                     f"page around the table) is {small['cpu_ms_per_request'] / GOAL_RENDER_CPU_MS:.1f}× the goal, "
                     f"and each further member costs {per * 1000:.1f} µs (its JSON read, its flags, its row).")
        return text
    if name.startswith("batch"):
        bc = r["batch_canned"]
        return (f"Against the canned upstream ({bc['write_delay_ms']:g} ms per add-member call, calls overlap) the "
                f"batch ran {times(bc['ratio_loop'])} faster than the sequential loop; its ceiling there is "
                f"min(images, concurrency) = {min(bc['batch_concurrency'], bc['images'])}×, less its planning and one "
                "poll interval.")
    if name.startswith("0 errors"):
        ld = r["load"]
        return (f"non-200 answers {ld['non200']} ({ld['statuses'] or 'none'}), socket errors {ld['socket_errors']}. "
                "Timeouts or resets point at the server's or the upstream's connection handling under 200 connections; "
                "3xx answers at lost sessions (session store).")
    if name.startswith("peak RSS"):
        ld = r["load"]
        ip = r.get("render", {}).get("image_page", {})
        grow = mb_kib(ld["rss_kb_peak"]) - mb_kib(ld["rss_kb_signed_in"])
        text = (f"RSS was {mb_kib(ld['rss_kb_signed_in']):.1f} MB with {ld['sessions']} sessions signed in and idle, "
                f"and peaked at {mb_kib(ld['rss_kb_peak']):.1f} MB under load: the load added {grow:.1f} MB, about "
                f"{grow * 1000 / ld['connections']:.0f} kB per connection. wrk keeps all {ld['connections']} requests "
                "in flight at once, and every page is rendered whole before its first byte (`SsrMode::Async`), so "
                "each in-flight request holds its upstream bodies, parsed data and its page until it is sent")
        if "alloc_bytes_per_request" in ip:
            text += (f" (benchmark 2: one 128-member page allocates {kb(ip['alloc_bytes_per_request'])} in "
                     f"{ip['allocs_per_request']:,.0f} allocations for {kb(ip['html_bytes'])} of HTML)")
        text += (". What would bring it down: fewer and smaller intermediate allocations in the render, a bound on "
                 "concurrent renders (excess requests wait in the accept queue instead of in memory), and fewer "
                 "jemalloc arenas (`MALLOC_CONF=narenas:2`; it keeps freed memory per arena for a while).")
        return text
    if "Keystone calls per member once warm" in name:
        x = r["directory"]
        text = (f"Warm loads made {count(x['warm_keystone_total_per_load'])} Keystone requests each "
                f"({', '.join(f'{k} {count(v)}' for k, v in sorted(x['warm_keystone_per_load'].items())) or 'none'}) "
                f"and showed {x['warm_names_shown']} of {x['members']} names.")
        if x["warm_names_shown"] < x["members"]:
            text += (" Names missing from the page mean the directory did not answer (see the server's log: a "
                     "reader that cannot sign in waits 30 s before trying again) or the page does not show them.")
        if x["warm_keystone_total_per_load"] > 0:
            text += (" Requests on warm loads mean the cache is not used or not kept: project lookups point at the "
                     "cache (its TTL, its key), sign-ins at the reader's token not being kept.")
        if x["errors"]:
            text += f" {x['errors']} page loads failed."
        return text
    if name.startswith("access review"):
        rv = r["review"]
        key = "page" if "the page" in name else "export"
        x = rv[key]
        by_kind = ", ".join(f"{k} {count(v)}" for k, v in sorted(x["calls_per_view"].items()) if k.startswith("glance"))
        text = f"Glance requests per view, by kind: {by_kind or 'none'}."
        if not same(x["listing_pages_per_view"], rv["expected_pages_total"]):
            text += (f" The listings took {count(x['listing_pages_per_view'])} pages where Glance's paging needs "
                     f"{rv['expected_pages_total']} ({rv['expected_pages']['visible']} for the "
                     f"{rv['images'] - rv['hidden']} listed images, {rv['expected_pages']['hidden']} for the "
                     f"{rv['hidden']} hidden ones, at {min(rv['page_size'], rv['limit_max'])} a page): more pages mean "
                     "a listing asked again or a marker not followed.")
        if not same(x["member_listings_per_view"], rv["images"]):
            text += (f" {count(x['member_listings_per_view'])} member listings for {rv['images']} images: "
                     + ("some images' members were read more than once (a listing's images counted twice, or the "
                        "review computed more than once per view)" if x["member_listings_per_view"] > rv["images"]
                        else "some images' members were not read"))
            text += "."
        if x["other_glance_per_view"] > 1e-9:
            text += (f" {count(x['other_glance_per_view'])} Glance requests per view are neither listing pages nor "
                     "member listings.")
        if x["glance_per_view"] - x["not_review_per_view"] > rv["expected_glance"] and key == "page":
            text += (" If every kind is a whole multiple of the export's, the page runs the review's server "
                     "function more than once per render (see benchmark 2 on repeated server functions).")
        if not review_complete(rv, key):
            text += " The view did not show the whole review (see the figures in benchmark 8)."
        if x["errors"]:
            text += f" {x['errors']} views failed."
        return text
    if name.startswith("time to interactive"):
        x = r["tti"]
        text = []
        for label in ("before", "after"):
            why_ = tti_missing(x, label)
            if why_:
                text.append(why_.replace("before: not built, run bench/build-before",
                                         "the build before the islands was not there: run `bench/build-before` "
                                         "once (it builds 0817ab3 outside the repository), then `bench/run`"))
            for rate in x["rates"]:
                c = tti_cell(x, label, rate)
                if c and c["failed"]:
                    text.append(f"{label}, {rate}× CPU: {c['failed']} of {c['runs']} visits did not become "
                                f"interactive within the timeout" + (f" (page errors: {'; '.join(c['page_errors'])})"
                                                                      if c["page_errors"] else ""))
        return "; ".join(text) + "."
    if name.startswith("hydrate bundle"):
        bu = r["bundle"]
        sec = bu["files"]["wasm"].get("sections", {})
        code = sec.get("code")
        return (f"The wasm module alone is {kb(bu['files']['wasm']['gzip'])} gzipped"
                + (f"; its code section is {kb(code)} of {kb(bu['files']['wasm']['raw'])} raw" if code else "")
                + ". The module has no name or debug sections left, so it is already stripped and the size is "
                "compiled code. Done so far: `opt-level = \"z\"`, fat LTO, one codegen unit, `panic = \"abort\"`, "
                "`wasm-opt -Oz`, and Leptos' `erase_components` (type-erased views: 653 kB -> 495 kB gzipped). "
                "What is left needs tools this machine's stable Rust 1.95 lacks or a different app shape: "
                "`-Zlocation-detail=none` and `build-std` with `panic_immediate_abort` are nightly-only; code "
                "splitting per route (Leptos' lazy routes) needs cargo-leptos' wasm-split step; islands would "
                "ship no code for the static parts of a page but change how every interactive part is written."
                + (f" Served with brotli the bundle is {kb(bu['total']['brotli'])}." if bu["total"].get("brotli") else ""))
    return ""


def docs_review(rv, w):
    """Benchmark 8's section of docs/benchmarks.md."""
    w("## 8. The access review")
    w("")
    vis = rv["images"] - rv["hidden"]
    per = min(rv["page_size"], rv["limit_max"])
    w("**Method.** Issue 15: the review of everything a project shares reads the project's shared images with "
      f"`GET /v2/images?owner=…&visibility=shared&limit={rv['page_size']}` page after page (Glance's `next` link), "
      "then the same with `os_hidden=true` (Glance lists images hidden from lists only when asked), then one "
      f"`GET /v2/images/{{id}}/members` per shared image ({rv['concurrency']} at a time, "
      "`GLANCE_SHARE_BATCH_CONCURRENCY` as set for the benchmarks), then the project names once. The canned "
      f"upstream of benchmark 2 serves {rv['images']} shared images owned by the signed-in project, {rv['hidden']} of "
      f"them hidden from lists, each with {rv['members']} members drawn from {rv['consumers']} consumer projects "
      "(mostly accepted, some pending, some of those for weeks, some rejected). Its listing honours `owner`, "
      f"`visibility`, `os_hidden`, `limit` (at most {rv['limit_max']}, Glance's default `api_limit_max`) and "
      "`marker`, and links every full page to a next one as Glance does, even when nothing follows; it counts "
      "every request by kind. Keystone answers the ordinary user's project lookups with 403, as the lab's does. "
      "A fresh server; one signed-in session requests `/access/export.json`, another the server-rendered page "
      f"`/access`: each session's first view, one untimed view, then {rv['export']['views']} timed views one at a "
      "time. Upstream requests and server CPU (`utime + stime` of the process, 10 ms ticks, over the timed views) "
      "are divided by the number of views. Each view is checked whole: the export's memberships, images and hidden "
      "images, the page's own count of images and memberships.")
    w("")
    w(f"**Expected upstream requests.** {vis} listed images at {per} a page take "
      f"{rv['expected_pages']['visible']} listing page{'s' if rv['expected_pages']['visible'] != 1 else ''}, the "
      f"{rv['hidden']} hidden ones {rv['expected_pages']['hidden']} (a full page always costs one more, empty, "
      f"page): {rv['expected_pages_total']} listing pages + {rv['images']} member listings = "
      f"**{rv['expected_glance']} Glance requests per view**.")
    w("")
    rows = []
    for key, what in REVIEW_VIEWS:
        if key not in rv:
            continue
        x = rv[key]
        rows.append((what, x["ms"]["n"], ms(x["ms"]["p50"]), ms(x["ms"]["p95"]), ms(x["server_cpu_ms_per_view"]),
                     ms(x["upstream_cpu_ms_per_view"]),
                     f"{count(x['listing_visible_per_view'])} + {count(x['listing_hidden_per_view'])} hidden",
                     count(x["member_listings_per_view"]),
                     count(x["glance_per_view"] - x["listing_pages_per_view"] - x["member_listings_per_view"]),
                     count(x["keystone_per_view"]), kb(x["bytes"]), mark(review_met(rv, key))))
    w(table(rows, ["view", "n", "p50", "p95", "server CPU / view", "upstream CPU / view", "listing pages",
                   "member listings", "other Glance", "Keystone", "size", "calls = pages + images"]))
    w("")
    rows = []
    for key, what in REVIEW_VIEWS:
        if key not in rv:
            continue
        x = rv[key]
        rows.append((what, ms(x["first_ms"]),
                     ", ".join(f"{k} {count(v)}" for k, v in sorted(x["first_calls"].items())) or "none",
                     ", ".join(f"{k} {count(v)}" for k, v in sorted(x["calls_per_view"].items())) or "none"))
    w(table(rows, ["view", "first view of the session", "its upstream requests", "upstream requests per timed view"]))
    w("")
    e, p = rv.get("export"), rv.get("page")
    checks = []
    if e:
        checks.append(f"the export listed {e['memberships_listed']} of {rv['memberships']} memberships of "
                      f"{e['images_listed']} images ({e['hidden_listed']} hidden), {e['unread_images']} unread")
    if p:
        checks.append(f"the page says {p['images_said']} images and {p['memberships_said']} memberships and shows "
                      f"{p['images_shown']} of the image IDs")
    w("Checks: " + "; ".join(checks) + f". Server peak RSS {mb_kib(rv['rss_kb_peak']):.1f} MB.")
    w("")
    met = [what for key, what in REVIEW_VIEWS if key in rv and review_met(rv, key)]
    w("**What it means.** The review's cost in Glance requests is fixed by the estate: listing pages plus one "
      "member listing per shared image, whoever looks and however often"
      + (f"; measured so for {' and '.join(met)}" if met else "; **not so in this run** (see \"Goals missed\")")
      + ". Against the canned upstream, which answers at once, the wall time is the dashboard's own work (parsing "
      f"{rv['images']} member lists, the names lookup, the JSON or the HTML of {rv['memberships']} memberships) and the "
      "Python upstream's; against a real Glance the member listings dominate: about "
      f"{rv['images']} ÷ {rv['concurrency']} rounds of one member-list call each (benchmark 1 measures one), after the "
      "listing pages, which run one after another. Keystone is asked for the project names once per session: an "
      "ordinary user is refused (403) and the session remembers it, so later views ask nothing; with a directory "
      "reader (benchmark 7) the names come from its cache.")
    w("")


def docs_tti(x, w, phase=None, m=None):
    """Benchmark 9's section of docs/benchmarks.md."""
    w("## 9. Time to interactive")
    w("")
    if not x:
        w("Not measured in this run (`bench/run --only 9`; the build before the islands comes from "
          "`bench/build-before`).")
        w("")
        return
    before = x["builds"].get("before", {})
    rates = " and ".join("unthrottled" if k == 1 else f"at {k}× CPU throttling" for k in x["rates"])
    w("**Method.** Issue 17 item 2: how long after navigation start the image page with "
      f"{x['members']} members answers a click, in Chromium ({x.get('chromium') or 'version n/a'}, headless, "
      "driven by Playwright from `end2end/node_modules`; `bench/tti.cjs`), " + rates + ". Two builds serve the "
      "same page from the same canned upstream (benchmark 2's, the same signed-in user): this build "
      f"(`{x['builds']['after']['bin']}`, islands: the page is server-rendered and the loader fetches the bundle "
      "when the browser is idle) and the build before the islands ("
      + (f"commit {before['commit']}, `{before['bin']}`, built by `bench/build-before`: the whole UI hydrated"
         if "missing" not in before else "commit 0817ab3, fully hydrated: **not built**, run `bench/build-before`")
      + "). Every visit is a first visit: a fresh browser context (empty cache, the session cookie only), the "
      "CPU throttling set with the DevTools protocol (`Emulation.setCPUThrottlingRate`) before the navigation, "
      "then the page. **Interactive** is the moment of the first click on the page's last copy button "
      "(the last row of the member table: in the islands build inside the last island to come alive) that is "
      "handled, i.e. after which the button says \"Copied\": for the fully hydrated build that is when "
      "hydration has attached the handlers, for the islands build when the member table's island is live. "
      f"A script injected before the page's own clicks that button every {x['probe_ms']} ms (or as soon as the main "
      "thread is free, which is what interactive means) once the document is parsed and the bundle's JavaScript "
      "has been fetched (nothing can answer before; clicking earlier would take the idle time the islands loader "
      "waits for). The figure is the time of the first answered click; \"resolution\" below is the gap back to "
      "the last unanswered one: longer than the probe's interval only where the main thread was busy in one "
      "piece (running the bundle), when a user's click would have waited too. Times are `performance.now()`: milliseconds since `performance.timeOrigin`, the navigation start. "
      f"Each build is visited once untimed, then {x['runs']} times at each CPU rate, the builds and rates "
      "interleaved so that the machine's drift touches every cell alike; the figure is the **median** of the "
      f"{x['runs']} visits.")
    w("")
    rows = []
    for label in ("before", "after"):
        b = x["builds"].get(label, {})
        for rate in x["rates"]:
            c = tti_cell(x, label, rate)
            cpu = "none" if rate == 1 else f"{rate}×"
            if not c:
                rows.append((TTI_LABELS[label], cpu, 0, b.get("missing", "n/a"), "", "", "", "", "", "", ""))
                continue
            t = c["interactive_ms"]
            rows.append((TTI_LABELS[label], cpu, t["n"], f"**{ms(t['p50'])}**", ms(t["min"]), ms(t["max"]),
                         ms(c["response_end_ms"]), ms(c["dom_content_loaded_ms"]), ms(c["js_fetch_start_ms"]),
                         ms(c["wasm_fetched_ms"]), ms(c["resolution_ms"])))
    w(table(rows, ["build", "CPU throttling", "n", "interactive (median)", "min", "max", "HTML received",
                   "DOMContentLoaded", "bundle requested", "wasm received", "resolution"]))
    w("")
    w("All columns but n are medians over the visits, in ms since navigation start; \"bundle requested\" is when "
      "the browser asked for the bundle's JavaScript and \"wasm received\" when its WebAssembly had arrived: both "
      "builds preload the bundle from the page's head, so it arrives while the page is still being parsed. The "
      "fully hydrated build runs it once the document is parsed; the islands loader first waits for the browser to be "
      "idle (`requestIdleCallback`). On loopback the transfer is short; "
      "the rest is the main thread parsing and laying out the page, then running the bundle.")
    w("")
    rows = []
    for label in ("before", "after"):
        b = x["builds"].get(label, {})
        if "missing" in b:
            continue
        c = tti_cell(x, label, x["rates"][0]) or {}
        rows.append((TTI_LABELS[label], kb(b.get("bundle_gzip")), kb(c.get("transfer_bytes")), kb(b.get("html_bytes")),
                     f"{b.get('members_shown')} of {x['members']}", b.get("islands_in_html"),
                     f"{c.get('copy_buttons', 0):g}" if c.get("copy_buttons") is not None else "n/a"))
    if rows:
        w(table(rows, ["build", "bundle, wasm + js, gzip -9", "bundle as transferred", "HTML", "members on the page",
                       "islands in the HTML", "copy buttons"]))
        w("")
    failed = [(label, r, tti_cell(x, label, r)) for label in ("before", "after") for r in x["rates"]
              if tti_cell(x, label, r) and tti_cell(x, label, r)["failed"]]
    for label, r, c in failed:
        w(f"- {TTI_LABELS[label]}, {r}× CPU: {c['failed']} of {c['runs']} visits did not become interactive within "
          "the timeout and are not in the figures" + (f" (page errors: {'; '.join(c['page_errors'])})"
                                                       if c["page_errors"] else "") + ".")
    if failed:
        w("")
    if phase:
        w(f"The whole machine was {phase['machine_busy_pct']:.0f} % busy (of one core; {(m or {}).get('nproc', '?')} "
          f"cores) during this benchmark ({phase['seconds']:.0f} s, Chromium and both servers included). The browser's "
          "main thread competes with everything else on the machine, so these figures move with its load more than "
          "the others do: compare the two builds within one run (their visits are interleaved), and read the min and "
          "max beside the median.")
        w("")
    early = sum(c["first_click_answered"] for label in ("before", "after") for r in x["rates"]
                if (c := tti_cell(x, label, r)))
    if early:
        w(f"{early} visit(s) answered the very first click: the page was interactive before probing began, so their "
          "figure is an upper bound.")
        w("")
    text = []
    for rate in x["rates"]:
        a, b = tti_median(x, "after", rate), tti_median(x, "before", rate)
        cpu = "Unthrottled," if rate == 1 else f"At {rate}× CPU throttling,"
        if a is not None and b is not None:
            text.append(f"{cpu} the page answers after {ms(a)} with islands against {ms(b)} fully hydrated "
                        + (f"({times(b / a)} sooner, {ms(b - a)} less)" if a <= b else
                           f"({times(a / b)} later, {ms(a - b)} more)"))
        elif a is not None:
            text.append(f"{cpu} the page answers after {ms(a)} with islands")
    w("**What it means.** " + (". ".join(text) + ". " if text else "")
      + slower_text(x)
      + "Before the islands the browser had to fetch, compile and run the whole app's bundle and then rebuild "
      "the page's reactive tree over all its markup (every member row) before any button answered; with islands "
      "it runs only the islands' code over their own markup, after the page has been shown and the browser is "
      "idle. Throttling multiplies the main thread's work, so the 4× figures show what a slow phone or a busy "
      "laptop sees; loopback makes the network nearly free here, so on a real network the larger bundle's "
      "download adds to the fully hydrated figures. Without JavaScript every page works anyway (forms and links "
      "are plain HTML): interactive here means the copy buttons and the in-place updates."
      + ("" if "missing" not in before else " **The build before the islands was not measured in this run**: "
         "run `bench/build-before` once, then `bench/run`."))
    w("")


def slower_text(x):
    """Where the islands build is not sooner: what the figures say the time went to."""
    out = []
    for rate in x["rates"]:
        a, b = tti_median(x, "after", rate), tti_median(x, "before", rate)
        if a is None or b is None or a <= b:
            continue
        ca, cb = tti_cell(x, "after", rate), tti_cell(x, "before", rate)
        out.append(f"At {rate}× the islands build is not sooner: the document alone (nearly the same HTML in both builds) took "
                   f"until {ms(ca['dom_content_loaded_ms'])} (DOMContentLoaded, median) with islands and "
                   f"{ms(cb['dom_content_loaded_ms'])} fully hydrated, of the {ms(a)} and {ms(b)}; the min–max spread "
                   f"is {ms(ca['interactive_ms']['min'])}–{ms(ca['interactive_ms']['max'])} and "
                   f"{ms(cb['interactive_ms']['min'])}–{ms(cb['interactive_ms']['max'])}. ")
    return "".join(out)
