/**
 * Glance stopped: pages opened while the lab's RegionOne Glance is down say so clearly and
 * recover once it is back, and a batch that ran into the outage retries exactly its failed pairs.
 *
 * Stopping Glance breaks every other test running at the same time, so this file runs in the
 * `glance-down` project only: it starts after the `js` and `no-js` projects have finished and
 * runs its tests one after the other (see playwright.config.ts). Glance is started again in a
 * `finally` of every test, and once more by the `glanceOutage` fixture should a test be stopped
 * half-way (a timeout). The project has JavaScript on; the page test also opens a browser with
 * JavaScript off, so both flavours are seen during one outage instead of stopping Glance twice.
 */
import { randomUUID } from 'node:crypto';
import type { Locator } from '@playwright/test';
import { test as base, expect, snap } from '../support/fixtures';
import { accounts, keystoneToken, labGlance, listMembers, type Image } from '../support/lab';
import { open, pagesNav, session, signIn } from '../support/app';
import { imageList, imagePage, madeUpProjectId } from '../support/images';

/** What src/error.rs says for AppError::Unavailable from Glance. */
const unavailable = 'Glance is unavailable right now, so nothing was changed: ';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const test = base.extend<{ glanceOutage: { stop: () => Promise<void>; start: () => Promise<void> } }>({
  // Depends on `images` so that the images are deleted only after Glance is back.
  glanceOutage: async ({ images: _images }, use) => {
    let stopped = false;
    await use({
      stop: async () => {
        stopped = true;
        await labGlance('stop-glance');
      },
      start: async () => {
        await labGlance('start-glance');
        stopped = false;
      },
    });
    if (stopped) await labGlance('start-glance');
  },
});

test('pages opened while Glance is stopped say it is unavailable, and show normally once it is back', async ({ page, images, problems, otherBrowser, glanceOutage }, testInfo) => {
  test.setTimeout(60_000);
  const producer = accounts.producer();
  const owner = await keystoneToken(producer);
  const image = await images.create(owner, { visibility: 'shared' });
  // The same user in a browser with JavaScript off.
  const browsers = [
    { page, js: true, flavour: 'js' },
    { page: await otherBrowser({ javaScriptEnabled: false }), js: false, flavour: 'no-js' },
  ];
  for (const b of browsers) {
    await signIn(b.page, b.js, producer, { next: `/images/${image.id}` });
    await expect(imagePage(b.page).heading).toHaveText(image.name);
  }
  // The hydrated app's data calls are answered 503 while Glance is down, and Chromium logs them.
  problems.allow(/HTTP 503 for POST|status of 503/);

  await glanceOutage.stop();
  try {
    for (const b of browsers) {
      // My images from the header: with JavaScript a data call the app has to handle itself.
      await pagesNav(b.page).myImages.click();
      await expect(b.page).toHaveURL((url) => url.pathname === '/images' && url.searchParams.get('tab') === 'mine');
      await expect(imageList(b.page).tabs).toBeVisible();
      await expect(b.page.getByRole('main').getByRole('alert')).toContainText(unavailable);
      await snap(b.page, testInfo, `my-images-glance-down-${b.flavour}`);

      // The image page loaded afresh: rendered by the server while Glance is down.
      await open(b.page, `/images/${image.id}`, b.js);
      const alert = b.page.getByRole('main').getByRole('alert');
      await expect(alert).toContainText(unavailable);
      await expect(alert).toHaveCount(1);
      // Still signed in, on the same page: Glance being down is not a sign-in problem.
      await expect(b.page).toHaveURL((url) => url.pathname === `/images/${image.id}`);
      await expect(session(b.page).user).toHaveText(producer.user);
      await snap(b.page, testInfo, `image-page-glance-down-${b.flavour}`);
    }
  } finally {
    await glanceOutage.start();
  }

  for (const b of browsers) {
    await b.page.reload({ waitUntil: b.js ? 'networkidle' : 'load' });
    const p = imagePage(b.page);
    await expect(p.heading).toHaveText(image.name);
    await expect(p.noMembers).toBeVisible();
    await expect(p.shareButton).toBeVisible();
    await expect(p.main.getByRole('alert')).toHaveCount(0);
    await snap(b.page, testInfo, `image-page-glance-back-${b.flavour}`);
  }
});

/** The pairs of a batch result: image name, project ID, outcome class and text. */
function outcomes(rows: Locator): Promise<string[][]> {
  return rows.evaluateAll((trs) =>
    trs.map((tr) => {
      const [image, member, outcome] = [...tr.querySelectorAll('td')];
      return [image.textContent!.trim(), member.textContent!.trim(), outcome.className, outcome.textContent!.trim()];
    }),
  );
}

