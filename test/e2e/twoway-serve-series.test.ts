/**
 * Series through `feisync serve` and the real webhook routes: one occurrence of a Feishu series
 * deleted in Outlook (through the Graph SDK). Graph's delta names only the deleted instance's id,
 * which no link knows; the service reads the linked series' instances, finds the occurrence gone and
 * cancels it in Feishu (read back through the Lark SDK) and on Google (googleapis): nothing else
 * changes, and a quiet period after writes nothing anywhere.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { control } from '../../src/app/emulators.ts';
import { formatKey, parseKey } from '../../src/core/index.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { closeServe, openServe, quietPeriod, type ServeWorld, settle, until } from './twoway-serve-world.ts';
import {
  copyOf,
  feishuInstances,
  graphApiOf,
  marks,
  NOW,
  pairsOf,
  spokeEvents,
  writesSince,
} from './twoway-world.ts';

const DAY = 86_400;
let w: ServeWorld;
let pairs: Record<'google' | 'graph', Pair>;

/** A weekly Feishu series of the first user, created before serve starts. */
const SERIES = `${randomUUID()}_0`;

beforeAll(async () => {
  const start = NOW - (NOW % 3600) + 2 * DAY;
  w = await openServe(
    'feishu-wins',
    {
      ready: async (sw) => {
        const p = await pairsOf(sw);
        return !!(await copyOf(sw, p.graph, SERIES)) && !!(await copyOf(sw, p.google, SERIES));
      },
    },
    async (w0) => {
      await control(w0.em.feishu, 'events', {
        op: 'create',
        calendar_id: w0.tenant.users[0].calendarId,
        event: {
          event_id: SERIES,
          summary: 'Weekly, one deleted in Outlook',
          start_time: { timestamp: String(start), timezone: 'Asia/Shanghai' },
          end_time: { timestamp: String(start + 3600), timezone: 'Asia/Shanghai' },
          recurrence: 'FREQ=WEEKLY;COUNT=8',
        },
      });
    },
  );
  pairs = await pairsOf(w);
}, 120_000);
afterAll(() => closeServe(w));

const user = () => w.tenant.users[0];

