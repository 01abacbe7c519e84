/**
 * The events of the demo tenant: singles, all-day and multi-day events, and series with moved, edited
 * and cancelled occurrences, as Feishu's API returns them (calendar v4 CalendarEvent JSON).
 */
import { daysInMonth } from '../../core/recurrence/local-time.ts';
import type { Rng } from './rng.ts';
import {
  basicUtc,
  civil,
  DAY_S,
  dateText,
  localToUnix,
  occurrenceDays,
  type Rule,
  ruleText,
  weekday,
} from './rules.ts';
import type { FeishuAttendee, FeishuEvent, FeishuTime, TenantRoom, TenantUser } from './tenant-types.ts';
import {
  ALLDAY_TITLES,
  CITIES,
  COMPANIES,
  DESCRIPTIONS,
  EXTERNAL,
  FIRST,
  LAST,
  MULTIDAY_TITLES,
  PLACES,
  SERIES,
  type SeriesKind,
  TIME_ZONES,
  TIMED_TITLES,
} from './vocabulary.ts';

export interface Ctx {
  rng: Rng;
  users: TenantUser[];
  rooms: TenantRoom[];
  now: number;
  nowDay: number;
  firstDay: number;
  lastDay: number;
  out: FeishuEvent[];
}

type Content = Pick<
  FeishuEvent,
  | 'summary'
  | 'description'
  | 'vchat'
  | 'visibility'
  | 'attendee_ability'
  | 'free_busy_status'
  | 'location'
  | 'reminders'
  | 'status'
  | 'attendees'
>;

const timedAt = (unix: number, zone: string): FeishuTime => ({ timestamp: String(unix), timezone: zone });
const dateAt = (day: number): FeishuTime => ({ date: dateText(day), timezone: 'UTC' });
const isWorkday = (day: number) => weekday(day) >= 1 && weekday(day) <= 5;

function fill(ctx: Ctx, owner: TenantUser, template: string): string {
  const { rng } = ctx;
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    if (key === 'other') {
      let u = rng.pick(ctx.users);
      while (u === owner) u = rng.pick(ctx.users);
      return u.name.split(' ')[0];
    }
    if (key === 'city') return rng.pick(CITIES);
    if (key === 'company') return rng.pick(COMPANIES);
    if (key === 'first') return rng.pick(FIRST);
    if (key === 'last') return rng.pick(LAST);
    if (key === 'id') return rng.alnum(10);
    return owner.name;
  });
}

function attendeesFor(
  ctx: Ctx,
  owner: TenantUser,
  timed: boolean,
): { list: FeishuAttendee[]; room?: TenantRoom } {
  const { rng } = ctx;
  const rsvp = () => rng.weighted(['accept', 'needs_action', 'tentative', 'decline'] as const, [5, 3, 1, 1]);
  const person = (u: TenantUser, organizer: boolean): FeishuAttendee => ({
    type: 'user',
    attendee_id: `user_${rng.hex(16)}`,
    rsvp_status: organizer ? 'accept' : rsvp(),
    is_optional: !organizer && rng.chance(0.15),
    is_organizer: organizer,
    is_external: false,
    display_name: u.name,
    user_id: u.openId,
  });
  const list = [person(owner, true)];
  const others = new Set<TenantUser>();
  const want = Math.min(rng.int(1, 4), ctx.users.length - 1);
  while (others.size < want) {
    const u = rng.pick(ctx.users);
    if (u !== owner) others.add(u);
  }
  for (const u of others) list.push(person(u, false));
  if (rng.chance(0.25)) {
    const email = `${rng.pick(FIRST).toLowerCase()}@${rng.pick(EXTERNAL)}`;
    list.push({
      type: 'third_party',
      attendee_id: `third_party_${rng.hex(16)}`,
      rsvp_status: 'needs_action',
      is_optional: false,
      is_organizer: false,
      is_external: true,
      display_name: email,
      third_party_email: email,
    });
  }
  if (!timed || !rng.chance(0.45)) return { list };
  const room = rng.pick(ctx.rooms);
  list.push({
    type: 'resource',
    attendee_id: `resource_${rng.hex(16)}`,
    rsvp_status: 'accept',
    is_optional: false,
    is_organizer: false,
    is_external: false,
    display_name: room.name,
    room_id: room.feishuRoomId,
  });
  return { list, room };
}

