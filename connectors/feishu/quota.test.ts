/**
 * Quota-true reading: every Feishu API has its own budget (per app: 1000/min, 50/s), and a listed
 * event's attendees are read through both APIs that return them, so a full listing with attendees
 * needs no more than half of either budget per event.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChangePage } from '../../src/ports/index.ts';
import { createFeishuConnector } from './client.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';

let em: FeishuEmulator;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const requests = async (): Promise<any[]> =>
  (await fetch(`${em.url}/_emulator/requests?since=0`)).json() as any;
const at = (h: number) => ({ timestamp: String(1767225600 + h * 3600), timezone: 'Asia/Shanghai' });
const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    type: 'third_party',
    third_party_email: `guest${i}@example.org`,
    rsvp_status: 'needs_action',
  }));

async function collect(it: AsyncIterable<ChangePage>) {
  const pages: ChangePage[] = [];
  for await (const p of it) pages.push(p);
  return pages;
}

/** Waits while the emulator's fixed minute window is about to roll over (it would double the budget). */
async function awayFromMinuteEdge() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8000) await new Promise((r) => setTimeout(r, left + 50));
}

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed());
});

describe('feishu emulator: limits per API', () => {
  it('counts each API of an app on its own: one API at its limit leaves the others untouched', async () => {
    await post('/_emulator/limits', { perMinute: 10 });
    await awayFromMinuteEdge();
    const tokenR = await post('/_emulator/user-token', { app_id: APP_ID, open_id: 'ou_alice' });
    const get = (path: string) =>
      fetch(`${em.url}/open-apis/calendar/v4/calendars/${encodeURIComponent(CAL.alice)}${path}`, {
        headers: { authorization: `Bearer ${tokenR.access_token}` },
      }).then((r) => r.status);
    const gets = await Promise.all(Array.from({ length: 15 }, () => get('/events/single-1_0')));
    const lists = await Promise.all(Array.from({ length: 15 }, () => get('/events/single-1_0/attendees')));
    expect(gets.filter((s) => s === 200)).toHaveLength(10);
    expect(gets.filter((s) => s === 429)).toHaveLength(5);
    // the attendee list has its own budget, untouched by the gets
    expect(lists.filter((s) => s === 200)).toHaveLength(10);
  });
});

describe('feishu connector: per-API budgets and attendee reads', () => {
  it('reads attendees through event get and attendee list alternately, each on its own budget', async () => {
    // 40 events and one with 130 attendees; each API allows 25 a minute here (emulator and connector alike)
    const events = Array.from({ length: 40 }, (_, i) => ({
      calendar_id: CAL.team,
      event_id: `q-${i}_0`,
      summary: `Q ${i}`,
      start_time: at(i),
      end_time: at(i + 1),
      attendees: people(i === 7 ? 130 : (i % 3) + 1),
    }));
    await post('/_emulator/reset');
    await post('/_emulator/seed', { ...sampleSeed(), events });
    await post('/_emulator/limits', { perMinute: 25 });
    await awayFromMinuteEdge();
    const c = createFeishuConnector({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: em.url,
      rate: { perMinute: 25 },
    });
    const t0 = Date.now();
    const pages = await collect(c.listChanges({ owner: 'nobody', id: CAL.team }, null));
    // one budget for all APIs would have to wait a minute for the 41 reads
    expect(Date.now() - t0).toBeLessThan(20_000);
    const got = pages.flatMap((p) => p.upserts);
    expect(got).toHaveLength(40);
    for (const u of got) {
      const i = Number(u.ref.id.slice(2, -2));
      expect(u.event.attendees).toHaveLength(i === 7 ? 130 : (i % 3) + 1);
      expect(u.event.attendees[0]).toMatchObject({ kind: 'external', email: 'guest0@example.org' });
    }
    const log = await requests();
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    const reads = log.filter((r) => r.method === 'GET' && /\/events\/q-/.test(r.path));
    const byGet = reads.filter((r) => !r.path.endsWith('/attendees'));
    expect(byGet).toHaveLength(20);
    // 20 through the attendee list, plus the pages of the large event past the first 100
    expect(reads.length - byGet.length).toBeGreaterThanOrEqual(21);
    expect(reads.length - byGet.length).toBeLessThanOrEqual(22);
  });

  it('counts a request until its answer: one that reached Feishu late leaves no refusals', async () => {
    await post('/_emulator/reset');
    await post('/_emulator/seed', sampleSeed());
    await post('/_emulator/limits', { perSecond: 5 });
    // the first read reaches Feishu 700 ms after it was sent (a busy server, a slow network)
    await post('/_emulator/faults', {
      match: { path: '/events/single-1_0$' },
      times: 1,
      action: { delayMs: 700 },
    });
    const c = createFeishuConnector({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: em.url,
      rate: { perSecond: 5 },
    });
    const reads = await Promise.all(
      Array.from({ length: 10 }, () => c.getEvent({ owner: 'nobody', id: CAL.alice }, 'single-1_0')),
    );
    expect(reads.every((r) => r && r !== 'deleted')).toBe(true);
    const log = (await requests()).filter((r) => r.path.endsWith('/events/single-1_0'));
    expect(log).toHaveLength(10);
    expect(log.filter((r) => r.status === 429)).toEqual([]);
  });

  it('reads no attendees when they are not synced', async () => {
    const c = createFeishuConnector({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: em.url,
      attendees: false,
    });
    const pages = await collect(c.listChanges({ owner: 'nobody', id: CAL.alice }, null));
    const single = pages.flatMap((p) => p.upserts).find((u) => u.ref.id === 'single-1_0');
    expect(single?.event.attendees).toEqual([]);
    const log = await requests();
    expect(log.filter((r) => /\/events\/[^/]+(\/attendees)?$/.test(r.path))).toEqual([]);
  });
});
