/**
 * Meeting-room bookings: what a Feishu room event (`third_party_meeting_room_event_*`, created,
 * updated when the time changed, deleted) asks of each spoke's room calendar, keyed like every
 * event by `uid` + `original_time`. Pure: the caller reads the bookings and the rooms' calendars and
 * carries the steps out (src/app/rooms-run.ts).
 *
 * A mapped room is booked on a spoke in one of two ways:
 * - `attend`: the organizer is a mapped user of that spoke, so Feisync mirrors the meeting into the
 *   organizer's calendar there with the room as a resource attendee; the spoke books the room and
 *   the room answers on that event (accepted: booked, declined: the room is busy, a conflict).
 * - `book`: otherwise a booking event is written straight onto the room's calendar, naming the
 *   organizer. The spoke does not check such writes, so Feisync checks the room's calendar first
 *   and reports a conflict instead of booking over someone else.
 */
import { type CanonicalEvent, formatKey, type InstanceKey, isAllDay, sameKey } from '../core/index.ts';
import { expandRecurrence } from '../core/recurrence/index.ts';
import { getZone, parseLocal } from '../core/recurrence/local-time.ts';
import { localDateTime } from '../core/time.ts';
import type { OriginTag, RoomEntry } from '../ports/index.ts';
import type { Spoke } from './pair.ts';

export type RoomAction = 'created' | 'updated' | 'deleted';

/** A Feishu room event, as intake parsed it. */
export interface RoomEvent {
  action: RoomAction;
  key: InstanceKey;
  /** Unix seconds. */
  start: number;
  end: number;
  /** Feishu room ids (`omm_...`, the third-party room open_ids). */
  roomIds: string[];
  organizer: { openId?: string; userId?: string; unionId?: string };
}

/** A row of the config's rooms table. */
export interface RoomMapping {
  feishu: string;
  name?: string;
  google?: string;
  exchange?: string;
}

export type BookingStatus = 'booked' | 'pending' | 'conflict' | 'released' | 'unmapped' | 'failed';
export type BookingMode = 'attend' | 'book';

/** One booking as recorded: one room, one occurrence key, one spoke. */
export interface Booking {
  roomId: string;
  key: InstanceKey;
  spoke: Spoke;
  /** The room's address on the spoke. */
  spokeRoom: string | null;
  mode: BookingMode | null;
  /** The booking event's id on the room's calendar (book), or the mirrored event's id (attend). */
  spokeEventId: string | null;
  status: BookingStatus;
}

interface Target {
  roomId: string;
  spoke: Spoke;
  /** The room's address on the spoke. */
  room: string;
}

export type RoomStep =
  | { kind: 'unmapped'; roomId: string; spoke: Spoke; reason: string }
  | (Target & { kind: 'attend' })
  | (Target & {
      kind: 'book';
      /** The booking being moved, if there is one. */
      previous?: Booking;
      /** For an occurrence of a series booked by a booking event: that series' booking. */
      parent?: Booking;
    })
  /** An occurrence of a series booked by a booking event was cancelled: cancel it there. */
  | (Target & { kind: 'cancel'; parent: Booking })
  | { kind: 'release'; booking: Booking };

export interface RoomPlanContext {
  rooms: RoomMapping[];
  /** The spokes Feisync writes to. */
  spokes: Spoke[];
  /** Spokes where the organizer is a mapped user whose mirrored events carry their rooms. */
  attend: Partial<Record<Spoke, boolean>>;
  /** Recorded bookings of this event's uid (every occurrence). */
  bookings: Booking[];
}

const addressOf = (m: RoomMapping | undefined, spoke: Spoke) =>
  spoke === 'google' ? m?.google : m?.exchange;
const spokeName = (spoke: Spoke) => (spoke === 'google' ? 'google' : 'exchange');
/** A booking that still holds (or tried to hold) something on the spoke. */
export const isLive = (b: Booking) => b.status !== 'released' && b.status !== 'unmapped';

