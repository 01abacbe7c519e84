/** Shared helpers of the Calendar routes: calendar access, stored-event lookup, mutation, output. */
import { createHash, randomBytes } from 'node:crypto';
import type { EmRequest } from '../../emulator/index.ts';
import type { Principal } from './auth.ts';
import { gfail, notFound } from './errors.ts';
import { findOccurrence, instanceOf, type Occurrence } from './expand.ts';
import { reflectRooms } from './rooms.ts';
import type { Calendar, GoogleState, Json, Stored } from './state.ts';

export interface Ctx {
  state: GoogleState;
  selfUrl(): string;
  /** Called after every mutation of a calendar (push notifications). */
  changed(cal: Calendar): void;
}

export function calendarFor(ctx: Ctx, who: Principal, id: string): Calendar {
  const calId = id === 'primary' ? who.sub : id;
  const cal = ctx.state.calendars.get(calId);
  if (!cal) return notFound();
  const isResource = ctx.state.resources.some((r) => r.resourceEmail === cal.id);
  if (cal.owner.toLowerCase() !== who.sub.toLowerCase() && !isResource) return notFound();
  return cal;
}

export const newId = () => {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  return [...randomBytes(26)].map((b) => alphabet[b & 31]).join('');
};

export const resourceIdOf = (calId: string) =>
  createHash('sha1').update(`events:${calId}`).digest('base64url').slice(0, 27);

export type Target =
  | { kind: 'stored'; stored: Stored; master?: Json }
  | { kind: 'virtual'; master: Stored; occ: Occurrence; ev: Json };

/** A stored event, or a not-yet-materialized instance of a live recurring master. */
export function resolve(cal: Calendar, id: string): Target | undefined {
  const stored = cal.events.get(id);
  if (stored) {
    const masterId = stored.ev.recurringEventId;
    return { kind: 'stored', stored, master: masterId ? cal.events.get(masterId)?.ev : undefined };
  }
  const at = id.lastIndexOf('_');
  if (at <= 0) return undefined;
  const master = cal.events.get(id.slice(0, at));
  if (!master || master.ev.status === 'cancelled' || !master.ev.recurrence?.length) return undefined;
  const occ = findOccurrence(master.ev, cal.timeZone, id);
  if (!occ) return undefined;
  return { kind: 'virtual', master, occ, ev: instanceOf(cal, master.ev, occ, master.ev.etag) };
}

/**
 * Stores a new version of an event: new etag, `updated`, change sequence, and notifies watchers.
 * Rooms among its attendees answer it and get their copies first (rooms.ts).
 */
export function save(ctx: Ctx, cal: Calendar, ev: Json): Stored {
  reflectRooms(ctx.state, cal, ev, cal.events.get(ev.id)?.ev, { store: (rc, copy) => save(ctx, rc, copy) });
  const seq = ctx.state.nextSeq();
  ev.etag = ctx.state.etag(seq);
  ev.updated = ctx.state.nowIso();
  const stored = { ev, seq };
  cal.events.set(ev.id, stored);
  cal.ever.add(ev.id);
  ctx.changed(cal);
  return stored;
}

/** What the API returns for an event: cancelled ones carry only their identity (the documented minimum). */
export function present(ev: Json): Json {
  if (ev.status !== 'cancelled') return ev;
  const out: Json = { kind: 'calendar#event', etag: ev.etag, id: ev.id, status: 'cancelled' };
  if (ev.recurringEventId) {
    out.recurringEventId = ev.recurringEventId;
    out.originalStartTime = ev.originalStartTime;
  }
  return out;
}

export function checkIfMatch(req: EmRequest, etag: string) {
  const want = req.headers['if-match'];
  if (want === undefined || want === '*') return;
  const list = String(want)
    .split(',')
    .map((s) => s.trim().replace(/^W\//, ''));
  if (!list.includes(etag)) {
    gfail(412, 'conditionNotMet', 'Precondition Failed', { location: 'If-Match', locationType: 'header' });
  }
}

export function checkSendUpdates(req: EmRequest) {
  const v = req.query.get('sendUpdates');
  if (v !== null && !['all', 'externalOnly', 'none'].includes(v)) {
    gfail(400, 'invalidParameter', `Invalid value for: ${v} is not a valid value`, {
      location: 'sendUpdates',
      locationType: 'parameter',
    });
  }
}

/** Base64url JSON page tokens. */
export const encodeToken = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
export function decodeToken<T>(t: string): T {
  try {
    return JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as T;
  } catch {
    return gfail(400, 'invalid', 'Invalid page token value.', {
      location: 'pageToken',
      locationType: 'parameter',
    });
  }
}

export function pageSize(req: EmRequest, def = 250, max = 2500): number {
  const raw = req.query.get('maxResults');
  if (raw === null) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    return gfail(400, 'invalid', 'Invalid value for maxResults', {
      location: 'maxResults',
      locationType: 'parameter',
    });
  }
  // The docs say the page "can never be larger" than the maximum: larger requests are clamped.
  return Math.min(n, max);
}
