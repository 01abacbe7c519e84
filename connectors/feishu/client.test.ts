import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BridgeError, blankEvent, type CanonicalEvent } from '../../src/core/index.ts';
import type { ChangePage } from '../../src/ports/index.ts';
import { createFeishuConnector, type FeishuConnectorOptions } from './client.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';

let em: FeishuEmulator;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const requests = async (): Promise<any[]> =>
  (await fetch(`${em.url}/_emulator/requests?since=0`)).json() as any;
const connector = (o: Partial<FeishuConnectorOptions> = {}) =>
  createFeishuConnector({ appId: APP_ID, appSecret: APP_SECRET, domain: em.url, baseDelayMs: 20, ...o });
async function collect(it: AsyncIterable<ChangePage>) {
  const pages: ChangePage[] = [];
  for await (const p of it) pages.push(p);
  return pages;
}
const at = (h: number) => ({ timestamp: String(1767225600 + h * 3600), timezone: 'Asia/Shanghai' });

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed());
});

describe('feishu connector: listChanges', () => {
  it('lists 5,000 events in pages of 500, then an incremental pull returns exactly the changes', async () => {
    await post('/_emulator/limits', { enabled: false });
    const events = Array.from({ length: 5000 - 2 }, (_, i) => ({
      calendar_id: CAL.alice,
      event_id: `bulk-${i}_0`,
      summary: `Bulk ${i}`,
      start_time: at(i),
      end_time: at(i + 1),
    }));
    await post('/_emulator/seed', { events });
    const c = connector({ attendees: false });
    const ref = { owner: 'ou_alice', id: CAL.alice };
    const pages = await collect(c.listChanges(ref, null));
    expect(pages).toHaveLength(10);
    expect(pages.flatMap((p) => p.upserts.map((u) => u.ref.id))).toHaveLength(5000);
    expect(new Set(pages.flatMap((p) => p.upserts.map((u) => u.ref.id))).size).toBe(5000);
    const cursor = pages.at(-1)!.cursor!;
    expect(cursor).toBeTruthy();
    expect(pages.slice(0, -1).every((p) => p.cursor === undefined)).toBe(true);
    const listCalls = (await requests()).filter((r) => r.path.endsWith('/events'));
    expect(listCalls).toHaveLength(10);

    await post('/_emulator/events', {
      op: 'patch',
      calendar_id: CAL.alice,
      event_id: 'bulk-10_0',
      event: { summary: 'Changed' },
    });
    await post('/_emulator/events', { op: 'delete', calendar_id: CAL.alice, event_id: 'bulk-20_0' });
    await post('/_emulator/events', {
      op: 'delete',
      calendar_id: CAL.alice,
      event_id: 'series-1_1767315600',
    });
    const made = await post('/_emulator/events', {
      op: 'create',
      calendar_id: CAL.alice,
      event: { summary: 'New', start_time: at(1), end_time: at(2) },
    });
    const inc = await collect(c.listChanges(ref, cursor));
    expect(inc).toHaveLength(1);
    expect(inc[0].upserts.map((u) => [u.ref.id, u.event.summary, u.event.status])).toEqual([
      ['bulk-10_0', 'Changed', 'confirmed'],
      ['series-1_1767315600', 'Daily', 'cancelled'],
      [made.event.event_id, 'New', 'confirmed'],
    ]);
    expect(inc[0].upserts[1].event.key).toEqual({ uid: 'series-1', originalTime: 1767315600 });
    expect(inc[0].removals).toEqual([{ ref: { id: 'bulk-20_0' }, key: { uid: 'bulk-20', originalTime: 0 } }]);
    const none = await collect(c.listChanges(ref, inc[0].cursor!));
    expect(none).toEqual([{ upserts: [], removals: [], cursor: expect.any(String) }]);
  });

  it('reports an expired cursor as one page with expired', async () => {
    const c = connector();
    const ref = { owner: 'ou_alice', id: CAL.alice };
    const pages = await collect(c.listChanges(ref, null));
    await post('/_emulator/clock', { advanceSeconds: 8 * 86400 });
    expect(await collect(connector().listChanges(ref, pages.at(-1)!.cursor!))).toEqual([
      { upserts: [], removals: [], expired: true },
    ]);
  });

  it('reads attendees (rooms included) and uses the owner user token when there is one', async () => {
    const t = await post('/_emulator/user-token', { app_id: APP_ID, open_id: 'ou_bob' });
    const c = connector({ userToken: async (o) => (o === 'ou_bob' ? t.access_token : undefined) });
    const alice = await collect(c.listChanges({ owner: 'ou_alice', id: CAL.alice }, null));
    const planning = alice[0].upserts.find((u) => u.ref.id === 'single-1_0')!;
    expect(planning.event.attendees).toContainEqual(
      expect.objectContaining({ kind: 'room', id: 'omm_room1', rsvp: 'accepted' }),
    );
    // Bob's calendar has no acl for the app: readable only through Bob's own token.
    expect((await collect(c.listChanges({ owner: 'ou_bob', id: CAL.bob }, null)))[0].cursor).toBeTruthy();
    const err = await collect(connector().listChanges({ owner: 'ou_bob', id: CAL.bob }, null)).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(BridgeError);
    expect(err).toMatchObject({ kind: 'auth', code: '191002', status: 403, requestId: expect.any(String) });
  });
});

