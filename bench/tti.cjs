// Benchmark 9's browser side: time to interactive of one page in Chromium, driven by Playwright
// (end2end/node_modules) and the DevTools protocol. Run by bench/bench.py, which starts the
// servers; not meant to be run by hand (but `node bench/tti.cjs < spec.json` works).
//
// Input (JSON on stdin):
//   { "chromium": "/usr/bin/chromium", "runs": 7, "rates": [1, 4], "timeout_ms": 30000,
//     "probe_ms": 4,
//     "targets": [{ "label": "after", "base": "http://127.0.0.1:PORT", "path": "/images/ID",
//                   "cookie": { "name": "glance_share_session", "value": "..." } }, ...] }
// Output (JSON on stdout): { "samples": [{ label, rate, run, ...times in ms since navigation
// start... }], "chromium": version }. Progress and page errors go to stderr.
//
// Each sample is a first visit: a fresh browser context (empty cache, the session cookie only),
// a new page, `Emulation.setCPUThrottlingRate` set on it before the navigation, `page.goto`.
// "Interactive" is the moment of the first click on the page's last copy button (`.copy-id button`,
// last in document order: the member table's last row, in the last island to come alive) that
// is handled, i.e. after which the button says "Copied": in the fully hydrated build that is when
// hydration has attached its handlers, in the islands build when the island around the member
// table is live. An init script clicks that button (a synthetic click; it does nothing before the
// handlers are there: a type="button" outside any form) every `probe_ms` ms, or as soon as the
// main thread is free after that, from the moment both the document is parsed and the bundle's
// JavaScript has been fetched (a resource entry ending in .js under /pkg/: before that nothing can
// be live, and probing earlier would fill the idle time the islands loader waits for), or from the
// load event at the latest. A MutationObserver catches an answer that lands in a microtask (a
// reactive update). The moment lies between the last unanswered click (`missed`) and the answered
// one (`interactive`); `seen` is when the answer showed.
// All times are `performance.now()`, i.e. ms since `performance.timeOrigin`, the navigation start.
'use strict';

const path = require('path');
const fs = require('fs');

const end2end = path.resolve(__dirname, '..', 'end2end');
let chromium;
try {
  ({ chromium } = require(path.join(end2end, 'node_modules', 'playwright-core')));
} catch (e) {
  process.stderr.write(`bench/tti.cjs: Playwright is not installed in ${end2end} (npm ci there): ${e.message}\n`);
  process.exit(3);
}

const PROBE = (probeMs) => `(() => {
  // interactive: when the first click that was handled was made; seen: when its effect showed;
  // missed: the click before it, which went unanswered (the moment lies between the two).
  const t = { trace: [], probes: 0, started: null, interactive: null, seen: null, missed: null, lastClick: null,
    buttons: 0, islands: 0 };
  Object.defineProperty(window, '__benchTti', { value: t });
  const last = () => { const all = document.querySelectorAll('.copy-id button'); t.buttons = all.length; return all[all.length - 1]; };
  const copied = (b) => !!b && b.textContent.trim() === 'Copied';
  let observer = null, previous = null;
  const done = (clicked) => {
    if (t.interactive !== null) return;
    t.seen = performance.now();
    t.interactive = clicked;
    t.missed = previous;
    t.islands = document.querySelectorAll('leptos-island').length;
    if (observer) observer.disconnect();
  };
  const probe = () => {
    if (t.interactive !== null) return;
    const b = last();
    if (copied(b)) return done(t.lastClick);
    if (b) {
      t.probes++;
      const at = performance.now();
      b.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, composed: true, button: 0, view: window }));
      const now = copied(b);
      t.trace.push([Math.round(at * 10) / 10, now]);
      if (t.trace.length > 4) t.trace.shift();
      previous = t.lastClick;
      t.lastClick = at;
      if (now) return done(at);
    }
    setTimeout(probe, ${probeMs});
  };
  const start = (why) => {
    if (t.started !== null) return;
    t.started = performance.now();
    t.startedBy = why;
    // A reactive update (the hydrated build) may land in a microtask after the click: seen here.
    observer = new MutationObserver(() => {
      if (t.interactive === null && copied(last())) done(t.lastClick);
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
    probe();
  };
  // Both the bundle's JavaScript fetched and the document parsed (the last button is the last).
  let bundle = false;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (/\\/pkg\\/[^/?]*\\.js(\\?|$)/.test(e.name)) bundle = true;
    if (bundle && document.readyState !== 'loading') start('bundle-js');
  }).observe({ type: 'resource', buffered: true });
  document.addEventListener('DOMContentLoaded', () => { if (bundle) start('dom-content-loaded'); });
  addEventListener('load', () => start('load'));
})();`;

