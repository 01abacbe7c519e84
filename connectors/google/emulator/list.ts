/** events.list: full listings with filters and paging, and incremental listings with sync tokens. */
import { randomBytes } from 'node:crypto';
import type { EmRequest, EmResponse } from '../../emulator/index.ts';
import type { Principal } from './auth.ts';
import { type Ctx, calendarFor, decodeToken, encodeToken, pageSize, present } from './calendar.ts';
import { badRequest, gfail } from './errors.ts';
import { horizon } from './events.ts';
import { instanceOf, occurrences } from './expand.ts';
import type { Calendar, Json, Stored } from './state.ts';
import { timeMs } from './validate.ts';

/** Sync tokens expire after this long (not documented; the stricter, shorter reading). */
export const SYNC_TOKEN_TTL_MS = 24 * 3600 * 1000;

const FORBIDDEN_WITH_SYNC = [
  'iCalUID',
  'orderBy',
  'privateExtendedProperty',
  'q',
  'sharedExtendedProperty',
  'timeMin',
  'timeMax',
  'updatedMin',
];

interface PageState {
  o: number;
  /** Change sequence the listing is consistent with. */
  s: number;
  /** Sequence of the sync token this incremental listing started from. */
  t?: number;
}

function instant(req: EmRequest, name: string): number | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  const ms = /(Z|[+-]\d{2}:\d{2})$/i.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) return badRequest('Bad Request', 'badRequest', name);
  return ms;
}

function fullSyncRequired(): never {
  return gfail(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.', {
    domain: 'calendar',
    location: 'syncToken',
    locationType: 'parameter',
  });
}

export function list(ctx: Ctx, who: Principal, req: EmRequest): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  const q = req.query;
  const single = q.get('singleEvents') === 'true';
  const syncToken = q.get('syncToken');
  const orderBy = q.get('orderBy');
  if (orderBy !== null && !['startTime', 'updated'].includes(orderBy))
    return badRequest('Invalid value for orderBy');
  if (orderBy === 'startTime' && !single) {
    return badRequest('The requested ordering is not available for the particular query.');
  }
  const size = pageSize(req);
  let sync: { seq: number } | undefined;
  if (syncToken !== null) {
    for (const p of FORBIDDEN_WITH_SYNC) {
      if (q.has(p))
        return badRequest(`The parameter ${p} cannot be used together with syncToken.`, 'invalid', p);
    }
    if (q.get('showDeleted') === 'false') {
      return badRequest(
        'showDeleted=false cannot be used together with syncToken.',
        'invalid',
        'showDeleted',
      );
    }
    const t = ctx.state.syncTokens.get(syncToken);
    if (!t || t.calendarId !== cal.id || ctx.state.clock.now() - t.issued > SYNC_TOKEN_TTL_MS) {
      return fullSyncRequired();
    }
    if (t.single !== single)
      return badRequest('singleEvents must match the initial full sync.', 'invalid', 'singleEvents');
    sync = { seq: t.seq };
  }
  const page: PageState = q.get('pageToken')
    ? decodeToken<PageState>(q.get('pageToken')!)
    : { o: 0, s: ctx.state.seq, t: sync?.seq };
  const all = sync ? changes(ctx, cal, single, page) : full(ctx, cal, req, single);
  const items = all.slice(page.o, page.o + size).map(present);
  const body: Json = {
    kind: 'calendar#events',
    etag: ctx.state.etag(page.s),
    summary: cal.summary,
    updated: ctx.state.nowIso(),
    timeZone: cal.timeZone,
    accessRole: 'owner',
    defaultReminders: [{ method: 'popup', minutes: 10 }],
    items,
  };
  if (page.o + size < all.length) body.nextPageToken = encodeToken({ ...page, o: page.o + size });
  else {
    const token = `emu${randomBytes(15).toString('base64url')}`;
    ctx.state.syncTokens.set(token, {
      calendarId: cal.id,
      seq: page.s,
      issued: ctx.state.clock.now(),
      single,
    });
    body.nextSyncToken = token;
  }
  return { status: 200, body };
}

/** Instances (with stored exceptions laid over) of a live master, up to `untilMs`. */
function expand(ctx: Ctx, cal: Calendar, master: Stored, untilMs?: number): Json[] {
  return occurrences(master.ev, cal.timeZone, untilMs ?? horizon(ctx, master.ev, cal.timeZone)).map((o) =>
    instanceOf(cal, master.ev, o, master.ev.etag),
  );
}

