/**
 * Projects by name (issue 14), on the second server, which has the lab's directory reader
 * (support/servers.ts): the owner shares by typing a project's name, sees which project it names
 * ("consumer-b (Default) → ID") and confirms; with JavaScript it picks the name from the
 * suggestions; an ambiguous name (`twin`, in two domains) is refused; the consumer sees the owner
 * by name under Shared with me; the image page with names passes axe and fits a phone. And the
 * first server, without a directory, says how names are turned on. Every share is checked in
 * Glance itself.
 */
import type { Page, TestInfo } from '@playwright/test';
import { test, expect, snap } from '../support/fixtures';
import { horizontalScroll, seriousViolations } from '../support/a11y';
import { accounts, addMember, keystoneToken, labVar, listMembers, type Account, type Image, type ScopedToken } from '../support/lab';
import { expectSameDocument, markDocument, settle, signIn } from '../support/app';
import { expectBadge, expectProjectNamed, imageList, imagePage } from '../support/images';
import { directoryBaseURL } from '../support/servers';

/** The lab's domain of its demo projects, by name, as the dashboard shows it. */
const domain = () => labVar('LAB_DOMAIN');

/**
 * The confirmation after the share box got `account`'s project by name: the line
 * "project NAME (DOMAIN) → ID", nothing in Glance yet; confirming shares with the ID, and the
 * member table then lists the project by name, pending, as Glance does.
 */
async function confirmSharedByName(page: Page, js: boolean, testInfo: TestInfo, owner: ScopedToken, image: Image, account: Account) {
  const p = imagePage(page);
  const dialog = p.main.getByRole('alertdialog');
  await expect(dialog).toContainText('Nothing was shared yet');
  await expect(dialog.locator('li')).toHaveText([`${account.project}: project ${account.project} (${domain()}) → ${account.projectId}`]);
  await expect(dialog).toContainText(`Confirming shares the image with: ${account.project} (${domain()}).`);
  // Confirming sends the ID the user saw, never the name.
  await expect(dialog.locator('input[type="hidden"][name="members"]')).toHaveValue(account.projectId);
  expect(await listMembers(owner, image.id), 'Glance got a member before the name was confirmed').toEqual([]);
  await settle(page, js);
  await snap(page, testInfo, 'confirm-name');
  if (js) await expectSameDocument(page, 'sharing by name');

  await p.shareWithThese.click();
  await expect(p.report).toContainText('Shared with 1 project.');
  await expect(p.report.locator('table.results')).toContainText(`${account.projectId} (${account.project} (${domain()}))`);
  await expect(p.main.getByRole('alertdialog')).toHaveCount(0);
  await expectBadge(p.member(account.projectId).locator('.badge'), 'pending');
  await expectProjectNamed(p.memberProject(account.projectId), { name: account.project, domain: domain(), id: account.projectId });
  await settle(page, js);
  await snap(page, testInfo, 'shared-by-name');
  if (js) await expectSameDocument(page, 'confirming the name');

  expect(await listMembers(owner, image.id)).toEqual([expect.objectContaining({ member_id: account.projectId, status: 'pending' })]);
}

