import { test, expect, snap } from '../support/fixtures';
import { accounts } from '../support/lab';
import {
  expectHydrated,
  expectStartPage,
  fillSignIn,
  open,
  session,
  signInForm,
  submitSignIn,
} from '../support/app';

test.describe('sign-in', () => {
  test('the image owner signs in with a password and lands on the start page', async ({ page, js, problems }, testInfo) => {
    const producer = accounts.producer();
    await open(page, '/signin', js);

    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    const tabs = page.getByRole('navigation', { name: 'How to sign in' });
    await expect(tabs.getByRole('link')).toHaveText(['Password', 'Application credential', 'Existing token']);
    await expect(tabs.getByRole('link', { name: 'Password' })).toHaveAttribute('aria-current', 'page');
    // The lab's clouds.yaml has two clouds, so the form offers a choice.
    await expect(signInForm(page).locator('select[name="cloud"] option')).toHaveText([/^lab \(/, /^lab-region-two \(/]);
    await expect(session(page).nav).toHaveCount(0);
    await snap(page, testInfo, 'sign-in-page');

    if (js) {
      await expectHydrated(page, () => problems.seen.filter((p) => p.kind === 'pageerror').map((p) => p.text));
      const password = tabs.getByRole('link', { name: 'Password' });
      if ((await password.getAttribute('aria-current')) !== 'page') await password.click();
      await expect(signInForm(page).getByLabel('User name')).toBeVisible();
      // From here on the hydrated form signs in by fetch and navigates client-side.
      await page.evaluate(() => ((window as any).__e2eDocument = 'signed in without reload'));
    }

    await fillSignIn(page, producer);
    await submitSignIn(page, js);
    await expectStartPage(page, producer.user, producer);
    if (js) {
      expect(await page.evaluate(() => (window as any).__e2eDocument), 'the hydrated sign-in reloaded the page').toBe(
        'signed in without reload',
      );
    }
    await snap(page, testInfo, 'start-page');
  });

  test('a wrong password shows the error on the form', async ({ page, js, problems }, testInfo) => {
    // The only user that wrong-password tests may use (see accounts.producerB).
    const who = accounts.producerB();
    // The hydrated form's fetch gets Keystone's refusal as a 401, which Chromium logs as an error.
    if (js) problems.allow(/\/api\/sign_in$/);
    await open(page, '/signin', js);
    await fillSignIn(page, { ...who, password: `${who.password}-wrong` });
    await signInForm(page).getByRole('button', { name: 'Sign in' }).click();

    await expect(signInForm(page).getByRole('alert')).toContainText('Keystone did not accept these details');
    await expect(page).toHaveURL((url) => url.pathname === '/signin');
    await expect(session(page).nav).toHaveCount(0);
    await expect(signInForm(page).getByRole('button', { name: 'Sign in' })).toBeEnabled();
    await snap(page, testInfo, 'wrong-password');
  });

  test('an anonymous visit to the start page signs in first and comes back', async ({ page, js }, testInfo) => {
    const producer = accounts.producer();
    await open(page, '/', js);
    await expect(page).toHaveURL((url) => url.pathname === '/signin' && url.searchParams.get('next') === '/');
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    await snap(page, testInfo, 'sent-to-sign-in');

    // No project given: Keystone's default project of the user.
    await fillSignIn(page, producer, { project: '' });
    await submitSignIn(page, js);
    await expectStartPage(page, producer.user, producer);
    await snap(page, testInfo, 'back-on-start-page');
  });

  test('a project chosen by its ID wins over the name', async ({ page, js }, testInfo) => {
    const consumer = accounts.consumer();
    const consumerB = accounts.consumerB();
    await open(page, '/signin', js);
    // The name says consumer; the ID says consumer-b, and the ID is what counts.
    await fillSignIn(page, consumer, { projectId: consumerB.projectId });
    await submitSignIn(page, js);
    await expectStartPage(page, consumer.user, consumerB);
    await snap(page, testInfo, 'signed-in-by-project-id');
  });
});
