import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent } from '../../src/core/index.ts';
import { type PushReceiver, startPushReceiver } from '../emulator/push-receiver.ts';
import { TokenCache } from './cache.ts';
import { createFeishuConnector } from './client.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';

let em: FeishuEmulator;
let hook: PushReceiver;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const state = async (): Promise<any> => (await fetch(`${em.url}/_emulator/state`)).json();
const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
const tokens: Record<string, string> = {};

beforeAll(async () => {
  em = await startFeishuEmulator({
    push: { aggregateMs: 60_000, retryDelaysMs: [50], answerTimeoutMs: 1000 },
  });
  // The app's webhook only has to answer 200; the test reads what was sent from the emulator.
  hook = await startPushReceiver(() => ({ reply: { status: 200, body: '{}' }, notifications: [] }));
});
afterAll(async () => {
  await em.close();
  await hook.close();
});
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed({ event_url: hook.url }));
  for (const open_id of ['ou_alice', 'ou_bob']) {
    tokens[open_id] = (await post('/_emulator/user-token', { app_id: APP_ID, open_id })).access_token;
  }
  const sdk = new lark.Client({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: em.url,
    cache: new TokenCache(),
    logger: quiet,
  });
  for (const [open_id, calendar_id] of [
    ['ou_alice', CAL.alice],
    ['ou_bob', CAL.bob],
  ]) {
    await sdk.calendar.v4.calendarEvent.subscription(
      { path: { calendar_id } },
      lark.withUserAccessToken(tokens[open_id]),
    );
  }
});

const connector = () =>
  createFeishuConnector({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: em.url,
    baseDelayMs: 20,
    userToken: async (o) => tokens[o],
  });
/** Flushes the aggregation window and answers the change events sent so far: [calendar, event, type]. */
async function changeEvents(): Promise<string[][]> {
  await post('/_emulator/deliver');
  return em
    .deliveries()
    .filter((d) => d.event_type === 'calendar.calendar.event.changed_v4')
    .map((d) => [d.body.event.calendar_id, d.body.event.calendar_event_id, d.body.event.change_type]);
}
const T = 1767225600;
function meeting(): CanonicalEvent {
  return {
    ...blankEvent(
      { uid: 'g1', originalTime: 0 },
      { timestamp: T, timeZone: 'Asia/Shanghai' },
      { timestamp: T + 3600, timeZone: 'Asia/Shanghai' },
      'google',
    ),
    summary: 'From Google',
    attendees: [
      { kind: 'person', id: 'ou_bob', rsvp: 'needs-action' },
      { kind: 'external', email: 'carol@partner.example', rsvp: 'needs-action' },
      { kind: 'room', id: 'omm_room1', rsvp: 'accepted' },
    ],
  };
}
const ALICE = { owner: 'ou_alice', id: CAL.alice };
const tag = { pair: 'p1', key: 'g1_0' };

