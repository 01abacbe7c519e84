import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blankEvent } from '../../src/core/index.ts';
import type { PushRequest } from '../../src/ports/index.ts';
import { type PushReceiver, startPushReceiver } from '../emulator/push-receiver.ts';
import { createGoogleConnector } from './client.ts';
import { calendarFor, emulator, serviceAccount, timed } from './emulator/testkit.ts';
import { parseGooglePush } from './feed.ts';

let em: Awaited<ReturnType<typeof emulator>>;
let rx: PushReceiver;
const connector = () =>
  createGoogleConnector({
    credentials: serviceAccount(),
    rootUrl: em.url,
    tokenUrl: `${em.url}/token`,
    retry: { baseMs: 20, maxMs: 200, attempts: 3 },
  });
const CAL = { owner: 'ann@example.com', id: 'primary' };
const SECRET = 'k=feisync-secret-1';

beforeAll(async () => {
  em = await emulator();
  rx = await startPushReceiver(parseGooglePush, '/webhooks/google');
});
beforeEach(async () => {
  await em.reset();
  rx.clear();
});
afterAll(async () => {
  await em.close();
  await rx.close();
});

const insert = (summary: string) =>
  calendarFor(em.url, 'ann@example.com').events.insert({
    calendarId: 'primary',
    requestBody: { summary, start: timed('2025-03-03T09:00:00'), end: timed('2025-03-03T10:00:00') },
  });

describe('google ChangeFeed (events.watch) against the emulator', () => {
  it('subscribes with our channel id and token: sync first, then a change per edit, secret presented', async () => {
    const feed = connector().feed;
    const sub = await feed.subscribe(CAL, rx.url, SECRET);
    expect(sub.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sub.resource).toBeTruthy();
    expect(sub.expiresAt).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    await rx.until(() => rx.notifications.length >= 1);
    expect(rx.notifications[0]).toEqual({ subscriptionId: sub.id, kind: 'sync', secret: SECRET });
    await insert('someone else');
    await rx.until(() => rx.notifications.length >= 2);
    expect(rx.notifications[1]).toEqual({ subscriptionId: sub.id, kind: 'change', secret: SECRET });
    expect(rx.replies.every((r) => r.status === 200)).toBe(true);
  });

  it('notifies for our own writes through the connector too (echoes must be expected)', async () => {
    const conn = connector();
    const sub = await conn.feed.subscribe(CAL, rx.url, SECRET);
    await rx.until(() => rx.notifications.length >= 1);
    const T = Date.UTC(2025, 2, 3, 1) / 1000;
    const ev = blankEvent(
      { uid: 'u1', originalTime: 0 },
      { timestamp: T, timeZone: 'UTC' },
      { timestamp: T + 1800, timeZone: 'UTC' },
      'feishu',
    );
    const [r] = await conn.write(CAL, [{ op: 'create', event: ev, tag: { pair: 'p', key: 'u1_0' } }]);
    expect(r.ok).toBe(true);
    await rx.until(() => rx.notifications.some((n) => n.kind === 'change'));
    expect(rx.notifications.filter((n) => n.kind === 'change')[0].subscriptionId).toBe(sub.id);
  });

  it('renews with a new channel and stops the old one; unsubscribe stops deliveries; stopping twice is fine', async () => {
    const feed = connector().feed;
    const first = await feed.subscribe(CAL, rx.url, SECRET);
    const second = await feed.renew(first, rx.url, SECRET);
    expect(second.id).not.toBe(first.id);
    const channels = (await em.state()).channels.map((c: any) => c.id);
    expect(channels).toEqual([second.id]);
    await feed.unsubscribe(second);
    await feed.unsubscribe(second);
    expect((await em.state()).channels).toEqual([]);
    await rx.until(() => rx.notifications.length >= 2); // the two sync messages
    rx.clear();
    await insert('after stop');
    await new Promise((r) => setTimeout(r, 150));
    expect(rx.notifications).toEqual([]);
  });

  it('an expired channel gets no more deliveries (emulator clock)', async () => {
    const conn = createGoogleConnector({
      credentials: serviceAccount(),
      rootUrl: em.url,
      tokenUrl: `${em.url}/token`,
      channelTtlSeconds: 3600,
    });
    const sub = await conn.feed.subscribe(CAL, rx.url, SECRET);
    expect(sub.expiresAt - Date.now()).toBeLessThanOrEqual(3600_000 + 5000);
    await rx.until(() => rx.notifications.length >= 1);
    await em.control('clock', { advanceSeconds: 3601 });
    rx.clear();
    await insert('after expiry');
    await new Promise((r) => setTimeout(r, 150));
    expect(rx.notifications).toEqual([]);
    expect((await em.state()).channels).toEqual([]);
  });
});

describe('parseGooglePush', () => {
  const req = (headers: Record<string, string>): PushRequest => ({
    method: 'POST',
    query: new URLSearchParams(),
    headers,
    body: Buffer.alloc(0),
  });

  it('maps resource states and keeps the token absent when the channel has none', () => {
    const base = { 'x-goog-channel-id': 'c1', 'x-goog-message-number': '3' };
    expect(parseGooglePush(req({ ...base, 'x-goog-resource-state': 'not_exists' })).notifications).toEqual([
      { subscriptionId: 'c1', kind: 'change' },
    ]);
    expect(parseGooglePush(req({ ...base, 'x-goog-resource-state': 'exists' })).reply).toEqual({
      status: 200,
    });
  });

  it('refuses deliveries without a channel id or with an unknown state', () => {
    expect(() => parseGooglePush(req({ 'x-goog-resource-state': 'exists' }))).toThrow(/Channel-ID/);
    expect(() =>
      parseGooglePush(req({ 'x-goog-channel-id': 'c1', 'x-goog-resource-state': 'weird' })),
    ).toThrow(expect.objectContaining({ kind: 'invalid' }));
  });
});
