/** Event list/get/create/patch/delete/instances/subscription and attendees. */
import type { EmRequest, Router } from '../../emulator/index.ts';
import { authorize, badParam, type Ctx, ferr, ok } from './auth.ts';
import {
  type Cursor,
  calendarFor,
  decodeCursor,
  EVENT_TOKEN_LIFE_S,
  encodeCursor,
  pageSize,
} from './calendars.ts';
import {
  addAttendees,
  createEvent,
  deleteEvent,
  patchEvent,
  removeAttendees,
  replyEvent,
  seconds,
} from './mutations.ts';
import { occurrences } from './recurrence.ts';
import type { StoredEvent } from './store.ts';

const CONFLICT = 'sync token cannot be used with other request restrictions';

export function renderEvent(ev: StoredEvent, attendees?: { max: number }) {
  const out: Record<string, any> = { ...ev.data };
  if (ev.deleted) out.status = 'cancelled';
  if (attendees) {
    out.attendees = ev.attendees.slice(0, attendees.max);
    out.has_more_attendee = ev.attendees.length > attendees.max;
  }
  return out;
}

/** The documented anchor_time rule: singles ending at/after it, every series, exceptions whose
 * original time and end are at/after it. */
function afterAnchor(ev: StoredEvent, anchor: number): boolean {
  if (ev.data.recurrence) return true;
  const end = seconds(ev.data.end_time, true);
  if (ev.data.is_exception) {
    const original = Number(ev.data.event_id.slice(ev.data.event_id.lastIndexOf('_') + 1));
    return original >= anchor && end >= anchor;
  }
  return end >= anchor;
}

function listEvents(ctx: Ctx, req: EmRequest) {
  const token = authorize(ctx, req, 'calendar_event.list');
  const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'read');
  if (!['primary', 'shared', 'resource'].includes(cal.type))
    return ferr(403, 191004, 'invalid calendar type');
  const q = (k: string) => req.query.get(k) || undefined;
  const [pt, st, anchor, start, end] = [
    'page_token',
    'sync_token',
    'anchor_time',
    'start_time',
    'end_time',
  ].map(q);
  const size = pageSize(req, 500, 50, 1000);
  if (st && (pt || anchor || start || end)) return ferr(400, 190009, CONFLICT);
  if ((start || end) && (pt || anchor)) return ferr(400, 190009, CONFLICT);
  const events = [...ctx.store.events.get(cal.calendar_id)!.values()];
  const now = ctx.clock.nowSeconds();
  if (start || end) {
    // One non-pageable call, truncated at page_size.
    const from = Number(start ?? 0);
    const to = Number(end ?? Number.MAX_SAFE_INTEGER);
    const hits = events
      .filter(
        (e) =>
          !e.deleted &&
          (e.data.recurrence || (seconds(e.data.start_time) < to && seconds(e.data.end_time, true) > from)),
      )
      .sort((a, b) => seconds(a.data.start_time) - seconds(b.data.start_time));
    return ok({ has_more: false, items: hits.slice(0, size).map((e) => renderEvent(e)) });
  }
  let cur: Cursor;
  if (pt) cur = decodeCursor(ctx, pt, 'ev', cal.calendar_id, EVENT_TOKEN_LIFE_S);
  else if (st) {
    const s = decodeCursor(ctx, st, 'ev', cal.calendar_id, EVENT_TOKEN_LIFE_S);
    cur = { k: 'ev', m: 'sync', c: cal.calendar_id, s: s.h, h: ctx.store.seq, t: now };
  } else {
    if (anchor !== undefined && !/^\d+$/.test(anchor)) return badParam('anchor_time');
    cur = {
      k: 'ev',
      m: 'full',
      c: cal.calendar_id,
      s: 0,
      h: ctx.store.seq,
      t: now,
      a: anchor ? Number(anchor) : undefined,
    };
  }
  let pool =
    cur.m === 'full'
      ? events.filter((e) => !e.deleted && (cur.a === undefined || afterAnchor(e, cur.a)))
      : events.filter((e) => e.seq > cur.s && e.seq <= cur.h);
  pool = pool
    .filter((e) => cur.after === undefined || e.seq > Number(cur.after))
    .sort((a, b) => a.seq - b.seq);
  const page = pool.slice(0, size);
  const has_more = pool.length > size;
  const data: Record<string, unknown> = { has_more, items: page.map((e) => renderEvent(e)) };
  // The docs say page_token is returned "only when anchor_time is passed"; we return it whenever there is
  // more, and the connector always passes anchor_time on a full listing, which satisfies both readings.
  if (has_more) data.page_token = encodeCursor('ListEventsPageToken', { ...cur, after: page.at(-1)!.seq });
  else data.sync_token = encodeCursor('ListEventsSyncToken', { ...cur, m: 'sync', after: undefined, t: now });
  return ok(data);
}

