import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APP_ID, APP_SECRET, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';
import { createUserTokenProvider, type UserTokens } from './user-tokens.ts';

let em: FeishuEmulator;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed());
});

describe('feishu user tokens', () => {
  it('refreshes before expiry once for concurrent callers, keeps the newest refresh token, reports lapsed consent', async () => {
    const saved = new Map<string, UserTokens>();
    const store = {
      load: async (o: string) => saved.get(o),
      save: async (o: string, t: UserTokens) => void saved.set(o, t),
    };
    let clock = Date.now();
    const p = createUserTokenProvider({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: em.url,
      store,
      now: () => clock,
    });
    expect(await p.get('ou_alice')).toBeUndefined();
    await p.adopt('ou_alice', await post('/_emulator/user-token', { app_id: APP_ID, open_id: 'ou_alice' }));
    const first = await p.get('ou_alice');
    expect(first).toMatch(/^u-/);
    const oldRefresh = saved.get('ou_alice')!.refreshToken;
    clock += 7200_000 - 60_000; // within the 5-minute margin
    const [a, b] = await Promise.all([p.get('ou_alice'), p.get('ou_alice')]);
    expect(a).toBe(b);
    expect(a).not.toBe(first);
    expect(saved.get('ou_alice')!.refreshToken).not.toBe(oldRefresh);
    const refreshes = ((await (await fetch(`${em.url}/_emulator/requests?since=0`)).json()) as any[]).filter(
      (r: any) => r.path.endsWith('refresh_access_token'),
    );
    expect(refreshes).toHaveLength(1);
    // Someone else used the stored refresh token (e.g. a restored backup): consent has lapsed.
    saved.set('ou_alice', { ...saved.get('ou_alice')!, refreshToken: oldRefresh, accessExpiresAt: 0 });
    expect(await p.get('ou_alice')).toBeUndefined();
    expect(p.lapsed()).toEqual(['ou_alice']);
  });

  it('refreshes through a kept-alive connection the server dropped under the request: sent again, not lapsed', async () => {
    const saved = new Map<string, UserTokens>();
    const store = {
      load: async (o: string) => saved.get(o),
      save: async (o: string, t: UserTokens) => void saved.set(o, t),
    };
    const p = createUserTokenProvider({ appId: APP_ID, appSecret: APP_SECRET, domain: em.url, store });
    for (const o of ['ou_alice', 'ou_bob']) {
      await p.adopt(o, await post('/_emulator/user-token', { app_id: APP_ID, open_id: o }));
      saved.set(o, { ...saved.get(o)!, accessExpiresAt: 0 });
    }
    expect(await p.get('ou_alice')).toMatch(/^u-/);
    // Bob's refresh goes out on the connection Alice's used; the server closes it on arrival, unanswered
    await post('/_emulator/faults', [
      { match: { path: '/refresh_access_token$' }, times: 1, action: { drop: true } },
    ]);
    expect(await p.get('ou_bob')).toMatch(/^u-/);
    expect(p.lapsed()).toEqual([]);
    const refreshes = ((await (await fetch(`${em.url}/_emulator/requests?since=0`)).json()) as any[]).filter(
      (r: any) => r.path.endsWith('refresh_access_token'),
    );
    expect(refreshes.map((r) => r.status)).toEqual([200, 0, 200]);
    p.close();
  });
});
