import { test, expect } from '../support/fixtures';
import { accounts } from '../support/lab';
import { expectStartPage, fillSignIn, open, submitSignIn } from '../support/app';

// The walk-through's open redirect: `next=/%09/evil.example` made the server answer
// `Location: /\t/evil.example`, and the browser, dropping the tab, went to evil.example.
// Whatever `next` says, signing in lands on the dashboard.
for (const next of ['/%09/evil.example', '/%5Cevil.example', '//evil.example', '/%01/evil.example']) {
  test(`signing in with next=${next} stays on the dashboard`, async ({ page, js, baseURL }) => {
    const producer = accounts.producer();
    // Had the browser left, it would show this page instead of failing to resolve the name.
    await page.route((url) => url.hostname === 'evil.example', (route) => route.fulfill({ status: 200, body: 'left the dashboard' }));
    await open(page, `/signin?next=${next}`, js);
    await fillSignIn(page, producer);
    await submitSignIn(page, js);
    expect(new URL(page.url()).origin).toBe(new URL(baseURL!).origin);
    await expectStartPage(page, producer.user, producer);
  });
}
