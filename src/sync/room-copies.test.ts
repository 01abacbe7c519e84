import { describe, expect, it } from 'vitest';
import { type Attendee, blankEvent, type CanonicalEvent } from '../core/index.ts';
import type { Pair, SyncPolicy } from './pair.ts';
import { type RecordedBooking, type RoomCopy, releasedWith, roomRecords } from './room-copies.ts';

const T = 1767229200; // 2026-01-01 09:00 Asia/Shanghai
const pair: Pair = {
  id: 'p_g',
  userKey: 'alice@example.cn',
  feishu: { owner: 'ou_alice', id: 'cal_alice' },
  spoke: 'google',
  target: { owner: 'alice@example.com', id: 'primary' },
  direction: 'one-way',
};
const policy: SyncPolicy = {
  fields: ['summary', 'attendees'],
  privateEvents: 'copy',
  invitations: 'none',
  maxDeletesPerRun: 100,
  window: { from: T - 86_400, to: T + 30 * 86_400 },
  target: { attendee: (a) => a },
};
const room = (id: string, extra: Partial<Attendee> = {}): Attendee => ({
  kind: 'room',
  id,
  name: id,
  rsvp: 'accepted',
  ...extra,
});
const source = (rooms: Attendee[], extra: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  ...blankEvent(
    { uid: 'u1', originalTime: 0 },
    { timestamp: T, timeZone: 'UTC' },
    { timestamp: T + 3600, timeZone: 'UTC' },
    'feishu',
  ),
  summary: 'Weekly',
  organizer: { id: 'ou_alice', name: 'Alice' },
  attendees: rooms,
  ...extra,
});
/** The copy as written on Google: mapped rooms carry their address, unmapped ones are left off. */
const copyOf = (ev: CanonicalEvent, mapped: Record<string, string>): CanonicalEvent => ({
  ...ev,
  attendees: ev.attendees.flatMap((a) => (a.id && mapped[a.id] ? [{ ...a, email: mapped[a.id] }] : [])),
});
const R1 = 'r1@resource.calendar.google.com';
const input = (ev: CanonicalEvent, answers: RoomCopy['answers'], copyId = 'g1'): RoomCopy => ({
  pair,
  source: ev,
  copy: copyOf(ev, { omm_1: R1 }),
  copyId,
  answers,
});
const recorded = (extra: Partial<RecordedBooking>): RecordedBooking => ({
  roomId: 'omm_1',
  key: { uid: 'u1', originalTime: 0 },
  spoke: 'google',
  spokeRoom: R1,
  mode: 'attend',
  spokeEventId: 'g1',
  status: 'booked',
  startAt: new Date(T * 1000),
  endAt: new Date((T + 3600) * 1000),
  organizer: 'Alice <alice@example.cn>',
  organizerId: 'ou_alice',
  lastError: null,
  summary: 'Weekly',
  ...extra,
});
const line = (r: RecordedBooking) => `${r.roomId} ${r.mode ?? '-'} ${r.status}`;

describe('roomRecords: the bookings of the rooms on a copy', () => {
  it('reads each room’s answer from the copy; a room the table does not map to the spoke is unmapped', () => {
    const ev = source([room('omm_1'), room('omm_9')]);
    const declined = roomRecords(input(ev, [{ room: R1.toUpperCase(), answer: 'declined' }]), policy, []);
    expect(declined.map(line)).toEqual(['omm_1 attend conflict', 'omm_9 - unmapped']);
    expect(declined[0].lastError).toBe(`omm_1 <${R1}> declined "Weekly" (u1_0, 2026-01-01 01:00 UTC)`);
    expect(declined[0]).toMatchObject({ spokeEventId: 'g1', organizerId: 'ou_alice', summary: 'Weekly' });
    expect(roomRecords(input(ev, [{ room: R1, answer: 'tentative' }]), policy, []).map(line)[0]).toBe(
      'omm_1 attend booked',
    );
    // the room is not among the answers (not answered yet)
    expect(roomRecords(input(ev, []), policy, []).map(line)[0]).toBe('omm_1 attend pending');
  });

  it('records only what changed; an unknown answer keeps what is known at the same time', () => {
    const ev = source([room('omm_1')]);
    const was = [recorded({})];
    expect(roomRecords(input(ev, [{ room: R1, answer: 'accepted' }]), policy, was)).toEqual([]);
    expect(roomRecords(input(ev, undefined), policy, was)).toEqual([]);
    const moved = source([room('omm_1')], { start: { timestamp: T + 7200, timeZone: 'UTC' } });
    expect(roomRecords(input(moved, undefined), policy, was).map(line)).toEqual(['omm_1 attend pending']);
  });

  it('releases a room taken off the meeting and the rooms of a cancelled occurrence', () => {
    const was = [
      recorded({}),
      recorded({ roomId: 'omm_9', mode: null, spokeRoom: null, status: 'unmapped' }),
    ];
    expect(roomRecords(input(source([]), []), policy, was).map(line)).toEqual([
      'omm_1 attend released',
      'omm_9 - released',
    ]);
    const cancelled = source([room('omm_1')], { status: 'cancelled' });
    expect(roomRecords(input(cancelled, undefined), policy, was).map(line)).toEqual([
      'omm_1 attend released',
      'omm_9 - released',
    ]);
  });

  it('leaves a booking event’s booking to the room-event path', () => {
    const was = [recorded({ mode: 'book', spokeEventId: 'room-ev' })];
    expect(
      roomRecords(input(source([room('omm_1')]), [{ room: R1, answer: 'declined' }]), policy, was),
    ).toEqual([]);
    expect(roomRecords(input(source([]), []), policy, was)).toEqual([]);
  });

  it('records nothing on an attendee’s copy, nor where the pair copies no attendees', () => {
    const bob = source([room('omm_1')], { organizer: { id: 'ou_bob' } });
    expect(roomRecords(input(bob, []), policy, [])).toEqual([]);
    const noAttendees = { ...policy, fields: ['summary'] as SyncPolicy['fields'] };
    expect(roomRecords(input(source([room('omm_1')]), []), noAttendees, [])).toEqual([]);
    const busyOnly = { ...policy, privateEvents: 'busy-only' as const };
    expect(roomRecords(input(source([room('omm_1')], { visibility: 'private' }), []), busyOnly, [])).toEqual(
      [],
    );
  });
});

describe('releasedWith: removed copies release their rooms', () => {
  it('by the copy’s id, and the organizer’s unmapped rooms of the removed keys (a series takes its occurrences)', () => {
    const was = [
      recorded({}),
      recorded({ roomId: 'omm_9', mode: null, spokeRoom: null, spokeEventId: null, status: 'unmapped' }),
      recorded({
        key: { uid: 'u1', originalTime: T + 86_400 },
        roomId: 'omm_9',
        mode: null,
        spokeEventId: null,
        status: 'unmapped',
      }),
      recorded({ key: { uid: 'u2', originalTime: 0 }, spokeEventId: 'g2' }),
      recorded({
        key: { uid: 'u3', originalTime: 0 },
        roomId: 'omm_9',
        mode: null,
        spokeEventId: null,
        status: 'unmapped',
        organizerId: 'ou_bob',
      }),
    ];
    const out = releasedWith(
      new Set(['g1']),
      { keys: new Set(['u1_0', 'u3_0']), organizerId: 'ou_alice' },
      was,
    );
    expect(out.map((b) => `${b.key.uid}_${b.key.originalTime} ${b.roomId} ${b.status}`)).toEqual([
      'u1_0 omm_1 released',
      'u1_0 omm_9 released',
      `u1_${T + 86_400} omm_9 released`,
    ]);
  });
});
