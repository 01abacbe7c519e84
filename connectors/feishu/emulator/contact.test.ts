/** The directory through the Lark SDK: the department tree (children, fetch_child, paging) and members. */
import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenCache } from '../cache.ts';
import { APP_ID, APP_SECRET, sampleSeed } from './fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './index.ts';

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
let em: FeishuEmulator;
let sdk: lark.Client;
const post = async (path: string, body: unknown = {}) =>
  fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) });
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e: any) {
    return { status: e.response?.status, code: e.response?.data?.code };
  }
  throw new Error('expected the call to fail');
};
const user = (name: string, department_ids?: string[]) => ({
  open_id: `ou_${name}`,
  user_id: `u_${name}`,
  union_id: `on_${name}`,
  email: `${name}@example.com`,
  name,
  ...(department_ids ? { department_ids } : {}),
});

// 0 ─┬─ od-eng (D-ENG) ── od-web
//    └─ od-sales ── od-emea
const directory = {
  departments: [
    { open_department_id: 'od-web', parent_department_id: 'od-eng', name: 'Web' },
    { open_department_id: 'od-eng', department_id: 'D-ENG', parent_department_id: '0', name: 'Eng' },
    { open_department_id: 'od-sales', parent_department_id: '0', name: 'Sales' },
    { open_department_id: 'od-emea', parent_department_id: 'od-sales', name: 'EMEA' },
  ],
  users: [user('carol', ['od-web']), user('dave', ['od-emea', 'od-eng']), user('erin', ['od-emea'])],
};

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  // a fresh client: the reset forgets the tenant token an older client would still have cached
  sdk = new lark.Client({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: em.url,
    cache: new TokenCache(),
    logger: quiet,
  });
  await post('/_emulator/seed', sampleSeed()); // alice and bob: no department_ids, so in the root
  await post('/_emulator/seed', directory);
});

const children = async (department_id: string, params: Record<string, any> = {}) => {
  const r = await sdk.contact.v3.department.children({ path: { department_id }, params });
  return r.data!;
};
const members = async (department_id: string, params: Record<string, any> = {}) => {
  const r = await sdk.contact.v3.user.findByDepartment({
    params: { department_id, page_size: 50, ...params },
  });
  return (r.data!.items ?? []).map((u) => u.open_id);
};

describe('feishu emulator: the department tree', () => {
  it('lists direct children, or every descendant with fetch_child (parents first)', async () => {
    const top = await children('0', { page_size: 50 });
    expect(top.items!.map((d) => d.open_department_id)).toEqual(['od-eng', 'od-sales']);
    expect(top.has_more).toBe(false);
    const all = await children('0', { fetch_child: true, page_size: 50 });
    expect(all.items!.map((d) => [d.open_department_id, d.parent_department_id])).toEqual([
      ['od-eng', '0'],
      ['od-sales', '0'],
      ['od-emea', 'od-sales'],
      ['od-web', 'od-eng'],
    ]);
    expect(
      (await children('od-sales', { fetch_child: true })).items!.map((d) => d.open_department_id),
    ).toEqual(['od-emea']);
    expect((await children('od-web')).items ?? []).toEqual([]);
  });

  it('pages the listing (default 10, at most 50) with tokens bound to it', async () => {
    const seen: string[] = [];
    let page_token: string | undefined;
    let pages = 0;
    do {
      const p = await children('0', {
        fetch_child: true,
        page_size: 3,
        ...(page_token ? { page_token } : {}),
      });
      seen.push(...p.items!.map((d) => d.open_department_id!));
      page_token = p.has_more ? p.page_token : undefined;
      pages++;
    } while (page_token && pages < 10);
    expect(pages).toBe(2);
    expect(seen).toEqual(['od-eng', 'od-sales', 'od-emea', 'od-web']);
    const first = await children('0', { fetch_child: true, page_size: 1 });
    expect(first.page_token).toBeTruthy();
    expect(await failure(children('0', { page_size: 1, page_token: first.page_token }))).toEqual({
      status: 400,
      code: 40012,
    });
    expect(await failure(children('0', { page_size: 51 }))).toEqual({ status: 400, code: 40011 });
  });

  it('answers in the department_id_type asked for, and refuses unknown departments', async () => {
    const r = await children('D-ENG', { department_id_type: 'department_id' });
    expect(r.items!.map((d) => [d.department_id, d.parent_department_id])).toEqual([['od-web', 'D-ENG']]);
    expect(await failure(children('od-nope'))).toEqual({ status: 403, code: 40004 });
    expect(await failure(members('od-nope'))).toEqual({ status: 403, code: 40004 });
  });

  it('find_by_department gives direct members only; a user may sit in several departments', async () => {
    expect(await members('0')).toEqual(['ou_alice', 'ou_bob']);
    expect(await members('od-eng')).toEqual(['ou_dave']);
    expect(await members('od-web')).toEqual(['ou_carol']);
    expect(await members('od-emea', { department_id_type: 'open_department_id' })).toEqual([
      'ou_dave',
      'ou_erin',
    ]);
    expect(await members('od-sales')).toEqual([]);
    expect(await members('D-ENG', { department_id_type: 'department_id' })).toEqual(['ou_dave']);
    const dave = (await sdk.contact.v3.user.findByDepartment({ params: { department_id: 'od-eng' } })).data!
      .items![0];
    expect(dave.department_ids).toEqual(['od-emea', 'od-eng']);
  });

  it('refuses a user token and a seed whose tree does not hold together', async () => {
    const grant: any = await (
      await post('/_emulator/user-token', { app_id: APP_ID, open_id: 'ou_alice' })
    ).json();
    const asUser = sdk.contact.v3.department.children(
      { path: { department_id: '0' } },
      lark.withUserAccessToken(grant.access_token),
    );
    expect((await failure(asUser)).status).toBe(400);
    const orphan = {
      departments: [{ open_department_id: 'od-x', parent_department_id: 'od-missing', name: 'X' }],
    };
    expect((await post('/_emulator/seed', orphan)).ok).toBe(false);
    await post('/_emulator/reset');
    expect((await post('/_emulator/seed', { users: [user('zed', ['od-missing'])] })).ok).toBe(false);
  });
});
