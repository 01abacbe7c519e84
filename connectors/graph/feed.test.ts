import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blankEvent } from '../../src/core/index.ts';
import type { PushRequest } from '../../src/ports/index.ts';
import { type PushReceiver, startPushReceiver } from '../emulator/push-receiver.ts';
import { createGraphConnector, type GraphConnector } from './connector.ts';
import { startGraphEmulator } from './emulator/index.ts';
import { SEED } from './emulator/testkit.ts';
import { MAX_LIFETIME_MINUTES, parseGraphPush } from './feed.ts';

let em: { url: string; close(): Promise<void> };
let rx: PushReceiver;
let conn: GraphConnector;
const CAL = { owner: 'ann@contoso.com', id: 'primary' };
const SECRET = 'feisync-client-state-1';
const control = async (path: string, body?: unknown, method = 'POST'): Promise<any> => {
  const res = await fetch(`${em.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as object) };
};
const state = () => control('state', undefined, 'GET');

beforeAll(async () => {
  em = await startGraphEmulator({ seed: SEED });
  rx = await startPushReceiver(parseGraphPush, '/webhooks/graph');
});
beforeEach(async () => {
  await control('reset', {});
  await control('seed', SEED);
  conn = createGraphConnector({
    tenantId: 'tenant-1',
    clientId: 'app-1',
    clientSecret: 'secret-1',
    baseUrl: em.url,
    authorityUrl: em.url,
  });
  rx.clear();
});
afterAll(async () => {
  await em.close();
  await rx.close();
});

const T = Date.UTC(2025, 2, 3, 1) / 1000;
const event = (uid: string) => ({
  ...blankEvent(
    { uid, originalTime: 0 },
    { timestamp: T, timeZone: 'UTC' },
    { timestamp: T + 1800, timeZone: 'UTC' },
    'feishu',
  ),
  summary: uid,
});

describe('graph ChangeFeed (subscriptions) against the emulator', () => {
  it('subscribes after answering the validation handshake on both URLs; our own writes notify with clientState', async () => {
    const sub = await conn.feed.subscribe(CAL, rx.url, SECRET);
    // The two handshakes (notification and lifecycle URL) were answered with the token as text/plain.
    expect(rx.replies.filter((r) => r.status === 200 && r.body?.startsWith('Validation:'))).toHaveLength(2);
    expect(rx.notifications).toEqual([]);
    expect(sub.expiresAt).toBeGreaterThan(Date.now() + 69 * 3600_000);
    expect(sub.expiresAt).toBeLessThanOrEqual(Date.now() + MAX_LIFETIME_MINUTES * 60_000);
    const stored = (await state()).subscriptions[0];
    expect(stored).toMatchObject({
      resource: '/users/ann@contoso.com/events',
      clientState: SECRET,
      lifecycleNotificationUrl: rx.url,
    });
    const [r] = await conn.write(CAL, [
      { op: 'create', event: event('e1'), tag: { pair: 'p', key: 'e1_0' } },
    ]);
    expect(r.ok).toBe(true);
    await rx.until(() => rx.notifications.length >= 1);
    expect(rx.notifications[0]).toEqual({ subscriptionId: sub.id, kind: 'change', secret: SECRET });
    expect(rx.replies.at(-1)).toEqual({ status: 202, body: undefined });
  });

  it('renews by PATCH (same id, later expiry), subscribes again when Graph lost it, and unsubscribes idempotently', async () => {
    const short = createGraphConnector({
      tenantId: 'tenant-1',
      clientId: 'app-1',
      clientSecret: 'secret-1',
      baseUrl: em.url,
      authorityUrl: em.url,
      subscriptionMinutes: 60,
    });
    const sub = await short.feed.subscribe(CAL, rx.url, SECRET);
    const renewed = await conn.feed.renew(sub, rx.url, SECRET);
    expect(renewed.id).toBe(sub.id);
    expect(renewed.expiresAt).toBeGreaterThan(sub.expiresAt + 3600_000);
    await conn.feed.unsubscribe(renewed);
    await conn.feed.unsubscribe(renewed);
    expect((await state()).subscriptions).toEqual([]);
    const again = await conn.feed.renew(renewed, rx.url, SECRET);
    expect(again.id).not.toBe(sub.id);
    expect((await state()).subscriptions.map((s: any) => s.id)).toEqual([again.id]);
  });

  it('delivers lifecycle notifications: reauthorizationRequired, missed, subscriptionRemoved (which ends deliveries)', async () => {
    const sub = await conn.feed.subscribe(CAL, rx.url, SECRET);
    for (const lifecycleEvent of ['reauthorizationRequired', 'missed', 'subscriptionRemoved']) {
      expect((await control('lifecycle', { subscriptionId: sub.id, lifecycleEvent })).status).toBe(200);
    }
    await rx.until(() => rx.notifications.length >= 3);
    expect(rx.notifications.map((n) => n.kind).sort()).toEqual(['missed', 'reauthorize', 'removed']);
    expect(rx.notifications.every((n) => n.subscriptionId === sub.id && n.secret === SECRET)).toBe(true);
    expect((await state()).subscriptions).toEqual([]);
    rx.clear();
    await conn.write(CAL, [{ op: 'create', event: event('e2'), tag: { pair: 'p', key: 'e2_0' } }]);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.notifications).toEqual([]);
  });

  it('an expired subscription gets no more deliveries (emulator clock); unknown lifecycle events are refused', async () => {
    const sub = await conn.feed.subscribe(CAL, rx.url, SECRET);
    await control('clock', { advanceSeconds: 4231 * 60 });
    await conn.write(CAL, [{ op: 'create', event: event('e3'), tag: { pair: 'p', key: 'e3_0' } }]);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.notifications).toEqual([]);
    const res = await fetch(`${em.url}/_emulator/lifecycle`, {
      method: 'POST',
      body: JSON.stringify({ subscriptionId: sub.id, lifecycleEvent: 'nonsense' }),
    });
    expect(res.status).toBe(400);
  });

  it('refuses a subscription whose endpoint fails the handshake', async () => {
    const deaf = await startPushReceiver(() => ({
      reply: { status: 200, body: 'wrong' },
      notifications: [],
    }));
    try {
      await expect(conn.feed.subscribe(CAL, deaf.url, SECRET)).rejects.toMatchObject({ kind: 'invalid' });
    } finally {
      await deaf.close();
    }
  });
});

describe('parseGraphPush', () => {
  const req = (body: unknown, query = ''): PushRequest => ({
    method: 'POST',
    query: new URLSearchParams(query),
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });

  it('answers the handshake with the decoded token as text/plain', () => {
    const out = parseGraphPush(req('', 'validationToken=a%20b%3Ac'));
    expect(out).toEqual({
      reply: { status: 200, contentType: 'text/plain', body: 'a b:c' },
      notifications: [],
    });
  });

  it('folds repeats, keeps several subscriptions apart, and leaves the secret out when clientState is null', () => {
    const n = (subscriptionId: string, extra: object = {}) => ({
      subscriptionId,
      clientState: 's',
      changeType: 'updated',
      ...extra,
    });
    const out = parseGraphPush(
      req({
        value: [
          n('a'),
          n('a', { changeType: 'created' }),
          n('b', { clientState: null }),
          n('a', { lifecycleEvent: 'brandNew' }),
        ],
      }),
    );
    expect(out.notifications).toEqual([
      { subscriptionId: 'a', kind: 'change', secret: 's' },
      { subscriptionId: 'b', kind: 'change' },
      { subscriptionId: 'a', kind: 'missed', secret: 's' },
    ]);
    expect(out.reply.status).toBe(202);
  });

  it('throws invalid on a body that is not a notification batch', () => {
    expect(() => parseGraphPush(req('not json'))).toThrow(expect.objectContaining({ kind: 'invalid' }));
    expect(() => parseGraphPush(req({ value: [{}] }))).toThrow(/subscriptionId/);
  });
});
