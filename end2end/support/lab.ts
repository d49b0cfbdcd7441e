/**
 * The local Keystone + Glance lab, seen directly from Node (plain fetch, no dashboard): who can
 * sign in, project-scoped tokens, and the Glance calls tests use to set up images and to check
 * what the dashboard did to them.
 *
 * Read lazily: Playwright loads test files before its webServer (serve.sh) has started the lab.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

export const labDir = process.env.GLANCE_SHARE_LAB_DIR ?? path.resolve(__dirname, '..', '..', '.lab');

let cachedEnv: Record<string, string> | undefined;

/** `.lab/lab.env`: plain KEY=value lines. */
export function labEnv(): Record<string, string> {
  if (!cachedEnv) {
    const file = path.join(labDir, 'lab.env');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read ${file}: start the lab with lab/lab.sh start (${e})`);
    }
    cachedEnv = Object.fromEntries(
      text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#') && line.includes('='))
        .map((line) => {
          const i = line.indexOf('=');
          return [line.slice(0, i), line.slice(i + 1)];
        }),
    );
  }
  return cachedEnv;
}

export function labVar(key: string): string {
  const value = labEnv()[key];
  if (value === undefined) throw new Error(`${key} is missing from ${labDir}/lab.env`);
  return value;
}

/** A user and the project they work in. */
export interface Account {
  user: string;
  password: string;
  project: string;
  projectId: string;
}

function account(prefix: string, projectPrefix = prefix): Account {
  return {
    user: labVar(`LAB_${prefix}_USER`),
    password: labVar(`LAB_${prefix}_PASSWORD`),
    project: labVar(`LAB_${projectPrefix}_PROJECT`),
    projectId: labVar(`LAB_${projectPrefix}_PROJECT_ID`),
  };
}

/**
 * The lab's demo accounts. `producerB` is reserved for wrong-password tests: after a failed
 * attempt Keystone resets the user's failure count on the next success, a write that the lab's
 * SQLite refuses when another sign-in of the same user writes at the same moment. No other test
 * signs in as that user (the Rust integration tests keep the same rule).
 */
export const accounts = {
  /** Owns images (project `producer`). */
  producer: () => account('PRODUCER'),
  /** Wrong-password tests only. */
  producerB: () => account('PRODUCER_B'),
  /** Member of `consumer` and `consumer-b`; this one works in `consumer`. */
  consumer: () => account('CONSUMER'),
  /** consumer-user working in `consumer-b`. */
  consumerB: () => account('CONSUMER', 'CONSUMER_B'),
  admin: () => account('ADMIN'),
};

export const regions = () => ({ one: labVar('LAB_REGION'), two: labVar('LAB_REGION2') });

// ---------------------------------------------------------------------------------------------
// Keystone
// ---------------------------------------------------------------------------------------------

export interface Endpoint {
  region: string;
  interface: string;
  url: string;
}

/** A project-scoped Keystone token and what came with it. */
export interface ScopedToken {
  token: string;
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  roles: string[];
  expiresAt: string;
  imageEndpoints: Endpoint[];
}

async function failure(res: Response, what: string): Promise<Error> {
  const body = await res.text().catch(() => '');
  return new Error(`${what}: HTTP ${res.status} ${body.slice(0, 500)}`);
}

/** Password sign-in at Keystone, scoped to the account's project (or `project`, by name). */
export async function keystoneToken(who: Account, project: string = who.project): Promise<ScopedToken> {
  const domain = { id: 'default' };
  const res = await fetch(`${labVar('LAB_KEYSTONE_URL')}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: who.user, domain, password: who.password } } },
        scope: { project: { name: project, domain } },
      },
    }),
  });
  if (res.status !== 201) throw await failure(res, `Keystone sign-in of ${who.user} to ${project}`);
  const token = res.headers.get('x-subject-token');
  if (!token) throw new Error('Keystone answered 201 without X-Subject-Token');
  const body = (await res.json()) as any;
  const t = body.token;
  const imageEndpoints: Endpoint[] = (t.catalog ?? [])
    .filter((s: any) => s.type === 'image')
    .flatMap((s: any) => s.endpoints.map((e: any) => ({ region: e.region_id ?? e.region, interface: e.interface, url: e.url })));
  return {
    token,
    userId: t.user.id,
    userName: t.user.name,
    projectId: t.project.id,
    projectName: t.project.name,
    roles: (t.roles ?? []).map((r: any) => r.name),
    expiresAt: t.expires_at,
    imageEndpoints,
  };
}

