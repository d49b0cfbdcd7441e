/**
 * The `test` every spec imports: Playwright's, plus
 * - `js`: whether this project runs with JavaScript (the `js` or the `no-js` project);
 * - `problems`: every console error, uncaught page error (a CSP violation is a console error) and
 *   failed same-origin response of the test, checked after the test: any that the test did not
 *   `allow` fails it;
 * - `images`: images made directly in Glance for this test, deleted again afterwards;
 * - `otherBrowser`: opens another person's browser (a context of its own, same project settings
 *   unless `javaScriptEnabled` is given, watched by `problems` too), closed after the test.
 */
import { test as base, expect, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import {
  accounts,
  addMember,
  createImage,
  deleteImage,
  getMember,
  keystoneToken,
  type Account,
  type CreateImageOptions,
  type Image,
  type ScopedToken,
} from './lab';

export interface Problem {
  kind: 'console' | 'pageerror' | 'http';
  text: string;
  url: string;
}

export class Problems {
  readonly seen: Problem[] = [];
  private allowed: RegExp[] = [];

  /** Accepts problems whose text or URL matches (e.g. the 401 of a wrong password). */
  allow(pattern: RegExp) {
    this.allowed.push(pattern);
  }

  record(p: Problem) {
    this.seen.push(p);
  }

  /** Records the problems of every page of `context` (a page of the dashboard at `origin`). */
  watch(context: BrowserContext, origin: string) {
    context.on('console', (msg) => {
      if (msg.type() === 'error') this.record({ kind: 'console', text: msg.text(), url: msg.location().url ?? '' });
    });
    context.on('weberror', (err) => {
      const e = err.error();
      this.record({ kind: 'pageerror', text: e.stack ?? e.message, url: err.page()?.url() ?? '' });
    });
    context.on('response', (res) => {
      if (res.status() >= 400 && new URL(res.url()).origin === origin) {
        this.record({ kind: 'http', text: `HTTP ${res.status()} for ${res.request().method()}`, url: res.url() });
      }
    });
  }

  unexpected(): Problem[] {
    return this.seen.filter((p) => !this.allowed.some((re) => re.test(p.text) || re.test(p.url)));
  }

  /** Content-Security-Policy violations among them. */
  csp(): Problem[] {
    return this.seen.filter((p) => /Content Security Policy|Content-Security-Policy/i.test(p.text));
  }

  static format(list: Problem[]): string {
    return list.map((p) => `[${p.kind}] ${p.text}${p.url ? ` (${p.url})` : ''}`).join('\n');
  }
}

export class TestImages {
  private made: { owner: ScopedToken; image: Image; region?: string }[] = [];

  /** Creates an image owned by `owner`'s project; deleted after the test. */
  async create(owner: ScopedToken, opts: CreateImageOptions = {}): Promise<Image> {
    const image = await createImage(owner, opts);
    this.made.push({ owner, image, region: opts.region });
    return image;
  }

  /**
   * A shared image of the producer's in `region` (default: region one), offered to `consumer`'s
   * project (pending), with the consumer's answer as Glance holds it.
   */
  async offeredTo(consumer: Account, region?: string) {
    const owner = await keystoneToken(accounts.producer());
    const consumerToken = await keystoneToken(consumer);
    const image = await this.create(owner, { visibility: 'shared', region });
    await addMember(owner, image.id, consumer.projectId, region);
    const inGlance = async () => (await getMember(consumerToken, image.id, consumer.projectId, region))?.status;
    return { image, owner, consumerToken, inGlance };
  }

  async cleanUp() {
    const errors: string[] = [];
    for (const { owner, image, region } of this.made.reverse()) {
      await deleteImage(owner, image.id, region).catch((e) => errors.push(String(e)));
    }
    this.made = [];
    if (errors.length) throw new Error(`could not delete the test's images:\n${errors.join('\n')}`);
  }
}

export const test = base.extend<{
  js: boolean;
  problems: Problems;
  images: TestImages;
  otherBrowser: (opts?: { javaScriptEnabled?: boolean }) => Promise<Page>;
}>({
  js: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },

  problems: [
    async ({ context, baseURL }, use, testInfo) => {
      const problems = new Problems();
      problems.watch(context, new URL(baseURL!).origin);

      await use(problems);

      if (problems.seen.length) {
        await testInfo.attach('browser-problems.txt', { body: Problems.format(problems.seen), contentType: 'text/plain' });
      }
      const csp = problems.csp();
      expect(csp, `Content-Security-Policy violations:\n${Problems.format(csp)}`).toEqual([]);
      const unexpected = problems.unexpected();
      expect(unexpected, `console errors, page errors or failed requests:\n${Problems.format(unexpected)}`).toEqual([]);
    },
    { auto: true },
  ],

  images: async ({}, use) => {
    const images = new TestImages();
    await use(images);
    await images.cleanUp();
  },

  otherBrowser: async ({ browser, baseURL, javaScriptEnabled, problems }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (opts = {}) => {
      const context = await browser.newContext({ baseURL, javaScriptEnabled: opts.javaScriptEnabled ?? javaScriptEnabled });
      problems.watch(context, new URL(baseURL!).origin);
      contexts.push(context);
      return context.newPage();
    });
    for (const context of contexts) await context.close();
  },
});

export { expect };

/** A full-page screenshot of a key step, kept in the test's output dir and in the report. */
export async function snap(page: Page, testInfo: TestInfo, name: string) {
  const shots = testInfo.attachments.filter((a) => a.contentType === 'image/png').length;
  const file = testInfo.outputPath(`${String(shots + 1).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}
