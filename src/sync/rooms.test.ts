import { describe, expect, it } from 'vitest';
import { blankEvent } from '../core/index.ts';
import type { RoomEntry } from '../ports/index.ts';
import {
  type Booking,
  bookingEvent,
  bookingTag,
  conflictsWith,
  isBookingOf,
  planRoomEvent,
  type RoomEvent,
  type RoomPlanContext,
  slotsOf,
} from './rooms.ts';

const T = 1767229200; // 2026-01-01 09:00 Asia/Shanghai
const rooms = [
  { feishu: 'omm_1', name: 'Room 1', google: 'r1@resource.calendar.google.com', exchange: 'r1@contoso.com' },
  { feishu: 'omm_2', name: 'Room 2', google: 'r2@resource.calendar.google.com' },
];
const ev = (extra: Partial<RoomEvent> = {}): RoomEvent => ({
  action: 'created',
  key: { uid: 'u1', originalTime: 0 },
  start: T,
  end: T + 3600,
  roomIds: ['omm_1'],
  organizer: { openId: 'ou_a' },
  ...extra,
});
const ctx = (extra: Partial<RoomPlanContext> = {}): RoomPlanContext => ({
  rooms,
  spokes: ['google', 'graph'],
  attend: {},
  bookings: [],
  ...extra,
});
const booking = (extra: Partial<Booking> = {}): Booking => ({
  roomId: 'omm_1',
  key: { uid: 'u1', originalTime: 0 },
  spoke: 'google',
  spokeRoom: 'r1@resource.calendar.google.com',
  mode: 'book',
  spokeEventId: 'e1',
  status: 'booked',
  ...extra,
});
const kinds = (steps: ReturnType<typeof planRoomEvent>) =>
  steps.map((s) => (s.kind === 'release' ? `release ${s.booking.spoke}` : `${s.kind} ${s.spoke}`));

describe('planRoomEvent', () => {
  it('books through the mirrored event where the organizer is mapped, by a booking event elsewhere', () => {
    const steps = planRoomEvent(ev(), ctx({ attend: { google: true } }));
    expect(steps).toEqual([
      { kind: 'attend', roomId: 'omm_1', spoke: 'google', room: 'r1@resource.calendar.google.com' },
      { kind: 'book', roomId: 'omm_1', spoke: 'graph', room: 'r1@contoso.com' },
    ]);
  });

  it('reports rooms the table does not map, per spoke, instead of dropping them', () => {
    const steps = planRoomEvent(ev({ roomIds: ['omm_2', 'omm_9'] }), ctx());
    expect(steps).toEqual([
      { kind: 'book', roomId: 'omm_2', spoke: 'google', room: 'r2@resource.calendar.google.com' },
      {
        kind: 'unmapped',
        roomId: 'omm_2',
        spoke: 'graph',
        reason: 'the rooms table gives no exchange room for Room 2',
      },
      { kind: 'unmapped', roomId: 'omm_9', spoke: 'google', reason: 'room omm_9 is not in the rooms table' },
      { kind: 'unmapped', roomId: 'omm_9', spoke: 'graph', reason: 'room omm_9 is not in the rooms table' },
    ]);
  });

  it('moves an existing booking, and releases one booked the other way first', () => {
    const prev = booking();
    expect(planRoomEvent(ev({ action: 'updated' }), ctx({ spokes: ['google'], bookings: [prev] }))).toEqual([
      { kind: 'book', roomId: 'omm_1', spoke: 'google', room: prev.spokeRoom, previous: prev },
    ]);
    const now = planRoomEvent(
      ev({ action: 'updated' }),
      ctx({ spokes: ['google'], attend: { google: true }, bookings: [prev] }),
    );
    expect(kinds(now)).toEqual(['release google', 'attend google']);
  });

  it('books a moved occurrence inside the series booking, and releases rooms no longer named', () => {
    const series = booking();
    const other = booking({
      roomId: 'omm_2',
      key: { uid: 'u1', originalTime: T + 86_400 },
      spokeRoom: 'r2@x',
    });
    const steps = planRoomEvent(
      ev({ key: { uid: 'u1', originalTime: T + 86_400 }, start: T + 90_000, end: T + 93_600 }),
      ctx({ spokes: ['google'], bookings: [series, other] }),
    );
    expect(steps).toEqual([
      { kind: 'book', roomId: 'omm_1', spoke: 'google', room: series.spokeRoom, parent: series },
      { kind: 'release', booking: other },
    ]);
  });

  it('releases a deleted series with its occurrences, and cancels a deleted occurrence in its series', () => {
    const series = booking();
    const moved = booking({ key: { uid: 'u1', originalTime: T + 86_400 }, spokeEventId: 'e1_x' });
    const released = booking({ key: { uid: 'u1', originalTime: T + 2 * 86_400 }, status: 'released' });
    const all = planRoomEvent(
      ev({ action: 'deleted' }),
      ctx({ spokes: ['google'], bookings: [series, moved, released] }),
    );
    expect(all).toEqual([
      { kind: 'release', booking: series },
      { kind: 'release', booking: moved },
    ]);
    const one = planRoomEvent(
      ev({ action: 'deleted', key: { uid: 'u1', originalTime: T + 3 * 86_400 } }),
      ctx({ spokes: ['google'], bookings: [series] }),
    );
    expect(one).toEqual([
      { kind: 'cancel', roomId: 'omm_1', spoke: 'google', room: series.spokeRoom, parent: series },
    ]);
  });
});