/** The steps one room event asks for, per room and spoke. */
export function planRoomEvent(ev: RoomEvent, ctx: RoomPlanContext): RoomStep[] {
  const steps: RoomStep[] = [];
  const mine = ctx.bookings.filter((b) => sameKey(b.key, ev.key));
  const series = (roomId: string, spoke: Spoke) =>
    ctx.bookings.find(
      (b) =>
        b.roomId === roomId &&
        b.spoke === spoke &&
        b.key.originalTime === 0 &&
        b.mode === 'book' &&
        b.status === 'booked' &&
        b.spokeEventId,
    );
  if (ev.action === 'deleted') {
    // a deleted series takes its occurrences' bookings with it
    const gone = ev.key.originalTime === 0 ? ctx.bookings : mine;
    for (const b of gone.filter(isLive)) steps.push({ kind: 'release', booking: b });
    if (ev.key.originalTime !== 0) {
      const rooms = new Set([...ev.roomIds, ...mine.map((b) => b.roomId)]);
      for (const roomId of rooms) {
        for (const spoke of ctx.spokes) {
          const parent = series(roomId, spoke);
          const own = mine.find((b) => b.roomId === roomId && b.spoke === spoke && isLive(b));
          if (parent && !own) steps.push({ kind: 'cancel', roomId, spoke, room: parent.spokeRoom!, parent });
        }
      }
    }
    return steps;
  }
  const wanted = new Set<string>();
  for (const roomId of new Set(ev.roomIds)) {
    const mapping = ctx.rooms.find((r) => r.feishu === roomId);
    for (const spoke of ctx.spokes) {
      wanted.add(`${roomId} ${spoke}`);
      const room = addressOf(mapping, spoke);
      const previous = mine.find((b) => b.roomId === roomId && b.spoke === spoke);
      if (!room) {
        if (previous && isLive(previous)) steps.push({ kind: 'release', booking: previous });
        steps.push({
          kind: 'unmapped',
          roomId,
          spoke,
          reason: mapping
            ? `the rooms table gives no ${spokeName(spoke)} room for ${mapping.name ?? roomId}`
            : `room ${roomId} is not in the rooms table`,
        });
        continue;
      }
      const mode: BookingMode = ctx.attend[spoke] ? 'attend' : 'book';
      let kept = previous && isLive(previous) ? previous : undefined;
      if (kept && (kept.mode !== mode || kept.spokeRoom !== room)) {
        // booked the other way, or in another room of the spoke: undo that first
        steps.push({ kind: 'release', booking: kept });
        kept = undefined;
      }
      if (mode === 'attend') steps.push({ kind: 'attend', roomId, spoke, room });
      else {
        const parent = ev.key.originalTime !== 0 ? series(roomId, spoke) : undefined;
        steps.push({
          kind: 'book',
          roomId,
          spoke,
          room,
          ...(kept ? { previous: kept } : {}),
          ...(parent && parent.spokeRoom === room ? { parent } : {}),
        });
      }
    }
  }
  // rooms the event no longer names
  for (const b of mine)
    if (isLive(b) && !wanted.has(`${b.roomId} ${b.spoke}`)) steps.push({ kind: 'release', booking: b });
  return steps;
}

/** The origin tag of a booking event: one per room, so each room's booking has its own id. */
export const bookingTag = (roomId: string, key: InstanceKey): OriginTag => ({
  pair: `room:${roomId}`,
  key: formatKey(key),
});

export const isBookingOf = (tag: OriginTag | undefined, roomId: string, uid: string) =>
  !!tag && tag.pair === `room:${roomId}` && tag.key.startsWith(`${uid}_`);

/** The booking event for an occurrence (or a whole series): it names the organizer, nothing private. */
export function bookingEvent(o: {
  key: InstanceKey;
  start: number;
  end: number;
  timeZone: string;
  recurrence?: string[];
  organizer: string;
}): CanonicalEvent {
  return {
    key: o.key,
    summary: `Booked by ${o.organizer}`,
    description: `Room booked in Feishu by ${o.organizer} (Feishu event ${formatKey(o.key)}). Written by Feisync.`,
    location: '',
    start: { timestamp: o.start, timeZone: o.timeZone },
    end: { timestamp: o.end, timeZone: o.timeZone },
    recurrence: o.key.originalTime === 0 ? (o.recurrence ?? []) : [],
    status: 'confirmed',
    visibility: 'default',
    freeBusy: 'busy',
    attendees: [],
    reminders: [],
    origin: 'feishu',
  };
}

export interface Slot {
  start: number;
  end: number;
}

/**
 * The times an event takes within [from, to) (Unix seconds): its own, or every occurrence of its
 * series (at most `max`). All-day events take their dates from 00:00 UTC.
 */
export function slotsOf(ev: CanonicalEvent, from: number, to: number, max = 1000): Slot[] {
  const at = (t: CanonicalEvent['start']) =>
    isAllDay(t) ? Date.parse(`${t.date}T00:00:00Z`) / 1000 : t.timestamp;
  const start = at(ev.start);
  const length = at(ev.end) - start;
  const rrule = ev.recurrence.find((l) => /^RRULE:/i.test(l));
  if (!rrule || isAllDay(ev.start)) return [{ start, end: start + length }];
  const zone = ev.start.timeZone;
  const dtstart = localDateTime(start, zone);
  const until = localDateTime(to, zone);
  return expandRecurrence(rrule.slice(6), dtstart, zone, { until, count: max })
    .map((local) => getZone(zone).toUtc(parseLocal(local)!.t))
    .filter((s) => s + length > from && s < to)
    .map((s) => ({ start: s, end: s + length }));
}

/** What the room holds that overlaps any slot, other than what `own` says is this booking's. */
export function conflictsWith(
  slots: Slot[],
  agenda: RoomEntry[],
  own: (e: RoomEntry) => boolean,
): RoomEntry[] {
  return agenda.filter(
    (e) =>
      !own(e) &&
      !e.free &&
      (e.answer === 'accepted' || e.answer === 'tentative') &&
      slots.some((s) => s.start < e.end && e.start < s.end),
  );
}

/** One line naming what holds the room. */
export function describeConflict(e: RoomEntry): string {
  const when = new Date(e.start * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return `held by "${e.summary}"${e.organizer ? ` (${e.organizer})` : ''} at ${when} UTC`;
}
