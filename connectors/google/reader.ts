/**
 * listChanges: a full listing (masters, singles and exceptions, cancelled exceptions included) or an
 * incremental one from a sync token. A deleted event becomes a removal; a cancelled instance becomes
 * an upsert of an exception with status `cancelled` (its master is read once to name its series).
 */
import type { calendar_v3 } from 'googleapis';
import type { BridgeError, Rsvp } from '../../src/core/index.ts';
import { formatKey } from '../../src/core/index.ts';
import type { CalendarRef, ChangePage, RemoteEvent } from '../../src/ports/index.ts';
import { fromGoogle, type GEvent, originalTimeOf } from './mapper.ts';

export interface ReadEnv {
  calendar(owner: string): calendar_v3.Calendar;
  /** Runs one SDK call for a user under pacing and retries. */
  call<T>(owner: string, fn: () => Promise<T>): Promise<T>;
}

export async function* listChanges(
  env: ReadEnv,
  ref: CalendarRef,
  cursor: string | null,
): AsyncGenerator<ChangePage> {
  const api = env.calendar(ref.owner);
  const masters = new Map<string, GEvent | null>();
  let pageToken: string | undefined;
  let zone = 'UTC';
  do {
    let data: calendar_v3.Schema$Events;
    try {
      const params: calendar_v3.Params$Resource$Events$List = {
        calendarId: ref.id,
        maxResults: 2500,
        pageToken,
        singleEvents: false,
      };
      if (cursor) params.syncToken = cursor;
      data = (await env.call(ref.owner, () => api.events.list(params))).data;
    } catch (e) {
      const err = e as BridgeError;
      if (cursor && err.status === 410) {
        yield { upserts: [], removals: [], expired: true };
        return;
      }
      throw err;
    }
    zone = data.timeZone ?? zone;
    const page: ChangePage = { upserts: [], removals: [] };
    for (const g of data.items ?? []) {
      if (g.recurrence?.length && g.id) masters.set(g.id, g);
    }
    for (const g of data.items ?? []) {
      if (g.status === 'cancelled' && !g.recurringEventId) {
        page.removals.push({ ref: { id: g.id ?? '', version: g.etag ?? undefined } });
        continue;
      }
      if (g.status === 'cancelled') {
        const up = await cancelledInstance(env, ref, g, masters, zone);
        if (up) page.upserts.push(up);
        else page.removals.push({ ref: { id: g.id ?? '', version: g.etag ?? undefined } });
        continue;
      }
      const { event, tag, note } = fromGoogle(g, zone);
      const up: RemoteEvent = { ref: { id: g.id!, version: g.etag ?? undefined }, event };
      if (tag) up.tag = tag;
      if (note) up.note = note;
      if (g.recurringEventId) up.parent = g.recurringEventId;
      Object.assign(up, identity(g, ref.owner));
      page.upserts.push(up);
    }
    pageToken = data.nextPageToken ?? undefined;
    if (!pageToken && data.nextSyncToken) page.cursor = data.nextSyncToken;
    yield page;
  } while (pageToken);
}

/**
 * What reverse sync needs beyond the event: the iCalUID (instances share their series') and the
 * owner's own answer when the owner is an invited attendee (the `self` attendee, or the one with the
 * owner's address) and not the organizer.
 */
export function identity(g: GEvent, owner: string): Pick<RemoteEvent, 'icalUid' | 'selfRsvp'> {
  const out: Pick<RemoteEvent, 'icalUid' | 'selfRsvp'> = {};
  if (g.iCalUID) out.icalUid = g.iCalUID;
  if (g.organizer?.self) return out;
  const me = (g.attendees ?? []).find(
    (a) => a.self === true || (a.email && a.email.toLowerCase() === owner.toLowerCase()),
  );
  if (me) out.selfRsvp = SELF_RSVP[me.responseStatus ?? 'needsAction'] ?? 'needs-action';
  return out;
}

const SELF_RSVP: Record<string, Rsvp> = {
  needsAction: 'needs-action',
  accepted: 'accepted',
  declined: 'declined',
  tentative: 'tentative',
};

/** A cancelled occurrence carries only its id, series and original start: fill in from the master. */
async function cancelledInstance(
  env: ReadEnv,
  ref: CalendarRef,
  g: GEvent,
  masters: Map<string, GEvent | null>,
  zone: string,
): Promise<RemoteEvent | undefined> {
  const masterId = g.recurringEventId!;
  if (!masters.has(masterId)) {
    try {
      const api = env.calendar(ref.owner);
      const res = await env.call(ref.owner, () => api.events.get({ calendarId: ref.id, eventId: masterId }));
      masters.set(masterId, res.data.status === 'cancelled' ? null : res.data);
    } catch {
      masters.set(masterId, null);
    }
  }
  const master = masters.get(masterId);
  if (!master) return undefined;
  const { event: m, tag: mtag } = fromGoogle(master, zone);
  const originalTime = originalTimeOf(g);
  const { event } = fromGoogle(
    {
      ...master,
      id: g.id,
      recurrence: undefined,
      recurringEventId: masterId,
      originalStartTime: g.originalStartTime,
      status: 'cancelled',
    },
    zone,
  );
  const duration = 'date' in m.start || 'date' in m.end ? 0 : m.end.timestamp - m.start.timestamp;
  if (g.originalStartTime?.date) {
    const days =
      'date' in m.start && 'date' in m.end ? Date.parse(m.end.date) - Date.parse(m.start.date) : 86_400_000;
    event.start = { date: g.originalStartTime.date };
    event.end = { date: new Date(Date.parse(g.originalStartTime.date) + days).toISOString().slice(0, 10) };
  } else if ('timestamp' in event.start) {
    event.start = { timestamp: originalTime, timeZone: event.start.timeZone };
    event.end = { timestamp: originalTime + duration, timeZone: event.start.timeZone };
  }
  event.key = { uid: m.key.uid, originalTime };
  const out: RemoteEvent = { ref: { id: g.id!, version: g.etag ?? undefined }, event, parent: masterId };
  if (master.iCalUID) out.icalUid = master.iCalUID;
  if (mtag) out.tag = { pair: mtag.pair, key: formatKey(event.key) };
  return out;
}