describe('feishu connector: retries and limits', () => {
  it('retries 429 and 5xx honouring the reset header, and keeps under the documented rate', async () => {
    await post('/_emulator/faults', [
      {
        match: { path: '/events$' },
        times: 1,
        action: {
          status: 429,
          body: { code: 99991400, msg: 'limit' },
          headers: { 'x-ogw-ratelimit-reset': '1' },
        },
      },
      {
        match: { path: '/events$' },
        times: 1,
        action: { status: 500, body: { code: 190003, msg: 'internal' } },
      },
    ]);
    const c = connector({ attendees: false });
    const t0 = Date.now();
    const pages = await collect(c.listChanges({ owner: 'ou_alice', id: CAL.alice }, null));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(pages[0].upserts).toHaveLength(2);
    expect((await requests()).filter((r) => r.path.endsWith('/events')).map((r) => r.status)).toEqual([
      429, 500, 200,
    ]);
    // 60 reads against the enforced 50/s limit: the connector's own queue keeps every one under it.
    const many = await Promise.all(Array.from({ length: 60 }, () => c.listCalendars('ou_alice')));
    expect(many.every((l) => l.length > 0)).toBe(true);
    expect((await requests()).filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('gives up with a rate_limited BridgeError after the retries', async () => {
    await post('/_emulator/faults', [
      { match: { path: '/events$' }, action: { status: 429, body: { code: 99991400, msg: 'limit' } } },
    ]);
    const err = await collect(
      connector({ retries: 2, baseDelayMs: 1 }).listChanges({ owner: 'x', id: CAL.alice }, null),
    ).catch((e) => e);
    expect(err).toMatchObject({ kind: 'rate_limited', code: '99991400', retryable: true });
  });
});

describe('feishu connector: writes, calendars and helpers', () => {
  const ev = (summary: string): CanonicalEvent => ({
    ...blankEvent(
      { uid: 'src-1', originalTime: 0 },
      { timestamp: 1767240000, timeZone: 'Asia/Shanghai' },
      { timestamp: 1767243600, timeZone: 'Asia/Shanghai' },
      'google',
    ),
    summary,
    attendees: [
      { kind: 'person', id: 'ou_bob', rsvp: 'needs-action' },
      { kind: 'room', id: 'omm_room1', rsvp: 'accepted' },
    ],
  });

  it('creates idempotently without notification, updates, and removes (twice is fine)', async () => {
    const c = connector();
    const cal = { owner: 'ou_alice', id: CAL.alice };
    const tag = { pair: 'p1', key: 'src-1_0' };
    const [made] = await c.write(cal, [{ op: 'create', event: ev('Hello'), tag }]);
    expect(made).toMatchObject({ ok: true, ref: { id: expect.stringMatching(/_0$/) } });
    const id = (made as any).ref.id;
    const [again] = await c.write(cal, [{ op: 'create', event: ev('Hello'), tag }]);
    expect((again as any).ref.id).toBe(id);
    const [upd] = await c.write(cal, [
      { op: 'update', ref: { id }, event: { ...ev('Renamed'), attendees: [] }, tag },
    ]);
    expect(upd.ok).toBe(true);
    const state: any = await (await fetch(`${em.url}/_emulator/state`)).json();
    const stored = state.events.find((e: any) => e.event_id === id);
    expect(stored).toMatchObject({ summary: 'Renamed', attendees: [] });
    expect(state.notifications).toEqual([]);
    const removed = await c.write(cal, [
      { op: 'remove', ref: { id } },
      { op: 'remove', ref: { id } },
    ]);
    expect(removed).toEqual([{ ok: true }, { ok: true }]);
    const bad = await c.write({ owner: 'x', id: CAL.team }, [{ op: 'create', event: ev('x'), tag }]);
    expect(bad[0]).toMatchObject({ ok: false, error: { kind: 'auth', code: '193002' } });
  });

  it('writes an exception and a cancelled occurrence on the series instance ids', async () => {
    const c = connector();
    const cal = { owner: 'ou_alice', id: CAL.alice };
    const key = { uid: 'src-s', originalTime: 1767315600 };
    const moved = { ...ev('Moved'), key, attendees: [] };
    const [r] = await c.write(cal, [
      { op: 'create', event: moved, tag: { pair: 'p', key: 'x' }, parent: { id: 'series-1_0' } },
    ]);
    expect(r).toMatchObject({ ok: true, ref: { id: 'series-1_1767315600' } });
    const cancelled = {
      ...moved,
      key: { uid: 'src-s', originalTime: 1767402000 },
      status: 'cancelled' as const,
    };
    await c.write(cal, [
      { op: 'create', event: cancelled, tag: { pair: 'p', key: 'y' }, parent: { id: 'series-1_0' } },
    ]);
    const state: any = await (await fetch(`${em.url}/_emulator/state`)).json();
    expect(state.events.find((e: any) => e.event_id === 'series-1_1767402000')).toMatchObject({
      status: 'cancelled',
      is_exception: true,
    });
  });

  it('lists calendars, finds users by e-mail, resolves primary and subscribes with user tokens', async () => {
    const t = await post('/_emulator/user-token', { app_id: APP_ID, open_id: 'ou_alice' });
    const c = connector({ userToken: async (o) => (o === 'ou_alice' ? t.access_token : undefined) });
    const cals = await c.listCalendars('ou_alice');
    expect(cals).toContainEqual({ id: CAL.alice, summary: 'Alice', primary: true, writable: true });
    expect(await c.lookupUsersByEmail(['alice@example.com', 'zed@example.com'])).toEqual(
      new Map([['alice@example.com', 'ou_alice']]),
    );
    expect(await c.primaryCalendar('ou_alice')).toBe(CAL.alice);
    await c.subscribeCalendarList('ou_alice');
    await c.subscribeEvents('ou_alice', CAL.alice);
    const state: any = await (await fetch(`${em.url}/_emulator/state`)).json();
    expect(state.subscriptions).toEqual({
      calendars: { [APP_ID]: ['ou_alice'] },
      events: { [APP_ID]: { [CAL.alice]: ['ou_alice'] } },
    });
    await expect(c.subscribeEvents('ou_bob', CAL.bob)).rejects.toMatchObject({ kind: 'auth' });
  });
});
