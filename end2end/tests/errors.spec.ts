/**
 * What goes wrong on purpose: sharing with a project that already is a member, and a session
 * whose token was revoked behind its back. (Glance going down is in glance-down.spec.ts, which
 * runs alone in a project of its own: no other spec stops the lab's services.)
 */
import { test, expect, snap } from '../support/fixtures';
import { accounts, addMember, keystoneToken, listMembers, revokeToken, setMemberStatus, tokenStatus } from '../support/lab';
import { expectStartPage, fillSignIn, open, pagesNav, session, settle, signIn, signInForm, submitSignIn } from '../support/app';
import { expectBadge, imageList, imagePage } from '../support/images';

test('sharing with a project that already is a member says so and changes nothing', async ({ page, js, images }, testInfo) => {
  const producer = accounts.producer();
  const consumer = accounts.consumer();
  const owner = await keystoneToken(producer);
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);
  await setMemberStatus(await keystoneToken(consumer), image.id, consumer.projectId, 'accepted');

  await signIn(page, js, producer, { next: `/images/${image.id}` });
  const p = imagePage(page);
  await expectBadge(p.member(consumer.projectId).locator('.badge'), 'accepted');
  await p.shareMembers.fill(consumer.projectId);
  await p.shareButton.click();
  // The producer cannot look the project up in Keystone, so it confirms first.
  await expect(p.confirmation.or(p.report)).toBeVisible();
  if (await p.confirmation.isVisible()) await p.shareAnyway.click();

  await expect(p.report).toContainText('Shared with 0 projects, 1 already had access.');
  const result = p.report.locator('table.results tbody tr');
  await expect(result).toHaveCount(1);
  await expect(result.locator('td').first()).toContainText(consumer.projectId);
  await expect(result.locator('td').nth(1)).toHaveText('already a member');
  // The existing membership keeps its answer.
  await expectBadge(p.member(consumer.projectId).locator('.badge'), 'accepted');
  await snap(page, testInfo, 'already-a-member');
  expect(await listMembers(owner, image.id)).toEqual([expect.objectContaining({ member_id: consumer.projectId, status: 'accepted' })]);
});

test('a session whose token was revoked elsewhere signs in again and comes back', async ({ page, js, problems }, testInfo) => {
  const producer = accounts.producer();
  const token = await keystoneToken(producer);
  // With JavaScript the list's data call is the one Glance refuses (401), and Chromium logs it.
  if (js) problems.allow(/HTTP 401 for POST|status of 401/);

  // Signed in through the API, with no page shown: every signed-in page asks Glance for the
  // pending count, and Glance keeps a token it has validated for up to token_cache_time
  // (300 s in the lab), so a revocation after that would only show minutes later.
  const base = new URL(testInfo.project.use.baseURL!).origin;
  const signedIn = await page.request.post('/api/sign_in', {
    form: { cloud: 'lab', method: 'token', token: token.token },
    headers: { Origin: base, Accept: 'application/json' },
  });
  expect(signedIn.status()).toBe(200);

  // Revoked at Keystone before the dashboard ever showed it to Glance.
  await revokeToken(token.token);
  expect(await tokenStatus(token.token)).toBe(404);

  await page.goto('/images?tab=mine');
  await expect(page).toHaveURL(
    (url) => url.pathname === '/signin' && url.searchParams.get('reason') === 'expired' && url.searchParams.get('next') === '/images?tab=mine',
  );
  // The form is filled below: with JavaScript, only once the page has hydrated.
  await settle(page, js);
  await expect(page.getByRole('main').getByRole('status')).toContainText('Your session has ended');
  // The session is over: the header must not go on showing it (soft: the journey goes on).
  await expect.soft(session(page).nav, 'the sign-in page says the session has ended, but the header still shows it').toHaveCount(0);
  await snap(page, testInfo, 'session-ended');

  await fillSignIn(page, producer);
  await submitSignIn(page, js);
  await expect(page).toHaveURL((url) => url.pathname === '/images' && url.searchParams.get('tab') === 'mine');
  await expect(imageList(page).tabs.getByRole('link', { name: 'My images' })).toHaveAttribute('aria-current', 'page');
  await expect(session(page).user).toHaveText(producer.user);
  await expect(imageList(page).table.or(page.getByText('This project owns no images in this region.'))).toBeVisible();
  await snap(page, testInfo, 'back-on-my-images');
});
