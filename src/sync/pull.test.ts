import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryConnector } from '../../test/support/memory-connector.ts';
import { blankEvent, type CanonicalEvent, SYNC_FIELDS } from '../core/index.ts';
import type { CalendarRef, ListOptions, RemoteEvent, WriteOp, WriteOptions } from '../ports/index.ts';
import { type Database, openDatabase } from '../store/db.ts';
import { PrismaLinkStore } from '../store/links.ts';
import { applyContext } from './apply.ts';
import type { Pair, SyncPolicy } from './pair.ts';
import { type PullDeps, pullCalendar } from './pull.ts';
import { WritePipe } from './write-pipe.ts';

const NOW = Math.floor(Date.now() / 1000);
const policy: SyncPolicy = {
  fields: SYNC_FIELDS,
  privateEvents: 'busy-only',
  invitations: 'none',
  maxDeletesPerRun: 5,
  window: { from: NOW - 30 * 86_400, to: NOW + 365 * 86_400 },
};
const cal = { owner: 'ou_alice', id: 'cal_alice' };
const pairs: Pair[] = [
  {
    id: 'pg',
    userKey: 'alice',
    feishu: cal,
    spoke: 'google',
    target: { owner: 'alice@g', id: 'primary' },
    direction: 'one-way',
  },
  {
    id: 'px',
    userKey: 'alice',
    feishu: cal,
    spoke: 'graph',
    target: { owner: 'alice@x', id: 'primary' },
    direction: 'one-way',
  },
];
const ev = (uid: string, summary = uid, originalTime = 0): CanonicalEvent => ({
  ...blankEvent(
    { uid, originalTime },
    { timestamp: NOW + 3600, timeZone: 'Asia/Shanghai' },
    { timestamp: NOW + 7200, timeZone: 'Asia/Shanghai' },
    'feishu',
  ),
  summary,
});

let db: Database;
let feishu: MemoryConnector;
let google: MemoryConnector;
let graph: MemoryConnector;
let deps: PullDeps;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db.close());
beforeEach(async () => {
  await db.prisma.syncPair.deleteMany();
  for (const p of pairs) {
    await db.prisma.syncPair.create({
      data: {
        id: p.id,
        userKey: p.userKey,
        feishuOwner: p.feishu.owner,
        feishuCalendar: p.feishu.id,
        spoke: p.spoke,
        spokeOwner: p.target.owner,
        spokeCalendar: p.target.id,
        direction: p.direction,
      },
    });
  }
  feishu = new MemoryConnector('feishu');
  google = new MemoryConnector('google');
  graph = new MemoryConnector('graph');
  deps = { feishu, spokes: { google, graph }, store: new PrismaLinkStore(db.prisma), policy };
});

const summaries = (c: MemoryConnector, pair: Pair) =>
  c
    .live(pair.target)
    .map((s) => s.event.summary)
    .sort();

/** A spoke that records, at each write call, its writes and how many it is told are still to come. */
class Told extends MemoryConnector {
  told: [number, number][] = [];
  override async write(ref: CalendarRef, ops: WriteOp[], options?: WriteOptions) {
    this.told.push([ops.length, options?.queued?.() ?? -1]);
    return super.write(ref, ops);
  }
}