function contentFor(ctx: Ctx, owner: TenantUser, title: string, timed: boolean, single: boolean): Content {
  const { rng } = ctx;
  const meeting = rng.chance(timed ? 0.5 : 0.08);
  const { list, room } = meeting ? attendeesFor(ctx, owner, timed) : { list: undefined, room: undefined };
  const visibility = rng.weighted(['default', 'private', 'public'] as const, [86, 9, 5]);
  const c: Content = {
    summary: fill(ctx, owner, title),
    description: fill(ctx, owner, rng.pick(DESCRIPTIONS)),
    visibility,
    attendee_ability: list
      ? rng.pick(['can_see_others', 'can_invite_others', 'can_modify_event'] as const)
      : 'none',
    free_busy_status: timed ? (rng.chance(0.92) ? 'busy' : 'free') : rng.chance(0.7) ? 'free' : 'busy',
    reminders: timed
      ? rng.pick([
          [],
          [{ minutes: 5 }],
          [{ minutes: 10 }],
          [{ minutes: 15 }],
          [{ minutes: 15 }, { minutes: 60 }],
        ])
      : rng.pick([[], [{ minutes: 900 }], [{ minutes: 1440 }]]),
    status: single && rng.chance(0.05) ? 'tentative' : 'confirmed',
  };
  if (room) c.location = { name: room.name, address: 'HQ, 100 Example Road' };
  else if (rng.chance(0.15)) {
    const [name, address] = rng.pick(PLACES);
    c.location = { name, address };
  }
  if (rng.chance(list ? 0.45 : 0.03)) {
    c.vchat = rng.chance(0.7)
      ? {
          vc_type: 'vc',
          icon_type: 'vc',
          description: '',
          meeting_url: `https://vc.feishu.cn/j/${rng.int(1e8, 1e9 - 1)}`,
        }
      : {
          vc_type: 'third_party',
          icon_type: 'default',
          description: 'Zoom',
          meeting_url: `https://zoom.us/j/${rng.int(1e9, 1e10 - 1)}`,
        };
  }
  if (list) c.attendees = list;
  return c;
}

function push(
  ctx: Ctx,
  owner: TenantUser,
  uid: string,
  originalTime: number,
  times: { start: FeishuTime; end: FeishuTime },
  c: Content,
  meta: { createTime: number; recurrence?: string },
): FeishuEvent {
  const startUnix = times.start.timestamp ?? String(Date.parse(`${times.start.date}T00:00:00Z`) / 1000);
  const { attendees, ...rest } = c;
  const ev: FeishuEvent = {
    calendar_id: owner.calendarId,
    event_id: `${uid}_${originalTime}`,
    organizer_calendar_id: owner.calendarId,
    ...rest,
    start_time: times.start,
    end_time: times.end,
    color: -1,
    is_exception: originalTime !== 0,
    app_link:
      `https://applink.feishu.cn/client/calendar/event/detail?calendarId=${encodeURIComponent(owner.calendarId)}` +
      `&key=${uid}&originalTime=${originalTime}&startTime=${startUnix}`,
    create_time: String(meta.createTime),
    event_organizer: { user_id: owner.openId, display_name: owner.name },
  };
  if (meta.recurrence) ev.recurrence = meta.recurrence;
  if (originalTime !== 0) ev.recurring_event_id = `${uid}_0`;
  if (attendees) ev.attendees = attendees;
  ctx.out.push(ev);
  return ev;
}

/** A zone for one of the user's events: mostly home, sometimes travelling. */
const zoneFor = (ctx: Ctx, owner: TenantUser) =>
  ctx.rng.chance(0.8) ? owner.timeZone : ctx.rng.pick(TIME_ZONES);

