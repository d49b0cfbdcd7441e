/**
 * The image owner's journeys on the image page: sharing a private image with a project the owner
 * cannot look up in Keystone, and revoking a project's access. Every step is checked in Glance
 * itself, and with JavaScript the page must update without loading a new document.
 */
import { test, expect, snap } from '../support/fixtures';
import { accounts, addMember, getImage, getMember, keystoneToken, listMembers, setMemberStatus } from '../support/lab';
import { expectSameDocument, markDocument, pagesNav, settle, signIn } from '../support/app';
import { expectBadge, imageList, imagePage } from '../support/images';

test('the owner shares a private image with a project, confirming the ID Keystone cannot check', async ({ page, js, images }, testInfo) => {
  const producer = accounts.producer();
  const consumer = accounts.consumer();
  const owner = await keystoneToken(producer);
  const image = await images.create(owner, { visibility: 'private' });

  await signIn(page, js, producer);
  await pagesNav(page).myImages.click();
  await expect(page).toHaveURL((url) => url.pathname === '/images' && url.searchParams.get('tab') === 'mine');
  // Other tests' images are listed too (in name order, 50 a page): find this one by its name.
  const list = imageList(page);
  await list.search.fill(image.name);
  await list.search.press('Enter');
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === image.name);
  await settle(page, js);
  await expect(list.visibilityOf(image.name)).toHaveText('private');
  await list.row(image.name).getByRole('link', { name: image.name, exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/images/${image.id}`);
  await settle(page, js);

  const p = imagePage(page);
  await expect(p.heading).toHaveText(image.name);
  await expect(p.visibility).toHaveText('private');
  if (js) await markDocument(page);
  // A private image cannot have members: the form offers to make it shared, already ticked.
  await expect(p.makeShared).toBeChecked();
  await p.shareMembers.fill(consumer.projectId);
  await snap(page, testInfo, 'share-form-filled');
  await p.shareButton.click();

  // An ordinary producer cannot look projects up in Keystone: nothing happens before it confirms.
  await expect(p.confirmation).toContainText('Nothing was shared yet: please confirm the projects.');
  await expect(p.confirmation.locator('li.unsure')).toContainText(consumer.projectId);
  expect((await getImage(owner, image.id)).visibility, 'the image changed before the IDs were confirmed').toBe('private');
  await snap(page, testInfo, 'confirm-unchecked-id');
  if (js) await expectSameDocument(page, 'sharing');

  await p.shareAnyway.click();
  await expect(p.report).toContainText('The image is now shared. Shared with 1 project.');
  await expectBadge(p.member(consumer.projectId).locator('.badge'), 'pending');
  await expect(p.visibility).toHaveText('shared');
  await settle(page, js);
  await snap(page, testInfo, 'shared-with-consumer');
  if (js) await expectSameDocument(page, 'confirming the unchecked ID');

  expect((await getImage(owner, image.id)).visibility).toBe('shared');
  expect(await listMembers(owner, image.id)).toEqual([expect.objectContaining({ member_id: consumer.projectId, status: 'pending' })]);
});

test('the owner revokes a project\'s access and the project no longer finds the image', async ({ page, js, images, otherBrowser, problems }, testInfo) => {
  const producer = accounts.producer();
  const consumer = accounts.consumer();
  const owner = await keystoneToken(producer);
  const consumerToken = await keystoneToken(consumer);
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);
  await setMemberStatus(consumerToken, image.id, consumer.projectId, 'accepted');

  // The consumer, in a browser of its own, has the image open.
  const theirs = await otherBrowser();
  await signIn(theirs, js, consumer, { next: `/images/${image.id}` });
  await expect(imagePage(theirs).heading).toHaveText(image.name);
  await expectBadge(imagePage(theirs).offerStatus, 'accepted');

  await signIn(page, js, producer, { next: `/images/${image.id}` });
  const p = imagePage(page);
  const row = p.member(consumer.projectId);
  await expectBadge(row.locator('.badge'), 'accepted');
  if (js) await markDocument(page);
  await row.getByRole('link', { name: 'Revoke…' }).click();
  await expect(page).toHaveURL(
    (url) => url.pathname === `/images/${image.id}/members/${consumer.projectId}` && url.searchParams.get('confirm') === 'revoke',
  );
  const confirm = p.main.getByRole('alertdialog');
  await expect(confirm).toContainText(
    new RegExp(`Revoke the access of project (${consumer.project}|${consumer.projectId}) to image ${image.name}\\?`),
  );
  await settle(page, js);
  await snap(page, testInfo, 'confirm-revoke');
  // Nothing happens before the confirmation.
  expect(await getMember(owner, image.id, consumer.projectId)).toMatchObject({ status: 'accepted' });

  await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/images/${image.id}`);
  await expect(p.noMembers).toBeVisible();
  await expect(p.members).toHaveCount(0);
  await expect(p.main.getByRole('alertdialog')).toHaveCount(0);
  await settle(page, js);
  await snap(page, testInfo, 'revoked');
  if (js) await expectSameDocument(page, 'revoking');
  expect(await listMembers(owner, image.id)).toEqual([]);
  expect(await getMember(consumerToken, image.id, consumer.projectId)).toBeNull();

  // The consumer's page, loaded again, no longer shows the image, and answers 404 for it.
  problems.allow(/^HTTP 404 for GET$|the server responded with a status of 404/);
  const reloaded = await theirs.reload({ waitUntil: js ? 'networkidle' : 'load' });
  expect(reloaded?.status()).toBe(404);
  await expect(imagePage(theirs).heading).toHaveText('Image not found');
  await expect(theirs.getByRole('main').getByRole('alert')).toContainText('it is not shared with this project');
  await expect(imagePage(theirs).offer).toHaveCount(0);
  await snap(theirs, testInfo, 'consumer-image-not-found');
});
