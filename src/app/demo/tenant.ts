// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own env syntax
/**
 * The sample tenant of `feisync demo` and the benchmarks: users, rooms, Feishu calendars full of events
 * (Feishu calendar v4 CalendarEvent JSON, as the API returns it), Google and Graph tenants with users,
 * primary calendars and rooms but no events, and a Feisync config object mapping all of them.
 * Seed shapes: EMULATORS.md "Seed shapes". Deterministic for a seed: an own PRNG, no clock, no Math.random.
 *
 * Times honour their zone: a 09:00 weekly meeting in New York stays at 09:00 local across DST, so every
 * exception's original_time is the exact RFC 5545 occurrence of its series.
 * All-day end dates are inclusive (a one-day event has end date = start date): the reference notes do
 * not say; the official field docs give the same example date for start and end, and the Feishu
 * emulator reads them that way.
 */

import { civilFromDays, daysFromCivil, daysInMonth, getZone } from '../../core/recurrence/local-time.ts';

import type {
  FeishuAttendee,
  FeishuEvent,
  FeishuSeed,
  FeishuTime,
  GoogleSeed,
  GraphSeed,
  Tenant,
  TenantExpected,
  TenantOptions,
  TenantRoom,
  TenantUser,
} from './tenant-types.ts';

export type * from './tenant-types.ts';

export const DEFAULT_NOW = 1796083200;
export const WINDOW_PAST_DAYS = 30;
export const WINDOW_FUTURE_DAYS = 365;
export const TIME_ZONES = [
  'Asia/Shanghai',
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'UTC',
] as const;

const DAY_S = 86_400;

// ---------------------------------------------------------------- PRNG

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** mulberry32 over a splitmix-style scrambled seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.s = (h ^ (h >>> 16)) | 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }
  /** One of `values`, with the matching `weights`. */
  weighted<T>(values: readonly T[], weights: readonly number[]): T {
    let r = this.next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < values.length; i++) {
      r -= weights[i];
      if (r < 0) return values[i];
    }
    return values[values.length - 1];
  }
  chars(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) {
      const x = (this.next() * 4294967296) >>> 0;
      s += HEX[x & 255] + HEX[(x >>> 8) & 255] + HEX[(x >>> 16) & 255] + HEX[x >>> 24];
    }
    return s.length === n ? s : s.slice(0, n);
  }
  alnum(n: number): string {
    return this.chars(n, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }
}

// ---------------------------------------------------------------- civil days and zones (from core)

const civil = (day: number) => {
  const [y, m, dom] = civilFromDays(day);
  return { y, m, dom };
};
/** 0 = Sunday. */
const weekday = (day: number) => (((day + 4) % 7) + 7) % 7;
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
const dateText = (day: number) => {
  const { y, m, dom } = civil(day);
  return `${y}-${pad(m)}-${pad(dom)}`;
};

/** Unix seconds of a local wall time (day number + minutes after midnight) in an IANA zone. */
export function localToUnix(day: number, minutes: number, zone: string): number {
  return getZone(zone).toUtc(day * DAY_S + minutes * 60);
}

// ---------------------------------------------------------------- recurrence (our own small rule set)

const BYDAY = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

interface Rule {
  freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  interval: number;
  byDay?: number[];
  byMonthDay?: number;
  nth?: { n: number; wd: number };
}

const monday = (day: number) => day - ((weekday(day) + 6) % 7);

const dayOf = (y: number, m: number, dom: number) => daysFromCivil(y, m, dom);

/** The day of month `m` on which a MONTHLY rule falls (its BYMONTHDAY, or its nth weekday). */
function monthlyDay(r: Rule, y: number, m: number): number {
  if (r.byMonthDay !== undefined) return dayOf(y, m, r.byMonthDay);
  const { n, wd } = r.nth!;
  if (n > 0) return dayOf(y, m, 1) + ((wd - weekday(dayOf(y, m, 1)) + 7) % 7) + 7 * (n - 1);
  const last = dayOf(y, m, daysInMonth(y, m));
  return last - ((weekday(last) - wd + 7) % 7);
}

