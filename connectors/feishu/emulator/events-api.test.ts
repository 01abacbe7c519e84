import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenCache } from '../cache.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from './fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './index.ts';

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
let em: FeishuEmulator;
let client: lark.Client;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e: any) {
    return { status: e.response?.status, code: e.response?.data?.code };
  }
  throw new Error('expected the call to fail');
};
const list = (params: Record<string, any>, calendar_id = CAL.alice) =>
  client.calendar.v4.calendarEvent.list({ path: { calendar_id }, params });
const hour = (h: number) => ({ timestamp: String(1767225600 + h * 3600), timezone: 'Asia/Shanghai' });

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed());
  await post('/_emulator/limits', { enabled: false });
  client = new lark.Client({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: em.url,
    cache: new TokenCache(),
    logger: quiet,
  });
});

describe('feishu emulator: event list', () => {
  it('pages with page_token and ends with a sync_token; incremental pulls return changes incl. cancelled', async () => {
    for (let i = 0; i < 120; i++) {
      await post('/_emulator/events', {
        op: 'create',
        calendar_id: CAL.alice,
        event: { summary: `e${i}`, start_time: hour(i), end_time: hour(i + 1) },
      });
    }
    const seen: string[] = [];
    let r = await list({ page_size: 50, anchor_time: '0' });
    seen.push(...r.data!.items!.map((e) => e.event_id));
    while (r.data!.has_more) {
      expect(r.data!.sync_token).toBeUndefined();
      r = await list({ page_size: 50, page_token: r.data!.page_token });
      seen.push(...r.data!.items!.map((e) => e.event_id));
    }
    expect(new Set(seen).size).toBe(122);
    const sync = r.data!.sync_token!;
    const victim = seen[5];
    await post('/_emulator/events', {
      op: 'patch',
      calendar_id: CAL.alice,
      event_id: seen[7],
      event: { summary: 'changed' },
    });
    await post('/_emulator/events', { op: 'delete', calendar_id: CAL.alice, event_id: victim });
    const inc = await list({ sync_token: sync });
    expect(inc.data!.items!.map((e) => [e.event_id, e.status])).toEqual([
      [seen[7], 'confirmed'],
      [victim, 'cancelled'],
    ]);
    expect(inc.data!.sync_token).toBeTruthy();
    expect((await list({ sync_token: inc.data!.sync_token })).data!.items).toEqual([]);
  });

  it('refuses page_size out of 50-1000, conflicting parameters (190009) and expired tokens (190008)', async () => {
    expect(await failure(list({ page_size: 1001 }))).toMatchObject({ status: 400, code: 190002 });
    const r = await list({});
    expect(await failure(list({ sync_token: r.data!.sync_token, start_time: '1' }))).toMatchObject({
      status: 400,
      code: 190009,
    });
    expect(await failure(list({ sync_token: r.data!.sync_token, anchor_time: '1' }))).toMatchObject({
      code: 190009,
    });
    await post('/_emulator/clock', { advanceSeconds: 8 * 86400 });
    // A fresh client: the SDK's token cache runs on the real clock.
    client = new lark.Client({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: em.url,
      cache: new TokenCache(),
      logger: quiet,
    });
    expect(await failure(list({ sync_token: r.data!.sync_token }))).toMatchObject({
      status: 400,
      code: 190008,
    });
  });

  it('filters by anchor_time and by start_time/end_time in one page', async () => {
    const anchored = await list({ anchor_time: '1767243600' });
    expect(anchored.data!.items!.map((e) => e.event_id)).toEqual(['single-1_0', 'series-1_0']);
    const late = await list({ anchor_time: '1767243601' });
    expect(late.data!.items!.map((e) => e.event_id)).toEqual(['series-1_0']);
    const window = await list({ start_time: '1767240000', end_time: '1767241000' });
    expect(window.data!.items!.map((e) => e.event_id)).toContain('single-1_0');
    expect(window.data!.page_token).toBeUndefined();
  });
});

