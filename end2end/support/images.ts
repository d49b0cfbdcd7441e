/**
 * The image pages as a user sees them: the lists, one image with its share form, members and
 * offer, and batches. Selectors follow the markup of src/ui/images and src/ui/batch, preferring
 * roles, labels and text.
 */
import { randomBytes } from 'node:crypto';
import { expect, type Locator, type Page } from '@playwright/test';
import type { MemberStatus } from './lab';

/** `/images?tab=…`: the table of images. */
export function imageList(page: Page) {
  const main = page.getByRole('main');
  return {
    tabs: main.getByRole('navigation', { name: 'Which images' }),
    statusFilter: main.getByRole('navigation', { name: 'Offer status' }),
    search: main.getByRole('searchbox', { name: 'Name contains' }),
    table: main.locator('table.images'),
    /** The row of the image called `name`. */
    row: (name: string) => main.locator('table.images tbody tr').filter({ has: page.getByRole('link', { name, exact: true }) }),
    /** The owner of the image called `name` (Shared with me), whose project ID is `ownerId`. */
    ownerOf: (name: string, ownerId: string) =>
      projectLabel(imageList(page).row(name).locator('td[data-label="Owner"]'), ownerId, 'Copy owner project ID'),
    visibilityOf: (name: string) => imageList(page).row(name).locator('.badge[class*="vis-"]'),
    /** The offer's status (Shared with me). */
    statusOf: (name: string) => imageList(page).row(name).locator('.badge:not([class*="vis-"])'),
    /** The checkbox that puts an image into a batch (My images). */
    tick: (name: string) => main.getByRole('checkbox', { name: `Choose ${name} for a batch` }),
    batchButton: main.getByRole('button', { name: 'Batch share / revoke the ticked images…' }),
  };
}

/** `/images/{id}`. */
export function imagePage(page: Page) {
  const main = page.getByRole('main');
  const shareForm = main.locator('form.share');
  const offer = main.getByRole('region', { name: 'Offered to your project' });
  return {
    main,
    heading: main.getByRole('heading', { level: 1 }),
    visibility: main.locator('dl.facts .badge'),
    shareForm,
    shareMembers: shareForm.getByRole('textbox', { name: /Share with projects/ }),
    makeShared: shareForm.getByRole('checkbox', { name: /Make the image shared first/ }),
    shareButton: shareForm.getByRole('button', { name: 'Share', exact: true }),
    /** The confirmation before sharing with IDs that could not be checked. */
    confirmation: main.locator('.report.confirm'),
    shareAnyway: main.getByRole('button', { name: 'Share with the unchecked IDs anyway' }),
    /** The confirmation's button when every entry was a name the directory resolved. */
    shareWithThese: main.getByRole('button', { name: 'Share with these projects', exact: true }),
    /** Under the share box: what it takes (names only with the operator's directory reader). */
    shareHint: main.locator('#share-members-hint'),
    /** With the directory reader and JavaScript: suggest.js's projects for the word being typed. */
    suggestions: main.locator('#share-members-suggestions ul').getByRole('button'),
    suggestionStatus: main.locator('#share-members-suggestions').getByRole('status'),
    /** The suggestion of project `label` ("consumer-b (Default)") whose ID is `projectId`. */
    suggestion: (label: string, projectId: string) =>
      main.locator('#share-members-suggestions ul').getByRole('button', { name: `Add project ${label}, ID ${projectId}`, exact: true }),
    /** What a share did. */
    report: main.locator('.report[role="status"]'),
    members: main.locator('table.members'),
    member: (projectId: string) => main.locator(`table.members tr[id="member-${projectId}"]`),
    /** A member row's project: its name and domain (with the directory reader) and its ID. */
    memberProject: (projectId: string) => {
      const cell = main.locator(`table.members tr[id="member-${projectId}"] td[data-label="Project"]`);
      return projectLabel(cell, projectId, 'Copy project ID');
    },
    noMembers: main.getByText(/^Not shared with any project yet/),
    offer,
    offerStatus: offer.locator('.badge'),
    /** "Accept", "Set back to pending": buttons named after the image. */
    offerButton: (action: 'Accept' | 'Set back to pending', imageName: string) => offer.getByRole('button', { name: `${action} ${imageName}` }),
    rejectLink: (imageName: string) => offer.getByRole('link', { name: `Reject ${imageName}` }),
  };
}

/**
 * A project as `ProjectLabel` (src/ui/project.rs) shows it inside `cell`: with the directory
 * reader its name and domain over its ID (shortened in the middle, in full in the `title`), and a
 * button that copies the ID, named `${copyLabel}: ${projectId}`.
 */
export function projectLabel(cell: Locator, projectId: string, copyLabel: string) {
  return {
    cell,
    name: cell.locator('.project-name'),
    domain: cell.locator('.project-domain'),
    id: cell.locator('.copy-id code'),
    copy: cell.getByRole('button', { name: `${copyLabel}: ${projectId}`, exact: true }),
  };
}

/** The project in `cell` is shown as `name (domain)` with its ID `projectId` one click away. */
export async function expectProjectNamed(
  label: ReturnType<typeof projectLabel>,
  project: { name: string; domain: string; id: string },
) {
  await expect(label.name).toHaveText(project.name);
  await expect(label.domain).toHaveText(`(${project.domain})`);
  await expect(label.id).toHaveAttribute('title', project.id);
  await expect(label.copy).toHaveAttribute('data-copy', project.id);
}

/** `/inbox`: the offers to every project of the user, with one form to answer the ticked ones. */
export function inboxPage(page: Page) {
  const main = page.getByRole('main');
  const label = (imageName: string, projectName: string) => `Choose ${imageName} for project ${projectName}`;
  return {
    main,
    heading: main.getByRole('heading', { level: 1, name: 'Inbox' }),
    /** The checkbox that chooses the offer of `imageName` to project `projectName`. */
    tick: (imageName: string, projectName: string) => main.getByRole('checkbox', { name: label(imageName, projectName), exact: true }),
    /** The table row of that offer. */
    row: (imageName: string, projectName: string) =>
      main.locator('tbody tr').filter({ has: page.getByRole('checkbox', { name: label(imageName, projectName), exact: true }) }),
    answer: main.getByLabel('Answer the ticked offers:'),
    apply: main.getByRole('button', { name: 'Apply', exact: true }),
    /** What the last answer did. */
    report: main.locator('.report[role="status"]'),
  };
}

/** The status badge of a member row or offer shows `status`, in words and in its class. */
export async function expectBadge(badge: Locator, status: MemberStatus) {
  await expect(badge).toHaveText(status);
  await expect(badge).toHaveClass(new RegExp(`\\bbadge\\b.*\\b${status}\\b`));
}

/** A made-up, well-formed Keystone-style project ID (32 hex digits) that no project has. */
export function madeUpProjectId(): string {
  return randomBytes(16).toString('hex');
}
