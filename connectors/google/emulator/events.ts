/** events.insert, import, get, patch, update, delete and instances. */

import { expandRecurrence } from '../../../src/core/recurrence/index.ts';
import type { EmRequest, EmResponse } from '../../emulator/index.ts';
import type { Principal } from './auth.ts';
import {
  type Ctx,
  calendarFor,
  checkIfMatch,
  checkSendUpdates,
  decodeToken,
  encodeToken,
  newId,
  pageSize,
  present,
  resolve,
  save,
} from './calendar.ts';
import { badRequest, gfail, notFound } from './errors.ts';
import { instanceOf, occurrences } from './expand.ts';
import type { Calendar, Json } from './state.ts';
import { checkEvent, ID_RE, mergePatch, timeMs } from './validate.ts';

const READ_ONLY = [
  'kind',
  'etag',
  'created',
  'updated',
  'htmlLink',
  'creator',
  'recurringEventId',
  'originalStartTime',
];

function checkRule(ev: Json) {
  const rrule = (ev.recurrence ?? []).find((l: string) => /^RRULE/i.test(l));
  if (!rrule) return;
  try {
    const dtstart = ev.start.date ?? String(ev.start.dateTime).slice(0, 19);
    expandRecurrence(rrule.replace(/^RRULE:/i, ''), dtstart, ev.start.timeZone ?? 'UTC', { count: 1 });
  } catch {
    badRequest('Invalid recurrence rule.');
  }
}

function fresh(ctx: Ctx, cal: Calendar, body: Json, id: string): Json {
  const clean = { ...body };
  for (const k of READ_ONLY) delete clean[k];
  const ev = checkEvent(clean, cal.timeZone);
  checkRule(ev);
  const now = ctx.state.nowIso();
  const owner = { email: cal.owner, self: true };
  return {
    kind: 'calendar#event',
    ...ev,
    id,
    status: ev.status ?? 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${cal.id}`).toString('base64url')}`,
    created: now,
    iCalUID: ev.iCalUID ?? `${id}@google.com`,
    sequence: ev.sequence ?? 0,
    creator: owner,
    organizer: ev.organizer ?? owner,
    reminders: ev.reminders ?? { useDefault: true },
    eventType: 'default',
  };
}

/** The series master or single event of a calendar holding an iCalUID (instances share their master's). */
const byICalUID = (cal: Calendar, uid: string) =>
  [...cal.events.values()].find((s) => s.ev.iCalUID === uid && !s.ev.recurringEventId);

export function insert(ctx: Ctx, who: Principal, req: EmRequest): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  checkSendUpdates(req);
  const body = req.json<Json>();
  let id: string;
  if (body.id !== undefined) {
    if (typeof body.id !== 'string' || !ID_RE.test(body.id)) return badRequest('Invalid resource id value.');
    // Only one of id and iCalUID may be given at creation.
    if (body.iCalUID !== undefined) return badRequest('Specify either id or iCalUID, not both.');
    // Deleted ids stay reserved.
    if (cal.ever.has(body.id)) return gfail(409, 'duplicate', 'The requested identifier already exists.');
    id = body.id;
  } else id = newId();
  // iCalUIDs are unique per calendar: inserting one the calendar already holds (even deleted) is a
  // duplicate, as for ids (the stricter reading; events.import is the way to update by iCalUID).
  if (typeof body.iCalUID === 'string' && byICalUID(cal, body.iCalUID)) {
    return gfail(409, 'duplicate', 'The requested identifier already exists.');
  }
  const ev = fresh(ctx, cal, body, id);
  delete ev.organizer;
  ev.organizer = { email: cal.owner, self: true };
  return { status: 200, body: save(ctx, cal, ev).ev };
}

/**
 * events.import: a private copy of an event identified by its iCalUID (required). What importing an
 * iCalUID the calendar already holds does is not documented and reported both ways; the emulator
 * follows the report that import replaces it: the existing event (same id, a deleted one revived)
 * takes the imported fields, with a sequence no lower than before.
 */
export function importEvent(ctx: Ctx, who: Principal, req: EmRequest): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  const body = req.json<Json>();
  if (typeof body.iCalUID !== 'string' || body.iCalUID === '')
    return badRequest('Missing iCalUID.', 'required');
  const existing = byICalUID(cal, body.iCalUID);
  if (existing) {
    const current = existing.ev;
    const next = fresh(ctx, cal, { ...body, id: undefined }, current.id);
    next.created = current.created;
    next.htmlLink = current.htmlLink;
    next.sequence = Math.max(Number(body.sequence ?? 0), Number(current.sequence ?? 0));
    return { status: 200, body: save(ctx, cal, next).ev };
  }
  let id = newId();
  if (body.id !== undefined) {
    if (typeof body.id !== 'string' || !ID_RE.test(body.id)) return badRequest('Invalid resource id value.');
    if (cal.ever.has(body.id)) return gfail(409, 'duplicate', 'The requested identifier already exists.');
    id = body.id;
  }
  return { status: 200, body: save(ctx, cal, fresh(ctx, cal, body, id)).ev };
}

