/** The Graph connector's room access, through the Graph SDK against the emulator. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent } from '../../src/core/index.ts';
import type { WriteOp } from '../../src/ports/index.ts';
import { createGraphConnector } from './connector.ts';
import { startGraphEmulator } from './emulator/index.ts';
import { SEED } from './emulator/testkit.ts';

const ROOM = 'room1@contoso.com';
let em: Awaited<ReturnType<typeof startGraphEmulator>>;
const control = (path: string, body: unknown) =>
  fetch(`${em.url}/_emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
beforeAll(async () => {
  em = await startGraphEmulator({ seed: SEED });
});
beforeEach(async () => {
  await control('reset', {});
  await control('seed', SEED);
});
afterAll(() => em.close());

const connector = () =>
  createGraphConnector({
    tenantId: 'tenant-1',
    clientId: 'app-1',
    clientSecret: 'secret-1',
    baseUrl: em.url,
    authorityUrl: em.url,
  });
const ANN = { owner: 'ann@contoso.com', id: 'primary' };
// a day ahead (the connector widens series within its window, anchored at now)
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400 + 86_400 + 3600;

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

describe('graph connector: rooms', () => {
  it('reads the room answer on a mirrored event: accepted when free, declined when taken', async () => {
    const c = connector();
    const [a] = await c.write(ANN, [create(meeting('a', 0), 'p1')]);
    const [b] = await c.write(ANN, [create(meeting('b', 0.5), 'p1')]);
    if (!a.ok || !b.ok) throw new Error('writes failed');
    // the answer comes with the write itself, no further read
    expect(a.rooms).toEqual([{ room: ROOM, answer: 'accepted' }]);
    expect(b.rooms).toEqual([{ room: ROOM, answer: 'declined' }]);
    expect(await c.rooms.answer(ANN, a.ref!.id, ROOM)).toBe('accepted');
    expect(await c.rooms.answer(ANN, b.ref!.id, ROOM)).toBe('declined');
    expect(await c.rooms.answer(ANN, a.ref!.id, 'room2@contoso.com')).toBeUndefined();
    await c.write(ANN, [{ op: 'remove', ref: a.ref! }]);
    expect(await c.rooms.answer(ANN, a.ref!.id, ROOM)).toBeUndefined();
    const [moved] = await c.write(ANN, [
      { op: 'update', ref: b.ref!, event: meeting('b', 3), tag: { pair: 'p1', key: 'b_0' } },
    ]);
    expect(moved).toMatchObject({ ok: true, rooms: [{ room: ROOM, answer: 'accepted' }] });
    // a create sent again (same transactionId): Graph answers with the event written before, rooms included
    const [found] = await c.write(ANN, [create(meeting('b', 3), 'p1')]);
    expect(found).toMatchObject({
      ok: true,
      ref: { id: b.ref!.id },
      rooms: [{ room: ROOM, answer: 'accepted' }],
    });
  });

  it('writes booking events into the room mailbox and lists what the room holds, series expanded', async () => {
    const c = connector();
    await c.write(ANN, [create(meeting('a', 0), 'p1')]);
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
    expect((await log()).slice(seen).map((r) => r.path)).toEqual(['/v1.0/$batch']);
    expect(agenda.map((e) => [e.start - T0, e.answer, e.summary, e.tag?.pair])).toEqual([
      [0, 'accepted', 'meeting a', undefined],
      [7200, 'accepted', 'Booked for Carol', 'room:omm_1'],
      [86_400 + 7200, 'accepted', 'Booked for Carol', 'room:omm_1'],
      [2 * 86_400 + 7200, 'accepted', 'Booked for Carol', 'room:omm_1'],
    ]);
    expect(agenda[0].organizer).toBe('ann@contoso.com');
    const [late] = await c.write(ANN, [create(meeting('c', 2), 'p1')]);
    expect(await c.rooms.answer(ANN, (late as any).ref.id, ROOM)).toBe('declined');
  });
});
