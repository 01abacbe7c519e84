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
  it('updates a master and its exceptions with their attendees in one $batch, after the exceptions were written', async () => {
    const master = { ...event(0, start, 'Weekly'), recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'] };
    const [m] = await conn.write(cal, [{ op: 'create', event: master, tag: tag(0) }]);
    const x1 = event(start + 7 * DAY, start + 7 * DAY + 7200, 'Moved');
    const x2 = event(start + 14 * DAY, start + 14 * DAY, 'Renamed');
    const written = await conn.write(
      cal,
      [x1, x2].map((ev) => ({ op: 'create', event: ev, tag: tag(ev.key.originalTime), parent: refOf(m) })),
    );
    expect(written.every((r) => r.ok)).toBe(true);
    // the master's version after its exceptions, as the writes of the exceptions return it
    const parent = written[0].ok ? written[0].parent : undefined;
    const state = (await control('state', undefined, 'GET')).events;
    expect(parent?.version).toBe(state.find((e: any) => e.type === 'seriesMaster').changeKey);

    const since = await requests();
    const out = await conn.write(cal, [
      {
        op: 'update',
        ref: { id: refOf(m).id, version: parent?.version },
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
    const log = (await control('requests', undefined, 'GET')).slice(since);
    // the writes and the master's new version fit one $batch: no read of the series' times, no
    // refused If-Match written again
    expect(log.map((r: any) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /v1.0/$batch 200']);
    const after = (await control('state', undefined, 'GET')).events.filter((e: any) => e.userId === 'u-ann');
    const stored = after.find((e: any) => e.type === 'seriesMaster');
    // without invitations, the attendees are written into the description
    expect(JSON.stringify(stored.body)).toContain('carl@example.com');
    expect(
      after
        .filter((e: any) => e.type === 'exception')
        .map((e: any) => e.subject)
        .sort(),
    ).toEqual(['Moved', 'Renamed']);
    // the master's result carries its version after the exceptions' writes
    expect(out[0].ok && out[0].ref?.version).toBe(stored.changeKey);
  });
});