// JavaScript only: the race below needs the batch to run in the background while the test stops
// Glance, and another flavour would stop Glance a second time. Without JavaScript the Retry
// button is the same form, posted plainly.
test('a batch that ran into the outage offers to retry the failed pairs, which succeed once Glance is back', async ({ page, images, glanceOutage }, testInfo) => {
  test.setTimeout(90_000);
  const producer = accounts.producer();
  const owner = await keystoneToken(producer);
  const batchName = `e2e-retry-${randomUUID().slice(0, 8)}`;
  // The batch runs the images in parallel (8 at a time) and each image's pairs one after another;
  // a failed pair is tried again 300 ms later. So: many images with a few projects each. The
  // lab's Glance answers one request at a time, about 12 ms a pair: 96 pairs keep it busy for
  // over a second, several times what it takes the test to notice the batch and stop Glance.
  const made: Image[] = await Promise.all(
    [1, 2, 3, 4, 5, 6, 7, 8].map((n) => images.create(owner, { visibility: 'shared', name: `${batchName}-${n}` })),
  );
  const members = Array.from({ length: 12 }, madeUpProjectId);
  const total = made.length * members.length;

  await signIn(page, true, producer);
  const plan = `/batch?images=${made.map((i) => i.id).join(',')}&members=${encodeURIComponent(members.join('\n'))}&operation=share`;
  await open(page, plan, true);
  const main = page.getByRole('main');
  await expect(main.getByRole('heading', { level: 2, name: /^Plan:/ })).toHaveText(`Plan: Share — ${total} of ${total} pairs will run`);
  await main.getByRole('button', { name: `Run ${total} pairs` }).click();

  // Glance is stopped as soon as the batch's first pair has reached it: the plan is made again
  // when the batch starts (with Glance down it would skip every pair), the pairs come after.
  await expect
    .poll(async () => (await listMembers(owner, made[0].id)).length, { message: 'the batch added no member', intervals: [25], timeout: 20_000 })
    .toBeGreaterThan(0);
  await glanceOutage.stop();
  let failed: string[][] = [];
  let firstBatch = '';
  try {
    await expect(page).toHaveURL((url) => /^\/batch\/[0-9a-f]{32}$/.test(url.pathname));
    firstBatch = new URL(page.url()).pathname;
    await expect(main.getByRole('heading', { level: 1 })).toHaveText('Share — finished', { timeout: 30_000 });
    const rows = await outcomes(main.locator('table.batch-pairs tbody tr'));
    expect(rows).toHaveLength(total);
    const added = rows.filter(([, , cls]) => cls === 'outcome done');
    failed = rows.filter(([, , cls]) => cls === 'outcome failed');
    testInfo.annotations.push({ type: 'outage', description: `${added.length} pairs added before Glance stopped, ${failed.length} failed` });
    expect(failed.length, 'Glance was stopped while the batch ran, yet no pair failed').toBeGreaterThan(0);
    expect(added.length + failed.length, `every pair is either added or failed:\n${rows.map((r) => r.join(' | ')).join('\n')}`).toBe(total);
    // Refused once Glance is down; a call it was still working on when stopped may get no
    // answer in time instead (and is then not said to have changed nothing).
    for (const [, , , text] of failed) expect(text).toMatch(new RegExp(`failed: (${escape(unavailable)}|Glance did not answer in time)`));
    const summary = main.getByRole('status');
    await expect(summary).toContainText(`${total} of ${total} pairs done: `);
    await expect(summary).toContainText(`${failed.length} failed`);
    if (added.length) await expect(summary).toContainText(`${added.length} added`);
    await expect(main.getByRole('button', { name: /^Retry/ })).toHaveText(`Retry the ${failed.length} failed pair${failed.length === 1 ? '' : 's'}`);
    await snap(page, testInfo, 'batch-failed-glance-down');
  } finally {
    await glanceOutage.start();
  }

  await main.getByRole('button', { name: /^Retry/ }).click();
  await expect(page).toHaveURL((url) => /^\/batch\/[0-9a-f]{32}$/.test(url.pathname) && url.pathname !== firstBatch);
  // The first batch stays on show until the new one's status has come: its Retry button goes,
  // then the new batch (of the failed pairs only) finishes.
  await expect(main.getByRole('button', { name: /^Retry/ })).toHaveCount(0);
  await expect(main.getByRole('status')).toContainText(`${failed.length} of ${failed.length} pairs done: `, { timeout: 30_000 });
  await expect(main.getByRole('heading', { level: 1 })).toHaveText('Share — finished');
  const retried = await outcomes(main.locator('table.batch-pairs tbody tr'));
  // Exactly the failed pairs ran again. A pair whose answer Glance did not send before it stopped
  // may have been added all the same: it is "already a member" now.
  expect(retried.map(([image, member]) => `${image} ${member}`).sort()).toEqual(failed.map(([image, member]) => `${image} ${member}`).sort());
  for (const [image, member, cls, text] of retried) {
    expect([['outcome done', 'added'], ['outcome already', 'already a member']], `${image} ${member}`).toContainEqual([cls, text]);
  }
  await snap(page, testInfo, 'batch-retried');

  // Glance: every image has every project exactly once.
  for (const image of made) {
    const have = (await listMembers(owner, image.id)).map((m) => m.member_id).sort();
    expect(have, `members of ${image.name}`).toEqual([...members].sort());
  }
});
