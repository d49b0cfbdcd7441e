/**
 * Pages loaded again and again hydrate every time. Hydration failed now and then, not always:
 * data the server sends for the browser is numbered in the order the page's parts are made,
 * and a part made once the session had loaded (at a moment that varies) could take a number
 * before the page's own data did. The page then panicked in the browser on a few loads in ten.
 * A race shows only over many loads, so each page is loaded many times here; the fixture fails
 * the test on any page error.
 */
import type { Page } from '@playwright/test';
import { test, expect } from '../support/fixtures';
import { accounts, addMember, keystoneToken } from '../support/lab';
import { open, pendingBadgeCount, signIn } from '../support/app';
import { imagePage, inboxPage } from '../support/images';

test.skip(({ js }) => !js, 'hydration needs JavaScript');

const LOADS = 15;

/** Loads `url` LOADS times, waiting each time until the bundle has run; `check` after each. */
async function loadRepeatedly(page: Page, url: string, check: () => Promise<void>) {
  for (let i = 0; i < LOADS; i++) {
    await open(page, url, true);
    await check();
  }
}

test('the inbox with an answer report, and an image page, hydrate on every load', async ({ page, images, otherBrowser }) => {
  test.setTimeout(120_000);
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);

  // An answer posted without JavaScript lands on /inbox?report=…, the page that failed most.
  const noJs = await otherBrowser({ javaScriptEnabled: false });
  await signIn(noJs, false, consumer);
  await open(noJs, '/inbox', false);
  const form = inboxPage(noJs);
  await form.tick(image.name, consumer.project).check();
  await form.answer.selectOption({ label: 'Accept' });
  await form.apply.click();
  await expect(form.report).toContainText('Accepted 1 offer');
  const reportUrl = noJs.url();
  expect(new URL(reportUrl).searchParams.get('report')).toBeTruthy();

  // The same session in a browser with JavaScript.
  await page.context().addCookies(await noJs.context().cookies());
  const inbox = inboxPage(page);
  await loadRepeatedly(page, reportUrl, async () => {
    await expect(inbox.report).toContainText('Accepted 1 offer');
    // Other tests add offers meanwhile: the count is only read (number, label and title agree).
    await pendingBadgeCount(page);
  });
  const shown = imagePage(page);
  await loadRepeatedly(page, `/images/${image.id}`, async () => {
    await expect(shown.heading).toHaveText(image.name);
    await expect(shown.offerStatus).toHaveText('accepted');
  });
});
