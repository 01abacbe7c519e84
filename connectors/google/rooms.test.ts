/** The Google connector's room access, through googleapis against the emulator. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent } from '../../src/core/index.ts';
import type { WriteOp } from '../../src/ports/index.ts';
import { createGoogleConnector } from './client.ts';
import { emulator, serviceAccount } from './emulator/testkit.ts';

const ROOM = 'room1@resource.calendar.google.com';
let em: Awaited<ReturnType<typeof emulator>>;
beforeAll(async () => {
  em = await emulator({ resources: [{ resourceId: 'r1', resourceEmail: ROOM, resourceName: 'Room 1' }] });
});
beforeEach(() => em.reset());
afterAll(() => em.close());

const connector = (adminEmail?: string) =>
  createGoogleConnector({
    credentials: serviceAccount(),
    rootUrl: em.url,
    tokenUrl: `${em.url}/token`,
    ...(adminEmail ? { adminEmail } : {}),
  });
const BOB = { owner: 'bob@example.com', id: 'primary' };
const T0 = Date.UTC(2025, 2, 3, 1) / 1000; // 2025-03-03 09:00 Asia/Shanghai

function meeting(uid: string, hours: number, extra: Partial<CanonicalEvent> = {}): CanonicalEvent {
  const start = T0 + hours * 3600;
  return {
    ...blankEvent(
      { uid, originalTime: 0 },
      { timestamp: start, timeZone: 'Asia/Shanghai' },
      { timestamp: start + 3600, timeZone: 'Asia/Shanghai' },
      'feishu',
    ),
    summary: `meeting ${uid}`,
    attendees: [{ kind: 'room', email: ROOM, name: 'Room 1', rsvp: 'accepted' }],
    ...extra,
  };
}
const create = (e: CanonicalEvent, pair: string): WriteOp => ({
  op: 'create',
  event: e,
  tag: { pair, key: `${e.key.uid}_0` },
});

describe('google connector: rooms', () => {
  it('reads the room answer on a mirrored event: accepted when free, declined when taken', async () => {
    const c = connector('ann@example.com');
    const [a, b] = await c.write(BOB, [create(meeting('a', 0), 'p1'), create(meeting('b', 0.5), 'p1')]);
    if (!a.ok || !b.ok) throw new Error('writes failed');
    // the answer comes with the write itself, no further read
    expect(a.rooms).toEqual([{ room: ROOM, answer: 'accepted' }]);
    expect(b.rooms).toEqual([{ room: ROOM, answer: 'declined' }]);
    expect(await c.rooms.answer(BOB, a.ref!.id, ROOM)).toBe('accepted');
    expect(await c.rooms.answer(BOB, b.ref!.id, ROOM)).toBe('declined');
    expect(await c.rooms.answer(BOB, a.ref!.id, 'other@resource.calendar.google.com')).toBeUndefined();
    await c.write(BOB, [{ op: 'remove', ref: a.ref! }]);
    expect(await c.rooms.answer(BOB, a.ref!.id, ROOM)).toBeUndefined();
    // the same on an update and on a create that meets its own earlier copy (409, then a read)
    const [again] = await c.write(BOB, [create(meeting('b', 0.5), 'p1')]);
    expect(again).toMatchObject({ ok: true, rooms: [{ room: ROOM, answer: 'declined' }] });
    const [moved] = await c.write(BOB, [
      { op: 'update', ref: b.ref!, event: meeting('b', 3), tag: { pair: 'p1', key: 'b_0' } },
    ]);
    expect(moved).toMatchObject({ ok: true, rooms: [{ room: ROOM, answer: 'accepted' }] });
  });

  it('writes booking events onto the room calendar and lists what the room holds, series expanded', async () => {
    const c = connector('ann@example.com');
    await c.write(BOB, [create(meeting('a', 0), 'p1')]);
    const booking = meeting('b', 2, {
      attendees: [],
      summary: 'Booked for Carol',
      recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
    });
    const [w] = await c.write(c.rooms.calendar(ROOM), [create(booking, 'room:omm_1')]);
    expect(w.ok).toBe(true);
    const agenda = await c.rooms.agenda(ROOM, T0 - 3600, T0 + 3 * 86_400);
    // several agendas in one batched request, each as agenda() reads it
    const log = async () =>
      (await (await fetch(`${em.url}/_emulator/requests`)).json()) as { path: string }[];
    const seen = (await log()).length;
    const asks = [
      { room: ROOM, from: T0 - 3600, to: T0 + 3 * 86_400 },
      { room: ROOM, from: T0 + 86_400, to: T0 + 86_400 + 3 * 3600 },
    ];
    expect(await c.rooms.agendas!(asks)).toEqual([agenda, agenda.slice(2, 3)]);
    expect((await log()).slice(seen).map((r) => r.path)).toEqual(['/batch/calendar/v3']);
    expect(agenda.map((e) => [e.start - T0, e.answer, e.summary, e.tag?.pair])).toEqual([
      [0, 'accepted', 'meeting a', undefined],
      [7200, 'accepted', 'Booked for Carol', 'room:omm_1'],
      [86_400 + 7200, 'accepted', 'Booked for Carol', 'room:omm_1'],
      [2 * 86_400 + 7200, 'accepted', 'Booked for Carol', 'room:omm_1'],
    ]);
    expect(agenda[0].organizer).toBe('bob@example.com');
    expect(agenda[1].organizer).toBe(ROOM);
    // a mirrored event at the booking's time is declined by the room
    const [late] = await c.write(BOB, [create(meeting('c', 2), 'p1')]);
    expect(await c.rooms.answer(BOB, (late as any).ref.id, ROOM)).toBe('declined');
  });

  it('needs an admin to reach room calendars', async () => {
    const c = connector();
    expect(() => c.rooms.calendar(ROOM)).toThrow(/google.admin/);
    await expect(c.rooms.agenda(ROOM, T0, T0 + 3600)).rejects.toMatchObject({ kind: 'config' });
  });
});
