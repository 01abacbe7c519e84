import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from './db.ts';
import { vacuumIfDue } from './vacuum.ts';

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db.close());

const stats = async () => {
  await db.executeSql('SELECT pg_stat_force_next_flush()');
  return (
    await db.executeSql(
      `SELECT n_dead_tup::int AS dead, last_analyze FROM pg_stat_user_tables WHERE relname = 'InboundEvent'`,
    )
  ).rows[0];
};

it('vacuums and analyzes the embedded tables that autovacuum would, and only those', async () => {
  await db.prisma.inboundEvent.createMany({
    data: Array.from({ length: 2000 }, (_, i) => ({ provider: 'feishu', eventId: `e${i}`, type: 't' })),
  });
  // every row updated once: as many dead rows, which nothing else removes in single-user Postgres
  await db.prisma.inboundEvent.updateMany({ data: { processedAt: new Date() } });
  expect(await stats()).toMatchObject({ dead: 2000, last_analyze: null });

  expect(await vacuumIfDue(db)).toContain('public.InboundEvent');
  const after = await stats();
  expect(after.dead).toBe(0);
  expect(after.last_analyze).not.toBeNull();
  // nothing changed since: nothing to do
  expect(await vacuumIfDue(db)).not.toContain('public.InboundEvent');
});
