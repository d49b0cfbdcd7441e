/**
 * The image lists and the image page beyond the main journeys: answering an offer straight from
 * "Shared with me", a deep link to one member, and what a button shows while its action runs.
 */
import { test, expect } from '../support/fixtures';
import { accounts, addMember, keystoneToken } from '../support/lab';
import { expectSameDocument, markDocument, open, settle, signIn } from '../support/app';
import { expectBadge, imageList, imagePage } from '../support/images';

test('a consumer accepts an offer in the Shared with me list and sets it back to pending there', async ({ page, js, images }) => {
  const consumer = accounts.consumer();
  const { image, inGlance } = await images.offeredTo(consumer);

  await signIn(page, js, consumer);
  // The search keeps the list to this test's image while other tests add offers.
  await open(page, `/images?tab=shared&q=${encodeURIComponent(image.name)}`, js);
  const list = imageList(page);
  await expectBadge(list.statusOf(image.name), 'pending');
  if (js) await markDocument(page);

  await list.row(image.name).getByRole('button', { name: `Accept ${image.name}`, exact: true }).click();
  await expectBadge(list.statusOf(image.name), 'accepted');
  await settle(page, js);
  expect(await inGlance()).toBe('accepted');
  await expect(page).toHaveURL((url) => url.pathname === '/images' && url.searchParams.get('tab') === 'shared');

  await list.row(image.name).getByRole('button', { name: `Set back to pending ${image.name}`, exact: true }).click();
  await expectBadge(list.statusOf(image.name), 'pending');
  await settle(page, js);
  expect(await inGlance()).toBe('pending');
  if (js) await expectSameDocument(page, 'answering in the list');
});

test('a deep link to one member opens the image page on that row', async ({ page, js, images }) => {
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);
  await addMember(owner, image.id, accounts.consumerB().projectId);

  await signIn(page, js, accounts.producer());
  // The Terraform import id `image_id/member_id` is the same pair.
  await open(page, `/images/${image.id}/members/${consumer.projectId}`, js);
  const p = imagePage(page);
  const row = p.member(consumer.projectId);
  await expect(row).toHaveClass(/\bfocused\b/);
  await expect(row).toHaveAttribute('aria-current', 'true');
  await expect(p.member(accounts.consumerB().projectId)).not.toHaveAttribute('aria-current', 'true');
  if (js) {
    // Once the page runs, the keyboard starts at the row.
    await expect(row).toBeFocused();
    await expect(row).toBeInViewport();
  }
});

test('while a share runs its button says so and cannot be pressed again', async ({ page, js, images }) => {
  test.skip(!js, 'a pending state exists only in the hydrated app');
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  await signIn(page, js, accounts.producer());
  await open(page, `/images/${image.id}`, js);
  const p = imagePage(page);

  // The share call is held back until the test has looked at the button.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/share', async (route) => {
    await held;
    await route.continue();
  });
  await p.shareMembers.fill(accounts.consumer().projectId);
  await p.shareButton.click();
  const busy = p.shareForm.getByRole('button', { name: 'Sharing…' });
  await expect(busy).toBeVisible();
  await expect(busy).toBeDisabled();
  release();
  // The producer cannot look projects up in Keystone, so the dashboard asks before sharing.
  await expect(p.confirmation).toBeVisible();
  await expect(p.shareButton).toBeEnabled();
  await page.unroute('**/api/share');
});
