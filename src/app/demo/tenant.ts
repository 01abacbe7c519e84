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

import { type Ctx, series, single } from './events.ts';
import { Rng } from './rng.ts';
import { DAY_S } from './rules.ts';
import type {
  FeishuSeed,
  GoogleSeed,
  GraphSeed,
  Tenant,
  TenantExpected,
  TenantOptions,
  TenantRoom,
  TenantUser,
} from './tenant-types.ts';
import { FIRST, LAST, ROOM_THEMES, TIME_ZONES } from './vocabulary.ts';

export { Rng } from './rng.ts';
export { localToUnix } from './rules.ts';
export type * from './tenant-types.ts';
export { TIME_ZONES } from './vocabulary.ts';

export const DEFAULT_NOW = 1796083200;
export const WINDOW_PAST_DAYS = 30;
export const WINDOW_FUTURE_DAYS = 365;

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