describe('feishu write side for reverse apply', () => {
  it("writes as the owner without attendee messages, and Feishu still sends change events for the app's own writes", async () => {
    const c = connector();
    const [made] = await c.write(ALICE, [{ op: 'create', event: meeting(), tag }]);
    expect(made.ok).toBe(true);
    const id = (made as { ref: { id: string } }).ref.id;
    let st = await state();
    const stored = st.events.find((e: any) => e.event_id === id);
    expect(stored.event_organizer).toMatchObject({ user_id: 'ou_alice' });
    expect(stored.attendees.map((a: any) => [a.type, a.user_id ?? a.third_party_email ?? a.room_id])).toEqual(
      [
        ['user', 'ou_bob'],
        ['third_party', 'carol@partner.example'],
        ['resource', 'omm_room1'],
      ],
    );
    expect(await changeEvents()).toEqual([[CAL.alice, id, 'create']]);
    const [upd] = await c.write(ALICE, [
      { op: 'update', ref: { id }, event: { ...meeting(), summary: 'Moved' }, tag },
    ]);
    expect(upd.ok).toBe(true);
    expect((await changeEvents()).at(-1)).toEqual([CAL.alice, id, 'update']);
    const [rm] = await c.write(ALICE, [{ op: 'remove', ref: { id } }]);
    expect(rm.ok).toBe(true);
    expect((await changeEvents()).at(-1)).toEqual([CAL.alice, id, 'delete']);
    st = await state();
    expect(st.notifications).toEqual([]);
    // With notify, the same writes also message the attendees.
    await c.write(
      ALICE,
      [
        {
          op: 'create',
          event: { ...meeting(), key: { uid: 'g2', originalTime: 0 } },
          tag: { pair: 'p1', key: 'g2_0' },
        },
      ],
      {
        notify: true,
      },
    );
    expect((await state()).notifications.map((n: any) => n.op)).toEqual(['create', 'attendees']);
  });

  it('removing an attendee messages them only with notify, and sends a change event either way', async () => {
    const c = connector();
    const [made] = await c.write(ALICE, [{ op: 'create', event: meeting(), tag }]);
    const id = (made as { ref: { id: string } }).ref.id;
    await changeEvents();
    const fewer = { ...meeting(), attendees: meeting().attendees.filter((a) => a.kind !== 'external') };
    await c.write(ALICE, [{ op: 'update', ref: { id }, event: fewer, tag }]);
    expect((await state()).notifications).toEqual([]);
    expect((await changeEvents()).at(-1)).toEqual([CAL.alice, id, 'update']);
    await c.write(ALICE, [{ op: 'update', ref: { id }, event: { ...fewer, attendees: [] }, tag }], {
      notify: true,
    });
    expect((await state()).notifications.map((n: any) => n.op)).toEqual(['update', 'attendees_removed']);
  });

  it('an update diffs attendees without the organizer on either side: no attendee calls when nothing changed', async () => {
    // A spoke copy lists the organizer among the attendees (Feishu shows them so, with is_organizer).
    const withOwner = (ev: CanonicalEvent): CanonicalEvent => ({
      ...ev,
      attendees: [{ kind: 'person', id: 'ou_alice', rsvp: 'accepted' }, ...ev.attendees],
    });
    const c = connector();
    const [made] = await c.write(ALICE, [{ op: 'create', event: withOwner(meeting()), tag }]);
    const id = (made as { ref: { id: string } }).ref.id;
    const listed = (await state()).events.find((e: any) => e.event_id === id).attendees;
    expect(listed.filter((a: any) => a.is_organizer).map((a: any) => a.user_id)).toEqual(['ou_alice']);
    const attendeeWrites = async (since: number) =>
      ((await (await fetch(`${em.url}/_emulator/requests?since=${since}`)).json()) as any[])
        .filter((r) => r.method === 'POST' && /\/attendees(\/batch_delete)?$/.test(r.path))
        .map((r) => r.path.replace(/.*\/attendees/, 'attendees'));
    const mark = async () =>
      ((await (await fetch(`${em.url}/_emulator/requests`)).json()) as any[]).at(-1)?.seq ?? 0;

    let since = await mark();
    const [same] = await c.write(ALICE, [
      { op: 'update', ref: { id }, event: { ...withOwner(meeting()), summary: 'Renamed' }, tag },
    ]);
    expect(same.ok).toBe(true);
    expect(await attendeeWrites(since)).toEqual([]);
    // The same without the organizer listed: still no change (the organizer is not ours to remove).
    since = await mark();
    await c.write(ALICE, [{ op: 'update', ref: { id }, event: meeting(), tag }]);
    expect(await attendeeWrites(since)).toEqual([]);

    since = await mark();
    const more = withOwner(meeting());
    more.attendees.push({ kind: 'external', email: 'dave@partner.example', rsvp: 'needs-action' });
    const [added] = await c.write(ALICE, [{ op: 'update', ref: { id }, event: more, tag }]);
    expect(added.ok).toBe(true);
    expect(await attendeeWrites(since)).toEqual(['attendees']);
    const after = (await state()).events.find((e: any) => e.event_id === id).attendees;
    expect(after.map((a: any) => a.user_id ?? a.third_party_email ?? a.room_id)).toEqual([
      'ou_alice',
      'ou_bob',
      'carol@partner.example',
      'omm_room1',
      'dave@partner.example',
    ]);
  });

  it("replies the owner's RSVP on every copy of the invitation, with an rsvp change event", async () => {
    const invite = {
      event_id: 'inv-1_0',
      summary: 'Invitation',
      start_time: { timestamp: String(T), timezone: 'Asia/Shanghai' },
      end_time: { timestamp: String(T + 3600), timezone: 'Asia/Shanghai' },
      attendees: [{ type: 'user', user_id: 'ou_bob', rsvp_status: 'needs_action' }],
    };
    await post('/_emulator/seed', {
      events: [
        { calendar_id: CAL.alice, ...invite },
        { calendar_id: CAL.bob, ...invite },
      ],
    });
    const c = connector();
    const r = await c.reply!({ owner: 'ou_bob', id: CAL.bob }, { id: 'inv-1_0' }, 'declined');
    expect(r).toEqual({ ok: true });
    const copies = (await state()).events.filter((e: any) => e.event_id === 'inv-1_0');
    expect(copies.map((e: any) => e.attendees[0].rsvp_status)).toEqual(['decline', 'decline']);
    expect(await changeEvents()).toEqual(
      expect.arrayContaining([
        [CAL.bob, 'inv-1_0', 'rsvp'],
        [CAL.alice, 'inv-1_0', 'rsvp'],
      ]),
    );
    // Alice is not an attendee: Feishu refuses; without a user token there is no one to reply as.
    const refused = await c.reply!(ALICE, { id: 'inv-1_0' }, 'accepted');
    expect(refused).toMatchObject({ ok: false, error: { code: '193002' } });
    const app = createFeishuConnector({ appId: APP_ID, appSecret: APP_SECRET, domain: em.url });
    expect(await app.reply!({ owner: 'ou_bob', id: CAL.bob }, { id: 'inv-1_0' }, 'accepted')).toMatchObject({
      ok: false,
      error: { kind: 'auth' },
    });
  });
});