/** Status of `GET /v3/auth/tokens` for `token` (200 valid, 404 revoked or expired), asked as admin. */
export async function tokenStatus(token: string): Promise<number> {
  const admin = await keystoneToken(accounts.admin());
  const res = await fetch(`${labVar('LAB_KEYSTONE_URL')}/auth/tokens`, {
    headers: { 'x-auth-token': admin.token, 'x-subject-token': token },
  });
  return res.status;
}

export async function revokeToken(token: string): Promise<void> {
  const res = await fetch(`${labVar('LAB_KEYSTONE_URL')}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'x-auth-token': token, 'x-subject-token': token },
  });
  if (res.status !== 204 && res.status !== 404) throw await failure(res, 'revoking a token');
}

// ---------------------------------------------------------------------------------------------
// Glance
// ---------------------------------------------------------------------------------------------

/** The public image endpoint of `region` (default: RegionOne) in the token's catalog. */
export function glanceUrl(t: ScopedToken, region: string = regions().one): string {
  const e = t.imageEndpoints.find((e) => e.region === region && e.interface === 'public');
  if (!e) throw new Error(`no public image endpoint for ${region} in the catalog of ${t.projectName}`);
  return e.url.replace(/\/+$/, '');
}

/**
 * One Glance call. The lab's Glance keeps its data in SQLite, which now and then refuses a write
 * that meets another one ("database is locked": a 500), more so while other suites use the lab
 * too. Calls that can safely be repeated (everything but POST) are tried up to three times, so
 * a test's setup or check does not fail for that; the POSTs and the upload handle it themselves. Other
 * suites may also stop Glance for a few seconds: those calls wait for it to answer again.
 */
async function glance(
  t: ScopedToken,
  region: string | undefined,
  method: string,
  p: string,
  init: RequestInit = {},
  retry = method !== 'POST',
) {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${glanceUrl(t, region)}${p}`, {
        ...init,
        method,
        headers: { 'x-auth-token': t.token, accept: 'application/json', ...(init.headers as Record<string, string>) },
      });
    } catch (e) {
      // Glance restarting (another suite may stop it for a few seconds): wait for it.
      if (!retry || attempt === 5) throw e;
      await sleep(500 * attempt);
      continue;
    }
    if (res.status !== 500 || !retry || attempt >= 3) return res;
    await res.body?.cancel();
    await sleep(250 * attempt);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The images of the token's project called `name` (the tests' names are unique). */
async function imagesNamed(t: ScopedToken, name: string, region?: string): Promise<Image[]> {
  const res = await glance(t, region, 'GET', `/v2/images?owner=${t.projectId}&name=${encodeURIComponent(name)}`);
  if (res.status !== 200) throw await failure(res, `looking for image ${name}`);
  return ((await res.json()) as { images: Image[] }).images;
}

export type Visibility = 'private' | 'shared' | 'community' | 'public';
export type MemberStatus = 'pending' | 'accepted' | 'rejected';

export interface Image {
  id: string;
  name: string;
  owner: string;
  visibility: Visibility;
  status: string;
  [key: string]: unknown;
}

