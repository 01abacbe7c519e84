import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenCache } from '../cache.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from './fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './index.ts';

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
let em: FeishuEmulator;
const sdk = () =>
  new lark.Client({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: em.url,
    cache: new TokenCache(),
    logger: quiet,
  });
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const userToken = (open_id: string): Promise<any> =>
  post('/_emulator/user-token', { app_id: APP_ID, open_id });
/** The Feishu error of a rejected SDK call: HTTP status plus body. */
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e: any) {
    return { status: e.response?.status, code: e.response?.data?.code, headers: e.response?.headers };
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed());
});

describe('feishu emulator: auth', () => {
  it('issues tenant tokens with expire, reuses them, and rejects them after expiry', async () => {
    const first = await post('/open-apis/auth/v3/tenant_access_token/internal', {
      app_id: APP_ID,
      app_secret: APP_SECRET,
    });
    expect(first).toMatchObject({ code: 0, expire: 7200, tenant_access_token: expect.stringMatching(/^t-/) });
    const again = await post('/open-apis/auth/v3/tenant_access_token/internal', {
      app_id: APP_ID,
      app_secret: APP_SECRET,
    });
    expect(again.tenant_access_token).toBe(first.tenant_access_token);
    const bad = await post('/open-apis/auth/v3/tenant_access_token/internal', {
      app_id: APP_ID,
      app_secret: 'x',
    });
    expect(bad.code).not.toBe(0);
    const client = sdk();
    expect((await client.calendar.v4.calendar.get({ path: { calendar_id: CAL.alice } })).code).toBe(0);
    await post('/_emulator/clock', { advanceSeconds: 7300 });
    // The SDK still trusts its cached token (it uses the real clock), the emulator does not.
    expect(
      await failure(client.calendar.v4.calendar.get({ path: { calendar_id: CAL.alice } })),
    ).toMatchObject({
      status: 400,
      code: 99991663,
    });
    expect((await sdk().calendar.v4.calendar.get({ path: { calendar_id: CAL.alice } })).code).toBe(0);
  });

  it('answers the app token endpoint with both tokens', async () => {
    const r = await post('/open-apis/auth/v3/app_access_token/internal', {
      app_id: APP_ID,
      app_secret: APP_SECRET,
    });
    expect(r).toMatchObject({
      code: 0,
      app_access_token: expect.stringMatching(/^a-/),
      tenant_access_token: expect.any(String),
    });
  });

  it('refreshes user tokens through v1 OIDC, each refresh token once', async () => {
    const t = await userToken('ou_alice');
    const client = sdk();
    const r = await client.authen.oidcRefreshAccessToken.create({
      data: { grant_type: 'refresh_token', refresh_token: t.refresh_token },
    });
    expect(r.data).toMatchObject({
      access_token: expect.stringMatching(/^u-/),
      refresh_token: expect.any(String),
      expires_in: 7200,
    });
    const reuse = await failure(
      client.authen.oidcRefreshAccessToken.create({
        data: { grant_type: 'refresh_token', refresh_token: t.refresh_token },
      }),
    );
    expect(reuse.code).toBe(20073);
    const cals = await client.calendar.v4.calendar.list({}, lark.withUserAccessToken(r.data!.access_token!));
    expect(cals.data?.calendar_list?.map((c) => c.calendar_id).sort()).toEqual([CAL.alice, CAL.team].sort());
    await post('/_emulator/clock', { advanceSeconds: 7201 });
    const expired = await failure(
      client.calendar.v4.calendar.list({}, lark.withUserAccessToken(r.data!.access_token!)),
    );
    expect(expired.code).toBe(99991677);
  });

  it('finds users by e-mail', async () => {
    const r = await sdk().contact.v3.user.batchGetId({
      data: { emails: ['alice@example.com', 'nobody@example.com'] },
      params: { user_id_type: 'open_id' },
    });
    expect(r.data?.user_list).toEqual([
      { user_id: 'ou_alice', email: 'alice@example.com' },
      { email: 'nobody@example.com' },
    ]);
  });
});

