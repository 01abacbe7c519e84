/**
 * Room bookings on Google (RoomAccess): a room is its resource calendar (`resourceEmail`). Writes
 * and reads of that calendar act as a Workspace admin (`adminEmail`), who can write resource
 * calendars; the room's answer on a mirrored event is read from the organizer's own copy.
 */
import type { calendar_v3 } from 'googleapis';
import { BridgeError, type Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, RoomAccess, RoomAnswer, RoomEntry } from '../../src/ports/index.ts';
import { fromThrown } from './errors.ts';
import { tagOf } from './mapper.ts';

const RSVP: Record<string, Rsvp> = {
  accepted: 'accepted',
  declined: 'declined',
  tentative: 'tentative',
  needsAction: 'needs-action',
};
const lower = (s: string | null | undefined) => (s ?? '').toLowerCase();

export interface RoomEnv {
  calendar(owner: string): calendar_v3.Calendar;
  call<T>(owner: string, fn: () => Promise<T>): Promise<T>;
  adminEmail?: string;
}

/** The room's answer written in one of its events. */
export function roomAnswer(g: calendar_v3.Schema$Event, room: string): Rsvp | undefined {
  if (lower(g.organizer?.email) === lower(room)) return 'accepted';
  const a = g.attendees?.find((x) => lower(x.email) === lower(room));
  return a ? (RSVP[a.responseStatus ?? 'needsAction'] ?? 'needs-action') : undefined;
}

/** Every room's answer on an event as Google returned it (its `resource: true` attendees). */
export function roomAnswers(g: calendar_v3.Schema$Event): RoomAnswer[] {
  return (g.attendees ?? [])
    .filter((a) => a.resource && a.email)
    .map((a) => ({ room: a.email!, answer: RSVP[a.responseStatus ?? 'needsAction'] ?? 'needs-action' }));
}

const seconds = (t: calendar_v3.Schema$EventDateTime | undefined) =>
  Math.floor(Date.parse(t?.dateTime ?? `${t?.date}T00:00:00Z`) / 1000);

export function googleRooms(env: RoomEnv): RoomAccess {
  const admin = () => {
    if (!env.adminEmail) {
      throw new BridgeError(
        'config',
        'google: room calendars are written and read as a Workspace admin; set google.admin',
        { provider: 'google' },
      );
    }
    return env.adminEmail;
  };
  return {
    calendar: (room) => ({ owner: admin(), id: room }),
    async agenda(room, from, to) {
      const owner = admin();
      const api = env.calendar(owner);
      const out: RoomEntry[] = [];
      let pageToken: string | undefined;
      do {
        const res = await env.call(owner, () =>
          api.events.list({
            calendarId: room,
            timeMin: new Date(from * 1000).toISOString(),
            timeMax: new Date(to * 1000).toISOString(),
            singleEvents: true,
            maxResults: 2500,
            pageToken,
          }),
        );
        for (const g of res.data.items ?? []) {
          if (g.status === 'cancelled') continue;
          const entry: RoomEntry = {
            id: g.id ?? '',
            start: seconds(g.start),
            end: seconds(g.end),
            answer: roomAnswer(g, room) ?? 'needs-action',
            free: g.transparency === 'transparent',
            summary: g.summary ?? '',
          };
          if (g.organizer?.email) entry.organizer = g.organizer.email;
          const tag = tagOf(g);
          if (tag) entry.tag = tag;
          out.push(entry);
        }
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    },
    async answer(cal: CalendarRef, eventId: string, room: string) {
      const api = env.calendar(cal.owner);
      try {
        const res = await env.call(cal.owner, () => api.events.get({ calendarId: cal.id, eventId }));
        return res.data.status === 'cancelled' ? undefined : roomAnswer(res.data, room);
      } catch (e) {
        const err = fromThrown(e);
        if (err.kind === 'not_found') return undefined;
        throw err;
      }
    },
  };
}
