/**
 * Issue 16, the consumer's side of an image version rollover: the owner offers a new version of
 * an image the consumer's project accepted (the new image's `supersedes` names the old one, set
 * here straight in Glance as a rollover sets it). The inbox says "new version of <old name>",
 * and "Accept, and reject <old name>" accepts the new image and rejects the old one in one step,
 * each checked in Glance.
 */
import { randomUUID } from 'node:crypto';
import { test, expect, snap } from '../support/fixtures';
import { accounts, addMember, getMember, glanceUrl, keystoneToken, setMemberStatus, type ScopedToken } from '../support/lab';
import { expectSameDocument, markDocument, settle, signIn } from '../support/app';
import { expectBadge, inboxPage } from '../support/images';

/** Sets a custom image property, as a rollover does (Glance wants the json-patch media type). */
async function setProperty(owner: ScopedToken, imageId: string, name: string, value: string) {
  const res = await fetch(`${glanceUrl(owner)}/v2/images/${imageId}`, {
    method: 'PATCH',
    headers: { 'x-auth-token': owner.token, 'content-type': 'application/openstack-images-v2.1-json-patch' },
    body: JSON.stringify([{ op: 'add', path: `/${name}`, value }]),
  });
  if (res.status !== 200) throw new Error(`setting ${name} on ${imageId}: HTTP ${res.status} ${await res.text()}`);
}

test('a consumer accepts a new version of an accepted image and rejects the old one in the same step', async ({ page, js, images }, testInfo) => {
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const consumerToken = await keystoneToken(consumer);
  const stem = `e2e-version-${randomUUID().slice(0, 8)}`;
  const old = await images.create(owner, { visibility: 'shared', name: `${stem}-1` });
  const next = await images.create(owner, { visibility: 'shared', name: `${stem}-2` });
  await addMember(owner, old.id, consumer.projectId);
  await setMemberStatus(consumerToken, old.id, consumer.projectId, 'accepted');
  await setProperty(owner, old.id, 'superseded_by', next.id);
  await setProperty(owner, next.id, 'supersedes', old.id);
  await addMember(owner, next.id, consumer.projectId);
  const inGlance = async (imageId: string) => (await getMember(consumerToken, imageId, consumer.projectId))?.status;

  await signIn(page, js, consumer, { next: '/inbox' });
  const inbox = inboxPage(page);
  await expect(inbox.heading).toBeVisible();
  const row = inbox.row(next.name, consumer.project);
  await expectBadge(row.locator('.badge'), 'pending');
  await expect(row).toContainText(`new version of ${old.name}`);
  await expect(row.getByRole('link', { name: old.name, exact: true })).toHaveAttribute('href', `/images/${old.id}`);
  await expectBadge(inbox.row(old.name, consumer.project).locator('.badge'), 'accepted');
  // The button names what it rejects: it is its own confirmation.
  const step = row.getByRole('button', { name: `Accept, and reject ${old.name}`, exact: true });
  await expect(step).toBeVisible();
  await snap(page, testInfo, 'inbox-new-version');
  if (js) await markDocument(page);

  await step.click();
  await expect(page).toHaveURL((url) => url.pathname === '/inbox' && url.searchParams.has('report'));
  await expect(inbox.report).toContainText(`Accepted ${next.name}; rejected the old version ${old.name}.`);
  await expectBadge(inbox.row(next.name, consumer.project).locator('.badge'), 'accepted');
  await expectBadge(inbox.row(old.name, consumer.project).locator('.badge'), 'rejected');
  // The old version is no longer accepted: the offer no longer offers to reject it.
  await expect(inbox.row(next.name, consumer.project).getByRole('button', { name: /reject/i })).toHaveCount(0);
  await settle(page, js);
  await snap(page, testInfo, 'inbox-new-version-accepted');
  expect(await inGlance(next.id)).toBe('accepted');
  expect(await inGlance(old.id)).toBe('rejected');
  if (js) await expectSameDocument(page, 'accepting the new version');
});
