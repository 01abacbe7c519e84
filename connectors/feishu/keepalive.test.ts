/**
 * The connector's connections to Feishu: kept alive and pooled per client, bounded, closed with the
 * connector, and a kept-alive connection the server dropped under a request is sent again at once.
 * Connections are counted on the client side, as Node creates them (`net.client.socket`).
 */
import dc from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFeishuConnector } from './client.ts';
import { APP_ID, APP_SECRET, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';

let em: FeishuEmulator;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const requests = async (): Promise<any[]> =>
  (await fetch(`${em.url}/_emulator/requests?since=0`)).json() as any;
const connector = (retries = 0) =>
  createFeishuConnector({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: em.url,
    retries,
    baseDelayMs: 10,
    rate: { perSecond: 100_000, perMinute: 1_000_000 },
  });

/** Sockets opened while `fn` runs (no control calls inside it: they would be counted too). */
async function opened<T>(fn: () => Promise<T>): Promise<{ value: T; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const onSocket = (m: unknown) => sockets.push((m as { socket: Socket }).socket);
  dc.subscribe('net.client.socket', onSocket);
  try {
    return { value: await fn(), sockets };
  } finally {
    dc.unsubscribe('net.client.socket', onSocket);
  }
}

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed());
  await post('/_emulator/limits', { enabled: false });
});

describe('feishu connector: connections', () => {
  it('sends 40 sequential reads (and the token request) over one connection, closed with the connector', async () => {
    const c = connector();
    const { sockets } = await opened(async () => {
      for (let i = 0; i < 40; i++) await c.listCalendars('ou_alice');
    });
    expect((await requests()).filter((r) => r.path === '/open-apis/calendar/v4/calendars')).toHaveLength(40);
    expect(sockets).toHaveLength(1);
    expect(sockets[0].destroyed).toBe(false);
    c.close();
    expect(sockets[0].destroyed).toBe(true);
  });

  it('holds a burst of concurrent reads to a bounded pool, then reuses it', async () => {
    const c = connector();
    const burst = await opened(() =>
      Promise.all(Array.from({ length: 150 }, () => c.listCalendars('ou_alice'))),
    );
    expect(burst.value).toHaveLength(150);
    // 64 per client at most; the first token request may open one more before the pool fills
    expect(burst.sockets.length).toBeLessThanOrEqual(65);
    const again = await opened(() =>
      Promise.all(Array.from({ length: 50 }, () => c.listCalendars('ou_alice'))),
    );
    expect(again.sockets).toHaveLength(0);
    c.close();
    expect(burst.sockets.every((s) => s.destroyed)).toBe(true);
  });

  it('sends a request again at once when the server drops the kept-alive connection under it', async () => {
    // the emulator closes the connection as the second call's request arrives on it, unanswered
    await post('/_emulator/faults', [
      { match: { path: '/contact/v3/users/batch_get_id$' }, times: 1, action: { drop: true } },
    ]);
    const c = connector(0); // no retries of its own: only the resend can save the call
    const { value, sockets } = await opened(async () => {
      await c.listCalendars('ou_alice');
      return c.lookupUsersByEmail(['alice@example.com']);
    });
    expect(value).toEqual(new Map([['alice@example.com', 'ou_alice']]));
    const log = (await requests()).filter((r) => r.path.endsWith('/batch_get_id'));
    expect(log.map((r) => r.status)).toEqual([0, 200]);
    expect(sockets).toHaveLength(2);
    c.close();
  });

  it('leaves a failure on a fresh connection to the retries, as a transient error', async () => {
    // the token request is each client's first, so it goes out on a new connection
    const dropToken = () =>
      post('/_emulator/faults', [
        { match: { path: '/tenant_access_token/internal$' }, times: 1, action: { drop: true } },
      ]);
    await dropToken();
    const once = connector(0);
    await expect(once.lookupUsersByEmail(['alice@example.com'])).rejects.toMatchObject({ kind: 'transient' });
    once.close();
    await dropToken();
    const retried = connector(1);
    expect(await retried.lookupUsersByEmail(['alice@example.com'])).toEqual(
      new Map([['alice@example.com', 'ou_alice']]),
    );
    retried.close();
    const log = (await requests()).filter((r) => r.path.endsWith('/tenant_access_token/internal'));
    expect(log.map((r) => r.status)).toEqual([0, 0, 200]);
  });

  it("reads an answer that is not JSON (a proxy's error page) as a failure with its status", async () => {
    await post('/_emulator/faults', [
      {
        match: { path: '/contact/v3/users/batch_get_id$' },
        action: { status: 502, body: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } },
      },
    ]);
    const c = connector(0);
    const err = await c.lookupUsersByEmail(['alice@example.com']).catch((e) => e);
    expect(err).toMatchObject({ kind: 'transient', status: 502 });
    expect(err.message).toContain('502');
    c.close();
  });
});