/** The Google copy's live instances (googleapis). */
async function googleInstances(eventId: string, from: number, to: number) {
  const api = calendarFor(w.em.google, user().googleEmail);
  const out: { original: number; start: string; summary: string }[] = [];
  let pageToken: string | undefined;
  do {
    const r = await api.events.instances({
      calendarId: user().googleEmail,
      eventId,
      timeMin: new Date(from * 1000).toISOString(),
      timeMax: new Date(to * 1000).toISOString(),
      pageToken,
    });
    for (const i of r.data.items ?? [])
      if (i.status !== 'cancelled')
        out.push({
          original: Date.parse(i.originalStartTime!.dateTime!) / 1000,
          start: i.start!.dateTime!,
          summary: i.summary ?? '',
        });
    pageToken = r.data.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

describe('an occurrence deleted in Outlook, through serve', () => {
  it('is cancelled in Feishu and on Google; nothing else changes; then a quiet period', async () => {
    const mailbox = `/users/${encodeURIComponent(user().exchangeEmail)}`;
    const from = NOW + DAY;
    const to = NOW + 60 * DAY;
    const api = graphApiOf(w);
    const master = (await copyOf(w, pairs.graph, SERIES))!;
    const listed = await api
      .api(`${mailbox}/events/${encodeURIComponent(master.ref.id)}/instances`)
      .query({
        startDateTime: new Date(from * 1000).toISOString(),
        endDateTime: new Date(to * 1000).toISOString(),
      })
      .get();
    // the third occurrence, a plain one
    const occ = (listed.value as any[]).filter((i) => i.type === 'occurrence')[2];
    expect(occ).toBeDefined();
    const key = SERIES;
    const uid = parseKey(key).uid;
    const google = (await copyOf(w, pairs.google, key))!;
    const originalTime = Math.floor(Date.parse(`${occ.originalStart.replace(/Z$/, '')}Z`) / 1000);
    const gone = formatKey({ uid, originalTime });

    const feishuBefore = await feishuInstances(w, key, from, to);
    const googleBefore = await googleInstances(google.ref.id, from, to);
    expect(feishuBefore.map((i) => i.id)).toContain(gone);
    expect(googleBefore.map((i) => i.original)).toContain(originalTime);
    const mark = await marks(w);

    await api.api(`${mailbox}/events/${encodeURIComponent(occ.id)}`).delete();

    await until('Feishu to lose the occurrence', async () =>
      (await feishuInstances(w, key, from, to)).every((i) => i.id !== gone),
    );
    await until('Google to lose the occurrence', async () =>
      (await googleInstances(google.ref.id, from, to)).every((i) => i.original !== originalTime),
    );
    await settle(w.service);
    expect(await feishuInstances(w, key, from, to)).toEqual(feishuBefore.filter((i) => i.id !== gone));
    expect(await googleInstances(google.ref.id, from, to)).toEqual(
      googleBefore.filter((i) => i.original !== originalTime),
    );
    // one write each: the cancellation in Feishu and on Google; on Exchange only the user's delete
    const writes = await writesSince(w, mark);
    expect(writes.feishu).toHaveLength(1);
    expect(writes.google).toHaveLength(1);
    expect(writes.graph).toEqual([`DELETE /v1.0${mailbox}/events/${encodeURIComponent(occ.id)}`]);

    const q = await quietPeriod(w);
    expect(q.writes).toEqual({ feishu: [], google: [], graph: [] });
    expect(q.graphSame).toBe(true);
  });

  it('an occurrence moved in Outlook reaches Feishu and Google, and the moved copy names its own occurrence', async () => {
    const mailbox = `/users/${encodeURIComponent(user().exchangeEmail)}`;
    const api = graphApiOf(w);
    const master = (await copyOf(w, pairs.graph, SERIES))!;
    const listed = await api
      .api(`${mailbox}/events/${encodeURIComponent(master.ref.id)}/instances`)
      .query({
        startDateTime: new Date(NOW * 1000).toISOString(),
        endDateTime: new Date((NOW + 90 * DAY) * 1000).toISOString(),
      })
      .get();
    const occ = (listed.value as any[]).filter((i) => i.type === 'occurrence')[3];
    const originalTime = Date.parse(occ.originalStart) / 1000;
    const moved = originalTime + 5400;
    const at = (t: number) => ({ dateTime: new Date(t * 1000).toISOString().slice(0, 19), timeZone: 'UTC' });
    await api
      .api(`${mailbox}/events/${encodeURIComponent(occ.id)}`)
      .patch({ start: at(moved), end: at(moved + 3600) });
    const key = formatKey({ uid: parseKey(SERIES).uid, originalTime });
    const startOf = (e?: { event: { start: object } } | undefined) =>
      e && 'timestamp' in e.event.start ? e.event.start.timestamp : undefined;
    await until('Feishu', async () => {
      const f = (await feishuInstances(w, SERIES, NOW, NOW + 90 * DAY)).find((i) => i.id === key);
      return Number(f?.start) === moved;
    });
    await until('Google', async () => startOf(await copyOf(w, pairs.google, key)) === moved);
    await settle(w.service);
    // the Outlook exception carried its series' origin tag: it now names its own occurrence
    const copy = (await spokeEvents(w, pairs.graph)).find((r) => r.ref.id === occ.id);
    expect(copy?.tag).toEqual({ pair: pairs.graph.id, key });
    expect((await spokeEvents(w, pairs.graph)).filter((r) => r.tag?.key === SERIES)).toHaveLength(1);
    const q = await quietPeriod(w);
    expect(q.writes).toEqual({ feishu: [], google: [], graph: [] });
  });
});
