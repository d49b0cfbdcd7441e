/**
 * Cleaning up sharing (issue 15): the image page's member table filtered by status and text,
 * with its rows ticked and revoked through the batch engine; and the access review's
 * "everything shared with this project" for offboarding. With and without JavaScript, at 390
 * and 1280 px; Glance is checked after each run.
 */
import { test, expect, snap } from '../support/fixtures';
import { expectNoHorizontalScroll } from '../support/a11y';
import { accounts, addMember, keystoneToken, listMembers, setMemberStatus } from '../support/lab';
import { reviewUntil, settle, signIn } from '../support/app';
import { madeUpProjectId } from '../support/images';

test('an owner filters a 60-member table and revokes two ticked members through a batch', async ({ page, js, images }, testInfo) => {
  test.setTimeout(120_000);
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  const members = Array.from({ length: 59 }, () => madeUpProjectId());
  for (const member of members) await addMember(owner, image.id, member);
  await addMember(owner, image.id, consumer.projectId);
  await setMemberStatus(await keystoneToken(consumer), image.id, consumer.projectId, 'rejected');

  await signIn(page, js, accounts.producer(), { next: `/images/${image.id}` });
  const main = page.getByRole('main');
  await expect(main.getByRole('heading', { level: 2, name: /^Members/ })).toHaveText(
    'Members — 60 members: 59 pending, 0 accepted, 1 rejected',
  );
  const rows = main.locator('table.members tbody tr');
  await expect(rows).toHaveCount(60);

  // By status: the one rejected member, flagged and explained.
  await main.getByLabel('Status').selectOption('rejected');
  await main.getByRole('button', { name: 'Filter' }).click();
  await settle(page, js);
  await expect(page).toHaveURL(/status=rejected/);
  await expect(main.getByRole('status').filter({ hasText: 'Showing' })).toHaveText('Showing 1 of 60 members.');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(consumer.projectId);
  await expect(rows.first()).toContainText('rejected, still has access');
  await expect(main.getByRole('button', { name: 'Revoke all 1 shown…' })).toBeVisible();

  // By text: part of an ID, whatever its case.
  const [first, second] = [members[3], members[41]];
  await main.getByLabel('Status').selectOption('');
  await main.getByLabel('Project ID or name').fill(first.slice(0, 12).toUpperCase());
  await main.getByRole('button', { name: 'Filter' }).click();
  await settle(page, js);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(first);
  await main.getByRole('link', { name: 'Show all' }).click();
  await settle(page, js);
  await expect(rows).toHaveCount(60);
  await expectNoHorizontalScroll(page, testInfo, 'member-table');

  // Tick two rows; the batch plan shows exactly them, and running it revokes exactly them.
  await main.getByRole('checkbox', { name: `Choose project ${first}` }).check();
  await main.getByRole('checkbox', { name: `Choose project ${second}` }).check();
  await snap(page, testInfo, 'ticked-members');
  await main.getByRole('button', { name: 'Revoke the ticked members…' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/batch' && url.searchParams.getAll('member').length === 2);
  await settle(page, js);
  await expect(main.getByRole('radio', { name: 'Revoke', exact: true })).toBeChecked();
  await expect(main.getByRole('heading', { level: 2, name: /^Plan:/ })).toHaveText('Plan: Revoke — 2 of 2 pairs will run');
  await expect(main.locator('table.plan-pairs tbody tr')).toHaveCount(2);
  expect(await listMembers(owner, image.id)).toHaveLength(60);
  await main.getByRole('button', { name: 'Run 2 pairs' }).click();
  await expect(main.getByRole('heading', { level: 1 })).toHaveText('Revoke — finished');
  await expect(main.getByRole('status')).toContainText('2 of 2 pairs done: 2 revoked.');
  const left = (await listMembers(owner, image.id)).map((m) => m.member_id);
  expect(left).toHaveLength(58);
  expect(left).not.toContain(first);
  expect(left).not.toContain(second);
});

test('an owner offboards a project from the access review: everything shared with it is revoked', async ({ page, js, images }, testInfo) => {
  test.setTimeout(90_000);
  const owner = await keystoneToken(accounts.producer());
  const consumer = accounts.consumer();
  const [a, b] = [await images.create(owner, { visibility: 'shared' }), await images.create(owner, { visibility: 'shared' })];
  const leaving = madeUpProjectId();
  for (const image of [a, b]) {
    await addMember(owner, image.id, leaving);
    await addMember(owner, image.id, consumer.projectId);
  }

  await signIn(page, js, accounts.producer(), { next: '/access?view=project' });
  const main = page.getByRole('main');
  const section = main.getByRole('region', { name: `Project ${leaving}` });
  await reviewUntil(page, js, '/access?view=project', () => expect(section).toContainText('2 image(s) shared with it.', { timeout: 1_000 }));
  await expectNoHorizontalScroll(page, testInfo, 'access-review-clean-up');
  await section.getByRole('link', { name: 'Revoke everything shared with this project (2)…' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/batch' && url.searchParams.get('select') === `project:${leaving}`);
  await settle(page, js);
  await expect(main).toContainText(`Chosen in the access review: everything shared with project ${leaving}.`);
  await expect(main.getByRole('heading', { level: 2, name: /^Plan:/ })).toHaveText('Plan: Revoke — 2 of 2 pairs will run');
  await snap(page, testInfo, 'offboarding-plan');
  await main.getByRole('button', { name: 'Run 2 pairs' }).click();
  await expect(main.getByRole('heading', { level: 1 })).toHaveText('Revoke — finished');
  await expect(main.getByRole('status')).toContainText('2 of 2 pairs done: 2 revoked.');
  for (const image of [a, b]) {
    expect((await listMembers(owner, image.id)).map((m) => m.member_id)).toEqual([consumer.projectId]);
  }
  // The review, read again, no longer lists the project.
  await reviewUntil(page, js, '/access?view=project', () => expect(section).toHaveCount(0, { timeout: 1_000 }));
});

test('a member row copies its project ID, on the image page and in the access review', async ({ page, js, images, baseURL }) => {
  test.skip(!js, 'copying needs JavaScript; without it the ID is shown in full to select');
  test.setTimeout(60_000);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(baseURL!).origin });
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  const [first, second] = [madeUpProjectId(), madeUpProjectId()];
  for (const member of [first, second]) await addMember(owner, image.id, member);

  // One island serves every row's button: the one clicked copies its own ID and says so.
  await signIn(page, js, accounts.producer(), { next: `/images/${image.id}` });
  const main = page.getByRole('main');
  await main.getByRole('button', { name: `Copy project ID: ${second}`, exact: true }).click();
  await expect(main.locator('table.members').getByRole('button', { name: `Copy project ID: ${second}` })).toHaveText('Copied');
  await expect(main.locator('table.members').getByRole('button', { name: `Copy project ID: ${first}` })).toHaveText('Copy');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(second);

  const section = main.getByRole('region', { name: `Image ${image.name}` });
  await reviewUntil(page, js, '/access', () => expect(section).toBeVisible({ timeout: 1_000 }));
  await section.getByRole('button', { name: `Copy project ID: ${first}`, exact: true }).click();
  await expect(section.getByRole('button', { name: `Copy project ID: ${first}` })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);
});
