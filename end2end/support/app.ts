/**
 * The dashboard as a user sees it: opening pages, signing in through the form, and what the
 * header and the start page show. Selectors are the ones a user relies on (labels, roles, text)
 * wherever the markup offers them.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import type { Account } from './lab';

/**
 * Opens `path`. With JavaScript it also waits until the network has been quiet for 500 ms, so the
 * hydrate bundle has been fetched and run before the test touches the page (a click before
 * hydration would silently take the no-JavaScript path).
 */
export async function open(page: Page, path: string, js: boolean) {
  await page.goto(path, { waitUntil: js ? 'networkidle' : 'load' });
}

/** Waits for the page to settle after an action (navigation, form post, client-side update). */
export async function settle(page: Page, js: boolean) {
  await page.waitForLoadState(js ? 'networkidle' : 'load');
}

/**
 * Opens the access review at `path`, waits until it has been read, and checks it with `check`
 * (whose expectations should be quick: the finished page does not change), opening it again
 * until `check` passes. One review of an owner's project runs at a time (src/reviews.rs): a
 * page that asks while another test's review of the producer's project runs is given that one,
 * which may have read Glance before this test's changes; a later visit reviews afresh.
 */
export async function reviewUntil(page: Page, js: boolean, path: string, check: () => Promise<void>) {
  await expect(async () => {
    await open(page, path, js);
    const done = page.getByRole('navigation', { name: 'Views of the review' });
    await expect(done, 'the review is still being read').toBeVisible({ timeout: 20_000 });
    await check();
  }).toPass({ timeout: 60_000, intervals: [500, 1_000, 2_000] });
}

/** Switches the session to `region` with the header's region switch. */
export async function useRegion(page: Page, js: boolean, region: string) {
  await session(page).regionSwitch.selectOption(region);
  await session(page).nav.getByRole('button', { name: 'Use region' }).click();
  await settle(page, js);
}

export const signInForm = (page: Page) => page.locator('form[action="/api/sign_in"]');

export interface SignInOptions {
  /** Project name; `''` leaves the field empty (the user's default project). Default: the account's. */
  project?: string;
  /** Cloud name in the cloud <select> (only there when several clouds are configured). */
  cloud?: string;
  /** Project ID for the "Or project ID" field (used instead of the name); default: left empty. */
  projectId?: string;
}

/** Fills the password form of the sign-in page that is open. */
export async function fillSignIn(page: Page, who: Pick<Account, 'user' | 'password' | 'project'>, opts: SignInOptions = {}) {
  const form = signInForm(page);
  const cloud = form.locator('select[name="cloud"]');
  if (opts.cloud !== undefined || (await cloud.count()) > 0) await cloud.selectOption(opts.cloud ?? 'lab');
  await form.getByLabel('User name').fill(who.user);
  await form.getByLabel('Password').fill(who.password);
  // Exact: "Or project ID" would match the word too.
  await form.getByRole('textbox', { name: /^Project \(name/ }).fill(opts.project ?? who.project);
  if (opts.projectId !== undefined) await form.getByRole('textbox', { name: /^Or project ID/ }).fill(opts.projectId);
}

/** Signs in through the form of the open sign-in page and waits to have left it. */
export async function submitSignIn(page: Page, js: boolean) {
  await signInForm(page).getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/signin');
  await settle(page, js);
}

/** Opens the sign-in page (coming back to `next`), signs in, and waits for the page after it. */
export async function signIn(page: Page, js: boolean, who: Account, opts: SignInOptions & { next?: string } = {}) {
  await open(page, opts.next ? `/signin?next=${encodeURIComponent(opts.next)}` : '/signin', js);
  await fillSignIn(page, who, opts);
  await submitSignIn(page, js);
}

/** The signed-in part of the header. */
export function session(page: Page) {
  const nav = page.getByRole('navigation', { name: 'Your session' });
  return {
    nav,
    user: nav.locator('.user'),
    projectSwitch: nav.locator('#project-switch'),
    projectName: nav.locator('.project-name'),
    regionSwitch: nav.locator('#region-switch'),
    signOut: nav.getByRole('button', { name: 'Sign out' }),
  };
}

/**
 * The header's forms (project and region switch) bring the user back to the page they are on:
 * their hidden `next` fields name its path and query.
 */
export async function expectHeaderReturnsHere(page: Page) {
  const here = new URL(page.url());
  const next = session(page).nav.locator('input[type="hidden"][name="next"]');
  await expect(next.first()).toBeAttached();
  const values = await next.evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value));
  expect(values, `the header's Switch / Use region would go to ${values.join(', ')} instead of ${here.pathname}${here.search}`).toEqual(
    values.map(() => `${here.pathname}${here.search}`),
  );
}

