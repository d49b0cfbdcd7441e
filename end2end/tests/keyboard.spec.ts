import type { Page } from '@playwright/test';
import { test, expect, snap } from '../support/fixtures';
import { accounts, keystoneToken, listMembers } from '../support/lab';
import { expectStartPage, open, settle, signIn } from '../support/app';
import { imagePage } from '../support/images';

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

interface Walk {
  reached: boolean;
  path: string[];
  /** Why the walk stopped before `wanted`: focus lost, invisible, or too many stops. */
  problem?: string;
}

/** Presses `key` (Tab or Shift+Tab) until `wanted` has the focus, every stop showing where it is. */
async function walkTo(page: Page, wanted: (f: Focused) => boolean, what: string, key = 'Tab', limit = 30): Promise<Walk> {
  const path: string[] = [];
  for (;;) {
    await page.keyboard.press(key);
    const f = await focused(page);
    path.push(f.what);
    const went = `focus went ${path.join(' -> ')}`;
    if (!showsFocus(f)) {
      const problem = `${f.what} has the focus but shows none (outline ${f.outline}, box-shadow ${f.boxShadow}) on the way to ${what}; ${went}`;
      return { reached: false, path, problem };
    }
    if (wanted(f)) return { reached: true, path };
    if (path.length >= limit) return { reached: false, path, problem: `${key} never reached ${what}; ${went}` };
  }
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
  expect((await tab(page)).name).toBe('project_id');
  const button = await tab(page);
  expect(button.what).toContain('Sign in');
  await snap(page, testInfo, 'focus-on-sign-in-button');

  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === '/');
  await settle(page, js);
  await expectStartPage(page, producer.user, producer);
  await snap(page, testInfo, 'signed-in-by-keyboard');
});

test('the share form of an image page works with the keyboard alone', async ({ page, js, images }, testInfo) => {
  const producer = accounts.producer();
  const consumer = accounts.consumer();
  const owner = await keystoneToken(producer);
  const image = await images.create(owner, { visibility: 'shared' });
  await signIn(page, js, producer, { next: `/images/${image.id}` });
  // A fresh page load: the keyboard starts at the top.
  await open(page, `/images/${image.id}`, js);
  await expect(imagePage(page).heading).toHaveText(image.name);

  const toForm = await walkTo(page, (f) => f.name === 'members', 'the share form');
  await testInfo.attach('tab-order-to-share-form.txt', { body: toForm.path.join('\n'), contentType: 'text/plain' });
  expect(toForm.problem).toBeUndefined();
  await page.keyboard.type(consumer.projectId);
  expect((await tab(page)).what).toBe('<button> Share');
  await snap(page, testInfo, 'focus-on-share');
  await page.keyboard.press('Enter');

  // The ID cannot be checked with Keystone: confirm it, with the keyboard too. The focus must not
  // get lost on the way (soft: if it does, the confirmation is reached backwards, to go on).
  const p = imagePage(page);
  await expect(p.confirmation).toContainText('Nothing was shared yet');
  await settle(page, js);
  const isConfirm = (f: Focused) => f.what.includes('Share with the unchecked IDs anyway');
  const forward = await walkTo(page, isConfirm, 'the confirmation button');
  await testInfo.attach('tab-order-to-confirmation.txt', { body: forward.path.join('\n'), contentType: 'text/plain' });
  expect.soft(forward.problem, 'after Share, Tab does not lead to the confirmation that appeared').toBeUndefined();
  if (!forward.reached) {
    const backward = await walkTo(page, isConfirm, 'the confirmation button', 'Shift+Tab', 60);
    expect(backward.problem).toBeUndefined();
  }
  await snap(page, testInfo, 'focus-on-confirm');
  await page.keyboard.press('Enter');

  await expect(p.report).toContainText('Shared with 1 project.');
  await expect(p.member(consumer.projectId)).toBeVisible();
  await settle(page, js);
  await snap(page, testInfo, 'shared-by-keyboard');
  expect(await listMembers(owner, image.id)).toEqual([expect.objectContaining({ member_id: consumer.projectId, status: 'pending' })]);
});
