/**
 * The consumer's journeys: an image offered to its project is found under "Shared with me",
 * accepted, rejected (after a confirmation) and set back to pending, each answer checked in
 * Glance and in the list's status filter; and an offer counted by the header's pending badge is
 * accepted in the inbox, after which the badge counts one less.
 */
import type { Page } from '@playwright/test';
import { test, expect, snap } from '../support/fixtures';
import { accounts, addMember, getMember, keystoneToken, pendingOffers, regions, setMemberStatus, type MemberStatus, type ScopedToken } from '../support/lab';
import { expectSameDocument, markDocument, open, pagesNav, pendingBadgeCount, settle, signIn, useRegion } from '../support/app';
import { expectBadge, imageList, imagePage, inboxPage } from '../support/images';

/** Opens "Shared with me" from the header, filtered by `status` with the list's own links. */
async function sharedWithMe(page: Page, js: boolean, status: MemberStatus | 'all') {
  await pagesNav(page).sharedWithMe.click();
  await expect(page).toHaveURL((url) => url.pathname === '/images' && url.searchParams.get('tab') === 'shared');
  await settle(page, js);
  const list = imageList(page);
  await list.statusFilter.getByRole('link', { name: status, exact: true }).click();
  await expect(list.statusFilter.getByRole('link', { name: status, exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(page).toHaveURL((url) => (url.searchParams.get('status') ?? 'all') === status);
  await settle(page, js);
  return list;
}

test('a consumer accepts an offered image, rejects it, and sets it back to pending', async ({ page, js, images }, testInfo) => {
  test.setTimeout(60_000);
  const consumer = accounts.consumer();
  const { image, inGlance } = await images.offeredTo(consumer);

  await signIn(page, js, consumer);
  let list = await sharedWithMe(page, js, 'pending');
  await expectBadge(list.statusOf(image.name), 'pending');
  await snap(page, testInfo, 'shared-with-me-pending');
  await list.row(image.name).getByRole('link', { name: image.name, exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/images/${image.id}`);
  await settle(page, js);

  const p = imagePage(page);
  await expect(p.heading).toHaveText(image.name);
  await expectBadge(p.offerStatus, 'pending');
  // Only the answers it does not have yet are offered.
  await expect(p.offer.getByRole('button', { name: `Set back to pending ${image.name}` })).toHaveCount(0);
  if (js) await markDocument(page);

  await p.offerButton('Accept', image.name).click();
  await expectBadge(p.offerStatus, 'accepted');
  await settle(page, js);
  await snap(page, testInfo, 'accepted');
  expect(await inGlance()).toBe('accepted');
  if (js) await expectSameDocument(page, 'accepting');

  list = await sharedWithMe(page, js, 'accepted');
  await expectBadge(list.statusOf(image.name), 'accepted');
  await snap(page, testInfo, 'shared-with-me-accepted');
  list = await sharedWithMe(page, js, 'pending');
  await expect(list.row(image.name)).toHaveCount(0);
  if (js) await expectSameDocument(page, 'the list filters');

  // Rejecting asks first.
  await page.goto(`/images/${image.id}`, { waitUntil: js ? 'networkidle' : 'load' });
  if (js) await markDocument(page);
  await p.rejectLink(image.name).click();
  await expect(page).toHaveURL((url) => url.pathname === `/images/${image.id}` && url.searchParams.get('confirm') === 'reject');
  const confirm = p.offer.getByRole('alertdialog');
  const question = `Reject the offer of image ${image.name}?`;
  await expect
    .soft(confirm, 'the Reject… link changed the address but the page shows no confirmation')
    .toContainText(question);
  if (!(await confirm.isVisible())) {
    // Fails the test (soft assertion above), but goes on from the confirmation as the server renders it.
    await page.reload({ waitUntil: js ? 'networkidle' : 'load' });
    if (js) await markDocument(page);
  }
  await expect(confirm).toContainText(question);
  await settle(page, js);
  await snap(page, testInfo, 'confirm-reject');
  expect(await inGlance(), 'the offer changed before the rejection was confirmed').toBe('accepted');
  await confirm.getByRole('button', { name: 'Reject', exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/images/${image.id}` && !url.searchParams.has('confirm'));
  await expectBadge(p.offerStatus, 'rejected');
  await expect(p.offer.getByRole('alertdialog')).toHaveCount(0);
  await settle(page, js);
  await snap(page, testInfo, 'rejected');
  expect(await inGlance()).toBe('rejected');

  await p.offerButton('Set back to pending', image.name).click();
  await expectBadge(p.offerStatus, 'pending');
  await settle(page, js);
  await snap(page, testInfo, 'pending-again');
  expect(await inGlance()).toBe('pending');
  if (js) await expectSameDocument(page, 'rejecting and setting back to pending');
});

/**
 * Loads the start page afresh until the header's pending badge can be compared with Glance:
 * other tests offer images to the same project and answer them at the same time, so Glance's
 * pending offers are read before and after the page is loaded, and only a reading during which
 * they did not change counts. The badge must then show exactly that many.
 */
async function badgeAgainstGlance(page: Page, js: boolean, consumer: ScopedToken, region?: string) {
  let seen = { shown: -1, pending: [] as string[] };
  await expect(async () => {
    const before = await pendingOffers(consumer, region);
    await open(page, '/', js);
    const shown = await pendingBadgeCount(page);
    const after = await pendingOffers(consumer, region);
    expect([...after].sort(), 'other tests changed the pending offers while the page loaded').toEqual([...before].sort());
    expect(shown, `the badge shows ${shown}, Glance has ${after.length} pending offers to ${consumer.projectName}`).toBe(after.length);
    seen = { shown, pending: after };
  }).toPass({ timeout: 20_000, intervals: [200, 500, 1_000] });
  return seen;
}

test('the header badge counts a new offer; accepting it in the inbox takes it off the badge and into Shared with me', async ({ page, js, images }, testInfo) => {
  test.setTimeout(60_000);
  const consumer = accounts.consumer();
  const { image, consumerToken } = await images.offeredTo(consumer);

  await signIn(page, js, consumer);
  // Read on a page loaded afresh: with JavaScript the badge is not there straight after signing
  // in (see the known-bug test below).
  const before = await badgeAgainstGlance(page, js, consumerToken);
  expect(before.pending, 'Glance does not list the fresh offer as pending').toContain(image.id);
  expect(before.shown).toBeGreaterThanOrEqual(1);
  await expect(pagesNav(page).pendingBadge).toBeVisible();
  await snap(page, testInfo, 'header-badge');

  await pagesNav(page).inbox.click();
  await expect(page).toHaveURL((url) => url.pathname === '/inbox');
  await settle(page, js);
  const inbox = inboxPage(page);
  await expect(inbox.heading).toBeVisible();
  const row = inbox.row(image.name, consumer.project);
  await expectBadge(row.locator('.badge'), 'pending');
  await inbox.tick(image.name, consumer.project).check();
  await inbox.answer.selectOption({ label: 'Accept' });
  await snap(page, testInfo, 'inbox-offer-ticked');
  if (js) await markDocument(page);

  await inbox.apply.click();
  await expect(inbox.report).toContainText('Accepted 1 offer.');
  await expectBadge(inbox.row(image.name, consumer.project).locator('.badge'), 'accepted');
  await settle(page, js);
  await snap(page, testInfo, 'inbox-accepted');
  expect((await getMember(consumerToken, image.id, consumer.projectId))?.status).toBe('accepted');
  if (js) await expectSameDocument(page, 'answering in the inbox');

  // The badge, read again on a page loaded afresh: one offer less than before, apart from the
  // offers other tests made or answered in the meantime. (Not a reload of /inbox?report=…: with
  // JavaScript that page now and then fails to hydrate, a bug of its own.)
  const after = await badgeAgainstGlance(page, js, consumerToken);
  expect(after.pending, 'Glance still lists the accepted offer as pending').not.toContain(image.id);
  const othersNew = after.pending.filter((id) => !before.pending.includes(id)).length;
  const othersGone = before.pending.filter((id) => id !== image.id && !after.pending.includes(id)).length;
  expect(after.shown, `the badge went from ${before.shown} to ${after.shown}; other tests added ${othersNew} and took away ${othersGone} offers`).toBe(
    before.shown - 1 + othersNew - othersGone,
  );
  await snap(page, testInfo, 'header-badge-after');

  const list = await sharedWithMe(page, js, 'accepted');
  await expectBadge(list.statusOf(image.name), 'accepted');
  await snap(page, testInfo, 'shared-with-me-accepted');
});

// Bugs these tests found in the inbox journey with JavaScript, fixed since: the badge is asked
// again on every page change, the inbox form is reset after an answer, and the image lists no
// longer nest the offer buttons' forms in the batch form (which broke hydration).

test('straight after signing in, the header badge counts the pending offers', async ({ page, js, images }, testInfo) => {
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);

  await signIn(page, js, consumer);
  await expect(page).toHaveURL((url) => url.pathname === '/');
  await snap(page, testInfo, 'signed-in');
  // No reload. Other tests' offers to the project can only add to this one.
  await expect(pagesNav(page).pendingBadge, 'no pending badge on the page the sign-in led to').toBeVisible();
  expect(await pendingBadgeCount(page)).toBeGreaterThanOrEqual(1);
});

test('after answering in the inbox no offer is left ticked', async ({ page, js, images }, testInfo) => {
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const name = `e2e-tick-${Date.now()}`;
  const chosen = await images.create(owner, { visibility: 'shared', name: `${name}-a` });
  const other = await images.create(owner, { visibility: 'shared', name: `${name}-b` });
  await addMember(owner, chosen.id, consumer.projectId);
  await addMember(owner, other.id, consumer.projectId);

  await signIn(page, js, consumer, { next: '/inbox' });
  const inbox = inboxPage(page);
  await inbox.tick(chosen.name, consumer.project).check();
  await inbox.answer.selectOption({ label: 'Accept' });
  await inbox.apply.click();
  await expect(inbox.report).toContainText('Accepted 1 offer.');
  await expectBadge(inbox.row(chosen.name, consumer.project).locator('.badge'), 'accepted');
  await settle(page, js);
  await snap(page, testInfo, 'inbox-after-apply');
  const ticked = inbox.main.getByRole('checkbox', { checked: true });
  await expect(ticked, `still ticked after Apply: ${await ticked.evaluateAll((c) => c.map((e) => e.getAttribute('aria-label')).join(', '))}`).toHaveCount(0);
});

test('Shared with me loaded afresh lists an accepted offer, and the page hydrates', async ({ page, js, images, problems }, testInfo) => {
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);
  await setMemberStatus(await keystoneToken(consumer), image.id, consumer.projectId, 'accepted');

  await signIn(page, js, consumer);
  await open(page, '/images?tab=shared&status=accepted', js);
  const list = imageList(page);
  await expectBadge(list.statusOf(image.name), 'accepted');
  await snap(page, testInfo, 'shared-with-me-loaded');
  const errors = problems.seen.filter((p) => p.kind === 'pageerror' || /panicked at/.test(p.text));
  expect(errors.map((p) => p.text.split('\n')[0]), 'the page did not hydrate').toEqual([]);
});

// Issue 12 item 8: with JavaScript, answering in the Shared with me list stays on the same page,
// so nothing asked the badge again: it kept the old count until a reload.
test('accepting in the Shared with me list updates the header badge in place', async ({ page, js, images }, testInfo) => {
  test.skip(!js, 'without JavaScript the answer reloads the page, which counts afresh');
  // In region two, where no other test offers images to the consumer's project: the badge drawn
  // with the answer is not drawn again, so the count must not move under it (in region one other
  // tests offer and answer all the time). Two offers, so that the badge goes from one number to
  // another, not just away.
  const { two } = regions();
  const consumer = accounts.consumer();
  const { image, consumerToken, inGlance } = await images.offeredTo(consumer, two);
  const { image: other } = await images.offeredTo(consumer, two);

  await signIn(page, js, consumer);
  await useRegion(page, js, two);
  const before = await badgeAgainstGlance(page, js, consumerToken, two);
  expect(before.pending).toEqual(expect.arrayContaining([image.id, other.id]));
  const list = await sharedWithMe(page, js, 'pending');
  await expectBadge(list.statusOf(image.name), 'pending');
  await markDocument(page);

  await list.row(image.name).getByRole('button', { name: `Accept ${image.name}` }).click();
  await expect(list.row(image.name)).toHaveCount(0);
  expect(await inGlance()).toBe('accepted');
  // No reload: the badge must now agree with Glance, which has one pending offer less.
  const after = await pendingOffers(consumerToken, two);
  expect([...after].sort()).toEqual(before.pending.filter((id) => id !== image.id).sort());
  await expect.poll(() => pendingBadgeCount(page), { message: 'the badge kept its count after the answer' }).toBe(after.length);
  await expectSameDocument(page, 'answering in the list');
  await snap(page, testInfo, 'badge-after-list-accept');
});

test('in the inbox, Apply without choosing an answer accepts the ticked offer', async ({ page, js, images }, testInfo) => {
  // The bulk answer used to default to "Set back to pending": a first Apply on new offers
  // silently did nothing.
  const consumer = accounts.consumer();
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);

  await signIn(page, js, consumer, { next: '/inbox' });
  const inbox = inboxPage(page);
  await expectBadge(inbox.row(image.name, consumer.project).locator('.badge'), 'pending');
  await expect(inbox.answer.locator('option:checked'), 'the answer chosen before anything is picked').toHaveText('Accept');
  await inbox.tick(image.name, consumer.project).check();
  await snap(page, testInfo, 'inbox-default-answer');
  await inbox.apply.click();
  await expect(inbox.report).toContainText('Accepted 1 offer.');
  await expectBadge(inbox.row(image.name, consumer.project).locator('.badge'), 'accepted');
  expect((await getMember(owner, image.id, consumer.projectId))?.status, 'Glance has the answer').toBe('accepted');
});
