// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own env syntax
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFeishuEmulator } from '../../../connectors/feishu/emulator/index.ts';
import { startGoogleEmulator } from '../../../connectors/google/emulator/index.ts';
import { startGraphEmulator } from '../../../connectors/graph/emulator/index.ts';
import { parseConfig } from '../../config/index.ts';
import { expandRecurrence } from '../../core/recurrence/index.ts';
import { type FeishuEvent, generateTenant, localToUnix, type Tenant, TIME_ZONES } from './tenant.ts';

const DAY = 86_400;
const uidOf = (eventId: string) => eventId.slice(0, eventId.lastIndexOf('_'));
const originalOf = (eventId: string) => Number(eventId.slice(eventId.lastIndexOf('_') + 1));
const isAllDay = (e: FeishuEvent) => e.start_time.date !== undefined;
const dateSeconds = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;
/** [start, end) in Unix seconds; an all-day end date is inclusive, so its instant is the next midnight. */
const span = (e: FeishuEvent): [number, number] =>
  isAllDay(e)
    ? [dateSeconds(e.start_time.date!), dateSeconds(e.end_time.date!) + DAY]
    : [Number(e.start_time.timestamp), Number(e.end_time.timestamp)];

const localFormats = new Map<string, Intl.DateTimeFormat>();
/** `YYYY-MM-DDTHH:mm:ss` wall time of an instant in a zone (independent of the generator's own code). */
function wallTime(unix: number, zone: string): string {
  let f = localFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    localFormats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(unix * 1000).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}
const dtstartOf = (e: FeishuEvent) =>
  isAllDay(e) ? e.start_time.date! : wallTime(Number(e.start_time.timestamp), e.start_time.timezone);
const originalForm = (master: FeishuEvent, originalTime: number) =>
  isAllDay(master)
    ? new Date(originalTime * 1000).toISOString().slice(0, 10)
    : wallTime(originalTime, master.start_time.timezone);

const URLS = {
  FEISHU_URL: 'http://127.0.0.1:41001',
  GOOGLE_URL: 'http://127.0.0.1:41002',
  GRAPH_URL: 'http://127.0.0.1:41003',
};