function changes(ctx: Ctx, cal: Calendar, single: boolean, page: PageState): Json[] {
  const changed = [...cal.events.values()]
    .filter((s) => s.seq > (page.t ?? 0) && s.seq <= page.s)
    .sort((a, b) => a.seq - b.seq);
  if (!single) return changed.map((s) => s.ev);
  const out = new Map<string, Json>();
  for (const s of changed) {
    const evs = s.ev.recurrence?.length && s.ev.status !== 'cancelled' ? expand(ctx, cal, s) : [s.ev];
    for (const ev of evs) out.set(ev.id, ev);
  }
  return [...out.values()];
}

function full(ctx: Ctx, cal: Calendar, req: EmRequest, single: boolean): Json[] {
  const q = req.query;
  const timeMin = instant(req, 'timeMin');
  const timeMax = instant(req, 'timeMax');
  const updatedMin = instant(req, 'updatedMin');
  if (timeMin !== undefined && timeMax !== undefined && timeMax <= timeMin) {
    return badRequest('The specified time range is empty.', 'timeRangeEmpty', 'timeMax');
  }
  const showDeleted = q.get('showDeleted') === 'true' || updatedMin !== undefined;
  const props = ['private', 'shared'].flatMap((scope) =>
    q.getAll(`${scope}ExtendedProperty`).map((c) => {
      const at = c.indexOf('=');
      if (at <= 0)
        return badRequest(`Invalid ${scope}ExtendedProperty`, 'invalid', `${scope}ExtendedProperty`);
      return { scope, key: c.slice(0, at), value: c.slice(at + 1) };
    }),
  );
  const liveMaster = (ev: Json) => {
    const m = ev.recurringEventId ? cal.events.get(ev.recurringEventId) : undefined;
    return Boolean(m && m.ev.status !== 'cancelled');
  };
  let items: Json[] = [];
  for (const s of cal.events.values()) {
    const ev = s.ev;
    const cancelled = ev.status === 'cancelled';
    if (single) {
      if (ev.recurringEventId) continue; // exceptions come with their master's expansion
      if (ev.recurrence?.length) {
        if (!cancelled)
          items.push(...expand(ctx, cal, s, timeMax).filter((i) => showDeleted || i.status !== 'cancelled'));
        continue;
      }
      if (!cancelled || showDeleted) items.push(ev);
      continue;
    }
    // Cancelled exceptions of a live series are listed even without showDeleted.
    if (!cancelled || showDeleted || (ev.recurringEventId && liveMaster(ev))) items.push(ev);
  }
  // Constraints on extended properties must all match (the discovery document's reading, the stricter).
  items = items.filter((ev) => props.every((p) => ev.extendedProperties?.[p.scope]?.[p.key] === p.value));
  if (q.get('iCalUID')) items = items.filter((ev) => ev.iCalUID === q.get('iCalUID'));
  if (updatedMin !== undefined) items = items.filter((ev) => Date.parse(ev.updated) >= updatedMin);
  const text = q.get('q')?.toLowerCase();
  if (text) {
    items = items.filter((ev) =>
      [ev.summary, ev.description, ev.location].some((f) =>
        String(f ?? '')
          .toLowerCase()
          .includes(text),
      ),
    );
  }
  items = items.filter((ev) => overlaps(ctx, cal, ev, timeMin, timeMax));
  const orderBy = q.get('orderBy');
  if (orderBy === 'startTime') {
    items.sort((a, b) => startOf(a, cal) - startOf(b, cal) || (a.id < b.id ? -1 : 1));
  } else if (orderBy === 'updated') items.sort((a, b) => Date.parse(a.updated) - Date.parse(b.updated));
  return items;
}

const startOf = (ev: Json, cal: Calendar) => timeMs(ev.start ?? ev.originalStartTime, cal.timeZone);

/** timeMin bounds the end (exclusive), timeMax the start (exclusive); a series overlaps if any instance does. */
function overlaps(ctx: Ctx, cal: Calendar, ev: Json, timeMin?: number, timeMax?: number): boolean {
  if (timeMin === undefined && timeMax === undefined) return true;
  const fits = (e: Json) =>
    (timeMin === undefined || timeMs(e.end ?? e.originalStartTime, cal.timeZone) > timeMin) &&
    (timeMax === undefined || startOf(e, cal) < timeMax);
  if (ev.recurrence?.length && !ev.recurringEventId && ev.status !== 'cancelled') {
    const stored = cal.events.get(ev.id)!;
    return expand(ctx, cal, stored, timeMax).some(fits);
  }
  return fits(ev);
}
