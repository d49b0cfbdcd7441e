import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './support/browser';
import { baseURL, directoryBaseURL, directoryPort, port } from './support/servers';

/**
 * Browser tests of glance-share in Debian's Chromium (`npx playwright install` cannot work here).
 * serve.sh starts the lab (idempotent) and the release server; the build is taken from
 * GLANCE_SHARE_BIN / GLANCE_SHARE_SITE, by default ../target/release/glance-share and ../target/site.
 * Two servers of that build: one without a directory reader on GLANCE_SHARE_E2E_PORT (every spec's
 * baseURL), and one with the lab's directory reader on the next port (tests/names.spec.ts), see
 * support/servers.ts.
 */
export { baseURL };
const ci = !!process.env.CI;
/** The tests that stop Glance (tests/glance-down.spec.ts): their own project, run alone. */
const glanceDown = /glance-down\.spec\.ts$/;

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: ci,
  // No retries: a retried race passes as "flaky" and would hide real bugs (see README).
  retries: 0,
  // The machine has 2 cores; the server, Keystone and Glance run on them too.
  workers: 2,
  // results.json: scripts/what-failed prints the failures from it, last, after a failed run.
  reporter: [
    ['list'],
    ['json', { outputFile: 'test-results/results.json' }],
    ...(ci ? [['html', { open: 'never' }] as const] : []),
  ],
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: chromiumLaunchOptions,
    screenshot: { mode: 'on', fullPage: true },
    trace: 'retain-on-failure',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
  },
  projects: [
    { name: 'js', use: { javaScriptEnabled: true }, testIgnore: glanceDown },
    { name: 'no-js', use: { javaScriptEnabled: false }, testIgnore: glanceDown },
    // Stops the lab's Glance, which would break any test running meanwhile: starts once the two
    // projects above have finished (it is skipped if one of their tests failed), and runs its
    // tests one at a time in a single worker (also with --repeat-each). `--no-deps` runs it alone.
    {
      name: 'glance-down',
      use: { javaScriptEnabled: true },
      testMatch: glanceDown,
      dependencies: ['js', 'no-js'],
      fullyParallel: false,
      workers: 1,
    },
  ],
  // Started one after the other: the first starts the lab (lab/lab.sh start, not safe to run
  // twice at once on a fresh machine), the second finds it running.
  webServer: [
    {
      command: './serve.sh',
      url: `${baseURL}/healthz`,
      // Explicitly without the directory reader, whatever the caller's environment says.
      env: { GLANCE_SHARE_E2E_PORT: String(port), GLANCE_SHARE_E2E_DIRECTORY: '0' },
      // A fresh machine may have to install and set up the lab first (see lab/README.md).
      timeout: 300_000,
      // Never test whatever else happens to listen on the port.
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
    {
      // The same build with the lab's directory reader: project names (tests/names.spec.ts).
      command: './serve.sh',
      url: `${directoryBaseURL}/healthz`,
      env: { GLANCE_SHARE_E2E_PORT: String(directoryPort), GLANCE_SHARE_E2E_DIRECTORY: '1' },
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
  ],
});