export function get(ctx: Ctx, who: Principal, req: EmRequest): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  const t = resolve(cal, req.params.eventId);
  if (!t) return notFound();
  const ev = t.kind === 'stored' ? t.stored.ev : t.ev;
  return { status: 200, body: present(ev), headers: { etag: ev.etag } };
}

/** PATCH (merge) and PUT (full replace) share everything but how the new body is formed. */
export function modify(ctx: Ctx, who: Principal, req: EmRequest, mode: 'patch' | 'update'): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  checkSendUpdates(req);
  const t = resolve(cal, req.params.eventId);
  if (!t) return notFound();
  const current = t.kind === 'stored' ? t.stored.ev : t.ev;
  checkIfMatch(req, current.etag);
  const instance = Boolean(current.recurringEventId);
  if (current.status === 'cancelled' && !instance) return gfail(410, 'deleted', 'Resource has been deleted');
  const body = req.json<Json>();
  const base = mode === 'patch' ? mergePatch(current, body) : { ...body };
  if (mode === 'patch' && current.status === 'cancelled' && body.status === undefined)
    base.status = 'confirmed';
  for (const k of READ_ONLY) delete base[k];
  if (instance) delete base.recurrence;
  const ev = checkEvent(base, cal.timeZone, { instance });
  if (!instance) checkRule(ev);
  const moved = JSON.stringify([ev.start, ev.end]) !== JSON.stringify([current.start, current.end]);
  const next: Json = {
    kind: 'calendar#event',
    ...ev,
    id: current.id,
    status: ev.status ?? 'confirmed',
    htmlLink: current.htmlLink,
    created: current.created,
    iCalUID: current.iCalUID,
    creator: current.creator,
    organizer: current.organizer,
    sequence: (current.sequence ?? 0) + (moved ? 1 : 0),
    reminders: ev.reminders ?? { useDefault: true },
    eventType: current.eventType ?? 'default',
  };
  if (instance) {
    next.recurringEventId = current.recurringEventId;
    next.originalStartTime = current.originalStartTime;
  }
  return { status: 200, body: save(ctx, cal, next).ev };
}

export function remove(ctx: Ctx, who: Principal, req: EmRequest): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  checkSendUpdates(req);
  const t = resolve(cal, req.params.eventId);
  if (!t) return notFound();
  const current = t.kind === 'stored' ? t.stored.ev : t.ev;
  checkIfMatch(req, current.etag);
  if (current.status === 'cancelled') return gfail(410, 'deleted', 'Resource has been deleted');
  save(ctx, cal, { ...current, status: 'cancelled' });
  if (current.recurrence?.length) {
    for (const s of [...cal.events.values()]) {
      if (s.ev.recurringEventId === current.id && s.ev.status !== 'cancelled') {
        save(ctx, cal, { ...s.ev, status: 'cancelled' });
      }
    }
  }
  return { status: 204 };
}

/** Horizon for series without an end when no timeMax bounds the read. */
export const horizon = (ctx: Ctx, master: Json, zone: string) =>
  Math.max(ctx.state.clock.now(), timeMs(master.start, zone)) + 2 * 365 * 86_400_000;

export function instances(ctx: Ctx, who: Principal, req: EmRequest): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  const master = cal.events.get(req.params.eventId);
  if (!master || master.ev.recurringEventId) return notFound();
  if (master.ev.status === 'cancelled') return gfail(410, 'deleted', 'Resource has been deleted');
  const q = req.query;
  const timeMin = q.get('timeMin') ? Date.parse(q.get('timeMin')!) : undefined;
  const timeMax = q.get('timeMax') ? Date.parse(q.get('timeMax')!) : undefined;
  if (Number.isNaN(timeMin) || Number.isNaN(timeMax)) return badRequest('Bad Request');
  const showDeleted = q.get('showDeleted') === 'true';
  const originalStart = q.get('originalStart');
  const size = pageSize(req);
  const offset = q.get('pageToken') ? decodeToken<{ o: number }>(q.get('pageToken')!).o : 0;
  const occ = master.ev.recurrence?.length
    ? occurrences(master.ev, cal.timeZone, timeMax ?? horizon(ctx, master.ev, cal.timeZone))
    : [];
  const all = occ
    .map((o) => instanceOf(cal, master.ev, o, master.ev.etag))
    .filter((ev) => showDeleted || ev.status !== 'cancelled')
    .filter(
      (ev) => timeMin === undefined || ev.status === 'cancelled' || timeMs(ev.end, cal.timeZone) > timeMin,
    )
    .filter((ev) => timeMax === undefined || timeMs(ev.start ?? ev.originalStartTime, cal.timeZone) < timeMax)
    .filter(
      (ev) =>
        !originalStart ||
        timeMs(ev.originalStartTime, cal.timeZone) === timeMs({ dateTime: originalStart }, cal.timeZone),
    );
  const items = all.slice(offset, offset + size).map(present);
  const body: Json = {
    kind: 'calendar#events',
    etag: master.ev.etag,
    summary: cal.summary,
    updated: master.ev.updated,
    timeZone: cal.timeZone,
    accessRole: 'owner',
    defaultReminders: [],
    items,
  };
  if (offset + size < all.length) body.nextPageToken = encodeToken({ o: offset + size });
  return { status: 200, body };
}
