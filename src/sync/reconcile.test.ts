import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryConnector } from '../../test/support/memory-connector.ts';
import { blankEvent, type CanonicalEvent, SYNC_FIELDS } from '../core/index.ts';
import { type Database, openDatabase } from '../store/db.ts';
import { PrismaLinkStore } from '../store/links.ts';
import type { Pair, SyncPolicy } from './pair.ts';
import { pullCalendar } from './pull.ts';
import { type ReconcileDeps, reconcile } from './reconcile.ts';

const NOW = Math.floor(Date.now() / 1000);
const policy: SyncPolicy = {
  fields: SYNC_FIELDS,
  privateEvents: 'busy-only',
  invitations: 'none',
  maxDeletesPerRun: 10,
  window: { from: NOW - 30 * 86_400, to: NOW + 365 * 86_400 },
};
const cal = { owner: 'ou_alice', id: 'cal_alice' };
const pair: Pair = {
  id: 'pg',
  userKey: 'alice',
  feishu: cal,
  spoke: 'google',
  target: { owner: 'alice@g', id: 'primary' },
  direction: 'one-way',
};
const ev = (uid: string, summary = uid, originalTime = 0): CanonicalEvent => ({
  ...blankEvent(
    { uid, originalTime },
    { timestamp: (originalTime || NOW) + 3600, timeZone: 'Asia/Shanghai' },
    { timestamp: (originalTime || NOW) + 7200, timeZone: 'Asia/Shanghai' },
    'feishu',
  ),
  summary,
});

let db: Database;
let feishu: MemoryConnector;
let google: MemoryConnector;
let deps: ReconcileDeps;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db.close());
beforeEach(async () => {
  await db.prisma.eventLink.deleteMany();
  await db.prisma.syncPair.deleteMany();
  await db.prisma.syncPair.create({
    data: {
      id: pair.id,
      userKey: pair.userKey,
      feishuOwner: cal.owner,
      feishuCalendar: cal.id,
      spoke: 'google',
      spokeOwner: pair.target.owner,
      spokeCalendar: 'primary',
      direction: 'one-way',
    },
  });
  feishu = new MemoryConnector('feishu');
  google = new MemoryConnector('google');
  deps = { feishu, spokes: { google }, store: new PrismaLinkStore(db.prisma), policy };
  for (let i = 0; i < 6; i++) feishu.put(cal, ev(`u${i}`));
  feishu.put(cal, { ...ev('series', 'weekly'), recurrence: ['RRULE:FREQ=WEEKLY'] });
  feishu.put(cal, ev('series', 'moved one', NOW + 7 * 86_400));
  const [r] = await pullCalendar([pair], deps);
  expect(r.counts).toMatchObject({ created: 8, failed: 0 });
});

const copyOf = (key: string) => google.live(pair.target).find((s) => s.tag?.key === key)!;
const summaries = () =>
  google
    .live(pair.target)
    .map((s) => `${s.tag?.key ?? 'untagged'}:${s.event.summary}`)
    .sort();

