/** Requests a series master's update costs once its exceptions are on Graph (the attendees stage). */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent } from '../../src/core/index.ts';
import type { RemoteRef, WriteResult } from '../../src/ports/connector.ts';
import { createGraphConnector, type GraphConnector } from './connector.ts';
import { startGraphEmulator } from './emulator/index.ts';
import { SEED } from './emulator/testkit.ts';

let em: { url: string; close(): Promise<void> };
let conn: GraphConnector;
const cal = { owner: 'ann@contoso.com', id: 'primary' };
const control = async (path: string, body?: unknown, method = 'POST'): Promise<any> =>
  (
    await fetch(`${em.url}/_emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  ).json();

beforeAll(async () => {
  em = await startGraphEmulator({ seed: SEED });
});
afterAll(() => em.close());
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
});

const DAY = 86_400;
const start = Math.floor(Date.now() / 3_600_000) * 3600 + 7 * DAY;
const event = (originalTime: number, at: number, summary: string): CanonicalEvent => ({
  ...blankEvent(
    { uid: 'uid-s', originalTime },
    { timestamp: at, timeZone: 'Asia/Shanghai' },
    { timestamp: at + 3600, timeZone: 'Asia/Shanghai' },
    'feishu',
  ),
  summary,
});
const tag = (t: number) => ({ pair: 'p1', key: `uid-s_${t}` });
const people = [
  { kind: 'person' as const, email: 'carl@example.com', name: 'Carl', rsvp: 'accepted' as const },
];
const refOf = (r: WriteResult): RemoteRef => (r.ok && r.ref ? r.ref : expect.fail('no ref'));
const requests = async () => (await control('requests', undefined, 'GET')).length;

describe('graph series writes', () => {
  it('writes exceptions and then the series with its attendees in one $batch each, without reading the master back', async () => {
    const master = { ...event(0, start, 'Weekly'), recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'] };
    const [m] = await conn.write(cal, [{ op: 'create', event: master, tag: tag(0) }]);
    const x1 = event(start + 7 * DAY, start + 7 * DAY + 7200, 'Moved');
    const x2 = event(start + 14 * DAY, start + 14 * DAY, 'Renamed');
    let since = await requests();
    const written = await conn.write(
      cal,
      [x1, x2].map((ev) => ({ op: 'create', event: ev, tag: tag(ev.key.originalTime), parent: refOf(m) })),
    );
    expect(written.every((r) => r.ok)).toBe(true);
    const inner = async () =>
      (await control('requests', undefined, 'GET')).slice(since).map((r: any) => `${r.method} ${r.path}`);
    // the occurrences' ids (one $batch), then the two writes (one more): nothing else
    expect(await inner()).toEqual(['POST /v1.0/$batch', 'POST /v1.0/$batch']);

    // a one-way pair's update names no version: no If-Match to fail on the master's version, which
    // writing its exceptions can move on (a cancelled occurrence does: see below)
    since = await requests();
    const out = await conn.write(cal, [
      {
        op: 'update',
        ref: { id: refOf(m).id },
        event: { ...master, attendees: people },
        tag: tag(0),
        timesKept: true,
      },
      ...[x1, x2].map((ev, k) => ({
        op: 'update' as const,
        ref: refOf(written[k]),
        event: { ...ev, attendees: people },
        tag: tag(ev.key.originalTime),
        parent: { id: refOf(m).id },
      })),
    ]);
    expect(out.map((r) => r.ok)).toEqual([true, true, true]);
    // times kept: no read of the series' shape; the three writes in one $batch
    expect(await inner()).toEqual(['POST /v1.0/$batch']);
    expect((await control('requests', undefined, 'GET')).at(-1).items).toBe(3);
    const after = (await control('state', undefined, 'GET')).events.filter((e: any) => e.userId === 'u-ann');
    const stored = after.find((e: any) => e.type === 'seriesMaster');
    // without invitations, the attendees are written into the description
    expect(JSON.stringify(stored.body)).toContain('carl@example.com');
    // the series' times were left out, so Exchange kept its exceptions
    expect(
      after
        .filter((e: any) => e.type === 'exception')
        .map((e: any) => e.subject)
        .sort(),
    ).toEqual(['Moved', 'Renamed']);
  });

  it('refuses a two-way update whose version an exception moved on (the reverse pull merges it)', async () => {
    const master = { ...event(0, start, 'Weekly'), recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'] };
    const [m] = await conn.write(cal, [{ op: 'create', event: master, tag: tag(0) }]);
    // a cancelled occurrence (Exchange deletes it) changes the master's version
    const x1 = { ...event(start + 7 * DAY, start + 7 * DAY, 'Weekly'), status: 'cancelled' as const };
    const [x] = await conn.write(cal, [
      { op: 'create', event: x1, tag: tag(x1.key.originalTime), parent: refOf(m) },
    ]);
    expect(x.ok).toBe(true);
    const [out] = await conn.write(cal, [
      {
        op: 'update',
        ref: refOf(m),
        event: { ...master, summary: 'Weekly 2' },
        tag: tag(0),
        timesKept: true,
      },
    ]);
    expect(out.ok ? 'ok' : out.error.kind).toBe('precondition');
  });
});