describe('slots and conflicts', () => {
  const series = {
    ...blankEvent(
      { uid: 'u1', originalTime: 0 },
      { timestamp: T, timeZone: 'Asia/Shanghai' },
      { timestamp: T + 1800, timeZone: 'Asia/Shanghai' },
      'feishu',
    ),
    recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
  };

  it('takes every occurrence of a series inside the window', () => {
    expect(slotsOf(series, T + 86_400, T + 3 * 86_400)).toEqual([
      { start: T + 86_400, end: T + 86_400 + 1800 },
      { start: T + 2 * 86_400, end: T + 2 * 86_400 + 1800 },
    ]);
    expect(slotsOf({ ...series, recurrence: [] }, 0, T * 2)).toEqual([{ start: T, end: T + 1800 }]);
  });

  it('counts what the room holds, not its own booking, free time or what it declined', () => {
    const entry = (id: string, start: number, extra: Partial<RoomEntry> = {}): RoomEntry => ({
      id,
      start,
      end: start + 3600,
      answer: 'accepted',
      free: false,
      summary: id,
      ...extra,
    });
    const agenda = [
      entry('own', T, { tag: bookingTag('omm_1', { uid: 'u1', originalTime: 0 }) }),
      entry('free', T, { free: true }),
      entry('declined', T, { answer: 'declined' }),
      entry('later', T + 3600),
      entry('clash', T + 2 * 86_400 + 900),
    ];
    const own = (e: RoomEntry) => isBookingOf(e.tag, 'omm_1', 'u1');
    expect(conflictsWith(slotsOf(series, T, T + 5 * 86_400), agenda, own).map((e) => e.id)).toEqual([
      'clash',
    ]);
  });

  it('writes a booking event that names the organizer and nothing of the meeting', () => {
    const b = bookingEvent({
      key: { uid: 'u1', originalTime: 0 },
      start: T,
      end: T + 60,
      timeZone: 'UTC',
      recurrence: ['RRULE:FREQ=DAILY'],
      organizer: 'Alice <alice@example.cn>',
    });
    expect(b).toMatchObject({
      summary: 'Booked by Alice <alice@example.cn>',
      recurrence: ['RRULE:FREQ=DAILY'],
      attendees: [],
    });
    expect(
      bookingEvent({
        key: { uid: 'u1', originalTime: T },
        start: T,
        end: T + 60,
        timeZone: 'UTC',
        recurrence: ['RRULE:FREQ=DAILY'],
        organizer: 'A',
      }).recurrence,
    ).toEqual([]);
  });
});