describe('reconcile', () => {
  it('finds nothing to do when the spoke mirrors Feishu', async () => {
    const writes = google.writes;
    const [r] = await reconcile([pair], deps, { repair: true });
    expect(r.parity).toMatchObject({
      expected: 8,
      found: 8,
      missing: 0,
      extra: 0,
      differing: 0,
      relinked: 0,
    });
    expect(r.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, unchanged: 8 });
    expect(google.writes).toBe(writes);
  });

  it('repairs an edited copy, a deleted copy, a stray and a duplicate; leaves untagged events alone', async () => {
    copyOf('u0_0').event = { ...copyOf('u0_0').event, summary: 'edited on the spoke' };
    google.drop(pair.target, copyOf('u1_0').id);
    google.plant(pair.target, ev('ghost'), { pair: 'pg', key: 'ghost_0' });
    google.plant(pair.target, ev('u2', 'u2'), { pair: 'pg', key: 'u2_0' });
    google.plant(pair.target, ev('mine', 'my own event'));
    const before = summaries();

    const [dry] = await reconcile([pair], deps, { repair: false });
    expect(dry.parity).toMatchObject({ missing: 1, differing: 1, extra: 2, duplicates: 1, untagged: 1 });
    expect(dry.plan?.map((p) => `${p.kind} ${p.key}`).sort()).toEqual([
      'create u1_0',
      'delete ghost_0',
      'delete u2_0',
      'update u0_0',
    ]);
    expect(dry.parity.examples.differing).toEqual(['u0_0 (summary)']);
    expect(summaries()).toEqual(before);

    const [r] = await reconcile([pair], deps, { repair: true });
    expect(r.counts).toMatchObject({ created: 1, updated: 1, deleted: 2, failed: 0 });
    const after = summaries();
    expect(after).toContain('u0_0:u0');
    expect(after).toContain('u1_0:u1');
    expect(after).toContain('untagged:my own event');
    expect(after.filter((s) => s.startsWith('u2_0'))).toHaveLength(1);
    expect(after.some((s) => s.startsWith('ghost'))).toBe(false);

    const [again] = await reconcile([pair], deps, { repair: true });
    expect(again.parity).toMatchObject({ expected: 8, found: 8, missing: 0, extra: 0, differing: 0 });
    expect(again.counts).toMatchObject({ created: 0, updated: 0, deleted: 0 });
  });

  it('rebuilds lost links from origin tags without writing anything', async () => {
    const ids = google.live(pair.target).map((s) => s.id);
    await db.prisma.eventLink.deleteMany();
    const writes = google.writes;
    const [r] = await reconcile([pair], deps, { repair: true });
    expect(r.parity).toMatchObject({ found: 8, relinked: 8, missing: 0, extra: 0 });
    expect(google.writes).toBe(writes);
    const links = await deps.store.byUids('pg', ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'series']);
    expect(links.size).toBe(8);
    expect([...links.values()].map((l) => l.spokeId).sort()).toEqual(ids.sort());
    // the rebuilt links serve the ordinary sync: a full pull has nothing to do
    const [pull] = await pullCalendar([pair], deps, { full: true });
    expect(pull.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, unchanged: 8 });
  });

  it('keeps the linked series when a duplicate series exists, with its exceptions', async () => {
    const master = copyOf('series_0');
    google.plant(pair.target, master.event, { pair: 'pg', key: 'series_0' });
    const [r] = await reconcile([pair], deps, { repair: true });
    expect(r.parity.duplicates).toBe(1);
    expect(r.counts).toMatchObject({ deleted: 1, failed: 0 });
    expect(copyOf('series_0').id).toBe(master.id);
    expect(copyOf(`series_${NOW + 7 * 86_400}`).parent).toBe(master.id);
  });

  it('deletes nothing after a failed or empty Feishu read, nor above max_deletes_per_run', async () => {
    google.plant(pair.target, ev('ghost'), { pair: 'pg', key: 'ghost_0' });
    feishu.failListingAfterPages = 0;
    const [failed] = await reconcile([pair], deps, { repair: true });
    expect(failed.held).toMatch(/Feishu read failed/);
    expect(failed.counts.deleted).toBe(0);
    feishu.failListingAfterPages = undefined;

    const [capped] = await reconcile([pair], { ...deps, deleteBudget: { remaining: 0 } }, { repair: true });
    expect(capped.held).toMatch(/max_deletes_per_run/);
    expect(google.live(pair.target)).toHaveLength(9);

    for (const s of feishu.live(cal)) feishu.drop(cal, s.id);
    const [empty] = await reconcile([pair], deps, { repair: true });
    expect(empty.held).toMatch(/empty/);
    expect(google.live(pair.target)).toHaveLength(9);
  });

  it('on a two-way pair, leaves a copy changed or deleted on the spoke for the reverse sync', async () => {
    const twoWay: Pair = { ...pair, direction: 'two-way' };
    copyOf('u0_0').event = { ...copyOf('u0_0').event, summary: 'edited on the spoke' };
    google.drop(pair.target, copyOf('u1_0').id);
    const [r] = await reconcile([twoWay], deps, { repair: true });
    expect(r.parity).toMatchObject({ missing: 1, differing: 1, leftForReverse: 2 });
    expect(r.counts).toMatchObject({ created: 0, updated: 0 });
    expect(copyOf('u0_0').event.summary).toBe('edited on the spoke');
  });

  it('judges nothing when the spoke read fails', async () => {
    google.failListingAfterPages = 0;
    const [r] = await reconcile([pair], deps, { repair: true });
    expect(r.held).toMatch(/google read failed/);
    expect(r.counts).toMatchObject({ created: 0, deleted: 0 });
  });
});