/** Occurrence days of a rule whose first occurrence is d0, up to lastDay, at most `max` (RFC 5545). */
function occurrenceDays(r: Rule, d0: number, lastDay: number, max: number): number[] {
  const out: number[] = [];
  const { y, m, dom } = civil(d0);
  for (let k = 0; out.length < max; k++) {
    let d: number;
    if (r.freq === 'DAILY') d = d0 + k * r.interval;
    else if (r.freq === 'YEARLY') d = dayOf(y + k * r.interval, m, dom);
    else if (r.freq === 'MONTHLY') {
      const months = m - 1 + k * r.interval;
      d = monthlyDay(r, y + Math.floor(months / 12), (months % 12) + 1);
    } else {
      d = d0 + k;
      if (!r.byDay!.includes(weekday(d)) || ((monday(d) - monday(d0)) / 7) % r.interval !== 0) {
        if (d > lastDay) break;
        continue;
      }
    }
    if (d > lastDay) break;
    if (d >= d0) out.push(d);
  }
  return out;
}

function ruleText(r: Rule, end: string): string {
  let s = `FREQ=${r.freq};INTERVAL=${r.interval}`;
  if (r.byDay) s += `;BYDAY=${r.byDay.map((d) => BYDAY[d]).join(',')}`;
  if (r.nth) s += `;BYDAY=${r.nth.n}${BYDAY[r.nth.wd]}`;
  if (r.byMonthDay !== undefined) s += `;BYMONTHDAY=${r.byMonthDay}`;
  return end ? `${s};${end}` : s;
}

