import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyLink } from '../sync/apply.ts';
import { type Database, openDatabase } from './db.ts';
import { BY_UIDS, PrismaLinkStore } from './links.ts';

const PAIR = {
  id: 'p1',
  userKey: 'alice',
  feishuOwner: 'ou_1',
  feishuCalendar: 'cal_1',
  spoke: 'google',
  spokeOwner: 'alice@example.com',
  spokeCalendar: 'primary',
  direction: 'one-way',
};
let db: Database;
let store: PrismaLinkStore;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
  store = new PrismaLinkStore(db.prisma);
  await db.prisma.syncPair.create({ data: PAIR });
});
afterAll(() => db.close());

describe('PrismaLinkStore', () => {
  it('bulk-upserts links, reads them back by uid (every instance of a series), and updates in place', async () => {
    const links = [
      { ...emptyLink('p1', { uid: 'u_a', originalTime: 0 }), spokeId: 'g1', feishuFingerprint: 'f1' },
      { ...emptyLink('p1', { uid: 'u_a', originalTime: 1_900_000_000 }), spokeId: 'g1_x', note: 'exception' },
      { ...emptyLink('p1', { uid: 'u_b', originalTime: 0 }), spokeId: 'g2', lastSyncedAt: new Date(1_000) },
    ];
    await store.save(links);
    const got = await store.byUids('p1', ['u_a']);
    expect([...got.keys()].sort()).toEqual(['u_a_0', 'u_a_1900000000']);
    expect(got.get('u_a_1900000000')).toMatchObject({
      spokeId: 'g1_x',
      note: 'exception',
      originalTime: 1_900_000_000,
    });

    await store.save([{ ...links[0], spokeVersion: 'etag2', tombstone: true }]);
    const again = await store.byUids('p1', ['u_a', 'u_b']);
    expect(again.get('u_a_0')).toMatchObject({
      spokeVersion: 'etag2',
      tombstone: true,
      feishuFingerprint: 'f1',
    });
    expect(again.get('u_b_0')?.lastSyncedAt?.getTime()).toBe(1_000);
    expect(await db.prisma.eventLink.count()).toBe(3);
  });

  it('lists live keys in chunks, skipping tombstones', async () => {
    const chunks: string[][] = [];
    for await (const c of store.liveKeys('p1', 1)) chunks.push(c.map((k) => `${k.uid}_${k.originalTime}`));
    expect(chunks).toEqual([['u_a_1900000000'], ['u_b_0']]);
  });

  it('saves and drops cursors in the same transaction as links', async () => {
    await store.save(
      [emptyLink('p1', { uid: 'u_c', originalTime: 0 })],
      [{ pairId: 'p1', side: 'feishu', value: 'tok1' }],
    );
    expect(await store.cursor('p1', 'feishu')).toBe('tok1');
    await store.save([], [{ pairId: 'p1', side: 'feishu', value: null }]);
    expect(await store.cursor('p1', 'feishu')).toBeNull();
  });

  it('writes nothing when a statement of the transaction fails', async () => {
    const bad = { ...emptyLink('no-such-pair', { uid: 'u_z', originalTime: 0 }) };
    await expect(store.save([bad], [{ pairId: 'p1', side: 'feishu', value: 'tok2' }])).rejects.toThrow();
    expect(await store.cursor('p1', 'feishu')).toBeNull();
  });
  it('keeps the merge base (a save without one keeps it) and finds links by spoke id', async () => {
    const l = {
      ...emptyLink('p1', { uid: 'u_base', originalTime: 0 }),
      spokeId: 'gb1',
      base: '{"summary":"x"}',
    };
    await store.save([l]);
    await store.save([{ ...l, base: undefined, spokeVersion: 'e2' }]);
    const got = await store.bySpokeIds('p1', ['gb1', 'nope']);
    expect([...got.keys()]).toEqual(['gb1']);
    expect(got.get('gb1')).toMatchObject({ uid: 'u_base', spokeVersion: 'e2', base: '{"summary":"x"}' });
    await store.save([{ ...l, base: '{"summary":"y"}' }]);
    expect((await store.byUids('p1', ['u_base'])).get('u_base_0')?.base).toBe('{"summary":"y"}');
    await db.prisma.eventLink.deleteMany({ where: { uid: 'u_base' } });
  });

  it('keeps whether attendees are pending unless a save says, and counts the live ones per pair', async () => {
    const l = (uid: string) => ({ ...emptyLink('p1', { uid, originalTime: 0 }), spokeId: `s_${uid}` });
    await store.save([
      { ...l('w1'), attendeesPending: true },
      { ...l('w2'), attendeesPending: true },
      { ...l('w3'), attendeesPending: true, tombstone: true },
      l('w4'),
    ]);
    expect(await store.pendingAttendees(['p1', 'p_none'])).toEqual(
      new Map([
        ['p1', 2],
        ['p_none', 0],
      ]),
    );
    // a save that does not say (a link read back and saved again, another writer's row) keeps the mark
    const read = await store.byUids('p1', ['w1', 'w2', 'w4']);
    expect(read.get('w1_0')?.attendeesPending).toBe(true);
    expect(read.get('w4_0')).not.toHaveProperty('attendeesPending');
    await store.save([
      { ...l('w1'), spokeVersion: 'e2' },
      { ...read.get('w2_0')!, attendeesPending: false },
    ]);
    const after = await store.byUids('p1', ['w1', 'w2']);
    expect(after.get('w1_0')).toMatchObject({ spokeVersion: 'e2', attendeesPending: true });
    expect(after.get('w2_0')).not.toHaveProperty('attendeesPending');
    expect((await store.pendingAttendees(['p1'])).get('p1')).toBe(1);
    await db.prisma.eventLink.deleteMany({ where: { uid: { in: ['w1', 'w2', 'w3', 'w4'] } } });
  });
});

describe('reading links by uid', () => {
  it('reads only the rows asked for, without table statistics (the embedded database has no autovacuum)', async () => {
    const big = 'p_big';
    await db.prisma.syncPair.create({
      data: { ...PAIR, id: big, feishuCalendar: 'cal_big', spokeOwner: 'big@example.com' },
    });
    const links = Array.from({ length: 6000 }, (_, i) => ({
      ...emptyLink(big, { uid: `uid_${i}@feishu`, originalTime: 0 }),
      spokeId: `g_${i}`,
    }));
    for (let i = 0; i < links.length; i += 1000) await store.save(links.slice(i, i + 1000));
    // an update of every row, as the attendees stage makes, leaves as many dead index entries
    for (let i = 0; i < links.length; i += 1000)
      await store.save(links.slice(i, i + 1000).map((l) => ({ ...l, spokeVersion: 'v2' })));
    const uids = Array.from({ length: 40 }, (_, k) => `uid_${k * 97}@feishu`);
    const [{ 'QUERY PLAN': plan }] = (
      await db.executeSql(`EXPLAIN (ANALYZE, FORMAT JSON) ${BY_UIDS}`, [big, uids])
    ).rows;
    // every row a scan read and dropped again, over the whole plan
    const dropped = (n: any): number =>
      (n['Rows Removed by Filter'] ?? 0) +
      (n['Rows Removed by Index Recheck'] ?? 0) +
      (n.Plans ?? []).reduce((t: number, c: any) => t + dropped(c), 0);
    expect(plan[0].Plan['Actual Rows']).toBe(40);
    expect(dropped(plan[0].Plan)).toBe(0);
    expect((await store.byUids(big, uids)).size).toBe(40);
  });
});
