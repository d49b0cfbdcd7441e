import type { Page } from '@playwright/test';
import { test, expect, snap } from '../support/fixtures';
import { accounts } from '../support/lab';
import { expectStartPage, open, settle } from '../support/app';

interface Focused {
  what: string;
  name: string | null;
  focusVisible: boolean;
  outline: string;
  boxShadow: string;
}

/** What has the keyboard focus, and whether it shows it. */
function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { what: 'body', name: null, focusVisible: false, outline: '', boxShadow: '' };
    const style = getComputedStyle(el);
    return {
      what: `<${el.tagName.toLowerCase()}> ${(el.getAttribute('name') ?? el.textContent ?? '').trim().slice(0, 40)}`,
      name: el.getAttribute('name'),
      focusVisible: el.matches(':focus-visible'),
      outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
      boxShadow: style.boxShadow,
    };
  });
}

function showsFocus(f: Focused): boolean {
  const [style, width] = f.outline.split(' ');
  return f.focusVisible && ((style !== 'none' && parseFloat(width) > 0) || (f.boxShadow !== 'none' && f.boxShadow !== ''));
}

async function tab(page: Page): Promise<Focused> {
  await page.keyboard.press('Tab');
  const f = await focused(page);
  expect(showsFocus(f), `${f.what} has the focus but shows no focus style (outline ${f.outline}, box-shadow ${f.boxShadow})`).toBe(true);
  return f;
}

test('the sign-in form works with the keyboard alone and shows where the focus is', async ({ page, js }, testInfo) => {
  const producer = accounts.producer();
  await open(page, '/signin', js);

  // From the top of the page, Tab through the header and the tabs to the user name.
  const path: string[] = [];
  let f: Focused;
  do {
    f = await tab(page);
    path.push(f.what);
    expect(path.length, `Tab never reached the user name; focus went ${path.join(' -> ')}`).toBeLessThan(12);
  } while (f.name !== 'user_name');
  await testInfo.attach('tab-order.txt', { body: path.join('\n'), contentType: 'text/plain' });

  await page.keyboard.type(producer.user);
  expect((await tab(page)).name).toBe('password');
  await page.keyboard.type(producer.password);
  expect((await tab(page)).name).toBe('user_domain');
  expect((await tab(page)).name).toBe('project');
  await page.keyboard.type(producer.project);
  const button = await tab(page);
  expect(button.what).toContain('Sign in');
  await snap(page, testInfo, 'focus-on-sign-in-button');

  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === '/');
  await settle(page, js);
  await expectStartPage(page, producer.user, producer);
  await snap(page, testInfo, 'signed-in-by-keyboard');
});
