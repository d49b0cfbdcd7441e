/**
 * The access review (issue 15): an owner walks everything the project shares, by image and by
 * project, with the flags explained where they show; with and without JavaScript, at 390 and
 * 1280 px, and through axe.
 */
import { test, expect, snap } from '../support/fixtures';
import { axeNeedsJs, expectNoHorizontalScroll, expectNoSeriousViolations } from '../support/a11y';
import { accounts, addMember, keystoneToken, setMemberStatus } from '../support/lab';
import { open, reviewUntil, signIn } from '../support/app';

test('an owner walks the access review by image and by project', async ({ page, js, images }, testInfo) => {
  test.setTimeout(60_000);
  const producer = accounts.producer();
  const consumer = accounts.consumer();
  const consumerB = accounts.consumerB();
  const owner = await keystoneToken(producer);
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);
  await addMember(owner, image.id, consumerB.projectId);
  // A project name pasted where its ID belongs: Glance stores it and shares with no one.
  await addMember(owner, image.id, consumer.project);
  await setMemberStatus(await keystoneToken(consumer), image.id, consumer.projectId, 'rejected');

  await signIn(page, js, producer);
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Access review' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Access review' })).toBeVisible();

  const section = page.getByRole('region', { name: `Image ${image.name}` });
  await reviewUntil(page, js, '/access', () => expect(section).toContainText('3 member(s): 2 pending, 0 accepted, 1 rejected.', { timeout: 1_000 }));
  const rejected = section.getByRole('row').filter({ hasText: consumer.projectId });
  await expect(rejected.getByText('rejected, still has access')).toBeVisible();
  const typo = section.getByRole('row').filter({ hasText: 'not a project ID' });
  await expect(typo).toHaveCount(1);
  await expect(section.getByRole('row').filter({ hasText: consumerB.projectId }).locator('.flag')).toHaveCount(0);
  // Each flag on the page is explained in one line.
  const legend = page.locator('.flag-legend');
  await expect(legend).toContainText('only a revoke ends its access');
  await expect(legend).toContainText('a name typed by mistake');
  await snap(page, testInfo, 'access-by-image');
  await expectNoHorizontalScroll(page, testInfo, 'access-by-image');

  await page.getByRole('link', { name: 'By project' }).click();
  await expect(page).toHaveURL(/view=project/);
  const project = page.getByRole('region', { name: `Project ${consumer.projectId}` });
  await expect(project.getByRole('link', { name: image.name })).toBeVisible();
  await expect(project.getByRole('row').filter({ hasText: image.name })).toContainText('rejected, still has access');
  await snap(page, testInfo, 'access-by-project');
  await expectNoHorizontalScroll(page, testInfo, 'access-by-project');

  // The exports are plain links: they work without JavaScript too.
  await expect(page.getByRole('link', { name: 'CSV' })).toHaveAttribute('href', /\/access\/export\.csv/);
  await expect(page.getByRole('link', { name: 'JSON' })).toHaveAttribute('href', /\/access\/export\.json/);
});

test('the access review has no serious or critical axe violations', async ({ page, js, images }, testInfo) => {
  test.skip(!js, axeNeedsJs);
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, accounts.consumer().projectId);
  await signIn(page, js, accounts.producer());
  await reviewUntil(page, js, '/access', () => expect(page.getByRole('region', { name: `Image ${image.name}` })).toBeVisible({ timeout: 1_000 }));
  await expectNoSeriousViolations(page, testInfo, 'access review by image');
  await open(page, '/access?view=project', js);
  await expectNoSeriousViolations(page, testInfo, 'access review by project');
});