describe('pullCalendar', () => {
  it('initial sync fans out to every spoke, then an incremental pull writes only the changes', async () => {
    for (let i = 0; i < 250; i++) feishu.put(cal, ev(`u${i}`));
    const first = await pullCalendar(pairs, deps);
    expect(first.map((r) => r.counts.created)).toEqual([250, 250]);
    expect(first.every((r) => r.cursorSaved && r.full)).toBe(true);
    expect(google.live(pairs[0].target)).toHaveLength(250);
    expect(graph.live(pairs[1].target)).toHaveLength(250);

    feishu.put(cal, ev('u1', 'renamed'));
    feishu.drop(cal, 'u2_0');
    feishu.put(cal, ev('new'));
    const writesBefore = google.writes;
    const second = await pullCalendar(pairs, deps);
    expect(second[0].full).toBe(false);
    expect(second[0].counts).toMatchObject({ created: 1, updated: 1, deleted: 1, failed: 0 });
    expect(google.writes - writesBefore).toBe(3);
    expect(summaries(google, pairs[0])).toContain('renamed');
    expect(google.live(pairs[0].target)).toHaveLength(250);
  });

  it('says the listing came without attendees when only a pair new to the sync lists in full', async () => {
    // Feishu as the real connector lists a full pull: every event without its attendees, read later
    class Deferring extends MemoryConnector {
      override async *listChanges(ref: CalendarRef, cursor: string | null, options?: ListOptions) {
        for await (const page of super.listChanges(ref, cursor))
          yield options?.attendees === 'defer'
            ? { ...page, upserts: page.upserts.map((u) => ({ ...u, attendeesPending: true as const })) }
            : page;
      }
      async *readAttendees(_ref: CalendarRef, events: RemoteEvent[]) {
        yield events.map(({ attendeesPending: _, ...r }) => r);
      }
    }
    const deferring = new Deferring('feishu');
    for (let i = 0; i < 5; i++) deferring.put(cal, ev(`u${i}`));
    const listed: boolean[] = [];
    const withAttendees = {
      ...deps,
      feishu: deferring,
      onListed: (i: { deferred: boolean }) => listed.push(i.deferred),
    };
    // Google synced first; then Exchange joins: its pull is full (its events wait for their
    // attendees), Google's is incremental, and Google's listing is the calendar's last
    await pullCalendar([pairs[0]], withAttendees);
    expect(listed).toEqual([true]);
    await pullCalendar([pairs[1], pairs[0]], withAttendees);
    expect(listed).toEqual([true, true]);
  });

  it('a failed write is counted, keeps the cursor where it was, and succeeds on the next pull', async () => {
    for (let i = 0; i < 5; i++) feishu.put(cal, ev(`u${i}`));
    google.failing.set('u3_0', 'transient');
    const [g, x] = await pullCalendar(pairs, deps);
    expect(g.counts).toMatchObject({ created: 4, failed: 1 });
    expect(g.failures[0]).toMatchObject({ key: 'u3_0', kind: 'transient' });
    expect(g.cursorSaved).toBe(false);
    expect(x.cursorSaved).toBe(true);
    google.failing.clear();
    const [again] = await pullCalendar(pairs, deps);
    expect(again.counts).toMatchObject({ created: 1, unchanged: 4, failed: 0 });
    expect(google.live(pairs[0].target)).toHaveLength(5);
  });

  it('an expired cursor falls back to a full pull without duplicates', async () => {
    for (let i = 0; i < 3; i++) feishu.put(cal, ev(`u${i}`));
    await pullCalendar(pairs, deps);
    await deps.store.save([], [{ pairId: 'pg', side: 'feishu', value: 'expired' }]);
    const [g] = await pullCalendar([pairs[0]], deps);
    expect(g.full).toBe(true);
    expect(g.counts).toMatchObject({ created: 0, unchanged: 3 });
    expect(google.live(pairs[0].target)).toHaveLength(3);
  });

  it('a full pull deletes what Feishu no longer has, but never after a failed or empty read, nor above the cap', async () => {
    for (let i = 0; i < 8; i++) feishu.put(cal, ev(`u${i}`));
    await pullCalendar(pairs, deps);
    // a failed read deletes nothing
    feishu.drop(cal, 'u0_0');
    feishu.failListingAfterPages = 0;
    const [failed] = await pullCalendar([pairs[0]], deps, { full: true });
    expect(failed.held).toMatch(/read failed/);
    expect(google.live(pairs[0].target)).toHaveLength(8);
    feishu.failListingAfterPages = undefined;
    // more deletes than the cap: nothing deleted, reported
    for (let i = 1; i < 7; i++) feishu.drop(cal, `u${i}_0`);
    const [capped] = await pullCalendar([pairs[0]], deps, { full: true });
    expect(capped.held).toMatch(/max_deletes_per_run/);
    expect(capped.counts.deleted).toBe(0);
    expect(google.live(pairs[0].target)).toHaveLength(8);
    // an empty listing deletes nothing
    for (let i = 7; i < 8; i++) feishu.drop(cal, `u${i}_0`);
    const [empty] = await pullCalendar([pairs[0]], deps, { full: true });
    expect(empty.held).toMatch(/empty/);
    expect(google.live(pairs[0].target)).toHaveLength(8);
  });

  it('dry run plans and writes nothing', async () => {
    for (let i = 0; i < 4; i++) feishu.put(cal, ev(`u${i}`));
    const [g] = await pullCalendar([pairs[0]], deps, { dryRun: true });
    expect(g.counts.created).toBe(4);
    expect(g.plan?.map((p) => p.kind)).toEqual(['create', 'create', 'create', 'create']);
    expect(google.writes).toBe(0);
    expect(await deps.store.cursor('pg', 'feishu')).toBeNull();
  });

  it('an exception listed before its series master is written after it', async () => {
    feishu.pageSize = 1;
    feishu.put(cal, ev('series', 'moved one', NOW + 86_400));
    feishu.put(cal, { ...ev('series', 'weekly'), recurrence: ['RRULE:FREQ=WEEKLY'] });
    const [g] = await pullCalendar([pairs[0]], deps);
    expect(g.counts).toMatchObject({ created: 2, failed: 0 });
    const stored = google.live(pairs[0].target);
    const master = stored.find((s) => s.event.key.originalTime === 0)!;
    expect(stored.find((s) => s.event.key.originalTime !== 0)?.parent).toBe(master.id);
  });

  it('writes go in full requests across pages, the masters that exceptions wait for first', async () => {
    google.capabilities = { writesPerRequest: 10 };
    feishu.pageSize = 30;
    // 30 a page: 25 events, a series and its 3 exceptions, then 12 more (11 of them on page 2);
    // page by page, in waves, they went in 6 requests
    for (let i = 0; i < 25; i++) feishu.put(cal, ev(`u${i}`));
    feishu.put(cal, { ...ev('series', 'weekly'), recurrence: ['RRULE:FREQ=WEEKLY'] });
    for (let d = 1; d <= 3; d++) feishu.put(cal, ev('series', `moved ${d}`, NOW + d * 7 * 86_400));
    for (let i = 25; i < 37; i++) feishu.put(cal, ev(`u${i}`));
    const [g] = await pullCalendar([pairs[0]], deps);
    expect(g.counts).toMatchObject({ created: 41, failed: 0 });
    // 41 writes in 5 requests: every call but the last is whole requests
    expect(google.calls.slice(0, -1).every((n) => n % 10 === 0)).toBe(true);
    expect(google.calls.reduce((t, n) => t + Math.ceil(n / 10), 0)).toBe(5);
    const stored = google.live(pairs[0].target);
    const master = stored.find((s) => s.event.key.uid === 'series' && s.event.key.originalTime === 0)!;
    expect(stored.filter((s) => s.parent === master.id)).toHaveLength(3);
  });

  it('tells the spoke how many writes are still to come: unknown until the last page is listed, then what the pull holds', async () => {
    const told = new Told('google');
    told.capabilities = { writesPerRequest: 10 };
    feishu.pageSize = 30;
    // pages 1 and 2: 30 events each; page 3 (the last, listed while page 2 is written): a series,
    // its 3 exceptions (they wait for it) and 6 events
    for (let i = 0; i < 60; i++) feishu.put(cal, ev(`u${i}`));
    feishu.put(cal, { ...ev('series', 'weekly'), recurrence: ['RRULE:FREQ=WEEKLY'] });
    for (let d = 1; d <= 3; d++) feishu.put(cal, ev('series', `moved ${d}`, NOW + d * 7 * 86_400));
    for (let i = 60; i < 66; i++) feishu.put(cal, ev(`u${i}`));
    await pullCalendar([pairs[0]], { ...deps, spokes: { google: told } });
    expect(told.told).toEqual([
      [30, Infinity],
      [30, 10],
      [7, 3],
      [3, 0],
    ]);
  });

  it('begins writing a page once the next is listed, so the first write of a two-page calendar knows the rest', async () => {
    // Feishu answers a page 50 ms after it is asked for (the first at once)
    class Slow extends MemoryConnector {
      override async *listChanges(ref: CalendarRef, cursor: string | null) {
        let first = true;
        for await (const page of super.listChanges(ref, cursor)) {
          if (!first) await new Promise((r) => setTimeout(r, 50));
          first = false;
          yield page;
        }
      }
    }
    const slow = new Slow('feishu');
    slow.pageSize = 30;
    for (let i = 0; i < 40; i++) slow.put(cal, ev(`u${i}`));
    const told = new Told('google');
    told.capabilities = { writesPerRequest: 10 };
    await pullCalendar([pairs[0]], { ...deps, feishu: slow, spokes: { google: told } });
    expect(told.told).toEqual([
      [30, 10],
      [10, 0],
    ]);
  });

  it('tells the spoke nothing more is to come once the pull has ended, even when a failed save left writes held', async () => {
    // the links of a series master cannot be saved: its three exceptions stay held in the pipe. A
    // count still above 0 afterwards kept the spoke's background writes waiting for good
    let queued: (() => number) | undefined;
    class Keeps extends MemoryConnector {
      override async write(ref: CalendarRef, ops: WriteOp[], options?: WriteOptions) {
        queued ??= options?.queued;
        return super.write(ref, ops);
      }
    }
    const keeps = new Keeps('google');
    keeps.capabilities = { writesPerRequest: 10 };
    feishu.put(cal, { ...ev('series', 'weekly'), recurrence: ['RRULE:FREQ=WEEKLY'] });
    for (let d = 1; d <= 3; d++) feishu.put(cal, ev('series', `moved ${d}`, NOW + d * 7 * 86_400));
    const store = deps.store;
    const failing = Object.assign(Object.create(store), {
      save: async () => {
        throw new Error('database unavailable');
      },
    });
    await expect(
      pullCalendar([pairs[0]], { ...deps, store: failing, spokes: { google: keeps } }),
    ).rejects.toThrow('database unavailable');
    expect(queued?.()).toBe(0);
  });

  it("a write held for a full request is replaced by a later page's action for the same key", async () => {
    google.capabilities = { writesPerRequest: 10 };
    const pipe = new WritePipe(applyContext(pairs[0], deps));
    const create = (summary: string) => {
      const event = ev('u1', summary);
      return {
        kind: 'create' as const,
        key: event.key,
        event,
        fingerprint: summary,
        reason: 'new in Feishu',
      };
    };
    pipe.add([create('first')], new Map());
    await pipe.flush(false);
    expect(google.calls).toEqual([]);
    pipe.add([create('listed again')], new Map());
    await pipe.flush(true);
    expect(google.calls).toEqual([1]);
    expect(summaries(google, pairs[0])).toEqual(['listed again']);
  });

  it('a cancelled occurrence of a series that never reached the spoke is nothing to do, not a failure', async () => {
    // created, one occurrence cancelled and the series deleted, all before the first sync
    feishu.put(cal, { ...ev('gone', 'weekly'), recurrence: ['RRULE:FREQ=WEEKLY'], status: 'cancelled' });
    feishu.put(cal, { ...ev('gone', 'weekly', NOW + 86_400), status: 'cancelled' });
    const [g] = await pullCalendar([pairs[0]], deps);
    expect(g.failures).toEqual([]);
    expect(g.counts.created).toBe(0);
    expect(google.live(pairs[0].target)).toHaveLength(0);
  });

  it('deleting a series removes its exceptions with it', async () => {
    feishu.put(cal, { ...ev('series', 'weekly'), recurrence: ['RRULE:FREQ=WEEKLY'] });
    feishu.put(cal, ev('series', 'moved one', NOW + 86_400));
    await pullCalendar([pairs[0]], deps);
    feishu.drop(cal, 'series_0');
    feishu.drop(cal, `series_${NOW + 86_400}`);
    const [g] = await pullCalendar([pairs[0]], deps);
    expect(g.counts.failed).toBe(0);
    expect(google.live(pairs[0].target)).toHaveLength(0);
    const links = await deps.store.byUids('pg', ['series']);
    expect([...links.values()].every((l) => l.tombstone)).toBe(true);
  });
});