const basicUtc = (unix: number) =>
  new Date(unix * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

// ---------------------------------------------------------------- vocabulary

const words = (text: string) => text.split('|');
const FIRST = words(
  'Alice|Bo|Chen|Dana|Erik|Fang|Grace|Hiro|Ivy|Jun|Kai|Lena|Ming|Nora|Omar|Ping|Quinn|Rui|Sara|Tao|Uma|Victor|Wen|Xin|Yara|Zoe',
);
const LAST = words(
  'Wang|Li|Zhang|Liu|Chen|Smith|Mueller|Tanaka|Garcia|Huang|Brown|Zhao|Novak|Kim|Wu|Schmidt|Lopez|Sun|Taylor|Ma',
);
const ROOM_THEMES = words(
  'Huangpu|Pudong|Xuhui|Hudson|Spree|Harbour|Bund|West Lake|Summit|Atlas|Orion|Lotus',
);
const CITIES = words('Shanghai|Beijing|Shenzhen|New York|Berlin|Sydney|London|Singapore');
const COMPANIES = words('Acme|Globex|Initech|Umbrella Labs|Hooli|Stark Trading');
const EXTERNAL = words('acme.example.org|globex.example.net|partners.example.io');
const PLACES = words(
  'Starbucks Reserve;789 Nanjing West Rd, Shanghai|Client office;1 Example Plaza, New York|' +
    'Cafe Einstein;Unter den Linden 42, Berlin|Harbour Bistro;12 Circular Quay, Sydney|' +
    '北京国贸中心;北京市朝阳区建国门外大街1号',
).map((p) => p.split(';') as [string, string]);
const TIMED_TITLES = words(
  'Customer call: {company}|Interview: {first} {last}|Lunch with {other}|Architecture discussion|' +
    'Vendor demo: {company}|需求评审|产品发布会准备|Quarterly review|Coffee chat with {other}|Flight to {city}|' +
    'Dentist|Budget sync|Hiring committee|客户拜访：{company}|Incident post-mortem|Launch go/no-go|Board prep|' +
    'Workshop: OKRs 🎯',
);
const ALLDAY_TITLES = words(
  'Public holiday|Conference day|Out of office|Training day|年假|Moving day|Release day',
);
const MULTIDAY_TITLES = words(
  'Vacation|Business trip to {city}|Conference in {city}|出差：{city}|Team offsite',
);
const DESCRIPTIONS = words(
  '||Agenda:\n1. Status\n2. Risks\n3. Next steps|Notes: https://docs.example.cn/doc/{id}|' +
    '请提前阅读材料。\nPlease read the pre-read.|Dial-in details in the invite.|Bring your laptop.',
);

type SeriesKind = 'daily' | 'weekdays' | 'weekly' | 'monthlyDay' | 'monthlyNth' | 'yearly' | 'allDayWeekly';
const SERIES: Record<SeriesKind, { titles: string[]; minutes: number[]; allDay?: boolean }> = {
  daily: { titles: words('Daily standup|每日站会|Morning sync|Ops handover'), minutes: [15, 15, 30] },
  weekdays: { titles: words('Standup|Focus time|Lunch break'), minutes: [15, 60, 90] },
  weekly: {
    titles: words('1:1 with {other}|Team meeting|项目周会|Design review|Sprint planning|Yoga'),
    minutes: [30, 45, 60, 60, 90, 120],
  },
  monthlyDay: { titles: words('Monthly business review|月度复盘|Invoice run|All hands'), minutes: [60, 90] },
  monthlyNth: { titles: words('Release planning|Book club|Security review|Town hall'), minutes: [60, 120] },
  yearly: {
    titles: words('{other} birthday|Work anniversary|Company founding day'),
    minutes: [],
    allDay: true,
  },
  allDayWeekly: { titles: words('Work from home|On call|No-meeting day'), minutes: [], allDay: true },
};

// ---------------------------------------------------------------- generation

interface Ctx {
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

function single(ctx: Ctx, owner: TenantUser, kind: 'timed' | 'timedMulti' | 'allDay' | 'allDayMulti') {
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
function series(ctx: Ctx, owner: TenantUser, kind: SeriesKind, budget: number) {
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

// ---------------------------------------------------------------- people, rooms, credentials

function makeUsers(
  rng: Rng,
  count: number,
  o: Required<Pick<TenantOptions, 'feishuDomain' | 'googleDomain' | 'exchangeDomain'>>,
) {
  const users: TenantUser[] = [];
  const taken = new Set<string>();
  for (let i = 0; i < count; i++) {
    const first = FIRST[i % FIRST.length];
    const last = LAST[(i * 7 + Math.floor(i / FIRST.length)) % LAST.length];
    let local = `${first}.${last}`.toLowerCase();
    if (taken.has(local)) local = `${local}${i}`;
    taken.add(local);
    const slot = i % 10;
    users.push({
      name: `${first} ${last}`,
      feishuEmail: `${local}@${o.feishuDomain}`,
      googleEmail: `${local}@${o.googleDomain}`,
      exchangeEmail: `${local}@${o.exchangeDomain}`,
      openId: `ou_${rng.hex(32)}`,
      userId: rng.chars(8, 'abcdefghijklmnopqrstuvwxyz0123456789'),
      unionId: `on_${rng.hex(32)}`,
      calendarId: `feishu.cn_${rng.alnum(22)}@group.calendar.feishu.cn`,
      timeZone: slot < 5 ? TIME_ZONES[0] : slot < 7 ? TIME_ZONES[1] : TIME_ZONES[slot - 5],
      graphUserId: rng.uuid(),
      graphCalendarId: `AAMkAG${rng.alnum(46)}`,
    });
  }
  return users;
}

function makeRooms(rng: Rng, count: number, exchangeDomain: string): TenantRoom[] {
  const rooms: TenantRoom[] = [];
  for (let i = 0; i < count; i++) {
    const number = 100 * (1 + Math.floor(i / 6)) + (i % 6) + 1;
    rooms.push({
      feishuRoomId: `omm_${rng.hex(32)}`,
      name: `Room ${number} ${ROOM_THEMES[i % ROOM_THEMES.length]}`,
      googleEmail: `c_1888${rng.chars(22, '0123456789abcdefghijklmnopqrstuv')}@resource.calendar.google.com`,
      googleResourceId: String(rng.int(1e10, 1e11 - 1)),
      exchangeEmail: `room${number}@${exchangeDomain}`,
      capacity: rng.pick([4, 6, 8, 10, 12, 20]),
    });
  }
  return rooms;
}

function base64Bytes(rng: Rng, n: number): string {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = rng.int(0, 255);
  return Buffer.from(bytes).toString('base64');
}

// ---------------------------------------------------------------- the tenant

/** Generates the sample tenant; the same options always give a deep-equal result. */
export function generateTenant(options: TenantOptions = {}): Tenant {
  const o = {
    users: options.users ?? 20,
    events: options.events ?? 2000,
    seed: options.seed ?? 1,
    now: options.now ?? DEFAULT_NOW,
    feishuDomain: options.feishuDomain ?? 'example.cn',
    googleDomain: options.googleDomain ?? 'example.com',
    exchangeDomain: options.exchangeDomain ?? 'contoso.com',
  };
  if (!Number.isInteger(o.users) || o.users < 2) throw new Error('users: an integer >= 2');
  if (!Number.isInteger(o.events) || o.events < 0) throw new Error('events: an integer >= 0');
  const rng = new Rng(o.seed);
  // Credentials first, always drawn, so that overriding one never shifts the rest of the stream.
  const app = {
    app_id: `cli_${rng.hex(16)}`,
    app_secret: rng.alnum(32),
    encrypt_key: rng.alnum(32),
    verification_token: rng.alnum(32),
    event_mode: 'webhook' as const,
  };
  app.app_id = options.appId ?? app.app_id;
  app.app_secret = options.appSecret ?? app.app_secret;
  const graphTenant = {
    tenant_id: rng.uuid(),
    client_id: rng.uuid(),
    client_secret: `${rng.alnum(3)}8Q~${rng.alnum(34)}`,
  };
  const secretKey = base64Bytes(rng, 32);
  const users = makeUsers(rng, o.users, o);
  const rooms = makeRooms(rng, Math.min(40, Math.max(4, Math.round(o.users / 3))), o.exchangeDomain);

  const windowStart = o.now - WINDOW_PAST_DAYS * DAY_S;
  const windowEnd = o.now + WINDOW_FUTURE_DAYS * DAY_S;
  const ctx: Ctx = {
    rng,
    users,
    rooms,
    now: o.now,
    nowDay: Math.floor(o.now / DAY_S),
    // Two days of margin on each side: local days in far zones, moved occurrences, inclusive all-day ends.
    firstDay: Math.floor(windowStart / DAY_S) + 2,
    lastDay: Math.floor(windowEnd / DAY_S) - 3,
    out: [],
  };
  let turn = 0;
  while (ctx.out.length < o.events) {
    const owner = users[turn++ % users.length];
    const remaining = o.events - ctx.out.length;
    const kind = rng.weighted(
      [
        'timed',
        'timedMulti',
        'allDay',
        'allDayMulti',
        'daily',
        'weekdays',
        'weekly',
        'monthlyDay',
        'monthlyNth',
        'yearly',
        'allDayWeekly',
      ] as const,
      [55, 2, 7, 5, 3, 2, 10, 3, 3, 2, 2],
    );
    if (kind === 'timed' || kind === 'timedMulti' || kind === 'allDay' || kind === 'allDayMulti') {
      single(ctx, owner, kind);
    } else series(ctx, owner, kind, remaining);
  }

  const expected: TenantExpected = {
    events: ctx.out.length,
    singles: 0,
    series: 0,
    openEnded: 0,
    exceptions: 0,
    cancelledOccurrences: 0,
    allDay: 0,
    private: 0,
  };
  for (const e of ctx.out) {
    if (e.recurrence) {
      expected.series++;
      if (!/COUNT=|UNTIL=/.test(e.recurrence)) expected.openEnded++;
    } else if (e.is_exception) {
      expected.exceptions++;
      if (e.status === 'cancelled') expected.cancelledOccurrences++;
    } else expected.singles++;
    if (e.start_time.date !== undefined) expected.allDay++;
    if (e.visibility === 'private') expected.private++;
  }

  const feishu: FeishuSeed = {
    apps: [app],
    users: users.map((u) => ({
      open_id: u.openId,
      user_id: u.userId,
      union_id: u.unionId,
      email: u.feishuEmail,
      name: u.name,
    })),
    calendars: users.map((u) => ({
      calendar_id: u.calendarId,
      owner_open_id: u.openId,
      type: 'primary',
      summary: u.name,
      description: '',
      permissions: 'show_only_free_busy',
    })),
    events: ctx.out,
    rooms: rooms.map((r) => ({ room_id: r.feishuRoomId, name: r.name })),
    // The app may read (and, for the demo's changes, write) every primary calendar with its tenant token.
    acl: users.map((u) => ({ calendar_id: u.calendarId, app_id: app.app_id, role: 'writer' })),
  };
  const google: GoogleSeed = {
    users: users.map((u) => ({ email: u.googleEmail })),
    calendars: users.map((u) => ({ id: u.googleEmail, owner: u.googleEmail })),
    events: [],
    resources: rooms.map((r) => ({
      resourceId: r.googleResourceId,
      resourceEmail: r.googleEmail,
      resourceName: r.name,
      capacity: r.capacity,
    })),
  };
  const graph: GraphSeed = {
    tenants: [graphTenant],
    users: users.map((u) => ({
      id: u.graphUserId,
      userPrincipalName: u.exchangeEmail,
      mail: u.exchangeEmail,
    })),
    calendars: users.map((u) => ({
      userId: u.graphUserId,
      id: u.graphCalendarId,
      name: 'Calendar',
      isDefaultCalendar: true,
    })),
    events: [],
    rooms: rooms.map((r) => ({ emailAddress: r.exchangeEmail, displayName: r.name, capacity: r.capacity })),
  };
  const config = {
    feishu: {
      app_id: app.app_id,
      app_secret: app.app_secret,
      domain: '${FEISHU_URL}',
      events: {
        mode: 'webhook',
        encrypt_key: app.encrypt_key,
        verification_token: app.verification_token,
        poll_interval: '5m',
      },
    },
    google: {
      credentials_file: './google-service-account.json',
      root_url: '${GOOGLE_URL}/',
      token_url: '${GOOGLE_URL}/token',
      calendar: 'primary',
    },
    exchange: {
      tenant_id: graphTenant.tenant_id,
      client_id: graphTenant.client_id,
      client_secret: graphTenant.client_secret,
      base_url: '${GRAPH_URL}',
      authority_url: '${GRAPH_URL}',
      calendar: 'primary',
    },
    users: users.map((u) => ({
      feishu: u.feishuEmail,
      google: u.googleEmail,
      exchange: u.exchangeEmail,
      calendars: 'primary',
    })),
    rooms: rooms.map((r) => ({
      feishu: r.feishuRoomId,
      name: r.name,
      google: r.googleEmail,
      exchange: r.exchangeEmail,
    })),
    sync: {
      direction: { google: 'one-way', exchange: 'one-way' },
      window: { past_days: WINDOW_PAST_DAYS, future_days: WINDOW_FUTURE_DAYS },
      fields: ['summary', 'description', 'location', 'attendees', 'reminders', 'visibility', 'conference'],
      private_events: 'busy-only',
      invitations: 'none',
      conflicts: 'feishu-wins',
      max_deletes_per_run: 200,
    },
    server: {
      host: '127.0.0.1',
      port: '${FEISYNC_PORT:-8080}',
      public_url: '${FEISYNC_PUBLIC_URL:-http://127.0.0.1:8080}',
    },
    database: { url: '', data_dir: './.feisync-demo' },
    secret_key: secretKey,
  };
  return {
    users,
    rooms,
    seeds: { feishu, google, graph },
    config,
    expected,
    now: o.now,
    window: { start: windowStart, end: windowEnd },
  };
}
