/**
 * Rooms that arrive by ordinary sync (no room event): every room of every mirrored meeting gets its
 * booking record per spoke, from the copy Feisync writes anyway, through `feisync sync`'s initial
 * sync and incremental pulls. Alice is mapped to both spokes: her rooms ride on her mirrored meetings.
 *
 * Rooms: Room 1 (free), Room 2 (taken on Google by Eve, outside Feishu), Room 4 (mapped on Google
 * only), omm_r9 (not in the rooms table). Read back through the spokes' SDKs; counted by status,
 * the reconcile report and the metric. World: rooms-world.ts; on the Postgres server of
 * TEST_DATABASE_URL when it is set, else on embedded PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control } from '../../src/app/emulators.ts';
import { createMetrics } from '../../src/app/metrics.ts';
import { runReconcile } from '../../src/app/reconcile-run.ts';
import { roomsOfPair } from '../../src/app/rooms-report.ts';
import { recheckRoomBookings } from '../../src/app/rooms-run.ts';
import { readStatus } from '../../src/app/status.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { bookingsOf } from '../../src/store/bookings.ts';
import {
  at,
  CAL,
  DAY0,
  googleRoom,
  graphRoom,
  H,
  iso,
  meeting,
  patch,
  R1,
  R2,
  serial,
  startWorld,
  stopWorld,
  world,
} from './rooms-world.ts';

const R4 = { feishu: 'omm_r4', name: 'Room 4', google: 'c_r4@resource.calendar.google.com' };
const R9 = { feishu: 'omm_r9' };
const T = DAY0 + 6 * 86_400;
const ALICE = 'alice@example.cn';

beforeAll(() => startWorld([R4], { postgres: true }));
afterAll(stopWorld);

/** Someone outside Feishu holds a room on Google (Eve) at [start, start + 1 h). */
async function eveHolds(room: { google: string }, start: number) {
  await world.googleAs('eve@example.com').events.insert({
    calendarId: 'primary',
    requestBody: {
      summary: 'Eve holds it',
      start: { dateTime: new Date(start * 1000).toISOString() },
      end: { dateTime: new Date((start + H) * 1000).toISOString() },
      attendees: [{ email: room.google, resource: true }],
    },
  });
}

/** Every booking of a meeting: `room spoke mode status`. */
async function bookings(eventId: string) {
  const rows = await bookingsOf(world.app.db.prisma, eventId.slice(0, -2));
  return rows.map((b) => `${b.roomId} ${b.spoke} ${b.mode ?? '-'} ${b.status}`);
}

/** Alice's own copy of a meeting on Google, read through the SDK: its room attendees' answers. */
async function aliceGoogleCopy(title: string, start: number) {
  const res = await world.googleAs('alice@example.com').events.list({
    calendarId: 'primary',
    singleEvents: true,
    timeMin: new Date((start - H) * 1000).toISOString(),
    timeMax: new Date((start + 2 * H) * 1000).toISOString(),
  });
  const copy = res.data.items?.find((e) => e.summary === title);
  return copy?.attendees?.filter((a) => a.resource).map((a) => `${a.email} ${a.responseStatus}`);
}

async function requestsSince(url: string, since: number) {
  const log = (await (await fetch(`${url}/_emulator/requests`)).json()) as { seq: number; path: string }[];
  return log.filter((r) => r.seq > since);
}
const lastSeq = async (url: string) => {
  const log = (await (await fetch(`${url}/_emulator/requests`)).json()) as { seq: number }[];
  return log.at(-1)?.seq ?? 0;
};

const ids: Record<string, string> = {};

