/** Calendar list/get/primary/subscription and the opaque paging tokens (the directory: contact.ts). */
import type { EmRequest, Router } from '../../emulator/index.ts';
import { authorize, badParam, type Ctx, ferr, ok } from './auth.ts';
import type { Calendar, Token } from './store.ts';

/** Calendar-list sync tokens live 90 days (documented). For event lists the lifetime is unconfirmed;
 * we take the stricter reading of 7 days. Page tokens expire with the same clock. */
export const CALENDAR_TOKEN_LIFE_S = 90 * 24 * 3600;
export const EVENT_TOKEN_LIFE_S = 7 * 24 * 3600;

export interface Cursor {
  /** kind: calendar-list or event-list; mode: full listing or changes since `s`. */
  k: 'cal' | 'ev';
  m: 'full' | 'sync';
  /** calendar id or owner key */
  c: string;
  /** changes after this seq (sync) */
  s: number;
  /** high-water seq of this listing */
  h: number;
  /** last item returned (full: id, sync: seq) */
  after?: string | number;
  /** anchor_time */
  a?: number;
  /** issued at, emulator clock seconds */
  t: number;
}

export function encodeCursor(prefix: string, c: Cursor): string {
  return `${prefix}_${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
}

export function decodeCursor(
  ctx: Ctx,
  text: string,
  kind: Cursor['k'],
  scope: string,
  lifeS: number,
): Cursor {
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(text.slice(text.lastIndexOf('_') + 1), 'base64url').toString('utf8'));
  } catch {
    return badParam('page_token or sync_token');
  }
  if (c?.k !== kind || c.c !== scope) return badParam('page_token or sync_token');
  if (ctx.clock.nowSeconds() - c.t > lifeS) return ferr(400, 190008, 'page_token or sync_token expired');
  return c;
}

export function pageSize(req: EmRequest, def: number, min: number, max: number): number {
  const raw = req.query.get('page_size');
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) return badParam(`page_size must be ${min}-${max}`);
  return n;
}

export function calendarFor(ctx: Ctx, token: Token, calendar_id: string, need: 'read' | 'write') {
  const cal = ctx.store.calendars.get(calendar_id);
  if (!cal) return ferr(404, 191000, 'calendar not found');
  const role = ctx.store.role(cal, token);
  if (!role) return ferr(403, 191002, 'no calendar access_role');
  if (cal.is_deleted) return ferr(403, 191003, 'calendar is deleted');
  if (need === 'write' && role === 'reader') return ferr(403, 193002, 'no permission to operate event');
  return { cal, role };
}

export function renderCalendar(cal: Calendar, role: string) {
  const { seq: _s, owner_open_id: _o, owner_app_id: _a, ...rest } = cal;
  return { description: '', summary_alias: '', is_third_party: false, is_deleted: false, ...rest, role };
}

/** The app's own calendar (what `primary` answers to a tenant token), made on first use. */
function appCalendar(ctx: Ctx, app_id: string): Calendar {
  const existing = [...ctx.store.calendars.values()].find((c) => c.owner_app_id === app_id);
  return (
    existing ??
    ctx.store.putCalendar({
      calendar_id: `feishu.cn_app_${app_id}@group.calendar.feishu.cn`,
      owner_app_id: app_id,
      type: 'primary',
      summary: app_id,
    })
  );
}

function visibleCalendars(ctx: Ctx, token: Token): Calendar[] {
  if (token.kind === 'tenant') appCalendar(ctx, token.app_id);
  return [...ctx.store.calendars.values()].filter((c) => ctx.store.role(c, token));
}

export function calendarRoutes(router: Router, ctx: Ctx) {
  const base = '/open-apis/calendar/v4/calendars';
  router.on('GET', base, (req) => {
    const token = authorize(ctx, req, 'calendar.list');
    const size = pageSize(req, 500, 50, 1000);
    const scope = token.kind === 'user' ? `user:${token.open_id}` : `app:${token.app_id}`;
    const pt = req.query.get('page_token');
    const st = req.query.get('sync_token');
    if (pt && st) return ferr(400, 190009, 'sync token cannot be used with other request restrictions');
    let cur: Cursor;
    if (pt) cur = decodeCursor(ctx, pt, 'cal', scope, CALENDAR_TOKEN_LIFE_S);
    else if (st) {
      const s = decodeCursor(ctx, st, 'cal', scope, CALENDAR_TOKEN_LIFE_S);
      cur = { k: 'cal', m: 'sync', c: scope, s: s.h, h: ctx.store.seq, t: ctx.clock.nowSeconds() };
    } else cur = { k: 'cal', m: 'full', c: scope, s: 0, h: ctx.store.seq, t: ctx.clock.nowSeconds() };
    let all = visibleCalendars(ctx, token);
    if (cur.m === 'full') all = all.filter((c) => !c.is_deleted);
    else all = all.filter((c) => c.seq > cur.s && c.seq <= cur.h);
    all.sort((a, b) => a.seq - b.seq);
    const rest = all.filter((c) => cur.after === undefined || c.seq > Number(cur.after));
    const page = rest.slice(0, size);
    const has_more = rest.length > size;
    const data: Record<string, unknown> = {
      has_more,
      calendar_list: page.map((c) => renderCalendar(c, ctx.store.role(c, token)!)),
    };
    if (has_more)
      data.page_token = encodeCursor('ListCalendarsPageToken', { ...cur, after: page.at(-1)!.seq });
    else
      data.sync_token = encodeCursor('ListCalendarsSyncToken', {
        ...cur,
        m: 'sync',
        h: cur.h,
        t: ctx.clock.nowSeconds(),
      });
    return ok(data);
  });
  router.on('POST', `${base}/primary`, (req) => {
    const token = authorize(ctx, req, 'calendar.primary');
    const cal =
      token.kind === 'tenant'
        ? appCalendar(ctx, token.app_id)
        : [...ctx.store.calendars.values()].find(
            (c) => c.owner_open_id === token.open_id && c.type === 'primary' && !c.is_deleted,
          );
    if (!cal) return ferr(404, 191000, 'calendar not found');
    return ok({ calendars: [{ calendar: renderCalendar(cal, 'owner'), user_id: token.open_id ?? '' }] });
  });
  for (const sub of ['subscription', 'unsubscription'] as const) {
    router.on('POST', `${base}/${sub}`, (req) => {
      const token = authorize(ctx, req, `calendar.${sub}`, ['user']);
      const set = ctx.store.calendarSubs.get(token.app_id) ?? new Set();
      ctx.store.calendarSubs.set(token.app_id, set);
      if (sub === 'subscription') set.add(token.open_id!);
      else set.delete(token.open_id!);
      return ok({});
    });
  }
  router.on('GET', `${base}/:calendar_id`, (req) => {
    const token = authorize(ctx, req, 'calendar.get');
    const { cal, role } = calendarFor(ctx, token, req.params.calendar_id, 'read');
    return ok(renderCalendar(cal, role));
  });
}