export interface Member {
  member_id: string;
  image_id: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

/** Every image the tests make carries this tag and a name starting with `e2e-`. */
export const E2E_TAG = 'glance-share-e2e';

export interface CreateImageOptions {
  /** Default `shared` (what Glance itself gives an image created without one). */
  visibility?: Visibility;
  name?: string;
  region?: string;
  /** Uploaded so the image becomes `active`; `null` leaves it `queued`. */
  data?: string | Uint8Array | null;
  tags?: string[];
}

/** `POST /v2/images`, once: a 500 (see `glance`) may have made the image all the same. */
async function postImage(t: ScopedToken, name: string, opts: CreateImageOptions): Promise<Image> {
  for (let attempt = 1; ; attempt++) {
    const res = await glance(t, opts.region, 'POST', '/v2/images', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        visibility: opts.visibility ?? 'shared',
        disk_format: 'raw',
        container_format: 'bare',
        tags: [E2E_TAG, ...(opts.tags ?? [])],
      }),
    });
    if (res.status === 201) return (await res.json()) as Image;
    if (res.status !== 500 || attempt === 3) throw await failure(res, `creating image ${name}`);
    await res.body?.cancel();
    await sleep(250 * attempt);
    const made = await imagesNamed(t, name, opts.region);
    for (const stray of made.slice(1)) await deleteImage(t, stray.id, opts.region);
    if (made[0]) return made[0];
  }
}

/** Creates an image owned by the token's project (and uploads a few bytes unless `data: null`). */
export async function createImage(t: ScopedToken, opts: CreateImageOptions = {}): Promise<Image> {
  const name = opts.name ?? `e2e-${randomUUID().slice(0, 8)}`;
  const data = opts.data === undefined ? `glance-share e2e image ${name}\n` : opts.data;
  for (let attempt = 1; ; attempt++) {
    const image = await postImage(t, name, opts);
    if (data === null) return image;
    // Not repeated on the same image: a refused upload can leave it `saving` for good.
    const up = await glance(
      t,
      opts.region,
      'PUT',
      `/v2/images/${image.id}/file`,
      // Node's fetch takes any Uint8Array; TypeScript's DOM types want an ArrayBuffer-backed one.
      { headers: { 'content-type': 'application/octet-stream' }, body: data as BodyInit },
      false,
    );
    if (up.status === 204) return getImage(t, image.id, opts.region);
    if (up.status !== 500 || attempt === 3) throw await failure(up, `uploading data to image ${image.id}`);
    await up.body?.cancel();
    await deleteImage(t, image.id, opts.region);
    await sleep(250 * attempt);
  }
}

export async function getImage(t: ScopedToken, imageId: string, region?: string): Promise<Image> {
  const res = await glance(t, region, 'GET', `/v2/images/${imageId}`);
  if (res.status !== 200) throw await failure(res, `reading image ${imageId}`);
  return (await res.json()) as Image;
}

/** Deletes an image; one that is already gone is fine. */
export async function deleteImage(t: ScopedToken, imageId: string, region?: string): Promise<void> {
  const res = await glance(t, region, 'DELETE', `/v2/images/${imageId}`);
  if (res.status === 204 || res.status === 404) return;
  // An image deleted a moment ago can still be found, in status "deleted": Glance then
  // refuses the transition "from deleted to deleted" with a 400. It is gone all the same.
  const body = await res.text();
  if (res.status === 400 && body.includes('from deleted to deleted')) return;
  throw new Error(`deleting image ${imageId}: HTTP ${res.status} ${body}`);
}

/** Changes visibility (Glance wants the json-patch media type here). */
export async function setVisibility(t: ScopedToken, imageId: string, visibility: Visibility, region?: string) {
  const res = await glance(t, region, 'PATCH', `/v2/images/${imageId}`, {
    headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
    body: JSON.stringify([{ op: 'replace', path: '/visibility', value: visibility }]),
  });
  if (res.status !== 200) throw await failure(res, `setting visibility of ${imageId} to ${visibility}`);
  return (await res.json()) as Image;
}

