import type { LaunchOptions } from '@playwright/test';

/** Debian's Chromium: `npx playwright install` cannot work on these machines. */
export const chromiumLaunchOptions: LaunchOptions = {
  executablePath: process.env.GLANCE_SHARE_E2E_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

/**
 * Playwright turns Chromium's back-forward cache off; real browsers have it on, and since
 * Chromium 13x it also keeps `Cache-Control: no-store` pages unless a cookie changed. Tests of
 * what Back shows after signing out use this. `page.goBack()` must then wait for `commit` only: a
 * page restored from the cache fires no `load`.
 */
export const withBackForwardCache: LaunchOptions = {
  ...chromiumLaunchOptions,
  ignoreDefaultArgs: ['--disable-back-forward-cache'],
};
