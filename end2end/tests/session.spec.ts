import { test, expect, snap } from '../support/fixtures';
import { withBackForwardCache } from '../support/browser';
import { accounts, keystoneToken, regions } from '../support/lab';
import { expectHeaderReturnsHere, expectStartPage, open, session, settle, signIn, useRegion } from '../support/app';
import { imageList } from '../support/images';
import type { Page } from '@playwright/test';

// Back after signing out must not bring the signed-in page back from the back-forward cache, so
// this file runs with the cache on, as in real browsers.
test.use({ launchOptions: withBackForwardCache });

/** Chooses `project` in the header's switcher and waits for the start page to show it. */
async function switchProject(page: Page, js: boolean, project: string) {
  const s = session(page);
  await s.projectSwitch.selectOption({ label: project });
  await s.nav.getByRole('button', { name: 'Switch' }).click();
  await settle(page, js);
  await expect(page.getByRole('main').locator('p', { hasText: 'You work in project' }).locator('strong').first()).toHaveText(project);
}

test('a consumer switches project, signs out, and Back shows nothing of the session', async ({ page, js }, testInfo) => {
  const consumer = accounts.consumer();
  const consumerB = accounts.consumerB();
  await signIn(page, js, consumer);
  await expectStartPage(page, consumer.user, consumer);

  const s = session(page);
  expect((await s.projectSwitch.locator('option').allTextContents()).sort()).toEqual([consumer.project, consumerB.project].sort());
  await expectHeaderReturnsHere(page);
  await switchProject(page, js, consumerB.project);
  await expectStartPage(page, consumer.user, consumerB);
  await snap(page, testInfo, 'switched-to-consumer-b');

  await s.signOut.click();
  await expect(page).toHaveURL((url) => url.pathname === '/signin' && url.searchParams.has('signed_out'));
  await expect(page.getByRole('status')).toContainText('You are signed out');
  await expect(s.nav).toHaveCount(0);
  await settle(page, js);
  await snap(page, testInfo, 'signed-out');

  // Why Chromium did not restore the previous page from its back-forward cache, for the report.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.enable');
  const notRestored: string[] = [];
  cdp.on('Page.backForwardCacheNotUsed', (e) => notRestored.push(...e.notRestoredExplanations.map((x) => x.reason)));

  // A page restored from the cache fires no load event: wait for the commit only, and look at
  // once, before any redirect could replace what a restored page shows.
  await page.goBack({ waitUntil: 'commit' });
  const shown = await page.locator('body').innerText();
  await testInfo.attach('back-forward-cache.txt', {
    body: `after Back: ${page.url()}\nnot restored from the back-forward cache because: ${notRestored.join(', ') || '(no report: same-document navigation or restored)'}\n\n${shown}`,
    contentType: 'text/plain',
  });
  for (const id of [consumer.projectId, consumerB.projectId]) {
    expect(shown, 'Back after sign-out shows a project ID of the ended session').not.toContain(id);
  }
  await expect(page).toHaveURL((url) => url.pathname === '/signin');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expect(s.nav).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText(consumerB.projectId);
  await settle(page, js);
  await snap(page, testInfo, 'after-back');
});

test('a consumer switches to the other project and back again', async ({ page, js }, testInfo) => {
  const consumer = accounts.consumer();
  const consumerB = accounts.consumerB();
  await signIn(page, js, consumer);
  await switchProject(page, js, consumerB.project);
  await expectStartPage(page, consumer.user, consumerB);
  // The session's token must still be good at Keystone: switching again re-scopes it.
  await switchProject(page, js, consumer.project);
  await expectStartPage(page, consumer.user, consumer);
  await snap(page, testInfo, 'back-in-consumer');
});

test('after moving to another page, Switch stays on that page', async ({ page, js }, testInfo) => {
  const consumer = accounts.consumer();
  const consumerB = accounts.consumerB();
  await signIn(page, js, consumer);
  // A full page load of the sign-in page, then a link (client-side with JavaScript) to the start page.
  await open(page, '/signin', js);
  await expect(session(page).nav).toBeVisible();
  await page.getByRole('link', { name: 'glance-share' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/');
  await expect(page.getByRole('heading', { level: 1, name: 'Image sharing' })).toBeVisible();
  await settle(page, js);
  await expectHeaderReturnsHere(page);
  await switchProject(page, js, consumerB.project);
  await expectStartPage(page, consumer.user, consumerB);
  await snap(page, testInfo, 'switched-on-start-page');
});

test('the header shows the region, and switching it shows that region\'s images, and back', async ({ page, js, images }, testInfo) => {
  const producer = accounts.producer();
  const { one, two } = regions();
  const t = await keystoneToken(producer);
  const tag = `e2e-region-${Math.random().toString(36).slice(2, 10)}`;
  const inOne = await images.create(t, { region: one, name: `${tag}-one`, data: null });
  const inTwo = await images.create(t, { region: two, name: `${tag}-two`, data: null });
  await signIn(page, js, producer, { next: `/images?tab=mine&q=${tag}` });

  const s = session(page);
  const list = imageList(page);
  const expectRegion = async (region: string, shown: string, hidden: string) => {
    await expect(s.regionSwitch.locator('option:checked')).toHaveText(region);
    await expect(page).toHaveURL((url) => url.pathname === '/images' && url.searchParams.get('q') === tag);
    await expect(list.row(shown)).toHaveCount(1);
    await expect(list.row(hidden)).toHaveCount(0);
  };
  expect(await s.regionSwitch.locator('option').allTextContents()).toEqual([one, two]);
  await expectRegion(one, inOne.name, inTwo.name);
  await useRegion(page, js, two);
  await expectRegion(two, inTwo.name, inOne.name);
  await snap(page, testInfo, 'in-region-two');
  // A page load keeps the region: it is the session's, not the page's.
  await page.reload();
  await settle(page, js);
  await expectRegion(two, inTwo.name, inOne.name);
  await useRegion(page, js, one);
  await expectRegion(one, inOne.name, inTwo.name);
});
