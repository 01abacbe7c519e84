/**
 * Meeting rooms end to end: Feishu's emulator pushes `third_party_meeting_room_event_*` webhooks
 * through the real intake (decrypt, verify, de-duplicate), `handleRoomEvent` books the rooms, and
 * the rooms' calendars are read back through Google's and Graph's own APIs on their emulators.
 *
 * Alice is mapped to both spokes: her rooms ride on her mirrored meetings. Carol is mapped to Google
 * only: on Exchange her rooms get booking events; Frank the other way round. Dave is no config user:
 * booking events everywhere. The world (seeds, config, helpers) is in rooms-world.ts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control } from '../../src/app/emulators.ts';
import { roomSummary } from '../../src/app/rooms-report.ts';
import { recheckRoomBookings } from '../../src/app/rooms-run.ts';
import {
  at,
  blockers,
  CAL,
  DAY0,
  dir,
  feisync,
  googleRoom,
  graphRoom,
  H,
  iso,
  meeting,
  patch,
  R1,
  R2,
  R3,
  roomEvent,
  serial,
  startWorld,
  statuses,
  stopWorld,
  world,
} from './rooms-world.ts';

beforeAll(() => startWorld());
afterAll(stopWorld);

describe('rooms booked through the organizer’s mirrored meeting (Alice, both spokes)', () => {
  it('create, move and delete: the room calendars follow', async () => {
    const id = await meeting('alice', DAY0, [R1]);
    const created = await roomEvent('alice', id, 'created');
    expect(statuses(created)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(await googleRoom(R1)).toEqual([`${iso(DAY0)} Meeting ${serial} accepted`]);
    expect(await graphRoom(R1)).toEqual([`${iso(DAY0)} Meeting ${serial}`]);

    await patch('alice', id, { start_time: at(DAY0 + 3 * H), end_time: at(DAY0 + 4 * H) });
    const moved = await roomEvent('alice', id, 'updated');
    expect(statuses(moved)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(await googleRoom(R1)).toEqual([`${iso(DAY0 + 3 * H)} Meeting ${serial} accepted`]);
    expect(await graphRoom(R1)).toEqual([`${iso(DAY0 + 3 * H)} Meeting ${serial}`]);

    await control(world.em.feishu, 'events', { op: 'delete', calendar_id: CAL.alice, event_id: id });
    const deleted = await roomEvent('alice', id, 'deleted');
    expect(statuses(deleted)).toEqual(['omm_r1 google attend released', 'omm_r1 graph attend released']);
    expect(await googleRoom(R1)).toEqual([]);
    expect(await graphRoom(R1)).toEqual([]);
  });
});

describe('rooms booked by booking events on the room calendars (Dave, no config user)', () => {
  it('create, move and delete: the booking event names the organizer and follows the meeting', async () => {
    const id = await meeting('dave', DAY0 + 24 * H, [R2]);
    const created = await roomEvent('dave', id, 'created');
    expect(statuses(created)).toEqual(['omm_r2 google book booked', 'omm_r2 graph book booked']);
    expect(created.organizer).toBe('ou_dave');
    expect(await googleRoom(R2)).toEqual([`${iso(DAY0 + 24 * H)} Booked by ou_dave own`]);
    expect(await graphRoom(R2)).toEqual([`${iso(DAY0 + 24 * H)} Booked by ou_dave`]);

    await patch('dave', id, { start_time: at(DAY0 + 26 * H), end_time: at(DAY0 + 27 * H) });
    await roomEvent('dave', id, 'updated');
    expect(await googleRoom(R2)).toEqual([`${iso(DAY0 + 26 * H)} Booked by ou_dave own`]);
    expect(await graphRoom(R2)).toEqual([`${iso(DAY0 + 26 * H)} Booked by ou_dave`]);

    await control(world.em.feishu, 'events', { op: 'delete', calendar_id: CAL.dave, event_id: id });
    const deleted = await roomEvent('dave', id, 'deleted');
    expect(statuses(deleted)).toEqual(['omm_r2 google book released', 'omm_r2 graph book released']);
    expect(await googleRoom(R2)).toEqual([]);
    expect(await graphRoom(R2)).toEqual([]);
  });
});

describe('a recurring booking follows a moved occurrence (Carol: mirrored on Google, booking events on Exchange)', () => {
  it('books the series on both spokes and moves the one occurrence', async () => {
    const start = DAY0 + 5 * 86_400;
    const id = await meeting('carol', start, [R2], { recurrence: 'FREQ=DAILY;INTERVAL=1;COUNT=4' });
    const created = await roomEvent('carol', id, 'created');
    expect(statuses(created)).toEqual(['omm_r2 google attend booked', 'omm_r2 graph book booked']);
    const uid = id.slice(0, -2);
    const third = start + 2 * 86_400;
    await patch('carol', `${uid}_${third}`, { start_time: at(third + 5 * H), end_time: at(third + 6 * H) });
    const moved = await roomEvent('carol', `${uid}_${third}`, 'updated');
    expect(statuses(moved)).toEqual(['omm_r2 google attend booked', 'omm_r2 graph book booked']);
    const days = [start, start + 86_400, third + 5 * H, start + 3 * 86_400].map(iso);
    const window = [start - H, start + 5 * 86_400] as const;
    expect((await googleRoom(R2, ...window)).map((l) => l.slice(0, 16))).toEqual(days);
    expect(await graphRoom(R2, ...window)).toEqual(
      days.map((d) => `${d} Booked by Carol <carol@example.cn>`),
    );
    // the last occurrence is cancelled in Feishu: both rooms free it, the rest stays
    const fourth = start + 3 * 86_400;
    await control(world.em.feishu, 'events', {
      op: 'delete',
      calendar_id: CAL.carol,
      event_id: `${uid}_${fourth}`,
    });
    const cancelled = await roomEvent('carol', `${uid}_${fourth}`, 'deleted');
    expect(statuses(cancelled)).toEqual(['omm_r2 graph book released']);
    expect((await googleRoom(R2, ...window)).map((l) => l.slice(0, 16))).toEqual(days.slice(0, 3));
    expect(await graphRoom(R2, ...window)).toEqual(
      days.slice(0, 3).map((d) => `${d} Booked by Carol <carol@example.cn>`),
    );
  });
  it('the other way round (Frank: booking events on Google, mirrored on Exchange)', async () => {
    const start = DAY0 + 5 * 86_400 + 2 * H;
    const id = await meeting('frank', start, [R1], { recurrence: 'FREQ=DAILY;INTERVAL=1;COUNT=4' });
    const created = await roomEvent('frank', id, 'created');
    expect(statuses(created)).toEqual(['omm_r1 google book booked', 'omm_r1 graph attend booked']);
    const uid = id.slice(0, -2);
    const second = start + 86_400;
    await patch('frank', `${uid}_${second}`, { start_time: at(second - 2 * H), end_time: at(second - H) });
    const moved = await roomEvent('frank', `${uid}_${second}`, 'updated');
    expect(statuses(moved)).toEqual(['omm_r1 google book booked', 'omm_r1 graph attend booked']);
    const days = [start, second - 2 * H, start + 2 * 86_400, start + 3 * 86_400].map(iso);
    const window = [start - H, start + 5 * 86_400] as const;
    expect(await googleRoom(R1, ...window)).toEqual(
      days.map((d) => `${d} Booked by Frank <frank@example.cn> own`),
    );
    expect(await graphRoom(R1, ...window)).toEqual(days.map((d) => `${d} Meeting ${serial}`));
  });
});

describe('Feishu sends `_created` for every change (seed 004)', () => {
  it('reads the meeting to tell a deletion apart, and releases its rooms', async () => {
    const start = DAY0 + 4 * 86_400;
    const id = await meeting('carol', start, [R1]);
    expect(statuses(await roomEvent('carol', id, 'created'))).toEqual([
      'omm_r1 google attend booked',
      'omm_r1 graph book booked',
    ]);
    await control(world.em.feishu, 'events', { op: 'delete', calendar_id: CAL.carol, event_id: id });
    const gone = await roomEvent('carol', id, 'created');
    expect(gone.action).toBe('deleted');
    expect(statuses(gone)).toEqual(['omm_r1 google attend released', 'omm_r1 graph book released']);
    expect(await googleRoom(R1, start - H, start + 2 * H)).toEqual([]);
    expect(await graphRoom(R1, start - H, start + 2 * H)).toEqual([]);
  });
});

describe('rooms that cannot be booked are reported', () => {
  it('reports a room the rooms table does not map, per spoke', async () => {
    const id = await meeting('alice', DAY0 + 2 * 86_400, [{ feishu: 'omm_r9' }]);
    const r = await roomEvent('alice', id, 'created');
    expect(r.bookings.map((b) => [b.spoke, b.status, b.detail])).toEqual([
      ['google', 'unmapped', 'room omm_r9 is not in the rooms table'],
      ['graph', 'unmapped', 'room omm_r9 is not in the rooms table'],
    ]);
  });

  it('reports a busy room as a conflict on each spoke and books nothing over it', async () => {
    const busy = DAY0 + 3 * 86_400;
    // Eve (Google) and Erin (Exchange) hold Room 1 and Room 2 at that time, outside Feishu
    for (const r of [R1, R2]) {
      const eve = await world.googleAs('eve@example.com').events.insert({
        calendarId: 'primary',
        requestBody: {
          summary: 'Eve holds it',
          start: { dateTime: new Date(busy * 1000).toISOString() },
          end: { dateTime: new Date((busy + H) * 1000).toISOString() },
          attendees: [{ email: r.google, resource: true }],
        },
      });
      const erin = await world.graph.api.api('/users/erin@contoso.com/calendar/events').post({
        subject: 'Erin holds it',
        start: { dateTime: new Date(busy * 1000).toISOString().slice(0, 19), timeZone: 'UTC' },
        end: { dateTime: new Date((busy + H) * 1000).toISOString().slice(0, 19), timeZone: 'UTC' },
        attendees: [{ emailAddress: { address: r.exchange }, type: 'resource' }],
      });
      blockers.push({ google: eve.data.id!, graph: erin.id, room: r });
    }
    const mirrored = await roomEvent('alice', await meeting('alice', busy + H / 2, [R1]), 'created');
    expect(statuses(mirrored)).toEqual(['omm_r1 google attend conflict', 'omm_r1 graph attend conflict']);
    expect(mirrored.bookings[0].detail).toMatch(/declined: held by "Eve holds it"/);
    const booked = await roomEvent('dave', await meeting('dave', busy, [R2]), 'created');
    expect(statuses(booked)).toEqual(['omm_r2 google book conflict', 'omm_r2 graph book conflict']);
    expect(booked.bookings[1].detail).toMatch(/busy: held by "Erin holds it"/);
    expect(await googleRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Eve holds it accepted`]);
    expect(await graphRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Erin holds it`]);
    expect(booked.counts.conflict).toBe(2);
  });

  it('checks refused bookings again: a booking event is made once its room is free', async () => {
    const busy = DAY0 + 3 * 86_400;
    const r2 = blockers.find((b) => b.room === R2)!;
    await world.googleAs('eve@example.com').events.delete({ calendarId: 'primary', eventId: r2.google });
    await world.graph.api.api(`/users/erin@contoso.com/events/${r2.graph}`).delete();
    const again = await recheckRoomBookings(world.app);
    expect(again.flatMap(statuses).sort()).toEqual([
      // a room that declined a mirrored meeting keeps its answer while the meeting keeps its time
      'omm_r1 google attend conflict',
      'omm_r1 graph attend conflict',
      'omm_r2 google book booked',
      'omm_r2 graph book booked',
    ]);
    expect(await googleRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Booked by ou_dave own`]);
    expect(await graphRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Booked by ou_dave`]);
  });

  it('status shows the conflicts, unmapped rooms, counts per room, and config rooms missing from a directory', async () => {
    const summary = await roomSummary(world.app);
    const line = (roomId: string, spoke: string) =>
      summary.rooms.find((r) => r.roomId === roomId && r.spoke === spoke)?.counts;
    expect(line('omm_r1', 'google')).toMatchObject({ booked: 2, conflict: 1, released: 2 });
    expect(line('omm_r9', 'graph')).toMatchObject({ unmapped: 1 });
    expect(summary.totals.conflict).toBe(2);
    // the embedded database is one process's: hand it to the CLI
    await world.app.close();
    world.closed = true;
    const started = performance.now();
    const out = await feisync(['status', '--json', '--config', join(dir, 'feisync.yaml')]);
    console.log(`feisync status --json: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(out.code).toBe(0);
    const status = JSON.parse(out.stdout);
    expect(status.rooms.map((r: any) => `${r.roomId} ${r.spoke} ${r.status}`).sort()).toEqual(
      [
        'omm_r1 google conflict',
        'omm_r1 graph conflict',
        'omm_r9 google unmapped',
        'omm_r9 graph unmapped',
      ].sort(),
    );
    expect(status.roomDirectory.missing.map((m: any) => `${m.roomId} ${m.spoke}`)).toEqual([
      'omm_r3 google',
      'omm_r3 graph',
    ]);

    const check = await feisync([
      'config',
      'check',
      '--online',
      '--json',
      '--config',
      join(dir, 'feisync.yaml'),
    ]);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).roomDirectory.missing.map((m: any) => m.room)).toEqual([
      R3.google,
      R3.exchange,
    ]);
  });
});