describe('rooms of meetings mirrored by the initial sync', () => {
  it('records booked, conflict (naming meeting, occurrence, room and holder) and unmapped per spoke', async () => {
    await eveHolds(R2, T + 2 * H);
    ids.free = await meeting('alice', T, [R1]);
    ids.taken = await meeting('alice', T + 2 * H, [R2]);
    const taken = `Meeting ${serial}`;
    ids.googleOnly = await meeting('alice', T + 4 * H, [R4]);
    ids.unknown = await meeting('alice', T + 6 * H, [R9]);
    const report = await runSync(world.app, { user: ALICE });
    expect(report.totals.failed).toBe(0);

    expect(await bookings(ids.free)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(await bookings(ids.taken)).toEqual([
      'omm_r2 google attend conflict',
      'omm_r2 graph attend booked',
    ]);
    expect(await bookings(ids.googleOnly)).toEqual([
      'omm_r4 google attend booked',
      'omm_r4 graph - unmapped',
    ]);
    expect(await bookings(ids.unknown)).toEqual(['omm_r9 google - unmapped', 'omm_r9 graph - unmapped']);

    // the spokes, read back: Room 1 holds the meeting on both; Room 2 declined it on Google (Eve holds
    // it) but the meeting is still mirrored into Alice's calendar; Room 4 holds its meeting on Google
    expect(await googleRoom(R1, T - H, T + 2 * H)).toEqual([`${iso(T)} Meeting ${serial - 3} accepted`]);
    expect(await graphRoom(R1, T - H, T + 2 * H)).toEqual([`${iso(T)} Meeting ${serial - 3}`]);
    expect(await aliceGoogleCopy(taken, T + 2 * H)).toEqual([`${R2.google} declined`]);
    expect((await googleRoom(R2, T + H, T + 4 * H)).sort()).toEqual(
      [`${iso(T + 2 * H)} Eve holds it accepted`, `${iso(T + 2 * H)} ${taken} declined`].sort(),
    );
    expect(await graphRoom(R2, T + H, T + 4 * H)).toEqual([`${iso(T + 2 * H)} ${taken}`]);
    expect(await googleRoom(R4 as typeof R1, T + 3 * H, T + 6 * H)).toEqual([
      `${iso(T + 4 * H)} Meeting ${serial - 1} accepted`,
    ]);

    const status = await readStatus(world.app.db.prisma, { rooms: world.app.config.rooms });
    const count = (room: string, spoke: string) =>
      status.roomSummary.rooms.find((r) => r.roomId === room && r.spoke === spoke)?.counts;
    expect(count('omm_r1', 'google')).toMatchObject({ booked: 1, conflict: 0 });
    expect(count('omm_r2', 'google')).toMatchObject({ booked: 0, conflict: 1 });
    expect(count('omm_r2', 'graph')).toMatchObject({ booked: 1, conflict: 0 });
    expect(count('omm_r4', 'google')).toMatchObject({ booked: 1 });
    expect(count('omm_r4', 'graph')).toMatchObject({ unmapped: 1, booked: 0 });
    expect(count('omm_r9', 'google')).toMatchObject({ unmapped: 1 });
    expect(count('omm_r9', 'graph')).toMatchObject({ unmapped: 1 });
    const conflict = status.rooms.find((r) => r.roomId === 'omm_r2' && r.status === 'conflict')!;
    expect(conflict).toMatchObject({ name: 'Room 2', spoke: 'google', meeting: taken, key: ids.taken });
    expect(conflict.startAt?.getTime()).toBe((T + 2 * H) * 1000);
    expect(conflict.error).toContain(
      `Room 2 <${R2.google}> declined "${taken}" (${ids.taken}, ${iso(T + 2 * H).replace('T', ' ')} UTC)`,
    );
    expect(conflict.error).toContain('held by "Eve holds it" (eve@example.com)');
    const unmapped = status.rooms.find((r) => r.roomId === 'omm_r4' && r.status === 'unmapped')!;
    expect(unmapped).toMatchObject({ spoke: 'graph', meeting: `Meeting ${serial - 1}` });
    expect(unmapped.error).toBe('the rooms table gives no Exchange room for omm_r4');
    expect(unmapped.name).toBe('Room 4');
  });

  it('the metric and the reconcile report count them by room and spoke', async () => {
    const metrics = createMetrics(world.app.db, {});
    try {
      const text = await metrics.registry.getSingleMetricAsString('feisync_room_bookings');
      for (const line of [
        'room="omm_r1",spoke="google",status="booked"} 1',
        'room="omm_r2",spoke="google",status="conflict"} 1',
        'room="omm_r2",spoke="graph",status="booked"} 1',
        'room="omm_r4",spoke="graph",status="unmapped"} 1',
        'room="omm_r9",spoke="google",status="unmapped"} 1',
      ])
        expect(text).toContain(`feisync_room_bookings{${line}`);
    } finally {
      metrics.close();
    }
    // records lost (or made before rooms were recorded): the reconcile records them from the listing
    await world.app.db.prisma.roomBooking.deleteMany({ where: { uid: ids.free.slice(0, -2) } });
    const report = await runReconcile(world.app, { user: ALICE, rooms: roomsOfPair(world.app.db.prisma) });
    expect(await bookings(ids.free)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(report.inParity).toBe(true);
    const row = (spoke: string) => report.rows.find((r) => r.spoke === spoke)!;
    expect(row('google')).toMatchObject({
      roomsBooked: 2,
      roomsConflict: 1,
      roomsUnmapped: 1,
      roomsPending: 0,
    });
    expect(row('graph')).toMatchObject({
      roomsBooked: 2,
      roomsConflict: 0,
      roomsUnmapped: 2,
      roomsPending: 0,
    });
    const room = (id: string, spoke: string) =>
      report.rooms.find((r) => r.roomId === id && r.spoke === spoke)?.counts;
    expect(room('omm_r2', 'google')).toMatchObject({ conflict: 1 });
    expect(room('omm_r4', 'graph')).toMatchObject({ unmapped: 1 });
    // what was recorded already stays as it was
    expect(await bookings(ids.taken)).toEqual([
      'omm_r2 google attend conflict',
      'omm_r2 graph attend booked',
    ]);
  });
});

describe('rooms of meetings mirrored by incremental pulls', () => {
  it('a new meeting over a reservation, a moved one, a deleted one', async () => {
    await eveHolds(R1, T + 8 * H);
    ids.later = await meeting('alice', T + 8 * H, [R1, R9]);
    // the free meeting moves; the Google-only room's meeting is deleted
    await patch('alice', ids.free, { start_time: at(T + 10 * H), end_time: at(T + 11 * H) });
    await control(world.em.feishu, 'events', {
      op: 'delete',
      calendar_id: CAL.alice,
      event_id: ids.googleOnly,
    });
    const report = await runSync(world.app, { user: ALICE });
    expect(report.pairs.every((p) => p.counts.failed === 0)).toBe(true);
    expect(report.totals).toMatchObject({ created: 2, updated: 2, deleted: 2 });

    expect(await bookings(ids.later)).toEqual([
      'omm_r1 google attend conflict',
      'omm_r1 graph attend booked',
      'omm_r9 google - unmapped',
      'omm_r9 graph - unmapped',
    ]);
    expect(await bookings(ids.free)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(await bookings(ids.googleOnly)).toEqual([
      'omm_r4 google attend released',
      'omm_r4 graph - released',
    ]);
    expect(await googleRoom(R1, T + 9 * H, T + 12 * H)).toEqual([`${iso(T + 10 * H)} Meeting 1 accepted`]);
    expect(await googleRoom(R4 as typeof R1, T + 3 * H, T + 6 * H)).toEqual([]);

    const status = await readStatus(world.app.db.prisma, { rooms: world.app.config.rooms });
    expect(status.roomSummary.totals).toMatchObject({ booked: 4, conflict: 2, unmapped: 4, released: 2 });
  });

  it('costs no request when nothing about a room changed: a meeting with a room and one without cost the same', async () => {
    const plain = await meeting('alice', T + 12 * H, []);
    await runSync(world.app, { user: ALICE });
    const cost = async (eventId: string, summary: string) => {
      const since = { google: await lastSeq(world.em.google), graph: await lastSeq(world.em.graph) };
      await patch('alice', eventId, { summary });
      const r = await runSync(world.app, { user: ALICE });
      expect(r.totals).toMatchObject({ updated: 2, failed: 0 });
      const google = await requestsSince(world.em.google, since.google);
      const graph = await requestsSince(world.em.graph, since.graph);
      return { google: google.map((x) => x.path), graph: graph.map((x) => x.path) };
    };
    const withRoom = await cost(ids.free, 'Renamed with its room');
    const without = await cost(plain, 'Renamed without a room');
    expect(withRoom).toEqual(without);
    expect(withRoom.google.length + withRoom.graph.length).toBeLessThanOrEqual(3);
    console.log(
      `one edited meeting with a room: google ${withRoom.google.join(', ')}; graph ${withRoom.graph.join(', ')}`,
    );
    expect(await bookings(ids.free)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
  });

  it('a copy found already written gets its rooms recorded again: from the attendees stage', async () => {
    // a crash between the writes and the database: the links and the bookings of a meeting are lost
    const start = T + 14 * H;
    const id = await meeting('alice', start, [R1]);
    await runSync(world.app, { user: ALICE });
    const uid = id.slice(0, -2);
    await world.app.db.prisma.eventLink.deleteMany({ where: { uid } });
    await world.app.db.prisma.roomBooking.deleteMany({ where: { uid } });
    const report = await runSync(world.app, { user: ALICE, full: true });
    expect(report.totals).toMatchObject({ created: 2, failed: 0 });
    // busy time first: the full pull finds the copies (Google by its own id, Graph by its tag) as
    // copies without attendees, so the attendees stage writes them again, and the rooms' answers come
    // with that write; one room booking, no second one
    expect(await bookings(id)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(await graphRoom(R1, start - H, start + 2 * H)).toEqual([`${iso(start)} Meeting ${serial}`]);
    const again = await recheckRoomBookings(world.app);
    expect(again.map((r) => r.key)).not.toContain(id);
  });

  it('the recheck of pending and refused bookings covers the rooms the sync recorded', async () => {
    // Carol is on Google only: her room's conflict there is checked again, and nothing is booked on Exchange
    const start = T + 16 * H;
    await eveHolds(R2, start);
    ids.carol = await meeting('carol', start, [R2]);
    await runSync(world.app, { user: 'carol@example.cn' });
    expect(await bookings(ids.carol)).toEqual(['omm_r2 google attend conflict']);
    // serve's maintenance leaves what was recorded since its last round: the answer is that fresh
    const fresh = await recheckRoomBookings(world.app, { freshMs: 60_000 });
    expect(fresh.map((r) => r.key)).not.toContain(ids.carol);
    const again = await recheckRoomBookings(world.app);
    const carol = again.find((r) => r.key === ids.carol)!;
    expect(carol.bookings.map((b) => `${b.roomId} ${b.spoke} ${b.status}`)).toEqual([
      'omm_r2 google conflict',
    ]);
    expect(await graphRoom(R2, start - H, start + 2 * H)).toEqual([]);
    const keys = again.map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining([ids.taken, ids.later]));
    const taken = again.find((r) => r.key === ids.taken)!;
    // the room keeps its answer while the meeting keeps its time: still a conflict, still mirrored
    expect(taken.bookings.map((b) => `${b.roomId} ${b.spoke} ${b.status}`)).toContain(
      'omm_r2 google conflict',
    );
  });

  it('rooms declined across a pull have their holders named together: one read of the rooms calendars', async () => {
    // Eve holds Room 2 on Google at two times: two new meetings overlap the first (written with the
    // series masters), an occurrence of a new series moves onto the second (written after its master)
    const first = T + 20 * H;
    const series = T + 30 * H;
    const second = series + 86_400 + 2 * H;
    await eveHolds(R2, first);
    await eveHolds(R2, second);
    const single = await meeting('alice', first, [R2]);
    const overlapping = await meeting('alice', first + H / 2, [R2]);
    const master = await meeting('alice', series, [R2], { recurrence: 'FREQ=DAILY;COUNT=3' });
    const moved = `${master.slice(0, -2)}_${series + 86_400}`;
    await patch('alice', moved, { start_time: at(second), end_time: at(second + H) });
    const rooms = world.app.spokes.google!.rooms!;
    const agendas = rooms.agendas!;
    const asked: number[] = [];
    rooms.agendas = (asks) => {
      asked.push(asks.length);
      return agendas(asks);
    };
    try {
      const report = await runSync(world.app, { user: ALICE });
      expect(report.totals).toMatchObject({ created: 8, failed: 0 });
    } finally {
      rooms.agendas = agendas;
    }
    // before, each write of the pull read the calendars of its own declines: [2, 1]; now the two
    // overlapping declines are one span of the room's calendar
    expect(asked).toEqual([2]);
    const status = await readStatus(world.app.db.prisma, { rooms: world.app.config.rooms });
    for (const key of [single, overlapping, moved]) {
      const row = status.rooms.find((r) => r.key === key && r.spoke === 'google');
      expect(row?.status).toBe('conflict');
      expect(row?.error).toContain('held by "Eve holds it" (eve@example.com)');
    }
  });
});