describe('generateTenant', () => {
  let t: Tenant;
  let events: FeishuEvent[];
  let masters: Map<string, FeishuEvent>;
  beforeAll(() => {
    t = generateTenant();
    events = t.seeds.feishu.events;
    masters = new Map(events.filter((e) => e.recurrence).map((e) => [`${e.calendar_id} ${e.event_id}`, e]));
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateTenant({ seed: 7, events: 400 });
    expect(generateTenant({ seed: 7, events: 400 })).toEqual(a);
    const b = generateTenant({ seed: 8, events: 400 });
    expect(b.users[0].openId).not.toBe(a.users[0].openId);
    expect(b.seeds.feishu.events.map((e) => e.summary)).not.toEqual(
      a.seeds.feishu.events.map((e) => e.summary),
    );
    // Users do not depend on the number of events.
    expect(generateTenant({ seed: 7, events: 10 }).users).toEqual(a.users);
  });

  it('has 20 users, rooms, and exactly the requested number of events, counted in expected', () => {
    expect(t.users).toHaveLength(20);
    expect(t.rooms.length).toBeGreaterThanOrEqual(4);
    expect(events).toHaveLength(2000);
    const exceptions = events.filter((e) => e.is_exception);
    const series = events.filter((e) => e.recurrence);
    expect(t.expected).toEqual({
      events: 2000,
      singles: 2000 - exceptions.length - series.length,
      series: series.length,
      openEnded: series.filter((e) => !/COUNT=|UNTIL=/.test(e.recurrence!)).length,
      exceptions: exceptions.length,
      cancelledOccurrences: exceptions.filter((e) => e.status === 'cancelled').length,
      allDay: events.filter(isAllDay).length,
      private: events.filter((e) => e.visibility === 'private').length,
    });
    // Spread over every user's primary calendar.
    const perCalendar = new Map<string, number>();
    for (const e of events) perCalendar.set(e.calendar_id, (perCalendar.get(e.calendar_id) ?? 0) + 1);
    expect([...perCalendar.keys()].sort()).toEqual(t.users.map((u) => u.calendarId).sort());
    for (const n of perCalendar.values()) expect(n).toBeGreaterThan(50);
    expect(generateTenant({ events: 37, users: 3 }).seeds.feishu.events).toHaveLength(37);
    expect(generateTenant({ events: 0 }).seeds.feishu.events).toHaveLength(0);
  });

  it('contains every kind of event several times', () => {
    const singles = events.filter((e) => !e.recurrence && !e.is_exception);
    const rules = [...masters.values()].map((e) => e.recurrence!);
    const exceptions = events.filter((e) => e.is_exception);
    const rule = (re: RegExp) => rules.filter((r) => re.test(r)).length;
    const kinds: Record<string, number> = {
      timedSingle: singles.filter((e) => !isAllDay(e) && span(e)[1] - span(e)[0] <= 4 * 3600).length,
      timedMultiDay: singles.filter((e) => !isAllDay(e) && span(e)[1] - span(e)[0] > DAY).length,
      allDaySingle: singles.filter((e) => isAllDay(e) && e.start_time.date === e.end_time.date).length,
      allDayMultiDay: singles.filter((e) => isAllDay(e) && e.end_time.date! > e.start_time.date!).length,
      allDaySeries: [...masters.values()].filter(isAllDay).length,
      daily: rule(/FREQ=DAILY/),
      weeklyByDay: rule(/FREQ=WEEKLY;.*BYDAY=[A-Z,]+/),
      biweekly: rule(/FREQ=WEEKLY;INTERVAL=2/),
      monthlyByMonthDay: rule(/FREQ=MONTHLY;.*BYMONTHDAY=\d+/),
      monthlyNthWeekday: rule(/FREQ=MONTHLY;.*BYDAY=[1-4][A-Z]{2}/),
      monthlyLastWeekday: rule(/FREQ=MONTHLY;.*BYDAY=-1[A-Z]{2}/),
      yearly: rule(/FREQ=YEARLY/),
      count: rule(/COUNT=\d+/),
      until: rule(/UNTIL=\d{8}(T\d{6}Z)?/),
      openEnded: t.expected.openEnded,
      moved: exceptions.filter((e) => e.status !== 'cancelled' && span(e)[0] !== originalOf(e.event_id))
        .length,
      edited: exceptions.filter(
        (e) => e.summary !== masters.get(`${e.calendar_id} ${e.recurring_event_id}`)!.summary,
      ).length,
      cancelled: t.expected.cancelledOccurrences,
      private: t.expected.private,
      tentative: events.filter((e) => e.status === 'tentative').length,
      withUsers: events.filter((e) => e.attendees?.some((a) => a.type === 'user' && !a.is_organizer)).length,
      withExternal: events.filter((e) => e.attendees?.some((a) => a.type === 'third_party')).length,
      withRooms: events.filter((e) => e.attendees?.some((a) => a.type === 'resource')).length,
      vcFeishu: events.filter((e) => e.vchat?.vc_type === 'vc').length,
      vcThirdParty: events.filter((e) => e.vchat?.vc_type === 'third_party').length,
      reminders: events.filter((e) => e.reminders.length > 0).length,
      location: events.filter((e) => e.location).length,
    };
    for (const zone of TIME_ZONES) {
      kinds[`zone ${zone}`] = events.filter((e) => !isAllDay(e) && e.start_time.timezone === zone).length;
    }
    for (const [kind, n] of Object.entries(kinds)) expect.soft(n, kind).toBeGreaterThanOrEqual(3);
  });

  it('writes event ids as {uid}_{original_time} and ties every exception to a series in its calendar', () => {
    const seen = new Set<string>();
    for (const e of events) {
      expect(e.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_\d+$/);
      expect(seen.has(`${e.calendar_id} ${e.event_id}`)).toBe(false);
      seen.add(`${e.calendar_id} ${e.event_id}`);
      expect(e.organizer_calendar_id).toBe(e.calendar_id);
      if (!e.is_exception) {
        expect(originalOf(e.event_id)).toBe(0);
        expect(e.recurring_event_id).toBeUndefined();
        continue;
      }
      expect(e.recurrence).toBeUndefined();
      expect(e.recurring_event_id).toBe(`${uidOf(e.event_id)}_0`);
      const master = masters.get(`${e.calendar_id} ${e.recurring_event_id}`);
      expect(master, e.event_id).toBeDefined();
      expect(originalOf(e.event_id)).toBeGreaterThan(span(master!)[0]);
      // Cancelled occurrences keep the original times, as Feishu returns them.
      if (e.status === 'cancelled') expect(span(e)[0]).toBe(originalOf(e.event_id));
    }
  });

  it('keeps every event, and every bounded series, inside the sync window', () => {
    expect(t.window).toEqual({ start: t.now - 30 * DAY, end: t.now + 365 * DAY });
    for (const e of events) {
      const [start, end] = span(e);
      expect(start, e.event_id).toBeGreaterThanOrEqual(t.window.start);
      expect(end, e.event_id).toBeLessThanOrEqual(t.window.end);
      expect(end).toBeGreaterThan(start);
      expect(Number(e.create_time)).toBeLessThanOrEqual(t.now);
      // Plain JSON: no undefined members, so the seed survives a JSON round trip unchanged.
      expect(JSON.parse(JSON.stringify(e))).toEqual(e);
      expect(Object.values(e).includes(undefined)).toBe(false);
      if (isAllDay(e)) expect([e.start_time.timezone, e.end_time.timezone]).toEqual(['UTC', 'UTC']);
    }
    const windowEnd = new Date(t.window.end * 1000).toISOString().replace('.000', '');
    for (const m of masters.values()) {
      const zone = m.start_time.timezone;
      const all = expandRecurrence(m.recurrence!, dtstartOf(m), zone, { count: 500 });
      const inWindow = expandRecurrence(m.recurrence!, dtstartOf(m), zone, { until: windowEnd, count: 500 });
      expect(all[0]).toBe(dtstartOf(m));
      if (/COUNT=|UNTIL=/.test(m.recurrence!)) {
        expect(inWindow, m.recurrence).toEqual(all);
        const count = /COUNT=(\d+)/.exec(m.recurrence!);
        if (count) expect(all).toHaveLength(Number(count[1]));
      } else expect(all.length).toBeGreaterThan(inWindow.length);
    }
  });

  it("puts every exception on a real occurrence of its series (RFC 5545, in the series' zone)", () => {
    const occurrences = new Map<string, Set<string>>();
    let dstCrossing = 0;
    for (const e of events.filter((x) => x.is_exception)) {
      const key = `${e.calendar_id} ${e.recurring_event_id}`;
      const m = masters.get(key)!;
      let set = occurrences.get(key);
      if (!set) {
        set = new Set(expandRecurrence(m.recurrence!, dtstartOf(m), m.start_time.timezone, { count: 500 }));
        occurrences.set(key, set);
      }
      const original = originalOf(e.event_id);
      expect(set.has(originalForm(m, original)), `${e.event_id} ${m.recurrence}`).toBe(true);
      // Same wall time as the first instance but a different UTC time of day: the series crossed DST.
      if (!isAllDay(m) && (original - Number(m.start_time.timestamp)) % DAY !== 0) dstCrossing++;
    }
    expect(dstCrossing).toBeGreaterThan(0);
  });

  it('refers only to users and rooms of the seed', () => {
    const openIds = new Set(t.seeds.feishu.users.map((u) => u.open_id));
    const roomIds = new Set(t.seeds.feishu.rooms.map((r) => r.room_id));
    const owners = new Map(t.seeds.feishu.calendars.map((c) => [c.calendar_id, c.owner_open_id]));
    let checked = 0;
    for (const e of events) {
      expect(e.event_organizer.user_id).toBe(owners.get(e.calendar_id));
      for (const a of e.attendees ?? []) {
        checked++;
        if (a.type === 'user') expect(openIds.has(a.user_id!)).toBe(true);
        if (a.type === 'resource') expect(roomIds.has(a.room_id!)).toBe(true);
        if (a.type === 'third_party') expect(a.third_party_email).toMatch(/^[a-z]+@[a-z.]+$/);
        if (a.is_organizer) expect(a.user_id).toBe(owners.get(e.calendar_id));
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('seeds the three emulators consistently', () => {
    const { feishu, google, graph } = t.seeds;
    expect(feishu.apps).toEqual([
      expect.objectContaining({ app_id: t.config.feishu.app_id, event_mode: 'webhook' }),
    ]);
    expect(feishu.calendars.every((c) => c.type === 'primary')).toBe(true);
    expect(feishu.acl.map((a) => a.calendar_id).sort()).toEqual(
      feishu.calendars.map((c) => c.calendar_id).sort(),
    );
    expect(google.users.map((u) => u.email)).toEqual(t.users.map((u) => u.googleEmail));
    expect(google.calendars).toEqual(t.users.map((u) => ({ id: u.googleEmail, owner: u.googleEmail })));
    expect(google.resources.map((r) => r.resourceEmail)).toEqual(t.rooms.map((r) => r.googleEmail));
    expect(google.events).toEqual([]);
    expect(graph.tenants[0].tenant_id).toBe(t.config.exchange.tenant_id);
    expect(graph.tenants[0].client_id).toBe(t.config.exchange.client_id);
    const graphUsers = new Set(graph.users.map((u) => u.id));
    expect(graph.calendars.every((c) => graphUsers.has(c.userId) && c.isDefaultCalendar)).toBe(true);
    expect(graph.users.map((u) => u.mail)).toEqual(t.users.map((u) => u.exchangeEmail));
    expect(graph.rooms.map((r) => r.emailAddress)).toEqual(t.rooms.map((r) => r.exchangeEmail));
    expect(graph.events).toEqual([]);
    for (const r of t.rooms) {
      expect(r.feishuRoomId).toMatch(/^omm_[0-9a-f]{32}$/);
      expect(r.googleEmail).toMatch(/@resource\.calendar\.google\.com$/);
    }
    // Distinct identities.
    expect(new Set(t.users.map((u) => u.feishuEmail)).size).toBe(20);
    expect(new Set(t.users.map((u) => u.openId)).size).toBe(20);
  });

  it('produces a config that validates and maps every user and room', () => {
    expect(t.config.feishu.app_id).toMatch(/^cli_[0-9a-f]{16}$/);
    const yaml = stringify(t.config);
    const config = parseConfig(yaml, 'demo.yaml', URLS);
    expect(config.feishu.domain).toBe(URLS.FEISHU_URL);
    expect(config.feishu.events.mode).toBe('webhook');
    expect(config.google?.root_url).toBe(`${URLS.GOOGLE_URL}/`);
    expect(config.exchange?.base_url).toBe(URLS.GRAPH_URL);
    expect(config.server.port).toBe(8080);
    expect(Buffer.from(config.secret_key, 'base64')).toHaveLength(32);
    expect(config.users).toEqual(
      t.users.map((u) => ({
        feishu: u.feishuEmail,
        google: u.googleEmail,
        exchange: u.exchangeEmail,
        calendars: 'primary',
      })),
    );
    expect(config.rooms.map((r) => r.feishu)).toEqual(t.rooms.map((r) => r.feishuRoomId));
    // The placeholders can also be replaced textually (then no env is needed for them).
    let text = yaml;
    for (const [k, v] of Object.entries(URLS)) text = text.replaceAll(`\${${k}}`, v);
    expect(parseConfig(text, 'demo.yaml', {}).exchange?.authority_url).toBe(URLS.GRAPH_URL);
  });

  it('applies the options', () => {
    const x = generateTenant({
      users: 5,
      events: 120,
      seed: 3,
      now: 1_800_000_000,
      appId: 'cli_0123456789abcdef',
      appSecret: 'shh',
      feishuDomain: 'corp.cn',
      googleDomain: 'corp.com',
      exchangeDomain: 'corp.onmicrosoft.com',
    });
    expect(x.users).toHaveLength(5);
    expect(
      x.users.every((u) => u.feishuEmail.endsWith('@corp.cn') && u.googleEmail.endsWith('@corp.com')),
    ).toBe(true);
    expect(x.users[0].exchangeEmail).toMatch(/@corp\.onmicrosoft\.com$/);
    expect(x.seeds.feishu.apps[0]).toMatchObject({ app_id: 'cli_0123456789abcdef', app_secret: 'shh' });
    expect(x.config.feishu).toMatchObject({ app_id: 'cli_0123456789abcdef', app_secret: 'shh' });
    expect(x.window.start).toBe(1_800_000_000 - 30 * DAY);
    for (const e of x.seeds.feishu.events) expect(span(e)[0]).toBeGreaterThanOrEqual(x.window.start);
    // Overriding credentials does not change the rest of the tenant.
    expect(
      generateTenant({ users: 5, events: 120, seed: 3, now: 1_800_000_000 }).seeds.feishu.events,
    ).toEqual(x.seeds.feishu.events);
  });

  it('converts local wall time to UTC across DST changes', () => {
    const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 1000 / DAY;
    // New York: EDT (-4) on 2026-10-30, EST (-5) on 2026-11-02.
    expect(localToUnix(day('2026-10-30'), 9 * 60, 'America/New_York')).toBe(
      Date.parse('2026-10-30T13:00:00Z') / 1000,
    );
    expect(localToUnix(day('2026-11-02'), 9 * 60, 'America/New_York')).toBe(
      Date.parse('2026-11-02T14:00:00Z') / 1000,
    );
    // Sydney: AEDT (+11) in January, AEST (+10) in May; Berlin switches on 2027-03-28.
    expect(localToUnix(day('2027-01-15'), 9 * 60, 'Australia/Sydney')).toBe(
      Date.parse('2027-01-14T22:00:00Z') / 1000,
    );
    expect(localToUnix(day('2027-05-15'), 9 * 60, 'Australia/Sydney')).toBe(
      Date.parse('2027-05-14T23:00:00Z') / 1000,
    );
    expect(localToUnix(day('2027-03-28'), 12 * 60, 'Europe/Berlin')).toBe(
      Date.parse('2027-03-28T10:00:00Z') / 1000,
    );
    expect(localToUnix(day('2027-03-27'), 12 * 60, 'Europe/Berlin')).toBe(
      Date.parse('2027-03-27T11:00:00Z') / 1000,
    );
  });

  it('is fast: 2,000 events well under 200 ms, and 80,000 events for benchmarks', () => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      generateTenant({ seed: 100 + i });
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(200);
    const t0 = performance.now();
    const big = generateTenant({ events: 80_000 });
    const ms = performance.now() - t0;
    expect(big.seeds.feishu.events).toHaveLength(80_000);
    expect(big.expected.events).toBe(80_000);
    expect(new Set(big.seeds.feishu.events.map((e) => `${e.calendar_id} ${e.event_id}`)).size).toBe(80_000);
    expect(ms).toBeLessThan(15_000);
    console.log(
      `generateTenant: 2,000 events best of 3 ${best.toFixed(0)} ms; 80,000 events ${ms.toFixed(0)} ms`,
    );
  });

  it('is accepted by the three emulators, which give the events back in the API shape', async () => {
    const small = generateTenant({ seed: 5, events: 300, users: 6 });
    const servers = await Promise.all([
      startFeishuEmulator({ port: 0, seed: small.seeds.feishu }),
      startGoogleEmulator({ port: 0, seed: small.seeds.google }),
      startGraphEmulator({ port: 0, seed: small.seeds.graph }),
    ]);
    try {
      const [feishu, google, graph] = await Promise.all(
        servers.map(async (s) => (await fetch(`${s.url}/_emulator/state`)).json() as Promise<any>),
      );
      const stored = new Map<string, any>(
        feishu.events.map((e: any) => [`${e.calendar_id} ${e.event_id}`, e]),
      );
      expect(stored.size).toBe(300);
      for (const { app_link: _link, ...e } of small.seeds.feishu.events) {
        expect(stored.get(`${e.calendar_id} ${e.event_id}`)).toMatchObject(e);
      }
      expect(feishu.calendars.map((c: any) => c.calendar_id).sort()).toEqual(
        small.users.map((u) => u.calendarId).sort(),
      );
      expect(google.calendars.map((c: any) => c.id)).toEqual(
        expect.arrayContaining([
          ...small.users.map((u) => u.googleEmail),
          ...small.rooms.map((r) => r.googleEmail),
        ]),
      );
      expect(graph.users.map((u: any) => u.mail)).toEqual(small.users.map((u) => u.exchangeEmail));
      expect(graph.calendars.filter((c: any) => c.isDefaultCalendar)).toHaveLength(6);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