/** A day in [lo, hi], skewed towards the weeks around now; `workday` moves weekends to Monday. */
function pickDay(ctx: Ctx, lo: number, hi: number, workday: boolean): number {
  const { rng } = ctx;
  const near = Math.min(hi, Math.max(lo, ctx.nowDay + 60));
  let day = rng.chance(0.5) ? rng.int(lo, near) : rng.int(lo, hi);
  if (workday) while (!isWorkday(day)) day++;
  return day;
}

const createdBefore = (ctx: Ctx, unix: number) =>
  Math.min(unix, ctx.now) - ctx.rng.int(1, 90) * DAY_S - ctx.rng.int(0, DAY_S);

export function single(ctx: Ctx, owner: TenantUser, kind: 'timed' | 'timedMulti' | 'allDay' | 'allDayMulti') {
  const { rng } = ctx;
  const uid = rng.uuid();
  if (kind === 'allDay' || kind === 'allDayMulti') {
    const length = kind === 'allDay' ? 1 : rng.int(2, 5);
    const day = pickDay(ctx, ctx.firstDay, ctx.lastDay - 5, false);
    const title = rng.pick(kind === 'allDay' ? ALLDAY_TITLES : MULTIDAY_TITLES);
    const c = contentFor(ctx, owner, title, false, true);
    const times = { start: dateAt(day), end: dateAt(day + length - 1) };
    push(ctx, owner, uid, 0, times, c, { createTime: createdBefore(ctx, day * DAY_S) });
    return;
  }
  const zone = zoneFor(ctx, owner);
  const day = pickDay(ctx, ctx.firstDay, ctx.lastDay - 3, true);
  let start: number;
  let end: number;
  let title: string;
  if (kind === 'timedMulti') {
    start = localToUnix(day, 9 * 60, zone);
    end = localToUnix(day + rng.int(1, 2), 17 * 60, zone);
    title = rng.pick(MULTIDAY_TITLES);
  } else {
    const minutes = rng.pick([15, 30, 30, 45, 60, 60, 60, 90, 120]);
    start = localToUnix(day, rng.int(14, Math.floor((19 * 60 - minutes) / 30)) * 30, zone);
    end = start + minutes * 60;
    title = rng.pick(TIMED_TITLES);
  }
  const c = contentFor(ctx, owner, title, true, true);
  push(ctx, owner, uid, 0, { start: timedAt(start, zone), end: timedAt(end, zone) }, c, {
    createTime: createdBefore(ctx, start),
  });
}