/**
 * The members of an image as the token's project sees them: the owner sees all, a consumer only
 * its own entry. A private image (owner: 403) or one the project cannot see (404) throws.
 */
export async function listMembers(t: ScopedToken, imageId: string, region?: string): Promise<Member[]> {
  const res = await glance(t, region, 'GET', `/v2/images/${imageId}/members`);
  if (res.status !== 200) throw await failure(res, `listing the members of ${imageId}`);
  return ((await res.json()) as { members: Member[] }).members;
}

/** One member, or `null` when Glance says it is not a member (404). */
export async function getMember(t: ScopedToken, imageId: string, memberId: string, region?: string) {
  const res = await glance(t, region, 'GET', `/v2/images/${imageId}/members/${memberId}`);
  if (res.status === 404) return null;
  if (res.status !== 200) throw await failure(res, `reading member ${memberId} of ${imageId}`);
  return (await res.json()) as Member;
}

/** The owner shares an image with a project (Glance answers 200, status `pending`). */
export async function addMember(t: ScopedToken, imageId: string, memberId: string, region?: string): Promise<Member> {
  for (let attempt = 1; ; attempt++) {
    const res = await glance(t, region, 'POST', `/v2/images/${imageId}/members`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ member: memberId }),
    });
    if (res.status === 200) return (await res.json()) as Member;
    // SQLite refused a write (see `glance`): the member may have been added all the same.
    if (res.status === 500 && attempt < 3) {
      await res.body?.cancel();
      await sleep(250 * attempt);
      const added = await getMember(t, imageId, memberId, region);
      if (added) return added;
      continue;
    }
    throw await failure(res, `adding member ${memberId} to ${imageId}`);
  }
}

/** The owner revokes a project's access. */
export async function removeMember(t: ScopedToken, imageId: string, memberId: string, region?: string) {
  const res = await glance(t, region, 'DELETE', `/v2/images/${imageId}/members/${memberId}`);
  if (res.status !== 204) throw await failure(res, `removing member ${memberId} from ${imageId}`);
}

/** The consumer (the member project's token) accepts, rejects or sets back to pending. */
export async function setMemberStatus(
  t: ScopedToken,
  imageId: string,
  memberId: string,
  status: MemberStatus,
  region?: string,
): Promise<Member> {
  const res = await glance(t, region, 'PUT', `/v2/images/${imageId}/members/${memberId}`, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  });
  if (res.status !== 200) throw await failure(res, `setting member ${memberId} of ${imageId} to ${status}`);
  return (await res.json()) as Member;
}

/**
 * The images offered to the token's project that still wait for its answer, counted the way the
 * header's badge counts them: shared images whose member status for the project is `pending`,
 * not owned by the project itself.
 */
export async function pendingOffers(t: ScopedToken, region?: string): Promise<string[]> {
  const res = await glance(t, region, 'GET', '/v2/images?visibility=shared&member_status=pending&limit=1000');
  if (res.status !== 200) throw await failure(res, `listing the pending offers to ${t.projectName}`);
  const { images } = (await res.json()) as { images: Image[] };
  return images.filter((i) => i.owner !== t.projectId).map((i) => i.id);
}

// ---------------------------------------------------------------------------------------------
// Stopping and starting the RegionOne Glance
// ---------------------------------------------------------------------------------------------

const labScript = path.resolve(__dirname, '..', '..', 'lab', 'lab.sh');

/**
 * `lab/lab.sh stop-glance` / `start-glance`: the RegionOne Glance stops (connections refused) or
 * starts again (returns once it answers). Every test running at the same time is affected, so
 * only the `glance-down` project, which runs alone, may call this (see playwright.config.ts).
 */
export function labGlance(command: 'stop-glance' | 'start-glance'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(labScript, [command], { timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`lab/lab.sh ${command} failed (${error.message}):\n${stderr}`));
      else resolve();
    });
  });
}
