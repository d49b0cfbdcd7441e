/**
 * The direct Keystone/Glance helpers that the image journeys set up and check their data with:
 * proven once against the real lab, so a broken helper is not mistaken for a dashboard bug.
 * No browser is involved, so only the `js` project runs it.
 */
import { test, expect } from '../support/fixtures';
import {
  accounts,
  addMember,
  getImage,
  getMember,
  keystoneToken,
  listMembers,
  regions,
  removeMember,
  setMemberStatus,
  setVisibility,
} from '../support/lab';

test('the lab helpers create, share, accept and delete an image in Glance', async ({ js, images }) => {
  test.skip(!js, 'no browser involved: once is enough');
  const producer = await keystoneToken(accounts.producer());
  const consumer = await keystoneToken(accounts.consumer());
  expect(producer.projectId).toBe(accounts.producer().projectId);
  expect(producer.roles).toContain('member');
  expect(producer.imageEndpoints.map((e) => e.region).sort()).toEqual([regions().one, regions().two].sort());

  const image = await images.create(producer, { visibility: 'private' });
  expect(image).toMatchObject({ owner: producer.projectId, visibility: 'private', status: 'active' });
  expect((await setVisibility(producer, image.id, 'shared')).visibility).toBe('shared');

  expect(await addMember(producer, image.id, consumer.projectId)).toMatchObject({ status: 'pending' });
  expect(await getMember(consumer, image.id, consumer.projectId)).toMatchObject({ status: 'pending' });
  await setMemberStatus(consumer, image.id, consumer.projectId, 'accepted');
  expect(await listMembers(producer, image.id)).toEqual([
    expect.objectContaining({ member_id: consumer.projectId, status: 'accepted' }),
  ]);
  await removeMember(producer, image.id, consumer.projectId);
  expect(await listMembers(producer, image.id)).toEqual([]);

  // Region two has its own Glance: an image there is not one in region one.
  const other = await images.create(producer, { region: regions().two, data: null });
  expect(other.status).toBe('queued');
  await expect(getImage(producer, other.id)).rejects.toThrow(/HTTP 404/);
  expect((await getImage(producer, other.id, regions().two)).id).toBe(other.id);
});