describe('feishu emulator: event get, writes, instances, attendees', () => {
  it('returns attendees only with need_attendee, rooms as resource attendees', async () => {
    const plain = await client.calendar.v4.calendarEvent.get({
      path: { calendar_id: CAL.alice, event_id: 'single-1_0' },
    });
    expect(plain.data!.event!.attendees).toBeUndefined();
    const full = await client.calendar.v4.calendarEvent.get({
      path: { calendar_id: CAL.alice, event_id: 'single-1_0' },
      params: { need_attendee: true, max_attendee_num: 1 },
    });
    expect(full.data!.event!.attendees).toHaveLength(1);
    expect(full.data!.event!.has_more_attendee).toBe(true);
    const all = await client.calendar.v4.calendarEventAttendee.list({
      path: { calendar_id: CAL.alice, event_id: 'single-1_0' },
      params: { page_size: 10 },
    });
    expect(all.data!.items).toContainEqual(
      expect.objectContaining({ type: 'resource', room_id: 'omm_room1' }),
    );
    expect(
      await failure(
        client.calendar.v4.calendarEventAttendee.list({
          path: { calendar_id: CAL.alice, event_id: 'single-1_0' },
          params: { page_size: 5 },
        }),
      ),
    ).toMatchObject({ code: 190002 });
    expect(
      await failure(
        client.calendar.v4.calendarEvent.get({ path: { calendar_id: CAL.alice, event_id: 'nope_0' } }),
      ),
    ).toMatchObject({
      status: 404,
      code: 193001,
    });
  });

  it('creates, patches and deletes with need_notification, and refuses a deleted event', async () => {
    const made = await client.calendar.v4.calendarEvent.create({
      path: { calendar_id: CAL.alice },
      params: { idempotency_key: 'k1' },
      data: { summary: 'New', need_notification: false, start_time: hour(1), end_time: hour(2) },
    });
    const id = made.data!.event!.event_id;
    expect(id).toMatch(/_0$/);
    const again = await client.calendar.v4.calendarEvent.create({
      path: { calendar_id: CAL.alice },
      params: { idempotency_key: 'k1' },
      data: { summary: 'New', start_time: hour(1), end_time: hour(2) },
    });
    expect(again.data!.event!.event_id).toBe(id);
    await client.calendar.v4.calendarEvent.patch({
      path: { calendar_id: CAL.alice, event_id: id },
      data: { summary: 'Renamed' },
    });
    const got = await client.calendar.v4.calendarEvent.get({
      path: { calendar_id: CAL.alice, event_id: id },
    });
    expect(got.data!.event!.summary).toBe('Renamed');
    await client.calendar.v4.calendarEvent.delete({
      path: { calendar_id: CAL.alice, event_id: id },
      params: { need_notification: 'false' },
    });
    expect(
      await failure(
        client.calendar.v4.calendarEvent.delete({ path: { calendar_id: CAL.alice, event_id: id } }),
      ),
    ).toMatchObject({
      status: 403,
      code: 193003,
    });
    const state: any = await (await fetch(`${em.url}/_emulator/state`)).json();
    expect(state.notifications).toEqual([{ calendar_id: CAL.alice, event_id: id, op: 'update' }]);
  });

  it('expands instances, with a moved exception and a cancelled occurrence', async () => {
    const second = 1767229200 + 86400;
    const third = second + 86400;
    await client.calendar.v4.calendarEvent.patch({
      path: { calendar_id: CAL.alice, event_id: `series-1_${second}` },
      data: {
        summary: 'Moved',
        start_time: { timestamp: String(second + 3600) },
        end_time: { timestamp: String(second + 5400) },
      },
    });
    await client.calendar.v4.calendarEvent.delete({
      path: { calendar_id: CAL.alice, event_id: `series-1_${third}` },
    });
    const r = await client.calendar.v4.calendarEvent.instances({
      path: { calendar_id: CAL.alice, event_id: 'series-1_0' },
      params: { start_time: '1767200000', end_time: String(1767229200 + 10 * 86400) },
    });
    const items = r.data!.items!;
    expect(items.map((i) => i.event_id)).toHaveLength(4);
    expect(items.find((i) => i.event_id === `series-1_${second}`)).toMatchObject({
      summary: 'Moved',
      is_exception: true,
    });
    expect(items.find((i) => i.event_id === `series-1_${third}`)).toBeUndefined();
    const ex = await list({ anchor_time: '0' });
    expect(ex.data!.items!.find((e) => e.event_id === `series-1_${third}`)).toMatchObject({
      status: 'cancelled',
      is_exception: true,
      recurring_event_id: 'series-1_0',
    });
  });
});
