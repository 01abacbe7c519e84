/**
 * Resource calendars (meeting rooms). Google's own behaviour, as far as Feisync relies on it
 * (reference notes §1.9 and §1.13):
 * - A room is booked by adding its `resourceEmail` as an attendee with `resource: true`. The event
 *   then also lives on the room's calendar (same event id, as every attendee's copy has), readable
 *   with events.list on `calendarId = resourceEmail`.
 * - The room answers through its attendee `responseStatus`: `accepted` when it is free, `declined`
 *   when something it already holds overlaps. Google answers asynchronously; the emulator answers at
 *   once, which a client that re-reads the response cannot tell apart from a fast room.
 * - A series is declined whole when any of its occurrences collides (Google can also decline single
 *   instances; the whole-series reading is the stricter one: the room holds nothing of the series).
 * - The room keeps its answer while the event's time stays; moving the event (or one instance) makes
 *   it answer again at the new time. What the client writes as the room's `responseStatus` is ignored:
 *   only the room answers for itself.
 * - A declined event stays on the room's calendar, marked declined (as on any attendee's calendar);
 *   it does not hold the room.
 * - An event written straight onto the room's calendar (the room is then its organizer) holds the room
 *   and is not checked: Google does not stop a writer of the calendar from double-booking it.
 * - The room's copy carries no private extended properties: those belong to the organizer's copy.
 */
import { spans as expand } from './expand.ts';
import type { Calendar, GoogleState, Json } from './state.ts';
import { timeMs } from './validate.ts';

/** How far ahead a series is checked for collisions (the same bound list uses without timeMax). */
const HORIZON_MS = 2 * 365 * 86_400_000;

const lower = (s: unknown) => String(s ?? '').toLowerCase();

export const isRoomCalendar = (state: GoogleState, id: string) =>
  state.resources.some((r) => lower(r.resourceEmail) === lower(id));

function roomsOf(state: GoogleState, ev: Json | undefined): string[] {
  if (!ev || ev.status === 'cancelled') return [];
  return (ev.attendees ?? [])
    .filter((a: Json) => a.resource === true && isRoomCalendar(state, a.email))
    .map((a: Json) => lower(a.email));
}

const timesOf = (ev: Json) => JSON.stringify([ev.start, ev.end, ev.recurrence ?? []]);

/** The room's answer written in an event (its own organizer: it holds the room). */
export function answerOf(ev: Json, room: string): string | undefined {
  if (lower(ev.organizer?.email) === room) return 'accepted';
  return ev.attendees?.find((a: Json) => lower(a.email) === room)?.responseStatus;
}

const holds = (ev: Json, room: string) =>
  ev.status !== 'cancelled' &&
  ev.transparency !== 'transparent' &&
  ['accepted', 'tentative'].includes(answerOf(ev, room) ?? '');

/** Does anything the room holds (other than this event and its own series) overlap the event? */
function busy(state: GoogleState, cal: Calendar, room: Calendar, ev: Json): boolean {
  const series = ev.recurringEventId ?? ev.id;
  const mine = expand(cal, ev, Math.max(state.clock.now(), timeMs(ev.start, cal.timeZone)) + HORIZON_MS);
  if (mine.length === 0) return false;
  const from = Math.min(...mine.map((m) => m.start));
  const to = Math.max(...mine.map((m) => m.end));
  for (const s of room.events.values()) {
    const other = s.ev;
    if (other.recurringEventId || other.id === series) continue;
    // only a series can reach into the window from before it; a single event must overlap it
    if (timeMs(other.start, room.timeZone) >= to) continue;
    if (!other.recurrence?.length && timeMs(other.end, room.timeZone) <= from) continue;
    for (const o of expand(room, other, to)) {
      if (o.id === ev.id || o.end <= from || !holds(o.ev, room.id)) continue;
      if (mine.some((m) => m.start < o.end && o.start < m.end)) return true;
    }
  }
  return false;
}

export interface RoomHooks {
  /** Stores a version of an event on a calendar (the caller's save, without room handling). */
  store(cal: Calendar, ev: Json): void;
}

/**
 * Before an event of a user's calendar is stored: the rooms answer (written into `ev`), and their
 * calendars get, update or cancel their copies. `previous` is the version being replaced, if any.
 */
export function reflectRooms(
  state: GoogleState,
  cal: Calendar,
  ev: Json,
  previous: Json | undefined,
  hooks: RoomHooks,
) {
  if (isRoomCalendar(state, cal.id)) return;
  const now = roomsOf(state, ev);
  // an instance stored for the first time was, until now, its series' occurrence
  const master = ev.recurringEventId ? cal.events.get(ev.recurringEventId)?.ev : undefined;
  const before = roomsOf(state, previous ?? master);
  for (const room of new Set([...now, ...before])) {
    const rc = state.calendars.get(room) ?? [...state.calendars.values()].find((c) => lower(c.id) === room);
    if (!rc) continue;
    const copy = rc.events.get(ev.id)?.ev;
    const isCopy = copy && lower(copy.organizer?.email) !== room;
    if (!now.includes(room)) {
      if (isCopy && copy.status !== 'cancelled') hooks.store(rc, { ...copy, status: 'cancelled' });
      else if (!copy && ev.recurringEventId && rc.events.has(ev.recurringEventId)) {
        // an occurrence of the room's copy of the series goes: a cancelled instance says so
        const { extendedProperties: _p, ...rest } = ev;
        hooks.store(rc, {
          ...rest,
          organizer: { email: ev.organizer?.email ?? cal.owner },
          status: 'cancelled',
        });
      }
      continue;
    }
    const kept =
      isCopy && copy.status !== 'cancelled' && timesOf(copy) === timesOf(ev)
        ? answerOf(copy, room)
        : undefined;
    const answer = kept ?? (busy(state, cal, rc, ev) ? 'declined' : 'accepted');
    ev.attendees = ev.attendees.map((a: Json) =>
      lower(a.email) === room ? { ...a, responseStatus: answer } : a,
    );
    const { extendedProperties, ...rest } = ev;
    const out: Json = {
      ...rest,
      organizer: { email: ev.organizer?.email ?? cal.owner },
      attendees: ev.attendees.map((a: Json) => (lower(a.email) === room ? { ...a, self: true } : a)),
    };
    if (extendedProperties?.shared) out.extendedProperties = { shared: extendedProperties.shared };
    // An instance whose series is not on the room's calendar stands alone there.
    if (out.recurringEventId && !rc.events.has(out.recurringEventId)) {
      delete out.recurringEventId;
      delete out.originalStartTime;
    }
    hooks.store(rc, out);
  }
}
