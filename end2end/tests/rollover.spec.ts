/**
 * Issue 16 end to end: "New version…" on an owned image suggests its newer build, shows the
 * plan (changing nothing), and runs it on the batch engine; Glance then holds the new offers,
 * and the old image is annotated exactly as chosen. Then the consumer, who had accepted the
 * old version, finds the new one in the inbox as its new version and accepts it, rejecting the
 * old one in the same step.
 */
import { randomUUID } from 'node:crypto';
import { test, expect, snap } from '../support/fixtures';
import { accounts, addMember, getImage, keystoneToken, listMembers, setMemberStatus } from '../support/lab';
import { expectSameDocument, markDocument, settle, signIn } from '../support/app';
import { madeUpProjectId } from '../support/images';

test('the owner rolls an image over to its new version; the consumer accepts it and rejects the old one', async ({ page, js, images }, testInfo) => {
  test.setTimeout(60_000);
  const owner = await keystoneToken(accounts.producer());
  const consumer = accounts.consumer();
  const consumerToken = await keystoneToken(consumer);
  const stem = `e2e-roll-${randomUUID().slice(0, 8)}`;
  const old = await images.create(owner, { visibility: 'shared', name: `${stem}-20261101` });
  const next = await images.create(owner, { visibility: 'private', name: `${stem}-20261201` });
  const other = madeUpProjectId();
  // The consumer accepted the old version; another project has not answered yet.
  await addMember(owner, old.id, consumer.projectId);
  await setMemberStatus(consumerToken, old.id, consumer.projectId, 'accepted');
  await addMember(owner, old.id, other);

  await signIn(page, js, accounts.producer(), { next: `/images/${old.id}` });
  const main = page.getByRole('main');
  await main.getByRole('link', { name: 'New version…' }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/images/${old.id}/new-version`);
  await settle(page, js);
  await expect(main.getByRole('heading', { level: 1 })).toHaveText(`New version of ${old.name}`);
  if (js) await markDocument(page);

  // The newer build is suggested by its name; the options are off until ticked.
  const suggestion = main.getByRole('radio', { name: new RegExp(`^${next.name}`) });
  await expect(suggestion).not.toBeChecked();
  await suggestion.check();
  for (const option of [/^Hide the old version/, /^Protect the old version/, /^Revoke the old version/]) {
    await expect(main.getByRole('checkbox', { name: option })).not.toBeChecked();
  }
  await main.getByRole('checkbox', { name: /^Record the successor/ }).check();
  await main.getByRole('checkbox', { name: /^Hide the old version/ }).check();
  await main.getByRole('button', { name: 'Preview the plan' }).click();
  await expect(main.getByRole('heading', { level: 2 })).toHaveText(`Plan: ${next.name} replaces ${old.name}`);
  await settle(page, js);
  await expect(main).toContainText(`${next.name} is private: it is made shared first.`);
  await expect(main).toContainText('2 projects offered');
  const rows = main.locator('table.rollover-members tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: consumer.projectId }).or(rows.filter({ hasText: consumer.project }))).toContainText('accepted');
  await expect(rows.first()).toContainText('pending until it accepts');
  await expect(main.locator('ul.plan-steps li')).toHaveText([
    `${old.name}: hide it from image lists (os_hidden)`,
    `${old.name}: record its successor (superseded_by=${next.id})`,
    `${next.name}: record its predecessor (supersedes=${old.id})`,
  ]);
  await snap(page, testInfo, 'plan');
  // The preview changes nothing.
  expect((await getImage(owner, next.id)).visibility).toBe('private');
  expect(await listMembers(owner, old.id)).toHaveLength(2);

  await main.getByRole('button', { name: 'Run: 2 pairs, 3 image changes' }).click();
  await expect(page).toHaveURL((url) => /^\/batch\/[0-9a-f]{32}$/.test(url.pathname));
  await expect(main.getByRole('heading', { level: 1 })).toHaveText(`New version: ${old.name} → ${next.name} — finished`);
  await expect(main.getByRole('status').first()).toContainText('2 of 2 pairs done: 2 added. Image changes: 3 of 3 made.');
  await expect(main.locator('table.batch-steps td.outcome')).toHaveText(['done', 'done', 'done']);
  await settle(page, js);
  await snap(page, testInfo, 'result');
  if (js) await expectSameDocument(page, 'the rollover');

  // Glance holds the new offers, pending, and the annotations; the old members stay.
  const members = (await listMembers(owner, next.id)).map((m) => [m.member_id, m.status]).sort();
  expect(members).toEqual([[consumer.projectId, 'pending'], [other, 'pending']].sort());
  expect((await listMembers(owner, old.id)).map((m) => m.member_id).sort()).toEqual([consumer.projectId, other].sort());
  const [oldNow, nextNow] = [await getImage(owner, old.id), await getImage(owner, next.id)];
  expect([oldNow.os_hidden, oldNow.superseded_by, oldNow.protected]).toEqual([true, next.id, false]);
  expect([nextNow.visibility, nextNow.supersedes]).toEqual(['shared', old.id]);

  // The consumer: the inbox says what the offer replaces, and one button answers both.
  await page.context().clearCookies();
  await signIn(page, js, consumer, { next: '/inbox' });
  const row = main.locator('tr').filter({ has: page.getByRole('link', { name: next.name, exact: true }) });
  await expect(row).toContainText(`new version of ${old.name}`);
  await snap(page, testInfo, 'consumer-inbox');
  if (js) await markDocument(page);
  await row.getByRole('button', { name: `Accept, and reject ${old.name}` }).click();
  await expect(main.getByRole('status').first()).toContainText(old.name);
  await settle(page, js);
  if (js) await expectSameDocument(page, 'accepting the new version');
  const answer = async (imageId: string) => (await listMembers(consumerToken, imageId)).map((m) => m.status);
  expect(await answer(next.id)).toEqual(['accepted']);
  expect(await answer(old.id)).toEqual(['rejected']);
});
