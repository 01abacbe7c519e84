/**
 * Two-way series through `feisync sync`: occurrences moved and cancelled on Google become those
 * Feishu occurrences and reach Exchange; a series born on Google with an occurrence already moved
 * lands whole and tagged; each time, the next run is quiet and Exchange dropping a cancelled
 * occurrence is no second cancellation.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../src/app/sync-run.ts';
import { formatKey, parseKey } from '../../src/core/index.ts';
import type { Pair } from '../../src/sync/pair.ts';
import {
  closeTwoWay,
  copyOf,
  expectQuiet,
  feishuEvent,
  marks,
  NOW,
  openTwoWay,
  pairsOf,
  spokeEvents,
  type TwoWayWorld,
  writesSince,
} from './twoway-world.ts';

let w: TwoWayWorld;
let pairs: Record<'google' | 'graph', Pair>;

beforeAll(async () => {
  w = await openTwoWay('feishu-wins');
  expect((await runSync(w.app)).ok).toBe(true);
  pairs = await pairsOf(w);
}, 120_000);
afterAll(() => closeTwoWay(w));

const user = () => w.tenant.users[0];
const quiet = () => expectQuiet(w);

describe('two-way series', () => {
  it('an occurrence moved on Google becomes that Feishu occurrence and moves on Exchange', async () => {
    const all = await spokeEvents(w, pairs.google);
    const master = all.find(
      (r) =>
        r.tag?.pair === pairs.google.id &&
        r.event.recurrence.some((l) => l.includes('FREQ=DAILY') || l.includes('FREQ=WEEKLY')) &&
        'timestamp' in r.event.start,
    );
    expect(master).toBeDefined();
    const { calendarFor } = await import('../../connectors/google/emulator/testkit.ts');
    const api = calendarFor(w.em.google, user().googleEmail);
    const inst = await api.events.instances({
      calendarId: user().googleEmail,
      eventId: master!.ref.id,
      timeMin: new Date((NOW + 86_400) * 1000).toISOString(),
      maxResults: 5,
    });
    const occ = inst.data.items!.find((i) => i.status !== 'cancelled')!;
    const start = Date.parse(occ.start!.dateTime!) / 1000;
    const moved = start + 2 * 3600;
    const length = Date.parse(occ.end!.dateTime!) / 1000 - start;
    await api.events.patch({
      calendarId: user().googleEmail,
      eventId: occ.id!,
      requestBody: {
        start: { dateTime: new Date(moved * 1000).toISOString(), timeZone: 'UTC' },
        end: { dateTime: new Date((moved + length) * 1000).toISOString(), timeZone: 'UTC' },
      },
    });
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const originalTime = Math.floor(Date.parse(occ.originalStartTime!.dateTime!) / 1000);
    const key = formatKey({ uid: master!.event.key.uid, originalTime });
    const f = await feishuEvent(w, pairs.google, key);
    expect(f && 'timestamp' in f.start ? f.start.timestamp : undefined).toBe(moved);
    const g = await copyOf(w, pairs.graph, key);
    expect(g && 'timestamp' in g.event.start ? g.event.start.timestamp : undefined).toBe(moved);
    await quiet();
  });

  it('an occurrence cancelled on Google is cancelled in Feishu and on Exchange, then all is quiet', async () => {
    const master = (await spokeEvents(w, pairs.google)).find(
      (r) =>
        r.tag?.pair === pairs.google.id &&
        r.event.recurrence.some((l) => /FREQ=(DAILY|WEEKLY)/.test(l)) &&
        'timestamp' in r.event.start &&
        r.event.visibility !== 'private',
    )!;
    const { calendarFor } = await import('../../connectors/google/emulator/testkit.ts');
    const api = calendarFor(w.em.google, user().googleEmail);
    const inst = await api.events.instances({
      calendarId: user().googleEmail,
      eventId: master.ref.id,
      timeMin: new Date((NOW + 3 * 86_400) * 1000).toISOString(),
      maxResults: 3,
    });
    const occ = inst.data.items!.find((i) => i.status !== 'cancelled')!;
    // first an exception (moved an hour) on all three sides, then cancelled
    const s0 = Date.parse(occ.start!.dateTime!) / 1000 + 3600;
    const len = Date.parse(occ.end!.dateTime!) / 1000 - (s0 - 3600);
    await api.events.patch({
      calendarId: user().googleEmail,
      eventId: occ.id!,
      requestBody: {
        start: { dateTime: new Date(s0 * 1000).toISOString(), timeZone: 'UTC' },
        end: { dateTime: new Date((s0 + len) * 1000).toISOString(), timeZone: 'UTC' },
      },
    });
    expect((await runSync(w.app)).ok).toBe(true);
    await api.events.delete({ calendarId: user().googleEmail, eventId: occ.id! });
    const mark = await marks(w);
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    // one Feishu write: the cancellation; Exchange dropping its occurrence is our own write coming back
    expect((await writesSince(w, mark)).feishu).toHaveLength(1);
    const originalTime = Math.floor(Date.parse(occ.originalStartTime!.dateTime!) / 1000);
    const key = formatKey({ uid: master.event.key.uid, originalTime });
    const f = await feishuEvent(w, pairs.google, key);
    expect(f === undefined || f.status === 'cancelled').toBe(true);
    const graph = await copyOf(w, pairs.graph, key);
    expect(graph === undefined || graph.event.status === 'cancelled').toBe(true);
    await quiet();
  });

  it('an occurrence deleted in Outlook is cancelled in Feishu and on Google; a rule widened for Exchange loses nothing', async () => {
    const { control } = await import('../../src/app/emulators.ts');
    const { runReconcile } = await import('../../src/app/reconcile-run.ts');
    const start = NOW - (NOW % 3600) + 3 * 86_400;
    const series = (id: string, rule: string) =>
      control(w.em.feishu, 'events', {
        op: 'create',
        calendar_id: user().calendarId,
        event: {
          event_id: id,
          summary: `Series ${rule}`,
          start_time: { timestamp: String(start), timezone: 'Europe/Berlin' },
          end_time: { timestamp: String(start + 1800), timezone: 'Europe/Berlin' },
          recurrence: rule,
        },
      });
    const weekly = `${randomUUID()}_0`;
    const widened = `${randomUUID()}_0`;
    await series(weekly, 'FREQ=WEEKLY;COUNT=6');
    // weekly in this month and the one after next: Graph has no such pattern; weekly with the weeks of
    // the month between deleted stands in
    const month = new Date((start + 7200) * 1000).getUTCMonth() + 1;
    await series(widened, `FREQ=WEEKLY;BYMONTH=${month},${((month + 1) % 12) + 1};COUNT=8`);
    expect((await runSync(w.app)).ok).toBe(true);
    const state = (await (await fetch(`${w.em.graph}/_emulator/state`)).json()) as any;
    const wide = (await copyOf(w, pairs.graph, widened))!;
    expect(state.events.find((e: any) => e.id === wide.ref.id).cancelledOccurrences.length).toBeGreaterThan(
      0,
    );
    // the widened copy's extra occurrences are deleted on Exchange: a reconcile asks, cancels nothing
    let mark = await marks(w);
    expect((await runReconcile(w.app)).ok).toBe(true);
    expect((await writesSince(w, mark)).feishu).toEqual([]);

    const { GraphClient } = await import('../../connectors/graph/client.ts');
    const t = w.tenant.seeds.graph.tenants[0];
    const api = new GraphClient({
      tenantId: t.tenant_id,
      clientId: t.client_id,
      clientSecret: t.client_secret,
      baseUrl: w.em.graph,
      authorityUrl: w.em.graph,
    }).api;
    const mailbox = `/users/${encodeURIComponent(user().exchangeEmail)}`;
    const master = (await copyOf(w, pairs.graph, weekly))!;
    const listed = await api
      .api(`${mailbox}/events/${encodeURIComponent(master.ref.id)}/instances`)
      .query({
        startDateTime: new Date(NOW * 1000).toISOString(),
        endDateTime: new Date((NOW + 90 * 86_400) * 1000).toISOString(),
      })
      .get();
    const occ = listed.value[1];
    const originalTime = Date.parse(occ.originalStart) / 1000;
    await api.api(`${mailbox}/events/${encodeURIComponent(occ.id)}`).delete();
    mark = await marks(w);
    expect((await runSync(w.app)).ok).toBe(true);
    const writes = await writesSince(w, mark);
    expect(writes.feishu).toHaveLength(1);
    expect(writes.google).toHaveLength(1);
    const key = formatKey({ uid: parseKey(weekly).uid, originalTime });
    expect((await feishuEvent(w, pairs.graph, key))?.status).toBe('cancelled');
    const g = await copyOf(w, pairs.google, key);
    expect(g === undefined || g.event.status === 'cancelled').toBe(true);
    await quiet();
    mark = await marks(w);
    expect((await runReconcile(w.app)).ok).toBe(true);
    expect(await writesSince(w, mark)).toEqual({ feishu: [], google: [], graph: [] });
  });

  it('a weekly series created on Google with an occurrence moved before any sync lands whole, tagged', async () => {
    const { calendarFor } = await import('../../connectors/google/emulator/testkit.ts');
    const api = calendarFor(w.em.google, user().googleEmail);
    const start = NOW - (NOW % 3600) + 20 * 86_400;
    const time = (t: number) => ({ dateTime: new Date(t * 1000).toISOString(), timeZone: 'UTC' });
    const created = await api.events.insert({
      calendarId: user().googleEmail,
      requestBody: {
        summary: 'Series born on Google',
        start: time(start),
        end: time(start + 3600),
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
      },
    });
    const inst = await api.events.instances({ calendarId: user().googleEmail, eventId: created.data.id! });
    const second = inst.data.items![1];
    await api.events.patch({
      calendarId: user().googleEmail,
      eventId: second.id!,
      requestBody: { start: time(start + 7 * 86_400 + 7200), end: time(start + 7 * 86_400 + 10_800) },
    });
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const all = await spokeEvents(w, pairs.google);
    const mine = all.filter((e) => e.ref.id === created.data.id || e.parent === created.data.id);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    for (const e of mine) expect(e.tag?.pair).toBe(pairs.google.id);
    const key = formatKey({ uid: parseKey(mine[0].tag!.key).uid, originalTime: start + 7 * 86_400 });
    const f = await feishuEvent(w, pairs.google, key);
    expect(f && 'timestamp' in f.start ? f.start.timestamp : undefined).toBe(start + 7 * 86_400 + 7200);
    const g = await copyOf(w, pairs.graph, key);
    expect(g && 'timestamp' in g.event.start ? g.event.start.timestamp : undefined).toBe(
      start + 7 * 86_400 + 7200,
    );
    await quiet();
  });
});
