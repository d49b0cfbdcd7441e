import { randomUUID } from 'node:crypto';
import type { Page, TestInfo } from '@playwright/test';
import { test, expect, snap } from '../support/fixtures';
import { axeNeedsJs, expectNoHorizontalScroll, expectNoSeriousViolations, horizontalScroll, seriousViolations } from '../support/a11y';
import { accounts, addMember, keystoneToken, setMemberStatus } from '../support/lab';
import { expectStartPage, open, signIn } from '../support/app';
import { imageList, imagePage, inboxPage, madeUpProjectId } from '../support/images';

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

/**
 * The pages with tables and forms: axe-core (with JavaScript; the markup is the same without) and
 * no sideways scrolling at 390 and 1280 px (both projects). Every page is looked at before the
 * test fails, so one run reports them all.
 */
test.describe('image pages: accessibility and layout', () => {
  function checker(page: Page, js: boolean, testInfo: TestInfo) {
    const found: string[] = [];
    return {
      found,
      async check(name: string) {
        if (js) found.push(...(await seriousViolations(page, testInfo, name)));
        found.push(...(await horizontalScroll(page, testInfo, name)));
        await page.setViewportSize({ width: 1280, height: 720 });
      },
    };
  }

  test("the owner's pages pass axe and fit a phone: my images, an image with members, a batch plan and result", async ({ page, js, images }, testInfo) => {
    // Four pages, each at two widths and with axe in two colour schemes.
    test.setTimeout(60_000);
    const owner = await keystoneToken(accounts.producer());
    const consumer = accounts.consumer();
    const image = await images.create(owner, { visibility: 'shared', name: `e2e-a11y-${randomUUID().slice(0, 8)}` });
    await addMember(owner, image.id, consumer.projectId);
    await addMember(owner, image.id, madeUpProjectId());
    const { found, check } = checker(page, js, testInfo);

    await signIn(page, js, accounts.producer(), { next: '/images?tab=mine' });
    await expect(imageList(page).table).toBeVisible();
    await check('my-images');

    await open(page, `/images/${image.id}`, js);
    await expect(imagePage(page).member(consumer.projectId)).toBeVisible();
    await check('image-page');

    const members = encodeURIComponent(`${madeUpProjectId()}\nbad/id`);
    await open(page, `/batch?images=${image.id}&members=${members}&operation=share`, js);
    const main = page.getByRole('main');
    await expect(main.getByRole('heading', { level: 2, name: /^Plan:/ })).toHaveText('Plan: Share — 1 of 2 pairs will run');
    await check('batch-plan');

    await main.getByRole('button', { name: /^Run 1 pair/ }).click();
    await expect(main.getByRole('heading', { level: 1 })).toHaveText('Share — finished');
    await check('batch-result');

    expect(found, `accessibility or layout problems:\n${found.join('\n')}`).toEqual([]);
  });

  test('a rollover passes axe and fits a phone: the New version plan, its result, and the consumer\'s inbox', async ({ page, js, images }, testInfo) => {
    test.setTimeout(60_000);
    const owner = await keystoneToken(accounts.producer());
    const consumer = accounts.consumer();
    const stem = `e2e-a11y-roll-${randomUUID().slice(0, 8)}`;
    const old = await images.create(owner, { visibility: 'shared', name: `${stem}-1` });
    const next = await images.create(owner, { visibility: 'shared', name: `${stem}-2` });
    await addMember(owner, old.id, consumer.projectId);
    await setMemberStatus(await keystoneToken(consumer), old.id, consumer.projectId, 'accepted');
    await addMember(owner, old.id, madeUpProjectId());
    const { found, check } = checker(page, js, testInfo);

    await signIn(page, js, accounts.producer(), { next: `/images/${old.id}/new-version?to=${next.id}&annotate=on` });
    const main = page.getByRole('main');
    await expect(main.getByRole('heading', { level: 2 })).toHaveText(`Plan: ${next.name} replaces ${old.name}`);
    await check('new-version-plan');

    await main.getByRole('button', { name: /^Run: 2 pairs/ }).click();
    await expect(main.getByRole('heading', { level: 1 })).toContainText('— finished');
    await check('rollover-result');

    await page.context().clearCookies();
    await signIn(page, js, consumer, { next: '/inbox' });
    await expect(main).toContainText(`new version of ${old.name}`);
    await check('inbox-new-version');

    expect(found, `accessibility or layout problems:\n${found.join('\n')}`).toEqual([]);
  });

  test("the consumer's Shared with me passes axe and fits a phone", async ({ page, js, images }, testInfo) => {
    const owner = await keystoneToken(accounts.producer());
    const consumer = accounts.consumer();
    const image = await images.create(owner, { visibility: 'shared' });
    await addMember(owner, image.id, consumer.projectId);
    const { found, check } = checker(page, js, testInfo);

    await signIn(page, js, consumer, { next: '/images?tab=shared' });
    await expect(imageList(page).row(image.name)).toBeVisible();
    await check('shared-with-me');

    expect(found, `accessibility or layout problems:\n${found.join('\n')}`).toEqual([]);
  });

  test("the consumer's inbox with an offer passes axe and fits a phone", async ({ page, js, images }, testInfo) => {
    const owner = await keystoneToken(accounts.producer());
    const consumer = accounts.consumer();
    const image = await images.create(owner, { visibility: 'shared' });
    await addMember(owner, image.id, consumer.projectId);
    const { found, check } = checker(page, js, testInfo);

    await signIn(page, js, consumer, { next: '/inbox' });
    const inbox = inboxPage(page);
    await expect(inbox.heading).toBeVisible();
    await expect(inbox.row(image.name, consumer.project)).toContainText('pending');
    await check('inbox');

    expect(found, `accessibility or layout problems:\n${found.join('\n')}`).toEqual([]);
  });

  test("an image page's History with a share in it passes axe and fits a phone", async ({ page, js, images }, testInfo) => {
    const producer = accounts.producer();
    const owner = await keystoneToken(producer);
    const consumer = accounts.consumer();
    const image = await images.create(owner, { visibility: 'shared' });
    const { found, check } = checker(page, js, testInfo);

    // A share made through the dashboard, so that History has a row.
    await signIn(page, js, producer, { next: `/images/${image.id}` });
    const p = imagePage(page);
    const history = p.main.getByRole('region', { name: 'History' });
    await expect(history).toContainText("No change to this image's sharing has been made through glance-share yet.");
    await p.shareMembers.fill(consumer.projectId);
    await p.shareButton.click();
    // The producer cannot look the project up in Keystone, so it confirms first.
    await expect(p.confirmation.or(p.report)).toBeVisible();
    if (await p.confirmation.isVisible()) await p.shareAnyway.click();
    await expect(p.report).toContainText('Shared with 1 project.');
    const rows = history.locator('table.history tbody tr');
    await expect(rows).toHaveCount(1);
    await expect(rows).toContainText(producer.user);
    await expect(rows).toContainText('shared with');
    await expect(rows.locator('td.outcome')).toHaveText('done');
    // The page as it is opened later, without the share's report above (that is no part of History).
    await open(page, `/images/${image.id}`, js);
    await expect(rows).toHaveCount(1);
    await check('image-history');

    expect(found, `accessibility or layout problems:\n${found.join('\n')}`).toEqual([]);
  });
});