async function sample(browser, spec, target, rate, run) {
  const context = await browser.newContext();
  const errors = [];
  try {
    const base = new URL(target.base);
    await context.addCookies([{ name: target.cookie.name, value: target.cookie.value, domain: base.hostname, path: '/' }]);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base.origin });
    await context.addInitScript(PROBE(spec.probe_ms || 4));
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e.message || e).slice(0, 300)));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    const url = new URL(target.path, base).href;
    const resp = await page.goto(url, { waitUntil: 'commit', timeout: spec.timeout_ms });
    const status = resp ? resp.status() : null;
    // Until the page answers, or a page error (a panic in the bundle: it will not answer), or the timeout.
    let timedOut = false;
    const deadline = Date.now() + spec.timeout_ms;
    for (;;) {
      const answered = await page.evaluate(() => !!window.__benchTti && window.__benchTti.interactive !== null)
        .catch(() => false);
      if (answered) break;
      if (errors.length || Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.waitForLoadState('load', { timeout: spec.timeout_ms }).catch(() => {});
    const m = await page.evaluate(() => {
      const t = window.__benchTti || {};
      const nav = performance.getEntriesByType('navigation')[0] || {};
      const res = performance.getEntriesByType('resource');
      const pick = (re) => {
        const e = res.find((r) => re.test(r.name));
        return e ? { start: e.startTime, end: e.responseEnd, bytes: e.transferSize, decoded: e.decodedBodySize } : null;
      };
      return {
        interactive: t.interactive ?? null,
        seen: t.seen ?? null,
        missed: t.missed ?? null,
        probe_started: t.started ?? null,
        probe_started_by: t.startedBy ?? null,
        probes: t.probes ?? 0,
        trace: t.trace ?? [],
        copy_buttons: t.buttons ?? 0,
        islands: t.islands ?? 0,
        response_start: nav.responseStart ?? null,
        response_end: nav.responseEnd ?? null,
        dom_content_loaded: nav.domContentLoadedEventEnd ?? null,
        load: nav.loadEventEnd ?? null,
        html_bytes: nav.decodedBodySize ?? null,
        js: pick(/\/pkg\/[^/?]*\.js(\?|$)/),
        wasm: pick(/\/pkg\/[^/?]*\.wasm(\?|$)/),
        time_origin: performance.timeOrigin,
        url: location.pathname,
      };
    });
    const title = await page.title().catch(() => '');
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 }).catch(() => {});
    return { label: target.label, rate, run, status, title, timed_out: timedOut, page_errors: errors, ...m };
  } finally {
    await context.close();
  }
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(0, 'utf8'));
  const browser = await chromium.launch({
    executablePath: spec.chromium || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  const out = { chromium: browser.version(), samples: [] };
  try {
    const rates = spec.rates || [1, 4];
    // One warm-up visit per target (not counted): the server's first page, Chromium's first wasm.
    // A build whose page does not answer then is not visited again (its cells say so).
    const targets = [];
    for (const target of spec.targets) {
      const w = await sample(browser, spec, target, 1, -1);
      if (w.interactive === null) {
        process.stderr.write(`  tti ${target.label}: the warm-up visit did not become interactive ` +
          `(${w.page_errors.join('; ') || 'timeout'}): not measured\n`);
        out.warmup_failed = { ...(out.warmup_failed || {}), [target.label]: w };
      } else {
        targets.push(target);
      }
    }
    // Interleaved: run i visits every target at every rate, so drift in the machine's load
    // touches all cells alike.
    for (let run = 0; run < spec.runs; run++) {
      for (const rate of rates) {
        for (const target of targets) {
          const s = await sample(browser, spec, target, rate, run);
          out.samples.push(s);
          process.stderr.write(`  tti ${target.label} ${rate}x run ${run + 1}/${spec.runs}: ` +
            `${s.interactive === null ? 'not interactive' : s.interactive.toFixed(0) + ' ms'}\n`);
        }
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench/tti.cjs: ${e.stack || e}\n`);
  process.exit(1);
});