test.describe('with the directory reader: projects by name', () => {
  test.use({ baseURL: directoryBaseURL });

  test("the owner shares an image by typing a project's name, sees the project it names and confirms", async ({ page, js, images }, testInfo) => {
    const producer = accounts.producer();
    const consumerB = accounts.consumerB();
    const owner = await keystoneToken(producer);
    const image = await images.create(owner, { visibility: 'shared' });

    await signIn(page, js, producer, { next: `/images/${image.id}` });
    const p = imagePage(page);
    await expect(p.heading).toHaveText(image.name);
    await expect(p.noMembers).toBeVisible();
    await expect(p.shareHint).toContainText('A name is looked up before anything is shared');
    if (js) await markDocument(page);
    await p.shareMembers.fill(consumerB.project);
    await snap(page, testInfo, 'share-form-name');
    await p.shareButton.click();

    await confirmSharedByName(page, js, testInfo, owner, image, consumerB);
  });

  test('with JavaScript, typing part of a name suggests the project; picking it puts its name in the box', async ({ page, js, images }, testInfo) => {
    test.skip(!js, 'suggestions need JavaScript; without it the name is typed in full (test above)');
    const producer = accounts.producer();
    const consumerB = accounts.consumerB();
    const owner = await keystoneToken(producer);
    const image = await images.create(owner, { visibility: 'shared' });

    await signIn(page, js, producer, { next: `/images/${image.id}` });
    const p = imagePage(page);
    await expect(p.heading).toHaveText(image.name);
    await markDocument(page);
    await p.shareMembers.click();
    await p.shareMembers.pressSequentially('consumer-', { delay: 40 });

    const suggestion = p.suggestion(`${consumerB.project} (${domain()})`, consumerB.projectId);
    await expect(suggestion).toBeVisible();
    await expect(suggestion).toHaveText(`${consumerB.project} (${domain()})`);
    await expect(p.suggestionStatus).toHaveText('Projects matching \u201cconsumer-\u201d:');
    // Only projects whose name contains what was typed ("consumer" itself does not).
    for (const label of await p.suggestions.allTextContents()) expect(label).toContain('consumer-');
    await snap(page, testInfo, 'suggestions');

    await suggestion.click();
    await expect(p.shareMembers).toHaveValue(/^consumer-b\s*$/);
    await expect(p.shareMembers).toBeFocused();
    // Picking closes the list.
    await expect(p.suggestions).toHaveCount(0);
    await expect(p.suggestionStatus).toHaveText('');
    expect(await listMembers(owner, image.id), 'picking a suggestion shared already').toEqual([]);
    await p.shareButton.click();

    await confirmSharedByName(page, js, testInfo, owner, image, consumerB);
  });

  test('an ambiguous name is refused, listing the ID of every project that has it', async ({ page, js, images }, testInfo) => {
    const producer = accounts.producer();
    const owner = await keystoneToken(producer);
    const image = await images.create(owner, { visibility: 'shared' });
    const twin = labVar('LAB_TWIN_PROJECT');
    const twins = [
      { domain: domain(), id: labVar('LAB_TWIN_PROJECT_ID') },
      { domain: labVar('LAB_PARTNERS_DOMAIN'), id: labVar('LAB_PARTNERS_TWIN_PROJECT_ID') },
    ];

    await signIn(page, js, producer, { next: `/images/${image.id}` });
    const p = imagePage(page);
    await expect(p.heading).toHaveText(image.name);
    if (js) await markDocument(page);
    await p.shareMembers.fill(twin);
    await p.shareButton.click();

    const dialog = p.main.getByRole('alertdialog');
    await expect(dialog).toContainText('Nothing was shared: none of these can be shared with.');
    const line = dialog.locator('li');
    await expect(line).toHaveCount(1);
    await expect(line).toHaveClass(/\bbad\b/);
    await expect(line).toContainText('2 projects have this name, so none is chosen');
    for (const t of twins) await expect(line).toContainText(`${twin} (${t.domain}) → ${t.id}`);
    // Nothing to confirm: no button shares with either.
    await expect(dialog).toContainText('Confirming would change nothing');
    await expect(dialog.getByRole('button')).toHaveCount(0);
    await expect(p.shareWithThese).toHaveCount(0);
    await expect(p.noMembers).toBeVisible();
    await settle(page, js);
    await snap(page, testInfo, 'ambiguous-name');
    if (js) await expectSameDocument(page, 'sharing with an ambiguous name');

    expect(await listMembers(owner, image.id)).toEqual([]);
  });

  test('with JavaScript, picking one of two projects of the same name puts its ID in the box, and shares with that one', async ({ page, js, images }, testInfo) => {
    test.skip(!js, 'suggestions need JavaScript');
    const producer = accounts.producer();
    const owner = await keystoneToken(producer);
    const image = await images.create(owner, { visibility: 'shared' });
    const twin = labVar('LAB_TWIN_PROJECT');
    const partners = { name: twin, domain: labVar('LAB_PARTNERS_DOMAIN'), id: labVar('LAB_PARTNERS_TWIN_PROJECT_ID') };

    await signIn(page, js, producer, { next: `/images/${image.id}` });
    const p = imagePage(page);
    await expect(p.heading).toHaveText(image.name);
    await markDocument(page);
    await p.shareMembers.click();
    await p.shareMembers.pressSequentially(twin, { delay: 40 });
    await expect(p.suggestion(`${twin} (${domain()})`, labVar('LAB_TWIN_PROJECT_ID'))).toBeVisible();
    const suggestion = p.suggestion(`${twin} (${partners.domain})`, partners.id);
    await expect(suggestion).toBeVisible();
    await snap(page, testInfo, 'twin-suggestions');

    await suggestion.click();
    // The name would be ambiguous: the ID goes in instead.
    await expect(p.shareMembers).toHaveValue(new RegExp(`^${partners.id}\\s*$`));
    await p.shareButton.click();

    // An ID the directory names needs no confirmation: it is shared at once.
    await expect(p.report).toContainText('Shared with 1 project.');
    await expect(p.report.locator('table.results')).toContainText(`${partners.id} (${twin} (${partners.domain}))`);
    await expectBadge(p.member(partners.id).locator('.badge'), 'pending');
    await expectProjectNamed(p.memberProject(partners.id), partners);
    await settle(page, js);
    await snap(page, testInfo, 'shared-with-partners-twin');
    await expectSameDocument(page, 'sharing with a picked ID');
    expect(await listMembers(owner, image.id)).toEqual([expect.objectContaining({ member_id: partners.id, status: 'pending' })]);
  });

  test('the consumer sees the owner of an offered image by name under Shared with me', async ({ page, js, images }, testInfo) => {
    const producer = accounts.producer();
    const consumer = accounts.consumer();
    const { image } = await images.offeredTo(consumer);

    // Other tests offer images to the same project meanwhile: look for this one by name.
    await signIn(page, js, consumer, { next: `/images?tab=shared&q=${encodeURIComponent(image.name)}` });
    const list = imageList(page);
    await expectBadge(list.statusOf(image.name), 'pending');
    await expectProjectNamed(list.ownerOf(image.name, producer.projectId), { name: producer.project, domain: domain(), id: producer.projectId });
    await snap(page, testInfo, 'shared-with-me-owner-named');
  });

  test('the image page with names passes axe and fits a phone, with the suggestions open', async ({ page, js, images }, testInfo) => {
    // Two widths, axe in two colour schemes at each.
    test.setTimeout(60_000);
    const producer = accounts.producer();
    const consumer = accounts.consumer();
    const consumerB = accounts.consumerB();
    const owner = await keystoneToken(producer);
    const image = await images.create(owner, { visibility: 'shared' });
    await addMember(owner, image.id, consumer.projectId);
    await addMember(owner, image.id, consumerB.projectId);

    await signIn(page, js, producer, { next: `/images/${image.id}` });
    const p = imagePage(page);
    for (const a of [consumer, consumerB]) {
      await expectProjectNamed(p.memberProject(a.projectId), { name: a.project, domain: domain(), id: a.projectId });
    }
    if (js) {
      await p.shareMembers.click();
      await p.shareMembers.pressSequentially('consumer', { delay: 40 });
      await expect(p.suggestion(`${consumerB.project} (${domain()})`, consumerB.projectId)).toBeVisible();
      await expect(p.suggestion(`${consumer.project} (${domain()})`, consumer.projectId)).toBeVisible();
    }

    const found: string[] = [];
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 844 });
      // axe-core cannot run with JavaScript disabled; the markup is the server's either way.
      if (js) found.push(...(await seriousViolations(page, testInfo, `image-page-names-${width}px`)));
      found.push(...(await horizontalScroll(page, testInfo, 'image-page-names', [width])));
      if (js) await expect(p.suggestions.first(), 'the suggestions closed').toBeVisible();
    }
    expect(found, `accessibility or layout problems:\n${found.join('\n')}`).toEqual([]);
  });
});

test('without a directory reader the share box takes IDs only and says how an operator turns names on', async ({ page, js, images }, testInfo) => {
  // The first server (every other spec's): no GLANCE_SHARE_DIRECTORY_* settings.
  const producer = accounts.producer();
  const consumer = accounts.consumer();
  const owner = await keystoneToken(producer);
  const image = await images.create(owner, { visibility: 'shared' });
  await addMember(owner, image.id, consumer.projectId);

  await signIn(page, js, producer, { next: `/images/${image.id}` });
  const p = imagePage(page);
  await expect(p.heading).toHaveText(image.name);
  await expect(p.shareHint).toContainText('GLANCE_SHARE_DIRECTORY_');
  await expect(p.shareMembers).not.toHaveAttribute('data-suggest');
  await expect(p.main.locator('#share-members-suggestions')).toHaveCount(0);
  // The member is shown by its ID alone.
  await expect(p.memberProject(consumer.projectId).name).toHaveCount(0);
  await expect(p.memberProject(consumer.projectId).copy).toBeVisible();
  await snap(page, testInfo, 'no-directory');
});
