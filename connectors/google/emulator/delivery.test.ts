import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CALENDAR_SCOPE, delegatedClient } from '../auth.ts';
import { boundaryOf, buildMultipart, parseMultipart } from '../multipart.ts';
import { calendarFor, emulator, failure, serviceAccount, timed } from './testkit.ts';

let em: Awaited<ReturnType<typeof emulator>>;
let cal: ReturnType<typeof calendarFor>;
let receiver: Server;
let receiverUrl = '';
const received: IncomingHttpHeaders[] = [];
let bodies: string[] = [];

beforeAll(async () => {
  em = await emulator();
  receiver = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => {
      b += c;
    });
    req.on('end', () => {
      received.push(req.headers);
      bodies.push(b);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
beforeEach(async () => {
  await em.reset();
  cal = calendarFor(em.url, 'ann@example.com');
  received.length = 0;
  bodies = [];
});
afterAll(async () => {
  await em.close();
  await new Promise((r) => receiver.close(r));
});

const event = (id: string, extra: object = {}) => ({
  id,
  summary: id,
  start: timed('2025-03-03T09:00:00'),
  end: timed('2025-03-03T10:00:00'),
  ...extra,
});
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
};

async function rawBatch(parts: { method: string; path: string; body?: unknown }[]) {
  const jwt = delegatedClient(serviceAccount(), 'ann@example.com', [CALENDAR_SCOPE], `${em.url}/token`);
  const headers = await jwt.getRequestHeaders();
  const boundary = 'b_test';
  const body = buildMultipart(
    parts.map((p, i) => ({
      contentId: `c${i}`,
      startLine: `${p.method} ${p.path} HTTP/1.1`,
      headers: (p.body ? { 'Content-Type': 'application/json' } : {}) as Record<string, string>,
      body: p.body ? JSON.stringify(p.body) : '',
    })),
    boundary,
  );
  const res = await fetch(`${em.url}/batch/calendar/v3`, {
    method: 'POST',
    headers: {
      authorization: headers.get('authorization')!,
      'content-type': `multipart/mixed; boundary=${boundary}`,
    },
    body,
  });
  const text = await res.text();
  const b = boundaryOf(res.headers.get('content-type') ?? '');
  return { status: res.status, parts: b ? parseMultipart(text, b) : [], text };
}

const E = '/calendar/v3/calendars/primary/events';

describe('google emulator: batch, push notifications, quotas', () => {
  it('answers a multipart batch part by part, with Content-ID response-<id>, in one logged request', async () => {
    const before = (await em.requests()).length;
    const out = await rawBatch([
      { method: 'POST', path: `${E}?sendUpdates=none`, body: event('bat00001') },
      { method: 'POST', path: E, body: event('bat00001') },
      { method: 'POST', path: E, body: event('bat00002', { end: timed('2025-03-03T08:00:00') }) },
      { method: 'GET', path: `${E}/bat00001` },
    ]);
    expect(out.status).toBe(200);
    expect(out.parts.map((p) => [p.contentId, p.startLine.split(' ')[1]])).toEqual([
      ['response-c0', '200'],
      ['response-c1', '409'],
      ['response-c2', '400'],
      ['response-c3', '200'],
    ]);
    expect(JSON.parse(out.parts[1].body).error.errors[0].reason).toBe('duplicate');
    expect(JSON.parse(out.parts[3].body).id).toBe('bat00001');
    const log = (await em.requests()).slice(before);
    expect(log.filter((l: any) => l.path === '/batch/calendar/v3')).toHaveLength(1);
    const tooMany = await rawBatch(
      Array.from({ length: 1001 }, () => ({ method: 'GET', path: `${E}/bat00001` })),
    );
    expect(tooMany.status).toBe(400);
  });

  it('watch sends sync, then exists per change with channel headers; stop ends them; not_exists on calendar removal', async () => {
    const ch = await cal.events.watch({
      calendarId: 'primary',
      requestBody: { id: 'chan-1', type: 'web_hook', address: receiverUrl, token: 'secret-token' },
    });
    expect(ch.data).toMatchObject({ kind: 'api#channel', id: 'chan-1', token: 'secret-token' });
    expect(Number(ch.data.expiration)).toBeGreaterThan(Date.now() + 600_000 * 1000);
    await until(() => received.length >= 1);
    await cal.events.insert({ calendarId: 'primary', requestBody: event('aaa00001') });
    await until(() => received.length >= 2);
    const states = received.map((h) => [h['x-goog-resource-state'], h['x-goog-message-number']]);
    expect(states).toEqual([
      ['sync', '1'],
      ['exists', '2'],
    ]);
    expect(received[1]).toMatchObject({
      'x-goog-channel-id': 'chan-1',
      'x-goog-channel-token': 'secret-token',
      'x-goog-resource-id': ch.data.resourceId,
    });
    expect(received[1]['x-goog-resource-uri']).toContain('/calendar/v3/calendars/ann%40example.com/events');
    expect(bodies.every((b) => b === '')).toBe(true);
    await cal.channels.stop({ requestBody: { id: 'chan-1', resourceId: ch.data.resourceId } });
    expect(
      (await failure(cal.channels.stop({ requestBody: { id: 'chan-1', resourceId: ch.data.resourceId } })))
        .status,
    ).toBe(404);
    await cal.events.insert({ calendarId: 'primary', requestBody: event('aaa00002') });
    await cal.events.watch({
      calendarId: 'primary',
      requestBody: { id: 'chan-2', type: 'web_hook', address: receiverUrl },
    });
    await until(() => received.length >= 3);
    await em.control('delete-calendar', { id: 'ann@example.com' });
    await until(() => received.length >= 4);
    expect(received.slice(2).map((h) => [h['x-goog-channel-id'], h['x-goog-resource-state']])).toEqual([
      ['chan-2', 'sync'],
      ['chan-2', 'not_exists'],
    ]);
    const bob = calendarFor(em.url, 'bob@example.com');
    const notHttps = await failure(
      bob.events.watch({
        calendarId: 'primary',
        requestBody: { id: 'c3', type: 'web_hook', address: 'http://example.com/x' },
      }),
    );
    expect(notHttps.status).toBe(400);
  });

  it('enforces the per-user quota with 403 userRateLimitExceeded (batch parts included) until the window passes', async () => {
    await em.control('limits', { perUser: 3, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) await cal.events.list({ calendarId: 'primary' });
    const over = await failure(cal.events.list({ calendarId: 'primary' }));
    expect(over.status).toBe(403);
    expect(over.body).toEqual({
      error: {
        errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'Rate Limit Exceeded' }],
        code: 403,
        message: 'Rate Limit Exceeded',
      },
    });
    // Another user has a quota of their own.
    await calendarFor(em.url, 'bob@example.com').events.list({ calendarId: 'primary' });
    await em.control('clock', { advanceSeconds: 61 });
    cal = calendarFor(em.url, 'ann@example.com');
    const out = await rawBatch(
      Array.from({ length: 5 }, (_, i) => ({ method: 'POST', path: E, body: event(`quo0000${i}`) })),
    );
    expect(out.parts.map((p) => p.startLine.split(' ')[1])).toEqual(['200', '200', '200', '403', '403']);
    expect((await em.state()).quotaRejections).toBe(3);
  });

  it('answers a project overrun with 429 and Retry-After when so configured, and limits can be turned off', async () => {
    await em.control('limits', { perProject: 2, projectStatus: 429 });
    await cal.events.list({ calendarId: 'primary' });
    await cal.events.list({ calendarId: 'primary' });
    const f = await failure(cal.events.list({ calendarId: 'primary' }));
    expect(f).toMatchObject({ status: 429, reason: 'rateLimitExceeded' });
    await em.control('limits', { enabled: false });
    for (let i = 0; i < 5; i++) await cal.events.list({ calendarId: 'primary' });
    const st = await em.state();
    expect(st.limits.enabled).toBe(false);
  });
});
