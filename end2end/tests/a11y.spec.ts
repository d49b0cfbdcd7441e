import AxeBuilder from '@axe-core/playwright';
import type { Page, TestInfo } from '@playwright/test';
import { test, expect, snap } from '../support/fixtures';
import { accounts } from '../support/lab';
import { expectStartPage, open, signIn } from '../support/app';

const schemes = ['light', 'dark'] as const;

// axe-core runs asynchronously inside the page, which never finishes with JavaScript disabled. The
// markup it checks is the server-rendered one in both projects (hydration keeps it as it is).
const axeNeedsJs = 'axe-core cannot run in a page with JavaScript disabled';

/** Runs axe-core (all rules) in both colour schemes; serious and critical violations fail. */
async function expectNoSeriousViolations(page: Page, testInfo: TestInfo, name: string) {
  const found: string[] = [];
  for (const colorScheme of schemes) {
    await page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page }).analyze();
    await testInfo.attach(`axe-${name}-${colorScheme}.json`, {
      body: JSON.stringify(results.violations, null, 2),
      contentType: 'application/json',
    });
    for (const v of results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      const nodes = v.nodes.map((n) => `    ${n.html}\n      ${(n.failureSummary ?? '').replace(/\n/g, '\n      ')}`);
      found.push(`[${colorScheme}] ${v.id} (${v.impact}): ${v.help} ${v.helpUrl}\n${nodes.join('\n')}`);
    }
  }
  await page.emulateMedia({ colorScheme: null });
  expect(found, `serious or critical axe violations on ${name}:\n${found.join('\n')}`).toEqual([]);
}

/** No horizontal scrolling at a phone's and a laptop's width. */
async function expectNoHorizontalScroll(page: Page, testInfo: TestInfo, name: string) {
  const overflow: string[] = [];
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 844 });
    const m = await page.evaluate(() => ({
      scrollWidth: document.scrollingElement!.scrollWidth,
      innerWidth: window.innerWidth,
      // What sticks out on the right, to tell the other engineer where to look.
      wide: [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 5)
        .map((e) => e.outerHTML.slice(0, 160)),
    }));
    await snap(page, testInfo, `${name}-${width}px`);
    if (m.scrollWidth > m.innerWidth) {
      overflow.push(`${width} px: scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth}; sticking out:\n  ${m.wide.join('\n  ')}`);
    }
  }
  expect(overflow, `${name} scrolls sideways:\n${overflow.join('\n')}`).toEqual([]);
}

test.describe('accessibility and layout', () => {
  test('the sign-in page has no serious or critical axe violations', async ({ page, js }, testInfo) => {
    test.skip(!js, axeNeedsJs);
    await open(page, '/signin', js);
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    await expectNoSeriousViolations(page, testInfo, 'sign-in page');
    await snap(page, testInfo, 'sign-in-page');
  });

  test('the signed-in start page has no serious or critical axe violations', async ({ page, js }, testInfo) => {
    test.skip(!js, axeNeedsJs);
    // The consumer has two projects, so the header shows both switchers.
    const consumer = accounts.consumer();
    await signIn(page, js, consumer);
    await expectStartPage(page, consumer.user, consumer);
    await expectNoSeriousViolations(page, testInfo, 'start page');
    await snap(page, testInfo, 'start-page');
  });

  test('the sign-in page does not scroll sideways at 390 and 1280 px', async ({ page, js }, testInfo) => {
    await open(page, '/signin', js);
    await expectNoHorizontalScroll(page, testInfo, 'sign-in');
  });

  test('the signed-in start page does not scroll sideways at 390 and 1280 px', async ({ page, js }, testInfo) => {
    const consumer = accounts.consumer();
    await signIn(page, js, consumer);
    await expectStartPage(page, consumer.user, consumer);
    await expectNoHorizontalScroll(page, testInfo, 'start-page');
  });
});
