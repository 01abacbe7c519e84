/**
 * Attendees deferred: a listing that leaves them out reads nothing per event and marks the events
 * that need them; `readAttendees` then reads them in the given order through both APIs, yields the
 * results in order, keeps an event deleted meanwhile marked, and puts a refused read in its place.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeError } from '../../src/core/index.ts';
import type { RemoteEvent } from '../../src/ports/index.ts';
import { createFeishuConnector } from './client.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';

let em: FeishuEmulator;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const requests = async (): Promise<any[]> =>
  (await fetch(`${em.url}/_emulator/requests?since=0`)).json() as any;
const at = (h: number) => ({ timestamp: String(1767225600 + h * 3600), timezone: 'Asia/Shanghai' });
const guests = (i: number) =>
  Array.from({ length: (i % 3) + 1 }, (_, g) => ({
    type: 'third_party',
    third_party_email: `guest${g}-of-${i}@example.org`,
    rsvp_status: 'accept',
  }));

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  const events = Array.from({ length: 30 }, (_, i) => ({
    calendar_id: CAL.team,
    event_id: `d-${i}_0`,
    summary: `D ${i}`,
    start_time: at(i),
    end_time: at(i + 1),
    attendees: guests(i),
  }));
  await post('/_emulator/seed', { ...sampleSeed(), events });
});

const connector = () => createFeishuConnector({ appId: APP_ID, appSecret: APP_SECRET, domain: em.url });
const team = { owner: 'nobody', id: CAL.team };

async function listed(): Promise<RemoteEvent[]> {
  const out: RemoteEvent[] = [];
  for await (const p of connector().listChanges(team, null, { attendees: 'defer' })) out.push(...p.upserts);
  return out;
}

describe('feishu connector: attendees deferred', () => {
  it('lists without reading attendees, then reads them in order through both APIs', async () => {
    const events = await listed();
    expect(events).toHaveLength(30);
    expect(events.every((e) => e.attendeesPending && e.event.attendees.length === 0)).toBe(true);
    const reads = (log: any[]) => log.filter((r) => /\/events\/[^/]+(\/attendees)?$/.test(r.path));
    expect(reads(await requests())).toEqual([]);

    const order = [...events].reverse();
    const got: (RemoteEvent | BridgeError)[] = [];
    for await (const run of connector().readAttendees!(team, order)) got.push(...run);
    expect(got.map((r) => (r as RemoteEvent).ref.id)).toEqual(order.map((e) => e.ref.id));
    for (const r of got as RemoteEvent[]) {
      const i = Number(r.ref.id.slice(2, -2));
      expect(r.attendeesPending).toBeUndefined();
      expect(r.event.attendees.map((a) => a.email)).toEqual(guests(i).map((g) => g.third_party_email));
      expect(r.event.summary).toBe(`D ${i}`);
    }
    const log = reads(await requests());
    expect(log).toHaveLength(30);
    expect(log.filter((r) => r.path.endsWith('/attendees'))).toHaveLength(15);
    // started in the order given, 20 at a time: the first read back is of one of the first 20
    // given (the last events), the read of the last one given comes with the last 20
    expect(log[0].path).toMatch(/\/d-(1|2)\d_0/);
    expect(log.slice(10).some((r) => /\/d-0_0/.test(r.path))).toBe(true);
  });

  it('keeps an event deleted since the listing marked, and puts a refused read in its place', async () => {
    const events = await listed();
    await post('/_emulator/events', { op: 'delete', calendar_id: CAL.team, event_id: 'd-3_0' });
    await post('/_emulator/faults', [
      {
        match: { method: 'GET', path: '/events/d-5_0(/attendees)?$' },
        action: { status: 200, body: { code: 194001, msg: 'no permission' } },
      },
    ]);
    const got: (RemoteEvent | BridgeError)[] = [];
    for await (const run of connector().readAttendees!(team, events.slice(0, 8))) got.push(...run);
    expect(got).toHaveLength(8);
    expect((got[3] as RemoteEvent).attendeesPending).toBe(true);
    expect((got[3] as RemoteEvent).event.attendees).toEqual([]);
    expect((got[5] as BridgeError).kind).toBe('auth');
    expect((got[4] as RemoteEvent).event.attendees).toHaveLength(2);
  });

  it('stops reading when the caller stops', async () => {
    const events = await listed();
    await post('/_emulator/faults', [{ match: { path: '/events/' }, action: { delayMs: 150 } }]);
    for await (const run of connector().readAttendees!(team, events)) {
      expect(run.length).toBeGreaterThan(0);
      break;
    }
    await new Promise((r) => setTimeout(r, 600));
    const reads = (await requests()).filter((r) => /\/events\/[^/]+(\/attendees)?$/.test(r.path));
    // what was in flight came back; nothing more was started
    expect(reads.length).toBeLessThan(30);
  });
});
