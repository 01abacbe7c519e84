/**
 * Room bookings on Google (RoomAccess): a room is its resource calendar (`resourceEmail`). Writes
 * and reads of that calendar act as a Workspace admin (`adminEmail`), who can write resource
 * calendars; the room's answer on a mirrored event is read from the organizer's own copy.
 */
import type { calendar_v3 } from 'googleapis';
import { BridgeError, type Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, RoomAccess, RoomAnswer, RoomEntry } from '../../src/ports/index.ts';
import type { Call, Reply } from './batch.ts';
import { fromThrown, toBridgeError } from './errors.ts';
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
  /** Sends calls as `owner` in one batch request (batch.ts), paced. */
  batch?(owner: string, calls: Call[]): Promise<Reply[]>;
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

/** What a room's calendar listing holds (cancelled events left out). */
function entriesOf(items: calendar_v3.Schema$Event[] | undefined, room: string): RoomEntry[] {
  const out: RoomEntry[] = [];
  for (const g of items ?? []) {
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
  return out;
}

/** Up to 100 calls per batch (the writer's size; Google allows 1000, but advises fewer). */
const AGENDA_BATCH = 100;

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
  async function agenda(room: string, from: number, to: number): Promise<RoomEntry[]> {
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
      out.push(...entriesOf(res.data.items, room));
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    return out;
  }
  return {
    calendar: (room) => ({ owner: admin(), id: room }),
    agenda,
    async agendas(asks) {
      const owner = admin();
      const out: (RoomEntry[] | BridgeError)[] = [];
      for (let i = 0; i < asks.length; i += AGENDA_BATCH) {
        const chunk = asks.slice(i, i + AGENDA_BATCH);
        const calls: Call[] = chunk.map((a) => {
          const q = new URLSearchParams({
            timeMin: new Date(a.from * 1000).toISOString(),
            timeMax: new Date(a.to * 1000).toISOString(),
            singleEvents: 'true',
            maxResults: '2500',
          });
          return { method: 'GET', path: `/calendar/v3/calendars/${encodeURIComponent(a.room)}/events?${q}` };
        });
        // without a batch transport, or when the whole batch failed: one by one
        const replies = env.batch ? await env.batch(owner, calls).catch(() => undefined) : undefined;
        for (const [k, a] of chunk.entries()) {
          const r = replies?.[k];
          if (r?.status === 200) out.push(entriesOf(r.body?.items, a.room));
          else if (r && r.status !== 0 && r.status !== 429 && r.status < 500)
            out.push(toBridgeError(r.status, r.body, r.headers));
          else out.push(await agenda(a.room, a.from, a.to).catch((e) => fromThrown(e)));
        }
      }
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
