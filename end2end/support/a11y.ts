/**
 * Accessibility and layout checks shared by the specs: axe-core in both colour schemes, and no
 * sideways scrolling of the page at a phone's and a laptop's width.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, type TestInfo } from '@playwright/test';
import { snap } from './fixtures';

const schemes = ['light', 'dark'] as const;

// axe-core runs asynchronously inside the page, which never finishes with JavaScript disabled. The
// markup it checks is the server-rendered one in both projects (hydration keeps it as it is).
export const axeNeedsJs = 'axe-core cannot run in a page with JavaScript disabled';

/** Runs axe-core (all rules) in both colour schemes; serious and critical violations fail. */
export async function expectNoSeriousViolations(page: Page, testInfo: TestInfo, name: string) {
  const found = await seriousViolations(page, testInfo, name);
  expect(found, `serious or critical axe violations on ${name}:\n${found.join('\n')}`).toEqual([]);
}

/** axe-core's serious and critical violations in both colour schemes (all are attached to the report). */
export async function seriousViolations(page: Page, testInfo: TestInfo, name: string): Promise<string[]> {
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
  return found;
}

/**
 * No horizontal scrolling of the page at a phone's and a laptop's width, and everything readable
 * there (see `unreadable`): tables must fit, not scroll inside their own `.table-wrap`. Returns
 * what is wrong instead of failing, so a test can look at several pages and report them all.
 */
export async function horizontalScroll(page: Page, testInfo: TestInfo, name: string, widths = [390, 1280]): Promise<string[]> {
  const overflow: string[] = [];
  for (const width of widths) {
    await page.setViewportSize({ width, height: 844 });
    // The resize reaches layout a moment later under load: measure until it has settled (up to 5 s).
    const measure = () => page.evaluate(() => ({
      scrollWidth: document.scrollingElement!.scrollWidth,
      innerWidth: window.innerWidth,
      // What sticks out on the right (outside any scrolling table), to tell the other engineer where to look.
      wide: [...document.querySelectorAll('body *')]
        .filter((e) => !e.closest('.table-wrap') || e.classList.contains('table-wrap'))
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 5)
        .map((e) => e.outerHTML.slice(0, 160)),
    }));
    let m = await measure();
    for (let i = 0; i < 50 && (m.innerWidth !== width || m.scrollWidth > m.innerWidth); i++) {
      await page.waitForTimeout(100);
      m = await measure();
    }
    await snap(page, testInfo, `${name}-${width}px`);
    if (m.scrollWidth > m.innerWidth) {
      overflow.push(`${name} at ${width} px: scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth}; sticking out:\n  ${m.wide.join('\n  ')}`);
    }
    overflow.push(...(await unreadable(page)).map((p) => `${name} at ${width} px: ${p}`));
  }
  return overflow;
}

/**
 * What a person could not read, beyond the page scrolling: a table cell cut off by its own
 * scrolling box (the Actions column at 390 px), an ID or link squeezed into a column so narrow
 * that it takes more than three lines (one character per line), and header items that run into
 * each other (the project name into its ID, the ID into a button).
 */
async function unreadable(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const describe = (e: Element) => e.outerHTML.slice(0, 120);
    const visible = (e: Element) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    for (const cell of document.querySelectorAll('.table-wrap td')) {
      if (!visible(cell)) continue;
      const r = cell.getBoundingClientRect();
      if (r.left < -0.5 || r.right > window.innerWidth + 0.5) found.push(`table cell outside the screen (${Math.round(r.left)}..${Math.round(r.right)} px): ${describe(cell)}`);
    }
    for (const text of document.querySelectorAll('.table-wrap td code, .table-wrap td a, .table-wrap td .badge')) {
      if (!visible(text)) continue;
      const lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 20;
      const lines = Math.round(text.getBoundingClientRect().height / lineHeight);
      if (lines > 3) found.push(`squeezed onto ${lines} lines: ${describe(text)}`);
    }
    const header = [...document.querySelectorAll('.topbar .who, .topbar .project-name, .topbar select, .topbar button, .topbar .copy-id code')].filter(visible);
    for (let i = 0; i < header.length; i++) {
      for (let j = i + 1; j < header.length; j++) {
        const [a, b] = [header[i].getBoundingClientRect(), header[j].getBoundingClientRect()];
        if (header[i].contains(header[j]) || header[j].contains(header[i])) continue;
        const sameRow = a.top < b.bottom && b.top < a.bottom;
        const gap = Math.max(b.left - a.right, a.left - b.right);
        if (sameRow && gap < 4) found.push(`header items touch (${gap.toFixed(1)} px apart): ${describe(header[i])} | ${describe(header[j])}`);
      }
    }
    return found;
  });
}

/** `horizontalScroll` that fails at once. */
export async function expectNoHorizontalScroll(page: Page, testInfo: TestInfo, name: string) {
  const overflow = await horizontalScroll(page, testInfo, name);
  expect(overflow, `${name} scrolls sideways:\n${overflow.join('\n')}`).toEqual([]);
}
