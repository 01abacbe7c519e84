import { afterAll, beforeAll, expect, it } from 'vitest';
import { emptyLink } from '../sync/apply.ts';
import { type Database, openDatabase } from './db.ts';
import { PrismaLinkStore } from './links.ts';
import { vacuumIfDue } from './vacuum.ts';

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db.close());

const deadLinks = async () => {
  await db.executeSql('SELECT pg_stat_force_next_flush()');
  return (
    await db.executeSql(
      `SELECT n_dead_tup::int AS dead, last_analyze FROM pg_stat_user_tables WHERE relname = 'EventLink'`,
    )
  ).rows[0];
};

it('vacuums and analyzes the embedded tables that autovacuum would, and only those', async () => {
  await db.prisma.syncPair.create({
    data: {
      id: 'p1',
      userKey: 'alice',
      feishuOwner: 'ou_1',
      feishuCalendar: 'cal_1',
      spoke: 'google',
      spokeOwner: 'alice@example.com',
      spokeCalendar: 'primary',
      direction: 'one-way',
    },
  });
  const store = new PrismaLinkStore(db.prisma);
  const links = Array.from({ length: 2000 }, (_, i) => emptyLink('p1', { uid: `u${i}`, originalTime: 0 }));
  await store.save(links);
  await store.save(links.map((l) => ({ ...l, spokeVersion: 'v2' })));
  expect(await deadLinks()).toMatchObject({ dead: 2000, last_analyze: null });

  expect(await vacuumIfDue(db)).toContain('public.EventLink');
  const after = await deadLinks();
  expect(after.dead).toBe(0);
  expect(after.last_analyze).not.toBeNull();
  // nothing changed since: nothing to do
  expect(await vacuumIfDue(db)).not.toContain('public.EventLink');
});