describe('feishu emulator: calendars and permissions', () => {
  it('lists what the tenant may read (app calendar + acl) and checks page_size bounds', async () => {
    const client = sdk();
    const r = await client.calendar.v4.calendar.list({ params: { page_size: 50 } });
    const ids = r.data!.calendar_list!.map((c) => c.calendar_id);
    expect(ids).toContain(CAL.alice);
    expect(ids).toContain(CAL.team);
    expect(ids).not.toContain(CAL.bob);
    expect(r.data?.sync_token).toBeTruthy();
    expect(await failure(client.calendar.v4.calendar.list({ params: { page_size: 49 } }))).toMatchObject({
      status: 400,
      code: 190002,
    });
  });

  it('reports deleted calendars in the calendar-list sync', async () => {
    const t = await userToken('ou_alice');
    const client = sdk();
    const as = lark.withUserAccessToken(t.access_token);
    const full = await client.calendar.v4.calendar.list({}, as);
    await post('/_emulator/calendars', { op: 'delete', calendar: { calendar_id: CAL.team } });
    const inc = await client.calendar.v4.calendar.list({ params: { sync_token: full.data!.sync_token } }, as);
    expect(inc.data?.calendar_list).toEqual([
      expect.objectContaining({ calendar_id: CAL.team, is_deleted: true }),
    ]);
  });

  it('answers primary for a user and for the app', async () => {
    const t = await userToken('ou_bob');
    const client = sdk();
    const mine = await client.calendar.v4.calendar.primary({}, lark.withUserAccessToken(t.access_token));
    expect(mine.data?.calendars?.[0].calendar?.calendar_id).toBe(CAL.bob);
    const app = await client.calendar.v4.calendar.primary({});
    expect(app.data?.calendars?.[0].calendar?.calendar_id).toContain(APP_ID);
  });

  it('refuses calendars without access: tenant without acl, user not the owner, writes with reader role', async () => {
    const client = sdk();
    expect(
      await failure(client.calendar.v4.calendarEvent.list({ path: { calendar_id: CAL.bob } })),
    ).toMatchObject({
      status: 403,
      code: 191002,
    });
    const t = await userToken('ou_alice');
    expect(
      await failure(
        client.calendar.v4.calendar.get(
          { path: { calendar_id: CAL.bob } },
          lark.withUserAccessToken(t.access_token),
        ),
      ),
    ).toMatchObject({ status: 403, code: 191002 });
    const write = client.calendar.v4.calendarEvent.create({
      path: { calendar_id: CAL.team },
      data: { summary: 'x', start_time: { timestamp: '1767240000' }, end_time: { timestamp: '1767243600' } },
    });
    expect(await failure(write)).toMatchObject({ status: 403, code: 193002 });
    expect(await failure(client.calendar.v4.calendar.get({ path: { calendar_id: 'nope' } }))).toMatchObject({
      status: 404,
      code: 191000,
    });
  });

  it('allows event subscriptions with a user token only', async () => {
    const client = sdk();
    expect(await failure(client.calendar.v4.calendar.subscription({}))).toMatchObject({
      status: 400,
      code: 190002,
    });
    const t = await userToken('ou_alice');
    const as = lark.withUserAccessToken(t.access_token);
    expect((await client.calendar.v4.calendar.subscription({}, as)).code).toBe(0);
    expect(
      (await client.calendar.v4.calendarEvent.subscription({ path: { calendar_id: CAL.alice } }, as)).code,
    ).toBe(0);
    const state: any = await (await fetch(`${em.url}/_emulator/state`)).json();
    expect(state.subscriptions.events[APP_ID][CAL.alice]).toEqual(['ou_alice']);
  });
});

describe('feishu emulator: rate limits', () => {
  it('answers 429 code 99991400 with x-ogw-ratelimit headers past 50/s, and not when relaxed', async () => {
    const client = sdk();
    await client.calendar.v4.calendar.get({ path: { calendar_id: CAL.alice } });
    const calls = Array.from({ length: 150 }, () =>
      client.calendar.v4.calendar.get({ path: { calendar_id: CAL.alice } }).then(
        () => null,
        (e) => e.response,
      ),
    );
    const limited = (await Promise.all(calls)).filter(Boolean);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].status).toBe(429);
    expect(limited[0].data.code).toBe(99991400);
    expect(limited[0].headers['x-ogw-ratelimit-limit']).toBeDefined();
    expect(Number(limited[0].headers['x-ogw-ratelimit-reset'])).toBeGreaterThanOrEqual(1);
    await post('/_emulator/limits', { enabled: false });
    const relaxed = await Promise.all(
      Array.from({ length: 80 }, () => client.calendar.v4.calendar.get({ path: { calendar_id: CAL.alice } })),
    );
    expect(relaxed.every((r) => r.code === 0)).toBe(true);
  });
});