/** The project the header says the user works in (the switcher's choice, or the plain name). */
export async function headerProject(page: Page): Promise<Locator> {
  const s = session(page);
  return (await s.projectSwitch.count()) > 0 ? s.projectSwitch.locator('option:checked') : s.projectName;
}

/** The start page and the header show `user` working in project `project` (`projectId`). */
export async function expectStartPage(page: Page, user: string, project: { project: string; projectId: string }) {
  await expect(page).toHaveURL((url) => url.pathname === '/');
  await expect(page.getByRole('heading', { level: 1, name: 'Image sharing' })).toBeVisible();
  const main = page.getByRole('main');
  await expect(main).toContainText(`You work in project ${project.project}`);
  await expect(main.locator('.copy-id code')).toHaveText(project.projectId);
  const s = session(page);
  await expect(s.user).toHaveText(user);
  await expect(await headerProject(page)).toHaveText(project.project);
  await expect(s.nav.locator('.copy-id code')).toHaveText(project.projectId);
}

/**
 * Asserts that the page hydrated: the hydrate bundle loaded, and a click on a sign-in tab is
 * handled by the client-side router (the document survives: a marker set on `window` is still
 * there). Until hydration has finished a click is a plain page load, so this retries for a while.
 * Must be called on the sign-in page.
 */
export async function expectHydrated(page: Page, pageErrors: () => string[]) {
  const wasm = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => e.name.endsWith('.wasm'))
      .map((e) => ({ url: e.name, status: (e as PerformanceResourceTiming).responseStatus })),
  );
  expect(wasm.length, 'the page loads no WebAssembly (hydrate bundle)').toBeGreaterThan(0);
  for (const w of wasm) expect(w.status, `the hydrate bundle ${w.url} answered ${w.status}`).toBe(200);

  const tabs = page.getByRole('navigation', { name: 'How to sign in' });
  await expect(async () => {
    expect(pageErrors(), 'uncaught errors while loading the app').toEqual([]);
    await page.evaluate(() => ((window as any).__e2eDocument = 'still here'));
    const onPassword = (await tabs.getByRole('link', { name: 'Password' }).getAttribute('aria-current')) === 'page';
    const target = onPassword ? 'Application credential' : 'Password';
    await tabs.getByRole('link', { name: target }).click();
    await expect(tabs.getByRole('link', { name: target })).toHaveAttribute('aria-current', 'page', { timeout: 3_000 });
    expect(
      await page.evaluate(() => (window as any).__e2eDocument),
      'clicking a tab loaded a new document: the page is not hydrated (yet)',
    ).toBe('still here');
  }).toPass({ timeout: 15_000, intervals: [250, 500, 1_000] });
}

/** The header's links to the image lists and the inbox (whose name includes its badge's). */
export function pagesNav(page: Page) {
  const nav = page.getByRole('navigation', { name: 'Pages' });
  const inbox = nav.getByRole('link', { name: /^Inbox\b/ });
  return {
    nav,
    myImages: nav.getByRole('link', { name: 'My images' }),
    sharedWithMe: nav.getByRole('link', { name: 'Shared with me' }),
    inbox,
    /** The number of pending offers on the Inbox link; not there when there are none. */
    pendingBadge: inbox.locator('.badge.pending.count'),
  };
}

/**
 * The count the header's pending badge shows (0 when there is no badge). The number, its
 * `aria-label` ("1 pending offer", "3 pending offers") and its `title` must agree.
 */
export async function pendingBadgeCount(page: Page): Promise<number> {
  const badge = pagesNav(page).pendingBadge;
  await expect(pagesNav(page).inbox).toBeVisible();
  if ((await badge.count()) === 0) return 0;
  const text = (await badge.textContent())?.trim() ?? '';
  expect(text, `the pending badge shows "${text}", not a number`).toMatch(/^[1-9][0-9]*$/);
  const n = Number(text);
  const label = `${n} pending offer${n === 1 ? '' : 's'}`;
  await expect(badge).toHaveAttribute('aria-label', label);
  await expect(badge).toHaveAttribute('title', label);
  return n;
}

/**
 * Marks the document on `window`: with JavaScript, actions update the page client-side, so the
 * mark must still be there afterwards (`expectSameDocument`); a full page load would lose it.
 */
export async function markDocument(page: Page) {
  await page.evaluate(() => ((window as any).__e2eDocument = 'no full reload since'));
}

export async function expectSameDocument(page: Page, what: string) {
  expect(await page.evaluate(() => (window as any).__e2eDocument), `${what} loaded a new document instead of updating the page`).toBe(
    'no full reload since',
  );
}