function instances(ctx: Ctx, req: EmRequest) {
  const token = authorize(ctx, req, 'calendar_event.instances');
  const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'read');
  const from = Number(req.query.get('start_time'));
  const to = Number(req.query.get('end_time'));
  if (!from || !to || to <= from) return badParam('start_time and end_time are required');
  if (to - from > 2 * 366 * 86400) return badParam('the window is at most 2 years');
  const size = pageSize(req, 50, 10, 500);
  const master = ctx.store.event(cal.calendar_id, req.params.event_id);
  if (!master) return ferr(404, 193001, 'event not found');
  if (master.deleted) return ferr(403, 193003, 'event is deleted');
  const uid = master.data.event_id.slice(0, master.data.event_id.lastIndexOf('_'));
  const duration = seconds(master.data.end_time) - seconds(master.data.start_time);
  const items: Record<string, any>[] = [];
  const starts = master.data.recurrence
    ? occurrences(
        master.data.recurrence,
        seconds(master.data.start_time),
        master.data.start_time.timezone ?? 'UTC',
        from - duration,
        to,
      )
    : [seconds(master.data.start_time)];
  for (const t of starts) {
    const ex = ctx.store.event(cal.calendar_id, `${uid}_${t}`);
    if (ex && (ex.deleted || ex.data.status === 'cancelled')) continue;
    const d = ex?.data ?? master.data;
    const tz = master.data.start_time.timezone;
    const s = ex ? d.start_time : { timestamp: String(t), timezone: tz };
    const e = ex ? d.end_time : { timestamp: String(t + duration), timezone: tz };
    if (seconds(s) >= to || seconds(e, true) <= from) continue;
    items.push({
      event_id: master.data.recurrence ? `${uid}_${t}` : master.data.event_id,
      summary: d.summary,
      description: d.description,
      start_time: s,
      end_time: e,
      status: d.status,
      is_exception: !!ex,
      app_link: d.app_link,
      location: d.location,
    });
  }
  const offset = Number(req.query.get('page_token') ?? 0) || 0;
  const page = items.slice(offset, offset + size);
  const has_more = items.length > offset + size;
  return ok({ items: page, has_more, ...(has_more ? { page_token: String(offset + size) } : {}) });
}

