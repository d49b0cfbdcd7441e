/**
 * Batches: images ticked in "My images" × pasted project IDs, a preflight plan, then a result
 * for every pair that matches what Glance has afterwards.
 */
import { randomUUID } from 'node:crypto';
import type { Locator } from '@playwright/test';
import { test, expect, snap } from '../support/fixtures';
import { accounts, addMember, keystoneToken, listMembers, type Image } from '../support/lab';
import { expectSameDocument, markDocument, open, settle, signIn } from '../support/app';
import { imageList, madeUpProjectId } from '../support/images';

/** The cells of a table's body rows, as text. */
function cells(rows: Locator): Promise<string[][]> {
  return rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
}

test('a batch shares 3 images with 2 projects, keeping an existing pair and skipping a malformed ID', async ({ page, js, images }, testInfo) => {
  test.setTimeout(60_000);
  const owner = await keystoneToken(accounts.producer());
  const batchName = `e2e-batch-${randomUUID().slice(0, 8)}`;
  const made: Image[] = [];
  for (const n of [1, 2, 3]) made.push(await images.create(owner, { visibility: 'shared', name: `${batchName}-${n}` }));
  const [first, second] = [madeUpProjectId(), madeUpProjectId()];
  const malformed = 'bad/id';
  // One of the six pairs exists already.
  await addMember(owner, made[0].id, first);
  const expected = (image: Image, member: string) =>
    member === malformed ? 'skipped' : image.id === made[0].id && member === first ? 'already' : 'added';
  const pairs = made.flatMap((image) => [first, second, malformed].map((member) => ({ image, member, outcome: expected(image, member) })));

  // Tick the three images in My images (found by their common name).
  await signIn(page, js, accounts.producer(), { next: `/images?tab=mine&q=${batchName}` });
  const list = imageList(page);
  for (const image of made) await list.tick(image.name).check();
  await snap(page, testInfo, 'ticked-images');
  await list.batchButton.click();
  await expect(page).toHaveURL((url) => url.pathname === '/batch' && url.searchParams.getAll('image').length === 3);
  await settle(page, js);
  const main = page.getByRole('main');
  await expect(main).toContainText('3 images chosen.');

  await main.getByRole('textbox', { name: /^Projects/ }).fill([first, second, malformed].join('\n'));
  await expect(main.getByRole('radio', { name: 'Share', exact: true })).toBeChecked();
  await main.getByRole('button', { name: 'Preview the plan' }).click();
  await expect(main.getByRole('heading', { level: 2, name: /^Plan:/ })).toHaveText('Plan: Share — 6 of 9 pairs will run');
  await settle(page, js);
  const plan = await cells(main.locator('table.plan-pairs tbody tr'));
  const planned = { already: 'already a member', added: 'add', skipped: 'malformed ID' } as const;
  expect(plan.map(([image, member, what]) => [image, member, what.startsWith('malformed ID') ? 'malformed ID' : what]).sort()).toEqual(
    pairs.map((p) => [p.image.name, p.member, planned[p.outcome as keyof typeof planned]]).sort(),
  );
  await snap(page, testInfo, 'plan');
  // The preview changes nothing.
  expect((await listMembers(owner, made[0].id)).map((m) => m.member_id)).toEqual([first]);
  expect(await listMembers(owner, made[1].id)).toEqual([]);

  if (js) await markDocument(page);
  await main.getByRole('button', { name: 'Run 6 pairs' }).click();
  await expect(page).toHaveURL((url) => /^\/batch\/[0-9a-f]{32}$/.test(url.pathname));
  await expect(main.getByRole('heading', { level: 1 })).toHaveText('Share — finished');
  const summary = main.getByRole('status');
  await expect(summary).toContainText('9 of 9 pairs done: ');
  for (const part of ['5 added', '1 already a member', '3 skipped']) await expect(summary).toContainText(part);
  await expect(main.locator('progress')).toHaveAttribute('value', '9');
  await expect(main.locator('progress')).toHaveAttribute('max', '9');
  await expect(main.getByRole('button', { name: /^Retry/ })).toHaveCount(0);
  await settle(page, js);
  await snap(page, testInfo, 'result');
  if (js) await expectSameDocument(page, 'running the batch');

  const rows = main.locator('table.batch-pairs tbody tr');
  const outcomes = await rows.evaluateAll((trs) =>
    trs.map((tr) => {
      const [image, member, outcome] = [...tr.querySelectorAll('td')];
      return [image.textContent!.trim(), member.textContent!.trim(), outcome.className, outcome.textContent!.trim()];
    }),
  );
  const shown = { added: ['outcome done', 'added'], already: ['outcome already', 'already a member'], skipped: ['outcome skipped', 'skipped'] };
  expect(outcomes.map(([image, member, cls, text]) => [image, member, cls, text.startsWith('skipped: malformed ID') ? 'skipped' : text]).sort()).toEqual(
    pairs.map((p) => [p.image.name, p.member, ...shown[p.outcome as keyof typeof shown]]).sort(),
  );

  // Glance has exactly the two projects on every image, the existing pair untouched.
  for (const image of made) {
    const members = await listMembers(owner, image.id);
    expect(members.map((m) => m.member_id).sort(), `members of ${image.name}`).toEqual([first, second].sort());
    expect(members.map((m) => m.status)).toEqual(['pending', 'pending']);
  }
});

test('the Terraform text is copied to the clipboard, on the image page and on a batch result', async ({ page, js, images, baseURL }) => {
  test.skip(!js, 'copying needs JavaScript; without it the download link is the way');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(baseURL!).origin });
  const owner = await keystoneToken(accounts.producer());
  const image = await images.create(owner, { visibility: 'shared', name: `e2e-tf-copy-${randomUUID().slice(0, 8)}` });
  const member = madeUpProjectId();
  await addMember(owner, image.id, member);
  await signIn(page, js, accounts.producer(), { next: `/images/${image.id}?tf=opentelekomcloud` });
  const main = page.getByRole('main');

  const copied = async (pair: string) => {
    const text = await main.locator('#tf-text').inputValue();
    expect(text).toContain(pair);
    await main.getByRole('button', { name: 'Copy to the clipboard' }).click();
    await expect(main.getByRole('button', { name: 'Copied' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);
    return text;
  };
  const imageText = await copied(`${image.id}/${member}`);
  expect(imageText).toContain('opentelekomcloud_images_image_access_v2');

  // A batch sharing the image with a second project, then its export: the pair it added only.
  const second = madeUpProjectId();
  const started = await page.request.post('/api/batch_start', {
    headers: { origin: new URL(baseURL!).origin, accept: 'application/json' },
    form: { images: image.id, members: second, operation: 'share' },
  });
  expect(started.status()).toBe(200);
  const batchId: string = await started.json();
  await open(page, `/batch/${batchId}`, js);
  await expect(main.getByRole('heading', { level: 1 })).toHaveText('Share — finished');
  await main.getByRole('link', { name: 'OpenStack' }).click();
  await settle(page, js);
  const batchText = await copied(`${image.id}/${second}`);
  expect(batchText).not.toContain(member);
  expect(batchText).toContain('openstack_images_image_access_v2');
  await expect(main.getByRole('link', { name: /^Download batch-/ })).toHaveAttribute('href', /^data:text\/plain/);

  // The batch is listed on /batch, linking back to its result.
  await open(page, '/batch', js);
  // Other tests of the same user start batches too: this one's link is among them.
  await expect(page.getByRole('region', { name: 'Recent batches' }).locator(`a[href="/batch/${batchId}"]`)).toHaveCount(1);
});