/** A series master plus up to `budget - 1` exceptions. */
export function series(ctx: Ctx, owner: TenantUser, kind: SeriesKind, budget: number) {
  const { rng, firstDay, lastDay } = ctx;
  const spec = SERIES[kind];
  const allDay = spec.allDay === true;
  let openEnded = false;
  let target: number;
  let d0: number;
  let rule: Rule;
  if (kind === 'daily' || kind === 'weekdays') {
    d0 = pickDay(ctx, firstDay, lastDay - 60, true);
    rule =
      kind === 'daily'
        ? { freq: 'DAILY', interval: rng.pick([1, 1, 1, 2]) }
        : { freq: 'WEEKLY', interval: 1, byDay: [1, 2, 3, 4, 5] };
    target = rng.int(5, 30);
  } else if (kind === 'weekly' || kind === 'allDayWeekly') {
    openEnded = rng.chance(0.12);
    d0 = pickDay(ctx, firstDay, openEnded ? ctx.nowDay + 30 : lastDay - 120, true);
    // Weekdays only (d0 is one): with INTERVAL=2 the week start (WKST) then cannot change the result.
    const days = new Set([weekday(d0)]);
    if (kind === 'weekly' && rng.chance(0.35)) days.add(rng.int(1, 5));
    rule = { freq: 'WEEKLY', interval: rng.pick([1, 1, 2]), byDay: [...days].sort((a, b) => a - b) };
    target = rng.int(4, 30);
  } else if (kind === 'monthlyDay' || kind === 'monthlyNth') {
    openEnded = rng.chance(0.15);
    d0 = pickDay(ctx, firstDay, openEnded ? ctx.nowDay + 30 : lastDay - 200, true);
    const { y, m, dom } = civil(d0);
    if (kind === 'monthlyDay') {
      if (dom > 28) d0 += daysInMonth(y, m) - dom + 1 + rng.int(0, 20);
      rule = { freq: 'MONTHLY', interval: 1, byMonthDay: civil(d0).dom };
    } else {
      const n = Math.ceil(dom / 7);
      const last = dom + 7 > daysInMonth(y, m);
      rule = {
        freq: 'MONTHLY',
        interval: 1,
        nth: { n: n === 5 || (last && rng.chance(0.5)) ? -1 : n, wd: weekday(d0) },
      };
    }
    target = rng.int(3, 12);
  } else {
    openEnded = rng.chance(0.6);
    d0 = openEnded ? pickDay(ctx, firstDay, lastDay - 7, false) : rng.int(firstDay, lastDay - 367);
    const { m, dom } = civil(d0);
    if (m === 2 && dom === 29) d0++;
    rule = { freq: 'YEARLY', interval: 1 };
    target = 2;
  }
  const occurrences = occurrenceDays(rule, d0, lastDay, openEnded ? Number.POSITIVE_INFINITY : target);
  const zone = allDay ? 'UTC' : zoneFor(ctx, owner);
  const minutes = allDay ? 0 : rng.pick(spec.minutes);
  const startMin = allDay ? 0 : rng.int(16, Math.floor((19 * 60 - minutes) / 30)) * 30;
  const at = (day: number, shift = 0) => {
    if (allDay) return { start: dateAt(day + shift / 1440), end: dateAt(day + shift / 1440) };
    const start = localToUnix(day, startMin + shift, zone);
    return { start: timedAt(start, zone), end: timedAt(start + minutes * 60, zone) };
  };
  const original = (day: number) => (allDay ? day * DAY_S : localToUnix(day, startMin, zone));

  let end = '';
  if (!openEnded) {
    const lastOcc = occurrences[occurrences.length - 1];
    if (rng.chance(0.5)) end = `COUNT=${occurrences.length}`;
    else if (allDay) end = `UNTIL=${dateText(lastOcc).replace(/-/g, '')}`;
    else end = `UNTIL=${basicUtc(localToUnix(lastOcc, 23 * 60 + 59, zone) + 59)}`;
  }
  const uid = rng.uuid();
  const c = contentFor(ctx, owner, rng.pick(spec.titles), !allDay, false);
  const createTime = createdBefore(ctx, original(d0));
  push(ctx, owner, uid, 0, at(d0), c, { createTime, recurrence: ruleText(rule, end) });

  // Exceptions: distinct later occurrences, moved, edited or cancelled.
  const want = rng.weighted([0, 1, 2, 3, 4] as const, [40, 30, 15, 9, 6]);
  const candidates = occurrences.slice(1);
  const k = Math.min(want, budget - 1, candidates.length);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(0, candidates.length - 1 - i);
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  const picked = candidates.slice(0, k).sort((a, b) => a - b);
  for (const day of picked) {
    const how = rng.weighted(['moved', 'edited', 'cancelled'] as const, [35, 35, 30]);
    // Own copies of every nested object, so that callers may edit one event without touching another.
    const ex: Content = { ...c, reminders: c.reminders.map((r) => ({ ...r })) };
    if (c.location) ex.location = { ...c.location };
    if (c.vchat) ex.vchat = { ...c.vchat };
    if (c.attendees) ex.attendees = c.attendees.map((a) => ({ ...a }));
    let times = at(day);
    if (how === 'moved') {
      times = at(day, allDay ? 1440 : rng.pick([60, 120, -60, 1440]));
      if (rng.chance(0.3)) ex.location = { name: 'Moved: see chat', address: '' };
    } else if (how === 'edited') {
      ex.summary = `${c.summary} ${rng.pick(['(agenda changed)', '(extended)', '— 议程调整', '(guest speaker)'])}`;
      ex.description = `${c.description}\nThis occurrence was edited.`.trim();
    } else ex.status = 'cancelled';
    const exCreate = Math.min(ctx.now, createTime + rng.int(3600, 30 * DAY_S));
    push(ctx, owner, uid, original(day), times, ex, { createTime: exCreate });
  }
}