export function eventRoutes(router: Router, ctx: Ctx) {
  const base = '/open-apis/calendar/v4/calendars/:calendar_id/events';
  const notifyOf = (v: unknown) => v !== false && v !== 'false';
  router.on('GET', base, (req) => listEvents(ctx, req));
  router.on('POST', base, (req) => {
    const token = authorize(ctx, req, 'calendar_event.create');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'write');
    const body = req.json();
    const key = req.query.get('idempotency_key');
    const seen = key && ctx.store.idempotency.get(`${cal.calendar_id} ${key}`);
    const prev = seen ? ctx.store.event(cal.calendar_id, seen) : undefined;
    if (prev) return ok({ event: renderEvent(prev) });
    const { event_id: _ignored, ...fields } = body;
    const ev = createEvent(ctx, cal.calendar_id, fields, [], notifyOf(body.need_notification));
    if (key) ctx.store.idempotency.set(`${cal.calendar_id} ${key}`, ev.data.event_id);
    return ok({ event: renderEvent(ev) });
  });
  for (const sub of ['subscription', 'unsubscription'] as const) {
    router.on('POST', `${base}/${sub}`, (req) => {
      const token = authorize(ctx, req, `calendar_event.${sub}`, ['user']);
      const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'read');
      const byCal = ctx.store.eventSubs.get(token.app_id) ?? new Map<string, Set<string>>();
      ctx.store.eventSubs.set(token.app_id, byCal);
      const set = byCal.get(cal.calendar_id) ?? new Set<string>();
      byCal.set(cal.calendar_id, set);
      if (sub === 'subscription') set.add(token.open_id!);
      else set.delete(token.open_id!);
      return ok({});
    });
  }
  router.on('GET', `${base}/:event_id`, (req) => {
    const token = authorize(ctx, req, 'calendar_event.get');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'read');
    const ev = ctx.store.event(cal.calendar_id, req.params.event_id);
    if (!ev) return ferr(404, 193001, 'event not found');
    if (ev.deleted) return ferr(403, 193003, 'event is deleted');
    const max = Number(req.query.get('max_attendee_num') ?? 10);
    if (!Number.isInteger(max) || max < 1 || max > 100) return badParam('max_attendee_num must be 1-100');
    const withAttendees = req.query.get('need_attendee') === 'true';
    return ok({ event: renderEvent(ev, withAttendees ? { max } : undefined) });
  });
  router.on('PATCH', `${base}/:event_id`, (req) => {
    const token = authorize(ctx, req, 'calendar_event.patch');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'write');
    const body = req.json();
    const ev = patchEvent(ctx, cal.calendar_id, req.params.event_id, body, notifyOf(body.need_notification));
    return ok({ event: renderEvent(ev) });
  });
  router.on('DELETE', `${base}/:event_id`, (req) => {
    const token = authorize(ctx, req, 'calendar_event.delete');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'write');
    const ev = ctx.store.event(cal.calendar_id, req.params.event_id);
    if (ev?.deleted) return ferr(403, 193003, 'event is deleted');
    deleteEvent(ctx, cal.calendar_id, req.params.event_id, notifyOf(req.query.get('need_notification')));
    return ok({});
  });
  router.on('GET', `${base}/:event_id/instances`, (req) => instances(ctx, req));
  router.on('POST', `${base}/:event_id/reply`, (req) => {
    const token = authorize(ctx, req, 'calendar_event.reply');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'read');
    const ev = ctx.store.event(cal.calendar_id, req.params.event_id);
    if (ev?.deleted) return ferr(403, 193003, 'event is deleted');
    replyEvent(ctx, cal.calendar_id, req.params.event_id, token.open_id, req.json().rsvp_status);
    return ok({});
  });
  router.on('GET', `${base}/:event_id/attendees`, (req) => {
    const token = authorize(ctx, req, 'calendar_event_attendee.list');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'read');
    const ev = ctx.store.event(cal.calendar_id, req.params.event_id);
    if (!ev) return ferr(404, 193001, 'event not found');
    if (ev.deleted) return ferr(403, 193003, 'event is deleted');
    // Minimum 10 per the Chinese doc text (the stricter reading), default 20, maximum 100.
    const size = pageSize(req, 20, 10, 100);
    const offset = Number(req.query.get('page_token') ?? 0) || 0;
    const items = ev.attendees.slice(offset, offset + size);
    const has_more = ev.attendees.length > offset + size;
    return ok({ items, has_more, ...(has_more ? { page_token: String(offset + size) } : {}) });
  });
  router.on('POST', `${base}/:event_id/attendees`, (req) => {
    const token = authorize(ctx, req, 'calendar_event_attendee.create');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'write');
    const body = req.json();
    const ev = addAttendees(
      ctx,
      cal.calendar_id,
      req.params.event_id,
      body.attendees ?? [],
      notifyOf(body.need_notification),
    );
    return ok({ attendees: ev.attendees });
  });
  router.on('POST', `${base}/:event_id/attendees/batch_delete`, (req) => {
    const token = authorize(ctx, req, 'calendar_event_attendee.batch_delete');
    const { cal } = calendarFor(ctx, token, req.params.calendar_id, 'write');
    const body = req.json();
    removeAttendees(
      ctx,
      cal.calendar_id,
      req.params.event_id,
      body.attendee_ids ?? [],
      notifyOf(body.need_notification),
    );
    return ok({});
  });
}
